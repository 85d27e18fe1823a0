#include "core/handle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace {

// The crypto slots hold copies of the application's private keys: a freed
// handle must not leave them in the heap (upstream's CVE-2026-15811).
TEST(Handle, DestructorWipesTheCryptoKeys) {
    alignas(knet::core::Handle) unsigned char storage[sizeof(knet::core::Handle)];
    auto* h = new (storage) knet::core::Handle(1, 0, KNET_LOG_WARN, 0);
    for (size_t slot = 1; slot <= 2; ++slot) {
        knet_handle_crypto_cfg& c = h->crypto_cfg[slot];
        std::strcpy(c.crypto_model, "openssl");
        std::memset(c.private_key, 0xA5, sizeof(c.private_key));
        c.private_key_len = sizeof(c.private_key);
    }
    const size_t off = static_cast<size_t>(reinterpret_cast<unsigned char*>(&h->crypto_cfg) - storage);
    const size_t len = sizeof(h->crypto_cfg);
    h->~Handle();
    EXPECT_TRUE(std::all_of(storage + off, storage + off + len, [](unsigned char b) { return b == 0; }));
}

}  // namespace
