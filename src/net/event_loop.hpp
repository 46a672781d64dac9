// The real-network driver of txn::Node cores (DESIGN.md: net/ holds no
// protocol state): one thread, one epoll instance, the sockets of the
// endpoints attached to it, and the Nodes those endpoints feed.
//
// Transports (RFC 3261 §18):
//  - UDP, IPv4 and IPv6: one socket per bound endpoint, read with recvmmsg()
//    in batches (LoopOptions::udp_batch) and written with sendmmsg(), every
//    datagram the Nodes produced in one loop iteration for that socket in one
//    call. A datagram leaves from the socket bound to the Transmit's
//    `source`, so its source port is the one in the Via; RFC 3581 (rport)
//    then brings responses back to that same socket.
//  - TCP: one listening socket per bound endpoint; accepted and outgoing
//    (non-blocking connect()) connections. Arrivals are framed by
//    sip::StreamFramer (CRLF keep-alives skipped; a stream that cannot be
//    framed is closed and the reason logged). A Transmit to a TCP
//    destination reuses the open connection to that remote endpoint — in
//    either direction — or opens one, queuing the bytes until it connects.
//    Responses to a request that came over TCP are addressed by the Node to
//    the connection's peer (txn::response_destination), which is exactly the
//    key of the accepted connection, so they go back on it (§18.2.2).
//    Partial writes are buffered and finished on EPOLLOUT. Idle connections
//    close after LoopOptions::tcp_idle_timeout; a peer that leaves a message
//    incomplete for tcp_stall_timeout is closed.
//  - TLS is not implemented: such transmits are counted as send errors.
// attach(…, ListenOn::UdpAndTcp) (the default for a UDP endpoint) binds UDP and
// TCP on the same port, as §18.2.1 asks of servers; the transaction layer's
// §18.1.1 rule (a request over 1,300 bytes goes over TCP to the same port)
// depends on it.
//
// One iteration (run_once) is, in this order:
//   1. flush what the Nodes queued (user commands made between runs);
//   2. epoll wait until the earliest of: a Node's next_deadline(), a TCP
//      housekeeping deadline, the caller's limit (µs resolution with
//      epoll_pwait2, where the kernel has it);
//   3. handle readiness: UDP batches, accepts, connection reads/writes
//      (each arrival goes to Node::receive() with the same `now`);
//   4. run tasks given to post() from other threads;
//   5. advance(now) every Node whose deadline is due; TCP housekeeping;
//   6. flush: take_transmits() from every Node, sendmmsg() per socket,
//      append to connection buffers and write.
// `now` is always imsflow::Clock::now(), read once per step.
//
// Why epoll with recvmmsg()/sendmmsg() and not io_uring: SIP over UDP is
// many small datagrams on a few sockets, so the cost is the per-datagram
// system call, which the mmsg calls already amortise over a batch (32 in, all
// of an iteration's out); io_uring would save the epoll_wait() and allow
// zero-copy sends but needs a 5.x+ kernel with io_uring enabled (often off
// in containers and hardened hosts through seccomp or
// kernel.io_uring_disabled), liburing or raw setup code, and buffer
// ownership rules that do not fit Node::receive()'s borrowed views.
// epoll is available everywhere this runs, is level-triggered here (no
// starvation bookkeeping), and its readiness model maps one-to-one onto
// the sans-I/O Node interface.
//
// Threads: everything but stop() and post() must be called on the thread
// that runs the loop. Nodes are not owned; a Node must outlive the loop or be
// detached first. Node callbacks (observers) may call stop() and post(), not
// attach()/detach().
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/signal_hook.hpp"
#include "net/socket_address.hpp"
#include "net/stream_reader.hpp"
#include "sip/endpoint.hpp"
#include "txn/node.hpp"
#include "util/clock.hpp"

namespace imsflow::net {

using namespace std::chrono_literals;

struct LoopOptions {
  std::size_t udp_batch = 32;            // datagrams per recvmmsg()/sendmmsg() call
  std::size_t udp_max_datagram = 65535;  // receive buffer per datagram; longer ones are counted and dropped
  int socket_buffer_bytes = 4 * 1024 * 1024;  // SO_RCVBUF/SO_SNDBUF on UDP sockets, best effort (0: leave)
  bool reuse_port = false;               // SO_REUSEPORT on every bound socket (ShardedLoops sets it)
  Duration tcp_idle_timeout = 300s;      // close a connection with no traffic for this long
  Duration tcp_stall_timeout = 10s;      // close a peer that leaves a message incomplete this long
  Duration tcp_connect_timeout = 10s;    // give up a connect() still pending after this long
  std::size_t tcp_max_queued_bytes = 16 * 1024 * 1024;  // per connection; beyond it the peer is cut off
  /// After a wake-up that found work, wait this long (no longer than the
  /// next timer) before looking again, so that the next wake-up finds many
  /// datagrams for one recvmmsg() instead of one each: fewer system calls
  /// and context switches per call at high rates, for up to this much added
  /// latency per hop. Zero: look again at once.
  Duration batch_window{};
  /// Timers may fire up to this much late: the loop wakes for them on a grid
  /// of this step, so timers due close together share one wake-up. SIP's
  /// timers are hundreds of milliseconds and more, and a proxy at hundreds of
  /// calls per second has one falling due every millisecond or so; without a
  /// grid each costs a wake-up and resetting the kernel timer. Zero: exact.
  Duration timer_slack{};
  /// The defaults with the --batch-window and --timer-slack of load, ue and
  /// core, both in microseconds.
  static LoopOptions from_flags(std::uint32_t batch_window_us, std::uint32_t timer_slack_us) {
    LoopOptions o;
    o.batch_window = std::chrono::microseconds(batch_window_us);
    o.timer_slack = std::chrono::microseconds(timer_slack_us);
    return o;
  }
  /// Receives one line per notable event (a connection closed for a reason,
  /// a send error). Empty: written to stderr.
  std::function<void(std::string_view)> log;
};

/// Per loop, counted by the loop thread (read them there or after it stopped).
struct LoopCounters {
  std::uint64_t datagrams_in = 0;
  std::uint64_t datagrams_out = 0;
  std::uint64_t udp_bytes_in = 0;
  std::uint64_t udp_bytes_out = 0;
  std::uint64_t stream_messages_in = 0;   // framed from TCP
  std::uint64_t stream_messages_out = 0;  // queued on a TCP connection
  std::uint64_t tcp_bytes_in = 0;
  std::uint64_t tcp_bytes_out = 0;
  std::uint64_t receive_batches = 0;      // recvmmsg() calls that returned datagrams
  std::uint64_t send_batches = 0;         // sendmmsg() calls
  std::uint64_t keepalives_in = 0;        // CRLF keep-alives (stream) or CRLF-only datagrams
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_opened = 0;   // outgoing connect() started
  std::uint64_t connections_closed = 0;   // every close, whatever the reason
  std::uint64_t connect_failures = 0;
  std::uint64_t idle_closes = 0;
  std::uint64_t stall_closes = 0;
  // Streams closed because they could not be framed. The loop does not
  // parse datagrams: a malformed one is the Node's to count
  // (txn::TransactionStats::dropped).
  std::uint64_t framing_errors = 0;
  std::uint64_t truncated_datagrams = 0;  // longer than udp_max_datagram; dropped
  std::uint64_t unrouted = 0;             // arrivals at an endpoint with no Node; transmits with no usable socket
  std::uint64_t send_errors = 0;          // datagrams or queued stream bytes that could not be sent
  std::uint64_t send_eagain = 0;          // of which: the socket buffer was full (UDP datagram dropped)
  std::uint64_t receive_errors = 0;
  std::uint64_t icmp_errors = 0;          // ICMP errors quoting a datagram we sent (reported to its Node)
  std::uint64_t timer_runs = 0;           // Node::advance() calls
  std::uint64_t iterations = 0;
};

/// Which sockets attach()/bind() open for an endpoint.
enum class ListenOn : std::uint8_t {
  Default,    // UDP endpoint: UDP and TCP on the same port; TCP endpoint: TCP only
  UdpAndTcp,
  UdpOnly,
  TcpOnly,
};

enum class StopReason : std::uint8_t { TimeUp, Stopped, Signal, Done };

class EventLoop {
 public:
  explicit EventLoop(LoopOptions options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Whether the loop's epoll and wake descriptors were created; when not,
  /// every bind() fails with the reason in error().
  bool ok() const { return epoll_fd_ >= 0 && wake_fd_ >= 0; }

  /// Opens the sockets for `local` (port 0: an ephemeral port, the same for
  /// UDP and TCP) without a Node yet; arrivals there are counted as
  /// `unrouted` until attach(). Returns the bound endpoint (the transport of
  /// `local`, the real port). Use it to learn the port a Node must put in its
  /// Via and Contact before the Node exists.
  NetResult<sip::Endpoint> bind(const sip::Endpoint& local, ListenOn which = ListenOn::Default);
  /// Routes what arrives at `local` to `node`. `local` may be an endpoint
  /// already bound (same address and port) or a new one, which is bound
  /// first as bind() does. A Node may be attached to several endpoints.
  NetResult<sip::Endpoint> attach(txn::Node& node, const sip::Endpoint& local,
                                  ListenOn which = ListenOn::Default);
  /// Closes the sockets and connections of every endpoint of `node`;
  /// what it still had queued is dropped.
  void detach(txn::Node& node);

  /// Runs iterations until `d` has passed, stop() or a hooked signal.
  StopReason run_for(Duration d);
  /// Runs until `done()` (checked before the first and after every
  /// iteration) is true, stop(), a signal, or `max`.
  StopReason run_until(const std::function<bool()>& done, Duration max);
  /// Runs until stop() or a hooked signal.
  StopReason run();
  /// One iteration, waiting at most `max_wait` for readiness or a deadline.
  void run_once(Duration max_wait);

  /// Thread-safe (and async-signal-safe): makes the current (or the next)
  /// run_*() return StopReason::Stopped after its iteration.
  void stop();
  /// Thread-safe: runs `task` on the loop thread during the next iteration
  /// (the way to call into a Node owned by a loop on another thread).
  void post(std::function<void()> task);
  /// Makes run_*() return StopReason::Signal when one of `signals` arrives
  /// (see signal_hook.hpp). The previous dispositions come back with the
  /// loop's destruction or clear_signals().
  NetStatus stop_on_signals(std::initializer_list<int> signals);
  void clear_signals() { signals_.release(); }
  /// The signal that stopped the loop last, if one did.
  std::optional<int> last_signal() const { return last_signal_; }

  const LoopCounters& counters() const { return counters_; }
  std::size_t open_connections() const { return live_connections_; }
  /// Bound endpoints, in bind order (both transports of one bind share an entry).
  std::vector<sip::Endpoint> endpoints() const;
  /// Why the loop could not start (epoll_create1 or eventfd failed).
  const std::string& error() const { return error_; }

 private:
  struct Binding;
  struct Connection;
  struct UdpOutgoing;
  enum class Kind : std::uint8_t { Wake = 1, Signal, Udp, Listener, Connection, Timer };

  static std::uint64_t token(Kind kind, std::uint32_t index, std::uint32_t generation = 0);
  static Kind kind_of(std::uint64_t tok) { return static_cast<Kind>(tok >> 56); }

  // event_loop.cpp: core, UDP, timers
  StopReason run_bounded(const std::function<bool()>* done, std::optional<TimePoint> end);
  void wait(TimePoint limit);
  void dispatch(std::uint64_t token, std::uint32_t events, TimePoint now);
  void read_udp(Binding& b);
  void read_udp_errors(Binding& b, TimePoint now);
  /// Sleeps out the batch window (LoopOptions::batch_window).
  void gather(TimePoint now);
  /// The earliest timer of the attached Nodes, or `bound` if none is sooner.
  TimePoint earliest_deadline(TimePoint bound) const;
  bool worked_ = false;  // the last wait returned events
  void run_posted();
  void fire_timers(TimePoint now);
  void flush();
  void route(std::size_t node, txn::Transmit&& t);
  Binding* source_binding(std::size_t node, const txn::Transmit& t);
  void send_udp(Binding& b);
  int node_index(const txn::Node& node) const;
  void log(std::string line) const;

  // event_loop_tcp.cpp: connections
  void accept_all(Binding& b, TimePoint now);
  void connection_event(std::uint32_t index, std::uint32_t generation, std::uint32_t events, TimePoint now);
  void read_connection(Connection& c, TimePoint now);
  void write_connection(Connection& c, TimePoint now);
  void queue_stream(Binding& b, std::size_t node, txn::Transmit&& t);
  void report_failure(std::size_t node, const txn::Transmit& t, std::string_view why);
  Connection* open_connection(Binding& b, const sip::Endpoint& destination, TimePoint now);
  std::string connect_error_;  // why the last open_connection() returned null
  std::uint32_t add_connection(int fd, std::size_t binding, const sip::Endpoint& remote, bool connecting,
                               TimePoint now);
  void close_connection(Connection& c, std::string_view reason);
  void want_write(Connection& c, bool on);
  void housekeeping(TimePoint now);
  void note_deadline(TimePoint when) {
    if (when < next_housekeeping_) next_housekeeping_ = when;
  }

  LoopOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;    // eventfd: stop() and post()
  int signal_fd_ = -1;  // eventfd written by the signal handler
  // timerfd for the earliest deadline when timers have a slack
  // (LoopOptions::timer_slack): set only when that deadline moves on the
  // slack's grid, where a timeout on every epoll wait armed and cancelled a
  // kernel timer per wake-up. Exact timers keep the timeout on the wait.
  int timer_fd_ = -1;
  TimePoint armed_deadline_ = TimePoint::max();  // what timer_fd_ is set to; max: disarmed
  void arm_timer(TimePoint deadline);
  std::string error_;

  std::vector<txn::Node*> nodes_;                 // attached Nodes (null once detached)
  std::vector<std::unique_ptr<Binding>> bindings_;  // index = epoll token; never reused
  std::vector<std::unique_ptr<Connection>> connections_;  // slots; generation tells reuse apart
  std::vector<std::uint32_t> free_connections_;
  std::size_t live_connections_ = 0;
  std::vector<std::uint32_t> dirty_connections_;  // have bytes queued since the last write
  std::vector<std::size_t> udp_dirty_;            // bindings with datagrams queued

  // UDP receive batch, allocated once.
  std::vector<char> rx_buffer_;
  std::vector<mmsghdr> rx_msgs_;
  std::vector<iovec> rx_iov_;
  std::vector<SocketAddress> rx_from_;
  // UDP send batch scratch.
  std::vector<mmsghdr> tx_msgs_;
  std::vector<iovec> tx_iov_;
  std::vector<SocketAddress> tx_to_;
  std::vector<txn::Transmit> transmits_;

  TimePoint next_housekeeping_ = TimePoint::max();
  std::atomic<bool> stop_requested_{false};
  bool signalled_ = false;
  std::optional<int> last_signal_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_posted_;
  SignalHook signals_;
  LoopCounters counters_;
};

}  // namespace imsflow::net
