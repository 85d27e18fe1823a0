// Hosts: add/remove, names, link policy, reachability.
#include <cstdio>
#include <cstring>

#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

extern "C" {

KNET_EXPORT int knet_host_add(knet_handle_t knet_h, knet_node_id_t host_id) {
    KNET_API_GUARD_BEGIN
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    WriteLock lock(k->core.lock);
    core::Host* host = k->core.add_host(host_id);
    if (!host) {
        KNET_LOG_E(&k->core.logger, KNET_SUB_HOST, "Unable to add host %u: it exists", host_id);
        return fail(EEXIST);
    }
    k->engine->host_added(*host);
    KNET_LOG_D(&k->core.logger, KNET_SUB_HOST, "Host %u added", host_id);
    return succeed();
    KNET_API_GUARD_END(-1)
}

KNET_EXPORT int knet_host_remove(knet_handle_t knet_h, knet_node_id_t host_id) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    WriteLock lock(k->core.lock);
    auto host = find_host(k->core, host_id);
    if (!host) return fail(host.error());
    for (const core::Link& link : (*host)->links) {
        if (link.configured) {
            KNET_LOG_E(&k->core.logger, KNET_SUB_HOST,
                       "Unable to remove host %u, links are still configured", host_id);
            return fail(EBUSY);
        }
    }
    k->engine->host_removed(**host);
    k->core.remove_host(host_id);
    KNET_LOG_D(&k->core.logger, KNET_SUB_HOST, "Host %u removed", host_id);
    return succeed();
}

KNET_EXPORT int knet_host_set_name(knet_handle_t knet_h, knet_node_id_t host_id,
                                   const char* name) {
    KNET_API_GUARD_BEGIN
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    WriteLock lock(k->core.lock);
    auto host = find_host(k->core, host_id);
    if (!host) return fail(host.error());
    if (!name) return fail(EINVAL);
    if (strnlen(name, KNET_MAX_HOST_LEN) >= KNET_MAX_HOST_LEN) {
        KNET_LOG_E(&k->core.logger, KNET_SUB_HOST, "Requested name for host %u is too long",
                   host_id);
        return fail(EINVAL);
    }
    for (knet_node_id_t id : k->core.host_ids()) {
        // Like libknet, renaming a host to its current name is a duplicate.
        if (k->core.find_host(id)->name == name) {
            KNET_LOG_E(&k->core.logger, KNET_SUB_HOST, "Duplicated name found on host_id %u", id);
            return fail(EEXIST);
        }
    }
    (*host)->name = name;
    return succeed();
    KNET_API_GUARD_END(-1)
}

KNET_EXPORT int knet_host_get_name_by_host_id(knet_handle_t knet_h, knet_node_id_t host_id,
                                              char* name) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!name) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    core::Host* host = k->core.find_host(host_id);
    if (!host) return fail(EINVAL);
    snprintf(name, KNET_MAX_HOST_LEN, "%s", host->name.c_str());
    return succeed();
}

KNET_EXPORT int knet_host_get_id_by_host_name(knet_handle_t knet_h, const char* name,
                                              knet_node_id_t* host_id) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!name) return fail(EINVAL);
    if (!host_id) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    for (knet_node_id_t id : k->core.host_ids()) {
        if (strncmp(name, k->core.find_host(id)->name.c_str(), KNET_MAX_HOST_LEN) == 0) {
            *host_id = id;
            return succeed();
        }
    }
    return fail(ENOENT);
}

KNET_EXPORT int knet_host_get_host_list(knet_handle_t knet_h, knet_node_id_t* host_ids,
                                        size_t* host_ids_entries) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!host_ids || !host_ids_entries) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    const auto& ids = k->core.host_ids();
    if (!ids.empty()) std::memcpy(host_ids, ids.data(), ids.size() * sizeof(knet_node_id_t));
    *host_ids_entries = ids.size();
    return succeed();
}

KNET_EXPORT int knet_host_set_policy(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t policy) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (policy > KNET_LINK_POLICY_RR) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    auto host = find_host(k->core, host_id);
    if (!host) return fail(host.error());
    (*host)->policy = policy;
    k->engine->policy_changed(**host);
    KNET_LOG_D(&k->core.logger, KNET_SUB_HOST, "Host %u has new switching policy: %u", host_id,
               policy);
    return succeed();
}

KNET_EXPORT int knet_host_get_policy(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t* policy) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!policy) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto host = find_host(k->core, host_id);
    if (!host) return fail(host.error());
    *policy = (*host)->policy;
    return succeed();
}

KNET_EXPORT int knet_host_get_status(knet_handle_t knet_h, knet_node_id_t host_id,
                                     struct knet_host_status* status) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!status) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    auto host = find_host(k->core, host_id);
    if (!host) return fail(host.error());
    status->reachable = (*host)->rt.reachable.load() ? 1 : 0;
    status->remote = 0;
    status->external = 0;
    return succeed();
}

KNET_EXPORT int knet_host_enable_status_change_notify(
    knet_handle_t knet_h, void* host_status_change_notify_fn_private_data,
    void (*host_status_change_notify_fn)(void* private_data, knet_node_id_t host_id,
                                         uint8_t reachable, uint8_t remote, uint8_t external)) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    WriteLock lock(k->core.lock);
    k->core.host_status_notify.priv = host_status_change_notify_fn_private_data;
    k->core.host_status_notify.fn = host_status_change_notify_fn;
    KNET_LOG_D(&k->core.logger, KNET_SUB_HOST, "host_status_change_notify_fn %s",
               host_status_change_notify_fn ? "enabled" : "disabled");
    return succeed();
}

}  // extern "C"
