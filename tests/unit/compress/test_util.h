// Shared helpers of the compress tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "compress/compress.h"

namespace knet::compress::test {

// Models this build supports, in registry order.
inline std::vector<ModelInfo> built_models() {
    std::vector<ModelInfo> v;
    for (const auto& m : models())
        if (m.built_in) v.push_back(m);
    return v;
}

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
}

// Text-like data that compresses well but is not trivial.
inline std::vector<uint8_t> compressible_bytes(size_t n, uint32_t seed) {
    static const char* words[] = {"knet ", "link ", "host ", "packet ", "heartbeat ",
                                  "corosync ", "data ", "0123456789 "};
    std::mt19937 rng(seed);
    std::vector<uint8_t> v;
    v.reserve(n);
    while (v.size() < n) {
        const char* w = words[rng() % 8];
        for (size_t i = 0; w[i] && v.size() < n; i++) v.push_back(static_cast<uint8_t>(w[i]));
    }
    return v;
}

// A buffer of `cap` usable bytes followed by a guard region that must stay intact.
class Guarded {
public:
    static constexpr size_t kGuard = 4096;
    static constexpr uint8_t kFill = 0xA5;
    explicit Guarded(size_t cap) : cap_(cap), buf_(cap + kGuard, kFill) {}
    std::span<uint8_t> span() { return {buf_.data(), cap_}; }
    bool guard_intact() const {
        for (size_t i = cap_; i < buf_.size(); i++)
            if (buf_[i] != kFill) return false;
        return true;
    }

private:
    size_t cap_;
    std::vector<uint8_t> buf_;
};

inline knet_handle_compress_cfg cfg(const char* model, int level, uint32_t threshold = 0) {
    knet_handle_compress_cfg c{};
    std::memcpy(c.compress_model, model, std::min(std::strlen(model), sizeof(c.compress_model)));
    c.compress_level = level;
    c.compress_threshold = threshold;
    return c;
}

}  // namespace knet::compress::test
