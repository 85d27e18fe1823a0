// lz4 and lz4hc: raw LZ4 blocks (no frame).  lz4 compresses with
// LZ4_compress_fast (level = acceleration), lz4hc with LZ4_compress_HC
// (level = HC level); both decompress with LZ4_decompress_safe, bounded by
// the output capacity.
#include <lz4.h>
#include <lz4hc.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <mutex>

#include "compress/codec.h"

namespace knet::compress::detail {
namespace {

static_assert(LZ4HC_CLEVEL_DEFAULT == 9);

int clamp_int(size_t n) { return static_cast<int>(std::min<size_t>(n, INT_MAX)); }

// Decompression shared by both models: one LZ4 block into at most out.size().
Result<size_t> lz4_block_decompress(std::span<const uint8_t> in, std::span<uint8_t> out,
                                    log::Logger* log) {
    if (in.size() > INT_MAX) return Error{EINVAL};
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data()),
                                reinterpret_cast<char*>(out.data()), static_cast<int>(in.size()),
                                clamp_int(out.size()));
    if (n < 0) {
        KNET_LOG_D(log, KNET_SUB_LZ4COMP, "lz4 decompression error: %d", n);
        return Error{EINVAL};
    }
    return static_cast<size_t>(n);
}

class Lz4Codec final : public Codec {
public:
    Lz4Codec(int level, log::Logger* log) : Codec(kLz4, level, log) {}

    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (in.size() > LZ4_MAX_INPUT_SIZE) return Error{EINVAL};
        // Stateless (its hash table lives on the stack): no lock needed.
        int n = LZ4_compress_fast(reinterpret_cast<const char*>(in.data()),
                                  reinterpret_cast<char*>(out.data()),
                                  static_cast<int>(in.size()), clamp_int(out.size()), level());
        if (n < 0) {
            KNET_LOG_D(log_, KNET_SUB_LZ4COMP, "lz4 compression error: %d", n);
            return Error{EINVAL};
        }
        if (n == 0) return Error{ENOBUFS};  // did not fit: send it uncompressed
        return static_cast<size_t>(n);
    }

    Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        return lz4_block_decompress(in, out, log_);
    }
};

class Lz4hcCodec final : public Codec {
public:
    Lz4hcCodec(int level, log::Logger* log) : Codec(kLz4hc, level, log) {}
    ~Lz4hcCodec() override { std::free(state_); }

    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (in.size() > LZ4_MAX_INPUT_SIZE) return Error{EINVAL};
        std::lock_guard lock(tx_mu_);
        if (state_ == nullptr) {
            // LZ4_compress_HC would allocate this (~256 KiB) on every call.
            state_ = std::malloc(static_cast<size_t>(LZ4_sizeofStateHC()));
            if (state_ == nullptr) return Error{ENOMEM};
        }
        int n = LZ4_compress_HC_extStateHC(state_, reinterpret_cast<const char*>(in.data()),
                                           reinterpret_cast<char*>(out.data()),
                                           static_cast<int>(in.size()), clamp_int(out.size()),
                                           level());
        if (n <= 0) {
            KNET_LOG_D(log_, KNET_SUB_LZ4HCCOMP, "lz4hc compression error: %d", n);
            return Error{EINVAL};
        }
        return static_cast<size_t>(n);
    }

    Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        return lz4_block_decompress(in, out, log_);
    }

private:
    std::mutex tx_mu_;
    void* state_ = nullptr;
};

}  // namespace

std::unique_ptr<Codec> make_lz4(int level, log::Logger* log) {
    return std::make_unique<Lz4Codec>(level, log);
}

std::unique_ptr<Codec> make_lz4hc(int level, log::Logger* log) {
    return std::make_unique<Lz4hcCodec>(level, log);
}

}  // namespace knet::compress::detail
