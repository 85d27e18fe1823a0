// libknet 1.x on-wire packet format (clear text, i.e. before encryption /
// after decryption), byte for byte as libknet 1.25 puts it on the wire.
//
// Every packet starts with a 6-byte common header:
//
//   off size field
//   0   1    version      always kVersion (1)
//   1   1    type         PacketType
//   2   2    node         source host id, network order (big endian)
//   4   1    pad          0
//   5   1    pad          0
//
// DATA (type 0x00), 8 more bytes then the user data (kDataHeaderSize = 14):
//   6   2    seq          data sequence number, network order
//   8   1    compress     compression model id of the user data, 0 = none
//   9   1    pad          0
//   10  1    bcast        1 = broadcast, 0 = unicast
//   11  1    frag_num     number of fragments (1 = not fragmented)
//   12  1    frag_seq     0 when frag_num == 1, else 1..frag_num
//   13  1    channel      int8 datafd channel
//   14  ...  user data
//
// PING (0x81) / PONG (0x82), always exactly kPingPacketSize = 26 bytes:
//   6   1    link         link id of the *sender of the PING*
//   7   16   time         opaque timestamp; the PING sender fills it with its
//                         own clock (the reference copies a struct timespec,
//                         host order), the PONG echoes it back unchanged
//   23  2    seq          sender's current data tx sequence number, network order
//   25  1    timed        1 = periodic ping, 0 = forced (untimed) ping
//   A PONG is the received PING with type = PONG and node = the replier's id;
//   every other byte is echoed.
//
// PMTUD (0x83) / PMTUD_REPLY (0x84), kPmtudHeaderSize = 9 bytes then padding:
//   6   1    link         link id of the PMTUD sender
//   7   2    size         on-wire size being probed.  NOTE: the reference writes
//                         this field in HOST order (no htons), i.e. little endian
//                         on every platform it ships on; we always use little
//                         endian.  The reply echoes it.
//   A PMTUD probe is padded up to the probed size; the reply is the 9-byte
//   header only, with type = PMTUD_REPLY and node = the replier's id.
//
// Packets of another version: the reference (threads_rx.c) drops them
// silently (a debug log "Packet version does not match"), before even looking
// up the source host, and never answers them.  decode() reports BadVersion so
// the caller can count and drop them the same way.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "libknet.h"

namespace knet::proto {

// ---- header -----------------------------------------------------------------
inline constexpr uint8_t kVersion = 0x01;

enum class PacketType : uint8_t {
    Data = 0x00,
    Ping = 0x81,
    Pong = 0x82,
    Pmtud = 0x83,
    PmtudReply = 0x84,
};
// Types with this bit set are control packets carrying a link id at offset 6.
inline constexpr uint8_t kTypeControlMask = 0x80;

inline constexpr size_t kHeaderSize = 6;             // common header
inline constexpr size_t kDataHeaderSize = 14;        // header + data fields
inline constexpr size_t kPingPacketSize = 26;        // header + ping fields
inline constexpr size_t kPmtudHeaderSize = 9;        // header + pmtud fields
inline constexpr size_t kHeaderAllSize = 26;         // header + largest payload header
inline constexpr size_t kPingTimeSize = 16;
// The reference rejects anything shorter than this before looking at it.
inline constexpr size_t kMinPacketSize = kHeaderSize + 1;

// ---- limits -----------------------------------------------------------------
inline constexpr size_t kMaxPacketSize = KNET_MAX_PACKET_SIZE;  // one app datagram
// Largest clear-text packet: a full datagram plus the largest header.
inline constexpr size_t kDataBufSize = kMaxPacketSize + kHeaderAllSize;
inline constexpr uint8_t kMaxLinks = KNET_MAX_LINK;
// Fragments per datagram accepted on receive (frag_num is one byte).
inline constexpr unsigned kMaxFragments = 255;
// Fragments per datagram we send: libknet >= 1.35 rejects frag_num 255
// (its fragment map has 255 entries indexed by the 1-based frag_seq).
inline constexpr unsigned kMaxTxFragments = 254;

// ---- PMTUd ------------------------------------------------------------------
inline constexpr size_t kPmtudSizeV4 = 65535;  // largest probe (IP total length)
inline constexpr size_t kPmtudSizeV6 = 65535;
inline constexpr size_t kPmtudOverheadV4 = 20;  // IPv4 header
inline constexpr size_t kPmtudOverheadV6 = 40;  // IPv6 header
inline constexpr size_t kPmtudMinMtuV4 = 576;
inline constexpr size_t kPmtudMinMtuV6 = 1280;
// Data MTU the reference assumes while PMTUd has not produced one yet.
inline constexpr size_t kDefaultDataMtu = kPmtudMinMtuV4;

// ---- value types ------------------------------------------------------------
struct Header {
    uint8_t version = kVersion;
    PacketType type = PacketType::Data;
    knet_node_id_t node = 0;  // source host id
};

struct DataHeader {
    uint16_t seq = 0;
    uint8_t compress = 0;
    uint8_t bcast = 0;
    uint8_t frag_num = 1;
    uint8_t frag_seq = 0;
    int8_t channel = 0;
    bool operator==(const DataHeader&) const = default;
};

struct PingPayload {
    uint8_t link = 0;
    std::array<uint8_t, kPingTimeSize> time{};
    uint16_t seq = 0;
    uint8_t timed = 0;
    bool operator==(const PingPayload&) const = default;
};

struct PmtudPayload {
    uint8_t link = 0;
    uint16_t size = 0;
    bool operator==(const PmtudPayload&) const = default;
};

// A decoded packet.  Only the payload struct matching header.type is
// meaningful.  `user_data` is a view into the decoded buffer: the data bytes
// for DATA, the padding after the 9-byte header for PMTUD, empty otherwise.
struct Packet {
    Header header;
    DataHeader data;
    PingPayload ping;
    PmtudPayload pmtud;
    std::span<const uint8_t> user_data;
};

// Every reason decode() refuses a packet.
enum class DropReason : uint8_t {
    None = 0,
    TooShort,      // shorter than kMinPacketSize
    BadVersion,    // version != kVersion
    UnknownType,   // not one of PacketType
    Truncated,     // shorter than its type's fixed header
    BadLinkId,     // control packet naming a link id >= KNET_MAX_LINK
};
std::string_view to_string(DropReason r) noexcept;

struct DecodeResult {
    DropReason reason = DropReason::None;
    Packet packet;
    bool ok() const noexcept { return reason == DropReason::None; }
};

// ---- decode -----------------------------------------------------------------
// Validates version, type and the type's fixed length and returns the fields.
// Never reads outside `in`.  Pads are ignored.  Extra bytes after a PING/PONG
// are ignored (the reference always sends exactly 26).
DecodeResult decode(std::span<const uint8_t> in) noexcept;

// True if `type` is a control packet type (carries a link id at offset 6).
constexpr bool is_control(PacketType type) noexcept {
    return (static_cast<uint8_t>(type) & kTypeControlMask) != 0;
}

// ---- encode -----------------------------------------------------------------
// All encoders write into `out` and return the number of bytes written, or 0
// if `out` is too small (nothing useful is written then).

// The 14-byte DATA header; the caller places the user data right after it
// (or sends it as a second iovec).
size_t encode_data_header(std::span<uint8_t> out, knet_node_id_t node,
                          const DataHeader& data) noexcept;

// A whole DATA packet: header followed by a copy of `user_data`.
size_t encode_data(std::span<uint8_t> out, knet_node_id_t node, const DataHeader& data,
                   std::span<const uint8_t> user_data) noexcept;

// A 26-byte PING (type Ping) or PONG (type Pong).  A PONG answering a PING is
// encode_ping(out, PacketType::Pong, my_node, received.ping).
size_t encode_ping(std::span<uint8_t> out, PacketType type, knet_node_id_t node,
                   const PingPayload& ping) noexcept;

// A PMTUD probe or reply: the 9-byte header followed by zero padding up to
// `total_size` bytes (total_size < 9 means "header only", as for replies).
size_t encode_pmtud(std::span<uint8_t> out, PacketType type, knet_node_id_t node,
                    const PmtudPayload& pmtud, size_t total_size = 0) noexcept;

// ---- ping timestamp helpers ---------------------------------------------------
// The time blob is only ever interpreted by the node that wrote it.  We use
// the same layout as the reference on x86_64 (struct timespec: int64 seconds,
// int64 nanoseconds, little endian) so captures read the same in tools.
std::array<uint8_t, kPingTimeSize> ping_time_from_ns(uint64_t ns) noexcept;
// Inverse of ping_time_from_ns; nanoseconds >= 1e9 or negative fields give 0.
uint64_t ping_time_to_ns(const std::array<uint8_t, kPingTimeSize>& t) noexcept;

}  // namespace knet::proto
