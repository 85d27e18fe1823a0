/*
 * knet_bench - throughput, latency and idle-CPU benchmark of libknet between
 * two processes on loopback.
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
#include "knet_tool_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
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

enum mode { MODE_TPUT, MODE_LAT, MODE_IDLE };

struct scenario {
	char name[96];
	enum mode mode;
	int size;
	int crypto;
	char compress[16]; /* "" = none */
};

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
	return m == MODE_TPUT ? "tput" : (m == MODE_LAT ? "lat" : "idle");
}

static void scenario_name(struct scenario *s)
{
	char buf[64];
	if (s->mode == MODE_IDLE) {
		snprintf(buf, sizeof(buf), "idle");
	} else {
		snprintf(buf, sizeof(buf), "%s-%d", mode_name(s->mode), s->size);
	}
	snprintf(s->name, sizeof(s->name), "%s%s%s%s", buf, s->crypto ? "-crypto" : "",
		 s->compress[0] ? "-" : "", s->compress);
}

/* "tput-<size>[-crypto][-<compress>]", "lat-<size>[-crypto]", "idle[-crypto]" */
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
	} else {
		return -1;
	}
	s->size = 64;
	if (s->mode != MODE_IDLE) {
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
			s->crypto = 1;
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
	"tput-8192-lz4", "tput-64000-crypto-lz4",
	"lat-64", "lat-64-crypto",
	"idle",
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
		if (kt_crypto_enable(h, key, sizeof(key)) < 0) {
			child_fail("crypto openssl/aes256/sha256: %s", strerror(errno));
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
	/* half random, half zeros in 16 byte blocks: compressible about 2:1 */
	uint32_t x = 0x12345678u ^ opt_run_id;
	for (size_t i = 0; i < len; i++) {
		if ((i / 16) % 2 == 0) {
			x = x * 1103515245u + 12345u;
			buf[i] = (unsigned char)(x >> 16);
		} else {
			buf[i] = 0;
		}
	}
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

/* ============================================================ coordinator */

struct result {
	struct scenario scn;
	int ok;
	char error[700];
	unsigned int mtu;
	/* tput */
	unsigned long long sent, sent_bytes, rcvd, rcvd_bytes, bad;
	double duration, msgs_s, mb_s, loss_pct, cpu_per_gb;
	/* lat */
	unsigned long long lat_n, lat_lost;
	double p50, p99, avg, min, max;
	/* cpu */
	double cpu_tx, cpu_rx;
};

struct child {
	pid_t pid;
	struct linebuf lb;
};

static int spawn_child(struct child *c, const char *self, const char *role, const struct scenario *s,
		       uint32_t run_id)
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
		char a_fd[16], a_sec[16], a_links[16], a_port[16], a_run[16];
		snprintf(a_fd, sizeof(a_fd), "%d", fd);
		snprintf(a_sec, sizeof(a_sec), "%d", opt_seconds);
		snprintf(a_links, sizeof(a_links), "%d", opt_links);
		snprintf(a_port, sizeof(a_port), "%d", opt_base_port);
		snprintf(a_run, sizeof(a_run), "%u", run_id);
		char *args[] = { (char *)self, "--role", (char *)role, "--ctl-fd", a_fd,
				 "--scenario", (char *)s->name, "--seconds", a_sec, "--links", a_links,
				 "--port", a_port, "--run-id", a_run,
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

	if (spawn_child(&tx, self, "tx", s, run_id) < 0 || spawn_child(&rx, self, "rx", s, run_id) < 0) {
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
	       r->scn.crypto ? "openssl/aes256/sha256" : "none", r->scn.compress[0] ? r->scn.compress : "none",
	       opt_links, opt_seconds, r->ok ? "true" : "false");
	if (!r->ok) {
		printf(",\"error\":\"%s\"", eerr);
	}
	printf(",\"data_mtu\":%u,\"cpu_tx_s\":%.4f,\"cpu_rx_s\":%.4f", r->mtu, r->cpu_tx, r->cpu_rx);
	if (r->scn.mode == MODE_TPUT) {
		printf(",\"sent_msgs\":%llu,\"rcvd_msgs\":%llu,\"rcvd_bytes\":%llu,\"bad_msgs\":%llu,"
		       "\"duration_s\":%.4f,\"msgs_per_s\":%.1f,\"MB_per_s\":%.3f,\"loss_pct\":%.4f,"
		       "\"cpu_s_per_GB\":%.4f",
		       r->sent, r->rcvd, r->rcvd_bytes, r->bad, r->duration, r->msgs_s, r->mb_s, r->loss_pct,
		       r->cpu_per_gb);
	} else if (r->scn.mode == MODE_LAT) {
		printf(",\"samples\":%llu,\"lost\":%llu,\"rtt_p50_us\":%.1f,\"rtt_p99_us\":%.1f,"
		       "\"rtt_avg_us\":%.1f,\"rtt_min_us\":%.1f,\"rtt_max_us\":%.1f",
		       r->lat_n, r->lat_lost, r->p50, r->p99, r->avg, r->min, r->max);
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
	       "                    tput-<size>[-crypto][-lz4|zlib|zstd..]  lat-<size>[-crypto]  idle[-crypto]\n"
	       "  --list            print the default scenario list\n"
	       "  --seconds T       measuring time per scenario (default 5)\n"
	       "  --links N         links between the two nodes, 1..8 (default 2, passive policy)\n"
	       "  --port P          base UDP port (node n link l uses P+10n+l; default from pid)\n"
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct scenario scns[MAX_SCENARIOS];
	int nscn = 0;
	int c;
	while ((c = getopt_long(argc, argv, "S:Lt:l:p:jvR:C:I:h", opts, NULL)) != -1) {
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
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	if (opt_seconds < 1 || opt_seconds > 600 || opt_links < 1 || opt_links > KNET_MAX_LINK) {
		usage(argv[0]);
		return 2;
	}
	if (opt_role) {
		if ((strcmp(opt_role, "tx") && strcmp(opt_role, "rx")) || opt_ctl_fd < 0 || nscn != 1 ||
		    opt_base_port <= 0) {
			fprintf(stderr, "bad child arguments\n");
			return 2;
		}
		opt_scn = scns[0];
		return child_main();
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
		run_one(self, &scns[i], &res[i]);
		print_json(&res[i], lib);
		if (!res[i].ok) {
			failures++;
		}
		/* move to fresh ports, in case the previous sockets linger */
		opt_base_port = opt_base_port + 30 > 65000 ? 30000 : opt_base_port + 30;
	}
	if (!opt_json_only) {
		print_table(res, nscn);
	}
	return failures ? 1 : 0;
}
