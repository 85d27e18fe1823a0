// The configuration state of one knet handle: hosts, links, channels,
// callbacks and settings, plus the runtime state the engine keeps per link
// and per host.
//
// LOCKING MODEL (the only one in the library; keep this block current)
//
//  1. Handle::lock (std::shared_mutex) protects every configuration field in
//     this file: the host table, each Link's configuration part, the channel
//     table, callbacks, crypto/compress settings and handle settings.
//     - API setters take it exclusive; API getters take it shared.
//     - Engine threads take it shared around each batch of packets (never
//       per packet), so a configuration change waits at most one batch.
//  2. Runtime state that engine threads write while holding the lock shared
//     is either atomic (counters, connected flags, MTUs) or owned by exactly
//     one thread (the RX thread owns de-duplication and reassembly state).
//     Heartbeat/latency state is guarded by LinkRuntime::mutex.
//  3. Order: Handle::lock before any LinkRuntime::mutex; never the reverse.
//     Logging takes no lock.
//  4. Application callbacks (host status, pmtud, sock notify) are invoked
//     with NO library lock held, so that they may call back into the API.
//     The filter callback is the exception the reference also makes: it runs
//     on the data path under the shared lock and must not reconfigure the
//     handle.  No API entry point invokes a callback itself.
//  5. The API's registry of live handles (src/api/registry.cpp) has its own
//     mutex, taken alone to validate a handle, or inside Handle::lock
//     (exclusive) by knet_handle_free to unregister: Handle::lock first.
//     knet_handle_free then stops the engine with no lock held.
//  6. knet_send_sync validates under the shared lock, releases it, and the
//     engine takes what it needs (engine.h: data calls hold no lock).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "libknet.h"
#include "core/acl.h"
#include "core/runtime.h"
#include "log/logger.h"

namespace knet::core {

struct Link {
    uint8_t id = 0;

    // ---- configuration (Handle::lock) ----
    bool configured = false;
    uint8_t transport = KNET_TRANSPORT_UDP;
    sockaddr_storage src_addr{};
    sockaddr_storage dst_addr{};   // unset (AF_UNSPEC) for a dynamic link
    bool dynamic = false;
    uint64_t flags = 0;
    bool enabled = false;
    uint8_t priority = 0;
    uint64_t ping_interval_ms = KNET_LINK_DEFAULT_PING_INTERVAL;
    uint64_t pong_timeout_ms = KNET_LINK_DEFAULT_PING_TIMEOUT;
    unsigned int ping_precision = KNET_LINK_DEFAULT_PING_PRECISION;
    uint8_t pong_count = KNET_LINK_DEFAULT_PONG_COUNT;
    // Access list (core/acl.h).  A static UDP link starts with one rule
    // accepting its destination address, as in libknet; the application
    // manages the rules of dynamic links.  Enforced on receive only while
    // Handle::access_lists is set.
    std::vector<AclRule> acl;

    // Back to the unconfigured defaults (configuration part only; the
    // engine resets `rt` in Engine::link_cleared).
    void reset_config();

    // ---- runtime (see core/runtime.h for its own rules) ----
    LinkRuntime rt;
};

struct Host {
    knet_node_id_t id = 0;

    // ---- configuration (Handle::lock) ----
    std::string name;              // defaults to the decimal host id
    uint8_t policy = KNET_LINK_POLICY_PASSIVE;
    std::array<Link, KNET_MAX_LINK> links;

    // ---- runtime ----
    HostRuntime rt;

    explicit Host(knet_node_id_t host_id);
};

// A datafd attached to a channel.
struct Channel {
    bool in_use = false;
    int app_fd = -1;       // the fd the application reads/writes (returned to it)
    int lib_fd = -1;       // our end when we created a socketpair, else == app_fd
    bool created = false;  // we created the socketpair and close both ends
    bool is_socket = false;
    std::atomic<bool> has_error{false};  // read failed: removed from polling
    void reset();          // back to unused (closes nothing)
};

struct SockNotify {
    void* priv = nullptr;
    void (*fn)(void*, int, int8_t, uint8_t, int, int) = nullptr;
};
struct HostStatusNotify {
    void* priv = nullptr;
    void (*fn)(void*, knet_node_id_t, uint8_t, uint8_t, uint8_t) = nullptr;
};
struct PmtudNotify {
    void* priv = nullptr;
    void (*fn)(void*, unsigned int) = nullptr;
};
struct DstFilter {
    void* priv = nullptr;
    int (*fn)(void*, const unsigned char*, ssize_t, uint8_t, knet_node_id_t, knet_node_id_t,
              int8_t*, knet_node_id_t*, size_t*) = nullptr;
};

class Handle {
public:
    Handle(knet_node_id_t host_id, int log_fd, uint8_t default_log_level, uint64_t flags);
    ~Handle();
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    mutable std::shared_mutex lock;
    log::Logger logger;

    const knet_node_id_t host_id;
    const uint64_t flags;

    // ---- hosts (Handle::lock) ----
    Host* find_host(knet_node_id_t id) const { return host_index_[id].get(); }
    Host* add_host(knet_node_id_t id);      // nullptr if it exists already
    void remove_host(knet_node_id_t id);
    // Ids of configured hosts, newest first (the order knet_host_get_host_list()
    // reports them in).
    const std::vector<knet_node_id_t>& host_ids() const { return host_ids_; }

    // ---- channels (Handle::lock) ----
    std::array<Channel, KNET_DATAFD_MAX> channels;
    int channel_of_fd(int app_fd) const;    // -1 if not attached

    // ---- callbacks (Handle::lock) ----
    SockNotify sock_notify;
    HostStatusNotify host_status_notify;
    PmtudNotify pmtud_notify;
    DstFilter dst_filter;

    // ---- settings (Handle::lock unless atomic) ----
    std::atomic<bool> forwarding{false};
    bool access_lists = false;              // knet_handle_enable_access_lists
    unsigned int pmtud_interval_s = KNET_PMTUD_DEFAULT_INTERVAL;
    unsigned int manual_mtu = 0;            // knet_handle_pmtud_set; 0 = discover
    uint32_t reconnect_interval_ms = KNET_TRANSPORT_DEFAULT_RECONNECT_INTERVAL;
    std::atomic<unsigned int> data_mtu{0};  // written by the engine's PMTUd

    // ---- crypto and compression configuration (Handle::lock) ----
    std::array<knet_handle_crypto_cfg, 3> crypto_cfg{};  // slots 1 and 2; [0] unused
    std::array<bool, 3> crypto_configured{};
    uint8_t crypto_in_use = 0;              // TX slot, 0 = clear traffic
    bool rx_allow_clear = true;             // KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC
    knet_handle_compress_cfg compress_cfg{};

    // ---- runtime of the whole handle ----
    HandleRuntime rt;

private:
    std::unique_ptr<std::unique_ptr<Host>[]> host_index_;  // KNET_MAX_HOST slots
    std::vector<knet_node_id_t> host_ids_;
};

}  // namespace knet::core
