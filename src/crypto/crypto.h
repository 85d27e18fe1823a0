// Packet encryption and authentication, wire-compatible with libknet 1.25.
//
// WIRE FORMAT (identical for the "openssl" and "nss" models, so mixed
// clusters interoperate when both sides name the same algorithms, e.g.
// cipher "aes256" + hash "sha256"):
//
//   cipher set, hash set:   | salt (16) | E(clear) | HMAC(salt | E(clear)) |
//   cipher none, hash set:  | clear                | HMAC(clear)           |
//   cipher set, hash none:  rejected at configuration time (EINVAL)
//   cipher none, hash none: "crypto disabled" (no instance; see
//                           config_disables_crypto())
//
//   * salt: 16 fresh random bytes per packet, used as the cipher IV (a
//     cipher with a shorter IV reads only its first iv_length bytes).
//   * E: the cipher in its own mode with PKCS#7 padding for block ciphers
//     (so an aligned input still gains one full block); the cipher key is the
//     first key_length bytes of private_key (no hashing / derivation).
//   * HMAC: keyed with the whole private_key (private_key_len bytes),
//     computed over everything before it, appended at the end, full digest
//     length (no truncation).  It is checked before anything is decrypted.
//
// SIZES the reference reports (struct crypto_instance in 1.25; there is no
// separate "header" size in 1.25):
//   salt  = 16 if a cipher is set, else 0        (sec_salt_size)
//   block = cipher block size (16 for AES-CBC, 1 for stream modes), else 0
//                                                (sec_block_size)
//   hash  = digest size if a hash is set, else 0 (sec_hash_size)
//
// THREADS: an Instance is immutable after create() and every method is safe
// to call from any number of threads at once.  Per-packet work uses cached
// library contexts taken from a small lock-free pool inside the instance
// (see context_pool.h): no allocation on the steady-state path, a temporary
// context only when more threads than pool slots run at the same moment.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "libknet.h"
#include "log/logger.h"
#include "util/result.h"

namespace knet::crypto {

// Random salt/IV placed in front of every encrypted packet.
inline constexpr size_t kSaltSize = 16;

// The per-configuration sizes the data-MTU calculation needs.
struct Overhead {
    size_t block = 0;  // sec_block_size: cipher block size, 0 without cipher
    size_t hash = 0;   // sec_hash_size: HMAC length, 0 without hash
    size_t salt = 0;   // sec_salt_size: kSaltSize with a cipher, else 0

    bool operator==(const Overhead&) const = default;
};

// One packet of an encrypt_many() batch: input pieces, output buffer, and
// the result (out_len/ok) filled in by the call.
struct EncryptJob {
    const struct iovec* iov = nullptr;
    int iovcnt = 0;
    uint8_t* out = nullptr;
    size_t out_cap = 0;
    size_t out_len = 0;
    bool ok = false;
};

// One packet of a decrypt_many() batch; the result (status, out_len) is
// filled in by the call.
struct DecryptJob {
    const uint8_t* in = nullptr;
    size_t in_len = 0;
    uint8_t* out = nullptr;
    size_t out_cap = 0;
    size_t out_len = 0;
    Status status;
};

// One configured crypto setting (model + cipher + hash + key).
class Instance {
public:
    virtual ~Instance() = default;

    // "openssl" or "nss".
    virtual const char* model() const = 0;

    // Sizes as the reference reports them (sec_block/hash/salt_size).
    virtual Overhead overhead() const = 0;

    // Upper bound of the bytes encrypt() adds to its input:
    // salt + hash + block (padding adds 1..block bytes).
    size_t overhead_max() const {
        Overhead o = overhead();
        return o.salt + o.hash + o.block;
    }

    // Exact size encrypt() produces for `clear_len` input bytes: salt, the
    // cipher output (PKCS#7 padding to the next full block for block
    // ciphers, none for stream modes) and the HMAC.  create() checks it
    // against a real encryption, so callers may lay out send buffers before
    // encrypting.
    size_t encrypted_size(size_t clear_len) const {
        Overhead o = overhead();
        const size_t body = o.block > 1 ? clear_len - clear_len % o.block + o.block : clear_len;
        return o.salt + body + o.hash;
    }

    // Encrypts and signs the concatenation of iov[0..iovcnt) into out
    // (which must not overlap the input).  Fails with ENOBUFS, before writing,
    // if out_cap < total input + overhead_max(); EIO if the library fails.
    virtual Status encrypt(const struct iovec* iov, int iovcnt, uint8_t* out, size_t out_cap,
                           size_t* out_len) const = 0;

    // encrypt() for each job (each gets its own fresh salt).  A backend may
    // override it to run the cipher chains of several packets at once; the
    // bytes produced are the same as one encrypt() call per job.
    virtual void encrypt_many(EncryptJob* jobs, size_t n) const {
        for (size_t i = 0; i < n; ++i) {
            EncryptJob& j = jobs[i];
            j.ok = static_cast<bool>(encrypt(j.iov, j.iovcnt, j.out, j.out_cap, &j.out_len));
        }
    }

    // Single-buffer convenience form of encrypt().
    Status encrypt(const uint8_t* in, size_t in_len, uint8_t* out, size_t out_cap,
                   size_t* out_len) const {
        struct iovec iov = {const_cast<uint8_t*>(in), in_len};
        return encrypt(&iov, 1, out, out_cap, out_len);
    }

    // Authenticates and decrypts one received packet into out (no overlap).
    // Never reads outside in[0..in_len) nor writes outside out[0..out_cap).
    // Errors: EMSGSIZE packet too short (nothing but MAC/salt, or empty) or
    // longer than KNET_MAX_PACKET_SIZE after the MAC; EBADMSG MAC mismatch or
    // bad padding; ENOBUFS out_cap too small; EIO library failure.
    virtual Status decrypt(const uint8_t* in, size_t in_len, uint8_t* out, size_t out_cap,
                           size_t* out_len) const = 0;

    // The fewest jobs per encrypt_many()/decrypt_many() call that the
    // backend handles at its full speed per packet (its lanes all busy);
    // fewer in a call cost more per packet.  1: no batching.
    virtual size_t full_speed_batch() const { return 1; }

    // decrypt() for each job.  A backend may override it to authenticate
    // several packets at once; the results are those of one decrypt() per job.
    virtual void decrypt_many(DecryptJob* jobs, size_t n) const {
        for (size_t i = 0; i < n; ++i) {
            DecryptJob& j = jobs[i];
            j.status = decrypt(j.in, j.in_len, j.out, j.out_cap, &j.out_len);
        }
    }
};

// The models this build supports, in the reference's order ("nss", "openssl"),
// for knet_get_crypto_list.
std::span<const char* const> model_names();

// The reference's rule for "crypto off": model starts with "none", or both
// cipher and hash start with "none" (4-character prefix compare, as in 1.25).
// knet_handle_crypto_set_config then frees the slot and returns 0; create()
// must not be called for such a config.
bool config_disables_crypto(const knet_handle_crypto_cfg& cfg);

// Key length check: KNET_MIN_KEY_LEN <= private_key_len <= KNET_MAX_KEY_LEN,
// else EINVAL.  The reference fails these with return value -1.
Status check_key_length(const knet_handle_crypto_cfg& cfg);

// Everything create() checks without building anything, in the reference's
// order (the reference reports all of these with return value -2):
//   key length                                  -> EINVAL
//   unknown model name (not "nss"/"openssl")    -> EINVAL (the reference
//        returns -2 with errno 0 here; we need a real code)
//   cipher name not accepted by the model       -> ENXIO
//   hash name not accepted by the model         -> ENXIO
//   cipher set but hash "none"                  -> EINVAL
// Accepted names: nss: cipher none|aes128|aes192|aes256, hash
// none|md5|sha1|sha256|sha384|sha512 (exact, case-sensitive).  openssl:
// "none" or any name EVP_get_cipherbyname / EVP_get_digestbyname knows
// (case-insensitive aliases such as "aes256", "AES-128-CBC", "sha256").
// A name field without a terminating NUL inside its 16 bytes is unknown.
Status validate(const knet_handle_crypto_cfg& cfg);

// Builds an instance.  Runs validate() first, then sets the library up and
// self-tests one encrypt/decrypt round trip (as libknet >= 1.27 does), so
// openssl names the reference 1.25 accepted but could never use on the wire
// (AEAD modes such as aes-128-gcm / ccm / ocb, ciphers only in OpenSSL's
// legacy provider such as bf-cbc) fail here with EINVAL instead of failing
// every packet.  Names are at most 15 characters (16-byte fields), so e.g.
// "camellia-256-cbc" cannot be configured; "camellia256" can.
// ENXIO if the library cannot import the key, EAGAIN if it cannot initialise.
// config_disables_crypto(cfg) configs give EINVAL.
// `log` may be null and must outlive the instance.
Result<std::unique_ptr<Instance>> create(const knet_handle_crypto_cfg& cfg, log::Logger* log);

// --- data-MTU arithmetic of the reference (1.25 onwire.c), for proto/pmtud ---
//
// Layout of an encrypted packet:
//   | ip | udp/sctp | salt | crypt(knet_header | data) + pad | hash |
//
// On-wire size of `inlen` clear bytes (knet header included), as the
// reference's calc_data_outlen: with a block size the padding is always
// block - inlen % block (1..block), then salt and hash are added.
size_t data_outlen(const Overhead& o, size_t inlen);

// The reference's calc_max_data_outlen: the largest application payload for
// an on-wire budget `inlen` (already without ip/transport overhead).
//   x = inlen - salt - hash
//   if block:  x -= (x % block) + 1     (always leave room for >= 1 pad byte)
//   result = x - header_all_size
// header_all_size is sizeof(struct knet_header) on the wire: 26 in 1.25.
// Returns 0 when the budget cannot carry anything.
size_t max_data_outlen(const Overhead& o, size_t inlen, size_t header_all_size);

// The reference's calc_min_mtu: max_data_outlen for the smallest budget any
// link can have, 576 - (40 + 28) (IPv4 minimum MTU minus IPv6 header and
// SCTP overhead).
size_t min_mtu(const Overhead& o, size_t header_all_size);

}  // namespace knet::crypto
