// crypto decrypt of arbitrary bytes with a fixed key (openssl and nss,
// aes256 + sha256): garbage is rejected without a crash; with "authentic"
// inputs (the target signs them) decryption and unpadding are fuzzed too.
// decrypt_many() on a pair of copies must give decrypt()'s result.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "crypto/crypto.h"
#include "fuzz_common.h"

using namespace knet;

static const crypto::Instance& instance(int which) {
    static std::unique_ptr<crypto::Instance> inst[2];
    if (!inst[which]) {
        knet_handle_crypto_cfg cfg;
        fuzz::fill_key(cfg, which ? "nss" : "openssl");
        auto r = crypto::create(cfg, nullptr);
        FUZZ_CHECK(r.ok());
        inst[which] = std::move(r.value());
    }
    return *inst[which];
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const crypto::Instance& inst = instance(data[0] & 1);
    const bool authentic = (data[0] & 2) != 0;
    std::vector<uint8_t> in(data + 1, data + size);
    if (authentic) {
        knet_handle_crypto_cfg cfg;
        fuzz::fill_key(cfg, "openssl");
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        HMAC(EVP_sha256(), cfg.private_key, static_cast<int>(cfg.private_key_len), in.data(),
             in.size(), mac, &mac_len);
        in.insert(in.end(), mac, mac + mac_len);
    }
    static std::vector<uint8_t> out(KNET_MAX_PACKET_SIZE + 64);
    size_t out_len = 0;
    Status s = inst.decrypt(in.data(), in.size(), out.data(), out.size(), &out_len);
    // Accepted: salt + at least one byte of padding + MAC were removed.
    if (s.ok()) FUZZ_CHECK(out_len + crypto::kSaltSize + 1 + 32 <= in.size());
    else FUZZ_CHECK(s.error() == EMSGSIZE || s.error() == EBADMSG || s.error() == ENOBUFS);

    // The batch path (a pair, as the rx pipeline hands it over) must agree.
    static std::vector<uint8_t> outs[2] = {std::vector<uint8_t>(out.size()), std::vector<uint8_t>(out.size())};
    crypto::DecryptJob jobs[2];
    for (int i = 0; i < 2; ++i) jobs[i] = {in.data(), in.size(), outs[i].data(), outs[i].size(), 0, {}};
    inst.decrypt_many(jobs, 2);
    for (const crypto::DecryptJob& j : jobs) {
        FUZZ_CHECK(j.status.ok() == s.ok());
        if (s.ok()) FUZZ_CHECK(j.out_len == out_len);
        else FUZZ_CHECK(j.status.error() == s.error());
    }
    return 0;
}
