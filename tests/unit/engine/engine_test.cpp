#include <gtest/gtest.h>

#include <mutex>

#include "engine/engine.h"
#include "engine/state.h"
#include "net/address.h"

using namespace knet;

TEST(EngineSelection, PackedActiveLinksRoundTrip) {
    proto::ActiveLinks a;
    a.count = 3;
    a.ids = {7, 0, 5};
    a.reachable = true;
    uint64_t v = engine::pack_active(a);
    EXPECT_EQ(engine::active_count(v), 3);
    EXPECT_EQ(engine::active_id(v, 0), 7);
    EXPECT_EQ(engine::active_id(v, 1), 0);
    EXPECT_EQ(engine::active_id(v, 2), 5);
    EXPECT_EQ(engine::active_count(engine::pack_active(proto::ActiveLinks{})), 0);
}

TEST(Engine, StartsAndStopsWithAConfiguredLink) {
    core::Handle h(1, 0, KNET_LOG_ERR, 0);
    auto e = engine::Engine::start(h);
    ASSERT_TRUE(e.ok());
    {
        std::unique_lock lk(h.lock);
        core::Host* host = h.add_host(2);
        ASSERT_NE(host, nullptr);
        (*e)->host_added(*host);
        core::Link& l = host->links[0];
        ASSERT_TRUE(net::make_addr("127.0.0.1", 0, &l.src_addr));
        ASSERT_TRUE(net::make_addr("127.0.0.1", 9, &l.dst_addr));
        l.configured = true;
        ASSERT_TRUE((*e)->link_configured(*host, l).ok());
        EXPECT_TRUE(l.rt.transport_connected.load());
        EXPECT_GT(l.rt.mtu.load(), 0u);
        // A second link with the same source shares the socket.
        core::Link& l2 = host->links[1];
        l2.src_addr = l.src_addr;
        l2.dst_addr = l.dst_addr;
        l2.configured = true;
        ASSERT_TRUE((*e)->link_configured(*host, l2).ok());
        l.enabled = true;
        (*e)->link_changed(*host, l);
        EXPECT_FALSE(host->rt.reachable.load());  // no pong yet
        (*e)->link_cleared(*host, l2);
        (*e)->link_cleared(*host, l);
        (*e)->host_removed(*host);
        h.remove_host(2);
    }
    // knet_send_sync on an engine with nothing reachable never blocks.
    h.forwarding = true;
    auto st = (*e)->send_sync("x", 1, 0);
    EXPECT_FALSE(st.ok());
    e.value().reset();  // joins every thread
}
