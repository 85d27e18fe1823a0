// Writes the seed corpus: gen_corpus <out dir> [<proto vectors dir>]
// (tests/fuzz/corpus is its committed output; re-run it after a wire change:
//  build-fuzz/tests/fuzz/fuzz_gen_corpus tests/fuzz/corpus tests/unit/proto/vectors)
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "compress/compress.h"
#include "crypto/crypto.h"
#include "fuzz_common.h"
#include "proto/fragment.h"
#include "proto/wire.h"

using namespace knet;
using namespace knet::proto;
using Bytes = std::vector<uint8_t>;
namespace fs = std::filesystem;

static fs::path g_out;

static void put(const char* target, const std::string& name, const Bytes& b) {
    fs::create_directories(g_out / target);
    std::ofstream(g_out / target / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

static Bytes data_pkt(uint16_t seq, uint8_t num, uint8_t fseq, const Bytes& user) {
    DataHeader h;
    h.seq = seq, h.frag_num = num, h.frag_seq = fseq, h.channel = 1;
    Bytes b(kDataHeaderSize + user.size());
    b.resize(encode_data(b, 2, h, user));
    return b;
}

// ---- reassembly records (format in fuzz_common.h) ----
static void rec(Bytes& s, uint8_t tick, uint16_t seq, uint8_t num, uint8_t fseq, uint16_t len) {
    Bytes head = data_pkt(seq, num, fseq, {});
    s.insert(s.end(), {tick, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
    s.insert(s.end(), head.begin(), head.end());
}
static void rec_ping(Bytes& s, uint8_t tick, uint16_t seq, bool timed) {
    PingPayload p;
    p.seq = seq, p.timed = timed;
    Bytes b(kPingPacketSize);
    encode_ping(b, PacketType::Ping, 2, p);
    const uint16_t len = static_cast<uint16_t>(fuzz::kRawPayload | (b.size() - 14));
    s.insert(s.end(), {tick, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
    s.insert(s.end(), b.begin(), b.end());
}
// round_len: with lent fragments (options bit 1), records per receive round
// (a record with tick 0 stays in the round of the one before).
static void datagram(Bytes& s, uint16_t seq, size_t total, size_t mtu, bool reverse = false,
                     unsigned round_len = 1) {
    const uint8_t n = static_cast<uint8_t>((total + mtu - 1) / mtu);
    for (unsigned k = 0; k < n; ++k) {
        const unsigned i = reverse ? n - 1 - k : k;
        const size_t len = i + 1 < n ? mtu : total - i * mtu;
        const uint8_t tick = k % round_len == 0 ? 1 : 0;
        rec(s, tick, seq, n, n == 1 ? 0 : static_cast<uint8_t>(i + 1), static_cast<uint16_t>(len));
    }
}

static void reassembly() {
    Bytes s{0};
    datagram(s, 1, 100, 1400);
    put("reassembly", "single", s);
    s = {0};
    datagram(s, 2, 3000, 482);
    put("reassembly", "seven_in_order", s);
    s = {1};
    datagram(s, 3, 3000, 482, true);
    datagram(s, 3, 3000, 482);  // duplicates / stale
    put("reassembly", "reverse_then_dup", s);
    s = {0};
    datagram(s, 4, 65536, 482);
    put("reassembly", "max_size_136_frags", s);
    s = {0};
    rec(s, 1, 5, 2, 1, 40000);
    rec(s, 1, 5, 2, 2, 40000);
    put("reassembly", "too_large", s);
    s = {1};
    rec(s, 1, 6, 3, 3, 10);
    rec(s, 1, 7, 3, 1, 500);
    rec_ping(s, 1, 0, true);
    rec_ping(s, 1, 9, false);
    rec(s, 200, 6, 3, 1, 500);
    rec(s, 1, 6, 3, 2, 500);
    rec(s, 1, 7, 3, 2, 500);
    put("reassembly", "interleaved_ping_age", s);
    s = {0};
    for (uint16_t q : {65534, 65535, 0, 1, 2}) datagram(s, q, 1000, 400);
    put("reassembly", "seq_wrap", s);
    s = {0};
    for (uint16_t q = 10; q < 50; ++q) rec(s, 1, q, 2, 1, 300);  // > kDefragBuffers open
    for (uint16_t q = 10; q < 50; ++q) rec(s, 1, q, 2, 2, 100);
    put("reassembly", "many_slots", s);
    // Lent fragments: a whole datagram in one round, then rounds of 3, last
    // fragment first, and two datagrams interleaved within rounds.
    s = {2};
    datagram(s, 1, 3000, 482, false, 7);
    put("reassembly", "lent_one_round", s);
    s = {3};
    datagram(s, 2, 3000, 482, true, 3);
    datagram(s, 2, 3000, 482, false, 3);  // duplicates / stale
    put("reassembly", "lent_rounds_reverse", s);
    s = {2};
    rec(s, 1, 8, 3, 3, 10);
    rec(s, 0, 9, 2, 1, 700);
    rec(s, 0, 8, 3, 1, 500);
    rec_ping(s, 0, 9, false);
    rec(s, 1, 9, 2, 2, 700);
    rec(s, 0, 8, 3, 2, 500);
    put("reassembly", "lent_interleaved", s);
}

static void decode_seeds(const char* vectors) {
    put("decode", "data", data_pkt(7, 1, 0, Bytes(64, 0x5a)));
    put("decode", "data_empty", data_pkt(8, 1, 0, {}));
    put("decode", "data_frag", data_pkt(9, 3, 2, Bytes(482, 1)));
    PingPayload p;
    p.link = 3, p.seq = 4242, p.timed = 1, p.time = ping_time_from_ns(123456789);
    for (auto t : {PacketType::Ping, PacketType::Pong}) {
        Bytes b(kPingPacketSize);
        encode_ping(b, t, 5, p);
        put("decode", t == PacketType::Ping ? "ping" : "pong", b);
    }
    PmtudPayload m;
    m.link = 1, m.size = 1500;
    Bytes b(1500);
    b.resize(encode_pmtud(b, PacketType::Pmtud, 3, m, 100));
    put("decode", "pmtud", b);
    b.assign(kPmtudHeaderSize, 0);
    encode_pmtud(b, PacketType::PmtudReply, 3, m);
    put("decode", "pmtud_reply", b);
    put("decode", "bad_version", {2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    put("decode", "bad_link", {1, 0x81, 0, 1, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    if (vectors)
        for (const auto& e : fs::directory_iterator(vectors))
            if (e.path().extension() == ".bin") fs::copy_file(e.path(), g_out / "decode" / e.path().filename(), fs::copy_options::overwrite_existing);
}

static void decrypt_seeds() {
    for (int which = 0; which < 2; ++which) {
        knet_handle_crypto_cfg cfg;
        fuzz::fill_key(cfg, which ? "nss" : "openssl");
        auto inst = crypto::create(cfg, nullptr);
        if (!inst.ok()) continue;
        const std::string model = which ? "nss" : "openssl";
        for (size_t len : {1, 15, 16, 100, 1500}) {
            Bytes clear = data_pkt(static_cast<uint16_t>(len), 1, 0, Bytes(len, 0x33));
            Bytes wire(clear.size() + inst.value()->overhead_max());
            size_t n = 0;
            if (!inst.value()->encrypt(clear.data(), clear.size(), wire.data(), wire.size(), &n)) continue;
            wire.resize(n);
            Bytes b{static_cast<uint8_t>(which)};
            b.insert(b.end(), wire.begin(), wire.end());
            put("decrypt", model + "_valid_" + std::to_string(len), b);
            // Authentic mode: the target appends the MAC itself.
            b[0] |= 2;
            b.resize(b.size() - 32);
            put("decrypt", model + "_auth_" + std::to_string(len), b);
            b.back() ^= 0x5a;  // last cipher block garbled: bad padding
            put("decrypt", model + "_auth_badpad_" + std::to_string(len), b);
            b.resize(b.size() - 5);  // not a whole number of blocks
            put("decrypt", model + "_auth_partial_" + std::to_string(len), b);
        }
        put("decrypt", model + "_short", {static_cast<uint8_t>(which), 1, 2, 3});
    }
}

static void decompress_seeds() {
    const int levels[] = {0, 6, 1, 9, 1, 6, 9, 3};
    Bytes text;
    for (int i = 0; i < 40; ++i) {
        const char* line = "knet fuzz seed: the quick brown fox jumps over the lazy dog\n";
        text.insert(text.end(), line, line + std::strlen(line));
    }
    Bytes mixed(700);
    for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = static_cast<uint8_t>((i * i) >> 3);
    for (const auto& m : compress::models()) {
        if (!m.built_in) continue;
        knet_handle_compress_cfg cfg{};
        std::strncpy(cfg.compress_model, m.name, sizeof(cfg.compress_model) - 1);
        cfg.compress_threshold = 1;
        cfg.compress_level = levels[m.id];
        auto c = compress::Compressor::create(cfg, nullptr);
        if (!c.ok()) { std::fprintf(stderr, "compressor %s: %d\n", m.name, c.error()); continue; }
        const std::pair<const char*, Bytes> inputs[] = {
            {"text", text}, {"mixed", mixed}, {"zeros64k", Bytes(KNET_MAX_PACKET_SIZE, 0)}};
        for (const auto& [name, in] : inputs) {
            Bytes out(compress::kDataBufSizeCompress);
            auto n = c.value()->compress(in, out);
            if (!n.ok()) continue;
            out.resize(n.value());
            out.insert(out.begin(), m.id);
            put("decompress", std::string(m.name) + "_" + name, out);
        }
    }
    put("decompress", "none", {0, 1, 2, 3});
}

static void acl_seeds() {
    // op, flags, index, ss1 (port + addr), ss2 (port + addr)
    Bytes s = {0, 0x02, 0xff, 0, 0, 10, 0, 0, 0, 0, 0, 255, 0, 0, 0,       // insert mask 10/8 accept
               0, 0x08, 0x00, 0, 0, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0,         // insert addr reject first
               0, 0x04, 0xff, 0, 0, 192, 168, 0, 1, 0, 0, 192, 168, 0, 9,  // range
               2, 0x00, 0x00, 0, 0, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0,         // check
               2, 0x00, 0x00, 0, 0, 10, 9, 9, 9, 0, 0, 0, 0, 0, 0,
               2, 0x00, 0x00, 0, 0, 192, 168, 0, 5, 0, 0, 0, 0, 0, 0,
               1, 0x08, 0x00, 0, 0, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0,         // remove
               2, 0x00, 0x00, 0, 0, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0};
    put("acl", "v4_rules", s);
    Bytes v6 = {0, 0x23, 0xff, 0, 1};
    for (int i = 0; i < 16; ++i) v6.push_back(i < 2 ? 0xfd : 0);
    v6.insert(v6.end(), {0, 0});
    for (int i = 0; i < 16; ++i) v6.push_back(i < 8 ? 0xff : 0);
    v6.insert(v6.end(), {2, 0x01, 0, 0, 0});
    for (int i = 0; i < 16; ++i) v6.push_back(i < 2 ? 0xfd : i);
    v6.insert(v6.end(), {0, 0, 0, 0, 0, 0});
    put("acl", "v6_mask", v6);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <out dir> [<proto vectors dir>]\n", argv[0]);
        return 2;
    }
    g_out = argv[1];
    reassembly();
    decode_seeds(argc > 2 ? argv[2] : nullptr);
    decrypt_seeds();
    decompress_seeds();
    acl_seeds();
    return 0;
}
