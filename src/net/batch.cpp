#include "net/batch.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <netinet/in.h>
#include <netinet/udp.h>

namespace knet::net {

RecvBatch::RecvBatch(size_t count, size_t buf_size)
    : count_(count),
      buf_size_(buf_size),
      bufs_(std::make_unique_for_overwrite<uint8_t[]>(count * buf_size)),
      iovs_(std::make_unique<iovec[]>(count)),
      addrs_(std::make_unique<sockaddr_storage[]>(count)),
      msgs_(std::make_unique<mmsghdr[]>(count)),
      cmsgs_(std::make_unique<uint8_t[]>(count * kCmsgSpace)) {
    for (size_t i = 0; i < count_; ++i) {
        iovs_[i] = iovec{bufs_.get() + i * buf_size_, buf_size_};
        std::memset(&msgs_[i], 0, sizeof(mmsghdr));
        msgs_[i].msg_hdr.msg_iov = &iovs_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
        msgs_[i].msg_hdr.msg_name = &addrs_[i];
    }
}

int RecvBatch::receive(int fd) noexcept {
    for (size_t i = 0; i < count_; ++i) {
        msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        msgs_[i].msg_hdr.msg_flags = 0;
        msgs_[i].msg_len = 0;
        msgs_[i].msg_hdr.msg_control = &cmsgs_[i * kCmsgSpace];
        msgs_[i].msg_hdr.msg_controllen = kCmsgSpace;
    }
    int n = ::recvmmsg(fd, msgs_.get(), static_cast<unsigned>(count_), MSG_DONTWAIT, nullptr);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
    }
    return n;
}

size_t RecvBatch::gso_size(size_t i) const {
    msghdr& h = const_cast<msghdr&>(msgs_[i].msg_hdr);
    if (h.msg_controllen == 0) return 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int v = 0;
            std::memcpy(&v, CMSG_DATA(c), sizeof v);
            return v > 0 ? static_cast<size_t>(v) : 0;
        }
    }
    return 0;
}

SendBatch::SendBatch(size_t capacity)
    : cap_(capacity),
      msgs_(std::make_unique<mmsghdr[]>(capacity)),
      iovs_(std::make_unique<iovec[]>(capacity * kMaxIov)),
      lens_(std::make_unique<size_t[]>(capacity)),
      fds_(std::make_unique<int[]>(capacity)),
      tags_(std::make_unique<void*[]>(capacity)),
      wire_(std::make_unique<mmsghdr[]>(capacity)),
      wire_iov_(std::make_unique<iovec[]>(capacity * kMaxIov)),
      wire_first_(std::make_unique<size_t[]>(capacity)),
      wire_count_(std::make_unique<size_t[]>(capacity)),
      wire_cmsg_(std::make_unique<uint8_t[]>(capacity * kCmsgSpace)) {}

bool SendBatch::add(int fd, const sockaddr_storage* dst, socklen_t dst_len, const iovec* iov,
                    int iovcnt, void* tag) noexcept {
    if (n_ == cap_ || iovcnt < 1 || iovcnt > kMaxIov) return false;
    mmsghdr& m = msgs_[n_];
    std::memset(&m, 0, sizeof m);
    iovec* slot = &iovs_[n_ * kMaxIov];
    size_t len = 0;
    for (int k = 0; k < iovcnt; ++k) {
        slot[k] = iov[k];
        len += iov[k].iov_len;
    }
    m.msg_hdr.msg_iov = slot;
    m.msg_hdr.msg_iovlen = static_cast<size_t>(iovcnt);
    m.msg_hdr.msg_name = const_cast<sockaddr_storage*>(dst);
    m.msg_hdr.msg_namelen = dst_len;
    lens_[n_] = len;
    fds_[n_] = fd;
    tags_[n_] = tag;
    ++n_;
    return true;
}

void SendBatch::move_entry(size_t from, size_t to) noexcept {
    msgs_[to] = msgs_[from];
    for (int k = 0; k < kMaxIov; ++k) iovs_[to * kMaxIov + k] = iovs_[from * kMaxIov + k];
    msgs_[to].msg_hdr.msg_iov = &iovs_[to * kMaxIov];
    lens_[to] = lens_[from];
    fds_[to] = fds_[from];
    tags_[to] = tags_[from];
}

namespace {
bool same_dst(const msghdr& a, const msghdr& b) {
    return a.msg_namelen == b.msg_namelen &&
           (a.msg_name == b.msg_name || std::memcmp(a.msg_name, b.msg_name, a.msg_namelen) == 0);
}
}  // namespace

size_t SendBatch::build_wire(size_t first, size_t count, bool gso) noexcept {
    size_t nw = 0, iv = 0;
    size_t e = first;
    const size_t end = first + count;
    while (e < end) {
        const msghdr& h0 = msgs_[e].msg_hdr;
        const size_t seg = lens_[e];
        size_t g = 1, bytes = seg;
        if (gso && seg > 0) {
            // Equal sizes; a shorter one may end the group.
            while (e + g < end && g < kMaxGsoSegs && bytes + lens_[e + g] <= kMaxGsoBytes &&
                   lens_[e + g] > 0 && lens_[e + g] <= seg && same_dst(h0, msgs_[e + g].msg_hdr)) {
                bytes += lens_[e + g];
                ++g;
                if (lens_[e + g - 1] < seg) break;
            }
        }
        mmsghdr& w = wire_[nw];
        std::memset(&w, 0, sizeof w);
        w.msg_hdr.msg_name = h0.msg_name;
        w.msg_hdr.msg_namelen = h0.msg_namelen;
        if (g == 1) {
            w.msg_hdr.msg_iov = h0.msg_iov;
            w.msg_hdr.msg_iovlen = h0.msg_iovlen;
        } else {
            w.msg_hdr.msg_iov = &wire_iov_[iv];
            for (size_t k = 0; k < g; ++k) {
                const msghdr& hk = msgs_[e + k].msg_hdr;
                for (size_t v = 0; v < hk.msg_iovlen; ++v) wire_iov_[iv++] = hk.msg_iov[v];
            }
            w.msg_hdr.msg_iovlen = static_cast<size_t>(&wire_iov_[iv] - w.msg_hdr.msg_iov);
            uint8_t* cbuf = &wire_cmsg_[nw * kCmsgSpace];
            std::memset(cbuf, 0, kCmsgSpace);
            w.msg_hdr.msg_control = cbuf;
            w.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
            cmsghdr* c = CMSG_FIRSTHDR(&w.msg_hdr);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            const uint16_t gs = static_cast<uint16_t>(seg);
            std::memcpy(CMSG_DATA(c), &gs, sizeof gs);
        }
        wire_first_[nw] = e;
        wire_count_[nw] = g;
        ++nw;
        e += g;
    }
    return nw;
}

int SendBatch::send_wire(int fd, size_t nw) noexcept {
    int r = ::sendmmsg(fd, wire_.get(), static_cast<unsigned>(nw), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0) return -errno;
    return r;
}

void pause_for_retry() noexcept {
    timespec ts{0, 100 * 1000};
    ::nanosleep(&ts, nullptr);
}

}  // namespace knet::net
