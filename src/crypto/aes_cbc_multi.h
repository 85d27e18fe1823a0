// Multi-buffer AES-CBC encryption with AES-NI.
//
// CBC encryption is serial inside one packet: every block waits for the
// previous ciphertext, so a single chain leaves the pipelined AES unit mostly
// idle (latency-bound).  Independent packets have independent chains, so
// encrypting 8 of them interleaved keeps the unit busy, and with VAES, 16 in
// 8 registers of two do twice the work per instruction (aes256: 7.7 against
// 13 GB/s on the Xeon of bench/RESULTS.md).  Output is byte-identical to
// ordinary AES-CBC (no padding: callers pad).
//
// Usage: check aes_cbc_multi_supported() once; if false, nothing else here may
// be used (AesEncryptKey::init() then returns false).
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/aes_key.h"

namespace knet::crypto {

// True when this build is x86-64 and the CPU has AES-NI (and SSE4.1).
bool aes_cbc_multi_supported();

// Expanded AES encryption key schedule (128/192/256-bit keys).
class AesEncryptKey : public AesRoundKeys {
public:
    // key_len must be 16, 24 or 32.  False (and empty) for any other length
    // or when aes_cbc_multi_supported() is false.
    bool init(const uint8_t* key, size_t key_len);
};

// One CBC chain: `blocks` 16-byte blocks read at `in`, encrypted to `out`
// (which may be `in`: in place), chained from the 16-byte `iv`.  No
// alignment needed.
struct CbcLane {
    const uint8_t* iv;
    const uint8_t* in;
    uint8_t* out;
    size_t blocks;
};

// Encrypts every lane with key k (which must be initialised).  Up to
// aes_cbc_multi_width() lanes are interleaved; when one finishes, the next
// lane not yet started takes its place (lanes of mixed lengths keep them all
// in flight).  No lane's out may overlap another lane's in, out or iv; a
// lane's own in may be its out, and its iv may lie in its in or out (it is
// read before anything is written).  n may be 0; lanes with 0 blocks are
// left untouched.
void aes_cbc_encrypt_multi(const AesEncryptKey& k, const CbcLane* lanes, size_t n);

// Lanes aes_cbc_encrypt_multi() keeps in flight: 16 (two per 256-bit
// register) where the CPU and OS offer VAES and AVX2, else 8 (AES-NI).
size_t aes_cbc_multi_width();

// aes_cbc_encrypt_multi() with a given width, 8 or 16 (tests, benchmarks).
// False, and nothing done, for another width, 16 without VAES, or a key
// not initialised.
bool aes_cbc_encrypt_multi_width(const AesEncryptKey& k, const CbcLane* lanes, size_t n,
                                 size_t width);

}  // namespace knet::crypto
