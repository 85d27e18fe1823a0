#include "proto/pmtud.h"

#include <algorithm>
#include <limits>

namespace knet::proto {

namespace {
constexpr uint64_t kNsPerUs = 1000;
constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();

uint64_t sat_add(uint64_t a, uint64_t b) {
    return (a > kMax64 - b) ? kMax64 : a + b;
}

uint64_t sat_mul(uint64_t a, uint64_t b) {
    if (a != 0 && b > kMax64 / a) {
        return kMax64;
    }
    return a * b;
}
}  // namespace

uint32_t ip_overhead(IpFamily family) {
    return static_cast<uint32_t>(family == IpFamily::V6 ? kPmtudOverheadV6 : kPmtudOverheadV4);
}

uint32_t min_ip_mtu(IpFamily family) {
    return static_cast<uint32_t>(family == IpFamily::V6 ? kPmtudMinMtuV6 : kPmtudMinMtuV4);
}

uint32_t encrypted_len(const CryptoOverhead& crypto, uint32_t inlen) {
    uint64_t out = inlen;
    if (crypto.block_size != 0) {
        // The cipher always pads, by a whole block when already aligned.
        out += crypto.block_size - (out % crypto.block_size);
    }
    out += static_cast<uint64_t>(crypto.salt_size) + crypto.hash_size;
    return out > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                       : static_cast<uint32_t>(out);
}

std::optional<uint32_t> max_data_len(const CryptoOverhead& crypto, uint32_t inlen) {
    const uint64_t salt_hash = static_cast<uint64_t>(crypto.salt_size) + crypto.hash_size;
    uint64_t out = inlen;
    if (crypto.block_size != 0) {
        // Remove salt and hash, then make room for the cipher's padding (at
        // least one byte, so that aligned input does not grow by a block),
        // then put salt and hash back.
        if (out < salt_hash) {
            return std::nullopt;
        }
        out -= salt_hash;
        const uint64_t pad = out % crypto.block_size;
        if (out < pad + 1) {
            return std::nullopt;
        }
        out -= pad + 1;
        out += salt_hash;
    }
    const uint64_t headers = kPmtudHeaderAllSize + salt_hash;
    if (out < headers) {
        return std::nullopt;
    }
    return static_cast<uint32_t>(out - headers);
}

uint32_t min_data_mtu(const CryptoOverhead& crypto) {
    constexpr uint32_t room =
        static_cast<uint32_t>(kPmtudMinMtuV4 - kPmtudOverheadV6) - kPmtudSctpOverhead;
    return max_data_len(crypto, room).value_or(0);
}

std::optional<uint32_t> link_mtu_for_ip_mtu(uint32_t ip_mtu, IpFamily family,
                                            uint32_t transport_overhead,
                                            const CryptoOverhead& crypto) {
    const uint64_t ipproto = static_cast<uint64_t>(ip_overhead(family)) + transport_overhead;
    if (ip_mtu < ipproto) {
        return std::nullopt;
    }
    return max_data_len(crypto, static_cast<uint32_t>(ip_mtu - ipproto));
}

uint32_t initial_link_mtu(bool dynamic, IpFamily family, uint32_t transport_overhead,
                          const CryptoOverhead& crypto) {
    if (dynamic) {
        return min_data_mtu(crypto);
    }
    return link_mtu_for_ip_mtu(min_ip_mtu(family), family, transport_overhead, crypto).value_or(0);
}

uint32_t link_proto_overhead(IpFamily family, uint32_t transport_overhead,
                             const CryptoOverhead& crypto) {
    return ip_overhead(family) + transport_overhead + kPmtudHeaderAllSize + crypto.hash_size +
           crypto.salt_size;
}

std::optional<uint32_t> data_mtu_from_links(std::span<const uint32_t> link_mtus) {
    if (link_mtus.empty()) {
        return std::nullopt;
    }
    uint32_t lowest = kPmtudSizeMax;
    for (uint32_t m : link_mtus) {
        lowest = std::min(lowest, m);
    }
    return lowest;
}

const char* to_string(PmtudFailure f) {
    switch (f) {
    case PmtudFailure::None:
        return "none";
    case PmtudFailure::TooManyProbes:
        return "too many probes (MTU changed during discovery?)";
    case PmtudFailure::SendError:
        return "unable to send probe";
    case PmtudFailure::NoRoom:
        return "MTU too small for knet and crypto headers";
    case PmtudFailure::Aborted:
        return "aborted";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------

namespace {
// After a failed run, do not start another one sooner than this (unless
// forced): a link whose sends fail (interface down) must not spin.
constexpr uint64_t kRetryAfterFailureNs = 1'000'000'000ULL;
}  // namespace

void LinkPmtud::reset(uint32_t initial_mtu, bool valid) {
    *this = LinkPmtud{};
    mtu_ = initial_mtu;
    valid_ = valid;
}

bool LinkPmtud::due(uint64_t now_ns, uint32_t interval_s, bool force) const {
    if (running_) {
        return false;
    }
    if (force) {
        return true;
    }
    if (has_failure_ && now_ns >= last_failure_ns_ &&
        now_ns - last_failure_ns_ < kRetryAfterFailureNs) {
        return false;
    }
    if (!has_last_run_) {
        return true;
    }
    if (now_ns < last_run_ns_) {
        return false;
    }
    return now_ns - last_run_ns_ >= sat_mul(interval_s, 1'000'000'000ULL);
}

uint64_t LinkPmtud::next_due_ns(uint32_t interval_s) const {
    if (running_) {
        return std::numeric_limits<uint64_t>::max();
    }
    uint64_t at = 0;
    if (has_failure_) {
        at = sat_add(last_failure_ns_, kRetryAfterFailureNs);
    }
    if (has_last_run_) {
        at = std::max(at, sat_add(last_run_ns_, sat_mul(interval_s, 1'000'000'000ULL)));
    }
    return at;
}

uint64_t LinkPmtud::reply_wait_us(uint32_t mult) const {
    const uint64_t base = params_.pong_timeout_adj_us;
    if (!params_.crypto.in_use) {
        return base;
    }
    // Crypto under load answers slowly: wait longer, but never more than
    // kPmtudMaxCryptoReplyWaitUs (unless the timeout itself is longer).
    return std::max(base, std::min(sat_mul(base, mult), kPmtudMaxCryptoReplyWaitUs));
}

uint32_t LinkPmtud::ipproto() const {
    return ip_overhead(params_.family) + params_.transport_overhead;
}

PmtudStep LinkPmtud::start(const PmtudParams& params, uint64_t now_ns) {
    params_ = params;
    running_ = true;
    waiting_ = false;
    warned_ = false;
    crypto_reduce_ = false;
    probes_ = 0;
    now_ns_ = now_ns;
    last_bad_ = 0;
    last_good_ = params.last_ping_size + ipproto();
    onwire_ = kPmtudSizeMax;
    return prepare_probe(false);
}

PmtudStep LinkPmtud::prepare_probe(bool warn) {
    if (probes_ >= kPmtudMaxProbes) {
        return finish(false, PmtudFailure::TooManyProbes, warn);
    }
    ++probes_;
    const uint32_t overhead = ipproto();
    std::optional<uint32_t> app =
        onwire_ >= overhead ? max_data_len(params_.crypto, onwire_ - overhead) : std::nullopt;
    if (!app) {
        return finish(false, PmtudFailure::NoRoom, warn);
    }
    // The size actually probed: what the crypto layer produces for the
    // largest payload that fits (may be below the bisection midpoint).
    const uint32_t plain = *app + kPmtudHeaderAllSize;
    onwire_ = encrypted_len(params_.crypto, plain) + overhead;

    PmtudStep step;
    step.action = PmtudStep::Action::SendProbe;
    step.onwire_len = onwire_;
    step.packet_len = plain;
    step.misconfig_warning = warn;
    last_step_ = step;
    last_step_.misconfig_warning = false;
    return step;
}

PmtudStep LinkPmtud::bisect(bool warn) {
    // last_bad_ is 0 only before any failure: treat it as "above the maximum".
    const uint64_t bad = last_bad_ != 0 ? last_bad_ : uint64_t{kPmtudSizeMax} + 1;
    onwire_ = static_cast<uint32_t>((uint64_t{last_good_} + bad) / 2);
    return prepare_probe(warn);
}

PmtudStep LinkPmtud::finish(bool ok, PmtudFailure why, bool warn) {
    running_ = false;
    waiting_ = false;
    PmtudStep step;
    step.misconfig_warning = warn;
    if (ok) {
        std::optional<uint32_t> mtu =
            onwire_ >= ipproto() ? max_data_len(params_.crypto, onwire_ - ipproto()) : std::nullopt;
        mtu_ = mtu.value_or(0);
        valid_ = mtu.has_value() && mtu_ >= min_data_mtu(params_.crypto);
        step.action = PmtudStep::Action::Done;
        step.link_mtu = mtu_;
        step.valid = valid_;
        if (valid_) {
            has_last_run_ = true;
            last_run_ns_ = now_ns_;
            has_failure_ = false;
        } else {
            has_failure_ = true;
            last_failure_ns_ = now_ns_;
        }
    } else {
        valid_ = false;
        has_failure_ = true;
        last_failure_ns_ = now_ns_;
        step.action = PmtudStep::Action::Failed;
        step.failure = why;
    }
    last_step_ = step;
    last_step_.misconfig_warning = false;
    return step;
}

PmtudStep LinkPmtud::on_send_result(ProbeSendResult result, uint32_t kernel_mtu, uint64_t now_ns) {
    if (!running_ || waiting_) {
        return last_step_;
    }
    now_ns_ = now_ns;
    switch (result) {
    case ProbeSendResult::Sent: {
        waiting_ = true;
        sent_at_ns_ = now_ns;
        timeout_us_ = reply_wait_us(crypto_mult_);
        deadline_ns_ = sat_add(now_ns, sat_mul(timeout_us_, kNsPerUs));
        crypto_reduce_ = true;
        PmtudStep step;
        step.action = PmtudStep::Action::Wait;
        step.deadline_ns = deadline_ns_;
        last_step_ = step;
        return step;
    }
    case ProbeSendResult::TooBig:
        // Trust the kernel's MTU only when it is below what it just refused.
        if (kernel_mtu != 0 && kernel_mtu < onwire_) {
            last_bad_ = kernel_mtu + 1;
            onwire_ = kernel_mtu;
            return prepare_probe(false);
        }
        last_bad_ = onwire_;
        return bisect(false);
    case ProbeSendResult::HardError:
        break;
    }
    return finish(false, PmtudFailure::SendError, false);
}

PmtudStep LinkPmtud::on_reply(uint32_t echoed_onwire_len, uint64_t now_ns) {
    if (!running_ || !waiting_ || echoed_onwire_len != onwire_) {
        return last_step_;  // stale or unexpected reply: keep waiting
    }
    waiting_ = false;
    now_ns_ = now_ns;

    const CryptoOverhead& crypto = params_.crypto;
    if (crypto.in_use && crypto_reduce_ && crypto_mult_ > kPmtudCryptoTimeoutMultiplierMin &&
        now_ns >= sent_at_ns_ && now_ns - sent_at_ns_ < sat_mul(timeout_us_, kNsPerUs) / 2) {
        crypto_mult_ /= 2;
    }

    bool found;
    if (crypto.block_size != 0) {
        const uint64_t reach = uint64_t{onwire_} + crypto.block_size;
        found = reach >= kPmtudSizeMax || (last_bad_ != 0 && last_bad_ <= reach);
    } else {
        found = onwire_ == kPmtudSizeMax || (last_bad_ != 0 && last_bad_ == onwire_ + 1) ||
                last_bad_ == last_good_;
    }
    if (found) {
        return finish(true, PmtudFailure::None, false);
    }
    last_good_ = onwire_;
    return bisect(false);
}

PmtudStep LinkPmtud::on_timer(uint64_t now_ns) {
    if (!running_ || !waiting_ || now_ns < deadline_ns_) {
        return last_step_;
    }
    waiting_ = false;
    now_ns_ = now_ns;
    if (params_.crypto.in_use && crypto_mult_ < kPmtudCryptoTimeoutMultiplierMax &&
        reply_wait_us(crypto_mult_ * 2) > reply_wait_us(crypto_mult_)) {
        // Crypto under load answers slowly: give the same size more time
        // (only while that actually means a longer wait).
        crypto_mult_ *= 2;
        crypto_reduce_ = false;
        return prepare_probe(false);
    }
    const bool warn = !warned_;
    warned_ = true;
    last_bad_ = onwire_;
    return bisect(warn);
}

void LinkPmtud::abort() {
    running_ = false;
    waiting_ = false;
    PmtudStep step;
    step.action = PmtudStep::Action::Failed;
    step.failure = PmtudFailure::Aborted;
    last_step_ = step;
}

bool LinkPmtud::apply_manual_mtu(uint32_t iface_mtu, const PmtudParams& params) {
    std::optional<uint32_t> mtu =
        link_mtu_for_ip_mtu(iface_mtu, params.family, params.transport_overhead, params.crypto);
    if (!mtu) {
        return false;
    }
    mtu_ = *mtu;
    return true;
}

}  // namespace knet::proto
