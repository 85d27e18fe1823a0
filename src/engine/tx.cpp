// The transmit path: epoll over the channels' lib-side fds, batched reads,
// then per datagram: filter -> loopback delivery -> destinations ->
// compress -> sequence number -> fragment -> encrypt -> link selection ->
// queued into one sendmmsg batch that is flushed once per round.
// Encryption is deferred to the flush: each fragment's output is laid out
// at its exact encrypted size when it is queued, and all the fragments of a
// flush are encrypted together just before the sendmmsg, shared with helper
// threads when there is enough of them (engine/work_share.h).
// Compression comes first for the same reason: a large read batch is
// compressed by the helpers too (precompress()) before the per-datagram
// steps, which then take the results.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/read_budget.h"
#include "engine/state.h"
#include "engine/stats.h"
#include "engine/work_share.h"
#include "net/address.h"
#include "net/batch.h"
#include "proto/fragment.h"
#include "proto/seqnum.h"
#include "proto/wire.h"

namespace knet::engine {

struct TxContext {
    static constexpr size_t kSlots = 32;                        // datagrams per flush
    static constexpr size_t kSlotSize = KNET_MAX_PACKET_SIZE;
    static constexpr size_t kArenaReserve = 200 * 1024;         // worst case per datagram
    // Compress + crypt output.  A whole read batch of the largest datagrams,
    // encrypted, fits: with 2 MB a batch of 32 x 64000 B went out as rounds
    // of 30 and 2, and per byte the 2-packet round's cipher chains cost
    // almost five times as much as a full round's, its MACs twice as much.
    static constexpr size_t kArenaSize = kSlots * (kSlotSize + 1024) + kArenaReserve;
    static constexpr size_t kHeaders = 2048;                    // 14-byte DATA headers
    static constexpr size_t kBatch = 1024;                      // sendmmsg entries
    static constexpr size_t kDsts = 128;                        // copied dynamic peers
    // Below this many bytes to encrypt in one flush, waking helpers costs
    // more than it saves.
    static constexpr size_t kShareMinBytes = 128 * 1024;
    // The same for compression, measured with lz4 on 2 CPUs: 32 x 8 KB
    // (256 KB) per batch ran 3 % slower with helpers, 32 x 64000 B 7 % faster.
    static constexpr size_t kCompressShareMinBytes = 1024 * 1024;

    // One fragment to encrypt at flush time (its header and payload stay
    // valid until then: see flush_output()).
    struct CryptoJob {
        iovec clear[2];
        size_t len;  // Instance::encrypted_size(), already queued for sending
        const crypto::Instance* crypto;
        crypto::EncryptJob job;  // job.out: where the packet goes
        uint64_t ns;
    };
    // Jobs handed to one Instance::encrypt_many() call: the batched
    // backends interleave the cipher chains of all of them (8 or 16 in
    // flight) and then compute their MACs at once, which takes 12 or more
    // for the 16-lane SHA-256 (crypto/sha256_multi.h).
    static constexpr size_t kJobsPerCall = 16;

    // One datagram's compression: in the arena (transmit() alone), or in the
    // datagram's slot of zbuf when a read batch was compressed ahead of
    // transmit() by several threads (precompress()).
    static constexpr size_t kZSlotSize = KNET_MAX_PACKET_SIZE + 1024;
    struct Compressed {
        bool ready = false;  // precompress() did this slot
        bool ok = false;     // else compress() failed: send uncompressed
        uint8_t* out = nullptr;
        size_t len = 0;
        uint64_t ns = 0;
    };

    // share_work: encrypt with helper threads (the TX thread's context; not
    // the knet_send_sync one, which runs on application threads).
    TxContext(State& state, bool share_work)
        : s(state),
          in(std::make_unique_for_overwrite<uint8_t[]>(kSlots * kSlotSize)),
          arena(std::make_unique_for_overwrite<uint8_t[]>(kArenaSize)),
          hdr(std::make_unique<uint8_t[]>(kHeaders * proto::kDataHeaderSize)),
          batch(kBatch),
          dsts(std::make_unique<sockaddr_storage[]>(kDsts)),
          dst_ids(std::make_unique<knet_node_id_t[]>(KNET_MAX_HOST)),
          frag_iov(std::make_unique<iovec[]>(proto::kMaxFragments * 2)),
          frag_cnt(std::make_unique<int[]>(proto::kMaxFragments)),
          rd_msgs(std::make_unique<mmsghdr[]>(kSlots)),
          rd_iov(std::make_unique<iovec[]>(kSlots)),
          jobs(std::make_unique<CryptoJob[]>(kHeaders)),
          sharer(share_work ? std::make_unique<WorkSharer>(WorkSharer::default_helpers())
                            : nullptr),
          zres(std::make_unique<Compressed[]>(kSlots)) {}

    State& s;
    std::unique_ptr<uint8_t[]> in;
    size_t slots_used = 0;
    std::unique_ptr<uint8_t[]> arena;
    size_t arena_used = 0;
    std::unique_ptr<uint8_t[]> hdr;
    size_t hdr_used = 0;
    net::SendBatch batch;
    std::unique_ptr<sockaddr_storage[]> dsts;
    size_t dsts_used = 0;
    std::unique_ptr<knet_node_id_t[]> dst_ids;
    std::unique_ptr<iovec[]> frag_iov;
    std::unique_ptr<int[]> frag_cnt;
    std::unique_ptr<mmsghdr[]> rd_msgs;  // recvmmsg on message datafds
    std::unique_ptr<iovec[]> rd_iov;
    std::unique_ptr<CryptoJob[]> jobs;  // at most one per header
    size_t njobs = 0;
    size_t crypto_failures = 0;  // ever (knet_send_sync reports them)
    std::unique_ptr<WorkSharer> sharer;
    std::unique_ptr<uint8_t[]> zbuf;     // kSlots * kZSlotSize, on first precompress()
    std::unique_ptr<Compressed[]> zres;  // per input slot
    LinkStatsBatch lstats;
    HandleStatsBatch hstats;

    uint8_t* next_slot() { return in.get() + slots_used * kSlotSize; }

    // How many messages the next recvmmsg on a message datafd may take.
    size_t read_cap() const {
        const bool copy_only = !s.tx_crypto() && !(s.compressor && s.compressor->enabled());
        return messages_per_read(kSlots, copy_only, largest_read);
    }
    size_t largest_read = 0;  // longest message of the last read round

    void count_send(void* tag, size_t bytes, int err, int retried) {
        auto* link = static_cast<core::Link*>(tag);
        LinkCounters& c = lstats.of(*link);
        c.tx_data_retries += static_cast<uint32_t>(retried);
        if (err == 0) {
            c.tx_data_packets++;
            c.tx_data_bytes += bytes;
        } else {
            c.tx_data_errors++;
        }
    }

    void run_crypto_jobs();

    void flush_sends() {
        run_crypto_jobs();
        batch.flush([this](void* tag, size_t bytes, int err, int retried) {
            count_send(tag, bytes, err, retried);
        });
        dsts_used = 0;
    }

    // Sends what is queued and recycles every buffer (datagram boundary).
    void flush_all() {
        flush_sends();
        slots_used = 0;
        arena_used = 0;
        hdr_used = 0;
        lstats.flush();
        hstats.flush(s.h.rt);
    }

    // Sends what is queued and recycles the output buffers, keeping the
    // input slots (some may not be transmitted yet).
    void flush_output() {
        flush_sends();
        arena_used = 0;
        hdr_used = 0;
    }
    bool output_low() const {
        return kArenaSize - arena_used < kArenaReserve || kHeaders - hdr_used < proto::kMaxFragments;
    }

    // Room for one more datagram?
    void ensure_room() {
        if (slots_used >= kSlots || kArenaSize - arena_used < kArenaReserve ||
            kHeaders - hdr_used < proto::kMaxFragments)
            flush_all();
    }

    // pre: this datagram's precompress() result, if any.
    Status transmit(const uint8_t* data, size_t len, int8_t channel, bool sync,
                    const Compressed* pre = nullptr);

    // Compresses the datagrams of input slots [first, first + n) that
    // transmit() would compress, sharing them with the helper threads, and
    // marks them in zres.  Does nothing (transmit() compresses alone) when
    // the batch is too small to be worth waking helpers, or nobody could
    // receive it.  Lengths 0 stand for datagrams that will not be sent.
    void precompress(size_t first, const size_t* lens, size_t n);

private:
    Compressed compress_one(std::span<const uint8_t> data, uint8_t* out) const {
        Compressed z;
        const uint64_t t0 = mono_ns();
        auto r = s.compressor->compress(data, {out, kZSlotSize});
        z.ns = mono_ns() - t0;
        z.ok = static_cast<bool>(r);
        z.out = out;
        z.len = r ? r.value() : 0;
        return z;
    }
    core::Host* remote_reachable(knet_node_id_t id) const {
        core::Host* host = s.h.find_host(id);
        if (!host || (id == s.h.host_id && s.has_loopback)) return nullptr;
        return host->rt.reachable.load(std::memory_order_acquire) ? host : nullptr;
    }

    void deliver_local(const uint8_t* data, size_t len, int8_t channel);
    void dispatch(core::Host& host, HostState& hs, uint8_t nfrags);
};

void destroy_tx_context(TxContext* c) { delete c; }

void TxContext::run_crypto_jobs() {
    if (njobs == 0) return;
    size_t bytes = 0;
    for (size_t i = 0; i < njobs; ++i) bytes += jobs[i].len;
    const bool share = sharer && bytes >= kShareMinBytes;
    // Calls of up to kJobsPerCall consecutive jobs of the same instance (the
    // multi-buffer cipher's lanes); fewer per call when a few large packets
    // make the round, so that every thread gets some, but at least two: the
    // backends interleave two packets' HMACs (one alone leaves the SHA unit
    // half idle) and their cipher chains.  Nor below the backend's
    // full-speed batch when the round has that many (WorkSharer::per_call).
    const size_t full = jobs[0].crypto->full_speed_batch();
    const size_t per_call =
        share ? sharer->per_call(njobs, 2, kJobsPerCall, full) : kJobsPerCall;
    const size_t calls = (njobs + per_call - 1) / per_call;
    auto encrypt_call = [this, per_call](size_t c) {
        const size_t first = c * per_call;
        const size_t end = std::min(first + per_call, njobs);
        crypto::EncryptJob ej[kJobsPerCall];
        const uint64_t t0 = mono_ns();
        size_t k = first;
        while (k < end) {
            size_t m = k + 1;
            while (m < end && jobs[m].crypto == jobs[k].crypto) ++m;
            for (size_t i = k; i < m; ++i) ej[i - first] = jobs[i].job;
            jobs[k].crypto->encrypt_many(&ej[k - first], m - k);
            k = m;
        }
        const uint64_t ns = (mono_ns() - t0) / (end - first);
        for (size_t i = first; i < end; ++i) {
            jobs[i].job = ej[i - first];
            jobs[i].job.ok = jobs[i].job.ok && jobs[i].job.out_len == jobs[i].len;
            jobs[i].ns = ns;
        }
    };
    if (share)
        sharer->run(calls, encrypt_call);
    else
        for (size_t c = 0; c < calls; ++c) encrypt_call(c);
    for (size_t i = 0; i < njobs; ++i) {
        hstats.tx_crypt.add(jobs[i].ns);
        if (jobs[i].job.ok) continue;
        ++crypto_failures;
        KNET_LOG_E(s.log(), KNET_SUB_TX, "unable to encrypt a packet of %zu bytes: not sent",
                   jobs[i].clear[0].iov_len + jobs[i].clear[1].iov_len);
        batch.cancel(jobs[i].job.out, [this](void* tag, size_t len, int err, int retried) {
            count_send(tag, len, err, retried);
        });
    }
    hstats.dirty = true;
    njobs = 0;
}

void TxContext::precompress(size_t first, const size_t* lens, size_t n) {
    for (size_t k = 0; k < n; ++k) zres[first + k].ready = false;
    if (!sharer || !s.compressor || n < 2) return;
    size_t bytes = 0, wanted = 0;
    for (size_t k = 0; k < n; ++k) {
        if (s.compressor->wants(lens[k])) {
            bytes += lens[k];
            ++wanted;
        }
    }
    if (wanted < 2 || bytes < kCompressShareMinBytes) return;
    const auto& ids = s.h.host_ids();
    if (std::none_of(ids.begin(), ids.end(), [this](knet_node_id_t id) { return remote_reachable(id); }))
        return;
    if (!zbuf) zbuf = std::make_unique_for_overwrite<uint8_t[]>(kSlots * kZSlotSize);
    // One datagram per call: a thread that finds no index left waits for
    // the others' current datagram, no more.
    sharer->run(n, [this, first, lens](size_t k) {
        if (!s.compressor->wants(lens[k])) return;
        const size_t slot = first + k;
        zres[slot] = compress_one({in.get() + slot * kSlotSize, lens[k]}, zbuf.get() + slot * kZSlotSize);
        zres[slot].ready = true;
    });
}

void TxContext::deliver_local(const uint8_t* data, size_t len, int8_t channel) {
    core::Host* me = s.h.find_host(s.h.host_id);
    if (!me || channel < 0 || channel >= KNET_DATAFD_MAX) return;
    core::Link* lo = nullptr;
    for (core::Link& l : me->links)
        if (l.configured && l.transport == KNET_TRANSPORT_LOOPBACK) lo = &l;
    if (!lo) return;
    core::Channel& ch = s.h.channels[channel];
    if (!ch.in_use) return;
    LinkCounters& c = lstats.of(*lo);
    size_t off = 0;
    while (off < len) {
        ssize_t w = ch.is_socket ? ::send(ch.lib_fd, data + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL)
                                 : ::write(ch.lib_fd, data + off, len - off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) continue;
            c.tx_data_errors++;
            return;
        }
        if (static_cast<size_t>(w) < len - off) c.tx_data_retries++;
        off += static_cast<size_t>(w);
    }
    c.tx_data_packets++;
    c.tx_data_bytes += len;
}

void TxContext::dispatch(core::Host& host, HostState& hs, uint8_t nfrags) {
    const uint64_t packed = hs.active.load(std::memory_order_acquire);
    const uint8_t count = active_count(packed);
    if (!count) return;
    uint8_t first = 0, n = 1;
    switch (static_cast<proto::LinkPolicy>(host.policy)) {
    case proto::LinkPolicy::Active:
        n = count;
        break;
    case proto::LinkPolicy::RoundRobin:
        first = static_cast<uint8_t>(hs.rr.fetch_add(1, std::memory_order_relaxed) % count);
        break;
    default:
        break;
    }
    for (uint8_t k = 0; k < n; ++k) {
        const uint8_t id = active_id(packed, static_cast<uint8_t>(first + k));
        core::Link& link = host.links[id];
        LinkState& ls = hs.links[id];
        if (link.transport != KNET_TRANSPORT_UDP || ls.fd < 0) continue;
        const sockaddr_storage* dst = &link.dst_addr;
        if (link.dynamic) {
            if (dsts_used == kDsts) flush_sends();
            if (!s.link_peer(link, &dsts[dsts_used])) continue;
            dst = &dsts[dsts_used++];
        }
        const socklen_t dlen = net::sockaddr_len(*dst);
        for (uint8_t f = 0; f < nfrags; ++f) {
            if (batch.full()) flush_sends();
            (void)batch.add(ls.fd, dst, dlen, &frag_iov[f * 2], frag_cnt[f], &link);
        }
    }
}

Status TxContext::transmit(const uint8_t* data, size_t len, int8_t channel, bool sync,
                           const Compressed* pre) {
    core::Handle& h = s.h;
    if (!h.forwarding.load(std::memory_order_acquire)) return Error{ECANCELED};

    // ---- filter ----
    int bcast = 1;
    size_t entries = 0;
    if (h.dst_filter.fn) {
        bcast = h.dst_filter.fn(h.dst_filter.priv, data, static_cast<ssize_t>(len), KNET_NOTIFY_TX,
                                h.host_id, h.host_id, &channel, dst_ids.get(), &entries);
        if (bcast < 0) return Error{EFAULT};
        if (!bcast && (entries == 0 || entries > KNET_MAX_HOST)) return Error{EINVAL};
    }
    if (channel < 0 || channel >= KNET_DATAFD_MAX) return Error{EINVAL};

    // ---- loopback ----
    if (s.has_loopback) {
        bool local = bcast != 0;
        for (size_t i = 0; !local && i < entries; ++i) local = dst_ids[i] == h.host_id;
        if (local) deliver_local(data, len, channel);
    }
    if (sync && (bcast || entries > 1)) return Error{E2BIG};

    // ---- destinations ----
    size_t ndst = 0;
    if (!bcast) {
        for (size_t i = 0; i < entries; ++i)
            if (remote_reachable(dst_ids[i])) dst_ids[ndst++] = dst_ids[i];
    } else {
        for (knet_node_id_t id : h.host_ids())
            if (remote_reachable(id)) dst_ids[ndst++] = id;
    }
    if (ndst == 0) return Error{EHOSTDOWN};

    unsigned mtu = h.data_mtu.load(std::memory_order_relaxed);
    if (!mtu) mtu = proto::kPmtudMinMtuV4;

    // ---- compress ----
    std::span<const uint8_t> payload{data, len};
    uint8_t compress_id = 0;
    if (s.compressor && s.compressor->enabled()) {
        if (s.compressor->wants(len)) {
            const bool ahead = pre && pre->ready;
            const Compressed z = ahead ? *pre : compress_one(payload, arena.get() + arena_used);
            hstats.tx_compress.add(z.ns);
            hstats.dirty = true;
            if (z.ok) {
                hstats.tx_compressed_original_bytes += len;
                hstats.tx_compressed_size_bytes += z.len;
                if (z.len < len) {
                    payload = {z.out, z.len};
                    if (!ahead) arena_used += z.len;
                    compress_id = s.compressor->model_id();
                }
            }
        }
        if (!compress_id) {
            hstats.tx_uncompressed_packets++;
            hstats.dirty = true;
        }
    }

    // ---- sequence number ----
    const uint16_t seq = s.next_seq();
    if (seq % (proto::kSeqMax / 8) == 0) {
        s.force_untimed_ping.store(true, std::memory_order_release);
        s.kick_hb();
    }

    // ---- fragment + encrypt ----
    proto::DataHeader base;
    base.seq = seq;
    base.compress = compress_id;
    base.bcast = bcast ? 1 : 0;
    base.channel = channel;
    auto frags = proto::Fragmenter::make(base, payload, mtu);
    if (!frags) return Error{frags.error()};
    const crypto::Instance* c = s.tx_crypto();
    const uint8_t nfrags = frags->count();
    for (uint8_t f = 0; f < nfrags; ++f) {
        proto::Fragment fr = (*frags)[f];
        uint8_t* hp = hdr.get() + hdr_used * proto::kDataHeaderSize;
        ++hdr_used;
        proto::encode_data_header({hp, proto::kDataHeaderSize}, h.host_id, fr.header);
        iovec clear[2] = {{hp, proto::kDataHeaderSize},
                          {const_cast<uint8_t*>(fr.payload.data()), fr.payload.size()}};
        if (c) {
            const size_t clear_len = clear[0].iov_len + clear[1].iov_len;
            const size_t out_len = c->encrypted_size(clear_len);
            uint8_t* out = arena.get() + arena_used;
            arena_used += out_len;
            CryptoJob& j = jobs[njobs++];
            j.clear[0] = clear[0];
            j.clear[1] = clear[1];
            j.len = out_len;
            j.crypto = c;
            // The output region is exactly out_len; the cap only has to pass
            // the instance's worst-case check (the arena always has that room).
            j.job = crypto::EncryptJob{j.clear, 2, out, kArenaSize - (arena_used - out_len), 0, false};
            j.ns = 0;
            hstats.tx_crypt_byte_overhead += out_len - clear_len;
            hstats.dirty = true;
            frag_iov[f * 2] = {out, out_len};
            frag_cnt[f] = 1;
        } else {
            frag_iov[f * 2] = clear[0];
            frag_iov[f * 2 + 1] = clear[1];
            frag_cnt[f] = 2;
        }
    }

    // ---- links ----
    for (size_t i = 0; i < ndst; ++i) {
        core::Host* host = h.find_host(dst_ids[i]);
        HostState* hs = s.host_state(dst_ids[i]);
        if (host && hs) dispatch(*host, *hs, nfrags);
    }
    return {};
}

void State::tx_main() {
    auto ctx = std::make_unique<TxContext>(*this, true);
    epoll_event events[KNET_DATAFD_MAX + 1];
    IdleSpin spin;
    while (!stop.load(std::memory_order_relaxed)) {
        int n = wait_events(tx_epoll.get(), events, KNET_DATAFD_MAX + 1, spin, -1);
        if (stop.load(std::memory_order_relaxed)) break;
        if (n <= 0) continue;
        bool locked = false, saw_data = false;
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == UINT64_MAX) {
                uint64_t v;
                (void)!::read(tx_wake.get(), &v, sizeof v);
                continue;
            }
            if (!locked) {
                if (!lock_shared_or_stop()) return;
                locked = true;
            }
            const int channel = static_cast<int>(events[i].data.u64 >> 32);
            const int fd = static_cast<int>(events[i].data.u64 & 0xFFFFFFFFu);
            if (channel >= KNET_DATAFD_MAX) continue;
            core::Channel& ch = h.channels[channel];
            if (!ch.in_use || ch.lib_fd != fd || ch.has_error.load()) continue;
            if (!h.forwarding.load(std::memory_order_acquire)) {
                tx_discard(*ctx, ch, channel, fd);
                continue;
            }
            saw_data = true;
            if (chan_msg[channel]) {
                (void)tx_read_messages(*ctx, ch, channel, fd);
                continue;
            }
            // Sockets: drain up to a batch; other fds: one read per wakeup.
            const int max_reads = ch.is_socket ? static_cast<int>(TxContext::kSlots) : 1;
            for (int r = 0; r < max_reads; ++r) {
                if (!h.forwarding.load(std::memory_order_acquire)) break;
                ctx->ensure_room();
                uint8_t* buf = ctx->next_slot();
                ssize_t len;
                if (ch.is_socket) {
                    iovec iov{buf, TxContext::kSlotSize};
                    msghdr m{};
                    m.msg_iov = &iov;
                    m.msg_iovlen = 1;
                    len = ::recvmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (len > 0 && (m.msg_flags & MSG_TRUNC)) continue;
                } else {
                    len = ::read(fd, buf, TxContext::kSlotSize);
                }
                if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                if (len < 0 && errno == EINTR) continue;
                if (len <= 0) {
                    tx_read_failed(ch, channel, fd, len, len < 0 ? errno : 0);
                    break;
                }
                ctx->slots_used++;
                Status st = ctx->transmit(buf, static_cast<size_t>(len), static_cast<int8_t>(channel), false);
                if (!st)
                    KNET_LOG_T(log(), KNET_SUB_TX, "datagram of %zd bytes on channel %d not sent: %s",
                               len, channel, strerror(st.error()));
            }
        }
        if (locked) {
            ctx->flush_all();
            h.lock.unlock_shared();
        }
        if (saw_data) spin.on_data(mono_ns());
    }
}

// Forwarding off: what the application writes meanwhile is read and
// dropped, as libknet 1.x does ("no traffic will pass through knet until it
// is set on"), not held back to be sent once forwarding is on again.  Read
// errors and end of file are still reported.  Handle::lock shared.
void State::tx_discard(TxContext& ctx, core::Channel& ch, int channel, int fd) {
    ctx.ensure_room();  // the next free slot is the scratch buffer
    uint8_t* scratch = ctx.next_slot();
    const int max_reads = ch.is_socket ? static_cast<int>(4 * TxContext::kSlots) : 1;
    size_t dropped = 0;
    for (int r = 0; r < max_reads; ++r) {
        const ssize_t len = ch.is_socket ? ::recv(fd, scratch, TxContext::kSlotSize, MSG_DONTWAIT | MSG_TRUNC)
                                         : ::read(fd, scratch, TxContext::kSlotSize);
        if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (len < 0 && errno == EINTR) continue;
        if (len <= 0) {
            tx_read_failed(ch, channel, fd, len, len < 0 ? errno : 0);
            break;
        }
        ++dropped;
    }
    if (dropped)
        KNET_LOG_D(log(), KNET_SUB_TX, "forwarding is disabled: %zu datagram(s) from channel %d dropped",
                   dropped, channel);
}

// Read error: the fd leaves polling (man knet_handle_add_datafd).  End of
// file (0): notified too, and also taken out of polling so a dead peer
// cannot make us spin.  Handle::lock shared.
void State::tx_read_failed(core::Channel& ch, int channel, int fd, ssize_t len, int err) {
    epoll_event ev{};
    ::epoll_ctl(tx_epoll.get(), EPOLL_CTL_DEL, fd, &ev);
    if (len < 0) ch.has_error.store(true);
    Pending p{};
    p.kind = Pending::Kind::Sock;
    p.sock_fn = h.sock_notify;
    p.fd = ch.app_fd;
    p.channel = static_cast<int8_t>(channel);
    p.direction = KNET_NOTIFY_TX;
    p.error = static_cast<int>(len);
    p.errorno = err;
    if (p.sock_fn.fn) queue_notify(p);
}

// A message socket (datagram/seqpacket): whole messages, read with
// recvmmsg straight into the input slots, up to a few batches per wakeup.
// Returns false if the fd failed.  Handle::lock shared.
bool State::tx_read_messages(TxContext& ctx, core::Channel& ch, int channel, int fd) {
    for (int round = 0; round < 4; ++round) {
        if (!h.forwarding.load(std::memory_order_acquire)) return true;
        ctx.ensure_room();
        const size_t base = ctx.slots_used;
        const size_t want = std::min(TxContext::kSlots - base, ctx.read_cap());
        for (size_t k = 0; k < want; ++k) {
            ctx.rd_iov[k] = {ctx.in.get() + (base + k) * TxContext::kSlotSize, TxContext::kSlotSize};
            mmsghdr& m = ctx.rd_msgs[k];
            std::memset(&m, 0, sizeof m);
            m.msg_hdr.msg_iov = &ctx.rd_iov[k];
            m.msg_hdr.msg_iovlen = 1;
        }
        int n = ::recvmmsg(fd, ctx.rd_msgs.get(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            if (errno == EINTR) continue;
            tx_read_failed(ch, channel, fd, -1, errno);
            return false;
        }
        if (n == 0 || ctx.rd_msgs[0].msg_len == 0) {
            // End of file (a zero-length first message reads as such too).
            tx_read_failed(ch, channel, fd, 0, 0);
            return false;
        }
        ctx.slots_used = base + static_cast<size_t>(n);
        size_t lens[TxContext::kSlots];
        ctx.largest_read = 0;
        for (int k = 0; k < n; ++k) {
            const mmsghdr& m = ctx.rd_msgs[k];
            lens[k] = (m.msg_hdr.msg_flags & MSG_TRUNC) ? 0 : m.msg_len;
            ctx.largest_read = std::max<size_t>(ctx.largest_read, m.msg_len);
        }
        ctx.precompress(base, lens, static_cast<size_t>(n));
        for (int k = 0; k < n; ++k) {
            const mmsghdr& m = ctx.rd_msgs[k];
            if (m.msg_hdr.msg_flags & MSG_TRUNC) continue;
            if (ctx.output_low()) ctx.flush_output();
            const size_t len = m.msg_len;
            Status st = ctx.transmit(static_cast<const uint8_t*>(ctx.rd_iov[k].iov_base), len,
                                     static_cast<int8_t>(channel), false, &ctx.zres[base + k]);
            if (!st)
                KNET_LOG_T(log(), KNET_SUB_TX, "datagram of %zu bytes on channel %d not sent: %s",
                           len, channel, strerror(st.error()));
        }
        if (static_cast<size_t>(n) < want) return true;
        // The application is ahead of us: send what is queued and let the
        // other runnable threads (a receiver on the same CPUs) have the CPU
        // before reading more.
        ctx.flush_output();
        ::sched_yield();
    }
    return true;
}

Status Engine::send_sync(const char* buf, size_t len, int8_t channel) {
    State& s = *impl_;
    std::lock_guard g(s.sync_mutex);
    if (!s.sync_ctx) s.sync_ctx.reset(new TxContext(s, false));
    if (!s.lock_shared_or_stop()) return Error{ECANCELED};
    TxContext& ctx = *s.sync_ctx;
    ctx.ensure_room();
    if (len > TxContext::kSlotSize) {
        s.h.lock.unlock_shared();
        return Error{EINVAL};
    }
    const size_t failures_before = ctx.crypto_failures;
    Status st = ctx.transmit(reinterpret_cast<const uint8_t*>(buf), len, channel, true);
    ctx.flush_all();
    if (st && ctx.crypto_failures != failures_before) st = Error{ECHILD};
    s.h.lock.unlock_shared();
    return st;
}

}  // namespace knet::engine
