#include "compress/compress.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace knet::compress {

namespace {

#ifdef KNET_HAVE_ZLIB
constexpr bool kHaveZlib = true;
#else
constexpr bool kHaveZlib = false;
#endif
#ifdef KNET_HAVE_LZ4
constexpr bool kHaveLz4 = true;
#else
constexpr bool kHaveLz4 = false;
#endif
#ifdef KNET_HAVE_LZO2
constexpr bool kHaveLzo2 = true;
#else
constexpr bool kHaveLzo2 = false;
#endif
#ifdef KNET_HAVE_LZMA
constexpr bool kHaveLzma = true;
#else
constexpr bool kHaveLzma = false;
#endif
#ifdef KNET_HAVE_BZIP2
constexpr bool kHaveBzip2 = true;
#else
constexpr bool kHaveBzip2 = false;
#endif
#ifdef KNET_HAVE_ZSTD
constexpr bool kHaveZstd = true;
#else
constexpr bool kHaveZstd = false;
#endif

// Libraries' own defaults (their headers' constants), where they have one.
constexpr int kZlibDefault = -1;   // Z_DEFAULT_COMPRESSION
constexpr int kLz4hcDefault = 9;   // LZ4HC_CLEVEL_DEFAULT
constexpr int kLzo2Default = 1;    // lzo1x_1 (libknet's own choice)
constexpr int kLzmaDefault = 6;    // LZMA_PRESET_DEFAULT
constexpr int kZstdDefault = 3;    // ZSTD_CLEVEL_DEFAULT

// Order and ids are libknet's: never reorder, ids are on the wire.
constexpr ModelInfo kModels[] = {
    {"none", kNone, false, 0},
    {"zlib", kZlib, kHaveZlib, kZlibDefault},
    {"lz4", kLz4, kHaveLz4, kUnknownDefaultLevel},
    {"lz4hc", kLz4hc, kHaveLz4, kLz4hcDefault},
    {"lzo2", kLzo2, kHaveLzo2, kLzo2Default},
    {"lzma", kLzma, kHaveLzma, kLzmaDefault},
    {"bzip2", kBzip2, kHaveBzip2, kUnknownDefaultLevel},
    {"zstd", kZstd, kHaveZstd, kZstdDefault},
};
static_assert(sizeof(kModels) / sizeof(kModels[0]) == kMaxModelId + 1);

// libknet's configuration self-test: compress a zeroed kDataBufSize buffer,
// fall back to the default level when that gives no gain, and check the
// round trip.  Returns the codec that passed.
Result<std::unique_ptr<Codec>> self_test(const ModelInfo& m, int level, log::Logger* log) {
    auto made = make_codec(m.id, level, log);
    if (!made) return Error{made.error()};
    std::unique_ptr<Codec> codec = std::move(made.value());

    std::vector<uint8_t> src(kDataBufSize, 0);
    std::vector<uint8_t> dst(kDataBufSizeCompress, 0);

    auto c = codec->compress(src, dst);
    if (!c) {
        KNET_LOG_E(log, KNET_SUB_COMPRESS,
                   "Unable to compress test buffer. Please check your compression settings: %s",
                   std::strerror(c.error()));
        return Error{c.error()};
    }
    if (c.value() >= kDataBufSize) {
        KNET_LOG_W(log, KNET_SUB_COMPRESS,
                   "Requested compression level (%d) did not generate any compressed data "
                   "(source: %zu destination: %zu)",
                   level, src.size(), c.value());
        if (m.default_level == 0 || m.default_level == kUnknownDefaultLevel) {
            KNET_LOG_E(log, KNET_SUB_COMPRESS, "compression %s does not provide a default value",
                       m.name);
            return Error{EINVAL};
        }
        made = make_codec(m.id, m.default_level, log);
        if (!made) return Error{made.error()};
        codec = std::move(made.value());
        c = codec->compress(src, dst);
        if (!c) {
            KNET_LOG_E(log, KNET_SUB_COMPRESS,
                       "Unable to compress with default compression level: %s",
                       std::strerror(c.error()));
            return Error{c.error()};
        }
        KNET_LOG_W(log, KNET_SUB_COMPRESS,
                   "Requested compression level (%d) did not work, switching to default (%d)",
                   level, m.default_level);
    }

    std::fill(src.begin(), src.end(), uint8_t{0xff});
    auto d = codec->decompress(std::span<const uint8_t>(dst.data(), c.value()), src);
    if (!d) {
        KNET_LOG_E(log, KNET_SUB_COMPRESS,
                   "Unable to decompress test buffer. Please check your compression settings: %s",
                   std::strerror(d.error()));
        return Error{d.error()};
    }
    bool same = d.value() == kDataBufSize;
    for (size_t i = 0; same && i < kDataBufSize; i++) same = src[i] == 0;
    if (!same) {
        KNET_LOG_E(log, KNET_SUB_COMPRESS, "Decompressed buffer contains incorrect data");
        return Error{EINVAL};
    }
    return codec;
}

}  // namespace

std::span<const ModelInfo> models() { return kModels; }

const ModelInfo* find_model(std::string_view name) {
    for (const auto& m : kModels) {
        if (name == m.name) return &m;
    }
    return nullptr;
}

const ModelInfo* find_model(uint8_t id) {
    return id <= kMaxModelId ? &kModels[id] : nullptr;
}

std::string_view model_name(const knet_handle_compress_cfg& cfg) {
    const char* p = cfg.compress_model;
    return std::string_view(p, strnlen(p, sizeof(cfg.compress_model)));
}

Result<std::unique_ptr<Codec>> make_codec(uint8_t id, int level, log::Logger* log) {
    const ModelInfo* m = find_model(id);
    if (m == nullptr || !m->built_in) return Error{EINVAL};
    std::unique_ptr<Codec> c;
    switch (id) {
#ifdef KNET_HAVE_ZLIB
        case kZlib: c = detail::make_zlib(level, log); break;
#endif
#ifdef KNET_HAVE_LZ4
        case kLz4: c = detail::make_lz4(level, log); break;
        case kLz4hc: c = detail::make_lz4hc(level, log); break;
#endif
#ifdef KNET_HAVE_LZO2
        case kLzo2: c = detail::make_lzo2(level, log); break;
#endif
#ifdef KNET_HAVE_LZMA
        case kLzma: c = detail::make_lzma(level, log); break;
#endif
#ifdef KNET_HAVE_BZIP2
        case kBzip2: c = detail::make_bzip2(level, log); break;
#endif
#ifdef KNET_HAVE_ZSTD
        case kZstd: c = detail::make_zstd(level, log); break;
#endif
        default: return Error{EINVAL};
    }
    if (!c) return Error{ENOMEM};
    return c;
}

Result<std::unique_ptr<Compressor>> Compressor::create(const knet_handle_compress_cfg& cfg,
                                                       log::Logger* log) {
    std::string_view name = model_name(cfg);
    const ModelInfo* m = find_model(name);
    if (m == nullptr) {
        KNET_LOG_E(log, KNET_SUB_COMPRESS, "compress model %.*s not supported",
                   static_cast<int>(name.size()), name.data());
        return Error{EINVAL};
    }
    KNET_LOG_D(log, KNET_SUB_COMPRESS, "Initializing compress module [%s/%d/%u]", m->name,
               cfg.compress_level, cfg.compress_threshold);
    if (m->id == kNone) {
        return std::unique_ptr<Compressor>(new Compressor(nullptr, cfg.compress_threshold));
    }
    if (!m->built_in) {
        KNET_LOG_E(log, KNET_SUB_COMPRESS,
                   "compress model %s support has not been built in. Please contact your "
                   "vendor or fix the build",
                   m->name);
        return Error{EINVAL};
    }
    if (cfg.compress_threshold > KNET_MAX_PACKET_SIZE) {
        KNET_LOG_E(log, KNET_SUB_COMPRESS,
                   "compress threshold cannot be higher than KNET_MAX_PACKET_SIZE (%d).",
                   KNET_MAX_PACKET_SIZE);
        return Error{EINVAL};
    }
    uint32_t threshold = cfg.compress_threshold;
    if (threshold == 0) {
        threshold = KNET_COMPRESS_THRESHOLD;
        KNET_LOG_D(log, KNET_SUB_COMPRESS, "resetting compression threshold to default (%d)",
                   KNET_COMPRESS_THRESHOLD);
    }
    if (m->id == kLzo2) {
        switch (cfg.compress_level) {
            case 1: case 11: case 12: case 15: case 999: break;
            default:
                KNET_LOG_W(log, KNET_SUB_LZO2COMP,
                           "Unknown lzo2 internal compress method. lzo1x_1_compress will be "
                           "used as default fallback");
        }
    }
    auto codec = self_test(*m, cfg.compress_level, log);
    if (!codec) return Error{codec.error()};
    return std::unique_ptr<Compressor>(new Compressor(std::move(codec.value()), threshold));
}

Result<size_t> Compressor::compress(std::span<const uint8_t> in, std::span<uint8_t> out) const {
    if (!codec_) return Error{EINVAL};
    return codec_->compress(in, out);
}

Decompressor::Decompressor(log::Logger* log) : log_(log) {
    for (const auto& m : kModels) {
        if (m.id == kNone || !m.built_in) continue;
        int level = m.default_level == kUnknownDefaultLevel ? 1 : m.default_level;
        auto c = make_codec(m.id, level, log);
        if (c) codecs_[m.id] = std::move(c.value());
    }
}

Result<size_t> Decompressor::decompress(uint8_t model_id, std::span<const uint8_t> in,
                                        std::span<uint8_t> out) const {
    if (model_id > kMaxModelId || !codecs_[model_id]) {
        const ModelInfo* m = find_model(model_id);
        if (m == nullptr || m->id == kNone) {
            KNET_LOG_E(log_, KNET_SUB_COMPRESS, "Received packet with unknown compress model %u",
                       model_id);
        } else {
            KNET_LOG_E(log_, KNET_SUB_COMPRESS,
                       "Received packet compressed with %s but support is not built in", m->name);
        }
        return Error{EINVAL};
    }
    return codecs_[model_id]->decompress(in, out);
}

}  // namespace knet::compress
