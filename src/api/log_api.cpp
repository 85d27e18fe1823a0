// Log levels per subsystem and the name/id conversions.
#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

extern "C" {

KNET_EXPORT const char* knet_log_get_subsystem_name(uint8_t subsystem) {
    if (log::is_valid_subsystem(subsystem)) errno = 0;
    return log::subsystem_name(subsystem);
}

KNET_EXPORT uint8_t knet_log_get_subsystem_id(const char* name) {
    uint8_t id = log::subsystem_id(name);
    if (id != KNET_SUB_UNKNOWN) errno = 0;
    return id;
}

KNET_EXPORT const char* knet_log_get_loglevel_name(uint8_t level) {
    if (level <= KNET_LOG_TRACE) errno = 0;
    return log::level_name(level);
}

KNET_EXPORT uint8_t knet_log_get_loglevel_id(const char* name) {
    uint8_t id = log::level_id(name);
    errno = 0;
    return id;
}

KNET_EXPORT int knet_log_set_loglevel(knet_handle_t knet_h, uint8_t subsystem, uint8_t level) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!log::is_valid_subsystem(subsystem)) return fail(EINVAL);
    if (level > KNET_LOG_TRACE) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    k->core.logger.set_level(subsystem, level);
    return succeed();
}

KNET_EXPORT int knet_log_get_loglevel(knet_handle_t knet_h, uint8_t subsystem, uint8_t* level) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!log::is_valid_subsystem(subsystem)) return fail(EINVAL);
    if (!level) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    *level = k->core.logger.level(subsystem);
    return succeed();
}

}  // extern "C"
