// The running machinery of one handle: threads, sockets and timers that move
// bytes between the application's datafds, the protocol core (src/proto),
// crypto/compression and the network (src/net).
//
// Contract with src/api: the API validates arguments, changes core::Handle
// under Handle::lock (exclusive), and calls the matching hook below while it
// still holds that lock, so the engine sees every change in order.  Hooks
// must be quick: they may open/close sockets and wake threads, never wait
// for a thread that needs Handle::lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <sys/types.h>

#include "core/handle.h"
#include "util/result.h"

namespace knet::engine {

class Engine {
public:
    // Start the engine's threads for handle h (called by knet_handle_new).
    static Result<std::unique_ptr<Engine>> start(core::Handle& h);
    // Stops and joins every thread; closes every socket the engine opened.
    ~Engine();

    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // ---- configuration hooks (caller holds Handle::lock exclusive) ----
    // A link got (or changed) its addresses: open/bind its socket.  Errors
    // (EADDRINUSE, EADDRNOTAVAIL, ...) are returned as the API's errno.
    Status link_configured(core::Host& host, core::Link& link);
    // A link is cleared: releases its socket and runtime state, resets its
    // configuration (core::Link::reset_config) and selects the host's links
    // again without it.
    void link_cleared(core::Host& host, core::Link& link);
    // Enabled flag, priority, ping timers or pong count changed.
    void link_changed(core::Host& host, core::Link& link);
    void host_added(core::Host& host);
    void host_removed(core::Host& host);   // before the Host is destroyed
    void policy_changed(core::Host& host);
    void datafd_added(int channel);
    void datafd_removed(int channel);      // before the fds are closed
    // Crypto or compression configuration, or the TX crypto slot, changed.
    Status crypto_changed();
    // knet_handle_crypto_use_config() switched the TX configuration (after
    // crypto_changed(), which forces the PMTUd rerun).
    void crypto_use_changed();
    Status compress_changed();
    // pmtud interval or manual MTU changed: rerun discovery.
    void pmtud_changed();
    // Forwarding was turned on or off.
    void forwarding_changed();

    // ---- data (caller holds no lock) ----
    // knet_send_sync: transmit now on the caller's thread (knet_send and
    // knet_recv need no engine call: they write/read the channel's datafd).
    Status send_sync(const char* buf, size_t len, int8_t channel);

private:
    explicit Engine(core::Handle& h);
    core::Handle& h_;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace knet::engine
