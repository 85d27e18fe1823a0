// Configuration rules, round trips, tamper detection and size arithmetic.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cerrno>
#include <random>
#include <string>
#include <thread>
#include <tuple>

#include "crypto/crypto.h"
#include "crypto/sha256_multi.h"
#include "test_util.h"

namespace knet::crypto::test {
namespace {

// ---------------------------------------------------------------- config

TEST(CryptoConfig, ModelNamesInReferenceOrder) {
    auto names = model_names();
    ASSERT_EQ(names.size(), 2u);
    EXPECT_STREQ(names[0], "nss");
    EXPECT_STREQ(names[1], "openssl");
}

TEST(CryptoConfig, DisabledRule) {
    EXPECT_TRUE(config_disables_crypto(make_cfg("none", "aes256", "sha256")));
    EXPECT_TRUE(config_disables_crypto(make_cfg("nonexyz", "aes256", "sha256")));
    EXPECT_TRUE(config_disables_crypto(make_cfg("openssl", "none", "none")));
    EXPECT_TRUE(config_disables_crypto(make_cfg("nss", "none", "none", 1)));
    EXPECT_FALSE(config_disables_crypto(make_cfg("openssl", "none", "sha1")));
    EXPECT_FALSE(config_disables_crypto(make_cfg("nss", "aes128", "none")));
    EXPECT_FALSE(config_disables_crypto(make_cfg("foo", "aes128", "sha1")));
}

TEST(CryptoConfig, KeyLength) {
    EXPECT_EQ(check_key_length(make_cfg("openssl", "aes256", "sha256", 127)).error(), EINVAL);
    EXPECT_EQ(check_key_length(make_cfg("openssl", "aes256", "sha256", 4097)).error(), EINVAL);
    EXPECT_TRUE(check_key_length(make_cfg("openssl", "aes256", "sha256", 128)));
    EXPECT_TRUE(check_key_length(make_cfg("openssl", "aes256", "sha256", 4096)));
    EXPECT_EQ(validate(make_cfg("nss", "aes256", "sha256", 0)).error(), EINVAL);
}

// Expected errno per config, as measured against Debian's libknet 1.25
// (0 = accepted).
struct ValidateCase {
    const char* model;
    const char* cipher;
    const char* hash;
    int expected;
};

class CryptoValidate : public ::testing::TestWithParam<ValidateCase> {};

TEST_P(CryptoValidate, MatchesReference) {
    const auto& c = GetParam();
    auto cfg = make_cfg(c.model, c.cipher, c.hash);
    EXPECT_EQ(validate(cfg).error(), c.expected);
    auto inst = create(cfg, nullptr);
    EXPECT_EQ(inst.error(), c.expected);
    if (inst) {
        EXPECT_STREQ((*inst)->model(), c.model);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Reference, CryptoValidate,
    ::testing::Values(ValidateCase{"foo", "aes256", "sha256", EINVAL},
                      ValidateCase{"openssl", "aes256", "none", EINVAL},
                      ValidateCase{"openssl", "bogus", "sha256", ENXIO},
                      ValidateCase{"openssl", "aes256", "bogus", ENXIO},
                      ValidateCase{"openssl", "bogus", "none", ENXIO},
                      ValidateCase{"openssl", "RSA-SHA256", "sha1", ENXIO},
                      ValidateCase{"openssl", "AES256", "SHA256", 0},
                      ValidateCase{"openssl", "aes-256-ctr", "sha3-256", 0},
                      ValidateCase{"openssl", "none", "sha1", 0},
                      ValidateCase{"nss", "aes256", "sha256", 0},
                      ValidateCase{"nss", "aes-256-cbc", "sha256", ENXIO},
                      ValidateCase{"nss", "AES256", "sha1", ENXIO},
                      ValidateCase{"nss", "aes256", "none", EINVAL},
                      ValidateCase{"nss", "none", "md5", 0},
                      ValidateCase{"nss", "bogus", "none", ENXIO},
                      ValidateCase{"nss", "aes256", "bogus", ENXIO},
                      ValidateCase{"nss", "none", "bogus", ENXIO},
                      ValidateCase{"nss", "bogus", "sha1", ENXIO}));

TEST(CryptoConfig, UnusableOpensslModesRejected) {
    // The reference 1.25 accepts these but can never decrypt its own packets.
    for (const char* cipher : {"aes-128-gcm", "bf-cbc", "aes-256-ocb", "aes-128-ccm"}) {
        auto cfg = make_cfg("openssl", cipher, "sha256");
        EXPECT_TRUE(validate(cfg)) << cipher;
        EXPECT_EQ(create(cfg, nullptr).error(), EINVAL) << cipher;
    }
}

TEST(CryptoConfig, UnterminatedNamesAreUnknown) {
    auto cfg = make_cfg("openssl", "aes256", "sha256");
    memset(cfg.crypto_cipher_type, 'a', sizeof(cfg.crypto_cipher_type));
    EXPECT_EQ(validate(cfg).error(), ENXIO);
    cfg = make_cfg("nss", "aes256", "sha256");
    memset(cfg.crypto_model, 'n', sizeof(cfg.crypto_model));
    EXPECT_EQ(validate(cfg).error(), EINVAL);
}

TEST(CryptoConfig, CreateRefusesDisabledConfig) {
    EXPECT_EQ(create(make_cfg("openssl", "none", "none"), nullptr).error(), EINVAL);
}

// ---------------------------------------------------------------- sizes

struct SizeCase {
    const char* model;
    const char* cipher;
    const char* hash;
    Overhead expected;
};

TEST(CryptoSizes, ReportedAsReference) {
    const SizeCase cases[] = {
        {"nss", "aes256", "sha256", {16, 32, 16}},  {"nss", "aes128", "md5", {16, 16, 16}},
        {"nss", "none", "sha512", {0, 64, 0}},      {"nss", "aes192", "sha384", {16, 48, 16}},
        {"openssl", "aes256", "sha1", {16, 20, 16}}, {"openssl", "none", "sha384", {0, 48, 0}},
        {"openssl", "aes-128-ctr", "sha256", {1, 32, 16}},
        {"openssl", "chacha20", "sha512", {1, 64, 16}},
    };
    for (const auto& c : cases) {
        auto inst = create(make_cfg(c.model, c.cipher, c.hash), nullptr);
        ASSERT_TRUE(inst) << c.model << "/" << c.cipher << "/" << c.hash;
        EXPECT_EQ((*inst)->overhead(), c.expected) << c.model << "/" << c.cipher << "/" << c.hash;
    }
}

TEST(CryptoSizes, DataOutlen) {
    Overhead aes{16, 32, 16};
    EXPECT_EQ(data_outlen(aes, 26), 16u + 32 + 32);  // 26 -> 32
    EXPECT_EQ(data_outlen(aes, 32), 16u + 48 + 32);  // aligned gains a block
    EXPECT_EQ(data_outlen(Overhead{0, 20, 0}, 100), 120u);
    EXPECT_EQ(data_outlen(Overhead{}, 100), 100u);
}

TEST(CryptoSizes, MaxDataOutlenMatchesReferenceFormula) {
    // Independent transcription of 1.25 calc_max_data_outlen.
    auto ref = [](const Overhead& o, size_t in, size_t hdr) {
        size_t out = in;
        if (o.block) {
            out = out - (o.salt + o.hash);
            size_t pad = out % o.block;
            out = out - (pad + 1);
            out = out + (o.salt + o.hash);
        }
        return out - (hdr + o.salt + o.hash);
    };
    const Overhead cases[] = {{16, 32, 16}, {16, 20, 16}, {0, 64, 0}, {1, 32, 16}, {}};
    for (const auto& o : cases)
        for (size_t in = 200; in < 1600; in += 7) {
            EXPECT_EQ(max_data_outlen(o, in, 26), ref(o, in, 26));
            // The result must fit: encrypting header + payload stays in budget.
            EXPECT_LE(data_outlen(o, max_data_outlen(o, in, 26) + 26), in);
        }
    EXPECT_EQ(max_data_outlen(Overhead{16, 64, 16}, 50, 26), 0u);
    EXPECT_EQ(min_mtu(Overhead{}, 26), 576u - 68 - 26);
    EXPECT_EQ(min_mtu(Overhead{16, 32, 16}, 26), ref(Overhead{16, 32, 16}, 508, 26));
}

// ---------------------------------------------------------------- round trips

using Combo = std::tuple<const char*, const char*, const char*>;

std::vector<Combo> all_combos() {
    std::vector<Combo> v;
    for (const char* c : {"none", "aes128", "aes192", "aes256"})
        for (const char* h : {"md5", "sha1", "sha256", "sha384", "sha512"}) {
            v.emplace_back("nss", c, h);
            v.emplace_back("openssl", c, h);
        }
    for (const char* c : {"aes-128-cbc", "aes-256-cbc", "AES-192-CBC", "aes-256-ctr", "aes-128-cfb",
                          "aes-256-ofb", "aes-256-ecb", "camellia256", "chacha20",
                          "des-ede3-cbc", "aria-128-cbc", "sm4-cbc"})
        v.emplace_back("openssl", c, "sha256");
    for (const char* h : {"sha224", "sha512-256", "sha3-256", "sha3-512", "blake2b512", "sm3",
                          "SHA256"})
        v.emplace_back("openssl", "aes256", h);
    return v;
}

class CryptoRoundTrip : public ::testing::TestWithParam<Combo> {};

TEST_P(CryptoRoundTrip, EveryLengthAndTamper) {
    auto [model, cipher, hash] = GetParam();
    auto inst = create(make_cfg(model, cipher, hash), nullptr);
    ASSERT_TRUE(inst) << inst.error();
    const Instance& in = **inst;
    const Overhead o = in.overhead();
    std::mt19937 rng(42);
    for (size_t len : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{26},
                       size_t{100}, size_t{1500}, size_t{KNET_MAX_PACKET_SIZE}}) {
        std::vector<uint8_t> clear(len);
        for (auto& b : clear) b = static_cast<uint8_t>(rng());
        auto wire = seal(in, clear);
        ASSERT_FALSE(wire.empty());
        EXPECT_LE(wire.size(), len + in.overhead_max());
        if (o.block > 1) {
            EXPECT_EQ(wire.size(), data_outlen(o, len)) << len;
        } else {  // stream modes add no padding; the reference formula counts 1 byte
            EXPECT_LE(wire.size(), data_outlen(o, len)) << len;
        }
        if (len > KNET_MAX_PACKET_SIZE - o.salt - o.block) continue;  // reference RX limit
        std::vector<uint8_t> back;
        if (len == 0 && o.block <= 1) {
            // Nothing but salt/MAC on the wire: the reference refuses it too.
            EXPECT_EQ(unseal(in, wire, &back), EMSGSIZE);
            continue;
        }
        ASSERT_EQ(unseal(in, wire, &back), 0) << len;
        EXPECT_EQ(back, clear);
        if (!o.salt && len) {  // MAC only: the clear text is on the wire
            EXPECT_EQ(0, memcmp(wire.data(), clear.data(), len));
        }
        if (len > 200) continue;
        // Any flipped bit (salt, ciphertext, MAC) must be detected.
        for (size_t i = 0; i < wire.size(); ++i) {
            auto bad = wire;
            bad[i] ^= static_cast<uint8_t>(1u << (i % 8));
            std::vector<uint8_t> junk;
            EXPECT_EQ(unseal(in, bad, &junk), EBADMSG) << "byte " << i;
        }
        // Truncations never pass and never overrun (run under ASan to check).
        for (size_t cut = 0; cut < wire.size(); ++cut) {
            std::vector<uint8_t> shortw(wire.begin(), wire.begin() + cut);
            std::vector<uint8_t> junk;
            int err = unseal(in, shortw, &junk);
            EXPECT_TRUE(err == EBADMSG || err == EMSGSIZE) << cut << " " << err;
        }
    }
}

TEST_P(CryptoRoundTrip, FreshSaltEveryPacket) {
    auto [model, cipher, hash] = GetParam();
    auto inst = create(make_cfg(model, cipher, hash), nullptr);
    ASSERT_TRUE(inst);
    std::vector<uint8_t> clear(64, 7);
    auto a = seal(**inst, clear), b = seal(**inst, clear);
    if ((*inst)->overhead().salt)
        EXPECT_NE(a, b);
    else
        EXPECT_EQ(a, b);
}

TEST_P(CryptoRoundTrip, WrongKeyFails) {
    auto [model, cipher, hash] = GetParam();
    auto a = create(make_cfg(model, cipher, hash, 128, 0), nullptr);
    auto b = create(make_cfg(model, cipher, hash, 128, 1), nullptr);
    // Same cipher key prefix, different HMAC key length: must also fail.
    auto c = create(make_cfg(model, cipher, hash, 129, 0), nullptr);
    ASSERT_TRUE(a && b && c);
    auto wire = seal(**a, std::vector<uint8_t>(40, 1));
    std::vector<uint8_t> junk;
    EXPECT_EQ(unseal(**b, wire, &junk), EBADMSG);
    EXPECT_EQ(unseal(**c, wire, &junk), EBADMSG);
}

// A packet whose MAC is right but whose decrypted padding is not (a peer
// with our MAC key and another cipher key, or a bug): refused with EBADMSG
// by every decryption path; right padding of any length is stripped.
TEST(CryptoPadding, AuthenticatedButBadPadding) {
    struct Last {
        std::vector<uint8_t> tail;  // the last bytes of the last block
        int want;                   // 0: accepted
        size_t clear_len;
    };
    const std::vector<Last> lasts = {
        {{0x00}, EBADMSG, 0},
        {{0x11}, EBADMSG, 0},
        {{0xFF}, EBADMSG, 0},
        {{0x02, 0x03, 0x03}, EBADMSG, 0},
        {{0x01}, 0, 47},
        {{0x03, 0x03, 0x03}, 0, 45},
        {std::vector<uint8_t>(16, 0x10), 0, 32},
    };
    for (const char* model : {"nss", "openssl"})
        for (const char* hash : {"sha256", "sha1"}) {
            SCOPED_TRACE(std::string(model) + " " + hash);
            const knet_handle_crypto_cfg cfg = make_cfg(model, "aes256", hash);
            auto inst = create(cfg, nullptr);
            ASSERT_TRUE(inst) << inst.error();
            for (const Last& last : lasts) {
                // 48 bytes of clear text ending with `tail`, encrypted without
                // padding, then signed like any packet: salt, cipher text, MAC.
                std::vector<uint8_t> clear(48, 0x5A);
                std::copy(last.tail.begin(), last.tail.end(),
                          clear.end() - static_cast<long>(last.tail.size()));
                std::vector<uint8_t> wire(16 + clear.size());
                for (size_t i = 0; i < 16; ++i) wire[i] = static_cast<uint8_t>(0xC0 + i);
                EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
                int n = 0;
                const bool encrypted =
                    EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, cfg.private_key,
                                       wire.data()) == 1 &&
                    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
                    EVP_EncryptUpdate(ctx, wire.data() + 16, &n, clear.data(),
                                      static_cast<int>(clear.size())) == 1;
                EVP_CIPHER_CTX_free(ctx);
                ASSERT_TRUE(encrypted);
                unsigned mac_len = 0;
                uint8_t mac[EVP_MAX_MD_SIZE];
                const EVP_MD* md = std::string(hash) == "sha1" ? EVP_sha1() : EVP_sha256();
                ASSERT_NE(HMAC(md, cfg.private_key, static_cast<int>(cfg.private_key_len),
                               wire.data(), wire.size(), mac, &mac_len),
                          nullptr);
                wire.insert(wire.end(), mac, mac + mac_len);

                std::vector<uint8_t> back;
                EXPECT_EQ(unseal(**inst, wire, &back), last.want);
                if (last.want == 0) {
                    EXPECT_EQ(back.size(), last.clear_len);
                    EXPECT_TRUE(std::equal(back.begin(), back.end(), clear.begin()));
                }
                // The batch path, twice in one call, agrees.
                std::vector<uint8_t> out1(wire.size() + 64), out2(wire.size() + 64);
                DecryptJob jobs[2] = {
                    {wire.data(), wire.size(), out1.data(), out1.size(), 0, {}},
                    {wire.data(), wire.size(), out2.data(), out2.size(), 0, {}}};
                (*inst)->decrypt_many(jobs, 2);
                for (const DecryptJob& j : jobs) {
                    EXPECT_EQ(j.status ? 0 : j.status.error(), last.want);
                    if (last.want == 0) {
                        EXPECT_EQ(j.out_len, last.clear_len);
                    }
                }
            }
        }
}

INSTANTIATE_TEST_SUITE_P(All, CryptoRoundTrip, ::testing::ValuesIn(all_combos()),
                         [](const auto& p) {
                             std::string n = std::string(std::get<0>(p.param)) + "_" +
                                             std::get<1>(p.param) + "_" +
                                             std::get<2>(p.param);
                             for (auto& ch : n)
                                 if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             return n;
                         });

// ---------------------------------------------------------------- interop

TEST(CryptoInterop, NssAndOpensslShareTheWireFormat) {
    for (const char* c : {"none", "aes128", "aes192", "aes256"})
        for (const char* h : {"md5", "sha1", "sha256", "sha384", "sha512"}) {
            auto n = create(make_cfg("nss", c, h, 300), nullptr);
            auto o = create(make_cfg("openssl", c, h, 300), nullptr);
            ASSERT_TRUE(n && o);
            EXPECT_EQ((*n)->overhead(), (*o)->overhead());
            std::vector<uint8_t> clear(77, 0x5a), back;
            ASSERT_EQ(unseal(**o, seal(**n, clear), &back), 0) << c << "/" << h;
            EXPECT_EQ(back, clear);
            ASSERT_EQ(unseal(**n, seal(**o, clear), &back), 0) << c << "/" << h;
            EXPECT_EQ(back, clear);
        }
    // openssl's long names are the same algorithms as nss's short ones.
    auto n = create(make_cfg("nss", "aes256", "sha256"), nullptr);
    auto o = create(make_cfg("openssl", "aes-256-cbc", "SHA2-256"), nullptr);
    ASSERT_TRUE(n && o);
    std::vector<uint8_t> clear(33, 1), back;
    ASSERT_EQ(unseal(**n, seal(**o, clear), &back), 0);
    EXPECT_EQ(back, clear);
}

// ---------------------------------------------------------------- API edges

// The batch size the engine groups packets by: the 16-lane or two-stream
// HMAC-SHA256 where it runs, 1 (no batching) for other hashes.
TEST(CryptoApi, FullSpeedBatchFollowsTheMac) {
    for (const char* model : {"nss", "openssl"}) {
        auto sha256 = create(make_cfg(model, "aes256", "sha256"), nullptr);
        auto sha1 = create(make_cfg(model, "aes256", "sha1"), nullptr);
        ASSERT_TRUE(sha256 && sha1);
        EXPECT_EQ((*sha1)->full_speed_batch(), 1u) << model;
        EXPECT_EQ((*sha256)->full_speed_batch(),
                  sha256_multi_supported() ? hmac_sha256_full_batch() : 1u)
            << model;
    }
    EXPECT_TRUE(hmac_sha256_full_batch() == 2 || hmac_sha256_full_batch() == kX16MinMessages);
}

TEST(CryptoApi, IovecEqualsFlat) {
    for (const char* model : {"nss", "openssl"}) {
        auto inst = create(make_cfg(model, "aes256", "sha256"), nullptr);
        ASSERT_TRUE(inst);
        std::vector<uint8_t> hdr(26, 0x11), payload(1000, 0x22), empty;
        struct iovec iov[3] = {{hdr.data(), hdr.size()}, {nullptr, 0}, {payload.data(), payload.size()}};
        std::vector<uint8_t> out(2000);
        size_t len = 0;
        ASSERT_TRUE((*inst)->encrypt(iov, 3, out.data(), out.size(), &len));
        out.resize(len);
        std::vector<uint8_t> back, expect = hdr;
        expect.insert(expect.end(), payload.begin(), payload.end());
        ASSERT_EQ(unseal(**inst, out, &back), 0);
        EXPECT_EQ(back, expect);
    }
}

TEST(CryptoApi, BufferLimits) {
    for (const char* model : {"nss", "openssl"}) {
        auto inst = create(make_cfg(model, "aes128", "sha1"), nullptr);
        ASSERT_TRUE(inst);
        const Instance& in = **inst;
        std::vector<uint8_t> clear(100, 3), out(100 + in.overhead_max() - 1);
        size_t len = 0;
        EXPECT_EQ(in.encrypt(clear.data(), clear.size(), out.data(), out.size(), &len).error(), ENOBUFS);
        auto wire = seal(in, clear);
        std::vector<uint8_t> small(10);
        EXPECT_EQ(in.decrypt(wire.data(), wire.size(), small.data(), small.size(), &len).error(), ENOBUFS);
        // Exactly in_len bytes of output space is always enough.
        std::vector<uint8_t> exact(wire.size());
        EXPECT_TRUE(in.decrypt(wire.data(), wire.size(), exact.data(), exact.size(), &len));
        EXPECT_EQ(len, clear.size());
        // A packet longer than the reference accepts is refused.
        std::vector<uint8_t> huge(KNET_MAX_PACKET_SIZE + 100, 0), sink(huge.size());
        EXPECT_EQ(in.decrypt(huge.data(), huge.size(), sink.data(), sink.size(), &len).error(), EMSGSIZE);
    }
}

TEST(CryptoApi, LongestKeys) {
    for (const char* model : {"nss", "openssl"}) {
        auto a = create(make_cfg(model, "aes256", "sha512", KNET_MAX_KEY_LEN), nullptr);
        auto b = create(make_cfg("openssl", "aes256", "sha512", KNET_MAX_KEY_LEN), nullptr);
        ASSERT_TRUE(a && b) << model;
        std::vector<uint8_t> clear(10, 9), back;
        ASSERT_EQ(unseal(**b, seal(**a, clear), &back), 0);
        EXPECT_EQ(back, clear);
    }
}

TEST(CryptoApi, ManyThreadsShareOneInstance) {
    for (const char* model : {"nss", "openssl"}) {
        auto inst = create(make_cfg(model, "aes256", "sha256"), nullptr);
        ASSERT_TRUE(inst);
        const Instance& in = **inst;
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 24; ++t)  // more threads than pool slots
            threads.emplace_back([&, t] {
                std::vector<uint8_t> clear(300 + t, static_cast<uint8_t>(t)), back;
                for (int i = 0; i < 300; ++i) {
                    auto wire = seal(in, clear);
                    if (unseal(in, wire, &back) != 0 || back != clear) failures++;
                }
            });
        for (auto& th : threads) th.join();
        EXPECT_EQ(failures.load(), 0) << model;
    }
}

// encrypt_many() gives what encrypt() gives, packet by packet: the exact
// encrypted_size(), a fresh salt each, and output that either model (the
// wire format is shared) decrypts back; a job without room fails alone.
TEST(CryptoApi, EncryptManyEqualsOneByOne) {
    const size_t sizes[] = {1, 15, 16, 17, 100, 143, 144, 145, 1400, 8192, 64000};
    // Header lengths: none (the body is the only iovec), within one block,
    // exactly one, across two; the body is read in place when large.
    const size_t header_lens[] = {0, 14, 16, 31, 40};
    for (const char* cipher : {"aes128", "aes192", "aes256"}) {
        for (const char* hash : {"sha1", "sha256", "sha512"}) {
            auto ossl = create(make_cfg("openssl", cipher, hash), nullptr);
            auto nss = create(make_cfg("nss", cipher, hash), nullptr);
            ASSERT_TRUE(ossl && nss) << cipher << "/" << hash;
            for (const Instance* enc : {ossl->get(), nss->get()}) {
                for (size_t n : {1u, 3u, 8u, 13u, 23u}) {
                    std::vector<std::vector<uint8_t>> hdrs(n), bodies(n), outs(n);
                    std::vector<struct iovec> iovs(2 * n);
                    std::vector<EncryptJob> jobs(n);
                    for (size_t i = 0; i < n; ++i) {
                        hdrs[i].assign(header_lens[(i + n) % std::size(header_lens)],
                                       static_cast<uint8_t>(i));
                        bodies[i].resize(sizes[(i * 5 + n) % std::size(sizes)]);
                        for (size_t b = 0; b < bodies[i].size(); ++b)
                            bodies[i][b] = static_cast<uint8_t>(b * 7 + i);
                        const size_t clear = hdrs[i].size() + bodies[i].size();
                        // Job 2 of the larger batches gets one byte too few.
                        const bool starve = n > 2 && i == 2;
                        outs[i].resize(clear + enc->overhead_max() - (starve ? 1 : 0));
                        iovs[2 * i] = {hdrs[i].data(), hdrs[i].size()};
                        iovs[2 * i + 1] = {bodies[i].data(), bodies[i].size()};
                        const bool no_header = hdrs[i].empty();
                        jobs[i] = EncryptJob{&iovs[2 * i + (no_header ? 1 : 0)], no_header ? 1 : 2,
                                             outs[i].data(), outs[i].size(), 0, false};
                    }
                    enc->encrypt_many(jobs.data(), n);
                    for (size_t i = 0; i < n; ++i) {
                        SCOPED_TRACE(testing::Message() << enc->model() << " " << cipher << "/"
                                                        << hash << " n=" << n << " job " << i);
                        if (n > 2 && i == 2) {
                            EXPECT_FALSE(jobs[i].ok);
                            continue;
                        }
                        ASSERT_TRUE(jobs[i].ok);
                        for (size_t b = 0; b < bodies[i].size(); ++b)  // input left alone
                            ASSERT_EQ(bodies[i][b], static_cast<uint8_t>(b * 7 + i)) << b;
                        std::vector<uint8_t> expect = hdrs[i];
                        expect.insert(expect.end(), bodies[i].begin(), bodies[i].end());
                        EXPECT_EQ(jobs[i].out_len, enc->encrypted_size(expect.size()));
                        std::vector<uint8_t> wire(outs[i].begin(),
                                                  outs[i].begin() + static_cast<long>(jobs[i].out_len));
                        for (const Instance* dec : {ossl->get(), nss->get()}) {
                            std::vector<uint8_t> back;
                            ASSERT_EQ(unseal(*dec, wire, &back), 0) << "decrypted by " << dec->model();
                            EXPECT_EQ(back, expect);
                        }
                        if (i > 0 && jobs[i - 1].ok) {
                            EXPECT_NE(0, memcmp(outs[i].data(), outs[i - 1].data(), kSaltSize));
                        }
                    }
                }
            }
        }
    }
}

// decrypt_many() gives what decrypt() gives, packet by packet, in batches
// that mix good packets with every kind of bad one: a flipped byte in the
// body or the MAC (EBADMSG), a packet of nothing but a MAC (EMSGSIZE), no
// room for the clear text (ENOBUFS), another key (EBADMSG).  Covers the
// openssl HMAC-SHA256 batch path (pairs of streams) and the others.
TEST(CryptoApi, DecryptManyEqualsOneByOne) {
    const size_t sizes[] = {1, 15, 16, 17, 55, 56, 100, 1400, 8192, 64000};
    for (const char* model : {"openssl", "nss"}) {
        for (const char* cipher : {"none", "aes128", "aes256"}) {
            for (const char* hash : {"sha1", "sha256"}) {
                auto inst = create(make_cfg(model, cipher, hash), nullptr);
                auto other_key = create(make_cfg(model, cipher, hash, 128, 1), nullptr);
                ASSERT_TRUE(inst && other_key) << model << " " << cipher << "/" << hash;
                const Instance& c = **inst;
                for (size_t n : {1u, 2u, 5u, 8u, 11u}) {
                    std::vector<std::vector<uint8_t>> clears(n), wires(n), outs(n);
                    std::vector<DecryptJob> jobs(n);
                    for (size_t i = 0; i < n; ++i) {
                        clears[i].resize(sizes[(i * 3 + n) % std::size(sizes)]);
                        for (size_t b = 0; b < clears[i].size(); ++b)
                            clears[i][b] = static_cast<uint8_t>(b * 5 + i);
                        const Instance& enc = (i % 6 == 5) ? **other_key : c;
                        wires[i].resize(clears[i].size() + enc.overhead_max());
                        size_t len = 0;
                        ASSERT_TRUE(enc.encrypt(clears[i].data(), clears[i].size(), wires[i].data(),
                                                wires[i].size(), &len));
                        wires[i].resize(len);
                        size_t cap = len;
                        if (i % 6 == 1) wires[i][len / 2] ^= 0x01;     // body or MAC byte
                        if (i % 6 == 2) wires[i][len - 1] ^= 0x80;     // last MAC byte
                        if (i % 6 == 3) wires[i].resize(c.overhead().hash);  // only a MAC
                        if (i % 6 == 4) cap = clears[i].size() > 1 ? clears[i].size() / 2 : 0;
                        outs[i].assign(cap + 1, 0xEE);
                        jobs[i] = DecryptJob{wires[i].data(), wires[i].size(), outs[i].data(), cap, 0, {}};
                    }
                    c.decrypt_many(jobs.data(), n);
                    for (size_t i = 0; i < n; ++i) {
                        SCOPED_TRACE(testing::Message() << model << " " << cipher << "/" << hash
                                                        << " n=" << n << " job " << i);
                        std::vector<uint8_t> one(outs[i].size(), 0xEE);
                        size_t one_len = 0;
                        const Status want =
                            c.decrypt(wires[i].data(), wires[i].size(), one.data(), jobs[i].out_cap, &one_len);
                        ASSERT_EQ(static_cast<bool>(want), static_cast<bool>(jobs[i].status));
                        if (!want) {
                            EXPECT_EQ(want.error(), jobs[i].status.error());
                            EXPECT_NE(0, i % 6) << "a good packet failed";
                            continue;
                        }
                        EXPECT_TRUE(i % 6 == 0 || (i % 6 == 4 && jobs[i].out_cap >= clears[i].size()))
                            << "a bad packet passed";
                        ASSERT_EQ(jobs[i].out_len, clears[i].size());
                        EXPECT_EQ(0, memcmp(outs[i].data(), clears[i].data(), clears[i].size()));
                        EXPECT_EQ(0xEE, outs[i][jobs[i].out_cap]) << "wrote past out_cap";
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace knet::crypto::test
