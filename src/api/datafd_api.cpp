// Channels: the application's datafds.
#include <cstring>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

namespace {

constexpr int kSocketBufferSize = 8 * 1024 * 1024;

Status set_fd_flags(int fd) {
    int fdflags = fcntl(fd, F_GETFD, 0);
    if (fdflags < 0 || fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) < 0) return Error{errno};
    int flflags = fcntl(fd, F_GETFL, 0);
    if (flflags < 0 || fcntl(fd, F_SETFL, flflags | O_NONBLOCK) < 0) return Error{errno};
    return {};
}

// Large buffers so that bursts of 64 KiB datagrams fit; best effort.
void size_buffers(int fd) {
    const int size = kSocketBufferSize;
    for (auto [force, plain] : {std::pair{SO_SNDBUFFORCE, SO_SNDBUF},
                                std::pair{SO_RCVBUFFORCE, SO_RCVBUF}}) {
        if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) < 0)
            (void)setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
    }
}

// The socketpair the library creates when the application passes *datafd == 0.
Status make_socketpair(int fds[2]) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
        return Error{errno};
    size_buffers(fds[0]);
    size_buffers(fds[1]);
    return {};
}

}  // namespace

extern "C" {

KNET_EXPORT int knet_handle_add_datafd(knet_handle_t knet_h, int* datafd, int8_t* channel) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!datafd) return fail(EINVAL);
    if (!channel) return fail(EINVAL);
    if (*channel >= KNET_DATAFD_MAX) return fail(EINVAL);
    if (*datafd < 0) return fail(EINVAL);

    WriteLock lock(k->core.lock);
    core::Handle& h = k->core;
    if (!h.sock_notify.fn) {
        KNET_LOG_E(&h.logger, KNET_SUB_HANDLE,
                   "Adding datafd requires sock notify callback enabled!");
        return fail(EINVAL);
    }
    if (*datafd > 0) {
        int existing = h.channel_of_fd(*datafd);
        if (existing >= 0) {
            KNET_LOG_E(&h.logger, KNET_SUB_HANDLE, "requested datafd: %d already exist in index: %d",
                       *datafd, existing);
            return fail(EEXIST);
        }
    }

    int8_t ch = *channel;
    if (ch < 0) {
        for (int i = 0; i < KNET_DATAFD_MAX; ++i) {
            if (!h.channels[i].in_use) {
                ch = static_cast<int8_t>(i);
                break;
            }
        }
        if (ch < 0) return fail(EBUSY);
    } else if (h.channels[ch].in_use) {
        return fail(EBUSY);
    }

    core::Channel& c = h.channels[ch];
    c.reset();
    if (*datafd > 0) {
        if (Status s = set_fd_flags(*datafd); !s) {
            KNET_LOG_E(&h.logger, KNET_SUB_HANDLE, "Unable to set flags on datafd: %s",
                       strerror(s.error()));
            return fail(s.error());
        }
        int type = 0;
        socklen_t len = sizeof(type);
        c.app_fd = c.lib_fd = *datafd;
        c.is_socket = getsockopt(*datafd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
    } else {
        int fds[2];
        if (Status s = make_socketpair(fds); !s) {
            KNET_LOG_E(&h.logger, KNET_SUB_HANDLE, "Unable to initialize socketpair: %s",
                       strerror(s.error()));
            return fail(s.error());
        }
        c.app_fd = fds[0];
        c.lib_fd = fds[1];
        c.created = true;
        c.is_socket = true;
    }
    c.in_use = true;
    k->engine->datafd_added(ch);

    if (*datafd == 0) *datafd = c.app_fd;
    *channel = ch;
    KNET_LOG_D(&h.logger, KNET_SUB_HANDLE, "datafd %d added on channel %d", c.app_fd, ch);
    return succeed();
}

KNET_EXPORT int knet_handle_remove_datafd(knet_handle_t knet_h, int datafd) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (datafd <= 0) return fail(EINVAL);

    WriteLock lock(k->core.lock);
    int ch = k->core.channel_of_fd(datafd);
    if (ch < 0) return fail(EINVAL);
    k->engine->datafd_removed(ch);
    core::Channel& c = k->core.channels[ch];
    if (c.created) {
        ::close(c.app_fd);
        ::close(c.lib_fd);
    }
    c.reset();
    KNET_LOG_D(&k->core.logger, KNET_SUB_HANDLE, "datafd %d removed from channel %d", datafd, ch);
    return succeed();
}

KNET_EXPORT int knet_handle_get_datafd(knet_handle_t knet_h, const int8_t channel, int* datafd) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (channel < 0 || channel >= KNET_DATAFD_MAX) return fail(EINVAL);
    if (!datafd) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    const core::Channel& c = k->core.channels[channel];
    if (!c.in_use) return fail(EINVAL);
    *datafd = c.app_fd;
    return succeed();
}

KNET_EXPORT int knet_handle_get_channel(knet_handle_t knet_h, const int datafd, int8_t* channel) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (datafd <= 0) return fail(EINVAL);
    if (!channel) return fail(EINVAL);
    ReadLock lock(k->core.lock);
    int ch = k->core.channel_of_fd(datafd);
    *channel = static_cast<int8_t>(ch);
    if (ch < 0) return fail(EINVAL);
    return succeed();
}

}  // extern "C"
