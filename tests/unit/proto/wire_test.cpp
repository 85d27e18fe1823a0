// Wire codec: hand-written byte vectors from the layout, packets captured from
// the reference libknet 1.25 (tests/unit/proto/vectors, see README there), and
// a bounded random/truncation robustness run.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "proto/byte_io.h"
#include "proto/defrag.h"
#include "proto/wire.h"

using namespace knet::proto;

namespace {

std::vector<uint8_t> load(const std::string& name) {
    std::ifstream f(std::string(KNET_PROTO_VECTORS_DIR) + "/" + name, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST(ByteIo, ReaderBigEndianAndBounds) {
    const uint8_t b[] = {0x12, 0x34, 0x56, 0x78, 0x9a};
    Reader r(b);
    uint16_t v16 = 0;
    uint32_t v32 = 0;
    EXPECT_TRUE(r.u16be(v16));
    EXPECT_EQ(v16, 0x1234);
    EXPECT_FALSE(r.u32be(v32));  // only 3 left
    EXPECT_FALSE(r.ok());
    uint8_t v8 = 0;
    EXPECT_FALSE(r.u8(v8));      // sticky failure
    EXPECT_EQ(r.consumed(), 2u);
}

TEST(ByteIo, ReaderLittleEndianAndView) {
    const uint8_t b[] = {0xdc, 0x05, 1, 2, 3};
    Reader r(b);
    uint16_t v = 0;
    EXPECT_TRUE(r.u16le(v));
    EXPECT_EQ(v, 1500);
    std::span<const uint8_t> s;
    EXPECT_TRUE(r.view(3, s));
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(s[2], 3);
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_FALSE(r.skip(1));
}

TEST(ByteIo, WriterBounds) {
    std::array<uint8_t, 5> out{};
    Writer w(out);
    EXPECT_TRUE(w.u32be(0x01020304));
    EXPECT_FALSE(w.u16be(0xffff));
    EXPECT_FALSE(w.u8(9));
    EXPECT_EQ(w.written(), 4u);
    EXPECT_EQ(out, (std::array<uint8_t, 5>{1, 2, 3, 4, 0}));
    Writer w2(out);
    EXPECT_TRUE(w2.u16le(0x0102));
    EXPECT_TRUE(w2.fill(3, 0xee));
    EXPECT_EQ(out, (std::array<uint8_t, 5>{2, 1, 0xee, 0xee, 0xee}));
}

TEST(Wire, SizesMatchReference) {
    EXPECT_EQ(kHeaderSize, 6u);
    EXPECT_EQ(kDataHeaderSize, 14u);
    EXPECT_EQ(kPingPacketSize, 26u);
    EXPECT_EQ(kPmtudHeaderSize, 9u);
    EXPECT_EQ(kHeaderAllSize, 26u);
    EXPECT_EQ(kDataBufSize, 65562u);
}

TEST(Wire, EncodeDataHeaderBytes) {
    DataHeader d;
    d.seq = 0x1234;
    d.compress = 3;
    d.bcast = 1;
    d.frag_num = 7;
    d.frag_seq = 2;
    d.channel = -1;
    std::array<uint8_t, 14> out{};
    ASSERT_EQ(encode_data_header(out, 0xabcd, d), 14u);
    const std::array<uint8_t, 14> want = {0x01, 0x00, 0xab, 0xcd, 0, 0, 0x12, 0x34,
                                          3,    0,    1,    7,    2, 0xff};
    EXPECT_EQ(out, want);

    std::array<uint8_t, 13> small{};
    EXPECT_EQ(encode_data_header(small, 1, d), 0u);
}

TEST(Wire, DataRoundTrip) {
    DataHeader d;
    d.seq = 65535;
    d.frag_num = 1;
    d.channel = 31;
    const uint8_t payload[] = {'a', 'b', 'c'};
    std::array<uint8_t, 32> out{};
    size_t n = encode_data(out, 7, d, payload);
    ASSERT_EQ(n, 17u);
    auto res = decode(std::span<const uint8_t>(out.data(), n));
    ASSERT_TRUE(res.ok()) << to_string(res.reason);
    EXPECT_EQ(res.packet.header.type, PacketType::Data);
    EXPECT_EQ(res.packet.header.node, 7);
    EXPECT_EQ(res.packet.data, d);
    ASSERT_EQ(res.packet.user_data.size(), 3u);
    EXPECT_EQ(res.packet.user_data[2], 'c');
}

TEST(Wire, EncodePingBytes) {
    PingPayload p;
    p.link = 5;
    for (size_t i = 0; i < p.time.size(); ++i) p.time[i] = static_cast<uint8_t>(0xa0 + i);
    p.seq = 0x0102;
    p.timed = 1;
    std::array<uint8_t, 26> out{};
    ASSERT_EQ(encode_ping(out, PacketType::Ping, 0x0003, p), 26u);
    const std::array<uint8_t, 26> want = {
        0x01, 0x81, 0x00, 0x03, 0, 0, 5,
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
        0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
        0x01, 0x02, 1};
    EXPECT_EQ(out, want);
    EXPECT_EQ(encode_ping(out, PacketType::Data, 3, p), 0u);
}

TEST(Wire, PongEchoesPing) {
    PingPayload p;
    p.link = 2;
    p.time = ping_time_from_ns(123456789012345ULL);
    p.seq = 999;
    p.timed = 0;
    std::array<uint8_t, 26> ping{}, pong{};
    ASSERT_EQ(encode_ping(ping, PacketType::Ping, 1, p), 26u);
    auto in = decode(ping);
    ASSERT_TRUE(in.ok());
    ASSERT_EQ(encode_ping(pong, PacketType::Pong, 2, in.packet.ping), 26u);
    // Only type and node differ.
    for (size_t i = 0; i < 26; ++i) {
        if (i == 1 || i == 2 || i == 3) continue;
        EXPECT_EQ(ping[i], pong[i]) << "byte " << i;
    }
    EXPECT_EQ(pong[1], 0x82);
    auto back = decode(pong);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.packet.header.type, PacketType::Pong);
    EXPECT_EQ(ping_time_to_ns(back.packet.ping.time), 123456789012345ULL);
}

TEST(Wire, EncodePmtudBytes) {
    PmtudPayload m;
    m.link = 1;
    m.size = 1500;  // 0x05dc, little endian on the wire like the reference
    std::array<uint8_t, 16> out{};
    out.fill(0x55);
    ASSERT_EQ(encode_pmtud(out, PacketType::Pmtud, 0x0102, m, 12), 12u);
    const std::array<uint8_t, 16> want = {0x01, 0x83, 0x01, 0x02, 0, 0, 1, 0xdc,
                                          0x05, 0,    0,    0,    0x55, 0x55, 0x55, 0x55};
    EXPECT_EQ(out, want);
    ASSERT_EQ(encode_pmtud(out, PacketType::PmtudReply, 0x0102, m), 9u);
    EXPECT_EQ(out[1], 0x84);
    auto res = decode(std::span<const uint8_t>(out.data(), 9));
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res.packet.pmtud, m);
    EXPECT_EQ(encode_pmtud(out, PacketType::Pmtud, 1, m, 17), 0u);  // too small
}

TEST(Wire, DecodeRejections) {
    std::array<uint8_t, 26> b{};
    EXPECT_EQ(decode(std::span<const uint8_t>(b.data(), 6)).reason, DropReason::TooShort);

    b = {0x02, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
    EXPECT_EQ(decode(std::span<const uint8_t>(b.data(), 14)).reason, DropReason::BadVersion);

    b[0] = 0x01;
    b[1] = 0x85;
    EXPECT_EQ(decode(b).reason, DropReason::UnknownType);
    b[1] = 0x01;
    EXPECT_EQ(decode(b).reason, DropReason::UnknownType);

    b[1] = 0x00;  // data header needs 14
    EXPECT_EQ(decode(std::span<const uint8_t>(b.data(), 13)).reason, DropReason::Truncated);
    EXPECT_TRUE(decode(std::span<const uint8_t>(b.data(), 14)).ok());

    b[1] = 0x81;  // ping needs 26
    EXPECT_EQ(decode(std::span<const uint8_t>(b.data(), 25)).reason, DropReason::Truncated);
    EXPECT_TRUE(decode(b).ok());
    b[6] = KNET_MAX_LINK;  // link id out of range
    EXPECT_EQ(decode(b).reason, DropReason::BadLinkId);

    b[1] = 0x84;  // pmtud reply needs 9
    b[6] = 0;
    EXPECT_EQ(decode(std::span<const uint8_t>(b.data(), 8)).reason, DropReason::Truncated);
    EXPECT_TRUE(decode(std::span<const uint8_t>(b.data(), 9)).ok());
    b[6] = 200;
    EXPECT_EQ(decode(std::span<const uint8_t>(b.data(), 9)).reason, DropReason::BadLinkId);
}

TEST(Wire, PingTimeHelpers) {
    auto t = ping_time_from_ns(584ULL * 1000000000ULL + 44928267ULL);
    const std::array<uint8_t, 16> want = {0x48, 0x02, 0, 0, 0, 0, 0, 0,
                                          0x0b, 0x8d, 0xad, 0x02, 0, 0, 0, 0};
    EXPECT_EQ(t, want);
    std::array<uint8_t, 16> bad{};
    bad[8] = 0xff;
    bad[9] = 0xff;
    bad[10] = 0xff;
    bad[11] = 0xff;  // nsec > 1e9
    EXPECT_EQ(ping_time_to_ns(bad), 0u);
}

// ---- packets captured from the reference (libknet 1.25, host id 1) ---------

TEST(WireReference, Ping) {
    for (const char* name : {"ref_ping_0.bin", "ref_ping_1.bin", "ref_ping_2.bin"}) {
        auto bytes = load(name);
        ASSERT_EQ(bytes.size(), kPingPacketSize) << name;
        auto res = decode(bytes);
        ASSERT_TRUE(res.ok()) << name << ": " << to_string(res.reason);
        EXPECT_EQ(res.packet.header.type, PacketType::Ping);
        EXPECT_EQ(res.packet.header.node, 1);
        EXPECT_EQ(res.packet.ping.link, 0);
        EXPECT_EQ(res.packet.ping.timed, 1);
        // The timestamp is the sender's CLOCK_MONOTONIC timespec: valid nsec.
        EXPECT_NE(ping_time_to_ns(res.packet.ping.time), 0u);
        // Re-encoding gives the same bytes.
        std::array<uint8_t, 26> out{};
        ASSERT_EQ(encode_ping(out, PacketType::Ping, 1, res.packet.ping), 26u);
        EXPECT_TRUE(std::equal(out.begin(), out.end(), bytes.begin())) << name;
    }
}

TEST(WireReference, SmallDatagram) {
    auto bytes = load("ref_data_0.bin");
    ASSERT_EQ(bytes.size(), 38u);
    auto res = decode(bytes);
    ASSERT_TRUE(res.ok());
    const auto& p = res.packet;
    EXPECT_EQ(p.header.node, 1);
    EXPECT_EQ(p.data.seq, 1);  // first data packet: seq 1 (0 is never used)
    EXPECT_EQ(p.data.compress, 0);
    EXPECT_EQ(p.data.bcast, 1);
    EXPECT_EQ(p.data.frag_num, 1);
    EXPECT_EQ(p.data.frag_seq, 0);
    EXPECT_EQ(p.data.channel, 0);
    EXPECT_EQ(std::string(p.user_data.begin(), p.user_data.end()), "hello from the reference");
    std::vector<uint8_t> out(bytes.size());
    ASSERT_EQ(encode_data(out, 1, p.data, p.user_data), bytes.size());
    EXPECT_EQ(out, bytes);
}

TEST(WireReference, FragmentedDatagramReassembles) {
    // knet_send() of 3000 bytes (byte i = i*7+3) at the reference's data MTU
    // of 482: 6 fragments of 482 bytes and one of 108.
    Dedup seen;
    Reassembler reasm;
    DefragResult last;
    for (int i = 1; i <= 7; ++i) {
        auto bytes = load("ref_data_" + std::to_string(i) + ".bin");
        auto res = decode(bytes);
        ASSERT_TRUE(res.ok());
        const auto& d = res.packet.data;
        EXPECT_EQ(d.seq, 2);
        EXPECT_EQ(d.frag_num, 7);
        EXPECT_EQ(d.frag_seq, i);
        EXPECT_EQ(res.packet.user_data.size(), i < 7 ? 482u : 108u);
        ASSERT_TRUE(seen.check(d.seq));
        last = reasm.push(d, res.packet.user_data, 1000 * i, seen);
        EXPECT_EQ(last.status, i < 7 ? DefragStatus::Pending : DefragStatus::Complete);
    }
    ASSERT_EQ(last.datagram.size(), 3000u);
    for (size_t i = 0; i < 3000; ++i) {
        ASSERT_EQ(last.datagram[i], static_cast<uint8_t>(i * 7 + 3)) << i;
    }
}

TEST(WireReference, PmtudProbeHead) {
    // First 64 bytes of a 65507-byte probe (65535 on the wire with IP+UDP).
    auto bytes = load("ref_pmtud_0_head64_of_65507.bin");
    ASSERT_EQ(bytes.size(), 64u);
    auto res = decode(bytes);
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res.packet.header.type, PacketType::Pmtud);
    EXPECT_EQ(res.packet.header.node, 1);
    EXPECT_EQ(res.packet.pmtud.link, 0);
    EXPECT_EQ(res.packet.pmtud.size, 65535);
    EXPECT_EQ(res.packet.user_data.size(), 64u - kPmtudHeaderSize);
    // Our reply: 9 bytes, same link and size.
    std::array<uint8_t, 9> reply{};
    ASSERT_EQ(encode_pmtud(reply, PacketType::PmtudReply, 2, res.packet.pmtud), 9u);
    const std::array<uint8_t, 9> want = {0x01, 0x84, 0x00, 0x02, 0, 0, 0, 0xff, 0xff};
    EXPECT_EQ(reply, want);
}

// ---- robustness ---------------------------------------------------------------

TEST(WireFuzz, RandomAndTruncatedInputsNeverCrash) {
    std::mt19937 rng(12345);
    std::vector<uint8_t> buf(2048);
    size_t accepted = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        size_t len = rng() % buf.size();
        for (size_t i = 0; i < len; ++i) buf[i] = static_cast<uint8_t>(rng());
        if (iter % 2 == 0 && len > 1) {
            // Bias towards plausible packets so the deep paths run too.
            buf[0] = kVersion;
            const uint8_t types[] = {0x00, 0x81, 0x82, 0x83, 0x84};
            buf[1] = types[rng() % 5];
        }
        auto res = decode(std::span<const uint8_t>(buf.data(), len));
        if (res.ok()) {
            ++accepted;
            const auto& ud = res.packet.user_data;
            if (!ud.empty()) {
                ASSERT_GE(ud.data(), buf.data());
                ASSERT_LE(ud.data() + ud.size(), buf.data() + len);
            }
        }
    }
    EXPECT_GT(accepted, 0u);

    // Every prefix of every captured packet.
    for (const char* name : {"ref_ping_0.bin", "ref_data_0.bin", "ref_data_1.bin",
                             "ref_pmtud_0_head64_of_65507.bin"}) {
        auto bytes = load(name);
        for (size_t n = 0; n <= bytes.size(); ++n) {
            auto res = decode(std::span<const uint8_t>(bytes.data(), n));
            if (n == bytes.size()) {
                EXPECT_TRUE(res.ok()) << name;
            }
        }
    }
}
