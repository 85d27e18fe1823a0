#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "proto/fragment.h"

using namespace knet::proto;

TEST(Fragment, Count) {
    EXPECT_EQ(fragment_count(1, 482).value(), 1);
    EXPECT_EQ(fragment_count(482, 482).value(), 1);
    EXPECT_EQ(fragment_count(483, 482).value(), 2);
    EXPECT_EQ(fragment_count(3000, 482).value(), 7);  // as captured from the reference
    EXPECT_EQ(fragment_count(kMaxPacketSize, 1).error(), EMSGSIZE);
    EXPECT_EQ(fragment_count(254, 1).value(), 254);
    EXPECT_EQ(fragment_count(255, 1).error(), EMSGSIZE);  // 1.35 peers refuse 255
    EXPECT_EQ(fragment_count(kMaxPacketSize, 65536).value(), 1);
    EXPECT_EQ(fragment_count(kMaxPacketSize + 1, 65536).error(), EMSGSIZE);
    EXPECT_EQ(fragment_count(0, 100).error(), EINVAL);
    EXPECT_EQ(fragment_count(10, 0).error(), EINVAL);
}

TEST(Fragment, SingleFragmentHasSeqZero) {
    std::vector<uint8_t> data(100, 1);
    DataHeader base;
    base.seq = 77;
    base.bcast = 1;
    base.channel = 3;
    base.compress = 2;
    auto f = Fragmenter::make(base, data, 1000);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->count(), 1);
    Fragment x = (*f)[0];
    EXPECT_EQ(x.header.frag_num, 1);
    EXPECT_EQ(x.header.frag_seq, 0);
    EXPECT_EQ(x.header.seq, 77);
    EXPECT_EQ(x.header.channel, 3);
    EXPECT_EQ(x.header.compress, 2);
    EXPECT_EQ(x.payload.data(), data.data());  // no copy
    EXPECT_EQ(x.payload.size(), 100u);
}

TEST(Fragment, SplitsLikeReference) {
    std::vector<uint8_t> data(3000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
    DataHeader base;
    base.seq = 2;
    base.bcast = 1;
    auto f = Fragmenter::make(base, data, 482);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->count(), 7);
    size_t off = 0;
    for (uint8_t i = 0; i < f->count(); ++i) {
        Fragment x = (*f)[i];
        EXPECT_EQ(x.header.frag_num, 7);
        EXPECT_EQ(x.header.frag_seq, i + 1);  // 1-based
        EXPECT_EQ(x.header.seq, 2);
        EXPECT_EQ(x.header.bcast, 1);
        EXPECT_EQ(x.payload.data(), data.data() + off);
        EXPECT_EQ(x.payload.size(), i < 6 ? 482u : 108u);
        off += x.payload.size();
    }
    EXPECT_EQ(off, data.size());
    // Out of range index gives an empty fragment.
    EXPECT_TRUE((*f)[7].payload.empty());
}

TEST(Fragment, ExactMultiple) {
    std::vector<uint8_t> data(1000);
    auto f = Fragmenter::make(DataHeader{}, data, 250);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->count(), 4);
    EXPECT_EQ((*f)[3].payload.size(), 250u);
}

TEST(Fragment, MaxDatagram) {
    std::vector<uint8_t> data(kMaxPacketSize);
    auto f = Fragmenter::make(DataHeader{}, data, 1400);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->count(), 47);  // ceil(65536 / 1400)
    EXPECT_EQ((*f)[46].payload.size(), 65536u - 46u * 1400u);
    auto g = Fragmenter::make(DataHeader{}, data, 200);
    EXPECT_FALSE(g.ok());
    EXPECT_EQ(g.error(), EMSGSIZE);
}
