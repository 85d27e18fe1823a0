/* Differential test of LIVE behaviour.
 *
 * Built like api_diff.c (reference header, linked to Debian's libknet.so.1)
 * and run once on that library and once, through LD_LIBRARY_PATH, on ours.
 * In one process it builds small clusters of two or three handles (node ids
 * 1, 2, 3) on whichever library is loaded, connected over UDP on 127.0.0.1
 * (link 0) and ::1 (link 1), and prints what a cluster engineer sees:
 * host status callbacks, PMTUd notifications, link and host status once
 * up, data delivered (content, channel) and the exact packet, byte, crypto
 * and compression counters after sending a known set of messages, link-down
 * detection, the link policies, knet_send_sync results, the destination
 * filter, and datafd removal / handle teardown under traffic.
 *
 * One line per observation, "<label> <values>".  Only values that do not
 * depend on timing are printed; where timing matters the line holds a
 * coarse predicate ("within_3s=1").  To make the handle's crypto counters
 * exact, pings are paused (long ping interval) and the stats cleared before
 * each batch of data, so that data packets are all the handle encrypts.
 *
 * Only 127.0.0.1 / ::1 and fixed UDP ports 61200-61299 are used; every wait
 * is bounded and a watchdog ends the run after 55 s (110 s under TSan).
 * The library actually mapped is reported on stderr as "libknet: <path>". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknet.h>

/* Under TSan the reference needs bigger thread stacks (see the header). */
#include "../interop/tsan_ref_stack.h"

#define DIFF_PROG "api_diff_live"
#include "api_diff_common.h"

/* Above the kernel's ephemeral range (32768-60999) and the random ranges of
 * the other tests (20000-60001): the ports appear in the output, so they
 * must be fixed, and a port some other socket holds would leave a node down. */
#define PORT_FIRST 61200
#define PORT_LAST 61299
#define MAX_NODES 3
#define MAX_EV 64

/* ------------------------------------------------------------ output */

static int g_lines;

/* "<label> <values>" */
static void out(const char *label, const char *fmt, ...)
{
	char body[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	emit_line(label, body);
	g_lines++;
}

/* Labels built with printf formats; a few rotating buffers. */
static const char *L(const char *fmt, ...)
{
	static char bufs[8][160];
	static int next;
	char *b = bufs[next++ & 7];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, 160, fmt, ap);
	va_end(ap);
	return b;
}

/* "rc=<rc> errno=<name or ->" of the call just made */
static const char *rcs(void)
{
	static char b[4][64];
	static int next;
	char *p = b[next++ & 3];

	snprintf(p, 64, "rc=%lld errno=%s", g_rc, g_rc < 0 ? errname(g_err) : "-");
	return p;
}
/* One line for a call: "<label> rc=.. errno=..[ values]" */
static void tline(const char *label, const char *fmt, ...)
{
	char vals[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vals, sizeof(vals), fmt, ap);
	va_end(ap);
	out(label, "%s%s%s", rcs(), vals[0] ? " " : "", vals);
}
/* T(label, call[, "fmt", values...]): the values are read after the call */
#define T(label, call, ...) do { CALL(call); tline(label, "" __VA_ARGS__); } while (0)

/* ------------------------------------------------------------ time, logs */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static atomic_int log_stop;

static void *log_drain(void *arg)
{
	char buf[8192];

	(void)arg;
	while (!log_stop) {
		if (wait_readable(logfds[0], 50))
			while (read(logfds[0], buf, sizeof(buf)) > 0)
				;
	}
	return NULL;
}

/* ------------------------------------------------------------ nodes */

struct host_ev {
	knet_node_id_t host;
	uint8_t reachable, remote, external;
};

struct node {
	knet_node_id_t id;
	knet_handle_t h;
	int datafd;
	int8_t channel;
	pthread_mutex_t m;
	/* callbacks, in arrival order */
	struct host_ev hev[MAX_EV];
	int nhev;
	unsigned int mtuev[MAX_EV];
	int nmtuev;
	/* destination filter (tx: mode -1 error, 0 unicast, 1 broadcast;
	 * rx: -1 drop, 1 accept, 0 unicast to this node); a channel >= 0
	 * replaces the packet's channel */
	int tx_mode, rx_mode;
	knet_node_id_t tx_dst[4];
	size_t tx_n;
	int tx_chan, rx_chan;
	int tx_calls, rx_calls;
	char tx_last[96], rx_last[96];
	/* for the parallel create / teardown jobs */
	int npeers_links[2];     /* nodes in the cluster, links per peer */
	int new_errno;
	const char *teardown_failed;
};

static void host_cb(void *priv, knet_node_id_t host, uint8_t reachable, uint8_t remote, uint8_t external)
{
	struct node *n = priv;

	pthread_mutex_lock(&n->m);
	if (n->nhev < MAX_EV) {
		n->hev[n->nhev].host = host;
		n->hev[n->nhev].reachable = reachable;
		n->hev[n->nhev].remote = remote;
		n->hev[n->nhev].external = external;
		n->nhev++;
	}
	pthread_mutex_unlock(&n->m);
}

static void pmtud_cb(void *priv, unsigned int data_mtu)
{
	struct node *n = priv;

	pthread_mutex_lock(&n->m);
	if (n->nmtuev < MAX_EV)
		n->mtuev[n->nmtuev++] = data_mtu;
	pthread_mutex_unlock(&n->m);
}

/* required by knet_handle_add_datafd; what it reports is not printed */
static void sock_cb(void *priv, int fd, int8_t ch, uint8_t txrx, int err, int eno)
{
	(void)priv; (void)fd; (void)ch; (void)txrx; (void)err; (void)eno;
}

static int filter_cb(void *priv, const unsigned char *outdata, ssize_t len, uint8_t tx_rx,
		     knet_node_id_t this_id, knet_node_id_t src_id, int8_t *channel,
		     knet_node_id_t *dst_ids, size_t *dst_n)
{
	struct node *n = priv;
	int ret;
	size_t i;

	(void)outdata;
	pthread_mutex_lock(&n->m);
	if (tx_rx == KNET_NOTIFY_TX) {
		n->tx_calls++;
		snprintf(n->tx_last, sizeof(n->tx_last), "len=%zd this=%u src=%u ch=%d", len, this_id,
			 src_id, *channel);
		if (n->tx_chan >= 0)
			*channel = (int8_t)n->tx_chan;
		ret = n->tx_mode;
		if (ret == 0) {
			for (i = 0; i < n->tx_n; i++)
				dst_ids[i] = n->tx_dst[i];
			*dst_n = n->tx_n;
		}
	} else {
		n->rx_calls++;
		snprintf(n->rx_last, sizeof(n->rx_last), "len=%zd this=%u src=%u ch=%d", len, this_id,
			 src_id, *channel);
		if (n->rx_chan >= 0)
			*channel = (int8_t)n->rx_chan;
		ret = n->rx_mode;
		if (ret == 0) {
			dst_ids[0] = this_id;
			*dst_n = 1;
		}
	}
	pthread_mutex_unlock(&n->m);
	return ret;
}

static void filter_set(struct node *n, int tx_mode, knet_node_id_t d0, knet_node_id_t d1, int tx_chan,
		       int rx_mode, int rx_chan)
{
	pthread_mutex_lock(&n->m);
	n->tx_mode = tx_mode;
	n->tx_n = 0;
	if (d0)
		n->tx_dst[n->tx_n++] = d0;
	if (d1)
		n->tx_dst[n->tx_n++] = d1;
	n->tx_chan = tx_chan;
	n->rx_mode = rx_mode;
	n->rx_chan = rx_chan;
	n->tx_calls = n->rx_calls = 0;
	n->tx_last[0] = n->rx_last[0] = 0;
	pthread_mutex_unlock(&n->m);
}

static void events_reset(struct node *n)
{
	pthread_mutex_lock(&n->m);
	n->nhev = 0;
	n->nmtuev = 0;
	pthread_mutex_unlock(&n->m);
}

/* ------------------------------------------------------------ clusters */

struct copts {
	int n;                    /* nodes */
	int nlinks;               /* 1: 127.0.0.1, 2: also ::1 */
	const char *crypto;       /* NULL: clear */
	const char *compress;     /* NULL: none */
	int compress_level;
	unsigned int manual_mtu;  /* 0: PMTUd */
	int filter;
	uint8_t prio[2];
	int status_before_enable; /* print node 1's first link before enabling */
};

struct cluster {
	char name[40];
	int base;
	struct copts o;
	struct node nd[MAX_NODES];
};

static struct sockaddr_storage addr_of(const struct cluster *c, int node_id, int link)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (link == 0) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(c->base + node_id - 1);
		inet_pton(AF_INET, "127.0.0.1", &s->sin_addr);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(c->base + 3 + node_id - 1);
		inet_pton(AF_INET6, "::1", &s->sin6_addr);
	}
	return ss;
}

static void set_crypto_cfg(struct knet_handle_crypto_cfg *cfg, const char *model)
{
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->crypto_model, sizeof(cfg->crypto_model), "%s", model);
	snprintf(cfg->crypto_cipher_type, sizeof(cfg->crypto_cipher_type), "aes256");
	snprintf(cfg->crypto_hash_type, sizeof(cfg->crypto_hash_type), "sha256");
	for (i = 0; i < KNET_MAX_KEY_LEN; i++)
		cfg->private_key[i] = (unsigned char)(i * 13 + 5);
	cfg->private_key_len = 256;
}

static int next_port_base = PORT_FIRST;

/* knet_handle_new_ex and knet_handle_free take a few hundred ms each in
 * 1.25 (thread start/stop polling), so handles are created and freed in
 * parallel, one thread per node. */
static void *node_new_job(void *arg)
{
	struct node *n = arg;

	errno = 0;
	n->h = knet_handle_new_ex(n->id, logfds[1], KNET_LOG_INFO, 0);
	n->new_errno = errno;
	return NULL;
}

static void *node_teardown_job(void *arg)
{
	struct node *n = arg;
	const char *failed = NULL;
	int j, l;

	for (j = 1; j <= n->npeers_links[0]; j++) {
		if (j == n->id)
			continue;
		for (l = 0; l < n->npeers_links[1]; l++) {
			if (!failed && knet_link_set_enable(n->h, (knet_node_id_t)j, l, 0) != 0)
				failed = "link_disable";
			if (!failed && knet_link_clear_config(n->h, (knet_node_id_t)j, l) != 0)
				failed = "link_clear";
		}
		if (!failed && knet_host_remove(n->h, (knet_node_id_t)j) != 0)
			failed = "host_remove";
	}
	if (!failed && knet_handle_free(n->h) != 0)
		failed = "handle_free";
	n->teardown_failed = failed;
	return NULL;
}

static void run_parallel(void *(*fn)(void *), struct node **nodes, int count)
{
	pthread_t th[32];
	int i, started[32];

	for (i = 0; i < count && i < 32; i++)
		started[i] = pthread_create(&th[i], NULL, fn, nodes[i]) == 0;
	for (i = 0; i < count && i < 32; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			fn(nodes[i]);
	}
}

/* Creates and configures the handles and enables the links.  Every setup
 * call is expected to succeed: one line per node says whether they did
 * (and which failed first). */
static int cluster_start(struct cluster *c, const char *name, const struct copts *o)
{
	int i, j, l, ok_all = 1;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->o = *o;
	c->base = next_port_base;
	next_port_base += 6;
	if (next_port_base - 1 > PORT_LAST) {
		fprintf(stderr, "api_diff_live: out of ports\n");
		_exit(4);
	}

	{
		struct node *all[MAX_NODES];
		for (i = 0; i < o->n; i++) {
			struct node *n = &c->nd[i];
			n->id = (knet_node_id_t)(i + 1);
			pthread_mutex_init(&n->m, NULL);
			n->tx_mode = 1;
			n->rx_mode = 1;
			n->tx_chan = n->rx_chan = -1;
			n->npeers_links[0] = o->n;
			n->npeers_links[1] = o->nlinks;
			all[i] = n;
		}
		run_parallel(node_new_job, all, o->n);
	}
	for (i = 0; i < o->n; i++) {
		struct node *n = &c->nd[i];
		const char *failed = NULL;
		unsigned int mtu0 = 0, mtu1 = 0;

		if (!n->h) {
			out(L("%s.n%d.setup", name, n->id), "ok=0 failed=handle_new errno=%s", errname(n->new_errno));
			ok_all = 0;
			continue;
		}
#define SETUP(what, expr) do { if (!failed && (expr) != 0) failed = what; } while (0)
		SETUP("sock_notify", knet_handle_enable_sock_notify(n->h, n, sock_cb));
		SETUP("host_notify", knet_host_enable_status_change_notify(n->h, n, host_cb));
		SETUP("pmtud_notify", knet_handle_enable_pmtud_notify(n->h, n, pmtud_cb));
		knet_handle_pmtud_get(n->h, &mtu0);
		if (o->filter)
			SETUP("filter", knet_handle_enable_filter(n->h, n, filter_cb));
		if (o->crypto) {
			struct knet_handle_crypto_cfg cfg;
			set_crypto_cfg(&cfg, o->crypto);
			SETUP("crypto_set_config", knet_handle_crypto_set_config(n->h, &cfg, 1));
			SETUP("crypto_use_config", knet_handle_crypto_use_config(n->h, 1));
			SETUP("crypto_rx_clear", knet_handle_crypto_rx_clear_traffic(n->h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC));
		}
		if (o->compress) {
			struct knet_handle_compress_cfg z;
			memset(&z, 0, sizeof(z));
			snprintf(z.compress_model, sizeof(z.compress_model), "%s", o->compress);
			z.compress_threshold = 0;
			z.compress_level = o->compress_level;
			SETUP("compress", knet_handle_compress(n->h, &z));
		}
		if (o->manual_mtu)
			SETUP("pmtud_set", knet_handle_pmtud_set(n->h, o->manual_mtu));
		knet_handle_pmtud_get(n->h, &mtu1);
		n->datafd = 0;
		n->channel = -1;
		SETUP("add_datafd", knet_handle_add_datafd(n->h, &n->datafd, &n->channel));
		for (j = 0; j < o->n; j++) {
			knet_node_id_t peer = (knet_node_id_t)(j + 1);
			if (j == i)
				continue;
			SETUP("host_add", knet_host_add(n->h, peer));
			for (l = 0; l < o->nlinks; l++) {
				struct sockaddr_storage src = addr_of(c, n->id, l), dst = addr_of(c, peer, l);
				SETUP("link_set_config", knet_link_set_config(n->h, peer, l, KNET_TRANSPORT_UDP, &src, &dst, 0));
				SETUP("ping_timers", knet_link_set_ping_timers(n->h, peer, l, 100, 300, 2048));
				SETUP("pong_count", knet_link_set_pong_count(n->h, peer, l, 2));
				SETUP("priority", knet_link_set_priority(n->h, peer, l, o->prio[l]));
			}
		}
		SETUP("setfwd", knet_handle_setfwd(n->h, 1));
		out(L("%s.n%d.setup", name, n->id), "ok=%d failed=%s channel=%d pmtud_new=%u pmtud_configured=%u",
		    failed == NULL, failed ? failed : "-", n->channel, mtu0, mtu1);
		if (failed)
			ok_all = 0;
#undef SETUP
	}
	if (o->status_before_enable && c->nd[0].h) {
		struct knet_link_status st;
		memset(&st, 0, sizeof(st));
		T(L("%s.n1.h2.l0.status_before_enable", name), knet_link_get_status(c->nd[0].h, 2, 0, &st, sizeof(st)),
		  "enabled=%u connected=%u dynconnected=%u mtu=%u overhead=%u src=%s:%s dst=%s:%s", st.enabled,
		  st.connected, st.dynconnected, st.mtu, st.proto_overhead, st.src_ipaddr, st.src_port,
		  st.dst_ipaddr, st.dst_port);
	}
	for (i = 0; i < o->n; i++) {
		if (!c->nd[i].h)
			continue;
		for (j = 0; j < o->n; j++)
			for (l = 0; j != i && l < o->nlinks; l++)
				if (knet_link_set_enable(c->nd[i].h, (knet_node_id_t)(j + 1), l, 1) != 0)
					ok_all = 0;
	}
	return ok_all;
}

static int link_connected(struct node *n, knet_node_id_t host, int link, unsigned int *mtu)
{
	struct knet_link_status st;

	memset(&st, 0, sizeof(st));
	if (knet_link_get_status(n->h, host, link, &st, sizeof(st)) != 0)
		return 0;
	if (mtu)
		*mtu = st.mtu;
	return st.enabled && st.connected;
}

static int host_reachable(struct node *n, knet_node_id_t host)
{
	struct knet_host_status hs;

	memset(&hs, 0, sizeof(hs));
	return knet_host_get_status(n->h, host, &hs) == 0 && hs.reachable;
}

/* Everything up and measured: every host reachable, every link connected
 * with a link MTU over 1000, and the data MTU the lowest of them.  When not,
 * `why` (if given) says what was missing first. */
static int cluster_all_up(struct cluster *c, char *why, size_t whylen)
{
	int i, j, l;

	for (i = 0; i < c->o.n; i++) {
		struct node *n = &c->nd[i];
		unsigned int lowest = ~0u, dmtu = 0, m = 0;

		if (!n->h) {
			snprintf(why, whylen, "n%d has no handle", i + 1);
			return 0;
		}
		for (j = 0; j < c->o.n; j++) {
			if (j == i)
				continue;
			if (!host_reachable(n, (knet_node_id_t)(j + 1))) {
				snprintf(why, whylen, "n%d: host %d unreachable", i + 1, j + 1);
				return 0;
			}
			for (l = 0; l < c->o.nlinks; l++) {
				if (!link_connected(n, (knet_node_id_t)(j + 1), l, &m) || m < 1000) {
					snprintf(why, whylen, "n%d: link %d/%d not connected or mtu %u", i + 1, j + 1,
						 l, m);
					return 0;
				}
				if (m < lowest)
					lowest = m;
			}
		}
		if (knet_handle_pmtud_get(n->h, &dmtu) != 0 || dmtu != lowest) {
			snprintf(why, whylen, "n%d: data mtu %u, lowest link mtu %u", i + 1, dmtu, lowest);
			return 0;
		}
	}
	return 1;
}

static int cluster_wait_up(struct cluster *c, int ms)
{
	long long start = now_ms(), end = start + ms;
	int up;

	char why[128] = "";

	while (!(up = cluster_all_up(c, why, sizeof(why))) && now_ms() < end)
		sleep_ms(20);
	fprintf(stderr, "api_diff_live: %s up=%d after %lld ms%s%s\n", c->name, up, now_ms() - start,
		up ? "" : ": ", up ? "" : why);
	return up;
}

static void print_link_status(const char *label, struct node *n, knet_node_id_t host, int link)
{
	struct knet_link_status st;

	memset(&st, 0, sizeof(st));
	T(label, knet_link_get_status(n->h, host, link, &st, sizeof(st)),
	  "enabled=%u connected=%u dynconnected=%u mtu=%u overhead=%u src=%s:%s dst=%s:%s up_count=%u "
	  "down_count=%u", st.enabled, st.connected, st.dynconnected, st.mtu, st.proto_overhead, st.src_ipaddr,
	  st.src_port, st.dst_ipaddr, st.dst_port, st.stats.up_count, st.stats.down_count);
}

static void print_host_status(const char *label, struct node *n, knet_node_id_t host)
{
	struct knet_host_status hs;

	memset(&hs, 0xee, sizeof(hs));
	T(label, knet_host_get_status(n->h, host, &hs), "reachable=%u remote=%u external=%u", hs.reachable,
	  hs.remote, hs.external);
}

/* Host callbacks per host, in order: "h2=1/0/0,0/0/0 h3=..." */
static void print_host_events(const char *label, struct cluster *c, struct node *n)
{
	char vals[1024];
	int off = 0, j, k, any;

	vals[0] = 0;
	pthread_mutex_lock(&n->m);
	for (j = 1; j <= c->o.n; j++) {
		if (j == n->id)
			continue;
		off += snprintf(vals + off, sizeof(vals) - off, "%sh%d=", off ? " " : "", j);
		any = 0;
		for (k = 0; k < n->nhev; k++)
			if (n->hev[k].host == j)
				off += snprintf(vals + off, sizeof(vals) - off, "%s%u/%u/%u", any++ ? "," : "",
						n->hev[k].reachable, n->hev[k].remote, n->hev[k].external);
		if (!any)
			off += snprintf(vals + off, sizeof(vals) - off, "none");
	}
	for (k = 0; k < n->nhev; k++)
		if (n->hev[k].host == 0 || n->hev[k].host > c->o.n || n->hev[k].host == n->id)
			off += snprintf(vals + off, sizeof(vals) - off, " other=%u", n->hev[k].host);
	pthread_mutex_unlock(&n->m);
	out(label, "%s", vals);
}

/* PMTUd notifications: the last one and whether it matches
 * knet_handle_pmtud_get (the values before it depend on how the links'
 * measurements interleave). */
static void print_mtu_events(const char *label, struct node *n)
{
	unsigned int cur = 0, last = 0;
	int cnt;

	knet_handle_pmtud_get(n->h, &cur);
	pthread_mutex_lock(&n->m);
	cnt = n->nmtuev;
	if (cnt)
		last = n->mtuev[cnt - 1];
	pthread_mutex_unlock(&n->m);
	out(label, "notified=%d last=%u last_is_current=%d", cnt > 0, last, cnt > 0 && last == cur);
}

/* The picture once everything is up. */
static void cluster_report_up(struct cluster *c, int up)
{
	int i, j, l;
	unsigned int dmtu;

	out(L("%s.up", c->name), "all_up_within_10s=%d", up);
	sleep_ms(150); /* callbacks run on the library's threads */
	for (i = 0; i < c->o.n; i++) {
		struct node *n = &c->nd[i];
		if (!n->h)
			continue;
		dmtu = 0;
		T(L("%s.n%d.pmtud_get", c->name, n->id), knet_handle_pmtud_get(n->h, &dmtu), "data_mtu=%u", dmtu);
		for (j = 0; j < c->o.n; j++) {
			if (j == i)
				continue;
			print_host_status(L("%s.n%d.h%d.host_status", c->name, n->id, j + 1), n, (knet_node_id_t)(j + 1));
			for (l = 0; l < c->o.nlinks; l++)
				print_link_status(L("%s.n%d.h%d.l%d.status", c->name, n->id, j + 1, l), n,
						  (knet_node_id_t)(j + 1), l);
		}
		print_host_events(L("%s.n%d.host_events_up", c->name, n->id), c, n);
		print_mtu_events(L("%s.n%d.pmtud_events_up", c->name, n->id), n);
	}
}

static void cluster_set_timers(struct cluster *c, int interval, int timeout)
{
	int i, j, l;

	for (i = 0; i < c->o.n; i++)
		for (j = 0; j < c->o.n; j++)
			for (l = 0; j != i && l < c->o.nlinks && c->nd[i].h; l++)
				knet_link_set_ping_timers(c->nd[i].h, (knet_node_id_t)(j + 1), l, interval, timeout, 2048);
}

/* Pings paused (10 s interval, 30 s timeout), in-flight ones settled, for
 * all the clusters given.  In two steps: 1.25 applies a new pong timeout
 * only at its next once-a-second adjustment, so with the old 300 ms one
 * still in force a link whose pings had just stopped would go down; the
 * long timeout is set first, with pings still flowing. */
static void clusters_quiet(struct cluster **cs, int ncs)
{
	int k;

	for (k = 0; k < ncs; k++)
		cluster_set_timers(cs[k], 100, 30000);
	sleep_ms(1500);
	for (k = 0; k < ncs; k++)
		cluster_set_timers(cs[k], 10000, 30000);
	sleep_ms(350);
}

static void cluster_quiet(struct cluster *c)
{
	clusters_quiet(&c, 1);
}

static void cluster_clear_stats(struct cluster *c)
{
	int i;

	for (i = 0; i < c->o.n; i++)
		if (c->nd[i].h)
			knet_handle_clear_stats(c->nd[i].h, KNET_CLEARSTATS_HANDLE_AND_LINK);
}

/* Links down, hosts gone, handles freed (all nodes of all the clusters
 * given at once): one line per node with the first failure. */
static void clusters_stop(struct cluster **cs, int ncs)
{
	struct node *all[32];
	int i, k, count = 0;

	for (k = 0; k < ncs; k++)
		for (i = 0; i < cs[k]->o.n; i++)
			if (cs[k]->nd[i].h && count < 32)
				all[count++] = &cs[k]->nd[i];
	run_parallel(node_teardown_job, all, count);
	for (k = 0; k < ncs; k++) {
		for (i = 0; i < cs[k]->o.n; i++) {
			struct node *n = &cs[k]->nd[i];
			if (n->h) {
				out(L("%s.n%d.teardown", cs[k]->name, n->id), "ok=%d failed=%s", n->teardown_failed == NULL,
				    n->teardown_failed ? n->teardown_failed : "-");
				n->h = NULL;
			}
			if (n->id)
				pthread_mutex_destroy(&n->m);
		}
	}
}

static void cluster_stop(struct cluster *c)
{
	clusters_stop(&c, 1);
}

/* ------------------------------------------------------------ data */

/* Message contents: 't' compressible text, 'r' pseudo-random bytes; the
 * first bytes always carry size and sequence number. */
static void fill(unsigned char *b, size_t size, char kind, int seq)
{
	static const char text[] = "knet live differential text; the quick brown fox 0123456789\n";
	uint32_t x = (uint32_t)(size * 2654435761u) ^ (uint32_t)(seq * 40503u + 1);
	size_t i;

	for (i = 0; i < size; i++) {
		if (kind == 'r') {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[i] = (unsigned char)x;
		} else {
			b[i] = (unsigned char)text[(i + (size_t)seq) % (sizeof(text) - 1)];
		}
	}
	if (size >= 8) {
		char tag[16];
		snprintf(tag, sizeof(tag), "%c%06u", kind, (unsigned int)seq % 1000000u);
		memcpy(b, tag, 7);
	}
}

static unsigned char g_tx[KNET_MAX_PACKET_SIZE], g_rx[KNET_MAX_PACKET_SIZE + 16];

/* Reads what is pending on a node's channel within ms: -1 nothing, else
 * the length (copied into g_rx). */
static ssize_t recv_one(struct node *n, int fd, int8_t channel, int ms)
{
	if (!wait_readable(fd, ms))
		return -1;
	return knet_recv(n->h, (char *)g_rx, KNET_MAX_PACKET_SIZE, channel);
}

/* Empties a datafd (messages left over) and says how many there were. */
static int drain_fd(int fd)
{
	int cnt = 0;

	while (wait_readable(fd, 0) && read(fd, g_rx, sizeof(g_rx)) >= 0)
		cnt++;
	return cnt;
}

static void print_link_counters(const char *label, struct node *n, knet_node_id_t host, int link)
{
	struct knet_link_status st;

	memset(&st, 0, sizeof(st));
	T(label, knet_link_get_status(n->h, host, link, &st, sizeof(st)),
	  "tx_data_packets=%llu tx_data_bytes=%llu rx_data_packets=%llu rx_data_bytes=%llu "
	  "tx_total_packets=%llu rx_total_packets=%llu",
	  (unsigned long long)st.stats.tx_data_packets, (unsigned long long)st.stats.tx_data_bytes,
	  (unsigned long long)st.stats.rx_data_packets, (unsigned long long)st.stats.rx_data_bytes,
	  (unsigned long long)st.stats.tx_total_packets, (unsigned long long)st.stats.rx_total_packets);
}

/* Handle stats without the times (only whether min <= ave <= max where
 * something was counted). */
static void print_handle_counters(const char *label, struct node *n)
{
	struct knet_handle_stats s;
	int times_ok = 1;

	memset(&s, 0, sizeof(s));
	CALL(knet_handle_get_stats(n->h, &s, sizeof(s)));
	if (s.tx_compressed_packets &&
	    !(s.tx_compress_time_min <= s.tx_compress_time_ave && s.tx_compress_time_ave <= s.tx_compress_time_max))
		times_ok = 0;
	if (s.rx_compressed_packets &&
	    !(s.rx_compress_time_min <= s.rx_compress_time_ave && s.rx_compress_time_ave <= s.rx_compress_time_max))
		times_ok = 0;
	if (s.tx_crypt_packets &&
	    !(s.tx_crypt_time_min <= s.tx_crypt_time_ave && s.tx_crypt_time_ave <= s.tx_crypt_time_max))
		times_ok = 0;
	if (s.rx_crypt_packets &&
	    !(s.rx_crypt_time_min <= s.rx_crypt_time_ave && s.rx_crypt_time_ave <= s.rx_crypt_time_max))
		times_ok = 0;
	tline(label,
	      "tx_unc=%llu tx_cmp=%llu tx_cmp_orig=%llu tx_cmp_size=%llu rx_cmp=%llu rx_cmp_orig=%llu "
	      "rx_cmp_size=%llu tx_crypt=%llu tx_crypt_ovh=%llu rx_crypt=%llu times_ordered=%d",
	      (unsigned long long)s.tx_uncompressed_packets, (unsigned long long)s.tx_compressed_packets,
	      (unsigned long long)s.tx_compressed_original_bytes, (unsigned long long)s.tx_compressed_size_bytes,
	      (unsigned long long)s.rx_compressed_packets, (unsigned long long)s.rx_compressed_original_bytes,
	      (unsigned long long)s.rx_compressed_size_bytes, (unsigned long long)s.tx_crypt_packets,
	      (unsigned long long)s.tx_crypt_byte_overhead, (unsigned long long)s.rx_crypt_packets, times_ok);
}

/* Sends `count` messages from node `from` (knet_send on its channel) and
 * reads each one on every node in `to` before the next is sent. */
static void send_batch(const char *label, struct cluster *c, int from, const int *to, int nto, size_t size,
		       char kind, int count)
{
	char vals[512];
	int off = 0, k, t;
	int send_ok = 0, got[MAX_NODES] = { 0 }, good[MAX_NODES] = { 0 }, extra[MAX_NODES] = { 0 };
	struct node *s = &c->nd[from - 1];

	for (k = 0; k < count; k++) {
		ssize_t r;
		fill(g_tx, size, kind, k);
		r = knet_send(s->h, (const char *)g_tx, size, s->channel);
		if (r == (ssize_t)size)
			send_ok++;
		for (t = 0; t < nto; t++) {
			struct node *d = &c->nd[to[t] - 1];
			r = recv_one(d, d->datafd, d->channel, 3000);
			if (r < 0)
				continue;
			got[t]++;
			if (r == (ssize_t)size && memcmp(g_rx, g_tx, size) == 0)
				good[t]++;
		}
	}
	sleep_ms(30);
	for (t = 0; t < nto; t++)
		extra[t] = drain_fd(c->nd[to[t] - 1].datafd);
	off += snprintf(vals + off, sizeof(vals) - off, "sent=%d send_rc_ok=%d", count, send_ok);
	for (t = 0; t < nto; t++)
		off += snprintf(vals + off, sizeof(vals) - off, " n%d_delivered=%d n%d_content_ok=%d n%d_extra=%d",
				to[t], got[t], to[t], good[t], to[t], extra[t]);
	out(label, "%s", vals);
}

/* ------------------------------------------------------------ sections */

/* Three nodes, two links each way (127.0.0.1 and ::1), clear traffic. */
static void section_mesh3(void)
{
	struct copts o = { .n = 3, .nlinks = 2, .status_before_enable = 1 };
	struct cluster c;
	int up, i, j, l, to[2];

	cluster_start(&c, "mesh3", &o);
	up = cluster_wait_up(&c, 10000);
	cluster_report_up(&c, up);

	/* each node broadcasts (no filter installed) 2 messages of 1000 B */
	cluster_quiet(&c);
	cluster_clear_stats(&c);
	for (i = 1; i <= 3; i++) {
		int k = 0;
		for (j = 1; j <= 3; j++)
			if (j != i)
				to[k++] = j;
		send_batch(L("mesh3.bcast_from_n%d", i), &c, i, to, 2, 1000, 't', 2);
	}
	/* passive, equal priorities: the lowest link id carries everything */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			for (l = 0; j != i && l < 2; l++)
				print_link_counters(L("mesh3.n%d.h%d.l%d.counters", i + 1, j + 1, l), &c.nd[i],
						    (knet_node_id_t)(j + 1), l);
	cluster_stop(&c);
}

/* Two nodes, one link: the data path with each crypto / compression setup. */
struct matrix_cfg {
	const char *name, *crypto, *compress;
	int level;
	unsigned int mtu;
};

static void section_matrix(void)
{
	static const struct matrix_cfg cfgs[] = {
		{ "clear", NULL, NULL, 0, 0 },
		{ "clear_mtu1500", NULL, NULL, 0, 1500 },
		{ "openssl", "openssl", NULL, 0, 0 },
		{ "openssl_mtu1500", "openssl", NULL, 0, 1500 },
		{ "nss", "nss", NULL, 0, 0 },
		{ "zlib", NULL, "zlib", 5, 0 },
		{ "lz4", NULL, "lz4", 1, 0 },
		{ "nss_zlib_mtu1500", "nss", "zlib", 5, 1500 },
		{ "openssl_lz4_mtu1500", "openssl", "lz4", 1, 1500 },
	};
	static const struct { size_t size; char kind; } sizes[] = {
		{ 1, 't' }, { 1000, 't' }, { 1000, 'r' }, { 10000, 't' }, { 64000, 't' },
	};
	enum { NCFG = sizeof(cfgs) / sizeof(cfgs[0]) };
	static struct cluster cl[NCFG];
	struct cluster *all[NCFG];
	size_t i, s;
	int to[1] = { 2 }, up[NCFG];

	/* all the clusters run at once, each on its own ports */
	for (i = 0; i < NCFG; i++) {
		struct copts o = { .n = 2, .nlinks = 1, .crypto = cfgs[i].crypto, .compress = cfgs[i].compress,
				   .compress_level = cfgs[i].level, .manual_mtu = cfgs[i].mtu };
		cluster_start(&cl[i], L("m.%s", cfgs[i].name), &o);
		all[i] = &cl[i];
	}
	for (i = 0; i < NCFG; i++)
		up[i] = cluster_wait_up(&cl[i], 10000);
	for (i = 0; i < NCFG; i++)
		cluster_report_up(&cl[i], up[i]);
	clusters_quiet(all, NCFG);
	for (i = 0; i < NCFG; i++) {
		struct cluster *c = &cl[i];
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			char szl[96];
			snprintf(szl, sizeof(szl), "%.40s.s%zu%c", c->name, sizes[s].size, sizes[s].kind);
			cluster_clear_stats(c);
			send_batch(L("%s.delivery", szl), c, 1, to, 1, sizes[s].size, sizes[s].kind, 3);
			print_link_counters(L("%s.n1.link", szl), &c->nd[0], 2, 0);
			print_link_counters(L("%s.n2.link", szl), &c->nd[1], 1, 0);
			print_handle_counters(L("%s.n1.stats", szl), &c->nd[0]);
			print_handle_counters(L("%s.n2.stats", szl), &c->nd[1]);
		}
	}
	clusters_stop(all, NCFG);
}

/* Two nodes, two links: which link carries the data under each policy. */
static void section_policy(void)
{
	struct copts o = { .n = 2, .nlinks = 2, .prio = { 0, 1 } };
	struct cluster c;
	int up, to[1] = { 2 };
	static const struct { const char *name; uint8_t policy; int prio0; } steps[] = {
		{ "passive_l1_higher", KNET_LINK_POLICY_PASSIVE, -1 },
		{ "passive_l0_higher", KNET_LINK_POLICY_PASSIVE, 5 },
		{ "active", KNET_LINK_POLICY_ACTIVE, -1 },
		{ "rr", KNET_LINK_POLICY_RR, -1 },
		{ "rr_64000", KNET_LINK_POLICY_RR, -1 },
		{ "passive_back", KNET_LINK_POLICY_PASSIVE, -1 },
	};
	size_t i;
	uint8_t pol;

	cluster_start(&c, "policy", &o);
	up = cluster_wait_up(&c, 10000);
	cluster_report_up(&c, up);
	cluster_quiet(&c);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const char *p = L("policy.%s", steps[i].name);
		char pl[64];
		snprintf(pl, sizeof(pl), "%s", p);
		if (steps[i].prio0 >= 0) {
			T(L("%s.set_priority_l0", pl), knet_link_set_priority(c.nd[0].h, 2, 0, (uint8_t)steps[i].prio0));
			knet_link_set_priority(c.nd[1].h, 1, 0, (uint8_t)steps[i].prio0);
		}
		T(L("%s.set_policy", pl), knet_host_set_policy(c.nd[0].h, 2, steps[i].policy));
		knet_host_set_policy(c.nd[1].h, 1, steps[i].policy);
		/* 1.25 applies a new policy asynchronously (its dst cache thread) */
		sleep_ms(200);
		pol = 0xee;
		T(L("%s.get_policy", pl), knet_host_get_policy(c.nd[0].h, 2, &pol), "policy=%u", pol);
		cluster_clear_stats(&c);
		if (strcmp(steps[i].name, "rr_64000") == 0)
			send_batch(L("%s.delivery", pl), &c, 1, to, 1, 64000, 't', 4);
		else
			send_batch(L("%s.delivery", pl), &c, 1, to, 1, 1000, 't', 6);
		print_link_counters(L("%s.n1.l0", pl), &c.nd[0], 2, 0);
		print_link_counters(L("%s.n1.l1", pl), &c.nd[0], 2, 1);
		print_link_counters(L("%s.n2.l0", pl), &c.nd[1], 1, 0);
		print_link_counters(L("%s.n2.l1", pl), &c.nd[1], 1, 1);
	}
	cluster_stop(&c);
}

/* Waits up to ms for a host's reachability to be `want`; 1 if it was. */
static int wait_host_reachable(struct node *n, knet_node_id_t host, int want, int ms)
{
	long long end = now_ms() + ms;

	do {
		if (host_reachable(n, host) == want)
			return 1;
		sleep_ms(10);
	} while (now_ms() < end);
	return 0;
}

/* (Re)configures and enables node n's links to peer, as cluster_start. */
static int link_setup(struct cluster *c, struct node *n, knet_node_id_t peer, int link)
{
	struct sockaddr_storage src = addr_of(c, n->id, link), dst = addr_of(c, peer, link);

	if (knet_link_set_config(n->h, peer, link, KNET_TRANSPORT_UDP, &src, &dst, 0) != 0 ||
	    knet_link_set_ping_timers(n->h, peer, link, 100, 300, 2048) != 0 ||
	    knet_link_set_pong_count(n->h, peer, link, 2) != 0 ||
	    knet_link_set_priority(n->h, peer, link, c->o.prio[link]) != 0)
		return -1;
	return knet_link_set_enable(n->h, peer, link, 1);
}

/* Two nodes, two links, 100 ms pings with a 300 ms timeout.  Node 1
 * disables link 0 (its socket stays), then disables and clears both links
 * (nothing answers node 2 any more); node 2 must notice.  Then the
 * knet_send_sync results on a live pair. */
static void section_down(void)
{
	struct copts o = { .n = 2, .nlinks = 2, .filter = 1 };
	struct cluster c;
	struct node *a, *b;
	int up, r;
	char msg[64];

	cluster_start(&c, "down", &o);
	a = &c.nd[0];
	b = &c.nd[1];
	filter_set(a, 0, 2, 0, -1, 1, -1);
	filter_set(b, 0, 1, 0, -1, 1, -1);
	up = cluster_wait_up(&c, 10000);
	cluster_report_up(&c, up);
	events_reset(a);
	events_reset(b);

	snprintf(msg, sizeof(msg), "sync while up");
	T("down.send_sync_up", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	r = (int)recv_one(b, b->datafd, b->channel, 2000);
	out("down.send_sync_up.delivered", "len=%d content_ok=%d", r,
	    r == (int)strlen(msg) && memcmp(g_rx, msg, strlen(msg)) == 0);

	/* link 0 disabled on node 1: its socket stays open */
	T("down.n1.disable_l0", knet_link_set_enable(a->h, 2, 0, 0));
	print_link_status("down.n1.h2.l0.right_after_disable", a, 2, 0);
	sleep_ms(100);
	print_link_status("down.n1.h2.l0.100ms_after_disable", a, 2, 0);
	print_host_status("down.n1.h2.100ms_after_disable_l0", a, 2);
	/* node 2 still sends on link 0 (passive, equal priorities: lowest id) */
	snprintf(msg, sizeof(msg), "to a disabled link");
	T("down.n2.send_to_disabled_l0", knet_send(b->h, msg, strlen(msg), b->channel));
	out("down.n1.receives_on_disabled_l0", "within_500ms=%d", (int)recv_one(a, a->datafd, a->channel, 500) > 0);
	sleep_ms(500);
	out("down.n2.h1.l0.after_remote_disable_1s", "connected=%d", link_connected(b, 1, 0, NULL));
	print_host_status("down.n2.h1.after_remote_disable_l0", b, 1);

	/* link 0 enabled again after a second without pings of its own */
	T("down.n1.reenable_l0", knet_link_set_enable(a->h, 2, 0, 1));
	print_link_status("down.n1.h2.l0.right_after_reenable", a, 2, 0);
	sleep_ms(1000);
	print_link_status("down.n1.h2.l0.1s_after_reenable", a, 2, 0);
	T("down.n1.disable_l0_again", knet_link_set_enable(a->h, 2, 0, 0));

	/* both links disabled and cleared on node 1: node 2 loses it */
	T("down.n1.disable_l1", knet_link_set_enable(a->h, 2, 1, 0));
	T("down.n1.clear_l0", knet_link_clear_config(a->h, 2, 0));
	T("down.n1.clear_l1", knet_link_clear_config(a->h, 2, 1));
	sleep_ms(100);
	print_host_status("down.n1.h2.100ms_after_clear", a, 2);
	out("down.n2.h1.unreachable", "within_3s=%d", wait_host_reachable(b, 1, 0, 3000));
	sleep_ms(100);
	print_link_status("down.n2.h1.l0.after_remote_clear", b, 1, 0);
	print_link_status("down.n2.h1.l1.after_remote_clear", b, 1, 1);
	snprintf(msg, sizeof(msg), "sync while down");
	T("down.send_sync_down", knet_send_sync(b->h, msg, strlen(msg), b->channel));
	snprintf(msg, sizeof(msg), "async while down");
	T("down.send_async_down", knet_send(b->h, msg, strlen(msg), b->channel));
	sleep_ms(200);

	/* back up */
	r = link_setup(&c, a, 2, 0) == 0 && link_setup(&c, a, 2, 1) == 0;
	out("down.n1.reconfigure", "ok=%d", r);
	out("down.back_up", "within_5s=%d", cluster_wait_up(&c, 5000));
	sleep_ms(150);
	out("down.n1.stale_after_up", "messages=%d", drain_fd(a->datafd));
	print_host_events("down.n1.host_events", &c, a);
	print_host_events("down.n2.host_events", &c, b);

	/* knet_send_sync on a live pair: filter and forwarding */
	snprintf(msg, sizeof(msg), "sync again");
	T("down.send_sync_again", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	r = (int)recv_one(b, b->datafd, b->channel, 2000);
	out("down.send_sync_again.delivered", "len=%d", r);
	T("down.setfwd0", knet_handle_setfwd(a->h, 0));
	T("down.send_sync_fwd_off", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	T("down.setfwd1", knet_handle_setfwd(a->h, 1));
	filter_set(a, -1, 0, 0, -1, 1, -1);
	T("down.send_sync_filter_error", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	filter_set(a, 0, 0, 0, -1, 1, -1);
	T("down.send_sync_filter_no_dst", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	filter_set(a, 0, 2, 1, -1, 1, -1);
	T("down.send_sync_filter_two_dst", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	filter_set(a, 0, 1, 0, -1, 1, -1);
	T("down.send_sync_to_self", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	filter_set(a, 1, 0, 0, -1, 1, -1);
	T("down.send_sync_broadcast", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	sleep_ms(200);
	out("down.send_sync_variants.delivered", "messages=%d", drain_fd(b->datafd));
	filter_set(a, 0, 2, 0, -1, 1, -1);
	T("down.filter_off", knet_handle_enable_filter(a->h, NULL, NULL));
	T("down.send_sync_no_filter", knet_send_sync(a->h, msg, strlen(msg), a->channel));
	cluster_stop(&c);
}

/* Three nodes, one link, a destination filter on each: who receives what,
 * on which channel, and what the filter was called with. */
static void section_filter(void)
{
	struct copts o = { .n = 3, .nlinks = 1, .filter = 1 };
	struct cluster c;
	struct node *n1, *n2, *n3;
	int up, fd1b = 0, fd2b = 0, fd2x = 0;
	int8_t ch1b = -1, ch2b = -1, ch2x = 5;
	size_t i;
	char msg[64];
	static const struct {
		const char *name;
		int tx_mode, d0, d1, tx_chan, n2_rx_mode, n2_rx_chan, n3_rx_mode, send_chan_b;
	} steps[] = {
		{ "unicast_n3", 0, 3, 0, -1, 1, -1, 1, 0 },
		{ "unicast_n2_n3", 0, 2, 3, -1, 1, -1, 1, 0 },
		{ "broadcast", 1, 0, 0, -1, 1, -1, 1, 0 },
		{ "tx_error", -1, 0, 0, -1, 1, -1, 1, 0 },
		{ "unicast_self", 0, 1, 0, -1, 1, -1, 1, 0 },
		{ "unicast_unknown_n9", 0, 9, 0, -1, 1, -1, 1, 0 },
		{ "unicast_no_dst", 0, 0, 0, -1, 1, -1, 1, 0 },
		{ "rx_n3_drops", 1, 0, 0, -1, 1, -1, -1, 0 },
		{ "rx_unicast_check", 1, 0, 0, -1, 0, -1, 0, 0 },
		{ "rx_n2_channel_1", 1, 0, 0, -1, 1, 1, 1, 0 },
		{ "tx_channel_1", 1, 0, 0, 1, 1, -1, 1, 0 },
		{ "send_on_channel_1", 1, 0, 0, -1, 1, -1, 1, 1 },
		{ "tx_channel_5", 1, 0, 0, 5, 1, -1, 1, 0 },
	};

	cluster_start(&c, "filter", &o);
	n1 = &c.nd[0];
	n2 = &c.nd[1];
	n3 = &c.nd[2];
	/* second channels: auto-allocated on n1 and n2, a chosen one on n2 */
	T("filter.n1.add_datafd_auto", knet_handle_add_datafd(n1->h, &fd1b, &ch1b), "channel=%d", ch1b);
	T("filter.n2.add_datafd_auto", knet_handle_add_datafd(n2->h, &fd2b, &ch2b), "channel=%d", ch2b);
	T("filter.n2.add_datafd_ch5", knet_handle_add_datafd(n2->h, &fd2x, &ch2x), "channel=%d", ch2x);
	up = cluster_wait_up(&c, 10000);
	cluster_report_up(&c, up);

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int8_t sch = steps[i].send_chan_b ? ch1b : n1->channel;
		int got2 = 0, got2b = 0, got2x = 0, got3 = 0;
		long long end;
		ssize_t r;
		const char *p = L("filter.%s", steps[i].name);
		char pl[64];

		snprintf(pl, sizeof(pl), "%s", p);
		filter_set(n1, steps[i].tx_mode, (knet_node_id_t)steps[i].d0, (knet_node_id_t)steps[i].d1,
			   steps[i].tx_chan, 1, -1);
		filter_set(n2, 1, 0, 0, -1, steps[i].n2_rx_mode, steps[i].n2_rx_chan);
		filter_set(n3, 1, 0, 0, -1, steps[i].n3_rx_mode, -1);
		snprintf(msg, sizeof(msg), "filter step %zu", i);
		T(L("%s.send", pl), knet_send(n1->h, msg, strlen(msg) + 1, sch));
		/* everything that will arrive arrives within 300 ms on loopback */
		end = now_ms() + 300;
		while (now_ms() < end) {
			struct pollfd p4[4] = { { n2->datafd, POLLIN, 0 }, { fd2b, POLLIN, 0 },
						{ fd2x, POLLIN, 0 }, { n3->datafd, POLLIN, 0 } };
			int k;
			if (poll(p4, 4, 20) <= 0)
				continue;
			for (k = 0; k < 4; k++) {
				if (!(p4[k].revents & POLLIN))
					continue;
				r = read(p4[k].fd, g_rx, sizeof(g_rx));
				if (r != (ssize_t)strlen(msg) + 1 || memcmp(g_rx, msg, (size_t)r) != 0)
					r = -2;
				if (k == 0)
					got2 += r > 0 ? 1 : 100;
				else if (k == 1)
					got2b += r > 0 ? 1 : 100;
				else if (k == 2)
					got2x += r > 0 ? 1 : 100;
				else
					got3 += r > 0 ? 1 : 100;
			}
		}
		out(L("%s.delivered", pl), "n2_ch%d=%d n2_ch%d=%d n2_ch%d=%d n3_ch%d=%d", n2->channel, got2, ch2b,
		    got2b, ch2x, got2x, n3->channel, got3);
		pthread_mutex_lock(&n1->m);
		out(L("%s.n1.filter_tx", pl), "calls=%d last=%s", n1->tx_calls, n1->tx_calls ? n1->tx_last : "-");
		pthread_mutex_unlock(&n1->m);
		pthread_mutex_lock(&n2->m);
		out(L("%s.n2.filter_rx", pl), "calls=%d last=%s", n2->rx_calls, n2->rx_calls ? n2->rx_last : "-");
		pthread_mutex_unlock(&n2->m);
		pthread_mutex_lock(&n3->m);
		out(L("%s.n3.filter_rx", pl), "calls=%d last=%s", n3->rx_calls, n3->rx_calls ? n3->rx_last : "-");
		pthread_mutex_unlock(&n3->m);
	}
	T("filter.n2.remove_datafd_ch5", knet_handle_remove_datafd(n2->h, fd2x));
	cluster_stop(&c);
}

/* A thread writing messages into an application-owned socket. */
struct pump {
	int fd;
	size_t size;
	atomic_int stop;
	pthread_t th;
};

static void *pump_fn(void *arg)
{
	struct pump *p = arg;
	unsigned char buf[1200];
	int k = 0;

	while (!p->stop) {
		fill(buf, p->size, 't', k++);
		if (send(p->fd, buf, p->size, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* full (no reader) or peer gone: try again later */
		}
		sleep_ms(2);
	}
	return NULL;
}

/* A thread reading and counting messages from an application-owned socket. */
struct sink {
	int fd;
	atomic_int stop;
	atomic_long count;
	pthread_t th;
};

static void *sink_fn(void *arg)
{
	struct sink *s = arg;
	unsigned char buf[2048];

	while (!s->stop) {
		if (!wait_readable(s->fd, 20))
			continue;
		while (recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			s->count++;
	}
	return NULL;
}

static int count_grows(struct sink *s, int ms)
{
	long before = s->count;
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		if (s->count > before)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Two nodes, one link, traffic both ways through application-owned
 * sockets: datafds removed and re-added, and handles freed, while data
 * flows. */
static void section_teardown(void)
{
	struct copts o = { .n = 2, .nlinks = 1 };
	struct cluster c;
	struct node *a, *b;
	int spa[2], spb[2], up, fa, fb;
	int8_t cha = -1, chb = -1, ch = -1;
	struct pump pa = { 0 }, pb = { 0 };
	struct sink sa = { 0 }, sb = { 0 };

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, spa) != 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, spb) != 0) {
		out("teardown.socketpair", "ok=0");
		return;
	}
	cluster_start(&c, "teardown", &o);
	a = &c.nd[0];
	b = &c.nd[1];
	/* the knet-created datafds go; application sockets on channel 0 */
	T("teardown.n1.remove_created_datafd", knet_handle_remove_datafd(a->h, a->datafd));
	T("teardown.n2.remove_created_datafd", knet_handle_remove_datafd(b->h, b->datafd));
	fa = spa[0];
	fb = spb[0];
	T("teardown.n1.add_user_datafd", knet_handle_add_datafd(a->h, &fa, &cha), "same_fd=%d channel=%d",
	  fa == spa[0], cha);
	T("teardown.n2.add_user_datafd", knet_handle_add_datafd(b->h, &fb, &chb), "same_fd=%d channel=%d",
	  fb == spb[0], chb);
	up = cluster_wait_up(&c, 10000);
	out("teardown.up", "all_up_within_10s=%d", up);

	pa.fd = spa[1];
	pa.size = 1000;
	pb.fd = spb[1];
	pb.size = 1000;
	sa.fd = spa[1];
	sb.fd = spb[1];
	pthread_create(&sa.th, NULL, sink_fn, &sa);
	pthread_create(&sb.th, NULL, sink_fn, &sb);
	pthread_create(&pa.th, NULL, pump_fn, &pa);
	pthread_create(&pb.th, NULL, pump_fn, &pb);
	out("teardown.flowing", "n1_receives_within_2s=%d n2_receives_within_2s=%d", count_grows(&sa, 2000),
	    count_grows(&sb, 2000));

	/* the receiving side's datafd goes while data arrives on it */
	T("teardown.n2.remove_datafd_under_traffic", knet_handle_remove_datafd(b->h, spb[0]));
	T("teardown.n2.get_channel_removed", knet_handle_get_channel(b->h, spb[0], &ch));
	out("teardown.n2.user_fd_after_remove", "open=%d", fd_open(spb[0]));
	sleep_ms(100);
	out("teardown.n2.after_remove", "receives_within_300ms=%d n1_receives_within_1s=%d", count_grows(&sb, 300),
	    count_grows(&sa, 1000));
	fb = spb[0];
	chb = -1;
	T("teardown.n2.readd_datafd", knet_handle_add_datafd(b->h, &fb, &chb), "channel=%d", chb);
	out("teardown.n2.after_readd", "receives_within_2s=%d", count_grows(&sb, 2000));

	/* the sending side's datafd goes while the application writes to it */
	T("teardown.n1.remove_datafd_under_traffic", knet_handle_remove_datafd(a->h, spa[0]));
	sleep_ms(100);
	out("teardown.n1.after_remove", "n2_receives_within_300ms=%d", count_grows(&sb, 300));
	fa = spa[0];
	cha = -1;
	T("teardown.n1.readd_datafd", knet_handle_add_datafd(a->h, &fa, &cha), "channel=%d", cha);
	out("teardown.n1.after_readd", "n2_receives_within_2s=%d", count_grows(&sb, 2000));

	/* node 1 goes away while both pumps run */
	T("teardown.n1.free_with_host", knet_handle_free(a->h));
	T("teardown.n1.disable_link", knet_link_set_enable(a->h, 2, 0, 0));
	T("teardown.n1.clear_link", knet_link_clear_config(a->h, 2, 0));
	T("teardown.n1.host_remove", knet_host_remove(a->h, 2));
	T("teardown.n1.free_under_traffic", knet_handle_free(a->h));
	a->h = NULL;
	out("teardown.n1.user_fd_after_free", "open=%d", fd_open(spa[0]));
	out("teardown.n2.h1.unreachable", "within_3s=%d", wait_host_reachable(b, 1, 0, 3000));

	/* node 2 freed with its application datafd still installed and fed */
	knet_link_set_enable(b->h, 1, 0, 0);
	knet_link_clear_config(b->h, 1, 0);
	knet_host_remove(b->h, 1);
	T("teardown.n2.free_with_datafd_under_traffic", knet_handle_free(b->h));
	b->h = NULL;
	out("teardown.n2.user_fd_after_free", "open=%d", fd_open(spb[0]));

	atomic_store(&pa.stop, 1);
	atomic_store(&pb.stop, 1);
	atomic_store(&sa.stop, 1);
	atomic_store(&sb.stop, 1);
	pthread_join(pa.th, NULL);
	pthread_join(pb.th, NULL);
	pthread_join(sa.th, NULL);
	pthread_join(sb.th, NULL);
	cluster_stop(&c);
	close(spa[0]);
	close(spa[1]);
	close(spb[0]);
	close(spb[1]);
}

/* Runs one section; its duration goes to stderr. */
static void section(void (*fn)(void), const char *name)
{
	long long t = now_ms();

	fn();
	fprintf(stderr, "api_diff_live: section %s %lld ms\n", name, now_ms() - t);
}

int main(void)
{
	pthread_t lt;
	long long t0 = now_ms();
	knet_handle_t probe;

#ifdef KNET_TESTS_TSAN
	if (diff_start(110) != 0) /* everything is several times slower */
#else
	if (diff_start(55) != 0)
#endif
		return 2;
	pthread_create(&lt, NULL, log_drain, NULL);

	/* the library is mapped once the first handle exists */
	probe = knet_handle_new_ex(99, logfds[1], KNET_LOG_INFO, 0);
	report_library();
	if (probe)
		knet_handle_free(probe);

	section(section_mesh3, "mesh3");
	section(section_matrix, "matrix");
	section(section_policy, "policy");
	section(section_down, "down");
	section(section_filter, "filter");
	section(section_teardown, "teardown");

	log_stop = 1;
	pthread_join(lt, NULL);
	fprintf(stderr, "api_diff_live: %d lines in %lld ms\n", g_lines, now_ms() - t0);
	printf("END lines=%d\n", g_lines);
	return 0;
}
