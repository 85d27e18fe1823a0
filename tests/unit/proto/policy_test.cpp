// Link selection policies.
#include "proto/policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace knet::proto {
namespace {

LinkCandidate up(uint8_t id, uint8_t prio = 0) {
    LinkCandidate c;
    c.link_id = id;
    c.configured = true;
    c.enabled = true;
    c.connected = true;
    c.priority = prio;
    return c;
}

std::vector<uint8_t> ids(const ActiveLinks& a) {
    return {a.links().begin(), a.links().end()};
}

std::vector<uint8_t> ids(std::span<const uint8_t> s) {
    return {s.begin(), s.end()};
}

TEST(Policy, NoLinksUnreachable) {
    for (LinkPolicy p : {LinkPolicy::Passive, LinkPolicy::Active, LinkPolicy::RoundRobin}) {
        ActiveLinks a = select_links(p, {});
        EXPECT_TRUE(a.empty());
        EXPECT_FALSE(a.reachable);
        EXPECT_TRUE(links_for_packet(p, a).empty());
    }
}

TEST(Policy, UsableNeedsConfiguredEnabledConnectedValidMtu) {
    LinkCandidate base = up(0);
    EXPECT_TRUE(link_usable(base));
    LinkCandidate c = base;
    c.configured = false;
    EXPECT_FALSE(link_usable(c));
    c = base;
    c.enabled = false;
    EXPECT_FALSE(link_usable(c));
    c = base;
    c.connected = false;
    EXPECT_FALSE(link_usable(c));
    c = base;
    c.has_valid_mtu = false;
    EXPECT_FALSE(link_usable(c));

    std::vector<LinkCandidate> links{c};
    for (LinkPolicy p : {LinkPolicy::Passive, LinkPolicy::Active, LinkPolicy::RoundRobin}) {
        EXPECT_FALSE(select_links(p, links).reachable);
    }
}

TEST(Policy, PassivePicksHighestPriority) {
    std::vector<LinkCandidate> links{up(0, 10), up(1, 30), up(2, 20)};
    ActiveLinks a = select_links(LinkPolicy::Passive, links);
    EXPECT_EQ(ids(a), std::vector<uint8_t>{1});
    EXPECT_TRUE(a.reachable);
    EXPECT_EQ(ids(links_for_packet(LinkPolicy::Passive, a)), std::vector<uint8_t>{1});
}

TEST(Policy, PassiveTieGoesToLowestLinkId) {
    std::vector<LinkCandidate> links{up(5, 7), up(3, 7), up(6, 7)};
    EXPECT_EQ(ids(select_links(LinkPolicy::Passive, links)), std::vector<uint8_t>{3});
    std::vector<LinkCandidate> zero{up(4, 0), up(2, 0)};
    EXPECT_EQ(ids(select_links(LinkPolicy::Passive, zero)), std::vector<uint8_t>{2});
}

TEST(Policy, PassiveFailoverAndFailback) {
    std::vector<LinkCandidate> links{up(0, 1), up(1, 2)};
    EXPECT_EQ(ids(select_links(LinkPolicy::Passive, links)), std::vector<uint8_t>{1});
    links[1].connected = false;  // best link dies
    ActiveLinks a = select_links(LinkPolicy::Passive, links);
    EXPECT_EQ(ids(a), std::vector<uint8_t>{0});
    EXPECT_TRUE(a.reachable);
    links[0].connected = false;  // all down
    a = select_links(LinkPolicy::Passive, links);
    EXPECT_TRUE(a.empty());
    EXPECT_FALSE(a.reachable);
    links[0].connected = true;
    links[1].connected = true;  // best link back: fail back to it
    EXPECT_EQ(ids(select_links(LinkPolicy::Passive, links)), std::vector<uint8_t>{1});
    links[1].enabled = false;  // administratively disabled
    EXPECT_EQ(ids(select_links(LinkPolicy::Passive, links)), std::vector<uint8_t>{0});
    links[1].enabled = true;
    links[1].has_valid_mtu = false;  // PMTUd failed on it
    EXPECT_EQ(ids(select_links(LinkPolicy::Passive, links)), std::vector<uint8_t>{0});
}

TEST(Policy, ActiveUsesAllUsableLinksInIdOrder) {
    std::vector<LinkCandidate> links{up(7), up(2), up(4), up(0)};
    links[2].connected = false;  // link 4
    ActiveLinks a = select_links(LinkPolicy::Active, links);
    EXPECT_EQ(ids(a), (std::vector<uint8_t>{0, 2, 7}));
    EXPECT_TRUE(a.reachable);
    EXPECT_EQ(ids(links_for_packet(LinkPolicy::Active, a)), (std::vector<uint8_t>{0, 2, 7}));
    // rotation is only for RR
    rotate_after_send(LinkPolicy::Active, a);
    EXPECT_EQ(ids(a), (std::vector<uint8_t>{0, 2, 7}));
}

TEST(Policy, ActiveFailoverAndFailback) {
    std::vector<LinkCandidate> links{up(0), up(1)};
    links[0].connected = false;
    EXPECT_EQ(ids(select_links(LinkPolicy::Active, links)), std::vector<uint8_t>{1});
    links[0].connected = true;
    EXPECT_EQ(ids(select_links(LinkPolicy::Active, links)), (std::vector<uint8_t>{0, 1}));
}

TEST(Policy, RoundRobinRotatesPerPacket) {
    std::vector<LinkCandidate> links{up(5), up(0), up(2)};
    ActiveLinks a = select_links(LinkPolicy::RoundRobin, links);
    EXPECT_EQ(ids(a), (std::vector<uint8_t>{0, 2, 5}));
    std::vector<uint8_t> used;
    for (int i = 0; i < 7; ++i) {
        std::span<const uint8_t> l = links_for_packet(LinkPolicy::RoundRobin, a);
        ASSERT_EQ(l.size(), 1u);
        used.push_back(l[0]);
        rotate_after_send(LinkPolicy::RoundRobin, a);
    }
    EXPECT_EQ(used, (std::vector<uint8_t>{0, 2, 5, 0, 2, 5, 0}));
}

TEST(Policy, RoundRobinDoesNotRotateWithoutSuccessfulSend) {
    std::vector<LinkCandidate> links{up(0), up(1)};
    ActiveLinks a = select_links(LinkPolicy::RoundRobin, links);
    // the caller only rotates after a successful send: a failed send keeps
    // the same first link
    EXPECT_EQ(links_for_packet(LinkPolicy::RoundRobin, a)[0], 0);
    EXPECT_EQ(links_for_packet(LinkPolicy::RoundRobin, a)[0], 0);
    rotate_after_send(LinkPolicy::RoundRobin, a);
    EXPECT_EQ(links_for_packet(LinkPolicy::RoundRobin, a)[0], 1);
}

TEST(Policy, RoundRobinSingleLinkAndFailover) {
    std::vector<LinkCandidate> links{up(0), up(3)};
    links[1].connected = false;
    ActiveLinks a = select_links(LinkPolicy::RoundRobin, links);
    rotate_after_send(LinkPolicy::RoundRobin, a);
    EXPECT_EQ(ids(a), std::vector<uint8_t>{0});
    links[1].connected = true;  // failback: a fresh selection restarts at link 0
    a = select_links(LinkPolicy::RoundRobin, links);
    EXPECT_EQ(ids(a), (std::vector<uint8_t>{0, 3}));
}

TEST(Policy, LoopbackHostAlwaysReachable) {
    LinkCandidate lo;
    lo.link_id = 2;
    lo.configured = true;
    lo.is_loopback = true;  // not enabled nor connected: still used
    for (LinkPolicy p : {LinkPolicy::Passive, LinkPolicy::Active, LinkPolicy::RoundRobin}) {
        ActiveLinks a = select_links(p, std::span<const LinkCandidate>(&lo, 1));
        EXPECT_EQ(ids(a), std::vector<uint8_t>{2});
        EXPECT_TRUE(a.reachable);
    }
}

TEST(Policy, IgnoresOutOfRangeAndDuplicateIds) {
    std::vector<LinkCandidate> links{up(9, 100), up(1, 1), up(1, 50)};
    links[1].connected = false;  // first occurrence of id 1 wins: not usable
    ActiveLinks a = select_links(LinkPolicy::Active, links);
    EXPECT_TRUE(a.empty());
    EXPECT_FALSE(a.reachable);
}

TEST(Policy, AllEightLinks) {
    std::vector<LinkCandidate> links;
    for (uint8_t i = 0; i < kMaxLinks; ++i) {
        links.push_back(up(i, static_cast<uint8_t>(i * 3 % 8)));
    }
    EXPECT_EQ(select_links(LinkPolicy::Active, links).count, kMaxLinks);
    // priorities: 0,3,6,1,4,7,2,5 -> link 5 has 7
    EXPECT_EQ(ids(select_links(LinkPolicy::Passive, links)), std::vector<uint8_t>{5});
}

}  // namespace
}  // namespace knet::proto
