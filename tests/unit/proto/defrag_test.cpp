#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "proto/defrag.h"
#include "proto/fragment.h"

using namespace knet::proto;

namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t salt = 0) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 13 + salt + (i >> 8));
    return v;
}

DataHeader frag(SeqNum seq, uint8_t num, uint8_t fseq) {
    DataHeader h;
    h.seq = seq;
    h.frag_num = num;
    h.frag_seq = fseq;
    return h;
}

// Rx path as the engine will run it: dedup check, then reassembly.
DefragResult rx(Dedup& d, Reassembler& r, const Fragment& f, uint64_t now = 0) {
    if (!d.check(f.header.seq)) {
        DefragResult x;
        x.reason = DefragDrop::Stale;
        return x;
    }
    return r.push(f.header, f.payload, now, d);
}

}  // namespace

TEST(Defrag, UnfragmentedPassesThrough) {
    Dedup d;
    Reassembler r;
    auto data = pattern(100);
    d.check(5);
    auto res = r.push(frag(5, 1, 0), data, 0, d);
    EXPECT_EQ(res.status, DefragStatus::Complete);
    EXPECT_EQ(res.datagram.data(), data.data());
    EXPECT_EQ(r.in_use(), 0u);
}

TEST(Defrag, InOrderAndEveryPermutationOfFour) {
    auto data = pattern(1000);
    auto f = Fragmenter::make(frag(1, 0, 0), data, 300).value();
    ASSERT_EQ(f.count(), 4);
    std::vector<int> order = {0, 1, 2, 3};
    SeqNum seq = 1;
    Dedup d;
    Reassembler r;
    do {
        DataHeader base = frag(seq, 0, 0);
        auto g = Fragmenter::make(base, data, 300).value();
        DefragResult res;
        for (size_t k = 0; k < order.size(); ++k) {
            res = rx(d, r, g[static_cast<uint8_t>(order[k])]);
            if (k + 1 < order.size()) {
                ASSERT_EQ(res.status, DefragStatus::Pending);
            }
        }
        ASSERT_EQ(res.status, DefragStatus::Complete);
        ASSERT_TRUE(std::equal(res.datagram.begin(), res.datagram.end(), data.begin(), data.end()));
        d.mark(seq);
        seq = next_data_seq(seq);
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_EQ(r.in_use(), 0u);
}

TEST(Defrag, LastFirstWithFullSizeDatagram) {
    // 65536 bytes: parked last fragment and its final place overlap exactly.
    auto data = pattern(kMaxPacketSize, 3);
    auto f = Fragmenter::make(frag(9, 0, 0), data, 1400).value();
    Dedup d;
    Reassembler r;
    DefragResult res = rx(d, r, f[static_cast<uint8_t>(f.count() - 1)]);
    EXPECT_EQ(res.status, DefragStatus::Pending);
    for (uint8_t i = 0; i + 1 < f.count(); ++i) res = rx(d, r, f[i]);
    ASSERT_EQ(res.status, DefragStatus::Complete);
    ASSERT_EQ(res.datagram.size(), data.size());
    EXPECT_TRUE(std::equal(res.datagram.begin(), res.datagram.end(), data.begin()));
}

TEST(Defrag, DuplicateFragmentsIgnored) {
    auto data = pattern(900);
    auto f = Fragmenter::make(frag(3, 0, 0), data, 400).value();  // 3 fragments
    Dedup d;
    Reassembler r;
    EXPECT_EQ(rx(d, r, f[0]).status, DefragStatus::Pending);
    auto dup = rx(d, r, f[0]);
    EXPECT_EQ(dup.status, DefragStatus::Dropped);
    EXPECT_EQ(dup.reason, DefragDrop::Duplicate);
    EXPECT_EQ(rx(d, r, f[1]).status, DefragStatus::Pending);
    auto res = rx(d, r, f[2]);
    ASSERT_EQ(res.status, DefragStatus::Complete);
    EXPECT_EQ(res.datagram.size(), 900u);
    // After completion, late copies of its fragments are stale, not a new datagram.
    auto late = r.push(f[1].header, f[1].payload, 0, d);
    EXPECT_EQ(late.status, DefragStatus::Dropped);
    EXPECT_EQ(late.reason, DefragDrop::Stale);
    EXPECT_EQ(r.in_use(), 0u);
}

TEST(Defrag, InvalidHeadersRejected) {
    Dedup d;
    Reassembler r;
    auto p = pattern(10);
    d.check(1);
    EXPECT_EQ(r.push(frag(1, 0, 0), p, 0, d).reason, DefragDrop::BadFragNum);
    EXPECT_EQ(r.push(frag(1, 3, 0), p, 0, d).reason, DefragDrop::BadFragSeq);
    EXPECT_EQ(r.push(frag(1, 3, 4), p, 0, d).reason, DefragDrop::BadFragSeq);
    EXPECT_EQ(r.push(frag(1, 255, 255), std::span<const uint8_t>(), 0, d).reason,
              DefragDrop::Empty);
    EXPECT_EQ(r.in_use(), 0u);
    // frag_num 255 / frag_seq 255 is legal and must not overflow anything.
    EXPECT_EQ(r.push(frag(1, 255, 255), p, 0, d).status, DefragStatus::Pending);
}

TEST(Defrag, FragNumMismatchDropped) {
    Dedup d;
    Reassembler r;
    auto p = pattern(100);
    d.check(4);
    EXPECT_EQ(r.push(frag(4, 3, 1), p, 0, d).status, DefragStatus::Pending);
    auto res = r.push(frag(4, 5, 2), p, 0, d);
    EXPECT_EQ(res.status, DefragStatus::Dropped);
    EXPECT_EQ(res.reason, DefragDrop::FragNumMismatch);
    // The original datagram can still complete.
    EXPECT_EQ(r.push(frag(4, 3, 2), p, 0, d).status, DefragStatus::Pending);
    auto done = r.push(frag(4, 3, 3), std::span<const uint8_t>(p.data(), 50), 0, d);
    ASSERT_EQ(done.status, DefragStatus::Complete);
    EXPECT_EQ(done.datagram.size(), 250u);
}

TEST(Defrag, SizeInconsistenciesDropped) {
    Dedup d;
    Reassembler r;
    auto p = pattern(1000);
    d.check(6);
    EXPECT_EQ(r.push(frag(6, 4, 1), std::span<const uint8_t>(p.data(), 500), 0, d).status,
              DefragStatus::Pending);
    // Another middle fragment of a different size.
    EXPECT_EQ(r.push(frag(6, 4, 2), std::span<const uint8_t>(p.data(), 400), 0, d).reason,
              DefragDrop::SizeMismatch);
    // A last fragment larger than the others.
    EXPECT_EQ(r.push(frag(6, 4, 4), std::span<const uint8_t>(p.data(), 501), 0, d).reason,
              DefragDrop::SizeMismatch);
    // Last first, then a middle fragment smaller than it.
    d.check(7);
    EXPECT_EQ(r.push(frag(7, 3, 3), std::span<const uint8_t>(p.data(), 300), 0, d).status,
              DefragStatus::Pending);
    EXPECT_EQ(r.push(frag(7, 3, 1), std::span<const uint8_t>(p.data(), 200), 0, d).reason,
              DefragDrop::SizeMismatch);
}

TEST(Defrag, TotalNeverExceedsMaxPacketSize) {
    Dedup d;
    Reassembler r;
    std::vector<uint8_t> big(40000, 1);
    d.check(8);
    // 2 x 40000 > 65536: refused as soon as the fragment size is known.
    auto res = r.push(frag(8, 3, 1), big, 0, d);
    EXPECT_EQ(res.reason, DefragDrop::TooLarge);
    EXPECT_EQ(r.in_use(), 0u);
    // Fragment size known first, then a last fragment that overflows.
    d.check(9);
    std::vector<uint8_t> mid(30000, 2), last(10000, 3);
    EXPECT_EQ(r.push(frag(9, 3, 1), mid, 0, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.push(frag(9, 3, 3), last, 0, d).reason, DefragDrop::TooLarge);
    // Last fragment parked first, then a fragment size that overflows.
    d.check(10);
    EXPECT_EQ(r.push(frag(10, 3, 3), last, 0, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.push(frag(10, 3, 2), mid, 0, d).reason, DefragDrop::TooLarge);
    EXPECT_EQ(r.in_use(), 0u);
}

TEST(Defrag, OldSlotsReclaimedBySequence) {
    Dedup d;
    Reassembler r;
    auto p = pattern(100);
    d.check(100);
    EXPECT_EQ(r.push(frag(100, 2, 1), p, 0, d).status, DefragStatus::Pending);
    // 32 newer packets: seq 100 still in the keep window.
    d.check(132);
    EXPECT_EQ(r.push(frag(132, 2, 1), p, 0, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.in_use(), 2u);
    // 33 behind: reclaimed; its remaining fragment is stale.
    d.check(133);
    EXPECT_EQ(r.push(frag(133, 2, 1), p, 0, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.in_use(), 2u);
    EXPECT_EQ(r.push(frag(100, 2, 2), p, 0, d).reason, DefragDrop::Stale);
}

// An untimed ping carries the sender's newest sequence number.  When it comes
// in on an idle link while hundreds of fragmented datagrams still wait in the
// data link's receive queue, it moves the Dedup window far ahead of them; the
// queued datagrams must still be reassembled (libknet 1.26 lost all but their
// first fragment).
TEST(Defrag, BacklogBehindAnUntimedPingIsReassembled) {
    auto data = pattern(3000);
    Dedup d;
    Reassembler r;
    size_t complete = 0;
    for (SeqNum seq = 1; seq <= 600; ++seq) {
        if (seq == 100) {
            d.note_data();
            EXPECT_FALSE(d.on_ping(700, false));  // 600 datagrams ahead of us
        }
        auto g = Fragmenter::make(frag(seq, 0, 0), data, 1000).value();
        ASSERT_EQ(g.count(), 3);
        DefragResult res;
        for (uint8_t k = 0; k < g.count(); ++k) res = rx(d, r, g[k]);
        ASSERT_EQ(res.status, DefragStatus::Complete) << "seq " << seq;
        ASSERT_TRUE(std::equal(res.datagram.begin(), res.datagram.end(), data.begin(), data.end()));
        d.mark(seq);
        ++complete;
    }
    EXPECT_EQ(complete, 600u);
    EXPECT_EQ(r.in_use(), 0u);
}

// Fragments of consecutive datagrams interleaved (two links, active policy):
// a fragment of an older datagram does not cost the newer ones their slots.
TEST(Defrag, InterleavedDatagramsAcrossLinks) {
    auto data = pattern(2000);
    Dedup d;
    Reassembler r;
    auto a = Fragmenter::make(frag(40, 0, 0), data, 1000).value();
    auto b = Fragmenter::make(frag(41, 0, 0), data, 1000).value();
    EXPECT_EQ(rx(d, r, b[0]).status, DefragStatus::Pending);
    EXPECT_EQ(rx(d, r, a[0]).status, DefragStatus::Pending);
    EXPECT_EQ(rx(d, r, b[1]).status, DefragStatus::Complete);
    d.mark(41);
    EXPECT_EQ(rx(d, r, a[1]).status, DefragStatus::Complete);
    EXPECT_EQ(r.in_use(), 0u);
}

// A sender that starts numbering again far behind (no restart ping seen):
// the old reassemblies go, the new ones are kept.
TEST(Defrag, SequenceJumpBackStartsOver) {
    auto p = pattern(100);
    Dedup d;
    Reassembler r;
    d.check(30000);
    EXPECT_EQ(r.push(frag(30000, 2, 1), p, 0, d).status, DefragStatus::Pending);
    d.check(5);
    EXPECT_EQ(r.push(frag(5, 2, 1), p, 0, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.in_use(), 1u);
    d.check(6);
    EXPECT_EQ(r.push(frag(6, 2, 1), p, 0, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.push(frag(5, 2, 2), p, 0, d).status, DefragStatus::Complete);
}

// The caller can take the buffer of a completed datagram (in exchange for
// another) and keep it while later datagrams are reassembled.
TEST(Defrag, CompletedBufferTakenInExchange) {
    auto a = pattern(2500, 1), b = pattern(2500, 2);
    Dedup d;
    Reassembler r;
    std::unique_ptr<uint8_t[]> none;
    auto spare = std::make_unique<uint8_t[]>(kMaxPacketSize);
    const uint8_t* spare_addr = spare.get();
    EXPECT_FALSE(r.take_completed(spare)) << "nothing completed yet";

    auto fa = Fragmenter::make(frag(7, 0, 0), a, 1000).value();
    ASSERT_EQ(rx(d, r, fa[0]).status, DefragStatus::Pending);
    EXPECT_FALSE(r.take_completed(spare)) << "pending is not complete";
    ASSERT_EQ(rx(d, r, fa[1]).status, DefragStatus::Pending);
    DefragResult done = rx(d, r, fa[2]);
    ASSERT_EQ(done.status, DefragStatus::Complete);
    EXPECT_FALSE(r.take_completed(none)) << "null buffer refused";
    ASSERT_TRUE(r.take_completed(spare));
    EXPECT_EQ(spare.get(), done.datagram.data()) << "the datagram's own buffer";
    EXPECT_FALSE(r.take_completed(spare)) << "taken once";
    d.mark(7);

    // Many more datagrams through every slot: the taken one stays intact.
    for (SeqNum seq = 8; seq < 8 + 2 * kDefragBuffers; ++seq) {
        auto fb = Fragmenter::make(frag(seq, 0, 0), b, 1000).value();
        DefragResult res;
        for (uint8_t k = 0; k < fb.count(); ++k) res = rx(d, r, fb[k]);
        ASSERT_EQ(res.status, DefragStatus::Complete);
        EXPECT_NE(res.datagram.data(), spare.get());
        ASSERT_TRUE(std::equal(res.datagram.begin(), res.datagram.end(), b.begin(), b.end()));
        d.mark(seq);
    }
    EXPECT_TRUE(std::equal(spare.get(), spare.get() + a.size(), a.begin(), a.end()));
    EXPECT_NE(spare_addr, spare.get());

    // An unfragmented datagram leaves nothing to take.
    ASSERT_EQ(rx(d, r, Fragmenter::make(frag(200, 0, 0), a, 4000).value()[0]).status,
              DefragStatus::Complete);
    EXPECT_FALSE(r.take_completed(spare));
}

TEST(Defrag, OldestSlotReusedWhenFull) {
    Dedup d;
    Reassembler r;
    auto p = pattern(100);
    d.check(10 + kDefragBuffers);
    for (SeqNum s = 10; s < 10 + kDefragBuffers; ++s) {
        ASSERT_EQ(r.push(frag(s, 2, 1), p, 1000 + s, d).status, DefragStatus::Pending);
    }
    EXPECT_EQ(r.in_use(), kDefragBuffers);
    // Refresh seq 10 so seq 11 becomes the oldest.
    EXPECT_EQ(r.push(frag(10, 3, 1), p, 5000, d).reason, DefragDrop::FragNumMismatch);
    ASSERT_EQ(r.push(frag(10 + kDefragBuffers, 2, 1), p, 6000, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.in_use(), kDefragBuffers);
    EXPECT_EQ(r.push(frag(11, 2, 2), p, 7000, d).reason, DefragDrop::Stale);
    auto done = r.push(frag(10, 2, 2), p, 7000, d);
    EXPECT_EQ(done.status, DefragStatus::Complete);
}

TEST(Defrag, AgeTimeoutWithSimulatedTime) {
    Dedup d;
    Reassembler r(/*max_age_ns=*/1'000'000'000);
    auto p = pattern(100);
    d.check(50);
    EXPECT_EQ(r.push(frag(50, 2, 1), p, 1'000, d).status, DefragStatus::Pending);
    d.check(51);
    EXPECT_EQ(r.push(frag(51, 2, 1), p, 2'000'000'000, d).status, DefragStatus::Pending);
    EXPECT_EQ(r.in_use(), 1u);  // 50 expired
    EXPECT_EQ(r.push(frag(50, 2, 2), p, 2'000'000'001, d).reason, DefragDrop::Stale);
}

TEST(Defrag, PeerRestartDropsReassembly) {
    Dedup d;
    Reassembler r;
    auto p = pattern(100);
    d.check(40);
    EXPECT_EQ(r.push(frag(40, 2, 1), p, 0, d).status, DefragStatus::Pending);
    EXPECT_FALSE(d.on_ping(40, true));
    EXPECT_TRUE(d.on_ping(0, true));  // peer restarted
    // The restarted peer reuses seq numbers; a fresh reassembly starts.
    d.check(40);
    EXPECT_EQ(r.push(frag(40, 2, 2), std::span<const uint8_t>(p.data(), 10), 0, d).status,
              DefragStatus::Pending);
    EXPECT_EQ(r.in_use(), 1u);
}

TEST(Defrag, RandomFragmentsNeverCrash) {
    std::mt19937 rng(777);
    Dedup d;
    Reassembler r(50'000);
    std::vector<uint8_t> buf(70000);
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    size_t completed = 0;
    for (int i = 0; i < 20000; ++i) {
        DataHeader h;
        h.seq = static_cast<SeqNum>(rng() % 64);
        h.frag_num = static_cast<uint8_t>(rng() % 8);
        h.frag_seq = static_cast<uint8_t>(rng() % 9);
        if (i % 100 == 0) {
            h.frag_num = static_cast<uint8_t>(rng());
            h.frag_seq = static_cast<uint8_t>(rng());
        }
        size_t len = (i % 50 == 0) ? rng() % buf.size() : rng() % 40000;
        d.check(h.seq);
        auto res = r.push(h, std::span<const uint8_t>(buf.data(), len), static_cast<uint64_t>(i) * 1000, d);
        if (res.status == DefragStatus::Complete) {
            ++completed;
            ASSERT_LE(res.datagram.size(), kMaxPacketSize);
        }
        if (i % 997 == 0) d.on_ping(0, (i / 997) % 2 == 0);
    }
    EXPECT_LE(r.in_use(), kDefragBuffers);
    EXPECT_GT(completed, 0u);
}

// ---- fragments lent for a receive round (Hold::Lend) ----

namespace {

// One receive round: every fragment lent is a heap copy of its own, freed
// when the round ends (after settle()), so that ASan sees any read of a
// fragment the Reassembler should have copied.
struct Round {
    std::vector<std::unique_ptr<std::vector<uint8_t>>> held;
    std::span<const uint8_t> lend(std::span<const uint8_t> p) {
        held.push_back(std::make_unique<std::vector<uint8_t>>(p.begin(), p.end()));
        return *held.back();
    }
    void end(Reassembler& r) {
        r.settle();
        for (auto& v : held) std::fill(v->begin(), v->end(), uint8_t{0xEE});
        held.clear();
    }
};

std::vector<uint8_t> joined(Reassembler& r, bool* in_buffer = nullptr) {
    std::vector<std::span<const uint8_t>> pieces(kMaxFragments);
    bool buffered = false;
    const size_t n = r.completed_pieces(pieces, &buffered);
    if (in_buffer) *in_buffer = buffered;
    std::vector<uint8_t> out;
    for (size_t k = 0; k < n; ++k) out.insert(out.end(), pieces[k].begin(), pieces[k].end());
    return out;
}

}  // namespace

// One Reassembler receiving rounds of lent fragments.
class DefragLend : public ::testing::Test {
protected:
    // The fragments of `data` as datagram `seq` (marked new in the Dedup).
    Fragmenter split(SeqNum seq, const std::vector<uint8_t>& data, size_t mtu) {
        d.check(seq);
        return Fragmenter::make(frag(seq, 0, 0), data, mtu).value();
    }
    // Pushes a copy of `f` that lives until the round ends.
    DefragResult lend(const Fragment& f) {
        return r.push(f.header, round.lend(f.payload), 0, d, Hold::Lend);
    }

    Dedup d;
    Reassembler r;
    Round round;
};

TEST_F(DefragLend, DatagramCompletedInOneRoundIsNotCopied) {
    const auto data = pattern(6000, 3);
    const auto f = split(9, data, 1400);
    ASSERT_EQ(f.count(), 5);
    std::vector<const uint8_t*> where;
    DefragResult res;
    for (uint8_t i = 0; i < f.count(); ++i) {
        const auto lent = round.lend(f[i].payload);
        where.push_back(lent.data());
        res = r.push(f[i].header, lent, 0, d, Hold::Lend);
        EXPECT_TRUE(r.lending());
    }
    ASSERT_EQ(res.status, DefragStatus::Complete);
    EXPECT_TRUE(res.scattered);
    EXPECT_TRUE(res.datagram.empty());
    EXPECT_EQ(res.size, data.size());

    std::vector<std::span<const uint8_t>> pieces(kMaxFragments);
    bool in_buffer = true;
    ASSERT_EQ(r.completed_pieces(pieces, &in_buffer), 5u);
    EXPECT_FALSE(in_buffer);
    for (size_t k = 0; k < 5; ++k) EXPECT_EQ(pieces[k].data(), where[k]);  // no copy
    EXPECT_EQ(joined(r), data);
    // Too small an array: nothing.
    std::vector<std::span<const uint8_t>> few(4);
    EXPECT_EQ(r.completed_pieces(few, nullptr), 0u);

    const auto whole = r.gather_completed();
    EXPECT_EQ(std::vector<uint8_t>(whole.begin(), whole.end()), data);
    round.end(r);
    EXPECT_FALSE(r.lending());
    EXPECT_EQ(r.in_use(), 0u);
}

TEST_F(DefragLend, FragmentsLentInEarlierRoundsAreCopiedBySettle) {
    const auto data = pattern(7000, 5);
    const auto f = split(3, data, 1000);
    ASSERT_EQ(f.count(), 7);
    // Last fragment first (parked at settle: the fragment size is unknown),
    // then two more rounds.
    const uint8_t order[] = {6, 0, 2, 5, 1, 4, 3};
    const int round_end_after[] = {0, 3};
    DefragResult res;
    for (int i = 0; i < 7; ++i) {
        res = lend(f[order[i]]);
        if (std::find(std::begin(round_end_after), std::end(round_end_after), i) !=
            std::end(round_end_after))
            round.end(r);
    }
    ASSERT_EQ(res.status, DefragStatus::Complete);
    ASSERT_TRUE(res.scattered);  // the last three pushed (order[4..6]) are still lent
    bool in_buffer = false;
    EXPECT_EQ(joined(r, &in_buffer), data);
    EXPECT_TRUE(in_buffer);
    const auto whole = r.gather_completed();
    EXPECT_EQ(std::vector<uint8_t>(whole.begin(), whole.end()), data);
    round.end(r);
}

TEST_F(DefragLend, SettledDatagramCompletesUnscattered) {
    const auto data = pattern(3000, 7);
    const auto f = split(4, data, 1400);
    ASSERT_EQ(f.count(), 3);
    EXPECT_EQ(lend(f[2]).status,
              DefragStatus::Pending);
    EXPECT_EQ(lend(f[0]).status,
              DefragStatus::Pending);
    round.end(r);
    // The last piece arrives copied: nothing is lent any more.
    auto res = r.push(f[1].header, f[1].payload, 0, d);
    ASSERT_EQ(res.status, DefragStatus::Complete);
    EXPECT_FALSE(res.scattered);
    EXPECT_EQ(std::vector<uint8_t>(res.datagram.begin(), res.datagram.end()), data);
}

TEST_F(DefragLend, TakenBufferKeepsTheBufferedPieces) {
    const auto data = pattern(4000, 9);
    const auto f = split(2, data, 1400);
    lend(f[0]);
    round.end(r);
    lend(f[1]);
    auto res = lend(f[2]);
    ASSERT_TRUE(res.scattered);
    std::vector<std::span<const uint8_t>> pieces(kMaxFragments);
    bool in_buffer = false;
    const size_t n = r.completed_pieces(pieces, &in_buffer);
    ASSERT_EQ(n, 3u);
    EXPECT_TRUE(in_buffer);
    auto mine = std::make_unique_for_overwrite<uint8_t[]>(kMaxPacketSize);
    ASSERT_TRUE(r.take_completed(mine));
    EXPECT_EQ(pieces[0].data(), mine.get());  // the first fragment's place in the taken buffer
    // The Reassembler goes on with the buffer it got; the pieces stay.
    const auto other = pattern(3000, 1);
    const auto g = Fragmenter::make(frag(3, 0, 0), other, 1400).value();
    d.check(3);
    for (uint8_t i = 0; i < g.count(); ++i) r.push(g[i].header, g[i].payload, 0, d);
    std::vector<uint8_t> out;
    for (size_t k = 0; k < n; ++k) out.insert(out.end(), pieces[k].begin(), pieces[k].end());
    EXPECT_EQ(out, data);
    round.end(r);
}

TEST_F(DefragLend, SettleEndsTheCompletedDatagram) {
    const auto data = pattern(2000);
    const auto f = split(1, data, 1400);
    lend(f[0]);
    ASSERT_TRUE(lend(f[1]).scattered);
    round.end(r);
    std::vector<std::span<const uint8_t>> pieces(kMaxFragments);
    EXPECT_EQ(r.completed_pieces(pieces, nullptr), 0u);
    EXPECT_TRUE(r.gather_completed().empty());
}

TEST_F(DefragLend, ClearDropsLentFragments) {
    const auto data = pattern(3000);
    const auto f = split(1, data, 1400);
    lend(f[0]);
    r.clear();
    EXPECT_FALSE(r.lending());
    EXPECT_EQ(r.in_use(), 0u);
    round.end(r);
}

// Random datagrams, random fragment orders, each fragment copied or lent at
// random, rounds ending at random (the lent memory is then wiped and freed),
// several datagrams interleaved: every datagram comes out whole, whether
// read in pieces or gathered.
TEST_F(DefragLend, RandomRoundsAlwaysReassembleExactly) {
    std::mt19937 rng(4242);
    size_t done = 0, sent = 0;
    for (int trial = 0; trial < 400; ++trial) {
        const int count = 1 + static_cast<int>(rng() % 3);  // datagrams interleaved
        sent += static_cast<size_t>(count);
        std::vector<std::vector<uint8_t>> datas;
        std::vector<Fragment> all;
        for (int k = 0; k < count; ++k) {
            datas.push_back(pattern(100 + rng() % 20000, static_cast<uint8_t>(rng())));
        }
        std::vector<Fragmenter> frs;
        for (int k = 0; k < count; ++k) {
            const SeqNum seq = static_cast<SeqNum>(trial * 4 + k + 1);
            d.check(seq);
            frs.push_back(Fragmenter::make(frag(seq, 0, 0), datas[k], 200 + rng() % 3000).value());
            for (uint8_t i = 0; i < frs.back().count(); ++i) all.push_back(frs.back()[i]);
        }
        std::shuffle(all.begin(), all.end(), rng);
        for (const Fragment& fr : all) {
            const auto res = rng() % 3 != 0 ? lend(fr) : r.push(fr.header, fr.payload, 0, d);
            if (res.status == DefragStatus::Complete) {
                const auto& want = datas[static_cast<size_t>(fr.header.seq - (trial * 4 + 1))];
                ASSERT_EQ(res.size, want.size());
                if (!res.scattered) {
                    ASSERT_EQ(std::vector<uint8_t>(res.datagram.begin(), res.datagram.end()), want);
                } else if (rng() % 2) {
                    ASSERT_EQ(joined(r), want);
                } else {
                    const auto whole = r.gather_completed();
                    ASSERT_EQ(std::vector<uint8_t>(whole.begin(), whole.end()), want);
                }
                d.mark(fr.header.seq);
                ++done;
            } else {
                ASSERT_EQ(res.status, DefragStatus::Pending);
            }
            if (rng() % 4 == 0) round.end(r);
        }
    }
    round.end(r);
    EXPECT_EQ(done, sent);
    EXPECT_EQ(r.in_use(), 0u);
}
