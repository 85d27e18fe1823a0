// A small lock-free pool of per-packet crypto contexts.
//
// Why a pool: library contexts (EVP_CIPHER_CTX with its key schedule,
// EVP_MAC_CTX, PK11Context) are expensive to build and not safe to share
// between threads, while an instance is used by the tx, rx, heartbeat and
// pmtud threads (and application threads in knet_send_sync) at once.
// Thread-local caches would outlive instances; a mutex would serialise the
// threads.  Instead each instance owns N slots, each guarded by an atomic
// "busy" flag.  A thread starts its scan at its own index (threads are
// numbered on first use), so in the common case every thread keeps hitting
// "its" slot without contention and with a warm cache.  A slot's context is
// built on first use and then reused for the life of the instance; if all
// N slots are busy at once, a temporary context is built and thrown away
// (the only per-packet allocation, and only under unusual concurrency).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

namespace knet::crypto {

namespace detail {
// A small per-thread number used to spread threads over pool slots.
inline unsigned thread_slot_hint() {
    static std::atomic<unsigned> next{0};
    static thread_local const unsigned hint = next.fetch_add(1, std::memory_order_relaxed);
    return hint;
}
}  // namespace detail

template <class Slot, size_t N = 16>
class ContextPool {
public:
    // Builds one slot's contexts; returns null on failure.
    using Factory = std::function<std::unique_ptr<Slot>()>;

    explicit ContextPool(Factory factory) : factory_(std::move(factory)) {}
    ContextPool(const ContextPool&) = delete;
    ContextPool& operator=(const ContextPool&) = delete;

private:
    struct Entry {
        std::atomic<bool> busy{false};
        std::unique_ptr<Slot> slot;  // touched only by the thread holding busy
    };

public:
    // Exclusive use of one slot until destroyed.  Empty if building failed.
    class Lease {
    public:
        Lease() = default;
        Lease(Lease&& o) noexcept : entry_(o.entry_), slot_(o.slot_), temp_(std::move(o.temp_)) {
            o.entry_ = nullptr;
            o.slot_ = nullptr;
        }
        Lease& operator=(Lease&&) = delete;
        ~Lease() {
            if (entry_) entry_->busy.store(false, std::memory_order_release);
        }
        explicit operator bool() const { return slot_ != nullptr; }
        Slot* operator->() const { return slot_; }
        Slot& operator*() const { return *slot_; }

    private:
        friend class ContextPool;
        Entry* entry_ = nullptr;
        Slot* slot_ = nullptr;
        std::unique_ptr<Slot> temp_;
    };

    // Takes a free slot (building its contexts on first use) or, if every
    // slot is busy, a temporary one.
    Lease acquire() const {
        const unsigned start = detail::thread_slot_hint();
        for (size_t i = 0; i < N; ++i) {
            Entry& e = entries_[(start + i) % N];
            bool expected = false;
            if (e.busy.load(std::memory_order_relaxed) ||
                !e.busy.compare_exchange_strong(expected, true, std::memory_order_acquire))
                continue;
            if (!e.slot) {
                e.slot = factory_();
                if (!e.slot) {
                    e.busy.store(false, std::memory_order_release);
                    return Lease();
                }
            }
            Lease l;
            l.entry_ = &e;
            l.slot_ = e.slot.get();
            return l;
        }
        Lease l;
        l.temp_ = factory_();
        l.slot_ = l.temp_.get();
        return l;
    }

private:
    Factory factory_;
    mutable std::array<Entry, N> entries_;
};

}  // namespace knet::crypto
