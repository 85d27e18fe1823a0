#include <mutex>
#include <unordered_set>

#include "api/handle_object.h"

namespace knet::api {
namespace {

struct Registry {
    std::mutex mutex;
    std::unordered_set<const knet_handle*> live;
};

Registry& registry() {
    static Registry* r = new Registry();  // never destroyed: safe at exit
    return *r;
}

}  // namespace

void register_handle(knet_handle* h) {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mutex);
    r.live.insert(h);
}

void unregister_handle(knet_handle* h) {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mutex);
    r.live.erase(h);
}

knet_handle* live(knet_handle_t h) {
    if (h) {
        Registry& r = registry();
        std::lock_guard<std::mutex> g(r.mutex);
        if (r.live.count(h)) return h;
    }
    errno = EINVAL;
    return nullptr;
}

Result<core::Host*> find_host(core::Handle& h, knet_node_id_t host_id) {
    core::Host* host = h.find_host(host_id);
    if (!host) {
        KNET_LOG_E(&h.logger, KNET_SUB_HOST, "Unable to find host %u", host_id);
        return Error{EINVAL};
    }
    return host;
}

Result<core::Link*> configured_link(core::Handle& h, knet_node_id_t host_id, uint8_t link_id) {
    auto host = find_host(h, host_id);
    if (!host) return Error{host.error()};
    core::Link& link = (*host)->links[link_id];
    if (!link.configured) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK, "host %u link %u is not configured", host_id,
                   link_id);
        return Error{EINVAL};
    }
    return &link;
}

}  // namespace knet::api
