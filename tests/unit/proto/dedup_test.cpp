#include <gtest/gtest.h>

#include "proto/dedup.h"
#include "proto/seqnum.h"

using namespace knet::proto;

namespace {
// The receive path's use: check, then mark once delivered.
bool deliver(Dedup& d, SeqNum s) {
    if (!d.check(s)) return false;
    d.mark(s);
    return true;
}
}  // namespace

TEST(SeqNum, Arithmetic) {
    EXPECT_EQ(seq_forward(1000, 1005), 5);
    EXPECT_EQ(seq_forward(65534, 3), 5);
    EXPECT_EQ(seq_behind(1000, 1005), 5);
    EXPECT_EQ(seq_behind(65534, 3), 5);
    EXPECT_EQ(seq_diff(3, 65534), -5);
    EXPECT_EQ(seq_diff(65534, 3), 5);
    EXPECT_TRUE(seq_newer(0, 65535));
    EXPECT_FALSE(seq_newer(65535, 0));
    EXPECT_EQ(next_data_seq(65535), 1);
    EXPECT_EQ(next_data_seq(0), 1);
    EXPECT_EQ(next_data_seq(41), 42);
}

TEST(Dedup, FirstPacketAnchors) {
    Dedup d;
    EXPECT_EQ(d.reference(), 0);
    EXPECT_TRUE(deliver(d, 500));
    EXPECT_EQ(d.reference(), 500);
}

TEST(Dedup, DuplicatesDropped) {
    Dedup d;
    for (SeqNum s = 1; s <= 100; ++s) EXPECT_TRUE(deliver(d, s));
    for (SeqNum s = 1; s <= 100; ++s) EXPECT_FALSE(deliver(d, s)) << s;
    EXPECT_EQ(d.reference(), 100);
}

TEST(Dedup, CheckWithoutMarkStaysNew) {
    // A packet that could not be delivered (e.g. datafd full) is not marked
    // and may be accepted again from another link.
    Dedup d;
    EXPECT_TRUE(d.check(7));
    EXPECT_TRUE(d.check(7));
    d.mark(7);
    EXPECT_FALSE(d.check(7));
}

TEST(Dedup, ReorderInWindowAcceptedOnce) {
    Dedup d;
    EXPECT_TRUE(deliver(d, 10));
    EXPECT_TRUE(deliver(d, 14));
    EXPECT_TRUE(deliver(d, 12));  // late, inside window
    EXPECT_TRUE(deliver(d, 11));
    EXPECT_TRUE(deliver(d, 13));
    for (SeqNum s = 10; s <= 14; ++s) EXPECT_FALSE(deliver(d, s));
    EXPECT_EQ(d.reference(), 14);
    // A packet 4095 behind the newest is still inside the window.
    EXPECT_TRUE(deliver(d, 5000));
    EXPECT_TRUE(deliver(d, 5000 - 4095));
    EXPECT_FALSE(deliver(d, 5000 - 4095));
}

TEST(Dedup, SlidingClearsReusedSlots) {
    Dedup d;
    EXPECT_TRUE(deliver(d, 1));
    // Walk forward past a full window: slot of 1 is reused by 4097.
    for (SeqNum s = 2; s <= 4097; ++s) ASSERT_TRUE(deliver(d, s)) << s;
    EXPECT_FALSE(deliver(d, 4097));
    EXPECT_FALSE(deliver(d, 2));  // 4095 behind: still remembered
}

TEST(Dedup, WrapAround) {
    Dedup d;
    for (uint32_t i = 65000; i <= 65535; ++i) ASSERT_TRUE(deliver(d, static_cast<SeqNum>(i)));
    // Sender skips 0 for data.
    for (SeqNum s = 1; s <= 300; ++s) ASSERT_TRUE(deliver(d, s)) << s;
    EXPECT_EQ(d.reference(), 300);
    // Duplicates on both sides of the wrap are dropped.
    EXPECT_FALSE(deliver(d, 65535));
    EXPECT_FALSE(deliver(d, 65100));
    EXPECT_FALSE(deliver(d, 1));
    EXPECT_FALSE(deliver(d, 300));
    // Reordering across the wrap.
    Dedup e;
    EXPECT_TRUE(deliver(e, 65534));
    EXPECT_TRUE(deliver(e, 2));
    EXPECT_TRUE(deliver(e, 65535));
    EXPECT_TRUE(deliver(e, 1));
    EXPECT_FALSE(deliver(e, 65534));
    EXPECT_FALSE(deliver(e, 2));
    EXPECT_EQ(e.reference(), 2);
}

TEST(Dedup, LongGapRecentres) {
    Dedup d;
    for (SeqNum s = 1; s <= 10; ++s) deliver(d, s);
    EXPECT_TRUE(deliver(d, 20000));  // far ahead: window re-centred
    EXPECT_EQ(d.reference(), 20000);
    EXPECT_TRUE(deliver(d, 19999));
    // Old numbers are forgotten; accepted once more, window moves back.
    EXPECT_TRUE(deliver(d, 5));
    EXPECT_EQ(d.reference(), 5);
}

TEST(Dedup, PeerRestartViaTimedPingZero) {
    Dedup d;
    for (SeqNum s = 1; s <= 50; ++s) deliver(d, s);
    EXPECT_FALSE(d.on_ping(50, true));  // normal timed ping
    uint32_t epoch = d.epoch();
    // Peer restarts: its pings carry seq 0 until it sends data.
    EXPECT_TRUE(d.on_ping(0, true));
    EXPECT_NE(d.epoch(), epoch);
    EXPECT_EQ(d.reference(), 0);
    EXPECT_FALSE(d.on_ping(0, true));  // same number again: no new wipe
    // Its data restarts from 1 and is delivered, not dropped as duplicate.
    for (SeqNum s = 1; s <= 50; ++s) EXPECT_TRUE(deliver(d, s)) << s;
}

TEST(Dedup, UntimedPingWipesOnlyWithoutData) {
    Dedup d;
    d.note_data();
    for (SeqNum s = 1; s <= 5; ++s) deliver(d, s);
    // Data arrived since the last untimed ping: slide, no wipe.
    EXPECT_FALSE(d.on_ping(8191, false));
    EXPECT_EQ(d.reference(), 8191);
    // No data since: the next untimed ping wipes.
    uint32_t epoch = d.epoch();
    EXPECT_TRUE(d.on_ping(16382, false));
    EXPECT_NE(d.epoch(), epoch);
    EXPECT_EQ(d.reference(), 16382);
    // Same untimed number again (sent on all links): processed once.
    EXPECT_FALSE(d.on_ping(16382, false));
}

TEST(Dedup, ResetForgetsEverything) {
    Dedup d;
    for (SeqNum s = 1; s <= 10; ++s) deliver(d, s);
    d.reset();
    EXPECT_EQ(d.reference(), 0);
    for (SeqNum s = 1; s <= 10; ++s) EXPECT_TRUE(deliver(d, s));
}

TEST(Dedup, TracksAreIndependent) {
    Dedup d;
    EXPECT_TRUE(d.check(9, Dedup::Track::Defrag));
    d.mark(9, Dedup::Track::Defrag);
    EXPECT_FALSE(d.check(9, Dedup::Track::Defrag));
    EXPECT_TRUE(d.check(9, Dedup::Track::Delivered));
}

TEST(Dedup, ExhaustiveSlidingAcrossWholeSpace) {
    // Two full laps of the sequence space, every 7th pair swapped, every
    // packet sent twice: each number is accepted exactly once per lap.
    Dedup d;
    uint32_t accepted = 0, sent = 0;
    SeqNum s = 1;
    while (sent < 2 * 65535) {
        SeqNum next = next_data_seq(s);
        if (sent % 7 == 0) {
            accepted += deliver(d, next) ? 1 : 0;
            accepted += deliver(d, s) ? 1 : 0;
            accepted += deliver(d, next) ? 1 : 0;  // duplicate
            accepted += deliver(d, s) ? 1 : 0;     // duplicate
            sent += 2;
            s = next_data_seq(next);
        } else {
            accepted += deliver(d, s) ? 1 : 0;
            accepted += deliver(d, s) ? 1 : 0;  // duplicate
            sent += 1;
            s = next;
        }
    }
    EXPECT_EQ(accepted, sent);
}
