// When a data-path thread polls its fds instead of sleeping.
//
// Most of a loopback round trip is wake-ups: app -> tx thread -> network ->
// rx thread -> app, and back.  A thread that finds its next event already
// there when it looks saves its wake-up.  So after handling data, a thread
// that has been seeing data come back at short intervals (a request/response
// exchange, or a stream) keeps polling for kWindowNs, yielding the CPU to
// any other runnable thread each time round, before it sleeps.  Sparse
// traffic (gaps well above kDenseGapNs on average) and control packets never
// make it poll, so an idle or lightly used handle costs nothing extra.
//
// Pure logic on caller-supplied monotonic times (unit-tested with simulated
// time); the loop that uses it is State::wait_events.
#pragma once

#include <cstdint>

namespace knet::engine {

class IdleSpin {
public:
    static constexpr uint64_t kWindowNs = 100'000;
    static constexpr uint64_t kDenseGapNs = 200'000;

    // The thread handled data at `now`.
    void on_data(uint64_t now) {
        if (last_) {
            const uint64_t gap = now > last_ ? now - last_ : 0;
            // Average of the gaps (weight 1/8 for the newest), saturating so
            // that one long pause is enough to stop polling.
            avg_gap_ = avg_gap_ - avg_gap_ / 8 + (gap > kCap ? kCap : gap) / 8;
        }
        last_ = now;
    }

    // Whether to poll rather than sleep at `now`.
    bool keep_polling(uint64_t now) const {
        return last_ != 0 && avg_gap_ <= kDenseGapNs && now >= last_ && now - last_ < kWindowNs;
    }

    uint64_t average_gap_ns() const { return avg_gap_; }

private:
    static constexpr uint64_t kCap = 1'000'000'000;  // 1 s: the gap counted for longer pauses
    uint64_t last_ = 0;
    uint64_t avg_gap_ = 8 * kDenseGapNs;  // starts sparse: a few close events turn it on
};

}  // namespace knet::engine
