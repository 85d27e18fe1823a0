#include "net/address.h"

#include <arpa/inet.h>
#include <cstdio>
#include <cstring>

namespace knet::net {

socklen_t sockaddr_len(const sockaddr_storage& ss) noexcept {
    switch (ss.ss_family) {
    case AF_INET: return sizeof(sockaddr_in);
    case AF_INET6: return sizeof(sockaddr_in6);
    default: return 0;
    }
}

bool same_ip(const sockaddr_storage& a, const sockaddr_storage& b) noexcept {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET) {
        const auto& x = reinterpret_cast<const sockaddr_in&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in&>(b);
        return x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    if (a.ss_family == AF_INET6) {
        const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
        return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(in6_addr)) == 0 &&
               x.sin6_scope_id == y.sin6_scope_id;
    }
    return false;
}

unsigned port_of(const sockaddr_storage& ss) noexcept {
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
    return 0;
}

bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) noexcept {
    return same_ip(a, b) && port_of(a) == port_of(b);
}

bool is_any(const sockaddr_storage& ss) noexcept {
    if (ss.ss_family == AF_INET)
        return reinterpret_cast<const sockaddr_in&>(ss).sin_addr.s_addr == htonl(INADDR_ANY);
    if (ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr);
    return false;
}

const char* format(const sockaddr_storage& ss, char (&buf)[kAddrStrLen]) noexcept {
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, ip, sizeof ip);
        std::snprintf(buf, sizeof buf, "%s:%u", ip, port_of(ss));
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, ip, sizeof ip);
        std::snprintf(buf, sizeof buf, "[%s]:%u", ip, port_of(ss));
    } else {
        std::snprintf(buf, sizeof buf, "(family %d)", ss.ss_family);
    }
    return buf;
}

bool make_addr(const char* ip, unsigned port, sockaddr_storage* out) noexcept {
    std::memset(out, 0, sizeof *out);
    auto* v4 = reinterpret_cast<sockaddr_in*>(out);
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(port));
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
    if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<uint16_t>(port));
        return true;
    }
    return false;
}

}  // namespace knet::net
