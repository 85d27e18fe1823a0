// Splitting one application datagram into DATA fragments, as libknet 1.x
// does it (threads_tx.c):
//
// * frag_num = ceil(len / data_mtu), where data_mtu is the number of user-data
//   bytes per packet (the handle's data MTU, or kDefaultDataMtu while PMTUd
//   has not produced one).
// * frag_num == 1: one packet, frag_seq = 0.
// * frag_num > 1: fragment i (0-based) carries bytes [i*data_mtu, ...) and
//   frag_seq = i + 1 (1-based); all but the last carry exactly data_mtu bytes,
//   the last carries the rest (1..data_mtu bytes).
// * Every fragment repeats seq, compress, bcast, channel and frag_num.
//
// No copies: fragments are views into the caller's datagram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/wire.h"
#include "util/result.h"

namespace knet::proto {

struct Fragment {
    DataHeader header;
    std::span<const uint8_t> payload;
};

// Number of fragments for `len` bytes at `data_mtu` bytes per fragment.
// EINVAL if len == 0 or data_mtu == 0; EMSGSIZE if len > kMaxPacketSize or
// more than kMaxTxFragments (254) fragments would be needed.
Result<uint8_t> fragment_count(size_t len, size_t data_mtu) noexcept;

// The fragments of one datagram; cheap to copy, holds only views.
class Fragmenter {
public:
    // `base` supplies seq/compress/bcast/channel (its frag_num/frag_seq are
    // ignored).  `data` must stay alive while fragments are used.
    // Errors as fragment_count().
    static Result<Fragmenter> make(const DataHeader& base, std::span<const uint8_t> data,
                                   size_t data_mtu) noexcept;

    // Number of fragments (1..kMaxTxFragments).
    uint8_t count() const noexcept { return count_; }

    // Fragment `index` (0-based, < count()).
    Fragment operator[](uint8_t index) const noexcept;

private:
    Fragmenter(const DataHeader& base, std::span<const uint8_t> data, size_t mtu,
               uint8_t count) noexcept
        : base_(base), data_(data), mtu_(mtu), count_(count) {}

    DataHeader base_;
    std::span<const uint8_t> data_;
    size_t mtu_;
    uint8_t count_;
};

}  // namespace knet::proto
