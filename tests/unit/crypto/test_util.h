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
