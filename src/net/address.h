// Socket address helpers: lengths, comparison, printing.
#pragma once

#include <cstddef>

#include <netinet/in.h>
#include <sys/socket.h>

namespace knet::net {

// Length of the sockaddr actually stored (sizeof sockaddr_in/in6), 0 for
// any other family.
socklen_t sockaddr_len(const sockaddr_storage& ss) noexcept;

// Same family, address and port (IPv6: also scope id).  Unset (AF_UNSPEC)
// addresses never compare equal to anything.
bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) noexcept;

// Same family and address, port ignored.
bool same_ip(const sockaddr_storage& a, const sockaddr_storage& b) noexcept;

// Port in host order (0 for other families).
unsigned port_of(const sockaddr_storage& ss) noexcept;

// Loopback / wildcard tests.
bool is_any(const sockaddr_storage& ss) noexcept;

// "addr:port" / "[addr]:port" into buf (always NUL-terminated).  Returns buf.
inline constexpr size_t kAddrStrLen = 64;
const char* format(const sockaddr_storage& ss, char (&buf)[kAddrStrLen]) noexcept;

// Test/tool helper: parses a numeric IPv4/IPv6 address and a port.
bool make_addr(const char* ip, unsigned port, sockaddr_storage* out) noexcept;

}  // namespace knet::net
