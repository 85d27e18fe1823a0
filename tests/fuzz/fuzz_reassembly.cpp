// A byte stream read as a sequence of packets (format in fuzz_common.h) fed
// through decode -> Dedup -> Reassembler::push on a simulated clock, as the
// receive path does.  Invariants: a completed datagram is 1..KNET_MAX_PACKET_SIZE
// bytes and holds exactly its fragments in order; at most kDefragBuffers slots.
// Options bit 1: fragments are lent (Hold::Lend), as the receive path does;
// a record that moves the clock starts a new receive round, and the packets
// of the round before are wiped and freed after settle() (ASan sees any
// fragment the Reassembler kept a pointer to).
#include <algorithm>
#include <vector>

#include "fuzz_common.h"
#include "proto/defrag.h"

using namespace knet::proto;
using namespace knet::fuzz;

static void check_datagram(std::span<const uint8_t> d, const DataHeader& h) {
    FUZZ_CHECK(!d.empty() && d.size() <= KNET_MAX_PACKET_SIZE);
    if (h.frag_num == 1) {
        for (uint8_t b : d) FUZZ_CHECK(b == static_cast<uint8_t>(h.frag_seq + h.seq));
        return;
    }
    size_t pos = 0, run0 = 0;  // runs of (k + seq) for k = 1..frag_num, equal but the last
    for (unsigned k = 1; k <= h.frag_num; ++k) {
        size_t run = 0;
        while (pos < d.size() && d[pos] == static_cast<uint8_t>(k + h.seq)) ++pos, ++run;
        FUZZ_CHECK(run > 0);
        if (k == 1) run0 = run;
        FUZZ_CHECK(k == h.frag_num ? run <= run0 : run == run0);
    }
    FUZZ_CHECK(pos == d.size());
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    Dedup seen;
    Reassembler ras((data[0] & 1) ? kMaxAgeNs : 0);
    uint64_t now = 1'000'000'000;
    bool raw = false;  // some DATA payload came from the input: no pattern check
    const bool lend = (data[0] & 2) != 0;
    std::vector<std::vector<uint8_t>> round;  // packets lent this round
    auto end_round = [&] {
        ras.settle();
        for (auto& v : round) std::fill(v.begin(), v.end(), uint8_t{0xEE});
        round.clear();
    };
    std::vector<uint8_t> pkt;
    std::vector<std::span<const uint8_t>> pieces(kMaxFragments);
    std::vector<uint8_t> joined;
    for (size_t i = 1; i + kRecordHead <= size;) {
        if (!lend || data[i] != 0) end_round();
        now += data[i] * kTickNs;
        const uint16_t len = static_cast<uint16_t>(data[i + 1] << 8 | data[i + 2]);
        const uint8_t* head = data + i + 3;
        i += kRecordHead;
        pkt.assign(head, head + 14);
        if (len & kRawPayload) {
            const size_t n = std::min<size_t>(len & ~kRawPayload, size - i);
            pkt.insert(pkt.end(), data + i, data + i + n);
            i += n;
        } else {
            pkt.resize(14 + len, static_cast<uint8_t>(head[12] + (head[6] << 8 | head[7])));
        }
        round.emplace_back(pkt);  // exactly sized: overreads are caught
        const DecodeResult r = decode(round.back());
        if (!r.ok()) continue;
        if (r.packet.header.type == PacketType::Ping) {
            seen.on_ping(r.packet.ping.seq, r.packet.ping.timed != 0);
            continue;
        }
        if (r.packet.header.type != PacketType::Data) continue;
        raw |= (len & kRawPayload) != 0;
        const DataHeader& h = r.packet.data;
        seen.note_data();
        if (!seen.check(h.seq)) continue;
        const DefragResult d =
            ras.push(h, r.packet.user_data, now, seen, lend ? Hold::Lend : Hold::Copy);
        FUZZ_CHECK(ras.in_use() <= kDefragBuffers);
        if (d.status == DefragStatus::Complete) {
            std::span<const uint8_t> whole = d.datagram;
            if (d.scattered) {
                FUZZ_CHECK(lend && d.datagram.empty());
                if (h.seq & 1) {
                    const size_t n = ras.completed_pieces(pieces, nullptr);
                    FUZZ_CHECK(n >= 1 && n <= h.frag_num);
                    joined.clear();
                    for (size_t k = 0; k < n; ++k)
                        joined.insert(joined.end(), pieces[k].begin(), pieces[k].end());
                    whole = joined;
                } else {
                    whole = ras.gather_completed();
                }
            }
            FUZZ_CHECK(whole.size() == d.size);
            FUZZ_CHECK(!whole.empty() && whole.size() <= KNET_MAX_PACKET_SIZE);
            if (!raw) check_datagram(whole, h);
            seen.mark(h.seq);
        } else {
            FUZZ_CHECK(d.datagram.empty());
            FUZZ_CHECK((d.status == DefragStatus::Dropped) == (d.reason != DefragDrop::None));
        }
    }
    end_round();
    return 0;
}
