#include "proto/defrag.h"

#include <cstring>
#include <new>
#include <utility>

namespace knet::proto {

std::string_view to_string(DefragDrop d) noexcept {
    switch (d) {
        case DefragDrop::None: return "none";
        case DefragDrop::BadFragNum: return "invalid fragment count";
        case DefragDrop::BadFragSeq: return "invalid fragment sequence";
        case DefragDrop::Empty: return "empty fragment";
        case DefragDrop::Stale: return "fragment of a finished or expired datagram";
        case DefragDrop::Duplicate: return "duplicate fragment";
        case DefragDrop::FragNumMismatch: return "fragment count mismatch";
        case DefragDrop::SizeMismatch: return "fragment size mismatch";
        case DefragDrop::TooLarge: return "reassembled datagram too large";
    }
    return "unknown";
}

namespace {
// Slots are kept for sequence numbers in [newest - kKeepBehind, newest].
constexpr uint16_t kKeepBehind = kDefragBuffers;

DefragResult dropped(DefragDrop why) noexcept {
    DefragResult r;
    r.status = DefragStatus::Dropped;
    r.reason = why;
    return r;
}
}  // namespace

Reassembler::Reassembler(uint64_t max_age_ns) : max_age_ns_(max_age_ns) {
    // Not zeroed on purpose: untouched pages of idle hosts stay unmapped.
    for (auto& s : slots_) s.buf = std::make_unique_for_overwrite<uint8_t[]>(kMaxPacketSize);
}

bool Reassembler::take_completed(std::unique_ptr<uint8_t[]>& buf) noexcept {
    if (completed_ == nullptr || !buf) return false;
    std::swap(buf, completed_->buf);
    completed_ = nullptr;
    return true;
}

void Reassembler::clear() noexcept {
    completed_ = nullptr;
    for (auto& s : slots_) s.in_use = false;
    have_newest_ = false;
    lending_ = false;
}

void Reassembler::place(Slot& s, uint8_t frag_seq, std::span<const uint8_t> payload) noexcept {
    uint8_t* const buf = s.buf.get();
    const size_t len = payload.size();
    if (frag_seq == s.frag_num && s.frag_size == 0) {
        // Offset unknown until a non-last fragment tells the fragment size:
        // park it at the end of the buffer.
        std::memcpy(buf + kMaxPacketSize - len, payload.data(), len);
        s.last_parked = true;
        return;
    }
    std::memcpy(buf + (static_cast<size_t>(frag_seq) - 1) * s.frag_size, payload.data(), len);
}

std::span<const uint8_t> Reassembler::piece(const Slot& s, unsigned k) noexcept {
    const size_t len = k == s.frag_num ? s.last_size : s.frag_size;
    if (s.lent.test(k)) return {s.lent_at[k], len};
    const uint8_t* const buf = s.buf.get();
    if (k == s.frag_num && s.last_parked) return {buf + kMaxPacketSize - len, len};
    return {buf + static_cast<size_t>(k - 1) * s.frag_size, len};
}

void Reassembler::copy_lent(Slot& s) noexcept {
    if (s.lent.none()) return;
    for (unsigned k = 1; k <= s.frag_num; ++k) {
        if (!s.lent.test(k)) continue;
        const size_t len = k == s.frag_num ? s.last_size : s.frag_size;
        place(s, static_cast<uint8_t>(k), {s.lent_at[k], len});
    }
    s.lent.reset();
}

void Reassembler::settle() noexcept {
    if (!lending_) return;
    for (auto& s : slots_) {
        if (s.in_use && s.lent.any()) copy_lent(s);
    }
    lending_ = false;
    completed_ = nullptr;  // its lent pieces are no longer there
}

size_t Reassembler::completed_pieces(std::span<std::span<const uint8_t>> out,
                                     bool* in_buffer) const noexcept {
    if (completed_ == nullptr) return 0;
    const Slot& s = *completed_;
    size_t n = 0;
    bool buffered = false;
    for (unsigned k = 1; k <= s.frag_num; ++k) {
        const std::span<const uint8_t> p = piece(s, k);
        buffered |= !s.lent.test(k);
        if (n != 0 && out[n - 1].data() + out[n - 1].size() == p.data()) {
            out[n - 1] = {out[n - 1].data(), out[n - 1].size() + p.size()};
            continue;
        }
        if (n == out.size()) return 0;
        out[n++] = p;
    }
    if (in_buffer) *in_buffer = buffered;
    return n;
}

std::span<const uint8_t> Reassembler::gather_completed() noexcept {
    if (completed_ == nullptr) return {};
    Slot& s = *completed_;
    copy_lent(s);  // frag_size is known: the last one goes to its place
    const size_t last_off = (static_cast<size_t>(s.frag_num) - 1) * s.frag_size;
    if (s.last_parked) {
        // Parked region and final place may overlap: memmove.
        std::memmove(s.buf.get() + last_off, s.buf.get() + kMaxPacketSize - s.last_size, s.last_size);
        s.last_parked = false;
    }
    return {s.buf.get(), last_off + s.last_size};
}

bool Reassembler::note_newest(SeqNum seq) noexcept {
    if (have_newest_ && seq == newest_) return false;
    if (!have_newest_ || seq_newer(seq, newest_) || seq_behind(seq, newest_) >= kDedupWindow) {
        newest_ = seq;
        have_newest_ = true;
        return true;
    }
    return false;
}

size_t Reassembler::in_use() const noexcept {
    size_t n = 0;
    for (const auto& s : slots_) n += s.in_use ? 1 : 0;
    return n;
}

void Reassembler::reclaim(uint64_t now_ns) noexcept {
    for (auto& s : slots_) {
        if (!s.in_use) continue;
        if (seq_behind(s.seq, newest_) > kKeepBehind) {
            s.in_use = false;
        } else if (max_age_ns_ != 0 && now_ns > s.last_update &&
                   now_ns - s.last_update > max_age_ns_) {
            s.in_use = false;
        }
    }
}

Reassembler::Slot* Reassembler::find(SeqNum seq) noexcept {
    for (auto& s : slots_) {
        if (s.in_use && s.seq == seq) return &s;
    }
    return nullptr;
}

Reassembler::Slot& Reassembler::take_slot() noexcept {
    Slot* oldest = &slots_[0];
    for (auto& s : slots_) {
        if (!s.in_use) return s;
        if (s.last_update < oldest->last_update) oldest = &s;
    }
    return *oldest;
}

DefragResult Reassembler::push(const DataHeader& h, std::span<const uint8_t> payload,
                               uint64_t now_ns, Dedup& seen, Hold hold) noexcept {
    completed_ = nullptr;
    if (h.frag_num == 0) return dropped(DefragDrop::BadFragNum);
    if (payload.empty()) return dropped(DefragDrop::Empty);
    if (payload.size() > kMaxPacketSize) return dropped(DefragDrop::TooLarge);
    if (h.frag_num == 1) {
        DefragResult r;
        r.status = DefragStatus::Complete;
        r.datagram = payload;
        r.size = payload.size();
        return r;
    }
    if (h.frag_seq == 0 || h.frag_seq > h.frag_num) return dropped(DefragDrop::BadFragSeq);

    if (seen.epoch() != epoch_) {
        clear();
        epoch_ = seen.epoch();
    }
    // Slots only fall out of the window when it moves, or with age.
    if (note_newest(h.seq) || max_age_ns_ != 0) reclaim(now_ns);

    Slot* slot = find(h.seq);
    if (slot == nullptr) {
        if (!seen.check(h.seq, Dedup::Track::Defrag)) return dropped(DefragDrop::Stale);
        seen.mark(h.seq, Dedup::Track::Defrag);
        slot = &take_slot();
        slot->in_use = true;
        slot->seq = h.seq;
        slot->frag_num = h.frag_num;
        slot->frag_size = 0;
        slot->last_size = 0;
        slot->frag_recv = 0;
        slot->last_parked = false;
        slot->received.reset();
        slot->lent.reset();
    }
    slot->last_update = now_ns;

    if (h.frag_num != slot->frag_num) return dropped(DefragDrop::FragNumMismatch);
    if (slot->received.test(h.frag_seq)) return dropped(DefragDrop::Duplicate);

    const size_t len = payload.size();
    const size_t others = static_cast<size_t>(slot->frag_num) - 1;  // non-last fragments
    const bool is_last = h.frag_seq == slot->frag_num;

    if (is_last) {
        if (slot->frag_size != 0) {
            if (len > slot->frag_size) return dropped(DefragDrop::SizeMismatch);
            if (others * slot->frag_size + len > kMaxPacketSize) {
                slot->in_use = false;
                return dropped(DefragDrop::TooLarge);
            }
        }
        slot->last_size = static_cast<uint32_t>(len);
    } else {
        if (slot->frag_size != 0) {
            if (len != slot->frag_size) return dropped(DefragDrop::SizeMismatch);
        } else {
            if (slot->last_size != 0 && slot->last_size > len) {
                return dropped(DefragDrop::SizeMismatch);
            }
            // The smallest datagram this fragment size allows must fit.
            size_t last = slot->last_size != 0 ? slot->last_size : 1;
            if (others * len + last > kMaxPacketSize) {
                slot->in_use = false;
                return dropped(DefragDrop::TooLarge);
            }
            slot->frag_size = static_cast<uint32_t>(len);
        }
    }
    if (hold == Hold::Lend && !slot->lent_at)
        slot->lent_at.reset(new (std::nothrow) const uint8_t*[kMaxFragments + 1]);
    if (hold == Hold::Lend && slot->lent_at) {
        slot->lent_at[h.frag_seq] = payload.data();
        slot->lent.set(h.frag_seq);
        lending_ = true;
    } else {
        place(*slot, h.frag_seq, payload);
    }
    slot->received.set(h.frag_seq);
    ++slot->frag_recv;

    if (slot->frag_recv < slot->frag_num) {
        DefragResult r;
        r.status = DefragStatus::Pending;
        return r;
    }

    // All fragments here; frag_num >= 2 so frag_size and last_size are known.
    slot->in_use = false;
    completed_ = slot;
    DefragResult r;
    r.status = DefragStatus::Complete;
    r.size = others * slot->frag_size + slot->last_size;
    if (slot->lent.any()) {
        r.scattered = true;
        return r;
    }
    r.datagram = gather_completed();
    return r;
}

}  // namespace knet::proto
