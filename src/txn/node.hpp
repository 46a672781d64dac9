// What a driver needs from a protocol core. net/ (real sockets and time) and
// sim/ (virtual network and clock) run any Node the same way:
//   deliver what arrives with receive(), call advance() at next_deadline(),
//   and send what take_transmits() hands over.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/endpoint.hpp"
#include "util/clock.hpp"

namespace imsflow::txn {

/// One SIP message on its way out. `destination.transport` says how it goes;
/// for TCP the driver reuses the connection to that endpoint when one exists.
struct Transmit {
  sip::Endpoint source;       // the local address it leaves from
  sip::Endpoint destination;
  std::string bytes;
};

class Node {
 public:
  virtual ~Node() = default;
  /// One whole SIP message (a datagram, or one message framed from a stream)
  /// that arrived at `local` from `remote`.
  virtual void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
                       TimePoint now) = 0;
  /// Fires every timer due at or before `now`.
  virtual void advance(TimePoint now) = 0;
  /// The earliest armed timer, if any.
  virtual std::optional<TimePoint> next_deadline() const = 0;
  /// Appends the messages to send, in order, and forgets them.
  virtual void take_transmits(std::vector<Transmit>& out) = 0;
  /// The driver could not send `what` (one of the Transmits this node handed
  /// over): no route, connection refused or reset, a TCP connect that failed.
  /// `why` says so in words ("connection refused"). RFC 3261 §17.1.4, §17.2.4
  /// and §18.4: the transaction that sent it ends and its user hears of a
  /// transport error. Called from the driver's loop, never from inside
  /// receive() or advance(); what the node queues in it goes out with the
  /// next take_transmits().
  virtual void transport_failed(const Transmit& /*what*/, std::string_view /*why*/, TimePoint /*now*/) {}
};

}  // namespace imsflow::txn
