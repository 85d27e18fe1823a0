// Wire compatibility with the real libknet 1.25 (Debian's libknet1).
//
// The reference library is loaded with dlopen and driven through dlsym'd
// entry points only, so nothing of it can clash with our code.  It runs node
// 1 with a UDP link to node 2 at 127.0.0.1:B; node 2 is this test: a plain
// UDP socket bound to B plus OUR crypto instance.
//   1. the reference sends encrypted heartbeat PINGs to B: we must decrypt
//      them and see a knet PING from node 1;
//   2. we send a PING from node 2, encrypted by us, to the reference: it
//      must answer with an encrypted PONG that echoes our timestamp.
// Skipped when the reference library is not installed.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <tuple>

#include "crypto/crypto.h"
#include "test_util.h"

namespace knet::crypto::test {
namespace {

constexpr const char* kRefLib = "/usr/lib/x86_64-linux-gnu/libknet.so.1";

// libknet 1.x packet layout (little of it is needed here).
constexpr uint8_t kVersion = 0x01;
constexpr uint8_t kTypePing = 0x81;
constexpr uint8_t kTypePong = 0x82;
constexpr size_t kPingSize = 6 + 1 + 16 + 2 + 1;  // header + link + time + seq + timed

struct RefApi {
    void* dl = nullptr;
    decltype(&knet_handle_new_ex) handle_new_ex = nullptr;
    decltype(&knet_handle_free) handle_free = nullptr;
    decltype(&knet_host_add) host_add = nullptr;
    decltype(&knet_host_remove) host_remove = nullptr;
    decltype(&knet_link_set_config) link_set_config = nullptr;
    decltype(&knet_link_clear_config) link_clear_config = nullptr;
    decltype(&knet_link_set_enable) link_set_enable = nullptr;
    decltype(&knet_link_set_ping_timers) link_set_ping_timers = nullptr;
    decltype(&knet_handle_crypto_set_config) crypto_set_config = nullptr;
    decltype(&knet_handle_crypto_use_config) crypto_use_config = nullptr;
    decltype(&knet_handle_crypto_rx_clear_traffic) crypto_rx_clear_traffic = nullptr;

    bool load() {
        dl = dlopen(kRefLib, RTLD_NOW | RTLD_LOCAL);
        if (!dl) return false;
        auto sym = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(dl, name));
            return fn != nullptr;
        };
        return sym(handle_new_ex, "knet_handle_new_ex") && sym(handle_free, "knet_handle_free") &&
               sym(host_add, "knet_host_add") && sym(host_remove, "knet_host_remove") &&
               sym(link_set_config, "knet_link_set_config") &&
               sym(link_clear_config, "knet_link_clear_config") &&
               sym(link_set_enable, "knet_link_set_enable") &&
               sym(link_set_ping_timers, "knet_link_set_ping_timers") &&
               sym(crypto_set_config, "knet_handle_crypto_set_config") &&
               sym(crypto_use_config, "knet_handle_crypto_use_config") &&
               sym(crypto_rx_clear_traffic, "knet_handle_crypto_rx_clear_traffic");
    }
};

RefApi& ref() {
    // Never dlclose'd: the library registers atexit handlers.
    static RefApi api;
    static bool loaded = api.load();
    (void)loaded;
    return api;
}

sockaddr_storage loopback(uint16_t port) {
    sockaddr_storage ss{};
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ss;
}

uint16_t bound_port(int fd) {
    sockaddr_in sin{};
    socklen_t len = sizeof(sin);
    getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    return ntohs(sin.sin_port);
}

// A free UDP port on 127.0.0.1 (released again, so there is a small race).
uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    auto ss = loopback(0);
    bind(fd, reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in));
    uint16_t p = bound_port(fd);
    close(fd);
    return p;
}

// Collects the reference's log records (shown when a case fails).
class LogPipe {
public:
    LogPipe() {
        if (pipe(fds_) == 0) {
            fcntl(fds_[0], F_SETFL, O_NONBLOCK);
            fcntl(fds_[1], F_SETFL, O_NONBLOCK);
        }
    }
    ~LogPipe() {
        close(fds_[0]);
        close(fds_[1]);
    }
    int write_fd() const { return fds_[1]; }
    std::string drain() {
        std::string all;
        knet_log_msg m;
        while (read(fds_[0], &m, sizeof(m)) == static_cast<ssize_t>(sizeof(m))) {
            m.msg[sizeof(m.msg) - 1] = 0;
            all += std::string(m.msg) + "\n";
        }
        return all;
    }

private:
    int fds_[2] = {-1, -1};
};

using Case = std::tuple<const char*, const char*, const char*, const char*>;  // ref model, our model, cipher, hash

class ReferenceInterop : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceInterop, PingAndPong) {
    auto [ref_model, our_model, cipher, hash] = GetParam();
    RefApi& api = ref();
    if (!api.dl) GTEST_SKIP() << "reference library not available: " << kRefLib;

    // Our side: node 2 at 127.0.0.1:B.
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(sock, 0);
    auto b_addr = loopback(0);
    ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&b_addr), sizeof(sockaddr_in)), 0);
    const uint16_t port_b = bound_port(sock);
    const uint16_t port_a = free_port();

    auto our_cfg = make_cfg(our_model, cipher, hash, 256, 0x3c);
    auto ours = create(our_cfg, nullptr);
    ASSERT_TRUE(ours) << ours.error();

    // Reference side: node 1 at 127.0.0.1:A, link 0 to node 2.
    LogPipe logs;
    knet_handle_t h = api.handle_new_ex(1, logs.write_fd(), KNET_LOG_DEBUG, 0);
    ASSERT_NE(h, nullptr);
    auto ref_cfg = make_cfg(ref_model, cipher, hash, 256, 0x3c);
    ASSERT_EQ(api.crypto_set_config(h, &ref_cfg, 1), 0) << logs.drain();
    ASSERT_EQ(api.crypto_use_config(h, 1), 0);
    ASSERT_EQ(api.crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC), 0);
    ASSERT_EQ(api.host_add(h, 2), 0);
    auto src = loopback(port_a), dst = loopback(port_b);
    ASSERT_EQ(api.link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &src, &dst, 0), 0) << logs.drain();
    ASSERT_EQ(api.link_set_ping_timers(h, 2, 0, 100, 2000, 2048), 0);
    ASSERT_EQ(api.link_set_enable(h, 2, 0, 1), 0);

    const Instance& inst = **ours;
    auto wait_for = [&](uint8_t type, std::vector<uint8_t>* clear, int* undecryptable) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        std::vector<uint8_t> buf(70000);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{sock, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) continue;
            ssize_t n = recv(sock, buf.data(), buf.size(), 0);
            if (n <= 0) continue;
            std::vector<uint8_t> wire(buf.begin(), buf.begin() + n);
            if (unseal(inst, wire, clear) != 0) {
                ++*undecryptable;
                continue;
            }
            if (clear->size() >= 2 && (*clear)[1] == type) return true;
        }
        return false;
    };

    // 1. Reference -> us: an encrypted PING from node 1, link 0.
    std::vector<uint8_t> clear;
    int bad = 0;
    bool got_ping = wait_for(kTypePing, &clear, &bad);
    EXPECT_TRUE(got_ping) << "undecryptable packets: " << bad << "\n" << logs.drain();
    if (got_ping) {
        ASSERT_EQ(clear.size(), kPingSize);
        EXPECT_EQ(clear[0], kVersion);
        EXPECT_EQ(clear[2], 0);  // node id 1, network order
        EXPECT_EQ(clear[3], 1);
        EXPECT_EQ(clear[6], 0);  // link id
    }
    EXPECT_EQ(bad, 0);

    // 2. Us -> reference: a PING from node 2 with a recognisable timestamp.
    std::vector<uint8_t> ping(kPingSize, 0);
    ping[0] = kVersion;
    ping[1] = kTypePing;
    ping[2] = 0;
    ping[3] = 2;  // node 2
    ping[6] = 0;  // link 0
    for (int i = 0; i < 16; ++i) ping[7 + i] = static_cast<uint8_t>(0xc0 + i);
    ping[23] = 0x12;  // seq 0x1234
    ping[24] = 0x34;
    ping[25] = 1;  // timed
    auto wire = seal(inst, ping);
    ASSERT_FALSE(wire.empty());
    auto a_addr = loopback(port_a);
    bool got_pong = false;
    for (int attempt = 0; attempt < 3 && !got_pong; ++attempt) {
        ASSERT_EQ(sendto(sock, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&a_addr),
                         sizeof(sockaddr_in)),
                  static_cast<ssize_t>(wire.size()));
        bad = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (!got_pong && std::chrono::steady_clock::now() < deadline) {
            if (!wait_for(kTypePong, &clear, &bad)) break;
            // Only a PONG echoing our timestamp is the answer to our PING.
            if (clear.size() == kPingSize && clear[0] == kVersion && clear[2] == 0 &&
                clear[3] == 1 && std::equal(ping.begin() + 7, ping.begin() + 23, clear.begin() + 7))
                got_pong = true;
        }
    }
    EXPECT_TRUE(got_pong) << logs.drain();

    api.link_set_enable(h, 2, 0, 0);
    api.link_clear_config(h, 2, 0);
    api.host_remove(h, 2);
    EXPECT_EQ(api.handle_free(h), 0);
    close(sock);
}

INSTANTIATE_TEST_SUITE_P(
    Reference125, ReferenceInterop,
    ::testing::Values(Case{"openssl", "openssl", "aes256", "sha256"},
                      Case{"nss", "nss", "aes256", "sha256"},
                      Case{"openssl", "openssl", "aes128", "sha1"},
                      Case{"nss", "nss", "aes192", "sha512"},
                      Case{"nss", "nss", "aes128", "md5"},
                      Case{"openssl", "openssl", "none", "sha256"},
                      Case{"nss", "nss", "none", "sha384"},
                      Case{"nss", "openssl", "aes256", "sha384"},
                      Case{"openssl", "nss", "aes128", "sha512"},
                      Case{"openssl", "openssl", "aes-256-ctr", "sha3-256"},
                      Case{"openssl", "openssl", "camellia128", "sha224"}),
    [](const auto& p) {
        std::string n = std::string("ref_") + std::get<0>(p.param) + "_ours_" +
                        std::get<1>(p.param) + "_" + std::get<2>(p.param) + "_" +
                        std::get<3>(p.param);
        for (auto& ch : n)
            if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
        return n;
    });

}  // namespace
}  // namespace knet::crypto::test
