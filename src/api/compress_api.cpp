// Compression configuration.  The settings are checked here (with the
// compress module's own rules and self-test) and stored in core::Handle;
// the engine builds its compressor in Engine::compress_changed().
#include <cstring>
#include <string_view>

#include "api/handle_object.h"
#ifdef KNET_HAVE_COMPRESS
#include "compress/compress.h"
#endif

using namespace knet;
using namespace knet::api;

namespace {

std::string_view model_of(const knet_handle_compress_cfg& cfg) {
    return std::string_view(cfg.compress_model, strnlen(cfg.compress_model,
                                                        sizeof(cfg.compress_model)));
}

void disable(core::Handle& h) {
    h.compress_cfg = {};
    std::memcpy(h.compress_cfg.compress_model, "none", 5);
}

}  // namespace

extern "C" {

KNET_EXPORT int knet_handle_compress(knet_handle_t knet_h,
                                     struct knet_handle_compress_cfg* knet_handle_compress_cfg) {
    KNET_API_GUARD_BEGIN
    knet_handle* k = live(knet_h);
    if (!k) return -1;
    if (!knet_handle_compress_cfg) return fail(EINVAL);
    const struct knet_handle_compress_cfg& cfg = *knet_handle_compress_cfg;

    WriteLock lock(k->core.lock);
    core::Handle& h = k->core;
    if (model_of(cfg) == "none") {
        disable(h);
        (void)k->engine->compress_changed();
        KNET_LOG_D(&h.logger, KNET_SUB_COMPRESS, "compression disabled");
        return succeed();
    }
#ifdef KNET_HAVE_COMPRESS
    // Unknown model, not built in, threshold, level and the self-test.
    auto checked = compress::Compressor::create(cfg, &h.logger);
    if (!checked) {
        KNET_LOG_E(&h.logger, KNET_SUB_COMPRESS, "compress model %.16s not usable: %s",
                   cfg.compress_model, strerror(checked.error()));
        return fail(checked.error());
    }
#else
    KNET_LOG_E(&h.logger, KNET_SUB_COMPRESS, "compress model %.16s not supported",
               cfg.compress_model);
    return fail(EINVAL);
#endif
    h.compress_cfg = cfg;
    if (h.compress_cfg.compress_threshold == 0)
        h.compress_cfg.compress_threshold = KNET_COMPRESS_THRESHOLD;
    if (Status s = k->engine->compress_changed(); !s) {
        disable(h);
        (void)k->engine->compress_changed();
        return fail(s.error());
    }
    KNET_LOG_D(&h.logger, KNET_SUB_COMPRESS, "compress configured [%.16s/%d/%u]",
               cfg.compress_model, cfg.compress_level, h.compress_cfg.compress_threshold);
    return succeed();
    KNET_API_GUARD_END(-1)
}

KNET_EXPORT int knet_get_compress_list(struct knet_compress_info* compress_list,
                                       size_t* compress_list_entries) {
    if (!compress_list_entries) return fail(EINVAL);
    size_t n = 0;
#ifdef KNET_HAVE_COMPRESS
    for (const compress::ModelInfo& m : compress::models()) {
        if (!m.built_in) continue;
        if (compress_list) compress_list[n].name = m.name;
        ++n;
    }
#else
    (void)compress_list;
#endif
    *compress_list_entries = n;
    return succeed();
}

}  // extern "C"
