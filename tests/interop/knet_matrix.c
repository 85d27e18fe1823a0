/*
 * Interop acceptance matrix: one process on the reference libknet, one on
 * ours, both directions.  Written against the public libknet.h only and
 * linked like knet_node, so LD_LIBRARY_PATH picks the library at run time.
 *
 * usage: knet_matrix run SCENARIO OUR_LIB_DIR [4|6] [ours-only]
 *          launcher: for each direction (ours=node1/ref=node2, then
 *          ref=node1/ours=node2) forks two nodes of this same binary,
 *          connected by a socketpair used as a lock-step control channel;
 *          collects their PASS/FAIL lines; prints "N passed, N failed".
 *        knet_matrix node SCENARIO ME PEER CTLFD PORTBASE FAMILY
 *          one node (started by the launcher).
 *
 * Scenarios: failover (PASSIVE, two links), policies (ACTIVE then RR, two
 * channels, exactly-once), crypto-openssl / crypto-nss (cipher x hash matrix,
 * 64 B and 60 KB, reconfigured in lock-step), wrongkey (different keys, then
 * the same key), clear (DISALLOW/ALLOW_CLEAR_TRAFFIC against a clear peer),
 * rotation (rekey under a continuous numbered stream), compress (every model
 * at two levels, 8 KB compressible and a below-threshold message, stats).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include <libknet.h>

#include "tsan_ref_stack.h"

/* ------------------------------------------------------------------ */
/* common                                                              */

static int passed, failed;
static char tag[64] = "launcher";

static void result(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    printf("%s: [%s] %s\n", ok ? "PASS" : "FAIL", tag, line);
    fflush(stdout);
    if (ok) passed++;
    else failed++;
}

static void info(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    printf("  [%s] %s\n", tag, line);
    fflush(stdout);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* node state                                                          */

#define MAX_SEQ 200000
#define NCH 2
static knet_handle_t h;
static int me, peer, ctl = -1, fam = 4, port_base;
static int datafd[NCH];
static int8_t chan[NCH];
static int nchan;
static int log_pipe[2] = {-1, -1};
static atomic_int decrypt_log_lines; /* counted by log_thread, read by main */
static int verbose;

/* Leaves the node process.  While the handle exists its threads run, and
 * exit()'s atexit handlers (OpenSSL's and NSS's cleanup) would race with
 * them: then leave with _exit() instead, after flushing our output. */
static void node_exit(int code) {
    fflush(stdout);
    fflush(stderr);
    if (h) _exit(code);
    exit(code);
}

static void *log_thread(void *arg) {
    (void)arg;
    struct knet_log_msg msg;
    while (read(log_pipe[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
        msg.msg[sizeof(msg.msg) - 1] = 0;
        /* "Unable to decrypt/auth packet" (reference), "Digest does not match" (both) */
        if (strcasestr(msg.msg, "decrypt") || strcasestr(msg.msg, "digest") || strcasestr(msg.msg, "auth"))
            atomic_fetch_add(&decrypt_log_lines, 1);
        if (verbose)
            fprintf(stderr, "[%s log %s/%s] %s\n", tag, knet_log_get_subsystem_name(msg.subsystem),
                    knet_log_get_loglevel_name(msg.msglevel), msg.msg);
    }
    return NULL;
}

static void sock_notify(void *priv, int fd, int8_t ch, uint8_t txrx, int err, int errn) {
    (void)priv;
    fprintf(stderr, "[%s] sock_notify fd %d ch %d %s err %d errno %d\n", tag, fd, ch,
            txrx == KNET_NOTIFY_TX ? "tx" : "rx", err, errn);
}

/* per-channel receive accounting of numbered stream messages */
struct rxacct {
    uint8_t seen[MAX_SEQ];
    uint64_t got, dups, bad, wrongch, beyond;
};
static struct rxacct rxa[NCH];
static uint64_t rx_any; /* every message read, any kind */
static uint32_t tx_seq[NCH];

static void acct_reset(void) {
    memset(rxa, 0, sizeof(rxa));
    memset(tx_seq, 0, sizeof(tx_seq));
}

/* message: 'S' ch seq(4) len(4) payload; payload is a function of (ch, seq,
 * len, i) and compressible when 'compressible' is set (byte 10 = 1) */
static void fill_msg(unsigned char *buf, size_t len, uint8_t ch, uint32_t seq, int compressible) {
    buf[0] = 'S';
    buf[1] = ch;
    memcpy(buf + 2, &seq, 4);
    uint32_t l = (uint32_t)len;
    memcpy(buf + 6, &l, 4);
    buf[10] = (unsigned char)compressible;
    for (size_t i = 11; i < len; i++)
        buf[i] = compressible ? (unsigned char)("knet interop compressible text "[(i + seq) % 31])
                              : (unsigned char)((i * 7 + seq * 13 + len + ch * 101) & 0xff);
}

static int check_msg(const unsigned char *buf, size_t len, uint8_t *ch, uint32_t *seq) {
    if (len < 11 || buf[0] != 'S') return 0;
    uint32_t l;
    *ch = buf[1];
    memcpy(seq, buf + 2, 4);
    memcpy(&l, buf + 6, 4);
    if (l != len) return 0;
    int c = buf[10];
    for (size_t i = 11; i < len; i++) {
        unsigned char want = c ? (unsigned char)("knet interop compressible text "[(i + *seq) % 31])
                               : (unsigned char)((i * 7 + *seq * 13 + len + *ch * 101) & 0xff);
        if (buf[i] != want) return 0;
    }
    return 1;
}

static unsigned char rxbuf[KNET_MAX_PACKET_SIZE];
static unsigned char txbuf[KNET_MAX_PACKET_SIZE];

static void on_rx(int idx, const unsigned char *buf, ssize_t n) {
    rx_any++;
    uint8_t ch;
    uint32_t seq;
    struct rxacct *a = &rxa[idx];
    if (!check_msg(buf, (size_t)n, &ch, &seq)) {
        a->bad++;
        return;
    }
    if (ch != chan[idx]) {
        a->wrongch++;
        return;
    }
    if (seq >= MAX_SEQ) {
        a->beyond++;
        return;
    }
    if (a->seen[seq]) a->dups++;
    else {
        a->seen[seq] = 1;
        a->got++;
    }
}

/* read whatever is available on the datafds, waiting at most ms */
static void pump(int ms) {
    struct pollfd p[NCH];
    for (int i = 0; i < nchan; i++) {
        p[i].fd = datafd[i];
        p[i].events = POLLIN;
        p[i].revents = 0;
    }
    if (poll(p, (nfds_t)nchan, ms) <= 0) return;
    for (int i = 0; i < nchan; i++) {
        if (!(p[i].revents & POLLIN)) continue;
        for (int k = 0; k < 64; k++) {
            ssize_t n = knet_recv(h, (char *)rxbuf, sizeof(rxbuf), chan[i]);
            if (n <= 0) break;
            on_rx(i, rxbuf, n);
        }
    }
}

static void pump_for(double secs) {
    double end = now_s() + secs;
    while (now_s() < end) pump(10);
}

static void pump(int ms);

/* knet_send, waiting (bounded, still reading) while the datafd is full */
static int send_seq(int idx, uint32_t seq, size_t len, int compressible) {
    fill_msg(txbuf, len, (uint8_t)chan[idx], seq, compressible);
    double end = now_s() + 2;
    for (;;) {
        ssize_t w = knet_send(h, (const char *)txbuf, len, chan[idx]);
        if (w == (ssize_t)len) return 1;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now_s() < end) {
            pump(1);
            continue;
        }
        return 0;
    }
}

static int send_msg(int idx, size_t len, int compressible) {
    return send_seq(idx, tx_seq[idx]++, len, compressible);
}

/* ---- control channel: lines, pumping the datafds while waiting ---- */

static void ctl_send(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    if (write(ctl, line, (size_t)n) != n) {
        result(0, "control channel write failed");
        node_exit(3);
    }
}

static char ctl_in[4096];
static size_t ctl_len;

static void ctl_recv(char *out, size_t outsz) {
    double deadline = now_s() + 60;
    for (;;) {
        char *nl = memchr(ctl_in, '\n', ctl_len);
        if (nl) {
            size_t l = (size_t)(nl - ctl_in);
            size_t c = l < outsz - 1 ? l : outsz - 1;
            memcpy(out, ctl_in, c);
            out[c] = 0;
            memmove(ctl_in, nl + 1, ctl_len - l - 1);
            ctl_len -= l + 1;
            return;
        }
        if (now_s() > deadline) {
            result(0, "control channel: peer silent for 60 s");
            node_exit(3);
        }
        struct pollfd p[NCH + 1];
        p[0].fd = ctl;
        p[0].events = POLLIN;
        p[0].revents = 0;
        for (int i = 0; i < nchan; i++) {
            p[i + 1].fd = datafd[i];
            p[i + 1].events = POLLIN;
            p[i + 1].revents = 0;
        }
        if (poll(p, (nfds_t)(nchan + 1), 100) <= 0) continue;
        if (p[0].revents) {
            ssize_t n = read(ctl, ctl_in + ctl_len, sizeof(ctl_in) - ctl_len);
            if (n <= 0) {
                result(0, "control channel closed by peer");
                node_exit(3);
            }
            ctl_len += (size_t)n;
        }
        if (nchan) pump(0);
    }
}

static void sync_point(const char *name) {
    char got[256];
    ctl_send("sync %s", name);
    ctl_recv(got, sizeof(got));
    char want[256];
    snprintf(want, sizeof(want), "sync %s", name);
    if (strcmp(got, want)) {
        result(0, "control channel out of step: mine '%s', peer '%s'", want, got);
        node_exit(3);
    }
}

static long long xchg(const char *name, long long v) {
    char got[256];
    ctl_send("x %s %lld", name, v);
    ctl_recv(got, sizeof(got));
    char pname[128];
    long long pv;
    if (sscanf(got, "x %127s %lld", pname, &pv) != 2 || strcmp(pname, name)) {
        result(0, "control channel out of step at %s: '%s'", name, got);
        node_exit(3);
    }
    return pv;
}

/* ---- handle setup ---- */

/* netns mode (failover as root): node 1 and node 2 live in two network
 * namespaces joined by one veth pair per link, 10.99.<link>.<node>/24 */
static int netns_mode;

static void make_addr(int node, int link, struct sockaddr_storage *ss) {
    char port[16], ip[32];
    snprintf(port, sizeof(port), "%d", port_base + 2 * link + (node == 1 ? 0 : 1));
    if (netns_mode) snprintf(ip, sizeof(ip), "10.99.%d.%d", link, node);
    else snprintf(ip, sizeof(ip), "%s", fam == 6 ? "::1" : "127.0.0.1");
    if (knet_strtoaddr(ip, port, ss, sizeof(*ss))) {
        perror("knet_strtoaddr");
        node_exit(2);
    }
}

struct setup {
    int nlinks;
    uint8_t policy;
    int channels;
    unsigned int ping_interval, ping_timeout;
    int prio[4];
    int debug_rx;
    int crypto_keyseed; /* >0: openssl aes256/sha256 in slot 1, in use, before any link */
};

static int crypto_set(int slot, const char *model, const char *cipher, const char *hash, int keyseed);

static void open_handle(const struct setup *s) {
    if (pipe(log_pipe)) node_exit(2);
    pthread_t lt;
    pthread_create(&lt, NULL, log_thread, NULL);
    h = knet_handle_new((knet_node_id_t)me, log_pipe[1], verbose ? KNET_LOG_DEBUG : KNET_LOG_ERR);
    if (!h) {
        result(0, "knet_handle_new: %s", strerror(errno));
        node_exit(1);
    }
    if (s->debug_rx) {
        knet_log_set_loglevel(h, KNET_SUB_RX, KNET_LOG_DEBUG);
        knet_log_set_loglevel(h, KNET_SUB_CRYPTO, KNET_LOG_DEBUG);
        knet_log_set_loglevel(h, KNET_SUB_OPENSSLCRYPTO, KNET_LOG_DEBUG);
        knet_log_set_loglevel(h, KNET_SUB_NSSCRYPTO, KNET_LOG_DEBUG);
    }
    knet_handle_enable_sock_notify(h, NULL, sock_notify);
    if (s->crypto_keyseed &&
        (crypto_set(1, "openssl", "aes256", "sha256", s->crypto_keyseed) || knet_handle_crypto_use_config(h, 1))) {
        result(0, "crypto config: %s", strerror(errno));
        node_exit(1);
    }
    if (knet_host_add(h, (knet_node_id_t)peer)) {
        result(0, "knet_host_add: %s", strerror(errno));
        node_exit(1);
    }
    knet_host_set_policy(h, (knet_node_id_t)peer, s->policy);
    for (int l = 0; l < s->nlinks; l++) {
        struct sockaddr_storage src, dst;
        make_addr(me, l, &src);
        make_addr(peer, l, &dst);
        if (knet_link_set_config(h, (knet_node_id_t)peer, (uint8_t)l, KNET_TRANSPORT_UDP, &src, &dst, 0)) {
            result(0, "knet_link_set_config link %d: %s", l, strerror(errno));
            node_exit(1);
        }
        knet_link_set_ping_timers(h, (knet_node_id_t)peer, (uint8_t)l, s->ping_interval, s->ping_timeout, 2048);
        knet_link_set_pong_count(h, (knet_node_id_t)peer, (uint8_t)l, 2);
        if (s->prio[l]) knet_link_set_priority(h, (knet_node_id_t)peer, (uint8_t)l, (uint8_t)s->prio[l]);
        if (knet_link_set_enable(h, (knet_node_id_t)peer, (uint8_t)l, 1)) {
            result(0, "knet_link_set_enable link %d: %s", l, strerror(errno));
            node_exit(1);
        }
    }
    nchan = s->channels;
    for (int i = 0; i < nchan; i++) {
        datafd[i] = 0;
        chan[i] = (int8_t)i;
        if (knet_handle_add_datafd(h, &datafd[i], &chan[i])) {
            result(0, "knet_handle_add_datafd channel %d: %s", i, strerror(errno));
            node_exit(1);
        }
    }
    knet_handle_setfwd(h, 1);
}

static int peer_reachable(void) {
    struct knet_host_status st;
    memset(&st, 0, sizeof(st));
    if (knet_host_get_status(h, (knet_node_id_t)peer, &st)) return 0;
    return st.reachable;
}

static int wait_reachable(double secs) {
    double end = now_s() + secs;
    while (now_s() < end) {
        if (peer_reachable()) return 1;
        pump(20);
    }
    return peer_reachable();
}

static struct knet_link_status link_status(int l) {
    struct knet_link_status st;
    memset(&st, 0, sizeof(st));
    knet_link_get_status(h, (knet_node_id_t)peer, (uint8_t)l, &st, sizeof(st));
    return st;
}

static void close_handle(int nlinks) {
    knet_handle_setfwd(h, 0);
    for (int l = 0; l < nlinks; l++) {
        knet_link_set_enable(h, (knet_node_id_t)peer, (uint8_t)l, 0);
        knet_link_clear_config(h, (knet_node_id_t)peer, (uint8_t)l);
    }
    knet_host_remove(h, (knet_node_id_t)peer);
    for (int i = 0; i < nchan; i++) knet_handle_remove_datafd(h, datafd[i]);
    nchan = 0;
    if (knet_handle_free(h)) result(0, "knet_handle_free: %s", strerror(errno));
    else h = NULL;
}

static int crypto_set(int slot, const char *model, const char *cipher, const char *hash, int keyseed) {
    struct knet_handle_crypto_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.crypto_model, sizeof(cfg.crypto_model), "%s", model);
    snprintf(cfg.crypto_cipher_type, sizeof(cfg.crypto_cipher_type), "%s", cipher);
    snprintf(cfg.crypto_hash_type, sizeof(cfg.crypto_hash_type), "%s", hash);
    for (int i = 0; i < 128; i++) cfg.private_key[i] = (unsigned char)(i * 3 + keyseed * 77 + 1);
    cfg.private_key_len = 128;
    return knet_handle_crypto_set_config(h, &cfg, (uint8_t)slot);
}

/* ------------------------------------------------------------------ */
/* scenario: PASSIVE failover over two links                           */

struct ldelta {
    unsigned long long tx[2], rx[2];
};

static void link_snap(unsigned long long *tx, unsigned long long *rx) {
    for (int l = 0; l < 2; l++) {
        struct knet_link_status st = link_status(l);
        tx[l] = st.stats.tx_data_packets;
        rx[l] = st.stats.rx_data_packets;
    }
}

/* stream on channel 0 at ~rate msg/s for secs; returns link deltas */
static struct ldelta stream_window(double secs, double rate, uint64_t *rx_in_window) {
    struct ldelta d;
    unsigned long long tx0[2], rx0[2], tx1[2], rx1[2];
    link_snap(tx0, rx0);
    uint64_t got0 = rxa[0].got;
    double end = now_s() + secs, next = now_s();
    while (now_s() < end) {
        if (now_s() >= next) {
            send_msg(0, 200 + (tx_seq[0] % 5) * 300, 0);
            next += 1.0 / rate;
        }
        pump(2);
    }
    pump_for(0.1);
    link_snap(tx1, rx1);
    for (int l = 0; l < 2; l++) {
        d.tx[l] = tx1[l] - tx0[l];
        d.rx[l] = rx1[l] - rx0[l];
    }
    if (rx_in_window) *rx_in_window = rxa[0].got - got0;
    return d;
}

/* stream while waiting (bounded) for link 0 to reach 'want' connected;
 * returns the seconds it took or -1 */
static double wait_link0(int want, double since, double max) {
    double end = now_s() + max, next = now_s();
    while (now_s() < end) {
        if (now_s() >= next) {
            send_msg(0, 200, 0);
            next += 1.0 / 200;
        }
        pump(2);
        if (!!link_status(0).connected == want) return now_s() - since;
    }
    return -1;
}

/* a 2 s streaming window; expect_link: which link must carry all my tx
 * (-1: do not check); rx of the peer's stream must keep arriving */
static void failover_window(const char *what, int expect_link) {
    uint64_t win;
    struct ldelta d = stream_window(2.0, 200, &win);
    info("%s: link0 tx %llu rx %llu, link1 tx %llu rx %llu, received %llu", what, d.tx[0], d.rx[0], d.tx[1],
         d.rx[1], (unsigned long long)win);
    if (expect_link < 0) {
        result(win > 100, "%s: messages keep arriving (%llu in 2 s)", what, (unsigned long long)win);
        return;
    }
    int other = 1 - expect_link;
    /* the reference may send one message on the old link as the window
     * opens (its link chosen just before its own switch: seen once under
     * TSan); ours must send none */
    const char *mylib = getenv("KNET_MATRIX_LIB");
    const uint64_t stray = mylib && !strcmp(mylib, "ref") ? 1 : 0;
    result(d.tx[expect_link] > 100 && d.tx[other] <= stray && win > 100,
           "%s: my traffic on link %d only (tx0 %llu tx1 %llu), messages keep arriving (%llu in 2 s)", what,
           expect_link, d.tx[0], d.tx[1], (unsigned long long)win);
}

static void sc_failover(void) {
    struct setup s = {.nlinks = 2, .policy = KNET_LINK_POLICY_PASSIVE, .channels = 1,
                      .ping_interval = 200, .ping_timeout = 1000, .prio = {10, 5}};
    open_handle(&s);
    int r = wait_reachable(20);
    int pr = (int)xchg("reach", r);
    result(r && pr, "peer reachable over two PASSIVE links");
    if (!r || !pr) return;
    double end = now_s() + 10;
    while (now_s() < end && !(link_status(0).connected && link_status(1).connected)) pump(20);
    sync_point("up");
    failover_window("A: both links up", 0);
    sync_point("A");

    /* B: node 1 disables its link 0.  Node 1 moves at once; node 2 keeps
     * link 0 as long as its pings are answered there, as the reference does */
    if (me == 1) knet_link_set_enable(h, (knet_node_id_t)peer, 0, 0);
    sync_point("disabled");
    pump_for(0.2);
    failover_window(me == 1 ? "B: link 0 disabled here" : "B: link 0 disabled by the peer", me == 1 ? 1 : -1);
    sync_point("B");
    double t = now_s();
    if (me == 1) knet_link_set_enable(h, (knet_node_id_t)peer, 0, 1);
    double t_up = wait_link0(1, t, 8);
    result(t_up >= 0, "C: link 0 connected again after re-enable (%.2f s)", t_up);
    sync_point("reenabled");
    pump_for(0.3);
    failover_window("C: link 0 re-enabled", 0);
    sync_point("C");

    /* D: link 0 fails: node 1 takes its veth of link 0 down (netns mode
     * only); both sides must notice by ping timeout and move to link 1 */
    if (netns_mode) {
        if (me == 1 && system("ip link set k0a down")) result(0, "ip link set k0a down failed");
        t = now_s();
        sync_point("broken");
        double t_down = wait_link0(0, t, 5);
        /* the reference takes up to ~3 s on the side whose interface went down */
        result(t_down >= 0 && t_down < 4.0, "D: link 0 failure detected (ping timeout 1 s) in %.2f s", t_down);
        sync_point("down");
        failover_window("D: link 0 failed", 1);
        sync_point("D");
        if (me == 1 && system("ip link set k0a up")) result(0, "ip link set k0a up failed");
        t = now_s();
        sync_point("repaired");
        t_up = wait_link0(1, t, 8);
        result(t_up >= 0, "E: link 0 connected again after repair (%.2f s)", t_up);
        sync_point("back");
        pump_for(0.3);
        failover_window("E: link 0 repaired", 0);
        sync_point("E");
    } else {
        info("D/E (link 0 failure by a veth going down) skipped: needs root and network namespaces");
    }

    pump_for(0.3);
    long long psent = xchg("sent", tx_seq[0]);
    uint64_t lost = (uint64_t)psent - rxa[0].got;
    info("stream: peer sent %lld, received %llu, lost %llu (failure window), dups %llu, corrupt %llu", psent,
         (unsigned long long)rxa[0].got, (unsigned long long)lost, (unsigned long long)rxa[0].dups,
         (unsigned long long)rxa[0].bad);
    /* losses only while link 0 is dead and not yet detected: <= 5 s at 200/s */
    result(rxa[0].dups == 0 && rxa[0].bad == 0 && lost <= (netns_mode ? 1000 : 0),
           "stream across failover/failback: %llu/%lld delivered, lost %llu, 0 dups, 0 corrupt",
           (unsigned long long)rxa[0].got, psent, (unsigned long long)lost);
    sync_point("end");
    close_handle(2);
}

/* ------------------------------------------------------------------ */
/* scenario: ACTIVE then RR, exactly once, two channels                */

static void exactly_once_round(const char *pname, int nmsgs) {
    acct_reset();
    unsigned long long tx0[2], rx0[2], tx1[2], rx1[2];
    link_snap(tx0, rx0);
    sync_point(pname);
    static const size_t szs[] = {64, 1200, 4000, 9000};
    /* knet has no flow control: an unpaced burst from our fast sender
     * overran the reference's receiver under CI load (264 of 1500 lost in
     * one run), so the messages go out at 10k per second per channel at
     * most, far below what either library receives */
    const double start = now_s();
    for (int i = 0; i < nmsgs; i++) {
        for (int c = 0; c < 2; c++) {
            if (!send_msg(c, szs[(tx_seq[c] + (uint32_t)c) % 4], 0)) {
                result(0, "%s: knet_send failed: %s", pname, strerror(errno));
                return;
            }
        }
        if (i % 8 == 7) {
            pump(1);
            while (now_s() - start < (i + 1) * 100e-6) pump(1);
        }
    }
    double end = now_s() + 10;
    while (now_s() < end && (rxa[0].got < (uint64_t)nmsgs || rxa[1].got < (uint64_t)nmsgs)) pump(20);
    pump_for(0.3); /* late duplicates */
    link_snap(tx1, rx1);
    sync_point("done");
    for (int c = 0; c < 2; c++) {
        long long ps = xchg(c ? "sent1" : "sent0", tx_seq[c]);
        struct rxacct *a = &rxa[c];
        result(a->got == (uint64_t)ps && a->dups == 0 && a->bad == 0 && a->wrongch == 0 && a->beyond == 0,
               "%s channel %d: %llu/%lld delivered exactly once (dups %llu, lost %llu, corrupt %llu, from other "
               "channel %llu)",
               pname, c, (unsigned long long)a->got, ps, (unsigned long long)a->dups,
               (unsigned long long)((uint64_t)ps - a->got), (unsigned long long)a->bad,
               (unsigned long long)a->wrongch);
    }
    unsigned long long t0 = tx1[0] - tx0[0], t1 = tx1[1] - tx0[1];
    unsigned long long total = 2ULL * (unsigned long long)nmsgs;
    info("%s: link0 tx %llu, link1 tx %llu for %llu messages", pname, t0, t1, total);
    if (!strcmp(pname, "ACTIVE"))
        result(t0 >= total && t1 >= total, "ACTIVE sends every message on both links (tx0 %llu tx1 %llu, msgs %llu)",
               t0, t1, total);
    else
        result(t0 > total / 4 && t1 > total / 4 && t0 + t1 < total * 3 / 2,
               "RR spreads messages over both links, each once (tx0 %llu tx1 %llu, msgs %llu)", t0, t1, total);
}

static void sc_policies(void) {
    struct setup s = {.nlinks = 2, .policy = KNET_LINK_POLICY_ACTIVE, .channels = 2,
                      .ping_interval = 200, .ping_timeout = 2000};
    open_handle(&s);
    int r = wait_reachable(20);
    int pr = (int)xchg("reach", r);
    result(r && pr, "peer reachable over two ACTIVE links");
    if (!r || !pr) return;
    double end = now_s() + 10;
    while (now_s() < end && !(link_status(0).connected && link_status(1).connected)) pump(20);
    sync_point("up");
    exactly_once_round("ACTIVE", 1500);
    knet_host_set_policy(h, (knet_node_id_t)peer, KNET_LINK_POLICY_RR);
    sync_point("rr");
    pump_for(0.3);
    exactly_once_round("RR", 1500);
    sync_point("end");
    close_handle(2);
}

/* ------------------------------------------------------------------ */
/* scenario: crypto matrix                                             */

/* send one message of each size (channel 0) and wait for the peer's;
 * returns 1 if both of the peer's arrived intact and the peer got ours */
static int exchange_sizes(const char *what, const size_t *szs, int n, int compressible, int *tries_out) {
    /* every round uses fresh sequence numbers so a late copy of an earlier
     * round's message cannot stand in for this round's */
    static uint32_t round;
    uint32_t base = (round++ % (MAX_SEQ / 8)) * 8;
    int tries = 0;
    acct_reset();
    sync_point("xs"); /* both reset before either sends */
    for (int i = 0; i < n; i++) send_seq(0, base + (uint32_t)i, szs[i], compressible);
    for (;;) {
        tries++;
        double end = now_s() + 3;
        int have = 0;
        while (now_s() < end) {
            have = 0;
            for (int i = 0; i < n; i++) have += rxa[0].seen[base + (uint32_t)i];
            if (have == n) break;
            pump(10);
        }
        int mine = have == n && rxa[0].bad == 0;
        int theirs = (int)xchg("got", mine);
        if ((mine && theirs) || tries >= 3) {
            if (tries_out) *tries_out = tries;
            if (rxa[0].bad) info("%s: %llu corrupted messages", what, (unsigned long long)rxa[0].bad);
            return mine && theirs;
        }
        /* resend everything; duplicates of already received ones are harmless here */
        for (int i = 0; i < n; i++) send_seq(0, base + (uint32_t)i, szs[i], compressible);
    }
}

static void sc_crypto(const char *model) {
    struct setup s = {.nlinks = 1, .policy = KNET_LINK_POLICY_PASSIVE, .channels = 1,
                      .ping_interval = 200, .ping_timeout = 3000};
    open_handle(&s);
    int r = wait_reachable(20);
    int pr = (int)xchg("reach", r);
    result(r && pr, "peer reachable (clear)");
    if (!r || !pr) return;
    const char *mylib = getenv("KNET_MATRIX_LIB");
    int ref_in_pair = mylib && !strcmp(mylib, "ref");
    ref_in_pair = (int)xchg("ref", ref_in_pair) || ref_in_pair;
    static const char *ciphers[] = {"aes128", "aes192", "aes256", "none"};
    static const char *hashes[] = {"sha1", "sha256", "sha384", "sha512", "md5"};
    static const size_t szs[] = {64, 60 * 1024};
    int slot = 1, combos = 0, combos_ok = 0;

    /* cipher without hash is rejected by the reference: both must refuse */
    {
        int rc = crypto_set(1, model, "aes256", "none", 1);
        int e = errno;
        int prc = (int)xchg("nohash", rc);
        result(rc != 0 && prc != 0, "%s aes256/none refused (rc %d errno %s; peer rc %d)", model, rc,
               rc ? strerror(e) : "-", prc);
    }
    for (size_t ci = 0; ci < 4; ci++) {
        for (size_t hi = 0; hi < 5; hi++) {
            char name[64];
            snprintf(name, sizeof(name), "%s/%s/%s", model, ciphers[ci], hashes[hi]);
            if (!strcmp(model, "openssl") && !strcmp(ciphers[ci], "none") && ref_in_pair) {
                /* libknet 1.25's PMTUd with cipher "none" + a hash can abort
                 * on a rerun after use_config without sending a probe ("link
                 * mtu smaller than crypto header detected") and mark the link
                 * unusable until the next PMTUd interval: reference<->reference
                 * fails this way too (reliably in an ASan process, rarely in a
                 * plain one), so with the reference in the pair it is skipped;
                 * ours<->ours still runs it */
                info("%s: skipped with the reference in the pair (it fails it against itself: knet_matrix run "
                     "crypto-openssl DIR 4 ref-only, under ASan)", name);
                continue;
            }
            if (!strcmp(model, "nss") && !strcmp(ciphers[ci], "none")) {
                /* libknet 1.25's nss model with cipher "none" does not talk to
                 * itself (reference<->reference: 0/5, link never comes back),
                 * so there is nothing to be compatible with */
                info("%s: skipped (the reference fails it against itself; knet_matrix run crypto-nss DIR 4 "
                     "ref-only)", name);
                continue;
            }
            double t0 = now_s();
            int rc = crypto_set(slot, model, ciphers[ci], hashes[hi], (int)(ci * 5 + hi));
            int e = errno;
            int prc = (int)xchg("set", rc);
            combos++;
            if (rc || prc) {
                result(0, "%s: knet_handle_crypto_set_config slot %d: mine %d (%s), peer %d", name, slot, rc,
                       rc ? strerror(e) : "ok", prc);
                continue;
            }
            rc = knet_handle_crypto_use_config(h, (uint8_t)slot);
            prc = (int)xchg("use", rc);
            if (rc || prc) {
                result(0, "%s: knet_handle_crypto_use_config(%d): mine %d, peer %d", name, slot, rc, prc);
                continue;
            }
            pump_for(0.05);
            int tries = 0;
            int ok = exchange_sizes(name, szs, 2, 0, &tries);
            int reach = peer_reachable();
            result(ok && reach, "%s: 64 B + 60 KB both ways intact (%d send round%s, %.2f s)%s", name, tries,
                   tries > 1 ? "s" : "", now_s() - t0, reach ? "" : " PEER UNREACHABLE");
            combos_ok += ok && reach;
            slot = 3 - slot;
        }
    }
    info("%s: %d/%d combinations delivered both ways", model, combos_ok, combos);
    sync_point("end");
    close_handle(1);
}

/* ------------------------------------------------------------------ */
/* scenario: wrong key                                                 */

static void sc_wrongkey(void) {
    struct setup s = {.nlinks = 1, .policy = KNET_LINK_POLICY_PASSIVE, .channels = 1,
                      .ping_interval = 100, .ping_timeout = 1000, .debug_rx = 1,
                      .crypto_keyseed = me * 10 /* same algorithms, different keys */};
    open_handle(&s);
    sync_point("configured");
    double end = now_s() + 3;
    int ever_reachable = 0, sends = 0;
    while (now_s() < end) {
        if (peer_reachable()) ever_reachable = 1;
        send_msg(0, 100, 0);
        sends++;
        pump(50);
    }
    struct knet_link_status st = link_status(0);
    struct knet_handle_stats hs;
    memset(&hs, 0, sizeof(hs));
    knet_handle_get_stats(h, &hs, sizeof(hs));
    int dlog = atomic_load(&decrypt_log_lines);
    info("wrong key: reachable %d, %llu messages received, link rx_data %llu rx_ping %llu rx_pong %llu, "
         "rx_crypt_packets %llu, decrypt-failure log lines %d",
         ever_reachable, (unsigned long long)rx_any, (unsigned long long)st.stats.rx_data_packets,
         (unsigned long long)st.stats.rx_ping_packets, (unsigned long long)st.stats.rx_pong_packets,
         (unsigned long long)hs.rx_crypt_packets, dlog);
    result(!ever_reachable && rx_any == 0 && st.stats.rx_data_packets == 0 && st.stats.rx_ping_packets == 0,
           "wrong key: peer never reachable, nothing delivered (%d sends attempted)", sends);
    result(dlog > 0, "wrong key: decrypt failures reported in the log (%d lines)", dlog);
    sync_point("phase2");
    /* now the same key in slot 2: traffic must flow (the setup was sound) */
    if (crypto_set(2, "openssl", "aes256", "sha256", 99)) result(0, "slot 2: %s", strerror(errno));
    sync_point("slot2");
    knet_handle_crypto_use_config(h, 2);
    sync_point("use2");
    int r = wait_reachable(10);
    result(r, "same key: peer reachable");
    if (r) {
        static const size_t szs[] = {64, 60 * 1024};
        int tries;
        result(exchange_sizes("same key", szs, 2, 0, &tries), "same key: 64 B + 60 KB both ways intact");
    } else {
        xchg("got", 0);
    }
    sync_point("end");
    close_handle(1);
}

/* ------------------------------------------------------------------ */
/* scenario: DISALLOW_CLEAR_TRAFFIC against a peer sending clear        */

static void sc_clear(void) {
    struct setup s = {.nlinks = 1, .policy = KNET_LINK_POLICY_PASSIVE, .channels = 1,
                      .ping_interval = 500, .ping_timeout = 10000, .debug_rx = 1};
    open_handle(&s);
    int r = wait_reachable(20);
    int pr = (int)xchg("reach", r);
    result(r && pr, "peer reachable (both clear)");
    if (!r || !pr) return;
    /* node 1 becomes the crypto node; node 2 keeps sending clear */
    if (me == 1) {
        if (crypto_set(1, "openssl", "aes256", "sha256", 5) || knet_handle_crypto_use_config(h, 1) ||
            knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC))
            result(0, "crypto node config: %s", strerror(errno));
    }
    const char *phases[] = {"ALLOW", "DISALLOW"};
    for (int ph = 0; ph < 2; ph++) {
        if (me == 1 && ph == 1) {
            if (knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC))
                result(0, "rx_clear_traffic(DISALLOW): %s", strerror(errno));
        }
        sync_point(phases[ph]);
        pump_for(0.2);
        acct_reset();
        rx_any = 0;
        int dlog0 = atomic_load(&decrypt_log_lines);
        unsigned long long tx0 = link_status(0).stats.tx_data_packets;
        double end = now_s() + 1.5;
        while (now_s() < end) {
            if (me == 2) send_msg(0, 300, 0);
            pump(10);
        }
        pump_for(0.2);
        unsigned long long txd = link_status(0).stats.tx_data_packets - tx0;
        int still = peer_reachable();
        sync_point("measured");
        long long peer_txd = xchg("txd", (long long)txd);
        if (me == 1) {
            int dlog = atomic_load(&decrypt_log_lines) - dlog0;
            if (ph == 0)
                result(rxa[0].got > 0 && rxa[0].bad == 0,
                       "crypto node with ALLOW_CLEAR_TRAFFIC accepts the clear peer: %llu delivered (peer sent "
                       "%lld on the wire)",
                       (unsigned long long)rxa[0].got, peer_txd);
            else {
                result(peer_txd > 0 && rx_any == 0,
                       "crypto node with DISALLOW_CLEAR_TRAFFIC refuses clear traffic: %llu delivered while the "
                       "peer put %lld data packets on the wire",
                       (unsigned long long)rx_any, peer_txd);
                result(dlog > 0, "refused clear packets reported in the log (%d lines)", dlog);
            }
        } else {
            info("%s phase: clear node sent %llu data packets, crypto node still reachable: %d", phases[ph], txd,
                 still);
        }
        rx_any = 0;
    }
    sync_point("end");
    close_handle(1);
}

/* ------------------------------------------------------------------ */
/* scenario: key rotation under a continuous numbered stream           */

static void stream_for(double secs, double rate) {
    double end = now_s() + secs, next = now_s();
    while (now_s() < end) {
        if (now_s() >= next) {
            size_t len = (tx_seq[0] % 50 == 49) ? 20000 : 200 + (tx_seq[0] % 7) * 150;
            send_msg(0, len, 0);
            next += 1.0 / rate;
        }
        pump(1);
    }
}

/* every stream message numbered below n received on channel 0 */
static int all_seen_below(long long n) {
    for (long long i = 0; i < n && i < MAX_SEQ; i++)
        if (!rxa[0].seen[i]) return 0;
    return 1;
}

/* What a loss in the rotation stream needs to be understood: which messages,
 * and what the link went through meanwhile. */
static void report_missing(const char *when, long long below) {
    int shown = 0;
    for (long long i = 0; i < below && i < MAX_SEQ && shown < 5; i++) {
        if (!rxa[0].seen[i]) {
            info("%s: message %lld not received", when, i);
            shown++;
        }
    }
    struct knet_link_status ls = link_status(0);
    info("%s: link 0 connected %u, down %llu times, latency %llu us, rx data %llu, tx data %llu, "
         "tx errors %llu",
         when, ls.connected, (unsigned long long)ls.stats.down_count,
         (unsigned long long)ls.stats.latency_ave, (unsigned long long)ls.stats.rx_data_packets,
         (unsigned long long)ls.stats.tx_data_packets, (unsigned long long)ls.stats.tx_data_errors);
}

static void sc_rotation(void) {
    struct setup s = {.nlinks = 1, .policy = KNET_LINK_POLICY_PASSIVE, .channels = 1,
                      .ping_interval = 200, .ping_timeout = 2000};
    open_handle(&s);
    if (crypto_set(1, "openssl", "aes256", "sha256", 1) || knet_handle_crypto_use_config(h, 1) ||
        knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC)) {
        result(0, "initial crypto config: %s", strerror(errno));
        node_exit(1);
    }
    int r = wait_reachable(20);
    int pr = (int)xchg("reach", r);
    result(r && pr, "peer reachable (openssl aes256/sha256, slot 1)");
    if (!r || !pr) return;
    /* Reset before the sync, as exchange_sizes() does: waiting for the
     * peer's "go" line reads the datafd, and a peer that passed the sync
     * first may already have sent message 0; a reset after the sync erased
     * it from the count (the "lost 1" this scenario reported now and then). */
    acct_reset();
    sync_point("go");
    const double rate = 400;
    stream_for(1.0, rate);
    /* rotation 1: slot 2 = nss aes128/sha512 new key; rotation 2: slot 1 = openssl aes192/sha1 */
    struct {
        int slot;
        const char *model, *cipher, *hash;
    } steps[] = {{2, "nss", "aes128", "sha512"}, {1, "openssl", "aes192", "sha1"}, {2, "openssl", "aes256", "sha384"}};
    for (int k = 0; k < 3; k++) {
        int ns = steps[k].slot, old = 3 - ns;
        int rc = crypto_set(ns, steps[k].model, steps[k].cipher, steps[k].hash, 40 + k);
        result(rc == 0, "rotation %d: set_config(%d, %s/%s/%s)", k + 1, ns, steps[k].model, steps[k].cipher,
               steps[k].hash);
        ctl_send("sync set%d", k);
        stream_for(0.3, rate);
        char line[64];
        ctl_recv(line, sizeof(line));
        stream_for(0.3, rate);
        rc = knet_handle_crypto_use_config(h, (uint8_t)ns);
        /* messages numbered below this may have gone out with the old key */
        const long long used_at = tx_seq[0];
        result(rc == 0, "rotation %d: use_config(%d)", k + 1, ns);
        ctl_send("sync use%d %lld", k, used_at);
        stream_for(0.3, rate);
        ctl_recv(line, sizeof(line));
        long long peer_used_at = 0;
        if (sscanf(line, "sync use%*d %lld", &peer_used_at) != 1) peer_used_at = 0;
        stream_for(0.3, rate);
        /* Retire the old key only once everything the peer may have sent
         * with it is here, as an application rotating keys must: on a loaded
         * machine (the sanitizer runs) 0.6 s was once not enough. */
        double until = now_s() + 10;
        while (!all_seen_below(peer_used_at) && now_s() < until) stream_for(0.05, rate);
        if (!all_seen_below(peer_used_at)) {
            char when[80];
            snprintf(when, sizeof(when), "rotation %d (peer switched at %lld)", k + 1, peer_used_at);
            report_missing(when, peer_used_at);
        }
        rc = crypto_set(old, "none", "none", "none", 0);
        result(rc == 0, "rotation %d: set_config(%d, none/none/none) releases the old slot", k + 1, old);
        ctl_send("sync clear%d", k);
        stream_for(0.3, rate);
        ctl_recv(line, sizeof(line));
        stream_for(0.5, rate);
    }
    sync_point("stop");
    double end = now_s() + 5;
    long long psent = xchg("sent", tx_seq[0]);
    while (now_s() < end && rxa[0].got < (uint64_t)psent) pump(20);
    pump_for(0.2);
    sync_point("drained");
    long long lost = psent - (long long)rxa[0].got;
    if (lost) report_missing("end of stream", psent);
    result(lost == 0 && rxa[0].dups == 0 && rxa[0].bad == 0,
           "3 key rotations during a continuous stream: %llu/%lld delivered, lost %lld, dups %llu, corrupt %llu",
           (unsigned long long)rxa[0].got, psent, lost, (unsigned long long)rxa[0].dups,
           (unsigned long long)rxa[0].bad);
    result(peer_reachable(), "peer still reachable after rotations");
    sync_point("end");
    close_handle(1);
}

/* ------------------------------------------------------------------ */
/* scenario: compression                                               */

static void sc_compress(int *ref_side_stats) {
    (void)ref_side_stats;
    struct setup s = {.nlinks = 1, .policy = KNET_LINK_POLICY_PASSIVE, .channels = 1,
                      .ping_interval = 200, .ping_timeout = 3000};
    open_handle(&s);
    int r = wait_reachable(20);
    int pr = (int)xchg("reach", r);
    result(r && pr, "peer reachable");
    if (!r || !pr) return;
    /* default level (the library's own default, see the plugins) and one other valid level */
    static const struct {
        const char *model;
        int levels[2];
    } models[] = {{"zlib", {-1, 9}}, {"lz4", {1, 9}},   {"lz4hc", {9, 4}}, {"lzo2", {1, 999}},
                  {"lzma", {6, 0}},  {"bzip2", {9, 1}}, {"zstd", {3, 19}}};
    const char *lib = getenv("KNET_MATRIX_LIB");
    for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
        for (int li = 0; li < 2; li++) {
            char name[64];
            snprintf(name, sizeof(name), "%s level %d", models[m].model, models[m].levels[li]);
            struct knet_handle_compress_cfg cc;
            memset(&cc, 0, sizeof(cc));
            snprintf(cc.compress_model, sizeof(cc.compress_model), "%s", models[m].model);
            cc.compress_threshold = 100;
            cc.compress_level = models[m].levels[li];
            int rc = knet_handle_compress(h, &cc);
            int e = errno;
            int prc = (int)xchg("compress", rc);
            if (rc || prc) {
                result(0, "%s: knet_handle_compress mine %d (%s) peer %d", name, rc, rc ? strerror(e) : "ok", prc);
                continue;
            }
            struct knet_handle_stats s0, s1, s2;
            memset(&s0, 0, sizeof(s0));
            knet_handle_get_stats(h, &s0, sizeof(s0));
            static const size_t big[] = {8192, 8192};
            int tries = 1, tries2 = 1;
            int ok = exchange_sizes(name, big, 2, 1, &tries);
            memset(&s1, 0, sizeof(s1));
            knet_handle_get_stats(h, &s1, sizeof(s1));
            static const size_t small[] = {60};
            int ok2 = exchange_sizes(name, small, 1, 0, &tries2);
            /* the counters may be published just after the datagram left
             * (ours: per send batch); allow them a moment */
            double st_end = now_s() + 0.5;
            do {
                pump(10);
                memset(&s2, 0, sizeof(s2));
                knet_handle_get_stats(h, &s2, sizeof(s2));
            } while (now_s() < st_end &&
                     (s2.tx_compressed_packets - s0.tx_compressed_packets < 2ULL * (unsigned)tries ||
                      s2.tx_uncompressed_packets - s0.tx_uncompressed_packets < (unsigned)tries2));
            (void)s1;
            unsigned long long dc = s2.tx_compressed_packets - s0.tx_compressed_packets;
            unsigned long long du = s2.tx_uncompressed_packets - s0.tx_uncompressed_packets;
            unsigned long long ob = s2.tx_compressed_original_bytes - s0.tx_compressed_original_bytes;
            unsigned long long cb = s2.tx_compressed_size_bytes - s0.tx_compressed_size_bytes;
            result(ok && ok2, "%s: 2 x 8 KB compressible + 60 B below threshold, both ways intact", name);
            result(dc == 2ULL * (unsigned)tries && du == (unsigned)tries2 && cb < ob,
                   "%s stats (%s side): tx_compressed_packets +%llu (%llu -> %llu bytes), tx_uncompressed_packets "
                   "+%llu (sent %d x 2 large, %d x 1 small)",
                   name, lib && *lib ? lib : "?", dc, ob, cb, du, tries, tries2);
        }
    }
    struct knet_handle_compress_cfg cc;
    memset(&cc, 0, sizeof(cc));
    strcpy(cc.compress_model, "none");
    knet_handle_compress(h, &cc);
    sync_point("end");
    close_handle(1);
}

/* ------------------------------------------------------------------ */
/* node main and launcher                                              */

static int node_main(int argc, char **argv) {
    if (argc < 9) return 2;
    const char *sc = argv[2];
    me = atoi(argv[3]);
    peer = atoi(argv[4]);
    ctl = atoi(argv[5]);
    port_base = atoi(argv[6]);
    fam = argv[7][0] == 'n' ? 4 : atoi(argv[7]);
    netns_mode = argv[7][0] == 'n';
    const char *lib = argv[8];
    verbose = getenv("KNET_MATRIX_VERBOSE") != NULL;
    setenv("KNET_MATRIX_LIB", lib, 1);
    snprintf(tag, sizeof(tag), "%s node%d %s", sc, me, lib);
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(240);

    Dl_info dli;
    const char *path = "?";
    if (dladdr((void *)knet_handle_new, &dli) && dli.dli_fname) path = dli.dli_fname;
    /* ours is loaded from $LD_LIBRARY_PATH (set only for "ours" nodes) */
    char dir[4096], want[4096];
    int is_ours = 0;
    const char *ldp = getenv("LD_LIBRARY_PATH");
    if (ldp && realpath(path, dir)) {
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        is_ours = realpath(ldp, want) && !strcmp(dir, want);
    }
    if (is_ours != !strcmp(lib, "ours")) {
        result(0, "expected the %s library, loaded %s", lib, path);
        return 1;
    }
    ctl_send("hello");
    char line[64];
    ctl_recv(line, sizeof(line));

    if (!strcmp(sc, "failover")) sc_failover();
    else if (!strcmp(sc, "policies")) sc_policies();
    else if (!strcmp(sc, "crypto-openssl")) sc_crypto("openssl");
    else if (!strcmp(sc, "crypto-nss")) sc_crypto("nss");
    else if (!strcmp(sc, "wrongkey")) sc_wrongkey();
    else if (!strcmp(sc, "clear")) sc_clear();
    else if (!strcmp(sc, "rotation")) sc_rotation();
    else if (!strcmp(sc, "compress")) sc_compress(NULL);
    else {
        result(0, "unknown scenario %s", sc);
    }
    printf("  [%s] node: %d passed, %d failed\n", tag, passed, failed);
    /* a scenario that gave up early returns with its handle still open */
    node_exit(failed ? 1 : 0);
    return 1;
}

static int free_udp_pair(int base, int n, int family) {
    for (int i = 0; i < n; i++) {
        int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) return 0;
        int ok;
        if (family == 6) {
            struct sockaddr_in6 a;
            memset(&a, 0, sizeof(a));
            a.sin6_family = AF_INET6;
            a.sin6_addr = in6addr_loopback;
            a.sin6_port = htons((uint16_t)(base + i));
            ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        } else {
            struct sockaddr_in a;
            memset(&a, 0, sizeof(a));
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons((uint16_t)(base + i));
            ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        }
        close(fd);
        if (!ok) return 0;
    }
    return 1;
}

static int launch_pair(const char *self, const char *sc, const char *ours, const char *lib1, const char *lib2,
                       int family, int netns) {
    int sv[2], out[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(out)) return -1;
    int base = 0;
    srand((unsigned)(getpid() ^ (unsigned)(now_s() * 1000)));
    for (int t = 0; t < 50; t++) {
        base = 20000 + (rand() % 19000) * 2;
        if (free_udp_pair(base, 4, family)) break;
    }
    pid_t pids[2];
    int ready[2] = {-1, -1}, go[2] = {-1, -1};
    if (netns && (pipe(ready) || pipe(go))) return -1;
    for (int k = 0; k < 2; k++) {
        /* netns: node 2 first, it creates its namespace, then the veths */
        int n = netns ? 1 - k : k;
        const char *lib = n == 0 ? lib1 : lib2;
        pid_t p = fork();
        if (p == 0 && netns && n == 1) {
            char c = 0;
            if (unshare(CLONE_NEWNET) || write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1 || c != 1 ||
                system("ip link set lo up && ip addr add 10.99.0.2/24 dev k0b && ip link set k0b up && "
                       "ip addr add 10.99.1.2/24 dev k1b && ip link set k1b up"))
                _exit(126);
        }
        if (p == 0) {
            close(sv[1 - n]);
            close(out[0]);
            dup2(out[1], 1);
            close(out[1]);
            if (!strcmp(lib, "ref")) unsetenv("LD_LIBRARY_PATH");
            else setenv("LD_LIBRARY_PATH", ours, 1);
            char a_me[8], a_peer[8], a_ctl[8], a_port[16], a_fam[8];
            snprintf(a_me, sizeof(a_me), "%d", n + 1);
            snprintf(a_peer, sizeof(a_peer), "%d", 2 - n);
            snprintf(a_ctl, sizeof(a_ctl), "%d", sv[n]);
            snprintf(a_port, sizeof(a_port), "%d", base);
            snprintf(a_fam, sizeof(a_fam), "%d", family);
            execl(self, self, "node", sc, a_me, a_peer, a_ctl, a_port, netns ? "n" : a_fam, lib, (char *)NULL);
            _exit(127);
        }
        pids[n] = p;
        if (netns && n == 1) {
            char c = 0, cmd[1024];
            if (read(ready[0], &c, 1) != 1) return -1;
            snprintf(cmd, sizeof(cmd),
                     "ip link add k0a type veth peer name k0b netns %d && ip link add k1a type veth peer name k1b "
                     "netns %d && ip addr add 10.99.0.1/24 dev k0a && ip link set k0a up && ip addr add "
                     "10.99.1.1/24 dev k1a && ip link set k1a up",
                     (int)p, (int)p);
            c = system(cmd) == 0 ? 1 : 0;
            if (!c) printf("FAIL: [%s] veth setup failed\n", sc);
            if (write(go[1], &c, 1) != 1 || !c) {
                kill(p, SIGKILL);
                waitpid(p, NULL, 0);
                return -1;
            }
        }
    }
    if (netns) {
        close(ready[0]);
        close(ready[1]);
        close(go[0]);
        close(go[1]);
    }
    close(sv[0]);
    close(sv[1]);
    close(out[1]);
    /* relay and count the nodes' result lines */
    FILE *f = fdopen(out[0], "r");
    char line[2048];
    double deadline = now_s() + 200;
    int timed_out = 0;
    while (fgets(line, sizeof(line), f)) {
        fputs(line, stdout);
        fflush(stdout);
        if (!strncmp(line, "PASS:", 5)) passed++;
        else if (!strncmp(line, "FAIL:", 5)) failed++;
        if (now_s() > deadline && !timed_out) {
            timed_out = 1;
            kill(pids[0], SIGKILL);
            kill(pids[1], SIGKILL);
        }
    }
    fclose(f);
    int bad = 0;
    for (int n = 0; n < 2; n++) {
        int st = 0;
        waitpid(pids[n], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) bad++;
        if (!WIFEXITED(st)) {
            printf("FAIL: [%s] node%d (%s) killed by signal %d\n", sc, n + 1, n ? lib2 : lib1,
                   WIFSIGNALED(st) ? WTERMSIG(st) : -1);
            failed++;
        }
    }
    return bad;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "node")) return node_main(argc, argv);
    if (argc < 4 || strcmp(argv[1], "run")) {
        fprintf(stderr, "usage: %s run SCENARIO OUR_LIB_DIR [4|6|n] [ours-only|ref-only]\n", argv[0]);
        return 2;
    }
    const char *sc = argv[2], *ours = argv[3];
    int family = argc > 4 ? atoi(argv[4]) : 4;
    int netns = 0;
    if (argc > 4 && argv[4][0] == 'n') {
        /* two network namespaces joined by veths (root only); the launcher
         * and node 1 leave the host's namespace first */
        family = 4;
        int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        netns = geteuid() == 0 && home >= 0 && unshare(CLONE_NEWNET) == 0;
        if (netns && system("ip link set lo up 2>/dev/null") != 0) {
            netns = 0; /* no ip(8): back to the host's namespace */
            if (setns(home, CLONE_NEWNET)) return 2;
        }
        if (home >= 0) close(home);
        if (!netns) printf("  [%s] network namespaces unavailable: links on 127.0.0.1, link failure phases skipped\n", sc);
    }
    int ours_only = argc > 5 && !strcmp(argv[5], "ours-only");
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl <= 0) return 2;
    self[sl] = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    double t0 = now_s();
    /* ref-only: the reference against itself, to tell its own behaviour apart */
    int ref_only = argc > 5 && !strcmp(argv[5], "ref-only");
    const char *dirs[][2] = {{"ours", "ref"}, {"ref", "ours"}, {"ours", "ours"}, {"ref", "ref"}};
    int first = ours_only ? 2 : ref_only ? 3 : 0, last = ours_only ? 3 : ref_only ? 4 : 2;
    for (int d = first; d < last; d++) {
        double t = now_s();
        printf("=== %s IPv%d: node1 %s <-> node2 %s\n", sc, family, dirs[d][0], dirs[d][1]);
        int bad = launch_pair(self, sc, ours, dirs[d][0], dirs[d][1], family, netns);
        if (bad < 0) {
            printf("FAIL: [%s] could not start the node pair\n", sc);
            failed++;
        }
        printf("=== %s IPv%d node1 %s <-> node2 %s: %s (%.1f s)\n", sc, family, dirs[d][0], dirs[d][1],
               bad ? "FAILED" : "ok", now_s() - t);
    }
    printf("%s IPv%d total %.1f s\n", sc, family, now_s() - t0);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
