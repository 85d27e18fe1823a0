/*
 * Fragmented traffic at an ethernet MTU, ours to ours, two processes.
 *
 * Loopback has a 64 KiB MTU, so nearly nothing is fragmented there.  This
 * test gives itself a network namespace whose loopback has MTU 1500 (root and
 * ip(8) needed, else it is skipped with exit code 77) and sends, from node 1
 * to node 2 over two links (passive, link 0 preferred):
 *  1. datagrams of exactly twice the data MTU: every fragment has one size,
 *     so the sender's GSO joins fragments of many datagrams into one send
 *     and the receiver gets them back joined (UDP GRO);
 *  2. mixed sizes, 1 B to 64 KiB;
 *  3. a backlog behind an untimed ping: node 2 is stopped (SIGSTOP) while
 *     node 1 sends more than 8192 datagrams.  Every 8192 sequence numbers the
 *     sender pings all its links with its newest sequence number; that ping
 *     arrives on the idle link 1 next to thousands of datagrams still queued
 *     on link 0 (libknet 1.26 then lost all but their first fragment).
 * Each phase: every datagram delivered exactly once, intact and in order.
 * Every wait is bounded.  Closing line: "N passed, N failed".
 *
 * `knet_frag_test filtered`: the same with a destination filter on both nodes
 * (which checks every datagram it is shown) and lz4 compression, so that the
 * receiver reassembles into one piece instead of writing the fragments out
 * as they came.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libknet.h"
#include "pass_fail.h"

enum { PHASES = 3, END = -1, READY = -2 };
static const int phase_count[PHASES] = {3000, 2000, 9000};

/* Every datagram starts with this header; the rest is a pattern of it. */
struct hdr {
    int32_t phase;
    int32_t index; /* END: the phase is over, `len` datagrams were sent */
    uint32_t len;
};

struct report {
    int phase, got, out_of_order, dups, bad;
};

static uint8_t pattern(int phase, int index, size_t k) {
    return (uint8_t)(k * 7 + (size_t)index * 13 + (size_t)phase * 101);
}

static size_t fill(uint8_t *buf, int phase, int index, size_t len) {
    if (len < sizeof(struct hdr)) len = sizeof(struct hdr);
    struct hdr h = {phase, index, (uint32_t)len};
    memcpy(buf, &h, sizeof(h));
    for (size_t k = sizeof(h); k < len; k++) buf[k] = pattern(phase, index, k);
    return len;
}

static void sock_notify(void *priv, int fd, int8_t channel, uint8_t tx_rx, int error, int errorno) {
    (void)priv; (void)fd; (void)channel; (void)tx_rx; (void)error; (void)errorno;
}

static int filtered;
static int filter_bad; /* datagrams the filter saw damaged (receiver) */

/* Unicast to the peer; checks what it is shown the way the receiver does. */
static int filter(void *priv, const unsigned char *data, ssize_t len, uint8_t tx_rx,
                  knet_node_id_t this_host, knet_node_id_t src_host, int8_t *channel,
                  knet_node_id_t *dst, size_t *dst_entries) {
    (void)priv; (void)src_host; (void)channel;
    struct hdr hd;
    if (len >= (ssize_t)sizeof(hd)) {
        memcpy(&hd, data, sizeof(hd));
        int intact = hd.index == END || hd.len == (uint32_t)len;
        for (ssize_t k = sizeof(hd); intact && hd.index >= 0 && k < len; k++)
            intact = data[k] == pattern(hd.phase, hd.index, (size_t)k);
        if (!intact) filter_bad++;
    }
    dst[0] = tx_rx == KNET_NOTIFY_TX ? (this_host == 1 ? 2 : 1) : this_host;
    *dst_entries = 1;
    return 0;
}

/* Node `me` with one peer, two UDP links on 127.0.0.1, a library-made datafd. */
static knet_handle_t node(knet_node_id_t me, int base, int *datafd) {
    knet_handle_t h = knet_handle_new(me, 0, KNET_LOG_ERR);
    if (!h || knet_handle_enable_sock_notify(h, NULL, sock_notify)) return NULL;
    knet_node_id_t peer = me == 1 ? 2 : 1;
    if (knet_host_add(h, peer)) return NULL;
    for (uint8_t l = 0; l < 2; l++) {
        struct sockaddr_storage local, remote;
        char pl[16], pr[16];
        snprintf(pl, sizeof(pl), "%d", base + 2 * l + (me == 1 ? 0 : 1));
        snprintf(pr, sizeof(pr), "%d", base + 2 * l + (me == 1 ? 1 : 0));
        if (knet_strtoaddr("127.0.0.1", pl, &local, sizeof(local)) ||
            knet_strtoaddr("127.0.0.1", pr, &remote, sizeof(remote)) ||
            knet_link_set_config(h, peer, l, KNET_TRANSPORT_UDP, &local, &remote, 0) ||
            knet_link_set_ping_timers(h, peer, l, 200, 3000, 2048) ||
            knet_link_set_priority(h, peer, l, l == 0 ? 10 : 1) || knet_link_set_enable(h, peer, l, 1)) {
            fprintf(stderr, "node %u link %u: %s\n", me, l, strerror(errno));
            return NULL;
        }
    }
    if (filtered) {
        struct knet_handle_compress_cfg cc;
        memset(&cc, 0, sizeof(cc));
        snprintf(cc.compress_model, sizeof(cc.compress_model), "lz4");
        cc.compress_level = 1;
        cc.compress_threshold = 0;
        if (knet_handle_enable_filter(h, NULL, filter) || knet_handle_compress(h, &cc)) {
            fprintf(stderr, "node %u filter/compress: %s\n", me, strerror(errno));
            return NULL;
        }
    }
    int8_t channel = 0;
    *datafd = 0;
    if (knet_handle_add_datafd(h, datafd, &channel) || knet_handle_setfwd(h, 1)) {
        fprintf(stderr, "node %u datafd: %s\n", me, strerror(errno));
        return NULL;
    }
    return h;
}

/* Both links of `h` to `peer` connected and through PMTUd (so that no probe
 * is outstanding while the receiver is stopped), and the peer reachable. */
static int settled(knet_handle_t h, knet_node_id_t peer) {
    struct knet_host_status st = {0};
    if (knet_host_get_status(h, peer, &st) || !st.reachable) return 0;
    for (uint8_t l = 0; l < 2; l++) {
        struct knet_link_status ls;
        memset(&ls, 0, sizeof(ls));
        if (knet_link_get_status(h, peer, l, &ls, sizeof(ls)) || !ls.connected || ls.mtu < 1000 ||
            ls.mtu > 1500) {
            return 0;
        }
    }
    return 1;
}

/* Node 2: says READY once node 1 is reachable from here, then reads and
 * checks until killed; one report per phase (when its END arrives) on `out`. */
static int receiver(int base, int out) {
    static uint8_t buf[KNET_MAX_PACKET_SIZE];
    int fd;
    knet_handle_t h = node(2, base, &fd);
    if (!h) return 2;
    int up = 0;
    for (double end = now_s() + 30; !(up = settled(h, 1)) && now_s() < end;) usleep(20000);
    struct report ready = {READY, up, 0, 0, 0};
    if (write(out, &ready, sizeof(ready)) != sizeof(ready)) return 3;
    struct report r[PHASES];
    int next[PHASES] = {0};
    for (int p = 0; p < PHASES; p++) r[p] = (struct report){p, 0, 0, 0, 0};
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0) continue;
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < (ssize_t)sizeof(struct hdr)) continue;
        struct hdr hd;
        memcpy(&hd, buf, sizeof(hd));
        if (hd.phase < 0 || hd.phase >= PHASES) continue;
        struct report *rp = &r[hd.phase];
        if (hd.index == END) {
            rp->bad += filter_bad;
            filter_bad = 0;
            if (write(out, rp, sizeof(*rp)) != sizeof(*rp)) return 3;
            continue;
        }
        int intact = hd.len == (uint32_t)n && hd.index >= 0;
        for (size_t k = sizeof(hd); intact && k < (size_t)n; k++)
            intact = buf[k] == pattern(hd.phase, hd.index, k);
        if (!intact) {
            rp->bad++;
            continue;
        }
        int *nx = &next[hd.phase];
        if (hd.index < *nx) rp->dups++;
        else if (hd.index > *nx) rp->out_of_order++;
        if (hd.index >= *nx) *nx = hd.index + 1;
        rp->got++;
    }
}

static int send_one(int fd, const uint8_t *buf, size_t len, double deadline) {
    while (now_s() < deadline) {
        ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n == (ssize_t)len) return 0;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, 10);
    }
    return -1;
}

static size_t size_of(int phase, int i, size_t mtu) {
    static const size_t mixed[] = {1, 100, 0, 0, 0, 0, 8192, 65536, 30000};
    if (phase != 1) return phase == 0 ? 2 * mtu : 3 * mtu - 100;
    size_t s = mixed[i % 9];
    switch (i % 9) {
    case 2: s = mtu - 1; break;
    case 3: s = mtu; break;
    case 4: s = mtu + 1; break;
    case 5: s = 3 * mtu; break;
    case 8: s += (size_t)i; break;
    }
    return s < KNET_MAX_PACKET_SIZE ? s : KNET_MAX_PACKET_SIZE;
}

int main(int argc, char **argv) {
    alarm(240);
    filtered = argc > 1 && strcmp(argv[1], "filtered") == 0;
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0 || system("ip link set lo up mtu 1500") != 0) {
        printf("SKIP: needs root and ip(8) for a network namespace with MTU 1500\n");
        return 77;
    }
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    int base = 20000 + (rand() % 18000) * 2;
    int rep[2];
    if (pipe(rep)) return 1;
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        close(rep[0]);
        _exit(receiver(base, rep[1]));
    }
    close(rep[1]);

    int fd;
    knet_handle_t h = node(1, base, &fd);
    check(h != NULL, "node 1 configured");
    unsigned int mtu = 0;
    double end = now_s() + 30;
    int up = 0;
    while (now_s() < end) {
        up = settled(h, 2);
        if (up && knet_handle_pmtud_get(h, &mtu) == 0 && mtu > 1000 && mtu < 1500) break;
        usleep(50000);
    }
    struct report ready = {0, 0, 0, 0, 0};
    struct pollfd rp = {rep[0], POLLIN, 0};
    int is_ready = poll(&rp, 1, 30000) > 0 && read(rep[0], &ready, sizeof(ready)) == sizeof(ready) &&
                   ready.phase == READY && ready.got == 1;
    check(up && is_ready && mtu > 1000 && mtu < 1500,
          "nodes reachable both ways, data MTU %u (link MTU 1500)", mtu);
    if (!up || !is_ready || mtu <= 1000 || mtu >= 1500) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return 1;
    }

    static uint8_t buf[KNET_MAX_PACKET_SIZE];
    for (int phase = 0; phase < PHASES; phase++) {
        const int n = phase_count[phase];
        int sent = 0;
        double deadline = now_s() + 60;
        if (phase == 2) kill(child, SIGSTOP);
        const double stopped_at = now_s();
        for (int i = 0; i < n; i++) {
            if (send_one(fd, buf, fill(buf, phase, i, size_of(phase, i, mtu)), deadline) == 0) sent++;
        }
        if (phase == 2) {
            /* long enough for the queue to stay behind the ping, well short
             * of the 3 s link timeout */
            while (now_s() < stopped_at + 0.5) usleep(10000);
            kill(child, SIGCONT);
        }
        struct hdr e = {phase, END, (uint32_t)sent};
        memcpy(buf, &e, sizeof(e));
        int end_ok = send_one(fd, buf, sizeof(e), deadline) == 0;

        struct report r = {-1, 0, 0, 0, 0};
        struct pollfd p = {rep[0], POLLIN, 0};
        int got_report = poll(&p, 1, 10000) > 0 && read(rep[0], &r, sizeof(r)) == sizeof(r);
        check(end_ok && got_report && r.phase == phase && sent == n && r.got == n && r.dups == 0 &&
                  r.bad == 0 && r.out_of_order == 0,
              "phase %d (%s): %d/%d delivered, %d out of order, %d duplicated, %d corrupt", phase + 1,
              phase == 0   ? "2 x data MTU, fragments joined by GSO/GRO"
              : phase == 1 ? "mixed sizes 1 B .. 64 KiB"
                           : "backlog behind an untimed ping",
              r.got, sent, r.out_of_order, r.dups, r.bad);
    }

    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    knet_handle_setfwd(h, 0);
    for (uint8_t l = 0; l < 2; l++) {
        knet_link_set_enable(h, 2, l, 0);
        knet_link_clear_config(h, 2, l);
    }
    knet_host_remove(h, 2);
    knet_handle_remove_datafd(h, fd);
    check(knet_handle_free(h) == 0, "node 1 freed");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
