// bzip2: one .bz2 stream from BZ2_bzBuffToBuffCompress (level = block size
// in 100k units, default work factor), decoded by BZ2_bzBuffToBuffDecompress
// bounded by the output capacity.  libbz2 allocates its state per call.
#include <bzlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "compress/codec.h"

namespace knet::compress::detail {
namespace {

unsigned int clamp_uint(size_t n) { return static_cast<unsigned int>(std::min<size_t>(n, UINT_MAX)); }

class Bzip2Codec final : public Codec {
public:
    Bzip2Codec(int level, log::Logger* log) : Codec(kBzip2, level, log) {}

    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (in.size() > UINT_MAX) return Error{EINVAL};
        unsigned int len = clamp_uint(out.size());
        int err = BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &len,
                                           const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                           static_cast<unsigned int>(in.size()), level(), 0, 0);
        switch (err) {
            case BZ_OK: return static_cast<size_t>(len);
            case BZ_MEM_ERROR: return Error{ENOMEM};
            case BZ_OUTBUFF_FULL: return Error{E2BIG};
            default:
                KNET_LOG_D(log_, KNET_SUB_BZIP2COMP, "bzip2 compress error %d", err);
                return Error{EINVAL};
        }
    }

    Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (in.size() > UINT_MAX) return Error{EINVAL};
        unsigned int len = clamp_uint(out.size());
        int err = BZ2_bzBuffToBuffDecompress(reinterpret_cast<char*>(out.data()), &len,
                                             const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                             static_cast<unsigned int>(in.size()), 0, 0);
        switch (err) {
            case BZ_OK: return static_cast<size_t>(len);
            case BZ_MEM_ERROR: return Error{ENOMEM};
            case BZ_OUTBUFF_FULL: return Error{E2BIG};
            default:
                KNET_LOG_D(log_, KNET_SUB_BZIP2COMP, "bzip2 decompress error %d", err);
                return Error{EINVAL};
        }
    }
};

}  // namespace

std::unique_ptr<Codec> make_bzip2(int level, log::Logger* log) {
    return std::make_unique<Bzip2Codec>(level, log);
}

}  // namespace knet::compress::detail
