// Multi-buffer AES-CBC encryption with AES-NI.
//
// CBC encryption is serial inside one packet: every block waits for the
// previous ciphertext, so a single chain leaves the pipelined AES unit mostly
// idle (latency-bound).  Independent packets have independent chains, so
// encrypting up to 8 of them interleaved keeps the unit busy.  Output is
// byte-identical to ordinary AES-CBC (no padding: callers pad).
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

// Encrypts every lane with key k (which must be initialised).  Up to 8
// lanes are interleaved; when one finishes, the next lane not yet started
// takes its place (lanes of mixed lengths keep 8 in flight).  No lane's out
// may overlap another lane's in, out or iv; a lane's own in may be its out,
// and its iv may lie in its in or out (it is read before anything is
// written).  n may be 0; lanes with 0 blocks are left untouched.
void aes_cbc_encrypt_multi(const AesEncryptKey& k, const CbcLane* lanes, size_t n);

}  // namespace knet::crypto
