// lzma: one .xz stream without integrity check, made by
// lzma_easy_buffer_encode(level, LZMA_CHECK_NONE) (level = preset).
// Decoding uses a stream decoder kept across packets (its dictionary is
// reused) with a memory limit that every preset libknet can produce fits
// in, and an output bounded by the caller's capacity.
#include <lzma.h>

#include <cerrno>
#include <cstdint>
#include <mutex>

#include "compress/codec.h"

namespace knet::compress::detail {
namespace {

static_assert(LZMA_PRESET_DEFAULT == 6);

// Presets 0..9 use dictionaries of at most 64 MiB; the decoder needs a little
// more than the dictionary.  Larger claims are refused instead of allocated.
constexpr uint64_t kDecoderMemLimit = 128ull << 20;

class LzmaCodec final : public Codec {
public:
    LzmaCodec(int level, log::Logger* log) : Codec(kLzma, level, log) {}
    ~LzmaCodec() override { lzma_end(&dec_); }

    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        // Stateless call; liblzma allocates its encoder per call, as in libknet.
        size_t out_pos = 0;
        lzma_ret ret = lzma_easy_buffer_encode(static_cast<uint32_t>(level()), LZMA_CHECK_NONE,
                                               nullptr, in.data(), in.size(), out.data(),
                                               &out_pos, out.size());
        switch (ret) {
            case LZMA_OK: return out_pos;
            case LZMA_MEM_ERROR:
            case LZMA_MEMLIMIT_ERROR:
                KNET_LOG_D(log_, KNET_SUB_LZMACOMP, "lzma compress memory error %d", ret);
                return Error{ENOMEM};
            case LZMA_BUF_ERROR:
                return Error{ENOBUFS};
            default:
                KNET_LOG_D(log_, KNET_SUB_LZMACOMP, "lzma compress error %d", ret);
                return Error{EINVAL};
        }
    }

    Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        std::lock_guard lock(rx_mu_);
        // Re-initialising an existing decoder keeps its allocations.
        lzma_ret ret = lzma_stream_decoder(&dec_, kDecoderMemLimit, 0);
        if (ret != LZMA_OK) return Error{ret == LZMA_MEM_ERROR ? ENOMEM : EINVAL};
        dec_.next_in = in.data();
        dec_.avail_in = in.size();
        dec_.next_out = out.data();
        dec_.avail_out = out.size();
        // lzma_code returns when it can make no more progress; loop a bounded
        // number of times in case it stops early with work left.
        for (int i = 0; i < 8; i++) {
            size_t before_in = dec_.avail_in, before_out = dec_.avail_out;
            ret = lzma_code(&dec_, LZMA_FINISH);
            if (ret != LZMA_OK) break;
            if (dec_.avail_in == before_in && dec_.avail_out == before_out) break;
        }
        switch (ret) {
            case LZMA_STREAM_END:
                return out.size() - dec_.avail_out;
            case LZMA_MEM_ERROR:
            case LZMA_MEMLIMIT_ERROR:
                KNET_LOG_D(log_, KNET_SUB_LZMACOMP, "lzma decompress memory error %d", ret);
                return Error{ENOMEM};
            case LZMA_OK:
            case LZMA_BUF_ERROR:
                // Stopped early: no room left, or the input ended too soon.
                return Error{dec_.avail_out == 0 ? ENOBUFS : EINVAL};
            default:
                KNET_LOG_D(log_, KNET_SUB_LZMACOMP, "lzma decompress invalid data (%d)", ret);
                return Error{EINVAL};
        }
    }

private:
    std::mutex rx_mu_;
    lzma_stream dec_ = LZMA_STREAM_INIT;
};

}  // namespace

std::unique_ptr<Codec> make_lzma(int level, log::Logger* log) {
    return std::make_unique<LzmaCodec>(level, log);
}

}  // namespace knet::compress::detail
