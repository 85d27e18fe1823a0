// Multi-buffer AES-CBC encryption, see aes_cbc_multi.h.
//
// Only the functions marked KNET_AESNI are compiled for AES-NI; the rest of
// the library stays baseline x86-64 and callers check the CPU at run time.
#include "crypto/aes_cbc_multi.h"

#include <openssl/crypto.h>

#include "crypto/aes_cbc_decrypt.h"  // aes_cbc_decrypt_wide_supported(): the VAES check

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define KNET_AESNI __attribute__((target("aes,sse4.1")))
#define KNET_VAES __attribute__((target("aes,sse4.1,avx,avx2,vaes")))
#endif

namespace knet::crypto {

#if defined(__x86_64__)

bool aes_cbc_multi_supported() {
    // __builtin_cpu_init: we may be called from another static constructor.
    static const bool ok = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
    }();
    return ok;
}

namespace {

// aeskeygenassist with rcon 0 on a vector holding x in words 1 and 3 gives
// SubWord(x) in word 2 and RotWord(SubWord(x)) in word 3; the round constant
// is applied by the caller so one helper serves every step (the intrinsic
// needs an immediate).  Key expansion runs once per key, so the generic
// FIPS-197 word loop is preferred over per-size vector tricks.
KNET_AESNI inline __m128i keygen_assist(uint32_t x) {
    const __m128i v = _mm_set_epi32(static_cast<int>(x), 0, static_cast<int>(x), 0);
    return _mm_aeskeygenassist_si128(v, 0);
}

KNET_AESNI void expand_key(const uint8_t* key, int nk, int rounds, uint8_t* out) {
    uint32_t w[(AesRoundKeys::kMaxRounds + 1) * 4];
    const int total = (rounds + 1) * 4;
    std::memcpy(w, key, static_cast<size_t>(nk) * 4);  // little-endian words
    uint32_t rcon = 1;
    for (int i = nk; i < total; ++i) {
        uint32_t t = w[i - 1];
        if (i % nk == 0) {
            t = static_cast<uint32_t>(_mm_extract_epi32(keygen_assist(t), 3)) ^ rcon;
            rcon = (rcon << 1) ^ ((rcon & 0x80) ? 0x11b : 0);
        } else if (nk > 6 && i % nk == 4) {
            t = static_cast<uint32_t>(_mm_extract_epi32(keygen_assist(t), 2));
        }
        w[i] = w[i - nk] ^ t;
    }
    std::memcpy(out, w, static_cast<size_t>(total) * 4);
    OPENSSL_cleanse(w, sizeof(w));
}

// W chains advanced by `steps` blocks each.  W and R are compile-time and the
// lane and round loops are unrolled explicitly (-O2 would not), so the W
// states stay in registers and every round issues W independent aesenc,
// which hides the instruction latency.  Rolled, each state went through the
// stack between rounds: 2.3 GB/s for 8 lanes instead of 7+.
template <int W, int R>
KNET_AESNI void cbc_steps(const __m128i* rk, __m128i* chain, const uint8_t* const* in,
                          uint8_t* const* out, size_t steps) {
    __m128i c[W];
    const uint8_t* src[W];
    uint8_t* dst[W];
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) {
        c[j] = chain[j];
        src[j] = in[j];
        dst[j] = out[j];
    }
    for (size_t s = 0; s < steps; ++s) {
        const size_t off = s * 16;
        const __m128i k0 = _mm_load_si128(rk);
#pragma GCC unroll 8
        for (int j = 0; j < W; ++j) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src[j] + off));
            c[j] = _mm_xor_si128(_mm_xor_si128(c[j], x), k0);
        }
#pragma GCC unroll 14
        for (int r = 1; r < R; ++r) {
            const __m128i kr = _mm_load_si128(rk + r);
#pragma GCC unroll 8
            for (int j = 0; j < W; ++j)
                c[j] = _mm_aesenc_si128(c[j], kr);
        }
        const __m128i kl = _mm_load_si128(rk + R);
#pragma GCC unroll 8
        for (int j = 0; j < W; ++j) {
            c[j] = _mm_aesenclast_si128(c[j], kl);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst[j] + off), c[j]);
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j)
        chain[j] = c[j];
}

inline const __m128i* block(const uint8_t* p) { return reinterpret_cast<const __m128i*>(p); }
inline __m128i* block(uint8_t* p) { return reinterpret_cast<__m128i*>(p); }

// The same with VAES: W chains, two per 256-bit register (lane 2p in the
// low half, 2p+1 in the high half; an odd last lane in a 128-bit register).
// With 16 chains every round issues 8 vaesenc of two blocks each, twice
// the blocks per instruction of 8 xmm chains.
// rk2: the round keys broadcast to both halves.
template <int W, int R>
KNET_VAES void cbc_steps_wide(const __m128i* rk, const __m256i* rk2, __m128i* chain,
                              const uint8_t* const* in, uint8_t* const* out, size_t steps) {
    constexpr int P = W / 2;
    constexpr bool kOdd = W % 2;
    __m256i c[P > 0 ? P : 1];
    __m128i odd = _mm_setzero_si128();
    const uint8_t* src[W];
    uint8_t* dst[W];
#pragma GCC unroll 16
    for (int j = 0; j < W; ++j) {
        src[j] = in[j];
        dst[j] = out[j];
    }
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) c[p] = _mm256_set_m128i(chain[2 * p + 1], chain[2 * p]);
    if constexpr (kOdd) odd = chain[W - 1];
    for (size_t s = 0; s < steps; ++s) {
        const size_t off = s * 16;
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
            const __m256i x =
                _mm256_loadu2_m128i(block(src[2 * p + 1] + off), block(src[2 * p] + off));
            c[p] = _mm256_xor_si256(_mm256_xor_si256(c[p], x), rk2[0]);
        }
        if constexpr (kOdd)
            odd = _mm_xor_si128(_mm_xor_si128(odd, _mm_loadu_si128(block(src[W - 1] + off))),
                                rk[0]);
#pragma GCC unroll 14
        for (int r = 1; r < R; ++r) {
#pragma GCC unroll 8
            for (int p = 0; p < P; ++p) c[p] = _mm256_aesenc_epi128(c[p], rk2[r]);
            if constexpr (kOdd) odd = _mm_aesenc_si128(odd, rk[r]);
        }
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
            c[p] = _mm256_aesenclast_epi128(c[p], rk2[R]);
            _mm256_storeu2_m128i(block(dst[2 * p + 1] + off), block(dst[2 * p] + off), c[p]);
        }
        if constexpr (kOdd) {
            odd = _mm_aesenclast_si128(odd, rk[R]);
            _mm_storeu_si128(block(dst[W - 1] + off), odd);
        }
    }
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
        chain[2 * p] = _mm256_castsi256_si128(c[p]);
        chain[2 * p + 1] = _mm256_extracti128_si256(c[p], 1);
    }
    if constexpr (kOdd) chain[W - 1] = odd;
}

constexpr int kLanes = 8;       // AES-NI: chains in flight
constexpr int kWideLanes = 16;  // VAES

using StepFn = void (*)(const __m128i*, const __m256i*, __m128i*, const uint8_t* const*,
                        uint8_t* const*, size_t);

template <int W, int R>
KNET_AESNI void narrow_steps(const __m128i* rk, const __m256i*, __m128i* chain,
                             const uint8_t* const* in, uint8_t* const* out, size_t steps) {
    cbc_steps<W, R>(rk, chain, in, out, steps);
}

template <int R>
constexpr StepFn kStepTable[kLanes + 1] = {
    nullptr,
    narrow_steps<1, R>, narrow_steps<2, R>, narrow_steps<3, R>, narrow_steps<4, R>,
    narrow_steps<5, R>, narrow_steps<6, R>, narrow_steps<7, R>, narrow_steps<8, R>,
};

// One chain alone gains nothing from the wide registers.
template <int R>
constexpr StepFn kWideStepTable[kWideLanes + 1] = {
    nullptr,
    narrow_steps<1, R>,     cbc_steps_wide<2, R>,   cbc_steps_wide<3, R>,   cbc_steps_wide<4, R>,
    cbc_steps_wide<5, R>,   cbc_steps_wide<6, R>,   cbc_steps_wide<7, R>,   cbc_steps_wide<8, R>,
    cbc_steps_wide<9, R>,   cbc_steps_wide<10, R>,  cbc_steps_wide<11, R>,  cbc_steps_wide<12, R>,
    cbc_steps_wide<13, R>,  cbc_steps_wide<14, R>,  cbc_steps_wide<15, R>,  cbc_steps_wide<16, R>,
};

template <int R>
const StepFn* step_table(bool wide) {
    return wide ? kWideStepTable<R> : kStepTable<R>;
}

KNET_VAES void broadcast_keys(const __m128i* rk, int rounds, __m256i* rk2) {
    for (int r = 0; r <= rounds; ++r) rk2[r] = _mm256_broadcastsi128_si256(_mm_load_si128(rk + r));
}

// width: kLanes or kWideLanes (the caller checked the CPU for the latter).
KNET_AESNI void encrypt_multi(const AesEncryptKey& k, const CbcLane* lanes, size_t n, int width) {
    const bool wide = width == kWideLanes;
    const StepFn* table = k.rounds() == 10   ? step_table<10>(wide)
                          : k.rounds() == 12 ? step_table<12>(wide)
                                             : step_table<14>(wide);
    const auto* rk = reinterpret_cast<const __m128i*>(k.round_keys());
    alignas(32) __m256i rk2[AesRoundKeys::kMaxRounds + 1];
    if (wide) broadcast_keys(rk, k.rounds(), rk2);

    // Active slots: chain value, next block in and out, blocks left.
    alignas(16) __m128i chain[kWideLanes];
    const uint8_t* in[kWideLanes];
    uint8_t* out[kWideLanes];
    size_t left[kWideLanes];
    int active = 0;
    size_t next = 0;

    for (;;) {
        while (active < width && next < n) {
            const CbcLane& l = lanes[next++];
            if (l.blocks == 0)
                continue;
            chain[active] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(l.iv));
            in[active] = l.in;
            out[active] = l.out;
            left[active] = l.blocks;
            ++active;
        }
        if (active == 0)
            break;

        // Run all slots until the shortest finishes, then refill its place.
        const size_t steps = *std::min_element(left, left + active);
        table[active](rk, rk2, chain, in, out, steps);
        for (int j = 0; j < active; ++j) {
            left[j] -= steps;
            in[j] += steps * 16;
            out[j] += steps * 16;
        }
        for (int j = 0; j < active;) {
            if (left[j] == 0) {
                --active;
                chain[j] = chain[active];
                in[j] = in[active];
                out[j] = out[active];
                left[j] = left[active];
            } else {
                ++j;
            }
        }
    }
    if (wide) OPENSSL_cleanse(rk2, sizeof(rk2));  // a copy of the key schedule
}

}  // namespace

bool AesEncryptKey::init(const uint8_t* key, size_t key_len) {
    clear();
    if (!aes_cbc_multi_supported() || key == nullptr ||
        (key_len != 16 && key_len != 24 && key_len != 32))
        return false;
    const int nk = static_cast<int>(key_len / 4);
    const int rounds = nk + 6;
    expand_key(key, nk, rounds, rk_);
    rounds_ = rounds;
    return true;
}

void aes_cbc_encrypt_multi(const AesEncryptKey& k, const CbcLane* lanes, size_t n) {
    if (n == 0)
        return;
    if (k.rounds() == 0)
        std::abort();  // uninitialised key: refuse rather than emit garbage
    encrypt_multi(k, lanes, n, static_cast<int>(aes_cbc_multi_width()));
}

size_t aes_cbc_multi_width() {
    static const size_t width = aes_cbc_decrypt_wide_supported() ? kWideLanes : kLanes;
    return width;
}

bool aes_cbc_encrypt_multi_width(const AesEncryptKey& k, const CbcLane* lanes, size_t n,
                                 size_t width) {
    if (k.rounds() == 0 || (width != kLanes && width != kWideLanes)) return false;
    if (width == kWideLanes && !aes_cbc_decrypt_wide_supported()) return false;
    if (n) encrypt_multi(k, lanes, n, static_cast<int>(width));
    return true;
}

#else  // !__x86_64__

bool aes_cbc_multi_supported() { return false; }

bool AesEncryptKey::init(const uint8_t*, size_t) {
    clear();
    return false;
}

void aes_cbc_encrypt_multi(const AesEncryptKey&, const CbcLane*, size_t n) {
    if (n != 0)
        std::abort();  // callers must check aes_cbc_multi_supported() first
}

size_t aes_cbc_multi_width() { return 0; }

bool aes_cbc_encrypt_multi_width(const AesEncryptKey&, const CbcLane*, size_t, size_t) {
    return false;
}

#endif

}  // namespace knet::crypto
