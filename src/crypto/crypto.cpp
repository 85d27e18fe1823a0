// Crypto front end: model table, configuration validation, the factory and
// the reference's data-MTU arithmetic.
#include "crypto/crypto.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "crypto/backend.h"

namespace knet::crypto {

namespace {

enum class Model { nss, openssl };

struct ModelEntry {
    const char* name;
    Model model;
};

// The reference's order (crypto.c in 1.25): nss first, then openssl.
constexpr ModelEntry kModels[] = {
    {"nss", Model::nss},
    {"openssl", Model::openssl},
};

constexpr const char* kModelNames[] = {"nss", "openssl"};

const ModelEntry* find_model(const knet_handle_crypto_cfg& cfg) {
    auto name = detail::name_field(cfg.crypto_model);
    if (!name) return nullptr;
    for (const auto& m : kModels)
        if (*name == m.name) return &m;
    return nullptr;
}

bool starts_with_none(const char* field, size_t size) {
    return strncmp(field, "none", size < 4 ? size : 4) == 0;
}

// Round trip of a header-sized buffer, as later libknet versions do before
// accepting a configuration; also proves Instance::encrypted_size().
Status self_test(const Instance& inst) {
    uint8_t clear[26];
    memset(clear, 'U', sizeof(clear));
    std::vector<uint8_t> wire(sizeof(clear) + inst.overhead_max());
    std::vector<uint8_t> back(wire.size());
    size_t wire_len = 0, back_len = 0;
    if (!inst.encrypt(clear, sizeof(clear), wire.data(), wire.size(), &wire_len)) return Error{EINVAL};
    if (wire_len != inst.encrypted_size(sizeof(clear))) return Error{EINVAL};
    if (!inst.decrypt(wire.data(), wire_len, back.data(), back.size(), &back_len)) return Error{EINVAL};
    if (back_len != sizeof(clear) || memcmp(back.data(), clear, sizeof(clear)) != 0)
        return Error{EINVAL};
    return {};
}

}  // namespace

std::span<const char* const> model_names() { return kModelNames; }

bool config_disables_crypto(const knet_handle_crypto_cfg& cfg) {
    if (starts_with_none(cfg.crypto_model, sizeof(cfg.crypto_model))) return true;
    return starts_with_none(cfg.crypto_cipher_type, sizeof(cfg.crypto_cipher_type)) &&
           starts_with_none(cfg.crypto_hash_type, sizeof(cfg.crypto_hash_type));
}

Status check_key_length(const knet_handle_crypto_cfg& cfg) {
    if (cfg.private_key_len < KNET_MIN_KEY_LEN || cfg.private_key_len > KNET_MAX_KEY_LEN)
        return Error{EINVAL};
    return {};
}

Status validate(const knet_handle_crypto_cfg& cfg) {
    if (Status s = check_key_length(cfg); !s) return s;
    const ModelEntry* m = find_model(cfg);
    if (!m) return Error{EINVAL};
    auto cipher = detail::name_field(cfg.crypto_cipher_type);
    if (!cipher) return Error{ENXIO};
    auto hash = detail::name_field(cfg.crypto_hash_type);
    if (!hash) return Error{ENXIO};
    switch (m->model) {
        case Model::nss:
            return detail::nss_check_names(cfg.crypto_cipher_type, cfg.crypto_hash_type);
        case Model::openssl:
            return detail::openssl_check_names(cfg.crypto_cipher_type, cfg.crypto_hash_type);
    }
    return Error{EINVAL};
}

Result<std::unique_ptr<Instance>> create(const knet_handle_crypto_cfg& cfg, log::Logger* log) {
    if (config_disables_crypto(cfg)) return Error{EINVAL};
    if (Status s = validate(cfg); !s) {
        KNET_LOG_E(log, KNET_SUB_CRYPTO, "crypto config [%.16s/%.16s/%.16s] rejected: %s",
                   cfg.crypto_model, cfg.crypto_cipher_type, cfg.crypto_hash_type,
                   strerror(s.error()));
        return Error{s.error()};
    }
    KNET_LOG_D(log, KNET_SUB_CRYPTO, "Initializing crypto module [%s/%s/%s]", cfg.crypto_model,
               cfg.crypto_cipher_type, cfg.crypto_hash_type);
    const ModelEntry* m = find_model(cfg);
    auto inst = m->model == Model::nss ? detail::nss_create(cfg, log)
                                       : detail::openssl_create(cfg, log);
    if (!inst) return inst;
    if (Status s = self_test(**inst); !s) {
        KNET_LOG_E(log, KNET_SUB_CRYPTO,
                   "crypto config [%s/%s/%s] failed its encrypt/decrypt self test",
                   cfg.crypto_model, cfg.crypto_cipher_type, cfg.crypto_hash_type);
        return Error{s.error()};
    }
    return inst;
}

size_t data_outlen(const Overhead& o, size_t inlen) {
    size_t out = inlen;
    if (o.block) out += o.block - (inlen % o.block);
    return out + o.salt + o.hash;
}

size_t max_data_outlen(const Overhead& o, size_t inlen, size_t header_all_size) {
    if (inlen < o.salt + o.hash) return 0;
    size_t x = inlen - o.salt - o.hash;
    if (o.block) {
        size_t cut = x % o.block + 1;
        if (x < cut) return 0;
        x -= cut;
    }
    return x > header_all_size ? x - header_all_size : 0;
}

size_t min_mtu(const Overhead& o, size_t header_all_size) {
    // KNET_PMTUD_MIN_MTU_V4 - (KNET_PMTUD_OVERHEAD_V6 + KNET_PMTUD_SCTP_OVERHEAD)
    return max_data_outlen(o, 576 - (40 + 12 + 16), header_all_size);
}

namespace detail {

bool iov_total(const struct iovec* iov, int iovcnt, size_t* total) {
    if (iovcnt < 0 || (iovcnt > 0 && !iov)) return false;
    size_t sum = 0;
    for (int i = 0; i < iovcnt; ++i) {
        if (iov[i].iov_len && !iov[i].iov_base) return false;
        if (iov[i].iov_len > SIZE_MAX - sum) return false;
        sum += iov[i].iov_len;
    }
    *total = sum;
    return true;
}

}  // namespace detail

}  // namespace knet::crypto
