// 16-bit sequence-number arithmetic, the one place where it is done.
//
// libknet 1.x data and ping sequence numbers are uint16_t and wrap from 65535
// to 0.  All distances here are modulo 2^16, so they are right across the
// wrap.  (libknet 1.25 computed the distance backwards and off by one when
// the numbers straddled the wrap; 1.34 changed the formula.  We do neither:
// see the explicit forward/backward helpers below.)
#pragma once

#include <cstdint>

namespace knet::proto {

using SeqNum = uint16_t;

inline constexpr uint32_t kSeqSpace = 65536;  // number of distinct values
inline constexpr SeqNum kSeqMax = 65535;

// Number of steps forward from `from` to reach `to` (0..65535).
// seq_forward(65534, 3) == 5.
constexpr uint16_t seq_forward(SeqNum from, SeqNum to) noexcept {
    return static_cast<uint16_t>(to - from);
}

// Number of steps `seq` lies behind `ref` (0..65535); seq_behind(3, 65534)
// == 65531, seq_behind(65534, 3) == 5.
constexpr uint16_t seq_behind(SeqNum seq, SeqNum ref) noexcept {
    return static_cast<uint16_t>(ref - seq);
}

// Signed shortest distance from `from` to `to`, in [-32768, 32767].
constexpr int32_t seq_diff(SeqNum from, SeqNum to) noexcept {
    return static_cast<int16_t>(static_cast<uint16_t>(to - from));
}

// True if `a` is newer than `b` (strictly ahead by less than half the space).
constexpr bool seq_newer(SeqNum a, SeqNum b) noexcept { return seq_diff(b, a) > 0; }

// The data sequence number following `s`.  The reference never uses 0 for
// data: 0 is what a freshly started sender advertises in its pings, and a
// receiver treats a ping carrying 0 as "peer restarted".
constexpr SeqNum next_data_seq(SeqNum s) noexcept {
    SeqNum n = static_cast<SeqNum>(s + 1);
    return n == 0 ? SeqNum{1} : n;
}

static_assert(seq_forward(65534, 3) == 5);
static_assert(seq_behind(65534, 3) == 5);
static_assert(seq_newer(3, 65534) && !seq_newer(65534, 3));
static_assert(!seq_newer(7, 7));
static_assert(next_data_seq(65535) == 1);

}  // namespace knet::proto
