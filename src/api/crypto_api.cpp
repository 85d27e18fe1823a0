// Crypto configuration: two slots, the TX slot, clear-traffic policy.
// The configuration is checked here and stored in core::Handle; the engine
// builds the crypto instances in Engine::crypto_changed().
#include <cstring>

#include "api/handle_object.h"
#ifdef KNET_HAVE_CRYPTO
#include "crypto/crypto.h"
#include "util/wipe.h"
#endif

using namespace knet;
using namespace knet::api;

namespace {

bool disables_crypto(const knet_handle_crypto_cfg& cfg) {
#ifdef KNET_HAVE_CRYPTO
    return crypto::config_disables_crypto(cfg);
#else
    auto starts_with_none = [](const char* field) { return std::strncmp("none", field, 4) == 0; };
    return starts_with_none(cfg.crypto_model) ||
           (starts_with_none(cfg.crypto_cipher_type) && starts_with_none(cfg.crypto_hash_type));
#endif
}

// Model/cipher/hash checks (after the key length checks).
Status validate_models(const knet_handle_crypto_cfg& cfg) {
#ifdef KNET_HAVE_CRYPTO
    return crypto::validate(cfg);
#else
    (void)cfg;
    return Error{EINVAL};  // no crypto backend in this build
#endif
}

// Shared by knet_handle_crypto_set_config (force = false) and the 1.x
// compatibility call knet_handle_crypto (force = true: may replace the
// slot in use).  Returns 0, -1 (argument errors) or -2 (crypto init).
int set_config(knet_handle* k, const knet_handle_crypto_cfg* cfg, uint8_t config_num, bool force) {
    if (!cfg) return fail(EINVAL);
    if (config_num < 1 || config_num > 2) return fail(EINVAL);

    WriteLock lock(k->core.lock);
    core::Handle& h = k->core;
    if (h.crypto_in_use == config_num && !force) return fail(EBUSY);

    if (disables_crypto(*cfg)) {
        h.crypto_cfg[config_num] = {};
        h.crypto_configured[config_num] = false;
        if (h.crypto_in_use == config_num) h.crypto_in_use = 0;
        (void)k->engine->crypto_changed();
        KNET_LOG_D(&h.logger, KNET_SUB_CRYPTO, "crypto config %u is not enabled", config_num);
        return succeed();
    }
    if (cfg->private_key_len < KNET_MIN_KEY_LEN || cfg->private_key_len > KNET_MAX_KEY_LEN) {
        KNET_LOG_D(&h.logger, KNET_SUB_CRYPTO,
                   "private key len out of range for config %u (%d..%d): %u", config_num,
                   KNET_MIN_KEY_LEN, KNET_MAX_KEY_LEN, cfg->private_key_len);
        return fail(EINVAL);
    }
    if (Status s = validate_models(*cfg); !s) {
        KNET_LOG_E(&h.logger, KNET_SUB_CRYPTO, "Unable to use crypto config %u: %s", config_num,
                   strerror(s.error()));
        errno = s.error();
        return -2;
    }

    knet_handle_crypto_cfg old_cfg = h.crypto_cfg[config_num];
    const bool old_configured = h.crypto_configured[config_num];
    h.crypto_cfg[config_num] = *cfg;
    h.crypto_configured[config_num] = true;
    const Status installed = k->engine->crypto_changed();
    if (!installed) {
        // A failed init keeps the previous configuration of the slot.
        h.crypto_cfg[config_num] = old_cfg;
        h.crypto_configured[config_num] = old_configured;
    }
    wipe_secret(&old_cfg, sizeof(old_cfg));  // the previous key
    if (Status s = installed; !s) {
        (void)k->engine->crypto_changed();
        KNET_LOG_E(&h.logger, KNET_SUB_CRYPTO, "Unable to initialize crypto config %u: %s",
                   config_num, strerror(s.error()));
        errno = s.error();
        return -2;
    }
    KNET_LOG_D(&h.logger, KNET_SUB_CRYPTO, "crypto config %u installed [%.16s/%.16s/%.16s]",
               config_num, cfg->crypto_model, cfg->crypto_cipher_type, cfg->crypto_hash_type);
    return succeed();
}

int use_config(knet_handle* k, uint8_t config_num) {
    if (config_num > 2) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    core::Handle& h = k->core;
    if (config_num && !h.crypto_configured[config_num]) return fail(EINVAL);
    const uint8_t old = h.crypto_in_use;
    h.crypto_in_use = config_num;
    if (Status s = k->engine->crypto_changed(); !s) {
        h.crypto_in_use = old;
        (void)k->engine->crypto_changed();
        return fail(s.error());
    }
    k->engine->crypto_use_changed();
    return succeed();
}

int rx_clear_traffic(knet_handle* k, uint8_t value) {
    if (value > KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC) return fail(EINVAL);
    WriteLock lock(k->core.lock);
    k->core.rx_allow_clear = value == KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC;
    KNET_LOG_D(&k->core.logger, KNET_SUB_CRYPTO, "%s traffic allowed for RX",
               value ? "Only crypto" : "Both crypto and clear");
    return succeed();
}

}  // namespace

extern "C" {

KNET_EXPORT int knet_handle_crypto_set_config(knet_handle_t knet_h,
                                              struct knet_handle_crypto_cfg* knet_handle_crypto_cfg,
                                              uint8_t config_num) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    return set_config(k, knet_handle_crypto_cfg, config_num, false);
}

KNET_EXPORT int knet_handle_crypto_rx_clear_traffic(knet_handle_t knet_h, uint8_t value) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    return rx_clear_traffic(k, value);
}

KNET_EXPORT int knet_handle_crypto_use_config(knet_handle_t knet_h, uint8_t config_num) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    return use_config(k, config_num);
}

KNET_EXPORT int knet_get_crypto_list(struct knet_crypto_info* crypto_list,
                                     size_t* crypto_list_entries) {
    if (!crypto_list_entries) return fail(EINVAL);
    size_t n = 0;
#ifdef KNET_HAVE_CRYPTO
    for (const char* name : crypto::model_names()) {
        if (crypto_list) crypto_list[n].name = name;
        ++n;
    }
#else
    (void)crypto_list;
#endif
    *crypto_list_entries = n;
    return succeed();
}

// libknet 1.x compatibility: configure slot 1 and switch TX to it (or back
// to clear traffic when the configuration disables crypto).
KNET_EXPORT int knet_handle_crypto(knet_handle_t knet_h,
                                   struct knet_handle_crypto_cfg* knet_handle_crypto_cfg) {
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    uint8_t previous_rx;
    {
        ReadLock lock(k->core.lock);
        previous_rx = k->core.rx_allow_clear ? KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC
                                             : KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC;
    }
    int err = set_config(k, knet_handle_crypto_cfg, 1, true);
    if (err < 0) return err;

    const bool off = disables_crypto(*knet_handle_crypto_cfg);
    err = rx_clear_traffic(k, off ? KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC
                                  : KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC);
    if (err < 0) return err;
    err = use_config(k, off ? 0 : 1);
    if (err < 0) {
        int saved = errno;
        (void)rx_clear_traffic(k, previous_rx);
        errno = saved;
    }
    return err;
}

}  // extern "C"
