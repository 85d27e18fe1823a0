/*
 * One knet node for the interop tests, written against the public libknet.h
 * only.  Two of these run as two processes (each may load a different
 * libknet.so.1: ours via LD_LIBRARY_PATH, or the system's reference); they
 * exchange messages in both directions and compare their PMTUd results.
 *
 * usage: knet_node --me ID --peer ID --link LOCAL_IP:PORT,REMOTE_IP:PORT
 *                  [--link ...] [--crypto] [--timeout S] [--log]
 *
 * Protocol between the two nodes (all messages on channel 0):
 *   'M' seq size pattern...   an original message; the receiver checks the
 *                             pattern and sends it back as 'E'
 *   'E' ...                   the echo; the sender compares it byte for byte
 *   'P' mtu                   my settled data MTU
 *   'Q'                       I am done; wait for the peer's Q before exiting
 * Prints "PASS: ..." / "FAIL: ..." lines and "N passed, N failed".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libknet.h>

#include "tsan_ref_stack.h"

#define MAX_LINKS 4
static const size_t sizes[] = {1 + 8, 1400, 8192, 64000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static int passed, failed;
static const char *me_name = "node";

static void result(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s: [%s] ", ok ? "PASS" : "FAIL", me_name);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (ok)
        passed++;
    else
        failed++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* written by the library's notify threads, read by main */
static atomic_int reachable;
static atomic_uint notified_mtu;

static void host_status(void *priv, knet_node_id_t host_id, uint8_t r, uint8_t remote, uint8_t external) {
    (void)priv; (void)remote; (void)external;
    fprintf(stderr, "[%s] host %u reachable=%u\n", me_name, host_id, r);
    atomic_store(&reachable, r);
}

static void pmtud_notify(void *priv, unsigned int mtu) {
    (void)priv;
    atomic_store(&notified_mtu, mtu);
}

static void sock_notify(void *priv, int fd, int8_t ch, uint8_t txrx, int err, int errn) {
    (void)priv;
    fprintf(stderr, "[%s] sock_notify fd %d ch %d %s err %d errno %d\n", me_name, fd, ch,
            txrx == KNET_NOTIFY_TX ? "tx" : "rx", err, errn);
}

static int log_pipe[2] = {-1, -1};
static void *log_thread(void *arg) {
    (void)arg;
    struct knet_log_msg msg;
    while (read(log_pipe[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
        msg.msg[sizeof(msg.msg) - 1] = 0;
        fprintf(stderr, "[%s log %s/%s] %s\n", me_name, knet_log_get_subsystem_name(msg.subsystem),
                knet_log_get_loglevel_name(msg.msglevel), msg.msg);
    }
    return NULL;
}

/* A setup failure once the handle (and its threads) exists: leave without
 * running atexit handlers, which (OpenSSL's cleanup) would race with the
 * library's threads. */
static void die(const char *what) {
    perror(what);
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

static int split_addr(char *s, struct sockaddr_storage *ss) {
    /* "ip:port" or "[v6]:port" */
    char *port = strrchr(s, ':');
    if (!port) return -1;
    *port++ = 0;
    char *host = s;
    if (host[0] == '[') {
        host++;
        char *e = strchr(host, ']');
        if (e) *e = 0;
    }
    return knet_strtoaddr(host, port, ss, sizeof(*ss));
}

static void fill(unsigned char *buf, size_t len, uint32_t seq) {
    buf[0] = 'M';
    memcpy(buf + 1, &seq, 4);
    uint32_t l32 = (uint32_t)len;
    memcpy(buf + 5, &l32, 4);
    for (size_t i = 9; i < len; i++) buf[i] = (unsigned char)((i * 7 + seq * 13 + len) & 0xff);
}

static int check_pattern(const unsigned char *buf, size_t len) {
    uint32_t seq, l32;
    if (len < 9) return 0;
    memcpy(&seq, buf + 1, 4);
    memcpy(&l32, buf + 5, 4);
    if (l32 != len) return 0;
    for (size_t i = 9; i < len; i++)
        if (buf[i] != (unsigned char)((i * 7 + seq * 13 + len) & 0xff)) return 0;
    return 1;
}

int main(int argc, char **argv) {
    int me = -1, peer = -1, nlinks = 0, use_crypto = 0, want_log = 0;
    double timeout = 40;
    struct sockaddr_storage src[MAX_LINKS], dst[MAX_LINKS];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--me") && i + 1 < argc) me = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--peer") && i + 1 < argc) peer = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--crypto")) use_crypto = 1;
        else if (!strcmp(argv[i], "--log")) want_log = 1;
        else if (!strcmp(argv[i], "--link") && i + 1 < argc && nlinks < MAX_LINKS) {
            char *spec = strdup(argv[++i]);
            char *comma = strchr(spec, ',');
            if (!comma) { fprintf(stderr, "bad --link\n"); return 2; }
            *comma = 0;
            if (split_addr(spec, &src[nlinks]) || split_addr(comma + 1, &dst[nlinks])) {
                fprintf(stderr, "bad address in --link\n");
                return 2;
            }
            free(spec);
            nlinks++;
        }
    }
    if (me < 0 || peer < 0 || nlinks == 0) {
        fprintf(stderr, "usage: %s --me ID --peer ID --link L:P,R:P [--crypto] [--timeout S]\n", argv[0]);
        return 2;
    }
    static char name[32];
    snprintf(name, sizeof(name), "node%d", me);
    me_name = name;

    Dl_info info;
    if (dladdr((void *)knet_handle_new, &info) && info.dli_fname)
        printf("[%s] libknet loaded from: %s\n", me_name, info.dli_fname);
    fflush(stdout);

    int logfd = 0;
    pthread_t lt;
    if (want_log && pipe(log_pipe) == 0) {
        logfd = log_pipe[1];
        pthread_create(&lt, NULL, log_thread, NULL);
    }
    knet_handle_t h = knet_handle_new((knet_node_id_t)me, logfd, want_log ? KNET_LOG_DEBUG : KNET_LOG_ERR);
    if (!h) { perror("knet_handle_new"); return 1; }
    knet_handle_enable_sock_notify(h, NULL, sock_notify);
    knet_host_enable_status_change_notify(h, NULL, host_status);
    knet_handle_enable_pmtud_notify(h, NULL, pmtud_notify);
    if (use_crypto) {
        struct knet_handle_crypto_cfg cfg;
        memset(&cfg, 0, sizeof(cfg));
        strcpy(cfg.crypto_model, "openssl");
        strcpy(cfg.crypto_cipher_type, "aes256");
        strcpy(cfg.crypto_hash_type, "sha256");
        for (int i = 0; i < 128; i++) cfg.private_key[i] = (unsigned char)(i * 3 + 1);
        cfg.private_key_len = 128;
        if (knet_handle_crypto_set_config(h, &cfg, 1) || knet_handle_crypto_use_config(h, 1) ||
            knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC)) {
            die("crypto config");
        }
    }
    if (knet_host_add(h, (knet_node_id_t)peer)) die("knet_host_add");
    if (nlinks > 1) knet_host_set_policy(h, (knet_node_id_t)peer, KNET_LINK_POLICY_ACTIVE);
    for (int l = 0; l < nlinks; l++) {
        if (knet_link_set_config(h, (knet_node_id_t)peer, (uint8_t)l, KNET_TRANSPORT_UDP, &src[l], &dst[l], 0)) {
            die("knet_link_set_config");
        }
        knet_link_set_ping_timers(h, (knet_node_id_t)peer, (uint8_t)l, 200, 2000, 2048);
        knet_link_set_pong_count(h, (knet_node_id_t)peer, (uint8_t)l, 2);
        if (knet_link_set_enable(h, (knet_node_id_t)peer, (uint8_t)l, 1)) die("enable");
    }
    int datafd = 0;
    int8_t channel = 0;
    if (knet_handle_add_datafd(h, &datafd, &channel)) die("add_datafd");
    knet_handle_setfwd(h, 1);

    double deadline = now_s() + timeout;
    while (!atomic_load(&reachable) && now_s() < deadline) usleep(20000);
    result(atomic_load(&reachable), "peer %d reachable", peer);
    if (!atomic_load(&reachable)) goto out;

    /* Wait for PMTUd to run at least once on every link (the data MTU leaves
     * the failsafe value) so large messages are not fragmented differently
     * in flight; not required for correctness. */
    unsigned int mtu = 0;
    double mtu_deadline = now_s() + 15;
    while (now_s() < mtu_deadline) {
        knet_handle_pmtud_get(h, &mtu);
        if (mtu > 1500) break;
        usleep(50000);
    }

    static unsigned char buf[KNET_MAX_PACKET_SIZE];
    static unsigned char sent[NSIZES][KNET_MAX_PACKET_SIZE];
    int echoes_ok[NSIZES] = {0};
    int originals = 0, originals_bad = 0, echoes = 0, peer_mtu_seen = 0, peer_q = 0, q_sent = 0;
    unsigned int peer_mtu = 0;
    for (size_t i = 0; i < NSIZES; i++) {
        fill(sent[i], sizes[i], (uint32_t)i);
        ssize_t w = knet_send(h, (const char *)sent[i], sizes[i], channel);
        if (w != (ssize_t)sizes[i]) result(0, "knet_send %zu bytes: %zd (%s)", sizes[i], w, strerror(errno));
    }
    /* the 1-byte message: '1' answered by '2' */
    int one_ok = 0, one_seen = 0;
    knet_send(h, "1", 1, channel);
    int mtu_sent = 0;
    double mtu_settle = 0, last_resend = now_s();
    int orig_seen[NSIZES] = {0};
    while (now_s() < deadline) {
        /* knet is a datagram service: a message sent before the peer saw
         * us as reachable is dropped there, so resend what is not echoed */
        if (now_s() - last_resend > 1.0) {
            last_resend = now_s();
            for (size_t i = 0; i < NSIZES; i++)
                if (!echoes_ok[i]) knet_send(h, (const char *)sent[i], sizes[i], channel);
            if (!one_ok) knet_send(h, "1", 1, channel);
        }
        if (!mtu_sent && echoes == (int)NSIZES && originals == (int)NSIZES && one_ok && one_seen) {
            /* let PMTUd settle: same value twice 1 s apart */
            unsigned int a = 0, b = 0;
            knet_handle_pmtud_get(h, &a);
            if (mtu_settle == 0) mtu_settle = now_s();
            if (now_s() - mtu_settle > 1.0) {
                knet_handle_pmtud_get(h, &b);
                mtu = b;
                unsigned char p[5] = {'P'};
                memcpy(p + 1, &mtu, 4);
                knet_send(h, (const char *)p, sizeof(p), channel);
                mtu_sent = 1;
                (void)a;
            }
        }
        if (mtu_sent && peer_mtu_seen && !q_sent) {
            unsigned char q = 'Q';
            knet_send(h, (const char *)&q, 1, channel);
            q_sent = 1;
        }
        if (q_sent && peer_q) break;
        struct pollfd pfd = {datafd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) {
            if (q_sent && !peer_q) {
                static double qt;
                if (!qt) qt = now_s();
                if (now_s() - qt > 2) { /* resend Q, the peer may have missed it */
                    unsigned char q = 'Q';
                    knet_send(h, (const char *)&q, 1, channel);
                    qt = now_s();
                }
            }
            continue;
        }
        ssize_t n = knet_recv(h, (char *)buf, sizeof(buf), channel);
        if (n <= 0) continue;
        if (n == 1 && buf[0] == '1') {
            one_seen = 1;
            knet_send(h, "2", 1, channel);
            continue;
        }
        if (n == 1 && buf[0] == '2') {
            one_ok = 1;
            continue;
        }
        switch (buf[0]) {
        case 'M': {
            uint32_t seq;
            memcpy(&seq, buf + 1, 4);
            if (!check_pattern(buf, (size_t)n)) {
                originals_bad++;
                result(0, "received original of %zd bytes corrupted", n);
            } else if (seq < NSIZES && !orig_seen[seq]) {
                orig_seen[seq] = 1;
                originals++;
            }
            buf[0] = 'E';
            if (knet_send(h, (const char *)buf, (size_t)n, channel) != n)
                result(0, "echo send failed: %s", strerror(errno));
            break;
        }
        case 'E': {
            uint32_t seq;
            memcpy(&seq, buf + 1, 4);
            if (seq < NSIZES && (size_t)n == sizes[seq] && memcmp(buf + 1, sent[seq] + 1, (size_t)n - 1) == 0) {
                if (!echoes_ok[seq]) echoes++;
                echoes_ok[seq] = 1;
            } else {
                result(0, "echo of %zd bytes does not match", n);
            }
            break;
        }
        case 'P':
            if (n == 5) {
                memcpy(&peer_mtu, buf + 1, 4);
                peer_mtu_seen = 1;
            }
            break;
        case 'Q':
            peer_q = 1;
            break;
        }
    }
    result(one_ok && one_seen, "1-byte message both ways");
    for (size_t i = 0; i < NSIZES; i++)
        result(echoes_ok[i], "%zu-byte message delivered to peer and echoed back intact", sizes[i]);
    result(originals == (int)NSIZES && originals_bad == 0, "received %d/%zu peer messages intact",
           originals - originals_bad, NSIZES);
    result(peer_mtu_seen && peer_mtu == mtu && mtu > 0, "PMTUd data MTU: mine %u, peer %u", mtu, peer_mtu);
    unsigned int nmtu = atomic_load(&notified_mtu);
    result(nmtu == mtu, "pmtud notify reported %u (knet_handle_pmtud_get %u)", nmtu, mtu);

    for (int l = 0; l < nlinks; l++) {
        struct knet_link_status st;
        memset(&st, 0, sizeof(st));
        if (knet_link_get_status(h, (knet_node_id_t)peer, (uint8_t)l, &st, sizeof(st)) == 0)
            fprintf(stderr, "[%s] link %d: connected %u mtu %u latency %llu tx_data %llu rx_data %llu "
                    "tx_ping %llu rx_pong %llu tx_pmtu %llu\n", me_name, l, st.connected, st.mtu,
                    (unsigned long long)st.latency, (unsigned long long)st.stats.tx_data_packets,
                    (unsigned long long)st.stats.rx_data_packets,
                    (unsigned long long)st.stats.tx_ping_packets,
                    (unsigned long long)st.stats.rx_pong_packets,
                    (unsigned long long)st.stats.tx_pmtu_packets);
    }
    /* linger so the peer's last echoes and Q get answered */
    {
        double end = now_s() + 1.0;
        while (now_s() < end) {
            struct pollfd pfd = {datafd, POLLIN, 0};
            if (poll(&pfd, 1, 50) > 0) {
                ssize_t n = knet_recv(h, (char *)buf, sizeof(buf), channel);
                if (n > 0 && buf[0] == 'M') {
                    buf[0] = 'E';
                    knet_send(h, (const char *)buf, (size_t)n, channel);
                }
            }
        }
    }

out:
    knet_handle_setfwd(h, 0);
    for (int l = 0; l < nlinks; l++) {
        knet_link_set_enable(h, (knet_node_id_t)peer, (uint8_t)l, 0);
        knet_link_clear_config(h, (knet_node_id_t)peer, (uint8_t)l);
    }
    knet_host_remove(h, (knet_node_id_t)peer);
    knet_handle_remove_datafd(h, datafd);
    int freed = knet_handle_free(h) == 0;
    if (!freed) result(0, "knet_handle_free: %s", strerror(errno));
    printf("[%s] %d passed, %d failed\n", me_name, passed, failed);
    if (!freed) { /* the handle's threads still run: see die() */
        fflush(stdout);
        fflush(stderr);
        _exit(1);
    }
    return failed ? 1 : 0;
}
