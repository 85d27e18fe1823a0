// Interleaved HMAC-SHA256: the same digests as OpenSSL's HMAC for every
// message length around the block and padding boundaries, any key length,
// odd and even batch sizes, pairs of unequal lengths; plus RFC 4231 vectors.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <random>
#include <vector>

#include "crypto/sha256_multi.h"

namespace knet::crypto::test {
namespace {

std::vector<uint8_t> openssl_hmac(const std::vector<uint8_t>& key, const uint8_t* data, size_t len) {
    std::vector<uint8_t> mac(EVP_MAX_MD_SIZE);
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, len, mac.data(), &n))
        return {};
    mac.resize(n);
    return mac;
}

std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
}

class HmacSha256Multi : public ::testing::Test {
protected:
    void SetUp() override {
        if (!sha256_multi_supported()) GTEST_SKIP() << "no SHA extensions on this CPU/build";
    }

    // HMACs of all `lens` in one call, each checked against OpenSSL.  x16:
    // through the 16-lane code alone (hmac_sha256_x16) instead of the
    // dispatching hmac_sha256_multi.
    void check_batch(const std::vector<uint8_t>& key, const std::vector<size_t>& lens, std::mt19937& rng,
                     bool x16 = false) {
        HmacSha256Key k;
        ASSERT_TRUE(k.init(key.data(), key.size()));
        std::vector<std::vector<uint8_t>> data, macs;
        for (size_t len : lens) {
            data.push_back(random_bytes(rng, len));
            macs.emplace_back(kSha256Digest + 1, 0xEE);  // one guard byte
        }
        std::vector<HmacMsg> msgs;
        for (size_t i = 0; i < lens.size(); ++i) msgs.push_back({data[i].data(), lens[i], macs[i].data()});
        if (x16)
            ASSERT_TRUE(hmac_sha256_x16(k, msgs.data(), msgs.size()));
        else
            hmac_sha256_multi(k, msgs.data(), msgs.size());
        for (size_t i = 0; i < lens.size(); ++i) {
            const auto want = openssl_hmac(key, data[i].data(), lens[i]);
            ASSERT_EQ(want.size(), kSha256Digest);
            EXPECT_EQ(0, std::memcmp(want.data(), macs[i].data(), kSha256Digest))
                << "message " << i << " of " << lens.size() << ", " << lens[i] << " bytes, key "
                << key.size() << " bytes";
            EXPECT_EQ(0xEE, macs[i][kSha256Digest]) << "wrote past the MAC";
        }
    }
};

TEST_F(HmacSha256Multi, EveryLengthAroundTheBlockBoundaries) {
    std::mt19937 rng(1);
    const auto key = random_bytes(rng, 32);
    for (size_t len = 0; len <= 200; ++len) check_batch(key, {len, len}, rng);
    for (size_t len : {1400u, 8192u, 64000u, 65536u, 65535u}) check_batch(key, {len, len}, rng);
}

TEST_F(HmacSha256Multi, PairsOfUnequalLengths) {
    std::mt19937 rng(2);
    const auto key = random_bytes(rng, 128);
    // One or two tail blocks on either side, one side much longer, empty.
    check_batch(key, {55, 56}, rng);
    check_batch(key, {56, 55}, rng);
    check_batch(key, {0, 64000}, rng);
    check_batch(key, {64000, 3}, rng);
    check_batch(key, {119, 120, 121, 1000, 63, 64, 65}, rng);
    for (int round = 0; round < 50; ++round) {
        std::vector<size_t> lens;
        const size_t n = rng() % 9;
        for (size_t i = 0; i < n; ++i) lens.push_back(rng() % 5000);
        check_batch(key, lens, rng);
    }
}

TEST_F(HmacSha256Multi, AnyKeyLength) {
    std::mt19937 rng(3);
    // knet keys are 128..4096 bytes; longer than a block means hashed first.
    for (size_t key_len : {0u, 1u, 32u, 63u, 64u, 65u, 128u, 1024u, 4096u})
        check_batch(random_bytes(rng, key_len), {100, 1500, 7}, rng);
}

TEST_F(HmacSha256Multi, Rfc4231Vectors) {
    struct Case {
        std::vector<uint8_t> key, data;
        const char* hex;
    };
    const std::string jefe_data = "what do ya want for nothing?";
    const std::string long_data = "Test Using Larger Than Block-Size Key - Hash Key First";
    const Case cases[] = {
        {std::vector<uint8_t>(20, 0x0b), {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'},
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {{'J', 'e', 'f', 'e'}, std::vector<uint8_t>(jefe_data.begin(), jefe_data.end()),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {std::vector<uint8_t>(131, 0xaa), std::vector<uint8_t>(long_data.begin(), long_data.end()),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    };
    for (const Case& c : cases) {
        HmacSha256Key k;
        ASSERT_TRUE(k.init(c.key.data(), c.key.size()));
        uint8_t mac[kSha256Digest];
        HmacMsg m{c.data.data(), c.data.size(), mac};
        hmac_sha256_multi(k, &m, 1);
        char hex[2 * kSha256Digest + 1];
        for (size_t i = 0; i < kSha256Digest; ++i) std::snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        EXPECT_STREQ(c.hex, hex);
    }
}

// Batches large enough for hmac_sha256_multi to hand groups of 16 to the
// lanes (where this CPU prefers them) and the rest to the two streams.
TEST_F(HmacSha256Multi, LargeBatches) {
    std::mt19937 rng(4);
    const auto key = random_bytes(rng, 128);
    for (size_t n : {11u, 12u, 13u, 16u, 17u, 27u, 28u, 32u, 40u}) {
        check_batch(key, std::vector<size_t>(n, 1400), rng);
        std::vector<size_t> lens;
        for (size_t i = 0; i < n; ++i) lens.push_back(rng() % 9000);
        check_batch(key, lens, rng);
    }
    check_batch(key, std::vector<size_t>(32, 64000), rng);
}

class HmacSha256X16 : public HmacSha256Multi {
protected:
    void SetUp() override {
        if (!sha256_x16_supported()) GTEST_SKIP() << "no AVX-512F/BW (or SHA extensions) on this CPU/build";
    }
};

TEST_F(HmacSha256X16, EveryLaneCountAndLength) {
    std::mt19937 rng(5);
    const auto key = random_bytes(rng, 32);
    for (size_t n = 1; n <= kX16Lanes; ++n)
        for (size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 128u, 1400u, 8192u})
            check_batch(key, std::vector<size_t>(n, len), rng, true);
    check_batch(key, std::vector<size_t>(kX16Lanes, 64000), rng, true);
    check_batch(key, std::vector<size_t>(kX16Lanes, 65536), rng, true);
}

TEST_F(HmacSha256X16, UnequalLengths) {
    std::mt19937 rng(6);
    const auto key = random_bytes(rng, 1024);
    // One empty lane holds every lane to the tails; one long lane finishes alone.
    std::vector<size_t> lens(kX16Lanes, 5000);
    lens[7] = 0;
    check_batch(key, lens, rng, true);
    lens.assign(kX16Lanes, 100);
    lens[15] = 64000;
    check_batch(key, lens, rng, true);
    for (int round = 0; round < 50; ++round) {
        lens.clear();
        const size_t n = 1 + rng() % kX16Lanes;
        for (size_t i = 0; i < n; ++i) lens.push_back(rng() % 20000);
        check_batch(key, lens, rng, true);
    }
}

TEST_F(HmacSha256X16, RefusesWhatItCannotDo) {
    HmacSha256Key k;
    uint8_t data[64] = {}, mac[kSha256Digest];
    HmacMsg msgs[kX16Lanes + 1];
    for (auto& m : msgs) m = {data, sizeof data, mac};
    EXPECT_FALSE(hmac_sha256_x16(k, msgs, 1));  // key not initialised
    const uint8_t key[16] = {1};
    ASSERT_TRUE(k.init(key, sizeof key));
    EXPECT_FALSE(hmac_sha256_x16(k, msgs, 0));
    EXPECT_FALSE(hmac_sha256_x16(k, msgs, kX16Lanes + 1));
    EXPECT_TRUE(hmac_sha256_x16(k, msgs, kX16Lanes));
}

TEST_F(HmacSha256Multi, ClearedKeyIsNotReady) {
    HmacSha256Key k;
    EXPECT_FALSE(k.ready());
    const uint8_t key[16] = {1};
    ASSERT_TRUE(k.init(key, sizeof key));
    EXPECT_TRUE(k.ready());
    k.clear();
    EXPECT_FALSE(k.ready());
}

}  // namespace
}  // namespace knet::crypto::test
