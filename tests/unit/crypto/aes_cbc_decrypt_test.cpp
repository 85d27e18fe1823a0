// VAES AES-CBC decryption: byte-identical to OpenSSL EVP aes-N-cbc (no
// padding) for every key size and length (groups of 16 blocks, pairs and the
// odd block), out of place and in place, plus NIST SP 800-38A F.2.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <vector>

#include "crypto/aes_cbc_decrypt.h"
#include "test_util.h"

namespace knet::crypto::test {
namespace {

const EVP_CIPHER* evp_cbc(size_t key_len) {
    return key_len == 16 ? EVP_aes_128_cbc() : key_len == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
}

std::vector<uint8_t> openssl_decrypt(const std::vector<uint8_t>& key, const uint8_t* iv,
                                     const uint8_t* in, size_t len) {
    std::vector<uint8_t> out(len + 16);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    bool ok = ctx && EVP_DecryptInit_ex(ctx, evp_cbc(key.size()), nullptr, key.data(), iv) == 1 &&
              EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
              EVP_DecryptUpdate(ctx, out.data(), &n, in, static_cast<int>(len)) == 1 &&
              EVP_DecryptFinal_ex(ctx, out.data() + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return {};
    out.resize(static_cast<size_t>(n + fin));
    return out;
}

class AesCbcDecryptWide : public ::testing::TestWithParam<size_t> {
protected:
    void SetUp() override {
        if (!aes_cbc_decrypt_wide_supported()) GTEST_SKIP() << "no VAES/AVX2 on this CPU/build";
    }
};

TEST_P(AesCbcDecryptWide, MatchesOpensslForEveryLength) {
    const size_t key_len = GetParam();
    std::mt19937 rng(static_cast<uint32_t>(key_len));
    auto rnd = [&](size_t len) {
        std::vector<uint8_t> v(len);
        for (auto& b : v) b = static_cast<uint8_t>(rng());
        return v;
    };
    const auto key = rnd(key_len);
    AesDecryptKey k;
    ASSERT_TRUE(k.init(key.data(), key.size()));
    EXPECT_EQ(k.rounds(), static_cast<int>(key_len / 4 + 6));

    std::vector<size_t> lengths;
    for (size_t b = 1; b <= 70; ++b) lengths.push_back(b);
    for (size_t b : {255u, 256u, 257u, 4000u, 4096u + 15u}) lengths.push_back(b);
    for (size_t blocks : lengths) {
        SCOPED_TRACE(blocks);
        const auto iv = rnd(16);
        // One spare byte in front: unaligned input and output.
        auto cipher = rnd(1 + blocks * 16);
        const uint8_t* in = cipher.data() + 1;
        const auto want = openssl_decrypt(key, iv.data(), in, blocks * 16);
        ASSERT_EQ(want.size(), blocks * 16);

        std::vector<uint8_t> out(3 + blocks * 16, 0xAA);
        aes_cbc_decrypt_wide(k, iv.data(), in, out.data() + 3, blocks);
        EXPECT_EQ(0, std::memcmp(out.data() + 3, want.data(), want.size()));
        EXPECT_EQ(out[0], 0xAA);  // nothing written before out

        auto inplace = cipher;
        aes_cbc_decrypt_wide(k, iv.data(), inplace.data() + 1, inplace.data() + 1, blocks);
        EXPECT_EQ(0, std::memcmp(inplace.data() + 1, want.data(), want.size()));
    }
}

INSTANTIATE_TEST_SUITE_P(KeySizes, AesCbcDecryptWide, ::testing::Values(16u, 24u, 32u));

// NIST SP 800-38A, F.2.2 / F.2.4 / F.2.6 (CBC-AES{128,192,256}.Decrypt).
TEST(AesCbcDecryptWideKat, Sp800_38a) {
    if (!aes_cbc_decrypt_wide_supported()) GTEST_SKIP() << "no VAES/AVX2 on this CPU/build";
    const auto iv = from_hex(kSp80038aIv);
    const auto plain = from_hex(kSp80038aClear);
    for (const CbcVector& c : kSp80038aCbc) {
        const auto key = from_hex(c.key);
        const auto cipher = from_hex(c.cipher);
        AesDecryptKey k;
        ASSERT_TRUE(k.init(key.data(), key.size()));
        std::vector<uint8_t> out(cipher.size());
        aes_cbc_decrypt_wide(k, iv.data(), cipher.data(), out.data(), cipher.size() / 16);
        EXPECT_EQ(out, plain);
    }
}

TEST(AesCbcDecryptWideKey, BadLengthsRefused) {
    const uint8_t key[33] = {};
    AesDecryptKey k;
    for (size_t len : {0u, 1u, 15u, 17u, 20u, 31u, 33u}) {
        EXPECT_FALSE(k.init(key, len)) << len;
        EXPECT_EQ(k.rounds(), 0);
    }
    EXPECT_FALSE(k.init(nullptr, 16));
}

}  // namespace
}  // namespace knet::crypto::test
