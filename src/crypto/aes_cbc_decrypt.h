// AES-CBC decryption with the vector AES instructions (VAES, 256-bit).
//
// Unlike encryption, CBC decryption has no chain: every block is
// D(C[i]) xor C[i-1], so a whole packet can be decrypted many blocks at a
// time.  OpenSSL keeps 8 blocks in flight with AES-NI; with VAES each
// instruction works on 2 blocks and 16 blocks are in flight, about twice
// the throughput (8 -> 16 GB/s for aes256 on the machine of bench/RESULTS.md).
// Output is byte-identical to ordinary AES-CBC decryption without padding
// removal (callers check and strip PKCS#7).
//
// Usage: check aes_cbc_decrypt_wide_supported() once; if false, nothing else
// here may be used (AesDecryptKey::init() then returns false).
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/aes_key.h"

namespace knet::crypto {

// True when this build is x86-64 and the CPU and OS offer AES-NI, AVX2 and
// VAES (256-bit registers saved by the OS).
bool aes_cbc_decrypt_wide_supported();

// Decryption key schedule ("equivalent inverse cipher", FIPS-197 5.3.5)
// for 128/192/256-bit keys.
class AesDecryptKey : public AesRoundKeys {
public:
    // key_len must be 16, 24 or 32.  False (and empty) for any other length
    // or when aes_cbc_decrypt_wide_supported() is false.
    bool init(const uint8_t* key, size_t key_len);
};

// Decrypts `blocks` 16-byte blocks of `in`, chained from the 16-byte `iv`,
// into `out`.  out may be in itself (in place) or must not overlap it; iv
// must not overlap out.  No alignment needed.  k must be initialised.
void aes_cbc_decrypt_wide(const AesDecryptKey& k, const uint8_t* iv, const uint8_t* in,
                          uint8_t* out, size_t blocks);

}  // namespace knet::crypto
