// Log records for the application's log fd.
//
// Each record is a struct knet_log_msg written in one write() (it is smaller
// than PIPE_BUF, so it is atomic on a pipe).  Logging never blocks the
// caller: when the fd is full the record is dropped and counted.
#pragma once

#include <array>
#include <atomic>
#include <cstdarg>
#include <cstdint>

#include "libknet.h"

namespace knet::log {

class Logger {
public:
    // fd <= 0 disables output; every subsystem starts at default_level.
    Logger(int fd, uint8_t default_level);

    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    bool enabled(uint8_t subsystem, uint8_t level) const {
        return fd_ > 0 && level <= levels_[subsystem].load(std::memory_order_relaxed);
    }

    void set_level(uint8_t subsystem, uint8_t level) {
        levels_[subsystem].store(level, std::memory_order_relaxed);
    }
    uint8_t level(uint8_t subsystem) const {
        return levels_[subsystem].load(std::memory_order_relaxed);
    }

    void write(uint8_t subsystem, uint8_t level, const char* fmt, ...)
        __attribute__((format(printf, 4, 5)));
    void vwrite(uint8_t subsystem, uint8_t level, const char* fmt, va_list ap);

    // Records lost because the log fd could not take them.
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
    int fd_;
    std::array<std::atomic<uint8_t>, KNET_MAX_SUBSYSTEMS + 1> levels_;
    std::atomic<uint64_t> dropped_{0};
};

// Subsystem and level names as the API reports them.
bool is_valid_subsystem(uint8_t subsystem);
const char* subsystem_name(uint8_t subsystem);          // "unknown" if invalid
uint8_t subsystem_id(const char* name);                 // KNET_SUB_UNKNOWN if invalid
const char* level_name(uint8_t level);                  // "ERROR" if invalid
uint8_t level_id(const char* name);                     // KNET_LOG_ERR if invalid

}  // namespace knet::log

// Logging macros: the format arguments are not evaluated when the level is off.
#define KNET_LOG(logger, sub, lvl, ...)                                  \
    do {                                                                 \
        if ((logger) && (logger)->enabled((sub), (lvl)))                 \
            (logger)->write((sub), (lvl), __VA_ARGS__);                  \
    } while (0)
#define KNET_LOG_E(logger, sub, ...) KNET_LOG(logger, sub, KNET_LOG_ERR, __VA_ARGS__)
#define KNET_LOG_W(logger, sub, ...) KNET_LOG(logger, sub, KNET_LOG_WARN, __VA_ARGS__)
#define KNET_LOG_I(logger, sub, ...) KNET_LOG(logger, sub, KNET_LOG_INFO, __VA_ARGS__)
#define KNET_LOG_D(logger, sub, ...) KNET_LOG(logger, sub, KNET_LOG_DEBUG, __VA_ARGS__)
#define KNET_LOG_T(logger, sub, ...) KNET_LOG(logger, sub, KNET_LOG_TRACE, __VA_ARGS__)
