#include "log/logger.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace knet::log {

namespace {

struct Name {
    const char* name;
    uint8_t id;
};

constexpr Name kSubsystems[] = {
    {"common", KNET_SUB_COMMON},         {"handle", KNET_SUB_HANDLE},
    {"host", KNET_SUB_HOST},             {"listener", KNET_SUB_LISTENER},
    {"link", KNET_SUB_LINK},             {"transport", KNET_SUB_TRANSPORT},
    {"crypto", KNET_SUB_CRYPTO},         {"compress", KNET_SUB_COMPRESS},
    {"filter", KNET_SUB_FILTER},         {"dstcache", KNET_SUB_DSTCACHE},
    {"heartbeat", KNET_SUB_HEARTBEAT},   {"pmtud", KNET_SUB_PMTUD},
    {"tx", KNET_SUB_TX},                 {"rx", KNET_SUB_RX},
    {"loopback", KNET_SUB_TRANSP_LOOPBACK}, {"udp", KNET_SUB_TRANSP_UDP},
    {"sctp", KNET_SUB_TRANSP_SCTP},      {"nsscrypto", KNET_SUB_NSSCRYPTO},
    {"opensslcrypto", KNET_SUB_OPENSSLCRYPTO}, {"zlibcomp", KNET_SUB_ZLIBCOMP},
    {"lz4comp", KNET_SUB_LZ4COMP},       {"lz4hccomp", KNET_SUB_LZ4HCCOMP},
    {"lzo2comp", KNET_SUB_LZO2COMP},     {"lzmacomp", KNET_SUB_LZMACOMP},
    {"bzip2comp", KNET_SUB_BZIP2COMP},   {"zstdcomp", KNET_SUB_ZSTDCOMP},
    {"unknown", KNET_SUB_UNKNOWN},
};

constexpr Name kLevels[] = {
    {"ERROR", KNET_LOG_ERR}, {"WARNING", KNET_LOG_WARN}, {"info", KNET_LOG_INFO},
    {"debug", KNET_LOG_DEBUG}, {"trace", KNET_LOG_TRACE},
};

}  // namespace

bool is_valid_subsystem(uint8_t subsystem) {
    for (const auto& s : kSubsystems)
        if (s.id == subsystem) return true;
    return false;
}

const char* subsystem_name(uint8_t subsystem) {
    for (const auto& s : kSubsystems)
        if (s.id == subsystem) return s.name;
    return "unknown";
}

uint8_t subsystem_id(const char* name) {
    if (name)
        for (const auto& s : kSubsystems)
            if (strcasecmp(name, s.name) == 0) return s.id;
    return KNET_SUB_UNKNOWN;
}

const char* level_name(uint8_t level) {
    for (const auto& l : kLevels)
        if (l.id == level) return l.name;
    return "ERROR";
}

uint8_t level_id(const char* name) {
    if (name)
        for (const auto& l : kLevels)
            if (strcasecmp(name, l.name) == 0) return l.id;
    return KNET_LOG_ERR;
}

Logger::Logger(int fd, uint8_t default_level) : fd_(fd) {
    for (auto& l : levels_) l.store(default_level, std::memory_order_relaxed);
}

void Logger::write(uint8_t subsystem, uint8_t level, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vwrite(subsystem, level, fmt, ap);
    va_end(ap);
}

void Logger::vwrite(uint8_t subsystem, uint8_t level, const char* fmt, va_list ap) {
    if (!enabled(subsystem, level)) return;

    knet_log_msg msg;
    std::memset(&msg, 0, sizeof(msg));
    msg.subsystem = subsystem;
    msg.msglevel = level;
    std::vsnprintf(msg.msg, sizeof(msg.msg), fmt, ap);

    // One attempt, never a wait: MSG_DONTWAIT where the fd is a socket; for a
    // pipe or file, a zero-timeout poll first (a pipe with room takes a record
    // smaller than PIPE_BUF whole).  A record that does not fit is dropped
    // rather than stall a data path.
    int saved_errno = errno;
    ssize_t n = ::send(fd_, &msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) {
        pollfd pfd{fd_, POLLOUT, 0};
        if (::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT)) n = ::write(fd_, &msg, sizeof(msg));
    }
    if (n != static_cast<ssize_t>(sizeof(msg))) dropped_.fetch_add(1, std::memory_order_relaxed);
    errno = saved_errno;
}

}  // namespace knet::log
