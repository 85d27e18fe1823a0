/*
 * knet_bench - throughput, latency and idle-CPU benchmark of libknet between
 * two processes on loopback, and a scale scenario (a star of up to 128 leaf
 * nodes around a hub, in several processes; see "scale" below).
 *
 * The command run by the user is the coordinator: for every scenario it
 * fork+execs itself twice (--role tx / --role rx, i.e. node 1 and node 2),
 * talks to both over a private socketpair with a tiny line protocol, and
 * prints one JSON line per result plus a human table at the end.
 *
 *   child -> parent  READY <data_mtu>          links up, host reachable
 *   parent -> child  GO                         start measuring
 *   tx -> parent     SENT <msgs> <bytes> <t0_ns> <t1_ns>      (tput)
 *   parent -> rx     STOP <msgs>                expect that many, then report
 *   rx -> parent     RCVD <msgs> <bytes> <tfirst_ns> <tlast_ns> <bad>
 *   tx -> parent     LAT <n> <lost> <p50_us> <p99_us> <avg_us> <min_us> <max_us>
 *   parent -> child  END                        report CPU and exit
 *   child -> parent  CPU <seconds since GO>
 *   child -> parent  FAIL <reason>              at any time
 *
 * Both nodes use the same libknet (whatever libknet.so.1 the dynamic linker
 * finds: LD_LIBRARY_PATH is inherited).  Only the public libknet API is used.
 */
#define _GNU_SOURCE
#include "bench_payload.h"
#include "knet_tool_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define BENCH_MAGIC 0x4b424e43u /* "KBNC" */
#define BATCH 32
#define MAX_SCENARIOS 64

enum mode { MODE_TPUT, MODE_LAT, MODE_IDLE, MODE_SCALE };

#define SCALE_MAX_HOSTS 128
#define SCALE_HANDLES_PER_PROC 16
#define SCALE_MAX_PROCS 8

struct scenario {
	char name[96];
	enum mode mode;
	int size;
	int crypto;        /* 0 none, else aes256+sha256 of model crypto_model() */
	char compress[16]; /* "" = none */
	int hosts;         /* scale: number of leaf nodes */
	int sep;           /* scale: one hub port per (leaf, link) instead of one per link */
};

enum { CRYPTO_NONE, CRYPTO_OPENSSL, CRYPTO_NSS };
static const char *crypto_model(const struct scenario *s)
{
	return s->crypto == CRYPTO_NSS ? "nss" : "openssl";
}

struct bench_hdr {
	uint32_t magic;
	uint32_t run_id;
	uint64_t seq;
	uint64_t t_ns;
};

/* options */
static int opt_seconds = 5;
static int opt_links = 2;
static int opt_base_port;
static int opt_json_only;
static int opt_verbose;
static const char *opt_role;  /* "tx" or "rx" in children */
static int opt_ctl_fd = -1;
static uint32_t opt_run_id;
static struct scenario opt_scn;

/* ------------------------------------------------------------ scenarios */

static const char *mode_name(enum mode m)
{
	switch (m) {
	case MODE_TPUT: return "tput";
	case MODE_LAT: return "lat";
	case MODE_IDLE: return "idle";
	case MODE_SCALE: return "scale";
	}
	return "?";
}

static void scenario_name(struct scenario *s)
{
	char buf[64];
	if (s->mode == MODE_IDLE) {
		snprintf(buf, sizeof(buf), "idle");
	} else if (s->mode == MODE_SCALE) {
		snprintf(buf, sizeof(buf), "scale-%d", s->hosts);
	} else {
		snprintf(buf, sizeof(buf), "%s-%d", mode_name(s->mode), s->size);
	}
	const char *crypto = s->crypto == CRYPTO_NSS ? "-nss" : s->crypto ? "-crypto" : "";
	snprintf(s->name, sizeof(s->name), "%s%s%s%s%s", buf, crypto, s->compress[0] ? "-" : "", s->compress,
		 s->sep ? "-sep" : "");
}

/* "tput-<size>[-crypto|-nss][-<compress>]", "lat-<size>[-crypto|-nss]", "idle[-crypto|-nss]",
 * "scale-<hosts>[-crypto|-nss][-sep]" */
static int parse_scenario(const char *str, struct scenario *s)
{
	char tmp[64];
	memset(s, 0, sizeof(*s));
	snprintf(tmp, sizeof(tmp), "%s", str);
	char *save = NULL;
	char *tok = strtok_r(tmp, "-", &save);
	if (!tok) {
		return -1;
	}
	if (!strcmp(tok, "tput")) {
		s->mode = MODE_TPUT;
	} else if (!strcmp(tok, "lat")) {
		s->mode = MODE_LAT;
	} else if (!strcmp(tok, "idle")) {
		s->mode = MODE_IDLE;
	} else if (!strcmp(tok, "scale")) {
		s->mode = MODE_SCALE;
	} else {
		return -1;
	}
	s->size = 64;
	if (s->mode == MODE_SCALE) {
		tok = strtok_r(NULL, "-", &save);
		char *end;
		long v = tok ? strtol(tok, &end, 10) : 0;
		if (!tok || *end || v < 1 || v > SCALE_MAX_HOSTS) {
			fprintf(stderr, "scale-<hosts>: hosts must be 1..%d\n", SCALE_MAX_HOSTS);
			return -1;
		}
		s->hosts = (int)v;
		s->size = 0;
	} else if (s->mode != MODE_IDLE) {
		tok = strtok_r(NULL, "-", &save);
		if (!tok) {
			return -1;
		}
		char *end;
		long v = strtol(tok, &end, 10);
		if (*end == 'k' || *end == 'K') {
			v *= 1024;
			end++;
		}
		if (*end || v < (long)sizeof(struct bench_hdr) || v > 64000) {
			fprintf(stderr, "size must be %zu..64000\n", sizeof(struct bench_hdr));
			return -1;
		}
		s->size = (int)v;
	}
	while ((tok = strtok_r(NULL, "-", &save))) {
		if (!strcmp(tok, "crypto")) {
			s->crypto = CRYPTO_OPENSSL;
		} else if (!strcmp(tok, "nss")) {
			s->crypto = CRYPTO_NSS;
		} else if (!strcmp(tok, "sep") && s->mode == MODE_SCALE) {
			s->sep = 1;
		} else if (s->mode == MODE_SCALE) {
			return -1;
		} else if (!strcmp(tok, "lz4") || !strcmp(tok, "zlib") || !strcmp(tok, "zstd") ||
			   !strcmp(tok, "lzo2") || !strcmp(tok, "lzma") || !strcmp(tok, "bzip2") ||
			   !strcmp(tok, "lz4hc")) {
			snprintf(s->compress, sizeof(s->compress), "%s", tok);
		} else {
			return -1;
		}
	}
	scenario_name(s);
	return 0;
}

static const char *default_scenarios[] = {
	"tput-64", "tput-1024", "tput-8192", "tput-64000",
	"tput-1024-crypto", "tput-64000-crypto",
	"tput-1024-nss", "tput-64000-nss",
	"tput-8192-lz4", "tput-64000-crypto-lz4",
	"lat-64", "lat-64-crypto",
	"idle",
	"scale-64",
};

/* ------------------------------------------------------------ control channel */

static int ctl_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ctl_send(int fd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1) {
		return -1;
	}
	line[n++] = '\n';
	return send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* Read one line into out (without '\n').  Returns 1 with a line, 0 on timeout,
 * -1 on EOF/error.  Per-fd buffering is only needed in children (one fd);
 * the parent uses struct peer_ctl below. */
struct linebuf {
	int fd;
	char buf[4096];
	size_t len;
};

static int linebuf_get(struct linebuf *lb, char *out, size_t outlen, int timeout_ms)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		char *nl = memchr(lb->buf, '\n', lb->len);
		if (nl) {
			size_t l = (size_t)(nl - lb->buf);
			size_t c = l < outlen - 1 ? l : outlen - 1;
			memcpy(out, lb->buf, c);
			out[c] = 0;
			memmove(lb->buf, nl + 1, lb->len - l - 1);
			lb->len -= l + 1;
			return 1;
		}
		if (lb->len == sizeof(lb->buf)) {
			lb->len = 0; /* garbage */
		}
		uint64_t now = kt_now_ns();
		struct pollfd pfd = { .fd = lb->fd, .events = POLLIN };
		int wait_ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000ull) + 1;
		int rv = poll(&pfd, 1, wait_ms);
		if (rv < 0 && errno != EINTR) {
			return -1;
		}
		if (rv <= 0) {
			if (kt_now_ns() >= deadline) {
				return 0;
			}
			continue;
		}
		ssize_t n = recv(lb->fd, lb->buf + lb->len, sizeof(lb->buf) - lb->len, MSG_DONTWAIT);
		if (n == 0) {
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				continue;
			}
			return -1;
		}
		lb->len += (size_t)n;
	}
}

/* ============================================================ child (node) */

static knet_handle_t h;
static int datafd;
static int8_t channel;
static struct kt_log_reader *logr;
static struct linebuf ctl;
static int my_id, peer_id;

static void sock_notify_cb(void *priv, int fd, int8_t chan, uint8_t tx_rx, int error, int errorno)
{
	(void)priv;
	(void)tx_rx;
	if (opt_verbose) {
		fprintf(stderr, "[%s] datafd %d channel %d error %d: %s\n", opt_role, fd, chan, error,
			strerror(errorno));
	}
}

static int node_port(int node, int link)
{
	return opt_base_port + node * 10 + link;
}

static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void child_fail(const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++) {
		if (*p == '\n') {
			*p = ' ';
		}
	}
	ctl_send(ctl.fd, "FAIL %s", msg);
	fprintf(stderr, "[%s] FAIL: %s\n", opt_role, msg);
	_exit(1);
}

static void node_setup(void)
{
	logr = kt_log_reader_new(opt_verbose ? KNET_LOG_WARN : KNET_LOG_ERR);
	int logfd = logr ? kt_log_reader_add(logr, opt_role) : -1;
	if (logfd < 0 || kt_log_reader_start(logr) < 0) {
		child_fail("log pipe: %s", strerror(errno));
	}
	h = knet_handle_new((knet_node_id_t)my_id, logfd, KNET_LOG_WARN);
	if (!h && errno == ENAMETOOLONG) {
		/* not allowed to force big socket buffers: go on without */
		h = knet_handle_new_ex((knet_node_id_t)my_id, logfd, KNET_LOG_WARN, 0);
	}
	if (!h) {
		child_fail("knet_handle_new: %s", strerror(errno));
	}
	if (knet_handle_enable_sock_notify(h, NULL, sock_notify_cb) < 0) {
		child_fail("knet_handle_enable_sock_notify: %s", strerror(errno));
	}
	datafd = 0;
	channel = -1;
	if (knet_handle_add_datafd(h, &datafd, &channel) < 0) {
		child_fail("knet_handle_add_datafd: %s", strerror(errno));
	}
	fcntl(datafd, F_SETFL, fcntl(datafd, F_GETFL) | O_NONBLOCK);
	if (opt_scn.crypto) {
		/* both processes derive the same key from the run id */
		unsigned char key[256];
		for (unsigned i = 0; i < sizeof(key); i++) {
			key[i] = (unsigned char)((opt_run_id >> ((i % 4) * 8)) ^ (i * 131u + 7u));
		}
		if (kt_crypto_enable(h, crypto_model(&opt_scn), key, sizeof(key)) < 0) {
			child_fail("crypto %s/aes256/sha256: %s", crypto_model(&opt_scn), strerror(errno));
		}
	}
	if (opt_scn.compress[0]) {
		if (kt_compress_enable(h, opt_scn.compress, 1) < 0) {
			child_fail("compress %s: %s", opt_scn.compress, strerror(errno));
		}
	}
	if (knet_host_add(h, (knet_node_id_t)peer_id) < 0 ||
	    knet_host_set_policy(h, (knet_node_id_t)peer_id, KNET_LINK_POLICY_PASSIVE) < 0) {
		child_fail("knet_host_add: %s", strerror(errno));
	}
	for (int l = 0; l < opt_links; l++) {
		struct sockaddr_storage src, dst;
		kt_addr(&src, "127.0.0.1", node_port(my_id, l));
		kt_addr(&dst, "127.0.0.1", node_port(peer_id, l));
		if (knet_link_set_config(h, (knet_node_id_t)peer_id, (uint8_t)l, KNET_TRANSPORT_UDP, &src,
					 &dst, 0) < 0) {
			child_fail("knet_link_set_config link %d: %s", l, strerror(errno));
		}
		if (opt_scn.mode != MODE_IDLE) {
			/* come up fast; idle mode measures the library's default timers */
			knet_link_set_ping_timers(h, (knet_node_id_t)peer_id, (uint8_t)l, 250, 2000, 2048);
			knet_link_set_pong_count(h, (knet_node_id_t)peer_id, (uint8_t)l, 2);
		}
		knet_link_set_priority(h, (knet_node_id_t)peer_id, (uint8_t)l, (uint8_t)(opt_links - l));
		if (knet_link_set_enable(h, (knet_node_id_t)peer_id, (uint8_t)l, 1) < 0) {
			child_fail("knet_link_set_enable link %d: %s", l, strerror(errno));
		}
	}
	if (knet_handle_setfwd(h, 1) < 0) {
		child_fail("knet_handle_setfwd: %s", strerror(errno));
	}
}

/* Wait until the peer is reachable, every link is connected and PMTUd has
 * produced a data MTU above its minimum (bounded). */
static unsigned int node_wait_ready(void)
{
	uint64_t start = kt_now_ns();
	uint64_t links_up_at = 0;
	unsigned int mtu = 0;
	for (;;) {
		struct knet_host_status hs;
		memset(&hs, 0, sizeof(hs));
		int up = knet_host_get_status(h, (knet_node_id_t)peer_id, &hs) == 0 && hs.reachable;
		for (int l = 0; up && l < opt_links; l++) {
			struct knet_link_status ls;
			memset(&ls, 0, sizeof(ls));
			if (knet_link_get_status(h, (knet_node_id_t)peer_id, (uint8_t)l, &ls, sizeof(ls)) < 0 ||
			    !ls.connected) {
				up = 0;
			}
		}
		mtu = 0;
		knet_handle_pmtud_get(h, &mtu);
		uint64_t now = kt_now_ns();
		if (up && !links_up_at) {
			links_up_at = now;
		}
		if (up && (mtu > 1024 || now - links_up_at > 5000000000ull)) {
			return mtu;
		}
		if (now - start > 25000000000ull) {
			child_fail("links not up after 25 s (reachable=%d)", hs.reachable);
		}
		usleep(20000);
	}
}

static void node_teardown(void)
{
	knet_handle_setfwd(h, 0);
	for (int l = 0; l < opt_links; l++) {
		knet_link_set_enable(h, (knet_node_id_t)peer_id, (uint8_t)l, 0);
		knet_link_clear_config(h, (knet_node_id_t)peer_id, (uint8_t)l);
	}
	knet_host_remove(h, (knet_node_id_t)peer_id);
	knet_handle_remove_datafd(h, datafd);
	knet_handle_free(h);
	kt_log_reader_free(logr);
}

static void fill_payload(unsigned char *buf, size_t len)
{
	bench_fill_payload(buf, len, 0x12345678u ^ opt_run_id);
}

/* sender: blast for opt_seconds through the datafd */
static void tx_tput(void)
{
	static unsigned char bufs[BATCH][KNET_MAX_PACKET_SIZE];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	size_t size = (size_t)opt_scn.size;
	uint64_t seq = 0, bytes = 0;

	for (int i = 0; i < BATCH; i++) {
		fill_payload(bufs[i], size);
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = size;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	uint64_t t0 = kt_now_ns();
	uint64_t t_end = t0 + (uint64_t)opt_seconds * 1000000000ull;
	uint64_t now = t0;
	while (now < t_end) {
		for (int i = 0; i < BATCH; i++) {
			struct bench_hdr hdr = { BENCH_MAGIC, opt_run_id, seq + (uint64_t)i, 0 };
			memcpy(bufs[i], &hdr, sizeof(hdr));
		}
		int n = sendmmsg(datafd, msgs, BATCH, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) {
				struct pollfd pfd = { .fd = datafd, .events = POLLOUT };
				poll(&pfd, 1, 10);
			} else {
				child_fail("sendmmsg to datafd: %s", strerror(errno));
			}
		} else {
			seq += (uint64_t)n;
			bytes += (uint64_t)n * size;
		}
		now = kt_now_ns();
	}
	ctl_send(ctl.fd, "SENT %llu %llu %llu %llu", (unsigned long long)seq,
		 (unsigned long long)bytes, (unsigned long long)t0, (unsigned long long)now);
}

/* receiver: count until STOP <n> arrived and n messages seen (or 2 s idle) */
static void rx_tput(void)
{
	static unsigned char bufs[BATCH][KNET_MAX_PACKET_SIZE];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t rcvd = 0, bytes = 0, bad = 0, t_first = 0, t_last = 0;
	uint64_t expected = UINT64_MAX;
	uint64_t stop_at = 0;
	uint64_t hard_end = kt_now_ns() + (uint64_t)(opt_seconds + 60) * 1000000000ull;

	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		struct pollfd pfd[2] = { { .fd = datafd, .events = POLLIN }, { .fd = ctl.fd, .events = POLLIN } };
		int rv = poll(pfd, 2, 100);
		uint64_t now = kt_now_ns();
		if (rv > 0 && (pfd[0].revents & POLLIN)) {
			int n = recvmmsg(datafd, msgs, BATCH, MSG_DONTWAIT, NULL);
			if (n > 0) {
				now = kt_now_ns();
				for (int i = 0; i < n; i++) {
					struct bench_hdr hdr;
					if (msgs[i].msg_len < sizeof(hdr)) {
						bad++;
						continue;
					}
					memcpy(&hdr, bufs[i], sizeof(hdr));
					if (hdr.magic != BENCH_MAGIC || hdr.run_id != opt_run_id ||
					    msgs[i].msg_len != (unsigned)opt_scn.size) {
						bad++;
						continue;
					}
					rcvd++;
					bytes += msgs[i].msg_len;
				}
				if (!t_first) {
					t_first = now;
				}
				t_last = now;
			}
		}
		if (rv > 0 && pfd[1].revents) {
			char line[256];
			int g = linebuf_get(&ctl, line, sizeof(line), 0);
			if (g < 0) {
				child_fail("control channel closed");
			}
			if (g > 0) {
				unsigned long long e;
				if (sscanf(line, "STOP %llu", &e) == 1) {
					expected = e;
					stop_at = now;
				}
			}
		}
		if (expected != UINT64_MAX) {
			if (rcvd >= expected) {
				break;
			}
			/* nothing new for 2 s after STOP: the rest is lost */
			uint64_t last = t_last > stop_at ? t_last : stop_at;
			if (now - last > 2000000000ull) {
				break;
			}
		}
		if (now > hard_end) {
			break;
		}
	}
	ctl_send(ctl.fd, "RCVD %llu %llu %llu %llu %llu", (unsigned long long)rcvd,
		 (unsigned long long)bytes, (unsigned long long)t_first, (unsigned long long)t_last,
		 (unsigned long long)bad);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : (x > y);
}

/* pinger: one message in flight, for opt_seconds */
static void tx_lat(void)
{
	static unsigned char buf[KNET_MAX_PACKET_SIZE];
	static unsigned char rbuf[KNET_MAX_PACKET_SIZE];
	size_t size = (size_t)opt_scn.size;
	size_t cap = 1000000, n = 0;
	uint64_t *rtt = malloc(cap * sizeof(*rtt));
	uint64_t lost = 0, seq = 0;
	if (!rtt) {
		child_fail("out of memory");
	}
	fill_payload(buf, size);
	uint64_t t_end = kt_now_ns() + (uint64_t)opt_seconds * 1000000000ull;
	while (kt_now_ns() < t_end && n < cap) {
		struct bench_hdr hdr = { BENCH_MAGIC, opt_run_id, seq, kt_now_ns() };
		memcpy(buf, &hdr, sizeof(hdr));
		if (send(datafd, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)size) {
			struct pollfd pfd = { .fd = datafd, .events = POLLOUT };
			poll(&pfd, 1, 10);
			continue;
		}
		/* wait up to 1 s for the echo of this seq */
		uint64_t deadline = hdr.t_ns + 1000000000ull;
		int got = 0;
		while (!got) {
			uint64_t now = kt_now_ns();
			if (now >= deadline) {
				break;
			}
			struct pollfd pfd = { .fd = datafd, .events = POLLIN };
			int rv = poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1);
			if (rv <= 0) {
				continue;
			}
			for (;;) {
				ssize_t len = recv(datafd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
				if (len < 0) {
					break;
				}
				struct bench_hdr r;
				if (len < (ssize_t)sizeof(r)) {
					continue;
				}
				memcpy(&r, rbuf, sizeof(r));
				if (r.magic == BENCH_MAGIC && r.run_id == opt_run_id && r.seq == seq) {
					rtt[n++] = kt_now_ns() - r.t_ns;
					got = 1;
					break;
				}
			}
		}
		if (!got) {
			lost++;
		}
		seq++;
	}
	if (n == 0) {
		ctl_send(ctl.fd, "LAT 0 %llu 0 0 0 0 0", (unsigned long long)lost);
		free(rtt);
		return;
	}
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	long double sum = 0;
	for (size_t i = 0; i < n; i++) {
		sum += rtt[i];
	}
	size_t i50 = (n - 1) * 50 / 100, i99 = (n - 1) * 99 / 100;
	ctl_send(ctl.fd, "LAT %zu %llu %.1f %.1f %.1f %.1f %.1f", n, (unsigned long long)lost,
		 rtt[i50] / 1e3, rtt[i99] / 1e3, (double)(sum / n) / 1e3, rtt[0] / 1e3, rtt[n - 1] / 1e3);
	free(rtt);
}

/* echo: send back everything until END arrives (the END line is left in
 * the control buffer for the caller) */
static void rx_echo(char *endline, size_t endlen)
{
	static unsigned char buf[KNET_MAX_PACKET_SIZE];
	uint64_t hard_end = kt_now_ns() + (uint64_t)(opt_seconds + 60) * 1000000000ull;
	while (kt_now_ns() < hard_end) {
		struct pollfd pfd[2] = { { .fd = datafd, .events = POLLIN }, { .fd = ctl.fd, .events = POLLIN } };
		int rv = poll(pfd, 2, 100);
		if (rv <= 0) {
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			for (;;) {
				ssize_t len = recv(datafd, buf, sizeof(buf), MSG_DONTWAIT);
				if (len <= 0) {
					break;
				}
				send(datafd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
			}
		}
		if (pfd[1].revents) {
			int g = linebuf_get(&ctl, endline, endlen, 0);
			if (g < 0) {
				child_fail("control channel closed");
			}
			if (g > 0) {
				return;
			}
		}
	}
	snprintf(endline, endlen, "END");
}

static int child_main(void)
{
	ctl.fd = opt_ctl_fd;
	my_id = !strcmp(opt_role, "tx") ? 1 : 2;
	peer_id = 3 - my_id;
	/* watchdog: never outlive a lost coordinator */
	alarm((unsigned)(opt_seconds + 120));
	signal(SIGPIPE, SIG_IGN);

	node_setup();
	unsigned int mtu = node_wait_ready();
	ctl_send(ctl.fd, "READY %u", mtu);

	char line[256];
	int g = linebuf_get(&ctl, line, sizeof(line), 60000);
	if (g <= 0 || strcmp(line, "GO")) {
		child_fail("expected GO");
	}
	double cpu0 = kt_cpu_seconds();
	int have_end = 0;
	if (opt_scn.mode == MODE_TPUT) {
		if (my_id == 1) {
			tx_tput();
		} else {
			rx_tput();
		}
	} else if (opt_scn.mode == MODE_LAT) {
		if (my_id == 1) {
			tx_lat();
		} else {
			rx_echo(line, sizeof(line));
			have_end = 1;
		}
	}
	if (!have_end) {
		g = linebuf_get(&ctl, line, sizeof(line), (opt_seconds + 90) * 1000);
		if (g <= 0) {
			child_fail("expected END");
		}
	}
	double cpu = kt_cpu_seconds() - cpu0;
	ctl_send(ctl.fd, "CPU %.6f", cpu);
	node_teardown();
	return 0;
}

/* ============================================================ scale (hub + leaves) */

/*
 * scale-N: a star.  The hub process has one handle (node 1) with N hosts
 * (nodes 2..N+1), opt_links UDP links each; the leaves are N handles (one
 * per leaf node, each with one host = the hub) spread over
 * scale_nprocs(N) leaf processes.  Library default ping timers and pong
 * count.  Ports (P = --port, L = links):
 *   hub, link l, shared by all hosts (as corosync configures knet): P + l
 *   hub, link l to leaf k with -sep:            P + L + N*L + k*L + l
 *   leaf k, link l:                              P + L + k*L + l
 *
 * Extra control lines:
 *   child -> parent  READY <seconds to all links up> <links with PMTU>   (all roles)
 *   hub -> parent    SCALE <links> <elapsed_s> <ping_min> <ping_avg> <gap_max_ms>
 *                          <lat_max_us> <lat_avg_us> <lat_max_seen_us> <downs>
 *                          <down_count_delta> <unreachable> <pong_min> <interval_ms> <poll_cpu_s> <worst>
 *   child -> parent  CPU <seconds since GO> <elapsed_s> <latency max us> <latency sum us> <links>
 */

static int scale_nprocs(int hosts)
{
	int np = (hosts + SCALE_HANDLES_PER_PROC - 1) / SCALE_HANDLES_PER_PROC;
	if (np < 1) {
		np = 1;
	}
	if (np < 4 && hosts >= 4) {
		np = 4; /* a few processes even for small stars */
	}
	return np > SCALE_MAX_PROCS ? SCALE_MAX_PROCS : np;
}

/* leaves [first, first+count) of group g */
static void scale_group(int hosts, int g, int *first, int *count)
{
	int np = scale_nprocs(hosts);
	int a = hosts * g / np, b = hosts * (g + 1) / np;
	*first = a;
	*count = b - a;
}

static int scale_hub_port(const struct scenario *s, int k, int l)
{
	if (!s->sep) {
		return opt_base_port + l;
	}
	return opt_base_port + opt_links + s->hosts * opt_links + k * opt_links + l;
}

static int scale_leaf_port(int k, int l)
{
	return opt_base_port + opt_links + k * opt_links + l;
}

/* UDP ports a scenario uses from --port on */
static int scenario_port_span(const struct scenario *s)
{
	if (s->mode == MODE_SCALE) {
		return opt_links + (s->sep ? 2 : 1) * s->hosts * opt_links;
	}
	return 30;
}

static void derive_key(unsigned char *key, size_t len)
{
	/* every process derives the same key from the run id */
	for (unsigned i = 0; i < len; i++) {
		key[i] = (unsigned char)((opt_run_id >> ((i % 4) * 8)) ^ (i * 131u + 7u));
	}
}

struct scale_node {
	knet_handle_t h;
	int id;
	int datafd;
};

struct scale_link {
	struct scale_node *n;
	int host;
	int link;
	int leaf;
	/* measurement */
	int was_connected;
	unsigned long long ping0, pong0, ping_last, pong1, ping1;
	unsigned int down0, down1;
	uint64_t t_ping_change;
	uint64_t gap_max_ns;
	unsigned long long lat_max_seen;
	unsigned long long lat_end;
	unsigned long downs_seen;
};

static struct scale_node scale_nodes[SCALE_MAX_HOSTS];
static int scale_nnodes;
static struct scale_link scale_links[SCALE_MAX_HOSTS * KNET_MAX_LINK];
static int scale_nlinks;

static knet_handle_t scale_new_handle(int id, int logfd, int *dfd)
{
	knet_handle_t kh = knet_handle_new((knet_node_id_t)id, logfd, KNET_LOG_WARN);
	if (!kh && errno == ENAMETOOLONG) {
		kh = knet_handle_new_ex((knet_node_id_t)id, logfd, KNET_LOG_WARN, 0);
	}
	if (!kh) {
		child_fail("knet_handle_new node %d: %s", id, strerror(errno));
	}
	if (knet_handle_enable_sock_notify(kh, NULL, sock_notify_cb) < 0) {
		child_fail("knet_handle_enable_sock_notify node %d: %s", id, strerror(errno));
	}
	int8_t ch = -1;
	*dfd = 0;
	if (knet_handle_add_datafd(kh, dfd, &ch) < 0) {
		child_fail("knet_handle_add_datafd node %d: %s", id, strerror(errno));
	}
	if (opt_scn.crypto) {
		unsigned char key[256];
		derive_key(key, sizeof(key));
		if (kt_crypto_enable(kh, crypto_model(&opt_scn), key, sizeof(key)) < 0) {
			child_fail("crypto %s/aes256/sha256 node %d: %s", crypto_model(&opt_scn), id, strerror(errno));
		}
	}
	return kh;
}

static void scale_add_host(struct scale_node *n, int peer, int leaf, int hub_side)
{
	if (knet_host_add(n->h, (knet_node_id_t)peer) < 0 ||
	    knet_host_set_policy(n->h, (knet_node_id_t)peer, KNET_LINK_POLICY_PASSIVE) < 0) {
		child_fail("node %d: knet_host_add %d: %s", n->id, peer, strerror(errno));
	}
	for (int l = 0; l < opt_links; l++) {
		struct sockaddr_storage src, dst;
		int hp = scale_hub_port(&opt_scn, leaf, l), lp = scale_leaf_port(leaf, l);
		kt_addr(&src, "127.0.0.1", hub_side ? hp : lp);
		kt_addr(&dst, "127.0.0.1", hub_side ? lp : hp);
		if (knet_link_set_config(n->h, (knet_node_id_t)peer, (uint8_t)l, KNET_TRANSPORT_UDP, &src, &dst,
					 0) < 0) {
			child_fail("node %d: knet_link_set_config host %d link %d: %s", n->id, peer, l,
				   strerror(errno));
		}
		/* library default ping timers and pong count (like idle) */
		knet_link_set_priority(n->h, (knet_node_id_t)peer, (uint8_t)l, (uint8_t)(opt_links - l));
		if (knet_link_set_enable(n->h, (knet_node_id_t)peer, (uint8_t)l, 1) < 0) {
			child_fail("node %d: knet_link_set_enable host %d link %d: %s", n->id, peer, l,
				   strerror(errno));
		}
		struct scale_link *sl = &scale_links[scale_nlinks++];
		memset(sl, 0, sizeof(*sl));
		sl->n = n;
		sl->host = peer;
		sl->link = l;
		sl->leaf = leaf;
	}
}

static int scale_get(struct scale_link *sl, struct knet_link_status *ls)
{
	memset(ls, 0, sizeof(*ls));
	return knet_link_get_status(sl->n->h, (knet_node_id_t)sl->host, (uint8_t)sl->link, ls, sizeof(*ls));
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* one status sweep over the hub's links during the measurement */
static void scale_sweep(uint64_t now)
{
	for (int i = 0; i < scale_nlinks; i++) {
		struct scale_link *sl = &scale_links[i];
		struct knet_link_status ls;
		if (scale_get(sl, &ls) < 0) {
			ls.connected = 0;
		}
		if (sl->was_connected && !ls.connected) {
			sl->downs_seen++;
		}
		sl->was_connected = ls.connected;
		unsigned long long p = ls.stats.tx_ping_packets;
		if (p != sl->ping_last) {
			if (now - sl->t_ping_change > sl->gap_max_ns) {
				sl->gap_max_ns = now - sl->t_ping_change;
			}
			sl->ping_last = p;
			sl->t_ping_change = now;
		}
		if (ls.latency > sl->lat_max_seen) {
			sl->lat_max_seen = ls.latency;
		}
		sl->ping1 = p;
		sl->pong1 = ls.stats.rx_pong_packets;
		sl->down1 = ls.stats.down_count;
		sl->lat_end = ls.latency;
	}
}

/* tear down one handle: setfwd 0, links disabled and cleared, hosts removed, datafd, free */
static void *scale_teardown_node(void *arg)
{
	struct scale_node *n = arg;
	knet_handle_setfwd(n->h, 0);
	for (int i = 0; i < scale_nlinks; i++) {
		struct scale_link *sl = &scale_links[i];
		if (sl->n == n) {
			knet_link_set_enable(n->h, (knet_node_id_t)sl->host, (uint8_t)sl->link, 0);
			knet_link_clear_config(n->h, (knet_node_id_t)sl->host, (uint8_t)sl->link);
		}
	}
	for (int i = 0; i < scale_nlinks; i++) {
		struct scale_link *sl = &scale_links[i];
		if (sl->n == n && sl->link == 0) {
			knet_host_remove(n->h, (knet_node_id_t)sl->host);
		}
	}
	knet_handle_remove_datafd(n->h, n->datafd);
	knet_handle_free(n->h);
	return NULL;
}

static void scale_teardown(void)
{
	/* the handles are independent: free them in parallel (the reference
	 * takes about a second per handle) */
	pthread_t th[SCALE_MAX_HOSTS];
	int started[SCALE_MAX_HOSTS] = { 0 };
	for (int i = 0; i < scale_nnodes; i++) {
		started[i] = pthread_create(&th[i], NULL, scale_teardown_node, &scale_nodes[i]) == 0;
		if (!started[i]) {
			scale_teardown_node(&scale_nodes[i]);
		}
	}
	for (int i = 0; i < scale_nnodes; i++) {
		if (started[i]) {
			pthread_join(th[i], NULL);
		}
	}
	kt_log_reader_free(logr);
}

static int scale_child_main(int group)
{
	int hub = !strcmp(opt_role, "hub");
	int nhosts = opt_scn.hosts;
	ctl.fd = opt_ctl_fd;
	alarm((unsigned)(opt_seconds + 240));
	signal(SIGPIPE, SIG_IGN);

	char label[32];
	if (hub) {
		snprintf(label, sizeof(label), "hub");
	} else {
		snprintf(label, sizeof(label), "leaves%d", group);
	}
	/* one log pipe per process, shared by its handles (records are < PIPE_BUF) */
	logr = kt_log_reader_new(opt_verbose ? KNET_LOG_WARN : KNET_LOG_ERR);
	int logfd = logr ? kt_log_reader_add(logr, label) : -1;
	if (logfd < 0 || kt_log_reader_start(logr) < 0) {
		child_fail("log pipe: %s", strerror(errno));
	}
	uint64_t t_start = kt_now_ns();
	if (hub) {
		struct scale_node *n = &scale_nodes[scale_nnodes++];
		n->id = 1;
		n->h = scale_new_handle(1, logfd, &n->datafd);
		for (int k = 0; k < nhosts; k++) {
			scale_add_host(n, k + 2, k, 1);
		}
	} else {
		int first, count;
		scale_group(nhosts, group, &first, &count);
		for (int k = first; k < first + count; k++) {
			struct scale_node *n = &scale_nodes[scale_nnodes++];
			n->id = k + 2;
			n->h = scale_new_handle(n->id, logfd, &n->datafd);
			scale_add_host(n, 1, k, 0);
		}
	}
	for (int i = 0; i < scale_nnodes; i++) {
		if (knet_handle_setfwd(scale_nodes[i].h, 1) < 0) {
			child_fail("knet_handle_setfwd node %d: %s", scale_nodes[i].id, strerror(errno));
		}
	}
	uint64_t t_setup = kt_now_ns();

	/* all links connected (60 s), then PMTUd done on all of them (at most 20 s more) */
	uint64_t up_at = 0;
	int with_mtu = 0;
	for (;;) {
		int up = 0;
		with_mtu = 0;
		for (int i = 0; i < scale_nlinks; i++) {
			struct knet_link_status ls;
			if (scale_get(&scale_links[i], &ls) == 0 && ls.connected) {
				up++;
				if (ls.mtu > 1024) {
					with_mtu++;
				}
			}
		}
		uint64_t now = kt_now_ns();
		if (up == scale_nlinks && !up_at) {
			up_at = now;
		}
		if (up_at && (with_mtu == scale_nlinks || now - up_at > 20000000000ull)) {
			break;
		}
		if (!up_at && now - t_start > 60000000000ull) {
			char which[200] = "";
			size_t o = 0;
			for (int i = 0; i < scale_nlinks && o + 16 < sizeof(which); i++) {
				struct knet_link_status ls;
				if (scale_get(&scale_links[i], &ls) < 0 || !ls.connected) {
					o += (size_t)snprintf(which + o, sizeof(which) - o, " %d/%d:%d",
							      scale_links[i].n->id, scale_links[i].host,
							      scale_links[i].link);
				}
			}
			child_fail("%d of %d links not connected after 60 s (node/host:link%s)", scale_nlinks - up,
				   scale_nlinks, which);
		}
		usleep(50000);
	}
	ctl_send(ctl.fd, "READY %.3f %d", (double)(up_at - t_start) / 1e9, with_mtu);
	if (opt_verbose) {
		fprintf(stderr, "[%s] %d handle(s), %d links: set up in %.2f s, connected at %.2f s, "
			"PMTU on %d links at %.2f s\n", label, scale_nnodes, scale_nlinks,
			(double)(t_setup - t_start) / 1e9, (double)(up_at - t_start) / 1e9, with_mtu,
			(double)(kt_now_ns() - t_start) / 1e9);
	}

	char line[256];
	int g = linebuf_get(&ctl, line, sizeof(line), 120000);
	if (g <= 0 || strcmp(line, "GO")) {
		child_fail("expected GO");
	}
	double cpu0 = kt_cpu_seconds();
	uint64_t tcpu0 = thread_cpu_ns();
	uint64_t t0 = kt_now_ns();
	if (hub) {
		for (int i = 0; i < scale_nlinks; i++) {
			struct scale_link *sl = &scale_links[i];
			struct knet_link_status ls;
			scale_get(sl, &ls);
			sl->was_connected = ls.connected;
			sl->ping0 = sl->ping_last = sl->ping1 = ls.stats.tx_ping_packets;
			sl->pong0 = sl->pong1 = ls.stats.rx_pong_packets;
			sl->down0 = sl->down1 = ls.stats.down_count;
			sl->lat_max_seen = sl->lat_end = ls.latency;
			sl->t_ping_change = t0;
			if (!ls.connected) {
				sl->downs_seen++;
			}
		}
	}
	/* hub: a status sweep every 100 ms until END; leaves: just wait */
	uint64_t next = t0 + 100000000ull;
	uint64_t hard_end = t0 + (uint64_t)(opt_seconds + 90) * 1000000000ull;
	for (;;) {
		uint64_t now = kt_now_ns();
		int wait_ms = hub ? (now >= next ? 0 : (int)((next - now) / 1000000ull) + 1) : 1000;
		g = linebuf_get(&ctl, line, sizeof(line), wait_ms);
		if (g < 0) {
			child_fail("control channel closed");
		}
		now = kt_now_ns();
		if (hub && now >= next) {
			scale_sweep(now);
			next += 100000000ull;
			if (next < now) {
				next = now + 100000000ull;
			}
		}
		if (g > 0) {
			if (!strcmp(line, "END")) {
				break;
			}
		}
		if (now > hard_end) {
			child_fail("expected END");
		}
	}
	uint64_t t1 = kt_now_ns();
	if (hub) {
		scale_sweep(t1);
	}
	/* this thread (control channel, the hub's status polling) is the bench's, not the library's */
	double poll_cpu = (double)(thread_cpu_ns() - tcpu0) / 1e9;
	double cpu = kt_cpu_seconds() - cpu0 - poll_cpu;
	double elapsed = (double)(t1 - t0) / 1e9;
	if (hub) {
		/* the pings the hub sends on each link: expected elapsed / interval */
		time_t interval = 0, timeout = 0;
		unsigned int precision = 0;
		knet_link_get_ping_timers(scale_nodes[0].h, 2, 0, &interval, &timeout, &precision);
		if (interval <= 0) {
			interval = KNET_LINK_DEFAULT_PING_INTERVAL;
		}
		double expected = elapsed * 1000.0 / (double)interval;
		double ping_min = 1e9, ping_sum = 0, pong_min = 1e9, lat_sum = 0;
		unsigned long long lat_max = 0, lat_max_seen = 0;
		uint64_t gap_max = 0;
		unsigned long downs = 0, dcount = 0;
		int worst = -1;
		for (int i = 0; i < scale_nlinks; i++) {
			struct scale_link *sl = &scale_links[i];
			double pr = (double)(sl->ping1 - sl->ping0) / expected;
			if (pr < ping_min) {
				ping_min = pr;
				worst = i;
			}
			ping_sum += pr;
			double po = sl->ping1 > sl->ping0 ? (double)(sl->pong1 - sl->pong0) / (double)(sl->ping1 - sl->ping0)
							  : 0.0;
			if (po < pong_min) {
				pong_min = po;
			}
			/* the gap still open at the end counts too */
			uint64_t open_gap = t1 - sl->t_ping_change;
			uint64_t gm = sl->gap_max_ns > open_gap ? sl->gap_max_ns : open_gap;
			if (gm > gap_max) {
				gap_max = gm;
			}
			if (sl->lat_end > lat_max) {
				lat_max = sl->lat_end;
			}
			if (sl->lat_max_seen > lat_max_seen) {
				lat_max_seen = sl->lat_max_seen;
			}
			lat_sum += (double)sl->lat_end;
			downs += sl->downs_seen;
			dcount += sl->down1 - sl->down0;
		}
		int unreachable = 0;
		for (int k = 0; k < nhosts; k++) {
			struct knet_host_status hs;
			memset(&hs, 0, sizeof(hs));
			if (knet_host_get_status(scale_nodes[0].h, (knet_node_id_t)(k + 2), &hs) < 0 || !hs.reachable) {
				unreachable++;
			}
		}
		ctl_send(ctl.fd, "SCALE %d %.4f %.4f %.4f %.1f %llu %.1f %llu %lu %lu %d %.4f %ld %.6f %d/%d", scale_nlinks,
			 elapsed, ping_min, ping_sum / scale_nlinks, (double)gap_max / 1e6, lat_max,
			 lat_sum / scale_nlinks, lat_max_seen, downs, dcount, unreachable, pong_min,
			 (long)interval, poll_cpu, worst >= 0 ? scale_links[worst].host : 0,
			 worst >= 0 ? scale_links[worst].link : 0);
	}
	/* the latency each side measures (the hub's links: in SCALE above) */
	unsigned long long lat_max = 0;
	double lat_sum = 0;
	for (int i = 0; i < scale_nlinks; i++) {
		struct knet_link_status ls;
		if (scale_get(&scale_links[i], &ls) == 0) {
			lat_max = ls.latency > lat_max ? ls.latency : lat_max;
			lat_sum += (double)ls.latency;
		}
	}
	ctl_send(ctl.fd, "CPU %.6f %.6f %llu %.1f %d", cpu, elapsed, lat_max, lat_sum, scale_nlinks);
	uint64_t t_td = kt_now_ns();
	scale_teardown();
	if (opt_verbose) {
		fprintf(stderr, "[%s] teardown %.2f s\n", label, (double)(kt_now_ns() - t_td) / 1e9);
	}
	return 0;
}

/* ============================================================ coordinator */

struct result {
	struct scenario scn;
	int ok;
	char error[700];
	unsigned int mtu;
	/* tput */
	unsigned long long sent, sent_bytes, rcvd, rcvd_bytes, bad, udp_drops;
	double duration, msgs_s, mb_s, loss_pct, cpu_per_gb;
	/* lat */
	unsigned long long lat_n, lat_lost;
	double p50, p99, avg, min, max;
	/* cpu */
	double cpu_tx, cpu_rx;
	/* scale */
	int nprocs, nlinks, with_mtu, unreachable;
	double ready_s, elapsed, hub_ms_s, leaves_ms_s, poll_cpu, ping_min, ping_avg, gap_max_ms, lat_avg,
		pong_min;
	unsigned long long lat_max, lat_max_seen, leaf_lat_max;
	double leaf_lat_avg;
	unsigned long downs, down_count;
	long interval_ms;
	char worst[32];
};

/*
 * Datagrams the kernel dropped because a UDP socket's receive queue was full
 * (RcvbufErrors, IPv4 + IPv6), counted for the whole network namespace: in a
 * tput run this says whether a loss happened in the receiving node's socket
 * queue or later.
 */
static unsigned long long udp_rcvbuf_errors(void)
{
	unsigned long long total = 0;
	char names[2048], values[2048];
	FILE *f = fopen("/proc/net/snmp", "r");
	if (f) {
		/* pairs of lines: "Udp: InDatagrams ... RcvbufErrors ..." then "Udp: 1 ..." */
		while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
			if (strncmp(names, "Udp: ", 5) != 0) {
				continue;
			}
			char *sn = NULL, *sv = NULL;
			char *n = strtok_r(names, " \n", &sn), *v = strtok_r(values, " \n", &sv);
			while (n && v) {
				if (!strcmp(n, "RcvbufErrors")) {
					total += strtoull(v, NULL, 10);
				}
				n = strtok_r(NULL, " \n", &sn);
				v = strtok_r(NULL, " \n", &sv);
			}
		}
		fclose(f);
	}
	f = fopen("/proc/net/snmp6", "r");
	if (f) {
		char name[128];
		unsigned long long v;
		while (fscanf(f, "%127s %llu", name, &v) == 2) {
			if (!strcmp(name, "Udp6RcvbufErrors")) {
				total += v;
			}
		}
		fclose(f);
	}
	return total;
}

struct child {
	pid_t pid;
	struct linebuf lb;
};

static int spawn_child(struct child *c, const char *self, const char *role, const struct scenario *s,
		       uint32_t run_id, int group)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		int fd = fcntl(sv[1], F_DUPFD, 10); /* without CLOEXEC */
		char a_fd[16], a_sec[16], a_links[16], a_port[16], a_run[16], a_group[16];
		snprintf(a_fd, sizeof(a_fd), "%d", fd);
		snprintf(a_sec, sizeof(a_sec), "%d", opt_seconds);
		snprintf(a_links, sizeof(a_links), "%d", opt_links);
		snprintf(a_port, sizeof(a_port), "%d", opt_base_port);
		snprintf(a_run, sizeof(a_run), "%u", run_id);
		snprintf(a_group, sizeof(a_group), "%d", group);
		char *args[] = { (char *)self, "--role", (char *)role, "--ctl-fd", a_fd,
				 "--scenario", (char *)s->name, "--seconds", a_sec, "--links", a_links,
				 "--port", a_port, "--run-id", a_run, "--group", a_group,
				 opt_verbose ? "--verbose" : NULL, NULL };
		execv(self, args);
		_exit(127);
	}
	close(sv[1]);
	c->pid = pid;
	c->lb.fd = sv[0];
	c->lb.len = 0;
	return 0;
}

static void reap_child(struct child *c, int force)
{
	if (c->pid <= 0) {
		return;
	}
	int status;
	for (int i = 0; i < 100; i++) { /* up to 10 s for a clean exit */
		if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
			c->pid = 0;
			break;
		}
		if (force && i == 0) {
			kill(c->pid, SIGTERM);
		}
		usleep(100000);
	}
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
		c->pid = 0;
	}
	close(c->lb.fd);
}

/* Get a line; FAIL lines and timeouts become errors in r. */
static int expect_line(struct child *c, const char *who, char *line, size_t len, int timeout_ms,
		       struct result *r)
{
	int g = linebuf_get(&c->lb, line, len, timeout_ms);
	if (g <= 0) {
		snprintf(r->error, sizeof(r->error), "%s: %s", who,
			 g == 0 ? "timeout" : "died (control channel closed)");
		return -1;
	}
	if (!strncmp(line, "FAIL ", 5)) {
		snprintf(r->error, sizeof(r->error), "%s: %s", who, line + 5);
		return -1;
	}
	return 0;
}

static void run_one(const char *self, const struct scenario *s, struct result *r)
{
	struct child tx = { 0 }, rx = { 0 };
	char line[512];
	uint32_t run_id;

	memset(r, 0, sizeof(*r));
	r->scn = *s;
	kt_random_bytes(&run_id, sizeof(run_id));

	if (spawn_child(&tx, self, "tx", s, run_id, 0) < 0 || spawn_child(&rx, self, "rx", s, run_id, 0) < 0) {
		snprintf(r->error, sizeof(r->error), "spawn: %s", strerror(errno));
		goto out;
	}
	unsigned int m1 = 0, m2 = 0;
	if (expect_line(&tx, "tx", line, sizeof(line), 40000, r) < 0 || sscanf(line, "READY %u", &m1) != 1 ||
	    expect_line(&rx, "rx", line, sizeof(line), 40000, r) < 0 || sscanf(line, "READY %u", &m2) != 1) {
		if (!r->error[0]) {
			snprintf(r->error, sizeof(r->error), "unexpected: %s", line);
		}
		goto out;
	}
	r->mtu = m1 < m2 ? m1 : m2;
	const unsigned long long drops_before = udp_rcvbuf_errors();
	ctl_send(tx.lb.fd, "GO");
	ctl_send(rx.lb.fd, "GO");
	int tmo = (opt_seconds + 30) * 1000;

	if (s->mode == MODE_TPUT) {
		unsigned long long t0, t1, tf, tl;
		if (expect_line(&tx, "tx", line, sizeof(line), tmo, r) < 0) {
			goto out;
		}
		if (sscanf(line, "SENT %llu %llu %llu %llu", &r->sent, &r->sent_bytes, &t0, &t1) != 4) {
			snprintf(r->error, sizeof(r->error), "tx: unexpected: %s", line);
			goto out;
		}
		ctl_send(rx.lb.fd, "STOP %llu", r->sent);
		if (expect_line(&rx, "rx", line, sizeof(line), tmo, r) < 0) {
			goto out;
		}
		if (sscanf(line, "RCVD %llu %llu %llu %llu %llu", &r->rcvd, &r->rcvd_bytes, &tf, &tl,
			   &r->bad) != 5) {
			snprintf(r->error, sizeof(r->error), "rx: unexpected: %s", line);
			goto out;
		}
		r->duration = r->rcvd && tl > t0 ? (double)(tl - t0) / 1e9 : (double)(t1 - t0) / 1e9;
		r->msgs_s = r->duration > 0 ? (double)r->rcvd / r->duration : 0;
		r->mb_s = r->duration > 0 ? (double)r->rcvd_bytes / r->duration / 1e6 : 0;
		r->loss_pct = r->sent ? 100.0 * (double)(r->sent - (r->rcvd < r->sent ? r->rcvd : r->sent)) /
						(double)r->sent
				      : 100.0;
		r->udp_drops = udp_rcvbuf_errors() - drops_before;
	} else if (s->mode == MODE_LAT) {
		if (expect_line(&tx, "tx", line, sizeof(line), tmo, r) < 0) {
			goto out;
		}
		if (sscanf(line, "LAT %llu %llu %lf %lf %lf %lf %lf", &r->lat_n, &r->lat_lost, &r->p50, &r->p99,
			   &r->avg, &r->min, &r->max) != 7) {
			snprintf(r->error, sizeof(r->error), "tx: unexpected: %s", line);
			goto out;
		}
	} else {
		/* idle: nothing to do but wait, watching for failures */
		uint64_t end = kt_now_ns() + (uint64_t)opt_seconds * 1000000000ull;
		while (kt_now_ns() < end) {
			struct pollfd pfd[2] = { { .fd = tx.lb.fd, .events = POLLIN }, { .fd = rx.lb.fd, .events = POLLIN } };
			int rv = poll(pfd, 2, 200);
			if (rv > 0) {
				struct child *c = pfd[0].revents ? &tx : &rx;
				if (expect_line(c, c == &tx ? "tx" : "rx", line, sizeof(line), 1000, r) < 0) {
					goto out;
				}
			}
		}
	}
	ctl_send(tx.lb.fd, "END");
	ctl_send(rx.lb.fd, "END");
	if (expect_line(&tx, "tx", line, sizeof(line), 30000, r) < 0 || sscanf(line, "CPU %lf", &r->cpu_tx) != 1 ||
	    expect_line(&rx, "rx", line, sizeof(line), 30000, r) < 0 || sscanf(line, "CPU %lf", &r->cpu_rx) != 1) {
		if (!r->error[0]) {
			snprintf(r->error, sizeof(r->error), "unexpected: %s", line);
		}
		goto out;
	}
	if (s->mode == MODE_TPUT) {
		r->cpu_per_gb = r->rcvd_bytes ? (r->cpu_tx + r->cpu_rx) / ((double)r->rcvd_bytes / 1e9) : 0;
		r->ok = r->rcvd > 0;
		if (!r->ok) {
			snprintf(r->error, sizeof(r->error), "nothing received (%llu sent)", r->sent);
		}
	} else if (s->mode == MODE_LAT) {
		r->ok = r->lat_n > 0;
		if (!r->ok) {
			snprintf(r->error, sizeof(r->error), "no echo received (%llu lost)", r->lat_lost);
		}
	} else {
		r->ok = 1;
	}
out:
	reap_child(&tx, !r->ok && r->error[0]);
	reap_child(&rx, !r->ok && r->error[0]);
}

/* Wait for every child in turn, all within 20 s (SIGTERM first if force), then SIGKILL. */
static void reap_children(struct child *cs, int n, int force)
{
	uint64_t deadline = kt_now_ns() + 20000000000ull;
	if (force) {
		for (int i = 0; i < n; i++) {
			if (cs[i].pid > 0) {
				kill(cs[i].pid, SIGTERM);
			}
		}
	}
	for (;;) {
		int left = 0;
		for (int i = 0; i < n; i++) {
			int status;
			if (cs[i].pid > 0 && waitpid(cs[i].pid, &status, WNOHANG) == cs[i].pid) {
				cs[i].pid = 0;
				close(cs[i].lb.fd);
			}
			left += cs[i].pid > 0;
		}
		if (!left || kt_now_ns() > deadline) {
			break;
		}
		usleep(50000);
	}
	for (int i = 0; i < n; i++) {
		if (cs[i].pid > 0) {
			reap_child(&cs[i], 0); /* SIGKILL after 10 s more */
		}
	}
}

static const char *scale_who(int i, char *buf, size_t len)
{
	if (i == 0) {
		snprintf(buf, len, "hub");
	} else {
		snprintf(buf, len, "leaves%d", i - 1);
	}
	return buf;
}

/* one line from each child, all within timeout_ms; FAIL or EOF of any child fails at once */
static int scale_collect(struct child *cs, int n, char lines[][512], int timeout_ms, struct result *r)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int got[SCALE_MAX_PROCS + 1] = { 0 };
	int have = 0;
	char who[32];
	while (have < n) {
		struct pollfd pfd[SCALE_MAX_PROCS + 1];
		for (int i = 0; i < n; i++) {
			pfd[i].fd = got[i] ? -1 : cs[i].lb.fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		/* lines may already be buffered */
		int any = 0;
		for (int i = 0; i < n; i++) {
			if (!got[i] && memchr(cs[i].lb.buf, '\n', cs[i].lb.len)) {
				pfd[i].revents = POLLIN;
				any = 1;
			}
		}
		uint64_t now = kt_now_ns();
		if (!any) {
			if (now >= deadline) {
				for (int i = 0; i < n; i++) {
					if (!got[i]) {
						snprintf(r->error, sizeof(r->error), "%s: timeout",
							 scale_who(i, who, sizeof(who)));
						return -1;
					}
				}
			}
			int rv = poll(pfd, (nfds_t)n, (int)((deadline - now) / 1000000ull) + 1);
			if (rv < 0 && errno != EINTR) {
				snprintf(r->error, sizeof(r->error), "poll: %s", strerror(errno));
				return -1;
			}
		}
		for (int i = 0; i < n; i++) {
			if (got[i] || !pfd[i].revents) {
				continue;
			}
			if (expect_line(&cs[i], scale_who(i, who, sizeof(who)), lines[i], 512, 1000, r) < 0) {
				return -1;
			}
			got[i] = 1;
			have++;
		}
	}
	return 0;
}

static void run_scale(const char *self, const struct scenario *s, struct result *r)
{
	struct child cs[SCALE_MAX_PROCS + 1];
	static char lines[SCALE_MAX_PROCS + 1][512];
	int np = scale_nprocs(s->hosts);
	int n = 0, complete = 0;
	uint32_t run_id;
	char who[32];

	memset(cs, 0, sizeof(cs));
	memset(r, 0, sizeof(*r));
	r->scn = *s;
	r->nprocs = np;
	kt_random_bytes(&run_id, sizeof(run_id));

	for (int i = 0; i <= np; i++) {
		if (spawn_child(&cs[i], self, i == 0 ? "hub" : "leaf", s, run_id, i - 1) < 0) {
			snprintf(r->error, sizeof(r->error), "spawn: %s", strerror(errno));
			goto out;
		}
		n++;
	}
	/* links up: 60 s, PMTUd: 20 s, plus set-up */
	if (scale_collect(cs, n, lines, 120000, r) < 0) {
		goto out;
	}
	for (int i = 0; i < n; i++) {
		double rs;
		int wm;
		if (sscanf(lines[i], "READY %lf %d", &rs, &wm) != 2) {
			snprintf(r->error, sizeof(r->error), "%s: unexpected: %s", scale_who(i, who, sizeof(who)),
				 lines[i]);
			goto out;
		}
		if (i == 0) {
			r->ready_s = rs;
			r->with_mtu = wm;
		}
	}
	for (int i = 0; i < n; i++) {
		ctl_send(cs[i].lb.fd, "GO");
	}
	/* measuring: watch for failures */
	uint64_t end = kt_now_ns() + (uint64_t)opt_seconds * 1000000000ull;
	while (kt_now_ns() < end) {
		struct pollfd pfd[SCALE_MAX_PROCS + 1];
		for (int i = 0; i < n; i++) {
			pfd[i].fd = cs[i].lb.fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		int rv = poll(pfd, (nfds_t)n, 200);
		for (int i = 0; rv > 0 && i < n; i++) {
			char line[512];
			if (pfd[i].revents &&
			    expect_line(&cs[i], scale_who(i, who, sizeof(who)), line, sizeof(line), 1000, r) < 0) {
				goto out;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		ctl_send(cs[i].lb.fd, "END");
	}
	/* hub: SCALE first */
	char line[512];
	if (expect_line(&cs[0], "hub", line, sizeof(line), 30000, r) < 0) {
		goto out;
	}
	int wl = 0, wh = 0;
	if (sscanf(line, "SCALE %d %lf %lf %lf %lf %llu %lf %llu %lu %lu %d %lf %ld %lf %d/%d", &r->nlinks,
		   &r->elapsed, &r->ping_min, &r->ping_avg, &r->gap_max_ms, &r->lat_max, &r->lat_avg,
		   &r->lat_max_seen, &r->downs, &r->down_count, &r->unreachable, &r->pong_min, &r->interval_ms,
		   &r->poll_cpu, &wh, &wl) != 16) {
		snprintf(r->error, sizeof(r->error), "hub: unexpected: %s", line);
		goto out;
	}
	snprintf(r->worst, sizeof(r->worst), "host %d link %d", wh, wl);
	if (scale_collect(cs, n, lines, 30000, r) < 0) {
		goto out;
	}
	double leaf_lat_sum = 0;
	int leaf_links = 0;
	for (int i = 0; i < n; i++) {
		double cpu, el, lsum;
		unsigned long long lmax;
		int nl;
		if (sscanf(lines[i], "CPU %lf %lf %llu %lf %d", &cpu, &el, &lmax, &lsum, &nl) != 5 || el <= 0) {
			snprintf(r->error, sizeof(r->error), "%s: unexpected: %s", scale_who(i, who, sizeof(who)),
				 lines[i]);
			goto out;
		}
		if (i == 0) {
			r->cpu_tx = cpu;
			r->hub_ms_s = 1000.0 * cpu / el;
		} else {
			r->cpu_rx += cpu;
			r->leaves_ms_s += 1000.0 * cpu / el;
			r->leaf_lat_max = lmax > r->leaf_lat_max ? lmax : r->leaf_lat_max;
			leaf_lat_sum += lsum;
			leaf_links += nl;
		}
	}
	r->leaf_lat_avg = leaf_links ? leaf_lat_sum / leaf_links : 0;
	complete = 1;
	if (r->downs || r->down_count) {
		snprintf(r->error, sizeof(r->error), "links went down during the run: %lu transitions seen, "
			 "down_count +%lu", r->downs, r->down_count);
	} else if (r->unreachable) {
		snprintf(r->error, sizeof(r->error), "%d host(s) unreachable at the end", r->unreachable);
	} else if (r->ping_min < 0.5) {
		snprintf(r->error, sizeof(r->error), "heartbeats late: %s sent %.2f of the expected pings",
			 r->worst, r->ping_min);
	} else {
		r->ok = 1;
	}
out:
	reap_children(cs, n, !complete);
}

static void json_escape(char *out, size_t outlen, const char *in)
{
	size_t o = 0;
	for (; *in && o + 7 < outlen; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = 0;
}

static void print_json(const struct result *r, const char *lib)
{
	char elib[PATH_MAX * 2], eerr[1500];
	json_escape(elib, sizeof(elib), lib);
	json_escape(eerr, sizeof(eerr), r->error);
	printf("{\"tool\":\"knet_bench\",\"lib\":\"%s\",\"scenario\":\"%s\",\"mode\":\"%s\",\"size\":%d,"
	       "\"crypto\":\"%s\",\"compress\":\"%s\",\"links\":%d,\"seconds\":%d,\"ok\":%s",
	       elib, r->scn.name, mode_name(r->scn.mode), r->scn.size,
	       r->scn.crypto == CRYPTO_NSS ? "nss/aes256/sha256" : r->scn.crypto ? "openssl/aes256/sha256" : "none", r->scn.compress[0] ? r->scn.compress : "none",
	       opt_links, opt_seconds, r->ok ? "true" : "false");
	if (!r->ok) {
		printf(",\"error\":\"%s\"", eerr);
	}
	printf(",\"data_mtu\":%u,\"cpu_tx_s\":%.4f,\"cpu_rx_s\":%.4f", r->mtu, r->cpu_tx, r->cpu_rx);
	if (r->scn.mode == MODE_TPUT) {
		printf(",\"sent_msgs\":%llu,\"rcvd_msgs\":%llu,\"rcvd_bytes\":%llu,\"bad_msgs\":%llu,"
		       "\"duration_s\":%.4f,\"msgs_per_s\":%.1f,\"MB_per_s\":%.3f,\"loss_pct\":%.4f,"
		       "\"cpu_s_per_GB\":%.4f,\"udp_rcvbuf_errors\":%llu",
		       r->sent, r->rcvd, r->rcvd_bytes, r->bad, r->duration, r->msgs_s, r->mb_s, r->loss_pct,
		       r->cpu_per_gb, r->udp_drops);
	} else if (r->scn.mode == MODE_LAT) {
		printf(",\"samples\":%llu,\"lost\":%llu,\"rtt_p50_us\":%.1f,\"rtt_p99_us\":%.1f,"
		       "\"rtt_avg_us\":%.1f,\"rtt_min_us\":%.1f,\"rtt_max_us\":%.1f",
		       r->lat_n, r->lat_lost, r->p50, r->p99, r->avg, r->min, r->max);
	} else if (r->scn.mode == MODE_SCALE) {
		printf(",\"hosts\":%d,\"leaf_procs\":%d,\"hub_port_per_link\":%s,\"hub_links\":%d,"
		       "\"ready_s\":%.3f,\"links_with_pmtu\":%d,\"elapsed_s\":%.3f,"
		       "\"hub_cpu_ms_per_s\":%.3f,\"leaves_cpu_ms_per_s\":%.3f,\"hub_poll_cpu_ms_per_s\":%.3f,"
		       "\"ping_interval_ms\":%ld,\"ping_ratio_min\":%.4f,\"ping_ratio_avg\":%.4f,"
		       "\"ping_gap_max_ms\":%.1f,\"pong_ratio_min\":%.4f,\"latency_max_us\":%llu,"
		       "\"latency_avg_us\":%.1f,\"latency_max_seen_us\":%llu,\"link_downs\":%lu,"
		       "\"leaf_latency_max_us\":%llu,\"leaf_latency_avg_us\":%.1f,"
		       "\"down_count_delta\":%lu,\"hosts_unreachable\":%d,\"worst_ping_link\":\"%s\"",
		       r->scn.hosts, r->nprocs, r->scn.sep ? "false" : "true", r->nlinks, r->ready_s, r->with_mtu,
		       r->elapsed, r->hub_ms_s, r->leaves_ms_s, r->elapsed > 0 ? 1000.0 * r->poll_cpu / r->elapsed : 0,
		       r->interval_ms, r->ping_min, r->ping_avg, r->gap_max_ms, r->pong_min, r->lat_max, r->lat_avg,
		       r->lat_max_seen, r->downs > r->down_count ? r->downs : r->down_count, r->leaf_lat_max, r->leaf_lat_avg, r->down_count, r->unreachable,
		       r->worst);
	} else {
		printf(",\"cpu_ms_per_s_tx\":%.3f,\"cpu_ms_per_s_rx\":%.3f", 1000.0 * r->cpu_tx / opt_seconds,
		       1000.0 * r->cpu_rx / opt_seconds);
	}
	printf("}\n");
	fflush(stdout);
}

static void print_table(const struct result *res, int n)
{
	printf("\n%-24s %-4s %10s %9s %7s %9s | %8s %8s %6s | %s\n", "scenario", "ok", "msgs/s", "MB/s",
	       "loss%", "cpu-s/GB", "p50(us)", "p99(us)", "mtu", "cpu tx/rx (s)");
	for (int i = 0; i < n; i++) {
		const struct result *r = &res[i];
		printf("%-24s %-4s ", r->scn.name, r->ok ? "yes" : "FAIL");
		if (r->scn.mode == MODE_TPUT && r->ok) {
			printf("%10.0f %9.2f %7.3f %9.2f | %8s %8s ", r->msgs_s, r->mb_s, r->loss_pct, r->cpu_per_gb,
			       "", "");
		} else if (r->scn.mode == MODE_LAT && r->ok) {
			printf("%10s %9s %7s %9s | %8.1f %8.1f ", "", "", "", "", r->p50, r->p99);
		} else {
			printf("%10s %9s %7s %9s | %8s %8s ", "", "", "", "", "", "");
		}
		printf("%6u | %.3f/%.3f", r->mtu, r->cpu_tx, r->cpu_rx);
		if (r->scn.mode == MODE_IDLE && r->ok) {
			printf("  (%.2f / %.2f ms CPU per s)", 1000.0 * r->cpu_tx / opt_seconds,
			       1000.0 * r->cpu_rx / opt_seconds);
		}
		if (r->scn.mode == MODE_SCALE && r->nlinks) {
			printf("  (hub / %d leaf procs: %.2f / %.2f ms CPU per s; %d links up in %.1f s; "
			       "pings/expected min %.3f avg %.3f, max gap %.0f ms; latency max %llu avg %.0f us; "
			       "downs %lu)",
			       r->nprocs, r->hub_ms_s, r->leaves_ms_s, r->nlinks, r->ready_s, r->ping_min, r->ping_avg,
			       r->gap_max_ms, r->lat_max, r->lat_avg, r->downs > r->down_count ? r->downs : r->down_count);
		}
		if (!r->ok) {
			printf("  error: %s", r->error);
		}
		printf("\n");
	}
}

static void usage(const char *prog)
{
	printf("usage: %s [options]\n"
	       "  --scenario NAME   run one scenario (repeatable); default: the whole list below\n"
	       "                    tput-<size>[-crypto|-nss][-lz4|zlib|zstd..]  lat-<size>[-crypto|-nss]  idle[-crypto|-nss]\n"
	       "                    scale-<hosts>[-crypto|-nss][-sep]  (star: 1 hub + hosts leaves, hosts <= 128)\n"
	       "                    (crypto: openssl aes256+sha256, nss: the same with model nss)\n"
	       "  --list            print the default scenario list\n"
	       "  --seconds T       measuring time per scenario (default 5)\n"
	       "  --links N         links between the two nodes, 1..8 (default 2, passive policy)\n"
	       "  --port P          base UDP port (node n link l uses P+10n+l; scale-N: P..P+L+2NL;\n"
	       "                    default from pid)\n"
	       "  --json            print only the JSON lines (no table)\n"
	       "  --verbose         children print WARN log messages and datafd errors\n",
	       prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 'S' },
		{ "list", no_argument, NULL, 'L' },
		{ "seconds", required_argument, NULL, 't' },
		{ "links", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "role", required_argument, NULL, 'R' },
		{ "ctl-fd", required_argument, NULL, 'C' },
		{ "run-id", required_argument, NULL, 'I' },
		{ "group", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct scenario scns[MAX_SCENARIOS];
	int nscn = 0;
	int c;
	int group = -1;
	while ((c = getopt_long(argc, argv, "S:Lt:l:p:jvR:C:I:G:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (nscn >= MAX_SCENARIOS || parse_scenario(optarg, &scns[nscn]) < 0) {
				fprintf(stderr, "bad scenario '%s'\n", optarg);
				return 2;
			}
			nscn++;
			break;
		case 'L':
			for (size_t i = 0; i < sizeof(default_scenarios) / sizeof(default_scenarios[0]); i++) {
				printf("%s\n", default_scenarios[i]);
			}
			return 0;
		case 't': opt_seconds = atoi(optarg); break;
		case 'l': opt_links = atoi(optarg); break;
		case 'p': opt_base_port = atoi(optarg); break;
		case 'j': opt_json_only = 1; break;
		case 'v': opt_verbose = 1; break;
		case 'R': opt_role = optarg; break;
		case 'C': opt_ctl_fd = atoi(optarg); break;
		case 'I': opt_run_id = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'G': group = atoi(optarg); break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	if (opt_seconds < 1 || opt_seconds > 600 || opt_links < 1 || opt_links > KNET_MAX_LINK) {
		usage(argv[0]);
		return 2;
	}
	if (opt_role) {
		int scale_role = !strcmp(opt_role, "hub") || !strcmp(opt_role, "leaf");
		if ((strcmp(opt_role, "tx") && strcmp(opt_role, "rx") && !scale_role) || opt_ctl_fd < 0 ||
		    nscn != 1 || opt_base_port <= 0 || scale_role != (scns[0].mode == MODE_SCALE) ||
		    (!strcmp(opt_role, "leaf") && (group < 0 || group >= scale_nprocs(scns[0].hosts)))) {
			fprintf(stderr, "bad child arguments\n");
			return 2;
		}
		opt_scn = scns[0];
		return scale_role ? scale_child_main(group) : child_main();
	}

	if (nscn == 0) {
		for (size_t i = 0; i < sizeof(default_scenarios) / sizeof(default_scenarios[0]); i++) {
			parse_scenario(default_scenarios[i], &scns[nscn++]);
		}
	}
	if (opt_base_port == 0) {
		opt_base_port = 30000 + (int)(getpid() % 1000) * 30;
	}
	if (opt_base_port < 1024 || opt_base_port > 65000) {
		fprintf(stderr, "bad --port\n");
		return 2;
	}
	for (int i = 0; i < nscn; i++) {
		if (scns[i].mode == MODE_SCALE && 30000 + scenario_port_span(&scns[i]) > 65000) {
			fprintf(stderr, "%s: needs too many ports with %d links\n", scns[i].name, opt_links);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	char self[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	self[sl] = 0;
	const char *lib = kt_loaded_library();
	if (!opt_json_only) {
		printf("knet_bench: libknet loaded from %s\n", lib);
		printf("knet_bench: %d scenario(s), %d s each, %d link(s), ports from %d\n", nscn, opt_seconds,
		       opt_links, opt_base_port);
	}
	static struct result res[MAX_SCENARIOS];
	int failures = 0;
	for (int i = 0; i < nscn; i++) {
		if (opt_base_port + scenario_port_span(&scns[i]) > 65535) {
			opt_base_port = 30000;
		}
		if (scns[i].mode == MODE_SCALE) {
			run_scale(self, &scns[i], &res[i]);
		} else {
			run_one(self, &scns[i], &res[i]);
		}
		print_json(&res[i], lib);
		if (!res[i].ok) {
			failures++;
		}
		/* move to fresh ports, in case the previous sockets linger */
		int step = scenario_port_span(&scns[i]) + 10;
		step = step < 30 ? 30 : step;
		opt_base_port = opt_base_port + step > 65000 ? 30000 : opt_base_port + step;
	}
	if (!opt_json_only) {
		print_table(res, nscn);
	}
	return failures ? 1 : 0;
}
