/* Minimal harness for the C API tests: checks count instead of aborting,
 * and every program ends with the line "N passed, N failed". */
#ifndef KNET_TEST_COMMON_H
#define KNET_TEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libknet.h"

#define TC_UNUSED __attribute__((unused))

static int tc_passed;
static int tc_failed;

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (cond) {                                                        \
			tc_passed++;                                               \
		} else {                                                           \
			tc_failed++;                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s (errno %d: %s)\n", \
				__FILE__, __LINE__, #cond, errno, strerror(errno)); \
		}                                                                  \
	} while (0)

/* The call must fail with -1 (or the given failure value) and this errno. */
#define CHECK_FAIL(call, err)                                                      \
	do {                                                                       \
		errno = 0;                                                         \
		long long rv_ = (long long)(call);                                 \
		int e_ = errno;                                                    \
		if (rv_ < 0 && e_ == (err)) {                                      \
			tc_passed++;                                               \
		} else {                                                           \
			tc_failed++;                                               \
			fprintf(stderr, "%s:%d: %s: expected failure %s, got rv %lld errno %d (%s)\n", \
				__FILE__, __LINE__, #call, #err, rv_, e_, strerror(e_)); \
		}                                                                  \
	} while (0)

/* The call must return 0. */
#define CHECK_OK(call)                                                             \
	do {                                                                       \
		errno = 0;                                                         \
		long long rv_ = (long long)(call);                                 \
		int e_ = errno;                                                    \
		if (rv_ == 0) {                                                    \
			tc_passed++;                                               \
		} else {                                                           \
			tc_failed++;                                               \
			fprintf(stderr, "%s:%d: %s: expected 0, got %lld errno %d (%s)\n", \
				__FILE__, __LINE__, #call, rv_, e_, strerror(e_));    \
		}                                                                  \
	} while (0)

static int tc_logpipe[2] = {-1, -1};

/* A handle logging into a non-blocking pipe that nobody needs to read. */
TC_UNUSED static knet_handle_t tc_handle(knet_node_id_t id)
{
	if (tc_logpipe[0] < 0) {
		if (pipe(tc_logpipe) < 0)
			return NULL;
		fcntl(tc_logpipe[0], F_SETFL, O_NONBLOCK);
		fcntl(tc_logpipe[1], F_SETFL, O_NONBLOCK);
	}
	return knet_handle_new(id, tc_logpipe[1], KNET_LOG_DEBUG);
}

TC_UNUSED static void tc_sock_notify(void *priv, int datafd, int8_t channel, uint8_t tx_rx, int error,
			   int errorno)
{
	(void)priv; (void)datafd; (void)channel; (void)tx_rx; (void)error; (void)errorno;
}

TC_UNUSED static int tc_filter(void *priv, const unsigned char *outdata, ssize_t outdata_len,
		     uint8_t tx_rx, knet_node_id_t this_host_id, knet_node_id_t src_node_id,
		     int8_t *channel, knet_node_id_t *dst_host_ids, size_t *dst_host_ids_entries)
{
	(void)priv; (void)outdata; (void)outdata_len; (void)tx_rx; (void)this_host_id;
	(void)src_node_id; (void)channel; (void)dst_host_ids;
	*dst_host_ids_entries = 0;
	return 0;
}

/* Fills ss from a numeric address and port. */
TC_UNUSED static struct sockaddr_storage tc_addr(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	knet_strtoaddr(host, port, &ss, sizeof(ss));
	return ss;
}

static int tc_finish(void)
{
	if (tc_logpipe[0] >= 0) {
		close(tc_logpipe[0]);
		close(tc_logpipe[1]);
	}
	printf("%d passed, %d failed\n", tc_passed, tc_failed);
	return tc_failed ? 1 : 0;
}

#endif
