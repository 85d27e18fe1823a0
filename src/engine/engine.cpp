// Engine lifecycle, configuration hooks and the helpers the threads share.
#include "engine/engine.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/state.h"
#include "net/address.h"
#include "net/batch.h"
#include "net/udp.h"
#include "proto/wire.h"

namespace knet::engine {

// ------------------------------------------------------------------ State

State::State(core::Handle& handle) : h(handle), decompressor(&handle.logger) {
    hosts.resize(KNET_MAX_HOST);
    pending.reserve(64);
}

State::~State() = default;

uint16_t State::next_seq() {
    uint16_t cur = tx_seq.load(std::memory_order_relaxed);
    uint16_t next;
    do {
        next = static_cast<uint16_t>(cur + 1);
        if (next == 0) next = 1;  // 0 is what a restarted node advertises
    } while (!tx_seq.compare_exchange_weak(cur, next, std::memory_order_relaxed));
    return next;
}

bool State::lock_shared_or_stop() {
    // Block rather than try-and-sleep: an application reconfiguring in a
    // tight loop re-takes the lock within microseconds, and a sleeping
    // reader kept missing the gaps (lost traffic). glibc's rwlock prefers
    // readers, so a blocked engine thread gets in at the next release. No
    // API call waits for an engine thread while it holds the lock, and
    // knet_handle_free stops the engine only after releasing it.
    h.lock.lock_shared();
    if (stop.load(std::memory_order_relaxed)) {
        h.lock.unlock_shared();
        return false;
    }
    return true;
}

int State::wait_events(int epfd, epoll_event* events, int max, const IdleSpin& spin,
                       int timeout_ms) {
    while (spin.keep_polling(mono_ns()) && !stop.load(std::memory_order_relaxed)) {
        const int n = ::epoll_wait(epfd, events, max, 0);
        if (n != 0) return n;
        ::sched_yield();
    }
    return ::epoll_wait(epfd, events, max, timeout_ms);
}

void State::kick_hb() {
    {
        std::lock_guard g(hb_mutex);
        hb_kick = true;
    }
    hb_cv.notify_one();
}

void State::wake_pmtud(bool force) {
    {
        // Under the mutex: the thread checks the flags and goes to sleep
        // atomically with respect to it, so no wake-up is lost.
        std::lock_guard g(pmtud_mutex);
        if (force) pmtud_force.store(true, std::memory_order_release);
        pmtud_kick = true;
    }
    pmtud_cv.notify_all();
}

void State::reset_data_mtu(uint8_t subsystem) {
    const uint32_t mtu = proto::min_data_mtu(crypto_overhead());
    {
        std::lock_guard g(data_mtu_mutex);
        data_mtu_epoch.fetch_add(1);
        h.data_mtu.store(mtu);
    }
    KNET_LOG_D(log(), subsystem, "PMTUd has been reset to default");
    notify_data_mtu(mtu);
}

void State::notify_data_mtu(uint32_t mtu) {
    Pending p{};
    p.kind = Pending::Kind::Pmtud;
    p.pmtud_fn = h.pmtud_notify;
    p.mtu = mtu;
    if (p.pmtud_fn.fn) queue_notify(p);
}

void State::queue_notify(const Pending& p) {
    {
        std::lock_guard g(notify_mutex);
        pending.push_back(p);
    }
    kick_hb();
}

void State::fire_pending() {
    std::vector<Pending> todo;
    {
        std::lock_guard g(notify_mutex);
        if (pending.empty()) return;
        todo.swap(pending);
        pending.reserve(64);
    }
    for (const Pending& p : todo) {
        switch (p.kind) {
        case Pending::Kind::HostStatus:
            if (p.host_fn.fn) p.host_fn.fn(p.host_fn.priv, p.host_id, p.reachable, 0, 0);
            break;
        case Pending::Kind::Pmtud:
            if (p.pmtud_fn.fn) p.pmtud_fn.fn(p.pmtud_fn.priv, p.mtu);
            break;
        case Pending::Kind::Sock:
            if (p.sock_fn.fn)
                p.sock_fn.fn(p.sock_fn.priv, p.fd, p.channel, p.direction, p.error, p.errorno);
            break;
        }
    }
}

proto::CryptoOverhead State::crypto_overhead() const {
    proto::CryptoOverhead co;
    const crypto::Instance* c = tx_crypto();
    if (!c) return co;
    crypto::Overhead o = c->overhead();
    co.in_use = true;
    co.block_size = static_cast<uint32_t>(o.block);
    co.hash_size = static_cast<uint32_t>(o.hash);
    co.salt_size = static_cast<uint32_t>(o.salt);
    return co;
}

bool State::link_peer(core::Link& link, sockaddr_storage* out) {
    if (!link.dynamic) {
        *out = link.dst_addr;
        return out->ss_family == AF_INET || out->ss_family == AF_INET6;
    }
    if (!link.rt.dynconnected.load(std::memory_order_acquire)) return false;
    std::lock_guard g(link.rt.mutex);
    *out = link.rt.dyn_dst;
    return out->ss_family == AF_INET || out->ss_family == AF_INET6;
}

int State::send_control(core::Link& link, const LinkState& ls, const uint8_t* pkt, size_t len,
                        uint8_t* scratch, size_t scratch_cap, size_t* wire_len) {
    if (ls.fd < 0) return ENOTCONN;
    sockaddr_storage dst;
    if (!link_peer(link, &dst)) return EDESTADDRREQ;
    const uint8_t* out = pkt;
    size_t out_len = len;
    if (const crypto::Instance* c = tx_crypto()) {
        Status st = c->encrypt(pkt, len, scratch, scratch_cap, &out_len);
        if (!st) return st.error();
        h.rt.tx_crypt_control_packets.fetch_add(1, std::memory_order_relaxed);
        out = scratch;
    }
    *wire_len = out_len;
    for (int tries = 0;; ++tries) {
        ssize_t r = ::sendto(ls.fd, out, out_len, MSG_DONTWAIT | MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&dst), net::sockaddr_len(dst));
        if (r == static_cast<ssize_t>(out_len)) return 0;
        int e = r < 0 ? errno : EMSGSIZE;
        if (net::classify_send_error(e) == net::SendErrorAction::Retry && tries < 3) {
            net::pause_for_retry();
            continue;
        }
        if (e == EMSGSIZE || e == EPERM) drain_socket_errors(ls.fd);
        return e;
    }
}

void State::drain_socket_errors(int fd) {
    net::drain_error_queue(fd, [&](const net::SockError& e) {
        if (e.mtu) kernel_mtu.store(e.mtu, std::memory_order_relaxed);
        if (e.has_remote && !e.local) {
            char buf[net::kAddrStrLen];
            KNET_LOG_D(log(), KNET_SUB_TRANSP_UDP, "ICMP error for %s: %s",
                       net::format(e.remote, buf), strerror(e.err));
        }
    });
}

void State::refresh_host(core::Host& host) {
    HostState* hs = host_state(host.id);
    if (!hs) return;
    std::lock_guard g(hs->sel_mutex);
    std::array<proto::LinkCandidate, KNET_MAX_LINK> c{};
    for (uint8_t i = 0; i < KNET_MAX_LINK; ++i) {
        const core::Link& l = host.links[i];
        c[i].link_id = i;
        c[i].configured = l.configured;
        c[i].enabled = l.enabled;
        c[i].connected = l.rt.connected.load(std::memory_order_relaxed);
        c[i].has_valid_mtu = l.rt.has_valid_mtu.load(std::memory_order_relaxed);
        c[i].is_loopback = l.transport == KNET_TRANSPORT_LOOPBACK;
        c[i].priority = l.priority;
    }
    const auto policy = static_cast<proto::LinkPolicy>(host.policy);
    proto::ActiveLinks a = proto::select_links(policy, c);
    const uint64_t packed = pack_active(a);
    const uint64_t old = hs->active.exchange(packed, std::memory_order_acq_rel);
    const bool was = host.rt.reachable.exchange(a.reachable, std::memory_order_acq_rel);
    if (old != packed) {
        if (policy == proto::LinkPolicy::Passive) {
            // Like libknet, this names the last best link when none is left.
            if (a.count) hs->passive_best = a.ids[0];
            KNET_LOG_I(log(), KNET_SUB_HOST, "host: %u (passive) best link: %u (pri: %u)", host.id,
                       hs->passive_best, host.links[hs->passive_best].priority);
        } else
            KNET_LOG_I(log(), KNET_SUB_HOST, "host: %u has %u active links", host.id, a.count);
    }
    if (was != a.reachable) {
        if (!a.reachable) {
            KNET_LOG_W(log(), KNET_SUB_HOST, "host: %u has no active links", host.id);
            hs->rx_reset.store(true, std::memory_order_release);
        }
        Pending p{};
        p.kind = Pending::Kind::HostStatus;
        p.host_fn = h.host_status_notify;
        p.host_id = host.id;
        p.reachable = a.reachable ? 1 : 0;
        if (p.host_fn.fn) queue_notify(p);
    }
}

static void record_event(knet_link_stats& s, bool connected) {
    const time_t now = time(nullptr);
    if (connected) {
        s.last_up_times[s.last_up_time_index] = now;
        s.up_count++;
        if (++s.last_up_time_index >= MAX_LINK_EVENTS) s.last_up_time_index = 0;
    } else {
        s.last_down_times[s.last_down_time_index] = now;
        s.down_count++;
        if (++s.last_down_time_index >= MAX_LINK_EVENTS) s.last_down_time_index = 0;
    }
}

void State::link_transition(core::Host& host, core::Link& link, bool connected, const char* why) {
    {
        std::lock_guard g(link.rt.mutex);
        if (link.rt.connected.load(std::memory_order_relaxed) == connected) return;
        link.rt.connected.store(connected, std::memory_order_release);
        record_event(link.rt.stats, connected);
        if (!connected) link.rt.pong_last = timespec{};
    }
    // Worded as libknet logs them (up from its rx thread, down from its
    // heartbeat thread): people and scripts grep for these lines.
    if (connected)
        KNET_LOG_I(log(), KNET_SUB_RX, "host: %u link: %u is up", host.id, link.id);
    else
        KNET_LOG_I(log(), KNET_SUB_LINK, "host: %u link: %u is down", host.id, link.id);
    KNET_LOG_D(log(), KNET_SUB_LINK, "host: %u link: %u: %s", host.id, link.id, why);
    refresh_host(host);
    if (connected) {
        KNET_LOG_I(log(), KNET_SUB_LINK, "Resetting MTU for link %u because host %u joined", link.id,
                   host.id);
        reset_data_mtu(KNET_SUB_LINK);
    }
    wake_pmtud(connected);
}

// ------------------------------------------------------------------ Engine

Engine::Engine(core::Handle& h) : h_(h), impl_(std::make_unique<Impl>(h)) {}

Engine::~Engine() {
    State& s = *impl_;
    s.stop.store(true);
    uint64_t one = 1;
    if (s.rx_wake.valid()) (void)!::write(s.rx_wake.get(), &one, sizeof one);
    if (s.tx_wake.valid()) (void)!::write(s.tx_wake.get(), &one, sizeof one);
    s.kick_hb();
    {
        std::lock_guard g(s.pmtud_mutex);
    }
    s.pmtud_cv.notify_all();
    for (std::thread* t : {&s.rx_thread, &s.tx_thread, &s.hb_thread, &s.pmtud_thread})
        if (t->joinable()) t->join();
}

Result<std::unique_ptr<Engine>> Engine::start(core::Handle& h) {
    std::unique_ptr<Engine> e(new Engine(h));
    State& s = *e->impl_;
    s.rx_epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
    s.tx_epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
    s.rx_wake.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    s.tx_wake.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!s.rx_epoll.valid() || !s.tx_epoll.valid() || !s.rx_wake.valid() || !s.tx_wake.valid())
        return Error{errno ? errno : EMFILE};
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX;
    if (::epoll_ctl(s.rx_epoll.get(), EPOLL_CTL_ADD, s.rx_wake.get(), &ev) != 0 ||
        ::epoll_ctl(s.tx_epoll.get(), EPOLL_CTL_ADD, s.tx_wake.get(), &ev) != 0)
        return Error{errno};
    // The data MTU is known from the start: the minimum, until PMTUd has run.
    h.data_mtu.store(proto::min_data_mtu(s.crypto_overhead()));
    try {
        s.rx_thread = std::thread([&s] { s.rx_main(); });
        s.tx_thread = std::thread([&s] { s.tx_main(); });
        s.hb_thread = std::thread([&s] { s.hb_main(); });
        s.pmtud_thread = std::thread([&s] { s.pmtud_main(); });
    } catch (...) {
        return Error{EAGAIN};  // ~Engine joins whatever started
    }
    return e;
}

static HostState& ensure_host(State& s, knet_node_id_t id) {
    if (!s.hosts[id]) s.hosts[id] = std::make_unique<HostState>();
    return *s.hosts[id];
}

static void release_socket(State& s, LinkState& ls) {
    if (ls.fd < 0) return;
    if (s.sockets.users(ls.fd) == 1) {
        epoll_event ev{};
        ::epoll_ctl(s.rx_epoll.get(), EPOLL_CTL_DEL, ls.fd, &ev);
    }
    s.sockets.release(ls.fd);
    ls.fd = -1;
}

static proto::IpFamily family_of(const core::Link& link) {
    const int f = link.dst_addr.ss_family ? link.dst_addr.ss_family : link.src_addr.ss_family;
    return f == AF_INET6 ? proto::IpFamily::V6 : proto::IpFamily::V4;
}

Status Engine::link_configured(core::Host& host, core::Link& link) {
    State& s = *impl_;
    HostState& hs = ensure_host(s, host.id);
    LinkState& ls = hs.links[link.id];
    release_socket(s, ls);
    s.pmtud_generation.fetch_add(1);

    {
        std::lock_guard g(link.rt.mutex);
        proto::HeartbeatConfig cfg;
        cfg.ping_interval_ms = link.ping_interval_ms;
        cfg.pong_timeout_ms = link.pong_timeout_ms;
        cfg.precision = link.ping_precision ? link.ping_precision : 1;
        cfg.pong_count = link.pong_count ? link.pong_count : 1;
        ls.hb = proto::LinkHeartbeat(cfg);
        ls.last_ping_size = 0;
        ls.prev_enabled = link.enabled;
        link.rt.latency_us = 0;
        link.rt.pong_last = timespec{};
        link.rt.dyn_dst = sockaddr_storage{};
    }

    if (link.transport == KNET_TRANSPORT_LOOPBACK) {
        s.has_loopback = true;
        link.rt.transport_connected.store(true);
        link.rt.mtu.store(proto::kPmtudSizeMax);
        link.rt.proto_overhead.store(0);
        link.rt.has_valid_mtu.store(true);
        link.rt.connected.store(true);
        ls.pmtud.reset(proto::kPmtudSizeMax, true);
        s.refresh_host(host);
        return {};
    }
    if (link.transport != KNET_TRANSPORT_UDP) return Error{EPROTONOSUPPORT};

    auto acq = s.sockets.acquire(link.src_addr, link.flags, s.log());
    if (!acq) return Error{acq.error()};
    if (acq->created) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = static_cast<uint64_t>(acq->fd);
        if (::epoll_ctl(s.rx_epoll.get(), EPOLL_CTL_ADD, acq->fd, &ev) != 0) {
            int err = errno;
            s.sockets.release(acq->fd);
            return Error{err};
        }
    }
    ls.fd = acq->fd;

    const proto::CryptoOverhead co = s.crypto_overhead();
    const proto::IpFamily fam = family_of(link);
    const uint32_t mtu = proto::initial_link_mtu(link.dynamic, fam, proto::kPmtudUdpOverhead, co);
    ls.pmtud.reset(mtu, true);
    ls.mtu_epoch = LinkState::kNeverMeasured;
    link.rt.mtu.store(mtu);
    link.rt.proto_overhead.store(0);  // until the link's first PMTUd run
    link.rt.has_valid_mtu.store(true);
    link.rt.connected.store(false);
    link.rt.dynconnected.store(false);
    link.rt.transport_connected.store(true);
    char a[net::kAddrStrLen], b[net::kAddrStrLen];
    KNET_LOG_D(s.log(), KNET_SUB_LINK, "host: %u link: %u configured %s -> %s (socket %d%s)",
               host.id, link.id, net::format(link.src_addr, a),
               link.dynamic ? "dynamic" : net::format(link.dst_addr, b), ls.fd,
               acq->created ? "" : ", shared");
    s.refresh_host(host);
    s.kick_hb();
    return {};
}

void Engine::link_cleared(core::Host& host, core::Link& link) {
    State& s = *impl_;
    HostState* hs = s.host_state(host.id);
    if (!hs) {
        link.reset_config();
        return;
    }
    LinkState& ls = hs->links[link.id];
    release_socket(s, ls);
    s.pmtud_generation.fetch_add(1);
    if (link.transport == KNET_TRANSPORT_LOOPBACK) s.has_loopback = false;
    {
        std::lock_guard g(link.rt.mutex);
        ls.hb.force_down(proto::LinkChangeReason::Forced);
        link.rt.dyn_dst = sockaddr_storage{};
        // A link configured again starts with no history, as in libknet.
        link.rt.stats = core::fresh_link_stats();
        link.rt.latency_us = 0;
        link.rt.pong_last = timespec{};
    }
    link.rt.connected.store(false);
    link.rt.dynconnected.store(false);
    link.rt.transport_connected.store(false);
    link.rt.has_valid_mtu.store(false);
    // Before the links are selected again: a loopback link still configured
    // would keep the host reachable.
    link.reset_config();
    s.refresh_host(host);
    s.wake_pmtud(false);
}

void Engine::link_changed(core::Host& host, core::Link& link) {
    State& s = *impl_;
    HostState* hs = s.host_state(host.id);
    if (!hs) return;
    LinkState& ls = hs->links[link.id];
    bool disabled = false;
    {
        std::lock_guard g(link.rt.mutex);
        ls.hb.set_timers(link.ping_interval_ms, link.pong_timeout_ms,
                         link.ping_precision ? link.ping_precision : 1);
        ls.hb.set_pong_count(link.pong_count ? link.pong_count : 1);
        if (ls.prev_enabled != link.enabled) {
            ls.prev_enabled = link.enabled;
            disabled = !link.enabled;
            // As libknet 1.x, a disabled link keeps its connection state
            // (knet_link_get_status: connected = ping/pong and data still
            // flow from the peer, which keeps pinging us); it only stops
            // carrying our data and our pings, and so cannot time out.  The
            // reference records an event on every enabled change, typed by
            // the connection state.
            if (link.transport != KNET_TRANSPORT_LOOPBACK)
                record_event(link.rt.stats, link.rt.connected.load());
        }
    }
    if (disabled) KNET_LOG_D(s.log(), KNET_SUB_LINK, "host: %u link: %u is disabled", host.id, link.id);
    s.refresh_host(host);
    s.kick_hb();
    if (disabled) s.wake_pmtud(false);
}

void Engine::host_added(core::Host& host) {
    ensure_host(*impl_, host.id);
}

void Engine::host_removed(core::Host& host) {
    State& s = *impl_;
    HostState* hs = s.host_state(host.id);
    if (!hs) return;
    for (LinkState& ls : hs->links) release_socket(s, ls);
    s.pmtud_generation.fetch_add(1);
    s.hosts[host.id].reset();
    s.wake_pmtud(false);
}

void Engine::policy_changed(core::Host& host) {
    impl_->refresh_host(host);
}

void Engine::datafd_added(int channel) {
    State& s = *impl_;
    if (channel < 0 || channel >= KNET_DATAFD_MAX) return;
    core::Channel& ch = s.h.channels[channel];
    ch.has_error.store(false);
    int type = 0;
    socklen_t tlen = sizeof type;
    s.chan_msg[channel] = ch.is_socket &&
                          ::getsockopt(ch.lib_fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
                          (type == SOCK_DGRAM || type == SOCK_SEQPACKET);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (static_cast<uint64_t>(channel) << 32) | static_cast<uint32_t>(ch.lib_fd);
    if (::epoll_ctl(s.tx_epoll.get(), EPOLL_CTL_ADD, ch.lib_fd, &ev) != 0 && errno == EEXIST)
        ::epoll_ctl(s.tx_epoll.get(), EPOLL_CTL_MOD, ch.lib_fd, &ev);
}

void Engine::datafd_removed(int channel) {
    State& s = *impl_;
    if (channel < 0 || channel >= KNET_DATAFD_MAX) return;
    epoll_event ev{};
    ::epoll_ctl(s.tx_epoll.get(), EPOLL_CTL_DEL, s.h.channels[channel].lib_fd, &ev);
}

Status Engine::crypto_changed() {
    State& s = *impl_;
    std::array<std::unique_ptr<crypto::Instance>, 3> fresh;
    for (int slot = 1; slot <= 2; ++slot) {
        if (!s.h.crypto_configured[slot]) continue;
        // Every configured slot is built again from its configuration: an
        // unchanged slot gets the same keys, so its traffic does not notice.
        auto made = crypto::create(s.h.crypto_cfg[slot], s.log());
        if (!made) return Error{made.error()};
        fresh[slot] = std::move(made.value());
    }
    s.crypto = std::move(fresh);
    // MTU arithmetic depends on the TX crypto overhead.
    const proto::CryptoOverhead co = s.crypto_overhead();
    for (knet_node_id_t id : s.h.host_ids()) {
        core::Host* host = s.h.find_host(id);
        if (!host) continue;
        for (core::Link& l : host->links) {
            // Links that have not had a PMTUd run yet report 0 until they do.
            if (!l.configured || l.transport != KNET_TRANSPORT_UDP || !l.rt.proto_overhead.load())
                continue;
            l.rt.proto_overhead.store(
                proto::link_proto_overhead(family_of(l), proto::kPmtudUdpOverhead, co));
        }
    }
    s.pmtud_generation.fetch_add(1);
    s.wake_pmtud(true);
    return {};
}

Status Engine::compress_changed() {
    State& s = *impl_;
    auto c = compress::Compressor::create(s.h.compress_cfg, s.log());
    if (!c) {
        s.compressor.reset();
        return Error{c.error()};
    }
    s.compressor = std::move(c.value());
    return {};
}

void Engine::crypto_use_changed() {
    // The forced PMTUd rerun comes from crypto_changed(), which the switch
    // has just called under the same exclusive lock.
    impl_->reset_data_mtu(KNET_SUB_CRYPTO);
}

void Engine::pmtud_changed() {
    State& s = *impl_;
    s.pmtud_generation.fetch_add(1);
    s.wake_pmtud(true);
}

void Engine::forwarding_changed() {
    uint64_t one = 1;
    (void)!::write(impl_->tx_wake.get(), &one, sizeof one);
}

}  // namespace knet::engine
