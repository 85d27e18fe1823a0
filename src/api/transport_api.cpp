// Transports: this build has LOOPBACK and UDP (SCTP is not built in).
#include <cstring>

#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

namespace {

struct TransportName {
    const char* name;
    uint8_t id;
};
constexpr TransportName kTransports[] = {
    {"LOOPBACK", KNET_TRANSPORT_LOOPBACK},
    {"UDP", KNET_TRANSPORT_UDP},
};

}  // namespace

extern "C" {

KNET_EXPORT int knet_get_transport_list(struct knet_transport_info* transport_list,
                                        size_t* transport_list_entries) {
    if (!transport_list_entries) return fail(EINVAL);
    size_t n = 0;
    for (const auto& t : kTransports) {
        if (transport_list) {
            transport_list[n].name = t.name;
            transport_list[n].id = t.id;
        }
        ++n;
    }
    *transport_list_entries = n;
    return succeed();
}

KNET_EXPORT const char* knet_get_transport_name_by_id(uint8_t transport) {
    if (transport == KNET_MAX_TRANSPORTS) {
        errno = EINVAL;
        return nullptr;
    }
    for (const auto& t : kTransports) {
        if (t.id == transport) {
            errno = 0;
            return t.name;
        }
    }
    errno = ENOENT;
    return nullptr;
}

KNET_EXPORT uint8_t knet_get_transport_id_by_name(const char* name) {
    if (name) {
        for (const auto& t : kTransports) {
            if (std::strcmp(t.name, name) == 0) {
                errno = 0;
                return t.id;
            }
        }
    }
    errno = EINVAL;
    return KNET_MAX_TRANSPORTS;
}

KNET_EXPORT int knet_handle_set_transport_reconnect_interval(knet_handle_t knet_h,
                                                             uint32_t msecs) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!msecs) return fail(EINVAL);
    if (msecs < 1000)
        KNET_LOG_W(&k->core.logger, KNET_SUB_HANDLE,
                   "reconnect interval below 1 sec (%u msecs) might be too aggressive", msecs);
    if (msecs > 60000)
        KNET_LOG_W(&k->core.logger, KNET_SUB_HANDLE,
                   "reconnect interval above 1 minute (%u msecs) could delay convergence", msecs);
    WriteLock lock(k->core.lock);
    k->core.reconnect_interval_ms = msecs;
    return succeed();
}

KNET_EXPORT int knet_handle_get_transport_reconnect_interval(knet_handle_t knet_h,
                                                             uint32_t* msecs) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!msecs) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    *msecs = k->core.reconnect_interval_ms;
    return succeed();
}

}  // extern "C"
