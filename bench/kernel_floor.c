/* The kernel's share of the knet_bench tput scenarios, without knet.
 *
 * Two processes move messages the way a knet datafd pipeline does, with
 * nothing else: app -> socketpair (SOCK_SEQPACKET) -> "tx" thread -> UDP on
 * loopback -> "rx" thread -> socketpair -> app.  One message per blocking
 * syscall, one hot buffer per thread, a 1-byte header, no heartbeats.  What it
 * costs is the floor under any libknet on this machine: the six copies of
 * every message and the wake-ups between the four threads.
 *
 *   kernel_floor [message bytes, default 64000] [seconds, default 4] [work]
 *
 * work (default none) adds, per message, what a knet node must do to it
 * with the same libraries, one message at a time in the two threads:
 *   lz4         LZ4_compress_fast (acceleration 1) / LZ4_decompress_safe
 *   crypto      AES-256-CBC with a random IV and HMAC-SHA256 over IV and
 *               ciphertext (OpenSSL, as knet's openssl aes256/sha256),
 *               checked and decrypted on receipt
 *   crypto-lz4  both: compress, then encrypt
 * So "our library against this" says what knet adds on top of the work
 * itself.  The payload is knet_bench's (half random, half zeros in 16-byte
 * blocks: LZ4 about 0.6).
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
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lz4.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "../tools/bench_payload.h"

#define MAX_MSG 65000
#define MAX_WIRE (MAX_MSG + 1024) /* compressed or encrypted: bigger at worst */
#define IV_LEN 16
#define MAC_LEN 32

static int use_lz4, use_crypto;
static unsigned char cipher_key[32], mac_key[32];

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

/* Encrypts the byte `flag` and in[0, len) into out as IV | ciphertext | HMAC;
 * returns the length. */
static size_t seal(EVP_CIPHER_CTX *c, unsigned char flag, const unsigned char *in, size_t len,
		   unsigned char *out)
{
	int n0 = 0, n1 = 0, n2 = 0;
	unsigned int mac_len = 0;

	(void)RAND_bytes(out, IV_LEN);
	EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, cipher_key, out);
	EVP_EncryptUpdate(c, out + IV_LEN, &n0, &flag, 1);
	EVP_EncryptUpdate(c, out + IV_LEN + n0, &n1, in, (int)len);
	EVP_EncryptFinal_ex(c, out + IV_LEN + n0 + n1, &n2);
	len = (size_t)(IV_LEN + n0 + n1 + n2);
	HMAC(EVP_sha256(), mac_key, sizeof(mac_key), out, len, out + len, &mac_len);
	return len + mac_len;
}

/* Checks and decrypts what seal() made; returns the clear length, 0 if refused. */
static size_t open_sealed(EVP_CIPHER_CTX *c, const unsigned char *in, size_t len, unsigned char *out)
{
	unsigned char mac[MAC_LEN];
	unsigned int mac_len = 0;
	int n1 = 0, n2 = 0;

	if (len < IV_LEN + MAC_LEN + 16)
		return 0;
	HMAC(EVP_sha256(), mac_key, sizeof(mac_key), in, len - MAC_LEN, mac, &mac_len);
	if (CRYPTO_memcmp(mac, in + len - MAC_LEN, MAC_LEN) != 0)
		return 0;
	EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, cipher_key, in);
	if (!EVP_DecryptUpdate(c, out, &n1, in + IV_LEN, (int)(len - MAC_LEN - IV_LEN)) ||
	    !EVP_DecryptFinal_ex(c, out + n1, &n2))
		return 0;
	return (size_t)(n1 + n2);
}

/* socketpair -> [compress, encrypt] -> UDP; ends when the application closes
 * its end.  Each datagram starts with a byte saying whether it is compressed
 * (knet has it in its header). */
static void *tx_thread(void *arg)
{
	static unsigned char buf[MAX_MSG], zbuf[MAX_WIRE], wire[MAX_WIRE];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	(void)arg;
	for (;;) {
		ssize_t n = recv(pair_fds[1], buf, sizeof(buf), 0);
		unsigned char flag = 0;
		const unsigned char *out = buf;
		size_t len = (size_t)n;
		if (n <= 0)
			break;
		if (use_lz4) {
			int z = LZ4_compress_fast((const char *)buf, (char *)zbuf, (int)n, (int)sizeof(zbuf), 1);
			if (z > 0 && z < n) {
				flag = 1;
				out = zbuf;
				len = (size_t)z;
			}
		}
		if (use_crypto) {
			len = seal(c, flag, out, len, wire);
			(void)sendto(udp_fd, wire, len, 0, (struct sockaddr *)&peer, sizeof(peer));
		} else {
			struct iovec iov[2] = { { &flag, 1 }, { (void *)out, len } };
			struct msghdr mh = { .msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = iov,
					     .msg_iovlen = 2 };
			(void)sendmsg(udp_fd, &mh, 0);
		}
	}
	EVP_CIPHER_CTX_free(c);
	return NULL;
}

/* UDP -> [decrypt, decompress] -> socketpair (blocking: the application's
 * pace); a 1-byte datagram ends it */
static void *rx_thread(void *arg)
{
	static unsigned char buf[MAX_WIRE], clear[MAX_WIRE], msg[MAX_MSG];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	(void)arg;
	for (;;) {
		ssize_t n = recv(udp_fd, buf, sizeof(buf), 0);
		const unsigned char *in = buf;
		size_t len = (size_t)n;
		if (n <= 1) {
			shutdown(pair_fds[1], SHUT_WR);
			break;
		}
		if (use_crypto) {
			len = open_sealed(c, buf, len, clear);
			if (len == 0)
				continue;
			in = clear;
		}
		if (len < 1)
			continue;
		if (in[0] == 1) {
			int m = LZ4_decompress_safe((const char *)in + 1, (char *)msg, (int)len - 1, (int)sizeof(msg));
			if (m <= 0)
				continue;
			in = msg;
			len = (size_t)m;
		} else {
			in++;
			len--;
		}
		(void)send(pair_fds[1], in, len, 0);
	}
	EVP_CIPHER_CTX_free(c);
	return NULL;
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
	const char *work = argc > 3 ? argv[3] : "none";
	struct sockaddr_in addr_tx, addr_rx;
	int sock_tx = udp_socket(&addr_tx), sock_rx = udp_socket(&addr_rx);
	int report[2];
	static unsigned char buf[MAX_MSG];
	pthread_t thread;

	use_lz4 = !strcmp(work, "lz4") || !strcmp(work, "crypto-lz4");
	use_crypto = !strcmp(work, "crypto") || !strcmp(work, "crypto-lz4");
	if (size < 2 || size > MAX_MSG || seconds < 1 || (!use_lz4 && !use_crypto && strcmp(work, "none")) ||
	    pipe(report) < 0) {
		fprintf(stderr, "usage: %s [bytes 2..%d] [seconds] [none|lz4|crypto|crypto-lz4]\n", argv[0],
			MAX_MSG);
		return 2;
	}
	bench_fill_payload(buf, sizeof(buf), 0x12345678u);
	for (size_t i = 0; i < sizeof(cipher_key); i++) {
		cipher_key[i] = (unsigned char)(i * 7 + 1);
		mac_key[i] = (unsigned char)(i * 11 + 3);
	}
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
	printf("kernel_floor size %zu work %s: sent %llu delivered %llu loss %.2f %% msgs/s %.0f CPU s tx %.2f rx %.2f "
	       "CPU s/GB %.3f\n",
	       size, work, (unsigned long long)sent, (unsigned long long)rcvd,
	       sent ? 100.0 * (double)(sent - (rcvd < sent ? rcvd : sent)) / (double)sent : 0.0,
	       (double)rcvd / (t1 - t0), cpu_tx, cpu_rx, gb > 0 ? (cpu_tx + cpu_rx) / gb : 0.0);
	return 0;
}
