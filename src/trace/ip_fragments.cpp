#include "trace/ip_fragments.hpp"

#include <algorithm>

namespace imsflow::trace {

namespace {
// An IP datagram's payload cannot pass 65,535 bytes (16-bit length fields; no jumbograms here).
constexpr std::uint32_t kMaxDatagram = 65535;
}  // namespace

bool FragmentReassembler::complete(const Set& s) {
  return s.total >= 0 && s.covered.size() == 1 && s.covered[0].first == 0 &&
         static_cast<std::int64_t>(s.covered[0].second) == s.total;
}

void FragmentReassembler::drop(std::map<FragmentKey, Set>::iterator it) {
  bytes_ -= it->second.data.size();
  sets_.erase(it);
}

FragmentReassembler::Outcome FragmentReassembler::add(const FragmentKey& key, std::int64_t now_ns,
                                                      std::uint32_t offset, bool more, std::string_view data,
                                                      std::string& out, SkipCounters& skipped) {
  expire(now_ns, skipped);
  const std::uint64_t end64 = static_cast<std::uint64_t>(offset) + data.size();
  const auto emplaced = sets_.try_emplace(key);
  const auto it = emplaced.first;  // not a structured binding: the lambda below captures it
  if (emplaced.second) it->second.first_seen_ns = now_ns;
  Set& s = it->second;
  auto bad = [&] {
    skipped.add(SkipReason::BadIpHeader);
    drop(it);
    return Outcome::Dropped;
  };
  if (end64 > kMaxDatagram) return bad();
  const auto end = static_cast<std::uint32_t>(end64);
  if (!more) {
    if (s.total >= 0 && s.total != end) return bad();
    if (!s.covered.empty() && s.covered.back().second > end) return bad();
    s.total = end;
  }
  if (s.total >= 0 && end > s.total) return bad();
  if (end > s.data.size()) {
    bytes_ += end - s.data.size();
    s.data.resize(end);
  }

  // Copy the bytes no earlier fragment supplied; compare the rest.
  bool contradicts = false;
  std::uint32_t pos = offset;
  for (const auto& [b, e] : s.covered) {
    if (e <= pos) continue;
    if (b >= end) break;
    if (b > pos) std::copy(data.begin() + (pos - offset), data.begin() + (b - offset), s.data.begin() + pos);
    const std::uint32_t ob = std::max(b, pos);
    const std::uint32_t oe = std::min(e, end);
    if (ob < oe && std::string_view(s.data).substr(ob, oe - ob) != data.substr(ob - offset, oe - ob)) contradicts = true;
    pos = oe;
  }
  if (pos < end) std::copy(data.begin() + (pos - offset), data.end(), s.data.begin() + pos);
  if (contradicts) skipped.add(SkipReason::FragmentOverlap);

  if (offset < end) {
    s.covered.emplace_back(offset, end);
    std::sort(s.covered.begin(), s.covered.end());
    std::size_t w = 0;
    for (std::size_t r = 1; r < s.covered.size(); ++r) {
      if (s.covered[r].first <= s.covered[w].second) {
        s.covered[w].second = std::max(s.covered[w].second, s.covered[r].second);
      } else {
        s.covered[++w] = s.covered[r];
      }
    }
    s.covered.resize(w + 1);
  }

  if (complete(s)) {
    out.assign(s.data.data(), static_cast<std::size_t>(s.total));
    drop(it);
    return Outcome::Complete;
  }

  // Bounded memory: evict the oldest other sets, then this one if still over.
  while (sets_.size() > limits_.max_sets || bytes_ > limits_.max_bytes) {
    auto oldest = sets_.end();
    for (auto i = sets_.begin(); i != sets_.end(); ++i) {
      if (i == it) continue;
      if (oldest == sets_.end() || i->second.first_seen_ns < oldest->second.first_seen_ns) oldest = i;
    }
    skipped.add(SkipReason::FragmentsIncomplete);
    if (oldest == sets_.end()) {
      drop(it);
      return Outcome::Dropped;
    }
    drop(oldest);
  }
  return Outcome::Held;
}

void FragmentReassembler::expire(std::int64_t now_ns, SkipCounters& skipped) {
  // Sweep at most once per capture second: a set lives between timeout and timeout + 1 s.
  if (sets_.empty() || (now_ns >= last_sweep_ns_ && now_ns - last_sweep_ns_ < 1'000'000'000)) return;
  last_sweep_ns_ = now_ns;
  for (auto it = sets_.begin(); it != sets_.end();) {
    const std::int64_t age = now_ns - it->second.first_seen_ns;
    if (age > limits_.timeout_ns || age < -limits_.timeout_ns) {  // the clock may jump either way
      skipped.add(SkipReason::FragmentsIncomplete);
      auto victim = it++;
      drop(victim);
    } else {
      ++it;
    }
  }
}

void FragmentReassembler::clear(SkipCounters& skipped) {
  skipped.add(SkipReason::FragmentsIncomplete, sets_.size());
  sets_.clear();
  bytes_ = 0;
}

}  // namespace imsflow::trace
