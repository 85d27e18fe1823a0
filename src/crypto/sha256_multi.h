// HMAC-SHA256 of several packets at once with the SHA extensions (SHA-NI).
//
// One SHA-256 stream is latency-bound: each sha256rnds2 waits for the
// previous one, so the unit sits mostly idle (about 1.8 GB/s here).  Two
// independent streams interleaved keep it busy, so the HMACs of a batch of
// packets are computed two at a time.  On some CPUs two streams already
// saturate the unit (2.4 GB/s on a Xeon with AVX-512, where OpenSSL's one
// stream does 2.0); there plain AVX-512 code hashing 16 packets at once, one
// per 32-bit lane, does 4.2 GB/s, and batches of 12 or more packets go to
// it (chosen by timing both once per process).  The digests are those of any
// other HMAC-SHA256 (RFC 2104, FIPS 180-4); tests compare them with OpenSSL.
//
// Usage: check sha256_multi_supported() once; if false, nothing else here
// may be used (HmacSha256Key::init() then returns false).
#pragma once

#include <cstddef>
#include <cstdint>

namespace knet::crypto {

// True when this build is x86-64 and the CPU has the SHA extensions (and
// SSE4.1).
bool sha256_multi_supported();

inline constexpr size_t kSha256Digest = 32;

// The key of an HMAC-SHA256, kept as the hash states after its inner and
// outer pad blocks (what every packet would otherwise recompute).  Wiped by
// clear() and the destructor.
class HmacSha256Key {
public:
    HmacSha256Key() = default;
    HmacSha256Key(const HmacSha256Key&) = default;
    HmacSha256Key& operator=(const HmacSha256Key&) = default;
    ~HmacSha256Key() { clear(); }

    // Any key length (longer than a block: hashed first, as RFC 2104 says).
    // False when sha256_multi_supported() is false.
    bool init(const uint8_t* key, size_t key_len);
    void clear();
    bool ready() const { return ready_; }

    const uint32_t* inner() const { return inner_; }
    const uint32_t* outer() const { return outer_; }

private:
    uint32_t inner_[8] = {};
    uint32_t outer_[8] = {};
    bool ready_ = false;
};

// One message to authenticate: kSha256Digest bytes go to mac, which may
// not overlap data.
struct HmacMsg {
    const uint8_t* data;
    size_t len;
    uint8_t* mac;
};

// HMAC-SHA256 of every message with key k (which must be initialised),
// two streams at a time, or, where the CPU has AVX-512 and the 16-lane code
// measured faster there, sixteen at a time for groups of kX16MinMessages or
// more of kX16MinBlocks blocks or more.  n may be 0.
void hmac_sha256_multi(const HmacSha256Key& k, const HmacMsg* msgs, size_t n);

inline constexpr size_t kX16Lanes = 16;
// Below this many messages the idle lanes make the 16-lane code slower, and
// below this many blocks in each the one-stream tails do (100 B packets:
// 0.8x the two streams; 1400 B: 1.5x).
inline constexpr size_t kX16MinMessages = 12;
inline constexpr size_t kX16MinBlocks = 8;

// The fewest messages per hmac_sha256_multi() call that run at full speed
// per message on this CPU: kX16MinMessages where the 16-lane code is used,
// else 2 (the two interleaved streams).
size_t hmac_sha256_full_batch();

// True when sha256_multi_supported() and the CPU (and OS) have AVX-512F/BW.
bool sha256_x16_supported();

// The 16-lane code alone, whatever hmac_sha256_multi() would choose (tests,
// benchmarks): n from 1 to kX16Lanes.  False, and nothing done, when
// sha256_x16_supported() is false, the key is not initialised or n is out
// of range.
bool hmac_sha256_x16(const HmacSha256Key& k, const HmacMsg* msgs, size_t n);

}  // namespace knet::crypto
