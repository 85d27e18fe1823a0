// Overwrites secrets (crypto keys and copies of them) before their memory is
// released or reused: a plain memset before a free may be optimised away.
#pragma once

#include <string.h>

#include <cstddef>

namespace knet {

inline void wipe_secret(void* p, size_t n) noexcept {
    if (p && n) ::explicit_bzero(p, n);
}

}  // namespace knet
