// Micro benchmark: HMAC-SHA256 of a batch of packets, OpenSSL EVP_MAC one
// packet at a time (as the openssl crypto model did) vs hmac_sha256_multi
// with batches of 8 (two SHA-NI streams interleaved) and, where the CPU has
// AVX-512, the 16-lane code alone on batches of 16 (hmac_sha256_x16).
//   hmac_sha256_multi_bench [seconds per case, default 0.5]
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "micro_measure.h"
#include "crypto/sha256_multi.h"

using knet::crypto::HmacMsg;
using knet::crypto::HmacSha256Key;

using knet::bench::measure;

int main(int argc, char** argv) {
    const double secs = argc > 1 ? std::atof(argv[1]) : 0.5;
    if (!knet::crypto::sha256_multi_supported()) {
        std::printf("SHA extensions not supported on this CPU/build\n");
        return 0;
    }
    uint8_t key[128];
    for (size_t i = 0; i < sizeof key; ++i) key[i] = static_cast<uint8_t>(i * 7 + 3);
    HmacSha256Key k;
    if (!k.init(key, sizeof key)) return 1;

    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx, key, sizeof key, params) != 1) return 1;

    std::printf("hmac-sha256, 1 thread, MB/s (10^6 bytes/s)\n");
    const bool x16 = knet::crypto::sha256_x16_supported();
    std::printf("%8s %8s %12s %12s %8s %12s %8s\n", "packet", "batch", "evp-1by1", "multi-x2", "speedup",
                "x16 (16)", "speedup");
    for (size_t pkt : {64000u, 8192u, 1400u, 100u}) {
        const size_t batch = 8, lanes = knet::crypto::kX16Lanes;
        std::vector<uint8_t> data(lanes * pkt, 0x5a), out(lanes * 32);
        std::vector<HmacMsg> msgs;
        for (size_t i = 0; i < lanes; ++i) msgs.push_back({&data[i * pkt], pkt, &out[i * 32]});
        const double evp = measure(secs, batch * pkt, [&] {
            for (size_t i = 0; i < batch; ++i) {
                size_t n = 0;
                EVP_MAC_init(ctx, nullptr, 0, nullptr);
                EVP_MAC_update(ctx, &data[i * pkt], pkt);
                EVP_MAC_final(ctx, &out[i * 32], &n, 32);
            }
        });
        const double multi =
            measure(secs, batch * pkt, [&] { knet::crypto::hmac_sha256_multi(k, msgs.data(), batch); });
        const double wide = !x16 ? 0 : measure(secs, lanes * pkt, [&] {
            knet::crypto::hmac_sha256_x16(k, msgs.data(), lanes);
        });
        std::printf("%8zu %8zu %12.0f %12.0f %7.2fx %12.0f %7.2fx\n", pkt, batch, evp, multi, multi / evp, wide,
                    wide / evp);
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return 0;
}
