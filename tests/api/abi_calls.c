/* Built against the REFERENCE header (/usr/include/libknet.h from
 * libknet-dev) and run against our libknet.so.1: a program written for
 * libknet 1.25 must work unchanged. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libknet.h>

static int passed, failed;
#define CHECK(c)                                                                       \
	do {                                                                           \
		if (c) {                                                               \
			passed++;                                                      \
		} else {                                                               \
			failed++;                                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d)\n", __FILE__, \
				__LINE__, #c, errno);                                  \
		}                                                                      \
	} while (0)

static void sock_notify(void *p, int fd, int8_t ch, uint8_t txrx, int err, int eno)
{
	(void)p; (void)fd; (void)ch; (void)txrx; (void)err; (void)eno;
}

int main(void)
{
	int logfds[2];
	knet_handle_t h;
	struct sockaddr_storage src, dst;
	struct knet_link_status status;
	struct knet_handle_stats stats;
	struct knet_host_status hstatus;
	struct knet_transport_info tlist[8];
	struct knet_crypto_info clist[8];
	struct knet_compress_info zlist[16];
	struct knet_handle_compress_cfg zcfg;
	char name[KNET_MAX_HOST_LEN], host[KNET_MAX_HOST_LEN], port[KNET_MAX_PORT_LEN];
	knet_node_id_t ids[1];
	uint8_t links[KNET_MAX_LINK];
	size_t n;
	int datafd = 0;
	int8_t channel = -1;
	time_t interval, timeout;
	unsigned int precision;

	CHECK(pipe(logfds) == 0);
	fcntl(logfds[0], F_SETFL, O_NONBLOCK);
	fcntl(logfds[1], F_SETFL, O_NONBLOCK);

	h = knet_handle_new_ex(1, logfds[1], KNET_LOG_DEBUG, 0);
	CHECK(h != NULL);
	if (!h)
		return 1;
	CHECK(knet_handle_enable_sock_notify(h, NULL, sock_notify) == 0);
	CHECK(knet_handle_add_datafd(h, &datafd, &channel) == 0 && datafd > 0 && channel == 0);
	CHECK(knet_host_add(h, 2) == 0);
	CHECK(knet_host_set_name(h, 2, "peer") == 0);
	CHECK(knet_host_get_name_by_host_id(h, 2, name) == 0 && strcmp(name, "peer") == 0);
	CHECK(knet_host_get_host_list(h, ids, &n) == 0 && n == 1 && ids[0] == 2);
	CHECK(knet_host_set_policy(h, 2, KNET_LINK_POLICY_ACTIVE) == 0);
	CHECK(knet_host_get_status(h, 2, &hstatus) == 0);

	CHECK(knet_strtoaddr("127.0.0.1", "50300", &src, sizeof(src)) == 0);
	CHECK(knet_strtoaddr("127.0.0.1", "50301", &dst, sizeof(dst)) == 0);
	CHECK(knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &src, &dst, 0) == 0);
	CHECK(knet_link_set_ping_timers(h, 2, 0, 500, 1500, 128) == 0);
	CHECK(knet_link_get_ping_timers(h, 2, 0, &interval, &timeout, &precision) == 0 &&
	      interval == 500 && timeout == 1500 && precision == 128);
	CHECK(knet_link_set_enable(h, 2, 0, 1) == 0);
	CHECK(knet_link_get_link_list(h, 2, links, &n) == 0 && n == 1 && links[0] == 0);
	memset(&status, 0, sizeof(status));
	CHECK(knet_link_get_status(h, 2, 0, &status, sizeof(status)) == 0);
	CHECK(status.size == sizeof(struct knet_link_status));
	CHECK(strcmp(status.dst_port, "50301") == 0 && status.enabled == 1);
	CHECK(knet_handle_get_stats(h, &stats, sizeof(stats)) == 0 &&
	      stats.size == sizeof(struct knet_handle_stats));
	CHECK(knet_addrtostr(&dst, sizeof(dst), host, sizeof(host), port, sizeof(port)) == 0 &&
	      strcmp(host, "127.0.0.1") == 0);

	CHECK(knet_get_transport_list(tlist, &n) == 0 && n == 2);
	CHECK(knet_get_crypto_list(clist, &n) == 0);
	CHECK(knet_get_compress_list(zlist, &n) == 0);
	memset(&zcfg, 0, sizeof(zcfg));
	strcpy(zcfg.compress_model, "none");
	CHECK(knet_handle_compress(h, &zcfg) == 0);
	CHECK(strcmp(knet_log_get_subsystem_name(KNET_SUB_LINK), "link") == 0);
	CHECK(knet_log_set_loglevel(h, KNET_SUB_LINK, KNET_LOG_INFO) == 0);
	CHECK(knet_handle_setfwd(h, 1) == 0);
	CHECK(knet_handle_pmtud_setfreq(h, 30) == 0);

	CHECK(knet_handle_setfwd(h, 0) == 0);
	CHECK(knet_link_set_enable(h, 2, 0, 0) == 0);
	CHECK(knet_link_clear_config(h, 2, 0) == 0);
	CHECK(knet_host_remove(h, 2) == 0);
	CHECK(knet_handle_remove_datafd(h, datafd) == 0);
	CHECK(knet_handle_free(h) == 0);
	errno = 0;
	CHECK(knet_handle_free(h) == -1 && errno == EINVAL);

	close(logfds[0]);
	close(logfds[1]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
