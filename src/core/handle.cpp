#include "core/handle.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <unistd.h>

#include "util/wipe.h"

namespace knet::core {

void Link::reset_config() {
    configured = false;
    transport = KNET_TRANSPORT_UDP;
    src_addr = {};
    dst_addr = {};
    dynamic = false;
    flags = 0;
    enabled = false;
    priority = 0;
    ping_interval_ms = KNET_LINK_DEFAULT_PING_INTERVAL;
    pong_timeout_ms = KNET_LINK_DEFAULT_PING_TIMEOUT;
    ping_precision = KNET_LINK_DEFAULT_PING_PRECISION;
    pong_count = KNET_LINK_DEFAULT_PONG_COUNT;
    acl.clear();
}

Host::Host(knet_node_id_t host_id) : id(host_id), name(std::to_string(host_id)) {
    for (uint8_t i = 0; i < KNET_MAX_LINK; ++i) links[i].id = i;
}

Handle::Handle(knet_node_id_t id, int log_fd, uint8_t default_log_level, uint64_t handle_flags)
    : logger(log_fd, default_log_level),
      host_id(id),
      flags(handle_flags),
      host_index_(std::make_unique<std::unique_ptr<Host>[]>(KNET_MAX_HOST)) {
    // As libknet: the minimum timings start high so the first sample wins.
    rt.stats.tx_compress_time_min = UINT64_MAX;
    rt.stats.rx_compress_time_min = UINT64_MAX;
    rt.stats.tx_crypt_time_min = UINT64_MAX;
    rt.stats.rx_crypt_time_min = UINT64_MAX;
    std::memcpy(compress_cfg.compress_model, "none", 5);
}

// The crypto slots hold copies of the applications' private keys.
Handle::~Handle() { wipe_secret(crypto_cfg.data(), sizeof(crypto_cfg)); }

Host* Handle::add_host(knet_node_id_t id) {
    if (host_index_[id]) return nullptr;
    host_index_[id] = std::make_unique<Host>(id);
    // Newest first: the order libknet's knet_host_get_host_list() reports.
    host_ids_.insert(host_ids_.begin(), id);
    return host_index_[id].get();
}

void Handle::remove_host(knet_node_id_t id) {
    if (!host_index_[id]) return;
    host_index_[id].reset();
    host_ids_.erase(std::remove(host_ids_.begin(), host_ids_.end(), id), host_ids_.end());
}

void Channel::reset() {
    in_use = false;
    app_fd = -1;
    lib_fd = -1;
    created = false;
    is_socket = false;
    has_error.store(false);
}

int Handle::channel_of_fd(int app_fd) const {
    for (int i = 0; i < KNET_DATAFD_MAX; ++i)
        if (channels[i].in_use && channels[i].app_fd == app_fd) return i;
    return -1;
}

}  // namespace knet::core
