// ACL rules and matcher with random rules and addresses (format in
// fuzz_common.h): insert/remove/find keep the list consistent, and the
// first-match decision agrees with an independent model of the semantics.
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "core/acl.h"
#include "fuzz_common.h"

using namespace knet::core;
using knet::Status;

static size_t read_addr(const uint8_t* p, size_t n, bool v6, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof(ss));
    const size_t need = 2 + (v6 ? 16 : 4);
    if (n < need) return 0;
    ss.ss_family = v6 ? AF_INET6 : AF_INET;
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    std::memcpy(v6 ? static_cast<void*>(&a6->sin6_port) : &a4->sin_port, p, 2);
    std::memcpy(v6 ? static_cast<void*>(&a6->sin6_addr) : &a4->sin_addr, p + 2, need - 2);
    return need;
}

// Address bytes of `ss` read as an address of `family` (a rule's ss2 is read
// with its ss1's family), big endian: byte-wise order is numeric order.
static std::vector<uint8_t> ip(const sockaddr_storage& ss, sa_family_t family) {
    const auto* base = reinterpret_cast<const uint8_t*>(&ss);
    if (family == AF_INET) {
        const size_t off = offsetof(sockaddr_in, sin_addr);
        return {base + off, base + off + 4};
    }
    const size_t off = offsetof(sockaddr_in6, sin6_addr);
    return {base + off, base + off + 16};
}

static bool model_matches(const AclRule& r, const sockaddr_storage& from) {
    const sa_family_t f = from.ss_family;
    if (r.ss1.ss_family != f) return false;
    const auto x = ip(from, f), a = ip(r.ss1, f), b = ip(r.ss2, f);
    if (r.type == CHECK_TYPE_ADDRESS) return x == a;
    if (r.type == CHECK_TYPE_RANGE) return a <= x && x <= b;
    for (size_t i = 0; i < x.size(); ++i)
        if ((x[i] & b[i]) != a[i]) return false;
    return true;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<AclRule> rules;
    size_t i = 0;
    while (i + 3 <= size && rules.size() < 64) {
        const uint8_t op = data[i] & 3, flags = data[i + 1];
        const int index = static_cast<int8_t>(data[i + 2]);
        i += 3;
        sockaddr_storage ss1, ss2;
        size_t n = read_addr(data + i, size - i, flags & 1, ss1);
        if (!n) break;
        i += n;
        n = read_addr(data + i, size - i, flags & 0x20, ss2);
        if (!n) break;
        i += n;
        const auto type = static_cast<check_type_t>((flags >> 1 & 3) % 3);
        const auto action = (flags & 8) ? CHECK_REJECT : CHECK_ACCEPT;
        const sockaddr_storage* p2 = (flags & 0x10) ? nullptr : &ss2;
        const size_t before = rules.size();
        const int found = acl_find(rules, ss1, p2, type, action);
        FUZZ_CHECK(found >= -1 && found < static_cast<int>(before));
        if (op == 0) {
            Status s = acl_insert(rules, index, ss1, p2, type, action);
            FUZZ_CHECK(s.ok() ? found == -1 && rules.size() == before + 1 : s.error() == EEXIST && found >= 0);
            if (s.ok() && (type == CHECK_TYPE_ADDRESS || p2)) FUZZ_CHECK(acl_find(rules, ss1, p2, type, action) >= 0);
        } else if (op == 1) {
            Status s = acl_remove(rules, ss1, p2, type, action);
            FUZZ_CHECK(s.ok() ? found >= 0 && rules.size() == before - 1 : s.error() == ENOENT && found == -1);
        } else if (op == 2) {
            const auto it = std::find_if(rules.begin(), rules.end(),
                                         [&](const AclRule& r) { return model_matches(r, ss1); });
            const bool expect = it != rules.end() && it->action == CHECK_ACCEPT;
            FUZZ_CHECK(acl_accepts(rules, ss1) == expect);
            for (const AclRule& r : rules) FUZZ_CHECK(acl_rule_matches(r, ss1) == model_matches(r, ss1));
        }
    }
    return 0;
}
