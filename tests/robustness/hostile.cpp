// Hostile packets against a running handle of ours.
//
// Topology (addresses 127.R.R.x, random per process):
//   A  (host 1, .1)  <-- real link -->  B (host 2, .2)        legit traffic
//   A  <-- static link -->  F (host 3, .3): a FakePeer socket answering A's
//                            pings, so host 3 is reachable and its forged
//                            DATA reaches dedup/defrag/decompress
//   X  (.4): attacker socket, an address A knows nothing about
// Every case checks: no crash, the forged thing has no effect, a drop line
// in A's log, and B -> A traffic still arrives intact afterwards.
#include <sys/resource.h>
#include <zlib.h>

#include <map>
#include <set>

#include "common.h"

using namespace rob;
using knet::proto::PacketType;

namespace {

long rss_kb() {
    FILE* f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

class Hostile : public ::testing::Test {
protected:
    virtual bool crypto() const { return false; }

    void SetUp() override {
        a = std::make_unique<Node>(1, 1);
        b = std::make_unique<Node>(2, 2);
        fake = std::make_unique<FakePeer>(3, 3, 0, 1, 0);
        attacker = std::make_unique<FakePeer>(2, 4, 0, 1, 0, false);
        if (crypto()) {
            set_handle_crypto(a->h, "openssl", "aes256", "sha256");
            set_handle_crypto(b->h, "openssl", "aes256", "sha256");
            fake->set_crypto("openssl", "aes256", "sha256");
            attacker->set_crypto("openssl", "aes256", "sha256", 0x11);  // wrong key
        }
        ASSERT_EQ(a->link(2, 0, 2), 0);
        ASSERT_EQ(b->link(1, 0, 1), 0);
        ASSERT_EQ(a->link(3, 0, 3), 0);
        ASSERT_TRUE(wait_until([&] { return a->reachable(2) && b->reachable(1) && a->reachable(3); }, 10))
            << "setup: hosts not reachable";
        fake_ip = net().ip(3);
        x_ip = net().ip(4);
    }
    void TearDown() override {
        fake.reset();
        attacker.reset();
        b.reset();
        a.reset();
    }

    // B sends n numbered messages to A; all must arrive once and intact.
    void expect_legit(const std::string& tag, int n = 50) {
        for (int i = 0; i < n; ++i) {
            std::string m = "legit-" + tag + "-" + std::to_string(i) + std::string(100, 'L');
            ASSERT_EQ(b->send(m.data(), m.size()), static_cast<ssize_t>(m.size()));
        }
        std::set<int> got;
        int dup = 0, bad = 0;
        const std::string prefix = "legit-" + tag + "-";
        // A pause of the machine longer than the 300 ms quiet window must
        // not count as a loss: go on draining (5 s at most) until all came.
        const double end = now_s() + 5.0;
        do {
            drain(*a, 300, [&](const uint8_t* p, size_t len) {
                std::string s(reinterpret_cast<const char*>(p), len);
                if (s.rfind(prefix, 0) != 0) return;
                int id = atoi(s.c_str() + prefix.size());
                std::string want = prefix + std::to_string(id) + std::string(100, 'L');
                if (s != want) ++bad;
                if (!got.insert(id).second) ++dup;
            });
        } while (static_cast<int>(got.size()) < n && now_s() < end);
        EXPECT_EQ(static_cast<int>(got.size()), n) << "legit messages lost after " << tag;
        EXPECT_EQ(dup, 0);
        EXPECT_EQ(bad, 0);
    }

    // Collects what A delivered (any tag) until quiet.
    std::vector<std::string> delivered(int quiet_ms = 200) {
        std::vector<std::string> out;
        drain(*a, quiet_ms, [&](const uint8_t* p, size_t len) {
            out.emplace_back(reinterpret_cast<const char*>(p), len);
        });
        return out;
    }
    static size_t count_prefix(const std::vector<std::string>& v, const std::string& pre) {
        size_t n = 0;
        for (auto& s : v)
            if (s.rfind(pre, 0) == 0) ++n;
        return n;
    }
    // Drop lines reach the log reader asynchronously: wait (bounded, 3 s)
    // until the count has been stable for 300 ms before reporting it.
    size_t drops(const std::string& ip, const std::string& why) {
        auto count = [&] { return a->log.count2("packet from " + ip + ":", "dropped: " + why); };
        size_t last = count();
        const double end = now_s() + 3.0;
        double stable_since = now_s();
        while (now_s() < end && now_s() - stable_since < 0.3) {
            usleep(20000);
            size_t c = count();
            if (c != last) {
                last = c;
                stable_since = now_s();
            }
        }
        return last;
    }

    std::unique_ptr<Node> a, b;
    std::unique_ptr<FakePeer> fake, attacker;
    std::string fake_ip, x_ip;
    uint16_t seq = 100;
};

class HostileCrypto : public Hostile {
protected:
    bool crypto() const override { return true; }
};

TEST_F(Hostile, TruncatedEveryLength) {
    std::string payload(16, 'T');
    for (size_t len = 0; len <= 30; ++len) {
        auto d = fake->data_pkt(static_cast<uint16_t>(1000 + len), payload.data(), payload.size());
        ASSERT_EQ(d.size(), 30u);
        fake->send_raw(d.data(), len);
        auto p = fake->ping_pkt(PacketType::Ping, 3, 0, mono_ns());
        fake->send_raw(p.data(), std::min(len, p.size()));
        attacker->send_raw(d.data(), len);
    }
    // 1..13 bytes of DATA and 1..25 of PING are malformed from the known peer.
    EXPECT_TRUE(a->log.wait_for("dropped: malformed", 13 + 25));
    EXPECT_GE(drops(fake_ip, "malformed"), 13u + 25u);
    // The attacker's are refused (malformed or unknown link), never delivered.
    auto got = delivered();
    // Prefixes of 14..30 bytes are well-formed DATA (0..16 payload bytes):
    // only (possibly empty) prefixes of our payload may come out.
    for (auto& s : got) EXPECT_TRUE(s.empty() || s == payload.substr(0, s.size())) << s;
    EXPECT_LE(got.size(), 17u);
    expect_legit("trunc");
}

TEST_F(Hostile, WrongVersionUnknownTypeBadLink) {
    auto d = fake->data_pkt(seq++, "vvvv", 4);
    auto v = d;
    size_t before = drops(fake_ip, "malformed");
    for (uint8_t ver : {0, 2, 0x41, 0xff}) {
        v[0] = ver;
        fake->send(v);
    }
    for (uint8_t type : {0x01, 0x02, 0x7f, 0x80, 0x85, 0x86, 0xc1, 0xff}) {
        auto t = d;
        t[1] = type;
        fake->send(t);
    }
    for (uint8_t link : {8, 9, 0x7f, 0xff}) {
        auto p = fake->ping_pkt(PacketType::Ping, 3, link, mono_ns());
        fake->send(p);
        auto q = fake->ping_pkt(PacketType::Pong, 3, link, mono_ns());
        fake->send(q);
    }
    EXPECT_TRUE(wait_until([&] { return drops(fake_ip, "malformed") >= before + 4 + 8 + 8; }, 3));
    EXPECT_EQ(count_prefix(delivered(), "vvvv"), 0u);
    EXPECT_TRUE(a->reachable(3));
    expect_legit("ver");
}

TEST_F(Hostile, BadFragmentHeaders) {
    std::vector<uint8_t> chunk(300, 'F');
    memcpy(chunk.data(), "frag", 4);
    // frag_num 0, with frag_seq 0 and 1
    fake->send(fake->data_pkt(seq++, chunk.data(), chunk.size(), 0, 0));
    fake->send(fake->data_pkt(seq++, chunk.data(), chunk.size(), 0, 1));
    // frag_seq beyond frag_num, and frag_seq 0 in a fragmented datagram
    {
        uint16_t s = seq++;
        fake->send(fake->data_pkt(s, chunk.data(), chunk.size(), 3, 4));
        fake->send(fake->data_pkt(s, chunk.data(), chunk.size(), 3, 0));
        fake->send(fake->data_pkt(s, chunk.data(), chunk.size(), 3, 255));
    }
    // frag_num 255: 255 x 300 bytes = 76500 > KNET_MAX_PACKET_SIZE
    {
        uint16_t s = seq++;
        for (int f = 1; f <= 255; ++f) {
            fake->send(fake->data_pkt(s, chunk.data(), chunk.size(), 255, static_cast<uint8_t>(f)));
            if (f % 32 == 0) usleep(1000);
        }
    }
    // 3 fragments of 30000 bytes (90000 > 65536)
    {
        std::vector<uint8_t> big(30000, 'G');
        memcpy(big.data(), "frag", 4);
        uint16_t s = seq++;
        for (int f = 1; f <= 3; ++f)
            fake->send(fake->data_pkt(s, big.data(), big.size(), 3, static_cast<uint8_t>(f)));
    }
    // Inconsistent frag_num between fragments of one datagram.
    {
        uint16_t s = seq++;
        fake->send(fake->data_pkt(s, chunk.data(), chunk.size(), 3, 1));
        fake->send(fake->data_pkt(s, chunk.data(), chunk.size(), 5, 2));
        fake->send(fake->data_pkt(s, chunk.data(), 100, 3, 3));
        fake->send(fake->data_pkt(s, chunk.data(), chunk.size(), 2, 2));
    }
    auto got = delivered(400);
    // At most the inconsistent datagram may complete once (3 fragments, 700
    // or fewer bytes); nothing oversized, nothing from frag_num 0/255.
    size_t n = 0;
    for (auto& m : got)
        if (m.rfind("frag", 0) == 0) {
            ++n;
            EXPECT_LE(m.size(), 700u);
        }
    EXPECT_LE(n, 1u);
    EXPECT_GE(drops(fake_ip, "fragment refused"), 4u);
    printf("bad fragment headers: %zu 'fragment refused' drops, %zu delivered\n",
           drops(fake_ip, "fragment refused"), n);
    expect_legit("frag");
}

TEST_F(Hostile, DuplicatedReorderedOverlappingFragments) {
    // 5 fragments of 1000 bytes, each byte = fragment index + offset pattern.
    std::vector<uint8_t> msg(4700);
    for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<uint8_t>('a' + (i * 7) % 26);
    memcpy(msg.data(), "reasm", 5);
    auto frag = [&](uint16_t s, int f) {
        size_t off = static_cast<size_t>(f - 1) * 1000;
        size_t len = std::min<size_t>(1000, msg.size() - off);
        return fake->data_pkt(s, msg.data() + off, len, 5, static_cast<uint8_t>(f));
    };
    const int order[] = {5, 3, 3, 1, 4, 2, 2, 5, 1};
    for (int round = 0; round < 3; ++round) {
        uint16_t s = seq++;
        for (int f : order) fake->send(frag(s, f));
        for (int f : order) fake->send(frag(s, f));  // whole datagram again after completion
    }
    // Overlap: fragment 2 sent twice with different content/size before
    // fragment 3 completes the datagram.
    {
        uint16_t s = seq++;
        fake->send(frag(s, 1));
        std::vector<uint8_t> other(600, 'Z');
        fake->send(fake->data_pkt(s, other.data(), other.size(), 5, 2));
        fake->send(frag(s, 2));
        fake->send(frag(s, 3));
        fake->send(frag(s, 4));
        fake->send(frag(s, 5));
    }
    auto got = delivered(400);
    size_t exact = 0, total = 0;
    for (auto& m : got)
        if (m.rfind("reasm", 0) == 0) {
            ++total;
            if (m.size() == msg.size() && memcmp(m.data(), msg.data(), msg.size()) == 0) ++exact;
        }
    // The 3 well-formed datagrams arrive once, intact; the overlapped one may
    // be completed by the right fragment 2 (intact) or refused, never corrupted.
    EXPECT_GE(exact, 3u) << "each well-formed datagram delivered once, intact";
    EXPECT_EQ(total, exact) << "a corrupted datagram was delivered";
    EXPECT_LE(total, 4u) << "nothing delivered twice";
    printf("fragments: %zu intact datagrams delivered (3 or 4 expected), %zu duplicate drops\n", exact,
           drops(fake_ip, "duplicate"));
    EXPECT_GE(drops(fake_ip, "duplicate"), 3u);
    expect_legit("reasm");
}

TEST_F(Hostile, ForgedSourceCannotTouchLinks) {
    // Host 5: a static link to an address where nobody answers: stays down.
    ASSERT_EQ(a->link(5, 0, 5), 0);
    const auto before = a->lstatus(2, 0);
    const uint64_t t_end = mono_ns() + 1500000000ULL;
    int sent = 0;
    while (mono_ns() < t_end) {
        const uint64_t t = mono_ns();
        // pings and pongs claiming host 2 / host 5 on every link id
        for (knet_node_id_t host : {2, 5})
            for (uint8_t l = 0; l < KNET_MAX_LINK; ++l) {
                attacker->send(attacker->ping_pkt(PacketType::Ping, host, l, t));
                attacker->send(attacker->ping_pkt(PacketType::Pong, host, l, t - 1000000));  // 1 ms
                attacker->send(attacker->ping_pkt(PacketType::Pong, host, l, t - 900000000ULL));
                sent += 3;
            }
        usleep(2000);
    }
    EXPECT_FALSE(a->connected(5, 0)) << "forged pongs brought a down link up";
    EXPECT_FALSE(a->reachable(5));
    EXPECT_EQ(attacker->pongs_seen(), 0) << "A answered forged pings";
    const auto after = a->lstatus(2, 0);
    EXPECT_TRUE(after.connected);
    // 900 ms forged latencies must not show up in host 2's stats.  Real ones
    // are tens of microseconds on loopback, but a loaded machine under a
    // sanitizer has shown 224 ms: the bound sits between the two.
    EXPECT_LT(after.stats.latency_max, 600000u) << "forged pong altered latency";
    EXPECT_LT(after.latency, 600000u);
    (void)before;
    EXPECT_GE(drops(x_ip, "forged source") + drops(x_ip, "unknown link") + drops(x_ip, "ACL rejected"),
              static_cast<size_t>(sent) / 2);
    printf("forged: %d packets sent, %zu forged-source, %zu unknown-link drops logged\n", sent,
           drops(x_ip, "forged source"), drops(x_ip, "unknown link"));
    expect_legit("forged");
}

TEST_F(Hostile, ForgedDataClaimingHost2) {
    // DATA claiming host 2 from the attacker's address: no link matches.
    for (int i = 0; i < 100; ++i) {
        auto d = attacker->data_pkt(static_cast<uint16_t>(50000 + i), "evil", 4, 1, 0, 0, 0, 2);
        attacker->send(d);
    }
    EXPECT_EQ(count_prefix(delivered(), "evil"), 0u);
    EXPECT_GE(drops(x_ip, "unknown link"), 90u);
    expect_legit("fdata");
}

TEST_F(Hostile, ReplayDropped) {
    auto d = fake->data_pkt(seq++, "replay-plain", 12);
    for (int i = 0; i < 6; ++i) fake->send(d);
    auto got = delivered();
    EXPECT_EQ(count_prefix(got, "replay-plain"), 1u);
    EXPECT_GE(drops(fake_ip, "duplicate"), 5u);
    expect_legit("replay");
}

TEST_F(Hostile, DecompressionBomb) {
    knet_handle_compress_cfg cc{};
    snprintf(cc.compress_model, sizeof cc.compress_model, "zlib");
    cc.compress_threshold = 0;
    cc.compress_level = 1;
    ASSERT_EQ(knet_handle_compress(a->h, &cc), 0);
    // 64 MiB of zeros compresses to ~64 KiB: too big for one packet, so use
    // 16 MiB (~16 KiB compressed) and 1 MiB variants.
    const long rss0 = rss_kb();
    for (size_t out_size : {size_t(65537), size_t(1) << 20, size_t(16) << 20}) {
        std::vector<uint8_t> zeros(out_size, 0);
        uLongf clen = compressBound(out_size);
        std::vector<uint8_t> comp(clen);
        ASSERT_EQ(compress2(comp.data(), &clen, zeros.data(), out_size, 9), Z_OK);
        comp.resize(clen);
        ASSERT_LT(comp.size(), 60000u);
        for (int i = 0; i < 20; ++i) fake->send(fake->data_pkt(seq++, comp.data(), comp.size(), 1, 0, 1));
    }
    // Garbage under every model id, and unknown model ids.
    std::vector<uint8_t> junk(500);
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 31 + 7);
    for (uint8_t model : {1, 2, 3, 4, 5, 6, 7, 8, 99, 255})
        fake->send(fake->data_pkt(seq++, junk.data(), junk.size(), 1, 0, model));
    auto got = delivered(400);
    EXPECT_EQ(got.size(), 0u) << "a bomb or garbage was delivered";
    EXPECT_GE(drops(fake_ip, "decompress failed"), 60u);
    EXPECT_GE(a->log.count("Unable to decompress packet"), 60u);
    const long grow = rss_kb() - rss0;
    printf("decompression bombs: rss growth %ld KiB, %zu decompress drops\n", grow,
           drops(fake_ip, "decompress failed"));
    EXPECT_LT(grow, 64 * 1024);
    // A legit compressed datagram from the same peer still works.
    std::string plain = "zok" + std::string(3000, 'q');
    uLongf clen = compressBound(plain.size());
    std::vector<uint8_t> comp(clen);
    ASSERT_EQ(compress2(comp.data(), &clen, reinterpret_cast<const Bytef*>(plain.data()), plain.size(), 6),
              Z_OK);
    fake->send(fake->data_pkt(seq++, comp.data(), clen, 1, 0, 1));
    got = delivered();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], plain);
    expect_legit("bomb");
}

TEST_F(HostileCrypto, MacFailuresAndClearTraffic) {
    auto clear = fake->data_pkt(seq++, "macbad", 6);
    std::vector<uint8_t> wire;
    {
        // Encrypt without sending: send to a throwaway by encrypting through send()
        // on a sequence we never deliver otherwise, then flip bits in copies.
        FakePeer tmp(3, 9, 0, 9, 1, false);  // targets .9: nobody listens
        tmp.set_crypto("openssl", "aes256", "sha256");
        wire = tmp.send(clear);
    }
    size_t flips = 0;
    for (size_t pos = 0; pos < wire.size(); pos += 3) {
        auto w = wire;
        w[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
        fake->send_raw(w.data(), w.size());
        ++flips;
    }
    // truncated ciphertexts
    for (size_t len : {size_t(1), size_t(16), size_t(31), size_t(32), wire.size() - 1}) {
        fake->send_raw(wire.data(), len);
        ++flips;
    }
    // Clear packets while crypto is required: DATA and a PING.
    fake->send_raw(clear.data(), clear.size());
    auto ping = fake->ping_pkt(PacketType::Ping, 3, 0, mono_ns());
    fake->send_raw(ping.data(), ping.size());
    // Wrong key from the attacker's address, claiming host 2.
    attacker->send(attacker->ping_pkt(PacketType::Ping, 2, 0, mono_ns()));
    EXPECT_TRUE(wait_until([&] { return drops(fake_ip, "decrypt failed") >= flips + 2; }, 3))
        << drops(fake_ip, "decrypt failed") << " of " << flips + 2;
    EXPECT_GE(drops(x_ip, "decrypt failed"), 1u);
    EXPECT_EQ(count_prefix(delivered(), "macbad"), 0u);
    // The original, untouched, is accepted once.
    fake->send_raw(wire.data(), wire.size());
    fake->send_raw(wire.data(), wire.size());
    EXPECT_EQ(count_prefix(delivered(), "macbad"), 1u);
    expect_legit("mac");
}

TEST_F(HostileCrypto, EncryptedReplays) {
    const uint16_t old_seq = seq++;
    auto old_wire = fake->send(fake->data_pkt(old_seq, "oldmsg", 6));
    for (int i = 0; i < 3; ++i) fake->send_raw(old_wire.data(), old_wire.size());
    EXPECT_EQ(count_prefix(delivered(), "oldmsg"), 1u);
    EXPECT_GE(drops(fake_ip, "duplicate"), 3u);
    // Replays inside the 4096-number window are dropped even 4000 later.
    std::atomic<size_t> fill{0};
    std::thread reader([&] {
        drain(*a, 500, [&](const uint8_t* p, size_t n) {
            if (n >= 4 && memcmp(p, "fill", 4) == 0) fill++;
        });
    });
    for (int i = 0; i < 4000; ++i) {
        fake->send(fake->data_pkt(seq++, "fill", 4));
        if (i % 64 == 63) usleep(1000);
    }
    reader.join();
    EXPECT_EQ(fill.load(), 4000u);
    fake->send_raw(old_wire.data(), old_wire.size());
    EXPECT_EQ(count_prefix(delivered(), "oldmsg"), 0u) << "replay inside the window accepted";
    // Beyond the window (>4096 numbers later) libknet 1.x's de-duplication
    // re-centres on the stale number: the reference accepts such a replay
    // once, and so do we (no cryptographic replay counter in the 1.x wire
    // format).  Document it and check it is accepted at most once.
    fill = 0;
    std::thread reader2([&] {
        drain(*a, 500, [&](const uint8_t* p, size_t n) {
            if (n >= 4 && memcmp(p, "fill", 4) == 0) fill++;
        });
    });
    for (int i = 0; i < 1200; ++i) {
        fake->send(fake->data_pkt(seq++, "fill", 4));
        if (i % 64 == 63) usleep(1000);
    }
    reader2.join();
    for (int i = 0; i < 3; ++i) fake->send_raw(old_wire.data(), old_wire.size());
    const size_t late = count_prefix(delivered(), "oldmsg");
    printf("replay of an encrypted packet %u numbers old: delivered %zu time(s) (reference: once)\n",
           static_cast<unsigned>(static_cast<uint16_t>(seq - old_seq)), late);
    EXPECT_LE(late, 1u);
    expect_legit("replay2");
}

}  // namespace

ROB_MAIN()
