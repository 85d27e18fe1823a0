// Batched datagram I/O: recvmmsg into preallocated buffers, sendmmsg of
// queued (iovec, destination) entries.  No allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace knet::net {

class RecvBatch {
public:
    static constexpr size_t kCmsgSpace = 64;
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
    // Segment size if slot i holds several coalesced datagrams (UDP_GRO on
    // the socket): each gso_size bytes but the last are one datagram.  0 if
    // it is a single datagram.
    size_t gso_size(size_t i) const;

private:
    size_t lens_(size_t i) const { return msgs_[i].msg_len; }
    size_t count_;
    size_t buf_size_;
    std::unique_ptr<uint8_t[]> bufs_;
    std::unique_ptr<iovec[]> iovs_;
    std::unique_ptr<sockaddr_storage[]> addrs_;
    std::unique_ptr<mmsghdr[]> msgs_;
    std::unique_ptr<uint8_t[]> cmsgs_;
};

// Queue of datagrams to send; consecutive entries for the same socket go
// out in one sendmmsg.  Consecutive entries for the same destination whose
// sizes are equal (the last of a group may be shorter) are sent as one UDP
// GSO message (UDP_SEGMENT): the kernel cuts it into the same datagrams on
// the wire (or hands it whole to a loopback receiver with UDP_GRO), so the
// stack is traversed once per group instead of once per datagram.
class SendBatch {
public:
    static constexpr int kMaxIov = 2;
    static constexpr size_t kMaxGsoSegs = 64;       // UDP_MAX_SEGMENTS
    static constexpr size_t kMaxGsoBytes = 65000;   // below the 64 KiB IP limit
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

    // Takes out every queued datagram whose first piece starts at `base`
    // (its content could not be produced after all), calling
    // done(tag, bytes, EIO, 0) for each.
    template <class Fn>
    void cancel(const void* base, Fn&& done);

private:
    // Moves entry `from` to slot `to` (to < from), fixing its iovec pointer.
    void move_entry(size_t from, size_t to) noexcept;
    // Builds the wire messages for entries [first, first+count) (one fd):
    // GSO groups when allowed.  Returns how many.
    size_t build_wire(size_t first, size_t count, bool gso) noexcept;
    // One sendmmsg of the first `nw` wire messages on fd; returns how many
    // went out, or -errno.
    int send_wire(int fd, size_t nw) noexcept;

    static constexpr size_t kCmsgSpace = 32;  // >= CMSG_SPACE(sizeof(uint16_t))
    size_t cap_;
    size_t n_ = 0;
    bool gso_ok_ = true;
    std::unique_ptr<mmsghdr[]> msgs_;
    std::unique_ptr<iovec[]> iovs_;
    std::unique_ptr<size_t[]> lens_;
    std::unique_ptr<int[]> fds_;
    std::unique_ptr<void*[]> tags_;
    // Wire messages of the run being sent.
    std::unique_ptr<mmsghdr[]> wire_;
    std::unique_ptr<iovec[]> wire_iov_;
    std::unique_ptr<size_t[]> wire_first_, wire_count_;
    std::unique_ptr<uint8_t[]> wire_cmsg_;
};

void pause_for_retry() noexcept;

template <class Fn>
void SendBatch::cancel(const void* base, Fn&& done) {
    size_t kept = 0;
    for (size_t i = 0; i < n_; ++i) {
        if (msgs_[i].msg_hdr.msg_iov[0].iov_base == base) {
            done(tags_[i], lens_[i], EIO, 0);
            continue;
        }
        if (kept != i) move_entry(i, kept);
        ++kept;
    }
    n_ = kept;
}

template <class Fn>
void SendBatch::flush(Fn&& done, int retries) {
    size_t i = 0;
    int tries = 0;
    bool gso = gso_ok_;
    while (i < n_) {
        size_t run = 1;
        while (i + run < n_ && fds_[i + run] == fds_[i]) ++run;
        const size_t nw = build_wire(i, run, gso);
        int r = send_wire(fds_[i], nw);
        if (r > 0) {
            for (int w = 0; w < r; ++w)
                for (size_t e = wire_first_[w]; e < wire_first_[w] + wire_count_[w]; ++e)
                    done(tags_[e], lens_[e], 0, tries);
            i = wire_first_[r - 1] + wire_count_[r - 1];
            tries = 0;
            continue;
        }
        int err = r < 0 ? -r : EAGAIN;
        if ((err == EAGAIN || err == ENOBUFS || err == EINTR) && tries < retries) {
            ++tries;
            pause_for_retry();
            continue;
        }
        if (wire_count_[0] > 1) {
            // The GSO message was refused: the rest of this flush goes out
            // datagram by datagram (for good if the device cannot do it).
            if (err == EIO) gso_ok_ = false;
            gso = false;
            continue;
        }
        // Drop the first entry of the run and go on with the rest.
        done(tags_[i], lens_[i], err, tries);
        ++i;
        tries = 0;
    }
    n_ = 0;
}

}  // namespace knet::net
