// A pass-through txn::Node that records every message its inner node sends
// and receives, with the time: what `imsflow demo` draws its ladder from and
// writes to a pcap. Matching a send to the receive of the same bytes tells
// who talked to whom even over TCP, where the far end of a connection is an
// ephemeral port. It holds no protocol state.
//
// write_recorded_pcap() writes what one process recorded (`--pcap` of load,
// ue and core): the demo pairs sends with receives itself, for its ladder.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "net/pcap_writer.hpp"
#include "txn/node.hpp"
#include "util/clock.hpp"

namespace imsflow::net {

struct ObservedMessage {
  TimePoint at;
  std::size_t node = 0;      // the RecordingNode's id
  bool sent = false;         // false: received
  sip::Endpoint source;      // sent: the node's own endpoint; received: the remote one
  sip::Endpoint destination; // sent: where it was addressed; received: the local endpoint
  std::string bytes;
};

class RecordingNode final : public txn::Node {
 public:
  RecordingNode(txn::Node& inner, std::size_t id, std::vector<ObservedMessage>& sink)
      : inner_(inner), id_(id), sink_(sink) {}

  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
               TimePoint now) override {
    sink_.push_back(ObservedMessage{now, id_, false, remote, local, std::string(bytes)});
    inner_.receive(bytes, remote, local, now);
  }
  void advance(TimePoint now) override { inner_.advance(now); }
  std::optional<TimePoint> next_deadline() const override { return inner_.next_deadline(); }
  void take_transmits(std::vector<txn::Transmit>& out) override {
    const std::size_t before = out.size();
    inner_.take_transmits(out);
    if (out.size() == before) return;
    const TimePoint now = Clock::now();
    for (std::size_t i = before; i < out.size(); ++i)
      sink_.push_back(ObservedMessage{now, id_, true, out[i].source, out[i].destination, out[i].bytes});
  }
  void transport_failed(const txn::Transmit& what, std::string_view why, TimePoint now) override {
    inner_.transport_failed(what, why, now);
  }

 private:
  txn::Node& inner_;
  std::size_t id_;
  std::vector<ObservedMessage>& sink_;
};

/// Writes what the RecordingNodes of one process saw to `path` (one vector
/// per sink, e.g. per thread), in time order, each message once, stamped with
/// the wall clock that corresponds to its steady-clock time. A message one of
/// the recorded nodes sent and another received (a P-CSCF to its S-CSCF in
/// the same process) is written once, as sent: a capture on the wire holds it
/// once. Call it after the nodes' loops have stopped.
PcapStatus write_recorded_pcap(const std::filesystem::path& path,
                               const std::vector<std::vector<ObservedMessage>>& recorded);

}  // namespace imsflow::net
