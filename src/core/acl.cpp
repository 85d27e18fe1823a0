#include "core/acl.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <netinet/in.h>

#include "core/addr.h"

namespace knet::core {
namespace {

const sockaddr_in& v4(const sockaddr_storage& ss) {
    return reinterpret_cast<const sockaddr_in&>(ss);
}
const sockaddr_in6& v6(const sockaddr_storage& ss) {
    return reinterpret_cast<const sockaddr_in6&>(ss);
}

bool matches_v4(const AclRule& r, const sockaddr_storage& from) {
    const uint32_t ip = v4(from).sin_addr.s_addr;  // network order
    const uint32_t a = v4(r.ss1).sin_addr.s_addr;
    const uint32_t b = v4(r.ss2).sin_addr.s_addr;
    switch (r.type) {
    case CHECK_TYPE_ADDRESS:
        return ip == a;
    case CHECK_TYPE_MASK:
        return (ip & b) == a;
    case CHECK_TYPE_RANGE:
        return ntohl(ip) >= ntohl(a) && ntohl(ip) <= ntohl(b);
    }
    return false;
}

bool matches_v6(const AclRule& r, const sockaddr_storage& from) {
    const uint8_t* ip = v6(from).sin6_addr.s6_addr;
    const uint8_t* a = v6(r.ss1).sin6_addr.s6_addr;
    const uint8_t* b = v6(r.ss2).sin6_addr.s6_addr;
    switch (r.type) {
    case CHECK_TYPE_ADDRESS:
        return std::memcmp(ip, a, 16) == 0;
    case CHECK_TYPE_MASK:
        for (int i = 0; i < 16; ++i)
            if ((ip[i] & b[i]) != a[i]) return false;
        return true;
    case CHECK_TYPE_RANGE:
        // Big-endian bytes: memcmp order is numeric order.
        return std::memcmp(ip, a, 16) >= 0 && std::memcmp(ip, b, 16) <= 0;
    }
    return false;
}

bool same_rule(const AclRule& r, const sockaddr_storage& c1, const sockaddr_storage* c2,
               check_type_t type, check_acceptreject_t action) {
    if (r.type != type || r.action != action) return false;
    if (std::memcmp(&r.ss1, &c1, sizeof(sockaddr_storage)) != 0) return false;
    if (type == CHECK_TYPE_ADDRESS) return true;
    return c2 && std::memcmp(&r.ss2, c2, sizeof(sockaddr_storage)) == 0;
}

}  // namespace

bool acl_rule_matches(const AclRule& rule, const sockaddr_storage& from) {
    if (rule.ss1.ss_family != from.ss_family) return false;
    if (from.ss_family == AF_INET) return matches_v4(rule, from);
    if (from.ss_family == AF_INET6) return matches_v6(rule, from);
    return false;
}

bool acl_accepts(const std::vector<AclRule>& rules, const sockaddr_storage& from) {
    for (const AclRule& r : rules)
        if (acl_rule_matches(r, from)) return r.action == CHECK_ACCEPT;
    return false;
}

int acl_find(const std::vector<AclRule>& rules, const sockaddr_storage& ss1,
             const sockaddr_storage* ss2, check_type_t type, check_acceptreject_t action) {
    const sockaddr_storage c1 = canonical_copy(ss1);
    sockaddr_storage c2{};
    if (ss2) c2 = canonical_copy(*ss2);
    for (size_t i = 0; i < rules.size(); ++i)
        if (same_rule(rules[i], c1, ss2 ? &c2 : nullptr, type, action)) return static_cast<int>(i);
    return -1;
}

Status acl_insert(std::vector<AclRule>& rules, int index, const sockaddr_storage& ss1,
                  const sockaddr_storage* ss2, check_type_t type, check_acceptreject_t action) {
    if (acl_find(rules, ss1, ss2, type, action) >= 0) return Error{EEXIST};
    AclRule rule;
    rule.ss1 = canonical_copy(ss1);
    if (ss2 && type != CHECK_TYPE_ADDRESS) rule.ss2 = canonical_copy(*ss2);
    rule.type = type;
    rule.action = action;
    if (index < 0 || static_cast<size_t>(index) >= rules.size())
        rules.push_back(rule);
    else
        rules.insert(rules.begin() + index, rule);
    return {};
}

Status acl_remove(std::vector<AclRule>& rules, const sockaddr_storage& ss1,
                  const sockaddr_storage* ss2, check_type_t type, check_acceptreject_t action) {
    const int i = acl_find(rules, ss1, ss2, type, action);
    if (i < 0) return Error{ENOENT};
    rules.erase(rules.begin() + i);
    return {};
}

}  // namespace knet::core
