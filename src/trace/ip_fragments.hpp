// IP fragment reassembly for IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5),
// for a capture reader: fragments may arrive in any order, repeated or
// overlapping; the first bytes seen at an offset win (a later fragment that
// contradicts them is counted as an overlap). Memory is bounded: at most
// `max_sets` sets and `max_bytes` buffered bytes, and a set that has not
// completed `timeout` after its first fragment (capture time) is dropped.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace/sip_packet.hpp"

namespace imsflow::trace {

struct FragmentLimits {
  std::size_t max_sets = 1024;
  std::size_t max_bytes = 16u << 20;
  std::int64_t timeout_ns = 30'000'000'000;  // RFC 8200 §4.5 uses 60 s; captures rarely need that much
};

/// Identifies one fragmented datagram: RFC 791 (source, destination,
/// protocol, identification); RFC 8200 (source, destination, identification).
/// `context` separates the same addresses seen in different tunnels.
struct FragmentKey {
  std::uint64_t context = 0;
  bool v6 = false;
  std::array<std::uint8_t, 16> source{};
  std::array<std::uint8_t, 16> destination{};
  std::uint32_t id = 0;
  std::uint8_t protocol = 0;  // IPv4 only; 0 for IPv6
  friend auto operator<=>(const FragmentKey&, const FragmentKey&) = default;
};

class FragmentReassembler {
 public:
  explicit FragmentReassembler(FragmentLimits limits = {}) : limits_(limits) {}

  enum class Outcome : std::uint8_t {
    Held,      // kept; the datagram is not complete yet
    Complete,  // `out` now holds the whole payload (the bytes after the IP header(s))
    Dropped,   // inconsistent (beyond 64 KiB, conflicting ends); the set is discarded and counted
  };

  /// Adds the fragment at byte `offset` of the payload; `more` is the MF bit.
  /// Counts overlaps, evictions and bad sets in `skipped`.
  Outcome add(const FragmentKey& key, std::int64_t now_ns, std::uint32_t offset, bool more, std::string_view data,
              std::string& out, SkipCounters& skipped);
  /// Drops sets older than the timeout (counted as FragmentsIncomplete).
  void expire(std::int64_t now_ns, SkipCounters& skipped);
  /// Drops every set (end of capture).
  void clear(SkipCounters& skipped);

  std::size_t sets() const { return sets_.size(); }
  std::size_t buffered_bytes() const { return bytes_; }

 private:
  struct Set {
    std::string data;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> covered;  // sorted, merged [begin, end)
    std::int64_t first_seen_ns = 0;
    std::int64_t total = -1;  // known once the last fragment (MF = 0) arrives
  };
  void drop(std::map<FragmentKey, Set>::iterator it);
  static bool complete(const Set& s);

  FragmentLimits limits_;
  std::map<FragmentKey, Set> sets_;
  std::size_t bytes_ = 0;
  std::int64_t last_sweep_ns_ = 0;
};

}  // namespace imsflow::trace
