/* Differential API conformance catalog.
 *
 * Built against the REFERENCE header (/usr/include/libknet.h from Debian's
 * libknet-dev) and linked to Debian's libknet.so.1; run once on that library
 * and once, through LD_LIBRARY_PATH, on ours.  Every public function is called
 * with valid and invalid input, one output line per call:
 *
 *     <label> rc=<return value> errno=<errno on failure, else -> [values]
 *
 * Only deterministic values are printed (no pointers, fds, times or ports
 * chosen by the kernel), so the two outputs can be compared line by line
 * (compare_api_diff.cmake).  The library actually mapped is reported on
 * stderr as "libknet: <path>".
 *
 * Only 127.0.0.1 / ::1 and fixed UDP ports 61100-61199 are used (above the
 * kernel's ephemeral range and the other tests' random ports); a watchdog
 * ends the run after 30 s. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknet.h>

/* Under TSan the reference needs bigger thread stacks (see the header). */
#include "../interop/tsan_ref_stack.h"

#define DIFF_PROG "api_diff"
#include "api_diff_common.h"

/* ------------------------------------------------------------ reporting */

static int g_calls;

/* One line for the call just made (g_rc, g_err): "<label> rc=.. errno=..[ values]";
 * `failed` says whether the return value means failure. */
static void vemit(const char *label, const char *rc, int failed, const char *fmt, va_list ap)
{
	char body[2048];
	int n;

	n = snprintf(body, sizeof(body), "rc=%s errno=%s", rc, failed ? errname(g_err) : "-");
	if (fmt && fmt[0] && n < (int)sizeof(body) - 1) {
		body[n++] = ' ';
		vsnprintf(body + n, sizeof(body) - n, fmt, ap);
	}
	emit_line(label, body);
	g_calls++;
}

/* int / ssize_t returning calls: failure is rc < 0. */
static void rep(const char *label, const char *fmt, ...)
{
	char rc[32];
	va_list ap;

	snprintf(rc, sizeof(rc), "%lld", g_rc);
	va_start(ap, fmt);
	vemit(label, rc, g_rc < 0, fmt, ap);
	va_end(ap);
}

/* calls whose result is not an int status: the caller renders rc. */
static void repx(const char *label, const char *rc, int failed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(label, rc, failed, fmt, ap);
	va_end(ap);
}

/* T(label, call[, "fmt", values...]): the values are read after the call. */
#define T(label, call, ...)                        \
	do {                                       \
		CALL(call);                        \
		rep(label, "" __VA_ARGS__);        \
	} while (0)

/* ------------------------------------------------------------ helpers */

static struct sockaddr_storage mk4(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return ss;
}

static struct sockaddr_storage mk6(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	return ss;
}

/* "inet:127.0.0.1:61101", "inet6:[::1]:61101", "family=N" */
static const char *ssfmt(const struct sockaddr_storage *ss)
{
	static char bufs[4][96];
	static int next;
	char *b = bufs[next++ & 3];
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		snprintf(b, 96, "inet:%s:%u", ip, ntohs(s->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		snprintf(b, 96, "inet6:[%s]:%u", ip, ntohs(s->sin6_port));
	} else {
		snprintf(b, 96, "family=%d", ss->ss_family);
	}
	return b;
}

static const char *strq(const char *s)
{
	return s ? s : "(null)";
}

/* Callbacks: they record nothing that is printed (their timing is not
 * deterministic); the filter's decision comes from its private data. */
struct filter_cfg {
	int mode;               /* 0 unicast to dst[0..n), 1 broadcast, -1 error */
	knet_node_id_t dst[2];
	size_t n;
};

static int filter_fn(void *priv, const unsigned char *out, ssize_t len, uint8_t tx_rx,
		     knet_node_id_t this_id, knet_node_id_t src_id, int8_t *channel,
		     knet_node_id_t *dst_ids, size_t *dst_n)
{
	struct filter_cfg *c = priv;
	size_t i;

	(void)out; (void)len; (void)this_id; (void)src_id; (void)channel;
	if (!c || tx_rx == KNET_NOTIFY_RX)
		return 1;
	if (c->mode != 0)
		return c->mode;
	for (i = 0; i < c->n; i++)
		dst_ids[i] = c->dst[i];
	*dst_n = c->n;
	return 0;
}

static void sock_cb(void *p, int fd, int8_t ch, uint8_t txrx, int err, int eno)
{
	(void)p; (void)fd; (void)ch; (void)txrx; (void)err; (void)eno;
}

static void pmtud_cb(void *p, unsigned int mtu)
{
	(void)p; (void)mtu;
}

static void host_cb(void *p, knet_node_id_t id, uint8_t reachable, uint8_t remote, uint8_t external)
{
	(void)p; (void)id; (void)reachable; (void)remote; (void)external;
}

static void drain_log(void)
{
	char buf[4096];

	while (read(logfds[0], buf, sizeof(buf)) > 0)
		;
}

static void set_crypto(struct knet_handle_crypto_cfg *c, const char *model, const char *cipher,
		       const char *hash, unsigned int keylen)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	snprintf(c->crypto_model, sizeof(c->crypto_model), "%s", model);
	snprintf(c->crypto_cipher_type, sizeof(c->crypto_cipher_type), "%s", cipher);
	snprintf(c->crypto_hash_type, sizeof(c->crypto_hash_type), "%s", hash);
	for (i = 0; i < KNET_MAX_KEY_LEN; i++)
		c->private_key[i] = (unsigned char)(i * 7 + 3);
	c->private_key_len = keylen;
}

static void set_compress(struct knet_handle_compress_cfg *c, const char *model, uint32_t threshold,
			 int level)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->compress_model, sizeof(c->compress_model), "%s", model);
	c->compress_threshold = threshold;
	c->compress_level = level;
}

/* Large outputs live here (host list wants KNET_MAX_HOST entries). */
static knet_node_id_t host_ids[KNET_MAX_HOST];
static struct knet_transport_info tlist[KNET_MAX_TRANSPORTS];
static struct knet_crypto_info clist[256];
static struct knet_compress_info zlist[256];

static void print_host_list(const char *label, knet_handle_t h)
{
	char vals[512];
	size_t n = 12345, i;
	int off = 0;

	vals[0] = 0;
	CALL(knet_host_get_host_list(h, host_ids, &n));
	if (g_rc == 0)
		for (i = 0; i < n && i < 32; i++)
			off += snprintf(vals + off, sizeof(vals) - off, "%s%u", i ? "," : "", host_ids[i]);
	rep(label, "n=%zu ids=[%s]", g_rc == 0 ? n : 0, vals);
}

static void print_link_list(const char *label, knet_handle_t h, knet_node_id_t host)
{
	uint8_t links[KNET_MAX_LINK];
	size_t n = 99, i;
	char vals[64];
	int off = 0;

	memset(links, 0xee, sizeof(links));
	vals[0] = 0;
	CALL(knet_link_get_link_list(h, host, links, &n));
	if (g_rc == 0)
		for (i = 0; i < n && i < KNET_MAX_LINK; i++)
			off += snprintf(vals + off, sizeof(vals) - off, "%s%u", i ? "," : "", links[i]);
	rep(label, "n=%zu links=[%s]", g_rc == 0 ? n : 0, vals);
}

static void print_link_config(const char *label, knet_handle_t h, knet_node_id_t host, uint8_t link)
{
	struct sockaddr_storage src, dst;
	uint8_t transport = 0xee, dynamic = 0xee;
	uint64_t flags = 0xeeee;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	CALL(knet_link_get_config(h, host, link, &transport, &src, &dst, &dynamic, &flags));
	if (g_rc == 0)
		rep(label, "transport=%u src=%s dst=%s dynamic=%u flags=0x%llx", transport, ssfmt(&src),
		    ssfmt(&dst), dynamic, (unsigned long long)flags);
	else
		rep(label, "");
}

/* Link status: only the fields that do not depend on timing, unless
 * `quiet_link` (never enabled) where every counter must be zero. */
static void print_link_status(const char *label, knet_handle_t h, knet_node_id_t host, uint8_t link,
			      int quiet_link)
{
	struct knet_link_status st;

	memset(&st, 0, sizeof(st));
	CALL(knet_link_get_status(h, host, link, &st, sizeof(st)));
	if (g_rc != 0) {
		rep(label, "");
		return;
	}
	if (quiet_link) {
		/* latency_min is reported apart (print_latency_min) */
		struct knet_link_stats s = st.stats;
		const unsigned char *p = (const unsigned char *)&s;
		size_t i, nonzero = 0;

		s.latency_min = 0;
		for (i = 0; i < sizeof(s); i++)
			nonzero += p[i] != 0;
		rep(label,
		    "size=%zu src=%s:%s dst=%s:%s enabled=%u connected=%u dynconnected=%u mtu=%u "
		    "overhead=%u latency=%llu stats_nonzero_bytes=%zu",
		    st.size, st.src_ipaddr, st.src_port, st.dst_ipaddr, st.dst_port, st.enabled,
		    st.connected, st.dynconnected, st.mtu, st.proto_overhead, st.latency, nonzero);
	} else {
		rep(label, "size=%zu src=%s:%s dst=%s:%s enabled=%u dynconnected=%u", st.size,
		    st.src_ipaddr, st.src_port, st.dst_ipaddr, st.dst_port, st.enabled, st.dynconnected);
	}
}

/* stats.latency_min of a link that has had no pong yet */
static void print_latency_min(const char *label, knet_handle_t h, knet_node_id_t host, uint8_t link)
{
	struct knet_link_status st;

	memset(&st, 0, sizeof(st));
	CALL(knet_link_get_status(h, host, link, &st, sizeof(st)));
	rep(label, "latency_min=%u", g_rc == 0 ? st.stats.latency_min : 0);
}

/* How a getter with a struct_size argument treats its buffer: which bytes
 * it changed before struct_size, between the full struct size and
 * struct_size (copied from past the library's own struct), and after
 * struct_size (written beyond what the caller allowed). */
static void probe_struct_size(const char *label, knet_handle_t h, knet_node_id_t host, uint8_t link,
			      size_t struct_size, int is_link)
{
	unsigned char buf[sizeof(struct knet_link_status) + sizeof(struct knet_handle_stats) + 256];
	size_t full = is_link ? sizeof(struct knet_link_status) : sizeof(struct knet_handle_stats);
	size_t i, within = 0, past_full = 0, past = 0;
	size_t size_field;

	memset(buf, 0xa5, sizeof(buf));
	if (is_link)
		CALL(knet_link_get_status(h, host, link, (struct knet_link_status *)buf, struct_size));
	else
		CALL(knet_handle_get_stats(h, (struct knet_handle_stats *)buf, struct_size));
	for (i = 0; i < sizeof(buf); i++) {
		if (buf[i] == 0xa5)
			continue;
		if (i >= struct_size)
			past++;
		else if (i >= full)
			past_full++;
		else
			within++;
	}
	memcpy(&size_field, buf, sizeof(size_field));
	rep(label, "size_field=%s changed_within=%s changed_past_full_size=%s changed_past_struct_size=%zu",
	    size_field == (size_t)0xa5a5a5a5a5a5a5a5ULL ? "untouched" :
	    (size_field == full ? "full_size" : "other"),
	    within ? "yes" : "no", past_full ? "yes" : "no", past);
}

static void print_stats(const char *label, knet_handle_t h)
{
	struct knet_handle_stats s;

	memset(&s, 0, sizeof(s));
	CALL(knet_handle_get_stats(h, &s, sizeof(s)));
	rep(label,
	    "size=%zu tx_unc=%llu tx_cmp=%llu tx_cmp_orig=%llu tx_cmp_size=%llu tx_cmp_ave=%llu "
	    "tx_cmp_min=%llu tx_cmp_max=%llu rx_cmp=%llu rx_cmp_orig=%llu rx_cmp_size=%llu "
	    "rx_cmp_ave=%llu rx_cmp_min=%llu rx_cmp_max=%llu tx_crypt=%llu tx_crypt_ovh=%llu "
	    "tx_crypt_ave=%llu tx_crypt_min=%llu tx_crypt_max=%llu rx_crypt=%llu rx_crypt_ave=%llu "
	    "rx_crypt_min=%llu rx_crypt_max=%llu",
	    s.size, (unsigned long long)s.tx_uncompressed_packets,
	    (unsigned long long)s.tx_compressed_packets,
	    (unsigned long long)s.tx_compressed_original_bytes,
	    (unsigned long long)s.tx_compressed_size_bytes, (unsigned long long)s.tx_compress_time_ave,
	    (unsigned long long)s.tx_compress_time_min, (unsigned long long)s.tx_compress_time_max,
	    (unsigned long long)s.rx_compressed_packets,
	    (unsigned long long)s.rx_compressed_original_bytes,
	    (unsigned long long)s.rx_compressed_size_bytes, (unsigned long long)s.rx_compress_time_ave,
	    (unsigned long long)s.rx_compress_time_min, (unsigned long long)s.rx_compress_time_max,
	    (unsigned long long)s.tx_crypt_packets, (unsigned long long)s.tx_crypt_byte_overhead,
	    (unsigned long long)s.tx_crypt_time_ave, (unsigned long long)s.tx_crypt_time_min,
	    (unsigned long long)s.tx_crypt_time_max, (unsigned long long)s.rx_crypt_packets,
	    (unsigned long long)s.rx_crypt_time_ave, (unsigned long long)s.rx_crypt_time_min,
	    (unsigned long long)s.rx_crypt_time_max);
}

/* ------------------------------------------------------------ sections */

static void section_addr(void)
{
	struct sockaddr_storage ss, v4 = mk4("127.0.0.1", 61100), v6 = mk6("::1", 61101), un;
	char host[KNET_MAX_HOST_LEN], port[KNET_MAX_PORT_LEN];
	static const struct { const char *label, *host, *port; } conv[] = {
		{ "strtoaddr.v4", "127.0.0.1", "61100" },
		{ "strtoaddr.v6", "::1", "61101" },
		{ "strtoaddr.v6_mapped", "::ffff:127.0.0.1", "61102" },
		{ "strtoaddr.port0", "127.0.0.1", "0" },
		{ "strtoaddr.port65535", "127.0.0.1", "65535" },
		{ "strtoaddr.port65536", "127.0.0.1", "65536" },
		{ "strtoaddr.port_negative", "127.0.0.1", "-1" },
		{ "strtoaddr.port_name", "127.0.0.1", "http" },
		{ "strtoaddr.port_empty", "127.0.0.1", "" },
		{ "strtoaddr.host_name", "localhost", "61100" },
		{ "strtoaddr.host_empty", "", "61100" },
		{ "strtoaddr.host_bad_v4", "127.0.0.256", "61100" },
		{ "strtoaddr.host_bad_v6", "::1::2", "61100" },
		{ "strtoaddr.host_short_v4", "127.1", "61100" },
	};
	size_t i;

	for (i = 0; i < sizeof(conv) / sizeof(conv[0]); i++) {
		memset(&ss, 0, sizeof(ss));
		T(conv[i].label, knet_strtoaddr(conv[i].host, conv[i].port, &ss, sizeof(ss)), "ss=%s",
		  ssfmt(&ss));
	}
	T("strtoaddr.null_host", knet_strtoaddr(NULL, "61100", &ss, sizeof(ss)));
	T("strtoaddr.null_port", knet_strtoaddr("127.0.0.1", NULL, &ss, sizeof(ss)));
	T("strtoaddr.null_ss", knet_strtoaddr("127.0.0.1", "61100", NULL, sizeof(ss)));
	T("strtoaddr.sslen0", knet_strtoaddr("127.0.0.1", "61100", &ss, 0));
	memset(&ss, 0, sizeof(ss));
	T("strtoaddr.sslen4", knet_strtoaddr("127.0.0.1", "61100", &ss, 4), "ss=%s", ssfmt(&ss));

	memset(host, 'x', sizeof(host));
	memset(port, 'x', sizeof(port));
	T("addrtostr.v4", knet_addrtostr(&v4, sizeof(v4), host, sizeof(host), port, sizeof(port)),
	  "host=%s port=%s", host, port);
	T("addrtostr.v6", knet_addrtostr(&v6, sizeof(v6), host, sizeof(host), port, sizeof(port)),
	  "host=%s port=%s", host, port);
	T("addrtostr.v4_sslen_in", knet_addrtostr(&v4, sizeof(struct sockaddr_in), host, sizeof(host),
						  port, sizeof(port)), "host=%s", host);
	T("addrtostr.v6_sslen_small", knet_addrtostr(&v6, 4, host, sizeof(host), port, sizeof(port)));
	T("addrtostr.null_ss", knet_addrtostr(NULL, sizeof(v4), host, sizeof(host), port, sizeof(port)));
	T("addrtostr.sslen0", knet_addrtostr(&v4, 0, host, sizeof(host), port, sizeof(port)));
	T("addrtostr.null_host", knet_addrtostr(&v4, sizeof(v4), NULL, sizeof(host), port, sizeof(port)));
	T("addrtostr.null_port", knet_addrtostr(&v4, sizeof(v4), host, sizeof(host), NULL, sizeof(port)));
	T("addrtostr.host_buf_small", knet_addrtostr(&v4, sizeof(v4), host, 4, port, sizeof(port)));
	T("addrtostr.port_buf_small", knet_addrtostr(&v4, sizeof(v4), host, sizeof(host), port, 3));
	memset(&un, 0, sizeof(un));
	T("addrtostr.family_unspec", knet_addrtostr(&un, sizeof(un), host, sizeof(host), port, sizeof(port)));
	un.ss_family = AF_UNIX;
	T("addrtostr.family_unix", knet_addrtostr(&un, sizeof(un), host, sizeof(host), port, sizeof(port)));
}

static void section_lists(void)
{
	size_t n, i;
	char names[1024];
	int off;
	char label[64], rc[32];
	unsigned int t;

	n = 999;
	T("transport_list.null_list", knet_get_transport_list(NULL, &n), "n=%zu", n);
	memset(tlist, 0, sizeof(tlist));
	n = 999;
	CALL(knet_get_transport_list(tlist, &n));
	names[0] = 0;
	off = 0;
	for (i = 0; g_rc == 0 && i < n && i < 8; i++)
		off += snprintf(names + off, sizeof(names) - off, "%s%s=%u", i ? "," : "",
				strq(tlist[i].name), tlist[i].id);
	rep("transport_list", "n=%zu [%s]", n, names);
	T("transport_list.null_entries", knet_get_transport_list(tlist, NULL));

	/* every id: name or failure */
	for (t = 0; t <= 255; t++) {
		const char *name;
		errno = 0;
		name = knet_get_transport_name_by_id((uint8_t)t);
		g_err = errno;
		if (t <= 4 || t == 254 || t == 255 || name) {
			snprintf(label, sizeof(label), "transport_name_by_id.%u", t);
			repx(label, name ? name : "NULL", name == NULL, "");
		}
	}
	{
		static const char *tn[] = { "LOOPBACK", "UDP", "SCTP", "udp", "Udp", "", "TCP", "RDMA" };
		for (i = 0; i < sizeof(tn) / sizeof(tn[0]); i++) {
			uint8_t id;
			errno = 0;
			id = knet_get_transport_id_by_name(tn[i]);
			g_err = errno;
			snprintf(label, sizeof(label), "transport_id_by_name.%s", tn[i][0] ? tn[i] : "empty");
			snprintf(rc, sizeof(rc), "%u", id);
			repx(label, rc, id == KNET_MAX_TRANSPORTS, "");
		}
		errno = 0;
		{
			uint8_t id = knet_get_transport_id_by_name(NULL);
			g_err = errno;
			snprintf(rc, sizeof(rc), "%u", id);
			repx("transport_id_by_name.null", rc, id == KNET_MAX_TRANSPORTS, "");
		}
	}

	n = 999;
	T("crypto_list.null_list", knet_get_crypto_list(NULL, &n), "n=%zu", n);
	memset(clist, 0, sizeof(clist));
	n = 999;
	CALL(knet_get_crypto_list(clist, &n));
	names[0] = 0;
	off = 0;
	for (i = 0; g_rc == 0 && i < n && i < 16; i++)
		off += snprintf(names + off, sizeof(names) - off, "%s%s", i ? "," : "", strq(clist[i].name));
	rep("crypto_list", "n=%zu [%s]", n, names);
	T("crypto_list.null_entries", knet_get_crypto_list(clist, NULL));

	n = 999;
	T("compress_list.null_list", knet_get_compress_list(NULL, &n), "n=%zu", n);
	memset(zlist, 0, sizeof(zlist));
	n = 999;
	CALL(knet_get_compress_list(zlist, &n));
	names[0] = 0;
	off = 0;
	for (i = 0; g_rc == 0 && i < n && i < 32; i++)
		off += snprintf(names + off, sizeof(names) - off, "%s%s", i ? "," : "", strq(zlist[i].name));
	rep("compress_list", "n=%zu [%s]", n, names);
	T("compress_list.null_entries", knet_get_compress_list(zlist, NULL));
}

static void section_log_names(void)
{
	unsigned int i;
	char label[64], rc[32], unknown[1024];
	int off = 0, nunknown = 0;
	static const char *subs[] = { "common", "handle", "host", "listener", "link", "transport",
				      "crypto", "compress", "filter", "dstcache", "heartbeat", "pmtud",
				      "tx", "rx", "loopback", "udp", "sctp", "nsscrypto",
				      "opensslcrypto", "zlibcomp", "lz4comp", "lz4hccomp", "lzo2comp",
				      "lzmacomp", "bzip2comp", "zstdcomp", "unknown", "LINK", "Udp",
				      "bogus", "", "common ", "transp_udp" };
	static const char *levels[] = { "ERROR", "WARNING", "info", "debug", "error", "Warning",
					"INFO", "DEBUG", "trace", "TRACE", "err", "warn", "bogus", "" };

	/* every subsystem id: the named ones one per line, the rest summed up */
	unknown[0] = 0;
	for (i = 0; i <= 255; i++) {
		const char *name;
		errno = 0;
		name = knet_log_get_subsystem_name((uint8_t)i);
		g_err = errno;
		if (name && strcmp(name, "unknown") == 0 && i != KNET_SUB_UNKNOWN) {
			nunknown++;
			if (i < 64 || i > 250)
				off += snprintf(unknown + off, sizeof(unknown) - off, "%s%u",
						off ? "," : "", i);
			continue;
		}
		snprintf(label, sizeof(label), "log_subsystem_name.%u", i);
		repx(label, name ? name : "NULL", name == NULL, "");
	}
	repx("log_subsystem_name.unknown_ids", "-", 0, "count=%d low_high=[%s]", nunknown, unknown);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		uint8_t id;
		errno = 0;
		id = knet_log_get_subsystem_id(subs[i]);
		g_err = errno;
		snprintf(label, sizeof(label), "log_subsystem_id.%s", subs[i][0] ? subs[i] : "empty");
		snprintf(rc, sizeof(rc), "%u", id);
		repx(label, rc, 0, "");
	}
	for (i = 0; i <= 255; i++) {
		const char *name;
		if (i > 8 && i != 127 && i != 128 && i != 255)
			continue;
		errno = 0;
		name = knet_log_get_loglevel_name((uint8_t)i);
		g_err = errno;
		snprintf(label, sizeof(label), "log_loglevel_name.%u", i);
		repx(label, name ? name : "NULL", name == NULL, "");
	}
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		uint8_t id;
		errno = 0;
		id = knet_log_get_loglevel_id(levels[i]);
		g_err = errno;
		snprintf(label, sizeof(label), "log_loglevel_id.%s", levels[i][0] ? levels[i] : "empty");
		snprintf(rc, sizeof(rc), "%u", id);
		repx(label, rc, 0, "");
	}
}

/* Every handle-taking function with a handle that is not a live one
 * (NULL, a pointer to something else, a freed handle); all else valid. */
static void sweep_bad_handle(const char *prefix, knet_handle_t hh, int deref_safe)
{
	char label[96];
	char buf[64] = "payload";
	struct sockaddr_storage src = mk4("127.0.0.1", 61190), dst = mk4("127.0.0.1", 61191);
	struct knet_handle_crypto_cfg ccfg;
	struct knet_handle_compress_cfg zcfg;
	struct knet_handle_stats stats;
	struct knet_host_status hs;
	struct knet_link_status ls;
	char name[KNET_MAX_HOST_LEN];
	int fd = 0;
	int8_t ch = -1;
	unsigned int u = 0;
	uint32_t u32 = 0;
	uint8_t u8 = 0, transport = 0, dyn = 0;
	uint64_t flags = 0;
	knet_node_id_t id = 0;
	size_t n = 0;
	time_t ti = 0, to = 0;
	uint8_t links[KNET_MAX_LINK];

	set_crypto(&ccfg, "openssl", "aes128", "sha1", 1024);
	set_compress(&zcfg, "none", 0, 0);

#define B(name, call)                                                   \
	do {                                                            \
		snprintf(label, sizeof(label), "%s.%s", prefix, name);  \
		T(label, call);                                         \
	} while (0)

	B("handle_enable_sock_notify", knet_handle_enable_sock_notify(hh, NULL, sock_cb));
	B("handle_add_datafd", knet_handle_add_datafd(hh, &fd, &ch));
	B("handle_remove_datafd", knet_handle_remove_datafd(hh, 5));
	B("handle_get_channel", knet_handle_get_channel(hh, 5, &ch));
	B("handle_get_datafd", knet_handle_get_datafd(hh, 0, &fd));
	B("recv", knet_recv(hh, buf, sizeof(buf), 0));
	B("send", knet_send(hh, buf, 8, 0));
	B("send_sync", knet_send_sync(hh, buf, 8, 0));
	B("handle_enable_filter", knet_handle_enable_filter(hh, NULL, filter_fn));
	B("handle_setfwd", knet_handle_setfwd(hh, 1));
	B("handle_enable_access_lists", knet_handle_enable_access_lists(hh, 1));
	B("handle_pmtud_setfreq", knet_handle_pmtud_setfreq(hh, 10));
	B("handle_pmtud_getfreq", knet_handle_pmtud_getfreq(hh, &u));
	B("handle_enable_pmtud_notify", knet_handle_enable_pmtud_notify(hh, NULL, pmtud_cb));
	B("handle_pmtud_set", knet_handle_pmtud_set(hh, 1500));
	B("handle_pmtud_get", knet_handle_pmtud_get(hh, &u));
	B("handle_crypto_set_config", knet_handle_crypto_set_config(hh, &ccfg, 1));
	B("handle_crypto_rx_clear_traffic", knet_handle_crypto_rx_clear_traffic(hh, 0));
	B("handle_crypto_use_config", knet_handle_crypto_use_config(hh, 0));
	/* 1.25's knet_handle_crypto reads the handle before validating it,
	 * so a freed handle is not passed to it */
	if (deref_safe)
		B("handle_crypto", knet_handle_crypto(hh, &ccfg));
	B("handle_compress", knet_handle_compress(hh, &zcfg));
	B("handle_get_stats", knet_handle_get_stats(hh, &stats, sizeof(stats)));
	B("handle_clear_stats", knet_handle_clear_stats(hh, KNET_CLEARSTATS_HANDLE_ONLY));
	B("host_add", knet_host_add(hh, 2));
	B("host_remove", knet_host_remove(hh, 2));
	B("host_set_name", knet_host_set_name(hh, 2, "x"));
	B("host_get_name_by_host_id", knet_host_get_name_by_host_id(hh, 2, name));
	B("host_get_id_by_host_name", knet_host_get_id_by_host_name(hh, "x", &id));
	B("host_get_host_list", knet_host_get_host_list(hh, host_ids, &n));
	B("host_set_policy", knet_host_set_policy(hh, 2, KNET_LINK_POLICY_PASSIVE));
	B("host_get_policy", knet_host_get_policy(hh, 2, &u8));
	B("host_enable_status_change_notify", knet_host_enable_status_change_notify(hh, NULL, host_cb));
	B("host_get_status", knet_host_get_status(hh, 2, &hs));
	B("handle_set_transport_reconnect_interval", knet_handle_set_transport_reconnect_interval(hh, 1000));
	B("handle_get_transport_reconnect_interval", knet_handle_get_transport_reconnect_interval(hh, &u32));
	B("link_set_config", knet_link_set_config(hh, 2, 0, KNET_TRANSPORT_UDP, &src, &dst, 0));
	B("link_get_config", knet_link_get_config(hh, 2, 0, &transport, &src, &dst, &dyn, &flags));
	B("link_clear_config", knet_link_clear_config(hh, 2, 0));
	B("link_add_acl", knet_link_add_acl(hh, 2, 0, &src, &src, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	B("link_insert_acl", knet_link_insert_acl(hh, 2, 0, 0, &src, &src, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	B("link_rm_acl", knet_link_rm_acl(hh, 2, 0, &src, &src, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	B("link_clear_acl", knet_link_clear_acl(hh, 2, 0));
	B("link_set_enable", knet_link_set_enable(hh, 2, 0, 1));
	B("link_get_enable", knet_link_get_enable(hh, 2, 0, &u));
	B("link_set_ping_timers", knet_link_set_ping_timers(hh, 2, 0, 1000, 2000, 2048));
	B("link_get_ping_timers", knet_link_get_ping_timers(hh, 2, 0, &ti, &to, &u));
	B("link_set_pong_count", knet_link_set_pong_count(hh, 2, 0, 2));
	B("link_get_pong_count", knet_link_get_pong_count(hh, 2, 0, &u8));
	B("link_set_priority", knet_link_set_priority(hh, 2, 0, 1));
	B("link_get_priority", knet_link_get_priority(hh, 2, 0, &u8));
	B("link_get_link_list", knet_link_get_link_list(hh, 2, links, &n));
	B("link_get_status", knet_link_get_status(hh, 2, 0, &ls, sizeof(ls)));
	B("log_set_loglevel", knet_log_set_loglevel(hh, KNET_SUB_HOST, KNET_LOG_INFO));
	B("log_get_loglevel", knet_log_get_loglevel(hh, KNET_SUB_HOST, &u8));
	B("handle_free", knet_handle_free(hh));
#undef B
}

static void section_handle_new(void)
{
	knet_handle_t h;
	struct rlimit rl;
	int bigfd = INT_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < INT_MAX)
		bigfd = (int)rl.rlim_max;

#define NEW(label, call)                                                            \
	do {                                                                        \
		errno = 0;                                                          \
		h = (call);                                                         \
		g_err = errno;                                                      \
		repx(label, h ? "handle" : "NULL", h == NULL, "");                  \
		if (h) {                                                            \
			T(label ".free", knet_handle_free(h));                      \
		}                                                                   \
	} while (0)

	NEW("handle_new_ex.logfd_negative", knet_handle_new_ex(1, -1, KNET_LOG_DEBUG, 0));
	NEW("handle_new_ex.logfd_rlim_max", knet_handle_new_ex(1, bigfd, KNET_LOG_DEBUG, 0));
	NEW("handle_new_ex.level4_with_logfd", knet_handle_new_ex(1, logfds[1], 4, 0));
	NEW("handle_new_ex.level5_with_logfd", knet_handle_new_ex(1, logfds[1], 5, 0));
	NEW("handle_new_ex.level255_with_logfd", knet_handle_new_ex(1, logfds[1], 255, 0));
	NEW("handle_new_ex.flags2", knet_handle_new_ex(1, 0, KNET_LOG_ERR, 2));
	NEW("handle_new_ex.flags_high", knet_handle_new_ex(1, 0, KNET_LOG_ERR, 1ULL << 63));
	NEW("handle_new_ex.flags_privileged", knet_handle_new_ex(65535, 0, KNET_LOG_ERR,
								 KNET_HANDLE_FLAG_PRIVILEGED));
	NEW("handle_new_ex.logfd_not_open", knet_handle_new_ex(0, 900, KNET_LOG_DEBUG, 0));
	NEW("handle_new.logfd_negative", knet_handle_new(1, -1, KNET_LOG_DEBUG));
	NEW("handle_new.level5_with_logfd", knet_handle_new(1, logfds[1], 5));
#undef NEW

	/* without a log fd the level is not checked and nothing is configured
	 * (0); no sock_notify yet, so a datafd is refused */
	errno = 0;
	h = knet_handle_new_ex(3, 0, 255, 0);
	g_err = errno;
	repx("handle_new_ex.level255_no_logfd", h ? "handle" : "NULL", h == NULL, "");
	if (h) {
		uint8_t lvl = 0xee;
		int fd = 0;
		int8_t ch = -1;

		T("handle_no_logfd.get_loglevel.link", knet_log_get_loglevel(h, KNET_SUB_LINK, &lvl),
		  "level=%u", lvl);
		lvl = 0xee;
		T("handle_no_logfd.get_loglevel.unknown", knet_log_get_loglevel(h, KNET_SUB_UNKNOWN, &lvl),
		  "level=%u", lvl);
		T("handle_no_notify.add_datafd", knet_handle_add_datafd(h, &fd, &ch),
		  "fd_set=%d channel=%d", fd != 0, ch);
		T("handle_no_notify.free", knet_handle_free(h));
		/* a freed handle is no longer a handle */
		sweep_bad_handle("stale_handle", h, 0);
	}
	/* with a log fd every subsystem starts at the given level */
	errno = 0;
	h = knet_handle_new(4, logfds[1], KNET_LOG_WARN);
	g_err = errno;
	repx("handle_new.valid", h ? "handle" : "NULL", h == NULL, "");
	if (h) {
		uint8_t lvl = 0xee;
		T("handle_logfd_warn.get_loglevel.link", knet_log_get_loglevel(h, KNET_SUB_LINK, &lvl),
		  "level=%u", lvl);
		lvl = 0xee;
		T("handle_logfd_warn.get_loglevel.zstdcomp", knet_log_get_loglevel(h, KNET_SUB_ZSTDCOMP, &lvl),
		  "level=%u", lvl);
		T("handle_logfd_warn.free", knet_handle_free(h));
		T("handle_logfd_warn.free_again", knet_handle_free(h));
	}
}

static void section_handle_basics(knet_handle_t h)
{
	unsigned int u;
	uint32_t u32;
	uint8_t lvl;
	unsigned int i;
	char label[64];

	/* log levels */
	lvl = 0xee;
	T("log_get_loglevel.default_handle", knet_log_get_loglevel(h, KNET_SUB_HANDLE, &lvl), "level=%u", lvl);
	T("log_get_loglevel.null_level", knet_log_get_loglevel(h, KNET_SUB_HANDLE, NULL));
	for (i = 0; i <= 255; i++) {
		if (!(i <= 8 || i == 25 || i == 26 || i == 27 || i == 30 || i == 31 || i == 32 ||
		      i == 40 || i == 41 || i == 43 || i == 44 || i == 45 || i == 46 || i == 47 ||
		      i == 48 || i == 49 || i == 50 || i == 51 || i == 52 || i == 53 || i == 60 ||
		      i == 100 || i == 253 || i == 254 || i == 255))
			continue;
		lvl = 0xee;
		snprintf(label, sizeof(label), "log_get_loglevel.sub%u", i);
		T(label, knet_log_get_loglevel(h, (uint8_t)i, &lvl), "level=%u", lvl);
	}
	for (i = 0; i <= 6; i++) {
		snprintf(label, sizeof(label), "log_set_loglevel.link_level%u", i);
		lvl = 0xee;
		CALL(knet_log_set_loglevel(h, KNET_SUB_LINK, (uint8_t)i));
		{
			long long rc = g_rc;
			int e = g_err;
			knet_log_get_loglevel(h, KNET_SUB_LINK, &lvl);
			g_rc = rc;
			g_err = e;
		}
		rep(label, "now=%u", lvl);
	}
	T("log_set_loglevel.level255", knet_log_set_loglevel(h, KNET_SUB_LINK, 255));
	T("log_set_loglevel.sub_unknown", knet_log_set_loglevel(h, KNET_SUB_UNKNOWN, KNET_LOG_INFO));
	lvl = 0xee;
	T("log_get_loglevel.sub_unknown_after_set", knet_log_get_loglevel(h, KNET_SUB_UNKNOWN, &lvl),
	  "level=%u", lvl);
	T("log_set_loglevel.sub255", knet_log_set_loglevel(h, 255, KNET_LOG_INFO));
	T("log_set_loglevel.sub_max_plus_common", knet_log_set_loglevel(h, 100, KNET_LOG_INFO));
	T("log_set_loglevel.sub_zstd", knet_log_set_loglevel(h, KNET_SUB_ZSTDCOMP, KNET_LOG_ERR));
	T("log_set_loglevel.sub_sctp", knet_log_set_loglevel(h, KNET_SUB_TRANSP_SCTP, KNET_LOG_ERR));
	T("log_set_loglevel.sub_common", knet_log_set_loglevel(h, KNET_SUB_COMMON, KNET_LOG_DEBUG));
	T("log_set_loglevel.link_back_debug", knet_log_set_loglevel(h, KNET_SUB_LINK, KNET_LOG_DEBUG));

	/* forwarding, access lists */
	T("handle_setfwd.2", knet_handle_setfwd(h, 2));
	T("handle_setfwd.uint_max", knet_handle_setfwd(h, UINT_MAX));
	T("handle_setfwd.1", knet_handle_setfwd(h, 1));
	T("handle_setfwd.1_again", knet_handle_setfwd(h, 1));
	T("handle_setfwd.0", knet_handle_setfwd(h, 0));
	T("handle_setfwd.0_again", knet_handle_setfwd(h, 0));
	T("handle_enable_access_lists.2", knet_handle_enable_access_lists(h, 2));
	T("handle_enable_access_lists.1", knet_handle_enable_access_lists(h, 1));
	T("handle_enable_access_lists.0", knet_handle_enable_access_lists(h, 0));
	T("handle_enable_access_lists.1_again", knet_handle_enable_access_lists(h, 1));

	/* PMTUd */
	u = 0xeeee;
	T("pmtud_getfreq.default", knet_handle_pmtud_getfreq(h, &u), "interval=%u", u);
	T("pmtud_getfreq.null", knet_handle_pmtud_getfreq(h, NULL));
	T("pmtud_setfreq.0", knet_handle_pmtud_setfreq(h, 0));
	T("pmtud_setfreq.86401", knet_handle_pmtud_setfreq(h, 86401));
	T("pmtud_setfreq.uint_max", knet_handle_pmtud_setfreq(h, UINT_MAX));
	T("pmtud_setfreq.86400", knet_handle_pmtud_setfreq(h, 86400));
	u = 0xeeee;
	T("pmtud_getfreq.after_86400", knet_handle_pmtud_getfreq(h, &u), "interval=%u", u);
	T("pmtud_setfreq.1", knet_handle_pmtud_setfreq(h, 1));
	u = 0xeeee;
	T("pmtud_getfreq.after_1", knet_handle_pmtud_getfreq(h, &u), "interval=%u", u);
	T("pmtud_setfreq.60", knet_handle_pmtud_setfreq(h, 60));
	T("pmtud_enable_notify.fn", knet_handle_enable_pmtud_notify(h, NULL, pmtud_cb));
	T("pmtud_enable_notify.null_fn", knet_handle_enable_pmtud_notify(h, NULL, NULL));
	T("pmtud_enable_notify.fn_again", knet_handle_enable_pmtud_notify(h, &u, pmtud_cb));
	u = 0xeeee;
	T("pmtud_get.no_links", knet_handle_pmtud_get(h, &u), "data_mtu=%u", u);
	T("pmtud_get.null", knet_handle_pmtud_get(h, NULL));
	T("pmtud_set.65536", knet_handle_pmtud_set(h, 65536));
	T("pmtud_set.uint_max", knet_handle_pmtud_set(h, UINT_MAX));
	T("pmtud_set.65535", knet_handle_pmtud_set(h, 65535));
	T("pmtud_set.1500", knet_handle_pmtud_set(h, 1500));
	T("pmtud_set.1", knet_handle_pmtud_set(h, 1));
	T("pmtud_set.0", knet_handle_pmtud_set(h, 0));

	/* transport reconnect interval */
	u32 = 0xeeee;
	T("reconnect_interval_get.default", knet_handle_get_transport_reconnect_interval(h, &u32), "msecs=%u", u32);
	T("reconnect_interval_get.null", knet_handle_get_transport_reconnect_interval(h, NULL));
	T("reconnect_interval_set.0", knet_handle_set_transport_reconnect_interval(h, 0));
	T("reconnect_interval_set.1", knet_handle_set_transport_reconnect_interval(h, 1));
	u32 = 0xeeee;
	T("reconnect_interval_get.after_1", knet_handle_get_transport_reconnect_interval(h, &u32), "msecs=%u", u32);
	T("reconnect_interval_set.uint_max", knet_handle_set_transport_reconnect_interval(h, UINT32_MAX));
	u32 = 0xeeee;
	T("reconnect_interval_get.after_max", knet_handle_get_transport_reconnect_interval(h, &u32), "msecs=%u", u32);
	T("reconnect_interval_set.1000", knet_handle_set_transport_reconnect_interval(h, 1000));

	/* callbacks */
	T("enable_filter.fn", knet_handle_enable_filter(h, NULL, filter_fn));
	T("enable_filter.null", knet_handle_enable_filter(h, NULL, NULL));
	T("enable_filter.null_again", knet_handle_enable_filter(h, NULL, NULL));
	T("host_status_notify.fn", knet_host_enable_status_change_notify(h, NULL, host_cb));
	T("host_status_notify.null", knet_host_enable_status_change_notify(h, NULL, NULL));
	T("enable_sock_notify.null_fn", knet_handle_enable_sock_notify(h, NULL, NULL));

	/* statistics */
	print_stats("get_stats.fresh", h);
	T("get_stats.null", knet_handle_get_stats(h, NULL, sizeof(struct knet_handle_stats)));
	probe_struct_size("get_stats.struct_size_0", h, 0, 0, 0, 0);
	probe_struct_size("get_stats.struct_size_8", h, 0, 0, 8, 0);
	probe_struct_size("get_stats.struct_size_16", h, 0, 0, 16, 0);
	probe_struct_size("get_stats.struct_size_full", h, 0, 0, sizeof(struct knet_handle_stats), 0);
	probe_struct_size("get_stats.struct_size_full_plus_64", h, 0, 0,
			  sizeof(struct knet_handle_stats) + 64, 0);
	T("clear_stats.0", knet_handle_clear_stats(h, 0));
	T("clear_stats.3", knet_handle_clear_stats(h, 3));
	T("clear_stats.minus1", knet_handle_clear_stats(h, -1));
	T("clear_stats.handle_only", knet_handle_clear_stats(h, KNET_CLEARSTATS_HANDLE_ONLY));
	print_stats("get_stats.after_clear_handle_only", h);
	T("clear_stats.handle_and_link", knet_handle_clear_stats(h, KNET_CLEARSTATS_HANDLE_AND_LINK));
	print_stats("get_stats.after_clear_handle_and_link", h);
}

static void section_datafd(knet_handle_t h, int *main_fd)
{
	int fd, fds[32], sp[2], pp[2], i, got;
	int8_t ch, gch;
	char label[64];

	T("enable_sock_notify.fn", knet_handle_enable_sock_notify(h, NULL, sock_cb));
	ch = -1;
	T("add_datafd.null_fd", knet_handle_add_datafd(h, NULL, &ch));
	fd = 0;
	T("add_datafd.null_channel", knet_handle_add_datafd(h, &fd, NULL));
	fd = 0;
	ch = 32;
	T("add_datafd.channel32", knet_handle_add_datafd(h, &fd, &ch), "fd_set=%d channel=%d", fd != 0, ch);
	fd = 0;
	ch = 127;
	T("add_datafd.channel127", knet_handle_add_datafd(h, &fd, &ch), "fd_set=%d channel=%d", fd != 0, ch);
	fd = 0;
	ch = -128;
	T("add_datafd.channel_minus128", knet_handle_add_datafd(h, &fd, &ch), "fd_set=%d channel=%d",
	  fd != 0, ch);
	if (g_rc == 0)
		knet_handle_remove_datafd(h, fd);
	fd = 0;
	ch = -1;
	T("add_datafd.auto", knet_handle_add_datafd(h, &fd, &ch), "fd_set=%d channel=%d", fd > 0, ch);
	*main_fd = fd;
	gch = 99;
	T("get_channel.main", knet_handle_get_channel(h, fd, &gch), "channel=%d", gch);
	got = -5;
	T("get_datafd.0", knet_handle_get_datafd(h, 0, &got), "same_fd=%d", got == fd);
	{
		int again = fd;
		ch = -1;
		T("add_datafd.same_fd_again", knet_handle_add_datafd(h, &again, &ch), "fd_same=%d channel=%d",
		  again == fd, ch);
		ch = 5;
		again = fd;
		T("add_datafd.same_fd_channel5", knet_handle_add_datafd(h, &again, &ch), "fd_same=%d channel=%d",
		  again == fd, ch);
	}
	fd = 0;
	ch = 0;
	T("add_datafd.channel0_busy", knet_handle_add_datafd(h, &fd, &ch), "fd_set=%d channel=%d", fd != 0, ch);
	fd = -1;
	ch = -1;
	T("add_datafd.fd_negative", knet_handle_add_datafd(h, &fd, &ch), "fd_changed=%d channel=%d",
	  fd != -1, ch);
	if (g_rc == 0)
		knet_handle_remove_datafd(h, fd);
	fd = 900; /* not open */
	ch = -1;
	T("add_datafd.fd_not_open", knet_handle_add_datafd(h, &fd, &ch), "fd_changed=%d channel=%d",
	  fd != 900, ch);
	if (g_rc == 0)
		knet_handle_remove_datafd(h, fd);

	/* application-provided fds: a socket and a pipe */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0) {
		fd = sp[0];
		ch = 10;
		T("add_datafd.user_socket_ch10", knet_handle_add_datafd(h, &fd, &ch),
		  "fd_same=%d channel=%d nonblock=%d cloexec=%d", fd == sp[0], ch,
		  (fcntl(sp[0], F_GETFL) & O_NONBLOCK) != 0, (fcntl(sp[0], F_GETFD) & FD_CLOEXEC) != 0);
		gch = 99;
		T("get_channel.user_socket", knet_handle_get_channel(h, sp[0], &gch), "channel=%d", gch);
		got = -5;
		T("get_datafd.10", knet_handle_get_datafd(h, 10, &got), "same_fd=%d", got == sp[0]);
		T("remove_datafd.user_socket", knet_handle_remove_datafd(h, sp[0]),
		  "still_open=%d", fcntl(sp[0], F_GETFD) != -1);
		T("remove_datafd.user_socket_again", knet_handle_remove_datafd(h, sp[0]));
		close(sp[0]);
		close(sp[1]);
	}
	if (pipe(pp) == 0) {
		fd = pp[0];
		ch = -1;
		T("add_datafd.user_pipe", knet_handle_add_datafd(h, &fd, &ch), "fd_same=%d channel=%d",
		  fd == pp[0], ch);
		T("remove_datafd.user_pipe", knet_handle_remove_datafd(h, pp[0]),
		  "still_open=%d", fcntl(pp[0], F_GETFD) != -1);
		close(pp[0]);
		close(pp[1]);
	}

	/* fill every channel, then one more */
	for (i = 0; i < 32; i++)
		fds[i] = -1;
	for (i = 1; i < 32; i++) {
		fd = 0;
		ch = -1;
		CALL(knet_handle_add_datafd(h, &fd, &ch));
		if (g_rc == 0)
			fds[i] = fd;
		if (i == 1 || i == 30 || i == 31) {
			snprintf(label, sizeof(label), "add_datafd.fill_%d", i);
			rep(label, "channel=%d", ch);
		}
	}
	fd = 0;
	ch = -1;
	T("add_datafd.all_busy_auto", knet_handle_add_datafd(h, &fd, &ch), "fd_set=%d channel=%d", fd != 0, ch);
	fd = 0;
	ch = 31;
	T("add_datafd.all_busy_ch31", knet_handle_add_datafd(h, &fd, &ch), "fd_set=%d channel=%d", fd != 0, ch);
	got = -5;
	T("get_datafd.31", knet_handle_get_datafd(h, 31, &got), "same_fd=%d", got == fds[31]);
	T("remove_datafd.ch17", knet_handle_remove_datafd(h, fds[17]), "closed=%d", fcntl(fds[17], F_GETFD) == -1);
	got = -5;
	T("get_datafd.17_after_remove", knet_handle_get_datafd(h, 17, &got));
	gch = 99;
	T("get_channel.removed_fd", knet_handle_get_channel(h, fds[17], &gch), "channel=%d", gch);
	fds[17] = -1;
	fd = 0;
	ch = -1;
	T("add_datafd.reuse_auto", knet_handle_add_datafd(h, &fd, &ch), "channel=%d", ch);
	fds[17] = fd;
	for (i = 1; i < 32; i++)
		if (fds[i] > 0)
			knet_handle_remove_datafd(h, fds[i]);

	T("remove_datafd.0", knet_handle_remove_datafd(h, 0));
	T("remove_datafd.minus1", knet_handle_remove_datafd(h, -1));
	T("remove_datafd.unknown", knet_handle_remove_datafd(h, 901));
	gch = 99;
	T("get_channel.fd0", knet_handle_get_channel(h, 0, &gch), "channel=%d", gch);
	gch = 99;
	T("get_channel.fd_minus1", knet_handle_get_channel(h, -1, &gch), "channel=%d", gch);
	gch = 99;
	T("get_channel.unknown_fd", knet_handle_get_channel(h, 901, &gch), "channel=%d", gch);
	T("get_channel.null", knet_handle_get_channel(h, *main_fd, NULL));
	got = -5;
	T("get_datafd.minus1", knet_handle_get_datafd(h, -1, &got), "changed=%d", got != -5);
	got = -5;
	T("get_datafd.32", knet_handle_get_datafd(h, 32, &got), "changed=%d", got != -5);
	got = -5;
	T("get_datafd.unused_5", knet_handle_get_datafd(h, 5, &got), "changed=%d", got != -5);
	T("get_datafd.null", knet_handle_get_datafd(h, 0, NULL));
}

static void section_send_recv_args(knet_handle_t h)
{
	char buf[256];
	static char big[KNET_MAX_PACKET_SIZE + 16];

	memset(buf, 'a', sizeof(buf));
	T("recv.null_buf", knet_recv(h, NULL, 10, 0));
	T("recv.len0", knet_recv(h, buf, 0, 0));
	T("recv.len_max_plus1", knet_recv(h, big, KNET_MAX_PACKET_SIZE + 1, 0));
	T("recv.channel_minus1", knet_recv(h, buf, 10, -1));
	T("recv.channel32", knet_recv(h, buf, 10, 32));
	T("recv.channel_unused", knet_recv(h, buf, 10, 7));
	T("recv.empty", knet_recv(h, buf, sizeof(buf), 0));
	T("recv.empty_len_max", knet_recv(h, big, KNET_MAX_PACKET_SIZE, 0));
	T("send.null_buf", knet_send(h, NULL, 10, 0));
	T("send.len0", knet_send(h, buf, 0, 0));
	T("send.len_max_plus1", knet_send(h, big, KNET_MAX_PACKET_SIZE + 1, 0));
	T("send.channel_minus1", knet_send(h, buf, 10, -1));
	T("send.channel32", knet_send(h, buf, 10, 32));
	T("send.channel_unused", knet_send(h, buf, 10, 7));
	T("send_sync.null_buf", knet_send_sync(h, NULL, 10, 0));
	T("send_sync.len0", knet_send_sync(h, buf, 0, 0));
	T("send_sync.len_max_plus1", knet_send_sync(h, big, KNET_MAX_PACKET_SIZE + 1, 0));
	T("send_sync.channel_minus1", knet_send_sync(h, buf, 10, -1));
	T("send_sync.channel32", knet_send_sync(h, buf, 10, 32));
	T("send_sync.no_filter", knet_send_sync(h, buf, 10, 0));
	T("send_sync.no_filter_unused_channel", knet_send_sync(h, buf, 10, 7));
}

static void section_crypto_compress(knet_handle_t h)
{
	struct knet_handle_crypto_cfg c;
	struct knet_handle_compress_cfg z;
	static const struct { const char *model; int level; uint32_t thr; const char *label; } zc[] = {
		{ "none", 0, 0, "compress.none" },
		{ "none", 12345, 999999, "compress.none_any_level_threshold" },
		{ "bogus", 1, 0, "compress.unknown_model" },
		{ "", 1, 0, "compress.empty_model" },
		{ "ZLIB", 1, 0, "compress.zlib_uppercase" },
		{ "zlib", 1, 0, "compress.zlib_1" },
		{ "zlib", 9, 0, "compress.zlib_9" },
		{ "zlib", 0, 0, "compress.zlib_0" },
		{ "zlib", -1, 0, "compress.zlib_minus1" },
		{ "zlib", -2, 0, "compress.zlib_minus2" },
		{ "zlib", 10, 0, "compress.zlib_10" },
		{ "zlib", 1, KNET_MAX_PACKET_SIZE, "compress.zlib_threshold_max" },
		{ "zlib", 1, KNET_MAX_PACKET_SIZE + 1, "compress.zlib_threshold_max_plus1" },
		{ "zlib", 1, 1, "compress.zlib_threshold_1" },
		{ "lz4", 1, 0, "compress.lz4_1" },
		{ "lz4", 9, 0, "compress.lz4_9" },
		{ "lz4", 0, 0, "compress.lz4_0" },
		{ "lz4", -5, 0, "compress.lz4_minus5" },
		{ "lz4", 100000, 0, "compress.lz4_100000" },
		{ "lz4hc", 1, 0, "compress.lz4hc_1" },
		{ "lz4hc", 12, 0, "compress.lz4hc_12" },
		{ "lz4hc", 16, 0, "compress.lz4hc_16" },
		{ "lz4hc", 17, 0, "compress.lz4hc_17" },
		{ "lz4hc", 0, 0, "compress.lz4hc_0" },
		{ "lz4hc", -1, 0, "compress.lz4hc_minus1" },
		{ "lzo2", 1, 0, "compress.lzo2_1" },
		{ "lzo2", 11, 0, "compress.lzo2_11" },
		{ "lzo2", 12, 0, "compress.lzo2_12" },
		{ "lzo2", 15, 0, "compress.lzo2_15" },
		{ "lzo2", 999, 0, "compress.lzo2_999" },
		{ "lzo2", 2, 0, "compress.lzo2_2_fallback" },
		{ "lzo2", -1, 0, "compress.lzo2_minus1" },
		{ "lzma", 0, 0, "compress.lzma_0" },
		{ "lzma", 9, 0, "compress.lzma_9" },
		{ "lzma", 10, 0, "compress.lzma_10" },
		{ "lzma", -1, 0, "compress.lzma_minus1" },
		{ "bzip2", 0, 0, "compress.bzip2_0" },
		{ "bzip2", 1, 0, "compress.bzip2_1" },
		{ "bzip2", 9, 0, "compress.bzip2_9" },
		{ "bzip2", 10, 0, "compress.bzip2_10" },
		{ "zstd", 1, 0, "compress.zstd_1" },
		{ "zstd", 0, 0, "compress.zstd_0" },
		{ "zstd", 22, 0, "compress.zstd_22" },
		{ "zstd", 100, 0, "compress.zstd_100" },
		{ "zstd", -5, 0, "compress.zstd_minus5" },
		{ "none", 0, 0, "compress.none_final" },
	};
	size_t i;

	T("compress.null_cfg", knet_handle_compress(h, NULL));
	for (i = 0; i < sizeof(zc) / sizeof(zc[0]); i++) {
		set_compress(&z, zc[i].model, zc[i].thr, zc[i].level);
		T(zc[i].label, knet_handle_compress(h, &z));
	}

	T("crypto_set_config.null_cfg", knet_handle_crypto_set_config(h, NULL, 1));
	set_crypto(&c, "openssl", "aes256", "sha256", 256);
	T("crypto_set_config.config0", knet_handle_crypto_set_config(h, &c, 0));
	T("crypto_set_config.config3", knet_handle_crypto_set_config(h, &c, 3));
	set_crypto(&c, "openssl", "aes256", "sha256", KNET_MIN_KEY_LEN - 1);
	T("crypto_set_config.key_short", knet_handle_crypto_set_config(h, &c, 1));
	set_crypto(&c, "openssl", "aes256", "sha256", KNET_MAX_KEY_LEN + 1);
	T("crypto_set_config.key_long", knet_handle_crypto_set_config(h, &c, 1));
	set_crypto(&c, "openssl", "aes256", "sha256", 0);
	T("crypto_set_config.key_zero", knet_handle_crypto_set_config(h, &c, 1));
	set_crypto(&c, "bogus", "aes256", "sha256", 256);
	CALL(knet_handle_crypto_set_config(h, &c, 1));
	repx("crypto_set_config.unknown_model", g_rc == -2 ? "-2" : (g_rc == -1 ? "-1" : "0"),
	     g_rc == -1, "");
	set_crypto(&c, "openssl", "bogus", "sha256", 256);
	CALL(knet_handle_crypto_set_config(h, &c, 1));
	repx("crypto_set_config.openssl_bad_cipher", g_rc == -2 ? "-2" : (g_rc == -1 ? "-1" : "0"),
	     g_rc == -1, "");
	set_crypto(&c, "openssl", "aes256", "bogus", 256);
	CALL(knet_handle_crypto_set_config(h, &c, 1));
	repx("crypto_set_config.openssl_bad_hash", g_rc == -2 ? "-2" : (g_rc == -1 ? "-1" : "0"),
	     g_rc == -1, "");
	set_crypto(&c, "openssl", "aes256", "none", 256);
	CALL(knet_handle_crypto_set_config(h, &c, 1));
	repx("crypto_set_config.openssl_cipher_without_hash", g_rc == -2 ? "-2" : (g_rc == -1 ? "-1" : "0"),
	     g_rc == -1, "");
	set_crypto(&c, "nss", "aes999", "sha256", 256);
	CALL(knet_handle_crypto_set_config(h, &c, 1));
	repx("crypto_set_config.nss_bad_cipher", g_rc == -2 ? "-2" : (g_rc == -1 ? "-1" : "0"),
	     g_rc == -1, "");
	set_crypto(&c, "nss", "aes256", "sha999", 256);
	CALL(knet_handle_crypto_set_config(h, &c, 1));
	repx("crypto_set_config.nss_bad_hash", g_rc == -2 ? "-2" : (g_rc == -1 ? "-1" : "0"),
	     g_rc == -1, "");
	set_crypto(&c, "none", "none", "none", 0);
	T("crypto_set_config.none_config1", knet_handle_crypto_set_config(h, &c, 1));
	set_crypto(&c, "openssl", "none", "none", 0);
	T("crypto_set_config.openssl_none_none_nokey", knet_handle_crypto_set_config(h, &c, 2));
	set_crypto(&c, "openssl", "none", "sha256", 256);
	T("crypto_set_config.openssl_hash_only", knet_handle_crypto_set_config(h, &c, 1));
	set_crypto(&c, "openssl", "aes256", "sha256", 256);
	T("crypto_set_config.openssl_aes256_sha256_c1", knet_handle_crypto_set_config(h, &c, 1));
	T("crypto_set_config.replace_c1_not_in_use", knet_handle_crypto_set_config(h, &c, 1));
	T("crypto_use_config.3", knet_handle_crypto_use_config(h, 3));
	T("crypto_use_config.255", knet_handle_crypto_use_config(h, 255));
	T("crypto_use_config.2_unconfigured", knet_handle_crypto_use_config(h, 2));
	T("crypto_use_config.1", knet_handle_crypto_use_config(h, 1));
	T("crypto_set_config.c1_in_use", knet_handle_crypto_set_config(h, &c, 1));
	set_crypto(&c, "none", "none", "none", 0);
	T("crypto_set_config.none_c1_in_use", knet_handle_crypto_set_config(h, &c, 1));
	set_crypto(&c, "nss", "aes128", "sha1", KNET_MIN_KEY_LEN);
	T("crypto_set_config.nss_aes128_sha1_c2", knet_handle_crypto_set_config(h, &c, 2));
	T("crypto_use_config.2", knet_handle_crypto_use_config(h, 2));
	set_crypto(&c, "none", "none", "none", 0);
	T("crypto_set_config.release_c1", knet_handle_crypto_set_config(h, &c, 1));
	T("crypto_use_config.1_released", knet_handle_crypto_use_config(h, 1));
	set_crypto(&c, "openssl", "aes128", "sha512", KNET_MAX_KEY_LEN);
	T("crypto_set_config.openssl_maxkey_c1", knet_handle_crypto_set_config(h, &c, 1));
	T("crypto_use_config.0", knet_handle_crypto_use_config(h, 0));
	T("crypto_use_config.0_again", knet_handle_crypto_use_config(h, 0));
	set_crypto(&c, "none", "none", "none", 0);
	T("crypto_set_config.release_c2", knet_handle_crypto_set_config(h, &c, 2));
	T("crypto_set_config.release_c1_again", knet_handle_crypto_set_config(h, &c, 1));
	T("crypto_rx_clear_traffic.2", knet_handle_crypto_rx_clear_traffic(h, 2));
	T("crypto_rx_clear_traffic.255", knet_handle_crypto_rx_clear_traffic(h, 255));
	T("crypto_rx_clear_traffic.disallow", knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC));
	T("crypto_rx_clear_traffic.allow", knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC));

	/* the 1.x compatibility wrapper */
	T("crypto.null_cfg", knet_handle_crypto(h, NULL));
	set_crypto(&c, "openssl", "aes256", "sha256", 256);
	T("crypto.openssl", knet_handle_crypto(h, &c));
	T("crypto.openssl_again_replaces_in_use", knet_handle_crypto(h, &c));
	set_crypto(&c, "openssl", "aes256", "sha256", 10);
	T("crypto.key_short", knet_handle_crypto(h, &c));
	set_crypto(&c, "bogus", "aes256", "sha256", 256);
	CALL(knet_handle_crypto(h, &c));
	repx("crypto.unknown_model", g_rc == -2 ? "-2" : (g_rc == -1 ? "-1" : "0"), g_rc == -1, "");
	T("crypto_use_config.after_wrapper_failure_1", knet_handle_crypto_use_config(h, 1));
	set_crypto(&c, "none", "none", "none", 0);
	T("crypto.none", knet_handle_crypto(h, &c));
	T("crypto_use_config.1_after_wrapper_none", knet_handle_crypto_use_config(h, 1));
	set_crypto(&c, "openssl", "none", "none", 0);
	T("crypto.openssl_none_none", knet_handle_crypto(h, &c));
	T("crypto.null_handle", knet_handle_crypto(NULL, &c));
	T("crypto_rx_clear_traffic.allow_end", knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC));
}

static void section_hosts(knet_handle_t h)
{
	char name[KNET_MAX_HOST_LEN], longname[KNET_MAX_HOST_LEN + 8];
	knet_node_id_t id;
	uint8_t pol;
	struct knet_host_status hs;

	print_host_list("host_list.empty", h);
	{
		size_t n = 0;
		T("host_list.null_ids", knet_host_get_host_list(h, NULL, &n));
	}
	T("host_list.null_entries", knet_host_get_host_list(h, host_ids, NULL));
	T("host_add.2", knet_host_add(h, 2));
	T("host_add.2_again", knet_host_add(h, 2));
	T("host_add.65535", knet_host_add(h, 65535));
	T("host_add.0", knet_host_add(h, 0));
	T("host_add.self_1", knet_host_add(h, 1));
	T("host_add.3", knet_host_add(h, 3));
	print_host_list("host_list.five", h);
	T("host_remove.99", knet_host_remove(h, 99));
	T("host_remove.0", knet_host_remove(h, 0));
	T("host_remove.0_again", knet_host_remove(h, 0));
	print_host_list("host_list.after_remove_0", h);

	memset(name, 'x', sizeof(name));
	T("host_get_name.default_2", knet_host_get_name_by_host_id(h, 2, name), "name=%s", name);
	T("host_get_name.default_65535", knet_host_get_name_by_host_id(h, 65535, name), "name=%s", name);
	T("host_get_name.missing", knet_host_get_name_by_host_id(h, 99, name));
	T("host_get_name.null", knet_host_get_name_by_host_id(h, 2, NULL));
	id = 0xeeee;
	T("host_get_id.default_name", knet_host_get_id_by_host_name(h, "65535", &id), "id=%u", id);
	T("host_set_name.missing_host", knet_host_set_name(h, 99, "x"));
	T("host_set_name.null", knet_host_set_name(h, 2, NULL));
	T("host_set_name.missing_host_null", knet_host_set_name(h, 99, NULL));
	T("host_set_name.2_peer", knet_host_set_name(h, 2, "peer"));
	T("host_set_name.2_peer_again", knet_host_set_name(h, 2, "peer"));
	T("host_set_name.3_peer_dup", knet_host_set_name(h, 3, "peer"));
	T("host_set_name.3_default_of_65535", knet_host_set_name(h, 3, "65535"));
	T("host_set_name.3_own_default", knet_host_set_name(h, 3, "3"));
	T("host_set_name.3_empty", knet_host_set_name(h, 3, ""));
	memset(name, 'x', sizeof(name));
	T("host_get_name.3_empty", knet_host_get_name_by_host_id(h, 3, name), "name=[%s]", name);
	memset(longname, 'n', sizeof(longname));
	longname[KNET_MAX_HOST_LEN] = 0; /* 256 chars */
	T("host_set_name.3_len256", knet_host_set_name(h, 3, longname));
	longname[KNET_MAX_HOST_LEN - 1] = 0; /* 255 chars */
	T("host_set_name.3_len255", knet_host_set_name(h, 3, longname));
	memset(name, 'x', sizeof(name));
	T("host_get_name.3_len255", knet_host_get_name_by_host_id(h, 3, name), "len=%zu", strnlen(name, sizeof(name)));
	id = 0xeeee;
	T("host_get_id.peer", knet_host_get_id_by_host_name(h, "peer", &id), "id=%u", id);
	id = 0xeeee;
	T("host_get_id.PEER", knet_host_get_id_by_host_name(h, "PEER", &id), "id=%u", id);
	id = 0xeeee;
	T("host_get_id.old_default_2", knet_host_get_id_by_host_name(h, "2", &id), "id=%u", id);
	id = 0xeeee;
	T("host_get_id.len255", knet_host_get_id_by_host_name(h, longname, &id), "id=%u", id);
	T("host_get_id.null_name", knet_host_get_id_by_host_name(h, NULL, &id));
	T("host_get_id.null_id", knet_host_get_id_by_host_name(h, "peer", NULL));
	T("host_get_id.unknown", knet_host_get_id_by_host_name(h, "nobody", &id));
	T("host_get_id.empty", knet_host_get_id_by_host_name(h, "", &id));
	T("host_set_name.3_back", knet_host_set_name(h, 3, "three"));

	pol = 0xee;
	T("host_get_policy.default", knet_host_get_policy(h, 2, &pol), "policy=%u", pol);
	T("host_get_policy.missing", knet_host_get_policy(h, 99, &pol));
	T("host_get_policy.null", knet_host_get_policy(h, 2, NULL));
	T("host_set_policy.3", knet_host_set_policy(h, 2, 3));
	T("host_set_policy.255", knet_host_set_policy(h, 2, 255));
	T("host_set_policy.missing", knet_host_set_policy(h, 99, KNET_LINK_POLICY_RR));
	T("host_set_policy.missing_bad", knet_host_set_policy(h, 99, 3));
	T("host_set_policy.rr", knet_host_set_policy(h, 2, KNET_LINK_POLICY_RR));
	pol = 0xee;
	T("host_get_policy.rr", knet_host_get_policy(h, 2, &pol), "policy=%u", pol);
	T("host_set_policy.active", knet_host_set_policy(h, 2, KNET_LINK_POLICY_ACTIVE));
	pol = 0xee;
	T("host_get_policy.active", knet_host_get_policy(h, 2, &pol), "policy=%u", pol);
	T("host_set_policy.passive", knet_host_set_policy(h, 2, KNET_LINK_POLICY_PASSIVE));

	memset(&hs, 0xee, sizeof(hs));
	T("host_get_status.2", knet_host_get_status(h, 2, &hs), "reachable=%u remote=%u external=%u",
	  hs.reachable, hs.remote, hs.external);
	memset(&hs, 0xee, sizeof(hs));
	T("host_get_status.self", knet_host_get_status(h, 1, &hs), "reachable=%u remote=%u external=%u",
	  hs.reachable, hs.remote, hs.external);
	T("host_get_status.missing", knet_host_get_status(h, 99, &hs));
	T("host_get_status.null", knet_host_get_status(h, 2, NULL));
}

static void section_links(knet_handle_t h)
{
	struct sockaddr_storage s4 = mk4("127.0.0.1", 61110), d4 = mk4("127.0.0.1", 61111);
	struct sockaddr_storage s4b = mk4("127.0.0.1", 61112), d4b = mk4("127.0.0.1", 61113);
	struct sockaddr_storage s6 = mk6("::1", 61120), d6 = mk6("::1", 61121);
	struct sockaddr_storage sdyn = mk4("127.0.0.1", 61130), unspec;
	struct sockaddr_storage lo = mk4("127.0.0.1", 61140);
	struct sockaddr_storage a1 = mk4("127.0.0.1", 61150), a2 = mk4("127.0.0.1", 61151);
	struct sockaddr_storage m1 = mk4("127.0.0.0", 0), m2 = mk4("255.0.0.0", 0);
	struct sockaddr_storage r6a = mk6("::1", 0), r6b = mk6("::2", 0);
	struct sockaddr_storage src, dst;
	uint8_t transport, dyn, u8;
	uint64_t flags;
	unsigned int en;
	time_t ti, to;
	unsigned int prec;
	char label[64];
	int i;

	memset(&unspec, 0, sizeof(unspec));

	/* set_config argument checks */
	T("link_set_config.link8", knet_link_set_config(h, 2, 8, KNET_TRANSPORT_UDP, &s4, &d4, 0));
	T("link_set_config.link255", knet_link_set_config(h, 2, 255, KNET_TRANSPORT_UDP, &s4, &d4, 0));
	T("link_set_config.null_src", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, NULL, &d4, 0));
	T("link_set_config.family_mismatch", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &s4, &d6, 0));
	T("link_set_config.transport255", knet_link_set_config(h, 2, 0, KNET_MAX_TRANSPORTS, &s4, &d4, 0));
	T("link_set_config.transport3", knet_link_set_config(h, 2, 0, 3, &s4, &d4, 0));
	T("link_set_config.transport200", knet_link_set_config(h, 2, 0, 200, &s4, &d4, 0));
	T("link_set_config.missing_host", knet_link_set_config(h, 99, 0, KNET_TRANSPORT_UDP, &s4, &d4, 0));
	T("link_set_config.loopback_remote", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0));
	T("link_set_config.family_unspec", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &unspec, &unspec, 0));
	T("link_set_config.src_unspec_dyn", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &unspec, NULL, 0));
	print_link_list("link_list.after_failures", h, 2);

	/* getters on a host without links */
	T("link_get_config.unconfigured", knet_link_get_config(h, 2, 0, &transport, &src, &dst, &dyn, &flags));
	T("link_get_config.missing_host", knet_link_get_config(h, 99, 0, &transport, &src, &dst, &dyn, &flags));
	T("link_clear_config.unconfigured", knet_link_clear_config(h, 2, 0));
	T("link_clear_config.missing_host", knet_link_clear_config(h, 99, 0));
	T("link_clear_config.link8", knet_link_clear_config(h, 2, 8));
	T("link_set_enable.unconfigured", knet_link_set_enable(h, 2, 0, 1));
	T("link_get_enable.unconfigured", knet_link_get_enable(h, 2, 0, &en));
	T("link_set_ping_timers.unconfigured", knet_link_set_ping_timers(h, 2, 0, 1000, 2000, 2048));
	T("link_get_ping_timers.unconfigured", knet_link_get_ping_timers(h, 2, 0, &ti, &to, &prec));
	T("link_set_pong_count.unconfigured", knet_link_set_pong_count(h, 2, 0, 2));
	T("link_get_pong_count.unconfigured", knet_link_get_pong_count(h, 2, 0, &u8));
	T("link_set_priority.unconfigured", knet_link_set_priority(h, 2, 0, 2));
	T("link_get_priority.unconfigured", knet_link_get_priority(h, 2, 0, &u8));
	print_link_status("link_get_status.unconfigured", h, 2, 0, 1);
	T("link_add_acl.unconfigured", knet_link_add_acl(h, 2, 0, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("link_clear_acl.unconfigured", knet_link_clear_acl(h, 2, 0));
	print_link_list("link_list.missing_host", h, 99);
	{
		size_t n;
		uint8_t links[KNET_MAX_LINK];
		T("link_list.null_ids", knet_link_get_link_list(h, 2, NULL, &n));
		T("link_list.null_entries", knet_link_get_link_list(h, 2, links, NULL));
	}

	/* a static IPv4 link */
	T("link_set_config.v4_static", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &s4, &d4, 0));
	T("link_set_config.v4_static_again", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &s4, &d4, 0));
	print_link_config("link_get_config.v4_static", h, 2, 0);
	T("link_get_config.v4_static_null_dst", knet_link_get_config(h, 2, 0, &transport, &src, NULL, &dyn, &flags));
	T("link_get_config.null_src", knet_link_get_config(h, 2, 0, &transport, NULL, &dst, &dyn, &flags));
	T("link_get_config.null_transport", knet_link_get_config(h, 2, 0, NULL, &src, &dst, &dyn, &flags));
	T("link_get_config.null_dynamic", knet_link_get_config(h, 2, 0, &transport, &src, &dst, NULL, &flags));
	T("link_get_config.null_flags", knet_link_get_config(h, 2, 0, &transport, &src, &dst, &dyn, NULL));
	T("link_get_config.link8", knet_link_get_config(h, 2, 8, &transport, &src, &dst, &dyn, &flags));
	print_link_status("link_get_status.v4_static", h, 2, 0, 1);
	/* link 0 of host 2 went through failed set_config calls above */
	print_latency_min("link_latency_min.after_failed_set_config", h, 2, 0);
	T("link_get_status.null", knet_link_get_status(h, 2, 0, NULL, sizeof(struct knet_link_status)));
	T("link_get_status.link8", knet_link_get_status(h, 2, 8, NULL, sizeof(struct knet_link_status)));
	probe_struct_size("link_get_status.struct_size_0", h, 2, 0, 0, 1);
	probe_struct_size("link_get_status.struct_size_8", h, 2, 0, 8, 1);
	probe_struct_size("link_get_status.struct_size_300", h, 2, 0, 300, 1);
	probe_struct_size("link_get_status.struct_size_full", h, 2, 0, sizeof(struct knet_link_status), 1);
	probe_struct_size("link_get_status.struct_size_full_plus_64", h, 2, 0,
			  sizeof(struct knet_link_status) + 64, 1);

	/* ping timers, pong count, priority */
	ti = to = 0;
	prec = 0;
	T("link_get_ping_timers.default", knet_link_get_ping_timers(h, 2, 0, &ti, &to, &prec),
	  "interval=%lld timeout=%lld precision=%u", (long long)ti, (long long)to, prec);
	T("link_get_ping_timers.null_interval", knet_link_get_ping_timers(h, 2, 0, NULL, &to, &prec));
	T("link_get_ping_timers.null_timeout", knet_link_get_ping_timers(h, 2, 0, &ti, NULL, &prec));
	T("link_get_ping_timers.null_precision", knet_link_get_ping_timers(h, 2, 0, &ti, &to, NULL));
	T("link_set_ping_timers.interval0", knet_link_set_ping_timers(h, 2, 0, 0, 2000, 2048));
	T("link_set_ping_timers.timeout0", knet_link_set_ping_timers(h, 2, 0, 1000, 0, 2048));
	T("link_set_ping_timers.precision0", knet_link_set_ping_timers(h, 2, 0, 1000, 2000, 0));
	T("link_set_ping_timers.all0", knet_link_set_ping_timers(h, 2, 0, 0, 0, 0));
	T("link_set_ping_timers.timeout0_precision0", knet_link_set_ping_timers(h, 2, 0, 1000, 0, 0));
	T("link_set_ping_timers.link8", knet_link_set_ping_timers(h, 2, 8, 1000, 2000, 2048));
	T("link_set_ping_timers.missing_host", knet_link_set_ping_timers(h, 99, 0, 1000, 2000, 2048));
	T("link_set_ping_timers.valid", knet_link_set_ping_timers(h, 2, 0, 500, 1500, 128));
	T("link_get_ping_timers.valid", knet_link_get_ping_timers(h, 2, 0, &ti, &to, &prec),
	  "interval=%lld timeout=%lld precision=%u", (long long)ti, (long long)to, prec);
	T("link_set_ping_timers.timeout_lt_interval", knet_link_set_ping_timers(h, 2, 0, 2000, 1000, 1));
	T("link_get_ping_timers.timeout_lt_interval", knet_link_get_ping_timers(h, 2, 0, &ti, &to, &prec),
	  "interval=%lld timeout=%lld precision=%u", (long long)ti, (long long)to, prec);
	T("link_set_ping_timers.interval_negative", knet_link_set_ping_timers(h, 2, 0, -1, 1000, 1));
	T("link_get_ping_timers.interval_negative", knet_link_get_ping_timers(h, 2, 0, &ti, &to, &prec),
	  "interval=%lld timeout=%lld precision=%u", (long long)ti, (long long)to, prec);
	T("link_set_ping_timers.big", knet_link_set_ping_timers(h, 2, 0, 3600000, 7200000, UINT_MAX));
	T("link_get_ping_timers.big", knet_link_get_ping_timers(h, 2, 0, &ti, &to, &prec),
	  "interval=%lld timeout=%lld precision=%u", (long long)ti, (long long)to, prec);
	T("link_set_ping_timers.restore", knet_link_set_ping_timers(h, 2, 0, 1000, 2000, 2048));
	u8 = 0xee;
	T("link_get_pong_count.default", knet_link_get_pong_count(h, 2, 0, &u8), "pong_count=%u", u8);
	T("link_get_pong_count.null", knet_link_get_pong_count(h, 2, 0, NULL));
	T("link_set_pong_count.0", knet_link_set_pong_count(h, 2, 0, 0));
	T("link_set_pong_count.link8", knet_link_set_pong_count(h, 2, 8, 1));
	T("link_set_pong_count.255", knet_link_set_pong_count(h, 2, 0, 255));
	u8 = 0xee;
	T("link_get_pong_count.255", knet_link_get_pong_count(h, 2, 0, &u8), "pong_count=%u", u8);
	T("link_set_pong_count.1", knet_link_set_pong_count(h, 2, 0, 1));
	u8 = 0xee;
	T("link_get_priority.default", knet_link_get_priority(h, 2, 0, &u8), "priority=%u", u8);
	T("link_get_priority.null", knet_link_get_priority(h, 2, 0, NULL));
	T("link_set_priority.link8", knet_link_set_priority(h, 2, 8, 1));
	T("link_set_priority.255", knet_link_set_priority(h, 2, 0, 255));
	u8 = 0xee;
	T("link_get_priority.255", knet_link_get_priority(h, 2, 0, &u8), "priority=%u", u8);
	T("link_set_priority.255_again", knet_link_set_priority(h, 2, 0, 255));
	T("link_set_priority.0", knet_link_set_priority(h, 2, 0, 0));
	T("link_set_priority.missing_host", knet_link_set_priority(h, 99, 0, 1));

	/* ACLs are for dynamic links only */
	T("link_add_acl.static_link", knet_link_add_acl(h, 2, 0, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("link_rm_acl.static_link", knet_link_rm_acl(h, 2, 0, &d4, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("link_clear_acl.static_link", knet_link_clear_acl(h, 2, 0));

	/* enable / disable */
	en = 0xee;
	T("link_get_enable.default", knet_link_get_enable(h, 2, 0, &en), "enabled=%u", en);
	T("link_get_enable.null", knet_link_get_enable(h, 2, 0, NULL));
	T("link_get_enable.link8", knet_link_get_enable(h, 2, 8, &en));
	T("link_set_enable.2", knet_link_set_enable(h, 2, 0, 2));
	T("link_set_enable.link8", knet_link_set_enable(h, 2, 8, 1));
	T("link_set_enable.0_already", knet_link_set_enable(h, 2, 0, 0));
	T("link_set_enable.1", knet_link_set_enable(h, 2, 0, 1));
	T("link_set_enable.1_again", knet_link_set_enable(h, 2, 0, 1));
	en = 0xee;
	T("link_get_enable.enabled", knet_link_get_enable(h, 2, 0, &en), "enabled=%u", en);
	print_link_status("link_get_status.enabled", h, 2, 0, 0);
	T("link_clear_config.enabled", knet_link_clear_config(h, 2, 0));
	T("host_remove.with_link", knet_host_remove(h, 2));
	T("link_set_config.enabled_again", knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &s4, &d4, 0));

	/* a second static link, same source, other host; a dynamic one on the
	 * same source collides */
	T("link_set_config.host3_same_src", knet_link_set_config(h, 3, 0, KNET_TRANSPORT_UDP, &s4, &d4b, 0));
	T("link_set_config.host3_dyn_same_src", knet_link_set_config(h, 3, 1, KNET_TRANSPORT_UDP, &s4, NULL, 0));
	T("link_set_config.host3_link7_flags", knet_link_set_config(h, 3, 7, KNET_TRANSPORT_UDP, &s4b, &d4b,
								    KNET_LINK_FLAG_TRAFFICHIPRIO));
	print_link_config("link_get_config.host3_link7_flags", h, 3, 7);
	T("link_set_config.host3_link6_unknown_flags", knet_link_set_config(h, 3, 6, KNET_TRANSPORT_UDP, &s4b,
									     &d4b, 0x100));
	print_link_config("link_get_config.host3_link6_unknown_flags", h, 3, 6);
	print_link_list("link_list.host3", h, 3);
	T("host_remove.with_disabled_links", knet_host_remove(h, 3));
	T("link_clear_config.host3_link6", knet_link_clear_config(h, 3, 6));
	T("link_clear_config.host3_link7", knet_link_clear_config(h, 3, 7));
	T("link_clear_config.host3_link0", knet_link_clear_config(h, 3, 0));
	T("link_clear_config.host3_link0_again", knet_link_clear_config(h, 3, 0));

	/* IPv6 static link */
	T("link_set_config.v6_static", knet_link_set_config(h, 2, 1, KNET_TRANSPORT_UDP, &s6, &d6, 0));
	print_link_config("link_get_config.v6_static", h, 2, 1);
	print_link_status("link_get_status.v6_static", h, 2, 1, 1);
	print_latency_min("link_latency_min.fresh_link", h, 2, 1);

	/* dynamic link and its access lists */
	T("link_set_config.dynamic", knet_link_set_config(h, 2, 2, KNET_TRANSPORT_UDP, &sdyn, NULL, 0));
	print_link_config("link_get_config.dynamic", h, 2, 2);
	memset(&dst, 0x11, sizeof(dst));
	T("link_get_config.dynamic_null_dst", knet_link_get_config(h, 2, 2, &transport, &src, NULL, &dyn, &flags),
	  "dynamic=%u", dyn);
	print_link_status("link_get_status.dynamic", h, 2, 2, 1);
	T("link_set_config.static_on_dyn_src", knet_link_set_config(h, 65535, 0, KNET_TRANSPORT_UDP, &sdyn, &d4, 0));
	T("link_set_config.second_dynamic_same_src", knet_link_set_config(h, 65535, 1, KNET_TRANSPORT_UDP, &sdyn, NULL, 0));
	T("link_clear_config.65535_1", knet_link_clear_config(h, 65535, 1));

	T("acl_add.null_ss1", knet_link_add_acl(h, 2, 2, NULL, &a2, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_add.bad_type", knet_link_add_acl(h, 2, 2, &a1, &a2, (check_type_t)3, CHECK_ACCEPT));
	T("acl_add.bad_type_negative", knet_link_add_acl(h, 2, 2, &a1, &a2, (check_type_t)-1, CHECK_ACCEPT));
	T("acl_add.bad_acceptreject", knet_link_add_acl(h, 2, 2, &a1, &a2, CHECK_TYPE_ADDRESS, (check_acceptreject_t)2));
	T("acl_add.mask_null_ss2", knet_link_add_acl(h, 2, 2, &m1, NULL, CHECK_TYPE_MASK, CHECK_ACCEPT));
	T("acl_add.range_null_ss2", knet_link_add_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_RANGE, CHECK_ACCEPT));
	T("acl_add.range_family_mismatch", knet_link_add_acl(h, 2, 2, &a1, &r6a, CHECK_TYPE_RANGE, CHECK_ACCEPT));
	T("acl_add.link8", knet_link_add_acl(h, 2, 8, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_add.missing_host", knet_link_add_acl(h, 99, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_add.unconfigured_link", knet_link_add_acl(h, 2, 5, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_add.address", knet_link_add_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_add.address_dup", knet_link_add_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_add.address_dup_other_ss2", knet_link_add_acl(h, 2, 2, &a1, &a2, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_add.address_reject_same_addr", knet_link_add_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_REJECT));
	T("acl_add.mask", knet_link_add_acl(h, 2, 2, &m1, &m2, CHECK_TYPE_MASK, CHECK_ACCEPT));
	T("acl_add.mask_dup", knet_link_add_acl(h, 2, 2, &m1, &m2, CHECK_TYPE_MASK, CHECK_ACCEPT));
	T("acl_add.range", knet_link_add_acl(h, 2, 2, &a1, &a2, CHECK_TYPE_RANGE, CHECK_REJECT));
	T("acl_add.range_reversed", knet_link_add_acl(h, 2, 2, &a2, &a1, CHECK_TYPE_RANGE, CHECK_REJECT));
	T("acl_add.range_v6_on_v4_link", knet_link_add_acl(h, 2, 2, &r6a, &r6b, CHECK_TYPE_RANGE, CHECK_ACCEPT));
	T("acl_add.mask_family_mismatch", knet_link_add_acl(h, 2, 2, &a1, &r6b, CHECK_TYPE_MASK, CHECK_ACCEPT));
	T("acl_add.ss1_family_unspec", knet_link_add_acl(h, 2, 2, &unspec, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.ss1_family_unspec", knet_link_rm_acl(h, 2, 2, &unspec, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_insert.index0", knet_link_insert_acl(h, 2, 2, 0, &a2, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_insert.index0_dup", knet_link_insert_acl(h, 2, 2, 0, &a2, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_insert.index100", knet_link_insert_acl(h, 2, 2, 100, &a2, NULL, CHECK_TYPE_ADDRESS, CHECK_REJECT));
	T("acl_insert.index_minus1", knet_link_insert_acl(h, 2, 2, -1, &m2, &m1, CHECK_TYPE_MASK, CHECK_REJECT));
	T("acl_insert.index_minus7", knet_link_insert_acl(h, 2, 2, -7, &m2, &m2, CHECK_TYPE_MASK, CHECK_REJECT));
	T("acl_insert.bad_type", knet_link_insert_acl(h, 2, 2, 0, &a1, &a2, (check_type_t)9, CHECK_ACCEPT));
	T("acl_insert.null_ss1", knet_link_insert_acl(h, 2, 2, 0, NULL, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.null_ss1", knet_link_rm_acl(h, 2, 2, NULL, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.bad_type", knet_link_rm_acl(h, 2, 2, &a1, &a2, (check_type_t)3, CHECK_ACCEPT));
	T("acl_rm.bad_acceptreject", knet_link_rm_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, (check_acceptreject_t)5));
	T("acl_rm.mask_null_ss2", knet_link_rm_acl(h, 2, 2, &m1, NULL, CHECK_TYPE_MASK, CHECK_ACCEPT));
	T("acl_rm.link8", knet_link_rm_acl(h, 2, 8, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.unconfigured_link", knet_link_rm_acl(h, 2, 5, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.address", knet_link_rm_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.address_again", knet_link_rm_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.address_reject_other_ss2", knet_link_rm_acl(h, 2, 2, &a1, &a2, CHECK_TYPE_ADDRESS, CHECK_REJECT));
	T("acl_rm.mask_wrong_ss2", knet_link_rm_acl(h, 2, 2, &m1, &m1, CHECK_TYPE_MASK, CHECK_ACCEPT));
	T("acl_rm.mask_wrong_acceptreject", knet_link_rm_acl(h, 2, 2, &m1, &m2, CHECK_TYPE_MASK, CHECK_REJECT));
	T("acl_rm.mask", knet_link_rm_acl(h, 2, 2, &m1, &m2, CHECK_TYPE_MASK, CHECK_ACCEPT));
	T("acl_rm.range_as_mask", knet_link_rm_acl(h, 2, 2, &a1, &a2, CHECK_TYPE_MASK, CHECK_REJECT));
	T("acl_rm.range", knet_link_rm_acl(h, 2, 2, &a1, &a2, CHECK_TYPE_RANGE, CHECK_REJECT));
	T("acl_clear.dynamic", knet_link_clear_acl(h, 2, 2));
	T("acl_clear.dynamic_again", knet_link_clear_acl(h, 2, 2));
	T("acl_rm.after_clear", knet_link_rm_acl(h, 2, 2, &a2, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_clear.link8", knet_link_clear_acl(h, 2, 8));
	T("acl_clear.missing_host", knet_link_clear_acl(h, 99, 2));
	T("acl_add.after_clear", knet_link_add_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("link_set_enable.dynamic", knet_link_set_enable(h, 2, 2, 1));
	print_link_status("link_get_status.dynamic_enabled", h, 2, 2, 0);
	T("acl_add.dynamic_enabled", knet_link_add_acl(h, 2, 2, &a2, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("link_set_enable.dynamic_off", knet_link_set_enable(h, 2, 2, 0));
	T("link_clear_config.dynamic_with_acl", knet_link_clear_config(h, 2, 2));
	T("link_set_config.dynamic_again", knet_link_set_config(h, 2, 2, KNET_TRANSPORT_UDP, &sdyn, NULL, 0));
	print_latency_min("link_latency_min.after_clear_and_reconfig", h, 2, 2);
	T("acl_rm.after_reconfig", knet_link_rm_acl(h, 2, 2, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));

	/* SCTP (not available everywhere) */
	T("link_set_config.sctp", knet_link_set_config(h, 2, 3, KNET_TRANSPORT_SCTP, &s4b, &d4b, 0));
	if (g_rc == 0)
		T("link_clear_config.sctp", knet_link_clear_config(h, 2, 3));

	/* loopback on the local host */
	T("link_set_config.loopback_self_link0", knet_link_set_config(h, 1, 0, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0));
	print_link_config("link_get_config.loopback", h, 1, 0);
	{
		struct knet_link_status st;
		memset(&st, 0, sizeof(st));
		T("link_get_status.loopback", knet_link_get_status(h, 1, 0, &st, sizeof(st)),
		  "src=%s:%s dst=%s:%s enabled=%u connected=%u dynconnected=%u mtu=%u", st.src_ipaddr,
		  st.src_port, st.dst_ipaddr, st.dst_port, st.enabled, st.connected, st.dynconnected, st.mtu);
	}
	T("link_set_config.loopback_self_second", knet_link_set_config(h, 1, 1, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0));
	T("link_set_config.udp_self_with_loopback", knet_link_set_config(h, 1, 2, KNET_TRANSPORT_UDP, &s4b, &d4b, 0));
	T("acl_add.loopback_static", knet_link_add_acl(h, 1, 0, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	{
		struct knet_host_status hs;
		memset(&hs, 0xee, sizeof(hs));
		T("host_get_status.self_loopback", knet_host_get_status(h, 1, &hs), "reachable=%u", hs.reachable);
	}
	T("link_clear_config.loopback", knet_link_clear_config(h, 1, 0));
	{
		struct knet_host_status hs;
		memset(&hs, 0xee, sizeof(hs));
		T("host_get_status.self_after_loopback", knet_host_get_status(h, 1, &hs), "reachable=%u", hs.reachable);
		sleep_ms(200);
		memset(&hs, 0xee, sizeof(hs));
		T("host_get_status.self_after_loopback_200ms", knet_host_get_status(h, 1, &hs), "reachable=%u",
		  hs.reachable);
	}
	T("link_set_config.udp_self", knet_link_set_config(h, 1, 0, KNET_TRANSPORT_UDP, &s4b, &d4b, 0));
	T("link_set_config.loopback_self_with_udp", knet_link_set_config(h, 1, 1, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0));
	T("link_clear_config.udp_self", knet_link_clear_config(h, 1, 0));
	T("link_set_config.loopback_dynamic", knet_link_set_config(h, 1, 0, KNET_TRANSPORT_LOOPBACK, &lo, NULL, 0));
	print_link_config("link_get_config.loopback_dynamic", h, 1, 0);
	T("acl_add.loopback_dynamic", knet_link_add_acl(h, 1, 0, &a1, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("acl_rm.loopback_dynamic_absent", knet_link_rm_acl(h, 1, 0, &a2, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	T("link_clear_config.loopback_dynamic", knet_link_clear_config(h, 1, 0));

	print_link_list("link_list.host2", h, 2);
	print_host_list("host_list.with_links", h);

	/* cleanup of what is left on host 2 */
	T("link_set_enable.v4_off", knet_link_set_enable(h, 2, 0, 0));
	en = 0xee;
	T("link_get_enable.v4_off", knet_link_get_enable(h, 2, 0, &en), "enabled=%u", en);
	for (i = 0; i < KNET_MAX_LINK; i++) {
		snprintf(label, sizeof(label), "link_clear_config.host2_link%d", i);
		T(label, knet_link_clear_config(h, 2, (uint8_t)i));
	}
	print_link_list("link_list.host2_cleared", h, 2);
}

/* Local delivery through a loopback link (one handle, id 1). */
static void section_loopback_data(knet_handle_t h, int datafd)
{
	struct sockaddr_storage lo = mk4("127.0.0.1", 61160);
	struct filter_cfg fc = { 0, { 1, 0 }, 1 };
	char buf[128], in[256];
	int r;

	memset(buf, 0, sizeof(buf));
	snprintf(buf, sizeof(buf), "hello loopback");
	T("loop.link_set_config", knet_link_set_config(h, 1, 0, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0));
	T("loop.link_set_enable", knet_link_set_enable(h, 1, 0, 1));
	T("loop.enable_filter", knet_handle_enable_filter(h, &fc, filter_fn));

	/* forwarding off */
	T("loop.setfwd0", knet_handle_setfwd(h, 0));
	T("loop.send_sync_fwd_off", knet_send_sync(h, buf, 15, 0));
	T("loop.setfwd1", knet_handle_setfwd(h, 1));

	/* unicast to self: written locally */
	T("loop.send_sync_unicast_self", knet_send_sync(h, buf, 15, 0));
	r = wait_readable(datafd, 1000);
	memset(in, 0, sizeof(in));
	T("loop.recv_after_unicast_self", r ? knet_recv(h, in, sizeof(in), 0) : -1000, "data=%s", in);

	fc.mode = 1; /* broadcast: refused by send_sync after the local write */
	T("loop.send_sync_broadcast", knet_send_sync(h, buf, 15, 0));
	r = wait_readable(datafd, 1000);
	memset(in, 0, sizeof(in));
	T("loop.recv_after_broadcast", r ? knet_recv(h, in, sizeof(in), 0) : -1000, "data=%s", in);

	fc.mode = -1;
	T("loop.send_sync_filter_error", knet_send_sync(h, buf, 15, 0));
	fc.mode = 0;
	fc.n = 0;
	T("loop.send_sync_unicast_no_dst", knet_send_sync(h, buf, 15, 0));
	fc.n = 2;
	fc.dst[0] = 1;
	fc.dst[1] = 3;
	T("loop.send_sync_unicast_two_dst", knet_send_sync(h, buf, 15, 0));
	r = wait_readable(datafd, 300);
	if (r) {
		memset(in, 0, sizeof(in));
		knet_recv(h, in, sizeof(in), 0);
	}
	fc.n = 1;
	fc.dst[0] = 3; /* configured, not reachable */
	T("loop.send_sync_unicast_unreachable", knet_send_sync(h, buf, 15, 0));
	fc.dst[0] = 999; /* not a host */
	T("loop.send_sync_unicast_unknown", knet_send_sync(h, buf, 15, 0));
	T("loop.send_sync_unused_channel", knet_send_sync(h, buf, 15, 9));

	/* the asynchronous path: knet_send -> tx thread -> local delivery */
	fc.mode = 1;
	snprintf(buf, sizeof(buf), "async loopback");
	T("loop.send_async", knet_send(h, buf, 15, 0));
	/* knet_send writes to the datafd itself, so what the application then
	 * reads back is the locally delivered copy */
	r = wait_readable(datafd, 2000);
	memset(in, 0, sizeof(in));
	T("loop.recv_async", r ? knet_recv(h, in, sizeof(in), 0) : -1000, "data=%s", in);
	T("loop.recv_empty", knet_recv(h, in, sizeof(in), 0));

	/* data written while forwarding is off, then forwarding back on */
	T("loop.setfwd0_before_stale", knet_handle_setfwd(h, 0));
	snprintf(buf, sizeof(buf), "written while forwarding off");
	T("loop.send_while_fwd_off", knet_send(h, buf, 29, 0));
	sleep_ms(100);
	T("loop.setfwd1_after_stale", knet_handle_setfwd(h, 1));
	r = wait_readable(datafd, 500);
	memset(in, 0, sizeof(in));
	T("loop.recv_after_fwd_back_on", r ? knet_recv(h, in, sizeof(in), 0) : knet_recv(h, in, sizeof(in), 0),
	  "data=%s", in);
	while (wait_readable(datafd, 0) && knet_recv(h, in, sizeof(in), 0) > 0)
		;

	T("loop.setfwd0_end", knet_handle_setfwd(h, 0));
	T("loop.enable_filter_off", knet_handle_enable_filter(h, NULL, NULL));
	T("loop.link_clear_enabled", knet_link_clear_config(h, 1, 0));
	T("loop.link_set_disable", knet_link_set_enable(h, 1, 0, 0));
	T("loop.link_clear", knet_link_clear_config(h, 1, 0));
}

/* Two handles in this process talking over UDP on 127.0.0.1. */
static void section_pair(void)
{
	knet_handle_t a, b;
	struct sockaddr_storage sa = mk4("127.0.0.1", 61170), sb = mk4("127.0.0.1", 61171);
	struct filter_cfg fa = { 0, { 2, 0 }, 1 }, fb = { 0, { 1, 0 }, 1 };
	struct knet_host_status hs;
	int fda = 0, fdb = 0, i, r;
	int8_t cha = 0, chb = 0;
	char buf[64], in[256];
	unsigned int en;

	a = knet_handle_new_ex(1, logfds[1], KNET_LOG_DEBUG, 0);
	b = knet_handle_new_ex(2, logfds[1], KNET_LOG_DEBUG, 0);
	repx("pair.handles", (a && b) ? "handle" : "NULL", !(a && b), "");
	if (!a || !b) {
		if (a)
			knet_handle_free(a);
		if (b)
			knet_handle_free(b);
		return;
	}
	knet_handle_enable_sock_notify(a, NULL, sock_cb);
	knet_handle_enable_sock_notify(b, NULL, sock_cb);
	T("pair.a_add_datafd", knet_handle_add_datafd(a, &fda, &cha), "channel=%d", cha);
	T("pair.b_add_datafd", knet_handle_add_datafd(b, &fdb, &chb), "channel=%d", chb);
	knet_handle_enable_filter(a, &fa, filter_fn);
	knet_handle_enable_filter(b, &fb, filter_fn);
	T("pair.a_host_add", knet_host_add(a, 2));
	T("pair.b_host_add", knet_host_add(b, 1));
	T("pair.a_link", knet_link_set_config(a, 2, 0, KNET_TRANSPORT_UDP, &sa, &sb, 0));
	T("pair.b_link", knet_link_set_config(b, 1, 0, KNET_TRANSPORT_UDP, &sb, &sa, 0));
	T("pair.a_timers", knet_link_set_ping_timers(a, 2, 0, 100, 1000, 16));
	T("pair.b_timers", knet_link_set_ping_timers(b, 1, 0, 100, 1000, 16));
	T("pair.a_pong", knet_link_set_pong_count(a, 2, 0, 1));
	T("pair.b_pong", knet_link_set_pong_count(b, 1, 0, 1));
	T("pair.a_fwd", knet_handle_setfwd(a, 1));
	T("pair.b_fwd", knet_handle_setfwd(b, 1));
	snprintf(buf, sizeof(buf), "before link up");
	T("pair.send_sync_before_enable", knet_send_sync(a, buf, 15, 0));
	T("pair.a_enable", knet_link_set_enable(a, 2, 0, 1));
	T("pair.b_enable", knet_link_set_enable(b, 1, 0, 1));

	/* bounded wait for both sides to see each other */
	for (i = 0; i < 100; i++) {
		struct knet_host_status ha, hb;
		if (knet_host_get_status(a, 2, &ha) == 0 && knet_host_get_status(b, 1, &hb) == 0 &&
		    ha.reachable && hb.reachable)
			break;
		sleep_ms(50);
		drain_log();
	}
	memset(&hs, 0, sizeof(hs));
	T("pair.a_status_host2", knet_host_get_status(a, 2, &hs), "reachable=%u", hs.reachable);
	{
		struct knet_link_status st;
		memset(&st, 0, sizeof(st));
		T("pair.a_link_status", knet_link_get_status(a, 2, 0, &st, sizeof(st)),
		  "enabled=%u connected=%u dynconnected=%u src=%s:%s dst=%s:%s", st.enabled, st.connected,
		  st.dynconnected, st.src_ipaddr, st.src_port, st.dst_ipaddr, st.dst_port);
	}

	snprintf(buf, sizeof(buf), "sync a to b");
	T("pair.send_sync_a_to_b", knet_send_sync(a, buf, 12, 0));
	r = wait_readable(fdb, 2000);
	memset(in, 0, sizeof(in));
	T("pair.b_recv_sync", r ? knet_recv(b, in, sizeof(in), 0) : -1000, "data=%s", in);

	fb.dst[0] = 1;
	snprintf(buf, sizeof(buf), "async b to a");
	T("pair.send_b_to_a", knet_send(b, buf, 13, 0));
	r = wait_readable(fda, 2000);
	memset(in, 0, sizeof(in));
	T("pair.a_recv_async", r ? knet_recv(a, in, sizeof(in), 0) : -1000, "data=%s", in);

	fa.mode = 1;
	T("pair.send_sync_broadcast", knet_send_sync(a, buf, 13, 0));
	fa.mode = 0;
	fa.dst[0] = 3;
	T("pair.send_sync_to_unknown", knet_send_sync(a, buf, 13, 0));

	/* teardown order checks */
	T("pair.a_free_with_host", knet_handle_free(a));
	T("pair.a_host_remove_with_link", knet_host_remove(a, 2));
	T("pair.a_clear_enabled", knet_link_clear_config(a, 2, 0));
	T("pair.a_disable", knet_link_set_enable(a, 2, 0, 0));
	en = 0xee;
	T("pair.a_get_enable", knet_link_get_enable(a, 2, 0, &en), "enabled=%u", en);
	T("pair.a_clear", knet_link_clear_config(a, 2, 0));
	T("pair.a_host_remove", knet_host_remove(a, 2));
	T("pair.a_free", knet_handle_free(a));
	knet_handle_setfwd(b, 0);
	knet_link_set_enable(b, 1, 0, 0);
	knet_link_clear_config(b, 1, 0);
	knet_host_remove(b, 1);
	T("pair.b_free_with_datafd", knet_handle_free(b));
	drain_log();
}

int main(void)
{
	knet_handle_t h;
	void *fake;
	int datafd = 0;

	if (diff_start(30) != 0)
		return 2;

	section_addr();
	section_lists();
	section_log_names();

	/* not handles: NULL, and a readable zero-filled mapping large enough
	 * for 1.25's knet_handle_crypto to read a field from before checking */
	sweep_bad_handle("null_handle", NULL, 1);
	fake = mmap(NULL, 256u << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fake != MAP_FAILED) {
		sweep_bad_handle("foreign_pointer", (knet_handle_t)fake, 1);
		munmap(fake, 256u << 20);
	}
	T("handle_free.null", knet_handle_free(NULL));

	section_handle_new();
	drain_log();

	errno = 0;
	h = knet_handle_new_ex(1, logfds[1], KNET_LOG_DEBUG, 0);
	g_err = errno;
	repx("main.handle_new_ex", h ? "handle" : "NULL", h == NULL, "");
	if (!h)
		return 1;
	report_library();

	section_handle_basics(h);
	drain_log();
	section_datafd(h, &datafd);
	drain_log();
	section_send_recv_args(h);
	section_crypto_compress(h);
	drain_log();
	section_hosts(h);
	section_links(h);
	drain_log();
	section_loopback_data(h, datafd);
	drain_log();

	/* teardown: the handle refuses to go while hosts exist */
	T("main.free_with_hosts", knet_handle_free(h));
	T("main.host_remove_2", knet_host_remove(h, 2));
	T("main.host_remove_3", knet_host_remove(h, 3));
	T("main.host_remove_65535", knet_host_remove(h, 65535));
	T("main.free_with_host_1", knet_handle_free(h));
	T("main.host_remove_1", knet_host_remove(h, 1));
	print_host_list("main.host_list_empty", h);
	T("main.free", knet_handle_free(h));
	T("main.free_again", knet_handle_free(h));
	drain_log();

	section_pair();

	fprintf(stderr, "api_diff: %d calls\n", g_calls);
	printf("END calls=%d\n", g_calls);
	return 0;
}
