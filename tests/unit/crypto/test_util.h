// Helpers shared by the crypto unit tests.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace knet::crypto::test {

// A config with key bytes 0, 1, 2, ... (or `seed` + i).
inline knet_handle_crypto_cfg make_cfg(const char* model, const char* cipher, const char* hash,
                                       unsigned key_len = KNET_MIN_KEY_LEN, uint8_t seed = 0) {
    knet_handle_crypto_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    strncpy(cfg.crypto_model, model, sizeof(cfg.crypto_model) - 1);
    strncpy(cfg.crypto_cipher_type, cipher, sizeof(cfg.crypto_cipher_type) - 1);
    strncpy(cfg.crypto_hash_type, hash, sizeof(cfg.crypto_hash_type) - 1);
    for (size_t i = 0; i < sizeof(cfg.private_key); ++i)
        cfg.private_key[i] = static_cast<unsigned char>(seed + i);
    cfg.private_key_len = key_len;
    return cfg;
}

inline std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

// NIST SP 800-38A F.2.1-F.2.6: CBC-AES{128,192,256}, one IV and clear text,
// the cipher text for each key.
inline constexpr const char* kSp80038aIv = "000102030405060708090a0b0c0d0e0f";
inline constexpr const char* kSp80038aClear =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
struct CbcVector {
    const char* key;
    const char* cipher;
};
inline constexpr CbcVector kSp80038aCbc[] = {
    {"2b7e151628aed2a6abf7158809cf4f3c",
     "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
     "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"},
    {"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
     "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a"
     "571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd"},
    {"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
     "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
};

// Encrypt `clear` with `inst`, returning the wire bytes.
inline std::vector<uint8_t> seal(const Instance& inst, const std::vector<uint8_t>& clear) {
    std::vector<uint8_t> out(clear.size() + inst.overhead_max());
    size_t len = 0;
    Status s = inst.encrypt(clear.data(), clear.size(), out.data(), out.size(), &len);
    if (!s) return {};
    out.resize(len);
    return out;
}

// Decrypt `wire` with `inst`; returns the errno (0 on success) and fills clear.
inline int unseal(const Instance& inst, const std::vector<uint8_t>& wire, std::vector<uint8_t>* clear) {
    std::vector<uint8_t> out(wire.size() + 64);
    size_t len = 0;
    Status s = inst.decrypt(wire.data(), wire.size(), out.data(), out.size(), &len);
    if (!s) return s.error();
    out.resize(len);
    *clear = out;
    return 0;
}

}  // namespace knet::crypto::test
