// Numeric address conversions (no name resolution).
#include <algorithm>
#include <cstring>

#include <netdb.h>

#include "api/handle_object.h"
#include "core/addr.h"

using namespace knet;

extern "C" {

// Returns 0 or a getaddrinfo error code (EAI_*), like libknet.
KNET_EXPORT int knet_strtoaddr(const char* host, const char* port, struct sockaddr_storage* ss,
                               socklen_t sslen) {
    if (!host || !port || !ss || !sslen) {
        errno = EINVAL;
        return -1;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* result = nullptr;
    int err = getaddrinfo(host, port, &hints, &result);
    if (err != 0) return err;
    std::memcpy(ss, result->ai_addr, std::min<size_t>(sslen, result->ai_addrlen));
    freeaddrinfo(result);
    errno = 0;
    return 0;
}

// Returns 0 or a getnameinfo error code (EAI_*), like libknet.
KNET_EXPORT int knet_addrtostr(const struct sockaddr_storage* ss, socklen_t sslen,
                               char* addr_buf, size_t addr_buf_size, char* port_buf,
                               size_t port_buf_size) {
    if (!ss || !sslen || !addr_buf || !port_buf) {
        errno = EINVAL;
        return -1;
    }
    int err = getnameinfo(reinterpret_cast<const sockaddr*>(ss),
                          std::min<socklen_t>(sslen, core::sockaddr_len(*ss)), addr_buf,
                          addr_buf_size, port_buf, port_buf_size,
                          NI_NUMERICHOST | NI_NUMERICSERV);
    if (err == 0) errno = 0;
    return err;
}

}  // extern "C"
