/* End to end through the engine: a loopback link to ourselves, knet_send on
 * one channel and knet_recv of the same bytes; knet_send_sync likewise. */
#include <poll.h>

#include "test_common.h"

#define ME 1

static int to_self(void *priv, const unsigned char *outdata, ssize_t outdata_len, uint8_t tx_rx,
		   knet_node_id_t this_host_id, knet_node_id_t src_node_id, int8_t *channel,
		   knet_node_id_t *dst_host_ids, size_t *dst_host_ids_entries)
{
	(void)priv; (void)outdata; (void)outdata_len; (void)src_node_id; (void)channel;
	if (tx_rx == KNET_NOTIFY_TX) {
		dst_host_ids[0] = this_host_id;
		*dst_host_ids_entries = 1;
		return 0;
	}
	return 0; /* RX: deliver locally on the same channel */
}

/* Waits up to 5 s for a packet on the channel's datafd and reads it. */
static ssize_t recv_wait(knet_handle_t h, int datafd, char *buf, size_t len, int8_t channel)
{
	struct pollfd pfd = {datafd, POLLIN, 0};
	if (poll(&pfd, 1, 5000) != 1)
		return -1;
	return knet_recv(h, buf, len, channel);
}

int main(void)
{
	knet_handle_t h = tc_handle(ME);
	struct sockaddr_storage lo = tc_addr("127.0.0.1", "50400");
	int datafd = 0;
	int8_t channel = -1;
	char buf[KNET_MAX_PACKET_SIZE];
	static char big[KNET_MAX_PACKET_SIZE];
	struct knet_host_status status;
	ssize_t n;

	CHECK(h != NULL);
	if (!h)
		return tc_finish();
	CHECK_OK(knet_handle_enable_sock_notify(h, NULL, tc_sock_notify));
	CHECK_OK(knet_handle_enable_filter(h, NULL, to_self));
	CHECK_OK(knet_handle_add_datafd(h, &datafd, &channel));
	CHECK_OK(knet_host_add(h, ME));
	CHECK_OK(knet_link_set_config(h, ME, 0, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0));
	CHECK_OK(knet_link_set_enable(h, ME, 0, 1));
	CHECK_OK(knet_handle_setfwd(h, 1));
	CHECK_OK(knet_host_get_status(h, ME, &status));
	CHECK(status.reachable == 1);

	CHECK(knet_send(h, "hello knet", 10, channel) == 10);
	n = recv_wait(h, datafd, buf, sizeof(buf), channel);
	CHECK(n == 10 && memcmp(buf, "hello knet", 10) == 0);

	memset(big, 0x3c, sizeof(big));
	CHECK(knet_send(h, big, sizeof(big), channel) == (ssize_t)sizeof(big));
	n = recv_wait(h, datafd, buf, sizeof(buf), channel);
	CHECK(n == (ssize_t)sizeof(big) && memcmp(buf, big, sizeof(big)) == 0);

	/* as libknet: delivered locally, yet reported EHOSTDOWN because no
	 * remote destination was reachable */
	CHECK_FAIL(knet_send_sync(h, "sync", 4, channel), EHOSTDOWN);
	n = recv_wait(h, datafd, buf, sizeof(buf), channel);
	CHECK(n == 4 && memcmp(buf, "sync", 4) == 0);

	/* Forwarding off: what is written meanwhile is dropped (as libknet),
	 * not sent once forwarding is back on. */
	CHECK_OK(knet_handle_setfwd(h, 0));
	CHECK(knet_send(h, "while off", 9, channel) == 9);
	poll(NULL, 0, 200);
	CHECK_OK(knet_handle_setfwd(h, 1));
	CHECK(knet_send(h, "back on", 7, channel) == 7);
	n = recv_wait(h, datafd, buf, sizeof(buf), channel);
	CHECK(n == 7 && memcmp(buf, "back on", 7) == 0);
	CHECK_FAIL(knet_recv(h, buf, sizeof(buf), channel), EAGAIN);

	/* Without its loopback link the host is no longer reachable. */
	CHECK_OK(knet_handle_setfwd(h, 0));
	CHECK_OK(knet_link_set_enable(h, ME, 0, 0));
	CHECK_OK(knet_link_clear_config(h, ME, 0));
	CHECK_OK(knet_host_get_status(h, ME, &status));
	CHECK(status.reachable == 0);
	CHECK_OK(knet_host_remove(h, ME));
	CHECK_OK(knet_handle_free(h));
	return tc_finish();
}
