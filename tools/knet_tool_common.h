/*
 * knet_tool_common.h - small helpers shared by knet_demo and knet_bench.
 *
 * Only the public libknet C API is used, so the same sources build against
 * this project's include/libknet.h (linked to target knet) and against the
 * system's /usr/include/libknet.h (linked to -lknet).  The binaries are
 * linked by soname (libknet.so.1), so LD_LIBRARY_PATH picks the library.
 */
#ifndef KNET_TOOL_COMMON_H
#define KNET_TOOL_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <limits.h>

#include <libknet.h>

/* Path of the libknet.so.1 actually mapped into this process (static buffer). */
const char *kt_loaded_library(void);

/* Monotonic clock in nanoseconds / seconds. */
uint64_t kt_now_ns(void);
double kt_now_s(void);

/* CPU seconds (user+system) of this process, all threads. */
double kt_cpu_seconds(void);

/* Fill buf with len random bytes (getrandom, falls back to /dev/urandom). */
int kt_random_bytes(void *buf, size_t len);

/* Fill a sockaddr_storage for 127.0.0.1:port (or host:port). */
int kt_addr(struct sockaddr_storage *ss, const char *host, int port);

/*
 * Log reader: one thread reads struct knet_log_msg records from any number
 * of pipes and prints those at or above min_level (KNET_LOG_WARN: WARN and ERR)
 * to stderr, prefixed with the pipe's label.  Every record is counted.
 */
struct kt_log_reader;
struct kt_log_reader *kt_log_reader_new(int max_level_printed);
/* Creates a pipe, registers it under label; returns the write end (for
 * knet_handle_new) or -1. */
int kt_log_reader_add(struct kt_log_reader *lr, const char *label);
int kt_log_reader_start(struct kt_log_reader *lr);
/* Stops the thread after draining what is left (counts stay readable). */
void kt_log_reader_stop(struct kt_log_reader *lr);
/* Stops if needed, closes the pipes and frees. */
void kt_log_reader_free(struct kt_log_reader *lr);
unsigned long kt_log_reader_count(struct kt_log_reader *lr, int level);

/* Configure aes256/sha256 of crypto model `model` ("openssl", "nss") with key
 * (key_len >= KNET_MIN_KEY_LEN) and use it, refusing clear traffic.
 * Returns 0 or -1 (errno set). */
int kt_crypto_enable(knet_handle_t h, const char *model, const unsigned char *key, unsigned int key_len);

/* Configure compression model (e.g. "lz4") with threshold and level. */
int kt_compress_enable(knet_handle_t h, const char *model, int level);

#endif
