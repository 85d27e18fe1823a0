/*
 * knet_demo - 2 or 3 knet nodes on loopback exchanging numbered messages.
 *
 * Every node is a knet handle of its own, driven by threads of this one
 * process.  Each node has 2 UDP links to every peer (passive policy, link 0
 * preferred), openssl aes256/sha256 crypto with a shared random key, a
 * datafd channel created by the library (*datafd = 0) and forwarding on.
 * A status table is printed every second; halfway through, link 0 between
 * node 1 and node 2 is disabled on both nodes and later re-enabled, to show
 * traffic failing over to link 1 and back.
 *
 * Exit code 0 only if every node received messages from every peer.
 * Uses only the public libknet API.
 */
#define _GNU_SOURCE
#include "knet_tool_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 3
#define NUM_LINKS 2
#define DEMO_MAGIC 0x4b444d4fu /* "KDMO" */

struct demo_hdr {
	uint32_t magic;
	uint16_t src;
	uint16_t dst;
	uint32_t seq;
	uint32_t len; /* total message length including this header */
};

struct peer_stats {
	atomic_ulong sent_msgs;
	atomic_ulong sent_bytes;
	atomic_ulong send_skipped; /* peer unreachable or datafd full */
	atomic_ulong rcvd_msgs;
	atomic_ulong rcvd_bytes;
	atomic_ulong missed;   /* sent before the first one that arrived: knet drops data
	                        * from a host this node does not see reachable yet */
	atomic_ulong lost;     /* gaps in sequence numbers after that */
	atomic_ulong reordered; /* older than expected (dup or reorder) */
	uint32_t next_seq_rx;  /* only touched by the node's rx thread */
	int got_first;         /* the same: a message from this peer arrived */
	uint32_t next_seq_tx;  /* only touched by the main thread */
	int link_connected[NUM_LINKS]; /* last state seen by the table */
	int link_known[NUM_LINKS];
};

struct node {
	int id;
	knet_handle_t h;
	int datafd;
	int8_t channel;
	int logfd;
	pthread_t rx_thread;
	int rx_started;
	atomic_int bad_msgs;
	struct peer_stats peer[MAX_NODES + 1]; /* indexed by peer node id */
};

static struct node nodes[MAX_NODES + 1]; /* 1-based */
static int num_nodes = 3;
static int run_seconds = 10;
static int base_port;
static int use_crypto = 1;
static int rate_per_peer = 20;
static int do_failover = 1;
static int verbose;
static atomic_int stop_rx;
static volatile sig_atomic_t interrupted;

/* ------------------------------------------------------------ events */

#define EVQ_SIZE 256
static pthread_mutex_t evq_lock = PTHREAD_MUTEX_INITIALIZER;
static char evq[EVQ_SIZE][160];
static unsigned evq_head, evq_tail;
static double t0;

static void event_push(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void event_push(const char *fmt, ...)
{
	va_list ap;
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "[%6.2fs] ", kt_now_s() - t0);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&evq_lock);
	if (evq_head - evq_tail < EVQ_SIZE) {
		memcpy(evq[evq_head % EVQ_SIZE], buf, sizeof(buf));
		evq_head++;
	}
	pthread_mutex_unlock(&evq_lock);
}

static void event_flush(void)
{
	pthread_mutex_lock(&evq_lock);
	while (evq_tail != evq_head) {
		printf("  event %s\n", evq[evq_tail % EVQ_SIZE]);
		evq_tail++;
	}
	pthread_mutex_unlock(&evq_lock);
	fflush(stdout);
}

/* ------------------------------------------------------------ callbacks */

static void host_status_cb(void *priv, knet_node_id_t host_id, uint8_t reachable,
			   uint8_t remote, uint8_t external)
{
	struct node *n = priv;
	event_push("node %d: host %u is now %s (remote=%u external=%u)", n->id, host_id,
		   reachable ? "REACHABLE" : "UNREACHABLE", remote, external);
}

static void sock_notify_cb(void *priv, int datafd, int8_t channel, uint8_t tx_rx,
			   int error, int errorno)
{
	struct node *n = priv;
	event_push("node %d: datafd %d channel %d %s error %d (%s)", n->id, datafd, channel,
		   tx_rx == KNET_NOTIFY_TX ? "tx" : "rx", error, strerror(errorno));
}

static void pmtud_cb(void *priv, unsigned int data_mtu)
{
	struct node *n = priv;
	event_push("node %d: data MTU is now %u", n->id, data_mtu);
}

/* Unicast to the node id written in the message header. */
static int dst_filter(void *priv, const unsigned char *outdata, ssize_t outdata_len,
		      uint8_t tx_rx, knet_node_id_t this_host_id, knet_node_id_t src_host_id,
		      int8_t *channel, knet_node_id_t *dst_host_ids, size_t *dst_host_ids_entries)
{
	(void)priv;
	(void)src_host_id;
	(void)channel;
	if (tx_rx == KNET_NOTIFY_RX) {
		dst_host_ids[0] = this_host_id;
		*dst_host_ids_entries = 1;
		return 0;
	}
	struct demo_hdr hdr;
	if (outdata_len < (ssize_t)sizeof(hdr)) {
		return -1;
	}
	memcpy(&hdr, outdata, sizeof(hdr));
	if (hdr.magic != DEMO_MAGIC) {
		return 1; /* not ours: broadcast */
	}
	dst_host_ids[0] = hdr.dst;
	*dst_host_ids_entries = 1;
	return 0;
}

/* ------------------------------------------------------------ rx thread */

static void *rx_thread_fn(void *arg)
{
	struct node *n = arg;
	static __thread unsigned char buf[KNET_MAX_PACKET_SIZE];
	struct pollfd pfd = { .fd = n->datafd, .events = POLLIN };

	while (!atomic_load(&stop_rx)) {
		int rv = poll(&pfd, 1, 100);
		if (rv <= 0) {
			continue;
		}
		for (int burst = 0; burst < 256; burst++) {
			ssize_t len = recv(n->datafd, buf, sizeof(buf), MSG_DONTWAIT);
			if (len < 0) {
				break;
			}
			struct demo_hdr hdr;
			if (len < (ssize_t)sizeof(hdr)) {
				atomic_fetch_add(&n->bad_msgs, 1);
				continue;
			}
			memcpy(&hdr, buf, sizeof(hdr));
			if (hdr.magic != DEMO_MAGIC || hdr.src < 1 || hdr.src > num_nodes ||
			    hdr.dst != n->id || hdr.len != (uint32_t)len) {
				atomic_fetch_add(&n->bad_msgs, 1);
				continue;
			}
			/* verify the payload pattern */
			int ok = 1;
			for (ssize_t i = sizeof(hdr); i < len; i++) {
				if (buf[i] != (unsigned char)(hdr.seq + (uint32_t)i)) {
					ok = 0;
					break;
				}
			}
			if (!ok) {
				atomic_fetch_add(&n->bad_msgs, 1);
				continue;
			}
			struct peer_stats *ps = &n->peer[hdr.src];
			atomic_fetch_add(&ps->rcvd_msgs, 1);
			atomic_fetch_add(&ps->rcvd_bytes, (unsigned long)len);
			if (!ps->got_first) {
				ps->got_first = 1;
				atomic_fetch_add(&ps->missed, hdr.seq - ps->next_seq_rx);
			} else if (hdr.seq > ps->next_seq_rx) {
				atomic_fetch_add(&ps->lost, hdr.seq - ps->next_seq_rx);
			} else if (hdr.seq < ps->next_seq_rx) {
				atomic_fetch_add(&ps->reordered, 1);
				continue;
			}
			ps->next_seq_rx = hdr.seq + 1;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ setup */

static int link_port(int node_id, int link_id)
{
	return base_port + node_id * 10 + link_id;
}

static int setup_node(struct node *n, int id, struct kt_log_reader *lr,
		      const unsigned char *key, unsigned key_len)
{
	char label[16];
	memset(n, 0, sizeof(*n));
	n->id = id;
	snprintf(label, sizeof(label), "node%d", id);
	n->logfd = kt_log_reader_add(lr, label);
	if (n->logfd < 0) {
		perror("log pipe");
		return -1;
	}
	uint8_t level = verbose ? KNET_LOG_INFO : KNET_LOG_WARN;
	n->h = knet_handle_new((knet_node_id_t)id, n->logfd, level);
	if (!n->h && errno == ENAMETOOLONG) {
		/* not privileged enough to force big socket buffers: go on without */
		n->h = knet_handle_new_ex((knet_node_id_t)id, n->logfd, level, 0);
	}
	if (!n->h) {
		fprintf(stderr, "node %d: knet_handle_new failed: %s\n", id, strerror(errno));
		return -1;
	}
	if (knet_handle_enable_sock_notify(n->h, n, sock_notify_cb) < 0 ||
	    knet_host_enable_status_change_notify(n->h, n, host_status_cb) < 0 ||
	    knet_handle_enable_pmtud_notify(n->h, n, pmtud_cb) < 0 ||
	    knet_handle_enable_filter(n->h, n, dst_filter) < 0) {
		fprintf(stderr, "node %d: enabling callbacks failed: %s\n", id, strerror(errno));
		return -1;
	}
	n->datafd = 0;
	n->channel = -1;
	if (knet_handle_add_datafd(n->h, &n->datafd, &n->channel) < 0) {
		fprintf(stderr, "node %d: knet_handle_add_datafd failed: %s\n", id, strerror(errno));
		return -1;
	}
	fcntl(n->datafd, F_SETFL, fcntl(n->datafd, F_GETFL) | O_NONBLOCK);

	if (use_crypto) {
		if (kt_crypto_enable(n->h, "openssl", key, key_len) < 0) {
			fprintf(stderr, "node %d: crypto openssl/aes256/sha256 failed (%s): "
				"FALLING BACK TO CLEAR TRAFFIC\n", id, strerror(errno));
			return 1; /* caller switches every node to clear */
		}
	}

	for (int peer = 1; peer <= num_nodes; peer++) {
		if (peer == id) {
			continue;
		}
		char name[32];
		snprintf(name, sizeof(name), "node%d", peer);
		if (knet_host_add(n->h, (knet_node_id_t)peer) < 0 ||
		    knet_host_set_name(n->h, (knet_node_id_t)peer, name) < 0 ||
		    knet_host_set_policy(n->h, (knet_node_id_t)peer, KNET_LINK_POLICY_PASSIVE) < 0) {
			fprintf(stderr, "node %d: adding host %d failed: %s\n", id, peer, strerror(errno));
			return -1;
		}
		for (uint8_t l = 0; l < NUM_LINKS; l++) {
			struct sockaddr_storage src, dst;
			kt_addr(&src, "127.0.0.1", link_port(id, l));
			kt_addr(&dst, "127.0.0.1", link_port(peer, l));
			if (knet_link_set_config(n->h, (knet_node_id_t)peer, l, KNET_TRANSPORT_UDP,
						 &src, &dst, 0) < 0) {
				fprintf(stderr, "node %d: link %d to host %d: knet_link_set_config: %s\n",
					id, l, peer, strerror(errno));
				return -1;
			}
			/* fast heartbeat so that the demo shows changes within a second */
			knet_link_set_ping_timers(n->h, (knet_node_id_t)peer, l, 200, 1000, 2048);
			knet_link_set_pong_count(n->h, (knet_node_id_t)peer, l, 3);
			/* passive policy: the highest priority connected link carries data */
			knet_link_set_priority(n->h, (knet_node_id_t)peer, l, (uint8_t)(NUM_LINKS - l));
			if (knet_link_set_enable(n->h, (knet_node_id_t)peer, l, 1) < 0) {
				fprintf(stderr, "node %d: link %d to host %d: knet_link_set_enable: %s\n",
					id, l, peer, strerror(errno));
				return -1;
			}
		}
	}
	knet_handle_pmtud_setfreq(n->h, 5);
	if (knet_handle_setfwd(n->h, 1) < 0) {
		fprintf(stderr, "node %d: knet_handle_setfwd failed: %s\n", id, strerror(errno));
		return -1;
	}
	return 0;
}

static void teardown_node(struct node *n)
{
	if (!n->h) {
		return;
	}
	knet_handle_setfwd(n->h, 0);
	for (int peer = 1; peer <= num_nodes; peer++) {
		if (peer == n->id) {
			continue;
		}
		for (uint8_t l = 0; l < NUM_LINKS; l++) {
			knet_link_set_enable(n->h, (knet_node_id_t)peer, l, 0);
			knet_link_clear_config(n->h, (knet_node_id_t)peer, l);
		}
		knet_host_remove(n->h, (knet_node_id_t)peer);
	}
	if (n->datafd > 0) {
		knet_handle_remove_datafd(n->h, n->datafd);
	}
	if (knet_handle_free(n->h) < 0) {
		fprintf(stderr, "node %d: knet_handle_free failed: %s\n", n->id, strerror(errno));
	}
	n->h = NULL;
}

/* ------------------------------------------------------------ traffic */

static void send_one(struct node *n, int peer)
{
	static unsigned char buf[8192];
	struct peer_stats *ps = &n->peer[peer];
	struct knet_host_status hs;

	if (knet_host_get_status(n->h, (knet_node_id_t)peer, &hs) < 0 || !hs.reachable) {
		atomic_fetch_add(&ps->send_skipped, 1);
		return;
	}
	/* mostly small messages, every 10th one is larger than the MTU of
	 * an ethernet link, so that it may be fragmented */
	uint32_t seq = ps->next_seq_tx;
	size_t len = (seq % 10 == 9) ? 4000 : 64 + (seq * 37) % 1000;
	struct demo_hdr hdr = { DEMO_MAGIC, (uint16_t)n->id, (uint16_t)peer, seq, (uint32_t)len };
	memcpy(buf, &hdr, sizeof(hdr));
	for (size_t i = sizeof(hdr); i < len; i++) {
		buf[i] = (unsigned char)(seq + (uint32_t)i);
	}
	ssize_t rv = send(n->datafd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (rv != (ssize_t)len) {
		atomic_fetch_add(&ps->send_skipped, 1);
		return;
	}
	ps->next_seq_tx++;
	atomic_fetch_add(&ps->sent_msgs, 1);
	atomic_fetch_add(&ps->sent_bytes, len);
}

static void fmt_bytes(char *out, size_t outlen, unsigned long long b)
{
	if (b >= 10ull * 1024 * 1024) {
		snprintf(out, outlen, "%lluM", b / (1024 * 1024));
	} else if (b >= 10ull * 1024) {
		snprintf(out, outlen, "%lluK", b / 1024);
	} else {
		snprintf(out, outlen, "%llu", b);
	}
}

static void print_table(double t)
{
	printf("\n=== t=%5.1fs ", t);
	for (int i = 1; i <= num_nodes; i++) {
		unsigned int mtu = 0;
		knet_handle_pmtud_get(nodes[i].h, &mtu);
		printf(" node%d data-MTU %u ", i, mtu);
	}
	printf("\n%-7s %-5s %6s %6s %5s %5s %7s | %-4s %-3s %-4s %8s %6s %7s %7s %7s %7s\n",
	       "node>pr", "reach", "sent", "recv", "miss", "lost", "rxbytes", "link", "en", "conn",
	       "lat(us)", "mtu", "tx-data", "rx-data", "tx-B", "rx-B");
	for (int i = 1; i <= num_nodes; i++) {
		struct node *n = &nodes[i];
		for (int p = 1; p <= num_nodes; p++) {
			if (p == i) {
				continue;
			}
			struct peer_stats *ps = &n->peer[p];
			struct knet_host_status hs;
			memset(&hs, 0, sizeof(hs));
			int hrv = knet_host_get_status(n->h, (knet_node_id_t)p, &hs);
			char rxb[16];
			fmt_bytes(rxb, sizeof(rxb), atomic_load(&ps->rcvd_bytes));
			/* "recv" is what node i received FROM peer p */
			for (uint8_t l = 0; l < NUM_LINKS; l++) {
				struct knet_link_status ls;
				memset(&ls, 0, sizeof(ls));
				int rv = knet_link_get_status(n->h, (knet_node_id_t)p, l, &ls, sizeof(ls));
				char txB[16], rxB[16];
				fmt_bytes(txB, sizeof(txB), rv == 0 ? ls.stats.tx_data_bytes : 0);
				fmt_bytes(rxB, sizeof(rxB), rv == 0 ? ls.stats.rx_data_bytes : 0);
				if (l == 0) {
					char who[32];
					snprintf(who, sizeof(who), "%d>%d", i, p);
					printf("%-7s %-5s %6lu %6lu %5lu %5lu %7s | ", who,
					       hrv < 0 ? "err" : (hs.reachable ? "yes" : "NO"),
					       atomic_load(&ps->sent_msgs), atomic_load(&ps->rcvd_msgs),
					       atomic_load(&ps->missed), atomic_load(&ps->lost), rxb);
				} else {
					printf("%-7s %-5s %6s %6s %5s %5s %7s | ", "", "", "", "", "", "", "");
				}
				if (rv < 0) {
					printf("%-4d error: %s\n", l, strerror(errno));
					continue;
				}
				printf("%-4d %-3s %-4s %8llu %6u %7llu %7llu %7s %7s\n", l,
				       ls.enabled ? "on" : "OFF", ls.connected ? "up" : "DOWN",
				       ls.latency, ls.mtu,
				       (unsigned long long)ls.stats.tx_data_packets,
				       (unsigned long long)ls.stats.rx_data_packets, txB, rxB);
				/* link state transitions become events */
				if (!ps->link_known[l] || ps->link_connected[l] != (int)ls.connected) {
					if (ps->link_known[l]) {
						event_push("node %d: link %d to host %d is %s", i, l, p,
							   ls.connected ? "UP" : "DOWN");
					}
					ps->link_known[l] = 1;
					ps->link_connected[l] = ls.connected;
				}
			}
		}
	}
	event_flush();
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(const char *prog)
{
	printf("usage: %s [options]\n"
	       "  --nodes N        2 or 3 nodes (default 3)\n"
	       "  --seconds N      run time (default 10)\n"
	       "  --port P         base UDP port; node n link l uses P+10n+l (default from pid)\n"
	       "  --rate R         messages per second to each peer (default 20)\n"
	       "  --no-crypto      send clear traffic\n"
	       "  --no-failover    do not disable a link halfway\n"
	       "  --verbose        print INFO log messages too (default WARN and ERR)\n",
	       prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "no-crypto", no_argument, NULL, 'C' },
		{ "no-failover", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "n:s:p:r:CFvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': num_nodes = atoi(optarg); break;
		case 's': run_seconds = atoi(optarg); break;
		case 'p': base_port = atoi(optarg); break;
		case 'r': rate_per_peer = atoi(optarg); break;
		case 'C': use_crypto = 0; break;
		case 'F': do_failover = 0; break;
		case 'v': verbose = 1; break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	if (num_nodes < 2 || num_nodes > MAX_NODES || run_seconds < 1 || run_seconds > 3600 ||
	    rate_per_peer < 1 || rate_per_peer > 1000) {
		usage(argv[0]);
		return 2;
	}
	if (base_port == 0) {
		base_port = 20000 + (int)(getpid() % 2000) * 20;
	}
	if (base_port < 1024 || base_port > 65000) {
		fprintf(stderr, "bad --port\n");
		return 2;
	}
	/* watchdog: a hung library call must not hang the demo forever */
	alarm((unsigned)run_seconds + 60);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = kt_now_s();

	printf("knet_demo: libknet loaded from %s\n", kt_loaded_library());
	printf("knet_demo: %d nodes, %d links per peer on 127.0.0.1 ports %d.., %d s, crypto %s\n",
	       num_nodes, NUM_LINKS, link_port(1, 0), run_seconds,
	       use_crypto ? "openssl/aes256/sha256" : "off");

	struct kt_log_reader *lr = kt_log_reader_new(verbose ? KNET_LOG_INFO : KNET_LOG_WARN);
	if (!lr) {
		perror("log reader");
		return 1;
	}
	unsigned char key[256];
	if (kt_random_bytes(key, sizeof(key)) < 0) {
		perror("random key");
		return 1;
	}

	int rc = 0;
	int setup_ok = 1;
	for (int i = 1; i <= num_nodes && setup_ok; i++) {
		int rv = setup_node(&nodes[i], i, lr, key, sizeof(key));
		if (rv == 1) {
			/* crypto not available: restart every node in clear */
			for (int j = 1; j <= i; j++) {
				teardown_node(&nodes[j]);
			}
			use_crypto = 0;
			printf("knet_demo: crypto unavailable, running in CLEAR\n");
			i = 0;
			continue;
		}
		if (rv < 0) {
			setup_ok = 0;
		}
	}
	if (kt_log_reader_start(lr) < 0) {
		perror("log thread");
		setup_ok = 0;
	}
	for (int i = 1; i <= num_nodes && setup_ok; i++) {
		if (pthread_create(&nodes[i].rx_thread, NULL, rx_thread_fn, &nodes[i]) != 0) {
			setup_ok = 0;
			break;
		}
		nodes[i].rx_started = 1;
	}

	if (setup_ok) {
		const double tick = 1.0 / rate_per_peer;
		double start = kt_now_s();
		double next_send = start, next_table = start + 1.0;
		double t_fail = start + run_seconds / 2.0;
		double t_restore = start + run_seconds * 0.75;
		int failed = 0, restored = 0;
		double end = start + run_seconds;

		while (!interrupted) {
			double now = kt_now_s();
			if (now >= end) {
				break;
			}
			if (now >= next_send) {
				for (int i = 1; i <= num_nodes; i++) {
					for (int p = 1; p <= num_nodes; p++) {
						if (p != i) {
							send_one(&nodes[i], p);
						}
					}
				}
				next_send += tick;
				if (next_send < now) {
					next_send = now + tick;
				}
			}
			if (do_failover && !failed && now >= t_fail) {
				failed = 1;
				event_push("ACTION: nodes 1 and 2 disable link 0 between them; traffic must fail over to link 1");
				if (knet_link_set_enable(nodes[1].h, 2, 0, 0) < 0 ||
				    knet_link_set_enable(nodes[2].h, 1, 0, 0) < 0) {
					event_push("knet_link_set_enable(0) failed: %s", strerror(errno));
				}
			}
			if (do_failover && failed && !restored && now >= t_restore) {
				restored = 1;
				event_push("ACTION: nodes 1 and 2 re-enable link 0 between them");
				if (knet_link_set_enable(nodes[1].h, 2, 0, 1) < 0 ||
				    knet_link_set_enable(nodes[2].h, 1, 0, 1) < 0) {
					event_push("knet_link_set_enable(1) failed: %s", strerror(errno));
				}
			}
			if (now >= next_table) {
				print_table(now - start);
				next_table += 1.0;
			}
			double wake = next_send < next_table ? next_send : next_table;
			double d = wake - kt_now_s();
			if (d > 0) {
				struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
		/* let in-flight messages arrive */
		usleep(500 * 1000);
		print_table(kt_now_s() - start);
	}

	atomic_store(&stop_rx, 1);
	for (int i = 1; i <= num_nodes; i++) {
		if (nodes[i].rx_started) {
			pthread_join(nodes[i].rx_thread, NULL);
		}
	}

	/* verdict */
	printf("\nknet_demo summary (libknet %s, crypto %s):\n", kt_loaded_library(),
	       use_crypto ? "on" : "off");
	printf("  (missed at start: sent before the receiver saw the sender reachable, which knet\n"
	       "   drops; lost: gaps after the first message arrived)\n");
	for (int i = 1; i <= num_nodes; i++) {
		for (int p = 1; p <= num_nodes; p++) {
			if (p == i) {
				continue;
			}
			struct peer_stats *ps = &nodes[i].peer[p];
			unsigned long r = atomic_load(&ps->rcvd_msgs);
			printf("  node %d received %6lu msgs from node %d (sent to it: %lu, missed at start %lu, "
			       "lost %lu, reordered %lu)\n", i, r, p, atomic_load(&nodes[p].peer[i].sent_msgs),
			       atomic_load(&ps->missed), atomic_load(&ps->lost), atomic_load(&ps->reordered));
			if (r == 0) {
				rc = 1;
			}
		}
		if (atomic_load(&nodes[i].bad_msgs)) {
			printf("  node %d: %d malformed/corrupted messages!\n", i,
			       atomic_load(&nodes[i].bad_msgs));
			rc = 1;
		}
	}
	if (!setup_ok) {
		rc = 1;
	}

	printf("knet_demo: shutting down (setfwd 0, links disabled and cleared, hosts removed, handles freed)\n");
	for (int i = 1; i <= num_nodes; i++) {
		teardown_node(&nodes[i]);
	}
	kt_log_reader_stop(lr);
	printf("  log records: %lu ERR, %lu WARN, %lu INFO\n",
	       kt_log_reader_count(lr, KNET_LOG_ERR), kt_log_reader_count(lr, KNET_LOG_WARN),
	       kt_log_reader_count(lr, KNET_LOG_INFO));
	kt_log_reader_free(lr);
	printf("knet_demo: %s\n", rc == 0 ? "OK: every node received messages from every peer"
					  : "FAILED");
	return rc;
}
