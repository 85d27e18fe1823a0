// The timer threads: heartbeat (pings, pong timeouts, notifications) and
// path MTU discovery.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/state.h"
#include "engine/stats.h"
#include "net/address.h"
#include "proto/wire.h"

namespace knet::engine {
namespace {

constexpr uint64_t kHbMaxSleepNs = 200'000'000ULL;  // reference KNET_THREADS_TIMERES
constexpr uint64_t kHbMinSleepNs = 1'000'000ULL;
constexpr size_t kCtlBuf = 1024;
// The PMTUd thread looks at its links at least this often: the links that
// just ran come due no sooner, and it is a safety net under wake_pmtud().
constexpr uint64_t kPmtudMaxSleepNs = 1'000'000'000ULL;

// How early a ping (or a once-a-second adjustment) may go when the thread is
// awake anyway: 1/16 of the ping interval, at most 20 ms.  Links whose pings
// fall in one window are then pinged in one wake-up from then on.
uint64_t coalesce_window_ns(uint64_t ping_interval_ms) {
    constexpr uint64_t kMaxNs = 20'000'000ULL;
    return std::min<uint64_t>(ping_interval_ms * 1'000'000ULL / 16, kMaxNs);
}

bool pingable(const core::Link& l) {
    return l.configured && l.enabled && l.transport == KNET_TRANSPORT_UDP &&
           (!l.dynamic || l.rt.dynconnected.load(std::memory_order_acquire));
}

}  // namespace

void State::hb_main() {
    auto pkt = std::make_unique<uint8_t[]>(kCtlBuf);
    auto crypt = std::make_unique<uint8_t[]>(kCtlBuf);
    LinkStatsBatch lstats;
    while (!stop.load(std::memory_order_relaxed)) {
        fire_pending();
        const uint64_t now = mono_ns();
        uint64_t next = now + kHbMaxSleepNs;
        if (!lock_shared_or_stop()) break;
        const bool untimed = force_untimed_ping.exchange(false, std::memory_order_acq_rel);
        for (knet_node_id_t id : h.host_ids()) {
            core::Host* host = h.find_host(id);
            HostState* hs = host_state(id);
            if (!host || !hs) continue;
            for (core::Link& link : host->links) {
                if (!pingable(link)) continue;
                LinkState& ls = hs->links[link.id];
                const bool tc = link.rt.transport_connected.load(std::memory_order_relaxed);
                proto::HeartbeatTick t;
                {
                    std::lock_guard g(link.rt.mutex);
                    t = untimed ? ls.hb.force_ping(now, tc)
                                : ls.hb.tick(now, tc, coalesce_window_ns(link.ping_interval_ms));
                }
                if (t.send_ping) {
                    proto::PingPayload p;
                    p.link = link.id;
                    // Stamped now, not at the start of the sweep: with many
                    // links the sweep itself (and the peers its sends wake)
                    // takes long enough to show up as latency.
                    p.time = proto::ping_time_from_ns(mono_ns());
                    p.seq = tx_seq.load(std::memory_order_relaxed);
                    p.timed = t.ping_timed ? 1 : 0;
                    const size_t n = proto::encode_ping({pkt.get(), kCtlBuf}, proto::PacketType::Ping,
                                                        h.host_id, p);
                    size_t wire = 0;
                    const int err = send_control(link, ls, pkt.get(), n, crypt.get(), kCtlBuf, &wire);
                    LinkCounters& c = lstats.of(link);
                    if (err) {
                        c.tx_ping_errors++;
                        KNET_LOG_T(log(), KNET_SUB_HEARTBEAT, "ping host %u link %u: %s", id,
                                   link.id, strerror(err));
                    } else {
                        c.tx_ping_packets++;
                        c.tx_ping_bytes += wire;
                        std::lock_guard g(link.rt.mutex);
                        ls.last_ping_size = static_cast<uint32_t>(wire);
                    }
                }
                if (t.transition && !t.transition->connected)
                    link_transition(*host, link, false, proto::to_string(t.transition->reason));
                if (t.next_deadline_ns) next = std::min(next, t.next_deadline_ns);
            }
        }
        lstats.flush();
        h.lock.unlock_shared();
        fire_pending();

        const uint64_t after = mono_ns();
        uint64_t sleep_ns = next > after ? next - after : 0;
        sleep_ns = std::clamp(sleep_ns, kHbMinSleepNs, kHbMaxSleepNs);
        std::unique_lock lk(hb_mutex);
        hb_cv.wait_for(lk, std::chrono::nanoseconds(sleep_ns),
                       [this] { return hb_kick || stop.load(std::memory_order_relaxed); });
        hb_kick = false;
    }
    fire_pending();
}

// ---------------------------------------------------------------- PMTUd

namespace {

struct LinkRef {
    knet_node_id_t host;
    uint8_t link;
};

}  // namespace

class PmtudRunner {
public:
    explicit PmtudRunner(State& s)
        : s_(s),
          probe_(std::make_unique_for_overwrite<uint8_t[]>(kProbeBuf)),
          crypt_(std::make_unique_for_overwrite<uint8_t[]>(kProbeBuf + 1024)) {}

    // One pass over the links: runs the ones that are due.  Returns when the
    // next unforced run of a link that did not run is due (UINT64_MAX: none
    // is scheduled; a link coming up forces one).
    uint64_t round(bool force) {
        std::vector<LinkRef> todo;
        uint64_t next = std::numeric_limits<uint64_t>::max();
        if (!s_.lock_shared_or_stop()) return next;
        const uint64_t now = mono_ns();
        const uint32_t interval_s = s_.h.pmtud_interval_s;
        for (knet_node_id_t id : s_.h.host_ids()) {
            core::Host* host = s_.h.find_host(id);
            HostState* hs = s_.host_state(id);
            if (!host || !hs) continue;
            for (core::Link& l : host->links) {
                LinkState& ls = hs->links[l.id];
                if (!l.configured || l.transport != KNET_TRANSPORT_UDP) continue;
                if (!l.enabled || !l.rt.connected.load() ||
                    (l.dynamic && !l.rt.dynconnected.load())) {
                    ls.pmtud.on_link_down();
                    continue;
                }
                uint32_t ping_size;
                {
                    std::lock_guard g(l.rt.mutex);
                    ping_size = ls.last_ping_size;
                }
                if (!ping_size) continue;
                if (s_.h.manual_mtu) {
                    // Computed from the current settings: never stale.
                    const uint64_t epoch = s_.data_mtu_epoch.load();
                    proto::PmtudParams p = params(l, ls);
                    if (ls.pmtud.apply_manual_mtu(s_.h.manual_mtu, p))
                        set_link_mtu(*host, l, ls, epoch);
                    else
                        ls.mtu_epoch = epoch;
                    continue;
                }
                if (ls.pmtud.due(now, interval_s, force))
                    todo.push_back({id, l.id});
                else
                    next = std::min(next, ls.pmtud.next_due_ns(interval_s));
            }
        }
        update_data_mtu();
        s_.h.lock.unlock_shared();

        for (const LinkRef& r : todo) {
            if (s_.stop.load()) return next;
            run_link(r, force);
        }
        if (!todo.empty() && s_.lock_shared_or_stop()) {
            update_data_mtu();
            s_.h.lock.unlock_shared();
        }
        // The links that just ran are not due again for a second at least
        // (interval >= 1 s, retry after a failure 1 s): the caller's 1 s cap
        // on its sleep covers them.
        return next;
    }

private:
    static constexpr size_t kProbeBuf = proto::kPmtudSizeMax + 64;

    proto::PmtudParams params(core::Link& l, LinkState& ls) {
        proto::PmtudParams p;
        const int f = l.dst_addr.ss_family ? l.dst_addr.ss_family : l.src_addr.ss_family;
        p.family = f == AF_INET6 ? proto::IpFamily::V6 : proto::IpFamily::V4;
        p.transport_overhead = proto::kPmtudUdpOverhead;
        p.crypto = s_.crypto_overhead();
        std::lock_guard g(l.rt.mutex);
        p.last_ping_size = ls.last_ping_size;
        p.pong_timeout_adj_us = ls.hb.pong_timeout_adj_us();
        if (!p.pong_timeout_adj_us) p.pong_timeout_adj_us = l.pong_timeout_ms * 1000;
        return p;
    }

    // Handle::lock shared.
    // `epoch`: State::data_mtu_epoch when the measurement began.
    void set_link_mtu(core::Host& host, core::Link& l, LinkState& ls, uint64_t epoch) {
        ls.mtu_epoch = epoch;
        const uint32_t old = l.rt.mtu.exchange(ls.pmtud.mtu());
        const bool was = l.rt.has_valid_mtu.exchange(ls.pmtud.has_valid_mtu());
        if (old && old != ls.pmtud.mtu())
            KNET_LOG_I(s_.log(), KNET_SUB_PMTUD, "PMTUD link change for host: %u link: %u from %u to %u",
                       host.id, l.id, old, ls.pmtud.mtu());
        if (was != ls.pmtud.has_valid_mtu()) s_.refresh_host(host);
    }

    // Handle::lock shared.
    void update_data_mtu() {
        std::lock_guard g(s_.data_mtu_mutex);
        const uint64_t epoch = s_.data_mtu_epoch.load();
        std::vector<uint32_t> mtus;
        for (knet_node_id_t id : s_.h.host_ids()) {
            core::Host* host = s_.h.find_host(id);
            HostState* hs = s_.host_state(id);
            if (!host || !hs) continue;
            for (core::Link& l : host->links) {
                if (!l.configured || !l.enabled || l.transport != KNET_TRANSPORT_UDP) continue;
                if (!l.rt.connected.load() || !l.rt.has_valid_mtu.load()) continue;
                if (hs->links[l.id].mtu_epoch != epoch) continue;  // measured before a reset
                mtus.push_back(l.rt.mtu.load());
            }
        }
        auto m = proto::data_mtu_from_links(mtus);
        if (!m) return;
        if (s_.h.data_mtu.exchange(*m) == *m) return;
        KNET_LOG_I(s_.log(), KNET_SUB_PMTUD, "Global data MTU changed to: %u", *m);
        s_.notify_data_mtu(*m);
    }

    // Finds the link again under the (re)taken shared lock.
    bool lookup(const LinkRef& r, core::Host** host, core::Link** link, LinkState** ls) {
        *host = s_.h.find_host(r.host);
        HostState* hs = s_.host_state(r.host);
        if (!*host || !hs) return false;
        *link = &(*host)->links[r.link];
        *ls = &hs->links[r.link];
        return (*link)->configured && (*link)->transport == KNET_TRANSPORT_UDP;
    }

    void run_link(const LinkRef& r, bool force) {
        const uint32_t gen = s_.pmtud_generation.load();
        core::Host* host;
        core::Link* link;
        LinkState* ls;
        proto::PmtudStep step;
        if (!s_.lock_shared_or_stop()) return;
        if (!lookup(r, &host, &link, &ls) || !ls->pmtud.due(mono_ns(), s_.h.pmtud_interval_s, force)) {
            s_.h.lock.unlock_shared();
            return;
        }
        KNET_LOG_D(s_.log(), KNET_SUB_PMTUD, "Starting PMTUD for host: %u link: %u", r.host, r.link);
        const proto::PmtudParams p = params(*link, *ls);
        // knet_link_status.proto_overhead is filled in from the link's first
        // PMTUd run on (man knet_link_get_status), with the crypto of that run.
        link->rt.proto_overhead.store(
            proto::link_proto_overhead(p.family, p.transport_overhead, p.crypto));
        const uint64_t epoch = s_.data_mtu_epoch.load();
        step = ls->pmtud.start(p, mono_ns());
        s_.h.lock.unlock_shared();

        for (;;) {
            if (s_.stop.load()) return;
            if (step.action == proto::PmtudStep::Action::Wait) {
                std::unique_lock lk(s_.pmtud_mutex);
                const auto deadline = std::chrono::steady_clock::time_point(
                    std::chrono::nanoseconds(step.deadline_ns));
                s_.pmtud_cv.wait_until(lk, deadline, [&] {
                    return s_.stop.load() || s_.reply_ready || s_.pmtud_generation.load() != gen;
                });
                const bool got = s_.reply_ready && s_.reply_host == r.host && s_.reply_link == r.link;
                const uint32_t size = s_.reply_size;
                s_.reply_ready = false;
                lk.unlock();
                if (!s_.lock_shared_or_stop()) return;
                if (!valid(r, gen, &host, &link, &ls)) return;
                step = got ? ls->pmtud.on_reply(size, mono_ns()) : ls->pmtud.on_timer(mono_ns());
                s_.h.lock.unlock_shared();
                continue;
            }
            if (!s_.lock_shared_or_stop()) return;
            if (!valid(r, gen, &host, &link, &ls)) return;
            if (step.action == proto::PmtudStep::Action::SendProbe) {
                step = send_probe(*link, *ls, step);
                s_.h.lock.unlock_shared();
                continue;
            }
            if (step.action == proto::PmtudStep::Action::Done) {
                KNET_LOG_D(s_.log(), KNET_SUB_PMTUD,
                           "PMTUD completed for host: %u link: %u current link mtu: %u", r.host,
                           r.link, step.link_mtu);
            } else {
                KNET_LOG_D(s_.log(), KNET_SUB_PMTUD, "PMTUD failed for host: %u link: %u: %s",
                           r.host, r.link, proto::to_string(step.failure));
            }
            if (step.misconfig_warning)
                KNET_LOG_W(s_.log(), KNET_SUB_PMTUD,
                           "possible MTU misconfiguration detected for host %u link %u", r.host,
                           r.link);
            set_link_mtu(*host, *link, *ls, epoch);
            s_.h.lock.unlock_shared();
            return;
        }
    }

    // After re-taking the lock: is the run still meaningful?  On false the
    // lock has been released.
    bool valid(const LinkRef& r, uint32_t gen, core::Host** host, core::Link** link, LinkState** ls) {
        const bool ok = lookup(r, host, link, ls);
        if (ok && s_.pmtud_generation.load() == gen && (*link)->rt.connected.load()) return true;
        if (ok) (*ls)->pmtud.abort();
        s_.h.lock.unlock_shared();
        return false;
    }

    // Handle::lock shared.
    proto::PmtudStep send_probe(core::Link& link, LinkState& ls, const proto::PmtudStep& step) {
        proto::PmtudPayload p;
        p.link = link.id;
        p.size = static_cast<uint16_t>(step.onwire_len);
        const size_t n = proto::encode_pmtud({probe_.get(), kProbeBuf}, proto::PacketType::Pmtud,
                                             s_.h.host_id, p, step.packet_len);
        {
            std::lock_guard g(s_.pmtud_mutex);
            s_.reply_ready = false;
        }
        s_.kernel_mtu.store(0);
        size_t wire = 0;
        const int err = n ? s_.send_control(link, ls, probe_.get(), n, crypt_.get(),
                                            kProbeBuf + 1024, &wire)
                          : EINVAL;
        proto::ProbeSendResult res = proto::ProbeSendResult::Sent;
        {
            std::lock_guard g(link.rt.mutex);
            if (!err) {
                link.rt.stats.tx_pmtu_packets++;
                link.rt.stats.tx_pmtu_bytes += wire;
            } else if (err == EMSGSIZE || err == EPERM) {
                res = proto::ProbeSendResult::TooBig;
            } else {
                link.rt.stats.tx_pmtu_errors++;
                res = proto::ProbeSendResult::HardError;
            }
        }
        return ls.pmtud.on_send_result(res, s_.kernel_mtu.load(), mono_ns());
    }

    State& s_;
    std::unique_ptr<uint8_t[]> probe_, crypt_;
};

void State::pmtud_main() {
    PmtudRunner runner(*this);
    // Sleeps until the next run is due or something changed (wake_pmtud),
    // instead of looking at every link five times a second: on a hub with
    // many links that pass was most of this thread's cost.
    uint64_t next_due = 0;
    while (!stop.load()) {
        {
            std::unique_lock lk(pmtud_mutex);
            const uint64_t now = mono_ns();
            const uint64_t until = std::min(next_due, now + kPmtudMaxSleepNs);
            if (until > now)
                pmtud_cv.wait_for(lk, std::chrono::nanoseconds(until - now), [this] {
                    return stop.load() || pmtud_kick;  // wake_pmtud(force) kicks too
                });
            pmtud_kick = false;
        }
        if (stop.load()) break;
        next_due = runner.round(pmtud_force.exchange(false));
    }
}

}  // namespace knet::engine
