// Helpers for the net/ tests: user agents bound on loopback with fast
// timers, a tap that records what a Node received, a raw TCP client, and
// tiny Nodes (echo, sink).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "dialog/user_agent.hpp"
#include "net/event_loop.hpp"
#include "net/socket_address.hpp"
#include "txn/node.hpp"

namespace imsflow::net::testing {

using namespace std::chrono_literals;
using sip::Endpoint;
using sip::Transport;

inline constexpr std::string_view kOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n";
inline constexpr std::string_view kAnswer =
    "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n";

inline Endpoint loopback(Transport t = Transport::Udp, bool v6 = false) {
  return Endpoint{t, v6 ? sip::IpAddress::loopback_v6() : sip::IpAddress::loopback_v4(), 0};
}

/// Timers short enough that every transaction of a call is gone about 1.3 s
/// (64·T1) after its last message, so a test checks for leaks quickly.
inline txn::TimerConfig fast_timers() {
  txn::TimerConfig t;
  t.t1 = 20ms;
  t.t2 = 160ms;
  t.t4 = 100ms;
  t.timer_d = 200ms;
  t.timer_c = 10s;
  return t;
}

/// "INVITE" for a request, "183 (INVITE)" for a response, from the bytes.
inline std::string label(std::string_view bytes) {
  const std::string_view first = bytes.substr(0, bytes.find("\r\n"));
  if (first.rfind("SIP/2.0 ", 0) == 0) {
    const std::size_t cseq = bytes.find("CSeq: ");
    if (cseq == std::string_view::npos) return std::string(first.substr(8, 3));
    std::string_view method = bytes.substr(cseq + 6, bytes.find("\r\n", cseq) - cseq - 6);
    method = method.substr(method.find(' ') + 1);
    return std::string(first.substr(8, 3)) + " (" + std::string(method) + ")";
  }
  return std::string(first.substr(0, first.find(' ')));
}

/// Each label once, in the order of its first appearance (retransmissions
/// over UDP do not change what a ladder shows).
inline std::vector<std::string> first_occurrences(const std::vector<std::string>& ladder) {
  std::vector<std::string> out;
  for (const auto& l : ladder)
    if (std::find(out.begin(), out.end(), l) == out.end()) out.push_back(l);
  return out;
}

/// Forwards to a Node and records what it received ("INVITE/UDP"); after
/// every input, `after` runs (a shard test publishes counts through it).
class Tap final : public txn::Node {
 public:
  explicit Tap(txn::Node& inner) : inner_(inner) {}
  std::vector<std::string> received;    // label + "/" + transport
  std::function<void()> after;

  void receive(std::string_view bytes, const Endpoint& remote, const Endpoint& local, TimePoint now) override {
    received.push_back(label(bytes) + "/" + std::string(sip::transport_name(remote.transport)));
    inner_.receive(bytes, remote, local, now);
    if (after) after();
  }
  void advance(TimePoint now) override {
    inner_.advance(now);
    if (after) after();
  }
  std::optional<TimePoint> next_deadline() const override { return inner_.next_deadline(); }
  void take_transmits(std::vector<txn::Transmit>& out) override { inner_.take_transmits(out); }
  /// The labels that came over `transport`, without it.
  std::vector<std::string> over(Transport transport) const {
    std::vector<std::string> out;
    const std::string suffix = "/" + std::string(sip::transport_name(transport));
    for (const auto& r : received)
      if (r.size() > suffix.size() && r.compare(r.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(r.substr(0, r.size() - suffix.size()));
    return out;
  }

 private:
  txn::Node& inner_;
};

/// Session events, counted per kind (atomically: shard tests read them
/// from another thread); `react` runs on the loop thread.
struct Events final : dialog::SessionObserver {
  std::array<std::atomic<int>, 16> count{};
  std::function<void(const dialog::SessionEvent&)> react;
  std::mutex mutex;
  std::vector<dialog::SessionEvent> log;  // copies, body dropped

  void on_session_event(const dialog::SessionEvent& e) override {
    {
      std::lock_guard lock(mutex);
      dialog::SessionEvent copy = e;
      copy.body = {};
      log.push_back(std::move(copy));
    }
    ++count[static_cast<std::size_t>(e.kind)];
    if (react) react(e);
  }
  int of(dialog::SessionEventKind k) const { return count[static_cast<std::size_t>(k)].load(); }
  std::vector<dialog::SessionEventKind> kinds() {
    std::lock_guard lock(mutex);
    std::vector<dialog::SessionEventKind> k;
    for (const auto& e : log) k.push_back(e.kind);
    return k;
  }
};

/// A user agent whose UserAgentConfig::local is the endpoint really bound
/// (port 0 resolved), attached to a loop behind a Tap.
struct BoundAgent {
  Events events;
  std::unique_ptr<dialog::UserAgent> ua;
  std::unique_ptr<Tap> tap;
  Endpoint local;

  dialog::UserAgent& operator*() { return *ua; }
  dialog::UserAgent* operator->() { return ua.get(); }
};

inline dialog::UserAgentConfig agent_config(const Endpoint& local, std::string user, std::uint64_t seed) {
  dialog::UserAgentConfig c;
  c.local = local;
  c.user = std::move(user);
  c.seed = seed;
  c.timers = fast_timers();
  return c;
}

/// Binds `where` (port 0) in `loop`, then builds the agent with the bound
/// endpoint and attaches it. Null, with `error` set, when binding fails.
inline std::unique_ptr<BoundAgent> bind_agent(EventLoop& loop, const Endpoint& where, std::string user,
                                              std::uint64_t seed, std::string* error = nullptr,
                                              ListenOn which = ListenOn::Default) {
  auto bound = loop.bind(where, which);
  if (!bound) {
    if (error) *error = bound.error().describe();
    return nullptr;
  }
  auto a = std::make_unique<BoundAgent>();
  a->local = *bound;
  a->ua = std::make_unique<dialog::UserAgent>(agent_config(*bound, std::move(user), seed), a->events);
  a->tap = std::make_unique<Tap>(*a->ua);
  auto attached = loop.attach(*a->tap, *bound);
  if (!attached) {
    if (error) *error = attached.error().describe();
    return nullptr;
  }
  return a;
}

/// The UAS behaviour of the seed: reliable 183 with the answer, 200 once PRACKed.
inline void answer_with_reliable_183(BoundAgent& callee) {
  dialog::UserAgent* ua = callee.ua.get();
  callee.events.react = [ua](const dialog::SessionEvent& e) {
    if (e.kind == dialog::SessionEventKind::Incoming) {
      ua->send_provisional(e.session, 183, kAnswer, Clock::now());
    } else if (e.kind == dialog::SessionEventKind::PrackDone) {
      ua->answer(e.session, {}, Clock::now());
    }
  };
}

inline dialog::CallRequest call_to(const BoundAgent& callee, std::string_view offer = kOffer) {
  dialog::CallRequest r;
  r.target = "sip:" + callee.ua->config().user + "@" + callee.local.to_string();
  if (callee.local.transport == Transport::Tcp) r.target += ";transport=tcp";
  r.next_hop = callee.local;
  r.sdp_offer = std::string(offer);
  return r;
}

/// Receives whatever arrives and keeps a copy.
class SinkNode final : public txn::Node {
 public:
  struct Arrival {
    std::string bytes;
    Endpoint remote;
    Endpoint local;
  };
  std::vector<Arrival> arrivals;
  void receive(std::string_view bytes, const Endpoint& remote, const Endpoint& local, TimePoint) override {
    arrivals.push_back({std::string(bytes), remote, local});
  }
  void advance(TimePoint) override {}
  std::optional<TimePoint> next_deadline() const override { return std::nullopt; }
  void take_transmits(std::vector<txn::Transmit>&) override {}
};

/// Sends every message back where it came from, on the same transport
/// (over TCP: on the connection it came on).
class EchoNode final : public txn::Node {
 public:
  std::uint64_t received = 0;
  void receive(std::string_view bytes, const Endpoint& remote, const Endpoint& local, TimePoint) override {
    ++received;
    out_.push_back(txn::Transmit{local, remote, std::string(bytes)});
  }
  void advance(TimePoint) override {}
  std::optional<TimePoint> next_deadline() const override { return std::nullopt; }
  void take_transmits(std::vector<txn::Transmit>& out) override {
    for (auto& t : out_) out.push_back(std::move(t));
    out_.clear();
  }

 private:
  std::vector<txn::Transmit> out_;
};

/// A blocking TCP client socket, for feeding a loop raw bytes.
class RawTcpClient {
 public:
  explicit RawTcpClient(const Endpoint& to) {
    fd_ = ::socket(to.address.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const SocketAddress a = to_socket_address(to);
    connected_ = ::connect(fd_, a.get(), a.length) == 0;
  }
  ~RawTcpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// What is readable now (without waiting); "" when nothing. `eof` is set
  /// when the peer closed.
  std::string read_available(bool* eof = nullptr) {
    std::string out;
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 && eof) *eof = true;
      if (n < 0 && errno == ECONNRESET && eof) *eof = true;
      break;
    }
    return out;
  }
  Endpoint local_endpoint() const {
    SocketAddress a;
    a.length = sizeof a.storage;
    ::getsockname(fd_, a.get(), &a.length);
    return *from_socket_address(a.get(), a.length, Transport::Tcp);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

/// run_until() for a predicate that other threads make true: those do not
/// wake this loop, so it is checked at least every 10 ms.
inline bool poll_until(EventLoop& loop, const std::function<bool()>& done, Duration max) {
  const TimePoint end = Clock::now() + max;
  while (Clock::now() < end)
    if (loop.run_until(done, 10ms) == StopReason::Done) return true;
  return done();
}

/// Whether ::1 can be bound here (containers without IPv6 cannot).
inline bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const SocketAddress a = to_socket_address(loopback(Transport::Udp, true));
  const bool ok = ::bind(fd, a.get(), a.length) == 0;
  ::close(fd);
  return ok;
}

}  // namespace imsflow::net::testing
