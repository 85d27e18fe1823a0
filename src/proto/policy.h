// Link selection for one destination host (sans-I/O).
//
// select_links() is the pure "destination cache" computation: given the state
// of the host's links and its policy it returns the ordered list of link ids
// the data path may use, and whether the host is reachable.  The engine
// recomputes it whenever a link's enabled/connected/valid-MTU state or the
// policy changes, and keeps the result as the host's snapshot for TX.
//
// libknet 1.x semantics:
//  * A link is usable when it is configured, enabled, connected and has a
//    valid MTU (PMTUd has not failed on it).
//  * PASSIVE: the single usable link with the highest priority; on equal
//    priority the lowest link id wins (a later link must be strictly better).
//  * ACTIVE: every usable link, in link id order; each packet goes to all.
//  * RR: every usable link, in link id order; each packet (all fragments of
//    it) goes to the first one, and after a successful send the list rotates
//    left by one (rotate_after_send), so consecutive packets alternate.
//    A fresh selection restarts the rotation from the lowest link id.
//  * A host is reachable when at least one link is usable.
//  * The local host with a loopback link: that link only, always reachable.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "proto/wire.h"  // kMaxLinks

namespace knet::proto {

// KNET_LINK_POLICY_* values of the public API.
enum class LinkPolicy : uint8_t {
    Passive = 0,
    Active = 1,
    RoundRobin = 2,
};

// The state of one link, as seen by the selection.
struct LinkCandidate {
    uint8_t link_id = 0;        // 0..7; others are ignored
    bool configured = false;
    bool enabled = false;
    bool connected = false;
    bool has_valid_mtu = true;  // false after a failed PMTUd run
    bool is_loopback = false;   // loopback transport (local host only)
    uint8_t priority = 0;       // higher is preferred (PASSIVE)
};

// Ordered link ids to use for a host, plus its reachability.
struct ActiveLinks {
    std::array<uint8_t, kMaxLinks> ids{};
    uint8_t count = 0;
    bool reachable = false;

    std::span<const uint8_t> links() const { return {ids.data(), count}; }
    bool empty() const { return count == 0; }
};

// True when the link may carry data (configured, enabled, connected, valid MTU).
bool link_usable(const LinkCandidate& link);

// Computes the links to use for a host under `policy`.  Candidates may come
// in any order; duplicate or out-of-range link ids are ignored.
ActiveLinks select_links(LinkPolicy policy, std::span<const LinkCandidate> links);

// The links the next packet goes to: all of them for ACTIVE, the first one
// for PASSIVE and RR (empty if none).
std::span<const uint8_t> links_for_packet(LinkPolicy policy, const ActiveLinks& active);

// RR bookkeeping after a packet was sent successfully on the first link:
// moves that link to the end.  No-op for other policies or fewer than 2 links.
void rotate_after_send(LinkPolicy policy, ActiveLinks& active);

}  // namespace knet::proto
