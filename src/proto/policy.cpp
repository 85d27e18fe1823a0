#include "proto/policy.h"

#include <algorithm>

namespace knet::proto {

bool link_usable(const LinkCandidate& link) {
    return link.configured && link.enabled && link.connected && link.has_valid_mtu;
}

ActiveLinks select_links(LinkPolicy policy, std::span<const LinkCandidate> links) {
    // Index the candidates by link id so that the order of the input never
    // matters and the first occurrence of an id wins.
    std::array<const LinkCandidate*, kMaxLinks> by_id{};
    for (const LinkCandidate& l : links) {
        if (l.link_id < kMaxLinks && by_id[l.link_id] == nullptr) {
            by_id[l.link_id] = &l;
        }
    }

    ActiveLinks out;
    for (const LinkCandidate* l : by_id) {
        if (l != nullptr && l->configured && l->is_loopback) {
            out.ids[0] = l->link_id;
            out.count = 1;
            out.reachable = true;
            return out;
        }
    }

    int best_priority = -1;
    for (const LinkCandidate* l : by_id) {
        if (l == nullptr || !link_usable(*l)) {
            continue;
        }
        if (policy == LinkPolicy::Passive) {
            if (static_cast<int>(l->priority) > best_priority) {
                best_priority = l->priority;
                out.ids[0] = l->link_id;
                out.count = 1;
            }
        } else {
            out.ids[out.count++] = l->link_id;
        }
    }
    out.reachable = out.count > 0;
    return out;
}

std::span<const uint8_t> links_for_packet(LinkPolicy policy, const ActiveLinks& active) {
    if (active.count == 0) {
        return {};
    }
    if (policy == LinkPolicy::Active) {
        return active.links();
    }
    return {active.ids.data(), 1};
}

void rotate_after_send(LinkPolicy policy, ActiveLinks& active) {
    if (policy != LinkPolicy::RoundRobin || active.count < 2) {
        return;
    }
    std::rotate(active.ids.begin(), active.ids.begin() + 1, active.ids.begin() + active.count);
}

}  // namespace knet::proto
