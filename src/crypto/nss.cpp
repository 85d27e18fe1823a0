// The "nss" crypto model (Mozilla NSS, PKCS#11 soft token).
//
// Ciphers: aes128/aes192/aes256 in CBC with PKCS#7 padding (CKM_AES_CBC_PAD),
// keyed with the first 16/24/32 bytes of private_key.  Hashes: HMAC with
// md5/sha1/sha256/sha384/sha512 keyed with the whole private_key.  This is
// byte for byte the format the openssl model produces for aes-N-cbc.
//
// Per packet: the cipher runs as one PK11_Encrypt/PK11_Decrypt call with the
// packet's salt as IV (NSS offers no way to re-IV an existing context), the
// HMAC runs on a PK11Context cached in a pool slot and restarted with
// PK11_DigestBegin.  A slot also keeps a gather buffer for multi-part
// (iovec) input, since PK11_Encrypt wants one contiguous buffer.
//
// Batches of AES-CBC packets and HMAC-SHA256 run through our interleaved
// code (batched.h), except when NSS runs in FIPS mode (PK11_IsFIPS).  NSS
// encrypts one CBC chain at a time and 64 KB packets spent most of their
// time there.  Receiving, NSS still decrypts (CBC decryption runs its blocks
// in parallel already).
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secerr.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "crypto/aes_cbc_multi.h"
#include "crypto/backend.h"
#include "crypto/batched.h"
#include "crypto/context_pool.h"
#include "util/wipe.h"

namespace knet::crypto::detail {

namespace {

struct CipherInfo {
    const char* name;
    size_t key_len;
};
constexpr CipherInfo kCiphers[] = {{"aes256", 32}, {"aes192", 24}, {"aes128", 16}};

struct HashInfo {
    const char* name;
    CK_MECHANISM_TYPE mech;
    size_t len;
};
constexpr HashInfo kHashes[] = {
    {"md5", CKM_MD5_HMAC, 16},         {"sha1", CKM_SHA_1_HMAC, 20},
    {"sha256", CKM_SHA256_HMAC, 32},   {"sha384", CKM_SHA384_HMAC, 48},
    {"sha512", CKM_SHA512_HMAC, 64},
};

constexpr CK_MECHANISM_TYPE kCipherMech = CKM_AES_CBC_PAD;
constexpr size_t kAesBlock = 16;

const CipherInfo* find_cipher(const char* name) {
    for (const auto& c : kCiphers)
        if (strcmp(name, c.name) == 0) return &c;
    return nullptr;
}
const HashInfo* find_hash(const char* name) {
    for (const auto& h : kHashes)
        if (strcmp(name, h.name) == 0) return &h;
    return nullptr;
}

const char* nss_error() { return PR_ErrorToName(PR_GetError()) ? PR_ErrorToName(PR_GetError()) : "?"; }

// NSS is initialised once per process (reference counted with any other
// user in the process through NSS_InitContext) and never shut down.
bool nss_ready() {
    static const bool ok = [] {
        if (NSS_InitContext("", "", "", "", nullptr,
                            NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB |
                                NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT |
                                NSS_INIT_OPTIMIZESPACE) != nullptr)
            return true;
        return NSS_NoDB_Init(nullptr) == SECSuccess;
    }();
    return ok;
}

struct SlotInfoDeleter {
    void operator()(PK11SlotInfo* s) const { PK11_FreeSlot(s); }
};
struct SymKeyDeleter {
    void operator()(PK11SymKey* k) const { PK11_FreeSymKey(k); }
};
struct ContextDeleter {
    void operator()(PK11Context* c) const { PK11_DestroyContext(c, PR_TRUE); }
};
using SlotInfoPtr = std::unique_ptr<PK11SlotInfo, SlotInfoDeleter>;
using SymKeyPtr = std::unique_ptr<PK11SymKey, SymKeyDeleter>;
using ContextPtr = std::unique_ptr<PK11Context, ContextDeleter>;

// Imports raw key bytes for `mech`.  Plain import first; a FIPS token refuses
// that, so fall back to encrypting the key under a fresh wrapping key and
// unwrapping it into the token.
SymKeyPtr import_key(log::Logger* log, CK_MECHANISM_TYPE mech, CK_ATTRIBUTE_TYPE op,
                     CK_FLAGS flags, const uint8_t* key, size_t len) {
    SlotInfoPtr slot(PK11_GetBestSlot(mech, nullptr));
    if (!slot) {
        KNET_LOG_E(log, KNET_SUB_NSSCRYPTO, "Unable to find security slot: %s", nss_error());
        return nullptr;
    }
    // One copy of the key (padded for wrapping below), wiped on every way out.
    struct KeyCopy {
        uint8_t bytes[KNET_MAX_KEY_LEN + 64] = {};
        ~KeyCopy() { wipe_secret(bytes, sizeof(bytes)); }
    } buf;
    if (len > KNET_MAX_KEY_LEN) return nullptr;
    memcpy(buf.bytes, key, len);
    SECItem item{siBuffer, buf.bytes, static_cast<unsigned>(len)};
    SymKeyPtr k(PK11_ImportSymKeyWithFlags(slot.get(), mech, PK11_OriginUnwrap, op, &item, flags,
                                           PR_FALSE, nullptr));
    if (k) return k;

    const CK_MECHANISM_TYPE wrap_mech = PK11_GetBestWrapMechanism(slot.get());
    const int wrap_len = PK11_GetBestKeyLength(slot.get(), wrap_mech);
    SymKeyPtr wrap_key(PK11_KeyGen(slot.get(), wrap_mech, nullptr, wrap_len, nullptr));
    const int block = PK11_GetBlockSize(wrap_mech, nullptr);
    if (!wrap_key || block <= 0 || block > 64) {
        KNET_LOG_E(log, KNET_SUB_NSSCRYPTO, "Unable to generate wrapping key: %s", nss_error());
        return nullptr;
    }
    const size_t padded = (len + block - 1) / block * block;  // zeros from KeyCopy
    std::vector<uint8_t> wrapped(padded + block);
    SECItem no_param{siBuffer, nullptr, 0};
    ContextPtr ctx(PK11_CreateContextBySymKey(wrap_mech, CKA_ENCRYPT, wrap_key.get(), &no_param));
    int out_len = 0;
    unsigned fin_len = 0;
    if (!ctx ||
        PK11_CipherOp(ctx.get(), wrapped.data(), &out_len, static_cast<int>(wrapped.size()),
                      buf.bytes, static_cast<int>(padded)) != SECSuccess ||
        PK11_DigestFinal(ctx.get(), wrapped.data() + out_len, &fin_len,
                         static_cast<unsigned>(wrapped.size() - out_len)) != SECSuccess) {
        KNET_LOG_E(log, KNET_SUB_NSSCRYPTO, "Unable to wrap key: %s", nss_error());
        return nullptr;
    }
    SECItem wrapped_item{siBuffer, wrapped.data(), static_cast<unsigned>(out_len) + fin_len};
    k.reset(PK11_UnwrapSymKeyWithFlags(wrap_key.get(), wrap_mech, &no_param, &wrapped_item, mech,
                                       op, static_cast<int>(len), flags));
    if (!k) {
        KNET_LOG_E(log, KNET_SUB_NSSCRYPTO, "Failure to import key into NSS: %s%s", nss_error(),
                   PR_GetError() == SEC_ERROR_BAD_DATA
                       ? " (a FIPS token takes at most 256 key bytes)"
                       : "");
    }
    return k;
}

struct Slot {
    ContextPtr hmac;
    std::vector<uint8_t> gather;  // grown on first multi-part encrypt
};

class NssInstance final : public BatchedInstance {
public:
    explicit NssInstance(log::Logger* log) : log_(log), pool_([this] { return make_slot(); }) {}

    Status init(const knet_handle_crypto_cfg& cfg) {
        const CipherInfo* c = nullptr;
        if (strcmp(cfg.crypto_cipher_type, "none") != 0) {
            c = find_cipher(cfg.crypto_cipher_type);
            if (!c) return Error{ENXIO};
        }
        if (strcmp(cfg.crypto_hash_type, "none") != 0) {
            hash_ = find_hash(cfg.crypto_hash_type);
            if (!hash_) return Error{ENXIO};
        }
        if (c && !hash_) return Error{EINVAL};
        if (c) {
            cipher_key_ = import_key(log_, kCipherMech, CKA_ENCRYPT, CKF_ENCRYPT | CKF_DECRYPT,
                                     cfg.private_key, c->key_len);
            if (!cipher_key_) return Error{ENXIO};
            ov_.salt = kSaltSize;
            ov_.block = kAesBlock;
            if (aes_cbc_multi_supported() && !PK11_IsFIPS())
                enable_aes_cbc_lanes(cfg.private_key, c->key_len);
        }
        if (hash_) {
            hash_key_ = import_key(log_, hash_->mech, CKA_SIGN, CKF_SIGN, cfg.private_key,
                                   cfg.private_key_len);
            if (!hash_key_) return Error{ENXIO};
            ov_.hash = hash_->len;
            if (hash_->mech == CKM_SHA256_HMAC && sha256_multi_supported() && !PK11_IsFIPS())
                enable_fast_hmac(cfg.private_key, cfg.private_key_len);
        }
        if (!pool_.acquire()) return Error{ENXIO};
        return {};
    }

    const char* model() const override { return "nss"; }
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
        if (cipher_key_) {
            const uint8_t* data = nullptr;
            if (iovcnt == 1) {
                data = static_cast<const uint8_t*>(iov[0].iov_base);
            } else {
                if (slot->gather.size() < total) slot->gather.resize(kMaxInput);
                size_t off = 0;
                for (int i = 0; i < iovcnt; ++i) {
                    if (iov[i].iov_len) memcpy(slot->gather.data() + off, iov[i].iov_base, iov[i].iov_len);
                    off += iov[i].iov_len;
                }
                data = slot->gather.data();
            }
            static const uint8_t empty = 0;
            if (!data) data = &empty;
            if (PK11_GenerateRandom(out, kSaltSize) != SECSuccess) return fail("random salt");
            SECItem iv{siBuffer, out, static_cast<unsigned>(kSaltSize)};
            unsigned n = 0;
            if (PK11_Encrypt(cipher_key_.get(), kCipherMech, &iv, out + kSaltSize, &n,
                             static_cast<unsigned>(out_cap - kSaltSize), data,
                             static_cast<unsigned>(total)) != SECSuccess)
                return fail("PK11_Encrypt");
            len = kSaltSize + n;
        } else {
            for (int i = 0; i < iovcnt; ++i) {
                if (iov[i].iov_len) memcpy(out + len, iov[i].iov_base, iov[i].iov_len);
                len += iov[i].iov_len;
            }
        }
        if (hash_) {
            if (!hmac(*slot, out, len, out + len)) return fail("HMAC");
            len += ov_.hash;
        }
        *out_len = len;
        return {};
    }

protected:
    bool draw_salts(uint8_t* out, size_t n) const override {
        if (PK11_GenerateRandom(out, static_cast<int>(n)) == SECSuccess) return true;
        KNET_LOG_E(log_, KNET_SUB_NSSCRYPTO, "random salts failed: %s", nss_error());
        return false;
    }

    bool sign(const uint8_t* data, size_t len, uint8_t* mac) const override {
        auto slot = pool_.acquire();
        if (!slot) return false;
        if (hmac(*slot, data, len, mac)) return true;
        KNET_LOG_E(log_, KNET_SUB_NSSCRYPTO, "HMAC failed: %s", nss_error());
        return false;
    }

    Status check_mac(const uint8_t* computed, const uint8_t* received) const override {
        if (NSS_SecureMemcmp(computed, received, ov_.hash) == 0) return {};
        KNET_LOG_D(log_, KNET_SUB_NSSCRYPTO, "Digest does not match. Check crypto key and configuration.");
        return Error{EBADMSG};
    }

    Status open(const uint8_t* in, size_t body, uint8_t* out, size_t out_cap,
                size_t* out_len) const override {
        if (!cipher_key_) return copy_clear(in, body, out, out_cap, out_len);
        if (body <= kSaltSize) return Error{EMSGSIZE};
        const size_t data_len = body - kSaltSize;
        if (out_cap < data_len + ov_.block) return Error{ENOBUFS};
        SECItem iv{siBuffer, const_cast<uint8_t*>(in), static_cast<unsigned>(kSaltSize)};
        unsigned n = 0;
        if (PK11_Decrypt(cipher_key_.get(), kCipherMech, &iv, out, &n,
                         static_cast<unsigned>(out_cap), in + kSaltSize,
                         static_cast<unsigned>(data_len)) != SECSuccess) {
            KNET_LOG_D(log_, KNET_SUB_NSSCRYPTO, "Unable to decrypt packet: %s", nss_error());
            return Error{EBADMSG};
        }
        *out_len = n;
        return {};
    }

private:
    std::unique_ptr<Slot> make_slot() {
        auto s = std::make_unique<Slot>();
        if (hash_) {
            SECItem no_param{siBuffer, nullptr, 0};
            s->hmac.reset(
                PK11_CreateContextBySymKey(hash_->mech, CKA_SIGN, hash_key_.get(), &no_param));
            if (!s->hmac) {
                KNET_LOG_E(log_, KNET_SUB_NSSCRYPTO, "Unable to create HMAC context: %s",
                           nss_error());
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
        unsigned out = 0;
        return PK11_DigestBegin(slot.hmac.get()) == SECSuccess &&
               PK11_DigestOp(slot.hmac.get(), data, static_cast<unsigned>(len)) == SECSuccess &&
               PK11_DigestFinal(slot.hmac.get(), mac, &out, static_cast<unsigned>(ov_.hash)) ==
                   SECSuccess &&
               out == ov_.hash;
    }

    Status fail(const char* what) const {
        KNET_LOG_E(log_, KNET_SUB_NSSCRYPTO, "%s failed: %s", what, nss_error());
        return Error{EIO};
    }

    log::Logger* log_;
    const HashInfo* hash_ = nullptr;
    SymKeyPtr cipher_key_;
    SymKeyPtr hash_key_;
    Overhead ov_;
    ContextPool<Slot> pool_;
};

}  // namespace

Status nss_check_names(const char* cipher, const char* hash) {
    const bool has_cipher = strcmp(cipher, "none") != 0;
    const bool has_hash = strcmp(hash, "none") != 0;
    if (has_cipher && !find_cipher(cipher)) return Error{ENXIO};
    if (has_hash && !find_hash(hash)) return Error{ENXIO};
    if (has_cipher && !has_hash) return Error{EINVAL};
    return {};
}

Result<std::unique_ptr<Instance>> nss_create(const knet_handle_crypto_cfg& cfg, log::Logger* log) {
    KNET_LOG_D(log, KNET_SUB_NSSCRYPTO, "Initializing nss crypto module [%s/%s]",
               cfg.crypto_cipher_type, cfg.crypto_hash_type);
    if (!nss_ready()) {
        KNET_LOG_E(log, KNET_SUB_NSSCRYPTO, "NSS initialization failed: %s", nss_error());
        return Error{EAGAIN};
    }
    auto inst = std::make_unique<NssInstance>(log);
    if (Status s = inst->init(cfg); !s) return Error{s.error()};
    return std::unique_ptr<Instance>(std::move(inst));
}

}  // namespace knet::crypto::detail
