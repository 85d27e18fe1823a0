// Heartbeat state machine, driven with simulated time.
#include "proto/heartbeat.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

namespace knet::proto {
namespace {

constexpr uint64_t us(uint64_t v) { return v * 1000ULL; }
constexpr uint64_t ms(uint64_t v) { return v * 1'000'000ULL; }

// A simulated link: pings go out on tick(); each one's pong comes back after
// `latency` unless the link drops it.
struct Sim {
    LinkHeartbeat hb;
    uint64_t now = 0;
    std::deque<std::pair<uint64_t, uint64_t>> in_flight;  // (arrival, echoed)
    int ups = 0;
    int downs = 0;
    std::optional<LinkTransition> last;
    uint64_t last_at = 0;  // time of the last transition

    explicit Sim(const HeartbeatConfig& cfg = {}) : hb(cfg) {}

    // Advances time in `step` increments up to `until`, delivering pongs
    // before each tick (as the rx path would), pings answered per `answer`.
    template <class Answer>
    void run(uint64_t until, uint64_t step, Answer answer) {
        while (now <= until) {
            while (!in_flight.empty() && in_flight.front().first <= now) {
                auto [arrival, echoed] = in_flight.front();
                in_flight.pop_front();
                PongResult r = hb.on_pong(echoed, arrival);
                note(r.transition);
            }
            HeartbeatTick t = hb.tick(now);
            note(t.transition);
            if (t.send_ping) {
                std::optional<uint64_t> lat = answer(t.ping_time_ns);
                if (lat) {
                    in_flight.emplace_back(t.ping_time_ns + *lat, t.ping_time_ns);
                    std::sort(in_flight.begin(), in_flight.end());
                }
            }
            now += step;
        }
    }

    void note(const std::optional<LinkTransition>& t) {
        if (!t) {
            return;
        }
        last = t;
        last_at = now;
        (t->connected ? ups : downs)++;
    }
};

auto always(uint64_t latency_ns) {
    return [latency_ns](uint64_t) -> std::optional<uint64_t> { return latency_ns; };
}
auto never() {
    return [](uint64_t) -> std::optional<uint64_t> { return std::nullopt; };
}

TEST(Heartbeat, DefaultsMatchReference) {
    LinkHeartbeat hb;
    EXPECT_EQ(hb.config().ping_interval_ms, 1000u);
    EXPECT_EQ(hb.config().pong_timeout_ms, 2000u);
    EXPECT_EQ(hb.config().precision, 2048u);
    EXPECT_EQ(hb.config().pong_count, 5u);
    EXPECT_FALSE(hb.connected());
    EXPECT_EQ(hb.backoff(), kPongTimeoutBackoff);
    EXPECT_EQ(hb.pong_timeout_adj_us(), 2000u * 1000u * 10u);
    EXPECT_EQ(hb.latency_stats().min, UINT32_MAX);
    EXPECT_EQ(hb.pong_last_ns(), 0u);
    EXPECT_EQ(hb.next_deadline_ns(), 0u);
}

TEST(Heartbeat, FirstTickPingsThenRespectsInterval) {
    LinkHeartbeat hb;
    HeartbeatTick t = hb.tick(ms(5));
    EXPECT_TRUE(t.send_ping);
    EXPECT_TRUE(t.ping_timed);
    EXPECT_EQ(t.ping_time_ns, ms(5));
    EXPECT_EQ(hb.ping_last_ns(), ms(5));
    EXPECT_FALSE(hb.tick(ms(500)).send_ping);
    EXPECT_FALSE(hb.tick(ms(1004)).send_ping);
    EXPECT_TRUE(hb.tick(ms(1005)).send_ping);
}

TEST(Heartbeat, EarlyWindowPingsAndAdjustsSoonerButNeverTimesOutSooner) {
    LinkHeartbeat hb;
    ASSERT_TRUE(hb.tick(0).send_ping);  // arms the adjustment for 1 s
    hb.on_pong(0, us(100));
    // a ping due at 1000 ms goes at 980 ms with a 20 ms window, not before
    EXPECT_FALSE(hb.tick(ms(979), true, ms(20)).send_ping);
    EXPECT_EQ(hb.backoff(), kPongTimeoutBackoff);
    HeartbeatTick t = hb.tick(ms(980), true, ms(20));
    EXPECT_TRUE(t.send_ping);
    EXPECT_EQ(t.ping_time_ns, ms(980));
    EXPECT_EQ(hb.backoff(), kPongTimeoutBackoff - 1);  // the adjustment went too
    // from then on it runs from the early ping: next due at 1980 ms
    EXPECT_EQ(hb.next_deadline_ns(), ms(1980));
    EXPECT_FALSE(hb.tick(ms(1959), true, ms(20)).send_ping);
    EXPECT_TRUE(hb.tick(ms(1980)).send_ping);

    // the pong timeout is not brought forward by the window
    LinkHeartbeat up;
    for (uint64_t s = 0; s <= 11; ++s) {
        HeartbeatTick p = up.tick(ms(1000) * s);
        up.on_pong(p.ping_time_ns, p.ping_time_ns + us(100));
    }
    ASSERT_TRUE(up.connected());
    ASSERT_EQ(up.backoff(), 1u);
    const uint64_t down_at = up.pong_last_ns() + up.pong_timeout_adj_us() * 1000;
    EXPECT_FALSE(up.tick(down_at - 1, true, ms(20)).transition);
    EXPECT_TRUE(up.tick(down_at, true, ms(20)).transition);
}

// Two links pinged a few ms apart: a timer that serves both with a window
// wakes once per interval for the pair instead of once per link.
TEST(Heartbeat, EarlyWindowMergesCloseLinksForGood) {
    auto wakeups_in_20s = [](uint64_t window_ns, LinkHeartbeat& a, LinkHeartbeat& b) {
        a.tick(0);
        b.tick(ms(3));
        int n = 0;
        for (;;) {
            const uint64_t now = std::min(a.next_deadline_ns(), b.next_deadline_ns());
            if (now > ms(20'000)) return n;
            ++n;
            a.tick(now, true, window_ns);
            b.tick(now, true, window_ns);
        }
    };
    LinkHeartbeat a0, b0, a1, b1;
    EXPECT_EQ(wakeups_in_20s(0, a0, b0), 39);  // 1000, 1003, 2000, 2003 ... 20000 ms
    EXPECT_EQ(wakeups_in_20s(ms(20), a1, b1), 20);
    EXPECT_EQ(a1.ping_last_ns(), b1.ping_last_ns());
    EXPECT_EQ(a1.next_deadline_ns(), b1.next_deadline_ns());
}

TEST(Heartbeat, UntimedPingIgnoresInterval) {
    LinkHeartbeat hb;
    ASSERT_TRUE(hb.tick(0).send_ping);
    HeartbeatTick t = hb.force_ping(ms(10));
    EXPECT_TRUE(t.send_ping);
    EXPECT_FALSE(t.ping_timed);
    EXPECT_EQ(t.ping_time_ns, ms(10));
    // the interval restarts from the untimed ping
    EXPECT_FALSE(hb.tick(ms(1005)).send_ping);
    EXPECT_TRUE(hb.tick(ms(1010)).send_ping);
}

TEST(Heartbeat, UpAfterPongCountPlusOnePongs) {
    LinkHeartbeat hb;
    for (int i = 0; i < 5; ++i) {
        uint64_t t0 = ms(1000) * i;
        ASSERT_TRUE(hb.tick(t0).send_ping);
        PongResult r = hb.on_pong(t0, t0 + us(100));
        EXPECT_EQ(r.verdict, PongVerdict::Accepted);
        EXPECT_EQ(r.latency_us, 100u);
        EXPECT_FALSE(r.transition) << "pong " << i;
        EXPECT_EQ(hb.received_pongs(), i + 1);
    }
    ASSERT_TRUE(hb.tick(ms(5000)).send_ping);
    PongResult r = hb.on_pong(ms(5000), ms(5000) + us(100));
    ASSERT_TRUE(r.transition);
    EXPECT_TRUE(r.transition->connected);
    EXPECT_EQ(r.transition->reason, LinkChangeReason::PongsReceived);
    EXPECT_TRUE(hb.connected());
    EXPECT_EQ(hb.latency_us(), 100u);
    // further pongs do not produce transitions
    EXPECT_FALSE(hb.on_pong(ms(5000), ms(5000) + us(200)).transition);
}

TEST(Heartbeat, PongCountOne) {
    HeartbeatConfig cfg;
    cfg.pong_count = 1;
    LinkHeartbeat hb(cfg);
    EXPECT_FALSE(hb.on_pong(0, us(10)).transition);
    EXPECT_TRUE(hb.on_pong(0, us(20)).transition);
}

TEST(Heartbeat, PongCountZeroIsClampedToOne) {
    LinkHeartbeat hb;
    hb.set_pong_count(0);
    EXPECT_EQ(hb.config().pong_count, 1u);
}

TEST(Heartbeat, SimulatedLinkComesUpAndStaysUp) {
    Sim s;
    s.run(ms(60'000), ms(100), always(us(250)));
    EXPECT_EQ(s.ups, 1);
    EXPECT_EQ(s.downs, 0);
    EXPECT_TRUE(s.hb.connected());
    EXPECT_EQ(s.hb.latency_us(), 250u);
    EXPECT_EQ(s.hb.backoff(), 1u);
    // adj = timeout * 1 + 2 * latency
    EXPECT_EQ(s.hb.pong_timeout_adj_us(), 2'000'000u + 500u);
    LatencyStats st = s.hb.latency_stats();
    EXPECT_EQ(st.min, 250u);
    EXPECT_EQ(st.max, 250u);
    EXPECT_EQ(st.ave, 250u);
    EXPECT_EQ(st.samples, 60u);  // the last ping's pong is still in flight
}

TEST(Heartbeat, DownAfterPongTimeoutMeasuredFromLastPong) {
    Sim s;
    s.run(ms(30'000), ms(10), always(us(100)));
    ASSERT_TRUE(s.hb.connected());
    const uint64_t adj_ns = s.hb.pong_timeout_adj_us() * 1000;
    ASSERT_EQ(adj_ns, ms(2000) + us(200));
    // peer vanishes
    s.run(ms(40'000), ms(1), never());
    EXPECT_EQ(s.downs, 1);
    // last pong (ping of 30 s) arrived at 30 s + 100 us: down at the first
    // 1 ms tick >= 30.0001 s + 2.0002 s
    EXPECT_EQ(s.last_at, ms(32'001));
    ASSERT_TRUE(s.last);
    EXPECT_FALSE(s.last->connected);
    EXPECT_EQ(s.last->reason, LinkChangeReason::PongTimeout);
    EXPECT_FALSE(s.hb.connected());
    // after a down: counters reset, the backoff restarted from its maximum
    // (and shrank by one per second since: 8 s later it is 2)
    EXPECT_EQ(s.hb.received_pongs(), 0u);
    EXPECT_EQ(s.hb.pong_last_ns(), 0u);
    EXPECT_EQ(s.hb.backoff(), kPongTimeoutBackoff - 8);
}

TEST(Heartbeat, ExactDownInstant) {
    LinkHeartbeat hb;
    for (uint64_t s = 0; s <= 11; ++s) {
        HeartbeatTick t = hb.tick(ms(1000) * s);
        ASSERT_TRUE(t.send_ping);
        hb.on_pong(t.ping_time_ns, t.ping_time_ns + us(100));
    }
    ASSERT_TRUE(hb.connected());
    ASSERT_EQ(hb.backoff(), 1u);
    ASSERT_EQ(hb.pong_timeout_adj_us(), 2'000'200u);
    const uint64_t last = ms(11'000) + us(100);
    ASSERT_EQ(hb.pong_last_ns(), last);
    EXPECT_EQ(hb.next_deadline_ns(), ms(12'000));
    HeartbeatTick t = hb.tick(last + us(2'000'200) - 1);
    EXPECT_FALSE(t.transition);
    EXPECT_TRUE(hb.connected());
    t = hb.tick(last + us(2'000'200));
    ASSERT_TRUE(t.transition);
    EXPECT_FALSE(t.transition->connected);
    EXPECT_EQ(t.transition->reason, LinkChangeReason::PongTimeout);
    // right after a down the timeout is back at ten times pong_timeout
    EXPECT_EQ(hb.backoff(), kPongTimeoutBackoff);
    EXPECT_EQ(hb.pong_timeout_adj_us(), 20'000'200u);
}

TEST(Heartbeat, NeverUpLinkHasNoTimeoutUntilFirstPong) {
    Sim s;
    s.run(ms(100'000), ms(100), never());
    EXPECT_EQ(s.ups + s.downs, 0);
    EXPECT_EQ(s.hb.pong_last_ns(), 0u);
}

TEST(Heartbeat, PartialPongsResetOnTimeoutWithoutEvent) {
    LinkHeartbeat hb;
    hb.tick(0);
    hb.on_pong(0, us(10));
    hb.on_pong(0, us(20));
    EXPECT_EQ(hb.received_pongs(), 2u);
    // no pong for longer than adj (20 s at backoff 10, decreasing)
    HeartbeatTick t;
    for (uint64_t now = ms(100); now < ms(30'000); now += ms(100)) {
        t = hb.tick(now);
        EXPECT_FALSE(t.transition);  // was never connected: no event
    }
    EXPECT_EQ(hb.received_pongs(), 0u);
    EXPECT_EQ(hb.pong_last_ns(), 0u);
}

TEST(Heartbeat, LatePongKeepsLinkAliveButIsNotMeasured) {
    LinkHeartbeat hb;
    hb.tick(0);
    for (int i = 0; i < 6; ++i) {
        hb.on_pong(0, us(100));
    }
    ASSERT_TRUE(hb.connected());
    const LatencyStats before = hb.latency_stats();
    PongResult r = hb.on_pong(ms(1000), ms(1000) + ms(2500));  // > pong_timeout (2 s)
    EXPECT_EQ(r.verdict, PongVerdict::TooLate);
    EXPECT_EQ(r.latency_us, 2'500'000u);
    EXPECT_EQ(hb.pong_last_ns(), ms(3500));
    EXPECT_EQ(hb.latency_stats().samples, before.samples);
    EXPECT_EQ(hb.latency_us(), 100u);
}

TEST(Heartbeat, LatePongsDoNotCountTowardsUp) {
    LinkHeartbeat hb;
    for (int i = 0; i < 20; ++i) {
        PongResult r = hb.on_pong(0, ms(2001) + ms(i));
        EXPECT_EQ(r.verdict, PongVerdict::TooLate);
    }
    EXPECT_FALSE(hb.connected());
    EXPECT_EQ(hb.received_pongs(), 0u);
}

TEST(Heartbeat, PongWithFutureTimestampIsNotMeasured) {
    LinkHeartbeat hb;
    PongResult r = hb.on_pong(ms(10), ms(5));
    EXPECT_EQ(r.verdict, PongVerdict::InvalidTimestamp);
    EXPECT_EQ(hb.latency_stats().samples, 0u);
    EXPECT_EQ(hb.received_pongs(), 0u);
    EXPECT_EQ(hb.pong_last_ns(), ms(5));
}

TEST(Heartbeat, PongForPingSentBeforeDownStillCounts) {
    // The reference does not distinguish pongs for pings sent before the last
    // down: within pong_timeout they are ordinary pongs.
    LinkHeartbeat hb;
    hb.tick(0);
    for (int i = 0; i < 6; ++i) {
        hb.on_pong(0, us(100));
    }
    ASSERT_TRUE(hb.connected());
    ASSERT_TRUE(hb.force_down(LinkChangeReason::Forced));
    PongResult r = hb.on_pong(0, ms(1));
    EXPECT_EQ(r.verdict, PongVerdict::Accepted);
    EXPECT_EQ(hb.received_pongs(), 1u);
}

TEST(Heartbeat, LatencyRunningMeanCappedByPrecision) {
    HeartbeatConfig cfg;
    cfg.precision = 2;
    LinkHeartbeat hb(cfg);
    hb.on_pong(0, us(100));
    EXPECT_EQ(hb.latency_us(), 100u);
    hb.on_pong(0, us(200));
    EXPECT_EQ(hb.latency_us(), 150u);  // (100 + 200) / 2
    hb.on_pong(0, us(300));
    EXPECT_EQ(hb.latency_us(), 225u);  // (150 * 1 + 300) / 2
    hb.on_pong(0, us(1));
    EXPECT_EQ(hb.latency_us(), 113u);  // (225 + 1) / 2, truncated
    LatencyStats st = hb.latency_stats();
    EXPECT_EQ(st.samples, 2u);
    EXPECT_EQ(st.ave, 113u);
    EXPECT_EQ(st.max, 225u);  // extremes of the running mean, as the reference
    EXPECT_EQ(st.min, 100u);
}

TEST(Heartbeat, LatencyUsesMicroseconds) {
    LinkHeartbeat hb;
    hb.on_pong(1'000'000'000ULL, 1'000'000'000ULL + 1999);  // 1.999 us
    EXPECT_EQ(hb.latency_us(), 1u);
}

TEST(Heartbeat, PongsSlowerThanTimeoutNeverBringLinkUp) {
    // 9 ms pongs with a 1 ms pong_timeout are "too late" and never count.
    HeartbeatConfig cfg;
    cfg.pong_timeout_ms = 1;
    LinkHeartbeat hb(cfg);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(hb.on_pong(0, ms(9)).verdict, PongVerdict::TooLate);
    }
    EXPECT_FALSE(hb.connected());
}

TEST(Heartbeat, TransportDisconnectedTakesLinkDown) {
    LinkHeartbeat hb;
    hb.tick(0);
    for (int i = 0; i < 6; ++i) {
        hb.on_pong(0, us(100));
    }
    ASSERT_TRUE(hb.connected());
    HeartbeatTick t = hb.tick(ms(100), false);
    EXPECT_FALSE(t.send_ping);
    ASSERT_TRUE(t.transition);
    EXPECT_EQ(t.transition->reason, LinkChangeReason::TransportDisconnected);
    EXPECT_FALSE(hb.connected());
    // again: already down, no event
    EXPECT_FALSE(hb.tick(ms(200), false).transition);
}

TEST(Heartbeat, StatusPongLastKeepsSecondsAfterDown) {
    LinkHeartbeat hb;
    EXPECT_EQ(hb.status_pong_last_ns(), 0u);
    hb.tick(0);
    for (int i = 0; i < 6; ++i) {
        hb.on_pong(ms(3000), ms(3000) + us(1500));
    }
    EXPECT_EQ(hb.status_pong_last_ns(), ms(3000) + us(1500));
    ASSERT_TRUE(hb.force_down(LinkChangeReason::Forced));
    EXPECT_EQ(hb.pong_last_ns(), 0u);
    EXPECT_EQ(hb.status_pong_last_ns(), ms(3000));
}

TEST(Heartbeat, ForceDownOnlyReportsWhenConnected) {
    LinkHeartbeat hb;
    EXPECT_FALSE(hb.force_down(LinkChangeReason::Forced));
}

TEST(Heartbeat, SetTimersRecomputesTimeout) {
    LinkHeartbeat hb;
    hb.set_timers(200, 500, 16);
    EXPECT_EQ(hb.config().ping_interval_ms, 200u);
    EXPECT_EQ(hb.config().pong_timeout_ms, 500u);
    EXPECT_EQ(hb.config().precision, 16u);
    EXPECT_EQ(hb.pong_timeout_adj_us(), 500'000u * 10u);
    hb.set_timers(200, 500, 0);
    EXPECT_EQ(hb.config().precision, 1u);
}

TEST(Heartbeat, BackoffShrinksOncePerSecond) {
    LinkHeartbeat hb;
    for (uint64_t s = 0; s <= 12; ++s) {
        hb.tick(ms(1000) * s);
    }
    EXPECT_EQ(hb.backoff(), 1u);
    EXPECT_EQ(hb.pong_timeout_adj_us(), 2'000'000u);
}

TEST(Heartbeat, NextDeadline) {
    LinkHeartbeat hb;
    HeartbeatTick t = hb.tick(ms(100));
    // next ping at 1100 ms, next adjust at 1100 ms
    EXPECT_EQ(t.next_deadline_ns, ms(1100));
    hb.on_pong(ms(100), ms(150));
    hb.set_timers(5000, 100, 2048);  // adj = 100 ms * 10 + 2 * 50 ms = 1.1 s
    EXPECT_EQ(hb.next_deadline_ns(), ms(1100));
    hb.set_timers(5000, 10, 2048);   // adj = 100 ms + 100 ms = 200 ms
    EXPECT_EQ(hb.next_deadline_ns(), ms(350));
}

TEST(Heartbeat, JitterAndLossDoNotFlap) {
    // Latency uniformly in [200 ms, 1 s], one pong out of three lost, engine
    // tick every 200 ms: the link must come up once and never go down (the
    // timeout grows with twice the average latency).
    Sim s;
    uint32_t rng = 12345;
    int n = 0;
    s.run(ms(600'000), ms(200), [&](uint64_t) -> std::optional<uint64_t> {
        rng = rng * 1103515245u + 12345u;
        if (++n % 3 == 0) {
            return std::nullopt;
        }
        return ms(200 + (rng >> 8) % 800);
    });
    EXPECT_EQ(s.ups, 1);
    EXPECT_EQ(s.downs, 0);
    EXPECT_TRUE(s.hb.connected());
}

TEST(Heartbeat, BusyCpuDelayingTicksDoesNotFlap) {
    // The engine is starved for 5 s (more than pong_timeout_adj) but the pong
    // that arrived meanwhile is processed before the late tick.
    Sim s;
    s.run(ms(20'000), ms(100), always(us(100)));
    ASSERT_TRUE(s.hb.connected());
    const uint64_t stalled = s.now + ms(5000);
    PongResult r = s.hb.on_pong(stalled - ms(1), stalled);
    EXPECT_EQ(r.verdict, PongVerdict::Accepted);
    HeartbeatTick t = s.hb.tick(stalled);
    EXPECT_FALSE(t.transition);
    EXPECT_TRUE(s.hb.connected());
}

TEST(Heartbeat, FlappingLinkComesBackAfterPongCount) {
    Sim s;
    s.run(ms(20'000), ms(100), always(us(100)));
    ASSERT_EQ(s.ups, 1);
    s.run(ms(30'000), ms(100), never());
    ASSERT_EQ(s.downs, 1);
    const uint64_t back = s.now;
    s.run(ms(40'000), ms(100), always(us(100)));
    EXPECT_EQ(s.ups, 2);
    EXPECT_TRUE(s.hb.connected());
    // the 6th pong after recovery brings it up: ~5 intervals later
    EXPECT_GT(s.hb.pong_last_ns(), back);
}

TEST(LinkEventHistory, RingIndexPointsAtNextSlot) {
    LinkEventHistory h;
    h.record(true, 100);
    EXPECT_EQ(h.up_count, 1u);
    EXPECT_EQ(h.last_up_time_index, 1);
    EXPECT_EQ(h.last_up_times[0], 100);
    for (int i = 1; i < kMaxLinkEvents; ++i) {
        h.record(true, 100 + i);
    }
    EXPECT_EQ(h.last_up_time_index, 0);
    h.record(true, 999);
    EXPECT_EQ(h.last_up_times[0], 999);
    EXPECT_EQ(h.last_up_time_index, 1);
    EXPECT_EQ(h.up_count, 17u);
    EXPECT_EQ(h.down_count, 0u);
    h.record(false, 5);
    EXPECT_EQ(h.down_count, 1u);
    EXPECT_EQ(h.last_down_times[0], 5);
    EXPECT_EQ(h.last_down_time_index, 1);
}

TEST(LinkEventHistory, CorruptIndexIsReset) {
    LinkEventHistory h;
    h.last_up_time_index = 42;
    h.record(true, 7);
    EXPECT_EQ(h.last_up_times[0], 7);
    EXPECT_EQ(h.last_up_time_index, 1);
}

TEST(Heartbeat, DataBeforeAnyPongLeavesTheLinkDown) {
    LinkHeartbeat hb;
    hb.tick(0);
    EXPECT_FALSE(hb.on_data_while_down());
    EXPECT_FALSE(hb.connected());
}

TEST(Heartbeat, DataDuringLinkUpBringsTheLinkUpAtOnce) {
    LinkHeartbeat hb;  // pong_count 5
    hb.tick(0);
    EXPECT_FALSE(hb.on_pong(0, us(100)).transition);
    ASSERT_EQ(hb.received_pongs(), 1u);
    const std::optional<LinkTransition> t = hb.on_data_while_down();
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->connected);
    EXPECT_EQ(t->reason, LinkChangeReason::DataReceived);
    EXPECT_TRUE(hb.connected());
    // Once up: no second up, neither from data nor from the remaining pongs.
    EXPECT_FALSE(hb.on_data_while_down());
    for (int i = 0; i < 6; ++i) EXPECT_FALSE(hb.on_pong(0, us(100)).transition);
}

TEST(Heartbeat, DataUpLinkStillTimesOutAndNeedsAPongAgain) {
    Sim s;
    s.run(ms(200), ms(100), always(us(100)));  // a few pongs, not yet up
    ASSERT_EQ(s.ups, 0);
    s.note(s.hb.on_data_while_down());
    ASSERT_EQ(s.ups, 1);
    // The peer goes silent: the link goes down as any other would.
    s.run(ms(60'000), ms(100), never());
    EXPECT_EQ(s.downs, 1);
    EXPECT_EQ(s.last->reason, LinkChangeReason::PongTimeout);
    // Data alone does not bring it back: the pongs counted before were
    // forgotten by the down.
    EXPECT_FALSE(s.hb.on_data_while_down());
    EXPECT_FALSE(s.hb.connected());
}

TEST(Heartbeat, ReasonNames) {
    EXPECT_STREQ(to_string(LinkChangeReason::PongTimeout), "pong timeout");
    EXPECT_STREQ(to_string(LinkChangeReason::PongsReceived), "pongs received");
    EXPECT_STREQ(to_string(LinkChangeReason::DataReceived), "data received during ping/pong activity");
}

}  // namespace
}  // namespace knet::proto
