// IdleSpin, on simulated time: polls only after data that has been coming
// at short intervals, only for the window, and stops after one long pause.
#include "engine/idle_spin.h"

#include <gtest/gtest.h>

namespace knet::engine {
namespace {

constexpr uint64_t kUs = 1000;

TEST(IdleSpin, NeverBeforeAnyData) {
    IdleSpin s;
    EXPECT_FALSE(s.keep_polling(0));
    EXPECT_FALSE(s.keep_polling(5 * kUs));
}

TEST(IdleSpin, SparseDataNeverPolls) {
    IdleSpin s;
    uint64_t t = 1'000'000;
    for (int i = 0; i < 1000; ++i) {  // 1 ms apart, like a lightly used cluster
        t += 1000 * kUs;
        s.on_data(t);
        EXPECT_FALSE(s.keep_polling(t + 1 * kUs)) << i;
    }
}

TEST(IdleSpin, DenseDataPollsForTheWindowOnly) {
    IdleSpin s;
    uint64_t t = 1'000'000;
    int first_poll = -1;
    for (int i = 0; i < 40; ++i) {  // a request/response exchange, 60 us apart
        t += 60 * kUs;
        s.on_data(t);
        if (first_poll < 0 && s.keep_polling(t)) first_poll = i;
    }
    ASSERT_GE(first_poll, 1) << "one close event is not enough";
    EXPECT_LE(first_poll, 20);
    EXPECT_TRUE(s.keep_polling(t + IdleSpin::kWindowNs - 1));
    EXPECT_FALSE(s.keep_polling(t + IdleSpin::kWindowNs));
    EXPECT_FALSE(s.keep_polling(t + 10'000 * kUs));
    EXPECT_FALSE(s.keep_polling(t - 1)) << "a time before the last data";
}

TEST(IdleSpin, OneLongPauseStopsPolling) {
    IdleSpin s;
    uint64_t t = 1'000'000;
    for (int i = 0; i < 100; ++i) s.on_data(t += 10 * kUs);
    ASSERT_TRUE(s.keep_polling(t));
    s.on_data(t += 2'000'000 * kUs);  // 2 s of silence, then one message
    EXPECT_FALSE(s.keep_polling(t));
    EXPECT_GT(s.average_gap_ns(), IdleSpin::kDenseGapNs);
}

TEST(IdleSpin, ClockGoingBackwardsIsHarmless) {
    IdleSpin s;
    uint64_t t = 1'000'000;
    for (int i = 0; i < 100; ++i) s.on_data(t += 10 * kUs);
    s.on_data(t - 500 * kUs);  // counted as a zero gap
    EXPECT_LE(s.average_gap_ns(), IdleSpin::kDenseGapNs);
}

}  // namespace
}  // namespace knet::engine
