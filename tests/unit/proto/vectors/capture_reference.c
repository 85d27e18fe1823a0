/*
 * Captures clear-text packets sent by the reference libknet (Debian libknet1
 * 1.25) and writes them as test vectors.  Not part of the build; run by hand:
 *
 *   cc -O2 -Wall -o /tmp/capture_reference tests/unit/proto/vectors/capture_reference.c \
 *      -l:libknet.so.1 -lpthread
 *   /tmp/capture_reference tests/unit/proto/vectors
 *
 * The reference handle is host 1 with one UDP link (link 0) from
 * 127.0.0.1:REF_PORT to 127.0.0.1:PEER_PORT towards host 2.  This program plays
 * host 2 with a plain UDP socket on PEER_PORT: it answers PINGs with PONGs
 * (header rewritten by hand, as the protocol says) and PMTUD probes with
 * PMTUD_REPLYs, so the reference brings the link up; then it makes the
 * reference send one small and one fragmented datagram (data MTU forced low
 * with knet_handle_pmtud_set).  With a second argument "pmtud" it does not
 * force the MTU and lets PMTUd probe, to capture PMTUD probes (only their
 * first 64 bytes are kept, the file name gives the full length).  Note the
 * first probe's size is 65535, which reads the same in either byte order.  Received packets go to
 * <dir>/ref_<type>_<n>.bin.  All waits are bounded (20 s total).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libknet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REF_PORT 50701
#define PEER_PORT 50702

static int log_pipe[2];

static void *log_drain(void *arg) {
    (void)arg;
    struct knet_log_msg msg;
    while (read(log_pipe[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
        if (getenv("CAPTURE_VERBOSE")) fprintf(stderr, "knet: %s\n", msg.msg);
    }
    return NULL;
}

static void sock_notify(void *p, int fd, int8_t ch, uint8_t tx_rx, int err, int errno_) {
    (void)p; (void)fd; (void)ch; (void)tx_rx; (void)err; (void)errno_;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *dir;
static int counts[256];

static void save(const unsigned char *buf, ssize_t len) {
    const char *name = "unknown";
    switch (buf[1]) {
        case 0x00: name = "data"; break;
        case 0x81: name = "ping"; break;
        case 0x82: name = "pong"; break;
        case 0x83: name = "pmtud"; break;
        case 0x84: name = "pmtud_reply"; break;
    }
    int n = counts[buf[1]]++;
    /* keep a handful of each; PMTUD probes are big, keep only small ones */
    if (n >= (buf[1] == 0x00 ? 16 : 4)) return;
    char path[512];
    snprintf(path, sizeof(path), "%s/ref_%s_%d.bin", dir, name, n);
    if (buf[1] == 0x83) {
        /* probes are up to 64 KiB: keep the first 64 bytes, name the length */
        snprintf(path, sizeof(path), "%s/ref_pmtud_%d_head64_of_%zd.bin", dir, n, len);
        if (len > 64) len = 64;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(buf, 1, (size_t)len, f);
    fclose(f);
    fprintf(stderr, "saved %s (%zd bytes)\n", path, len);
}

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : ".";
    if (pipe(log_pipe) != 0) return 1;
    pthread_t th;
    pthread_create(&th, NULL, log_drain, NULL);

    knet_handle_t h = knet_handle_new(1, log_pipe[1], KNET_LOG_DEBUG);
    if (!h) { perror("knet_handle_new"); return 1; }
    if (knet_handle_enable_sock_notify(h, NULL, sock_notify) < 0) { perror("notify"); return 1; }
    int datafd = 0;
    int8_t channel = -1;
    if (knet_handle_add_datafd(h, &datafd, &channel) < 0) { perror("datafd"); return 1; }
    if (knet_host_add(h, 2) < 0) { perror("host_add"); return 1; }

    struct sockaddr_storage src, dst;
    knet_strtoaddr("127.0.0.1", "50701", &src, sizeof(src));
    knet_strtoaddr("127.0.0.1", "50702", &dst, sizeof(dst));

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = {0};
    me.sin_family = AF_INET;
    me.sin_port = htons(PEER_PORT);
    me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) { perror("bind"); return 1; }

    if (knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &src, &dst, 0) < 0) { perror("link"); return 1; }
    knet_link_set_ping_timers(h, 2, 0, 200, 1000, 2048);
    knet_handle_pmtud_setfreq(h, 1);
    knet_link_set_pong_count(h, 2, 0, 1);
    /* mode "pmtud": let PMTUd probe (replies only up to 1500 bytes) instead */
    int pmtud_mode = argc > 2 && strcmp(argv[2], "pmtud") == 0;
    if (!pmtud_mode) knet_handle_pmtud_set(h, 1200);
    if (knet_link_set_enable(h, 2, 0, 1) < 0) { perror("enable"); return 1; }
    knet_handle_setfwd(h, 1);

    static unsigned char buf[70000];
    double start = now_s();
    int sent_small = 0, sent_big = 0;
    while (now_s() - start < 20.0) {
        struct pollfd pfd = { .fd = s, .events = POLLIN };
        if (poll(&pfd, 1, 100) > 0) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t len = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
            if (len <= 0) continue;
            save(buf, len);
            if (buf[1] == 0x81 && len >= 26) {          /* PING -> PONG */
                buf[1] = 0x82;
                buf[2] = 0; buf[3] = 2;
                sendto(s, buf, 26, 0, (struct sockaddr *)&from, fl);
            } else if (buf[1] == 0x83 && len >= 9) {    /* PMTUD -> reply */
                buf[1] = 0x84;
                buf[2] = 0; buf[3] = 2;
                sendto(s, buf, 9, 0, (struct sockaddr *)&from, fl);
            }
        }
        struct knet_host_status hs;
        if (knet_host_get_status(h, 2, &hs) == 0 && hs.reachable) {
            if (!sent_small) {
                const char msg[] = "hello from the reference";
                if (knet_send(h, msg, sizeof(msg) - 1, channel) > 0) sent_small = 1;
            } else if (!sent_big) {
                static char big[3000];
                for (size_t i = 0; i < sizeof(big); i++) big[i] = (char)(i * 7 + 3);
                if (knet_send(h, big, sizeof(big), channel) > 0) sent_big = 1;
            }
        }
        if (!pmtud_mode && sent_big && counts[0x00] >= 1 + 7 && counts[0x81] >= 3) break;
        if (pmtud_mode && counts[0x83] >= 1 && sent_small) break;
    }
    fprintf(stderr, "pings %d pmtud %d data %d\n", counts[0x81], counts[0x83], counts[0x00]);
    knet_handle_setfwd(h, 0);
    knet_link_set_enable(h, 2, 0, 0);
    knet_link_clear_config(h, 2, 0);
    knet_host_remove(h, 2);
    knet_handle_free(h);
    close(s);
    return 0;
}
