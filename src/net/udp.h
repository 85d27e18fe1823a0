// The UDP transport's socket: creation with the options libknet 1.x uses,
// the error queue (IP_RECVERR) and the classification of send errors.
//
// Socket options (facts of the reference's transport_common.c/udp.c):
//  * non-blocking, close-on-exec; SO_SNDBUF = kSockBufSize and SO_RCVBUF =
//    kUdpRcvBufSize (ours: the reference uses kSockBufSize for both), with
//    SO_RCVBUFFORCE/SO_SNDBUFFORCE tried first (they need CAP_NET_ADMIN);
//  * KNET_LINK_FLAG_TRAFFICHIPRIO: SO_PRIORITY 6 (TC_PRIO_INTERACTIVE) and
//    IP_TOS IPTOS_LOWDELAY;
//  * IP_FREEBIND (bind an address that is not up yet);
//  * IPv6: IPV6_V6ONLY, IPV6_MTU_DISCOVER = IPV6_PMTUDISC_PROBE, IPV6_DONTFRAG;
//    IPv4: IP_MTU_DISCOVER = IP_PMTUDISC_PROBE.  PROBE sets DF but ignores
//    the cached path MTU, so PMTUd probes can go up to the interface MTU and
//    oversize sends fail with EMSGSIZE instead of being fragmented;
//  * IP_RECVERR / IPV6_RECVERR: local EMSGSIZE carries the MTU, ICMP errors
//    name the unreachable peer.
// UDP has no connection: the reference's transport reconnect interval is
// only used by SCTP, a UDP link is "transport connected" once bound.
#pragma once

#include <cstddef>
#include <cstdint>

#include <sys/socket.h>

#include "log/logger.h"
#include "net/fd.h"
#include "util/result.h"

namespace knet::net {

inline constexpr int kSockBufSize = 8 * 1024 * 1024;  // reference KNET_RING_RCVBUFF
// Eight times the reference's: knet has no flow control, so this buffer is
// all that absorbs a burst while the rx thread (or the application it waits
// for, see engine/rx.cpp) is not scheduled.  Each datagram is charged its
// kernel truesize (8 KB ones about 1.4 times their length here).  In the
// benchmarks, 32 MB took losses from 0.1-4 % to 0 at 8 KB; 64 MB did the
// same for 64 KB with aes256+sha256 (0-4 % at 32 MB).  The kernel only uses
// it when the receiver is behind, and udp_mem still caps the whole host.
inline constexpr int kUdpRcvBufSize = 64 * 1024 * 1024;
inline constexpr size_t kUdpOverhead = 8;             // UDP header

// Opens and binds a UDP socket to `src`.  EADDRINUSE, EADDRNOTAVAIL, ...
// come back as the error code.
Result<Fd> open_udp(const sockaddr_storage& src, uint64_t link_flags, log::Logger* log);

// What a send error means for the caller.
enum class SendErrorAction : uint8_t {
    Ignore,       // e.g. EMSGSIZE: packet too big for the path, drop it
    Retry,        // EAGAIN/ENOBUFS: socket buffer full, retry shortly
    Unreachable,  // ENETUNREACH, EHOSTUNREACH, ENETDOWN, EINVAL, EPERM
};
SendErrorAction classify_send_error(int err) noexcept;

// One entry of the socket error queue.
struct SockError {
    int err = 0;              // ee_errno
    bool local = false;       // raised locally (e.g. EMSGSIZE with mtu)
    uint32_t mtu = 0;         // ee_info for a local EMSGSIZE
    bool has_remote = false;  // the destination the error is about
    sockaddr_storage remote{};
};

// Drains the socket's error queue, calling fn(const SockError&) per entry.
// Returns the number of entries read.
template <class Fn>
int drain_error_queue(int fd, Fn&& fn);

// Non-template part of drain_error_queue: reads one entry.  Returns false
// when the queue is empty.
bool read_error_queue(int fd, SockError* out) noexcept;

template <class Fn>
int drain_error_queue(int fd, Fn&& fn) {
    int n = 0;
    SockError e;
    while (n < 64 && read_error_queue(fd, &e)) {
        fn(e);
        ++n;
    }
    return n;
}

}  // namespace knet::net
