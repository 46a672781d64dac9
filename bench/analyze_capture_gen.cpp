// imsflow-analyze-capture: writes a capture of seed calls that start at a
// steady rate and end over time, for `imsflow analyze` on files far larger
// than memory (BENCHMARKS.md: 10 million messages in bounded memory).
//
//   imsflow-analyze-capture OUT.pcap [MESSAGES] [CALLS_PER_SECOND] [HOLD_SECONDS]
//
// Defaults: 10,000,000 messages, 200 calls/s, 10 s hold. Every 100 calls:
// 90 established (9 messages, BYE after the hold), 5 busy (486) and 5
// cancelled after ringing for the hold (487), each caller its own address.
// Messages of overlapping calls are interleaved in time order, so about
// rate × hold calls are open at any moment. Prints the calls per outcome it
// wrote, which `imsflow analyze` must find.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <string>
#include <vector>

#include "net/pcap_writer.hpp"
#include "seed_calls.hpp"

namespace {

using namespace imsflow;

struct Pending {
  std::int64_t at_ns;
  std::uint64_t order;  // ties keep the order the calls sent them
  sip::Endpoint src, dst;
  std::string text;
};
struct Later {
  bool operator()(const Pending& a, const Pending& b) const {
    return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.order > b.order;
  }
};

bench::SeedCallKind kind_of(std::uint64_t n) {
  const std::uint64_t r = n % 100;
  if (r < 90) return bench::SeedCallKind::Established;
  return r < 95 ? bench::SeedCallKind::Busy : bench::SeedCallKind::Cancelled;
}

// 10.x.y.z: each call its own caller address.
std::string caller_of(std::uint64_t n) {
  const std::uint64_t h = n % (250ull * 250 * 250);
  return "10." + std::to_string(1 + h / 62500) + "." + std::to_string(h / 250 % 250) + "." + std::to_string(1 + h % 250);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.pcap [MESSAGES] [CALLS_PER_SECOND] [HOLD_SECONDS]\n", argv[0]);
    return 2;
  }
  const std::uint64_t target = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000'000;
  const double rate = argc > 3 ? std::strtod(argv[3], nullptr) : 200.0;
  const std::int64_t hold_ms = argc > 4 ? static_cast<std::int64_t>(std::strtod(argv[4], nullptr) * 1000) : 10'000;
  if (target == 0 || rate <= 0 || hold_ms < 100) {
    std::fprintf(stderr, "MESSAGES and CALLS_PER_SECOND must be positive, HOLD_SECONDS at least 0.1\n");
    return 2;
  }
  net::PcapWriter w;
  if (auto r = w.open(argv[1]); !r) {
    std::fprintf(stderr, "%s\n", r.error().describe().c_str());
    return 2;
  }
  const auto callee = *sip::Endpoint::parse("10.0.0.2:5060");
  const std::int64_t base = 1'767'225'600'000'000'000LL;  // 2026-01-01
  const auto spacing_ns = static_cast<std::int64_t>(1e9 / rate);
  std::priority_queue<Pending, std::vector<Pending>, Later> queue;
  std::uint64_t planned = 0, calls = 0, order = 0, written = 0;
  std::uint64_t per_kind[3] = {};
  while (planned < target || !queue.empty()) {
    const std::int64_t next_start = base + static_cast<std::int64_t>(calls) * spacing_ns;
    if (planned < target && (queue.empty() || next_start <= queue.top().at_ns)) {
      const bench::SeedCallKind kind = kind_of(calls);
      const std::string caller = caller_of(calls);
      const auto caller_ep = *sip::Endpoint::parse(caller + ":5060");
      for (bench::SeedMessage& m : bench::seed_call(calls, kind, caller, "10.0.0.2", hold_ms)) {
        queue.push({next_start + m.at_ms * 1'000'000, order++, m.from_caller ? caller_ep : callee,
                    m.from_caller ? callee : caller_ep, std::move(m.text)});
        ++planned;
      }
      ++per_kind[static_cast<int>(kind)];
      ++calls;
      continue;
    }
    const Pending& p = queue.top();
    if (auto r = w.write(p.src, p.dst, p.text, std::chrono::nanoseconds(p.at_ns)); !r) {
      std::fprintf(stderr, "%s\n", r.error().describe().c_str());
      return 1;
    }
    ++written;
    queue.pop();
  }
  if (auto r = w.close(); !r) {
    std::fprintf(stderr, "%s\n", r.error().describe().c_str());
    return 1;
  }
  std::printf("%s: %llu messages, %llu calls: established %llu, failed (486) %llu, cancelled %llu\n", argv[1],
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(calls),
              static_cast<unsigned long long>(per_kind[0]), static_cast<unsigned long long>(per_kind[1]),
              static_cast<unsigned long long>(per_kind[2]));
  return 0;
}
