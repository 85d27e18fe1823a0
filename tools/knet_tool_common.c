/*
 * knet_tool_common.c - helpers shared by knet_demo and knet_bench.
 */
#define _GNU_SOURCE
#include "knet_tool_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/resource.h>

const char *kt_loaded_library(void)
{
	static char path[PATH_MAX];
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, "knet_handle_new");

	memset(&info, 0, sizeof(info));
	if (sym && dladdr(sym, &info) && info.dli_fname) {
		if (!realpath(info.dli_fname, path)) {
			snprintf(path, sizeof(path), "%s", info.dli_fname);
		}
		return path;
	}
	/* fall back to /proc/self/maps */
	FILE *f = fopen("/proc/self/maps", "r");
	if (f) {
		char line[PATH_MAX + 128];
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "/");
			if (p && strstr(p, "libknet.so")) {
				p[strcspn(p, "\n")] = 0;
				snprintf(path, sizeof(path), "%s", p);
				fclose(f);
				return path;
			}
		}
		fclose(f);
	}
	return "(unknown)";
}

uint64_t kt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double kt_now_s(void)
{
	return (double)kt_now_ns() / 1e9;
}

double kt_cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0) {
		return 0.0;
	}
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int kt_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		done += (size_t)n;
	}
	if (done == len) {
		return 0;
	}
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

int kt_addr(struct sockaddr_storage *ss, const char *host, int port)
{
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(ss, 0, sizeof(*ss));
	return knet_strtoaddr(host ? host : "127.0.0.1", portstr, ss, sizeof(*ss));
}

/* ------------------------------------------------------------ log reader */

#define KT_MAX_LOG_PIPES 16

struct kt_log_reader {
	int max_level_printed;
	int npipes;
	int rfd[KT_MAX_LOG_PIPES];
	int wfd[KT_MAX_LOG_PIPES];
	char label[KT_MAX_LOG_PIPES][32];
	/* consecutive identical records of a pipe are printed once */
	char last[KT_MAX_LOG_PIPES][KNET_MAX_LOG_MSG_SIZE + 2];
	unsigned long repeats[KT_MAX_LOG_PIPES];
	int stop_pipe[2];
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	unsigned long count[KNET_LOG_DEBUG + 2];
};

struct kt_log_reader *kt_log_reader_new(int max_level_printed)
{
	struct kt_log_reader *lr = calloc(1, sizeof(*lr));
	if (!lr) {
		return NULL;
	}
	lr->max_level_printed = max_level_printed;
	if (pipe2(lr->stop_pipe, O_CLOEXEC) < 0) {
		free(lr);
		return NULL;
	}
	pthread_mutex_init(&lr->lock, NULL);
	return lr;
}

int kt_log_reader_add(struct kt_log_reader *lr, const char *label)
{
	int p[2];
	if (lr->started || lr->npipes >= KT_MAX_LOG_PIPES) {
		errno = EBUSY;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		return -1;
	}
	/* the library must never block on a full log pipe */
	fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	lr->rfd[lr->npipes] = p[0];
	lr->wfd[lr->npipes] = p[1];
	snprintf(lr->label[lr->npipes], sizeof(lr->label[0]), "%s", label);
	lr->npipes++;
	return p[1];
}

static void kt_log_flush_repeats(struct kt_log_reader *lr, int idx)
{
	if (lr->repeats[idx]) {
		fprintf(stderr, "[log %s] (last message repeated %lu more times)\n", lr->label[idx],
			lr->repeats[idx]);
		lr->repeats[idx] = 0;
	}
}

static void kt_log_drain_one(struct kt_log_reader *lr, int idx)
{
	struct knet_log_msg msg;
	for (;;) {
		ssize_t n = read(lr->rfd[idx], &msg, sizeof(msg));
		if (n != (ssize_t)sizeof(msg)) {
			return; /* EAGAIN, EOF, or a short record (ignored) */
		}
		msg.msg[sizeof(msg.msg) - 1] = 0;
		int level = msg.msglevel;
		pthread_mutex_lock(&lr->lock);
		lr->count[level <= KNET_LOG_DEBUG ? level : KNET_LOG_DEBUG + 1]++;
		pthread_mutex_unlock(&lr->lock);
		if (level > lr->max_level_printed) {
			continue;
		}
		char key[KNET_MAX_LOG_MSG_SIZE + 2];
		memcpy(key, msg.msg, KNET_MAX_LOG_MSG_SIZE);
		key[KNET_MAX_LOG_MSG_SIZE] = (char)(msg.subsystem | 0x80);
		key[KNET_MAX_LOG_MSG_SIZE + 1] = (char)(msg.msglevel + 1);
		if (!memcmp(key, lr->last[idx], sizeof(key))) {
			lr->repeats[idx]++;
			continue;
		}
		kt_log_flush_repeats(lr, idx);
		memcpy(lr->last[idx], key, sizeof(key));
		fprintf(stderr, "[log %s] %-7s %-10s %s\n", lr->label[idx],
			knet_log_get_loglevel_name(msg.msglevel),
			knet_log_get_subsystem_name(msg.subsystem), msg.msg);
	}
}

static void *kt_log_thread(void *arg)
{
	struct kt_log_reader *lr = arg;
	struct pollfd pfd[KT_MAX_LOG_PIPES + 1];
	for (;;) {
		int i;
		for (i = 0; i < lr->npipes; i++) {
			pfd[i].fd = lr->rfd[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		pfd[lr->npipes].fd = lr->stop_pipe[0];
		pfd[lr->npipes].events = POLLIN;
		pfd[lr->npipes].revents = 0;
		int rv = poll(pfd, (nfds_t)lr->npipes + 1, 1000);
		if (rv < 0 && errno != EINTR) {
			break;
		}
		if (rv == 0) {
			for (i = 0; i < lr->npipes; i++) {
				kt_log_flush_repeats(lr, i);
			}
		}
		for (i = 0; i < lr->npipes; i++) {
			if (pfd[i].revents) {
				kt_log_drain_one(lr, i);
			}
		}
		if (pfd[lr->npipes].revents) {
			break;
		}
	}
	for (int i = 0; i < lr->npipes; i++) {
		kt_log_drain_one(lr, i);
		kt_log_flush_repeats(lr, i);
	}
	return NULL;
}

int kt_log_reader_start(struct kt_log_reader *lr)
{
	if (pthread_create(&lr->thread, NULL, kt_log_thread, lr) != 0) {
		return -1;
	}
	lr->started = 1;
	return 0;
}

void kt_log_reader_stop(struct kt_log_reader *lr)
{
	if (!lr) {
		return;
	}
	if (lr->started) {
		char c = 1;
		if (write(lr->stop_pipe[1], &c, 1) < 0) {
			/* nothing to do */
		}
		pthread_join(lr->thread, NULL);
		lr->started = 0;
	}
}

void kt_log_reader_free(struct kt_log_reader *lr)
{
	if (!lr) {
		return;
	}
	kt_log_reader_stop(lr);
	for (int i = 0; i < lr->npipes; i++) {
		close(lr->rfd[i]);
		close(lr->wfd[i]);
	}
	lr->npipes = 0;
	close(lr->stop_pipe[0]);
	close(lr->stop_pipe[1]);
	pthread_mutex_destroy(&lr->lock);
	free(lr);
}

unsigned long kt_log_reader_count(struct kt_log_reader *lr, int level)
{
	unsigned long c;
	if (level < 0 || level > KNET_LOG_DEBUG + 1) {
		return 0;
	}
	pthread_mutex_lock(&lr->lock);
	c = lr->count[level];
	pthread_mutex_unlock(&lr->lock);
	return c;
}

/* ------------------------------------------------------------ crypto / compress */

int kt_crypto_enable(knet_handle_t h, const char *model, const unsigned char *key, unsigned int key_len)
{
	struct knet_handle_crypto_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.crypto_model, sizeof(cfg.crypto_model), "%s", model);
	snprintf(cfg.crypto_cipher_type, sizeof(cfg.crypto_cipher_type), "aes256");
	snprintf(cfg.crypto_hash_type, sizeof(cfg.crypto_hash_type), "sha256");
	if (key_len > KNET_MAX_KEY_LEN) {
		key_len = KNET_MAX_KEY_LEN;
	}
	memcpy(cfg.private_key, key, key_len);
	cfg.private_key_len = key_len;
	if (knet_handle_crypto_set_config(h, &cfg, 1) < 0) {
		return -1;
	}
	if (knet_handle_crypto_use_config(h, 1) < 0) {
		return -1;
	}
	if (knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC) < 0) {
		return -1;
	}
	return 0;
}

int kt_compress_enable(knet_handle_t h, const char *model, int level)
{
	struct knet_handle_compress_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.compress_model, sizeof(cfg.compress_model), "%s", model);
	cfg.compress_threshold = KNET_COMPRESS_THRESHOLD;
	cfg.compress_level = level;
	return knet_handle_compress(h, &cfg);
}
