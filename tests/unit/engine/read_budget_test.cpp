// messages_per_read: a whole batch for the first round and whenever the
// payload is worked on (crypto, compression); otherwise about 128 KB of
// messages as long as the previous round's longest, never none.
#include "engine/read_budget.h"

#include <cstdint>

#include <gtest/gtest.h>

namespace knet::engine {
namespace {

constexpr size_t kSlots = 32;

TEST(ReadBudget, PayloadWorkedOnTakesEverySlot) {
    EXPECT_EQ(messages_per_read(kSlots, false, 0), kSlots);
    EXPECT_EQ(messages_per_read(kSlots, false, 64000), kSlots);
    EXPECT_EQ(messages_per_read(kSlots, false, 65536), kSlots);
}

TEST(ReadBudget, FirstRoundTakesEverySlot) {
    EXPECT_EQ(messages_per_read(kSlots, true, 0), kSlots);
}

TEST(ReadBudget, SmallMessagesTakeEverySlot) {
    EXPECT_EQ(messages_per_read(kSlots, true, 1), kSlots);
    EXPECT_EQ(messages_per_read(kSlots, true, 64), kSlots);
    EXPECT_EQ(messages_per_read(kSlots, true, 1024), kSlots);
    EXPECT_EQ(messages_per_read(kSlots, true, kCopyReadBudget / kSlots), kSlots);
}

TEST(ReadBudget, LargeMessagesStayWithinTheBudget) {
    EXPECT_EQ(messages_per_read(kSlots, true, 8192), 16u);
    EXPECT_EQ(messages_per_read(kSlots, true, 64000), 2u);
    for (size_t len = 4097; len <= 65536; len += 997) {
        const size_t n = messages_per_read(kSlots, true, len);
        EXPECT_LE(n * len, kCopyReadBudget) << len;
        EXPECT_GT((n + 1) * len, kCopyReadBudget) << len;
    }
}

TEST(ReadBudget, NeverNone) {
    EXPECT_EQ(messages_per_read(kSlots, true, kCopyReadBudget), 1u);
    EXPECT_EQ(messages_per_read(kSlots, true, kCopyReadBudget + 1), 1u);
    EXPECT_EQ(messages_per_read(kSlots, true, SIZE_MAX), 1u);
    EXPECT_EQ(messages_per_read(0, true, 0), 1u);
    EXPECT_EQ(messages_per_read(0, false, 0), 1u);
    EXPECT_EQ(messages_per_read(1, true, 1), 1u);
}

}  // namespace
}  // namespace knet::engine
