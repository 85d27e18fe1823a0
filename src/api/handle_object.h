// The object behind the public opaque type knet_handle_t, the registry of
// live handles, and the small helpers every entry point uses.
//
// Each entry point in src/api follows the same shape:
//   1. h = live(knet_h)            (EINVAL for NULL, unknown or freed handles)
//   2. argument checks that need no state, in libknet 1.x's order
//   3. take Handle::lock (exclusive for setters, shared for getters)
//   4. state checks, change core::Handle, call the engine hook
//   5. translate the Status into the return value and errno
#pragma once

#include <cerrno>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>

#include "core/handle.h"
#include "engine/engine.h"
#include "libknet.h"
#include "util/result.h"

struct knet_handle {
    knet_handle(knet_node_id_t host_id, int log_fd, uint8_t log_level, uint64_t flags)
        : core(host_id, log_fd, log_level, flags) {}

    knet::core::Handle core;
    std::unique_ptr<knet::engine::Engine> engine;  // declared last: stopped first
};

namespace knet::api {

// Registry of live handles (a handle is live from the end of
// knet_handle_new until knet_handle_free unregisters it).
void register_handle(knet_handle* h);
void unregister_handle(knet_handle* h);
// The handle if it is live; otherwise nullptr with errno = EINVAL.
knet_handle* live(knet_handle_t h);

using WriteLock = std::unique_lock<std::shared_mutex>;
using ReadLock = std::shared_lock<std::shared_mutex>;

inline int fail(int err) {
    errno = err;
    return -1;
}
inline int succeed() {
    errno = 0;
    return 0;
}
inline int finish(const Status& s) { return s.ok() ? succeed() : fail(s.error()); }

// The host, or EINVAL (logged) when it is not configured.
Result<core::Host*> find_host(core::Handle& h, knet_node_id_t host_id);
// A configured link of a configured host, or EINVAL (logged).
Result<core::Link*> configured_link(core::Handle& h, knet_node_id_t host_id, uint8_t link_id);

}  // namespace knet::api

// Marks a public entry point (the version script exports knet_* only).
#define KNET_EXPORT __attribute__((visibility("default")))

// Entry points must not let a C++ exception reach a C caller; the only ones
// that can happen are allocation failures.
#define KNET_API_GUARD_BEGIN try {
#define KNET_API_GUARD_END(failure_value) \
    }                                     \
    catch (const std::bad_alloc&) {       \
        errno = ENOMEM;                   \
        return failure_value;             \
    }                                     \
    catch (...) {                         \
        errno = EIO;                      \
        return failure_value;             \
    }
