/* Links: set/get/clear config, enable, ping timers, pong count, priority,
 * link list, status. */
#include <stddef.h>

#include "test_common.h"

#define ME 1
#define PEER 2

static void test_config(knet_handle_t h)
{
	struct sockaddr_storage src = tc_addr("127.0.0.1", "50100");
	struct sockaddr_storage dst = tc_addr("127.0.0.1", "50101");
	struct sockaddr_storage src6 = tc_addr("::1", "50102");
	struct sockaddr_storage dst6 = tc_addr("::1", "50103");
	struct sockaddr_storage unspec, out_src, out_dst;
	uint8_t transport = 99, dynamic = 99;
	uint64_t flags = 99;

	memset(&unspec, 0, sizeof(unspec));

	CHECK_FAIL(knet_link_set_config(NULL, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, KNET_MAX_LINK, KNET_TRANSPORT_UDP, &src, &dst, 0),
		   EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, NULL, &dst, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst6, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src6, &dst, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_MAX_TRANSPORTS, &src, &dst, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst, 0), EINVAL);
	CHECK_OK(knet_host_add(h, PEER));
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_LOOPBACK, &src, &dst, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_SCTP, &src, &dst, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, 77, &src, &dst, 0), EINVAL);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &unspec, NULL, 0), EINVAL);

	/* static IPv4 link */
	CHECK_OK(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst,
				      KNET_LINK_FLAG_TRAFFICHIPRIO));
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst, 0), EBUSY);

	CHECK_FAIL(knet_link_get_config(NULL, PEER, 0, &transport, &out_src, &out_dst, &dynamic, &flags),
		   EINVAL);
	CHECK_FAIL(knet_link_get_config(h, PEER, KNET_MAX_LINK, &transport, &out_src, &out_dst,
					&dynamic, &flags), EINVAL);
	CHECK_FAIL(knet_link_get_config(h, PEER, 0, &transport, NULL, &out_dst, &dynamic, &flags),
		   EINVAL);
	CHECK_FAIL(knet_link_get_config(h, PEER, 0, &transport, &out_src, &out_dst, NULL, &flags),
		   EINVAL);
	CHECK_FAIL(knet_link_get_config(h, PEER, 0, NULL, &out_src, &out_dst, &dynamic, &flags),
		   EINVAL);
	CHECK_FAIL(knet_link_get_config(h, PEER, 0, &transport, &out_src, &out_dst, &dynamic, NULL),
		   EINVAL);
	CHECK_FAIL(knet_link_get_config(h, 3, 0, &transport, &out_src, &out_dst, &dynamic, &flags),
		   EINVAL);
	CHECK_FAIL(knet_link_get_config(h, PEER, 1, &transport, &out_src, &out_dst, &dynamic, &flags),
		   EINVAL);
	CHECK_FAIL(knet_link_get_config(h, PEER, 0, &transport, &out_src, NULL, &dynamic, &flags),
		   EINVAL); /* static link needs dst_addr */
	CHECK_OK(knet_link_get_config(h, PEER, 0, &transport, &out_src, &out_dst, &dynamic, &flags));
	CHECK(transport == KNET_TRANSPORT_UDP && dynamic == 0 &&
	      flags == KNET_LINK_FLAG_TRAFFICHIPRIO);
	CHECK(memcmp(&out_src, &src, sizeof(struct sockaddr_in)) == 0);
	CHECK(memcmp(&out_dst, &dst, sizeof(struct sockaddr_in)) == 0);

	/* a dynamic link may not share a static link's source address */
	CHECK_FAIL(knet_link_set_config(h, PEER, 1, KNET_TRANSPORT_UDP, &src, NULL, 0), EINVAL);

	/* dynamic IPv6 link */
	CHECK_OK(knet_link_set_config(h, PEER, 2, KNET_TRANSPORT_UDP, &src6, NULL, 0));
	CHECK_OK(knet_link_get_config(h, PEER, 2, &transport, &out_src, NULL, &dynamic, &flags));
	CHECK(dynamic == 1 && flags == 0 && out_src.ss_family == AF_INET6);

	/* static IPv6 link */
	CHECK_FAIL(knet_link_set_config(h, PEER, 3, KNET_TRANSPORT_UDP, &src6, &dst6, 0), EINVAL);
	{
		struct sockaddr_storage src6b = tc_addr("::1", "50104");
		CHECK_OK(knet_link_set_config(h, PEER, 3, KNET_TRANSPORT_UDP, &src6b, &dst6, 0));
	}

	/* clear */
	CHECK_FAIL(knet_link_clear_config(NULL, PEER, 0), EINVAL);
	CHECK_FAIL(knet_link_clear_config(h, PEER, KNET_MAX_LINK), EINVAL);
	CHECK_FAIL(knet_link_clear_config(h, 3, 0), EINVAL);
	CHECK_FAIL(knet_link_clear_config(h, PEER, 5), EINVAL);
	CHECK_OK(knet_link_set_enable(h, PEER, 0, 1));
	CHECK_FAIL(knet_link_clear_config(h, PEER, 0), EBUSY);
	CHECK_FAIL(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst, 0), EBUSY);
	CHECK_OK(knet_link_set_enable(h, PEER, 0, 0));
	CHECK_OK(knet_link_clear_config(h, PEER, 0));
	CHECK_FAIL(knet_link_clear_config(h, PEER, 0), EINVAL);
	CHECK_OK(knet_link_clear_config(h, PEER, 2));
	CHECK_OK(knet_link_clear_config(h, PEER, 3));
}

static void test_loopback(knet_handle_t h)
{
	struct sockaddr_storage lo = tc_addr("127.0.0.1", "50110");
	struct sockaddr_storage src = tc_addr("127.0.0.1", "50111");
	struct sockaddr_storage dst = tc_addr("127.0.0.1", "50112");

	CHECK_OK(knet_host_add(h, ME));
	CHECK_OK(knet_link_set_config(h, ME, 0, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0));
	/* no second link to ourselves while loopback is active */
	CHECK_FAIL(knet_link_set_config(h, ME, 1, KNET_TRANSPORT_UDP, &src, &dst, 0), EINVAL);
	CHECK_OK(knet_link_clear_config(h, ME, 0));
	/* loopback only when no other link of ours is configured */
	CHECK_OK(knet_link_set_config(h, ME, 1, KNET_TRANSPORT_UDP, &src, &dst, 0));
	CHECK_FAIL(knet_link_set_config(h, ME, 0, KNET_TRANSPORT_LOOPBACK, &lo, &lo, 0), EINVAL);
	CHECK_OK(knet_link_clear_config(h, ME, 1));
	CHECK_OK(knet_host_remove(h, ME));
}

static void test_settings(knet_handle_t h)
{
	struct sockaddr_storage src = tc_addr("127.0.0.1", "50120");
	struct sockaddr_storage dst = tc_addr("127.0.0.1", "50121");
	unsigned int enabled = 99, precision = 0;
	time_t interval = 0, timeout = 0;
	uint8_t pong = 0, prio = 99;
	uint8_t links[KNET_MAX_LINK];
	size_t n = 99;

	/* all of these need a configured link */
	CHECK_FAIL(knet_link_set_enable(h, PEER, 0, 1), EINVAL);
	CHECK_FAIL(knet_link_get_enable(h, PEER, 0, &enabled), EINVAL);
	CHECK_FAIL(knet_link_set_ping_timers(h, PEER, 0, 1000, 2000, 2048), EINVAL);
	CHECK_FAIL(knet_link_get_ping_timers(h, PEER, 0, &interval, &timeout, &precision), EINVAL);
	CHECK_FAIL(knet_link_set_pong_count(h, PEER, 0, 2), EINVAL);
	CHECK_FAIL(knet_link_get_pong_count(h, PEER, 0, &pong), EINVAL);
	CHECK_FAIL(knet_link_set_priority(h, PEER, 0, 2), EINVAL);
	CHECK_FAIL(knet_link_get_priority(h, PEER, 0, &prio), EINVAL);

	CHECK_OK(knet_link_get_link_list(h, PEER, links, &n));
	CHECK(n == 0);
	CHECK_OK(knet_link_set_config(h, PEER, 4, KNET_TRANSPORT_UDP, &src, &dst, 0));

	/* enable */
	CHECK_FAIL(knet_link_set_enable(NULL, PEER, 4, 1), EINVAL);
	CHECK_FAIL(knet_link_set_enable(h, PEER, KNET_MAX_LINK, 1), EINVAL);
	CHECK_FAIL(knet_link_set_enable(h, PEER, 4, 2), EINVAL);
	CHECK_FAIL(knet_link_set_enable(h, 9, 4, 1), EINVAL);
	CHECK_FAIL(knet_link_get_enable(NULL, PEER, 4, &enabled), EINVAL);
	CHECK_FAIL(knet_link_get_enable(h, PEER, KNET_MAX_LINK, &enabled), EINVAL);
	CHECK_FAIL(knet_link_get_enable(h, PEER, 4, NULL), EINVAL);
	CHECK_OK(knet_link_get_enable(h, PEER, 4, &enabled));
	CHECK(enabled == 0);
	CHECK_OK(knet_link_set_enable(h, PEER, 4, 1));
	CHECK_OK(knet_link_set_enable(h, PEER, 4, 1));
	CHECK_OK(knet_link_get_enable(h, PEER, 4, &enabled));
	CHECK(enabled == 1);
	CHECK_OK(knet_link_set_enable(h, PEER, 4, 0));

	/* ping timers */
	CHECK_OK(knet_link_get_ping_timers(h, PEER, 4, &interval, &timeout, &precision));
	CHECK(interval == KNET_LINK_DEFAULT_PING_INTERVAL && timeout == KNET_LINK_DEFAULT_PING_TIMEOUT &&
	      precision == KNET_LINK_DEFAULT_PING_PRECISION);
	CHECK_FAIL(knet_link_set_ping_timers(NULL, PEER, 4, 1000, 2000, 2048), EINVAL);
	CHECK_FAIL(knet_link_set_ping_timers(h, PEER, KNET_MAX_LINK, 1000, 2000, 2048), EINVAL);
	CHECK_FAIL(knet_link_set_ping_timers(h, PEER, 4, 0, 2000, 2048), EINVAL);
	CHECK_FAIL(knet_link_set_ping_timers(h, PEER, 4, 1000, 0, 2048), ENOSYS);
	CHECK_FAIL(knet_link_set_ping_timers(h, PEER, 4, 1000, 2000, 0), EINVAL);
	CHECK_OK(knet_link_set_ping_timers(h, PEER, 4, 200, 600, 16));
	CHECK_FAIL(knet_link_get_ping_timers(NULL, PEER, 4, &interval, &timeout, &precision), EINVAL);
	CHECK_FAIL(knet_link_get_ping_timers(h, PEER, KNET_MAX_LINK, &interval, &timeout, &precision),
		   EINVAL);
	CHECK_FAIL(knet_link_get_ping_timers(h, PEER, 4, NULL, &timeout, &precision), EINVAL);
	CHECK_FAIL(knet_link_get_ping_timers(h, PEER, 4, &interval, NULL, &precision), EINVAL);
	CHECK_FAIL(knet_link_get_ping_timers(h, PEER, 4, &interval, &timeout, NULL), EINVAL);
	CHECK_OK(knet_link_get_ping_timers(h, PEER, 4, &interval, &timeout, &precision));
	CHECK(interval == 200 && timeout == 600 && precision == 16);

	/* pong count */
	CHECK_OK(knet_link_get_pong_count(h, PEER, 4, &pong));
	CHECK(pong == KNET_LINK_DEFAULT_PONG_COUNT);
	CHECK_FAIL(knet_link_set_pong_count(NULL, PEER, 4, 2), EINVAL);
	CHECK_FAIL(knet_link_set_pong_count(h, PEER, KNET_MAX_LINK, 2), EINVAL);
	CHECK_FAIL(knet_link_set_pong_count(h, PEER, 4, 0), EINVAL);
	CHECK_OK(knet_link_set_pong_count(h, PEER, 4, 3));
	CHECK_FAIL(knet_link_get_pong_count(NULL, PEER, 4, &pong), EINVAL);
	CHECK_FAIL(knet_link_get_pong_count(h, PEER, KNET_MAX_LINK, &pong), EINVAL);
	CHECK_FAIL(knet_link_get_pong_count(h, PEER, 4, NULL), EINVAL);
	CHECK_OK(knet_link_get_pong_count(h, PEER, 4, &pong));
	CHECK(pong == 3);

	/* priority */
	CHECK_OK(knet_link_get_priority(h, PEER, 4, &prio));
	CHECK(prio == 0);
	CHECK_FAIL(knet_link_set_priority(NULL, PEER, 4, 5), EINVAL);
	CHECK_FAIL(knet_link_set_priority(h, PEER, KNET_MAX_LINK, 5), EINVAL);
	CHECK_OK(knet_link_set_priority(h, PEER, 4, 5));
	CHECK_OK(knet_link_set_priority(h, PEER, 4, 5));
	CHECK_FAIL(knet_link_get_priority(NULL, PEER, 4, &prio), EINVAL);
	CHECK_FAIL(knet_link_get_priority(h, PEER, KNET_MAX_LINK, &prio), EINVAL);
	CHECK_FAIL(knet_link_get_priority(h, PEER, 4, NULL), EINVAL);
	CHECK_OK(knet_link_get_priority(h, PEER, 4, &prio));
	CHECK(prio == 5);

	/* link list */
	CHECK_FAIL(knet_link_get_link_list(NULL, PEER, links, &n), EINVAL);
	CHECK_FAIL(knet_link_get_link_list(h, PEER, NULL, &n), EINVAL);
	CHECK_FAIL(knet_link_get_link_list(h, PEER, links, NULL), EINVAL);
	CHECK_FAIL(knet_link_get_link_list(h, 9, links, &n), EINVAL);
	CHECK_OK(knet_link_get_link_list(h, PEER, links, &n));
	CHECK(n == 1 && links[0] == 4);

	/* a cleared link starts again from the defaults */
	CHECK_OK(knet_link_clear_config(h, PEER, 4));
	CHECK_OK(knet_link_set_config(h, PEER, 4, KNET_TRANSPORT_UDP, &src, &dst, 0));
	CHECK_OK(knet_link_get_pong_count(h, PEER, 4, &pong));
	CHECK(pong == KNET_LINK_DEFAULT_PONG_COUNT);
	CHECK_OK(knet_link_get_priority(h, PEER, 4, &prio));
	CHECK(prio == 0);
	CHECK_OK(knet_link_clear_config(h, PEER, 4));
}

static void test_status(knet_handle_t h)
{
	struct sockaddr_storage src = tc_addr("127.0.0.1", "50130");
	struct sockaddr_storage dst = tc_addr("127.0.0.1", "50131");
	struct sockaddr_storage src6 = tc_addr("::1", "50132");
	struct knet_link_status st;
	unsigned char buf[sizeof(st) + 32];

	CHECK_FAIL(knet_link_get_status(NULL, PEER, 0, &st, sizeof(st)), EINVAL);
	CHECK_FAIL(knet_link_get_status(h, PEER, KNET_MAX_LINK, &st, sizeof(st)), EINVAL);
	CHECK_FAIL(knet_link_get_status(h, PEER, 0, NULL, sizeof(st)), EINVAL);
	CHECK_FAIL(knet_link_get_status(h, 9, 0, &st, sizeof(st)), EINVAL);
	CHECK_FAIL(knet_link_get_status(h, PEER, 0, &st, sizeof(st)), EINVAL);

	CHECK_OK(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst, 0));
	CHECK_OK(knet_link_set_enable(h, PEER, 0, 1));
	memset(&st, 0xaa, sizeof(st));
	CHECK_OK(knet_link_get_status(h, PEER, 0, &st, sizeof(st)));
	CHECK(st.size == sizeof(struct knet_link_status));
	CHECK(strcmp(st.src_ipaddr, "127.0.0.1") == 0 && strcmp(st.src_port, "50130") == 0);
	CHECK(strcmp(st.dst_ipaddr, "127.0.0.1") == 0 && strcmp(st.dst_port, "50131") == 0);
	CHECK(st.enabled == 1);
	/* no pong yet: the minimum latency is "none" (UINT32_MAX), as in libknet */
	CHECK(st.stats.latency_min == UINT32_MAX && st.stats.latency_samples == 0);
	CHECK(st.stats.tx_total_packets == st.stats.tx_data_packets + st.stats.tx_ping_packets +
	      st.stats.tx_pong_packets + st.stats.tx_pmtu_packets);

	/* an older caller (struct without stats): nothing written past its size */
	memset(buf, 0x5a, sizeof(buf));
	CHECK_OK(knet_link_get_status(h, PEER, 0, (struct knet_link_status *)buf,
				      offsetof(struct knet_link_status, stats)));
	CHECK(buf[offsetof(struct knet_link_status, stats)] == 0x5a);
	CHECK(((struct knet_link_status *)buf)->size == sizeof(struct knet_link_status));
	/* a newer caller with a bigger struct: we stop at our size */
	memset(buf, 0x5a, sizeof(buf));
	CHECK_OK(knet_link_get_status(h, PEER, 0, (struct knet_link_status *)buf, sizeof(buf)));
	CHECK(buf[sizeof(buf) - 1] == 0x5a);

	CHECK_OK(knet_link_set_enable(h, PEER, 0, 0));
	CHECK_OK(knet_link_clear_config(h, PEER, 0));

	/* dynamic link: no destination yet */
	CHECK_OK(knet_link_set_config(h, PEER, 1, KNET_TRANSPORT_UDP, &src6, NULL, 0));
	CHECK_OK(knet_link_get_status(h, PEER, 1, &st, sizeof(st)));
	CHECK(strcmp(st.src_ipaddr, "::1") == 0 && strcmp(st.src_port, "50132") == 0);
	CHECK(st.enabled == 0 && st.connected == 0);
	CHECK(st.stats.latency_min == UINT32_MAX);
	CHECK_OK(knet_link_clear_config(h, PEER, 1));
}

int main(void)
{
	knet_handle_t h = tc_handle(ME);

	CHECK(h != NULL);
	if (h) {
		test_config(h);
		test_loopback(h);
		test_settings(h);
		test_status(h);
		CHECK_OK(knet_host_remove(h, PEER));
		CHECK_OK(knet_handle_free(h));
	}
	return tc_finish();
}
