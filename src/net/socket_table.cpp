#include "net/socket_table.h"

#include <algorithm>

#include "net/address.h"
#include "net/udp.h"

namespace knet::net {

Result<SocketTable::Acquired> SocketTable::acquire(const sockaddr_storage& src, uint64_t link_flags,
                                                   log::Logger* log) {
    for (auto& e : entries_) {
        if (same_endpoint(e.src, src)) {
            ++e.users;
            return Acquired{e.fd.get(), false};
        }
    }
    auto fd = open_udp(src, link_flags, log);
    if (!fd) return Error{fd.error()};
    Entry e;
    e.fd = std::move(fd.value());
    e.src = src;
    e.users = 1;
    int raw = e.fd.get();
    entries_.push_back(std::move(e));
    return Acquired{raw, true};
}

bool SocketTable::release(int fd) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [fd](const Entry& e) { return e.fd.get() == fd; });
    if (it == entries_.end()) return false;
    if (--it->users > 0) return false;
    entries_.erase(it);
    return true;
}

int SocketTable::users(int fd) const {
    for (const auto& e : entries_)
        if (e.fd.get() == fd) return e.users;
    return 0;
}

int SocketTable::family(int fd) const {
    for (const auto& e : entries_)
        if (e.fd.get() == fd) return e.src.ss_family;
    return AF_UNSPEC;
}

}  // namespace knet::net
