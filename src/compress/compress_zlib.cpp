// zlib: a zlib-wrapped deflate stream (what compress2()/uncompress() produce
// and accept), at the configured level.  The deflate and inflate states are
// kept and reset per packet instead of being rebuilt by compress2() and
// uncompress() every time; the bytes are the same.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <mutex>

#include "compress/codec.h"

namespace knet::compress::detail {
namespace {

static_assert(Z_DEFAULT_COMPRESSION == -1);

class ZlibCodec final : public Codec {
public:
    ZlibCodec(int level, log::Logger* log) : Codec(kZlib, level, log) {}
    ~ZlibCodec() override {
        if (deflate_ready_) deflateEnd(&def_);
        if (inflate_ready_) inflateEnd(&inf_);
    }

    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (in.size() > UINT_MAX) return Error{EINVAL};
        std::lock_guard lock(tx_mu_);
        if (!deflate_ready_) {
            def_ = z_stream{};
            int zerr = deflateInit(&def_, level());
            if (zerr != Z_OK) return Error{map_error(zerr, "compress")};
            deflate_ready_ = true;
        } else if (deflateReset(&def_) != Z_OK) {
            return Error{EINVAL};
        }
        def_.next_in = const_cast<Bytef*>(in.data());
        def_.avail_in = static_cast<uInt>(in.size());
        def_.next_out = out.data();
        def_.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), UINT_MAX));
        int zerr = deflate(&def_, Z_FINISH);
        if (zerr == Z_STREAM_END) return static_cast<size_t>(def_.total_out);
        // Z_OK or Z_BUF_ERROR with Z_FINISH: the output buffer is full.
        if (zerr == Z_OK) zerr = Z_BUF_ERROR;
        return Error{map_error(zerr, "compress")};
    }

    Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) override {
        if (in.size() > UINT_MAX) return Error{EINVAL};
        std::lock_guard lock(rx_mu_);
        if (!inflate_ready_) {
            inf_ = z_stream{};
            int zerr = inflateInit(&inf_);
            if (zerr != Z_OK) return Error{map_error(zerr, "decompress")};
            inflate_ready_ = true;
        } else if (inflateReset(&inf_) != Z_OK) {
            return Error{EINVAL};
        }
        inf_.next_in = const_cast<Bytef*>(in.data());
        inf_.avail_in = static_cast<uInt>(in.size());
        inf_.next_out = out.data();
        inf_.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), UINT_MAX));
        int zerr = inflate(&inf_, Z_FINISH);
        if (zerr == Z_STREAM_END) return static_cast<size_t>(inf_.total_out);
        if (zerr == Z_NEED_DICT) zerr = Z_DATA_ERROR;
        if (zerr == Z_OK || zerr == Z_BUF_ERROR) {
            // Stopped early: either no room left, or the input ended too soon.
            zerr = inf_.avail_out == 0 ? Z_BUF_ERROR : Z_DATA_ERROR;
        }
        return Error{map_error(zerr, "decompress")};
    }

private:
    // libknet's errno for each zlib result.
    int map_error(int zerr, const char* what) const {
        switch (zerr) {
            case Z_MEM_ERROR:
                KNET_LOG_D(log_, KNET_SUB_ZLIBCOMP, "zlib %s mem error", what);
                return ENOMEM;
            case Z_BUF_ERROR:
                KNET_LOG_D(log_, KNET_SUB_ZLIBCOMP, "zlib %s buf error", what);
                return ENOBUFS;
            case Z_STREAM_ERROR:
                KNET_LOG_D(log_, KNET_SUB_ZLIBCOMP, "zlib %s stream error", what);
                return EINVAL;
            case Z_DATA_ERROR:
                KNET_LOG_D(log_, KNET_SUB_ZLIBCOMP, "zlib %s data error", what);
                return EINVAL;
            default:
                KNET_LOG_D(log_, KNET_SUB_ZLIBCOMP, "zlib unknown %s error: %d", what, zerr);
                return EINVAL;
        }
    }

    std::mutex tx_mu_;
    z_stream def_{};
    bool deflate_ready_ = false;
    std::mutex rx_mu_;
    z_stream inf_{};
    bool inflate_ready_ = false;
};

}  // namespace

std::unique_ptr<Codec> make_zlib(int level, log::Logger* log) {
    return std::make_unique<ZlibCodec>(level, log);
}

}  // namespace knet::compress::detail
