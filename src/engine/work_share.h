// Shares the iterations of one loop between the calling thread and a few
// helper threads.
//
// Why: per-packet crypto (AES-CBC is serial within a packet, plus an HMAC)
// costs more than everything else the TX thread does for large messages,
// and one thread can only use one core.  The packets of one send batch are
// independent, so the TX thread hands out their indices from one atomic
// counter to itself and to the helpers, and returns when all are done.
//
// Cost model: helpers sleep on a futex (std::atomic::wait) and are started
// on first use only.  The caller never waits for a helper to wake up: when
// it has run every index itself it takes back the posted work from a helper
// that has not started, and waits only for a helper that is in the middle of
// an index.  run() is for one calling thread at a time (the TX thread owns
// its instance); it is not reentrant.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

namespace knet::engine {

class WorkSharer {
public:
    // `helpers` threads at most (0: run() is a plain loop).
    explicit WorkSharer(unsigned helpers);
    ~WorkSharer();
    WorkSharer(const WorkSharer&) = delete;
    WorkSharer& operator=(const WorkSharer&) = delete;

    // Helpers worth having on this machine: one less than the CPUs, at most 3.
    static unsigned default_helpers();

    // Calls fn(i) exactly once for every i in [0, n); returns when all calls
    // have returned.  fn must be safe to call concurrently for different i.
    template <class Fn>
    void run(size_t n, Fn&& fn) {
        if (n < 2 || helpers_wanted_ == 0) {
            for (size_t i = 0; i < n; ++i) fn(i);
            return;
        }
        using F = std::remove_reference_t<Fn>;
        run_erased(n, const_cast<void*>(static_cast<const void*>(&fn)),
                   [](void* f, size_t i) { (*static_cast<F*>(f))(i); });
    }

    // Threads that run() spreads work over: the caller and its helpers.
    size_t threads() const { return helpers_wanted_ + 1; }

    // Items per call when n items are grouped into calls of consecutive
    // items: an even share for every thread, but at least lo and at most hi.
    // Calls of fewer than `full` items cost more per item (a batched
    // backend's idle lanes): when the even split would make one of them
    // although n has `full` items, calls of hi items instead, so that only
    // the last may be short.  Less parallel, but less CPU: 20 packets as
    // 16 + 4 rather than 10 + 10 put 16 in the 16-lane MAC.
    size_t per_call(size_t n, size_t lo, size_t hi, size_t full = 1) const {
        const size_t even = std::clamp<size_t>((n + threads() - 1) / threads(), lo, hi);
        if (even == 0 || full <= lo || n < full) return even;
        const size_t last = n % even;  // the short last call, if any
        const bool slow_call = even < full || (last != 0 && last < full);
        return slow_call ? std::max(hi, lo) : even;
    }

    // Threads started so far (for tests).
    size_t helpers_started() const { return helpers_.size(); }

    // Calls fn(tid) with the kernel thread id of every helper started so far
    // that has reported it (the owner's priority changes, e.g.).
    template <class Fn>
    void for_each_helper_tid(Fn&& fn) const {
        for (const auto& h : helpers_)
            if (const int tid = h->tid.load(std::memory_order_acquire)) fn(tid);
    }

private:
    enum : uint32_t { kIdle = 0, kPosted = 1, kRunning = 2, kStop = 3 };
    struct Helper {
        std::atomic<uint32_t> state{kIdle};
        std::atomic<int> tid{0};  // gettid() of the thread, once it runs
        std::thread thread;
    };
    using Call = void (*)(void*, size_t);

    void run_erased(size_t n, void* ctx, Call call);
    void work();  // takes indices until none are left
    void helper_main(Helper& self);

    unsigned helpers_wanted_;
    std::vector<std::unique_ptr<Helper>> helpers_;
    // The loop being shared (written before the helpers are posted).
    void* ctx_ = nullptr;
    Call call_ = nullptr;
    size_t n_ = 0;
    std::atomic<size_t> next_{0};
};

}  // namespace knet::engine
