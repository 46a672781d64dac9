// EventLoop's private tables, shared by event_loop.cpp (core, UDP, timers)
// and event_loop_tcp.cpp (connections). Not part of the public API.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "net/event_loop.hpp"

namespace imsflow::net {

/// One bind(): a UDP socket and/or a TCP listener on the same address and
/// port, the Node they feed, and the TCP connections that belong to it.
struct EventLoop::Binding {
  std::size_t index = 0;    // in bindings_ (and the epoll token)
  sip::Endpoint endpoint;   // as bound, with the transport asked for
  sip::Endpoint udp_local;  // endpoint with transport UDP: `local` for Node::receive()
  sip::Endpoint tcp_local;  // … with transport TCP
  int udp_fd = -1;
  int tcp_fd = -1;          // listening socket
  int node = -1;            // index in nodes_, -1: none yet
  bool closed = false;
  /// Open connections by remote endpoint (transport TCP): accepted ones by
  /// the peer's address and port, outgoing ones by the destination's.
  std::unordered_map<sip::Endpoint, std::uint32_t, sip::EndpointHash> connections;
  std::vector<txn::Transmit> udp_pending;  // datagrams for the next sendmmsg()
};

struct EventLoop::Connection {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;  // bumped at every reuse of the slot
  int fd = -1;
  std::size_t binding = 0;
  sip::Endpoint remote;  // transport TCP
  bool connecting = false;  // connect() in progress
  // While connecting: what each node queued here, so a failed connect can
  // be reported to it (RFC 3261 §18.4: the transaction hears of it).
  std::vector<std::pair<std::size_t, txn::Transmit>> awaiting_connect;
  bool writing = false;     // EPOLLOUT armed
  bool dirty = false;       // listed in dirty_connections_
  std::string out;          // bytes not written yet, from out_offset
  std::size_t out_offset = 0;
  StreamReader in;
  TimePoint opened{};
  TimePoint last_activity{};

  std::size_t unsent() const { return out.size() - out_offset; }
};

}  // namespace imsflow::net
