// proto::decode of any bytes: never reads outside the input, and whatever it
// accepts re-encodes to a packet that decodes to the same fields.
#include <array>

#include "fuzz_common.h"
#include "proto/wire.h"

using namespace knet::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const DecodeResult r = decode({data, size});
    if (!r.ok()) return 0;
    const Packet& p = r.packet;
    FUZZ_CHECK(p.user_data.empty() ||
               (p.user_data.data() >= data && p.user_data.data() + p.user_data.size() <= data + size));
    static std::array<uint8_t, kDataBufSize + 65536> out;
    size_t n = 0;
    switch (p.header.type) {
    case PacketType::Data:
        n = encode_data(out, p.header.node, p.data, p.user_data);
        break;
    case PacketType::Ping:
    case PacketType::Pong:
        n = encode_ping(out, p.header.type, p.header.node, p.ping);
        break;
    case PacketType::Pmtud:
    case PacketType::PmtudReply:
        n = encode_pmtud(out, p.header.type, p.header.node, p.pmtud, size);
        break;
    }
    FUZZ_CHECK(n > 0);
    const DecodeResult again = decode({out.data(), n});
    FUZZ_CHECK(again.ok() && again.packet.header.type == p.header.type &&
               again.packet.header.node == p.header.node);
    FUZZ_CHECK(again.packet.data == p.data && again.packet.ping == p.ping &&
               again.packet.pmtud == p.pmtud);
    FUZZ_CHECK(again.packet.user_data.size() == p.user_data.size());
    if (p.header.type == PacketType::Data)
        FUZZ_CHECK(std::equal(p.user_data.begin(), p.user_data.end(), again.packet.user_data.begin()));
    return 0;
}
