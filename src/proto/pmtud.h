// Path MTU discovery of one link and the MTU arithmetic (sans-I/O).
//
// Sizes (all in bytes):
//  * onwire_len: the IP datagram size of a packet (IP + UDP + knet packet,
//    encrypted when crypto is on).  This is what a link's MTU limits.
//  * link mtu / data mtu: how many application bytes fit in one knet data
//    packet on that link / on every link (knet_link_status.mtu,
//    knet_handle_pmtud_get).  data mtu = onwire_len - IP - transport header
//    - knet header (26) - crypto overhead (salt + hash + padding).
//
// The search, as in libknet 1.x: start from 65535 (the kernel refuses
// anything above the interface MTU, telling us its MTU through EMSGSIZE),
// then bisect between the last size the peer acknowledged ("good", initially
// the size of the last ping) and the last size that failed ("bad").  Each
// probe is a PMTUD packet whose size field carries onwire_len; the peer
// echoes it in a PMTUD_REPLY.  A probe fails when the kernel rejects it
// (EMSGSIZE/EPERM: then the kernel's MTU is tried next) or when no reply
// arrives within pong_timeout_adj (times a per-link multiplier, 2..128, when
// crypto is on: a timeout first doubles the multiplier and resends the same
// size; a fast reply halves it).  The search ends when the acknowledged size
// is adjacent to the failed one (within one cipher block with crypto), and
// aborts after 30 probes.  A result below min_data_mtu() marks the link as
// not having a valid MTU; so does an aborted run.  Runs repeat every pmtud
// interval (default 60 s), at once when the link comes up, or when forced.
//
// Differences from the reference, on purpose: a reply whose size is not the
// one of the outstanding probe (a late reply to an earlier probe) is ignored
// instead of failing the current probe; a kernel MTU hint that is not below
// the refused size is ignored (EPERM from a firewall would loop otherwise);
// the crypto-multiplied reply wait is capped at 30 s and the same size is
// only re-sent after a timeout while the wait actually grows (the reference
// waits up to 128 * pong_timeout_adj, which makes a silent-drop path take
// ~40 minutes to converge with crypto; here a few minutes); an unforced run
// after a failed one waits at least one second.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "proto/wire.h"

namespace knet::proto {

// IP header sizes and minimum MTUs (kPmtudOverheadV4/V6, kPmtudMinMtuV4/V6)
// and the knet header size (kHeaderAllSize) come from the codec, wire.h.
inline constexpr uint32_t kPmtudSizeMax = 65535;  // largest probe (v4 and v6)
inline constexpr uint32_t kPmtudUdpOverhead = 8;    // UDP header
inline constexpr uint32_t kPmtudSctpOverhead = 28;  // SCTP common header + data chunk
inline constexpr uint32_t kPmtudLoopbackOverhead = 0;
inline constexpr uint32_t kPmtudHeaderAllSize = static_cast<uint32_t>(kHeaderAllSize);  // 26
inline constexpr uint32_t kPmtudDefaultIntervalS = 60;  // KNET_PMTUD_DEFAULT_INTERVAL
inline constexpr uint32_t kPmtudMaxProbes = 30;          // probes per run before giving up
inline constexpr uint32_t kPmtudCryptoTimeoutMultiplierMin = 2;
inline constexpr uint32_t kPmtudCryptoTimeoutMultiplierMax = 128;
// Upper bound of one reply wait when the crypto multiplier applies (ours; the
// reference can wait pong_timeout_adj * 128, over four minutes per probe).
inline constexpr uint64_t kPmtudMaxCryptoReplyWaitUs = 30'000'000;

enum class IpFamily : uint8_t { V4, V6 };

// Crypto parameters of the handle's active crypto configuration.
struct CryptoOverhead {
    bool in_use = false;      // a crypto configuration is in use (even hash-only)
    uint32_t block_size = 0;  // cipher block size, 0 for none
    uint32_t hash_size = 0;   // HMAC length, 0 for none
    uint32_t salt_size = 0;   // IV/salt length, 0 for none
};

// IP header size of a family.
uint32_t ip_overhead(IpFamily family);

// Minimum IP MTU of a family (576 / 1280).
uint32_t min_ip_mtu(IpFamily family);

// Size on the wire (before IP/transport headers) of a knet packet of `inlen`
// plaintext bytes after encryption: padding to the block size (always at
// least one byte), then salt and hash.  Identity without crypto.
uint32_t encrypted_len(const CryptoOverhead& crypto, uint32_t inlen);

// Largest application payload whose knet packet, encrypted, fits in `inlen`
// bytes (inlen = onwire_len - IP - transport).  nullopt if nothing fits.
std::optional<uint32_t> max_data_len(const CryptoOverhead& crypto, uint32_t inlen);

// The failsafe data MTU used before (or without) discovery:
// max_data_len(576 - IPv6 header - SCTP overhead).  482 without crypto.
uint32_t min_data_mtu(const CryptoOverhead& crypto);

// Link MTU of a link whose IP MTU is `ip_mtu`.  nullopt if nothing fits.
std::optional<uint32_t> link_mtu_for_ip_mtu(uint32_t ip_mtu, IpFamily family,
                                            uint32_t transport_overhead,
                                            const CryptoOverhead& crypto);

// Link MTU a newly configured link starts with: for a static link the
// family's minimum IP MTU, for a dynamic one min_data_mtu().
uint32_t initial_link_mtu(bool dynamic, IpFamily family, uint32_t transport_overhead,
                          const CryptoOverhead& crypto);

// knet_link_status.proto_overhead: IP + transport + knet header + salt + hash.
uint32_t link_proto_overhead(IpFamily family, uint32_t transport_overhead,
                             const CryptoOverhead& crypto);

// Data MTU of the handle: the smallest MTU among links with a valid MTU.
// nullopt when no link has one (the handle keeps its current value).
std::optional<uint32_t> data_mtu_from_links(std::span<const uint32_t> link_mtus);

// Inputs of one discovery run on one link.
struct PmtudParams {
    IpFamily family = IpFamily::V4;
    uint32_t transport_overhead = kPmtudUdpOverhead;
    CryptoOverhead crypto{};
    uint32_t last_ping_size = 0;       // on-wire size of the last ping sent (> 0)
    uint64_t pong_timeout_adj_us = 0;  // LinkHeartbeat::pong_timeout_adj_us()
};

// How sending a probe went.
enum class ProbeSendResult : uint8_t {
    Sent,        // the whole datagram left
    TooBig,      // EMSGSIZE or EPERM: the kernel refused the size
    HardError,   // unrecoverable send error (e.g. ENETUNREACH): abort the run
};

// Why a run failed.
enum class PmtudFailure : uint8_t {
    None,
    TooManyProbes,  // 30 probes without converging (MTU changed meanwhile?)
    SendError,      // unrecoverable send error
    NoRoom,         // the IP MTU cannot even carry the knet/crypto headers
    Aborted,        // abort() was called
};

// Printable name of a failure, for logs.
const char* to_string(PmtudFailure f);

// What the run asks the engine to do next.
struct PmtudStep {
    enum class Action : uint8_t {
        SendProbe,  // send a PMTUD packet, then call on_send_result()
        Wait,       // wait for on_reply() or until deadline_ns, then on_timer()
        Done,       // run finished: link_mtu / valid are the outcome
        Failed,     // run failed: the link has no valid MTU (failure says why)
    };
    Action action = Action::Failed;
    uint32_t onwire_len = 0;   // SendProbe: value of the probe's size field
    uint32_t packet_len = 0;   // SendProbe: plaintext knet packet length to build
                               // (knet header + fill), before encryption
    uint64_t deadline_ns = 0;  // Wait: reply deadline
    uint32_t link_mtu = 0;     // Done: discovered link MTU
    bool valid = false;        // Done: link_mtu >= min_data_mtu()
    PmtudFailure failure = PmtudFailure::None;  // Failed
    // Set once per run on the first reply timeout: the kernel accepted a size
    // the peer does not acknowledge (MTU misconfiguration or loss).
    bool misconfig_warning = false;
};

// Discovery state of one link: scheduling across runs and the search itself.
class LinkPmtud {
public:
    LinkPmtud() = default;

    // The link was (re)configured: forget everything, start with `mtu`.
    void reset(uint32_t initial_mtu, bool valid);

    // The link went down: the next run is due as soon as it is up again.
    void on_link_down() {
        has_last_run_ = false;
        has_failure_ = false;
    }

    // Is a run due at now?  Forced, never ran, or interval_s elapsed since the
    // last successful run.  After a failed run (or a result below the minimum)
    // the next unforced run waits at least one second, so a link whose sends
    // fail cannot spin.
    bool due(uint64_t now_ns, uint32_t interval_s, bool force) const;
    // The earliest time at which an unforced run becomes due (0: already
    // due; UINT64_MAX while a run is going on), so the engine can sleep
    // until then instead of polling.
    uint64_t next_due_ns(uint32_t interval_s) const;

    // Starts a run; the first step is always SendProbe (or Failed).
    PmtudStep start(const PmtudParams& params, uint64_t now_ns);
    // Outcome of sending the probe of the last SendProbe step.  kernel_mtu is
    // the MTU reported by the socket error queue for TooBig (0 if unknown).
    PmtudStep on_send_result(ProbeSendResult result, uint32_t kernel_mtu, uint64_t now_ns);
    // A PMTUD_REPLY arrived carrying `echoed_onwire_len`.
    PmtudStep on_reply(uint32_t echoed_onwire_len, uint64_t now_ns);
    // Timer: if the reply deadline passed, treat the probe as lost.
    PmtudStep on_timer(uint64_t now_ns);
    // Stops the current run (link disconnected, reschedule): mtu and validity
    // keep their previous values.
    void abort();

    // Manual interface MTU (knet_handle_pmtud_set): sets the link MTU from it
    // without probing.  Returns false (MTU unchanged) if nothing fits.
    bool apply_manual_mtu(uint32_t iface_mtu, const PmtudParams& params);

    bool running() const { return running_; }
    bool waiting_reply() const { return running_ && waiting_; }
    uint32_t mtu() const { return mtu_; }
    bool has_valid_mtu() const { return valid_; }
    uint32_t crypto_timeout_multiplier() const { return crypto_mult_; }
    uint32_t probes_sent() const { return probes_; }
    // Monotonic time of the end of the last successful run (0 if none).
    uint64_t last_run_ns() const { return has_last_run_ ? last_run_ns_ : 0; }

private:
    PmtudStep prepare_probe(bool warn);
    PmtudStep bisect(bool warn);
    PmtudStep finish(bool ok, PmtudFailure why, bool warn);
    uint32_t ipproto() const;
    uint64_t reply_wait_us(uint32_t mult) const;

    // persistent across runs
    uint32_t mtu_ = 0;
    bool valid_ = false;
    bool has_last_run_ = false;
    uint64_t last_run_ns_ = 0;
    bool has_failure_ = false;
    uint64_t last_failure_ns_ = 0;
    uint32_t crypto_mult_ = kPmtudCryptoTimeoutMultiplierMin;
    // per run
    bool running_ = false;
    bool waiting_ = false;
    bool warned_ = false;
    bool crypto_reduce_ = false;
    PmtudParams params_{};
    uint32_t onwire_ = 0;
    uint32_t last_good_ = 0;
    uint32_t last_bad_ = 0;
    uint32_t probes_ = 0;
    uint64_t now_ns_ = 0;
    uint64_t sent_at_ns_ = 0;
    uint64_t timeout_us_ = 0;
    uint64_t deadline_ns_ = 0;
    PmtudStep last_step_{};  // returned again for calls that change nothing
};

}  // namespace knet::proto
