/* knet_handle_new/new_ex/free, callbacks, switches, stats, pmtud settings,
 * reconnect interval. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "test_common.h"

static void pmtud_notify(void *priv, unsigned int data_mtu) { (void)priv; (void)data_mtu; }
static void host_notify(void *priv, knet_node_id_t id, uint8_t r, uint8_t rem, uint8_t ext)
{
	(void)priv; (void)id; (void)r; (void)rem; (void)ext;
}

static void test_new_free(void)
{
	struct rlimit lim;
	knet_handle_t h;
	int fds[2];

	CHECK(pipe(fds) == 0);
	getrlimit(RLIMIT_NOFILE, &lim);

	errno = 0;
	CHECK(knet_handle_new(1, -1, KNET_LOG_DEBUG) == NULL && errno == EINVAL);
	if (lim.rlim_max < (rlim_t)INT32_MAX) {
		errno = 0;
		CHECK(knet_handle_new(1, (int)lim.rlim_max, KNET_LOG_DEBUG) == NULL && errno == EINVAL);
	}
	errno = 0;
	CHECK(knet_handle_new(1, fds[1], KNET_LOG_TRACE + 1) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(knet_handle_new_ex(1, fds[1], KNET_LOG_DEBUG, KNET_HANDLE_FLAG_PRIVILEGED << 1) == NULL &&
	      errno == EINVAL);

	/* log_fd 0: no logging, the level is not checked */
	h = knet_handle_new(1, 0, 200);
	CHECK(h != NULL);
	CHECK_OK(knet_handle_free(h));

	h = knet_handle_new_ex(7, fds[1], KNET_LOG_TRACE, 0);
	CHECK(h != NULL);
	CHECK_OK(knet_host_add(h, 2));
	CHECK_FAIL(knet_handle_free(h), EBUSY);
	CHECK_OK(knet_host_remove(h, 2));
	CHECK_OK(knet_handle_free(h));
	/* freed, NULL and bogus handles */
	CHECK_FAIL(knet_handle_free(h), EINVAL);
	CHECK_FAIL(knet_handle_free(NULL), EINVAL);
	CHECK_FAIL(knet_handle_free((knet_handle_t)&lim), EINVAL);
	CHECK_FAIL(knet_host_add(h, 1), EINVAL);

	/* many handles at once */
	{
		knet_handle_t many[16];
		int i;
		for (i = 0; i < 16; i++) {
			many[i] = knet_handle_new((knet_node_id_t)i, fds[1], KNET_LOG_ERR);
			CHECK(many[i] != NULL);
		}
		for (i = 0; i < 16; i++)
			CHECK_OK(knet_handle_free(many[i]));
	}
	close(fds[0]);
	close(fds[1]);
}

static void test_callbacks(knet_handle_t h)
{
	CHECK_FAIL(knet_handle_enable_sock_notify(NULL, NULL, tc_sock_notify), EINVAL);
	CHECK_FAIL(knet_handle_enable_sock_notify(h, NULL, NULL), EINVAL);
	CHECK_OK(knet_handle_enable_sock_notify(h, NULL, tc_sock_notify));

	CHECK_FAIL(knet_handle_enable_filter(NULL, NULL, tc_filter), EINVAL);
	CHECK_OK(knet_handle_enable_filter(h, NULL, tc_filter));
	CHECK_OK(knet_handle_enable_filter(h, NULL, NULL));

	CHECK_FAIL(knet_handle_enable_pmtud_notify(NULL, NULL, pmtud_notify), EINVAL);
	CHECK_OK(knet_handle_enable_pmtud_notify(h, NULL, pmtud_notify));
	CHECK_OK(knet_handle_enable_pmtud_notify(h, NULL, NULL));

	CHECK_FAIL(knet_host_enable_status_change_notify(NULL, NULL, host_notify), EINVAL);
	CHECK_OK(knet_host_enable_status_change_notify(h, NULL, host_notify));
	CHECK_OK(knet_host_enable_status_change_notify(h, NULL, NULL));
}

static void test_switches(knet_handle_t h)
{
	CHECK_FAIL(knet_handle_setfwd(NULL, 1), EINVAL);
	CHECK_FAIL(knet_handle_setfwd(h, 2), EINVAL);
	CHECK_OK(knet_handle_setfwd(h, 1));
	CHECK_OK(knet_handle_setfwd(h, 0));

	CHECK_FAIL(knet_handle_enable_access_lists(NULL, 1), EINVAL);
	CHECK_FAIL(knet_handle_enable_access_lists(h, 2), EINVAL);
	CHECK_OK(knet_handle_enable_access_lists(h, 1));
	CHECK_OK(knet_handle_enable_access_lists(h, 0));
}

static void test_stats(knet_handle_t h)
{
	struct knet_handle_stats stats;
	unsigned char buf[sizeof(stats) + 16];

	CHECK_FAIL(knet_handle_get_stats(NULL, &stats, sizeof(stats)), EINVAL);
	CHECK_FAIL(knet_handle_get_stats(h, NULL, sizeof(stats)), EINVAL);

	memset(&stats, 0xaa, sizeof(stats));
	CHECK_OK(knet_handle_get_stats(h, &stats, sizeof(stats)));
	CHECK(stats.size == sizeof(struct knet_handle_stats));
	CHECK(stats.tx_compress_time_min == UINT64_MAX);

	/* an older, smaller caller: nothing written past struct_size */
	memset(buf, 0x55, sizeof(buf));
	CHECK_OK(knet_handle_get_stats(h, (struct knet_handle_stats *)buf, 16));
	CHECK(buf[16] == 0x55 && buf[sizeof(buf) - 1] == 0x55);
	CHECK(((struct knet_handle_stats *)buf)->size == sizeof(struct knet_handle_stats));
	/* a newer, larger caller: we fill what we know */
	memset(buf, 0x55, sizeof(buf));
	CHECK_OK(knet_handle_get_stats(h, (struct knet_handle_stats *)buf, sizeof(buf)));
	CHECK(buf[sizeof(buf) - 1] == 0x55);

	CHECK_FAIL(knet_handle_clear_stats(NULL, KNET_CLEARSTATS_HANDLE_ONLY), EINVAL);
	CHECK_FAIL(knet_handle_clear_stats(h, 0), EINVAL);
	CHECK_FAIL(knet_handle_clear_stats(h, 3), EINVAL);
	CHECK_OK(knet_handle_clear_stats(h, KNET_CLEARSTATS_HANDLE_ONLY));
	CHECK_OK(knet_handle_clear_stats(h, KNET_CLEARSTATS_HANDLE_AND_LINK));
	CHECK_OK(knet_handle_get_stats(h, &stats, sizeof(stats)));
	CHECK(stats.tx_compress_time_min == 0);
}

static void test_pmtud(knet_handle_t h)
{
	unsigned int v = 0;

	CHECK_FAIL(knet_handle_pmtud_getfreq(NULL, &v), EINVAL);
	CHECK_FAIL(knet_handle_pmtud_getfreq(h, NULL), EINVAL);
	CHECK_OK(knet_handle_pmtud_getfreq(h, &v));
	CHECK(v == KNET_PMTUD_DEFAULT_INTERVAL);

	CHECK_FAIL(knet_handle_pmtud_setfreq(NULL, 1), EINVAL);
	CHECK_FAIL(knet_handle_pmtud_setfreq(h, 0), EINVAL);
	CHECK_FAIL(knet_handle_pmtud_setfreq(h, 86401), EINVAL);
	CHECK_OK(knet_handle_pmtud_setfreq(h, 86400));
	CHECK_OK(knet_handle_pmtud_setfreq(h, 1));
	CHECK_OK(knet_handle_pmtud_getfreq(h, &v));
	CHECK(v == 1);

	CHECK_FAIL(knet_handle_pmtud_set(NULL, 1500), EINVAL);
	CHECK_FAIL(knet_handle_pmtud_set(h, 65536), EINVAL);
	CHECK_OK(knet_handle_pmtud_set(h, 65535));
	CHECK_OK(knet_handle_pmtud_set(h, 1500));
	CHECK_OK(knet_handle_pmtud_set(h, 0));

	CHECK_FAIL(knet_handle_pmtud_get(NULL, &v), EINVAL);
	CHECK_FAIL(knet_handle_pmtud_get(h, NULL), EINVAL);
	CHECK_OK(knet_handle_pmtud_get(h, &v));
}

static void test_reconnect(knet_handle_t h)
{
	uint32_t ms = 0;

	CHECK_FAIL(knet_handle_get_transport_reconnect_interval(NULL, &ms), EINVAL);
	CHECK_FAIL(knet_handle_get_transport_reconnect_interval(h, NULL), EINVAL);
	CHECK_OK(knet_handle_get_transport_reconnect_interval(h, &ms));
	CHECK(ms == KNET_TRANSPORT_DEFAULT_RECONNECT_INTERVAL);

	CHECK_FAIL(knet_handle_set_transport_reconnect_interval(NULL, 1000), EINVAL);
	CHECK_FAIL(knet_handle_set_transport_reconnect_interval(h, 0), EINVAL);
	CHECK_OK(knet_handle_set_transport_reconnect_interval(h, 100));
	CHECK_OK(knet_handle_set_transport_reconnect_interval(h, 120000));
	CHECK_OK(knet_handle_get_transport_reconnect_interval(h, &ms));
	CHECK(ms == 120000);
}

int main(void)
{
	knet_handle_t h;

	test_new_free();
	h = tc_handle(1);
	CHECK(h != NULL);
	if (h) {
		test_callbacks(h);
		test_switches(h);
		test_stats(h);
		test_pmtud(h);
		test_reconnect(h);
		CHECK_OK(knet_handle_free(h));
	}
	return tc_finish();
}
