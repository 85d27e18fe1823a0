// Per-link liveness: the ping/pong state machine of one link (sans-I/O).
//
// The engine owns the clock and the sockets.  It calls tick() from its timer
// (at the latest at next_deadline_ns()), sends a ping when tick() says so,
// and feeds every authenticated PONG received on the link to on_pong().
// Both return what changed (connected transitions with a reason), so the
// engine can update the host's link selection and log "why".
//
// Semantics (libknet 1.x compatible):
//  * A ping is due when ping_interval has elapsed since the last ping (timed
//    pings; the engine may take it up to a small window early, see tick()),
//    or immediately when the data path forces one (untimed pings, sent
//    every SEQ_MAX/8 data packets).  The ping carries the sender's monotonic
//    send time; the peer echoes it back in the pong.
//  * latency of a pong = now - echoed send time.  A pong whose latency exceeds
//    pong_timeout is not used for latency nor for bringing the link up, but it
//    still proves the peer is alive (refreshes the last-pong time).
//  * The link goes up on the pong that arrives when pong_count pongs have
//    already been counted, i.e. on the (pong_count + 1)-th accepted pong since
//    the last down, provided the running latency average is below the adjusted
//    timeout.
//  * Data from the peer arriving while the link is down brings it up at once
//    when at least one pong was counted since the last down (the engine calls
//    on_data_while_down(); upstream 1.27 and later do the same).
//  * The link goes down when no pong at all has been received for
//    pong_timeout_adj since the last one (only checked once a pong was seen
//    since the last down), or when the transport reports it is disconnected.
//  * pong_timeout_adj = pong_timeout * backoff + 2 * latency.  backoff starts
//    at 10 when the link is (re)configured or goes down and decreases by one
//    every second down to 1.
//
// Anti-flapping, in words: the timeout is measured from the last pong (not
// from the last ping), so a late ping or a burst of jitter only matters once
// the whole window elapsed with no pong; pongs that are late (> pong_timeout)
// still keep a link alive; right after a down the timeout is ten times larger
// and shrinks over ten seconds, so a link that just came back is not dropped
// again by the first hiccup; the timeout grows with twice the measured
// latency, so slow-but-alive links are not declared dead.  A busy CPU that
// delays the engine's timer cannot produce a spurious down by itself: the
// engine must process received pongs before calling tick() with a later time.
//
// Differences from the reference (1.25), on purpose: data during the link-up
// brings the link up (above); latency arithmetic is 64-bit;
// a pong whose echoed time lies in the future (corrupt) is never used for
// latency; pong_timeout_adj is recomputed at once when the timers change or
// the link goes down instead of on the next one-second adjustment.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <limits>
#include <optional>

namespace knet::proto {

// Defaults and limits, as in libknet.h / the reference implementation.
inline constexpr uint64_t kDefaultPingIntervalMs = 1000;
inline constexpr uint64_t kDefaultPongTimeoutMs = 2000;
inline constexpr uint32_t kDefaultPingPrecision = 2048;
inline constexpr uint8_t kDefaultPongCount = 5;
// Initial multiplier of pong_timeout after a link (re)configuration or a down.
inline constexpr uint8_t kPongTimeoutBackoff = 10;
// Multiplier of the average latency added to the adjusted timeout.
inline constexpr uint64_t kPongTimeoutLatencyMul = 2;
// How often the backoff decreases and pong_timeout_adj is recomputed.
inline constexpr uint64_t kTimeoutAdjustPeriodNs = 1'000'000'000ULL;
// Size of the up/down event rings of knet_link_stats.
inline constexpr int kMaxLinkEvents = 16;

// User-settable heartbeat parameters of one link (knet_link_set_ping_timers,
// knet_link_set_pong_count).  Times in milliseconds, as in the public API.
struct HeartbeatConfig {
    uint64_t ping_interval_ms = kDefaultPingIntervalMs;
    uint64_t pong_timeout_ms = kDefaultPongTimeoutMs;
    uint32_t precision = kDefaultPingPrecision;  // max latency samples, >= 1
    uint8_t pong_count = kDefaultPongCount;      // >= 1
};

// Why a link changed state.
enum class LinkChangeReason : uint8_t {
    PongsReceived,          // up: enough pongs with acceptable latency
    PongTimeout,            // down: nothing heard for pong_timeout_adj
    TransportDisconnected,  // down: the transport said the link is gone
    Forced,                 // down: requested by the caller (force_down)
    DataReceived,           // up: data arrived while the link-up was under way
};

// Printable name of a reason, for logs.
const char* to_string(LinkChangeReason r);

// A connected/disconnected transition.
struct LinkTransition {
    bool connected;           // new state
    LinkChangeReason reason;
};

// What tick() asks the engine to do.
struct HeartbeatTick {
    bool send_ping = false;      // send a PING on this link now
    bool ping_timed = true;      // value of the ping's "timed" flag
    uint64_t ping_time_ns = 0;   // monotonic send time to put in the ping
    std::optional<LinkTransition> transition;  // link went down during this tick
    uint64_t next_deadline_ns = 0;             // call tick() again at the latest then
};

// How a pong was used.
enum class PongVerdict : uint8_t {
    Accepted,          // used for latency (and possibly for bringing the link up)
    TooLate,           // latency > pong_timeout: liveness only
    InvalidTimestamp,  // echoed time is in the future: liveness only
};

// Result of on_pong().
struct PongResult {
    PongVerdict verdict = PongVerdict::Accepted;
    uint64_t latency_us = 0;  // this pong's round trip (0 if InvalidTimestamp)
    std::optional<LinkTransition> transition;  // link went up
};

// Latency statistics as reported in knet_link_stats (microseconds).
struct LatencyStats {
    uint32_t min = std::numeric_limits<uint32_t>::max();  // UINT32_MAX until a sample
    uint32_t max = 0;
    uint32_t ave = 0;      // running mean over at most `precision` samples
    uint32_t samples = 0;  // samples in the mean (capped at precision)
};

// Liveness state machine of one link.
class LinkHeartbeat {
public:
    // A freshly configured link: disconnected, no ping sent, backoff at max.
    explicit LinkHeartbeat(const HeartbeatConfig& cfg = {});

    // knet_link_set_ping_timers: interval and timeout in ms (both > 0),
    // precision > 0.  Keeps the current latency and connection state.
    void set_timers(uint64_t interval_ms, uint64_t timeout_ms, uint32_t precision);
    // knet_link_set_pong_count (>= 1).
    void set_pong_count(uint8_t pong_count);
    const HeartbeatConfig& config() const { return cfg_; }

    // Periodic processing at time now: link-down if the transport is not
    // connected, once-a-second timeout adjustment, a timed ping if due, then
    // the pong timeout check.
    //
    // early_ns lets a timer serving many links wake once for deadlines that
    // are close together: a ping or adjustment falling due within early_ns
    // of now is done now.  Links pinged in the same wake-up then share their
    // next deadline, so they stay together.  A ping is never late and never
    // more than early_ns early; the pong timeout is never taken early.
    HeartbeatTick tick(uint64_t now_ns, bool transport_connected = true, uint64_t early_ns = 0);

    // Like tick() but sends an untimed ping regardless of the interval (the
    // data path forcing a ping for sequence-number sync).
    HeartbeatTick force_ping(uint64_t now_ns, bool transport_connected = true);

    // A PONG arrived at now_ns echoing the ping send time echoed_ns.
    PongResult on_pong(uint64_t echoed_ns, uint64_t now_ns);

    // Takes the link down now (e.g. its configuration is cleared).  Returns
    // the transition if the link was connected.
    std::optional<LinkTransition> force_down(LinkChangeReason reason);

    // Authenticated data from the peer arrived on this link while it is
    // down.  If the link-up is under way (a pong counted since the last
    // down), the peer has finished its own link-up and is sending: the link
    // goes up now instead of after the remaining pongs, and the data is kept.
    // Otherwise nothing changes.  Upstream's "fast data up" (1.27): without
    // it, of two nodes started a few milliseconds apart the later one
    // discarded the first one's messages, enough for Corosync to form two
    // memberships.
    std::optional<LinkTransition> on_data_while_down();

    bool connected() const { return connected_; }
    // Average latency in microseconds (knet_link_status.latency).
    uint64_t latency_us() const { return latency_us_; }
    LatencyStats latency_stats() const { return stats_; }
    // Monotonic time of the last pong since the last down, 0 if none.
    uint64_t pong_last_ns() const { return has_pong_ ? pong_last_ns_ : 0; }
    // knet_link_status.pong_last as the reference reports it: the time of the
    // last pong ever received (0 if never); after a down its sub-second part
    // is cleared (the reference zeroes tv_nsec to mark "no pong since down").
    uint64_t status_pong_last_ns() const { return status_pong_last_ns_; }
    // Monotonic time of the last ping sent, 0 if none.
    uint64_t ping_last_ns() const { return has_ping_ ? ping_last_ns_ : 0; }
    // Current adjusted pong timeout in microseconds (also the base of the
    // PMTUd reply timeout).
    uint64_t pong_timeout_adj_us() const { return pong_timeout_adj_us_; }
    uint8_t backoff() const { return backoff_; }
    // Pongs counted towards bringing the link up since the last down.
    uint8_t received_pongs() const { return received_pong_; }
    // Earliest time at which tick() has something to do.
    uint64_t next_deadline_ns() const;

private:
    void recompute_timeout_adj();
    std::optional<LinkTransition> go_down(LinkChangeReason reason);
    HeartbeatTick run(uint64_t now_ns, bool transport_connected, bool timed, uint64_t early_ns);

    HeartbeatConfig cfg_;
    bool connected_ = false;
    uint8_t received_pong_ = 0;
    uint8_t backoff_ = kPongTimeoutBackoff;
    uint64_t pong_timeout_adj_us_ = 0;
    uint64_t latency_us_ = 0;
    uint32_t latency_cur_samples_ = 0;
    LatencyStats stats_{};
    bool has_ping_ = false;
    uint64_t ping_last_ns_ = 0;
    bool has_pong_ = false;
    uint64_t pong_last_ns_ = 0;
    uint64_t status_pong_last_ns_ = 0;
    bool adjust_armed_ = false;
    uint64_t next_adjust_ns_ = 0;
};

// The up/down history of knet_link_stats.  Every call to record() counts one
// event and stores its wall-clock time at the current index, then advances
// the index (wrapping at kMaxLinkEvents): the index therefore names the slot
// the next event will use, exactly as the reference fills knet_link_stats.
// The reference records an event whenever the (enabled, connected) pair
// changes, with the type given by `connected` (so enabling or disabling a
// disconnected link records a "down"); callers replicate that by calling
// record(connected, time) on each such change.
struct LinkEventHistory {
    uint32_t up_count = 0;
    uint32_t down_count = 0;
    std::array<std::time_t, kMaxLinkEvents> last_up_times{};
    std::array<std::time_t, kMaxLinkEvents> last_down_times{};
    int8_t last_up_time_index = 0;
    int8_t last_down_time_index = 0;

    // Records an up (connected) or down event at wall-clock time `when`.
    void record(bool connected, std::time_t when);
};

}  // namespace knet::proto
