// Multi-buffer AES-CBC encryption, see aes_cbc_multi.h.
//
// Only the functions marked KNET_AESNI are compiled for AES-NI; the rest of
// the library stays baseline x86-64 and callers check the CPU at run time.
#include "crypto/aes_cbc_multi.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define KNET_AESNI __attribute__((target("aes,sse4.1")))
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

constexpr int kLanes = 8;

using StepFn = void (*)(const __m128i*, __m128i*, const uint8_t* const*, uint8_t* const*, size_t);

template <int R>
constexpr StepFn kStepTable[kLanes + 1] = {
    nullptr,           cbc_steps<1, R>, cbc_steps<2, R>, cbc_steps<3, R>, cbc_steps<4, R>,
    cbc_steps<5, R>,   cbc_steps<6, R>, cbc_steps<7, R>, cbc_steps<8, R>,
};

KNET_AESNI void encrypt_multi(const AesEncryptKey& k, const CbcLane* lanes, size_t n) {
    const StepFn* table = k.rounds() == 10   ? kStepTable<10>
                          : k.rounds() == 12 ? kStepTable<12>
                                             : kStepTable<14>;
    const auto* rk = reinterpret_cast<const __m128i*>(k.round_keys());

    // Active slots: chain value, next block in and out, blocks left.
    alignas(16) __m128i chain[kLanes];
    const uint8_t* in[kLanes];
    uint8_t* out[kLanes];
    size_t left[kLanes];
    int active = 0;
    size_t next = 0;

    for (;;) {
        while (active < kLanes && next < n) {
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
            return;

        // Run all slots until the shortest finishes, then refill its place.
        const size_t steps = *std::min_element(left, left + active);
        table[active](rk, chain, in, out, steps);
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
    encrypt_multi(k, lanes, n);
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

#endif

}  // namespace knet::crypto
