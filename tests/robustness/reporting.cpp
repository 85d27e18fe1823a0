// What a handle reports, as libknet reports it.
//
// The data MTU (knet_handle_pmtud_get and the PMTUd notification): the
// minimum until PMTUd has measured the links, back to the minimum when a
// link comes up or the crypto in use changes (the new path or overhead may
// not take the old size), then what the new measurement found, never a
// value measured before the change.  knet_link_status.proto_overhead, filled
// in from the link's first PMTUd run on (man knet_link_get_status).  And the
// handle's crypto and compression counters.
#include <mutex>
#include <vector>

#include "common.h"

using namespace rob;

namespace {

// libknet's minimum data MTU: 576 bytes (the smallest IPv4 MTU) less the
// worst-case IP and transport overhead (IPv6 40 + 8, SCTP 12) and the knet
// data header (34); with aes256+sha256 also the salt (16), the hash (32) and
// the cipher's padding block.
constexpr unsigned kMinDataMtu = 482;
constexpr unsigned kMinDataMtuAes256Sha256 = 421;

struct MtuNotes {
    std::mutex m;
    std::vector<unsigned> seen;
    std::vector<unsigned> get() {
        std::lock_guard g(m);
        return seen;
    }
};

void on_mtu(void* priv, unsigned int mtu) {
    auto* n = static_cast<MtuNotes*>(priv);
    std::lock_guard g(n->m);
    n->seen.push_back(mtu);
}

unsigned data_mtu(const Node& n) {
    unsigned v = 0;
    return knet_handle_pmtud_get(n.h, &v) == 0 ? v : 0;
}

void use_crypto(Node& n) {
    knet_handle_crypto_cfg cfg{};
    snprintf(cfg.crypto_model, sizeof cfg.crypto_model, "openssl");
    snprintf(cfg.crypto_cipher_type, sizeof cfg.crypto_cipher_type, "aes256");
    snprintf(cfg.crypto_hash_type, sizeof cfg.crypto_hash_type, "sha256");
    memset(cfg.private_key, 0x33, sizeof cfg.private_key);
    cfg.private_key_len = 256;
    ASSERT_EQ(knet_handle_crypto_set_config(n.h, &cfg, 1), 0);
    ASSERT_EQ(knet_handle_crypto_use_config(n.h, 1), 0);
}

TEST(DataMtu, MinimumUntilMeasuredAndAfterEachChange) {
    MtuNotes notes;  // outlives the handles that call on_mtu
    Node a(1, 1), b(2, 2);
    EXPECT_EQ(data_mtu(a), kMinDataMtu) << "a new handle reports the minimum";
    ASSERT_EQ(knet_handle_enable_pmtud_notify(a.h, &notes, on_mtu), 0);

    // Configured, not enabled: no PMTUd run yet, so no overhead reported.
    ASSERT_EQ(a.link(2, 0, 2, 0, false), 0);
    EXPECT_EQ(a.lstatus(2, 0).proto_overhead, 0u);
    ASSERT_EQ(b.link(1, 0, 1), 0);
    ASSERT_EQ(knet_link_set_enable(a.h, 2, 0, 1), 0);

    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && data_mtu(a) > kMinDataMtu; }, 10))
        << "PMTUd did not raise the data MTU";
    const unsigned clear_mtu = data_mtu(a);
    const knet_link_status st = a.lstatus(2, 0);
    EXPECT_EQ(st.proto_overhead, 54u) << "IPv4 20 + UDP 8 + knet headers 26";
    EXPECT_EQ(st.mtu, clear_mtu);
    {
        // The link coming up reset the data MTU, then the measurement came
        // (notifications run on the heartbeat thread: they may lag a little).
        ASSERT_TRUE(wait_until([&] { auto v = notes.get(); return !v.empty() && v.back() == clear_mtu; }, 5));
        auto seen = notes.get();
        ASSERT_GE(seen.size(), 2u);
        EXPECT_EQ(seen.front(), kMinDataMtu);
        EXPECT_EQ(seen.back(), clear_mtu);
    }

    // B takes the key first, so that it can answer A's encrypted probes as
    // soon as A switches.  (A probe that B cannot read waits out a long
    // crypto timeout, as in libknet.)
    use_crypto(b);
    const size_t before = notes.get().size();
    use_crypto(a);
    // The reset itself is checked in the notifications below: on loopback
    // the new measurement can be done before this thread reads the value.
    const unsigned right_after = data_mtu(a);
    ASSERT_TRUE(wait_until([&] { return data_mtu(a) > kMinDataMtuAes256Sha256; }, 10))
        << "PMTUd did not measure the links again with crypto";
    // Settled: the last notification is what pmtud_get reports.
    ASSERT_TRUE(wait_until([&] { return notes.get().back() == data_mtu(a); }, 5));
    const unsigned crypto_mtu = data_mtu(a);
    EXPECT_TRUE(right_after == kMinDataMtuAes256Sha256 || right_after == crypto_mtu)
        << "right after the crypto switch: " << right_after << " (the minimum or a value measured with crypto)";
    EXPECT_LT(crypto_mtu, clear_mtu) << "crypto adds overhead";
    EXPECT_EQ(a.lstatus(2, 0).proto_overhead, 54u + 16 + 32) << "plus salt and hash";
    auto seen = notes.get();
    ASSERT_GT(seen.size(), before);
    EXPECT_EQ(seen[before], kMinDataMtuAes256Sha256);
    for (size_t i = before; i < seen.size(); ++i)
        EXPECT_TRUE(seen[i] == kMinDataMtuAes256Sha256 || seen[i] == crypto_mtu)
            << "notification " << i << ": " << seen[i] << " (a value measured before the switch)";
}

// The lines of a link's life as libknet words them: people and scripts
// grep Corosync's log for them.
TEST(LinkLog, UpAndDownLinesAsLibknet) {
    Node a(1, 1), b(2, 2);
    ASSERT_EQ(a.link(2, 0, 2), 0);
    ASSERT_EQ(b.link(1, 0, 1), 0);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && data_mtu(a) > kMinDataMtu; }, 10));
    ASSERT_TRUE(wait_until([&] { return a.log.count("PMTUD link change for host: 2 link: 0 from") > 0; }, 5));
    EXPECT_EQ(a.log.count_exact("host: 2 link: 0 is up"), 1u);
    EXPECT_EQ(a.log.count_exact("Resetting MTU for link 0 because host 2 joined"), 1u);
    EXPECT_EQ(a.log.count_exact("host: 2 (passive) best link: 0 (pri: 0)"), 1u);
    EXPECT_EQ(a.log.count_exact("Global data MTU changed to: " + std::to_string(data_mtu(a))), 1u);

    // No more pongs: down once the pong timeout runs out (about 5 s here:
    // right after a link comes up its timeout is ten times the configured
    // 1 s and shrinks by a second every second).
    b.destroy();
    ASSERT_TRUE(wait_until([&] { return !a.reachable(2); }, 15));
    EXPECT_TRUE(wait_until([&] { return a.log.count_exact("host: 2 link: 0 is down") == 1; }, 3));
    EXPECT_TRUE(wait_until([&] { return a.log.count_exact("host: 2 has no active links") == 1; }, 3));
}

TEST(HandleStats, CryptoAndCompressionCountersAsLibknet) {
    Node a(1, 1), b(2, 2);
    for (Node* n : {&a, &b}) {
        use_crypto(*n);
        knet_handle_compress_cfg cc{};
        snprintf(cc.compress_model, sizeof cc.compress_model, "zlib");
        cc.compress_level = 5;
        ASSERT_EQ(knet_handle_compress(n->h, &cc), 0);
    }
    ASSERT_EQ(a.link(2, 0, 2), 0);
    ASSERT_EQ(b.link(1, 0, 1), 0);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b.reachable(1); }, 10));
    ASSERT_EQ(knet_handle_clear_stats(a.h, KNET_CLEARSTATS_HANDLE_AND_LINK), 0);
    ASSERT_EQ(knet_handle_clear_stats(b.h, KNET_CLEARSTATS_HANDLE_AND_LINK), 0);

    const std::string text(3000, 'z');  // compresses, one fragment each
    constexpr int kMsgs = 20;
    for (int i = 0; i < kMsgs; ++i) ASSERT_EQ(a.send(text.data(), text.size()), 3000);
    int got = 0;
    drain(b, 300, [&](const uint8_t*, size_t len) { got += len == text.size(); });
    ASSERT_EQ(got, kMsgs);
    usleep(250 * 1000);  // at least one ping (100 ms interval) after the data

    const knet_link_status before = a.lstatus(2, 0);
    knet_handle_stats sa{}, sb{};
    ASSERT_EQ(knet_handle_get_stats(a.h, &sa, sizeof sa), 0);
    ASSERT_EQ(knet_handle_get_stats(b.h, &sb, sizeof sb), 0);
    auto sent = [](const knet_link_status& s) {
        return s.stats.tx_data_packets + s.stats.tx_ping_packets + s.stats.tx_pong_packets +
               s.stats.tx_pmtu_packets;
    };
    // Every encrypted packet, the pings, pongs and PMTUd ones included.  A
    // ping or pong is counted as encrypted before sendto() and on its link
    // after it, so a packet in between shows up on the link a moment later
    // (this once read 31 encrypted against 30 sent in CI).
    EXPECT_EQ(before.stats.tx_data_packets, static_cast<uint64_t>(kMsgs));
    EXPECT_GE(sa.tx_crypt_packets, sent(before));
    EXPECT_TRUE(wait_until([&] { return sent(a.lstatus(2, 0)) >= sa.tx_crypt_packets; }, 2))
        << "encrypted " << sa.tx_crypt_packets << ", sent " << sent(a.lstatus(2, 0));
    EXPECT_GT(sa.tx_crypt_packets, static_cast<uint64_t>(kMsgs));

    EXPECT_EQ(sa.tx_compressed_packets, static_cast<uint64_t>(kMsgs));
    EXPECT_EQ(sa.tx_compressed_original_bytes, kMsgs * text.size());
    EXPECT_EQ(sb.rx_compressed_packets, static_cast<uint64_t>(kMsgs));
    EXPECT_EQ(sb.rx_compressed_original_bytes, kMsgs * text.size());
    // The receiver counts the 8 DATA fields of each packet's header too.
    EXPECT_EQ(sb.rx_compressed_size_bytes, sa.tx_compressed_size_bytes + 8u * kMsgs);

    ASSERT_EQ(knet_handle_clear_stats(a.h, KNET_CLEARSTATS_HANDLE_ONLY), 0);
    ASSERT_EQ(knet_handle_get_stats(a.h, &sa, sizeof sa), 0);
    EXPECT_LE(sa.tx_crypt_packets, 2u) << "cleared (a ping or two may have gone since)";
}

}  // namespace

ROB_MAIN()
