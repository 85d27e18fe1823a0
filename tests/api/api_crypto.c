/* Crypto: set_config/use_config/rx_clear_traffic, the 1.x knet_handle_crypto
 * call and knet_get_crypto_list; compression: knet_handle_compress and
 * knet_get_compress_list. */
#include "test_common.h"

static void fill(struct knet_handle_crypto_cfg *cfg, const char *model, const char *cipher,
		 const char *hash, unsigned int keylen)
{
	memset(cfg, 0, sizeof(*cfg));
	strncpy(cfg->crypto_model, model, sizeof(cfg->crypto_model) - 1);
	strncpy(cfg->crypto_cipher_type, cipher, sizeof(cfg->crypto_cipher_type) - 1);
	strncpy(cfg->crypto_hash_type, hash, sizeof(cfg->crypto_hash_type) - 1);
	memset(cfg->private_key, 0x42, sizeof(cfg->private_key));
	cfg->private_key_len = keylen;
}

static int has_model(const char *name)
{
	struct knet_crypto_info list[16];
	size_t n = 0, i;

	if (knet_get_crypto_list(list, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return 1;
	return 0;
}

static void test_crypto(knet_handle_t h)
{
	struct knet_handle_crypto_cfg cfg;
	struct knet_crypto_info list[16];
	size_t n = 0, n2 = 0;

	CHECK_FAIL(knet_get_crypto_list(list, NULL), EINVAL);
	CHECK_OK(knet_get_crypto_list(NULL, &n));
	CHECK_OK(knet_get_crypto_list(list, &n2));
	CHECK(n == n2);

	fill(&cfg, "openssl", "aes256", "sha256", 2048);
	CHECK_FAIL(knet_handle_crypto_set_config(NULL, &cfg, 1), EINVAL);
	CHECK_FAIL(knet_handle_crypto_set_config(h, NULL, 1), EINVAL);
	CHECK_FAIL(knet_handle_crypto_set_config(h, &cfg, 0), EINVAL);
	CHECK_FAIL(knet_handle_crypto_set_config(h, &cfg, 3), EINVAL);
	fill(&cfg, "openssl", "aes256", "sha256", KNET_MIN_KEY_LEN - 1);
	CHECK_FAIL(knet_handle_crypto_set_config(h, &cfg, 1), EINVAL);
	fill(&cfg, "openssl", "aes256", "sha256", KNET_MAX_KEY_LEN + 1);
	CHECK_FAIL(knet_handle_crypto_set_config(h, &cfg, 1), EINVAL);
	fill(&cfg, "bogus", "aes256", "sha256", 2048);
	CHECK(knet_handle_crypto_set_config(h, &cfg, 1) == -2);

	CHECK_FAIL(knet_handle_crypto_use_config(NULL, 1), EINVAL);
	CHECK_FAIL(knet_handle_crypto_use_config(h, 3), EINVAL);
	CHECK_FAIL(knet_handle_crypto_use_config(h, 1), EINVAL); /* slot empty */
	CHECK_FAIL(knet_handle_crypto_use_config(h, 2), EINVAL);
	CHECK_OK(knet_handle_crypto_use_config(h, 0));

	CHECK_FAIL(knet_handle_crypto_rx_clear_traffic(NULL, 0), EINVAL);
	CHECK_FAIL(knet_handle_crypto_rx_clear_traffic(h, 2), EINVAL);
	CHECK_OK(knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC));
	CHECK_OK(knet_handle_crypto_rx_clear_traffic(h, KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC));

	/* "none" always works and frees the slot */
	fill(&cfg, "none", "none", "none", 0);
	CHECK_OK(knet_handle_crypto_set_config(h, &cfg, 1));
	CHECK_OK(knet_handle_crypto_set_config(h, &cfg, 2));
	fill(&cfg, "openssl", "none", "none", 0);
	CHECK_OK(knet_handle_crypto_set_config(h, &cfg, 1));

	CHECK_FAIL(knet_handle_crypto(NULL, &cfg), EINVAL);
	CHECK_FAIL(knet_handle_crypto(h, NULL), EINVAL);
	CHECK_OK(knet_handle_crypto(h, &cfg)); /* none: back to clear traffic */

	if (!has_model("openssl")) {
		printf("openssl crypto not built in: skipping the rekey sequence\n");
		return;
	}
	fill(&cfg, "openssl", "aes256", "sha256", 2048);
	CHECK_OK(knet_handle_crypto_set_config(h, &cfg, 1));
	CHECK_OK(knet_handle_crypto_use_config(h, 1));
	CHECK_FAIL(knet_handle_crypto_set_config(h, &cfg, 1), EBUSY); /* in use */
	CHECK_OK(knet_handle_crypto_set_config(h, &cfg, 2));
	CHECK_OK(knet_handle_crypto_use_config(h, 2));
	fill(&cfg, "none", "none", "none", 0);
	CHECK_OK(knet_handle_crypto_set_config(h, &cfg, 1));
	CHECK_FAIL(knet_handle_crypto_use_config(h, 1), EINVAL);
	CHECK_OK(knet_handle_crypto_use_config(h, 0));
	CHECK_OK(knet_handle_crypto_set_config(h, &cfg, 2));

	/* the 1.x call may replace the slot in use */
	fill(&cfg, "openssl", "aes128", "sha1", 1024);
	CHECK_OK(knet_handle_crypto(h, &cfg));
	CHECK_OK(knet_handle_crypto(h, &cfg));
	fill(&cfg, "none", "none", "none", 0);
	CHECK_OK(knet_handle_crypto(h, &cfg));
}

static void fillc(struct knet_handle_compress_cfg *cfg, const char *model, uint32_t threshold,
		  int level)
{
	memset(cfg, 0, sizeof(*cfg));
	strncpy(cfg->compress_model, model, sizeof(cfg->compress_model) - 1);
	cfg->compress_threshold = threshold;
	cfg->compress_level = level;
}

static void test_compress(knet_handle_t h)
{
	struct knet_handle_compress_cfg cfg;
	struct knet_compress_info list[16];
	size_t n = 0, i;
	int have_zlib = 0;

	CHECK_FAIL(knet_get_compress_list(list, NULL), EINVAL);
	CHECK_OK(knet_get_compress_list(NULL, &n));
	CHECK_OK(knet_get_compress_list(list, &n));
	for (i = 0; i < n; i++) {
		CHECK(strcmp(list[i].name, "none") != 0);
		if (strcmp(list[i].name, "zlib") == 0)
			have_zlib = 1;
	}

	fillc(&cfg, "none", 0, 0);
	CHECK_FAIL(knet_handle_compress(NULL, &cfg), EINVAL);
	CHECK_FAIL(knet_handle_compress(h, NULL), EINVAL);
	CHECK_OK(knet_handle_compress(h, &cfg));
	fillc(&cfg, "", 0, 0);
	CHECK_FAIL(knet_handle_compress(h, &cfg), EINVAL);
	fillc(&cfg, "bogus", 0, 0);
	CHECK_FAIL(knet_handle_compress(h, &cfg), EINVAL);
	if (!have_zlib) {
		printf("zlib not built in: skipping zlib configuration\n");
		return;
	}
	fillc(&cfg, "zlib", KNET_MAX_PACKET_SIZE + 1, 1);
	CHECK_FAIL(knet_handle_compress(h, &cfg), EINVAL);
	fillc(&cfg, "zlib", 0, 10);
	CHECK_FAIL(knet_handle_compress(h, &cfg), EINVAL);
	fillc(&cfg, "zlib", 0, 1);
	CHECK_OK(knet_handle_compress(h, &cfg));
	fillc(&cfg, "zlib", 500, 9);
	CHECK_OK(knet_handle_compress(h, &cfg));
	fillc(&cfg, "none", 0, 0);
	CHECK_OK(knet_handle_compress(h, &cfg));
}

int main(void)
{
	knet_handle_t h = tc_handle(1);

	CHECK(h != NULL);
	if (h) {
		test_crypto(h);
		test_compress(h);
		CHECK_OK(knet_handle_free(h));
	}
	return tc_finish();
}
