#include <gtest/gtest.h>

#include "engine/backlog_boost.h"

using knet::engine::BacklogBoost;
using Action = BacklogBoost::Action;

namespace {
constexpr uint64_t kLimit = 128u << 20;
constexpr uint64_t kSec = 1'000'000'000;
}  // namespace

TEST(BacklogBoost, RaisesOnlyPastHalfFull) {
    BacklogBoost b;
    EXPECT_EQ(b.on_full_round(5, kLimit / 4, kLimit, 1), Action::None);
    EXPECT_EQ(b.on_full_round(5, kLimit / 2, kLimit, 2), Action::None) << "exactly half is not past it";
    EXPECT_FALSE(b.raised());
    EXPECT_EQ(b.on_full_round(5, kLimit / 2 + 1, kLimit, 3), Action::Raise);
    EXPECT_TRUE(b.raised());
    EXPECT_EQ(b.on_full_round(5, kLimit, kLimit, 4), Action::None) << "raised once";
    EXPECT_EQ(b.on_full_round(7, kLimit, kLimit, 4), Action::None);
}

TEST(BacklogBoost, NoLimitKnownNeverRaises) {
    BacklogBoost b;
    EXPECT_EQ(b.on_full_round(5, 1000, 0, 1), Action::None);
    EXPECT_FALSE(b.raised());
}

TEST(BacklogBoost, LowersWhenThatSocketDrains) {
    BacklogBoost b;
    ASSERT_EQ(b.on_full_round(5, kLimit, kLimit, 1), Action::Raise);
    EXPECT_EQ(b.on_drained(7), Action::None) << "another socket (pings) drained";
    EXPECT_TRUE(b.raised());
    EXPECT_EQ(b.on_drained(5), Action::Lower);
    EXPECT_FALSE(b.raised());
    EXPECT_EQ(b.on_drained(5), Action::None) << "lowered once";
    EXPECT_EQ(b.on_full_round(7, kLimit, kLimit, 2), Action::Raise) << "and can be raised again";
}

TEST(BacklogBoost, LowersAfterASecondWithoutFullRounds) {
    BacklogBoost b;
    EXPECT_EQ(b.on_tick(5 * kSec), Action::None) << "not raised";
    ASSERT_EQ(b.on_full_round(5, kLimit, kLimit, 10 * kSec), Action::Raise);
    EXPECT_EQ(b.on_tick(10 * kSec + kSec / 2), Action::None);
    // Full rounds on the raising socket keep it raised; on others they do not.
    EXPECT_EQ(b.on_full_round(5, kLimit / 8, kLimit, 10 * kSec + 9 * kSec / 10), Action::None);
    EXPECT_EQ(b.on_full_round(6, kLimit, kLimit, 11 * kSec + 5 * kSec / 10), Action::None);
    EXPECT_EQ(b.on_tick(11 * kSec + 8 * kSec / 10), Action::None);
    EXPECT_EQ(b.on_tick(12 * kSec), Action::Lower) << "the raising socket went quiet (or away)";
    EXPECT_FALSE(b.raised());
}

TEST(BacklogBoost, RaisedNiceIsTenLowerWithinRange) {
    EXPECT_EQ(BacklogBoost::raised_nice(0), -10);
    EXPECT_EQ(BacklogBoost::raised_nice(5), -5);
    EXPECT_EQ(BacklogBoost::raised_nice(-15), -20);
    EXPECT_EQ(BacklogBoost::raised_nice(19), 9);
}
