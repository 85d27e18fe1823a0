#include "core/handle.h"

#include <algorithm>
#include <unistd.h>

namespace knet::core {

Host::Host(knet_node_id_t host_id) : id(host_id) {
    for (uint8_t i = 0; i < KNET_MAX_LINK; ++i) links[i].id = i;
}

Handle::Handle(knet_node_id_t id, int log_fd, uint8_t default_log_level, uint64_t handle_flags)
    : logger(log_fd, default_log_level),
      host_id(id),
      flags(handle_flags),
      host_index_(std::make_unique<std::unique_ptr<Host>[]>(KNET_MAX_HOST)) {}

Handle::~Handle() = default;

Host* Handle::add_host(knet_node_id_t id) {
    if (host_index_[id]) return nullptr;
    host_index_[id] = std::make_unique<Host>(id);
    host_ids_.insert(std::lower_bound(host_ids_.begin(), host_ids_.end(), id), id);
    return host_index_[id].get();
}

void Handle::remove_host(knet_node_id_t id) {
    if (!host_index_[id]) return;
    host_index_[id].reset();
    host_ids_.erase(std::remove(host_ids_.begin(), host_ids_.end(), id), host_ids_.end());
}

int Handle::channel_of_fd(int app_fd) const {
    for (int i = 0; i < KNET_DATAFD_MAX; ++i)
        if (channels[i].in_use && channels[i].app_fd == app_fd) return i;
    return -1;
}

}  // namespace knet::core
