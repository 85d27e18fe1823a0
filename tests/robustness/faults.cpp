// Faults: a lossy/duplicating/reordering UDP proxy between two handles,
// link flapping, peer restart, the application closing its datafd
// mid-traffic, and knet_handle_free under traffic with callbacks in flight.
// Every wait is bounded; deadlocks are caught by a watchdog.
#include <set>

#include "common.h"

using namespace rob;

namespace {

// Sits at .3: port+0 faces A (.1:port), port+1 faces B (.2:port).
class Proxy {
public:
    Proxy(int drop_pct, int dup_pct, int reorder_pct) : drop_(drop_pct), dup_(dup_pct), reo_(reorder_pct) {
        for (int i = 0; i < 2; ++i) {
            fd_[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            sockaddr_storage me = net().addr(3, i);
            if (bind(fd_[i], reinterpret_cast<sockaddr*>(&me), sizeof(sockaddr_in)) != 0) std::abort();
            int big = 4 << 20;
            setsockopt(fd_[i], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
        }
        peer_[0] = net().addr(1);  // A
        peer_[1] = net().addr(2);  // B
        th_ = std::thread([this] { run(); });
    }
    ~Proxy() {
        stop_ = true;
        th_.join();
        close(fd_[0]);
        close(fd_[1]);
    }
    // counted by the proxy thread, read by the test while it runs
    std::atomic<uint64_t> dropped{0}, duped{0}, reordered{0}, forwarded{0};

private:
    void out(int side, const std::vector<uint8_t>& p) {
        ::sendto(fd_[side], p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&peer_[side]),
                 sizeof(sockaddr_in));
    }
    void run() {
        std::mt19937 g(42);
        std::vector<uint8_t> buf(70000);
        std::vector<uint8_t> held[2];
        bool has_held[2] = {false, false};
        while (!stop_) {
            pollfd p[2] = {{fd_[0], POLLIN, 0}, {fd_[1], POLLIN, 0}};
            int r = poll(p, 2, 20);
            if (r <= 0) {
                // flush held packets when idle
                for (int s = 0; s < 2; ++s)
                    if (has_held[s]) out(s, held[s]), has_held[s] = false;
                continue;
            }
            for (int in = 0; in < 2; ++in) {
                if (!(p[in].revents & POLLIN)) continue;
                ssize_t n = recv(fd_[in], buf.data(), buf.size(), MSG_DONTWAIT);
                if (n <= 0) continue;
                const int o = 1 - in;  // from A goes to B and back
                std::vector<uint8_t> pkt(buf.begin(), buf.begin() + n);
                const int dice = static_cast<int>(g() % 100);
                if (dice < drop_) {
                    ++dropped;
                    continue;
                }
                ++forwarded;
                if (dice < drop_ + reo_ && !has_held[o]) {
                    held[o] = pkt;  // goes out after the next one
                    has_held[o] = true;
                    ++reordered;
                    continue;
                }
                out(o, pkt);
                if (dice >= 100 - dup_) out(o, pkt), ++duped;
                if (has_held[o]) out(o, held[o]), has_held[o] = false;
            }
        }
    }
    int drop_, dup_, reo_;
    int fd_[2];
    sockaddr_storage peer_[2];
    std::thread th_;
    std::atomic<bool> stop_{false};
};

// Message i: "m<i>:" followed by a pattern depending on i, `size` bytes.
std::string make_msg(int i, size_t size) {
    std::string s = "m" + std::to_string(i) + ":";
    while (s.size() < size) s.push_back(static_cast<char>('a' + (i + s.size()) % 26));
    return s;
}
struct Tally {
    std::set<int> ids;
    int dups = 0, bad = 0;
};
Tally collect(Node& n, int quiet_ms, size_t size) {
    Tally t;
    drain(n, quiet_ms, [&](const uint8_t* p, size_t len) {
        std::string s(reinterpret_cast<const char*>(p), len);
        if (s[0] != 'm') return;
        int id = atoi(s.c_str() + 1);
        if (s != make_msg(id, size)) ++t.bad;
        if (!t.ids.insert(id).second) ++t.dups;
    });
    return t;
}

TEST(Faults, LossDuplicationReorderingThroughProxy) {
    Node a(1, 1), b(2, 2, KNET_LOG_INFO);
    Proxy proxy(10, 10, 20);
    ASSERT_EQ(a.link(2, 0, 3, 0), 0);
    ASSERT_EQ(b.link(1, 0, 3, 1), 0);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b.reachable(1); }, 15));
    for (size_t size : {size_t(200), size_t(3000)}) {  // 3000: fragmented at the 576-byte start MTU
        const int n = size > 1000 ? 300 : 2000;
        for (int i = 0; i < n; ++i) {
            std::string m = make_msg(i, size);
            ASSERT_EQ(b.send(m.data(), m.size()), static_cast<ssize_t>(m.size()));
            if (i % 8 == 7) usleep(500);
        }
        Tally t = collect(a, 500, size);
        printf("proxy (10%% loss, 10%% dup, 20%% reorder), %zu-byte msgs: %zu/%d delivered, %d dups, %d corrupted\n",
               size, t.ids.size(), n, t.dups, t.bad);
        EXPECT_EQ(t.dups, 0) << "delivered twice";
        EXPECT_EQ(t.bad, 0) << "corrupted";
        EXPECT_GE(t.ids.size(), static_cast<size_t>(n) / (size > 1000 ? 5 : 2));
    }
    printf("proxy: %llu forwarded, %llu dropped, %llu duplicated, %llu reordered\n",
           static_cast<unsigned long long>(proxy.forwarded.load()),
           static_cast<unsigned long long>(proxy.dropped.load()), static_cast<unsigned long long>(proxy.duped.load()),
           static_cast<unsigned long long>(proxy.reordered.load()));
}

// Sends numbered messages of `size` bytes from `from`, one every `gap_us`,
// until `stop` (the caller joins the thread).
std::thread send_until(const std::atomic<bool>& stop, Node& from, size_t size, useconds_t gap_us) {
    return std::thread([&stop, &from, size, gap_us] {
        int i = 0;
        while (!stop) {
            std::string m = make_msg(i++, size);
            from.send(m.data(), m.size());
            usleep(gap_us);
        }
    });
}

TEST(Faults, LinkFlapping) {
    Watchdog wd(60, "link flapping");
    Node a(1, 1), b(2, 2, KNET_LOG_INFO);
    ASSERT_EQ(a.link(2, 0, 2), 0);
    ASSERT_EQ(a.link(2, 1, 2), 0);
    ASSERT_EQ(b.link(1, 0, 1), 0);
    ASSERT_EQ(b.link(1, 1, 1), 0);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b.reachable(1); }, 10));
    std::atomic<bool> stop{false};
    std::thread tx = send_until(stop, b, 100, 200);
    std::thread rx([&] {
        while (!stop) collect(a, 50, 100);
    });
    for (int k = 0; k < 30; ++k) {
        EXPECT_EQ(knet_link_set_enable(a.h, 2, static_cast<uint8_t>(k % 2), 0), 0);
        usleep(20000);
        EXPECT_EQ(knet_link_set_enable(a.h, 2, static_cast<uint8_t>(k % 2), 1), 0);
        if (k % 5 == 0) knet_link_set_enable(b.h, 1, 0, 0), usleep(10000), knet_link_set_enable(b.h, 1, 0, 1);
        usleep(20000);
    }
    stop = true;
    tx.join();
    rx.join();
    collect(a, 200, 100);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b.reachable(1); }, 10));
    for (int i = 0; i < 200; ++i) {
        std::string m = make_msg(i, 100);
        b.send(m.data(), m.size());
    }
    Tally t = collect(a, 400, 100);
    EXPECT_EQ(t.ids.size(), 200u) << "traffic did not resume after flapping";
    EXPECT_EQ(t.dups, 0);
    EXPECT_EQ(t.bad, 0);
}

TEST(Faults, PeerRestart) {
    Watchdog wd(90, "peer restart");
    Node a(1, 1);
    ASSERT_EQ(a.link(2, 0, 2), 0);
    for (int round = 0; round < 3; ++round) {
        auto b = std::make_unique<Node>(2, 2, KNET_LOG_INFO);
        ASSERT_EQ(b->link(1, 0, 1), 0);
        ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b->reachable(1); }, 15)) << "round " << round;
        // Some traffic both ways, then the peer goes away abruptly.
        const int n = 300 + round * 100;
        for (int i = 0; i < n; ++i) {
            std::string m = make_msg(i, 150);
            ASSERT_EQ(b->send(m.data(), m.size()), 150);
            if (i % 16 == 15) usleep(500);
        }
        Tally t = collect(a, 400, 150);
        EXPECT_EQ(t.ids.size(), static_cast<size_t>(n)) << "after restart " << round;
        EXPECT_EQ(t.dups, 0);
        b.reset();  // freed: its sequence numbers restart from 1 next round
        if (round == 1) usleep(1500000);  // once: let A notice the peer is gone
    }
}

struct RemoveOnNotify {
    knet_handle_t h = nullptr;
    std::atomic<int> calls{0}, removed{0};
};
void remove_datafd_notify(void* priv, int fd, int8_t, uint8_t, int, int) {
    auto* r = static_cast<RemoveOnNotify*>(priv);
    r->calls++;
    if (knet_handle_remove_datafd(r->h, fd) == 0) r->removed++;
}

TEST(Faults, AppClosesDatafdMidTraffic) {
    Watchdog wd(60, "datafd close");
    Node a(1, 1), b(2, 2, KNET_LOG_INFO);
    RemoveOnNotify rn;
    rn.h = a.h;
    ASSERT_EQ(knet_handle_enable_sock_notify(a.h, &rn, remove_datafd_notify), 0);
    ASSERT_EQ(a.link(2, 0, 2), 0);
    ASSERT_EQ(b.link(1, 0, 1), 0);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b.reachable(1); }, 10));
    std::atomic<bool> stop{false};
    std::thread tx = send_until(stop, b, 100, 100);
    {  // read for a while (collect() would wait for silence forever here)
        char buf[256];
        const double end = now_s() + 0.3;
        while (now_s() < end) a.recv_one(buf, sizeof buf, 10);
    }
    close(a.fd);  // the application end of the socketpair
    EXPECT_TRUE(wait_until([&] { return rn.calls.load() > 0; }, 5)) << "no sock_notify after close";
    EXPECT_TRUE(wait_until([&] { return rn.removed.load() > 0; }, 5));
    usleep(200000);
    stop = true;
    tx.join();
    // The channel is gone; a new datafd works.
    int fd = 0;
    int8_t ch = 0;
    ASSERT_EQ(knet_handle_add_datafd(a.h, &fd, &ch), 0);
    a.fd = fd;
    a.ch = ch;
    ASSERT_EQ(ch, 0);
    // Ids of their own: a message the stream thread queued just before it
    // stopped may still arrive on the new datafd and must not be counted.
    constexpr int kFirstId = 1000000;
    for (int i = 0; i < 50; ++i) {
        std::string m = make_msg(kFirstId + i, 100);
        b.send(m.data(), m.size());
    }
    Tally t = collect(a, 300, 100);
    size_t fresh = 0;
    for (int id : t.ids) fresh += id >= kFirstId;
    EXPECT_EQ(fresh, 50u);
    EXPECT_EQ(t.dups, 0);
    EXPECT_EQ(t.bad, 0);
    printf("datafd close: %d sock_notify calls, %d removals from inside the callback\n", rn.calls.load(),
           rn.removed.load());
}

// Sends n messages of `size` bytes (ids first..first+n-1) on channel ch,
// retrying while knet_send says the send path is full; bounded in time.
int send_burst(Node& n, int8_t ch, int first, int count, size_t size) {
    int sent = 0;
    const double end = now_s() + 20;
    for (int i = first; i < first + count && now_s() < end;) {
        std::string m = make_msg(i, size);
        if (knet_send(n.h, m.data(), m.size(), ch) == static_cast<ssize_t>(m.size())) {
            ++i;
            ++sent;
        } else {
            usleep(100);
        }
    }
    return sent;
}

// An application that reads its datafd more slowly than messages arrive,
// but keeps reading: the library waits for it (the UDP receive buffer holds
// what arrives meanwhile) instead of dropping what does not fit.
TEST(Faults, SlowReaderLosesNothing) {
    Watchdog wd(60, "slow reader");
    Node a(1, 1), b(2, 2, KNET_LOG_INFO);
    ASSERT_EQ(a.link(2, 0, 2), 0);
    ASSERT_EQ(b.link(1, 0, 1), 0);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b.reachable(1); }, 10));
    // About 2.5 times what the datafd socketpair holds of 8000-byte messages.
    constexpr int kCount = 2500;
    constexpr size_t kSize = 8000;
    std::atomic<int> sent{0};
    std::thread tx([&] { sent = send_burst(b, 0, 0, kCount, kSize); });
    Tally t;
    std::vector<uint8_t> buf(KNET_MAX_PACKET_SIZE);
    const double end = now_s() + 30;
    while (static_cast<int>(t.ids.size()) < kCount && now_s() < end) {
        for (int k = 0; k < 100; ++k) {  // a hundred messages, then a pause
            ssize_t r = a.recv_one(buf.data(), buf.size(), 200);
            if (r <= 0) break;
            std::string m(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(r));
            const int id = atoi(m.c_str() + 1);
            if (m != make_msg(id, kSize)) ++t.bad;
            if (!t.ids.insert(id).second) ++t.dups;
        }
        usleep(1000);
    }
    tx.join();
    EXPECT_EQ(sent.load(), kCount);
    EXPECT_EQ(static_cast<int>(t.ids.size()), kCount) << "messages lost behind a slow reader";
    EXPECT_EQ(t.dups, 0);
    EXPECT_EQ(t.bad, 0);
    EXPECT_EQ(a.log.count("is not reading its datafd"), 0u);
}

// An application that stops reading one channel: that channel drops (and
// says so once), while the other channel and the heartbeat go on; once the
// application reads again, the channel delivers again.
TEST(Faults, StoppedReaderDoesNotStallOthers) {
    Watchdog wd(60, "stopped reader");
    Node a(1, 1), b(2, 2, KNET_LOG_INFO);
    int a1 = 0, b1 = 0;
    int8_t ach = 1, bch = 1;
    ASSERT_EQ(knet_handle_add_datafd(a.h, &a1, &ach), 0);
    ASSERT_EQ(knet_handle_add_datafd(b.h, &b1, &bch), 0);
    ASSERT_EQ(a.link(2, 0, 2), 0);
    ASSERT_EQ(b.link(1, 0, 1), 0);
    ASSERT_TRUE(wait_until([&] { return a.reachable(2) && b.reachable(1); }, 10));
    const uint64_t downs_before = a.log.count("is down");
    // Channel 0 is never read while 4000 x 8000 bytes go to it.
    ASSERT_EQ(send_burst(b, 0, 0, 4000, 8000), 4000);
    EXPECT_TRUE(a.log.wait_for("channel 0: the application is not reading its datafd", 1, 10));
    // Channel 1 is read and gets everything.
    ASSERT_EQ(send_burst(b, 1, 100000, 200, 100), 200);
    std::set<int> got1;
    std::vector<uint8_t> buf(KNET_MAX_PACKET_SIZE);
    const double end = now_s() + 10;
    while (got1.size() < 200 && now_s() < end) {
        pollfd p{a1, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t r = recv(a1, buf.data(), buf.size(), MSG_DONTWAIT);
        if (r > 0) got1.insert(atoi(reinterpret_cast<char*>(buf.data()) + 1));
    }
    EXPECT_EQ(got1.size(), 200u);
    EXPECT_EQ(a.log.count("is not reading its datafd"), 1u) << "said once per stop";
    EXPECT_TRUE(a.connected(2, 0));
    EXPECT_EQ(a.log.count("is down"), downs_before);
    // The application reads channel 0 again: what was queued, then new
    // messages, arrive.
    Tally old = collect(a, 300, 8000);
    EXPECT_GT(old.ids.size(), 0u);
    EXPECT_EQ(old.bad, 0);
    ASSERT_EQ(send_burst(b, 0, 200000, 50, 8000), 50);
    Tally fresh = collect(a, 300, 8000);
    EXPECT_EQ(fresh.ids.size(), 50u);
    printf("stopped reader: %zu of 4000 queued for the application, then 50/50\n", old.ids.size());
}

struct SlowStatus {
    knet_handle_t h = nullptr;
    std::atomic<int> calls{0};
};
void slow_host_status(void* priv, knet_node_id_t host, uint8_t, uint8_t, uint8_t) {
    auto* s = static_cast<SlowStatus*>(priv);
    s->calls++;
    knet_host_status st;
    knet_host_get_status(s->h, host, &st);
    usleep(20000);
}

TEST(Faults, HandleFreeUnderTraffic) {
    Watchdog wd(120, "knet_handle_free under traffic");
    auto b = std::make_unique<Node>(2, 2, KNET_LOG_INFO);
    ASSERT_EQ(b->link(1, 0, 1), 0);
    std::atomic<bool> stop{false};
    std::thread btx = send_until(stop, *b, 1500, 50);  // B floods A all along
    for (int round = 0; round < 4; ++round) {
        auto a = std::make_unique<Node>(1, 1, KNET_LOG_INFO);
        SlowStatus ss;
        ss.h = a->h;
        knet_host_enable_status_change_notify(a->h, &ss, slow_host_status);
        ASSERT_EQ(a->link(2, 0, 2), 0);
        ASSERT_TRUE(wait_until([&] { return a->reachable(2); }, 10)) << "round " << round;
        // A sends through its datafd (the app side) while it is torn down.
        std::atomic<bool> astop{false};
        const int afd = a->fd;
        std::thread atx([&] {
            std::string m = make_msg(0, 1000);
            while (!astop) {
                ::send(afd, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
                usleep(50);
            }
        });
        usleep(100000 + 50000 * round);
        if (round % 2) {
            // app stops writing just before the free (the fd dies with the handle)
            astop = true;
            atx.join();
            a->destroy();
        } else {
            // teardown of hosts/links while A still writes; stop before free
            knet_handle_setfwd(a->h, 0);
            knet_link_set_enable(a->h, 2, 0, 0);  // host status callback fires
            knet_link_clear_config(a->h, 2, 0);
            knet_host_remove(a->h, 2);
            astop = true;
            atx.join();
            a->destroy();
        }
        a.reset();
    }
    stop = true;
    btx.join();
    SUCCEED();
}

}  // namespace

ROB_MAIN()
