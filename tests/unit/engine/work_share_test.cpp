// WorkSharer: every index exactly once, on more than one thread when there
// is work for several, serially without helpers, and reusable many times.
#include "engine/work_share.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace knet::engine {
namespace {

TEST(WorkSharer, EveryIndexExactlyOnce) {
    WorkSharer ws(2);
    for (size_t n : {0u, 1u, 2u, 3u, 17u, 512u}) {
        std::vector<std::atomic<int>> hits(n);
        ws.run(n, [&](size_t i) { hits[i].fetch_add(1); });
        for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
    }
}

TEST(WorkSharer, NoHelpersRunsOnCallerInOrder) {
    WorkSharer ws(0);
    std::vector<size_t> order;
    const auto me = std::this_thread::get_id();
    bool other_thread = false;
    ws.run(10, [&](size_t i) {
        order.push_back(i);
        if (std::this_thread::get_id() != me) other_thread = true;
    });
    EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_FALSE(other_thread);
    EXPECT_EQ(ws.helpers_started(), 0u);
}

// per_call(): an even share per thread, within [lo, hi].
TEST(WorkSharer, PerCallSplitsEvenlyWithinBounds) {
    WorkSharer two(1), alone(0);  // 2 threads, 1 thread
    EXPECT_EQ(two.per_call(32, 2, 8), 8u);  // 16 each, capped
    EXPECT_EQ(two.per_call(10, 2, 8), 5u);
    EXPECT_EQ(two.per_call(3, 2, 8), 2u);   // ceil(3 / 2)
    EXPECT_EQ(two.per_call(1, 2, 8), 2u);   // at least lo
    EXPECT_EQ(two.per_call(5, 1, 1), 1u);
    EXPECT_EQ(alone.per_call(6, 1, 8), 6u);
    EXPECT_EQ(alone.per_call(0, 1, 8), 1u);
}

// per_call() with a full-speed batch: no call below it when n allows.
TEST(WorkSharer, PerCallKeepsCallsAtTheFullSpeedBatch) {
    WorkSharer two(1), alone(0);
    EXPECT_EQ(two.per_call(20, 2, 16, 12), 16u);  // 16 + 4, not 10 + 10
    EXPECT_EQ(two.per_call(14, 2, 16, 12), 16u);  // one call of 14, not 7 + 7
    EXPECT_EQ(two.per_call(23, 2, 16, 12), 16u);  // 16 + 7, not 12 + 11
    EXPECT_EQ(two.per_call(24, 2, 16, 12), 12u);  // 12 + 12: both full speed
    EXPECT_EQ(two.per_call(32, 2, 16, 12), 16u);
    EXPECT_EQ(two.per_call(26, 2, 16, 12), 13u);
    EXPECT_EQ(two.per_call(40, 2, 16, 12), 16u);  // 16 + 16 + 8: capped anyway
    EXPECT_EQ(two.per_call(11, 2, 16, 12), 6u);   // too few for full speed: shared
    EXPECT_EQ(two.per_call(10, 2, 16, 2), 5u);    // full 2: the plain even split
    EXPECT_EQ(two.per_call(3, 2, 16, 2), 2u);
    EXPECT_EQ(alone.per_call(20, 2, 16, 12), 16u);
    EXPECT_EQ(two.per_call(20, 2, 16), 10u);      // no full-speed batch given
    EXPECT_EQ(two.per_call(0, 0, 16, 12), 0u);    // nothing to split, no division by zero
}

TEST(WorkSharer, SlowIndicesAreSharedWithAHelper) {
    WorkSharer ws(1);
    std::mutex m;
    std::set<std::thread::id> threads;
    // Each index takes long enough that the helper wakes before the caller
    // could have done them all.
    ws.run(20, [&](size_t) {
        {
            std::lock_guard g(m);
            threads.insert(std::this_thread::get_id());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    EXPECT_EQ(ws.helpers_started(), 1u);
    EXPECT_EQ(threads.size(), 2u);
}

// for_each_helper_tid(): the kernel ids of the helpers that did work, none
// of them the caller's, and only helpers that exist.
TEST(WorkSharer, HelperTidsAreTheHelpersOwn) {
    WorkSharer none(0);
    size_t seen = 0;
    none.for_each_helper_tid([&](int) { ++seen; });
    EXPECT_EQ(seen, 0u);

    WorkSharer ws(2);
    std::mutex m;
    std::set<int> workers;
    ws.run(40, [&](size_t) {
        {
            std::lock_guard g(m);
            workers.insert(static_cast<int>(::gettid()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    });
    std::set<int> tids;
    ws.for_each_helper_tid([&](int tid) { tids.insert(tid); });
    EXPECT_LE(tids.size(), ws.helpers_started());
    EXPECT_EQ(tids.count(static_cast<int>(::gettid())), 0u);
    // Every helper that took an index has reported its id, and it is the
    // id that thread ran under.
    for (int w : workers) {
        if (w != static_cast<int>(::gettid())) {
            EXPECT_EQ(tids.count(w), 1u) << w;
        }
    }
    EXPECT_GE(workers.size(), 2u);
}

TEST(WorkSharer, ManyShortRunsInARow) {
    // Exercises the caller taking back work a helper has not started yet.
    WorkSharer ws(3);
    std::atomic<uint64_t> sum{0};
    uint64_t expect = 0;
    for (int r = 0; r < 20000; ++r) {
        const size_t n = 2 + static_cast<size_t>(r % 7);
        ws.run(n, [&](size_t i) { sum.fetch_add(i + 1, std::memory_order_relaxed); });
        expect += n * (n + 1) / 2;
    }
    EXPECT_EQ(sum.load(), expect);
}

TEST(WorkSharer, DestroyedWhileHelpersSleep) {
    for (int k = 0; k < 50; ++k) {
        WorkSharer ws(2);
        std::atomic<int> c{0};
        ws.run(4, [&](size_t) { c.fetch_add(1); });
        EXPECT_EQ(c.load(), 4);
    }
}

}  // namespace
}  // namespace knet::engine
