// The UDP sockets of one handle.  Links with the same source address and
// port share one socket (as libknet 1.x does); the table counts users.
// Not thread-safe: the engine changes it under Handle::lock (exclusive) and
// reads it under the shared lock.
#pragma once

#include <cstdint>
#include <vector>

#include <sys/socket.h>

#include "log/logger.h"
#include "net/fd.h"
#include "util/result.h"

namespace knet::net {

class SocketTable {
public:
    struct Acquired {
        int fd;
        bool created;  // a new socket was opened (register it for polling)
    };

    // The socket bound to `src`, opened and bound on first use.
    Result<Acquired> acquire(const sockaddr_storage& src, uint64_t link_flags, log::Logger* log);
    // One user fewer; returns true if the socket was closed (the caller must
    // have removed it from polling before).
    bool release(int fd);
    // Users of fd (0 if unknown).
    int users(int fd) const;
    bool contains(int fd) const { return users(fd) > 0; }
    int family(int fd) const;
    size_t size() const { return entries_.size(); }
    template <class Fn>
    void for_each_fd(Fn&& fn) const {
        for (const auto& e : entries_) fn(e.fd.get());
    }

private:
    struct Entry {
        Fd fd;
        sockaddr_storage src{};
        int users = 0;
    };
    std::vector<Entry> entries_;
};

}  // namespace knet::net
