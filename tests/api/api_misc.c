/* Handle-less calls: logging names and levels, addresses, transports. */
#include <netdb.h>
#include <netinet/in.h>

#include "test_common.h"

static void test_log(void)
{
	knet_handle_t h;
	uint8_t level = 99;

	CHECK(strcmp(knet_log_get_subsystem_name(KNET_SUB_HOST), "host") == 0);
	CHECK(strcmp(knet_log_get_subsystem_name(200), "unknown") == 0);
	CHECK(knet_log_get_subsystem_id("link") == KNET_SUB_LINK);
	CHECK(knet_log_get_subsystem_id("LINK") == KNET_SUB_LINK);
	CHECK(knet_log_get_subsystem_id("nonsense") == KNET_SUB_UNKNOWN);
	CHECK(strcmp(knet_log_get_loglevel_name(KNET_LOG_DEBUG), "debug") == 0);
	CHECK(strcmp(knet_log_get_loglevel_name(KNET_LOG_TRACE), "trace") == 0);
	CHECK(strcmp(knet_log_get_loglevel_name(77), "ERROR") == 0);
	CHECK(knet_log_get_loglevel_id("info") == KNET_LOG_INFO);
	CHECK(knet_log_get_loglevel_id("WARNING") == KNET_LOG_WARN);
	CHECK(knet_log_get_loglevel_id("nonsense") == KNET_LOG_ERR);

	h = tc_handle(1);
	CHECK(h != NULL);
	if (!h)
		return;
	CHECK_FAIL(knet_log_set_loglevel(NULL, KNET_SUB_HOST, KNET_LOG_INFO), EINVAL);
	CHECK_FAIL(knet_log_set_loglevel(h, KNET_SUB_UNKNOWN - 1, KNET_LOG_INFO), EINVAL);
	CHECK_FAIL(knet_log_set_loglevel(h, KNET_SUB_HOST, KNET_LOG_TRACE + 1), EINVAL);
	CHECK_OK(knet_log_get_loglevel(h, KNET_SUB_HOST, &level));
	CHECK(level == KNET_LOG_DEBUG);
	CHECK_OK(knet_log_set_loglevel(h, KNET_SUB_HOST, KNET_LOG_TRACE));
	CHECK_OK(knet_log_set_loglevel(h, KNET_SUB_UNKNOWN, KNET_LOG_INFO));
	CHECK_FAIL(knet_log_get_loglevel(NULL, KNET_SUB_HOST, &level), EINVAL);
	CHECK_FAIL(knet_log_get_loglevel(h, KNET_SUB_UNKNOWN - 1, &level), EINVAL);
	CHECK_FAIL(knet_log_get_loglevel(h, KNET_SUB_HOST, NULL), EINVAL);
	CHECK_OK(knet_log_get_loglevel(h, KNET_SUB_HOST, &level));
	CHECK(level == KNET_LOG_TRACE);
	CHECK_OK(knet_handle_free(h));

	/* without a log fd, every subsystem reports KNET_LOG_ERR */
	h = knet_handle_new(1, 0, KNET_LOG_DEBUG);
	CHECK(h != NULL);
	if (h) {
		CHECK_OK(knet_log_get_loglevel(h, KNET_SUB_HOST, &level));
		CHECK(level == KNET_LOG_ERR);
		CHECK_OK(knet_handle_free(h));
	}
}

static void test_addr(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	char host[KNET_MAX_HOST_LEN], port[KNET_MAX_PORT_LEN];

	CHECK_FAIL(knet_strtoaddr(NULL, "50000", &ss, sizeof(ss)), EINVAL);
	CHECK_FAIL(knet_strtoaddr("127.0.0.1", NULL, &ss, sizeof(ss)), EINVAL);
	CHECK_FAIL(knet_strtoaddr("127.0.0.1", "50000", NULL, sizeof(ss)), EINVAL);
	CHECK_FAIL(knet_strtoaddr("127.0.0.1", "50000", &ss, 0), EINVAL);
	CHECK(knet_strtoaddr("localhost", "50000", &ss, sizeof(ss)) != 0); /* numeric only */
	CHECK(knet_strtoaddr("127.0.0.1", "http", &ss, sizeof(ss)) != 0);
	memset(&ss, 0, sizeof(ss));
	CHECK_OK(knet_strtoaddr("192.168.1.2", "50000", &ss, sizeof(ss)));
	CHECK(ss.ss_family == AF_INET && ntohs(sin->sin_port) == 50000);

	CHECK_FAIL(knet_addrtostr(NULL, sizeof(ss), host, sizeof(host), port, sizeof(port)), EINVAL);
	CHECK_FAIL(knet_addrtostr(&ss, 0, host, sizeof(host), port, sizeof(port)), EINVAL);
	CHECK_FAIL(knet_addrtostr(&ss, sizeof(ss), NULL, sizeof(host), port, sizeof(port)), EINVAL);
	CHECK_FAIL(knet_addrtostr(&ss, sizeof(ss), host, sizeof(host), NULL, sizeof(port)), EINVAL);
	CHECK_OK(knet_addrtostr(&ss, sizeof(ss), host, sizeof(host), port, sizeof(port)));
	CHECK(strcmp(host, "192.168.1.2") == 0 && strcmp(port, "50000") == 0);
	CHECK(knet_addrtostr(&ss, sizeof(ss), host, 4, port, sizeof(port)) == EAI_OVERFLOW);

	CHECK_OK(knet_strtoaddr("fe80::1", "6", &ss, sizeof(ss)));
	CHECK(ss.ss_family == AF_INET6);
	CHECK_OK(knet_addrtostr(&ss, sizeof(ss), host, sizeof(host), port, sizeof(port)));
	CHECK(strcmp(host, "fe80::1") == 0 && strcmp(port, "6") == 0);
}

static void test_transports(void)
{
	struct knet_transport_info list[8];
	size_t n = 0, i;
	int lo = 0, udp = 0, sctp = 0;

	CHECK_FAIL(knet_get_transport_list(list, NULL), EINVAL);
	CHECK_OK(knet_get_transport_list(NULL, &n));
	CHECK(n == 2);
	CHECK_OK(knet_get_transport_list(list, &n));
	for (i = 0; i < n; i++) {
		lo += list[i].id == KNET_TRANSPORT_LOOPBACK && strcmp(list[i].name, "LOOPBACK") == 0;
		udp += list[i].id == KNET_TRANSPORT_UDP && strcmp(list[i].name, "UDP") == 0;
		sctp += list[i].id == KNET_TRANSPORT_SCTP;
	}
	CHECK(lo == 1 && udp == 1 && sctp == 0);

	CHECK(strcmp(knet_get_transport_name_by_id(KNET_TRANSPORT_UDP), "UDP") == 0);
	CHECK(strcmp(knet_get_transport_name_by_id(KNET_TRANSPORT_LOOPBACK), "LOOPBACK") == 0);
	errno = 0;
	CHECK(knet_get_transport_name_by_id(KNET_MAX_TRANSPORTS) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(knet_get_transport_name_by_id(KNET_TRANSPORT_SCTP) == NULL && errno == ENOENT);

	CHECK(knet_get_transport_id_by_name("UDP") == KNET_TRANSPORT_UDP);
	CHECK(knet_get_transport_id_by_name("LOOPBACK") == KNET_TRANSPORT_LOOPBACK);
	errno = 0;
	CHECK(knet_get_transport_id_by_name(NULL) == KNET_MAX_TRANSPORTS && errno == EINVAL);
	errno = 0;
	CHECK(knet_get_transport_id_by_name("SCTP") == KNET_MAX_TRANSPORTS && errno == EINVAL);
	errno = 0;
	CHECK(knet_get_transport_id_by_name("ARP") == KNET_MAX_TRANSPORTS && errno == EINVAL);
}

int main(void)
{
	test_log();
	test_addr();
	test_transports();
	return tc_finish();
}
