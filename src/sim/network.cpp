#include "sim/network.hpp"

#include <algorithm>

namespace imsflow::sim {
namespace {

/// Heap order for arrivals: the earliest time first, then the earliest sent.
bool arrives_later(const auto& a, const auto& b) {
  if (a.at != b.at) return a.at > b.at;
  return a.order > b.order;
}

Duration non_negative(Duration d) { return d < Duration::zero() ? Duration::zero() : d; }

/// t + d, held at the end of time rather than overflowing (run_until_idle(Duration::max())).
TimePoint saturating_add(TimePoint t, Duration d) {
  if (d > Duration::zero() && t > TimePoint::max() - d) return TimePoint::max();
  return t + d;
}

}  // namespace

std::string_view fate_name(Fate fate) {
  switch (fate) {
    case Fate::InFlight: return "in-flight";
    case Fate::Delivered: return "delivered";
    case Fate::Lost: return "lost";
    case Fate::Partitioned: return "partitioned";
    case Fate::Undeliverable: return "undeliverable";
  }
  return "unknown";
}

Network::Network(std::uint64_t seed) : random_(seed) {}

std::chrono::system_clock::time_point Network::wall_time(TimePoint t) {
  return std::chrono::system_clock::time_point(kWallEpoch) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - kStart);
}

Network::IpKey Network::key_of(const sip::IpAddress& ip) {
  IpKey key{};
  key[0] = ip.v6;
  const std::size_t n = ip.v6 ? 16 : 4;  // IPv4 leaves the other twelve bytes unspecified
  std::copy_n(ip.bytes.begin(), n, key.begin() + 1);
  return key;
}

Network::EndpointKey Network::key_of(const sip::Endpoint& e) {
  return {static_cast<std::uint8_t>(e.transport), key_of(e.address), e.port};
}

bool Network::attach(txn::Node& node, const sip::Endpoint& local) {
  const auto [it, fresh] = endpoints_.try_emplace(local, &node);
  if (!fresh) return it->second == &node;
  auto held = std::find_if(nodes_.begin(), nodes_.end(), [&](const Attached& a) { return a.node == &node; });
  if (held == nodes_.end()) {
    nodes_.push_back({&node, 1});
  } else {
    ++held->endpoints;
  }
  return true;
}

void Network::detach(const sip::Endpoint& local) {
  const auto it = endpoints_.find(local);
  if (it == endpoints_.end()) return;
  txn::Node* node = it->second;
  endpoints_.erase(it);
  auto held = std::find_if(nodes_.begin(), nodes_.end(), [&](const Attached& a) { return a.node == node; });
  if (held != nodes_.end() && --held->endpoints == 0) nodes_.erase(held);
}

void Network::set_link(const sip::IpAddress& from, const sip::IpAddress& to, const LinkProfile& profile) {
  host_links_[{key_of(from), key_of(to)}] = profile;
}

void Network::set_link(const sip::Endpoint& from, const sip::Endpoint& to, const LinkProfile& profile) {
  endpoint_links_[{key_of(from), key_of(to)}] = profile;
}

const LinkProfile& Network::link(const sip::Endpoint& from, const sip::Endpoint& to) const {
  if (!endpoint_links_.empty()) {
    const auto it = endpoint_links_.find({key_of(from), key_of(to)});
    if (it != endpoint_links_.end()) return it->second;
  }
  if (!host_links_.empty()) {
    const auto it = host_links_.find({key_of(from.address), key_of(to.address)});
    if (it != host_links_.end()) return it->second;
  }
  return default_link_;
}

std::pair<Network::IpKey, Network::IpKey> Network::host_pair(const sip::IpAddress& a, const sip::IpAddress& b) {
  IpKey ka = key_of(a);
  IpKey kb = key_of(b);
  if (kb < ka) std::swap(ka, kb);
  return {ka, kb};
}

void Network::set_partition(const sip::IpAddress& a, const sip::IpAddress& b, bool cut) {
  const auto pair = host_pair(a, b);
  if (cut) {
    partitions_.insert(pair);
  } else {
    partitions_.erase(pair);
  }
}

bool Network::is_partitioned(const sip::IpAddress& a, const sip::IpAddress& b) const {
  if (partitions_.empty()) return false;
  return partitions_.count(host_pair(a, b)) != 0;
}

Duration Network::draw_up_to(Duration bound) {
  if (bound <= Duration::zero()) {
    random_.next();  // draw anyway, so a zero bound does not shift the draws that follow
    return Duration::zero();
  }
  return Duration(static_cast<Duration::rep>(random_.up_to(static_cast<std::uint64_t>(bound.count()))));
}

std::size_t Network::record(const TraceRecord& rec) {
  if (!keep_trace_) return kNoTrace;
  trace_.push_back(rec);
  return trace_.size() - 1;
}

void Network::send(txn::Transmit message) {
  ++counters_.sent;
  if (pcap_ && !pcap_->write(message.source, message.destination, message.bytes, wall_time(now_)))
    ++counters_.pcap_errors;

  TraceRecord rec;
  rec.id = records_++;
  rec.sent = now_;
  rec.source = message.source;
  rec.destination = message.destination;
  rec.bytes = std::move(message.bytes);
  const std::size_t index = record(rec);

  if (is_partitioned(rec.source.address, rec.destination.address)) {
    settle(rec, index, Fate::Partitioned);
    return;
  }
  const LinkProfile& link_profile = link(rec.source, rec.destination);
  const Duration delay = non_negative(link_profile.delay);
  const Duration jitter = non_negative(link_profile.jitter);

  if (sip::is_reliable(rec.destination.transport)) {
    // The stream gives bytes to the peer in order: a message never overtakes
    // the one before it on the same connection, whatever the jitter.
    TimePoint at = now_ + delay + draw_up_to(jitter);
    TimePoint& tail = stream_tail_[{key_of(rec.source), key_of(rec.destination)}];
    at = std::max(at, tail);
    tail = at;
    schedule(at, index, std::move(rec));
    return;
  }

  // Six draws per datagram, always in this order, so a run is reproducible
  // and changing one probability leaves the other outcomes' stream aligned.
  const bool lost = random_.chance(link_profile.loss);
  const bool duplicated = random_.chance(link_profile.duplicate);
  const bool reordered = random_.chance(link_profile.reorder);
  const Duration own_jitter = draw_up_to(jitter);
  const Duration copy_jitter = draw_up_to(jitter);
  const Duration hold = draw_up_to(2 * delay);

  if (lost) {
    settle(rec, index, Fate::Lost);
    return;
  }
  TimePoint at = now_ + delay + own_jitter;
  if (reordered && delay + jitter > Duration::zero()) {
    at += delay + jitter + hold;
    rec.reordered = true;
    if (index != kNoTrace) trace_[index].reordered = true;
    ++counters_.reordered;
  }
  if (duplicated) {
    TraceRecord copy = rec;
    copy.id = records_++;
    copy.duplicate = true;
    copy.reordered = false;
    const std::size_t copy_index = record(copy);
    ++counters_.duplicated;
    schedule(at, index, std::move(rec));
    schedule(now_ + delay + copy_jitter, copy_index, std::move(copy));
    return;
  }
  schedule(at, index, std::move(rec));
}

void Network::schedule(TimePoint at, std::size_t trace_index, TraceRecord rec) {
  in_flight_.push_back(Arrival{at, next_order_++, trace_index, std::move(rec)});
  std::push_heap(in_flight_.begin(), in_flight_.end(), [](const Arrival& a, const Arrival& b) {
    return arrives_later(a, b);
  });
}

void Network::settle(TraceRecord& rec, std::size_t trace_index, Fate fate) {
  rec.fate = fate;
  if (fate == Fate::Delivered) rec.delivered = now_;
  if (trace_index != kNoTrace) {
    trace_[trace_index].fate = fate;
    trace_[trace_index].delivered = rec.delivered;
  }
  switch (fate) {
    case Fate::Delivered: ++counters_.delivered; break;
    case Fate::Lost: ++counters_.lost; break;
    case Fate::Partitioned: ++counters_.partitioned; break;
    case Fate::Undeliverable: ++counters_.undeliverable; break;
    case Fate::InFlight: break;
  }
  if (on_trace_) on_trace_(rec);
  if (fate == Fate::Undeliverable && on_undeliverable_) on_undeliverable_(rec);
}

void Network::arrive() {
  std::pop_heap(in_flight_.begin(), in_flight_.end(), [](const Arrival& a, const Arrival& b) {
    return arrives_later(a, b);
  });
  Arrival arrival = std::move(in_flight_.back());
  in_flight_.pop_back();
  now_ = std::max(now_, arrival.at);

  TraceRecord& rec = arrival.record;
  if (endpoints_.find(rec.destination) == endpoints_.end()) {
    settle(rec, arrival.trace_index, Fate::Undeliverable);
    return;
  }
  settle(rec, arrival.trace_index, Fate::Delivered);
  // Looked up again: the trace hook may have detached the endpoint.
  const auto it = endpoints_.find(rec.destination);
  if (it == endpoints_.end()) return;
  txn::Node& node = *it->second;
  node.receive(rec.bytes, rec.source, rec.destination, now_);
  drain(node);
}

void Network::fire_timer(std::size_t node_index) {
  txn::Node& node = *nodes_[node_index].node;
  node.advance(now_);
  drain(node);
}

void Network::drain(txn::Node& node) {
  // A local batch: send() may run hooks that re-enter the network.
  std::vector<txn::Transmit> batch = std::move(outbox_);
  batch.clear();
  node.take_transmits(batch);
  for (txn::Transmit& t : batch) send(std::move(t));
  batch.clear();
  outbox_ = std::move(batch);
}

std::optional<std::pair<TimePoint, std::size_t>> Network::earliest_deadline() const {
  std::optional<std::pair<TimePoint, std::size_t>> best;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const std::optional<TimePoint> d = nodes_[i].node->next_deadline();
    if (!d) continue;
    const TimePoint at = std::max(*d, now_);  // a deadline already past fires now
    if (!best || at < best->first) best = {at, i};
  }
  return best;
}

std::optional<TimePoint> Network::next_event() const {
  std::optional<TimePoint> next;
  if (auto d = earliest_deadline()) next = d->first;
  if (!in_flight_.empty() && (!next || in_flight_.front().at < *next)) next = in_flight_.front().at;
  return next;
}

bool Network::step() {
  const auto deadline = earliest_deadline();
  if (!in_flight_.empty() && (!deadline || in_flight_.front().at <= deadline->first)) {
    arrive();
    return true;
  }
  if (!deadline) return false;
  now_ = deadline->first;
  fire_timer(deadline->second);
  return true;
}

void Network::run_for(Duration span) { run_until(saturating_add(now_, span)); }

void Network::run_until(TimePoint until) {
  for (auto next = next_event(); next && *next <= until; next = next_event()) step();
  now_ = std::max(now_, until);
}

bool Network::run_until_idle(Duration max) {
  const TimePoint limit = saturating_add(now_, max);
  for (;;) {
    const auto deadline = earliest_deadline();
    if (in_flight_.empty() && (!deadline || deadline->first > saturating_add(now_, max))) return true;
    const auto next = next_event();
    if (!next || *next > limit) {
      now_ = std::max(now_, limit);
      return false;
    }
    step();
  }
}

net::PcapStatus Network::write_pcap(const std::filesystem::path& path) {
  auto writer = std::make_unique<net::PcapWriter>();
  auto opened = writer->open(path);
  if (!opened) return opened;
  pcap_ = std::move(writer);
  return std::monostate{};
}

net::PcapStatus Network::close_pcap() {
  if (!pcap_) return std::monostate{};
  auto closed = pcap_->close();
  pcap_.reset();
  return closed;
}

}  // namespace imsflow::sim
