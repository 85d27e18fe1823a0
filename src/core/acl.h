// Access lists of a link: the rules knet_link_add/insert/rm_acl manage and
// the matcher the receive path applies to each packet's source address.
//
// Semantics (libknet 1.x): rules are tried in order and the first rule that
// matches the source address decides (CHECK_ACCEPT or CHECK_REJECT); an
// address no rule matches is rejected.  Ports are never compared.
//   CHECK_TYPE_ADDRESS  source == ss1
//   CHECK_TYPE_MASK     (source & ss2) == ss1   (ss2 is the netmask; ss1 is
//                       compared as given, it is not masked first)
//   CHECK_TYPE_RANGE    ss1 <= source <= ss2 (numeric, network order)
// A rule of another address family than the source never matches.
#pragma once

#include <vector>

#include <sys/socket.h>

#include "libknet.h"
#include "util/result.h"

namespace knet::core {

// One access-list rule of a link, as given to knet_link_add_acl().  The
// addresses are canonical copies (see core/addr.h); ss2 is zero for
// CHECK_TYPE_ADDRESS rules.
struct AclRule {
    sockaddr_storage ss1{};
    sockaddr_storage ss2{};
    check_type_t type = CHECK_TYPE_ADDRESS;
    check_acceptreject_t action = CHECK_ACCEPT;
};

// Does this rule match the address (see the table above)?
bool acl_rule_matches(const AclRule& rule, const sockaddr_storage& from);

// First-match / default-reject decision for a packet from `from`.
bool acl_accepts(const std::vector<AclRule>& rules, const sockaddr_storage& from);

// Index of the rule equal to (ss1, ss2, type, action), or -1.  ss2 is only
// compared for MASK and RANGE rules and may be null for ADDRESS rules.
int acl_find(const std::vector<AclRule>& rules, const sockaddr_storage& ss1,
             const sockaddr_storage* ss2, check_type_t type, check_acceptreject_t action);

// Inserts a rule at position `index` (0 = first); a negative index or one
// past the end appends.  EEXIST if an equal rule is already in the list.
Status acl_insert(std::vector<AclRule>& rules, int index, const sockaddr_storage& ss1,
                  const sockaddr_storage* ss2, check_type_t type, check_acceptreject_t action);

// Removes the equal rule; ENOENT if there is none.
Status acl_remove(std::vector<AclRule>& rules, const sockaddr_storage& ss1,
                  const sockaddr_storage* ss2, check_type_t type, check_acceptreject_t action);

}  // namespace knet::core
