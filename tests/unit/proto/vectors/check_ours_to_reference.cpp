// Manual interop check (not part of the build): packets built by our codec and
// Fragmenter are accepted by the reference libknet 1.25.  The reference is host
// 1 (UDP 127.0.0.1:50711); this program is host 2 on 50712: it answers PINGs
// and PMTUD probes with our encoders, then sends DATA "abc" (seq 1) twice and a
// 3000-byte datagram (seq 2) in 3 fragments, last fragment first.  Passes if
// the reference delivers "abc" once and the 3000 bytes intact (exit 0).
//   cmake --build <build> --target knet_proto
//   g++ -std=c++20 -O1 -I src -o /tmp/check tests/unit/proto/vectors/check_ours_to_reference.cpp \
//       <build>/src/proto/libknet_proto.a -l:libknet.so.1 -lpthread && /tmp/check
// Result against Debian libknet1 1.25-1: "small=1 big=1 dup=0", exit 0.
#include <arpa/inet.h>
extern "C" {
#include <libknet.h>
}
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>
#include "proto/wire.h"
#include "proto/fragment.h"
using namespace knet::proto;
static int log_pipe[2];
static void* drain(void*) { knet_log_msg m; while (read(log_pipe[0], &m, sizeof m) == (ssize_t)sizeof m) { if (getenv("V")) fprintf(stderr, "knet: %s\n", m.msg); } return nullptr; }
static void notify(void*, int, int8_t, uint8_t, int, int) {}
static double now() { timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main() {
  pipe(log_pipe); pthread_t th; pthread_create(&th, nullptr, drain, nullptr);
  knet_handle_t h = knet_handle_new(1, log_pipe[1], KNET_LOG_DEBUG);
  knet_handle_enable_sock_notify(h, nullptr, notify);
  int datafd = 0; int8_t ch = -1; knet_handle_add_datafd(h, &datafd, &ch);
  knet_host_add(h, 2);
  sockaddr_storage src, dst; knet_strtoaddr("127.0.0.1", "50711", &src, sizeof src); knet_strtoaddr("127.0.0.1", "50712", &dst, sizeof dst);
  int s = socket(AF_INET, SOCK_DGRAM, 0); sockaddr_in me{}; me.sin_family = AF_INET; me.sin_port = htons(50712); me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (sockaddr*)&me, sizeof me)) { perror("bind"); return 1; }
  knet_link_set_config(h, 2, 0, KNET_TRANSPORT_UDP, &src, &dst, 0);
  knet_link_set_ping_timers(h, 2, 0, 200, 1000, 2048); knet_link_set_pong_count(h, 2, 0, 1);
  knet_link_set_enable(h, 2, 0, 1); knet_handle_setfwd(h, 1);
  sockaddr_in ref{}; ref.sin_family = AF_INET; ref.sin_port = htons(50711); ref.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  static uint8_t buf[70000], out[70000];
  double t0 = now(); int phase = 0; std::vector<uint8_t> big(3000); for (size_t i = 0; i < big.size(); i++) big[i] = uint8_t(i * 5 + 1);
  int got = 0; bool ok_small = false, ok_big = false, dup_seen = false;
  while (now() - t0 < 20) {
    pollfd p[2] = {{s, POLLIN, 0}, {datafd, POLLIN, 0}};
    if (poll(p, 2, 50) > 0) {
      if (p[0].revents & POLLIN) {
        ssize_t n = recv(s, buf, sizeof buf, 0);
        auto r = decode(std::span<const uint8_t>(buf, n > 0 ? n : 0));
        if (r.ok() && r.packet.header.type == PacketType::Ping) {
          size_t m = encode_ping(out, PacketType::Pong, 2, r.packet.ping); sendto(s, out, m, 0, (sockaddr*)&ref, sizeof ref);
        } else if (r.ok() && r.packet.header.type == PacketType::Pmtud) {
          size_t m = encode_pmtud(out, PacketType::PmtudReply, 2, r.packet.pmtud); sendto(s, out, m, 0, (sockaddr*)&ref, sizeof ref);
        }
      }
      if (p[1].revents & POLLIN) {
        ssize_t n = read(datafd, buf, sizeof buf); got++;
        if (n == 3 && memcmp(buf, "abc", 3) == 0) { if (ok_small) dup_seen = true; ok_small = true; }
        if (n == 3000 && memcmp(buf, big.data(), 3000) == 0) ok_big = true;
        fprintf(stderr, "delivered %zd bytes\n", n);
      }
    }
    knet_host_status hs{};
    if (phase == 0 && knet_host_get_status(h, 2, &hs) == 0 && hs.reachable) {
      DataHeader d; d.seq = 1; d.bcast = 1; d.frag_num = 1; d.channel = ch;
      const uint8_t abc[] = {'a','b','c'};
      size_t m = encode_data(out, 2, d, abc); sendto(s, out, m, 0, (sockaddr*)&ref, sizeof ref);
      sendto(s, out, m, 0, (sockaddr*)&ref, sizeof ref);  // duplicate: must be dropped
      DataHeader b; b.seq = 2; b.bcast = 1; b.channel = ch;
      auto f = Fragmenter::make(b, big, 1000).value();
      for (int i = f.count() - 1; i >= 0; --i) {  // last first
        auto x = f[uint8_t(i)]; size_t k = encode_data(out, 2, x.header, x.payload); sendto(s, out, k, 0, (sockaddr*)&ref, sizeof ref);
      }
      phase = 1; t0 = now() - 18;  // 2 more seconds
    }
  }
  printf("small=%d big=%d dup=%d delivered=%d\n", ok_small, ok_big, dup_seen, got);
  knet_handle_setfwd(h, 0); knet_link_set_enable(h, 2, 0, 0); knet_link_clear_config(h, 2, 0); knet_host_remove(h, 2);
  knet_handle_remove_datafd(h, datafd); knet_handle_free(h);
  return (ok_small && ok_big && !dup_seen) ? 0 : 1;
}
