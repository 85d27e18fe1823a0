// Per-source-host de-duplication of received DATA sequence numbers.
//
// Semantics follow libknet 1.x (host.c _seq_num_lookup/_seq_num_set), with
// the distance arithmetic done right (seqnum.h).  1.25 measured how far a
// number lies *behind* the newest one, off by one across the wrap; 1.34
// flipped it to a forward distance, which makes numbers up to 4095 ahead
// "in window" without sliding it and lets late packets drag the window
// backwards.  We keep 1.25's sliding-window meaning, computed exactly:
//
// * The window is anchored at `reference()`, the newest sequence number seen
//   (0 = not anchored yet: 0 is never a data sequence number; the first number
//   looked up anchors it).  It covers the kDedupWindow (4096) numbers
//   reference-4095 .. reference.
// * A number inside the window is new iff its slot is not marked.
// * A number ahead of the reference by 1..4096 slides the window: the slots it
//   passes over are cleared, it becomes the reference, and it is new.
// * Anything further away in either direction (a long gap, or a peer that
//   restarted and counts again from 1) re-centres the window on it: all marks
//   are forgotten and it is new.  A very stale duplicate can therefore be
//   accepted once; that is the reference's behaviour too.
// * Two independent tracks share the window: Delivered (marked once the
//   datagram reached the application, so duplicates sent over several links
//   are dropped) and Defrag (marked when reassembly of that number starts, so
//   late fragments of a finished or reclaimed datagram are not reassembled
//   again).
// * Pings carry the sender's current tx sequence number; on_ping() applies the
//   reference's rules for them (peer restart detection and periodic resync).
//
// `check()` mutates the window (as the reference's lookup does), `mark()`
// records a number.  Not thread-safe: one instance per source host, used by
// the receive path only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "proto/seqnum.h"

namespace knet::proto {

inline constexpr size_t kDedupWindow = 4096;  // reference: KNET_CBUFFER_SIZE

class Dedup {
public:
    enum class Track : uint8_t { Delivered = 1, Defrag = 2 };

    // Is `seq` new for `track`?  Slides or re-centres the window as described
    // above.  Does not mark it.
    bool check(SeqNum seq, Track track = Track::Delivered) noexcept;

    // Records `seq` as seen on `track` (call after check() returned true and
    // the packet was handled).  Marks outside the current window are ignored.
    void mark(SeqNum seq, Track track = Track::Delivered) noexcept;

    // A DATA packet arrived from this host (before check()): used by the
    // untimed-ping rule in on_ping().
    void note_data() noexcept { got_data_ = true; }

    // Applies a received PING's sequence number.
    // - timed ping: if its number differs from the previous timed ping and is
    //   0, the peer has restarted: everything is wiped.
    // - untimed ping (sent by a peer every 65535/8 packets and when forced):
    //   a new number slides the window to it; if no DATA arrived since the
    //   previous untimed ping, everything is wiped first.
    // Returns true if the state was wiped (reassembly in progress must be
    // dropped; Reassembler notices this itself through epoch()).
    bool on_ping(SeqNum seq, bool timed) noexcept;

    // Forgets everything (e.g. the host lost all its links); the next number
    // anchors the window again.  Bumps epoch().
    void reset() noexcept { wipe(0); }

    // Newest sequence number seen, 0 if not anchored.
    SeqNum reference() const noexcept { return ref_; }

    // Changes whenever the state is wiped (reset() or a wiping ping).
    uint32_t epoch() const noexcept { return epoch_; }

private:
    void wipe(SeqNum anchor) noexcept;
    void clear_all() noexcept;
    void clear_range(SeqNum first, uint32_t count) noexcept;

    std::array<uint8_t, kDedupWindow> slots_{};  // bit flags per Track
    SeqNum ref_ = 0;
    SeqNum last_timed_ping_ = 0;
    SeqNum last_untimed_ping_ = 0;
    bool got_data_ = false;
    uint32_t epoch_ = 0;
};

}  // namespace knet::proto
