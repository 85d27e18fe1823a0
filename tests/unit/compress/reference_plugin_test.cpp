// Cross-checks against the reference implementation itself: libknet 1.25's
// compression plugins (/usr/lib/x86_64-linux-gnu/kronosnet/compress_*.so,
// Debian's libknet1) loaded with dlopen and driven directly.
//
// A plugin exports `compress_model` (its table of operations, ABI 2) and
// `log_msg` (a logging function pointer the loader fills in).  Its operations
// take a knet_handle_t but only read compress_model, compress_level and
// compress_int_data[] from it, so a zeroed stand-in with those three fields
// at the reference build's offsets is enough.  The offsets were read from
// the plugins' machine code (objdump) and are checked below before use.
// Skipped when the plugins are not installed.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdlib>
#include <string>

#include "test_util.h"

namespace knet::compress {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr const char* kPluginDir = "/usr/lib/x86_64-linux-gnu/kronosnet/";
constexpr size_t kOffModel = 0x20a2f98;    // int compress_model
constexpr size_t kOffLevel = 0x20a2f9c;    // int compress_level
constexpr size_t kOffIntData = 0x20a2fa8;  // void *compress_int_data[255]
constexpr size_t kFakeHandleSize = kOffIntData + 256 * sizeof(void*);

using handle_t = void*;
struct RefOps {  // compress_ops_t, KNET_COMPRESS_MODEL_ABI 2
    uint8_t abi_ver;
    int (*is_init)(handle_t, int);
    int (*init)(handle_t, int);
    void (*fini)(handle_t, int);
    int (*val_level)(handle_t, int);
    int (*compress)(handle_t, const unsigned char*, ssize_t, unsigned char*, ssize_t*);
    int (*decompress)(handle_t, const unsigned char*, ssize_t, unsigned char*, ssize_t*);
    int (*get_default_level)();
};
using log_fn = void(handle_t, uint8_t, uint8_t, const char*, ...);

void quiet_log(handle_t, uint8_t, uint8_t, const char*, ...) {}

class RefPlugin {
public:
    RefPlugin(const ModelInfo& m) : id_(m.id) {
        std::string path = std::string(kPluginDir) + "compress_" + m.name + ".so";
        dl_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!dl_) return;
        auto** log_sym = static_cast<log_fn**>(dlsym(dl_, "log_msg"));
        ops_ = static_cast<RefOps*>(dlsym(dl_, "compress_model"));
        if (!log_sym || !ops_ || ops_->abi_ver != 2) {
            ops_ = nullptr;
            return;
        }
        *log_sym = &quiet_log;
        handle_ = static_cast<uint8_t*>(std::calloc(1, kFakeHandleSize));
        set_int(kOffModel, id_);
        if (ops_->init && ops_->init(handle_, id_) != 0) ops_ = nullptr;
    }
    ~RefPlugin() {
        if (ops_ && ops_->fini) ops_->fini(handle_, id_);
        std::free(handle_);
        if (dl_) dlclose(dl_);
    }
    RefPlugin(const RefPlugin&) = delete;
    RefPlugin& operator=(const RefPlugin&) = delete;

    bool loaded() const { return ops_ != nullptr; }
    const RefOps& ops() const { return *ops_; }
    void* int_data() const {
        void* p;
        std::memcpy(&p, handle_ + kOffIntData + id_ * sizeof(void*), sizeof(p));
        return p;
    }
    void set_level(int level) { set_int(kOffLevel, level); }

    // Reference compress; returns rc and sets err/len.  Output buffers are
    // sized for the plugins' assumptions (KNET_DATABUFSIZE_COMPRESS, lzo's bound).
    int compress(const Bytes& in, Bytes& out, int& err) {
        out.assign(std::max(kDataBufSizeCompress, 2 * in.size() + 4096), 0);
        ssize_t len = static_cast<ssize_t>(kDataBufSizeCompress);
        errno = 0;
        int rc = ops_->compress(handle_, in.data(), static_cast<ssize_t>(in.size()), out.data(), &len);
        err = errno;
        if (rc == 0) out.resize(static_cast<size_t>(len));
        return rc;
    }
    int decompress(const Bytes& in, Bytes& out) {
        out.assign(kDataBufSizeCompress + 4096, 0);
        ssize_t len = static_cast<ssize_t>(kDataBufSizeCompress);
        int rc = ops_->decompress(handle_, in.data(), static_cast<ssize_t>(in.size()), out.data(), &len);
        if (rc == 0) out.resize(static_cast<size_t>(len));
        return rc;
    }

private:
    void set_int(size_t off, int v) { std::memcpy(handle_ + off, &v, sizeof(v)); }
    uint8_t id_;
    void* dl_ = nullptr;
    RefOps* ops_ = nullptr;
    uint8_t* handle_ = nullptr;
};

#define REQUIRE_PLUGIN(p, m)                                                       \
    if (!(p).loaded()) GTEST_SKIP() << "reference plugin for " << (m).name << " not available"

TEST(ReferencePlugin, LayoutCheckedThroughInit) {
    // zstd and lzo2 allocate their private data in init(): it must land where
    // we expect compress_int_data[id] to be.
    for (const char* name : {"zstd", "lzo2"}) {
        const ModelInfo* m = find_model(name);
        RefPlugin p(*m);
        REQUIRE_PLUGIN(p, *m);
        EXPECT_NE(p.int_data(), nullptr) << name;
    }
}

TEST(ReferencePlugin, DefaultLevels) {
    for (const auto& m : test::built_models()) {
        RefPlugin p(m);
        REQUIRE_PLUGIN(p, m);
        EXPECT_EQ(p.ops().get_default_level(), m.default_level) << m.name;
    }
}

std::vector<int> levels_for(uint8_t id) {
    switch (id) {
        case kZlib: return {-1, 1, 9};
        case kLz4: return {1, 9, 200};
        case kLz4hc: return {1, 9, 12};
        case kLzo2: return {1, 11, 12, 15, 999, 3};
        case kLzma: return {0, 6};
        case kBzip2: return {1, 9};
        case kZstd: return {-3, 1, 3, 19};
        default: return {};
    }
}

TEST(ReferencePlugin, SameBytesBothWays) {
    for (const auto& m : test::built_models()) {
        RefPlugin p(m);
        REQUIRE_PLUGIN(p, m);
        for (int level : levels_for(m.id)) {
            p.set_level(level);
            auto codec = std::move(make_codec(m.id, level, nullptr).value());
            for (size_t size : {size_t{1}, size_t{101}, size_t{1400}, size_t{9000}, size_t{65536}}) {
                for (int kind = 0; kind < 2; kind++) {
                    Bytes in = kind == 0 ? test::compressible_bytes(size, 5) : test::random_bytes(size, 6);
                    Bytes theirs;
                    int err = 0;
                    ASSERT_EQ(p.compress(in, theirs, err), 0) << m.name << " errno " << err;
                    Bytes ours(2 * size + 4096);
                    auto c = codec->compress(in, ours);
                    ASSERT_TRUE(c.ok()) << m.name;
                    ours.resize(c.value());
                    if (m.id == kLz4 && theirs.size() == size && ours.size() != size) {
                        // lz4 plugin reports "did not compress" as len = input len
                    } else {
                        EXPECT_EQ(ours, theirs) << m.name << "/" << level << "/" << size;
                    }
                    // reference -> ours
                    Bytes out(size);
                    auto d = codec->decompress(theirs, out);
                    ASSERT_TRUE(d.ok()) << m.name << "/" << level << "/" << size;
                    EXPECT_EQ(out, in);
                    // ours -> reference
                    Bytes back;
                    ASSERT_EQ(p.decompress(ours, back), 0) << m.name;
                    EXPECT_EQ(back, in) << m.name;
                }
            }
        }
    }
}

// libknet validates a level by compressing a zeroed KNET_DATABUFSIZE buffer
// (knet_handle_compress's self-test).  The plugin and our codec must agree on
// success, errno and output for every level of this table.
TEST(ReferencePlugin, LevelRulesAgree) {
    const int levels[] = {INT_MIN, INT_MIN | 9, -100000, -5, -2, -1, 0,  1,   2,   9,
                          10,      11,          12,      13, 15, 16, 22, 23, 999, 65537};
    Bytes zeros(kDataBufSize, 0);
    for (const auto& m : test::built_models()) {
        RefPlugin p(m);
        REQUIRE_PLUGIN(p, m);
        for (int level : levels) {
            if (m.id == kZstd && level > 19) continue;  // valid but slow; covered elsewhere
            p.set_level(level);
            Bytes theirs;
            int err = 0;
            int rc = p.compress(zeros, theirs, err);
            auto codec = std::move(make_codec(m.id, level, nullptr).value());
            Bytes ours(kDataBufSizeCompress);
            auto c = codec->compress(zeros, ours);
            if (rc == 0) {
                ASSERT_TRUE(c.ok()) << m.name << " level " << level << " errno " << c.error();
                EXPECT_EQ(c.value(), theirs.size()) << m.name << " level " << level;
                EXPECT_EQ(0, std::memcmp(ours.data(), theirs.data(), theirs.size()))
                    << m.name << " level " << level;
            } else {
                ASSERT_FALSE(c.ok()) << m.name << " level " << level;
                EXPECT_EQ(c.error(), err) << m.name << " level " << level;
            }
            // and create() accepts exactly what the self-test accepts
            auto made = Compressor::create(test::cfg(m.name, level), nullptr);
            bool ref_accepts = rc == 0 && (theirs.size() < kDataBufSize || m.default_level != kUnknownDefaultLevel);
            EXPECT_EQ(made.ok(), ref_accepts) << m.name << " level " << level;
        }
    }
}

}  // namespace
}  // namespace knet::compress
