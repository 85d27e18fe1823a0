#include "core/addr.h"

#include <cstring>

#include <netinet/in.h>

namespace knet::core {

socklen_t sockaddr_len(const sockaddr_storage& ss) {
    return ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

sockaddr_storage canonical_copy(const sockaddr_storage& in) {
    sockaddr_storage out{};
    std::memcpy(&out, &in, sockaddr_len(in));
    return out;
}

bool same_ip(const sockaddr_storage& a, const sockaddr_storage& b) {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET) {
        const auto& x = reinterpret_cast<const sockaddr_in&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in&>(b);
        return x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    if (a.ss_family == AF_INET6) {
        const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
        return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(in6_addr)) == 0;
    }
    return false;
}

}  // namespace knet::core
