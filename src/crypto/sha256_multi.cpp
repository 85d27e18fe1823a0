// Interleaved HMAC-SHA256 with the SHA extensions, see sha256_multi.h.
//
// Only the functions marked KNET_SHANI are compiled for the SHA extensions;
// the rest of the library stays baseline x86-64 and callers check the CPU
// at run time.
#include "crypto/sha256_multi.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define KNET_SHANI __attribute__((target("sha,sse4.1")))
#define KNET_AVX512 __attribute__((target("avx512f,avx512bw")))
#endif

namespace knet::crypto {

void HmacSha256Key::clear() {
    OPENSSL_cleanse(inner_, sizeof(inner_));
    OPENSSL_cleanse(outer_, sizeof(outer_));
    ready_ = false;
}

#if defined(__x86_64__)

bool sha256_multi_supported() {
    // CPUID directly: clang's __builtin_cpu_supports does not know "sha".
    static const bool ok = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1)) return false;
        return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA) != 0;
    }();
    return ok;
}

namespace {

constexpr size_t kBlock = 64;

uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// FIPS 180-4, 4.2.2 and 5.3.3.
alignas(16) constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
constexpr uint32_t kInitial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// N streams (1 or 2) advanced by `blocks` 64-byte blocks each.  sha256rnds2
// keeps the state as two registers, A B E F and C D G H; the message
// schedule runs four words at a time with sha256msg1/msg2.  Each loop is
// unrolled so the streams' instructions interleave and stay in registers.
template <int N>
KNET_SHANI void compress(uint32_t* const* state, const uint8_t* const* data, size_t blocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef[N], cdgh[N];
#pragma GCC unroll 2
    for (int j = 0; j < N; ++j) {
        const __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state[j])), 0xB1);
        const __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state[j] + 4)), 0x1B);
        abef[j] = _mm_alignr_epi8(dcba, efgh, 8);
        cdgh[j] = _mm_blend_epi16(efgh, dcba, 0xF0);
    }
    for (size_t b = 0; b < blocks; ++b) {
        __m128i save_abef[N], save_cdgh[N], w[N][4];
#pragma GCC unroll 2
        for (int j = 0; j < N; ++j) {
            save_abef[j] = abef[j];
            save_cdgh[j] = cdgh[j];
            const uint8_t* p = data[j] + b * kBlock;
#pragma GCC unroll 4
            for (int q = 0; q < 4; ++q)
                w[j][q] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * q)), bswap);
        }
        // Group g: rounds 4g..4g+3, message words in w[j][g % 4].
#pragma GCC unroll 16
        for (int g = 0; g < 16; ++g) {
            const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kRound + 4 * g));
#pragma GCC unroll 2
            for (int j = 0; j < N; ++j) {
                if (g >= 4) {
                    // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]
                    __m128i x = _mm_sha256msg1_epu32(w[j][g % 4], w[j][(g + 1) % 4]);
                    x = _mm_add_epi32(x, _mm_alignr_epi8(w[j][(g + 3) % 4], w[j][(g + 2) % 4], 4));
                    w[j][g % 4] = _mm_sha256msg2_epu32(x, w[j][(g + 3) % 4]);
                }
                const __m128i wk = _mm_add_epi32(w[j][g % 4], k);
                cdgh[j] = _mm_sha256rnds2_epu32(cdgh[j], abef[j], wk);
                abef[j] = _mm_sha256rnds2_epu32(abef[j], cdgh[j], _mm_shuffle_epi32(wk, 0x0E));
            }
        }
#pragma GCC unroll 2
        for (int j = 0; j < N; ++j) {
            abef[j] = _mm_add_epi32(abef[j], save_abef[j]);
            cdgh[j] = _mm_add_epi32(cdgh[j], save_cdgh[j]);
        }
    }
#pragma GCC unroll 2
    for (int j = 0; j < N; ++j) {
        const __m128i feba = _mm_shuffle_epi32(abef[j], 0x1B);
        const __m128i dchg = _mm_shuffle_epi32(cdgh[j], 0xB1);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(state[j]), _mm_blend_epi16(feba, dchg, 0xF0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(state[j] + 4), _mm_alignr_epi8(dchg, feba, 8));
    }
}

// GCC 12's AVX-512 headers start some intrinsics from an "undefined"
// register and warn about it inside them (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Sixteen streams, one per 32-bit lane of the AVX-512 registers: the
// rounds as FIPS 180-4 writes them, with rotates and three-input logic
// (vprord, vpternlogd).  On CPUs whose SHA extensions are slow (two streams
// already saturate them) this is faster for batches of 12 or more packets
// of 8 blocks or more; hmac_sha256_multi() decides by measuring both once
// (x16_preferred()).  state: 16 lanes of 8 words; data: 16 pointers, each
// to `blocks` blocks.
KNET_AVX512 void compress16(uint32_t (*state)[8], const uint8_t* const* data, size_t blocks) {
    const __m512i bswap = _mm512_broadcast_i32x4(
        _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
    const __m512i word_index = _mm512_setr_epi32(0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96,
                                                 104, 112, 120);
    __m512i s[8];
    for (int i = 0; i < 8; ++i)
        s[i] = _mm512_i32gather_epi32(_mm512_add_epi32(word_index, _mm512_set1_epi32(i)), &state[0][0], 4);
    for (size_t b = 0; b < blocks; ++b) {
        // W[t] = word t of every lane's block: a 16 x 16 transpose.
        __m512i row[16], w[16];
        for (int l = 0; l < 16; ++l) row[l] = _mm512_loadu_si512(data[l] + b * kBlock);
        for (int g = 0; g < 4; ++g) {
            // Afterwards row[4g+j] holds, in its 128-bit lane k, word 4k+j
            // of rows 4g..4g+3.
            const __m512i lo01 = _mm512_unpacklo_epi32(row[4 * g], row[4 * g + 1]);
            const __m512i hi01 = _mm512_unpackhi_epi32(row[4 * g], row[4 * g + 1]);
            const __m512i lo23 = _mm512_unpacklo_epi32(row[4 * g + 2], row[4 * g + 3]);
            const __m512i hi23 = _mm512_unpackhi_epi32(row[4 * g + 2], row[4 * g + 3]);
            row[4 * g] = _mm512_unpacklo_epi64(lo01, lo23);
            row[4 * g + 1] = _mm512_unpackhi_epi64(lo01, lo23);
            row[4 * g + 2] = _mm512_unpacklo_epi64(hi01, hi23);
            row[4 * g + 3] = _mm512_unpackhi_epi64(hi01, hi23);
        }
        for (int j = 0; j < 4; ++j) {
            // 128-bit lane k of group g's row j goes to lane g of W[4k+j].
            const __m512i a = _mm512_shuffle_i32x4(row[j], row[4 + j], 0x44);
            const __m512i bb = _mm512_shuffle_i32x4(row[j], row[4 + j], 0xEE);
            const __m512i c = _mm512_shuffle_i32x4(row[8 + j], row[12 + j], 0x44);
            const __m512i d = _mm512_shuffle_i32x4(row[8 + j], row[12 + j], 0xEE);
            w[j] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(a, c, 0x88), bswap);
            w[4 + j] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(a, c, 0xDD), bswap);
            w[8 + j] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(bb, d, 0x88), bswap);
            w[12 + j] = _mm512_shuffle_epi8(_mm512_shuffle_i32x4(bb, d, 0xDD), bswap);
        }
        __m512i a = s[0], bv = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
        for (int t = 0; t < 64; ++t) {
            if (t >= 16) {
                const __m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
                const __m512i s0 = _mm512_ternarylogic_epi32(_mm512_ror_epi32(w15, 7), _mm512_ror_epi32(w15, 18),
                                                             _mm512_srli_epi32(w15, 3), 0x96);
                const __m512i s1 = _mm512_ternarylogic_epi32(_mm512_ror_epi32(w2, 17), _mm512_ror_epi32(w2, 19),
                                                             _mm512_srli_epi32(w2, 10), 0x96);
                w[t & 15] = _mm512_add_epi32(_mm512_add_epi32(w[t & 15], s0),
                                             _mm512_add_epi32(w[(t - 7) & 15], s1));
            }
            const __m512i big_s1 = _mm512_ternarylogic_epi32(_mm512_ror_epi32(e, 6), _mm512_ror_epi32(e, 11),
                                                             _mm512_ror_epi32(e, 25), 0x96);
            const __m512i ch = _mm512_ternarylogic_epi32(e, f, g, 0xCA);  // e ? f : g
            const __m512i t1 = _mm512_add_epi32(
                _mm512_add_epi32(h, big_s1),
                _mm512_add_epi32(ch, _mm512_add_epi32(w[t & 15], _mm512_set1_epi32(static_cast<int>(kRound[t])))));
            const __m512i big_s0 = _mm512_ternarylogic_epi32(_mm512_ror_epi32(a, 2), _mm512_ror_epi32(a, 13),
                                                             _mm512_ror_epi32(a, 22), 0x96);
            const __m512i maj = _mm512_ternarylogic_epi32(a, bv, c, 0xE8);  // majority
            h = g;
            g = f;
            f = e;
            e = _mm512_add_epi32(d, t1);
            d = c;
            c = bv;
            bv = a;
            a = _mm512_add_epi32(t1, _mm512_add_epi32(big_s0, maj));
        }
        s[0] = _mm512_add_epi32(s[0], a);
        s[1] = _mm512_add_epi32(s[1], bv);
        s[2] = _mm512_add_epi32(s[2], c);
        s[3] = _mm512_add_epi32(s[3], d);
        s[4] = _mm512_add_epi32(s[4], e);
        s[5] = _mm512_add_epi32(s[5], f);
        s[6] = _mm512_add_epi32(s[6], g);
        s[7] = _mm512_add_epi32(s[7], h);
    }
    for (int i = 0; i < 8; ++i)
        _mm512_i32scatter_epi32(&state[0][0], _mm512_add_epi32(word_index, _mm512_set1_epi32(i)), s[i], 4);
}
#pragma GCC diagnostic pop

void compress1(uint32_t* state, const uint8_t* data, size_t blocks) {
    if (blocks) compress<1>(&state, &data, blocks);
}

void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// The final block(s) of a message: its last `rem` (< 64) bytes, the 0x80
// marker, zeros and the length in bits of everything hashed.  Returns 1 or 2.
size_t pad_tail(const uint8_t* rest, size_t rem, uint64_t total_bytes, uint8_t* out /* 128 */) {
    const size_t blocks = rem + 1 + 8 <= kBlock ? 1 : 2;
    std::memset(out, 0, blocks * kBlock);
    if (rem) std::memcpy(out, rest, rem);
    out[rem] = 0x80;
    const uint64_t bits = total_bytes * 8;
    put_be32(out + blocks * kBlock - 8, static_cast<uint32_t>(bits >> 32));
    put_be32(out + blocks * kBlock - 4, static_cast<uint32_t>(bits));
    return blocks;
}

void digest_bytes(const uint32_t* state, uint8_t* out) {
    for (int i = 0; i < 8; ++i) put_be32(out + 4 * i, state[i]);
}

// Plain SHA-256 (long HMAC keys).
void sha256(const uint8_t* data, size_t len, uint8_t* out) {
    uint32_t s[8];
    std::memcpy(s, kInitial, sizeof s);
    compress1(s, data, len / kBlock);
    uint8_t tail[2 * kBlock];
    const size_t rem = len % kBlock;
    compress1(s, tail, pad_tail(data + len - rem, rem, len, tail));
    digest_bytes(s, out);
}

// The outer block of an HMAC: the inner digest, padded (64 + 32 bytes hashed).
void outer_block(const uint32_t* inner_state, uint8_t* block) {
    uint8_t digest[kSha256Digest];
    digest_bytes(inner_state, digest);
    pad_tail(digest, kSha256Digest, kBlock + kSha256Digest, block);
}

// The rest of one message's HMAC, one stream: state `s` has hashed the key
// block and the first `done` blocks of the message.
void hmac_finish(const HmacSha256Key& k, const HmacMsg& m, uint32_t* s, size_t done) {
    const size_t full = m.len / kBlock;
    compress1(s, m.data + done * kBlock, full - done);
    uint8_t tail[2 * kBlock];
    const size_t rem = m.len % kBlock;
    compress1(s, tail, pad_tail(m.data + full * kBlock, rem, kBlock + m.len, tail));
    uint8_t block[kBlock];
    outer_block(s, block);
    std::memcpy(s, k.outer(), 8 * sizeof(uint32_t));
    compress1(s, block, 1);
    digest_bytes(s, m.mac);
}

// One message, one stream.
void hmac_one(const HmacSha256Key& k, const HmacMsg& m) {
    uint32_t s[8];
    std::memcpy(s, k.inner(), sizeof s);
    hmac_finish(k, m, s, 0);
}

// Two messages, interleaved where both have blocks left.
void hmac_two(const HmacSha256Key& k, const HmacMsg& a, const HmacMsg& b) {
    uint32_t sa[8], sb[8];
    std::memcpy(sa, k.inner(), sizeof sa);
    std::memcpy(sb, k.inner(), sizeof sb);
    uint32_t* states[2] = {sa, sb};
    const size_t full_a = a.len / kBlock, full_b = b.len / kBlock;
    const size_t both = std::min(full_a, full_b);
    if (both) {
        const uint8_t* data[2] = {a.data, b.data};
        compress<2>(states, data, both);
    }
    compress1(sa, a.data + both * kBlock, full_a - both);
    compress1(sb, b.data + both * kBlock, full_b - both);

    uint8_t ta[2 * kBlock], tb[2 * kBlock];
    const size_t na = pad_tail(a.data + full_a * kBlock, a.len % kBlock, kBlock + a.len, ta);
    const size_t nb = pad_tail(b.data + full_b * kBlock, b.len % kBlock, kBlock + b.len, tb);
    if (na == nb) {
        const uint8_t* tails[2] = {ta, tb};
        compress<2>(states, tails, na);
    } else {
        compress1(sa, ta, na);
        compress1(sb, tb, nb);
    }

    uint8_t oa[kBlock], ob[kBlock];
    outer_block(sa, oa);
    outer_block(sb, ob);
    std::memcpy(sa, k.outer(), sizeof sa);
    std::memcpy(sb, k.outer(), sizeof sb);
    const uint8_t* outer[2] = {oa, ob};
    compress<2>(states, outer, 1);
    digest_bytes(sa, a.mac);
    digest_bytes(sb, b.mac);
}

}  // namespace

bool HmacSha256Key::init(const uint8_t* key, size_t key_len) {
    clear();
    if (!sha256_multi_supported() || (key == nullptr && key_len != 0)) return false;
    uint8_t k0[kBlock] = {};
    if (key_len > kBlock)
        sha256(key, key_len, k0);
    else if (key_len)
        std::memcpy(k0, key, key_len);
    uint8_t pad[kBlock];
    for (size_t i = 0; i < kBlock; ++i) pad[i] = k0[i] ^ 0x36;
    std::memcpy(inner_, kInitial, sizeof inner_);
    compress1(inner_, pad, 1);
    for (size_t i = 0; i < kBlock; ++i) pad[i] = k0[i] ^ 0x5c;
    std::memcpy(outer_, kInitial, sizeof outer_);
    compress1(outer_, pad, 1);
    OPENSSL_cleanse(k0, sizeof k0);
    OPENSSL_cleanse(pad, sizeof pad);
    ready_ = true;
    return true;
}

namespace {

// Whole blocks every one of msgs[0, n) has.
size_t common_blocks(const HmacMsg* msgs, size_t n) {
    size_t common = SIZE_MAX;
    for (size_t l = 0; l < n; ++l) common = std::min(common, msgs[l].len / kBlock);
    return common;
}

// Up to 16 messages: their `common` first blocks (common_blocks()), 16 lanes
// at a time; each message's remaining blocks, padding and outer hash one
// stream at a time (a few blocks when the packets of a batch are the same
// size).  Idle lanes hash the first message again and are ignored.
void hmac_x16(const HmacSha256Key& k, const HmacMsg* msgs, size_t n, size_t common) {
    alignas(64) uint32_t state[kX16Lanes][8];
    const uint8_t* data[kX16Lanes];
    for (size_t l = 0; l < kX16Lanes; ++l) {
        std::memcpy(state[l], k.inner(), sizeof state[l]);
        data[l] = msgs[l < n ? l : 0].data;
    }
    if (common) compress16(state, data, common);
    for (size_t l = 0; l < n; ++l) hmac_finish(k, msgs[l], state[l], common);
    OPENSSL_cleanse(state, sizeof state);
}

// Whether the 16-lane code beats the SHA extensions on this CPU, measured
// once on the same 64 KB (a few hundred microseconds): on some CPUs two
// SHA-extension streams are as fast as it gets and the lanes do 1.5x that,
// on others (AVX-512 at half width) the lanes are slower.
bool x16_preferred() {
    static const bool preferred = [] {
        if (!sha256_x16_supported()) return false;
        constexpr size_t kBlocks = 64;  // per lane: 16 x 4 KB
        std::vector<uint8_t> buf(kX16Lanes * kBlocks * kBlock, 0x5a);
        alignas(64) uint32_t st16[kX16Lanes][8] = {};
        const uint8_t* d16[kX16Lanes];
        for (size_t l = 0; l < kX16Lanes; ++l) d16[l] = buf.data() + l * kBlocks * kBlock;
        uint64_t best16 = UINT64_MAX, best2 = UINT64_MAX;
        for (int round = 0; round < 3; ++round) {
            const uint64_t t0 = now_ns();
            compress16(st16, d16, kBlocks);
            const uint64_t t1 = now_ns();
            for (size_t l = 0; l < kX16Lanes; l += 2) {
                uint32_t* st2[2] = {st16[l], st16[l + 1]};
                const uint8_t* d2[2] = {d16[l], d16[l + 1]};
                compress<2>(st2, d2, kBlocks);
            }
            const uint64_t t2 = now_ns();
            best16 = std::min(best16, t1 - t0);
            best2 = std::min(best2, t2 - t1);
        }
        return best16 * 100 < best2 * 85;  // at least 15 % faster
    }();
    return preferred;
}

}  // namespace

bool sha256_x16_supported() {
    static const bool ok = sha256_multi_supported() && __builtin_cpu_supports("avx512f") &&
                           __builtin_cpu_supports("avx512bw");
    return ok;
}

bool hmac_sha256_x16(const HmacSha256Key& k, const HmacMsg* msgs, size_t n) {
    if (!sha256_x16_supported() || !k.ready() || n == 0 || n > kX16Lanes) return false;
    hmac_x16(k, msgs, n, common_blocks(msgs, n));
    return true;
}

size_t hmac_sha256_full_batch() { return x16_preferred() ? kX16MinMessages : 2; }

void hmac_sha256_multi(const HmacSha256Key& k, const HmacMsg* msgs, size_t n) {
    if (n == 0) return;
    if (!k.ready()) std::abort();  // uninitialised key: refuse rather than emit garbage
    size_t i = 0;
    if (n >= kX16MinMessages && x16_preferred()) {
        while (n - i >= kX16MinMessages) {
            const size_t group = std::min(kX16Lanes, n - i);
            const size_t common = common_blocks(msgs + i, group);
            if (common < kX16MinBlocks) break;  // short packets: the tails would dominate
            hmac_x16(k, msgs + i, group, common);
            i += group;
        }
    }
    for (; i + 1 < n; i += 2) hmac_two(k, msgs[i], msgs[i + 1]);
    if (i < n) hmac_one(k, msgs[i]);
}

#else  // !__x86_64__

bool sha256_multi_supported() { return false; }

bool HmacSha256Key::init(const uint8_t*, size_t) {
    clear();
    return false;
}

void hmac_sha256_multi(const HmacSha256Key&, const HmacMsg*, size_t n) {
    if (n != 0) std::abort();  // callers must check sha256_multi_supported() first
}

size_t hmac_sha256_full_batch() { return 2; }

bool sha256_x16_supported() { return false; }

bool hmac_sha256_x16(const HmacSha256Key&, const HmacMsg*, size_t) { return false; }

#endif

}  // namespace knet::crypto
