// Bounds-checked cursors over byte spans: the only place where protocol code
// turns integers into bytes and back.
//
// A Reader/Writer never touches memory outside its span.  Every operation
// returns false instead of overrunning; the first failure is sticky (all later
// operations fail too and the position no longer moves), so a decoder may do a
// run of reads and check `ok()` once at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace knet::proto {

class Reader {
public:
    explicit Reader(std::span<const uint8_t> in) noexcept : in_(in) {}

    // Bytes not read yet / already read.
    size_t remaining() const noexcept { return in_.size() - pos_; }
    size_t consumed() const noexcept { return pos_; }
    // False once any read has failed.
    bool ok() const noexcept { return !failed_; }
    // The unread bytes (no copy).
    std::span<const uint8_t> rest() const noexcept { return in_.subspan(pos_); }

    bool u8(uint8_t& v) noexcept {
        if (!need(1)) return false;
        v = in_[pos_++];
        return true;
    }
    bool i8(int8_t& v) noexcept {
        uint8_t u = 0;
        if (!u8(u)) return false;
        v = static_cast<int8_t>(u);
        return true;
    }
    // Big-endian (network order) 16 bits.
    bool u16be(uint16_t& v) noexcept {
        if (!need(2)) return false;
        v = static_cast<uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
        pos_ += 2;
        return true;
    }
    // Little-endian 16 bits (fields the reference sends in x86 host order).
    bool u16le(uint16_t& v) noexcept {
        if (!need(2)) return false;
        v = static_cast<uint16_t>(in_[pos_] | (in_[pos_ + 1] << 8));
        pos_ += 2;
        return true;
    }
    // Big-endian 32 bits.
    bool u32be(uint32_t& v) noexcept {
        if (!need(4)) return false;
        v = (uint32_t{in_[pos_]} << 24) | (uint32_t{in_[pos_ + 1]} << 16) |
            (uint32_t{in_[pos_ + 2]} << 8) | uint32_t{in_[pos_ + 3]};
        pos_ += 4;
        return true;
    }
    // Copies out.size() bytes.
    bool bytes(std::span<uint8_t> out) noexcept {
        if (!need(out.size())) return false;
        if (!out.empty()) std::memcpy(out.data(), in_.data() + pos_, out.size());
        pos_ += out.size();
        return true;
    }
    // Takes a view of the next n bytes without copying.
    bool view(size_t n, std::span<const uint8_t>& out) noexcept {
        if (!need(n)) return false;
        out = in_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    bool skip(size_t n) noexcept {
        if (!need(n)) return false;
        pos_ += n;
        return true;
    }

private:
    bool need(size_t n) noexcept {
        if (failed_ || n > in_.size() - pos_) {
            failed_ = true;
            return false;
        }
        return true;
    }

    std::span<const uint8_t> in_;
    size_t pos_ = 0;
    bool failed_ = false;
};

class Writer {
public:
    explicit Writer(std::span<uint8_t> out) noexcept : out_(out) {}

    size_t remaining() const noexcept { return out_.size() - pos_; }
    // Bytes written so far.
    size_t written() const noexcept { return pos_; }
    bool ok() const noexcept { return !failed_; }

    bool u8(uint8_t v) noexcept {
        if (!need(1)) return false;
        out_[pos_++] = v;
        return true;
    }
    bool i8(int8_t v) noexcept { return u8(static_cast<uint8_t>(v)); }
    bool u16be(uint16_t v) noexcept {
        if (!need(2)) return false;
        out_[pos_] = static_cast<uint8_t>(v >> 8);
        out_[pos_ + 1] = static_cast<uint8_t>(v);
        pos_ += 2;
        return true;
    }
    bool u16le(uint16_t v) noexcept {
        if (!need(2)) return false;
        out_[pos_] = static_cast<uint8_t>(v);
        out_[pos_ + 1] = static_cast<uint8_t>(v >> 8);
        pos_ += 2;
        return true;
    }
    bool u32be(uint32_t v) noexcept {
        if (!need(4)) return false;
        out_[pos_] = static_cast<uint8_t>(v >> 24);
        out_[pos_ + 1] = static_cast<uint8_t>(v >> 16);
        out_[pos_ + 2] = static_cast<uint8_t>(v >> 8);
        out_[pos_ + 3] = static_cast<uint8_t>(v);
        pos_ += 4;
        return true;
    }
    bool bytes(std::span<const uint8_t> in) noexcept {
        if (!need(in.size())) return false;
        if (!in.empty()) std::memcpy(out_.data() + pos_, in.data(), in.size());
        pos_ += in.size();
        return true;
    }
    // Writes n copies of `value` (padding).
    bool fill(size_t n, uint8_t value = 0) noexcept {
        if (!need(n)) return false;
        if (n != 0) std::memset(out_.data() + pos_, value, n);
        pos_ += n;
        return true;
    }

private:
    bool need(size_t n) noexcept {
        if (failed_ || n > out_.size() - pos_) {
            failed_ = true;
            return false;
        }
        return true;
    }

    std::span<uint8_t> out_;
    size_t pos_ = 0;
    bool failed_ = false;
};

}  // namespace knet::proto
