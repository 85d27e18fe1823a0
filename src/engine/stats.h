// Per-batch counter accumulation: a thread adds to local deltas while it
// processes a batch and folds them into the link/handle statistics once at
// the end (one LinkRuntime::mutex / stats_mutex acquisition per touched
// object per batch, never per packet).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "core/handle.h"

namespace knet::engine {

// The link counters the data path fills.
struct LinkCounters {
    uint64_t tx_data_packets = 0, rx_data_packets = 0, tx_data_bytes = 0, rx_data_bytes = 0;
    uint64_t rx_ping_packets = 0, tx_ping_packets = 0, rx_ping_bytes = 0, tx_ping_bytes = 0;
    uint64_t rx_pong_packets = 0, tx_pong_packets = 0, rx_pong_bytes = 0, tx_pong_bytes = 0;
    uint64_t rx_pmtu_packets = 0, tx_pmtu_packets = 0, rx_pmtu_bytes = 0, tx_pmtu_bytes = 0;
    uint32_t tx_pmtu_errors = 0, tx_pmtu_retries = 0, tx_ping_errors = 0, tx_ping_retries = 0;
    uint32_t tx_pong_errors = 0, tx_pong_retries = 0, tx_data_errors = 0, tx_data_retries = 0;

    void add_to(knet_link_stats& s) const {
        s.tx_data_packets += tx_data_packets;
        s.rx_data_packets += rx_data_packets;
        s.tx_data_bytes += tx_data_bytes;
        s.rx_data_bytes += rx_data_bytes;
        s.rx_ping_packets += rx_ping_packets;
        s.tx_ping_packets += tx_ping_packets;
        s.rx_ping_bytes += rx_ping_bytes;
        s.tx_ping_bytes += tx_ping_bytes;
        s.rx_pong_packets += rx_pong_packets;
        s.tx_pong_packets += tx_pong_packets;
        s.rx_pong_bytes += rx_pong_bytes;
        s.tx_pong_bytes += tx_pong_bytes;
        s.rx_pmtu_packets += rx_pmtu_packets;
        s.tx_pmtu_packets += tx_pmtu_packets;
        s.rx_pmtu_bytes += rx_pmtu_bytes;
        s.tx_pmtu_bytes += tx_pmtu_bytes;
        s.tx_pmtu_errors += tx_pmtu_errors;
        s.tx_pmtu_retries += tx_pmtu_retries;
        s.tx_ping_errors += tx_ping_errors;
        s.tx_ping_retries += tx_ping_retries;
        s.tx_pong_errors += tx_pong_errors;
        s.tx_pong_retries += tx_pong_retries;
        s.tx_data_errors += tx_data_errors;
        s.tx_data_retries += tx_data_retries;
    }
};

class LinkStatsBatch {
public:
    LinkCounters& of(core::Link& link) {
        for (size_t i = 0; i < n_; ++i)
            if (e_[i].link == &link) return e_[i].c;
        if (n_ == e_.size()) flush();
        e_[n_].link = &link;
        e_[n_].c = LinkCounters{};
        return e_[n_++].c;
    }
    void flush() {
        for (size_t i = 0; i < n_; ++i) {
            std::lock_guard g(e_[i].link->rt.mutex);
            e_[i].c.add_to(e_[i].link->rt.stats);
        }
        n_ = 0;
    }

private:
    struct Entry {
        core::Link* link = nullptr;
        LinkCounters c;
    };
    std::array<Entry, 16> e_{};
    size_t n_ = 0;
};

// Timing sample accumulator for one (packets, ave, min, max) group.
struct TimeAcc {
    uint64_t count = 0, sum = 0, min = 0, max = 0;
    void add(uint64_t ns) {
        if (count == 0 || ns < min) min = ns;
        if (ns > max) max = ns;
        sum += ns;
        ++count;
    }
    // Folds into the reference's running average / min / max.
    void fold(uint64_t& packets, uint64_t& ave, uint64_t& mn, uint64_t& mx) const {
        if (!count) return;
        if (packets == 0 || min < mn) mn = min;
        if (max > mx) mx = max;
        ave = (ave * packets + sum) / (packets + count);
        packets += count;
    }
};

struct HandleStatsBatch {
    uint64_t tx_uncompressed_packets = 0;
    uint64_t tx_compressed_original_bytes = 0, tx_compressed_size_bytes = 0;
    uint64_t rx_compressed_original_bytes = 0, rx_compressed_size_bytes = 0;
    uint64_t tx_crypt_byte_overhead = 0;
    TimeAcc tx_compress, rx_compress, tx_crypt, rx_crypt;
    bool dirty = false;

    void flush(core::HandleRuntime& rt) {
        if (!dirty) return;
        std::lock_guard g(rt.stats_mutex);
        auto& s = rt.stats;
        s.tx_uncompressed_packets += tx_uncompressed_packets;
        s.tx_compressed_original_bytes += tx_compressed_original_bytes;
        s.tx_compressed_size_bytes += tx_compressed_size_bytes;
        s.rx_compressed_original_bytes += rx_compressed_original_bytes;
        s.rx_compressed_size_bytes += rx_compressed_size_bytes;
        s.tx_crypt_byte_overhead += tx_crypt_byte_overhead;
        tx_compress.fold(s.tx_compressed_packets, s.tx_compress_time_ave, s.tx_compress_time_min,
                         s.tx_compress_time_max);
        rx_compress.fold(s.rx_compressed_packets, s.rx_compress_time_ave, s.rx_compress_time_min,
                         s.rx_compress_time_max);
        tx_crypt.fold(s.tx_crypt_packets, s.tx_crypt_time_ave, s.tx_crypt_time_min,
                      s.tx_crypt_time_max);
        rx_crypt.fold(s.rx_crypt_packets, s.rx_crypt_time_ave, s.rx_crypt_time_min,
                      s.rx_crypt_time_max);
        *this = HandleStatsBatch{};
    }
};

}  // namespace knet::engine
