#include "net/batch.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace knet::net {

RecvBatch::RecvBatch(size_t count, size_t buf_size)
    : count_(count),
      buf_size_(buf_size),
      bufs_(std::make_unique<uint8_t[]>(count * buf_size)),
      iovs_(std::make_unique<iovec[]>(count)),
      addrs_(std::make_unique<sockaddr_storage[]>(count)),
      msgs_(std::make_unique<mmsghdr[]>(count)) {
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
    }
    int n = ::recvmmsg(fd, msgs_.get(), static_cast<unsigned>(count_), MSG_DONTWAIT, nullptr);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
    }
    return n;
}

SendBatch::SendBatch(size_t capacity)
    : cap_(capacity),
      msgs_(std::make_unique<mmsghdr[]>(capacity)),
      iovs_(std::make_unique<iovec[]>(capacity * kMaxIov)),
      fds_(std::make_unique<int[]>(capacity)),
      tags_(std::make_unique<void*[]>(capacity)) {}

bool SendBatch::add(int fd, const sockaddr_storage* dst, socklen_t dst_len, const iovec* iov,
                    int iovcnt, void* tag) noexcept {
    if (n_ == cap_ || iovcnt < 1 || iovcnt > kMaxIov) return false;
    mmsghdr& m = msgs_[n_];
    std::memset(&m, 0, sizeof m);
    iovec* slot = &iovs_[n_ * kMaxIov];
    for (int k = 0; k < iovcnt; ++k) slot[k] = iov[k];
    m.msg_hdr.msg_iov = slot;
    m.msg_hdr.msg_iovlen = static_cast<size_t>(iovcnt);
    m.msg_hdr.msg_name = const_cast<sockaddr_storage*>(dst);
    m.msg_hdr.msg_namelen = dst_len;
    fds_[n_] = fd;
    tags_[n_] = tag;
    ++n_;
    return true;
}

int SendBatch::send_run(size_t first, size_t count) noexcept {
    int r = ::sendmmsg(fds_[first], &msgs_[first], static_cast<unsigned>(count),
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0) return -errno;
    return r;
}

void pause_for_retry() noexcept {
    timespec ts{0, 100 * 1000};
    ::nanosleep(&ts, nullptr);
}

}  // namespace knet::net
