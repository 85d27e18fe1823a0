// decompress of arbitrary bytes for every model (first byte % 8 picks the wire
// model id, 0 = none) into a KNET_MAX_PACKET_SIZE buffer: never writes past
// it, never claims more than it, fails with a plain errno on garbage.
#include <cerrno>
#include <memory>
#include <vector>

#include "compress/compress.h"
#include "fuzz_common.h"

using namespace knet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static compress::Decompressor dec(nullptr);
    // Exactly KNET_MAX_PACKET_SIZE on the heap: ASan sees any write past it.
    static auto out = std::make_unique<uint8_t[]>(KNET_MAX_PACKET_SIZE);
    const uint8_t model = data[0] % (compress::kMaxModelId + 1);
    const compress::ModelInfo* info = compress::find_model(model);
    std::vector<uint8_t> in(data + 1, data + size);
    auto r = dec.decompress(model, in, {out.get(), KNET_MAX_PACKET_SIZE});
    if (model == 0 || !info || !info->built_in) FUZZ_CHECK(r.error() == EINVAL);
    if (r.ok()) FUZZ_CHECK(r.value() <= KNET_MAX_PACKET_SIZE);
    else FUZZ_CHECK(r.error() == EINVAL || r.error() == EAGAIN || r.error() == ENOBUFS ||
                    r.error() == E2BIG || r.error() == ENOMEM);
    return 0;
}
