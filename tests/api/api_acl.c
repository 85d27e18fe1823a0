/* Access lists: add/insert/rm/clear on dynamic links. */
#include "test_common.h"

#define PEER 2

int main(void)
{
	knet_handle_t h = tc_handle(1);
	struct sockaddr_storage src = tc_addr("127.0.0.1", "50200");
	struct sockaddr_storage dst = tc_addr("127.0.0.1", "50201");
	struct sockaddr_storage src2 = tc_addr("127.0.0.2", "50202");
	struct sockaddr_storage a = tc_addr("10.0.0.1", "0");
	struct sockaddr_storage b = tc_addr("10.0.0.9", "0");
	struct sockaddr_storage mask = tc_addr("255.255.255.0", "0");
	struct sockaddr_storage a6 = tc_addr("fd00::1", "0");
	struct sockaddr_storage unspec;

	memset(&unspec, 0, sizeof(unspec));
	CHECK(h != NULL);
	if (!h)
		return tc_finish();
	CHECK_OK(knet_host_add(h, PEER));

	/* argument checks */
	CHECK_FAIL(knet_link_add_acl(NULL, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, NULL, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, &a, NULL, (check_type_t)7, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, (check_acceptreject_t)7),
		   EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_MASK, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_RANGE, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, &a, &a6, CHECK_TYPE_RANGE, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, KNET_MAX_LINK, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT),
		   EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, 9, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);

	/* static links: the list is not the application's */
	CHECK_OK(knet_link_set_config(h, PEER, 0, KNET_TRANSPORT_UDP, &src, &dst, 0));
	CHECK_FAIL(knet_link_add_acl(h, PEER, 0, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_rm_acl(h, PEER, 0, &dst, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_clear_acl(h, PEER, 0), EINVAL);

	/* dynamic link */
	CHECK_OK(knet_link_set_config(h, PEER, 1, KNET_TRANSPORT_UDP, &src2, NULL, 0));
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	CHECK_FAIL(knet_link_add_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EEXIST);
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_REJECT));
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &a, &mask, CHECK_TYPE_MASK, CHECK_ACCEPT));
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &a, &b, CHECK_TYPE_RANGE, CHECK_REJECT));
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &a6, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	CHECK_OK(knet_link_insert_acl(h, PEER, 1, 0, &b, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	CHECK_OK(knet_link_insert_acl(h, PEER, 1, 100, &b, NULL, CHECK_TYPE_ADDRESS, CHECK_REJECT));
	CHECK_FAIL(knet_link_insert_acl(NULL, PEER, 1, 0, &b, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT),
		   EINVAL);

	CHECK_FAIL(knet_link_rm_acl(NULL, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_rm_acl(h, PEER, 1, NULL, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_rm_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_MASK, CHECK_ACCEPT), EINVAL);
	CHECK_FAIL(knet_link_rm_acl(h, PEER, 1, &b, &a, CHECK_TYPE_RANGE, CHECK_REJECT), ENOENT);
	CHECK_OK(knet_link_rm_acl(h, PEER, 1, &a, &b, CHECK_TYPE_RANGE, CHECK_REJECT));
	CHECK_FAIL(knet_link_rm_acl(h, PEER, 1, &a, &b, CHECK_TYPE_RANGE, CHECK_REJECT), ENOENT);
	CHECK_OK(knet_link_rm_acl(h, PEER, 1, &a, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));

	/* as libknet 1.x: only a range must be of one family; an address of no
	 * IP family and a mask of the other family are accepted (and removable) */
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &unspec, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &a, &a6, CHECK_TYPE_MASK, CHECK_REJECT));
	CHECK_OK(knet_link_rm_acl(h, PEER, 1, &unspec, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));
	CHECK_OK(knet_link_rm_acl(h, PEER, 1, &a, &a6, CHECK_TYPE_MASK, CHECK_REJECT));

	CHECK_FAIL(knet_link_clear_acl(NULL, PEER, 1), EINVAL);
	CHECK_FAIL(knet_link_clear_acl(h, PEER, KNET_MAX_LINK), EINVAL);
	CHECK_FAIL(knet_link_clear_acl(h, 9, 1), EINVAL);
	CHECK_FAIL(knet_link_clear_acl(h, PEER, 5), EINVAL);
	CHECK_OK(knet_link_clear_acl(h, PEER, 1));
	CHECK_FAIL(knet_link_rm_acl(h, PEER, 1, &a6, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT), ENOENT);
	CHECK_OK(knet_link_add_acl(h, PEER, 1, &a6, NULL, CHECK_TYPE_ADDRESS, CHECK_ACCEPT));

	CHECK_OK(knet_link_clear_config(h, PEER, 0));
	CHECK_OK(knet_link_clear_config(h, PEER, 1));
	CHECK_OK(knet_host_remove(h, PEER));
	CHECK_OK(knet_handle_free(h));
	return tc_finish();
}
