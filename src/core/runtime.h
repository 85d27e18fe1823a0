// Runtime state that the engine keeps inside the core objects: link
// liveness, counters and path MTU, per-host receive state, handle stats.
// See the locking model in core/handle.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include <sys/socket.h>
#include <time.h>

#include "libknet.h"

namespace knet::core {

struct LinkRuntime {
    std::atomic<bool> connected{false};
    std::atomic<bool> dynconnected{false};
    std::atomic<unsigned int> mtu{0};             // discovered path MTU
    std::atomic<unsigned int> proto_overhead{0};  // IP + UDP header bytes

    // Heartbeat and latency state and the status history; guarded by mutex.
    mutable std::mutex mutex;
    knet_link_stats stats{};                     // latency, up/down history, counters
    unsigned long long latency_us = 0;
    timespec pong_last{};
};

struct HostRuntime {
    std::atomic<bool> reachable{false};
};

struct HandleRuntime {
    mutable std::mutex stats_mutex;
    knet_handle_stats stats{};
};

}  // namespace knet::core
