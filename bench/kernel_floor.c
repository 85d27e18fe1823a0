/* The kernel's share of the knet_bench tput scenarios, without knet.
 *
 * Two processes move messages the way a knet datafd pipeline does, with
 * nothing else: app -> socketpair (SOCK_SEQPACKET) -> "tx" thread -> UDP on
 * loopback -> "rx" thread -> socketpair -> app.  One message per blocking
 * syscall, one hot buffer per thread, no headers, no heartbeats.  What it
 * costs is the floor under any libknet on this machine: the six copies of
 * every message and the wake-ups between the four threads.
 *
 *   kernel_floor [message bytes, default 64000] [seconds, default 4]
 *
 * Prints messages sent and delivered, msgs/s delivered and CPU seconds of
 * both processes per GB delivered (the same metrics as knet_bench).  Buffer
 * sizes as our library's: 8 MB socketpair and UDP send, 64 MB UDP receive
 * (the FORCE options need CAP_NET_ADMIN; without it the kernel caps them).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG 65000

static int pair_fds[2]; /* [0] the application's end, [1] the library's */
static int udp_fd;
static struct sockaddr_in peer;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
	       (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void buffers(int fd, int snd, int rcv)
{
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

/* socketpair -> UDP; ends when the application closes its end */
static void *tx_thread(void *arg)
{
	static char buf[MAX_MSG];
	(void)arg;
	for (;;) {
		ssize_t n = recv(pair_fds[1], buf, sizeof(buf), 0);
		if (n <= 0)
			return NULL;
		(void)sendto(udp_fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, sizeof(peer));
	}
}

/* UDP -> socketpair (blocking: the application's pace); a 1-byte datagram ends it */
static void *rx_thread(void *arg)
{
	static char buf[MAX_MSG];
	(void)arg;
	for (;;) {
		ssize_t n = recv(udp_fd, buf, sizeof(buf), 0);
		if (n <= 1) {
			shutdown(pair_fds[1], SHUT_WR);
			return NULL;
		}
		(void)send(pair_fds[1], buf, (size_t)n, 0);
	}
}

static int udp_socket(struct sockaddr_in *bound)
{
	socklen_t len = sizeof(*bound);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(bound, 0, sizeof(*bound));
	bound->sin_family = AF_INET;
	bound->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)bound, sizeof(*bound)) < 0 ||
	    getsockname(fd, (struct sockaddr *)bound, &len) < 0) {
		perror("udp socket");
		exit(1);
	}
	buffers(fd, 8 << 20, 64 << 20);
	return fd;
}

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? (size_t)atol(argv[1]) : 64000;
	int seconds = argc > 2 ? atoi(argv[2]) : 4;
	struct sockaddr_in addr_tx, addr_rx;
	int sock_tx = udp_socket(&addr_tx), sock_rx = udp_socket(&addr_rx);
	int report[2];
	static char buf[MAX_MSG];
	pthread_t thread;

	if (size < 2 || size > MAX_MSG || seconds < 1 || pipe(report) < 0) {
		fprintf(stderr, "usage: %s [bytes 2..%d] [seconds]\n", argv[0], MAX_MSG);
		return 2;
	}
	memset(buf, 0x5a, sizeof(buf));
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair_fds) < 0)
		return 1;
	buffers(pair_fds[0], 8 << 20, 8 << 20);
	buffers(pair_fds[1], 8 << 20, 8 << 20);

	if (child == 0) { /* receiving node */
		uint64_t rcvd = 0;
		double cpu;
		udp_fd = sock_rx;
		close(sock_tx);
		pthread_create(&thread, NULL, rx_thread, NULL);
		while (recv(pair_fds[0], buf, sizeof(buf), 0) > 0)
			rcvd++;
		pthread_join(thread, NULL);
		cpu = cpu_s();
		if (write(report[1], &rcvd, sizeof(rcvd)) != sizeof(rcvd) ||
		    write(report[1], &cpu, sizeof(cpu)) != sizeof(cpu))
			return 1;
		return 0;
	}

	/* sending node */
	uint64_t sent = 0, rcvd = 0;
	double cpu_rx = 0, t0, t1, cpu_tx, gb;
	udp_fd = sock_tx;
	close(sock_rx);
	peer = addr_rx;
	pthread_create(&thread, NULL, tx_thread, NULL);
	usleep(200000);
	t0 = now_s();
	do {
		if (send(pair_fds[0], buf, size, 0) == (ssize_t)size)
			sent++;
		t1 = now_s();
	} while (t1 - t0 < seconds);
	shutdown(pair_fds[0], SHUT_WR);
	pthread_join(thread, NULL);
	usleep(500000); /* let the receiver drain, then end it */
	(void)sendto(udp_fd, buf, 1, 0, (struct sockaddr *)&peer, sizeof(peer));
	cpu_tx = cpu_s();
	if (read(report[0], &rcvd, sizeof(rcvd)) != sizeof(rcvd) ||
	    read(report[0], &cpu_rx, sizeof(cpu_rx)) != sizeof(cpu_rx))
		return 1;
	waitpid(child, NULL, 0);
	gb = (double)rcvd * (double)size / 1e9;
	printf("kernel_floor size %zu: sent %llu delivered %llu loss %.2f %% msgs/s %.0f CPU s tx %.2f rx %.2f "
	       "CPU s/GB %.3f\n",
	       size, (unsigned long long)sent, (unsigned long long)rcvd,
	       sent ? 100.0 * (double)(sent - (rcvd < sent ? rcvd : sent)) / (double)sent : 0.0,
	       (double)rcvd / (t1 - t0), cpu_tx, cpu_rx, gb > 0 ? (cpu_tx + cpu_rx) / gb : 0.0);
	return 0;
}
