#include "proto/wire.h"

#include "proto/byte_io.h"

namespace knet::proto {

std::string_view to_string(DropReason r) noexcept {
    switch (r) {
        case DropReason::None: return "none";
        case DropReason::TooShort: return "packet too short";
        case DropReason::BadVersion: return "packet version does not match";
        case DropReason::UnknownType: return "unknown packet type";
        case DropReason::Truncated: return "packet truncated";
        case DropReason::BadLinkId: return "invalid link id";
    }
    return "unknown";
}

namespace {

bool known_type(uint8_t t) noexcept {
    switch (static_cast<PacketType>(t)) {
        case PacketType::Data:
        case PacketType::Ping:
        case PacketType::Pong:
        case PacketType::Pmtud:
        case PacketType::PmtudReply:
            return true;
    }
    return false;
}

void write_header(Writer& w, PacketType type, knet_node_id_t node) noexcept {
    w.u8(kVersion);
    w.u8(static_cast<uint8_t>(type));
    w.u16be(node);
    w.u8(0);  // pad
    w.u8(0);  // pad
}

}  // namespace

DecodeResult decode(std::span<const uint8_t> in) noexcept {
    DecodeResult res;
    if (in.size() < kMinPacketSize) {
        res.reason = DropReason::TooShort;
        return res;
    }
    Reader r(in);
    uint8_t version = 0, type = 0, pad = 0;
    uint16_t node = 0;
    r.u8(version);
    r.u8(type);
    r.u16be(node);
    r.u8(pad);
    r.u8(pad);
    if (version != kVersion) {
        res.reason = DropReason::BadVersion;
        return res;
    }
    if (!known_type(type)) {
        res.reason = DropReason::UnknownType;
        return res;
    }
    Packet& p = res.packet;
    p.header.version = version;
    p.header.type = static_cast<PacketType>(type);
    p.header.node = node;

    switch (p.header.type) {
        case PacketType::Data: {
            if (in.size() < kDataHeaderSize) break;
            DataHeader& d = p.data;
            r.u16be(d.seq);
            r.u8(d.compress);
            r.u8(pad);
            r.u8(d.bcast);
            r.u8(d.frag_num);
            r.u8(d.frag_seq);
            r.i8(d.channel);
            p.user_data = r.rest();
            return res;
        }
        case PacketType::Ping:
        case PacketType::Pong: {
            if (in.size() < kPingPacketSize) break;
            PingPayload& g = p.ping;
            r.u8(g.link);
            r.bytes(g.time);
            r.u16be(g.seq);
            r.u8(g.timed);
            if (g.link >= kMaxLinks) {
                res.reason = DropReason::BadLinkId;
            }
            return res;
        }
        case PacketType::Pmtud:
        case PacketType::PmtudReply: {
            if (in.size() < kPmtudHeaderSize) break;
            r.u8(p.pmtud.link);
            r.u16le(p.pmtud.size);
            p.user_data = r.rest();
            if (p.pmtud.link >= kMaxLinks) {
                res.reason = DropReason::BadLinkId;
            }
            return res;
        }
    }
    res.reason = DropReason::Truncated;
    return res;
}

size_t encode_data_header(std::span<uint8_t> out, knet_node_id_t node,
                          const DataHeader& d) noexcept {
    Writer w(out);
    write_header(w, PacketType::Data, node);
    w.u16be(d.seq);
    w.u8(d.compress);
    w.u8(0);  // pad
    w.u8(d.bcast);
    w.u8(d.frag_num);
    w.u8(d.frag_seq);
    w.i8(d.channel);
    return w.ok() ? w.written() : 0;
}

size_t encode_data(std::span<uint8_t> out, knet_node_id_t node, const DataHeader& d,
                   std::span<const uint8_t> user_data) noexcept {
    if (out.size() < kDataHeaderSize + user_data.size()) return 0;
    size_t n = encode_data_header(out, node, d);
    Writer w(out.subspan(n));
    w.bytes(user_data);
    return w.ok() ? n + w.written() : 0;
}

size_t encode_ping(std::span<uint8_t> out, PacketType type, knet_node_id_t node,
                   const PingPayload& g) noexcept {
    if (type != PacketType::Ping && type != PacketType::Pong) return 0;
    Writer w(out);
    write_header(w, type, node);
    w.u8(g.link);
    w.bytes(g.time);
    w.u16be(g.seq);
    w.u8(g.timed);
    return w.ok() ? w.written() : 0;
}

size_t encode_pmtud(std::span<uint8_t> out, PacketType type, knet_node_id_t node,
                    const PmtudPayload& m, size_t total_size) noexcept {
    if (type != PacketType::Pmtud && type != PacketType::PmtudReply) return 0;
    size_t total = total_size < kPmtudHeaderSize ? kPmtudHeaderSize : total_size;
    if (out.size() < total) return 0;
    Writer w(out);
    write_header(w, type, node);
    w.u8(m.link);
    w.u16le(m.size);
    w.fill(total - kPmtudHeaderSize);
    return w.ok() ? w.written() : 0;
}

namespace {
void put_le64(uint8_t* p, uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get_le64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
constexpr uint64_t kNsPerSec = 1000000000ULL;
}  // namespace

std::array<uint8_t, kPingTimeSize> ping_time_from_ns(uint64_t ns) noexcept {
    std::array<uint8_t, kPingTimeSize> t{};
    put_le64(t.data(), ns / kNsPerSec);
    put_le64(t.data() + 8, ns % kNsPerSec);
    return t;
}

uint64_t ping_time_to_ns(const std::array<uint8_t, kPingTimeSize>& t) noexcept {
    uint64_t sec = get_le64(t.data());
    uint64_t nsec = get_le64(t.data() + 8);
    if (nsec >= kNsPerSec || sec > UINT64_MAX / kNsPerSec - 1) return 0;
    return sec * kNsPerSec + nsec;
}

}  // namespace knet::proto
