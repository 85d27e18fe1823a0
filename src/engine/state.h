// The engine's private state, shared by its translation units (engine.cpp:
// hooks and lifecycle; rx.cpp, tx.cpp, timers.cpp: the threads).
//
// Threads (all started by Engine::start, joined by ~Engine):
//   rx     epoll over the link sockets -> recvmmsg batch -> pipeline stages
//   tx     epoll over the channels' lib-side fds -> read batch -> pipeline
//          -> sendmmsg batch
//   hb     heartbeat timers (pings, pong timeouts, timeout adjustment) and
//          the only thread that calls host-status / pmtud / sock notify
//          callbacks (with no lock held)
//   pmtud  path MTU discovery, one link at a time, never holding
//          Handle::lock while it waits for a reply
// Every thread takes Handle::lock shared around one batch (or one timer
// round, or one probe) and re-looks hosts up by id each time.
//
// Engine state and its guards:
//   sockets, rx_epoll registrations, hosts[] (the HostState table),
//   crypto[], compressor                     Handle::lock (changed only in
//                                             hooks, under the exclusive lock)
//   HostState::dedup/defrag                  rx thread only
//   HostState::active (packed selection)     atomic; recomputed under sel_mutex
//   LinkState::hb, ping bookkeeping          Link::rt.mutex
//   LinkState::pmtud                         pmtud thread (+ hooks, exclusive)
//   pending notifications                    notify_mutex (leaf lock)
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include <sys/epoll.h>
#include <time.h>

#include "compress/compress.h"
#include "core/handle.h"
#include "crypto/crypto.h"
#include "engine/engine.h"
#include "engine/idle_spin.h"
#include "net/fd.h"
#include "net/socket_table.h"
#include "proto/dedup.h"
#include "proto/defrag.h"
#include "proto/heartbeat.h"
#include "proto/pmtud.h"
#include "proto/policy.h"

namespace knet::engine {

inline uint64_t mono_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// The link selection of a host packed into one word so the TX path reads it
// with one atomic load: ids in 4-bit nibbles 0..7, count in bits 32..35,
// reachable in bit 36.
inline uint64_t pack_active(const proto::ActiveLinks& a) {
    uint64_t v = 0;
    for (uint8_t i = 0; i < a.count; ++i) v |= static_cast<uint64_t>(a.ids[i] & 0xF) << (4 * i);
    v |= static_cast<uint64_t>(a.count) << 32;
    if (a.reachable) v |= 1ULL << 36;
    return v;
}
inline uint8_t active_count(uint64_t v) { return static_cast<uint8_t>((v >> 32) & 0xF); }
inline uint8_t active_id(uint64_t v, uint8_t i) { return static_cast<uint8_t>((v >> (4 * i)) & 0xF); }

struct LinkState {
    // Link::rt.mutex
    proto::LinkHeartbeat hb;
    uint32_t last_ping_size = 0;  // on-wire size of the last ping that left
    bool prev_enabled = false;    // to detect enable/disable in link_changed
    // pmtud thread (and hooks under the exclusive lock)
    proto::LinkPmtud pmtud;
    // State::data_mtu_epoch when its MTU was measured (kNeverMeasured: not
    // since it was configured; such a link does not count either).
    static constexpr uint64_t kNeverMeasured = UINT64_MAX;
    uint64_t mtu_epoch = kNeverMeasured;
    // Handle::lock
    int fd = -1;  // UDP socket (shared with other links of the same source)
};

struct HostState {
    // rx thread only
    proto::Dedup dedup;
    proto::Reassembler defrag;
    std::atomic<bool> rx_reset{false};  // set when the host lost every link

    std::array<LinkState, KNET_MAX_LINK> links;

    std::mutex sel_mutex;                 // serialises recomputation of `active`
    uint8_t passive_best = 0;             // sel_mutex: last best link (for the log)
    std::atomic<uint64_t> active{0};      // pack_active() of the selection
    std::atomic<uint32_t> rr{0};          // round-robin cursor
};

// A callback to run with no lock held (see Impl::queue_notify).
struct Pending {
    enum class Kind : uint8_t { HostStatus, Pmtud, Sock } kind;
    void* priv = nullptr;
    core::HostStatusNotify host_fn{};
    core::PmtudNotify pmtud_fn{};
    core::SockNotify sock_fn{};
    knet_node_id_t host_id = 0;
    uint8_t reachable = 0;
    unsigned int mtu = 0;
    int fd = -1;
    int8_t channel = 0;
    uint8_t direction = 0;
    int error = 0;
    int errorno = 0;
};

struct TxContext;
void destroy_tx_context(TxContext* c);

struct State {
    explicit State(core::Handle& handle);
    ~State();

    core::Handle& h;
    log::Logger* log() { return &h.logger; }

    // ---- Handle::lock ----
    net::SocketTable sockets;
    std::vector<std::unique_ptr<HostState>> hosts;  // indexed by host id
    std::array<std::unique_ptr<crypto::Instance>, 3> crypto;  // slots 1, 2
    std::unique_ptr<compress::Compressor> compressor;
    compress::Decompressor decompressor;
    bool has_loopback = false;
    // Per channel: the lib-side fd is a datagram or seqpacket socket, so
    // whole messages can be moved with recvmmsg/sendmmsg (set by the
    // datafd_added hook).
    std::array<bool, KNET_DATAFD_MAX> chan_msg{};

    HostState* host_state(knet_node_id_t id) { return hosts[id].get(); }

    // ---- threads ----
    std::atomic<bool> stop{false};
    net::Fd rx_epoll, rx_wake, tx_epoll, tx_wake;
    std::thread rx_thread, tx_thread, hb_thread, pmtud_thread;

    // heartbeat / notification wakeups
    std::mutex hb_mutex;
    std::condition_variable hb_cv;
    bool hb_kick = false;           // hb_mutex
    std::atomic<bool> force_untimed_ping{false};

    // pmtud wakeups: replies, forced runs, shutdown
    std::mutex pmtud_mutex;
    std::condition_variable pmtud_cv;
    std::atomic<bool> pmtud_force{false};  // set under pmtud_mutex (wake_pmtud)
    bool pmtud_kick = false;                // pmtud_mutex
    std::atomic<uint32_t> pmtud_generation{0};  // bumped on abort (config change)
    // Bumped by reset_data_mtu() (under data_mtu_mutex, which also covers
    // the PMTUd thread's recomputation): link MTUs measured before it are
    // stale and do not count towards the data MTU.
    std::mutex data_mtu_mutex;
    std::atomic<uint64_t> data_mtu_epoch{0};
    // The last PMTUD_REPLY (pmtud_mutex): only one probe is ever outstanding.
    bool reply_ready = false;
    knet_node_id_t reply_host = 0;
    uint8_t reply_link = 0;
    uint32_t reply_size = 0;

    // outgoing data sequence number (one per handle, as the reference)
    std::atomic<uint16_t> tx_seq{0};
    uint16_t next_seq();

    // send_sync context (lazily built, guarded by sync_mutex)
    std::mutex sync_mutex;
    std::unique_ptr<TxContext, void (*)(TxContext*)> sync_ctx{nullptr, destroy_tx_context};

    // ---- notifications ----
    std::mutex notify_mutex;
    std::vector<Pending> pending;
    void queue_notify(const Pending& p);
    void fire_pending();  // hb thread: runs the callbacks with no lock held
    void kick_hb();
    // Makes the PMTUd thread look at its links now: `force` runs discovery
    // on every link (link up, new MTU settings), otherwise it only takes
    // note of links gone down or removed (the data MTU may change).
    void wake_pmtud(bool force);
    // As libknet does when a link comes up or the crypto in use changes:
    // the data MTU goes back to its minimum for the TX crypto (notified),
    // so nothing is sent too big for the new path or overhead until the
    // forced PMTUd run that follows has measured the links again.
    void reset_data_mtu(uint8_t subsystem);
    // Queues the application's PMTUd notification of a new data MTU.
    void notify_data_mtu(uint32_t mtu);

    // ---- helpers used by several threads (Handle::lock held, any mode) ----
    // Recomputes the link selection and reachability of a host; queues a
    // host status notification on change.
    void refresh_host(core::Host& host);
    // Records a link up/down into the link's stats and state, then
    // refreshes the host.  Link::rt.mutex must NOT be held.
    void link_transition(core::Host& host, core::Link& link, bool connected, const char* why);
    // The crypto overhead of the TX configuration, for MTU arithmetic.
    proto::CryptoOverhead crypto_overhead() const;
    const crypto::Instance* tx_crypto() const {
        return h.crypto_in_use ? crypto[h.crypto_in_use].get() : nullptr;
    }
    // A configuration is loaded in either slot (received packets are decrypted).
    bool any_crypto() const { return crypto[1] || crypto[2]; }
    // Destination of a link right now (static: configured; dynamic: learned).
    bool link_peer(core::Link& link, sockaddr_storage* out);

    // Sends one control packet (ping/pong/pmtud) on a link, encrypting it
    // with the TX crypto configuration.  Returns 0 or the errno.
    int send_control(core::Link& link, const LinkState& ls, const uint8_t* pkt, size_t len,
                     uint8_t* scratch, size_t scratch_cap, size_t* wire_len);

    // Socket error queue of fd: local EMSGSIZE mtu for PMTUd, ICMP errors.
    std::atomic<uint32_t> kernel_mtu{0};
    void drain_socket_errors(int fd);

    // thread bodies
    void rx_main();
    void tx_main();
    bool tx_read_messages(TxContext& ctx, core::Channel& ch, int channel, int fd);
    void tx_read_failed(core::Channel& ch, int channel, int fd, ssize_t len, int err);
    void tx_discard(TxContext& ctx, core::Channel& ch, int channel, int fd);
    void hb_main();
    void pmtud_main();

    // Takes Handle::lock shared; false (and not held) once the engine is
    // stopping.
    bool lock_shared_or_stop();

    // epoll_wait for the rx/tx threads: polls while `spin` says so (see
    // idle_spin.h), then sleeps up to timeout_ms (-1: until an event; the
    // wake eventfds carry shutdown and configuration changes).
    int wait_events(int epfd, epoll_event* events, int max, const IdleSpin& spin, int timeout_ms);
};

struct Engine::Impl : State {
    using State::State;
};

}  // namespace knet::engine
