// The round keys of an AES key schedule, shared by our encryption
// (aes_cbc_multi.h) and decryption (aes_cbc_decrypt.h) key types, which fill
// them their own way.  No heap; wiped by clear() and the destructor.
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>

namespace knet::crypto {

class AesRoundKeys {
public:
    static constexpr int kMaxRounds = 14;

    AesRoundKeys() = default;
    AesRoundKeys(const AesRoundKeys&) = default;
    AesRoundKeys& operator=(const AesRoundKeys&) = default;
    ~AesRoundKeys() { clear(); }

    void clear() {
        OPENSSL_cleanse(rk_, sizeof(rk_));
        rounds_ = 0;
    }

    // 10, 12 or 14 (128/192/256-bit keys); 0 until set.
    int rounds() const { return rounds_; }
    // rounds() + 1 round keys of 16 bytes, 16-byte aligned.
    const uint8_t* round_keys() const { return rk_; }

protected:
    alignas(16) uint8_t rk_[(kMaxRounds + 1) * 16] = {};
    int rounds_ = 0;
};

}  // namespace knet::crypto
