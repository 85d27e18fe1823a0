// When the receive thread asks the scheduler for a larger share of the CPU.
//
// libknet 1.x has no flow control: a sender that outpaces the receiving
// node's rx thread fills that socket's kernel queue, and past its limit the
// kernel drops datagrams.  What the rx thread has taken off the queue is
// safe (a full datafd makes it wait, it does not drop), so while a queue is
// close to its limit the thread runs at a lower nice value: on a busy machine
// it then gets more CPU than the threads it competes with (the sender's, when
// both nodes share the machine) and is preempted less often by the
// application's reader, each preemption costing two context switches.  Once
// that queue has been drained it goes back to its own nice value.
//
// With crypto too (it was left out at first: the rx thread shares the
// decryption with helper threads, which raising it alone leaves behind, and
// it bought nothing then).  Once the 16-lane SHA-256 made our sender faster,
// 64000 B with aes256+sha256 lost in the UDP queue in 3 of 15 runs without
// it (0.01-0.66 %) and in none of 14 with it, at the same CPU per GB.  With
// the 16-lane AES the sender got faster again and the raised rx thread lost
// in 3 of 26 runs (0.5-1.4 %), waiting for its helpers; they now go up and
// down with it: none of 32.
//
// Only the decision lives here (pure, unit-tested); the rx thread reads the
// queue with SO_MEMINFO and applies the nice value with setpriority(), which
// needs CAP_SYS_NICE (root, as Corosync runs): without it nothing changes.
// Under a real-time policy (Corosync's threads) nice has no effect anyway.
#pragma once

#include <cstdint>

namespace knet::engine {

class BacklogBoost {
public:
    // Raise once a queue holds more than this share of its limit.
    static constexpr uint32_t kHighPercent = 50;
    // How much lower the nice value goes while raised.
    static constexpr int kBoost = 10;

    enum class Action : uint8_t { None, Raise, Lower };

    // A receive round on `fd` at `now_ns` filled the whole batch (more may
    // be queued): `queued` bytes are in its queue, whose limit is `limit`.
    Action on_full_round(int fd, uint64_t queued, uint64_t limit, uint64_t now_ns) {
        if (raised_) {
            if (fd == fd_) last_full_ns_ = now_ns;
            return Action::None;
        }
        if (limit == 0 || queued * 100 <= limit * kHighPercent) return Action::None;
        raised_ = true;
        fd_ = fd;
        last_full_ns_ = now_ns;
        return Action::Raise;
    }

    // A receive round on `fd` emptied its queue.
    Action on_drained(int fd) {
        if (!raised_ || fd != fd_) return Action::None;
        raised_ = false;
        return Action::Lower;
    }

    // Called now and then: a socket that went away, or stopped sending full
    // rounds without ever being seen empty, does not keep the thread raised.
    Action on_tick(uint64_t now_ns) {
        if (!raised_ || now_ns - last_full_ns_ < kStaleNs) return Action::None;
        raised_ = false;
        return Action::Lower;
    }

    bool raised() const { return raised_; }

    // The nice value to run at while raised, from the thread's own.
    static int raised_nice(int own) { return own - kBoost < -20 ? -20 : own - kBoost; }

private:
    static constexpr uint64_t kStaleNs = 1'000'000'000;
    bool raised_ = false;
    int fd_ = -1;
    uint64_t last_full_ns_ = 0;
};

}  // namespace knet::engine
