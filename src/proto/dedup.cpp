#include "proto/dedup.h"

#include <cstring>

namespace knet::proto {

namespace {
constexpr size_t slot_of(SeqNum s) noexcept { return s % kDedupWindow; }
constexpr uint8_t bit_of(Dedup::Track t) noexcept { return static_cast<uint8_t>(t); }
static_assert(kSeqSpace % kDedupWindow == 0, "window must divide the sequence space");
}  // namespace

void Dedup::clear_all() noexcept { slots_.fill(0); }

void Dedup::clear_range(SeqNum first, uint32_t count) noexcept {
    if (count >= kDedupWindow) {
        clear_all();
        return;
    }
    size_t start = slot_of(first);
    size_t head = kDedupWindow - start < count ? kDedupWindow - start : count;
    std::memset(slots_.data() + start, 0, head);
    if (count > head) std::memset(slots_.data(), 0, count - head);
}

void Dedup::wipe(SeqNum anchor) noexcept {
    clear_all();
    ref_ = anchor;
    ++epoch_;
}

bool Dedup::check(SeqNum seq, Track track) noexcept {
    if (ref_ == 0) ref_ = seq;

    if (seq_behind(seq, ref_) < kDedupWindow) {
        return (slots_[slot_of(seq)] & bit_of(track)) == 0;
    }
    uint16_t ahead = seq_forward(ref_, seq);
    if (ahead <= kDedupWindow) {
        clear_range(static_cast<SeqNum>(ref_ + 1), ahead);
    } else {
        clear_all();
    }
    ref_ = seq;
    return true;
}

void Dedup::mark(SeqNum seq, Track track) noexcept {
    if (ref_ != 0 && seq_behind(seq, ref_) >= kDedupWindow) return;
    slots_[slot_of(seq)] |= bit_of(track);
}

bool Dedup::on_ping(SeqNum seq, bool timed) noexcept {
    bool wiped = false;
    if (timed) {
        if (seq != last_timed_ping_) {
            last_timed_ping_ = seq;
            if (seq == 0) {
                wipe(0);
                wiped = true;
            }
        }
        return wiped;
    }
    if (seq != last_untimed_ping_) {
        last_untimed_ping_ = seq;
        if (got_data_) {
            got_data_ = false;
        } else {
            wipe(seq);
            wiped = true;
        }
    }
    (void)check(seq, Track::Delivered);
    return wiped;
}

}  // namespace knet::proto
