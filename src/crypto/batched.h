// The batch paths both models share (their wire format is the same).
//
// encrypt_many(): the salts of up to 16 packets are drawn at once, each
// packet's clear text is laid out and PKCS#7-padded in its output buffer
// (a large payload is read where it is, not copied),
// their AES-CBC chains run interleaved (aes_cbc_multi.h: 8 or 16 at once),
// then they are signed, HMAC-SHA256 of all 16 in one call (sha256_multi.h)
// or with the library.
// decrypt_many(): the MACs of up to 16 packets first, in one call, then
// each packet is opened: with VAES by aes_cbc_decrypt.h, else by the model.
// decrypt() is the same steps for one packet, so both give the same
// results; encrypt_many()'s bytes are those of one encrypt() per packet.
//
// A model turns each part on in its init(), only for the algorithms those
// files implement, on CPUs that have the instructions, and never when its
// library runs in FIPS mode (then every primitive must be the library's).
#pragma once

#include "crypto/aes_cbc_decrypt.h"
#include "crypto/aes_cbc_multi.h"
#include "crypto/crypto.h"
#include "crypto/sha256_multi.h"

namespace knet::crypto::detail {

class BatchedInstance : public Instance {
public:
    void encrypt_many(EncryptJob* jobs, size_t n) const override;
    // MAC check (sign() + check_mac()), then open_body().
    Status decrypt(const uint8_t* in, size_t in_len, uint8_t* out, size_t out_cap,
                   size_t* out_len) const override;
    void decrypt_many(DecryptJob* jobs, size_t n) const override;
    // The MACs set it: the 16-lane HMAC wants 12 or more packets per call.
    size_t full_speed_batch() const override { return fast_mac_ ? hmac_sha256_full_batch() : 1; }

protected:
    // Our AES-CBC for this cipher key (16, 24 or 32 bytes): the encryption
    // lanes (false if the CPU lacks AES-NI) and, if it has VAES, decryption.
    bool enable_aes_cbc_lanes(const uint8_t* key, size_t key_len) {
        wide_decrypt_ = dec_key_.init(key, key_len);
        return lanes_ = aes_key_.init(key, key_len);
    }
    // Our HMAC-SHA256 for this MAC key; false if the CPU lacks the SHA
    // extensions.
    bool enable_fast_hmac(const uint8_t* key, size_t key_len) {
        return fast_mac_ = mac_key_.init(key, key_len);
    }
    bool fast_hmac() const { return fast_mac_; }
    // One message with our HMAC-SHA256 (fast_hmac() only).
    void fast_hmac_one(const uint8_t* data, size_t len, uint8_t* mac) const {
        const HmacMsg m{data, len, mac};
        hmac_sha256_multi(mac_key_, &m, 1);
    }

    // The bytes a received packet's MAC covers: EMSGSIZE if nothing but a
    // MAC, or more than a packet before it.
    Status mac_body(size_t in_len, size_t* body) const;

    // open() without a cipher: the body is the clear text.
    static Status copy_clear(const uint8_t* in, size_t body, uint8_t* out, size_t out_cap,
                             size_t* out_len);

    // --- what the batch paths need from the model ---
    // n random bytes (the salts); false, and logged, on failure.
    virtual bool draw_salts(uint8_t* out, size_t n) const = 0;
    // The MAC of data (the model's HMAC, ours if fast_hmac()); false, and
    // logged, if the library fails.
    virtual bool sign(const uint8_t* data, size_t len, uint8_t* mac) const = 0;
    // Constant-time compare of overhead().hash bytes: EBADMSG if they differ.
    virtual Status check_mac(const uint8_t* computed, const uint8_t* received) const = 0;
    // The authenticated body of a packet (salt and cipher text, or clear text
    // without a cipher) into out, with decrypt()'s errors.
    virtual Status open(const uint8_t* in, size_t body, uint8_t* out, size_t out_cap,
                        size_t* out_len) const = 0;

private:
    // open(), or our decryption when it is on and the packet is well formed
    // (same result); anything else goes to open(), which reports it.
    Status open_body(const uint8_t* in, size_t body, uint8_t* out, size_t out_cap,
                     size_t* out_len) const;

    bool lanes_ = false;
    AesEncryptKey aes_key_;
    bool wide_decrypt_ = false;
    AesDecryptKey dec_key_;
    bool fast_mac_ = false;
    HmacSha256Key mac_key_;
};

}  // namespace knet::crypto::detail
