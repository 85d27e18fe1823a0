// Timing loop shared by the crypto micro benchmarks in this folder.
#pragma once

#include <chrono>
#include <cstddef>

namespace knet::bench {

// Runs fn() repeatedly for about `secs` (after one warm-up call) and
// returns MB/s (10^6 bytes), each call counting bytes_per_call.
template <typename Fn>
double measure(double secs, size_t bytes_per_call, Fn fn) {
    using Clock = std::chrono::steady_clock;
    fn();
    size_t calls = 0;
    const auto t0 = Clock::now();
    double el = 0;
    do {
        for (int i = 0; i < 8; ++i) fn();
        calls += 8;
        el = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (el < secs);
    return static_cast<double>(calls) * static_cast<double>(bytes_per_call) / el / 1e6;
}

}  // namespace knet::bench
