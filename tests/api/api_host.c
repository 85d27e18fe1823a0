/* Hosts: add/remove, names, policy, status, host list. */
#include <stdlib.h>

#include "test_common.h"

int main(void)
{
	knet_handle_t h = tc_handle(1);
	char name[KNET_MAX_HOST_LEN];
	char longname[KNET_MAX_HOST_LEN + 1];
	knet_node_id_t id = 0;
	knet_node_id_t *ids = calloc(KNET_MAX_HOST, sizeof(knet_node_id_t));
	size_t entries = 99;
	uint8_t policy = 99;
	struct knet_host_status status;
	struct sockaddr_storage src = tc_addr("127.0.0.1", "50000");
	struct sockaddr_storage dst = tc_addr("127.0.0.1", "50001");

	CHECK(h != NULL && ids != NULL);
	if (!h || !ids)
		return tc_finish();

	CHECK_FAIL(knet_host_add(NULL, 1), EINVAL);
	CHECK_OK(knet_host_add(h, 1));
	CHECK_FAIL(knet_host_add(h, 1), EEXIST);
	CHECK_OK(knet_host_add(h, 0));
	CHECK_OK(knet_host_add(h, 65535));

	CHECK_FAIL(knet_host_get_host_list(NULL, ids, &entries), EINVAL);
	CHECK_FAIL(knet_host_get_host_list(h, NULL, &entries), EINVAL);
	CHECK_FAIL(knet_host_get_host_list(h, ids, NULL), EINVAL);
	CHECK_OK(knet_host_get_host_list(h, ids, &entries));
	/* newest first, as libknet lists them */
	CHECK(entries == 3 && ids[0] == 65535 && ids[1] == 0 && ids[2] == 1);

	/* names: default is the id, unique, bounded */
	CHECK_FAIL(knet_host_get_name_by_host_id(NULL, 1, name), EINVAL);
	CHECK_FAIL(knet_host_get_name_by_host_id(h, 1, NULL), EINVAL);
	CHECK_FAIL(knet_host_get_name_by_host_id(h, 2, name), EINVAL);
	CHECK_OK(knet_host_get_name_by_host_id(h, 65535, name));
	CHECK(strcmp(name, "65535") == 0);

	CHECK_FAIL(knet_host_set_name(NULL, 1, "a"), EINVAL);
	CHECK_FAIL(knet_host_set_name(h, 2, "a"), EINVAL);
	CHECK_FAIL(knet_host_set_name(h, 1, NULL), EINVAL);
	memset(longname, 'x', KNET_MAX_HOST_LEN);
	longname[KNET_MAX_HOST_LEN] = 0;
	CHECK_FAIL(knet_host_set_name(h, 1, longname), EINVAL);
	longname[KNET_MAX_HOST_LEN - 1] = 0; /* 255 characters fit */
	CHECK_OK(knet_host_set_name(h, 1, longname));
	CHECK_OK(knet_host_set_name(h, 1, "alpha"));
	CHECK_FAIL(knet_host_set_name(h, 0, "alpha"), EEXIST);
	CHECK_FAIL(knet_host_set_name(h, 1, "alpha"), EEXIST);
	CHECK_FAIL(knet_host_set_name(h, 0, "65535"), EEXIST);
	CHECK_OK(knet_host_get_name_by_host_id(h, 1, name));
	CHECK(strcmp(name, "alpha") == 0);

	CHECK_FAIL(knet_host_get_id_by_host_name(NULL, "alpha", &id), EINVAL);
	CHECK_FAIL(knet_host_get_id_by_host_name(h, NULL, &id), EINVAL);
	CHECK_FAIL(knet_host_get_id_by_host_name(h, "alpha", NULL), EINVAL);
	CHECK_FAIL(knet_host_get_id_by_host_name(h, "beta", &id), ENOENT);
	CHECK_OK(knet_host_get_id_by_host_name(h, "alpha", &id));
	CHECK(id == 1);
	CHECK_OK(knet_host_get_id_by_host_name(h, "0", &id));
	CHECK(id == 0);

	/* policy */
	CHECK_FAIL(knet_host_get_policy(NULL, 1, &policy), EINVAL);
	CHECK_FAIL(knet_host_get_policy(h, 2, &policy), EINVAL);
	CHECK_FAIL(knet_host_get_policy(h, 1, NULL), EINVAL);
	CHECK_OK(knet_host_get_policy(h, 1, &policy));
	CHECK(policy == KNET_LINK_POLICY_PASSIVE);
	CHECK_FAIL(knet_host_set_policy(NULL, 1, KNET_LINK_POLICY_RR), EINVAL);
	CHECK_FAIL(knet_host_set_policy(h, 1, KNET_LINK_POLICY_RR + 1), EINVAL);
	CHECK_FAIL(knet_host_set_policy(h, 2, KNET_LINK_POLICY_RR), EINVAL);
	CHECK_OK(knet_host_set_policy(h, 1, KNET_LINK_POLICY_ACTIVE));
	CHECK_OK(knet_host_get_policy(h, 1, &policy));
	CHECK(policy == KNET_LINK_POLICY_ACTIVE);
	CHECK_OK(knet_host_set_policy(h, 1, KNET_LINK_POLICY_RR));

	/* status */
	CHECK_FAIL(knet_host_get_status(NULL, 1, &status), EINVAL);
	CHECK_FAIL(knet_host_get_status(h, 2, &status), EINVAL);
	CHECK_FAIL(knet_host_get_status(h, 1, NULL), EINVAL);
	memset(&status, 0xff, sizeof(status));
	CHECK_OK(knet_host_get_status(h, 1, &status));
	CHECK(status.reachable == 0 && status.remote == 0 && status.external == 0);

	/* remove: unknown host, busy with a configured link */
	CHECK_FAIL(knet_host_remove(NULL, 1), EINVAL);
	CHECK_FAIL(knet_host_remove(h, 2), EINVAL);
	CHECK_OK(knet_link_set_config(h, 1, 0, KNET_TRANSPORT_UDP, &src, &dst, 0));
	CHECK_FAIL(knet_host_remove(h, 1), EBUSY);
	CHECK_OK(knet_link_clear_config(h, 1, 0));
	CHECK_OK(knet_host_remove(h, 1));
	CHECK_FAIL(knet_host_get_id_by_host_name(h, "alpha", &id), ENOENT);
	CHECK_OK(knet_host_remove(h, 0));
	CHECK_OK(knet_host_remove(h, 65535));
	CHECK_OK(knet_host_get_host_list(h, ids, &entries));
	CHECK(entries == 0);

	CHECK_OK(knet_handle_free(h));
	free(ids);
	return tc_finish();
}
