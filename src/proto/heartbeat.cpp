#include "proto/heartbeat.h"

#include <algorithm>

namespace knet::proto {

namespace {
constexpr uint64_t kNsPerUs = 1000;
constexpr uint64_t kUsPerMs = 1000;
constexpr uint64_t kNsPerMs = 1'000'000;
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

uint64_t sat_add(uint64_t a, uint64_t b) {
    return (a > kNever - b) ? kNever : a + b;
}

uint64_t sat_mul(uint64_t a, uint64_t b) {
    if (a != 0 && b > kNever / a) {
        return kNever;
    }
    return a * b;
}

uint32_t clamp_u32(uint64_t v) {
    return v > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                     : static_cast<uint32_t>(v);
}
}  // namespace

const char* to_string(LinkChangeReason r) {
    switch (r) {
    case LinkChangeReason::PongsReceived:
        return "pongs received";
    case LinkChangeReason::PongTimeout:
        return "pong timeout";
    case LinkChangeReason::TransportDisconnected:
        return "transport disconnected";
    case LinkChangeReason::Forced:
        return "forced";
    case LinkChangeReason::DataReceived:
        return "data received during ping/pong activity";
    }
    return "unknown";
}

LinkHeartbeat::LinkHeartbeat(const HeartbeatConfig& cfg) : cfg_(cfg) {
    cfg_.precision = std::max<uint32_t>(cfg_.precision, 1);
    cfg_.pong_count = std::max<uint8_t>(cfg_.pong_count, 1);
    recompute_timeout_adj();
}

void LinkHeartbeat::set_timers(uint64_t interval_ms, uint64_t timeout_ms, uint32_t precision) {
    cfg_.ping_interval_ms = interval_ms;
    cfg_.pong_timeout_ms = timeout_ms;
    cfg_.precision = std::max<uint32_t>(precision, 1);
    recompute_timeout_adj();
}

void LinkHeartbeat::set_pong_count(uint8_t pong_count) {
    cfg_.pong_count = std::max<uint8_t>(pong_count, 1);
}

void LinkHeartbeat::recompute_timeout_adj() {
    const uint64_t timeout_us = sat_mul(cfg_.pong_timeout_ms, kUsPerMs);
    pong_timeout_adj_us_ =
        sat_add(sat_mul(timeout_us, backoff_), sat_mul(latency_us_, kPongTimeoutLatencyMul));
}

std::optional<LinkTransition> LinkHeartbeat::go_down(LinkChangeReason reason) {
    received_pong_ = 0;
    has_pong_ = false;
    status_pong_last_ns_ -= status_pong_last_ns_ % 1'000'000'000ULL;
    pong_last_ns_ = 0;
    backoff_ = kPongTimeoutBackoff;
    recompute_timeout_adj();
    if (!connected_) {
        return std::nullopt;
    }
    connected_ = false;
    return LinkTransition{false, reason};
}

std::optional<LinkTransition> LinkHeartbeat::force_down(LinkChangeReason reason) {
    return go_down(reason);
}

std::optional<LinkTransition> LinkHeartbeat::on_data_while_down() {
    if (connected_ || received_pong_ == 0) {
        return std::nullopt;
    }
    connected_ = true;
    return LinkTransition{true, LinkChangeReason::DataReceived};
}

HeartbeatTick LinkHeartbeat::tick(uint64_t now_ns, bool transport_connected, uint64_t early_ns) {
    return run(now_ns, transport_connected, true, early_ns);
}

HeartbeatTick LinkHeartbeat::force_ping(uint64_t now_ns, bool transport_connected) {
    return run(now_ns, transport_connected, false, 0);
}

HeartbeatTick LinkHeartbeat::run(uint64_t now_ns, bool transport_connected, bool timed,
                                 uint64_t early_ns) {
    HeartbeatTick out;
    if (!transport_connected) {
        out.transition = go_down(LinkChangeReason::TransportDisconnected);
        out.next_deadline_ns = next_deadline_ns();
        return out;
    }

    // Deadlines of pings and adjustments are compared with this.
    const uint64_t soon_ns = sat_add(now_ns, early_ns);

    // Once a second: shrink the backoff and fold the latency into the timeout.
    if (!adjust_armed_) {
        adjust_armed_ = true;
        next_adjust_ns_ = sat_add(now_ns, kTimeoutAdjustPeriodNs);
    } else if (soon_ns >= next_adjust_ns_) {
        if (backoff_ > 1) {
            --backoff_;
        }
        recompute_timeout_adj();
        next_adjust_ns_ = sat_add(now_ns, kTimeoutAdjustPeriodNs);
    }

    const uint64_t interval_ns = sat_mul(cfg_.ping_interval_ms, kNsPerMs);
    const bool interval_elapsed =
        !has_ping_ || now_ns < ping_last_ns_ || soon_ns - ping_last_ns_ >= interval_ns;
    if (interval_elapsed || !timed) {
        out.send_ping = true;
        out.ping_timed = timed;
        out.ping_time_ns = now_ns;
        has_ping_ = true;
        ping_last_ns_ = now_ns;
    }

    if (has_pong_ && now_ns >= pong_last_ns_ &&
        now_ns - pong_last_ns_ >= sat_mul(pong_timeout_adj_us_, kNsPerUs)) {
        out.transition = go_down(LinkChangeReason::PongTimeout);
    }

    out.next_deadline_ns = next_deadline_ns();
    return out;
}

PongResult LinkHeartbeat::on_pong(uint64_t echoed_ns, uint64_t now_ns) {
    PongResult out;
    // Any authenticated pong proves the peer is alive.
    has_pong_ = true;
    pong_last_ns_ = now_ns;
    status_pong_last_ns_ = now_ns;

    if (echoed_ns > now_ns) {
        out.verdict = PongVerdict::InvalidTimestamp;
        return out;
    }
    const uint64_t sample_us = (now_ns - echoed_ns) / kNsPerUs;
    out.latency_us = sample_us;
    if (sample_us > sat_mul(cfg_.pong_timeout_ms, kUsPerMs)) {
        out.verdict = PongVerdict::TooLate;
        return out;
    }

    // Running mean over at most `precision` samples:
    // mean = (mean * (n - 1) + sample) / n.
    latency_cur_samples_ = std::min(latency_cur_samples_ + 1, cfg_.precision);
    const uint64_t n = latency_cur_samples_;
    latency_us_ = sat_add(sat_mul(latency_us_, n - 1), sample_us) / n;

    if (latency_us_ < pong_timeout_adj_us_ && !connected_) {
        if (received_pong_ >= cfg_.pong_count) {
            connected_ = true;
            out.transition = LinkTransition{true, LinkChangeReason::PongsReceived};
        } else {
            ++received_pong_;
        }
    }

    const uint32_t lat32 = clamp_u32(latency_us_);
    stats_.max = std::max(stats_.max, lat32);
    stats_.min = std::min(stats_.min, lat32);
    stats_.ave = lat32;
    stats_.samples = latency_cur_samples_;
    return out;
}

uint64_t LinkHeartbeat::next_deadline_ns() const {
    if (!has_ping_ || !adjust_armed_) {
        return 0;  // never ticked: a ping is due at once
    }
    uint64_t deadline = sat_add(ping_last_ns_, sat_mul(cfg_.ping_interval_ms, kNsPerMs));
    deadline = std::min(deadline, next_adjust_ns_);
    if (has_pong_) {
        deadline = std::min(deadline, sat_add(pong_last_ns_, sat_mul(pong_timeout_adj_us_, kNsPerUs)));
    }
    return deadline;
}

void LinkEventHistory::record(bool connected, std::time_t when) {
    // Fields are public: never trust an index set from outside.
    if (last_up_time_index < 0 || last_up_time_index >= kMaxLinkEvents) {
        last_up_time_index = 0;
    }
    if (last_down_time_index < 0 || last_down_time_index >= kMaxLinkEvents) {
        last_down_time_index = 0;
    }
    if (connected) {
        last_up_times[static_cast<size_t>(last_up_time_index)] = when;
        ++up_count;
        if (++last_up_time_index >= kMaxLinkEvents) {
            last_up_time_index = 0;
        }
    } else {
        last_down_times[static_cast<size_t>(last_down_time_index)] = when;
        ++down_count;
        if (++last_down_time_index >= kMaxLinkEvents) {
            last_down_time_index = 0;
        }
    }
}

}  // namespace knet::proto
