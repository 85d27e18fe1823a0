// Access lists under attack.  A (host 1, .1) has:
//   host 2: a real peer B (.2) on a DYNAMIC link (A learns B's address from
//           B's pings; ACL accepts only .2),
//   host 3: a dynamic link with no real peer: attacker sockets on .10 ...
//           .60 send valid PINGs claiming host 3 link 0.  Accepted source
//           <=> the attacker gets a PONG back; refused <=> an "ACL rejected"
//           line and no PONG,
//   host 4: a static link to .70.
// B -> A traffic flows during all rule changes and must all arrive.
#include <map>
#include <set>

#include "common.h"

using namespace rob;
using knet::proto::PacketType;

namespace {

class Acl : public ::testing::Test {
protected:
    void SetUp() override {
        a = std::make_unique<Node>(1, 1);
        b = std::make_unique<Node>(2, 2, KNET_LOG_INFO);
        ASSERT_EQ(knet_handle_enable_access_lists(a->h, 1), 0);
        ASSERT_EQ(a->link(2, 0, -1), 0);  // dynamic
        sockaddr_storage bss = net().addr(2);
        ASSERT_EQ(knet_link_add_acl(a->h, 2, 0, &bss, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), 0);
        ASSERT_EQ(b->link(1, 0, 1), 0);
        ASSERT_EQ(a->link(3, 0, -1), 0);  // dynamic, attackers only
        // static: a static and a dynamic link may not share a source address
        ASSERT_EQ(a->link(4, 0, 70, 0, true, 100), 0);
        ASSERT_TRUE(wait_until([&] { return a->reachable(2) && b->reachable(1); }, 10));
        // Legit stream B -> A in the background.
        traffic = std::thread([this] {
            char m[64];
            int i = 0;
            while (!stop) {
                int l = snprintf(m, sizeof m, "acl-legit-%d", i);
                if (b->send(m, static_cast<size_t>(l)) == l) ++i;
                std::this_thread::sleep_for(std::chrono::microseconds(500));
            }
            sent = i;
        });
        reader = std::thread([this] {
            std::vector<uint8_t> buf(70000);
            while (!stop_reader) {
                ssize_t n = a->recv_one(buf.data(), buf.size(), 50);
                if (n <= 0) continue;
                std::string s(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(n));
                if (s.rfind("acl-legit-", 0) == 0) {
                    std::lock_guard g(ids_m);
                    if (!ids.insert(atoi(s.c_str() + 10)).second) dups++;
                }
            }
        });
    }
    void TearDown() override {
        stop = true;
        if (traffic.joinable()) traffic.join();
        wait_until([&] { return static_cast<int>(nids()) >= sent.load(); }, 3);
        stop_reader = true;
        if (reader.joinable()) reader.join();
        if (!HasFailure()) {
            EXPECT_EQ(static_cast<int>(nids()), sent.load())
                << "legit traffic lost during ACL test; missing: " << missing();
            EXPECT_EQ(dups.load(), 0);
            printf("legit during ACL test: %d sent, %zu received\n", sent.load(), nids());
        }
        attackers.clear();
        b.reset();
        a.reset();
    }

    FakePeer& attacker(int last) {
        auto& p = attackers[last];
        if (!p) p = std::make_unique<FakePeer>(3, last, 0, 1, last >= 70 ? 100 : 0, false);
        return *p;
    }
    // Sends 3 PINGs claiming (host, link 0) from .last; true if a PONG came back.
    bool accepted(int last, knet_node_id_t host = 3) {
        FakePeer& p = attacker(last);
        const int before = p.pongs_seen();
        for (int i = 0; i < 3; ++i) p.send(p.ping_pkt(PacketType::Ping, host, 0, mono_ns()));
        return wait_until([&] { return p.pongs_seen() > before; }, 0.3);
    }
    size_t acl_drops(int last) {
        return a->log.count2("packet from " + net().ip(last) + ":", "dropped: ACL rejected");
    }
    sockaddr_storage ip(int last) { return net().addr(last); }

    std::unique_ptr<Node> a, b;
    std::map<int, std::unique_ptr<FakePeer>> attackers;
    std::thread traffic, reader;
    std::atomic<bool> stop{false}, stop_reader{false};
    std::atomic<int> sent{0}, dups{0};
    std::mutex ids_m;  // ids: filled by the reader thread, read by the test
    std::set<int> ids;
    std::string missing() {  // "a-b c ..." ranges of ids never received
        std::lock_guard g(ids_m);
        std::string out;
        for (int i = 0, n = sent.load(); i < n && out.size() < 400;) {
            if (ids.count(i)) { ++i; continue; }
            int j = i;
            while (j + 1 < n && !ids.count(j + 1)) ++j;
            out += std::to_string(i) + (j > i ? "-" + std::to_string(j) : "") + " ";
            i = j + 1;
        }
        return out;
    }
    size_t nids() {
        std::lock_guard g(ids_m);
        return ids.size();
    }
};

TEST_F(Acl, DynamicLinkRulesOrderAndChangesUnderTraffic) {
    // Enabled with no rule for host 3: everything refused.
    EXPECT_FALSE(accepted(10));
    EXPECT_GE(acl_drops(10), 1u);
    // A forbidden source claiming host 2 (the real peer): no effect.
    EXPECT_FALSE(accepted(11, 2));
    EXPECT_GE(acl_drops(11), 1u);
    EXPECT_TRUE(a->connected(2, 0));
    EXPECT_EQ(std::string(a->lstatus(2, 0).dst_ipaddr), net().ip(2)) << "forbidden source was learned";

    // address rule
    sockaddr_storage s10 = ip(10), s11 = ip(11);
    ASSERT_EQ(knet_link_add_acl(a->h, 3, 0, &s10, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), 0);
    EXPECT_TRUE(accepted(10));
    EXPECT_FALSE(accepted(12));
    EXPECT_EQ(knet_link_add_acl(a->h, 3, 0, &s10, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), -1);
    EXPECT_EQ(errno, EEXIST);

    // mask rule: 127.x.y.16/28 = .16 ... .31
    sockaddr_storage s16 = ip(16), mask = net().addr(0);
    inet_pton(AF_INET, "255.255.255.240", &reinterpret_cast<sockaddr_in*>(&mask)->sin_addr);
    ASSERT_EQ(knet_link_add_acl(a->h, 3, 0, &s16, &mask, CHECK_TYPE_MASK, CHECK_ACCEPT), 0);
    EXPECT_TRUE(accepted(20));
    EXPECT_TRUE(accepted(31));
    EXPECT_FALSE(accepted(32));

    // range rule .40 - .50
    sockaddr_storage s40 = ip(40), s50 = ip(50);
    ASSERT_EQ(knet_link_add_acl(a->h, 3, 0, &s40, &s50, CHECK_TYPE_RANGE, CHECK_ACCEPT), 0);
    EXPECT_TRUE(accepted(45));
    EXPECT_TRUE(accepted(50));
    EXPECT_FALSE(accepted(51));

    // a reject inserted at index 0 overrides the mask accept for .20
    sockaddr_storage s20 = ip(20);
    ASSERT_EQ(knet_link_insert_acl(a->h, 3, 0, 0, &s20, nullptr, CHECK_TYPE_ADDRESS, CHECK_REJECT), 0);
    const size_t d20 = acl_drops(20);
    EXPECT_FALSE(accepted(20));
    EXPECT_GT(acl_drops(20), d20);
    EXPECT_TRUE(accepted(21));
    // the same reject appended after the accept has no effect
    ASSERT_EQ(knet_link_rm_acl(a->h, 3, 0, &s20, nullptr, CHECK_TYPE_ADDRESS, CHECK_REJECT), 0);
    EXPECT_TRUE(accepted(20));
    ASSERT_EQ(knet_link_add_acl(a->h, 3, 0, &s20, nullptr, CHECK_TYPE_ADDRESS, CHECK_REJECT), 0);
    EXPECT_TRUE(accepted(20));
    // reject range first: .45 now refused
    ASSERT_EQ(knet_link_insert_acl(a->h, 3, 0, 0, &s40, &s50, CHECK_TYPE_RANGE, CHECK_REJECT), 0);
    EXPECT_FALSE(accepted(45));
    // rm of a rule that is not there
    EXPECT_EQ(knet_link_rm_acl(a->h, 3, 0, &s11, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), -1);

    // clear: all refused again
    ASSERT_EQ(knet_link_clear_acl(a->h, 3, 0), 0);
    EXPECT_FALSE(accepted(10));
    EXPECT_FALSE(accepted(25));

    // Churn: rules added/removed in a loop while attackers ping and B streams.
    std::atomic<bool> churn_stop{false};
    std::thread churn([&] {
        int k = 0;
        while (!churn_stop) {
            knet_link_add_acl(a->h, 3, 0, &s16, &mask, CHECK_TYPE_MASK, CHECK_ACCEPT);
            knet_link_insert_acl(a->h, 3, 0, 0, &s20, nullptr, CHECK_TYPE_ADDRESS, CHECK_REJECT);
            knet_link_rm_acl(a->h, 3, 0, &s16, &mask, CHECK_TYPE_MASK, CHECK_ACCEPT);
            if (++k % 8 == 0) knet_link_clear_acl(a->h, 3, 0);
            // host 2's list changes too (a /30 accept around .2 comes and
            // goes; its address rule stays, so B must never be refused)
            sockaddr_storage bss = net().addr(0), m30 = net().addr(0);
            inet_pton(AF_INET, "255.255.255.252", &reinterpret_cast<sockaddr_in*>(&m30)->sin_addr);
            knet_link_insert_acl(a->h, 2, 0, 0, &bss, &m30, CHECK_TYPE_MASK, CHECK_ACCEPT);
            knet_link_rm_acl(a->h, 2, 0, &bss, &m30, CHECK_TYPE_MASK, CHECK_ACCEPT);
        }
    });
    for (int i = 0; i < 30; ++i) {
        (void)accepted(16 + i % 16);
        attacker(11).send(attacker(11).ping_pkt(PacketType::Ping, 2, 0, mono_ns()));
    }
    churn_stop = true;
    churn.join();
    // Every forged ping from .11 (3 above, 30 in the loop) must have been
    // refused before the lists go off below; one still queued would then be
    // accepted and steal B's dynamic link.
    EXPECT_TRUE(wait_until([&] { return acl_drops(11) >= 33; }, 5)) << acl_drops(11);
    EXPECT_EQ(std::string(a->lstatus(2, 0).dst_ipaddr), net().ip(2)) << "forbidden source was learned";

    // Access lists off: anything goes (dynamic link learns the source).
    ASSERT_EQ(knet_handle_enable_access_lists(a->h, 0), 0);
    EXPECT_TRUE(accepted(55));
    ASSERT_EQ(knet_handle_enable_access_lists(a->h, 1), 0);
}

TEST_F(Acl, StaticLinkOnlyItsPeer) {
    // .70 is host 4's configured peer: its pings are answered.
    EXPECT_TRUE(accepted(70, 4));
    // Others claiming host 4 are refused (implicit rule / forged source).
    const size_t d = acl_drops(71);
    EXPECT_FALSE(accepted(71, 4));
    EXPECT_GT(acl_drops(71) + a->log.count2(net().ip(71) + ":", "dropped: forged source"), d);
    // A static link's list cannot be edited (the reference: EINVAL, "point
    // to point connection").
    sockaddr_storage s71 = ip(71), s70 = ip(70);
    EXPECT_EQ(knet_link_add_acl(a->h, 4, 0, &s71, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(knet_link_insert_acl(a->h, 4, 0, 0, &s70, nullptr, CHECK_TYPE_ADDRESS, CHECK_REJECT), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(knet_link_clear_acl(a->h, 4, 0), -1);
    EXPECT_FALSE(accepted(71, 4));
    EXPECT_TRUE(accepted(70, 4));
    // Access lists off: the static link still only talks to its peer.
    ASSERT_EQ(knet_handle_enable_access_lists(a->h, 0), 0);
    EXPECT_FALSE(accepted(71, 4));
    EXPECT_TRUE(accepted(70, 4));
}

}  // namespace

ROB_MAIN()
