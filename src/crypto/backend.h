// Internal interface between the crypto front end (crypto.cpp) and the
// per-library backends (openssl.cpp, nss.cpp).  Not for other modules.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "crypto/crypto.h"

namespace knet::crypto::detail {

// A NUL-terminated name field of the config, or nothing if it has no NUL.
template <size_t M>
std::optional<std::string_view> name_field(const char (&f)[M]) {
    size_t n = strnlen(f, M);
    if (n == M) return std::nullopt;
    return std::string_view(f, n);
}

inline bool is_none(std::string_view name) { return name == "none"; }

// Resolve the cipher and hash names as the model does; ENXIO if unknown,
// EINVAL for cipher without hash.  Names are already NUL-terminated.
Status openssl_check_names(const char* cipher, const char* hash);
Status nss_check_names(const char* cipher, const char* hash);

// Build a backend instance (names already validated).
Result<std::unique_ptr<Instance>> openssl_create(const knet_handle_crypto_cfg& cfg,
                                                 log::Logger* log);
Result<std::unique_ptr<Instance>> nss_create(const knet_handle_crypto_cfg& cfg,
                                             log::Logger* log);

// Gather an iovec into a total length; false if it overflows or is invalid.
bool iov_total(const struct iovec* iov, int iovcnt, size_t* total);

// Our cap on one packet's input, well inside int for the library calls.
inline constexpr size_t kMaxInput = KNET_MAX_PACKET_SIZE + 4096;

}  // namespace knet::crypto::detail
