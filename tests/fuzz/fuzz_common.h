// Shared by the libFuzzer targets, the plain regression runner and the seed
// corpus generator: input formats, the fixed crypto key, invariant checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "libknet.h"

// An invariant every input must keep.  Aborts (a crash for libFuzzer, a
// failed test for the regression runner); active in every build type.
#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,       \
                         __LINE__, #cond);                                        \
            std::abort();                                                         \
        }                                                                         \
    } while (0)

namespace knet::fuzz {

// ---- reassembly: input = options byte, then records ------------------------
//   record: ctl (1)  clock advance of ctl * kTickNs
//           len (2, big endian)  bit 15 set: the payload is (len & 0x7fff)
//                    bytes taken from the input; clear: len bytes of pattern
//           head (14)  the first 14 bytes of the packet (DATA header, or the
//                    start of a PING whose remaining bytes come from payload)
//   The pattern byte of a DATA packet is (frag_seq + seq) & 0xff, so a
//   reassembled datagram must be runs of 1+seq, 2+seq, ... of equal length.
//   options bit 0: Reassembler max_age_ns = kMaxAgeNs (else 0, as reference).
inline constexpr uint64_t kTickNs = 16'000'000;
inline constexpr uint64_t kMaxAgeNs = 2'000'000'000;
inline constexpr size_t kRecordHead = 3 + 14;
inline constexpr uint16_t kRawPayload = 0x8000;

// ---- decrypt: input = mode byte, then bytes ---------------------------------
//   mode bit 0: 0 = openssl, 1 = nss (both aes256 + sha256, key kKey)
//   mode bit 1: "authentic": the target appends HMAC-SHA256(key, bytes) so the
//               packet passes the MAC and reaches decryption and unpadding.
inline constexpr unsigned kKeyLen = 128;
inline void fill_key(knet_handle_crypto_cfg& cfg, const char* model) {
    std::memset(&cfg, 0, sizeof(cfg));
    std::strncpy(cfg.crypto_model, model, sizeof(cfg.crypto_model) - 1);
    std::strncpy(cfg.crypto_cipher_type, "aes256", sizeof(cfg.crypto_cipher_type) - 1);
    std::strncpy(cfg.crypto_hash_type, "sha256", sizeof(cfg.crypto_hash_type) - 1);
    for (unsigned i = 0; i < kKeyLen; ++i) cfg.private_key[i] = static_cast<unsigned char>(i * 13 + 7);
    cfg.private_key_len = kKeyLen;
}

// ---- decompress: input = model byte (id = byte % 8, 0 = "none"), then data --

// ---- acl: input = operations ----------------------------------------------
//   op (1): bits 0-1 0 insert, 1 remove, 2 check a source address, 3 find
//   flags (1): bit 0 IPv6, bits 1-2 type (% 3), bit 3 reject, bit 4 no ss2,
//              bit 5 ss2 is IPv6 (family mismatch allowed)
//   index (1, int8): insert position (negative appends)
//   ss1, ss2: port (2) + 4 or 16 address bytes (by the family)
//   (check uses only ss1 as the source address)

}  // namespace knet::fuzz
