// Registry, configuration checks, round trips, bounds and robustness of
// every compression backend.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <thread>

#include "test_util.h"

namespace knet::compress {
namespace {

using test::built_models;
using test::cfg;
using test::compressible_bytes;
using test::Guarded;
using test::random_bytes;

// ---------------------------------------------------------------- registry

TEST(Registry, IdsNamesAndOrderAreLibknets) {
    auto all = models();
    ASSERT_EQ(all.size(), 8u);
    const char* names[] = {"none", "zlib", "lz4", "lz4hc", "lzo2", "lzma", "bzip2", "zstd"};
    for (size_t i = 0; i < all.size(); i++) {
        EXPECT_STREQ(all[i].name, names[i]);
        EXPECT_EQ(all[i].id, i);
        EXPECT_EQ(find_model(names[i]), &all[i]);
        EXPECT_EQ(find_model(static_cast<uint8_t>(i)), &all[i]);
    }
    EXPECT_FALSE(all[0].built_in);  // "none" is not listed by knet_get_compress_list
    EXPECT_EQ(find_model("ZLIB"), nullptr);
    EXPECT_EQ(find_model(""), nullptr);
    EXPECT_EQ(find_model(uint8_t{8}), nullptr);
    EXPECT_EQ(find_model(uint8_t{255}), nullptr);
}

TEST(Registry, DefaultLevels) {
    EXPECT_EQ(find_model("zlib")->default_level, -1);
    EXPECT_EQ(find_model("lz4")->default_level, kUnknownDefaultLevel);
    EXPECT_EQ(find_model("lz4hc")->default_level, 9);
    EXPECT_EQ(find_model("lzo2")->default_level, 1);
    EXPECT_EQ(find_model("lzma")->default_level, 6);
    EXPECT_EQ(find_model("bzip2")->default_level, kUnknownDefaultLevel);
    EXPECT_EQ(find_model("zstd")->default_level, 3);
}

TEST(Registry, AllModelsBuiltInThisBuild) {
    EXPECT_EQ(built_models().size(), 7u);
}

TEST(Registry, MakeCodecRejectsNoneAndUnknown) {
    EXPECT_EQ(make_codec(0, 1, nullptr).error(), EINVAL);
    EXPECT_EQ(make_codec(8, 1, nullptr).error(), EINVAL);
    EXPECT_EQ(make_codec(255, 1, nullptr).error(), EINVAL);
}

TEST(Registry, ModelNameStopsAtFieldSize) {
    knet_handle_compress_cfg c{};
    std::memset(c.compress_model, 'z', sizeof(c.compress_model));
    EXPECT_EQ(model_name(c).size(), sizeof(c.compress_model));
    auto r = Compressor::create(c, nullptr);
    EXPECT_EQ(r.error(), EINVAL);
}

// ---------------------------------------------------------------- configuration

struct LevelCase {
    const char* model;
    int level;
    int expect_errno;    // 0 = accepted
    int effective_level; // when accepted
};

class LevelValidation : public ::testing::TestWithParam<LevelCase> {};

TEST_P(LevelValidation, AsLibknet) {
    const LevelCase& c = GetParam();
    auto r = Compressor::create(cfg(c.model, c.level), nullptr);
    if (c.expect_errno != 0) {
        ASSERT_FALSE(r.ok()) << c.model << " level " << c.level;
        EXPECT_EQ(r.error(), c.expect_errno) << c.model << " level " << c.level;
    } else {
        ASSERT_TRUE(r.ok()) << c.model << " level " << c.level << " errno " << r.error();
        EXPECT_EQ(r.value()->level(), c.effective_level);
        EXPECT_EQ(r.value()->model_id(), find_model(c.model)->id);
        EXPECT_TRUE(r.value()->enabled());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, LevelValidation,
    ::testing::Values(
        LevelCase{"zlib", -1, 0, -1}, LevelCase{"zlib", 0, 0, -1},  // stored: falls back
        LevelCase{"zlib", 1, 0, 1}, LevelCase{"zlib", 9, 0, 9},
        LevelCase{"zlib", 10, EINVAL, 0}, LevelCase{"zlib", -2, EINVAL, 0},
        LevelCase{"zlib", INT_MAX, EINVAL, 0},
        LevelCase{"lz4", 1, 0, 1}, LevelCase{"lz4", 0, 0, 0}, LevelCase{"lz4", -7, 0, -7},
        LevelCase{"lz4", 9, 0, 9}, LevelCase{"lz4", 65537, 0, 65537},
        LevelCase{"lz4", INT_MAX, 0, INT_MAX},
        LevelCase{"lz4hc", 1, 0, 1}, LevelCase{"lz4hc", 9, 0, 9}, LevelCase{"lz4hc", 12, 0, 12},
        LevelCase{"lz4hc", 16, 0, 16}, LevelCase{"lz4hc", 0, 0, 0}, LevelCase{"lz4hc", -3, 0, -3},
        LevelCase{"lzo2", 1, 0, 1}, LevelCase{"lzo2", 11, 0, 11}, LevelCase{"lzo2", 12, 0, 12},
        LevelCase{"lzo2", 15, 0, 15}, LevelCase{"lzo2", 999, 0, 999}, LevelCase{"lzo2", 0, 0, 0},
        LevelCase{"lzo2", -1, 0, -1},
        LevelCase{"lzma", 0, 0, 0}, LevelCase{"lzma", 6, 0, 6}, LevelCase{"lzma", 9, 0, 9},
        LevelCase{"lzma", INT_MIN | 3, 0, INT_MIN | 3},  // LZMA_PRESET_EXTREME
        LevelCase{"lzma", 10, EINVAL, 0}, LevelCase{"lzma", -1, EINVAL, 0},
        LevelCase{"lzma", 0x100, EINVAL, 0},
        LevelCase{"bzip2", 1, 0, 1}, LevelCase{"bzip2", 9, 0, 9},
        LevelCase{"bzip2", 0, EINVAL, 0}, LevelCase{"bzip2", 10, EINVAL, 0},
        LevelCase{"bzip2", -1, EINVAL, 0},
        LevelCase{"zstd", 1, 0, 1}, LevelCase{"zstd", 3, 0, 3}, LevelCase{"zstd", 22, 0, 22},
        LevelCase{"zstd", 0, 0, 0}, LevelCase{"zstd", -5, 0, -5}, LevelCase{"zstd", 1000, 0, 1000},
        LevelCase{"zstd", INT_MIN, 0, 3} /* no gain: default */));

TEST(Configuration, UnknownModel) {
    EXPECT_EQ(Compressor::create(cfg("gzip", 1), nullptr).error(), EINVAL);
    EXPECT_EQ(Compressor::create(cfg("", 1), nullptr).error(), EINVAL);
    EXPECT_EQ(Compressor::create(cfg("Zlib", 1), nullptr).error(), EINVAL);
}

TEST(Configuration, NoneDisablesWhateverTheRest) {
    for (int level : {-100, 0, 1, 12345}) {
        for (uint32_t threshold : {0u, 1u, 70000u, UINT32_MAX}) {
            auto r = Compressor::create(cfg("none", level, threshold), nullptr);
            ASSERT_TRUE(r.ok());
            EXPECT_FALSE(r.value()->enabled());
            EXPECT_EQ(r.value()->model_id(), 0);
            EXPECT_FALSE(r.value()->wants(65536));
            std::vector<uint8_t> in(10), out(100);
            EXPECT_EQ(r.value()->compress(in, out).error(), EINVAL);
        }
    }
}

TEST(Configuration, Threshold) {
    auto r = Compressor::create(cfg("zlib", 1, 0), nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value()->threshold(), uint32_t{KNET_COMPRESS_THRESHOLD});
    EXPECT_FALSE(r.value()->wants(100));
    EXPECT_TRUE(r.value()->wants(101));

    r = Compressor::create(cfg("zlib", 1, 1), nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value()->threshold(), 1u);
    EXPECT_FALSE(r.value()->wants(1));
    EXPECT_TRUE(r.value()->wants(2));

    r = Compressor::create(cfg("zlib", 1, KNET_MAX_PACKET_SIZE), nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.value()->wants(KNET_MAX_PACKET_SIZE));

    EXPECT_EQ(Compressor::create(cfg("zlib", 1, KNET_MAX_PACKET_SIZE + 1), nullptr).error(), EINVAL);
    // the threshold is checked before the level
    EXPECT_EQ(Compressor::create(cfg("bzip2", 0, UINT32_MAX), nullptr).error(), EINVAL);
}

TEST(Configuration, LogsToLogger) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    {
        log::Logger logger(fds[1], KNET_LOG_DEBUG);
        EXPECT_EQ(Compressor::create(cfg("bzip2", 10), &logger).error(), EINVAL);
        EXPECT_TRUE(Compressor::create(cfg("zlib", 0), &logger).ok());
    }
    char buf[4096];
    EXPECT_GT(read(fds[0], buf, sizeof(buf)), 0);
    close(fds[0]);
    close(fds[1]);
}

// ---------------------------------------------------------------- round trips

// Levels worth exercising per model: default, min and max valid, odd ones.
std::vector<int> levels_of(uint8_t id) {
    switch (id) {
        case kZlib: return {-1, 1, 6, 9};
        case kLz4: return {1, 9, 100, 65537};
        case kLz4hc: return {1, 9, 12};
        case kLzo2: return {1, 11, 12, 15, 999};
        case kLzma: return {0, 6, 9};
        case kBzip2: return {1, 9};
        case kZstd: return {-5, 1, 3, 19};
        default: return {};
    }
}

const size_t kSizes[] = {1, 2, 3, 16, 100, 101, 577, 1400, 4096, 9000, 32768, 65535, 65536};

TEST(RoundTrip, EveryModelLevelAndSize) {
    for (const auto& m : built_models()) {
        for (int level : levels_of(m.id)) {
            auto made = make_codec(m.id, level, nullptr);
            ASSERT_TRUE(made.ok());
            Codec& codec = *made.value();
            for (size_t size : kSizes) {
                for (int kind = 0; kind < 2; kind++) {
                    auto in = kind == 0 ? compressible_bytes(size, static_cast<uint32_t>(size))
                                        : random_bytes(size, static_cast<uint32_t>(size) + 7);
                    std::vector<uint8_t> comp(2 * size + 2048);
                    auto c = codec.compress(in, comp);
                    ASSERT_TRUE(c.ok()) << m.name << "/" << level << "/" << size << " errno "
                                        << c.error();
                    if (kind == 0 && size >= 4096 && !(m.id == kLz4 && level > 9)) {
                        EXPECT_LT(c.value(), size / 2) << m.name << "/" << level;
                    }
                    Guarded out(size);
                    auto d = codec.decompress(std::span<const uint8_t>(comp.data(), c.value()),
                                              out.span());
                    ASSERT_TRUE(d.ok()) << m.name << "/" << level << "/" << size << " errno "
                                        << d.error();
                    ASSERT_EQ(d.value(), size);
                    EXPECT_EQ(0, std::memcmp(out.span().data(), in.data(), size))
                        << m.name << "/" << level << "/" << size;
                    EXPECT_TRUE(out.guard_intact());
                }
            }
        }
    }
}

TEST(RoundTrip, ZeroSizedInput) {
    for (const auto& m : built_models()) {
        auto codec = std::move(make_codec(m.id, levels_of(m.id)[0], nullptr).value());
        std::vector<uint8_t> comp(1024);
        auto c = codec->compress(std::span<const uint8_t>(), comp);
        if (!c.ok()) continue;  // some libraries refuse empty input: fine
        std::vector<uint8_t> out(16);
        auto d = codec->decompress(std::span<const uint8_t>(comp.data(), c.value()), out);
        if (d.ok()) {
            EXPECT_EQ(d.value(), 0u) << m.name;
        }
    }
}

// The engine's buffer: compress never writes past it, even for incompressible data.
TEST(RoundTrip, CompressRespectsSmallOutput) {
    for (const auto& m : built_models()) {
        for (int level : levels_of(m.id)) {
            auto codec = std::move(make_codec(m.id, level, nullptr).value());
            auto in = random_bytes(65536, 3);
            for (size_t cap : {size_t{0}, size_t{1}, size_t{64}, size_t{65535}, kDataBufSizeCompress}) {
                Guarded out(cap);
                auto c = codec->compress(in, out.span());
                EXPECT_TRUE(out.guard_intact()) << m.name << "/" << level << " cap " << cap;
                if (c.ok()) {
                    EXPECT_LE(c.value(), cap);
                    Guarded back(65536);
                    auto d = codec->decompress(
                        std::span<const uint8_t>(out.span().data(), c.value()), back.span());
                    ASSERT_TRUE(d.ok()) << m.name;
                    EXPECT_EQ(0, std::memcmp(back.span().data(), in.data(), 65536));
                } else {
                    EXPECT_TRUE(c.error() == ENOBUFS || c.error() == E2BIG || c.error() == EINVAL)
                        << m.name << " errno " << c.error();
                }
            }
        }
    }
}

TEST(RoundTrip, CompressorAndDecompressor) {
    Decompressor dec(nullptr);
    for (const auto& m : built_models()) {
        auto comp = Compressor::create(cfg(m.name, levels_of(m.id)[0], 1), nullptr);
        ASSERT_TRUE(comp.ok()) << m.name;
        auto in = compressible_bytes(3000, 1);
        std::vector<uint8_t> buf(kDataBufSizeCompress);
        ASSERT_TRUE(comp.value()->wants(in.size()));
        auto c = comp.value()->compress(in, buf);
        ASSERT_TRUE(c.ok());
        std::vector<uint8_t> out(KNET_MAX_PACKET_SIZE);
        auto d = dec.decompress(comp.value()->model_id(),
                                std::span<const uint8_t>(buf.data(), c.value()), out);
        ASSERT_TRUE(d.ok()) << m.name;
        ASSERT_EQ(d.value(), in.size());
        EXPECT_EQ(0, std::memcmp(out.data(), in.data(), in.size()));
    }
    std::vector<uint8_t> in(10), out(100);
    EXPECT_EQ(dec.decompress(0, in, out).error(), EINVAL);
    EXPECT_EQ(dec.decompress(8, in, out).error(), EINVAL);
    EXPECT_EQ(dec.decompress(255, in, out).error(), EINVAL);
}

// ---------------------------------------------------------------- bounds

// A small input that expands far past the capacity must fail without writing
// past it; exactly the capacity must work.
TEST(Bounds, DecompressionBombs) {
    for (const auto& m : built_models()) {
        auto codec = std::move(make_codec(m.id, levels_of(m.id)[0], nullptr).value());
        for (size_t claim : {size_t{KNET_MAX_PACKET_SIZE} + 1, size_t{1} << 20, size_t{8} << 20}) {
            std::vector<uint8_t> big(claim, 0);
            std::vector<uint8_t> comp(claim + claim / 8 + 4096);
            auto c = codec->compress(big, comp);
            ASSERT_TRUE(c.ok()) << m.name;
            EXPECT_LT(c.value(), claim / 8 + 1) << m.name;
            Guarded out(KNET_MAX_PACKET_SIZE);
            auto d = codec->decompress(std::span<const uint8_t>(comp.data(), c.value()), out.span());
            EXPECT_FALSE(d.ok()) << m.name << " claim " << claim;
            EXPECT_TRUE(out.guard_intact()) << m.name << " claim " << claim;
        }
        std::vector<uint8_t> exact(KNET_MAX_PACKET_SIZE, 0);
        std::vector<uint8_t> comp(2 * KNET_MAX_PACKET_SIZE);
        auto c = codec->compress(exact, comp);
        ASSERT_TRUE(c.ok());
        Guarded out(KNET_MAX_PACKET_SIZE);
        auto d = codec->decompress(std::span<const uint8_t>(comp.data(), c.value()), out.span());
        ASSERT_TRUE(d.ok()) << m.name;
        EXPECT_EQ(d.value(), size_t{KNET_MAX_PACKET_SIZE});
        EXPECT_TRUE(out.guard_intact());
        // one byte short
        Guarded shorter(KNET_MAX_PACKET_SIZE - 1);
        d = codec->decompress(std::span<const uint8_t>(comp.data(), c.value()), shorter.span());
        EXPECT_FALSE(d.ok()) << m.name;
        EXPECT_TRUE(shorter.guard_intact()) << m.name;
    }
}

// Truncations and random corruptions: an error or a bounded result, never a
// crash or a write past the buffer (run under ASan for full effect).
TEST(Bounds, TruncatedAndCorruptedInput) {
    std::mt19937 rng(12345);
    for (const auto& m : built_models()) {
        auto codec = std::move(make_codec(m.id, levels_of(m.id)[0], nullptr).value());
        for (int kind = 0; kind < 2; kind++) {
            auto in = kind == 0 ? compressible_bytes(6000, 9) : random_bytes(1500, 9);
            std::vector<uint8_t> comp(16384);
            auto c = codec->compress(in, comp);
            ASSERT_TRUE(c.ok());
            comp.resize(c.value());
            const size_t cap = 8192;
            size_t step = std::max<size_t>(1, comp.size() / 200);
            for (size_t len = 0; len < comp.size(); len += step) {
                std::vector<uint8_t> cut(comp.begin(), comp.begin() + static_cast<long>(len));
                Guarded out(cap);
                auto d = codec->decompress(cut, out.span());
                EXPECT_TRUE(out.guard_intact()) << m.name << " truncated at " << len;
                if (d.ok()) {
                    EXPECT_LE(d.value(), cap);
                }
            }
            for (int iter = 0; iter < 300; iter++) {
                std::vector<uint8_t> bad = comp;
                int flips = 1 + static_cast<int>(rng() % 4);
                for (int f = 0; f < flips; f++)
                    bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
                Guarded out(cap);
                auto d = codec->decompress(bad, out.span());
                EXPECT_TRUE(out.guard_intact()) << m.name << " iteration " << iter;
                if (d.ok()) {
                    EXPECT_LE(d.value(), cap);
                }
            }
        }
        for (int iter = 0; iter < 200; iter++) {
            auto junk = random_bytes(1 + rng() % 2000, static_cast<uint32_t>(rng()));
            Guarded out(4096);
            auto d = codec->decompress(junk, out.span());
            EXPECT_TRUE(out.guard_intact()) << m.name;
            if (d.ok()) {
                EXPECT_LE(d.value(), 4096u);
            }
        }
    }
}

// ---------------------------------------------------------------- threads

TEST(Threads, ConcurrentCompressAndDecompress) {
    for (const auto& m : built_models()) {
        auto codec = std::move(make_codec(m.id, levels_of(m.id)[0], nullptr).value());
        auto in = compressible_bytes(5000, 5);
        std::vector<uint8_t> ref(16384);
        auto rc = codec->compress(in, ref);
        ASSERT_TRUE(rc.ok());
        ref.resize(rc.value());
        std::atomic<int> failures{0};
        auto compressor = [&] {
            std::vector<uint8_t> out(16384);
            for (int i = 0; i < 60; i++) {
                auto c = codec->compress(in, out);
                if (!c.ok() || c.value() != ref.size() ||
                    std::memcmp(out.data(), ref.data(), ref.size()) != 0)
                    failures++;
            }
        };
        auto decompressor = [&] {
            std::vector<uint8_t> out(8192);
            for (int i = 0; i < 60; i++) {
                auto d = codec->decompress(ref, out);
                if (!d.ok() || d.value() != in.size() ||
                    std::memcmp(out.data(), in.data(), in.size()) != 0)
                    failures++;
            }
        };
        std::thread t1(compressor), t2(compressor), t3(decompressor), t4(decompressor);
        t1.join();
        t2.join();
        t3.join();
        t4.join();
        EXPECT_EQ(failures.load(), 0) << m.name;
    }
}

}  // namespace
}  // namespace knet::compress
