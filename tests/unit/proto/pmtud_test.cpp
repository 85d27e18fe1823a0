// PMTUd arithmetic and search, driven over a simulated path.
#include "proto/pmtud.h"
#include "proto/wire.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace knet::proto {
namespace {

constexpr uint64_t ms(uint64_t v) { return v * 1'000'000ULL; }

// openssl aes256 + sha256 as the reference configures it.
constexpr CryptoOverhead kAes256Sha256{true, 16, 32, 16};
// hash only (cipher "none", hash sha1)
constexpr CryptoOverhead kSha1Only{true, 0, 20, 0};
// a stream-like cipher (block size 1) with sha512
constexpr CryptoOverhead kBlock1Sha512{true, 1, 64, 16};

// ---------------------------------------------------------------- arithmetic

static_assert(kPmtudHeaderAllSize == kHeaderAllSize, "PMTUd and codec disagree on the header size");
static_assert(kPmtudHeaderAllSize == kPingPacketSize, "a ping is one full header");

TEST(PmtudMath, MinDataMtuMatchesReference) {
    // values reported by Debian's libknet 1.25 via knet_handle_pmtud_get
    EXPECT_EQ(min_data_mtu({}), 482u);
    EXPECT_EQ(min_data_mtu(kAes256Sha256), 421u);
}

TEST(PmtudMath, Overheads) {
    EXPECT_EQ(ip_overhead(IpFamily::V4), 20u);
    EXPECT_EQ(ip_overhead(IpFamily::V6), 40u);
    EXPECT_EQ(min_ip_mtu(IpFamily::V4), 576u);
    EXPECT_EQ(min_ip_mtu(IpFamily::V6), 1280u);
    EXPECT_EQ(link_proto_overhead(IpFamily::V4, kPmtudUdpOverhead, {}), 54u);
    EXPECT_EQ(link_proto_overhead(IpFamily::V6, kPmtudUdpOverhead, kAes256Sha256), 122u);
}

TEST(PmtudMath, LinkMtuForIpMtu) {
    EXPECT_EQ(link_mtu_for_ip_mtu(1500, IpFamily::V4, 8, {}), 1446u);
    EXPECT_EQ(link_mtu_for_ip_mtu(1500, IpFamily::V6, 8, {}), 1426u);
    EXPECT_EQ(link_mtu_for_ip_mtu(9000, IpFamily::V4, 8, {}), 8946u);
    EXPECT_EQ(link_mtu_for_ip_mtu(1280, IpFamily::V6, 8, {}), 1206u);
    EXPECT_EQ(link_mtu_for_ip_mtu(1499, IpFamily::V4, 8, {}), 1445u);
    // 1472 bytes for knet: 1472-48=1424 aligned -> 1423 (+1 byte of padding),
    // +48 -> 1471, minus 26 + 48 -> 1397
    EXPECT_EQ(link_mtu_for_ip_mtu(1500, IpFamily::V4, 8, kAes256Sha256), 1397u);
    EXPECT_EQ(link_mtu_for_ip_mtu(1500, IpFamily::V4, 8, kSha1Only), 1426u);
    EXPECT_FALSE(link_mtu_for_ip_mtu(40, IpFamily::V4, 8, {}));
    EXPECT_FALSE(link_mtu_for_ip_mtu(100, IpFamily::V4, 8, kAes256Sha256));
    EXPECT_FALSE(link_mtu_for_ip_mtu(20, IpFamily::V6, 8, {}));
}

TEST(PmtudMath, InitialLinkMtu) {
    EXPECT_EQ(initial_link_mtu(false, IpFamily::V4, 8, {}), 522u);
    EXPECT_EQ(initial_link_mtu(false, IpFamily::V6, 8, {}), 1206u);
    EXPECT_EQ(initial_link_mtu(true, IpFamily::V4, 8, {}), 482u);
    EXPECT_EQ(initial_link_mtu(true, IpFamily::V6, 8, kAes256Sha256), 421u);
}

TEST(PmtudMath, EncryptedLen) {
    EXPECT_EQ(encrypted_len({}, 100), 100u);
    EXPECT_EQ(encrypted_len(kSha1Only, 100), 120u);
    EXPECT_EQ(encrypted_len(kAes256Sha256, 100), 112u + 48u);
    EXPECT_EQ(encrypted_len(kAes256Sha256, 96), 112u + 48u);  // aligned: a whole block
}

TEST(PmtudMath, MaxDataLenAlwaysFits) {
    for (const CryptoOverhead& c : {CryptoOverhead{}, kAes256Sha256, kSha1Only, kBlock1Sha512,
                                    CryptoOverhead{true, 8, 16, 8}}) {
        for (uint32_t room = 0; room <= 10000; ++room) {
            std::optional<uint32_t> d = max_data_len(c, room);
            if (!d) {
                continue;
            }
            EXPECT_LE(encrypted_len(c, *d + kPmtudHeaderAllSize), room) << room;
            if (c.block_size == 0) {
                // without a cipher the fit is exact
                EXPECT_EQ(encrypted_len(c, *d + kPmtudHeaderAllSize), room);
            } else {
                // with one, at most one block is wasted
                EXPECT_GT(encrypted_len(c, *d + kPmtudHeaderAllSize) + c.block_size, room);
            }
        }
    }
}

TEST(PmtudMath, DataMtuFromLinks) {
    EXPECT_FALSE(data_mtu_from_links({}));
    std::vector<uint32_t> m{1446, 8946, 1397};
    EXPECT_EQ(data_mtu_from_links(m), 1397u);
    std::vector<uint32_t> big{70000};
    EXPECT_EQ(data_mtu_from_links(big), kPmtudSizeMax);
}

// ---------------------------------------------------------------- search

// A path: the local interface refuses datagrams above iface_mtu (EMSGSIZE,
// optionally telling its MTU), the network silently drops datagrams above
// path_mtu, the peer replies after `rtt`.
struct Path {
    uint32_t iface_mtu = 1500;
    uint32_t path_mtu = 0;  // 0: same as iface
    bool kernel_reports_mtu = true;
    uint64_t rtt = ms(1);
};

struct RunResult {
    PmtudStep last;
    int probes = 0;
    int timeouts = 0;
    int warnings = 0;
    uint64_t end = 0;
    std::vector<uint32_t> sizes;
};

RunResult drive(LinkPmtud& p, const PmtudParams& params, const Path& path, uint64_t start = 0) {
    RunResult r;
    uint64_t now = start;
    const uint32_t path_mtu = path.path_mtu ? path.path_mtu : path.iface_mtu;
    PmtudStep s = p.start(params, now);
    for (int guard = 0; guard < 1000; ++guard) {
        r.warnings += s.misconfig_warning ? 1 : 0;
        if (s.action == PmtudStep::Action::Done || s.action == PmtudStep::Action::Failed) {
            break;
        }
        if (s.action == PmtudStep::Action::SendProbe) {
            ++r.probes;
            r.sizes.push_back(s.onwire_len);
            EXPECT_LE(s.onwire_len, kPmtudSizeMax);
            EXPECT_EQ(s.onwire_len - ip_overhead(params.family) - params.transport_overhead,
                      encrypted_len(params.crypto, s.packet_len));
            if (s.onwire_len > path.iface_mtu) {
                s = p.on_send_result(ProbeSendResult::TooBig,
                                     path.kernel_reports_mtu ? path.iface_mtu : 0, now);
                continue;
            }
            const uint32_t size = s.onwire_len;
            s = p.on_send_result(ProbeSendResult::Sent, 0, now);
            EXPECT_EQ(s.action, PmtudStep::Action::Wait);
            if (size <= path_mtu && now + path.rtt < s.deadline_ns) {
                now += path.rtt;
                s = p.on_reply(size, now);
            } else {
                ++r.timeouts;
                // an early timer changes nothing
                PmtudStep same = p.on_timer(s.deadline_ns - 1);
                EXPECT_EQ(same.action, PmtudStep::Action::Wait);
                now = s.deadline_ns;
                s = p.on_timer(now);
            }
            continue;
        }
        ADD_FAILURE() << "unexpected Wait";
        break;
    }
    r.last = s;
    r.end = now;
    return r;
}

PmtudParams params_for(IpFamily f, const CryptoOverhead& c = {}) {
    PmtudParams p;
    p.family = f;
    p.transport_overhead = kPmtudUdpOverhead;
    p.crypto = c;
    p.last_ping_size = encrypted_len(c, kPmtudHeaderAllSize);  // a ping is 26 bytes
    p.pong_timeout_adj_us = 2'000'000;
    return p;
}

struct Case {
    IpFamily family;
    uint32_t iface;
    bool kernel_mtu;
    CryptoOverhead crypto;
};

class PmtudConverges : public ::testing::TestWithParam<Case> {};

TEST_P(PmtudConverges, ToLargestSizeThatFits) {
    const Case c = GetParam();
    LinkPmtud p;
    PmtudParams params = params_for(c.family, c.crypto);
    Path path;
    path.iface_mtu = c.iface;
    path.kernel_reports_mtu = c.kernel_mtu;
    RunResult r = drive(p, params, path);
    ASSERT_EQ(r.last.action, PmtudStep::Action::Done) << to_string(r.last.failure);
    const uint32_t best = *link_mtu_for_ip_mtu(c.iface, c.family, kPmtudUdpOverhead, c.crypto);
    if (c.crypto.block_size == 0) {
        EXPECT_EQ(r.last.link_mtu, best);
    } else {
        // with a cipher the search stops within one block of the best size
        EXPECT_LE(r.last.link_mtu, best);
        EXPECT_GE(r.last.link_mtu + c.crypto.block_size, best);
    }
    EXPECT_TRUE(r.last.valid);
    EXPECT_EQ(p.mtu(), r.last.link_mtu);
    EXPECT_TRUE(p.has_valid_mtu());
    EXPECT_FALSE(p.running());
    EXPECT_LE(r.probes, static_cast<int>(kPmtudMaxProbes));
    EXPECT_EQ(r.timeouts, 0);
    if (c.kernel_mtu) {
        EXPECT_LE(r.probes, 3);  // 65535, the kernel's MTU, (one more with crypto)
    }
}

INSTANTIATE_TEST_SUITE_P(
    Mtus, PmtudConverges,
    ::testing::Values(Case{IpFamily::V4, 1500, true, {}}, Case{IpFamily::V4, 1500, false, {}},
                      Case{IpFamily::V4, 9000, true, {}}, Case{IpFamily::V4, 9000, false, {}},
                      Case{IpFamily::V6, 1280, true, {}}, Case{IpFamily::V6, 1280, false, {}},
                      Case{IpFamily::V4, 1499, true, {}}, Case{IpFamily::V4, 1499, false, {}},
                      Case{IpFamily::V6, 1500, false, {}}, Case{IpFamily::V4, 576, false, {}},
                      Case{IpFamily::V4, 65535, false, {}},
                      Case{IpFamily::V4, 1500, true, kAes256Sha256},
                      Case{IpFamily::V4, 1500, false, kAes256Sha256},
                      Case{IpFamily::V4, 9000, false, kAes256Sha256},
                      Case{IpFamily::V6, 1280, false, kAes256Sha256},
                      Case{IpFamily::V4, 1499, false, kAes256Sha256},
                      Case{IpFamily::V6, 1499, true, kAes256Sha256},
                      Case{IpFamily::V4, 1500, false, kSha1Only},
                      Case{IpFamily::V4, 1499, false, kBlock1Sha512},
                      Case{IpFamily::V4, 65535, false, kAes256Sha256}));

TEST(Pmtud, KernelMtuSkipsTheBisection) {
    LinkPmtud p;
    Path path;
    RunResult r = drive(p, params_for(IpFamily::V4), path);
    EXPECT_EQ(r.sizes, (std::vector<uint32_t>{65535, 1500}));
    EXPECT_EQ(r.last.link_mtu, 1446u);
}

TEST(Pmtud, SilentDropBeyondPathMtuConvergesByTimeouts) {
    // interface 9000 but a 1500 hop in the middle that drops silently
    LinkPmtud p;
    Path path;
    path.iface_mtu = 9000;
    path.path_mtu = 1500;
    RunResult r = drive(p, params_for(IpFamily::V4), path);
    ASSERT_EQ(r.last.action, PmtudStep::Action::Done);
    EXPECT_EQ(r.last.link_mtu, 1446u);
    EXPECT_GT(r.timeouts, 0);
    EXPECT_EQ(r.warnings, 1);  // the misconfiguration warning is given once
    // each timeout waited pong_timeout_adj (2 s)
    EXPECT_GE(r.end, static_cast<uint64_t>(r.timeouts) * ms(2000));
}

TEST(Pmtud, CryptoTimeoutsGrowTheMultiplierThenFastRepliesShrinkIt) {
    LinkPmtud p;
    Path path;
    path.iface_mtu = 9000;
    path.path_mtu = 1500;
    PmtudParams params = params_for(IpFamily::V4, kAes256Sha256);
    EXPECT_EQ(p.crypto_timeout_multiplier(), kPmtudCryptoTimeoutMultiplierMin);
    PmtudStep s = p.start(params, 0);
    ASSERT_EQ(s.onwire_len, 65532u);  // 65535 rounded down to what the cipher produces
    s = p.on_send_result(ProbeSendResult::TooBig, 9000, 0);
    const uint32_t size = s.onwire_len;
    s = p.on_send_result(ProbeSendResult::Sent, 0, 0);
    ASSERT_EQ(s.action, PmtudStep::Action::Wait);
    EXPECT_EQ(s.deadline_ns, ms(2000) * 2);  // adj * multiplier
    s = p.on_timer(s.deadline_ns);
    // first timeout: same size again with twice the wait
    ASSERT_EQ(s.action, PmtudStep::Action::SendProbe);
    EXPECT_EQ(s.onwire_len, size);
    EXPECT_EQ(p.crypto_timeout_multiplier(), 4u);
    uint64_t now = ms(4000);
    s = p.on_send_result(ProbeSendResult::Sent, 0, now);
    EXPECT_EQ(s.deadline_ns, now + ms(2000) * 4);
    // a fast reply halves it again: but this size is beyond the path, reply
    // cannot come; instead fake the peer answering (a lossy moment)
    s = p.on_reply(size, now + ms(1));
    EXPECT_EQ(p.crypto_timeout_multiplier(), 2u);
    p.abort();
    // a whole run over a lossy path still converges
    RunResult r = drive(p, params, path, ms(100'000));
    ASSERT_EQ(r.last.action, PmtudStep::Action::Done) << to_string(r.last.failure);
    EXPECT_LE(r.last.link_mtu, 1397u);
    EXPECT_GE(r.last.link_mtu + 16, 1397u);
    EXPECT_LE(p.crypto_timeout_multiplier(), kPmtudCryptoTimeoutMultiplierMax);
}

TEST(Pmtud, MultiplierIsCappedAt128) {
    LinkPmtud p;
    PmtudParams params = params_for(IpFamily::V4, kAes256Sha256);
    params.pong_timeout_adj_us = 100'000;  // 128 * 100 ms stays below the 30 s cap
    PmtudStep s = p.start(params, 0);
    uint64_t now = 0;
    for (int i = 0; i < 40 && s.action == PmtudStep::Action::SendProbe; ++i) {
        s = p.on_send_result(ProbeSendResult::Sent, 0, now);
        now = s.deadline_ns;
        s = p.on_timer(now);
    }
    EXPECT_EQ(p.crypto_timeout_multiplier(), kPmtudCryptoTimeoutMultiplierMax);
    // nothing ever answers: the run gives up after 30 probes
    EXPECT_EQ(s.action, PmtudStep::Action::Failed);
    EXPECT_EQ(s.failure, PmtudFailure::TooManyProbes);
    EXPECT_EQ(p.probes_sent(), kPmtudMaxProbes);
    EXPECT_FALSE(p.has_valid_mtu());
}

TEST(Pmtud, CryptoReplyWaitIsCappedAt30Seconds) {
    LinkPmtud p;
    PmtudParams params = params_for(IpFamily::V4, kAes256Sha256);  // adj 2 s
    PmtudStep s = p.start(params, 0);
    s = p.on_send_result(ProbeSendResult::TooBig, 9000, 0);
    const uint32_t size = s.onwire_len;
    std::vector<uint64_t> waits;
    uint64_t now = 0;
    while (s.action == PmtudStep::Action::SendProbe && s.onwire_len == size) {
        s = p.on_send_result(ProbeSendResult::Sent, 0, now);
        waits.push_back(s.deadline_ns - now);
        now = s.deadline_ns;
        s = p.on_timer(now);
    }
    // 2 s * 2, * 4, * 8, then capped at 30 s: one more try, then bisection
    EXPECT_EQ(waits, (std::vector<uint64_t>{ms(4000), ms(8000), ms(16000), ms(30000)}));
    EXPECT_EQ(s.action, PmtudStep::Action::SendProbe);
    EXPECT_LT(s.onwire_len, size);
    EXPECT_EQ(p.crypto_timeout_multiplier(), 16u);
}

TEST(Pmtud, NoCryptoWaitsPongTimeoutAdj) {
    LinkPmtud p;
    PmtudParams params = params_for(IpFamily::V4);
    params.pong_timeout_adj_us = 2'000'400;
    PmtudStep s = p.start(params, ms(7));
    s = p.on_send_result(ProbeSendResult::Sent, 0, ms(7));
    EXPECT_EQ(s.deadline_ns, ms(7) + 2'000'400'000ULL);
    EXPECT_EQ(p.crypto_timeout_multiplier(), kPmtudCryptoTimeoutMultiplierMin);
}

TEST(Pmtud, StaleReplyIsIgnored) {
    LinkPmtud p;
    PmtudStep s = p.start(params_for(IpFamily::V4), 0);
    s = p.on_send_result(ProbeSendResult::TooBig, 0, 0);  // 65535 refused, no hint
    const uint32_t size = s.onwire_len;
    s = p.on_send_result(ProbeSendResult::Sent, 0, 0);
    PmtudStep again = p.on_reply(size + 7, ms(1));  // reply to something else
    EXPECT_EQ(again.action, PmtudStep::Action::Wait);
    EXPECT_EQ(again.deadline_ns, s.deadline_ns);
    EXPECT_TRUE(p.waiting_reply());
    // a duplicate send result while waiting changes nothing
    EXPECT_EQ(p.on_send_result(ProbeSendResult::HardError, 0, ms(1)).action,
              PmtudStep::Action::Wait);
    s = p.on_reply(size, ms(2));
    EXPECT_EQ(s.action, PmtudStep::Action::SendProbe);
    EXPECT_GT(s.onwire_len, size);
}

TEST(Pmtud, ReplyWhenIdleIsIgnored) {
    LinkPmtud p;
    p.reset(482, true);
    PmtudStep s = p.on_reply(1500, ms(1));
    EXPECT_NE(s.action, PmtudStep::Action::Done);
    EXPECT_EQ(p.mtu(), 482u);
    EXPECT_TRUE(p.has_valid_mtu());
}

TEST(Pmtud, HardSendErrorFailsTheRun) {
    LinkPmtud p;
    p.reset(522, true);
    PmtudStep s = p.start(params_for(IpFamily::V4), 0);
    ASSERT_EQ(s.action, PmtudStep::Action::SendProbe);
    s = p.on_send_result(ProbeSendResult::HardError, 0, 0);
    EXPECT_EQ(s.action, PmtudStep::Action::Failed);
    EXPECT_EQ(s.failure, PmtudFailure::SendError);
    EXPECT_FALSE(p.has_valid_mtu());
    EXPECT_EQ(p.mtu(), 522u);  // unchanged
    EXPECT_FALSE(p.running());
}

TEST(Pmtud, ResultBelowMinimumIsNotValid) {
    LinkPmtud p;
    Path path;
    path.iface_mtu = 500;  // 500 - 28 - 26 = 446 < 482
    RunResult r = drive(p, params_for(IpFamily::V4), path);
    ASSERT_EQ(r.last.action, PmtudStep::Action::Done);
    EXPECT_EQ(r.last.link_mtu, 446u);
    EXPECT_FALSE(r.last.valid);
    EXPECT_FALSE(p.has_valid_mtu());
}

TEST(Pmtud, KernelMtuTooSmallForHeadersFails) {
    LinkPmtud p;
    PmtudStep s = p.start(params_for(IpFamily::V4, kAes256Sha256), 0);
    s = p.on_send_result(ProbeSendResult::TooBig, 60, 0);
    EXPECT_EQ(s.action, PmtudStep::Action::Failed);
    EXPECT_EQ(s.failure, PmtudFailure::NoRoom);
}

TEST(Pmtud, BogusKernelMtuIsNotTrusted) {
    // EPERM (firewall) on a size below the reported MTU: fall back to bisection
    LinkPmtud p;
    PmtudStep s = p.start(params_for(IpFamily::V4), 0);
    s = p.on_send_result(ProbeSendResult::TooBig, 1500, 0);
    ASSERT_EQ(s.onwire_len, 1500u);
    s = p.on_send_result(ProbeSendResult::TooBig, 1500, 0);
    EXPECT_EQ(s.action, PmtudStep::Action::SendProbe);
    EXPECT_LT(s.onwire_len, 1500u);
}

TEST(Pmtud, AbortKeepsPreviousMtu) {
    LinkPmtud p;
    p.reset(1446, true);
    PmtudStep s = p.start(params_for(IpFamily::V4), 0);
    s = p.on_send_result(ProbeSendResult::TooBig, 1400, 0);
    p.abort();
    EXPECT_FALSE(p.running());
    EXPECT_EQ(p.mtu(), 1446u);
    EXPECT_TRUE(p.has_valid_mtu());
    EXPECT_EQ(p.on_reply(s.onwire_len, 1).failure, PmtudFailure::Aborted);
}

TEST(Pmtud, Scheduling) {
    LinkPmtud p;
    p.reset(482, true);
    EXPECT_TRUE(p.due(0, kPmtudDefaultIntervalS, false));  // never ran
    Path path;
    RunResult r = drive(p, params_for(IpFamily::V4), path, ms(10));
    ASSERT_EQ(r.last.action, PmtudStep::Action::Done);
    EXPECT_EQ(p.last_run_ns(), r.end);
    EXPECT_FALSE(p.due(r.end + ms(59'999), 60, false));
    EXPECT_TRUE(p.due(r.end + ms(60'000), 60, false));
    EXPECT_TRUE(p.due(r.end + ms(1), 60, true));  // forced
    // link went down: run again as soon as it is up
    p.on_link_down();
    EXPECT_TRUE(p.due(r.end + ms(1), 60, false));
    // while running it is never due
    p.start(params_for(IpFamily::V4), r.end);
    EXPECT_FALSE(p.due(r.end + ms(100'000), 60, true));
}

TEST(Pmtud, FailedRunRetriesAfterOneSecondNotBefore) {
    LinkPmtud p;
    p.reset(482, true);
    p.start(params_for(IpFamily::V4), ms(5));
    p.on_send_result(ProbeSendResult::HardError, 0, ms(5));  // ENETUNREACH
    EXPECT_FALSE(p.due(ms(500), 60, false));
    EXPECT_TRUE(p.due(ms(500), 60, true));
    EXPECT_TRUE(p.due(ms(1005), 60, false));
}

// next_due_ns() is the first time due() turns true, so a runner that sleeps
// until then misses nothing.
TEST(Pmtud, NextDueIsWhenDueTurnsTrue) {
    LinkPmtud p;
    p.reset(482, true);
    EXPECT_EQ(p.next_due_ns(60), 0u);  // never ran: at once

    Path path;
    RunResult r = drive(p, params_for(IpFamily::V4), path, ms(10));
    ASSERT_EQ(r.last.action, PmtudStep::Action::Done);
    const uint64_t at = p.next_due_ns(60);
    EXPECT_EQ(at, r.end + ms(60'000));
    EXPECT_FALSE(p.due(at - 1, 60, false));
    EXPECT_TRUE(p.due(at, 60, false));
    EXPECT_EQ(p.next_due_ns(5), r.end + ms(5'000));  // follows the interval

    p.on_link_down();
    EXPECT_EQ(p.next_due_ns(60), 0u);

    p.start(params_for(IpFamily::V4), r.end);
    EXPECT_EQ(p.next_due_ns(60), std::numeric_limits<uint64_t>::max());  // running

    // A failed run: one second later, not before.
    LinkPmtud f;
    f.reset(482, true);
    f.start(params_for(IpFamily::V4), ms(5));
    f.on_send_result(ProbeSendResult::HardError, 0, ms(5));
    const uint64_t retry = f.next_due_ns(60);
    EXPECT_FALSE(f.due(retry - 1, 60, false));
    EXPECT_TRUE(f.due(retry, 60, false));
}

TEST(Pmtud, ManualMtu) {
    LinkPmtud p;
    p.reset(522, true);
    EXPECT_TRUE(p.apply_manual_mtu(1500, params_for(IpFamily::V4)));
    EXPECT_EQ(p.mtu(), 1446u);
    EXPECT_TRUE(p.apply_manual_mtu(9000, params_for(IpFamily::V6)));
    EXPECT_EQ(p.mtu(), 8926u);
    EXPECT_TRUE(p.apply_manual_mtu(1500, params_for(IpFamily::V4, kAes256Sha256)));
    EXPECT_EQ(p.mtu(), 1397u);
    EXPECT_FALSE(p.apply_manual_mtu(40, params_for(IpFamily::V4)));
    EXPECT_EQ(p.mtu(), 1397u);
    EXPECT_TRUE(p.has_valid_mtu());
}

TEST(Pmtud, StartsFromPingSizeAsLowerBound) {
    // every probe refused without a hint: bisection toward the ping size
    LinkPmtud p;
    PmtudParams params = params_for(IpFamily::V4);
    PmtudStep s = p.start(params, 0);
    std::vector<uint32_t> sizes;
    while (s.action == PmtudStep::Action::SendProbe) {
        sizes.push_back(s.onwire_len);
        s = p.on_send_result(ProbeSendResult::TooBig, 0, 0);
    }
    ASSERT_GE(sizes.size(), 2u);
    EXPECT_EQ(sizes[1], (65535u + 54u) / 2);
    EXPECT_GE(sizes.back(), 54u);
    EXPECT_EQ(s.action, PmtudStep::Action::Failed);
}

TEST(Pmtud, FailureNames) {
    EXPECT_STREQ(to_string(PmtudFailure::SendError), "unable to send probe");
}

}  // namespace
}  // namespace knet::proto
