// Flood: attacker sockets send garbage at A as fast as they can while B
// streams numbered messages to A (window flow control, so the legit sender
// never overruns A itself): every legit message must arrive once and intact.
// Prints legit msgs/s with and without the flood.  Also: more than 65536
// messages (sequence-number wrap-around) all delivered.
#include <set>

#include "common.h"

using namespace rob;

namespace {

// Kernel-side UDP receive-buffer overflows (Udp RcvbufErrors), system-wide.
long long rcvbuf_errors() {
    FILE* f = fopen("/proc/net/snmp", "r");
    if (!f) return -1;
    char line[1024];
    long long v = -1;
    int seen = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Udp:", 4) == 0 && ++seen == 2) {
            long long x[5];
            if (sscanf(line + 4, "%lld %lld %lld %lld %lld", &x[0], &x[1], &x[2], &x[3], &x[4]) == 5) v = x[4];
        }
    fclose(f);
    return v;
}

struct StreamResult {
    int sent = 0, received = 0, dups = 0, bad = 0;
    double secs = 0;
    double rate() const { return secs > 0 ? received / secs : 0; }
};

// B -> A: messages "s<id>:" + filler, at most `window` in flight.  Stops
// after `count` messages or `seconds`, whichever first.
StreamResult stream(Node& b, Node& a, int count, double seconds, int window = 512) {
    StreamResult r;
    std::vector<uint8_t> seen(static_cast<size_t>(count), 0);
    std::atomic<int> recvd{0};
    std::atomic<bool> done{false};
    std::atomic<int> dups{0}, bad{0};
    std::thread rx([&] {
        std::vector<uint8_t> buf(KNET_MAX_PACKET_SIZE);
        double last = now_s();
        while (!done || now_s() - last < 0.5) {
            ssize_t n = a.recv_one(buf.data(), buf.size(), 50);
            if (n <= 0) {
                if (done && now_s() - last >= 0.5) break;
                continue;
            }
            last = now_s();
            if (buf[0] != 's') continue;
            int id = atoi(reinterpret_cast<char*>(buf.data()) + 1);
            char want[96];
            int wl = snprintf(want, sizeof want, "s%d:%040d", id, id);
            if (id < 0 || id >= count || n != wl || memcmp(want, buf.data(), static_cast<size_t>(wl)) != 0) {
                bad++;
                continue;
            }
            if (seen[static_cast<size_t>(id)]++) dups++;
            else recvd++;
        }
    });
    const double t0 = now_s();
    int i = 0;
    int forgiven = 0;  // messages given up on after a stall (counted as lost)
    char msg[96];
    for (; i < count && now_s() - t0 < seconds; ++i) {
        double stall = now_s();
        while (i - recvd.load() - forgiven >= window) {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
            if (now_s() - stall > 0.3) {
                forgiven = i - recvd.load();
                break;
            }
        }
        int l = snprintf(msg, sizeof msg, "s%d:%040d", i, i);
        while (knet_send(b.h, msg, static_cast<size_t>(l), b.ch) != l) {
            if (now_s() - t0 > seconds + 5) break;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }
    r.sent = i;
    // wait for the tail
    wait_until([&] { return recvd.load() >= r.sent; }, 3);
    r.secs = now_s() - t0;
    done = true;
    rx.join();
    r.received = recvd;
    r.dups = dups;
    r.bad = bad;
    return r;
}

class Flood : public ::testing::Test {
protected:
    void SetUp() override {
        a = std::make_unique<Node>(1, 1, getenv("ROB_A_DEBUG") ? KNET_LOG_DEBUG : KNET_LOG_INFO);
        b = std::make_unique<Node>(2, 2, KNET_LOG_INFO);
        ASSERT_EQ(a->link(2, 0, 2), 0);
        ASSERT_EQ(b->link(1, 0, 1), 0);
        ASSERT_TRUE(wait_until([&] { return a->reachable(2) && b->reachable(1); }, 10));
    }
    void TearDown() override {
        b.reset();
        a.reset();
    }
    std::unique_ptr<Node> a, b;
};

TEST_F(Flood, LegitTrafficSurvivesGarbageFlood) {
    StreamResult base = stream(*b, *a, 1 << 22, 2.0);
    printf("baseline: %d sent, %d received, %.0f legit msgs/s\n", base.sent, base.received, base.rate());
    EXPECT_EQ(base.received, base.sent);

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> garbage{0};
    std::vector<std::thread> attackers;
    std::vector<std::unique_ptr<FakePeer>> socks;
    const int nattack = getenv("ROB_ATTACKERS") ? atoi(getenv("ROB_ATTACKERS")) : 1;
    for (int k = 0; k < nattack; ++k) socks.push_back(std::make_unique<FakePeer>(2, 4 + k, 0, 1, 0, false));
    for (int k = 0; k < nattack; ++k)
        attackers.emplace_back([&, k] {
            std::mt19937 g(1234 + k);
            std::vector<uint8_t> p(1500);
            uint64_t n = 0;
            while (!stop) {
                size_t len = 1 + g() % 1400;
                for (size_t j = 0; j < len; j += 4) {
                    uint32_t v = g();
                    memcpy(&p[j], &v, std::min<size_t>(4, len - j));
                }
                switch (n % 4) {
                case 0: break;  // random bytes
                case 1:         // valid-looking DATA claiming host 2
                    p[0] = 1, p[1] = 0, p[2] = 0, p[3] = 2, len = std::max<size_t>(len, 20);
                    break;
                case 2:  // PING claiming host 2 link 0
                    p[0] = 1, p[1] = 0x81, p[2] = 0, p[3] = 2, p[6] = 0, len = 26;
                    break;
                case 3:  // PONG claiming host 2
                    p[0] = 1, p[1] = 0x82, p[2] = 0, p[3] = 2, p[6] = 0, len = 26;
                    break;
                }
                socks[static_cast<size_t>(k)]->send_raw(p.data(), len);
                ++n;
            }
            garbage += n;
        });
    const long long k0 = rcvbuf_errors();
    StreamResult fl = stream(*b, *a, 1 << 22, 3.0);
    const long long kdrops = rcvbuf_errors() - k0;
    stop = true;
    for (auto& t : attackers) t.join();
    const double gps = static_cast<double>(garbage.load()) / fl.secs;
    printf("flood: %.0f garbage pkts/s from %d socket(s); legit %d sent, %d received, %.0f legit msgs/s "
           "(%.0f%% of baseline); %zu drop lines logged; kernel rcvbuf overflows %lld\n",
           gps, nattack, fl.sent, fl.received, fl.rate(), base.rate() > 0 ? 100.0 * fl.rate() / base.rate() : 0.0,
           a->log.count("dropped:"), kdrops);
    // Every legit message arrives.  The only tolerated loss is the kernel
    // dropping datagrams because A's socket buffer overflowed while the CPU
    // (2 cores here, shared with the attacker's busy loop and other tests) was
    // elsewhere: then at most 1%.
    if (kdrops <= 0)
        EXPECT_EQ(fl.received, fl.sent) << "legit messages lost under flood";
    else
        EXPECT_GE(fl.received, fl.sent - fl.sent / 100) << "legit messages lost under flood";
    EXPECT_EQ(fl.dups, 0);
    EXPECT_EQ(fl.bad, 0);
    EXPECT_GT(fl.received, 1000);
    EXPECT_TRUE(a->reachable(2));
    EXPECT_TRUE(b->reachable(1));
    // Still working afterwards.
    StreamResult after = stream(*b, *a, 2000, 5.0);
    EXPECT_EQ(after.received, 2000);
}

TEST_F(Flood, SequenceWrapAround) {
    const int n = 70000;
    StreamResult r = stream(*b, *a, n, 60.0);
    printf("wrap-around: %d sent, %d received, %d dups, %d bad, %.0f msgs/s\n", r.sent, r.received, r.dups,
           r.bad, r.rate());
    EXPECT_EQ(r.sent, n);
    EXPECT_EQ(r.received, n);
    EXPECT_EQ(r.dups, 0);
    EXPECT_EQ(r.bad, 0);
}

}  // namespace

ROB_MAIN()
