// Format compatibility with the libraries' plain one-shot APIs called with
// libknet 1.25's parameters: our compressed bytes are identical to theirs,
// and each side decodes the other's output.
#include <gtest/gtest.h>

#include "test_util.h"

#ifdef KNET_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef KNET_HAVE_LZ4
#include <lz4.h>
#include <lz4hc.h>
#endif
#ifdef KNET_HAVE_LZO2
#include <lzo/lzo1x.h>
#endif
#ifdef KNET_HAVE_LZMA
#include <lzma.h>
#endif
#ifdef KNET_HAVE_BZIP2
#include <bzlib.h>
#endif
#ifdef KNET_HAVE_ZSTD
#include <zstd.h>
#endif

namespace knet::compress {
namespace {

using Bytes = std::vector<uint8_t>;
using test::compressible_bytes;
using test::random_bytes;

// Reference one-shot compression as libknet calls it; empty on failure.
Bytes plain_compress(uint8_t id, int level, const Bytes& in) {
    Bytes out(2 * in.size() + 4096);
    switch (id) {
#ifdef KNET_HAVE_ZLIB
        case kZlib: {
            uLongf len = out.size();
            if (compress2(out.data(), &len, in.data(), in.size(), level) != Z_OK) return {};
            out.resize(len);
            return out;
        }
#endif
#ifdef KNET_HAVE_LZ4
        case kLz4: {
            int n = LZ4_compress_fast(reinterpret_cast<const char*>(in.data()),
                                      reinterpret_cast<char*>(out.data()), static_cast<int>(in.size()),
                                      static_cast<int>(out.size()), level);
            if (n <= 0) return {};
            out.resize(static_cast<size_t>(n));
            return out;
        }
        case kLz4hc: {
            int n = LZ4_compress_HC(reinterpret_cast<const char*>(in.data()),
                                    reinterpret_cast<char*>(out.data()), static_cast<int>(in.size()),
                                    static_cast<int>(out.size()), level);
            if (n <= 0) return {};
            out.resize(static_cast<size_t>(n));
            return out;
        }
#endif
#ifdef KNET_HAVE_LZO2
        case kLzo2: {
            std::vector<lzo_align_t> work(LZO1X_999_MEM_COMPRESS / sizeof(lzo_align_t) + 1);
            lzo_uint len = 0;
            int err = level == 999 ? lzo1x_999_compress(in.data(), in.size(), out.data(), &len, work.data())
                    : level == 15  ? lzo1x_1_15_compress(in.data(), in.size(), out.data(), &len, work.data())
                    : level == 12  ? lzo1x_1_12_compress(in.data(), in.size(), out.data(), &len, work.data())
                    : level == 11  ? lzo1x_1_11_compress(in.data(), in.size(), out.data(), &len, work.data())
                                   : lzo1x_1_compress(in.data(), in.size(), out.data(), &len, work.data());
            if (err != LZO_E_OK) return {};
            out.resize(len);
            return out;
        }
#endif
#ifdef KNET_HAVE_LZMA
        case kLzma: {
            size_t pos = 0;
            if (lzma_easy_buffer_encode(static_cast<uint32_t>(level), LZMA_CHECK_NONE, nullptr,
                                        in.data(), in.size(), out.data(), &pos, out.size()) != LZMA_OK)
                return {};
            out.resize(pos);
            return out;
        }
#endif
#ifdef KNET_HAVE_BZIP2
        case kBzip2: {
            unsigned int len = static_cast<unsigned int>(out.size());
            if (BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &len,
                                         const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                         static_cast<unsigned int>(in.size()), level, 0, 0) != BZ_OK)
                return {};
            out.resize(len);
            return out;
        }
#endif
#ifdef KNET_HAVE_ZSTD
        case kZstd: {
            size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
            if (ZSTD_isError(n)) return {};
            out.resize(n);
            return out;
        }
#endif
        default: return {};
    }
}

// Reference one-shot decompression as libknet calls it; nullopt-like empty
// vector plus flag on failure.
bool plain_decompress(uint8_t id, const Bytes& in, Bytes& out) {
    switch (id) {
#ifdef KNET_HAVE_ZLIB
        case kZlib: {
            uLongf len = out.size();
            if (uncompress(out.data(), &len, in.data(), in.size()) != Z_OK) return false;
            out.resize(len);
            return true;
        }
#endif
#ifdef KNET_HAVE_LZ4
        case kLz4:
        case kLz4hc: {
            int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data()),
                                        reinterpret_cast<char*>(out.data()), static_cast<int>(in.size()),
                                        static_cast<int>(out.size()));
            if (n < 0) return false;
            out.resize(static_cast<size_t>(n));
            return true;
        }
#endif
#ifdef KNET_HAVE_LZO2
        case kLzo2: {
            lzo_uint len = out.size();
            if (lzo1x_decompress_safe(in.data(), in.size(), out.data(), &len, nullptr) != LZO_E_OK)
                return false;
            out.resize(len);
            return true;
        }
#endif
#ifdef KNET_HAVE_LZMA
        case kLzma: {
            uint64_t memlimit = UINT64_MAX;
            size_t in_pos = 0, out_pos = 0;
            if (lzma_stream_buffer_decode(&memlimit, 0, nullptr, in.data(), &in_pos, in.size(),
                                          out.data(), &out_pos, out.size()) != LZMA_OK)
                return false;
            out.resize(out_pos);
            return true;
        }
#endif
#ifdef KNET_HAVE_BZIP2
        case kBzip2: {
            unsigned int len = static_cast<unsigned int>(out.size());
            if (BZ2_bzBuffToBuffDecompress(reinterpret_cast<char*>(out.data()), &len,
                                           const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                           static_cast<unsigned int>(in.size()), 0, 0) != BZ_OK)
                return false;
            out.resize(len);
            return true;
        }
#endif
#ifdef KNET_HAVE_ZSTD
        case kZstd: {
            size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
            if (ZSTD_isError(n)) return false;
            out.resize(n);
            return true;
        }
#endif
        default: return false;
    }
}

std::vector<int> compat_levels(uint8_t id) {
    switch (id) {
        case kZlib: return {-1, 1, 9};
        case kLz4: return {1, 9};
        case kLz4hc: return {1, 9, 12};
        case kLzo2: return {1, 11, 12, 15, 999};
        case kLzma: return {0, 6};
        case kBzip2: return {1, 9};
        case kZstd: return {1, 3, 19};
        default: return {};
    }
}

TEST(Compat, SameBytesAndCrossDecoding) {
    for (const auto& m : test::built_models()) {
        for (int level : compat_levels(m.id)) {
            auto codec = std::move(make_codec(m.id, level, nullptr).value());
            for (size_t size : {size_t{1}, size_t{150}, size_t{1500}, size_t{20000}, size_t{65536}}) {
                for (int kind = 0; kind < 2; kind++) {
                    Bytes in = kind == 0 ? compressible_bytes(size, 77) : random_bytes(size, 78);
                    Bytes theirs = plain_compress(m.id, level, in);
                    ASSERT_FALSE(theirs.empty()) << m.name;
                    Bytes ours(2 * size + 4096);
                    // twice: the second run reuses the kept state
                    for (int round = 0; round < 2; round++) {
                        auto c = codec->compress(in, ours);
                        ASSERT_TRUE(c.ok()) << m.name;
                        ASSERT_EQ(c.value(), theirs.size()) << m.name << "/" << level << "/" << size;
                        EXPECT_EQ(0, std::memcmp(ours.data(), theirs.data(), theirs.size()))
                            << m.name << "/" << level << "/" << size;
                    }
                    Bytes decoded(size);
                    auto d = codec->decompress(theirs, decoded);
                    ASSERT_TRUE(d.ok()) << m.name;
                    ASSERT_EQ(d.value(), size);
                    EXPECT_EQ(decoded, in);

                    Bytes plain(size + 1024);
                    Bytes ours_exact(ours.begin(), ours.begin() + static_cast<long>(theirs.size()));
                    ASSERT_TRUE(plain_decompress(m.id, ours_exact, plain)) << m.name;
                    EXPECT_EQ(plain, in) << m.name;
                }
            }
        }
    }
}

}  // namespace
}  // namespace knet::compress
