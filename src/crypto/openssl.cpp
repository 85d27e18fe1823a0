// The "openssl" crypto model (OpenSSL 3 EVP API).
//
// Names are resolved exactly as the reference does (EVP_get_cipherbyname /
// EVP_get_digestbyname), then the implementations are fetched once so the
// per-packet path never does a provider lookup.  Each pool slot holds an
// encrypt and a decrypt EVP_CIPHER_CTX with the key schedule already set
// (per packet only the IV is re-initialised) and an HMAC EVP_MAC_CTX keyed
// once (per packet EVP_MAC_init with a null key restarts it).
//
// Batches of AES-CBC packets and HMAC-SHA256 run through our interleaved
// code (batched.h), except when OpenSSL runs in FIPS mode.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "crypto/backend.h"
#include "crypto/batched.h"
#include "crypto/context_pool.h"

namespace knet::crypto::detail {

namespace {

struct CipherDeleter {
    void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
struct MacDeleter {
    void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherDeleter>;
using MacPtr = std::unique_ptr<EVP_MAC, MacDeleter>;

// One thread's working contexts.
struct Slot {
    EVP_CIPHER_CTX* enc = nullptr;
    EVP_CIPHER_CTX* dec = nullptr;
    EVP_MAC_CTX* mac = nullptr;

    Slot() = default;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {
        EVP_CIPHER_CTX_free(enc);
        EVP_CIPHER_CTX_free(dec);
        EVP_MAC_CTX_free(mac);
    }
};

// OpenSSL fetches from its FIPS provider by default: every primitive must
// then come from OpenSSL, so our own AES-CBC and HMAC-SHA256 stand aside.
bool fips_mode() { return EVP_default_properties_is_fips_enabled(nullptr) == 1; }

class OpensslInstance final : public BatchedInstance {
public:
    OpensslInstance(log::Logger* log, const uint8_t* key, size_t key_len)
        : log_(log), key_(key, key + key_len), pool_([this] { return make_slot(); }) {}

    ~OpensslInstance() override { OPENSSL_cleanse(key_.data(), key_.size()); }

    Status init(const char* cipher_name, const char* hash_name) {
        if (strcmp(cipher_name, "none") != 0) {
            const EVP_CIPHER* legacy = EVP_get_cipherbyname(cipher_name);
            if (!legacy) return Error{ENXIO};
            cipher_.reset(EVP_CIPHER_fetch(nullptr, EVP_CIPHER_get0_name(legacy), nullptr));
            if (!cipher_) {
                ERR_clear_error();
                KNET_LOG_E(log_, KNET_SUB_OPENSSLCRYPTO,
                           "cipher %s is known but not available from the loaded providers",
                           cipher_name);
                return Error{EINVAL};
            }
            const int iv_len = EVP_CIPHER_get_iv_length(cipher_.get());
            const int key_len = EVP_CIPHER_get_key_length(cipher_.get());
            if (iv_len < 0 || static_cast<size_t>(iv_len) > kSaltSize || key_len <= 0 ||
                static_cast<size_t>(key_len) > key_.size()) {
                KNET_LOG_E(log_, KNET_SUB_OPENSSLCRYPTO,
                           "cipher %s needs iv %d / key %d bytes: not usable", cipher_name,
                           iv_len, key_len);
                return Error{EINVAL};
            }
            ov_.salt = kSaltSize;
            ov_.block = static_cast<size_t>(EVP_CIPHER_get_block_size(cipher_.get()));
            const int nid = EVP_CIPHER_get_nid(cipher_.get());
            if ((nid == NID_aes_128_cbc || nid == NID_aes_192_cbc || nid == NID_aes_256_cbc) &&
                aes_cbc_multi_supported() && !fips_mode())
                enable_aes_cbc_lanes(key_.data(), static_cast<size_t>(key_len));
        }
        if (strcmp(hash_name, "none") != 0) {
            const EVP_MD* md = EVP_get_digestbyname(hash_name);
            if (!md) return Error{ENXIO};
            const int size = EVP_MD_get_size(md);
            if (size <= 0) return Error{EINVAL};
            ov_.hash = static_cast<size_t>(size);
            digest_name_ = EVP_MD_get0_name(md);
            if (EVP_MD_get_type(md) == NID_sha256 && sha256_multi_supported() && !fips_mode())
                enable_fast_hmac(key_.data(), key_.size());
            mac_alg_.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
            if (!mac_alg_) {
                ERR_clear_error();
                KNET_LOG_E(log_, KNET_SUB_OPENSSLCRYPTO, "unable to fetch HMAC");
                return Error{ENXIO};
            }
            params_[0] = OSSL_PARAM_construct_utf8_string("digest", digest_name_.data(), 0);
            params_[1] = OSSL_PARAM_construct_end();
        }
        if (cipher_ && !mac_alg_) return Error{EINVAL};
        // Build one slot now so a bad key/algorithm fails here, not per packet.
        if (!pool_.acquire()) return Error{EINVAL};
        return {};
    }

    const char* model() const override { return "openssl"; }
    Overhead overhead() const override { return ov_; }

    Status encrypt(const struct iovec* iov, int iovcnt, uint8_t* out, size_t out_cap,
                   size_t* out_len) const override {
        size_t total = 0;
        if (!out || !out_len || !iov_total(iov, iovcnt, &total)) return Error{EINVAL};
        if (total > kMaxInput) return Error{EMSGSIZE};
        if (out_cap < total + overhead_max()) return Error{ENOBUFS};
        auto slot = pool_.acquire();
        if (!slot) return Error{EIO};

        size_t len = 0;
        if (cipher_) {
            if (RAND_bytes(out, kSaltSize) != 1 ||
                EVP_EncryptInit_ex(slot->enc, nullptr, nullptr, nullptr, out) != 1)
                return fail("unable to start encryption");
            len = kSaltSize;
            for (int i = 0; i < iovcnt; ++i) {
                if (iov[i].iov_len == 0) continue;
                int n = 0;
                if (EVP_EncryptUpdate(slot->enc, out + len, &n,
                                      static_cast<const unsigned char*>(iov[i].iov_base),
                                      static_cast<int>(iov[i].iov_len)) != 1)
                    return fail("unable to encrypt");
                len += static_cast<size_t>(n);
            }
            int n = 0;
            if (EVP_EncryptFinal_ex(slot->enc, out + len, &n) != 1)
                return fail("unable to finalize encrypt");
            len += static_cast<size_t>(n);
        } else {
            for (int i = 0; i < iovcnt; ++i) {
                if (iov[i].iov_len) memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
                len += iov[i].iov_len;
            }
        }
        if (mac_alg_) {
            if (!hmac(*slot, out, len, out + len)) return fail("unable to calculate hash");
            len += ov_.hash;
        }
        *out_len = len;
        return {};
    }

protected:
    bool draw_salts(uint8_t* out, size_t n) const override {
        if (RAND_bytes(out, static_cast<int>(n)) == 1) return true;
        log_ssl_error("unable to draw salts");
        return false;
    }

    bool sign(const uint8_t* data, size_t len, uint8_t* mac) const override {
        auto slot = pool_.acquire();
        if (!slot) return false;
        if (hmac(*slot, data, len, mac)) return true;
        log_ssl_error("unable to calculate hash");
        return false;
    }

    Status check_mac(const uint8_t* computed, const uint8_t* received) const override {
        if (CRYPTO_memcmp(computed, received, ov_.hash) == 0) return {};
        KNET_LOG_D(log_, KNET_SUB_OPENSSLCRYPTO,
                   "Digest does not match. Check crypto key and configuration.");
        return Error{EBADMSG};
    }

    Status open(const uint8_t* in, size_t body, uint8_t* out, size_t out_cap,
                size_t* out_len) const override {
        if (!cipher_) return copy_clear(in, body, out, out_cap, out_len);
        if (body <= kSaltSize) return Error{EMSGSIZE};
        const size_t data_len = body - kSaltSize;
        if (out_cap < data_len + ov_.block) return Error{ENOBUFS};
        auto slot = pool_.acquire();
        if (!slot) return Error{EIO};
        int n1 = 0, n2 = 0;
        if (EVP_DecryptInit_ex(slot->dec, nullptr, nullptr, nullptr, in) != 1)
            return fail("unable to start decryption");
        if (EVP_DecryptUpdate(slot->dec, out, &n1, in + kSaltSize, static_cast<int>(data_len)) != 1 ||
            EVP_DecryptFinal_ex(slot->dec, out + n1, &n2) != 1) {
            ERR_clear_error();
            KNET_LOG_D(log_, KNET_SUB_OPENSSLCRYPTO, "Unable to decrypt packet");
            return Error{EBADMSG};
        }
        *out_len = static_cast<size_t>(n1) + static_cast<size_t>(n2);
        return {};
    }

private:
    std::unique_ptr<Slot> make_slot() {
        auto s = std::make_unique<Slot>();
        if (cipher_) {
            s->enc = EVP_CIPHER_CTX_new();
            s->dec = EVP_CIPHER_CTX_new();
            if (!s->enc || !s->dec ||
                EVP_EncryptInit_ex(s->enc, cipher_.get(), nullptr, key_.data(), nullptr) != 1 ||
                EVP_DecryptInit_ex(s->dec, cipher_.get(), nullptr, key_.data(), nullptr) != 1) {
                log_ssl_error("unable to set up cipher context");
                return nullptr;
            }
        }
        if (mac_alg_) {
            s->mac = EVP_MAC_CTX_new(mac_alg_.get());
            if (!s->mac || EVP_MAC_init(s->mac, key_.data(), key_.size(), params_) != 1) {
                log_ssl_error("unable to set up HMAC context");
                return nullptr;
            }
        }
        return s;
    }

    bool hmac(Slot& slot, const uint8_t* data, size_t len, uint8_t* mac) const {
        if (fast_hmac()) {
            fast_hmac_one(data, len, mac);
            return true;
        }
        size_t out = 0;
        return EVP_MAC_init(slot.mac, nullptr, 0, nullptr) == 1 &&
               EVP_MAC_update(slot.mac, data, len) == 1 &&
               EVP_MAC_final(slot.mac, mac, &out, ov_.hash) == 1 && out == ov_.hash;
    }

    void log_ssl_error(const char* what) const {
        unsigned long e = ERR_get_error();
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        KNET_LOG_E(log_, KNET_SUB_OPENSSLCRYPTO, "%s: %s", what, buf);
    }

    Status fail(const char* what) const {
        log_ssl_error(what);
        return Error{EIO};
    }

    log::Logger* log_;
    std::vector<uint8_t> key_;
    CipherPtr cipher_;
    MacPtr mac_alg_;
    std::string digest_name_;
    OSSL_PARAM params_[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
    Overhead ov_;
    ContextPool<Slot> pool_;
};

bool openssl_ready() {
    // No cleanup at exit: an application that exits with handles still
    // running (without knet_handle_free) must not have their threads call
    // into an OpenSSL already torn down by its atexit handler.
    static const bool ok = OPENSSL_init_crypto(OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS |
                                                   OPENSSL_INIT_NO_ATEXIT,
                                               nullptr) == 1;
    return ok;
}

}  // namespace

Status openssl_check_names(const char* cipher, const char* hash) {
    if (!openssl_ready()) return Error{EAGAIN};
    const bool has_cipher = strcmp(cipher, "none") != 0;
    const bool has_hash = strcmp(hash, "none") != 0;
    if (has_cipher && !EVP_get_cipherbyname(cipher)) return Error{ENXIO};
    if (has_hash && !EVP_get_digestbyname(hash)) return Error{ENXIO};
    if (has_cipher && !has_hash) return Error{EINVAL};
    return {};
}

Result<std::unique_ptr<Instance>> openssl_create(const knet_handle_crypto_cfg& cfg,
                                                 log::Logger* log) {
    if (!openssl_ready()) return Error{EAGAIN};
    KNET_LOG_D(log, KNET_SUB_OPENSSLCRYPTO, "Initializing openssl crypto module [%s/%s]",
               cfg.crypto_cipher_type, cfg.crypto_hash_type);
    auto inst = std::make_unique<OpensslInstance>(log, cfg.private_key, cfg.private_key_len);
    if (Status s = inst->init(cfg.crypto_cipher_type, cfg.crypto_hash_type); !s)
        return Error{s.error()};
    return std::unique_ptr<Instance>(std::move(inst));
}

}  // namespace knet::crypto::detail
