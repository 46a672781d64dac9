// A virtual IP network and clock that run sans-I/O protocol cores
// (txn::Node) deterministically: per-link delay, jitter, loss, duplication
// and reordering for UDP, reliable in-order delivery for TCP/TLS, and
// partitions between hosts. Nothing here reads a real clock or a socket; the
// same seed and the same calls give the same run, byte for byte, with any
// compiler (the chance comes from sim::Random only).
//
// Event order: the network repeatedly takes the earliest of (the next
// arrival, the earliest node deadline). At equal times arrivals go first, in
// the order they were sent; then timers, in the order nodes were attached.
// After each receive() or advance() the node's take_transmits() is drained
// and every message is put on the wire at the current virtual time.
//
// Test-only machinery (DESIGN.md: sim/ is never on a production path).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/pcap_writer.hpp"
#include "sim/random.hpp"
#include "sip/endpoint.hpp"
#include "txn/node.hpp"
#include "util/clock.hpp"

namespace imsflow::sim {

/// How one direction of a link treats what is sent over it. Loss,
/// duplication and reordering apply to UDP only; TCP and TLS get the delay and
/// jitter but arrive whole and in order per connection, as the transport
/// would make them after its own retransmissions.
struct LinkProfile {
  Duration delay{};      // one-way propagation delay
  Duration jitter{};     // extra delay drawn uniformly from [0, jitter]
  double loss = 0;       // probability a datagram vanishes
  double duplicate = 0;  // probability a second copy arrives (with its own jitter)
  // Probability a datagram is held back by a further delay + jitter + [0, 2·delay],
  // so datagrams sent after it overtake it. Needs a nonzero delay or jitter.
  double reorder = 0;
};

/// What became of one message on the wire.
enum class Fate : std::uint8_t {
  InFlight,       // sent, not yet arrived
  Delivered,      // handed to the node attached at the destination
  Lost,           // dropped by the link's loss rate
  Partitioned,    // dropped because the two hosts were partitioned when it was sent
  Undeliverable,  // arrived where no node is attached
};
std::string_view fate_name(Fate fate);

/// One message as the network saw it. A duplicated datagram has two records:
/// the original and, right after it, the copy (`duplicate` set).
struct TraceRecord {
  std::uint64_t id = 0;  // index in Network::trace(), in sending order
  TimePoint sent{};
  std::optional<TimePoint> delivered;  // when a node received it; empty for every other fate
  sip::Endpoint source;
  sip::Endpoint destination;
  std::string bytes;
  Fate fate = Fate::InFlight;
  bool duplicate = false;  // the network's extra copy, not something a node sent
  bool reordered = false;  // held back so that later datagrams overtake it
};

struct NetworkCounters {
  std::uint64_t sent = 0;           // messages nodes (or send()) put on the wire
  std::uint64_t delivered = 0;      // arrivals handed to a node, duplicate copies included
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;     // extra copies made
  std::uint64_t reordered = 0;
  std::uint64_t partitioned = 0;
  std::uint64_t undeliverable = 0;  // arrived where no node is attached
  std::uint64_t pcap_errors = 0;    // frames the capture could not take (size, IP family mismatch, disk)
};

class Network {
 public:
  /// Virtual time starts here, never at a zero time_point.
  static constexpr TimePoint kStart = TimePoint{} + std::chrono::hours(1);
  /// kStart as wall time in captures: 2026-01-01 00:00:00 UTC.
  static constexpr std::chrono::seconds kWallEpoch{1767225600};

  explicit Network(std::uint64_t seed = 1);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  TimePoint now() const noexcept { return now_; }
  /// The capture timestamp of a virtual time: kWallEpoch + (t - kStart).
  static std::chrono::system_clock::time_point wall_time(TimePoint t);

  /// Messages to `local` go to `node`. One node may hold several endpoints
  /// (UDP and TCP on the same ip:port are different ones). The node is not
  /// owned and must outlive the network or be detached. False, and nothing
  /// changes, when another node already holds `local`.
  bool attach(txn::Node& node, const sip::Endpoint& local);
  /// Frees `local`; later arrivals there are undeliverable. A node left with no
  /// endpoint is no longer advanced.
  void detach(const sip::Endpoint& local);

  /// The profile of any pair without its own.
  void set_default_link(const LinkProfile& profile) { default_link_ = profile; }
  /// One direction, between two hosts (any transport and port).
  void set_link(const sip::IpAddress& from, const sip::IpAddress& to, const LinkProfile& profile);
  /// One direction, between two endpoints; wins over the host pair and the default.
  void set_link(const sip::Endpoint& from, const sip::Endpoint& to, const LinkProfile& profile);
  /// The profile a message from `from` to `to` would get.
  const LinkProfile& link(const sip::Endpoint& from, const sip::Endpoint& to) const;

  /// While set, every message between hosts `a` and `b`, either way and on any
  /// transport, is dropped when sent: TCP too, as if the connection broke
  /// (no stall-and-resume is modelled). Messages already in flight still arrive.
  void set_partition(const sip::IpAddress& a, const sip::IpAddress& b, bool cut);
  bool is_partitioned(const sip::IpAddress& a, const sip::IpAddress& b) const;

  /// Puts a message on the wire now, as if a node had sent it (for injecting
  /// traffic from an endpoint no node holds).
  void send(txn::Transmit message);
  /// Puts on the wire, now, what `node` queued outside receive()/advance():
  /// the user's own actions, such as placing a call or hanging up.
  void flush(txn::Node& node) { drain(node); }

  /// Runs the earliest event; false when nothing is pending at all.
  bool step();
  /// When step() would act, if anything is pending (a deadline already past
  /// counts as now).
  std::optional<TimePoint> next_event() const;
  /// Runs every event due at or before `until`, then sets the clock to it.
  void run_until(TimePoint until);
  void run_for(Duration span);
  /// Runs until idle, for at most `max` of virtual time. Idle means nothing
  /// in flight and no node deadline within `max` of the current time, so a
  /// retransmission or keep-alive timer inside that window keeps the run
  /// going. True when idle was reached (the clock stays at the last event);
  /// false when `max` ran out first (the clock is then at the call's now + max).
  bool run_until_idle(Duration max);
  std::size_t in_flight() const noexcept { return in_flight_.size(); }

  const NetworkCounters& counters() const noexcept { return counters_; }
  /// Every message sent so far, in sending order (empty when keep_trace(false)).
  const std::vector<TraceRecord>& trace() const noexcept { return trace_; }
  /// Whether trace() keeps records (on by default; long benchmark runs turn it off).
  void keep_trace(bool keep) { keep_trace_ = keep; }
  /// Called once per record when its fate is settled (lost and partitioned
  /// when sent, the rest when they arrive).
  void on_trace(std::function<void(const TraceRecord&)> hook) { on_trace_ = std::move(hook); }
  /// Called for each arrival where no node is attached.
  void on_undeliverable(std::function<void(const TraceRecord&)> hook) { on_undeliverable_ = std::move(hook); }

  /// From now on, writes every message to a pcap file as the sender's capture
  /// would show it: once, when sent, lost ones included, network duplicates
  /// not. Timestamps are wall_time(sent), so equal runs give equal files.
  net::PcapStatus write_pcap(const std::filesystem::path& path);
  /// Flushes and closes the capture, if one is open.
  net::PcapStatus close_pcap();

 private:
  using IpKey = std::array<std::uint8_t, 17>;  // the v6 flag, then the address bytes
  using EndpointKey = std::tuple<std::uint8_t, IpKey, std::uint16_t>;

  static constexpr std::size_t kNoTrace = ~std::size_t{0};
  struct Arrival {
    TimePoint at{};
    std::uint64_t order = 0;      // sending order, for ties
    std::size_t trace_index = 0;  // kNoTrace when the trace is not kept
    TraceRecord record;
  };
  struct Attached {
    txn::Node* node = nullptr;
    std::size_t endpoints = 0;
  };

  static IpKey key_of(const sip::IpAddress& ip);
  static EndpointKey key_of(const sip::Endpoint& e);
  static std::pair<IpKey, IpKey> host_pair(const sip::IpAddress& a, const sip::IpAddress& b);  // lower key first

  std::size_t record(const TraceRecord& record);
  void schedule(TimePoint at, std::size_t trace_index, TraceRecord record);
  void settle(TraceRecord& record, std::size_t trace_index, Fate fate);
  void arrive();
  void fire_timer(std::size_t node_index);
  void drain(txn::Node& node);
  std::optional<std::pair<TimePoint, std::size_t>> earliest_deadline() const;
  Duration draw_up_to(Duration bound);

  TimePoint now_ = kStart;
  Random random_;
  std::unordered_map<sip::Endpoint, txn::Node*, sip::EndpointHash> endpoints_;
  std::vector<Attached> nodes_;  // attach order: the timer tie-break

  LinkProfile default_link_;
  std::map<std::pair<IpKey, IpKey>, LinkProfile> host_links_;
  std::map<std::pair<EndpointKey, EndpointKey>, LinkProfile> endpoint_links_;
  std::set<std::pair<IpKey, IpKey>> partitions_;  // each pair stored lower key first
  // The latest arrival scheduled per TCP/TLS connection direction, so jitter never reorders a stream.
  std::map<std::pair<EndpointKey, EndpointKey>, TimePoint> stream_tail_;

  std::vector<Arrival> in_flight_;  // a min-heap on (at, order)
  std::uint64_t next_order_ = 0;
  std::vector<txn::Transmit> outbox_;  // reused by drain()

  NetworkCounters counters_;
  bool keep_trace_ = true;
  std::vector<TraceRecord> trace_;
  std::uint64_t records_ = 0;  // ids handed out, kept or not
  std::function<void(const TraceRecord&)> on_trace_;
  std::function<void(const TraceRecord&)> on_undeliverable_;
  std::unique_ptr<net::PcapWriter> pcap_;
};

}  // namespace imsflow::sim
