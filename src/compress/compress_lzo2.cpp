// lzo2: LZO1X.  The level selects the compressor (1, 11, 12, 15, 999; any
// other value lzo1x_1); every variant produces LZO1X data, decoded with the
// bounds-checked lzo1x_decompress_safe.
//
// LZO compressors take no output capacity: they may write up to
// in + in/16 + 64 + 3 bytes.  When `out` is smaller than that we compress
// into a scratch buffer and copy the result only if it fits.
#include <lzo/lzo1x.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "compress/codec.h"

namespace knet::compress::detail {
namespace {

size_t lzo1x_bound(size_t n) { return n + n / 16 + 64 + 3; }

bool lzo_library_ok() {
    static const bool ok = lzo_init() == LZO_E_OK;
    return ok;
}

class Lzo2Codec final : public Codec {
public:
    Lzo2Codec(int level, log::Logger* log) : Codec(kLzo2, level, log) {}

    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (!lzo_library_ok()) return Error{EINVAL};
        std::lock_guard lock(tx_mu_);
        if (!work_) {
            // Enough for every lzo1x compressor (lzo1x_999 needs the most).
            work_ = std::make_unique<lzo_align_t[]>(
                (LZO1X_999_MEM_COMPRESS + sizeof(lzo_align_t) - 1) / sizeof(lzo_align_t));
        }
        size_t need = lzo1x_bound(in.size());
        uint8_t* dst = out.data();
        if (out.size() < need) {
            if (scratch_.size() < need) scratch_.resize(need);
            dst = scratch_.data();
        }
        lzo_uint len = 0;
        int err;
        switch (level()) {
            case 11: err = lzo1x_1_11_compress(in.data(), in.size(), dst, &len, work_.get()); break;
            case 12: err = lzo1x_1_12_compress(in.data(), in.size(), dst, &len, work_.get()); break;
            case 15: err = lzo1x_1_15_compress(in.data(), in.size(), dst, &len, work_.get()); break;
            case 999: err = lzo1x_999_compress(in.data(), in.size(), dst, &len, work_.get()); break;
            default: err = lzo1x_1_compress(in.data(), in.size(), dst, &len, work_.get()); break;
        }
        if (err != LZO_E_OK) {
            KNET_LOG_D(log_, KNET_SUB_LZO2COMP, "lzo2 internal compression error %d", err);
            return Error{EAGAIN};
        }
        if (dst != out.data()) {
            if (len > out.size()) return Error{ENOBUFS};
            std::memcpy(out.data(), dst, len);
        }
        return static_cast<size_t>(len);
    }

    Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (!lzo_library_ok()) return Error{EINVAL};
        // Stateless: lzo1x_decompress_safe needs no work memory.
        lzo_uint len = out.size();
        int err = lzo1x_decompress_safe(in.data(), in.size(), out.data(), &len, nullptr);
        if (err != LZO_E_OK) {
            KNET_LOG_D(log_, KNET_SUB_LZO2COMP, "lzo2 internal decompression error %d", err);
            return Error{err == LZO_E_OUTPUT_OVERRUN ? ENOBUFS : EAGAIN};
        }
        return static_cast<size_t>(len);
    }

private:
    std::mutex tx_mu_;
    std::unique_ptr<lzo_align_t[]> work_;
    std::vector<uint8_t> scratch_;
};

}  // namespace

std::unique_ptr<Codec> make_lzo2(int level, log::Logger* log) {
    return std::make_unique<Lzo2Codec>(level, log);
}

}  // namespace knet::compress::detail
