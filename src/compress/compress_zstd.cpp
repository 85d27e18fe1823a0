// zstd: one zstd frame from ZSTD_compressCCtx at the level, decoded by
// ZSTD_decompressDCtx bounded by the output capacity.  One compression and
// one decompression context, created on first use and reused.
#include <zstd.h>
#include <zstd_errors.h>

#include <cerrno>
#include <mutex>

#include "compress/codec.h"

namespace knet::compress::detail {
namespace {

static_assert(ZSTD_CLEVEL_DEFAULT == 3);

class ZstdCodec final : public Codec {
public:
    ZstdCodec(int level, log::Logger* log) : Codec(kZstd, level, log) {}
    ~ZstdCodec() override {
        ZSTD_freeCCtx(cctx_);
        ZSTD_freeDCtx(dctx_);
    }

    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        std::lock_guard lock(tx_mu_);
        if (cctx_ == nullptr && (cctx_ = ZSTD_createCCtx()) == nullptr) return Error{ENOMEM};
        size_t n = ZSTD_compressCCtx(cctx_, out.data(), out.size(), in.data(), in.size(), level());
        if (ZSTD_isError(n)) {
            KNET_LOG_D(log_, KNET_SUB_ZSTDCOMP, "error compressing packet: %s",
                       ZSTD_getErrorName(n));
            return Error{ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? ENOBUFS : EINVAL};
        }
        return n;
    }

    Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        std::lock_guard lock(rx_mu_);
        if (dctx_ == nullptr && (dctx_ = ZSTD_createDCtx()) == nullptr) return Error{ENOMEM};
        size_t n = ZSTD_decompressDCtx(dctx_, out.data(), out.size(), in.data(), in.size());
        if (ZSTD_isError(n)) {
            KNET_LOG_D(log_, KNET_SUB_ZSTDCOMP, "error decompressing packet: %s",
                       ZSTD_getErrorName(n));
            return Error{ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? ENOBUFS : EINVAL};
        }
        return n;
    }

private:
    std::mutex tx_mu_;
    ZSTD_CCtx* cctx_ = nullptr;
    std::mutex rx_mu_;
    ZSTD_DCtx* dctx_ = nullptr;
};

}  // namespace

std::unique_ptr<Codec> make_zstd(int level, log::Logger* log) {
    return std::make_unique<ZstdCodec>(level, log);
}

}  // namespace knet::compress::detail
