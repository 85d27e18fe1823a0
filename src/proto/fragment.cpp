#include "proto/fragment.h"

#include <cerrno>

namespace knet::proto {

Result<uint8_t> fragment_count(size_t len, size_t data_mtu) noexcept {
    if (len == 0 || data_mtu == 0) return Error{EINVAL};
    if (len > kMaxPacketSize) return Error{EMSGSIZE};
    size_t n = (len + data_mtu - 1) / data_mtu;
    if (n > kMaxTxFragments) return Error{EMSGSIZE};
    return static_cast<uint8_t>(n);
}

Result<Fragmenter> Fragmenter::make(const DataHeader& base, std::span<const uint8_t> data,
                                    size_t data_mtu) noexcept {
    auto n = fragment_count(data.size(), data_mtu);
    if (!n) return Error{n.error()};
    return Fragmenter(base, data, data_mtu, n.value());
}

Fragment Fragmenter::operator[](uint8_t index) const noexcept {
    Fragment f;
    f.header = base_;
    f.header.frag_num = count_;
    if (index >= count_) {
        // Out of range: an empty fragment rather than a read past the data.
        f.header.frag_seq = 0;
        return f;
    }
    if (count_ == 1) {
        f.header.frag_seq = 0;
        f.payload = data_;
        return f;
    }
    f.header.frag_seq = static_cast<uint8_t>(index + 1);
    size_t off = static_cast<size_t>(index) * mtu_;
    size_t len = data_.size() - off < mtu_ ? data_.size() - off : mtu_;
    f.payload = data_.subspan(off, len);
    return f;
}

}  // namespace knet::proto
