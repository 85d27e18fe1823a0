// One compression library behind one small interface.
//
// A Codec turns a whole packet into one self-contained compressed blob (and
// back) with exactly the library calls and parameters libknet 1.x uses, so
// that its nodes decode ours and we decode theirs.  Each backend lives in its
// own compress_<library>.cpp.
//
// Locking: a Codec may be used at the same time by any number of threads.
// Backends that keep scratch state (deflate/inflate streams, lz4hc state, lzo
// work memory, lzma decoder, zstd contexts) keep one set per direction,
// allocated on first use and reused for every packet, each guarded by its own
// mutex; so the TX thread (compress) and the RX thread (decompress) never
// wait for each other, and nothing is allocated per packet once warm (except
// where the library itself allocates per call: bzip2, lzma compression).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "log/logger.h"
#include "util/result.h"

namespace knet::compress {

// Model ids as carried in the DATA header's compress byte.  Never renumber:
// they are on the wire.
enum ModelId : uint8_t {
    kNone = 0,
    kZlib = 1,
    kLz4 = 2,
    kLz4hc = 3,
    kLzo2 = 4,
    kLzma = 5,
    kBzip2 = 6,
    kZstd = 7,
};
inline constexpr uint8_t kMaxModelId = kZstd;

// Returned by default_level() when a library has no documented default.
inline constexpr int kUnknownDefaultLevel = -2;

// Sizes of libknet 1.x's data buffers: a maximal user datagram plus the
// largest packet header (26 bytes), and that plus 1 KiB of slack for
// compressors that may expand their input.
inline constexpr size_t kHeaderAllSize = 26;
inline constexpr size_t kDataBufSize = 65536 + kHeaderAllSize;
inline constexpr size_t kDataBufSizeCompress = kDataBufSize + 1024;

class Codec {
public:
    Codec(uint8_t id, int level, log::Logger* log) : log_(log), level_(level), id_(id) {}
    virtual ~Codec() = default;
    Codec(const Codec&) = delete;
    Codec& operator=(const Codec&) = delete;

    // Wire id of the model.
    uint8_t id() const { return id_; }
    // Level used by compress() (decompress() ignores it).
    int level() const { return level_; }

    // Compresses all of `in` into `out`; returns the number of bytes written.
    // Never writes past out.size().  Errors: ENOBUFS/E2BIG when the result
    // does not fit, EINVAL for a level the library rejects or an input it
    // cannot take, ENOMEM, EAGAIN (lzo2 internal error).
    virtual Result<size_t> compress(std::span<const uint8_t> in, std::span<uint8_t> out) = 0;

    // Decompresses `in` into `out`; returns the number of bytes produced.
    // Never writes or allocates output past out.size(), whatever the input
    // claims.  Corrupt or truncated input gives EINVAL (EAGAIN for lzo2, as
    // libknet reports it), output that would not fit ENOBUFS or E2BIG.
    virtual Result<size_t> decompress(std::span<const uint8_t> in, std::span<uint8_t> out) = 0;

protected:
    log::Logger* log_;

private:
    int level_;
    uint8_t id_;
};

// Creates the codec for a wire model id with a compression level.  The level
// is passed to the library as is (validation happens on first compress, as in
// libknet).  Fails with EINVAL for id 0, unknown ids and models not built in.
Result<std::unique_ptr<Codec>> make_codec(uint8_t id, int level, log::Logger* log);

// Per-backend factories (defined in compress_<library>.cpp; only
// those that are built in exist).
namespace detail {
std::unique_ptr<Codec> make_zlib(int level, log::Logger* log);
std::unique_ptr<Codec> make_lz4(int level, log::Logger* log);
std::unique_ptr<Codec> make_lz4hc(int level, log::Logger* log);
std::unique_ptr<Codec> make_lzo2(int level, log::Logger* log);
std::unique_ptr<Codec> make_lzma(int level, log::Logger* log);
std::unique_ptr<Codec> make_bzip2(int level, log::Logger* log);
std::unique_ptr<Codec> make_zstd(int level, log::Logger* log);
}  // namespace detail

}  // namespace knet::compress
