// Handle lifetime, callbacks and handle-wide switches.
#include <cstring>

#include <sys/resource.h>
#include <unistd.h>

#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

namespace {

// Closes the fds of every channel the library created (free path).
void close_owned_channels(core::Handle& h) {
    for (core::Channel& c : h.channels) {
        if (c.in_use && c.created) {
            ::close(c.app_fd);
            ::close(c.lib_fd);
        }
        c.reset();
    }
}

}  // namespace

extern "C" {

KNET_EXPORT knet_handle_t knet_handle_new_ex(
    knet_node_id_t host_id, int log_fd, uint8_t default_log_level, uint64_t flags) {
    KNET_API_GUARD_BEGIN
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0) return nullptr;
    if (log_fd < 0 || static_cast<rlim_t>(log_fd) >= lim.rlim_max) {
        errno = EINVAL;
        return nullptr;
    }
    if (log_fd > 0 && default_log_level > KNET_LOG_TRACE) {
        errno = EINVAL;
        return nullptr;
    }
    if (flags > KNET_HANDLE_FLAG_PRIVILEGED * 2 - 1) {
        errno = EINVAL;
        return nullptr;
    }

    // Without a log fd every subsystem starts at KNET_LOG_ERR, as in libknet.
    auto h = std::make_unique<knet_handle>(host_id, log_fd,
                                           log_fd > 0 ? default_log_level : KNET_LOG_ERR, flags);
    auto engine = engine::Engine::start(h->core);
    if (!engine) {
        KNET_LOG_E(&h->core.logger, KNET_SUB_HANDLE, "Unable to start the handle: %s",
                   strerror(engine.error()));
        errno = engine.error();
        return nullptr;
    }
    h->engine = std::move(engine).value();
    knet_handle* raw = h.release();
    register_handle(raw);
    KNET_LOG_D(&raw->core.logger, KNET_SUB_HANDLE, "Handle for host %u ready", host_id);
    errno = 0;
    return raw;
    KNET_API_GUARD_END(nullptr)
}

KNET_EXPORT knet_handle_t knet_handle_new(
    knet_node_id_t host_id, int log_fd, uint8_t default_log_level) {
    return knet_handle_new_ex(host_id, log_fd, default_log_level, KNET_HANDLE_FLAG_PRIVILEGED);
}

KNET_EXPORT int knet_handle_free(knet_handle_t knet_h) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    {
        WriteLock lock(k->core.lock);
        if (!k->core.host_ids().empty()) {
            KNET_LOG_E(&k->core.logger, KNET_SUB_HANDLE,
                       "Unable to free handle: host(s) or listener(s) are still active");
            return fail(EBUSY);
        }
        unregister_handle(k);
    }
    // Stop every thread first (they may still read the channels), then
    // release what the API created.
    k->engine.reset();
    close_owned_channels(k->core);
    delete k;
    return succeed();
}

KNET_EXPORT int knet_handle_enable_sock_notify(
    knet_handle_t knet_h, void* sock_notify_fn_private_data,
    void (*sock_notify_fn)(void* private_data, int datafd, int8_t channel, uint8_t tx_rx,
                           int error, int errorno)) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!sock_notify_fn) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    k->core.sock_notify.priv = sock_notify_fn_private_data;
    k->core.sock_notify.fn = sock_notify_fn;
    KNET_LOG_D(&k->core.logger, KNET_SUB_HANDLE, "sock_notify_fn enabled");
    return succeed();
}

KNET_EXPORT int knet_handle_enable_filter(
    knet_handle_t knet_h, void* dst_host_filter_fn_private_data,
    int (*dst_host_filter_fn)(void* private_data, const unsigned char* outdata,
                              ssize_t outdata_len, uint8_t tx_rx, knet_node_id_t this_host_id,
                              knet_node_id_t src_node_id, int8_t* channel,
                              knet_node_id_t* dst_host_ids, size_t* dst_host_ids_entries)) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    WriteLock lock(k->core.lock);
    k->core.dst_filter.priv = dst_host_filter_fn_private_data;
    k->core.dst_filter.fn = dst_host_filter_fn;
    KNET_LOG_D(&k->core.logger, KNET_SUB_HANDLE, "dst_host_filter_fn %s",
               dst_host_filter_fn ? "enabled" : "disabled");
    return succeed();
}

KNET_EXPORT int knet_handle_setfwd(knet_handle_t knet_h,
                                                              unsigned int enabled) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (enabled > 1) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    k->core.forwarding.store(enabled == 1);
    k->engine->forwarding_changed();
    KNET_LOG_D(&k->core.logger, KNET_SUB_HANDLE, "Data forwarding is %s",
               enabled ? "enabled" : "disabled");
    return succeed();
}

KNET_EXPORT int knet_handle_enable_access_lists(knet_handle_t knet_h,
                                                                           unsigned int enabled) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (enabled > 1) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    k->core.access_lists = enabled == 1;
    KNET_LOG_D(&k->core.logger, KNET_SUB_HANDLE, "Links access lists are %s",
               enabled ? "enabled" : "disabled");
    return succeed();
}

}  // extern "C"
