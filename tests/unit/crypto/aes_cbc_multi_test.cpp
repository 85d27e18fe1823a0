// Multi-buffer AES-CBC: byte-identical to OpenSSL EVP aes-N-cbc (no padding)
// for every lane, whatever the number and lengths of lanes, plus the
// NIST SP 800-38A CBC known-answer vectors.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "crypto/aes_cbc_multi.h"
#include "test_util.h"

namespace knet::crypto::test {
namespace {

const EVP_CIPHER* evp_cbc(size_t key_len) {
    return key_len == 16 ? EVP_aes_128_cbc() : key_len == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
}

std::vector<uint8_t> openssl_cbc(const std::vector<uint8_t>& key, const uint8_t* iv,
                                 const std::vector<uint8_t>& clear) {
    std::vector<uint8_t> out(clear.size() + 16);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    bool ok = ctx && EVP_EncryptInit_ex(ctx, evp_cbc(key.size()), nullptr, key.data(), iv) == 1 &&
              EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
              EVP_EncryptUpdate(ctx, out.data(), &n, clear.data(), static_cast<int>(clear.size())) == 1 &&
              EVP_EncryptFinal_ex(ctx, out.data() + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return {};
    out.resize(static_cast<size_t>(n + fin));
    return out;
}

class AesCbcMulti : public ::testing::Test {
protected:
    void SetUp() override {
        if (!aes_cbc_multi_supported()) GTEST_SKIP() << "no AES-NI on this CPU/build";
    }

    // check_width() with the default width and with each width this CPU has.
    void check(size_t key_len, const std::vector<size_t>& blocks, uint32_t seed) {
        check_width(key_len, blocks, seed, 0);
        check_width(key_len, blocks, seed, 8);
        if (aes_cbc_multi_width() == 16) check_width(key_len, blocks, seed, 16);
    }

    // Encrypts lanes of the given block counts in one call (data placed at an
    // odd offset so that unaligned access is covered) and compares each lane
    // with OpenSSL.  width 0: aes_cbc_encrypt_multi(), else that width.
    void check_width(size_t key_len, const std::vector<size_t>& blocks, uint32_t seed, size_t width) {
        SCOPED_TRACE("width " + std::to_string(width));
        std::mt19937 rng(seed);
        auto rnd_bytes = [&](size_t len) {
            std::vector<uint8_t> v(len);
            for (auto& b : v) b = static_cast<uint8_t>(rng());
            return v;
        };
        const auto key = rnd_bytes(key_len);
        AesEncryptKey k;
        ASSERT_TRUE(k.init(key.data(), key.size()));
        ASSERT_EQ(k.rounds(), static_cast<int>(key_len / 4 + 6));

        const size_t n = blocks.size();
        std::vector<std::vector<uint8_t>> ivs, clear, buf;
        std::vector<CbcLane> lanes;
        for (size_t i = 0; i < n; ++i) {
            ivs.push_back(rnd_bytes(16));
            clear.push_back(rnd_bytes(blocks[i] * 16));
            buf.push_back(std::vector<uint8_t>(blocks[i] * 16 + 1 + 16));  // +1: misalign, +16: guard
        }
        for (size_t i = 0; i < n; ++i) {
            if (!clear[i].empty()) std::memcpy(buf[i].data() + 1, clear[i].data(), clear[i].size());
            std::memset(buf[i].data() + 1 + clear[i].size(), 0xa5, 16);
            buf[i][0] = 0x5a;
            // Even lanes in place, odd ones read the clear text where it is.
            const uint8_t* in = i % 2 ? clear[i].data() : buf[i].data() + 1;
            lanes.push_back({ivs[i].data(), in, buf[i].data() + 1, blocks[i]});
        }
        const auto clear_before = clear;
        if (width == 0)
            aes_cbc_encrypt_multi(k, lanes.data(), lanes.size());
        else
            ASSERT_TRUE(aes_cbc_encrypt_multi_width(k, lanes.data(), lanes.size(), width));
        EXPECT_EQ(clear, clear_before);  // an input read in place is not written
        for (size_t i = 0; i < n; ++i) {
            const auto want = openssl_cbc(key, ivs[i].data(), clear[i]);
            ASSERT_EQ(want.size(), clear[i].size());
            const std::vector<uint8_t> got(buf[i].begin() + 1, buf[i].begin() + 1 + clear[i].size());
            EXPECT_EQ(got, want) << "key " << key_len * 8 << " lane " << i << "/" << n
                                 << " blocks " << blocks[i];
            EXPECT_EQ(buf[i][0], 0x5a) << "lane " << i;
            for (size_t g = 0; g < 16; ++g)
                EXPECT_EQ(buf[i][1 + clear[i].size() + g], 0xa5) << "lane " << i << " overrun";
        }
    }
};

constexpr size_t kKeyLens[] = {16, 24, 32};

TEST_F(AesCbcMulti, OneLane) {
    for (size_t kl : kKeyLens)
        for (size_t b : {1u, 2u, 7u, 64u, 4000u}) check(kl, {b}, 100 + static_cast<uint32_t>(b));
}

TEST_F(AesCbcMulti, ZeroLanes) {
    AesEncryptKey k;
    const uint8_t key[16] = {};
    ASSERT_TRUE(k.init(key, sizeof(key)));
    aes_cbc_encrypt_multi(k, nullptr, 0);
    check(16, {}, 1);
}

TEST_F(AesCbcMulti, RandomLengthsManyLanes) {
    // Mixed short and long lanes in the same call, so lanes finish at
    // different times and are replaced while others are in flight (every
    // count of chains in flight, odd ones included, for both widths).
    std::mt19937 rng(4242);
    for (size_t kl : kKeyLens)
        for (size_t n = 2; n <= 40; ++n) {
            std::vector<size_t> blocks;
            for (size_t i = 0; i < n; ++i)
                blocks.push_back(rng() % 3 == 0 ? 1 + rng() % 4096 : 1 + rng() % 16);
            check(kl, blocks, static_cast<uint32_t>(kl * 1000 + n));
        }
}

TEST_F(AesCbcMulti, EqualLengths) {
    for (size_t kl : kKeyLens)
        for (size_t n : {2u, 3u, 4u, 7u, 8u, 9u, 15u, 16u, 17u, 33u}) {
            check(kl, std::vector<size_t>(n, 88), static_cast<uint32_t>(n));     // 1400-byte packets
            check(kl, std::vector<size_t>(n, 4000), static_cast<uint32_t>(n + 50));  // 64000 bytes
        }
}

TEST_F(AesCbcMulti, ZeroBlockLanesUntouched) {
    check(32, {0, 5, 0, 0, 1, 300, 0, 2, 3, 4, 5, 6, 7, 0}, 7);
}

TEST_F(AesCbcMulti, IvMayAliasOwnData) {
    // A lane's IV is read before its data is overwritten.
    std::vector<uint8_t> key(32, 0x11), buf(16 * 5);
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 7);
    const std::vector<uint8_t> iv(buf.begin(), buf.begin() + 16);
    const std::vector<uint8_t> clear = buf;
    AesEncryptKey k;
    ASSERT_TRUE(k.init(key.data(), key.size()));
    const CbcLane lane{buf.data(), buf.data(), buf.data(), 5};
    aes_cbc_encrypt_multi(k, &lane, 1);
    EXPECT_EQ(buf, openssl_cbc(key, iv.data(), clear));
}

TEST_F(AesCbcMulti, WidthChoiceAndRefusals) {
    const size_t w = aes_cbc_multi_width();
    EXPECT_TRUE(w == 8 || w == 16) << w;
    AesEncryptKey k;
    const uint8_t key[16] = {};
    uint8_t buf[16] = {};
    const CbcLane lane{buf, buf, buf, 1};
    EXPECT_FALSE(aes_cbc_encrypt_multi_width(k, &lane, 1, 8));  // key not initialised
    EXPECT_EQ(buf[0], 0);
    ASSERT_TRUE(k.init(key, sizeof(key)));
    for (size_t bad : {0u, 1u, 4u, 12u, 32u}) EXPECT_FALSE(aes_cbc_encrypt_multi_width(k, &lane, 1, bad)) << bad;
    EXPECT_EQ(aes_cbc_encrypt_multi_width(k, &lane, 1, 16), w == 16);
    EXPECT_TRUE(aes_cbc_encrypt_multi_width(k, nullptr, 0, 8));
}

TEST_F(AesCbcMulti, KeyInitRejectsBadLengthsAndClears) {
    AesEncryptKey k;
    const uint8_t key[32] = {1};
    for (size_t len : {0u, 8u, 15u, 17u, 20u, 31u, 33u, 64u}) EXPECT_FALSE(k.init(key, len)) << len;
    EXPECT_EQ(k.rounds(), 0);
    ASSERT_TRUE(k.init(key, 32));
    EXPECT_EQ(k.rounds(), 14);
    k.clear();
    EXPECT_EQ(k.rounds(), 0);
    for (size_t i = 0; i < (AesEncryptKey::kMaxRounds + 1) * 16; ++i)
        ASSERT_EQ(k.round_keys()[i], 0) << i;
}

// NIST SP 800-38A, F.2.1 / F.2.3 / F.2.5 (CBC-AES{128,192,256}.Encrypt).
TEST_F(AesCbcMulti, Sp80038aVectors) {
    const char* iv = kSp80038aIv;
    const char* pt = kSp80038aClear;
    for (const auto& v : kSp80038aCbc) {
        const auto key = from_hex(v.key);
        const auto ivb = from_hex(iv);
        AesEncryptKey k;
        ASSERT_TRUE(k.init(key.data(), key.size()));
        // The same vector in 1 lane and in 9 and 17 lanes (more than 8 or
        // 16 in flight), at each width.
        for (size_t width : {8u, 16u}) {
            if (width > aes_cbc_multi_width()) continue;
            for (size_t n : {1u, 9u, 17u}) {
                std::vector<std::vector<uint8_t>> bufs(n, from_hex(pt));
                std::vector<CbcLane> lanes;
                for (auto& b : bufs) lanes.push_back({ivb.data(), b.data(), b.data(), 4});
                ASSERT_TRUE(aes_cbc_encrypt_multi_width(k, lanes.data(), n, width));
                for (const auto& b : bufs)
                    EXPECT_EQ(b, from_hex(v.cipher)) << v.key << " n=" << n << " width " << width;
            }
        }
    }
}

}  // namespace
}  // namespace knet::crypto::test
