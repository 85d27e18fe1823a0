// Data calls: knet_send / knet_recv on a channel's datafd, knet_send_sync.
#include <sys/uio.h>

#include "api/handle_object.h"

using namespace knet;
using namespace knet::api;

namespace {

// Checks shared by knet_send and knet_recv, before any lock.
int check_data_args(const void* buff, size_t buff_len, int8_t channel) {
    if (!buff) return EINVAL;
    if (buff_len == 0) return EINVAL;
    if (buff_len > KNET_MAX_PACKET_SIZE) return EINVAL;
    if (channel < 0 || channel >= KNET_DATAFD_MAX) return EINVAL;
    return 0;
}

}  // namespace

extern "C" {

KNET_EXPORT ssize_t knet_send(knet_handle_t knet_h, const char* buff, const size_t buff_len,
                              const int8_t channel) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (int err = check_data_args(buff, buff_len, channel)) return fail(err);
    ReadLock lock(k->core.lock);
    const core::Channel& c = k->core.channels[channel];
    if (!c.in_use) return fail(EINVAL);
    iovec iov{const_cast<char*>(buff), buff_len};
    ssize_t n = writev(c.app_fd, &iov, 1);
    if (n < 0) return fail(errno);
    errno = 0;
    return n;
}

KNET_EXPORT ssize_t knet_recv(knet_handle_t knet_h, char* buff, const size_t buff_len,
                              const int8_t channel) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (int err = check_data_args(buff, buff_len, channel)) return fail(err);
    ReadLock lock(k->core.lock);
    const core::Channel& c = k->core.channels[channel];
    if (!c.in_use) return fail(EINVAL);
    iovec iov{buff, buff_len};
    ssize_t n = readv(c.app_fd, &iov, 1);
    if (n < 0) return fail(errno);
    errno = 0;
    return n;
}

KNET_EXPORT int knet_send_sync(knet_handle_t knet_h, const char* buff, const size_t buff_len,
                               const int8_t channel) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (int err = check_data_args(buff, buff_len, channel)) return fail(err);
    {
        ReadLock lock(k->core.lock);
        if (!k->core.dst_filter.fn) return fail(ENETDOWN);
        if (!k->core.channels[channel].in_use) return fail(EINVAL);
    }
    // The engine takes the locks it needs itself (see engine.h).
    return finish(k->engine->send_sync(buff, buff_len, channel));
}

}  // extern "C"
