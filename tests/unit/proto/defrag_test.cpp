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
