// Compression as libknet 1.x does it: the model registry, configuration
// checks of knet_handle_compress(), the TX-side Compressor and the RX-side
// Decompressor.
//
// Model ids, names and order (zlib=1 lz4=2 lz4hc=3 lzo2=4 lzma=5 bzip2=6
// zstd=7, "none"=0) are those of libknet 1.25.  Levels mean what each
// library means by them, with these defaults (ModelInfo::default_level):
//   zlib   -1 (Z_DEFAULT_COMPRESSION); valid -1..9, 0 = stored: libknet's
//          self-test sees no gain with 0 and switches to the default
//   lz4    acceleration of LZ4_compress_fast, any value (<1 means 1);
//          no default (kUnknownDefaultLevel)
//   lz4hc  9 (LZ4HC_CLEVEL_DEFAULT); any value (<1 means 9, >12 means 12)
//   lzo2   algorithm: 1, 11, 12, 15 or 999 (lzo1x_1[_11,_12,_15],
//          lzo1x_999); any other value means lzo1x_1; default 1
//   lzma   6 (LZMA_PRESET_DEFAULT); preset 0..9, optionally
//          | LZMA_PRESET_EXTREME (INT_MIN); others EINVAL
//   bzip2  block size in 100k units 1..9, others EINVAL; no default
//   zstd   3 (ZSTD_CLEVEL_DEFAULT); any value (zstd clamps; 0 = default)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "compress/codec.h"
#include "libknet.h"
#include "log/logger.h"
#include "util/result.h"

namespace knet::compress {

struct ModelInfo {
    const char* name;   // as in knet_handle_compress_cfg::compress_model
    uint8_t id;         // wire id (DATA header compress byte)
    bool built_in;      // this build supports it ("none" is never listed)
    int default_level;  // kUnknownDefaultLevel when the library has none
};

// Every model in libknet's order, "none" first (built_in false, like libknet:
// knet_get_compress_list lists only the entries with built_in set).
std::span<const ModelInfo> models();

// Looks a model up by name (exact match) or by wire id; nullptr if unknown.
const ModelInfo* find_model(std::string_view name);
const ModelInfo* find_model(uint8_t id);

// Model name from the fixed-size config field (stops at 16 bytes even
// without a terminating NUL).
std::string_view model_name(const knet_handle_compress_cfg& cfg);

// The configured TX compression of a handle.
class Compressor {
public:
    // Checks a knet_handle_compress() configuration exactly as libknet 1.25
    // does and builds the compressor.  Steps and errnos, in order:
    //   unknown model name                    EINVAL  (1)
    //   "none": always succeeds, compression disabled, nothing else checked
    //   model not built in                    EINVAL  (1)
    //   threshold > KNET_MAX_PACKET_SIZE      EINVAL  (1)
    //   threshold 0 -> KNET_COMPRESS_THRESHOLD
    //   self-test: compress kDataBufSize zero bytes into kDataBufSizeCompress
    //     bytes at the level; a library error fails with that errno (2)
    //     (zlib EINVAL/ENOBUFS/ENOMEM, bzip2 EINVAL/E2BIG, lzma EINVAL/ENOMEM)
    //   no gain -> retry at the model's default level (a warning, level()
    //     reports the default); no default level -> EINVAL (2)
    //   decompress and compare; failure -> its errno, mismatch EINVAL (2)
    // (1) libknet leaves the previous configuration in place;
    // (2) libknet leaves compression disabled on the handle.
    static Result<std::unique_ptr<Compressor>> create(const knet_handle_compress_cfg& cfg,
                                                      log::Logger* log);

    // Wire id of the model; 0 when compression is disabled ("none").
    uint8_t model_id() const { return codec_ ? codec_->id() : 0; }
    // Effective level (after the default-level fallback).
    int level() const { return codec_ ? codec_->level() : 0; }
    // Packets of at most this many bytes are sent uncompressed.
    uint32_t threshold() const { return threshold_; }
    bool enabled() const { return codec_ != nullptr; }

    // True when a packet of `len` bytes should go through compress(), as in
    // libknet: a model is set and len > threshold.  The caller then sends the
    // compressed form only when it is strictly shorter than the input, and
    // the uncompressed one when compress() fails.
    bool wants(size_t len) const { return codec_ && len > threshold_; }

    // Compresses one packet (see Codec::compress); EINVAL when disabled.
    // Safe to call from any thread.
    Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) const;

private:
    Compressor(std::unique_ptr<Codec> codec, uint32_t threshold)
        : codec_(std::move(codec)), threshold_(threshold) {}
    std::unique_ptr<Codec> codec_;
    uint32_t threshold_;
};

// Decodes received packets of any built-in model, whatever the local
// configuration (peers may each use a different model).
class Decompressor {
public:
    explicit Decompressor(log::Logger* log);

    // Decompresses `in` (compressed with wire model `model_id`) into `out`,
    // never past out.size(): pass a KNET_MAX_PACKET_SIZE buffer so that no
    // packet larger than a user datagram is ever produced.  EINVAL for model
    // 0, unknown and not-built-in models; otherwise see Codec::decompress.
    // Safe to call from any thread.
    Result<size_t> decompress(uint8_t model_id, std::span<const uint8_t> in,
                              std::span<uint8_t> out) const;

private:
    log::Logger* log_;
    std::unique_ptr<Codec> codecs_[kMaxModelId + 1];
};

}  // namespace knet::compress
