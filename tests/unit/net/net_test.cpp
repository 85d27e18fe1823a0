#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "net/address.h"
#include "net/batch.h"
#include "net/socket_table.h"
#include "net/udp.h"

using namespace knet::net;

namespace {

sockaddr_storage bound_addr(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return ss;
}

class Families : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST(Address, CompareAndFormat) {
    sockaddr_storage a, b, c, d;
    ASSERT_TRUE(make_addr("127.0.0.1", 5000, &a));
    ASSERT_TRUE(make_addr("127.0.0.1", 5000, &b));
    ASSERT_TRUE(make_addr("127.0.0.1", 5001, &c));
    ASSERT_TRUE(make_addr("::1", 5000, &d));
    EXPECT_EQ(sockaddr_len(a), sizeof(sockaddr_in));
    EXPECT_EQ(sockaddr_len(d), sizeof(sockaddr_in6));
    EXPECT_TRUE(same_endpoint(a, b));
    EXPECT_FALSE(same_endpoint(a, c));
    EXPECT_TRUE(same_ip(a, c));
    EXPECT_FALSE(same_ip(a, d));
    sockaddr_storage unset{};
    EXPECT_FALSE(same_endpoint(unset, unset));
    char buf[kAddrStrLen];
    EXPECT_STREQ(format(a, buf), "127.0.0.1:5000");
    EXPECT_STREQ(format(d, buf), "[::1]:5000");
    EXPECT_EQ(port_of(c), 5001u);
    EXPECT_FALSE(make_addr("not-an-ip", 1, &a));
}

TEST(Udp, SendErrorClassification) {
    EXPECT_EQ(classify_send_error(EAGAIN), SendErrorAction::Retry);
    EXPECT_EQ(classify_send_error(ENOBUFS), SendErrorAction::Retry);
    EXPECT_EQ(classify_send_error(ENETUNREACH), SendErrorAction::Unreachable);
    EXPECT_EQ(classify_send_error(EMSGSIZE), SendErrorAction::Ignore);
}

TEST_P(Families, OpenBindAndBatchRoundTrip) {
    sockaddr_storage any;
    ASSERT_TRUE(make_addr(GetParam(), 0, &any));
    auto s1 = open_udp(any, 0, nullptr);
    auto s2 = open_udp(any, KNET_LINK_FLAG_TRAFFICHIPRIO, nullptr);
    ASSERT_TRUE(s1.ok()) << strerror(s1.error());
    ASSERT_TRUE(s2.ok()) << strerror(s2.error());
    sockaddr_storage a1 = bound_addr(s1->get()), a2 = bound_addr(s2->get());
    EXPECT_NE(port_of(a1), 0u);

    // The socket is bound: a second bind of the same port fails.
    auto dup = open_udp(a1, 0, nullptr);
    EXPECT_FALSE(dup.ok());
    EXPECT_EQ(dup.error(), EADDRINUSE);

    int rcv = 0;
    socklen_t len = sizeof rcv;
    getsockopt(s1->get(), SOL_SOCKET, SO_RCVBUF, &rcv, &len);
    EXPECT_GT(rcv, 200 * 1024);  // sized for bursts (capped by rmem_max without privileges)

    SendBatch tx(64);
    uint8_t hdr[4] = {1, 2, 3, 4};
    uint8_t body[1000];
    for (size_t i = 0; i < sizeof body; ++i) body[i] = static_cast<uint8_t>(i);
    int tags = 0;
    for (int i = 0; i < 40; ++i) {
        iovec iov[2] = {{hdr, sizeof hdr}, {body, static_cast<size_t>(i * 10)}};
        ASSERT_TRUE(tx.add(s1->get(), &a2, sockaddr_len(a2), iov, 2, &tags));
    }
    int sent = 0;
    tx.flush([&](void* tag, size_t bytes, int err, int) {
        EXPECT_EQ(tag, &tags);
        EXPECT_EQ(err, 0);
        EXPECT_GE(bytes, sizeof hdr);
        ++sent;
    });
    EXPECT_EQ(sent, 40);

    RecvBatch rx(16, 2048);
    int got = 0;
    for (int round = 0; round < 100 && got < 40; ++round) {
        int n = rx.receive(s2->get());
        ASSERT_GE(n, 0);
        for (int i = 0; i < n; ++i) {
            auto d = rx.data(static_cast<size_t>(i));
            ASSERT_EQ(d.size(), sizeof hdr + static_cast<size_t>(got * 10));
            EXPECT_EQ(0, memcmp(d.data(), hdr, sizeof hdr));
            EXPECT_TRUE(same_endpoint(rx.from(static_cast<size_t>(i)), a1));
            ++got;
        }
    }
    EXPECT_EQ(got, 40);
    EXPECT_EQ(rx.receive(s2->get()), 0);  // empty: no error
}

// Equal-size datagrams to one destination leave as one GSO message and may
// arrive coalesced (UDP_GRO): split by the segment size they must be the
// same datagrams, in order, with their boundaries; a cancelled entry is
// neither sent nor counted as sent.
TEST_P(Families, GsoGroupsArriveAsTheSameDatagramsAndCancelRemovesOne) {
    sockaddr_storage any;
    ASSERT_TRUE(make_addr(GetParam(), 0, &any));
    auto s1 = open_udp(any, 0, nullptr);
    auto s2 = open_udp(any, 0, nullptr);
    ASSERT_TRUE(s1.ok() && s2.ok());
    sockaddr_storage a2 = bound_addr(s2->get());

    constexpr int kCount = 12;
    static uint8_t bodies[kCount][500];
    SendBatch tx(64);
    int tag = 0;
    for (int i = 0; i < kCount; ++i) {
        const size_t len = i == kCount - 1 ? 300 : 500;  // a shorter one ends the group
        memset(bodies[i], 'a' + i, len);
        iovec iov{bodies[i], len};
        ASSERT_TRUE(tx.add(s1->get(), &a2, sockaddr_len(a2), &iov, 1, &tag));
    }
    int cancelled = 0;
    tx.cancel(bodies[4], [&](void*, size_t bytes, int err, int) {
        EXPECT_EQ(err, EIO);
        EXPECT_EQ(bytes, 500u);
        ++cancelled;
    });
    EXPECT_EQ(cancelled, 1);
    EXPECT_EQ(tx.size(), static_cast<size_t>(kCount - 1));
    int sent = 0;
    tx.flush([&](void*, size_t, int err, int) {
        EXPECT_EQ(err, 0);
        ++sent;
    });
    EXPECT_EQ(sent, kCount - 1);

    RecvBatch rx(16, 65536 + 1024);
    std::vector<std::vector<uint8_t>> got;
    for (int round = 0; round < 200 && got.size() < static_cast<size_t>(kCount - 1); ++round) {
        int n = rx.receive(s2->get());
        ASSERT_GE(n, 0);
        for (int i = 0; i < n; ++i) {
            auto all = rx.data(static_cast<size_t>(i));
            size_t seg = rx.gso_size(static_cast<size_t>(i));
            if (seg == 0 || seg >= all.size()) seg = all.size();
            for (size_t off = 0; off < all.size(); off += seg) {
                const size_t len = std::min(seg, all.size() - off);
                got.emplace_back(all.begin() + static_cast<long>(off),
                                 all.begin() + static_cast<long>(off + len));
            }
        }
    }
    ASSERT_EQ(got.size(), static_cast<size_t>(kCount - 1));
    int k = 0;
    for (int i = 0; i < kCount; ++i) {
        if (i == 4) continue;
        const size_t len = i == kCount - 1 ? 300 : 500;
        ASSERT_EQ(got[static_cast<size_t>(k)].size(), len) << "datagram " << i;
        EXPECT_EQ(0, memcmp(got[static_cast<size_t>(k)].data(), bodies[i], len)) << "datagram " << i;
        ++k;
    }
}

TEST_P(Families, OversizeSendFailsWithEmsgsize) {
    sockaddr_storage any;
    ASSERT_TRUE(make_addr(GetParam(), 0, &any));
    auto s = open_udp(any, 0, nullptr);
    ASSERT_TRUE(s.ok());
    sockaddr_storage self = bound_addr(s->get());
    static uint8_t big[70000];
    ssize_t r = sendto(s->get(), big, sizeof big, 0, reinterpret_cast<sockaddr*>(&self), sockaddr_len(self));
    EXPECT_EQ(r, -1);
    EXPECT_EQ(errno, EMSGSIZE);
}

TEST_P(Families, SocketTableSharesBySourceAddress) {
    sockaddr_storage any;
    ASSERT_TRUE(make_addr(GetParam(), 0, &any));
    auto probe = open_udp(any, 0, nullptr);
    ASSERT_TRUE(probe.ok());
    sockaddr_storage fixed = bound_addr(probe->get());
    probe->reset();

    SocketTable t;
    auto a = t.acquire(fixed, 0, nullptr);
    ASSERT_TRUE(a.ok()) << strerror(a.error());
    EXPECT_TRUE(a->created);
    auto b = t.acquire(fixed, 0, nullptr);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b->created);
    EXPECT_EQ(a->fd, b->fd);
    EXPECT_EQ(t.users(a->fd), 2);
    EXPECT_FALSE(t.release(a->fd));
    EXPECT_TRUE(t.release(a->fd));
    EXPECT_FALSE(t.contains(a->fd));
    EXPECT_EQ(t.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(V4V6, Families, ::testing::Values("127.0.0.1", "::1"));
