#include "engine/work_share.h"

#include <unistd.h>

#include <algorithm>

namespace knet::engine {

WorkSharer::WorkSharer(unsigned helpers) : helpers_wanted_(helpers) {}

WorkSharer::~WorkSharer() {
    for (auto& h : helpers_) {
        h->state.store(kStop, std::memory_order_release);
        h->state.notify_all();
    }
    for (auto& h : helpers_)
        if (h->thread.joinable()) h->thread.join();
}

unsigned WorkSharer::default_helpers() {
    const unsigned cpus = std::thread::hardware_concurrency();
    return cpus > 1 ? std::min(cpus - 1, 3u) : 0u;
}

void WorkSharer::work() {
    for (size_t i = next_.fetch_add(1, std::memory_order_relaxed); i < n_;
         i = next_.fetch_add(1, std::memory_order_relaxed))
        call_(ctx_, i);
}

void WorkSharer::helper_main(Helper& self) {
    self.tid.store(static_cast<int>(::gettid()), std::memory_order_release);
    for (;;) {
        self.state.wait(kIdle, std::memory_order_acquire);
        uint32_t s = kPosted;
        if (self.state.compare_exchange_strong(s, kRunning, std::memory_order_acquire)) {
            work();
            self.state.store(kIdle, std::memory_order_release);
            self.state.notify_all();
            continue;
        }
        if (s == kStop) return;
        // kIdle again: the caller took its work back before we woke.
    }
}

void WorkSharer::run_erased(size_t n, void* ctx, Call call) {
    // Lazily start helpers; a machine that refuses threads just runs serially.
    while (helpers_.size() < helpers_wanted_) {
        auto h = std::make_unique<Helper>();
        Helper* raw = h.get();
        try {
            h->thread = std::thread([this, raw] { helper_main(*raw); });
        } catch (...) {
            helpers_wanted_ = static_cast<unsigned>(helpers_.size());
            break;
        }
        helpers_.push_back(std::move(h));
    }
    ctx_ = ctx;
    call_ = call;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    // No more helpers than indices beyond the caller's own first one.
    const size_t post = std::min(helpers_.size(), n - 1);
    for (size_t k = 0; k < post; ++k) {
        helpers_[k]->state.store(kPosted, std::memory_order_release);
        helpers_[k]->state.notify_one();
    }
    work();
    for (size_t k = 0; k < post; ++k) {
        Helper& h = *helpers_[k];
        uint32_t s = kPosted;
        if (h.state.compare_exchange_strong(s, kIdle, std::memory_order_acq_rel)) continue;
        while (s == kRunning) {
            h.state.wait(kRunning, std::memory_order_acquire);
            s = h.state.load(std::memory_order_acquire);
        }
    }
}

}  // namespace knet::engine
