// Known-answer vectors computed outside this code base with the openssl
// command line, following the documented layout:
//   key  = bytes 00 01 02 .. 7f (128 bytes), salt = a0 a1 .. af
//   body = salt | `openssl enc -aes-N-cbc -K <first N/8 key bytes> -iv <salt>`
//          (or the clear text itself with cipher "none")
//   wire = body | `openssl dgst -<hash> -mac HMAC -macopt hexkey:<all 128 key bytes>` of body
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <string>

#include "crypto/crypto.h"
#include "test_util.h"

namespace knet::crypto::test {
namespace {

const std::string kClear = "knet 1.x wire format known answer!!";

struct Vector {
    const char* cipher;
    const char* hash;
    const char* wire_hex;
};

const Vector kVectors[] = {
    {"aes256", "sha256",
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf96ec7b9409264e9de84f28c982a883032872279cc9b762679a5ce7bbeb"
     "448b37fef3884b75289e3cbffd256e3c65e112c780c724e8187454fcc2fbdb826750256587aceddff6e5cdfa6c"
     "2fc7ac517607"},
    {"aes128", "sha1",
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf2449fee84c76b9383ee17854f9067f3d35b394ddf58d678da2715c2809"
     "86a8650865f97c5857805a2da90b3f5af23334c385e7232acc4f154e8af2463f29b2b07ff05678"},
    {"aes192", "sha512",
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeafe564f473fbe69da157d8c80747443c07841edc1ca56adde099fb2c3659"
     "e775526f6ebfe43b784fc1e599c0ccf7f97461729fb54cdb483a9afda12e1bf6fd349438ea3b8d417f75601f8a"
     "e51eb9db0465958e60d6a8083fb9dccfe6af5c13c786238541df021335eb3de42758a5e3e7cd"},
    {"aes256", "md5",
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf96ec7b9409264e9de84f28c982a883032872279cc9b762679a5ce7bbeb"
     "448b37fef3884b75289e3cbffd256e3c65e11282140d6ac86ba33959fb02d9d82acc99"},
    {"aes128", "sha384",
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf2449fee84c76b9383ee17854f9067f3d35b394ddf58d678da2715c2809"
     "86a8650865f97c5857805a2da90b3f5af233347cbe9cc5f933f95778bfa8ebdaa39949f4f11061f33cd15eff04"
     "15fa04944b696cdfdb87e7efc166b629b31b3aacb9fb"},
    {"none", "sha256",
     "6b6e657420312e78207769726520666f726d6174206b6e6f776e20616e7377657221212aed7aea8c6007c7d3c5"
     "ab7d08639abba2227d4cecd34f607ea51956bff25a9a"},
};

TEST(CryptoKat, BothModelsDecryptCommandLineVectors) {
    for (const auto& v : kVectors)
        for (const char* model : {"nss", "openssl"}) {
            auto inst = create(make_cfg(model, v.cipher, v.hash), nullptr);
            ASSERT_TRUE(inst) << model << v.cipher << v.hash;
            std::vector<uint8_t> back;
            ASSERT_EQ(unseal(**inst, from_hex(v.wire_hex), &back), 0)
                << model << "/" << v.cipher << "/" << v.hash;
            EXPECT_EQ(std::string(back.begin(), back.end()), kClear);
        }
}

TEST(CryptoKat, OpensslLongNamesDecryptTheSameVector) {
    auto inst = create(make_cfg("openssl", "aes-256-cbc", "SHA256"), nullptr);
    ASSERT_TRUE(inst);
    std::vector<uint8_t> back;
    ASSERT_EQ(unseal(**inst, from_hex(kVectors[0].wire_hex), &back), 0);
    EXPECT_EQ(std::string(back.begin(), back.end()), kClear);
}

// The encrypt side, checked with one-shot OpenSSL calls written here rather
// than with the code under test: HMAC over salt|ciphertext with the whole
// key, then AES-CBC decryption with the first key bytes and the salt as IV.
TEST(CryptoKat, EncryptedOutputMatchesLayout) {
    struct Case {
        const char* cipher;
        const EVP_CIPHER* evp;
        const char* hash;
        const EVP_MD* md;
    };
    const Case cases[] = {{"aes256", EVP_aes_256_cbc(), "sha256", EVP_sha256()},
                          {"aes128", EVP_aes_128_cbc(), "sha1", EVP_sha1()},
                          {"aes192", EVP_aes_192_cbc(), "sha512", EVP_sha512()}};
    auto cfg0 = make_cfg("nss", "none", "none", 200);
    for (const auto& c : cases)
        for (const char* model : {"nss", "openssl"}) {
            auto cfg = make_cfg(model, c.cipher, c.hash, 200);
            auto inst = create(cfg, nullptr);
            ASSERT_TRUE(inst);
            std::vector<uint8_t> clear(kClear.begin(), kClear.end());
            auto wire = seal(**inst, clear);
            const size_t hlen = static_cast<size_t>(EVP_MD_get_size(c.md));
            ASSERT_GT(wire.size(), 16 + hlen);
            EXPECT_EQ((wire.size() - 16 - hlen) % 16, 0u);

            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned mac_len = 0;
            HMAC(c.md, cfg0.private_key, 200, wire.data(), wire.size() - hlen, mac, &mac_len);
            ASSERT_EQ(mac_len, hlen);
            EXPECT_EQ(0, memcmp(mac, wire.data() + wire.size() - hlen, hlen)) << model;

            EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
            std::vector<uint8_t> out(wire.size());
            int n1 = 0, n2 = 0;
            ASSERT_EQ(EVP_DecryptInit_ex(ctx, c.evp, nullptr, cfg0.private_key, wire.data()), 1);
            ASSERT_EQ(EVP_DecryptUpdate(ctx, out.data(), &n1, wire.data() + 16,
                                        static_cast<int>(wire.size() - 16 - hlen)), 1);
            ASSERT_EQ(EVP_DecryptFinal_ex(ctx, out.data() + n1, &n2), 1);
            EVP_CIPHER_CTX_free(ctx);
            out.resize(static_cast<size_t>(n1 + n2));
            EXPECT_EQ(out, clear) << model;
        }
}

// Authentic (correct HMAC) but malformed ciphertext: wrong length for the
// block size, or bad PKCS#7 padding, must be refused after authentication.
TEST(CryptoKat, AuthenticButMalformedCiphertextRefused) {
    auto cfg = make_cfg("nss", "aes256", "sha256", 128);
    for (const char* model : {"nss", "openssl"}) {
        strcpy(cfg.crypto_model, model);
        auto inst = create(cfg, nullptr);
        ASSERT_TRUE(inst);
        for (size_t ct_len : {size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{32}, size_t{48}}) {
            std::vector<uint8_t> wire(16 + ct_len);
            for (size_t i = 0; i < wire.size(); ++i) wire[i] = static_cast<uint8_t>(i * 37 + 11);
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned mac_len = 0;
            HMAC(EVP_sha256(), cfg.private_key, 128, wire.data(), wire.size(), mac, &mac_len);
            wire.insert(wire.end(), mac, mac + mac_len);
            std::vector<uint8_t> back;
            // A random last block has valid padding with probability ~1/256;
            // these fixed bytes do not.
            EXPECT_EQ(unseal(**inst, wire, &back), EBADMSG) << model << " " << ct_len;
        }
    }
}

TEST(CryptoKat, GarbageNeverDecrypts) {
    for (const char* model : {"nss", "openssl"})
        for (const char* cipher : {"none", "aes128"}) {
            auto inst = create(make_cfg(model, cipher, "sha1"), nullptr);
            ASSERT_TRUE(inst);
            uint32_t x = 12345;
            for (size_t len = 0; len < 400; ++len) {
                std::vector<uint8_t> junk(len), back;
                for (auto& b : junk) b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 16);
                int err = unseal(**inst, junk, &back);
                EXPECT_TRUE(err == EBADMSG || err == EMSGSIZE) << model << cipher << len << " " << err;
            }
        }
}

}  // namespace
}  // namespace knet::crypto::test
