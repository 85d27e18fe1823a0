// The receive path: epoll over the link sockets, recvmmsg batches, and a
// pipeline of small stages per packet:
//   decrypt -> decode -> source host/link check -> ACL -> by type:
//   PING -> PONG reply, PONG -> heartbeat, PMTUD -> reply, PMTUD_REPLY ->
//   pmtud thread, DATA -> dedup -> defrag -> decompress -> filter -> datafd.
// Each refusal has a named reason that is counted and logged at debug level.
// Decryption runs first for all the packets of a recvmmsg round (shared
// with helper threads when there is enough of it, engine/work_share.h),
// into a clear arena laid out like the receive buffers; the rest of the
// pipeline then runs packet by packet in arrival order.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include <linux/sock_diag.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/backlog_boost.h"
#include "engine/state.h"
#include "engine/stats.h"
#include "engine/work_share.h"
#include "net/address.h"
#include "net/batch.h"
#include "proto/wire.h"

namespace knet::engine {
namespace {

enum class RxDrop : uint8_t {
    Truncated,
    NoCrypto,
    DecryptFailed,
    Malformed,
    UnknownHost,
    UnknownLink,
    ForgedSource,
    AclRejected,
    Unreachable,
    Duplicate,
    Fragment,
    Decompress,
    Forwarding,
    Filter,
    NoChannel,
    AppWrite,
    kCount
};

const char* drop_name(RxDrop d) {
    static const char* names[] = {"truncated",       "clear traffic refused", "decrypt failed",
                                  "malformed",       "unknown host",          "unknown link",
                                  "forged source",   "ACL rejected",          "host unreachable",
                                  "duplicate",       "fragment refused",      "decompress failed",
                                  "forwarding off",  "filter",                "no channel",
                                  "app write failed"};
    return names[static_cast<int>(d)];
}

}  // namespace

class RxPipeline {
public:
    explicit RxPipeline(State& s)
        : s_(s),
          batch_(kBatch, kBufSize),
          clear_(std::make_unique_for_overwrite<uint8_t[]>(kBatch * kBufSize)),
          pkts_(std::make_unique<RxPacket[]>(kMaxPackets)),
          sharer_(WorkSharer::default_helpers()),
          out_arena_(std::make_unique_for_overwrite<uint8_t[]>(kOutArena)),
          out_msgs_(std::make_unique<mmsghdr[]>(kBatch)),
          out_iov_(std::make_unique<iovec[]>(kIovPool)),
          pieces_(std::make_unique<std::span<const uint8_t>[]>(proto::kMaxFragments)),
          out_chan_(std::make_unique<int8_t[]>(kBatch)),
          reply_(std::make_unique<uint8_t[]>(kReplySize)),
          reply_crypt_(std::make_unique<uint8_t[]>(kReplySize + 512)),
          dst_ids_(std::make_unique<knet_node_id_t[]>(KNET_MAX_HOST)) {
        // At most kBatch buffers ever exist (one per queued delivery): the
        // vectors never grow on the receive path.
        held_bufs_.reserve(kBatch);
        spare_bufs_.reserve(kBatch);
    }

    static constexpr size_t kBatch = 32;
    static constexpr size_t kBufSize = KNET_MAX_PACKET_SIZE + 1024;
    static constexpr size_t kReplySize = 64;
    // Packets (datagrams, or segments of coalesced ones) decrypted together.
    static constexpr size_t kMaxPackets = 512;
    // Below this many bytes to decrypt, waking helpers costs more than it saves.
    static constexpr size_t kShareMinBytes = 128 * 1024;
    // Packets handed to one Instance::decrypt_many() call (16: the MACs of
    // as many packets are checked at once, see kJobsPerCall in tx.cpp).
    static constexpr size_t kDecryptPerCall = 16;
    // Deliveries to message sockets are queued (at most one per received
    // packet) and written with sendmmsg once per recvmmsg round; payloads
    // that do not live in the receive batch (decompressed, reassembled) are
    // placed in this arena.
    static constexpr size_t kOutArena = 4 * KNET_MAX_PACKET_SIZE;
    // iovecs of the queued deliveries: one per message, or one per piece of
    // a datagram delivered straight from the fragments it came in.
    static constexpr size_t kIovPool = 1024;
    // Reassemblers holding fragments lent this round (settle_lent()); more
    // are settled at once.
    static constexpr size_t kLendingMax = 64;

    // One readable socket: up to a few recvmmsg rounds.  Handle::lock shared.
    void drain_socket(int fd) {
        for (int round = 0; round < 8; ++round) {
            round_wait_start_ = 0;
            int n = batch_.receive(fd);
            if (n < 0) {
                s_.drain_socket_errors(fd);
                break;
            }
            round_ns_ = mono_ns();
            size_t np = 0;
            for (int i = 0; i < n; ++i) {
                const size_t slot = static_cast<size_t>(i);
                const std::span<uint8_t> all = batch_.data(slot);
                size_t seg = batch_.gso_size(slot);
                // Several datagrams coalesced by UDP_GRO, or just one.
                if (seg == 0 || seg >= all.size()) seg = all.size();
                for (size_t off = 0; off == 0 || off < all.size(); off += seg) {
                    const size_t len = std::min(seg, all.size() - off);
                    pkts_[np++] = RxPacket{static_cast<uint32_t>(slot),
                                           static_cast<uint32_t>(off), static_cast<uint32_t>(len),
                                           0, RxPacket::kClear, 0};
                    if (np == kMaxPackets) {
                        process(fd, np);
                        np = 0;
                    }
                    if (seg == 0) break;  // empty datagram
                }
            }
            process(fd, np);
            // Before the next receive reuses the buffers.
            flush_out();
            settle_lent();
            if (static_cast<size_t>(n) < batch_.capacity()) {
                apply(boost_.on_drained(fd));
                break;
            }
            if (round == 0) check_backlog(fd);
        }
    }

    // Now and then (at least every epoll timeout).
    void tick() {
        if (boost_.raised()) apply(boost_.on_tick(mono_ns()));
    }
    bool needs_tick() const { return boost_.raised(); }

    void end_batch() {
        round_wait_start_ = 0;
        flush_out();
        lstats_.flush();
        hstats_.flush(s_.h.rt);
    }

    uint64_t drops(RxDrop d) const { return drops_[static_cast<int>(d)]; }
    // Whether a data packet came in since the last call.
    bool take_data_seen() { return std::exchange(data_seen_, false); }

private:
    // One received packet: where it is in the receive batch and, once
    // process() decrypted it, where its clear text is.
    struct RxPacket {
        enum : uint8_t { kClear, kDecrypted, kFailed };
        uint32_t slot, off, len;
        uint32_t clear_len;
        uint8_t state;
        uint64_t crypt_ns;
    };

    std::span<uint8_t> wire_of(const RxPacket& p) {
        return {batch_.buffer(p.slot) + p.off, p.len};
    }
    // The clear text of a packet goes at the same offset in clear_ as the
    // packet has in the receive buffers: decryption only ever shrinks a
    // packet, so packets never overlap there either.
    uint8_t* clear_of(const RxPacket& p) {
        return clear_.get() + p.slot * batch_.buffer_size() + p.off;
    }

    // The key slot tried first on receipt (slot 1 when none is selected).
    int key_slot_in_use() const { return s_.h.crypto_in_use ? s_.h.crypto_in_use : 1; }

    // Decrypts pkts_[first, end) (at most kDecryptPerCall): the key slot in
    // use first, in one call so the backend can authenticate several packets
    // at once, then the other slot for what it refused (key rotation).
    // Any thread; Handle::lock held shared by the rx thread.
    void decrypt_some(size_t first, size_t end) {
        const uint64_t t0 = mono_ns();
        const size_t n = end - first;
        crypto::DecryptJob jobs[kDecryptPerCall];
        for (size_t i = 0; i < n; ++i) {
            RxPacket& p = pkts_[first + i];
            jobs[i].in = wire_of(p).data();
            jobs[i].in_len = p.len;
            jobs[i].out = clear_of(p);
            jobs[i].out_cap = p.len;
            jobs[i].status = Error{EBADMSG};
        }
        const int in_use = key_slot_in_use();
        if (const crypto::Instance* c = s_.crypto[in_use].get()) c->decrypt_many(jobs, n);
        if (const crypto::Instance* other = s_.crypto[3 - in_use].get()) {
            for (size_t i = 0; i < n; ++i) {
                crypto::DecryptJob& j = jobs[i];
                if (!j.status) j.status = other->decrypt(j.in, j.in_len, j.out, j.out_cap, &j.out_len);
            }
        }
        const uint64_t ns = (mono_ns() - t0) / n;
        for (size_t i = 0; i < n; ++i) {
            RxPacket& p = pkts_[first + i];
            p.state = jobs[i].status ? RxPacket::kDecrypted : RxPacket::kFailed;
            p.clear_len = static_cast<uint32_t>(jobs[i].out_len);
            p.crypt_ns = ns;
        }
    }

    // Decrypts the first np entries of pkts_, in calls of a few packets,
    // shared with the helper threads when the round is large enough (at
    // least two packets per call: the backend authenticates pairs).
    void decrypt_all(size_t np) {
        size_t bytes = 0;
        for (size_t k = 0; k < np; ++k) bytes += pkts_[k].len;
        const bool share = bytes >= kShareMinBytes;
        const crypto::Instance* inst = s_.crypto[key_slot_in_use()].get();
        const size_t full = inst ? inst->full_speed_batch() : 1;
        const size_t per_call =
            share ? sharer_.per_call(np, 2, kDecryptPerCall, full) : kDecryptPerCall;
        const size_t calls = (np + per_call - 1) / per_call;
        auto call = [this, per_call, np](size_t c) {
            decrypt_some(c * per_call, std::min(np, (c + 1) * per_call));
        };
        if (share)
            sharer_.run(calls, call);
        else
            for (size_t c = 0; c < calls; ++c) call(c);
    }

    // Decrypts (if crypto is configured) then runs the pipeline for the
    // first np entries of pkts_.
    void process(int fd, size_t np) {
        if (np == 0) return;
        if (s_.any_crypto()) decrypt_all(np);
        for (size_t k = 0; k < np; ++k) {
            const RxPacket& p = pkts_[k];
            packet(fd, p, batch_.from(p.slot), batch_.truncated(p.slot));
        }
    }

    void drop(RxDrop why, const sockaddr_storage& from) {
        ++drops_[static_cast<int>(why)];
        if (s_.log()->enabled(KNET_SUB_RX, KNET_LOG_DEBUG)) {
            char buf[net::kAddrStrLen];
            KNET_LOG_D(s_.log(), KNET_SUB_RX, "packet from %s dropped: %s", net::format(from, buf),
                       drop_name(why));
        }
    }

    bool acl_ok(const core::Link& link, const sockaddr_storage& from) const {
        return !s_.h.access_lists || core::acl_accepts(link.acl, from);
    }

    void packet(int fd, const RxPacket& p, const sockaddr_storage& from, bool truncated) {
        if (p.len == 0) return;
        if (truncated) return drop(RxDrop::Truncated, from);

        // ---- decrypted by process() ----
        std::span<const uint8_t> clear = wire_of(p);
        const bool decrypted = p.state == RxPacket::kDecrypted;
        const uint64_t crypt_ns = p.crypt_ns;
        const bool any_crypto = s_.any_crypto();
        if (!any_crypto && !s_.h.rx_allow_clear) return drop(RxDrop::NoCrypto, from);
        if (decrypted) clear = {clear_of(p), p.clear_len};
        if (any_crypto && !decrypted && !s_.h.rx_allow_clear) return drop(RxDrop::DecryptFailed, from);

        // ---- decode ----
        proto::DecodeResult d = proto::decode(clear);
        if (!d.ok()) return drop(RxDrop::Malformed, from);
        const proto::Packet& pkt = d.packet;

        core::Host* host = s_.h.find_host(pkt.header.node);
        HostState* hs = host ? s_.host_state(pkt.header.node) : nullptr;
        if (!host || !hs) return drop(RxDrop::UnknownHost, from);
        // Loaded first: an exchange on every packet is a full barrier that
        // waits for the stores of the packet before (a fragment's copy) to
        // drain.  At MTU 1500 that wait was 6 % of the whole machine's CPU.
        if (hs->rx_reset.load(std::memory_order_acquire) &&
            hs->rx_reset.exchange(false, std::memory_order_acq_rel)) {
            hs->dedup.reset();
            hs->defrag.clear();
        }

        // ---- source link ----
        core::Link* link = nullptr;
        if (proto::is_control(pkt.header.type)) {
            const uint8_t id = (pkt.header.type == proto::PacketType::Ping ||
                                pkt.header.type == proto::PacketType::Pong)
                                   ? pkt.ping.link
                                   : pkt.pmtud.link;
            link = &host->links[id];
            if (!link->configured || link->transport != KNET_TRANSPORT_UDP || hs->links[id].fd < 0)
                return drop(RxDrop::UnknownLink, from);
            if (!acl_ok(*link, from)) return drop(RxDrop::AclRejected, from);
            if (!link->dynamic) {
                if (!net::same_endpoint(from, link->dst_addr)) return drop(RxDrop::ForgedSource, from);
            } else {
                learn_peer(*host, *link, from);
            }
        } else {
            for (core::Link& l : host->links) {
                if (!l.configured || l.transport != KNET_TRANSPORT_UDP) continue;
                if (!l.dynamic) {
                    if (net::same_endpoint(from, l.dst_addr)) {
                        link = &l;
                        break;
                    }
                } else if (l.rt.dynconnected.load(std::memory_order_acquire)) {
                    std::lock_guard g(l.rt.mutex);
                    if (net::same_endpoint(from, l.rt.dyn_dst)) {
                        link = &l;
                        break;
                    }
                }
            }
            if (!link) return drop(RxDrop::UnknownLink, from);
            if (!acl_ok(*link, from)) return drop(RxDrop::AclRejected, from);
        }
        LinkState& ls = hs->links[link->id];
        LinkCounters& lc = lstats_.of(*link);
        (void)fd;

        switch (pkt.header.type) {
        case proto::PacketType::Data:
            data_seen_ = true;
            lc.rx_data_packets++;
            lc.rx_data_bytes += clear.size();
            if (decrypted) {
                hstats_.rx_crypt.add(crypt_ns);
                hstats_.dirty = true;
            }
            if (!host->rt.reachable.load(std::memory_order_acquire)) fast_data_up(*host, *link, ls);
            return data(*host, *hs, pkt, from);
        case proto::PacketType::Ping:
            lc.rx_ping_packets++;
            lc.rx_ping_bytes += clear.size();
            hs->dedup.on_ping(pkt.ping.seq, pkt.ping.timed != 0);
            return reply_ping(*link, ls, pkt, lc);
        case proto::PacketType::Pong:
            lc.rx_pong_packets++;
            lc.rx_pong_bytes += clear.size();
            return pong(*host, *link, ls, pkt);
        case proto::PacketType::Pmtud:
            lc.rx_pmtu_packets++;
            lc.rx_pmtu_bytes += clear.size();
            return reply_pmtud(*link, ls, pkt, lc);
        case proto::PacketType::PmtudReply:
            lc.rx_pmtu_packets++;
            lc.rx_pmtu_bytes += clear.size();
            {
                std::lock_guard g(s_.pmtud_mutex);
                s_.reply_ready = true;
                s_.reply_host = host->id;
                s_.reply_link = link->id;
                s_.reply_size = pkt.pmtud.size;
            }
            s_.pmtud_cv.notify_all();
            return;
        }
    }

    void learn_peer(core::Host& host, core::Link& link, const sockaddr_storage& from) {
        bool changed = false;
        {
            std::lock_guard g(link.rt.mutex);
            if (!net::same_endpoint(link.rt.dyn_dst, from)) {
                link.rt.dyn_dst = from;
                changed = true;
            }
        }
        link.rt.dynconnected.store(true, std::memory_order_release);
        if (changed) {
            char buf[net::kAddrStrLen];
            KNET_LOG_I(s_.log(), KNET_SUB_RX, "host: %u link: %u new connection established from: %s",
                       host.id, link.id, net::format(from, buf));
        }
    }

    void reply_ping(core::Link& link, LinkState& ls, const proto::Packet& pkt, LinkCounters& lc) {
        size_t n = proto::encode_ping({reply_.get(), kReplySize}, proto::PacketType::Pong,
                                      s_.h.host_id, pkt.ping);
        size_t wire = 0;
        int err = s_.send_control(link, ls, reply_.get(), n, reply_crypt_.get(), kReplySize + 512, &wire);
        if (err) {
            lc.tx_pong_errors++;
        } else {
            lc.tx_pong_packets++;
            lc.tx_pong_bytes += wire;
        }
    }

    void reply_pmtud(core::Link& link, LinkState& ls, const proto::Packet& pkt, LinkCounters& lc) {
        size_t n = proto::encode_pmtud({reply_.get(), kReplySize}, proto::PacketType::PmtudReply,
                                       s_.h.host_id, pkt.pmtud, 0);
        size_t wire = 0;
        if (s_.send_control(link, ls, reply_.get(), n, reply_crypt_.get(), kReplySize + 512, &wire))
            lc.tx_pmtu_errors++;
    }

    // Data from a host not reachable yet, on a link whose ping/pong link-up
    // is under way: the link goes up now (LinkHeartbeat::on_data_while_down)
    // and data() keeps the packet instead of dropping it.
    void fast_data_up(core::Host& host, core::Link& link, LinkState& ls) {
        if (!link.enabled) return;
        std::optional<proto::LinkTransition> t;
        {
            std::lock_guard g(link.rt.mutex);
            t = ls.hb.on_data_while_down();
        }
        if (t) s_.link_transition(host, link, true, proto::to_string(t->reason));
    }

    void pong(core::Host& host, core::Link& link, LinkState& ls, const proto::Packet& pkt) {
        if (!link.enabled) return;
        const uint64_t now = mono_ns();
        const uint64_t echoed = proto::ping_time_to_ns(pkt.ping.time);
        proto::PongResult r;
        {
            std::lock_guard g(link.rt.mutex);
            r = ls.hb.on_pong(echoed, now);
            link.rt.latency_us = ls.hb.latency_us();
            link.rt.pong_last.tv_sec = static_cast<time_t>(now / 1'000'000'000ULL);
            link.rt.pong_last.tv_nsec = static_cast<long>(now % 1'000'000'000ULL);
            const proto::LatencyStats st = ls.hb.latency_stats();
            if (st.samples) {
                link.rt.stats.latency_min = st.min;
                link.rt.stats.latency_max = st.max;
                link.rt.stats.latency_ave = st.ave;
                link.rt.stats.latency_samples = st.samples;
            }
        }
        if (r.transition && r.transition->connected)
            s_.link_transition(host, link, true, proto::to_string(r.transition->reason));
    }

    void data(core::Host& host, HostState& hs, const proto::Packet& pkt, const sockaddr_storage& from) {
        if (!host.rt.reachable.load(std::memory_order_acquire)) return drop(RxDrop::Unreachable, from);
        hs.dedup.note_data();
        const uint16_t seq = pkt.data.seq;
        if (!hs.dedup.check(seq)) return drop(RxDrop::Duplicate, from);
        // Room in the delivery queue first: a flush recycles the arena and
        // the buffers taken from the Reassemblers, so none may come between
        // placing this datagram there (decompressing it) and queueing it.
        // (One did: the decompressed datagram was then overwritten by the
        // next one, which reached the application twice.)
        if (out_n_ == kBatch || kIovPool - out_iov_used_ < proto::kMaxFragments) flush_out();

        std::span<const uint8_t> payload = pkt.user_data;
        bool reassembled = false;  // payload is in hs.defrag until its next push
        // The datagram is in pieces (payload empty): some or all of its
        // fragments are still where this round received them.
        bool scattered = false;
        if (pkt.data.frag_num != 1) {
            // Fragments are lent to the Reassembler: the receive buffers stay
            // as they are until settle_lent() at the end of the round.
            const bool was_lending = hs.defrag.lending();
            proto::DefragResult r =
                hs.defrag.push(pkt.data, payload, round_ns_, hs.dedup, proto::Hold::Lend);
            if (!was_lending && hs.defrag.lending()) note_lending(hs.defrag);
            if (r.status == proto::DefragStatus::Pending) return;
            if (r.status != proto::DefragStatus::Complete) return drop(RxDrop::Fragment, from);
            reassembled = true;
            payload = r.datagram;
            // What needs the datagram in one piece gets it in one piece.
            scattered = r.scattered && !pkt.data.compress && !s_.h.dst_filter.fn;
            if (r.scattered && !scattered) payload = hs.defrag.gather_completed();
        }
        if (pkt.data.compress) {
            const uint64_t t0 = mono_ns();
            uint8_t* dst = out_room();
            auto r = s_.decompressor.decompress(pkt.data.compress, payload,
                                                {dst, KNET_MAX_PACKET_SIZE});
            if (!r) {
                KNET_LOG_E(s_.log(), KNET_SUB_COMPRESS, "Unable to decompress packet: %s",
                           strerror(r.error()));
                return drop(RxDrop::Decompress, from);
            }
            hstats_.rx_compress.add(mono_ns() - t0);
            hstats_.rx_compressed_original_bytes += r.value();
            // As libknet counts it: with the DATA fields of the header.
            hstats_.rx_compressed_size_bytes +=
                payload.size() + proto::kDataHeaderSize - proto::kHeaderSize;
            hstats_.dirty = true;
            payload = {dst, r.value()};
            reassembled = false;
        }
        if (!s_.h.forwarding.load(std::memory_order_acquire)) return drop(RxDrop::Forwarding, from);

        int8_t channel = pkt.data.channel;
        if (s_.h.dst_filter.fn) {
            size_t entries = 0;
            int bcast = s_.h.dst_filter.fn(s_.h.dst_filter.priv, payload.data(),
                                           static_cast<ssize_t>(payload.size()), KNET_NOTIFY_RX,
                                           s_.h.host_id, host.id, &channel, dst_ids_.get(), &entries);
            if (bcast < 0) return drop(RxDrop::Filter, from);
            if (!bcast) {
                if (entries == 0 || entries > KNET_MAX_HOST) return drop(RxDrop::Filter, from);
                bool for_us = false;
                for (size_t k = 0; k < entries; ++k)
                    if (dst_ids_[k] == s_.h.host_id) for_us = true;
                if (!for_us) return drop(RxDrop::Filter, from);
            }
        }
        if (channel < 0 || channel >= KNET_DATAFD_MAX) return drop(RxDrop::NoChannel, from);
        core::Channel& ch = s_.h.channels[channel];
        if (!ch.in_use || ch.lib_fd < 0) return drop(RxDrop::NoChannel, from);

        if (s_.chan_msg[channel]) {
            // Marked now: a copy arriving on another link before the flush
            // must not be queued twice.  Empty datagrams are not written
            // (as by the write loop below).
            if (scattered) {
                queue_out_pieces(channel, ch.lib_fd, hs.defrag);
            } else if (!payload.empty()) {
                // A reassembled datagram is delivered from its own buffer,
                // which the Reassembler hands over, rather than copied.
                const bool kept = reassembled && keep_reassembled(hs.defrag);
                queue_out(channel, ch.lib_fd, payload, kept);
            }
            hs.dedup.mark(seq);
            return;
        }
        if (scattered) payload = hs.defrag.gather_completed();
        size_t off = 0;
        while (off < payload.size()) {
            ssize_t w = ch.is_socket
                            ? ::send(ch.lib_fd, payload.data() + off, payload.size() - off,
                                     MSG_DONTWAIT | MSG_NOSIGNAL)
                            : ::write(ch.lib_fd, payload.data() + off, payload.size() - off);
            if (w > 0) {
                off += static_cast<size_t>(w);
                app_took(channel);
                continue;
            }
            const int err = w < 0 ? errno : 0;
            if (err == EINTR) continue;
            if ((err == EAGAIN || err == EWOULDBLOCK) && wait_for_app(channel, ch.lib_fd)) continue;
            if (err != EAGAIN && err != EWOULDBLOCK) {
                Pending p{};
                p.kind = Pending::Kind::Sock;
                p.sock_fn = s_.h.sock_notify;
                p.fd = ch.app_fd;
                p.channel = channel;
                p.direction = KNET_NOTIFY_RX;
                p.error = static_cast<int>(w);
                p.errorno = err;
                if (p.sock_fn.fn) s_.queue_notify(p);
            }
            return drop(RxDrop::AppWrite, from);
        }
        hs.dedup.mark(seq);
    }

    // Room for one datagram at the end of the delivery arena (flushing the
    // queue first if needed).
    uint8_t* out_room() {
        if (kOutArena - out_used_ < KNET_MAX_PACKET_SIZE) flush_out();
        return out_arena_.get() + out_used_;
    }

    // A receive round filled the batch: how full is the socket's queue?
    void check_backlog(int fd) {
        uint32_t mem[SK_MEMINFO_VARS] = {};
        socklen_t len = sizeof mem;
        if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
            len < sizeof(uint32_t) * (SK_MEMINFO_RCVBUF + 1)) {
            return;
        }
        apply(boost_.on_full_round(fd, mem[SK_MEMINFO_RMEM_ALLOC], mem[SK_MEMINFO_RCVBUF], round_ns_));
    }

    // The helpers that share the decryption go up and down with the rx
    // thread: raised alone, it would wait for them at their old priority.
    void apply(BacklogBoost::Action a) {
        if (a == BacklogBoost::Action::None) return;
        const id_t tid = static_cast<id_t>(::gettid());
        int nice = own_nice_;
        if (a == BacklogBoost::Action::Raise) {
            errno = 0;
            own_nice_ = ::getpriority(PRIO_PROCESS, tid);
            if (errno != 0) own_nice_ = 0;
            nice = BacklogBoost::raised_nice(own_nice_);
            if (::setpriority(PRIO_PROCESS, tid, nice) == 0)
                KNET_LOG_D(s_.log(), KNET_SUB_RX, "receive queue over %u%% full: rx thread at nice %d",
                           BacklogBoost::kHighPercent, nice);
        } else {
            (void)::setpriority(PRIO_PROCESS, tid, nice);
        }
        sharer_.for_each_helper_tid(
            [nice](int helper) { (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(helper), nice); });
    }

    // Takes the buffer of the datagram the Reassembler just completed, in
    // exchange for a spare one; it stays valid until the next flush_out().
    // False if no spare buffer could be had (the caller copies).
    bool keep_reassembled(proto::Reassembler& defrag) {
        if (spare_bufs_.empty()) {
            std::unique_ptr<uint8_t[]> b(new (std::nothrow) uint8_t[proto::kMaxPacketSize]);
            if (!b) return false;
            spare_bufs_.push_back(std::move(b));
        }
        if (!defrag.take_completed(spare_bufs_.back())) return false;
        held_bufs_.push_back(std::move(spare_bufs_.back()));
        spare_bufs_.pop_back();
        return true;
    }

    // A Reassembler lent fragments for the first time this round.
    void note_lending(proto::Reassembler& defrag) {
        if (lending_n_ == kLendingMax) settle_lent();
        lending_[lending_n_++] = &defrag;
    }

    // The end of a receive round: the Reassemblers copy the fragments lent
    // to them that still wait for the rest of their datagram.
    void settle_lent() {
        for (size_t i = 0; i < lending_n_; ++i) lending_[i]->settle();
        lending_n_ = 0;
    }

    // Queues the datagram `defrag` just completed in pieces, straight from
    // where its fragments are: one iovec per piece, no reassembly copy.
    // data() made room in the queue.
    void queue_out_pieces(int8_t channel, int fd, proto::Reassembler& defrag) {
        bool in_buffer = false;
        const size_t n = defrag.completed_pieces({pieces_.get(), proto::kMaxFragments}, &in_buffer);
        // Pieces in the Reassembler's buffer need that buffer kept until the
        // flush; without a spare one to give in exchange, copy it all.
        if (n == 0 || (in_buffer && !keep_reassembled(defrag))) {
            const std::span<const uint8_t> whole = defrag.gather_completed();
            if (!whole.empty()) queue_out(channel, fd, whole);
            return;
        }
        iovec* const iov = &out_iov_[out_iov_used_];
        for (size_t k = 0; k < n; ++k)
            iov[k] = {const_cast<uint8_t*>(pieces_[k].data()), pieces_[k].size()};
        out_iov_used_ += n;
        queue_msg(channel, fd, iov, n);
    }

    void queue_msg(int8_t channel, int fd, iovec* iov, size_t iovlen) {
        mmsghdr& m = out_msgs_[out_n_];
        std::memset(&m, 0, sizeof m);
        m.msg_hdr.msg_iov = iov;
        m.msg_hdr.msg_iovlen = iovlen;
        out_chan_[out_n_] = channel;
        out_fd_[out_n_] = fd;
        ++out_n_;
    }

    // stable: the payload stays valid until flush_out() (no copy needed).
    // data() made room in the queue.
    void queue_out(int8_t channel, int fd, std::span<const uint8_t> payload, bool stable = false) {
        const uint8_t* p = payload.data();
        uint8_t* arena = out_arena_.get();
        const uint8_t* rb = batch_.buffer(0);
        const uint8_t* cb = clear_.get();
        const size_t batch_bytes = batch_.capacity() * batch_.buffer_size();
        const bool in_arena = p >= arena + out_used_ && p < arena + kOutArena;
        // Receive buffers and clear text stay valid until the round's flush.
        const bool in_batch =
            (p >= rb && p < rb + batch_bytes) || (p >= cb && p < cb + batch_bytes);
        if (in_arena) {
            out_used_ += payload.size();
        } else if (!in_batch && !stable) {
            uint8_t* dst = out_room();
            std::memcpy(dst, p, payload.size());
            p = dst;
            out_used_ += payload.size();
        }
        iovec* const iov = &out_iov_[out_iov_used_++];
        *iov = {const_cast<uint8_t*>(p), payload.size()};
        queue_msg(channel, fd, iov, 1);
    }

    // Writes the queued deliveries: one sendmmsg per run of the same fd.
    void flush_out() {
        size_t i = 0;
        while (i < out_n_) {
            size_t run = 1;
            while (i + run < out_n_ && out_fd_[i + run] == out_fd_[i]) ++run;
            const int r = ::sendmmsg(out_fd_[i], &out_msgs_[i], static_cast<unsigned>(run),
                                     MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r > 0) {
                i += static_cast<size_t>(r);
                app_took(out_chan_[i - 1]);
                continue;
            }
            const int err = r < 0 ? errno : EAGAIN;
            if (err == EINTR) continue;
            if ((err == EAGAIN || err == EWOULDBLOCK) && wait_for_app(out_chan_[i], out_fd_[i]))
                continue;
            if (err != EAGAIN && err != EWOULDBLOCK && s_.h.sock_notify.fn) {
                core::Channel& ch = s_.h.channels[out_chan_[i]];
                Pending p{};
                p.kind = Pending::Kind::Sock;
                p.sock_fn = s_.h.sock_notify;
                p.fd = ch.app_fd;
                p.channel = out_chan_[i];
                p.direction = KNET_NOTIFY_RX;
                p.error = -1;
                p.errorno = err;
                s_.queue_notify(p);
            }
            ++drops_[static_cast<int>(RxDrop::AppWrite)];
            KNET_LOG_D(s_.log(), KNET_SUB_RX, "delivery on channel %d dropped: %s", out_chan_[i],
                       strerror(err));
            ++i;
        }
        out_n_ = 0;
        out_used_ = 0;
        out_iov_used_ = 0;
        for (auto& b : held_bufs_) spare_bufs_.push_back(std::move(b));
        held_bufs_.clear();
    }

    // The application's end of a datafd is full (`fd` is ours): it reads
    // more slowly than we deliver.  Waiting loses nothing (what arrives
    // meanwhile queues in the UDP receive buffer) where dropping loses the
    // message.  We sleep until the socket polls writable, which it does once
    // its queue is down to a quarter, or 1 ms at most: the reader then has
    // the CPU to itself for a while and we refill its queue in one go.  (Naps of 50 us, which
    // tried again as soon as one message fitted, woke us 20 times a
    // millisecond, each time taking the CPU from the reader we wait for: 8 KB
    // messages, both nodes on 2 CPUs, lost 0.6-5.5 % in the UDP queue in 8 of
    // 8 runs, against 0.3 % in 1 of 8.)  A channel whose application takes
    // nothing for kAppStallNs is deemed stopped and not waited for again
    // until a write to it succeeds; and a receive round waits kRoundWaitNs at
    // most, so pongs and other channels are never held up for long.  True:
    // try the write again.
    bool wait_for_app(int8_t channel, int fd) {
        if (app_stuck_[channel]) return false;
        const uint64_t now = mono_ns();
        if (!round_wait_start_) round_wait_start_ = app_progress_at_ = now;
        if (app_progressed_) app_progress_at_ = now;
        app_progressed_ = false;
        if (now - app_progress_at_ < kAppStallNs && now - round_wait_start_ < kRoundWaitNs) {
            pollfd pfd{fd, POLLOUT, 0};
            (void)::poll(&pfd, 1, kAppWaitMs);
            return true;
        }
        app_stuck_[channel] = true;
        KNET_LOG_I(s_.log(), KNET_SUB_RX,
                   "channel %d: the application is not reading its datafd, dropping until it does",
                   channel);
        return false;
    }
    void app_took(int8_t channel) {
        app_stuck_[channel] = false;
        app_progressed_ = true;
    }
    static constexpr uint64_t kAppStallNs = 10'000'000, kRoundWaitNs = 50'000'000;
    static constexpr int kAppWaitMs = 1;

    State& s_;
    net::RecvBatch batch_;
    std::unique_ptr<uint8_t[]> clear_;  // laid out as the receive buffers
    std::unique_ptr<RxPacket[]> pkts_;
    WorkSharer sharer_;
    std::unique_ptr<uint8_t[]> out_arena_;
    size_t out_used_ = 0;
    // Reassembled datagrams queued for delivery (at most kBatch), and
    // buffers to give the Reassemblers in exchange.
    std::vector<std::unique_ptr<uint8_t[]>> held_bufs_, spare_bufs_;
    std::unique_ptr<mmsghdr[]> out_msgs_;
    std::unique_ptr<iovec[]> out_iov_;
    size_t out_iov_used_ = 0;
    std::unique_ptr<std::span<const uint8_t>[]> pieces_;  // of one scattered datagram
    proto::Reassembler* lending_[kLendingMax] = {};
    size_t lending_n_ = 0;
    std::unique_ptr<int8_t[]> out_chan_;
    int out_fd_[kBatch] = {};
    size_t out_n_ = 0;
    uint64_t round_ns_ = 0;          // when this receive round began: the time of its packets
    BacklogBoost boost_;
    int own_nice_ = 0;               // the thread's nice value when not raised
    uint64_t round_wait_start_ = 0;  // 0: not waited yet this round
    uint64_t app_progress_at_ = 0;
    bool app_progressed_ = false;
    bool app_stuck_[KNET_DATAFD_MAX] = {};
    bool data_seen_ = false;
    std::unique_ptr<uint8_t[]> reply_, reply_crypt_;
    std::unique_ptr<knet_node_id_t[]> dst_ids_;
    LinkStatsBatch lstats_;
    HandleStatsBatch hstats_;
    uint64_t drops_[static_cast<int>(RxDrop::kCount)] = {};
};

void State::rx_main() {
    RxPipeline pipe(*this);
    epoll_event events[32];
    IdleSpin spin;
    while (!stop.load(std::memory_order_relaxed)) {
        // An idle handle sleeps until a packet comes; only a raised backlog
        // boost needs the periodic tick that may lower it.
        int n = wait_events(rx_epoll.get(), events, 32, spin, pipe.needs_tick() ? 500 : -1);
        if (stop.load(std::memory_order_relaxed)) break;
        pipe.tick();
        if (n <= 0) continue;
        bool locked = false;
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == UINT64_MAX) {
                uint64_t v;
                (void)!::read(rx_wake.get(), &v, sizeof v);
                continue;
            }
            if (!locked) {
                if (!lock_shared_or_stop()) return;
                locked = true;
            }
            const int fd = static_cast<int>(events[i].data.u64);
            if (!sockets.contains(fd)) continue;  // cleared since epoll_wait
            if (events[i].events & EPOLLERR) drain_socket_errors(fd);
            if (events[i].events & EPOLLIN) pipe.drain_socket(fd);
        }
        if (locked) {
            pipe.end_batch();
            h.lock.unlock_shared();
        }
        if (pipe.take_data_seen()) spin.on_data(mono_ns());
    }
}

}  // namespace knet::engine
