/*
 * Ours-to-ours through the public API, two (or three) handles in one
 * process over 127.0.0.1: link up, reachability, PASSIVE failover and
 * failback, ACTIVE and RR exactly-once delivery, two channels, the filter,
 * knet_send_sync, knet_recv, the loopback link, datafd EOF / error
 * notification.  Every wait is bounded.  Closing line: "N passed, N failed".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libknet.h"
#include "pass_fail.h"

static void addr(struct sockaddr_storage *ss, int port) {
    char p[16];
    snprintf(p, sizeof(p), "%d", port);
    knet_strtoaddr("127.0.0.1", p, ss, sizeof(*ss));
}

/* Written by the library's threads (sock_notify), read by main: every access
 * holds sock_lock. */
struct notify_rec {
    int count;
    int error, errorno, fd;
};
static struct notify_rec sock_rec;
static pthread_mutex_t sock_lock = PTHREAD_MUTEX_INITIALIZER;
static void sock_notify(void *priv, int fd, int8_t ch, uint8_t txrx, int err, int errn) {
    (void)priv; (void)ch; (void)txrx;
    pthread_mutex_lock(&sock_lock);
    sock_rec.fd = fd;
    sock_rec.error = err;
    sock_rec.errorno = errn;
    sock_rec.count++;
    pthread_mutex_unlock(&sock_lock);
}
static struct notify_rec sock_rec_get(void) {
    pthread_mutex_lock(&sock_lock);
    struct notify_rec r = sock_rec;
    pthread_mutex_unlock(&sock_lock);
    return r;
}
static void sock_rec_reset(void) {
    pthread_mutex_lock(&sock_lock);
    sock_rec.count = 0;
    pthread_mutex_unlock(&sock_lock);
}

static int host_up(knet_handle_t h, knet_node_id_t id) {
    struct knet_host_status st;
    memset(&st, 0, sizeof(st));
    if (knet_host_get_status(h, id, &st)) return 0;
    return st.reachable;
}

static int link_connected(knet_handle_t h, knet_node_id_t id, uint8_t l) {
    struct knet_link_status st;
    memset(&st, 0, sizeof(st));
    if (knet_link_get_status(h, id, l, &st, sizeof(st))) return 0;
    return st.connected;
}

static unsigned long long link_rx(knet_handle_t h, knet_node_id_t id, uint8_t l) {
    struct knet_link_status st;
    memset(&st, 0, sizeof(st));
    if (knet_link_get_status(h, id, l, &st, sizeof(st))) return 0;
    return st.stats.rx_data_packets;
}

static int wait_until(int (*fn)(knet_handle_t, knet_node_id_t, uint8_t), knet_handle_t h, knet_node_id_t id,
                      uint8_t l, int want, double timeout) {
    double end = now_s() + timeout;
    while (now_s() < end) {
        if (fn(h, id, l) == want) return 1;
        usleep(10000);
    }
    return 0;
}
/* Waits up to `timeout` s for at least one notification; returns a snapshot. */
static struct notify_rec sock_rec_wait(double timeout) {
    double end = now_s() + timeout;
    struct notify_rec r = sock_rec_get();
    while (r.count == 0 && now_s() < end) {
        usleep(10000);
        r = sock_rec_get();
    }
    return r;
}
static int host_up3(knet_handle_t h, knet_node_id_t id, uint8_t l) { (void)l; return host_up(h, id); }

/* Receives messages on a channel for up to `quiet` seconds of silence;
 * counts those starting with `tag`, and distinct ids among them. */
static int drain(knet_handle_t h, int fd, int8_t ch, const char *tag, double quiet, int *distinct, int nids) {
    static char buf[KNET_MAX_PACKET_SIZE];
    static unsigned char seen[4096];
    memset(seen, 0, sizeof(seen));
    int count = 0;
    *distinct = 0;
    double last = now_s();
    while (now_s() - last < quiet) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        ssize_t n = knet_recv(h, buf, sizeof(buf) - 1, ch);
        if (n <= 0) continue;
        buf[n] = 0;
        last = now_s();
        size_t tl = strlen(tag);
        if ((size_t)n >= tl && memcmp(buf, tag, tl) == 0) {
            count++;
            int id = atoi(buf + tl);
            if (id >= 0 && id < nids && id < 4096 && !seen[id]) {
                seen[id] = 1;
                (*distinct)++;
            }
        }
    }
    return count;
}

static int send_n(knet_handle_t h, int8_t ch, const char *tag, int n) {
    char msg[64];
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int len = snprintf(msg, sizeof(msg), "%s%d", tag, i);
        if (knet_send(h, msg, (size_t)len, ch) == len) ok++;
        if (i % 16 == 15) usleep(1000);
    }
    return ok;
}

/* RX filter of handle B: "drop*" goes to host 99 (not us), "ch1*" moves to
 * channel 1; TX filter of A: unicast to host 2 for everything. */
static int filter_b(void *priv, const unsigned char *data, ssize_t len, uint8_t txrx, knet_node_id_t me,
                    knet_node_id_t src, int8_t *channel, knet_node_id_t *dst, size_t *entries) {
    (void)priv; (void)me; (void)src;
    if (txrx == KNET_NOTIFY_RX && len >= 4 && memcmp(data, "drop", 4) == 0) {
        dst[0] = 99;
        *entries = 1;
        return 0;
    }
    if (txrx == KNET_NOTIFY_RX && len >= 3 && memcmp(data, "ch1", 3) == 0) *channel = 1;
    return 1;
}
static int filter_a(void *priv, const unsigned char *data, ssize_t len, uint8_t txrx, knet_node_id_t me,
                    knet_node_id_t src, int8_t *channel, knet_node_id_t *dst, size_t *entries) {
    (void)priv; (void)data; (void)len; (void)txrx; (void)me; (void)src; (void)channel;
    dst[0] = 2;
    *entries = 1;
    return 0;
}

static int filter_bcast(void *priv, const unsigned char *data, ssize_t len, uint8_t txrx, knet_node_id_t me,
                        knet_node_id_t src, int8_t *channel, knet_node_id_t *dst, size_t *entries) {
    (void)priv; (void)data; (void)len; (void)txrx; (void)me; (void)src; (void)channel; (void)dst;
    (void)entries;
    return 1;
}

/* A setup failure while handles (and their threads) exist: leave without
 * running atexit handlers (OpenSSL's cleanup would race with those threads). */
static void die(const char *what) {
    perror(what);
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

int main(void) {
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    int base = 20000 + (rand() % 18000) * 2;
    knet_handle_t a = knet_handle_new(1, 0, KNET_LOG_ERR);
    knet_handle_t b = knet_handle_new(2, 0, KNET_LOG_ERR);
    if (!a || !b) die("knet_handle_new");
    knet_handle_enable_sock_notify(a, NULL, sock_notify);
    knet_handle_enable_sock_notify(b, NULL, sock_notify);
    knet_host_add(a, 2);
    knet_host_add(b, 1);
    for (uint8_t l = 0; l < 2; l++) {
        struct sockaddr_storage sa, sb;
        addr(&sa, base + 2 * l);
        addr(&sb, base + 2 * l + 1);
        if (knet_link_set_config(a, 2, l, KNET_TRANSPORT_UDP, &sa, &sb, 0) ||
            knet_link_set_config(b, 1, l, KNET_TRANSPORT_UDP, &sb, &sa, 0)) {
            die("knet_link_set_config");
        }
        knet_link_set_ping_timers(a, 2, l, 100, 1000, 2048);
        knet_link_set_ping_timers(b, 1, l, 100, 1000, 2048);
        knet_link_set_pong_count(a, 2, l, 1);
        knet_link_set_pong_count(b, 1, l, 1);
        knet_link_set_priority(a, 2, l, l == 0 ? 10 : 1);
        knet_link_set_priority(b, 1, l, l == 0 ? 10 : 1);
        knet_link_set_enable(a, 2, l, 1);
        knet_link_set_enable(b, 1, l, 1);
    }
    int fa = 0, fb = 0, fa1 = 0, fb1 = 0;
    int8_t ca = 0, cb = 0, ca1 = 1, cb1 = 1;
    knet_handle_add_datafd(a, &fa, &ca);
    knet_handle_add_datafd(b, &fb, &cb);
    knet_handle_add_datafd(a, &fa1, &ca1);
    knet_handle_add_datafd(b, &fb1, &cb1);
    knet_handle_setfwd(a, 1);
    knet_handle_setfwd(b, 1);

    check(wait_until(host_up3, a, 2, 0, 1, 10) && wait_until(host_up3, b, 1, 0, 1, 10),
          "both hosts reachable");
    check(wait_until(link_connected, a, 2, 0, 1, 10) && wait_until(link_connected, a, 2, 1, 1, 10) &&
          wait_until(link_connected, b, 1, 0, 1, 10) && wait_until(link_connected, b, 1, 1, 1, 10),
          "both links connected on both sides");
    int d;

    /* ---- PASSIVE: traffic on the higher-priority link 0 ---- */
    unsigned long long r0 = link_rx(b, 1, 0), r1 = link_rx(b, 1, 1);
    send_n(a, 0, "p", 100);
    int got = drain(b, fb, 0, "p", 0.5, &d, 100);
    check(got == 100 && d == 100, "PASSIVE: 100/100 delivered exactly once (got %d)", got);
    check(link_rx(b, 1, 0) - r0 >= 100 && link_rx(b, 1, 1) == r1, "PASSIVE: all on link 0 (pri 10)");

    /* failover: disable link 0 on A */
    knet_link_set_enable(a, 2, 0, 0);
    usleep(100000);
    r1 = link_rx(b, 1, 1);
    send_n(a, 0, "f", 100);
    got = drain(b, fb, 0, "f", 0.5, &d, 100);
    check(got == 100 && d == 100 && link_rx(b, 1, 1) - r1 >= 100,
          "PASSIVE failover: link 0 disabled, 100/100 via link 1 (got %d)", got);
    /* failback */
    knet_link_set_enable(a, 2, 0, 1);
    check(wait_until(link_connected, a, 2, 0, 1, 15), "link 0 back up after re-enable");
    usleep(100000);
    r0 = link_rx(b, 1, 0);
    r1 = link_rx(b, 1, 1);
    send_n(a, 0, "g", 100);
    got = drain(b, fb, 0, "g", 0.5, &d, 100);
    check(got == 100 && link_rx(b, 1, 0) - r0 >= 100 && link_rx(b, 1, 1) == r1,
          "PASSIVE failback to link 0 (got %d)", got);

    /* ---- ACTIVE: every packet on both links, delivered once ---- */
    knet_host_set_policy(a, 2, KNET_LINK_POLICY_ACTIVE);
    usleep(50000);
    r0 = link_rx(b, 1, 0);
    r1 = link_rx(b, 1, 1);
    send_n(a, 0, "a", 200);
    got = drain(b, fb, 0, "a", 0.5, &d, 200);
    check(got == 200 && d == 200, "ACTIVE: 200/200 delivered exactly once (got %d, distinct %d)", got, d);
    check(link_rx(b, 1, 0) - r0 >= 200 && link_rx(b, 1, 1) - r1 >= 200, "ACTIVE: both links carried all");

    /* ---- RR: alternating links, delivered once ---- */
    knet_host_set_policy(a, 2, KNET_LINK_POLICY_RR);
    usleep(50000);
    r0 = link_rx(b, 1, 0);
    r1 = link_rx(b, 1, 1);
    send_n(a, 0, "r", 200);
    got = drain(b, fb, 0, "r", 0.5, &d, 200);
    unsigned long long d0 = link_rx(b, 1, 0) - r0, d1 = link_rx(b, 1, 1) - r1;
    check(got == 200 && d == 200, "RR: 200/200 delivered exactly once (got %d)", got);
    check(d0 >= 80 && d1 >= 80 && d0 + d1 >= 200, "RR: split over links (%llu / %llu)", d0, d1);
    knet_host_set_policy(a, 2, KNET_LINK_POLICY_PASSIVE);

    /* ---- two channels ---- */
    send_n(a, 1, "c", 20);
    int on1 = drain(b, fb1, 1, "c", 0.3, &d, 20);
    int on0 = drain(b, fb, 0, "c", 0.1, &d, 20);
    check(on1 == 20 && on0 == 0, "channel 1 traffic arrives on channel 1 only (%d / %d)", on1, on0);

    /* ---- sizes both ways ---- */
    {
        static char big[64000], rb[KNET_MAX_PACKET_SIZE];
        size_t sizes[] = {1, 1400, 8192, 64000};
        int ok = 1;
        for (int dir = 0; dir < 2; dir++) {
            knet_handle_t s = dir ? b : a, r = dir ? a : b;
            int rfd = dir ? fa : fb;
            for (size_t i = 0; i < 4; i++) {
                for (size_t k = 0; k < sizes[i]; k++) big[k] = (char)(k * 31 + i);
                if (knet_send(s, big, sizes[i], 0) != (ssize_t)sizes[i]) ok = 0;
                struct pollfd p = {rfd, POLLIN, 0};
                ssize_t n = -1;
                if (poll(&p, 1, 3000) > 0) n = knet_recv(r, rb, sizeof(rb), 0);
                if (n != (ssize_t)sizes[i] || memcmp(rb, big, sizes[i]) != 0) {
                    ok = 0;
                    printf("  size %zu dir %d: got %zd\n", sizes[i], dir, n);
                }
            }
        }
        check(ok, "1 B / 1400 B / 8 KB / 64000 B intact both ways (knet_send/knet_recv)");
    }

    /* ---- compression of a whole read batch ----
     * The burst is queued in a socketpair of ours before its end is added
     * as a's datafd on channel 2, so the TX thread finds it all at once and
     * reads it in one batch: large enough for the library to compress it on
     * several threads.  Mixed on purpose: compressible, below the threshold
     * and incompressible messages. */
    {
        enum { N = 32, SZ = 40000 };
        static unsigned char msgs[N][SZ], rb[KNET_MAX_PACKET_SIZE];
        size_t lens[N];
        int seen[N] = {0}, bad = 0, wrote = 0, got_n = 0;
        struct knet_handle_compress_cfg cc;
        memset(&cc, 0, sizeof(cc));
        strcpy(cc.compress_model, "lz4");
        cc.compress_threshold = 100;
        cc.compress_level = 1;
        int crc = knet_handle_compress(a, &cc);
        struct knet_handle_stats st0, st1;
        memset(&st0, 0, sizeof(st0));
        knet_handle_get_stats(a, &st0, sizeof(st0));
        int sp[2] = {-1, -1}, fb2 = 0;
        int8_t ca2 = 2, cb2 = 2;
        const int spbuf = 8 * 1024 * 1024;  /* the whole burst (root: FORCE) */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0) {
            if (setsockopt(sp[0], SOL_SOCKET, SO_SNDBUFFORCE, &spbuf, sizeof(spbuf)) < 0)
                setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &spbuf, sizeof(spbuf));
            if (setsockopt(sp[1], SOL_SOCKET, SO_RCVBUFFORCE, &spbuf, sizeof(spbuf)) < 0)
                setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &spbuf, sizeof(spbuf));
        }
        knet_handle_add_datafd(b, &fb2, &cb2);
        for (int i = 0; i < N; i++) {
            lens[i] = i % 8 == 3 ? 60 : SZ;
            for (size_t k = 0; k < lens[i]; k++)
                msgs[i][k] = i % 8 == 5 ? (unsigned char)rand() : (unsigned char)("batch of text "[(k + i) % 14]);
            msgs[i][0] = 'z';
            msgs[i][1] = (unsigned char)i;
            if (send(sp[0], msgs[i], lens[i], MSG_DONTWAIT) == (ssize_t)lens[i]) wrote++;
        }
        knet_handle_add_datafd(a, &sp[1], &ca2);
        double end = now_s() + 5;
        while (got_n < N && now_s() < end) {
            struct pollfd pf = {fb2, POLLIN, 0};
            if (poll(&pf, 1, 20) <= 0) continue;
            ssize_t n = knet_recv(b, (char *)rb, sizeof(rb), 2);
            if (n < 2 || rb[0] != 'z') continue;
            int i = rb[1];
            if (i >= N || (size_t)n != lens[i] || memcmp(rb, msgs[i], lens[i]) != 0 || seen[i]) {
                bad++;
                continue;
            }
            seen[i] = 1;
            got_n++;
        }
        /* the counters are published just after a send batch left: allow them a moment */
        double st_end = now_s() + 1;
        do {
            memset(&st1, 0, sizeof(st1));
            knet_handle_get_stats(a, &st1, sizeof(st1));
        } while (st1.tx_compressed_packets - st0.tx_compressed_packets < 28 && now_s() < st_end &&
                 usleep(10000) == 0);
        unsigned long long zc = st1.tx_compressed_packets - st0.tx_compressed_packets;
        check(crc == 0 && wrote == N && got_n == N && bad == 0,
              "lz4, %d messages read in one batch: all intact, exactly once (wrote %d, got %d, bad %d)", N,
              wrote, got_n, bad);
        /* 28 went through the compressor: 24 compressible, 4 random (sent as they are) */
        check(zc == 28 && st1.tx_uncompressed_packets - st0.tx_uncompressed_packets >= 8,
              "lz4 batch stats: tx_compressed_packets +%llu (want 28)", zc);
        strcpy(cc.compress_model, "none");
        knet_handle_compress(a, &cc);
        knet_handle_remove_datafd(a, sp[1]);
        knet_handle_remove_datafd(b, fb2);
        close(sp[0]);
        close(sp[1]);
    }

    /* ---- filter: RX drop and channel rewrite; TX unicast + send_sync ---- */
    knet_handle_enable_filter(b, NULL, filter_b);
    send_n(a, 0, "drop", 10);
    send_n(a, 0, "ch1x", 10);
    int dropped = drain(b, fb, 0, "drop", 0.3, &d, 10);
    int moved = drain(b, fb1, 1, "ch1x", 0.3, &d, 10);
    check(dropped == 0 && moved == 10, "RX filter: unicast elsewhere dropped (%d), channel rewritten (%d)",
          dropped, moved);
    knet_handle_enable_filter(b, NULL, NULL);
    errno = 0;
    int rc = knet_send_sync(a, "sync0", 5, 0);
    check(rc == -1 && errno == ENETDOWN, "knet_send_sync without filter: ENETDOWN (rc %d errno %d)", rc, errno);
    knet_handle_enable_filter(a, NULL, filter_bcast);
    errno = 0;
    rc = knet_send_sync(a, "sync0", 5, 0);
    check(rc == -1 && errno == E2BIG, "knet_send_sync with broadcast filter: E2BIG (rc %d errno %d)", rc, errno);
    knet_handle_enable_filter(a, NULL, filter_a);
    rc = knet_send_sync(a, "sync1", 5, 0);
    got = drain(b, fb, 0, "sync", 0.3, &d, 10);
    check(rc == 0 && got == 1, "knet_send_sync with unicast filter delivered (rc %d got %d)", rc, got);
    knet_handle_enable_filter(a, NULL, NULL);

    /* ---- forwarding off: nothing delivered ---- */
    knet_handle_setfwd(b, 0);
    send_n(a, 0, "x", 10);
    usleep(200000);
    knet_handle_setfwd(b, 1);
    got = drain(b, fb, 0, "x", 0.3, &d, 10);
    check(got == 0, "setfwd 0 on receiver: nothing delivered (%d)", got);

    /* ---- datafd EOF and read error notification ---- */
    {
        int sp[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
        int8_t ch = -1;
        int fd = sp[0];
        knet_handle_add_datafd(a, &fd, &ch);
        sock_rec_reset();
        close(sp[1]);
        struct notify_rec r = sock_rec_wait(3);
        check(r.count >= 1 && r.error == 0 && r.errorno == 0 && r.fd == sp[0],
              "datafd EOF: sock_notify(fd, 0, 0) (count %d err %d errno %d)", r.count, r.error, r.errorno);
        knet_handle_remove_datafd(a, sp[0]);
        close(sp[0]);

        /* a TCP connection reset gives a read error */
        int ls = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof(sin);
        bind(ls, (struct sockaddr *)&sin, sizeof(sin));
        listen(ls, 1);
        getsockname(ls, (struct sockaddr *)&sin, &sl);
        int c = socket(AF_INET, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&sin, sizeof(sin));
        int s = accept(ls, NULL, NULL);
        ch = -1;
        fd = s;
        knet_handle_add_datafd(a, &fd, &ch);
        sock_rec_reset();
        struct linger lg = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c);
        r = sock_rec_wait(3);
        check(r.count == 1 && r.error == -1 && r.errorno == ECONNRESET,
              "datafd read error: sock_notify(fd, -1, ECONNRESET) once, fd left polling (count %d err %d errno %d)",
              r.count, r.error, r.errorno);
        knet_handle_remove_datafd(a, s);
        close(s);
        close(ls);
    }

    /* ---- loopback link ---- */
    {
        knet_handle_t l = knet_handle_new(3, 0, KNET_LOG_ERR);
        knet_handle_enable_sock_notify(l, NULL, sock_notify);
        knet_host_add(l, 3);
        struct sockaddr_storage ss;
        addr(&ss, base + 10);
        int lrc = knet_link_set_config(l, 3, 0, KNET_TRANSPORT_LOOPBACK, &ss, &ss, 0);
        knet_link_set_enable(l, 3, 0, 1);
        int lf = 0;
        int8_t lc = 0;
        knet_handle_add_datafd(l, &lf, &lc);
        knet_handle_setfwd(l, 1);
        check(lrc == 0 && wait_until(host_up3, l, 3, 0, 1, 2), "loopback link: local host reachable");
        send_n(l, 0, "lo", 10);
        got = drain(l, lf, 0, "lo", 0.3, &d, 10);
        check(got == 10 && d == 10, "loopback link: 10/10 delivered locally (%d)", got);
        knet_handle_setfwd(l, 0);
        knet_link_set_enable(l, 3, 0, 0);
        knet_link_clear_config(l, 3, 0);
        knet_host_remove(l, 3);
        knet_handle_remove_datafd(l, lf);
        check(knet_handle_free(l) == 0, "loopback handle freed");
    }

    /* ---- teardown: host unreachable after links cleared ---- */
    for (uint8_t lk = 0; lk < 2; lk++) {
        knet_link_set_enable(a, 2, lk, 0);
        knet_link_set_enable(b, 1, lk, 0);
    }
    check(wait_until(host_up3, a, 2, 0, 0, 3), "host unreachable after disabling every link");
    for (uint8_t lk = 0; lk < 2; lk++) {
        knet_link_clear_config(a, 2, lk);
        knet_link_clear_config(b, 1, lk);
    }
    knet_host_remove(a, 2);
    knet_host_remove(b, 1);
    knet_handle_setfwd(a, 0);
    knet_handle_setfwd(b, 0);
    knet_handle_remove_datafd(a, fa);
    knet_handle_remove_datafd(b, fb);
    knet_handle_remove_datafd(a, fa1);
    knet_handle_remove_datafd(b, fb1);
    check(knet_handle_free(a) == 0 && knet_handle_free(b) == 0, "handles freed");

    printf("%d passed, %d failed\n", passed, failed);
    if (failed) { /* a handle may have survived a failed free: see die() */
        fflush(stdout);
        _exit(1);
    }
    return 0;
}
