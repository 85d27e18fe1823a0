// How many messages the transmit thread takes from a message datafd in one
// recvmmsg round.
//
// Without compression and encryption the payload goes from the read slots
// to the sockets untouched: the data path is the kernel's copies into and
// out of those slots, which run from the CPU's cache only while a read
// round stays small.  Measured with 64000 B messages, both nodes on one
// 2-CPU machine (bench/RESULTS.md, 2026-12-04): 32 per read (2 MB)
// 0.69-0.71 CPU s/GB, 3 per read 0.50-0.56, 2 per read (the 128 KB budget)
// 0.45-0.54, 1 per read 0.52-0.62.  Compression and encryption work on the
// payload in user space and want whole rounds (cipher lanes, helper
// threads): capped to 4, 64000 B with aes256+sha256 went from 2.0 to 2.3
// CPU s/GB, so those keep every slot.
//
// The messages of a round are not known before it is read: the budget is
// divided by the longest message of the previous round.
#pragma once

#include <algorithm>
#include <cstddef>

namespace knet::engine {

inline constexpr size_t kCopyReadBudget = 128 * 1024;

// slots: the most one round can take; copy_only: the payload is sent as
// read; longest_last: the longest message of the previous round (0 if
// none yet).  Always at least 1.
inline size_t messages_per_read(size_t slots, bool copy_only, size_t longest_last) {
    if (!copy_only || slots == 0) return std::max<size_t>(slots, 1);
    return std::clamp<size_t>(kCopyReadBudget / std::max<size_t>(longest_last, 1), 1, slots);
}

}  // namespace knet::engine
