#include "core/acl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

using knet::core::acl_accepts;
using knet::core::acl_find;
using knet::core::acl_insert;
using knet::core::acl_remove;
using knet::core::AclRule;

namespace {

sockaddr_storage v4(const char* ip, uint16_t port = 0) {
    sockaddr_storage ss{};
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    EXPECT_EQ(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    return ss;
}

sockaddr_storage v6(const char* ip, uint16_t port = 0) {
    sockaddr_storage ss{};
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    EXPECT_EQ(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
    return ss;
}

std::vector<AclRule> rules;

class Acl : public ::testing::Test {
protected:
    void SetUp() override { rules.clear(); }
    void add(const sockaddr_storage& a, const sockaddr_storage* b, check_type_t t,
             check_acceptreject_t act) {
        ASSERT_TRUE(acl_insert(rules, -1, a, b, t, act).ok());
    }
};

TEST_F(Acl, EmptyListRejects) {
    EXPECT_FALSE(acl_accepts(rules, v4("10.0.0.1")));
    EXPECT_FALSE(acl_accepts(rules, v6("::1")));
}

TEST_F(Acl, AddressIgnoresPort) {
    add(v4("10.0.0.1", 5405), nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT);
    EXPECT_TRUE(acl_accepts(rules, v4("10.0.0.1", 1234)));
    EXPECT_FALSE(acl_accepts(rules, v4("10.0.0.2", 5405)));
}

TEST_F(Acl, MaskComparesMaskedSourceWithAddress) {
    const auto mask = v4("255.255.255.0");
    add(v4("192.168.1.0"), &mask, CHECK_TYPE_MASK, CHECK_ACCEPT);
    EXPECT_TRUE(acl_accepts(rules, v4("192.168.1.77")));
    EXPECT_FALSE(acl_accepts(rules, v4("192.168.2.77")));
}

TEST_F(Acl, MaskAddressIsNotMaskedFirst) {
    // As libknet: ss1 with host bits set never matches anything.
    const auto mask = v4("255.255.255.0");
    add(v4("192.168.1.5"), &mask, CHECK_TYPE_MASK, CHECK_ACCEPT);
    EXPECT_FALSE(acl_accepts(rules, v4("192.168.1.5")));
}

TEST_F(Acl, RangeIsNumericAndInclusive) {
    const auto hi = v4("10.0.1.10");
    add(v4("10.0.0.250"), &hi, CHECK_TYPE_RANGE, CHECK_ACCEPT);
    EXPECT_TRUE(acl_accepts(rules, v4("10.0.0.250")));
    EXPECT_TRUE(acl_accepts(rules, v4("10.0.1.3")));
    EXPECT_TRUE(acl_accepts(rules, v4("10.0.1.10")));
    EXPECT_FALSE(acl_accepts(rules, v4("10.0.1.11")));
    EXPECT_FALSE(acl_accepts(rules, v4("10.0.0.249")));
}

TEST_F(Acl, FirstMatchWins) {
    const auto mask = v4("255.0.0.0");
    add(v4("10.0.0.1"), nullptr, CHECK_TYPE_ADDRESS, CHECK_REJECT);
    add(v4("10.0.0.0"), &mask, CHECK_TYPE_MASK, CHECK_ACCEPT);
    EXPECT_FALSE(acl_accepts(rules, v4("10.0.0.1")));
    EXPECT_TRUE(acl_accepts(rules, v4("10.9.9.9")));
    // Inserting an accept in front flips the decision for 10.0.0.1.
    ASSERT_TRUE(acl_insert(rules, 0, v4("10.0.0.1"), nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT).ok());
    EXPECT_TRUE(acl_accepts(rules, v4("10.0.0.1")));
}

TEST_F(Acl, Ipv6AllTypes) {
    const auto mask = v6("ffff:ffff::");
    const auto hi = v6("fd00::ff");
    add(v6("fd00::1"), nullptr, CHECK_TYPE_ADDRESS, CHECK_REJECT);
    add(v6("fd00::"), &hi, CHECK_TYPE_RANGE, CHECK_ACCEPT);
    add(v6("2001:db8::"), &mask, CHECK_TYPE_MASK, CHECK_ACCEPT);
    EXPECT_FALSE(acl_accepts(rules, v6("fd00::1")));
    EXPECT_TRUE(acl_accepts(rules, v6("fd00::80")));
    EXPECT_FALSE(acl_accepts(rules, v6("fd00::100")));
    EXPECT_TRUE(acl_accepts(rules, v6("2001:db8:1234::1")));
    EXPECT_FALSE(acl_accepts(rules, v6("2001:db9::1")));
}

TEST_F(Acl, OtherFamilyNeverMatches) {
    add(v4("0.0.0.0"), nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT);
    const auto all4 = v4("255.255.255.255");
    add(v4("0.0.0.0"), &all4, CHECK_TYPE_RANGE, CHECK_ACCEPT);
    EXPECT_FALSE(acl_accepts(rules, v6("::")));
    EXPECT_TRUE(acl_accepts(rules, v4("1.2.3.4")));
}

TEST_F(Acl, InsertPositions) {
    const auto a = v4("1.1.1.1"), b = v4("2.2.2.2"), c = v4("3.3.3.3"), d = v4("4.4.4.4");
    add(a, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT);
    add(c, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT);
    ASSERT_TRUE(acl_insert(rules, 1, b, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT).ok());
    ASSERT_TRUE(acl_insert(rules, 99, d, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT).ok());
    ASSERT_EQ(rules.size(), 4u);
    EXPECT_EQ(acl_find(rules, a, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), 0);
    EXPECT_EQ(acl_find(rules, b, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), 1);
    EXPECT_EQ(acl_find(rules, c, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), 2);
    EXPECT_EQ(acl_find(rules, d, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), 3);
}

TEST_F(Acl, DuplicatesAndRemoval) {
    const auto mask = v4("255.255.0.0"), mask2 = v4("255.0.0.0");
    add(v4("10.1.0.0"), &mask, CHECK_TYPE_MASK, CHECK_ACCEPT);
    EXPECT_EQ(acl_insert(rules, -1, v4("10.1.0.0"), &mask, CHECK_TYPE_MASK, CHECK_ACCEPT).error(),
              EEXIST);
    // Same addresses, other action or other mask: distinct rules.
    add(v4("10.1.0.0"), &mask, CHECK_TYPE_MASK, CHECK_REJECT);
    add(v4("10.1.0.0"), &mask2, CHECK_TYPE_MASK, CHECK_ACCEPT);
    EXPECT_EQ(rules.size(), 3u);
    EXPECT_EQ(acl_remove(rules, v4("10.1.0.0"), &mask2, CHECK_TYPE_MASK, CHECK_REJECT).error(),
              ENOENT);
    EXPECT_TRUE(acl_remove(rules, v4("10.1.0.0"), &mask, CHECK_TYPE_MASK, CHECK_REJECT).ok());
    EXPECT_EQ(rules.size(), 2u);
    EXPECT_EQ(acl_remove(rules, v4("10.1.0.0"), nullptr, CHECK_TYPE_MASK, CHECK_ACCEPT).error(),
              ENOENT);
}

TEST_F(Acl, StoredCopiesAreCanonical) {
    // Garbage past the meaningful bytes of a sockaddr_in must not matter.
    sockaddr_storage dirty = v4("5.5.5.5");
    std::memset(reinterpret_cast<char*>(&dirty) + sizeof(sockaddr_in), 0x7f,
                sizeof(dirty) - sizeof(sockaddr_in));
    add(dirty, nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT);
    EXPECT_EQ(acl_find(rules, v4("5.5.5.5"), nullptr, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), 0);
}

}  // namespace
