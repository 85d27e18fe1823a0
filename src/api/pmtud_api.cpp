// Path MTU discovery settings.
#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

namespace {
constexpr unsigned int kMaxPmtudInterval = 86400;  // one day, in seconds
constexpr unsigned int kMaxIfaceMtu = 65535;
}  // namespace

extern "C" {

KNET_EXPORT int knet_handle_pmtud_getfreq(knet_handle_t knet_h, unsigned int* interval) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!interval) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    *interval = k->core.pmtud_interval_s;
    return succeed();
}

KNET_EXPORT int knet_handle_pmtud_setfreq(knet_handle_t knet_h, unsigned int interval) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (interval == 0 || interval > kMaxPmtudInterval) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    k->core.pmtud_interval_s = interval;
    k->engine->pmtud_changed();
    KNET_LOG_D(&k->core.logger, KNET_SUB_HANDLE, "PMTUd interval set to: %u seconds", interval);
    return succeed();
}

KNET_EXPORT int knet_handle_enable_pmtud_notify(knet_handle_t knet_h,
                                                void* pmtud_notify_fn_private_data,
                                                void (*pmtud_notify_fn)(void* private_data,
                                                                        unsigned int data_mtu)) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    WriteLock lock(k->core.lock);
    k->core.pmtud_notify.priv = pmtud_notify_fn_private_data;
    k->core.pmtud_notify.fn = pmtud_notify_fn;
    KNET_LOG_D(&k->core.logger, KNET_SUB_HANDLE, "pmtud_notify_fn %s",
               pmtud_notify_fn ? "enabled" : "disabled");
    return succeed();
}

KNET_EXPORT int knet_handle_pmtud_set(knet_handle_t knet_h, unsigned int iface_mtu) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (iface_mtu > kMaxIfaceMtu) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    KNET_LOG_I(&k->core.logger, KNET_SUB_PMTUD, "MTU manually set to: %u", iface_mtu);
    k->core.manual_mtu = iface_mtu;
    k->engine->pmtud_changed();
    return succeed();
}

KNET_EXPORT int knet_handle_pmtud_get(knet_handle_t knet_h, unsigned int* data_mtu) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!data_mtu) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    *data_mtu = k->core.data_mtu.load();
    return succeed();
}

}  // extern "C"
