// Socket address helpers shared by the API and the engine: the length of the
// meaningful part of a sockaddr_storage and canonical (zero-padded) copies.
#pragma once

#include <sys/socket.h>

namespace knet::core {

// sizeof(sockaddr_in) for AF_INET, else sizeof(sockaddr_in6) (as libknet).
socklen_t sockaddr_len(const sockaddr_storage& ss);

// A copy holding only the meaningful bytes of `in`, the rest zeroed, so two
// canonical copies of the same address compare equal with memcmp.
sockaddr_storage canonical_copy(const sockaddr_storage& in);

// Same family and address bytes (ports ignored); false for other families.
bool same_ip(const sockaddr_storage& a, const sockaddr_storage& b);

}  // namespace knet::core
