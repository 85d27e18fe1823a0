// Micro benchmark: AES-256-CBC encryption of a batch of packets, OpenSSL EVP
// one packet at a time (key schedule set once, new IV per packet, as the
// openssl crypto model does) vs aes_cbc_encrypt_multi with 8 AES-NI lanes
// and with 16 VAES lanes (0 where the CPU has no VAES).
//   aes_cbc_multi_bench [seconds per case, default 0.5]
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "micro_measure.h"
#include "crypto/aes_cbc_multi.h"

using knet::crypto::AesEncryptKey;
using knet::crypto::CbcLane;

using knet::bench::measure;

int main(int argc, char** argv) {
    const double secs = argc > 1 ? std::atof(argv[1]) : 0.5;
    if (!knet::crypto::aes_cbc_multi_supported()) {
        std::printf("AES-NI not supported on this CPU/build\n");
        return 0;
    }
    uint8_t key[32];
    for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i * 13 + 1);
    AesEncryptKey k;
    if (!k.init(key, sizeof(key))) return 1;

    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, key, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        return 1;

    std::printf("aes-256-cbc encryption, 1 thread, MB/s (10^6 bytes/s)\n");
    std::printf("%8s %8s %12s %12s %12s %12s %8s\n", "packet", "batch", "evp-1by1", "multi-8",
                "multi-16", "multi-1", "speedup");
    for (size_t pkt : {64000u, 1400u}) {
        const size_t blocks = (pkt + 15) / 16;
        const size_t batch = 64;  // packets per call, e.g. one send round
        std::vector<uint8_t> data(batch * blocks * 16, 0x42), out(data.size() + 16);
        std::vector<uint8_t> ivs(batch * 16);
        for (size_t i = 0; i < ivs.size(); ++i) ivs[i] = static_cast<uint8_t>(i * 31);
        const size_t bytes = batch * blocks * 16;

        const double evp = measure(secs, bytes, [&] {
            for (size_t p = 0; p < batch; ++p) {
                int n = 0, f = 0;
                if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, &ivs[p * 16]) != 1 ||
                    EVP_EncryptUpdate(ctx, out.data(), &n, &data[p * blocks * 16],
                                      static_cast<int>(blocks * 16)) != 1 ||
                    EVP_EncryptFinal_ex(ctx, out.data() + n, &f) != 1)
                    std::abort();
            }
        });
        std::vector<CbcLane> lanes(batch);
        for (size_t p = 0; p < batch; ++p) {
            uint8_t* d = &data[p * blocks * 16];
            lanes[p] = {&ivs[p * 16], d, d, blocks};
        }
        const double multi = measure(secs, bytes, [&] {
            knet::crypto::aes_cbc_encrypt_multi_width(k, lanes.data(), lanes.size(), 8);
        });
        const double wide = knet::crypto::aes_cbc_multi_width() < 16 ? 0.0 : measure(secs, bytes, [&] {
            knet::crypto::aes_cbc_encrypt_multi_width(k, lanes.data(), lanes.size(), 16);
        });
        // One lane per call: the plain serial CBC of the same code.
        const double single = measure(secs, bytes, [&] {
            for (size_t p = 0; p < batch; ++p) knet::crypto::aes_cbc_encrypt_multi(k, &lanes[p], 1);
        });
        std::printf("%8zu %8zu %12.0f %12.0f %12.0f %12.0f %7.2fx\n", pkt, batch, evp, multi, wide, single,
                    std::max(multi, wide) / evp);
    }
    EVP_CIPHER_CTX_free(ctx);
    return 0;
}
