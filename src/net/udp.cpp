#include "net/udp.h"

#include <cerrno>
#include <cstring>

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include "libknet.h"
#include "net/address.h"

namespace knet::net {
namespace {

void size_buffer(int fd, int opt, int force_opt, int v, log::Logger* log) {
    if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof v) == 0) return;
    if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) != 0)
        KNET_LOG_D(log, KNET_SUB_TRANSP_UDP, "unable to size socket buffer: %s", strerror(errno));
}

Status set_int(int fd, int level, int opt, int v) {
    if (setsockopt(fd, level, opt, &v, sizeof v) != 0) return Error{errno};
    return {};
}

}  // namespace

Result<Fd> open_udp(const sockaddr_storage& src, uint64_t link_flags, log::Logger* log) {
    const int family = src.ss_family;
    if (family != AF_INET && family != AF_INET6) return Error{EINVAL};
    Fd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return Error{errno};
    const int s = fd.get();

    size_buffer(s, SO_RCVBUF, SO_RCVBUFFORCE, kUdpRcvBufSize, log);
    size_buffer(s, SO_SNDBUF, SO_SNDBUFFORCE, kSockBufSize, log);

    if (link_flags & KNET_LINK_FLAG_TRAFFICHIPRIO) {
        if (Status st = set_int(s, SOL_SOCKET, SO_PRIORITY, 6); !st) return Error{st.error()};
        if (Status st = set_int(s, IPPROTO_IP, IP_TOS, IPTOS_LOWDELAY); !st) return Error{st.error()};
    }
    // Binding an address that is not configured yet is allowed, as upstream.
    (void)set_int(s, SOL_IP, IP_FREEBIND, 1);

    if (family == AF_INET6) {
        if (Status st = set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1); !st) return Error{st.error()};
        if (Status st = set_int(s, SOL_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE); !st)
            return Error{st.error()};
        if (Status st = set_int(s, IPPROTO_IPV6, IPV6_DONTFRAG, 1); !st) return Error{st.error()};
        if (Status st = set_int(s, SOL_IPV6, IPV6_RECVERR, 1); !st) return Error{st.error()};
    } else {
        if (Status st = set_int(s, SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE); !st)
            return Error{st.error()};
        if (Status st = set_int(s, SOL_IP, IP_RECVERR, 1); !st) return Error{st.error()};
    }

    // Coalesced receive of our own GSO sends (see net/batch.h); optional.
    (void)set_int(s, SOL_UDP, UDP_GRO, 1);

    if (::bind(s, reinterpret_cast<const sockaddr*>(&src), sockaddr_len(src)) != 0) {
        int e = errno;
        char buf[kAddrStrLen];
        KNET_LOG_E(log, KNET_SUB_TRANSP_UDP, "unable to bind %s: %s", format(src, buf),
                   strerror(e));
        return Error{e};
    }
    return fd;
}

SendErrorAction classify_send_error(int err) noexcept {
    switch (err) {
    case EAGAIN:
    case ENOBUFS:
    case EINTR:
        return SendErrorAction::Retry;
    case EINVAL:
    case EPERM:
    case ENETUNREACH:
    case ENETDOWN:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ECONNREFUSED:
        return SendErrorAction::Unreachable;
    default:
        return SendErrorAction::Ignore;
    }
}

bool read_error_queue(int fd, SockError* out) noexcept {
    char cbuf[512];
    char dummy[64];
    sockaddr_storage remote{};
    iovec iov{dummy, sizeof dummy};
    msghdr msg{};
    msg.msg_name = &remote;
    msg.msg_namelen = sizeof remote;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return false;
    *out = SockError{};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
        const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
        if (!v4 && !v6) continue;
        sock_extended_err ee;
        std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
        out->err = static_cast<int>(ee.ee_errno);
        out->local = ee.ee_origin == SO_EE_ORIGIN_LOCAL || ee.ee_origin == SO_EE_ORIGIN_NONE;
        if (out->local && (ee.ee_errno == EMSGSIZE || ee.ee_errno == EPERM)) out->mtu = ee.ee_info;
        if (msg.msg_namelen > 0 && sockaddr_len(remote) != 0) {
            out->has_remote = true;
            out->remote = remote;
        }
    }
    return true;
}

}  // namespace knet::net
