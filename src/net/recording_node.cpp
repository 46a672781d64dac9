#include "net/recording_node.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace imsflow::net {

PcapStatus write_recorded_pcap(const std::filesystem::path& path,
                               const std::vector<std::vector<ObservedMessage>>& recorded) {
  std::vector<const ObservedMessage*> all;
  for (const auto& sink : recorded)
    for (const ObservedMessage& m : sink) all.push_back(&m);
  // Stable: a send and the receive of the same bytes at one instant keep
  // their recorded order.
  std::stable_sort(all.begin(), all.end(), [](const auto* a, const auto* b) { return a->at < b->at; });

  // A send another recorded node received is one frame: written once, at
  // the send's time, with the addresses the receiver saw (over TCP the
  // sender's port is the connection's, not the one it listens on, as on the wire).
  std::vector<const ObservedMessage*> received_as(all.size(), nullptr);
  std::vector<bool> same_frame(all.size(), false);
  std::unordered_multimap<std::string_view, std::size_t> unmatched_sends;  // by bytes
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ObservedMessage& m = *all[i];
    if (m.sent) {
      unmatched_sends.emplace(m.bytes, i);
      continue;
    }
    // The earliest such send (a retransmission has the same bytes).
    auto [first, last] = unmatched_sends.equal_range(m.bytes);
    auto send = last;
    for (auto e = first; e != last; ++e)
      if (all[e->second]->node != m.node && (send == last || e->second < send->second)) send = e;
    if (send == last) continue;
    received_as[send->second] = &m;
    same_frame[i] = true;
    unmatched_sends.erase(send);
  }

  PcapWriter pcap;
  auto status = pcap.open(path);
  const auto wall_now = std::chrono::system_clock::now();
  const TimePoint steady_now = Clock::now();
  for (std::size_t i = 0; i < all.size() && status; ++i) {
    if (same_frame[i]) continue;
    const ObservedMessage& m = *all[i];
    const ObservedMessage& wire = received_as[i] ? *received_as[i] : m;
    const auto wall = wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(steady_now - m.at);
    status = pcap.write(wire.source, wire.destination, m.bytes, wall);
  }
  if (status) status = pcap.close();
  return status;
}

}  // namespace imsflow::net
