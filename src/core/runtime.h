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

// The stats of a link that has measured nothing yet: latency_min is
// UINT32_MAX until the first pong, as in libknet (knet_host_add sets it).
inline knet_link_stats fresh_link_stats() {
    knet_link_stats s{};
    s.latency_min = UINT32_MAX;
    return s;
}

struct LinkRuntime {
    std::atomic<bool> connected{false};
    std::atomic<bool> dynconnected{false};
    std::atomic<bool> transport_connected{false};  // socket bound (UDP) / loopback ready
    std::atomic<bool> has_valid_mtu{false};        // PMTUd has not failed on it
    std::atomic<unsigned int> mtu{0};             // link data MTU (knet_link_status.mtu)
    std::atomic<unsigned int> proto_overhead{0};  // IP + UDP + knet header + crypto

    // Heartbeat and latency state, the status history and the counters;
    // guarded by mutex.  The engine's threads add their counters here once
    // per batch (never per packet).  tx_total_* / rx_total_* are NOT kept:
    // readers sum data + ping + pong + pmtu themselves, as the reference's
    // knet_link_get_status does.
    mutable std::mutex mutex;
    knet_link_stats stats = fresh_link_stats();  // latency, up/down history, counters
    unsigned long long latency_us = 0;
    timespec pong_last{};                        // CLOCK_MONOTONIC of the last pong
    sockaddr_storage dyn_dst{};                  // peer address learned by a dynamic link
};

struct HostRuntime {
    std::atomic<bool> reachable{false};
};

struct HandleRuntime {
    // Compression/crypto counters and times (nanoseconds), added by the
    // engine once per batch.  A *_time_min of 0 with its packet counter at 0
    // means "no sample yet" (the reference starts it at UINT64_MAX).
    mutable std::mutex stats_mutex;
    knet_handle_stats stats{};
    // Encrypted pings, pongs and PMTUd packets: libknet's tx_crypt_packets
    // counts them with the data packets (without their times).
    std::atomic<uint64_t> tx_crypt_control_packets{0};
};

}  // namespace knet::core
