#include "crypto/batched.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "crypto/backend.h"

namespace knet::crypto::detail {

namespace {
constexpr size_t kAesBlock = 16;
// Packets per batch: one aes_cbc_encrypt_multi() call takes them all (it
// keeps 8 or 16 in flight, aes_cbc_multi_width()), and their MACs go in one
// hmac_sha256_multi() call (enough for its 16-lane code).
constexpr size_t kBatch = kX16Lanes;
constexpr size_t kMaxMac = 64;  // the longest digest either model offers (sha512)

// Length of the clear text before a valid PKCS#7 padding of `len` (>= 16)
// decrypted bytes, or false.
bool pkcs7_clear_len(const uint8_t* p, size_t len, size_t* clear_len) {
    const size_t pad = p[len - 1];
    if (pad == 0 || pad > kAesBlock) return false;
    for (size_t i = len - pad; i < len; ++i)
        if (p[i] != pad) return false;
    *clear_len = len - pad;
    return true;
}

bool disjoint(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len) {
    const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
    return pa + a_len <= pb || pb + b_len <= pa;
}

// Copies the iovecs one after the other to out; returns the end.
uint8_t* gather(const iovec* iov, int iovcnt, uint8_t* out) {
    for (int v = 0; v < iovcnt; ++v) {
        if (iov[v].iov_len) std::memcpy(out, iov[v].iov_base, iov[v].iov_len);
        out += iov[v].iov_len;
    }
    return out;
}

// Payloads shorter than this are copied: three short chains cost more.
constexpr size_t kMinReadInPlace = 8;  // blocks

// One packet's CBC chain in up to three parts (parts with 0 blocks are
// skipped by the lanes).
struct LaneParts {
    CbcLane head, middle, tail;
    size_t out_len;  // salt and cipher text
};

// Lays out one packet of `total` clear bytes in j.out for the lanes: the
// salt, then the clear text PKCS#7-padded, encrypted in place.  The last
// iovec (the payload; the others are headers) is not copied when it is
// large: its whole blocks are read where they are.  The chain then runs
// in three parts: the blocks holding header bytes, the payload's whole
// blocks, the last (padded) block.
LaneParts lay_out(const EncryptJob& j, const uint8_t* salt, size_t total) {
    std::memcpy(j.out, salt, kSaltSize);
    uint8_t* const clear = j.out + kSaltSize;
    const size_t pad = kAesBlock - total % kAesBlock;  // always 1..16 bytes
    const size_t full = total / kAesBlock;             // blocks without padding
    const iovec* last = j.iovcnt > 0 ? &j.iov[j.iovcnt - 1] : nullptr;
    const size_t head_len = last ? total - last->iov_len : total;
    const size_t head_blocks = (head_len + kAesBlock - 1) / kAesBlock;
    const auto* payload = last ? static_cast<const uint8_t*>(last->iov_base) : nullptr;

    if (!last || full < head_blocks + kMinReadInPlace ||
        !disjoint(payload, last->iov_len, j.out, j.out_cap)) {
        std::memset(gather(j.iov, j.iovcnt, clear), static_cast<int>(pad), pad);
        return {{j.out, clear, clear, (total + pad) / kAesBlock}, {}, {}, kSaltSize + total + pad};
    }
    // Head: the headers and the payload's first bytes up to a block boundary.
    uint8_t* p = gather(j.iov, j.iovcnt - 1, clear);
    const size_t mid = head_blocks * kAesBlock;  // offsets in the clear text
    const size_t tail = full * kAesBlock;
    std::memcpy(p, payload, mid - head_len);
    // Tail: the payload's last bytes after its whole blocks, then the padding.
    std::memcpy(clear + tail, payload + (tail - head_len), total - tail);
    std::memset(clear + total, static_cast<int>(pad), pad);
    return {{j.out, clear, clear, head_blocks},
            {clear + mid - kAesBlock, payload + (mid - head_len), clear + mid, full - head_blocks},
            {clear + tail - kAesBlock, clear + tail, clear + tail, 1},
            kSaltSize + total + pad};
}
}  // namespace

Status BatchedInstance::mac_body(size_t in_len, size_t* body) const {
    const size_t hash = overhead().hash;
    if (in_len <= hash) return Error{EMSGSIZE};
    *body = in_len - hash;
    if (*body > KNET_MAX_PACKET_SIZE) return Error{EMSGSIZE};
    return {};
}

Status BatchedInstance::copy_clear(const uint8_t* in, size_t body, uint8_t* out, size_t out_cap,
                                   size_t* out_len) {
    if (body > out_cap) return Error{ENOBUFS};
    if (body) std::memcpy(out, in, body);
    *out_len = body;
    return {};
}

void BatchedInstance::encrypt_many(EncryptJob* jobs, size_t n) const {
    const size_t hash = overhead().hash;
    if (!lanes_ || hash == 0 || n < 2) return Instance::encrypt_many(jobs, n);
    for (size_t first = 0; first < n; first += kBatch) {
        const size_t count = std::min(kBatch, n - first);
        uint8_t salts[kBatch * kSaltSize];
        if (!draw_salts(salts, count * kSaltSize)) {
            for (size_t i = 0; i < count; ++i) jobs[first + i].ok = false;
            continue;
        }
        CbcLane heads[kBatch], middles[kBatch], tails[kBatch];
        EncryptJob* lane_job[kBatch];
        size_t nl = 0;
        for (size_t i = 0; i < count; ++i) {
            EncryptJob& j = jobs[first + i];
            size_t total = 0;
            if (!j.out || !iov_total(j.iov, j.iovcnt, &total) || total > kMaxInput ||
                j.out_cap < total + overhead_max()) {
                // Not for the lanes: encrypt() reports it the usual way.
                j.ok = static_cast<bool>(encrypt(j.iov, j.iovcnt, j.out, j.out_cap, &j.out_len));
                continue;
            }
            const LaneParts parts = lay_out(j, salts + i * kSaltSize, total);
            heads[nl] = parts.head;
            middles[nl] = parts.middle;
            tails[nl] = parts.tail;
            j.out_len = parts.out_len;
            lane_job[nl++] = &j;
        }
        if (nl == 0) continue;
        // Each part chains from the cipher text of the one before.
        aes_cbc_encrypt_multi(aes_key_, heads, nl);
        aes_cbc_encrypt_multi(aes_key_, middles, nl);
        aes_cbc_encrypt_multi(aes_key_, tails, nl);
        if (fast_mac_) {
            HmacMsg macs[kBatch];
            for (size_t k = 0; k < nl; ++k)
                macs[k] = {lane_job[k]->out, lane_job[k]->out_len, lane_job[k]->out + lane_job[k]->out_len};
            hmac_sha256_multi(mac_key_, macs, nl);
            for (size_t k = 0; k < nl; ++k) {
                lane_job[k]->ok = true;
                lane_job[k]->out_len += hash;
            }
            continue;
        }
        for (size_t k = 0; k < nl; ++k) {
            EncryptJob& j = *lane_job[k];
            j.ok = sign(j.out, j.out_len, j.out + j.out_len);
            if (j.ok) j.out_len += hash;
        }
    }
}

Status BatchedInstance::decrypt(const uint8_t* in, size_t in_len, uint8_t* out, size_t out_cap,
                                size_t* out_len) const {
    if ((!in && in_len) || !out || !out_len) return Error{EINVAL};
    size_t body = in_len;
    if (overhead().hash) {
        if (Status st = mac_body(in_len, &body); !st) return st;
        uint8_t mac[kMaxMac];
        if (!sign(in, body, mac)) return Error{EIO};
        if (Status st = check_mac(mac, in + body); !st) return st;
    }
    return open_body(in, body, out, out_cap, out_len);
}

Status BatchedInstance::open_body(const uint8_t* in, size_t body, uint8_t* out, size_t out_cap,
                                  size_t* out_len) const {
    if (wide_decrypt_ && body > kSaltSize) {
        const size_t data_len = body - kSaltSize;
        if (data_len % kAesBlock == 0 && out_cap >= data_len + kAesBlock &&
            disjoint(in, body, out, out_cap)) {
            aes_cbc_decrypt_wide(dec_key_, in, in + kSaltSize, out, data_len / kAesBlock);
            if (pkcs7_clear_len(out, data_len, out_len)) return {};
        }
    }
    return open(in, body, out, out_cap, out_len);
}

void BatchedInstance::decrypt_many(DecryptJob* jobs, size_t n) const {
    if (!fast_mac_ || n < 2) return Instance::decrypt_many(jobs, n);
    for (size_t first = 0; first < n; first += kBatch) {
        const size_t count = std::min(kBatch, n - first);
        HmacMsg macs[kBatch];
        uint8_t computed[kBatch][kSha256Digest];
        DecryptJob* mac_job[kBatch];
        size_t nm = 0;
        for (size_t i = 0; i < count; ++i) {
            DecryptJob& j = jobs[first + i];
            size_t body = 0;
            if (!j.in || !j.out || !mac_body(j.in_len, &body)) {
                // Not for the batch: decrypt() reports it the usual way.
                j.status = decrypt(j.in, j.in_len, j.out, j.out_cap, &j.out_len);
                continue;
            }
            macs[nm] = {j.in, body, computed[nm]};
            mac_job[nm++] = &j;
        }
        if (nm == 0) continue;
        hmac_sha256_multi(mac_key_, macs, nm);
        for (size_t k = 0; k < nm; ++k) {
            DecryptJob& j = *mac_job[k];
            j.status = check_mac(computed[k], j.in + macs[k].len);
            if (j.status) j.status = open_body(j.in, macs[k].len, j.out, j.out_cap, &j.out_len);
        }
    }
}

}  // namespace knet::crypto::detail
