// Batched datagram I/O: recvmmsg into preallocated buffers, sendmmsg of
// queued (iovec, destination) entries.  No allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <sys/socket.h>
#include <sys/uio.h>

namespace knet::net {

class RecvBatch {
public:
    // `count` buffers of `buf_size` bytes each.
    RecvBatch(size_t count, size_t buf_size);

    // One recvmmsg(MSG_DONTWAIT) on fd.  Returns the number of datagrams
    // (0 if none were waiting), or -errno.
    int receive(int fd) noexcept;

    size_t capacity() const { return count_; }
    std::span<uint8_t> data(size_t i) { return {bufs_.get() + i * buf_size_, lens_(i)}; }
    // Whole buffer of slot i (for in-place rewrites).
    uint8_t* buffer(size_t i) { return bufs_.get() + i * buf_size_; }
    size_t buffer_size() const { return buf_size_; }
    const sockaddr_storage& from(size_t i) const { return addrs_[i]; }
    // True if the datagram was larger than the buffer (MSG_TRUNC).
    bool truncated(size_t i) const { return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }

private:
    size_t lens_(size_t i) const { return msgs_[i].msg_len; }
    size_t count_;
    size_t buf_size_;
    std::unique_ptr<uint8_t[]> bufs_;
    std::unique_ptr<iovec[]> iovs_;
    std::unique_ptr<sockaddr_storage[]> addrs_;
    std::unique_ptr<mmsghdr[]> msgs_;
};

// Queue of datagrams to send; consecutive entries for the same socket go
// out in one sendmmsg.
class SendBatch {
public:
    static constexpr int kMaxIov = 2;
    explicit SendBatch(size_t capacity);

    bool full() const { return n_ == cap_; }
    size_t size() const { return n_; }

    // Queues one datagram of up to kMaxIov pieces.  `tag` is handed back to
    // the flush callback.  `dst` must stay valid until flush().  Returns
    // false if the batch is full.
    bool add(int fd, const sockaddr_storage* dst, socklen_t dst_len, const iovec* iov, int iovcnt,
             void* tag) noexcept;

    // Sends everything queued.  Calls done(tag, bytes, err, retried) per entry:
    // err == 0 sent, else the errno that dropped it.  Transient errors
    // (EAGAIN/ENOBUFS) are retried up to `retries` times, 100 us apart;
    // `retried` counts those for the entry.
    template <class Fn>
    void flush(Fn&& done, int retries = 20);

private:
    // Sends entries [first, first+count) on fd; returns how many went out,
    // or -errno for the first one.
    int send_run(size_t first, size_t count) noexcept;

    size_t cap_;
    size_t n_ = 0;
    std::unique_ptr<mmsghdr[]> msgs_;
    std::unique_ptr<iovec[]> iovs_;
    std::unique_ptr<int[]> fds_;
    std::unique_ptr<void*[]> tags_;
};

void pause_for_retry() noexcept;

template <class Fn>
void SendBatch::flush(Fn&& done, int retries) {
    size_t i = 0;
    int tries = 0;
    while (i < n_) {
        size_t run = 1;
        while (i + run < n_ && fds_[i + run] == fds_[i]) ++run;
        int r = send_run(i, run);
        if (r > 0) {
            for (int k = 0; k < r; ++k) {
                size_t e = i + static_cast<size_t>(k);
                done(tags_[e], msgs_[e].msg_len, 0, tries);
            }
            i += static_cast<size_t>(r);
            tries = 0;
            continue;
        }
        int err = r < 0 ? -r : EAGAIN;
        if ((err == EAGAIN || err == ENOBUFS || err == EINTR) && tries < retries) {
            ++tries;
            pause_for_retry();
            continue;
        }
        // Drop the first entry of the run and go on with the rest.
        size_t bytes = 0;
        for (size_t v = 0; v < msgs_[i].msg_hdr.msg_iovlen; ++v) bytes += msgs_[i].msg_hdr.msg_iov[v].iov_len;
        done(tags_[i], bytes, err, tries);
        ++i;
        tries = 0;
    }
    n_ = 0;
}

}  // namespace knet::net
