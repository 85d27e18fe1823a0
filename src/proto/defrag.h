// Per-source-host reassembly of fragmented DATA packets.
//
// Behaviour of libknet 1.x (threads_rx.c pckt_defrag/find_pckt_defrag_buf,
// host.c _reclaim_old_defrag_bufs), made safe:
//
// * kDefragBuffers (32) reassembly slots per host, each able to hold a whole
//   datagram (kMaxPacketSize), allocated once at construction.
// * A fragment goes to the slot already collecting its sequence number.  A
//   sequence number without a slot starts one only if the Dedup "Defrag"
//   track has not seen it (otherwise it was completed or reclaimed already and
//   its fragments are dropped as Stale); it takes a free slot, or the slot
//   updated least recently.
// * Slots whose sequence number is more than kDefragBuffers behind the newest
//   sequence number of a fragment pushed here are reclaimed; all slots are
//   dropped when the Dedup state is wiped (peer restart).  1.25/1.26 measured
//   from the host's newest sequence number (Dedup::reference()), which an
//   untimed ping moves ahead of whatever still waits in the receive queue:
//   with more than 32 fragmented datagrams queued, every one of them lost all
//   but its first fragment.  1.35 measures from the packet being handled.
//   Ours keeps the reassemblies that 1.35 keeps, and also those of datagrams
//   newer than the packet being handled (reordering across links).
// * Optionally (max_age_ns != 0) slots not updated for max_age_ns are
//   reclaimed; the reference has no such timeout.
// * Validation the reference lacked (1.35 added some): frag_num 0 is invalid;
//   frag_seq must be 1..frag_num; every fragment of a datagram must agree on
//   frag_num (a different frag_num for the same seq is dropped); all non-last
//   fragments must have the same size, the last one no larger; the total
//   never exceeds kMaxPacketSize; empty fragments and duplicates are dropped.
// * frag_num == 1 is not fragmented: the payload comes straight back (its
//   frag_seq, 0 from the reference, is not checked).
// * A fragment is copied into its slot, or (Hold::Lend) only remembered
//   where it is: the receive path lends the fragments of one receive round,
//   whose buffers stay untouched until settle(), which copies whatever is
//   still lent.  A datagram completed within the round then reaches the
//   application straight from the receive buffers, in pieces, instead of
//   being copied here first (at MTU 1500 that copy was a sixth of the
//   receive thread's time).
//
// Time is a parameter (monotonic nanoseconds) so tests use simulated time.
// Not thread-safe: one instance per source host, used by the receive path.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "proto/dedup.h"
#include "proto/seqnum.h"
#include "proto/wire.h"

namespace knet::proto {

inline constexpr size_t kDefragBuffers = 32;  // reference: KNET_DEFRAG_BUFFERS

enum class DefragStatus : uint8_t {
    Complete,  // `datagram` holds the whole datagram
    Pending,   // fragment stored, more to come
    Dropped,   // fragment refused, see `reason`
};

enum class DefragDrop : uint8_t {
    None = 0,
    BadFragNum,        // frag_num == 0
    BadFragSeq,        // frag_seq not in 1..frag_num
    Empty,             // fragment without user data
    Stale,             // datagram already reassembled, or its slot was reclaimed
    Duplicate,         // this fragment was received already
    FragNumMismatch,   // frag_num differs from the first fragment of this seq
    SizeMismatch,      // fragment size inconsistent with the others
    TooLarge,          // the datagram (or fragment) would exceed kMaxPacketSize (slot freed)
};
std::string_view to_string(DefragDrop d) noexcept;

// How push() holds on to a fragment it keeps.
enum class Hold : uint8_t {
    Copy,  // copied into the slot now
    Lend,  // the caller keeps the payload unchanged until settle()
};

struct DefragResult {
    DefragStatus status = DefragStatus::Dropped;
    DefragDrop reason = DefragDrop::None;
    // When Complete and not scattered: the reassembled datagram.  It points
    // into this Reassembler (or, for frag_num == 1, is the payload passed in)
    // and stays valid until the next call to push(), settle() or clear().
    std::span<const uint8_t> datagram;
    // When Complete: the datagram still refers to lent fragments; `datagram`
    // is empty and completed_pieces() or gather_completed() give it.
    bool scattered = false;
    size_t size = 0;  // when Complete: the datagram's length
};

class Reassembler {
public:
    // max_age_ns: reclaim slots idle for longer than this (0 = never, as the
    // reference).
    explicit Reassembler(uint64_t max_age_ns = 0);

    Reassembler(const Reassembler&) = delete;
    Reassembler& operator=(const Reassembler&) = delete;
    Reassembler(Reassembler&&) noexcept = default;
    Reassembler& operator=(Reassembler&&) noexcept = default;

    // Feeds one received DATA packet (its header and user data) at time
    // now_ns.  `seen` is the same host's Dedup; the caller has already done
    // seen.check(h.seq) (Delivered track), as the reference does, and marks
    // Delivered itself after handing the datagram to the application.
    DefragResult push(const DataHeader& h, std::span<const uint8_t> payload, uint64_t now_ns,
                      Dedup& seen, Hold hold = Hold::Copy) noexcept;

    // Copies every lent fragment of a datagram still incomplete into its
    // slot; the memory lent may be reused after this.  Cheap when nothing is
    // lent.
    void settle() noexcept;
    // Whether fragments were lent since the last settle().
    bool lending() const noexcept { return lending_; }

    // Right after push() returned a scattered Complete: the datagram's
    // pieces in order (adjacent ones merged) into `out`, their number, or 0
    // if `out` is too small (kMaxFragments always does).  *in_buffer tells
    // whether any piece lies in this Reassembler's buffer, which changes at
    // the next push() unless take_completed() took it.
    size_t completed_pieces(std::span<std::span<const uint8_t>> out, bool* in_buffer) const noexcept;
    // Right after push() returned a scattered Complete: copies the lent
    // pieces into the buffer and returns the whole datagram, as an
    // unscattered result would have.  Empty if nothing was completed.
    std::span<const uint8_t> gather_completed() noexcept;

    // Right after push() returned Complete for a fragmented datagram: swaps
    // `buf` (kMaxPacketSize bytes) with the buffer holding that datagram, so
    // the caller can keep the datagram as long as it likes without copying
    // it.  False (and `buf` untouched) if `buf` is null or the last push()
    // completed nothing here.
    bool take_completed(std::unique_ptr<uint8_t[]>& buf) noexcept;

    // Drops every reassembly in progress.
    void clear() noexcept;

    // Number of slots currently collecting a datagram.
    size_t in_use() const noexcept;

private:
    struct Slot {
        std::unique_ptr<uint8_t[]> buf;  // kMaxPacketSize bytes
        std::bitset<256> received;       // indexed by frag_seq
        std::bitset<256> lent;           // received but not copied yet
        // Where the lent fragments are, by frag_seq (256 entries, allocated
        // at the slot's first lend).
        std::unique_ptr<const uint8_t*[]> lent_at;
        uint64_t last_update = 0;
        uint32_t frag_size = 0;          // size of non-last fragments, 0 = unknown yet
        uint32_t last_size = 0;          // size of the last fragment, 0 = not received
        uint16_t frag_recv = 0;
        SeqNum seq = 0;
        uint8_t frag_num = 0;
        bool last_parked = false;        // last fragment parked at the buffer end
        bool in_use = false;
    };

    void reclaim(uint64_t now_ns) noexcept;  // by newest_ and max_age_ns_
    Slot* find(SeqNum seq) noexcept;
    Slot& take_slot() noexcept;

    // Moves newest_ on to `seq` if it is newer, or if it lies so far behind
    // that the sender must have restarted its numbering.  True if it moved.
    bool note_newest(SeqNum seq) noexcept;

    // Stores one fragment's payload in `s`: frag_seq 1..frag_num-1 at its
    // place (frag_size known), the last one at its place or parked at the
    // end of the buffer while frag_size is unknown.
    static void place(Slot& s, uint8_t frag_seq, std::span<const uint8_t> payload) noexcept;
    // Copies the lent fragments of `s` into its buffer.
    static void copy_lent(Slot& s) noexcept;
    // Where fragment k (1..frag_num) of a complete slot is.
    static std::span<const uint8_t> piece(const Slot& s, unsigned k) noexcept;

    std::array<Slot, kDefragBuffers> slots_;
    Slot* completed_ = nullptr;  // by the last push(), for take_completed()
    uint64_t max_age_ns_;
    SeqNum newest_ = 0;
    bool have_newest_ = false;
    uint32_t epoch_ = 0;
    bool lending_ = false;
};

}  // namespace knet::proto
