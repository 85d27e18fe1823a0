/* An application that exits with handles still running (no knet_handle_free,
 * traffic in flight, crypto in use) exits cleanly: the library's threads must
 * not call into libraries already torn down by their atexit handlers (OpenSSL
 * frees its locks at exit unless told otherwise).  Each round forks a child
 * that sets up two linked handles with openssl and compression, sends for a
 * while and returns from exit(0); every child must end with status 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"

#define ROUNDS 12

static knet_handle_t sender;

static knet_handle_t node(knet_node_id_t id, knet_node_id_t peer, const char *port, const char *peer_port)
{
	struct knet_handle_crypto_cfg crypto;
	struct knet_handle_compress_cfg compress;
	struct sockaddr_storage src = tc_addr("127.0.0.1", port);
	struct sockaddr_storage dst = tc_addr("127.0.0.1", peer_port);
	knet_handle_t h = tc_handle(id);
	int fd = 0;
	int8_t channel = 0;

	if (!h || knet_handle_enable_sock_notify(h, NULL, tc_sock_notify) || knet_host_add(h, peer) ||
	    knet_link_set_config(h, peer, 0, KNET_TRANSPORT_UDP, &src, &dst, 0) ||
	    knet_link_set_ping_timers(h, peer, 0, 20, 1000, 2048) ||
	    knet_handle_add_datafd(h, &fd, &channel))
		return NULL;
	memset(&crypto, 0, sizeof(crypto));
	strcpy(crypto.crypto_model, "openssl");
	strcpy(crypto.crypto_cipher_type, "aes256");
	strcpy(crypto.crypto_hash_type, "sha256");
	memset(crypto.private_key, 0x42, sizeof(crypto.private_key));
	crypto.private_key_len = 256;
	memset(&compress, 0, sizeof(compress));
	strcpy(compress.compress_model, "zlib");
	compress.compress_level = 1;
	if (knet_handle_crypto_set_config(h, &crypto, 1) || knet_handle_crypto_use_config(h, 1) ||
	    knet_handle_compress(h, &compress) || knet_link_set_enable(h, peer, 0, 1) ||
	    knet_handle_setfwd(h, 1))
		return NULL;
	return h;
}

static void *send_forever(void *arg)
{
	static char buf[1500];
	const struct timespec pause = {0, 100000};
	(void)arg;
	memset(buf, 'x', sizeof(buf));
	for (;;) {
		(void)knet_send(sender, buf, sizeof(buf), 0);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void child(int round)
{
	pthread_t t;
	struct timespec settle = {0, 300000000L};
	struct timespec busy = {0, 150000000L + 10000000L * round};
	knet_handle_t b;

	sender = node(1, 2, "50901", "50902");
	b = node(2, 1, "50902", "50901");
	if (!sender || !b)
		exit(3);
	nanosleep(&settle, NULL);
	if (pthread_create(&t, NULL, send_forever, NULL))
		exit(4);
	nanosleep(&busy, NULL);
	exit(0); /* handles still running, on purpose */
}

int main(void)
{
	int round;

	for (round = 0; round < ROUNDS; round++) {
		int status = -1;
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid < 0)
			break;
		if (pid == 0)
			child(round);
		CHECK(waitpid(pid, &status, 0) == pid);
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			fprintf(stderr, "round %d: child %s %d\n", round,
				WIFSIGNALED(status) ? "killed by signal" : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			CHECK(0);
		} else {
			CHECK(1);
		}
	}
	return tc_finish();
}
