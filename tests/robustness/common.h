// Shared harness of the robustness tests: real handles of ours on random
// 127.x.y.z addresses, a log-fd reader, "fake peers" (plain UDP sockets that
// speak the wire protocol through proto/ and crypto/ to forge packets), a
// watchdog, and a main() printing the closing line "N passed, N failed".
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/crypto.h"
#include "libknet.h"
#include "proto/wire.h"

namespace rob {

// Monotonic clock in ns (the clock the library stamps pings with).
inline uint64_t mono_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

inline double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline bool wait_until(const std::function<bool()>& fn, double timeout_s) {
    const double end = now_s() + timeout_s;
    while (now_s() < end) {
        if (fn()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return fn();
}

// One random /16 of 127/8 and a random port per process, so parallel ctest
// runs and other test programs on loopback do not collide.
struct Net {
    int o1, o2, port;
    Net() {
        std::random_device rd;
        std::mt19937 g(rd() ^ static_cast<unsigned>(getpid()));
        o1 = 100 + static_cast<int>(g() % 120);
        o2 = static_cast<int>(g() % 250);
        port = 20000 + static_cast<int>(g() % 30000);
    }
    std::string ip(int last) const {
        return "127." + std::to_string(o1) + "." + std::to_string(o2) + "." + std::to_string(last);
    }
    sockaddr_storage addr(int last, int port_off = 0) const {
        sockaddr_storage ss{};
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(static_cast<uint16_t>(port + port_off));
        inet_pton(AF_INET, ip(last).c_str(), &sin->sin_addr);
        return ss;
    }
};
inline Net& net() {
    static Net n;
    return n;
}

// Reads knet_log_msg records from a pipe the handle logs into.
class LogSink {
public:
    LogSink() {
        if (pipe2(fds_, O_CLOEXEC) != 0) std::abort();
        fcntl(fds_[1], F_SETPIPE_SZ, 1 << 20);
        fcntl(fds_[0], F_SETFL, O_NONBLOCK);
        th_ = std::thread([this] { run(); });
    }
    ~LogSink() {
        stop_ = true;
        th_.join();
        close(fds_[0]);
        close(fds_[1]);
    }
    int wfd() const { return fds_[1]; }
    size_t count(const std::string& needle) {
        std::lock_guard g(m_);
        size_t n = 0;
        for (auto& l : lines_)
            if (l.find(needle) != std::string::npos) ++n;
        return n;
    }
    size_t count2(const std::string& a, const std::string& b) {
        std::lock_guard g(m_);
        size_t n = 0;
        for (auto& l : lines_)
            if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) ++n;
        return n;
    }
    size_t count_exact(const std::string& line) {
        std::lock_guard g(m_);
        return static_cast<size_t>(std::count(lines_.begin(), lines_.end(), line));
    }
    bool wait_for(const std::string& needle, size_t n = 1, double timeout = 3.0) {
        return wait_until([&] { return count(needle) >= n; }, timeout);
    }
    void dump(const std::string& needle = "") {
        std::lock_guard g(m_);
        for (auto& l : lines_)
            if (needle.empty() || l.find(needle) != std::string::npos) printf("  log: %s\n", l.c_str());
    }
    size_t total() {
        std::lock_guard g(m_);
        return lines_.size() + folded_;
    }

private:
    void run() {
        knet_log_msg msg;
        while (!stop_) {
            pollfd p{fds_[0], POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            for (;;) {
                ssize_t n = read(fds_[0], &msg, sizeof msg);
                if (n != static_cast<ssize_t>(sizeof msg)) break;
                msg.msg[sizeof msg.msg - 1] = 0;
                std::lock_guard g(m_);
                if (lines_.size() < 400000)
                    lines_.emplace_back(msg.msg);
                else
                    ++folded_;
            }
        }
    }
    int fds_[2];
    std::thread th_;
    std::atomic<bool> stop_{false};
    std::mutex m_;
    std::vector<std::string> lines_;
    size_t folded_ = 0;
};

struct SockNotes {
    std::atomic<int> count{0};
    std::atomic<int> last_fd{-1}, last_err{0}, last_errno{0};
};
inline void default_sock_notify(void* priv, int fd, int8_t, uint8_t, int err, int errn) {
    auto* n = static_cast<SockNotes*>(priv);
    if (!n) return;
    n->last_fd = fd;
    n->last_err = err;
    n->last_errno = errn;
    n->count++;
}

// A handle of ours with one datafd (channel 0, library-made socketpair).
struct Node {
    knet_node_id_t id;
    int last;  // last octet of its address
    LogSink log;
    SockNotes notes;
    knet_handle_t h = nullptr;
    int fd = 0;
    int8_t ch = 0;

    Node(knet_node_id_t id_, int last_, uint8_t level = KNET_LOG_DEBUG) : id(id_), last(last_) {
        h = knet_handle_new(id, log.wfd(), level);
        if (!h) throw std::runtime_error("knet_handle_new");
        knet_handle_enable_sock_notify(h, &notes, default_sock_notify);
        fd = 0;
        ch = 0;
        if (knet_handle_add_datafd(h, &fd, &ch) != 0) throw std::runtime_error("add_datafd");
        knet_handle_setfwd(h, 1);
    }
    ~Node() { destroy(); }
    void destroy() {
        if (!h) return;
        knet_handle_setfwd(h, 0);
        knet_node_id_t hosts[KNET_MAX_HOST];
        size_t n = 0;
        if (knet_host_get_host_list(h, hosts, &n) == 0) {
            for (size_t i = 0; i < n; ++i) {
                uint8_t links[KNET_MAX_LINK];
                size_t nl = 0;
                if (knet_link_get_link_list(h, hosts[i], links, &nl) == 0)
                    for (size_t k = 0; k < nl; ++k) {
                        knet_link_set_enable(h, hosts[i], links[k], 0);
                        knet_link_clear_config(h, hosts[i], links[k]);
                    }
                knet_host_remove(h, hosts[i]);
            }
        }
        knet_handle_free(h);
        h = nullptr;
    }
    // A UDP link to host `peer`; `remote_last` < 0 makes it dynamic.
    int link(knet_node_id_t peer, uint8_t link_id, int remote_last, int remote_port_off = 0,
             bool enable = true, int local_port_off = 0) {
        knet_host_add(h, peer);  // may already exist
        sockaddr_storage src = net().addr(last, local_port_off + link_id);
        sockaddr_storage dst = remote_last >= 0 ? net().addr(remote_last, remote_port_off + link_id)
                                                : sockaddr_storage{};
        int r = knet_link_set_config(h, peer, link_id, KNET_TRANSPORT_UDP, &src,
                                     remote_last >= 0 ? &dst : nullptr, 0);
        if (r) return r;
        knet_link_set_ping_timers(h, peer, link_id, 100, 1000, 2048);
        knet_link_set_pong_count(h, peer, link_id, 1);
        return enable ? knet_link_set_enable(h, peer, link_id, 1) : 0;
    }
    bool reachable(knet_node_id_t peer) {
        knet_host_status st{};
        return knet_host_get_status(h, peer, &st) == 0 && st.reachable;
    }
    knet_link_status lstatus(knet_node_id_t peer, uint8_t l) {
        knet_link_status st{};
        knet_link_get_status(h, peer, l, &st, sizeof st);
        return st;
    }
    bool connected(knet_node_id_t peer, uint8_t l) { return lstatus(peer, l).connected; }
    // Reads one message from the app side of channel 0 (timeout in ms).
    ssize_t recv_one(void* buf, size_t cap, int timeout_ms) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return -1;
        return ::recv(fd, buf, cap, MSG_DONTWAIT);
    }
    ssize_t send(const void* buf, size_t len) { return knet_send(h, static_cast<const char*>(buf), len, ch); }
};

// Receives everything on a node's channel until `quiet_ms` of silence,
// calling fn for each message.
inline void drain(Node& n, int quiet_ms, const std::function<void(const uint8_t*, size_t)>& fn) {
    static thread_local std::vector<uint8_t> buf(KNET_MAX_PACKET_SIZE + 16);
    for (;;) {
        ssize_t r = n.recv_one(buf.data(), buf.size(), quiet_ms);
        if (r < 0) return;
        fn(buf.data(), static_cast<size_t>(r));
    }
}

// A plain UDP socket speaking knet's wire format by hand: answers PINGs of
// the handle it is configured for with PONGs (as host `id`), and sends
// forged packets.  With `crypto` set it encrypts and decrypts like a peer.
class FakePeer {
public:
    FakePeer(knet_node_id_t id, int last, int port_off, int target_last, int target_port_off,
             bool answer = true)
        : id_(id), answer_(answer) {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        int big = 4 << 20;
        setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
        sockaddr_storage me = net().addr(last, port_off);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&me), sizeof(sockaddr_in)) != 0) {
            perror("FakePeer bind");
            std::abort();
        }
        target_ = net().addr(target_last, target_port_off);
        th_ = std::thread([this] { run(); });
    }
    ~FakePeer() {
        stop_ = true;
        th_.join();
        close(fd_);
    }
    void set_crypto(const char* model, const char* cipher, const char* hash, uint8_t key_byte = 0x5a) {
        knet_handle_crypto_cfg cfg{};
        snprintf(cfg.crypto_model, sizeof cfg.crypto_model, "%s", model);
        snprintf(cfg.crypto_cipher_type, sizeof cfg.crypto_cipher_type, "%s", cipher);
        snprintf(cfg.crypto_hash_type, sizeof cfg.crypto_hash_type, "%s", hash);
        memset(cfg.private_key, key_byte, sizeof cfg.private_key);
        cfg.private_key_len = 1024;
        auto r = knet::crypto::create(cfg, nullptr);
        if (!r) std::abort();
        std::lock_guard g(m_);
        crypto_ = std::move(r.value());
    }
    // Sends bytes as they are (never encrypted).
    void send_raw(const void* p, size_t n) {
        ::sendto(fd_, p, n, 0, reinterpret_cast<const sockaddr*>(&target_), sizeof(sockaddr_in));
    }
    // Sends a clear packet, encrypted first if crypto is set; returns what
    // went on the wire (for replays).
    std::vector<uint8_t> send(const void* p, size_t n) {
        std::vector<uint8_t> wire;
        {
            std::lock_guard g(m_);
            if (crypto_) {
                wire.resize(n + 1024);
                size_t out = 0;
                if (!crypto_->encrypt(static_cast<const uint8_t*>(p), n, wire.data(), wire.size(), &out))
                    std::abort();
                wire.resize(out);
            } else {
                wire.assign(static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
            }
        }
        send_raw(wire.data(), wire.size());
        return wire;
    }
    std::vector<uint8_t> send(const std::vector<uint8_t>& v) { return send(v.data(), v.size()); }

    // Wire helpers (clear text).
    std::vector<uint8_t> data_pkt(uint16_t seq, const void* payload, size_t len, uint8_t frag_num = 1,
                                  uint8_t frag_seq = 0, uint8_t compress = 0, int8_t channel = 0,
                                  knet_node_id_t node = 0) const {
        std::vector<uint8_t> v(knet::proto::kDataHeaderSize + len);
        knet::proto::DataHeader d;
        d.seq = seq;
        d.frag_num = frag_num;
        d.frag_seq = frag_seq;
        d.compress = compress;
        d.channel = channel;
        d.bcast = 1;
        size_t n = knet::proto::encode_data(v, node ? node : id_, d,
                                            {static_cast<const uint8_t*>(payload), len});
        v.resize(n);
        return v;
    }
    std::vector<uint8_t> ping_pkt(knet::proto::PacketType type, knet_node_id_t node, uint8_t link,
                                  uint64_t time_ns, uint16_t seq = 0, uint8_t timed = 1) const {
        std::vector<uint8_t> v(knet::proto::kPingPacketSize);
        knet::proto::PingPayload p;
        p.link = link;
        p.time = knet::proto::ping_time_from_ns(time_ns);
        p.seq = seq;
        p.timed = timed;
        v.resize(knet::proto::encode_ping(v, type, node, p));
        return v;
    }

    int pings_seen() const { return pings_.load(); }
    int pongs_seen() const { return pongs_.load(); }
    int packets_seen() const { return packets_.load(); }
    void set_answer(bool a) { answer_ = a; }
    knet_node_id_t id() const { return id_; }

private:
    void run() {
        std::vector<uint8_t> buf(70000), clear(70000);
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            sockaddr_storage from{};
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &fl);
            if (n <= 0) continue;
            packets_++;
            std::span<const uint8_t> in{buf.data(), static_cast<size_t>(n)};
            {
                std::lock_guard g(m_);
                if (crypto_) {
                    size_t out = 0;
                    if (!crypto_->decrypt(buf.data(), static_cast<size_t>(n), clear.data(), clear.size(),
                                          &out))
                        continue;
                    in = {clear.data(), out};
                }
            }
            auto d = knet::proto::decode(in);
            if (!d.ok()) continue;
            if (d.packet.header.type == knet::proto::PacketType::Pong) pongs_++;
            if (d.packet.header.type != knet::proto::PacketType::Ping) continue;
            pings_++;
            if (!answer_) continue;
            std::vector<uint8_t> pong(knet::proto::kPingPacketSize);
            knet::proto::encode_ping(pong, knet::proto::PacketType::Pong, id_, d.packet.ping);
            // Reply to where it came from (the handle's socket).
            std::vector<uint8_t> wire = pong;
            {
                std::lock_guard g(m_);
                if (crypto_) {
                    wire.resize(pong.size() + 1024);
                    size_t out = 0;
                    if (!crypto_->encrypt(pong.data(), pong.size(), wire.data(), wire.size(), &out)) continue;
                    wire.resize(out);
                }
            }
            ::sendto(fd_, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
        }
    }

    knet_node_id_t id_;
    int fd_ = -1;
    sockaddr_storage target_{};
    std::thread th_;
    std::atomic<bool> stop_{false}, answer_{true};
    std::atomic<int> pings_{0}, pongs_{0}, packets_{0};
    std::mutex m_;
    std::unique_ptr<knet::crypto::Instance> crypto_;
};

// Aborts the process (failing the test) if not disarmed in time.
class Watchdog {
public:
    Watchdog(double seconds, std::string what) : what_(std::move(what)) {
        th_ = std::thread([this, seconds] {
            std::unique_lock l(m_);
            if (!cv_.wait_for(l, std::chrono::duration<double>(seconds), [this] { return done_; })) {
                fprintf(stderr, "WATCHDOG: %s did not finish in %.0f s (deadlock?)\n", what_.c_str(), seconds);
                printf("0 passed, 1 failed\n");
                fflush(stdout);
                std::_Exit(3);
            }
        });
    }
    ~Watchdog() {
        {
            std::lock_guard g(m_);
            done_ = true;
        }
        cv_.notify_all();
        th_.join();
    }

private:
    std::string what_;
    std::thread th_;
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
};

inline void set_handle_crypto(knet_handle_t h, const char* model, const char* cipher, const char* hash,
                              uint8_t key_byte = 0x5a) {
    knet_handle_crypto_cfg cfg{};
    snprintf(cfg.crypto_model, sizeof cfg.crypto_model, "%s", model);
    snprintf(cfg.crypto_cipher_type, sizeof cfg.crypto_cipher_type, "%s", cipher);
    snprintf(cfg.crypto_hash_type, sizeof cfg.crypto_hash_type, "%s", hash);
    memset(cfg.private_key, key_byte, sizeof cfg.private_key);
    cfg.private_key_len = 1024;
    if (knet_handle_crypto_set_config(h, &cfg, 1) != 0 || knet_handle_crypto_use_config(h, 1) != 0 ||
        knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC) != 0)
        throw std::runtime_error("crypto config");
}

}  // namespace rob

// main(): GoogleTest, then the closing line the CI greps for.
#define ROB_MAIN()                                                                       \
    int main(int argc, char** argv) {                                                    \
        ::testing::InitGoogleTest(&argc, argv);                                          \
        int rc = RUN_ALL_TESTS();                                                        \
        const auto* u = ::testing::UnitTest::GetInstance();                              \
        printf("%d passed, %d failed\n", u->successful_test_count(), u->failed_test_count()); \
        return rc;                                                                       \
    }
