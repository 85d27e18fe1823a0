// Handle statistics (link statistics come with knet_link_get_status).
#include <algorithm>
#include <cstring>

#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

extern "C" {

KNET_EXPORT int knet_handle_get_stats(knet_handle_t knet_h,
                                                                 struct knet_handle_stats* stats,
                                                                 size_t struct_size) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!stats) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    knet_handle_stats copy;
    {
        std::lock_guard<std::mutex> g(k->core.rt.stats_mutex);
        copy = k->core.rt.stats;
    }
    copy.tx_crypt_packets += k->core.rt.tx_crypt_control_packets.load(std::memory_order_relaxed);
    copy.size = sizeof(knet_handle_stats);
    // Older callers pass a smaller struct: never write past struct_size.
    std::memcpy(stats, &copy, std::min(struct_size, sizeof(copy)));
    return succeed();
}

KNET_EXPORT int knet_handle_clear_stats(knet_handle_t knet_h,
                                                                   int clear_option) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (clear_option != KNET_CLEARSTATS_HANDLE_ONLY &&
        clear_option != KNET_CLEARSTATS_HANDLE_AND_LINK)
        return fail(EINVAL);
    WriteLock lock(k->core.lock);
    {
        std::lock_guard<std::mutex> g(k->core.rt.stats_mutex);
        k->core.rt.stats = knet_handle_stats{};
        k->core.rt.tx_crypt_control_packets.store(0, std::memory_order_relaxed);
    }
    if (clear_option == KNET_CLEARSTATS_HANDLE_AND_LINK) {
        for (knet_node_id_t id : k->core.host_ids()) {
            core::Host* host = k->core.find_host(id);
            for (core::Link& link : host->links) {
                std::lock_guard<std::mutex> g(link.rt.mutex);
                link.rt.stats = core::fresh_link_stats();
            }
        }
    }
    return succeed();
}

}  // extern "C"
