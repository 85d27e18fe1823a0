// Access lists of dynamic links (core/acl.h holds the rules and matcher).
#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

namespace {

// Argument checks shared by insert and rm, in libknet's order; 0 if valid.
int check_rule_args(const sockaddr_storage* ss1, const sockaddr_storage* ss2, check_type_t type,
                    check_acceptreject_t action, uint8_t link_id) {
    if (!ss1) return EINVAL;
    if (type != CHECK_TYPE_ADDRESS && type != CHECK_TYPE_MASK && type != CHECK_TYPE_RANGE)
        return EINVAL;
    if (action != CHECK_ACCEPT && action != CHECK_REJECT) return EINVAL;
    if (type != CHECK_TYPE_ADDRESS && !ss2) return EINVAL;
    // As libknet 1.x: only a range needs both ends in one family.  A rule
    // whose address is of no IP family is kept but never matches; a mask of
    // another family is read as the address's (core/acl.cpp).
    if (type == CHECK_TYPE_RANGE && ss1->ss_family != ss2->ss_family) return EINVAL;
    if (link_id >= KNET_MAX_LINK) return EINVAL;
    return 0;
}

// The configured dynamic link whose list the application may edit.
Result<core::Link*> acl_link(core::Handle& h, knet_node_id_t host_id, uint8_t link_id) {
    auto link = configured_link(h, host_id, link_id);
    if (!link) return link;
    if (!(*link)->dynamic) {
        KNET_LOG_E(&h.logger, KNET_SUB_LINK, "host %u link %u is a point to point connection",
                   host_id, link_id);
        return Error{EINVAL};
    }
    return link;
}

}  // namespace

extern "C" {

KNET_EXPORT int knet_link_insert_acl(knet_handle_t knet_h, knet_node_id_t host_id,
                                     uint8_t link_id, int index, struct sockaddr_storage* ss1,
                                     struct sockaddr_storage* ss2, check_type_t type,
                                     check_acceptreject_t acceptreject) {
    KNET_API_GUARD_BEGIN
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (int err = check_rule_args(ss1, ss2, type, acceptreject, link_id)) return fail(err);
    WriteLock lock(k->core.lock);
    auto link = acl_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    // The loopback transport has no access lists: accept and ignore.
    if ((*link)->transport == KNET_TRANSPORT_LOOPBACK) return succeed();
    return finish(core::acl_insert((*link)->acl, index, *ss1, ss2, type, acceptreject));
    KNET_API_GUARD_END(-1)
}

KNET_EXPORT int knet_link_add_acl(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
                                  struct sockaddr_storage* ss1, struct sockaddr_storage* ss2,
                                  check_type_t type, check_acceptreject_t acceptreject) {
    return knet_link_insert_acl(knet_h, host_id, link_id, -1, ss1, ss2, type, acceptreject);
}

KNET_EXPORT int knet_link_rm_acl(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
                                 struct sockaddr_storage* ss1, struct sockaddr_storage* ss2,
                                 check_type_t type, check_acceptreject_t acceptreject) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (int err = check_rule_args(ss1, ss2, type, acceptreject, link_id)) return fail(err);
    WriteLock lock(k->core.lock);
    auto link = acl_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    if ((*link)->transport == KNET_TRANSPORT_LOOPBACK) return succeed();
    return finish(core::acl_remove((*link)->acl, *ss1, ss2, type, acceptreject));
}

KNET_EXPORT int knet_link_clear_acl(knet_handle_t knet_h, knet_node_id_t host_id,
                                    uint8_t link_id) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (link_id >= KNET_MAX_LINK) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    auto link = acl_link(k->core, host_id, link_id);
    if (!link) return fail(link.error());
    (*link)->acl.clear();
    return succeed();
}

}  // extern "C"
