// AES-CBC decryption with VAES, see aes_cbc_decrypt.h.
//
// Only the functions marked KNET_VAES are compiled for those instructions;
// the rest of the library stays baseline x86-64 and callers check the CPU at
// run time.
#include "crypto/aes_cbc_decrypt.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>

#include "crypto/aes_cbc_multi.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define KNET_VAES __attribute__((target("aes,avx,avx2,vaes")))
#endif

namespace knet::crypto {

#if defined(__x86_64__)

bool aes_cbc_decrypt_wide_supported() {
    static const bool ok = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
        const bool aes = c & bit_AES, avx = c & bit_AVX, osxsave = c & bit_OSXSAVE;
        if (!aes || !avx || !osxsave) return false;
        // The OS must save the SSE and AVX register state (XCR0 bits 1, 2).
        unsigned lo = 0, hi = 0;
        __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        if ((lo & 6u) != 6u) return false;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
        return (b & bit_AVX2) && (c & bit_VAES);
    }();
    return ok && aes_cbc_multi_supported();
}

namespace {

// Block pairs kept in flight: 8 registers of 2 blocks.
constexpr int kPairs = 8;
constexpr size_t kGroup = 2 * kPairs;  // blocks per loop

KNET_VAES inline __m256i load2(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// N registers of cipher text (2 blocks each) through the R rounds, in place.
template <int R, int N>
KNET_VAES inline void decrypt_pairs(const __m256i* k, __m256i* x) {
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) x[j] = _mm256_xor_si256(x[j], k[0]);
#pragma GCC unroll 14
    for (int r = 1; r < R; ++r) {
#pragma GCC unroll 8
        for (int j = 0; j < N; ++j) x[j] = _mm256_aesdec_epi128(x[j], k[r]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) x[j] = _mm256_aesdeclast_epi128(x[j], k[R]);
}

// Everything after a group: one pair of blocks at a time, then the odd one.
// `prev` holds the cipher text block before `in` in its high half.
template <int R>
KNET_VAES void decrypt_tail(const __m256i* k, __m256i prev, const uint8_t* in, uint8_t* out,
                            size_t blocks) {
    for (; blocks >= 2; blocks -= 2, in += 32, out += 32) {
        __m256i x[1] = {load2(in)};
        const __m256i c = x[0];
        decrypt_pairs<R, 1>(k, x);
        // (prev high, c low): the cipher text one block earlier.
        const __m256i chain = _mm256_permute2x128_si256(prev, c, 0x21);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_xor_si256(x[0], chain));
        prev = c;
    }
    if (blocks) {
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
        __m128i x = _mm_xor_si128(c, _mm256_castsi256_si128(k[0]));
#pragma GCC unroll 14
        for (int r = 1; r < R; ++r) x = _mm_aesdec_si128(x, _mm256_castsi256_si128(k[r]));
        x = _mm_aesdeclast_si128(x, _mm256_castsi256_si128(k[R]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                         _mm_xor_si128(x, _mm256_extracti128_si256(prev, 1)));
    }
}

// Every cipher text block a group needs is loaded before its plain text is
// stored, and the last one is carried in a register, so out may equal in.
template <int R>
KNET_VAES void decrypt_cbc(const uint8_t* rk_bytes, const uint8_t* iv, const uint8_t* in,
                           uint8_t* out, size_t blocks) {
    __m256i k[R + 1];
    const auto* rk = reinterpret_cast<const __m128i*>(rk_bytes);
#pragma GCC unroll 15
    for (int r = 0; r <= R; ++r) k[r] = _mm256_broadcastsi128_si256(_mm_load_si128(rk + r));

    __m256i prev = _mm256_inserti128_si256(
        _mm256_setzero_si256(), _mm_loadu_si128(reinterpret_cast<const __m128i*>(iv)), 1);
    for (; blocks >= kGroup; blocks -= kGroup, in += 16 * kGroup, out += 16 * kGroup) {
        __m256i c[kPairs], x[kPairs];
#pragma GCC unroll 8
        for (int j = 0; j < kPairs; ++j) x[j] = c[j] = load2(in + 32 * j);
        decrypt_pairs<R, kPairs>(k, x);
#pragma GCC unroll 8
        for (int j = 0; j < kPairs; ++j) {
            const __m256i chain = _mm256_permute2x128_si256(j ? c[j - 1] : prev, c[j], 0x21);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * j),
                                _mm256_xor_si256(x[j], chain));
        }
        prev = c[kPairs - 1];
    }
    decrypt_tail<R>(k, prev, in, out, blocks);
    OPENSSL_cleanse(k, sizeof(k));  // the round keys spilled to the stack
}

// Decryption runs the encryption round keys backwards, the inner ones
// through InvMixColumns (aesimc).
KNET_VAES void invert_schedule(const __m128i* ek, __m128i* dk, int rounds) {
    dk[0] = _mm_load_si128(ek + rounds);
    for (int r = 1; r < rounds; ++r) dk[r] = _mm_aesimc_si128(_mm_load_si128(ek + rounds - r));
    dk[rounds] = _mm_load_si128(ek);
}

}  // namespace

bool AesDecryptKey::init(const uint8_t* key, size_t key_len) {
    clear();
    if (!aes_cbc_decrypt_wide_supported()) return false;
    AesEncryptKey enc;
    if (!enc.init(key, key_len)) return false;
    const int rounds = enc.rounds();
    invert_schedule(reinterpret_cast<const __m128i*>(enc.round_keys()),
                    reinterpret_cast<__m128i*>(rk_), rounds);
    rounds_ = rounds;
    return true;
}

void aes_cbc_decrypt_wide(const AesDecryptKey& k, const uint8_t* iv, const uint8_t* in,
                          uint8_t* out, size_t blocks) {
    if (blocks == 0) return;
    switch (k.rounds()) {
    case 10: return decrypt_cbc<10>(k.round_keys(), iv, in, out, blocks);
    case 12: return decrypt_cbc<12>(k.round_keys(), iv, in, out, blocks);
    case 14: return decrypt_cbc<14>(k.round_keys(), iv, in, out, blocks);
    default: std::abort();  // uninitialised key: refuse rather than emit garbage
    }
}

#else  // !__x86_64__

bool aes_cbc_decrypt_wide_supported() { return false; }

bool AesDecryptKey::init(const uint8_t*, size_t) {
    clear();
    return false;
}

void aes_cbc_decrypt_wide(const AesDecryptKey&, const uint8_t*, const uint8_t*, uint8_t*,
                          size_t blocks) {
    if (blocks != 0) std::abort();  // callers must check aes_cbc_decrypt_wide_supported() first
}

#endif

}  // namespace knet::crypto
