// Links: configuration, enable, timers, priority, status.
#include <algorithm>
#include <cstring>

#include <netdb.h>

#include "api/handle_object.h"
#include "core/addr.h"

using namespace knet;
using namespace knet::api;

namespace {

bool transport_built_in(uint8_t transport) {
    return transport == KNET_TRANSPORT_LOOPBACK || transport == KNET_TRANSPORT_UDP;
}

// Numeric address and port strings, as knet_addrtostr makes them.
int addr_strings(const sockaddr_storage& ss, char* host, char* port) {
    int err = getnameinfo(reinterpret_cast<const sockaddr*>(&ss), core::sockaddr_len(ss), host,
                          KNET_MAX_HOST_LEN, port, KNET_MAX_PORT_LEN,
                          NI_NUMERICHOST | NI_NUMERICSERV);
    if (err == 0) return 0;
    return err == EAI_SYSTEM ? errno : EINVAL;
}

// A link of our own host running over the loopback transport.
bool has_loop_link(const core::Handle& h) {
    const core::Host* self = h.find_host(h.host_id);
    if (!self) return false;
    return std::any_of(self->links.begin(), self->links.end(), [](const core::Link& l) {
        return l.configured && l.transport == KNET_TRANSPORT_LOOPBACK;
    });
}

// A static link and a dynamic link may not share a source address: their
// access lists would collide (libknet's rule).
bool conflicts_with_other_links(const core::Handle& h, const core::Link& self,
                                const sockaddr_storage& src, bool dynamic) {
    for (knet_node_id_t id : h.host_ids()) {
        for (const core::Link& other : h.find_host(id)->links) {
            if (&other == &self || !other.configured) continue;
            if (other.dynamic != dynamic &&
                std::memcmp(&other.src_addr, &src, sizeof(sockaddr_storage)) == 0)
                return true;
        }
    }
    return false;
}

void add_totals(knet_link_stats& s) {
    s.rx_total_packets = s.rx_data_packets + s.rx_ping_packets + s.rx_pong_packets +
                         s.rx_pmtu_packets;
    s.tx_total_packets = s.tx_data_packets + s.tx_ping_packets + s.tx_pong_packets +
                         s.tx_pmtu_packets;
    s.rx_total_bytes = s.rx_data_bytes + s.rx_ping_bytes + s.rx_pong_bytes + s.rx_pmtu_bytes;
    s.tx_total_bytes = s.tx_data_bytes + s.tx_ping_bytes + s.tx_pong_bytes + s.tx_pmtu_bytes;
    s.tx_total_errors = uint64_t{s.tx_data_errors} + s.tx_ping_errors + s.tx_pong_errors +
                        s.tx_pmtu_errors;
    s.tx_total_retries = uint64_t{s.tx_data_retries} + s.tx_ping_retries + s.tx_pong_retries +
                         s.tx_pmtu_retries;
}

}  // namespace

extern "C" {

KNET_EXPORT int knet_link_set_config(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t link_id, uint8_t transport,
                                     struct sockaddr_storage* src_addr,
                                     struct sockaddr_storage* dst_addr, uint64_t flags) {
    KNET_API_GUARD_BEGIN
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!src_addr) return fail(EINVAL);
    if (dst_addr && src_addr->ss_family != dst_addr->ss_family) {
        KNET_LOG_E(&k->core.logger, KNET_SUB_LINK,
                   "Source address family does not match destination address family");
        return fail(EINVAL);
    }
    if (transport >= KNET_MAX_TRANSPORTS) return fail(EINVAL);

    WriteLock lock(k->core.lock);
    core::Handle& h = k->core;
    if (transport == KNET_TRANSPORT_LOOPBACK && host_id != h.host_id) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK, "Cannot create loopback link to remote node");
        return fail(EINVAL);
    }
    if (host_id == h.host_id && has_loop_link(h)) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK,
                   "Cannot create more than 1 link when loopback is active");
        return fail(EINVAL);
    }
    auto host = find_host(h, host_id);
    if (!host) return fail(host.error());
    if (transport == KNET_TRANSPORT_LOOPBACK) {
        for (const core::Link& l : (*host)->links) {
            if (l.configured) {
                KNET_LOG_E(&h.logger, KNET_SUB_LINK,
                           "Cannot add loopback link when other links are already configured.");
                return fail(EINVAL);
            }
        }
    }
    core::Link& link = (*host)->links[link_id];
    if (link.configured || link.enabled) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK, "Host %u link %u is currently configured",
                   host_id, link_id);
        return fail(EBUSY);
    }

    if (src_addr->ss_family != AF_INET && src_addr->ss_family != AF_INET6) {
        KNET_LOG_W(&h.logger, KNET_SUB_LINK, "host %u link %u: unsupported address family %u",
                   host_id, link_id, src_addr->ss_family);
        return fail(EINVAL);
    }
    char host_buf[KNET_MAX_HOST_LEN], port_buf[KNET_MAX_PORT_LEN];
    if (int err = addr_strings(*src_addr, host_buf, port_buf)) return fail(err);
    if (dst_addr) {
        if (int err = addr_strings(*dst_addr, host_buf, port_buf)) return fail(err);
    }

    const sockaddr_storage src = core::canonical_copy(*src_addr);
    const bool dynamic = dst_addr == nullptr;
    if (conflicts_with_other_links(h, link, src, dynamic)) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK,
                   "Failed to configure host %u link %u: a %s link uses the same source",
                   host_id, link_id, dynamic ? "static" : "dynamic");
        return fail(EINVAL);
    }
    if (!transport_built_in(transport)) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK, "Transport %u is not supported by this build",
                   transport);
        return fail(EINVAL);
    }

    link.reset_config();
    link.transport = transport;
    link.src_addr = src;
    link.dynamic = dynamic;
    if (dst_addr) link.dst_addr = core::canonical_copy(*dst_addr);
    link.flags = flags;
    if (transport == KNET_TRANSPORT_UDP && !dynamic) {
        // The default access list of a static link: its peer's address.
        (void)core::acl_insert(link.acl, -1, link.dst_addr, nullptr, CHECK_TYPE_ADDRESS,
                               CHECK_ACCEPT);
    }
    link.configured = true;
    if (Status s = k->engine->link_configured(**host, link); !s) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK, "Unable to configure host %u link %u: %s",
                   host_id, link_id, strerror(s.error()));
        link.reset_config();
        return fail(s.error());
    }
    KNET_LOG_D(&h.logger, KNET_SUB_LINK, "host: %u link: %u is configured", host_id, link_id);
    return succeed();
    KNET_API_GUARD_END(-1)
}

KNET_EXPORT int knet_link_get_config(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t link_id, uint8_t* transport,
                                     struct sockaddr_storage* src_addr,
                                     struct sockaddr_storage* dst_addr, uint8_t* dynamic,
                                     uint64_t* flags) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!src_addr || !dynamic || !transport || !flags) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    const core::Link& l = **link;
    if (!l.dynamic && !dst_addr) return fail(EINVAL);
    std::memcpy(src_addr, &l.src_addr, sizeof(sockaddr_storage));
    *transport = l.transport;
    *flags = l.flags;
    *dynamic = l.dynamic ? 1 : 0;
    if (!l.dynamic) std::memcpy(dst_addr, &l.dst_addr, sizeof(sockaddr_storage));
    return succeed();
}

KNET_EXPORT int knet_link_clear_config(knet_handle_t knet_h, knet_node_id_t host_id,
                                       uint8_t link_id) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    if ((*link)->enabled) {
        KNET_LOG_E(&k->core.logger, KNET_SUB_LINK, "Host %u link %u is currently in use",
                   host_id, link_id);
        return fail(EBUSY);
    }
    k->engine->link_cleared(*k->core.find_host(host_id), **link);
    KNET_LOG_D(&k->core.logger, KNET_SUB_LINK, "host: %u link: %u config has been wiped",
               host_id, link_id);
    return succeed();
}

KNET_EXPORT int knet_link_set_enable(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t link_id, unsigned int enabled) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (enabled > 1) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    if ((*link)->enabled == (enabled == 1)) return succeed();
    (*link)->enabled = enabled == 1;
    k->engine->link_changed(*k->core.find_host(host_id), **link);
    KNET_LOG_D(&k->core.logger, KNET_SUB_LINK, "host: %u link: %u is %s", host_id, link_id,
               enabled ? "enabled" : "disabled");
    return succeed();
}

KNET_EXPORT int knet_link_get_enable(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t link_id, unsigned int* enabled) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!enabled) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    *enabled = (*link)->enabled ? 1 : 0;
    return succeed();
}

KNET_EXPORT int knet_link_set_pong_count(knet_handle_t knet_h, knet_node_id_t host_id,
                                         uint8_t link_id, uint8_t pong_count) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (pong_count < 1) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    (*link)->pong_count = pong_count;
    k->engine->link_changed(*k->core.find_host(host_id), **link);
    KNET_LOG_D(&k->core.logger, KNET_SUB_LINK, "host: %u link: %u pong count update: %u",
               host_id, link_id, pong_count);
    return succeed();
}

KNET_EXPORT int knet_link_get_pong_count(knet_handle_t knet_h, knet_node_id_t host_id,
                                         uint8_t link_id, uint8_t* pong_count) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!pong_count) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    *pong_count = (*link)->pong_count;
    return succeed();
}

KNET_EXPORT int knet_link_set_ping_timers(knet_handle_t knet_h, knet_node_id_t host_id,
                                          uint8_t link_id, time_t interval, time_t timeout,
                                          unsigned int precision) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!interval) return fail(EINVAL);
    // Deliberate, as the man page specifies: 0 is reserved for a future
    // automatic timeout and answers ENOSYS until that exists (as libknet 1.x).
    if (!timeout) return fail(ENOSYS);
    if (!precision) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    (*link)->ping_interval_ms = static_cast<uint64_t>(interval);
    (*link)->pong_timeout_ms = static_cast<uint64_t>(timeout);
    (*link)->ping_precision = precision;
    k->engine->link_changed(*k->core.find_host(host_id), **link);
    KNET_LOG_D(&k->core.logger, KNET_SUB_LINK,
               "host: %u link: %u timeout update - interval: %lld timeout: %lld precision: %u",
               host_id, link_id, static_cast<long long>(interval),
               static_cast<long long>(timeout), precision);
    return succeed();
}

KNET_EXPORT int knet_link_get_ping_timers(knet_handle_t knet_h, knet_node_id_t host_id,
                                          uint8_t link_id, time_t* interval, time_t* timeout,
                                          unsigned int* precision) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!interval || !timeout || !precision) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    *interval = static_cast<time_t>((*link)->ping_interval_ms);
    *timeout = static_cast<time_t>((*link)->pong_timeout_ms);
    *precision = (*link)->ping_precision;
    return succeed();
}

KNET_EXPORT int knet_link_set_priority(knet_handle_t knet_h, knet_node_id_t host_id,
                                       uint8_t link_id, uint8_t priority) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    if ((*link)->priority == priority) return succeed();
    (*link)->priority = priority;
    k->engine->link_changed(*k->core.find_host(host_id), **link);
    KNET_LOG_D(&k->core.logger, KNET_SUB_LINK, "host: %u link: %u priority set to: %u",
               host_id, link_id, priority);
    return succeed();
}

KNET_EXPORT int knet_link_get_priority(knet_handle_t knet_h, knet_node_id_t host_id,
                                       uint8_t link_id, uint8_t* priority) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!priority) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    *priority = (*link)->priority;
    return succeed();
}

KNET_EXPORT int knet_link_get_link_list(knet_handle_t knet_h, knet_node_id_t host_id,
                                        uint8_t* link_ids, size_t* link_ids_entries) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!link_ids) return fail(EINVAL);
    if (!link_ids_entries) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto host = find_host(k->core, host_id);
    if (!host) return fail(host.error());
    size_t count = 0;
    for (const core::Link& l : (*host)->links)
        if (l.configured) link_ids[count++] = l.id;
    *link_ids_entries = count;
    return succeed();
}

KNET_EXPORT int knet_link_get_status(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t link_id, struct knet_link_status* status,
                                     size_t struct_size) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    if (!status) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto link = configured_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    const core::Link& l = **link;

    knet_link_status s{};
    s.size = sizeof(knet_link_status);
    (void)addr_strings(l.src_addr, s.src_ipaddr, s.src_port);
    if (l.dst_addr.ss_family == AF_INET || l.dst_addr.ss_family == AF_INET6)
        (void)addr_strings(l.dst_addr, s.dst_ipaddr, s.dst_port);
    if (l.dynamic && l.rt.dynconnected.load()) {
        // As the reference: a dynamic link reports the address it learned.
        sockaddr_storage learned;
        {
            std::lock_guard<std::mutex> g(l.rt.mutex);
            learned = l.rt.dyn_dst;
        }
        if (learned.ss_family == AF_INET || learned.ss_family == AF_INET6)
            (void)addr_strings(learned, s.dst_ipaddr, s.dst_port);
    }
    s.enabled = l.enabled ? 1 : 0;
    s.connected = l.rt.connected.load() ? 1 : 0;
    s.dynconnected = l.rt.dynconnected.load() ? 1 : 0;
    s.mtu = l.rt.mtu.load();
    s.proto_overhead = l.rt.proto_overhead.load();
    {
        std::lock_guard<std::mutex> g(l.rt.mutex);
        s.latency = l.rt.latency_us;
        s.pong_last = l.rt.pong_last;
        s.stats = l.rt.stats;
    }
    add_totals(s.stats);
    // Callers built against an older (smaller) or newer (larger) struct:
    // copy what both know; .size tells them our full size.
    std::memcpy(status, &s, std::min(struct_size, sizeof(s)));
    return succeed();
}

}  // extern "C"
