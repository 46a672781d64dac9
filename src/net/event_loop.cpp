#include "net/event_loop.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "net/event_loop_internal.hpp"
#include "util/ascii.hpp"

namespace imsflow::net {
namespace {

constexpr int kMaxEvents = 128;
constexpr std::size_t kMaxSendBatch = 1024;  // UIO_MAXIOV: sendmmsg() takes no more at once
constexpr int kUdpRoundsPerEvent = 8;        // recvmmsg() calls per readiness, then others get a turn
constexpr int kPortAttempts = 16;            // tries to find a port free for both UDP and TCP

bool only_crlf(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\r' || c == '\n'; });
}

// Counts the first error of each kind and then only powers of two, so a
// storm of EAGAIN does not flood the log.
bool worth_logging(std::uint64_t count) { return count != 0 && (count & (count - 1)) == 0; }

void set_int_option(int fd, int level, int name, int value) {
  // Best effort: a refused option (no SO_REUSEPORT, a capped buffer) leaves the default.
  (void)setsockopt(fd, level, name, &value, sizeof value);
}

int bound_port(int fd) {
  SocketAddress a;
  a.length = sizeof a.storage;
  if (getsockname(fd, a.get(), &a.length) != 0) return -1;
  auto e = from_socket_address(a.get(), a.length, sip::Transport::Udp);
  return e ? e->port : -1;
}

/// Opens, configures and binds a socket of `type` at `at` (port 0: the
/// kernel picks one, written back into `at`). -1 with errno on failure.
int open_bound_socket(sip::Endpoint& at, int type, const LoopOptions& options, const char*& failed_step) {
  const int family = at.address.v6 ? AF_INET6 : AF_INET;
  failed_step = "cannot create a socket for";
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // v4 and v6 endpoints are bound apart; a v6 socket must not take v4 traffic.
  if (at.address.v6) set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  if (type == SOCK_STREAM) set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (options.reuse_port) set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  if (type == SOCK_DGRAM) {
    // ICMP errors (port unreachable …) queued with the datagram they quote,
    // so the transaction that sent it fails at once (RFC 3261 §18.4)
    // instead of waiting 64·T1.
    if (at.address.v6)
      set_int_option(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
    else
      set_int_option(fd, IPPROTO_IP, IP_RECVERR, 1);
  }
  if (type == SOCK_DGRAM && options.socket_buffer_bytes > 0) {
    set_int_option(fd, SOL_SOCKET, SO_RCVBUF, options.socket_buffer_bytes);
    set_int_option(fd, SOL_SOCKET, SO_SNDBUF, options.socket_buffer_bytes);
  }
  const SocketAddress address = to_socket_address(at);
  failed_step = "cannot bind";
  if (::bind(fd, address.get(), address.length) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  if (type == SOCK_STREAM && ::listen(fd, SOMAXCONN) != 0) {
    failed_step = "cannot listen on";
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  const int port = bound_port(fd);
  if (port > 0) at.port = static_cast<std::uint16_t>(port);
  return fd;
}

}  // namespace

std::uint64_t EventLoop::token(Kind kind, std::uint32_t index, std::uint32_t generation) {
  return static_cast<std::uint64_t>(kind) << 56 | static_cast<std::uint64_t>(generation & 0xFFFFFF) << 32 | index;
}

EventLoop::EventLoop(LoopOptions options) : options_(std::move(options)) {
  if (options_.udp_batch == 0) options_.udp_batch = 1;
  if (options_.udp_max_datagram == 0) options_.udp_max_datagram = 65535;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  signal_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);  // steady_clock's clock
  if (epoll_fd_ < 0 || wake_fd_ < 0 || signal_fd_ < 0 || timer_fd_ < 0) {
    error_ = std::string("cannot create the event loop: ") + std::strerror(errno);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = token(Kind::Wake, 0);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  ev.data.u64 = token(Kind::Signal, 0);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev);
  ev.data.u64 = token(Kind::Timer, 0);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);

  const std::size_t batch = options_.udp_batch;
  rx_buffer_.resize(batch * options_.udp_max_datagram);
  rx_msgs_.resize(batch);
  rx_iov_.resize(batch);
  rx_from_.resize(batch);
  for (std::size_t i = 0; i < batch; ++i) {
    rx_iov_[i].iov_base = rx_buffer_.data() + i * options_.udp_max_datagram;
    rx_iov_[i].iov_len = options_.udp_max_datagram;
    std::memset(&rx_msgs_[i], 0, sizeof(mmsghdr));
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
    rx_msgs_[i].msg_hdr.msg_name = &rx_from_[i].storage;
  }
}

EventLoop::~EventLoop() {
  signals_.release();  // before its descriptor closes
  for (auto& c : connections_)
    if (c && c->fd >= 0) ::close(c->fd);
  for (auto& b : bindings_) {
    if (b->udp_fd >= 0) ::close(b->udp_fd);
    if (b->tcp_fd >= 0) ::close(b->tcp_fd);
  }
  for (int fd : {timer_fd_, signal_fd_, wake_fd_, epoll_fd_})
    if (fd >= 0) ::close(fd);
}

void EventLoop::log(std::string line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "imsflow net: %s\n", line.c_str());
  }
}

// --- endpoints -------------------------------------------------------------------

NetResult<sip::Endpoint> EventLoop::bind(const sip::Endpoint& local, ListenOn which) {
  if (!ok()) return Unexpected{NetError{NetErrorCode::SocketFailed, error_}};
  if (local.transport == sip::Transport::Tls)
    return Unexpected{NetError{NetErrorCode::UnsupportedTransport, "TLS is not implemented: " + describe_endpoint(local)}};
  if (which == ListenOn::Default)
    which = local.transport == sip::Transport::Udp ? ListenOn::UdpAndTcp : ListenOn::TcpOnly;
  const bool want_udp = which != ListenOn::TcpOnly;
  const bool want_tcp = which != ListenOn::UdpOnly;
  if (local.port != 0) {
    for (const auto& b : bindings_)
      if (!b->closed && same_address_and_port(b->endpoint, local))
        return Unexpected{NetError{NetErrorCode::AlreadyBound, "already bound in this loop: " + describe_endpoint(local)}};
  }

  int udp_fd = -1;
  int tcp_fd = -1;
  sip::Endpoint bound = local;
  const int attempts = (local.port == 0 && want_udp && want_tcp) ? kPortAttempts : 1;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    bound.port = local.port;
    const char* step = "";
    if (want_udp) {
      sip::Endpoint at = bound;
      at.transport = sip::Transport::Udp;
      udp_fd = open_bound_socket(at, SOCK_DGRAM, options_, step);
      if (udp_fd < 0) return Unexpected{os_error(NetErrorCode::BindFailed, step, at, errno)};
      bound.port = at.port;
    }
    if (want_tcp) {
      sip::Endpoint at = bound;
      at.transport = sip::Transport::Tcp;
      tcp_fd = open_bound_socket(at, SOCK_STREAM, options_, step);
      if (tcp_fd < 0) {
        const int err = errno;
        if (udp_fd >= 0) ::close(udp_fd);
        udp_fd = -1;
        // The ephemeral UDP port is taken for TCP: try another one.
        if (err == EADDRINUSE && attempt + 1 < attempts) continue;
        return Unexpected{os_error(step == std::string_view("cannot listen on") ? NetErrorCode::ListenFailed
                                                                                : NetErrorCode::BindFailed,
                                   step, at, err)};
      }
      bound.port = at.port;
    }
    break;
  }

  auto b = std::make_unique<Binding>();
  b->endpoint = bound;
  b->udp_local = bound;
  b->udp_local.transport = sip::Transport::Udp;
  b->tcp_local = bound;
  b->tcp_local.transport = sip::Transport::Tcp;
  b->udp_fd = udp_fd;
  b->tcp_fd = tcp_fd;
  const auto index = static_cast<std::uint32_t>(bindings_.size());
  b->index = index;
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (udp_fd >= 0) {
    ev.data.u64 = token(Kind::Udp, index);
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, udp_fd, &ev);
  }
  if (tcp_fd >= 0) {
    ev.data.u64 = token(Kind::Listener, index);
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, tcp_fd, &ev);
  }
  bindings_.push_back(std::move(b));
  return bound;
}

int EventLoop::node_index(const txn::Node& node) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i] == &node) return static_cast<int>(i);
  return -1;
}

NetResult<sip::Endpoint> EventLoop::attach(txn::Node& node, const sip::Endpoint& local, ListenOn which) {
  Binding* target = nullptr;
  if (local.port != 0) {
    for (auto& b : bindings_)
      if (!b->closed && same_address_and_port(b->endpoint, local)) target = b.get();
  }
  if (target) {
    if (target->node >= 0 && nodes_[target->node] != &node)
      return Unexpected{NetError{NetErrorCode::AlreadyBound,
                                 "another node is attached to " + describe_endpoint(target->endpoint)}};
  } else {
    auto bound = bind(local, which);
    if (!bound) return bound;
    target = bindings_.back().get();
  }
  int n = node_index(node);
  if (n < 0) {
    n = static_cast<int>(nodes_.size());
    nodes_.push_back(&node);
  }
  target->node = n;
  sip::Endpoint result = target->endpoint;
  result.transport = local.transport;
  return result;
}

void EventLoop::detach(txn::Node& node) {
  const int n = node_index(node);
  if (n < 0) return;
  for (auto& b : bindings_) {
    if (b->closed || b->node != n) continue;
    // Every connection of this binding, including one that lost its table
    // entry to a newer connection with the same peer.
    for (auto& c : connections_)
      if (c && c->fd >= 0 && bindings_[c->binding].get() == b.get()) close_connection(*c, "");
    if (b->udp_fd >= 0) ::close(b->udp_fd);
    if (b->tcp_fd >= 0) ::close(b->tcp_fd);
    b->udp_fd = b->tcp_fd = -1;
    b->udp_pending.clear();
    b->closed = true;
    b->node = -1;
  }
  nodes_[n] = nullptr;
}

std::vector<sip::Endpoint> EventLoop::endpoints() const {
  std::vector<sip::Endpoint> out;
  for (const auto& b : bindings_)
    if (!b->closed) out.push_back(b->endpoint);
  return out;
}

// --- running ---------------------------------------------------------------------

void EventLoop::stop() {
  stop_requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

NetStatus EventLoop::stop_on_signals(std::initializer_list<int> signals) {
  if (!ok()) return Unexpected{NetError{NetErrorCode::SocketFailed, error_}};
  return signals_.install(signal_fd_, signals);
}

StopReason EventLoop::run_for(Duration d) { return run_bounded(nullptr, Clock::now() + d); }

StopReason EventLoop::run_until(const std::function<bool()>& done, Duration max) {
  return run_bounded(&done, Clock::now() + max);
}

StopReason EventLoop::run() { return run_bounded(nullptr, std::nullopt); }

StopReason EventLoop::run_bounded(const std::function<bool()>* done, std::optional<TimePoint> end) {
  if (done && (*done)()) return StopReason::Done;
  while (true) {
    if (signalled_) {
      signalled_ = false;
      return StopReason::Signal;
    }
    if (stop_requested_.exchange(false, std::memory_order_acq_rel)) return StopReason::Stopped;
    const TimePoint now = Clock::now();
    if (end && now >= *end) {
      flush();
      return StopReason::TimeUp;
    }
    run_once(end ? *end - now : Duration::max());
    if (done && (*done)()) return StopReason::Done;
  }
}

void EventLoop::run_once(Duration max_wait) {
  ++counters_.iterations;
  flush();
  const TimePoint start = Clock::now();
  const TimePoint limit = max_wait >= TimePoint::max() - start ? TimePoint::max() : start + max_wait;
  wait(limit);
  run_posted();
  const TimePoint now = Clock::now();
  fire_timers(now);
  if (now >= next_housekeeping_) housekeeping(now);
  flush();
  if (options_.batch_window > Duration::zero() && worked_) gather(now);
}

TimePoint EventLoop::earliest_deadline(TimePoint bound) const {
  for (const txn::Node* n : nodes_)
    if (n)
      if (auto d = n->next_deadline()) bound = std::min(bound, *d);
  return bound;
}

void EventLoop::gather(TimePoint now) {
  const TimePoint until = earliest_deadline(now + options_.batch_window);
  if (until <= now) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until - now).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  ::nanosleep(&ts, nullptr);  // a signal cuts it short; its eventfd is read next
}

void EventLoop::arm_timer(TimePoint deadline) {
  if (options_.timer_slack > Duration::zero() && deadline != TimePoint::max()) {
    // Up to the next multiple of the slack, so that deadlines close together
    // share one wake-up and the timer is set again less often.
    const Duration g = options_.timer_slack;
    const Duration t = deadline.time_since_epoch();
    deadline = TimePoint(((t + g - Duration(1)) / g) * g);
  }
  if (deadline == armed_deadline_) return;
  armed_deadline_ = deadline;
  itimerspec when{};  // all zero disarms
  if (deadline != TimePoint::max()) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    // An absolute time of zero would disarm: a deadline at the clock's
    // origin is in the past anyway, and 1 ns fires at once just the same.
    when.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
    when.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
    if (when.it_value.tv_sec <= 0 && when.it_value.tv_nsec <= 0) when.it_value.tv_nsec = 1;
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &when, nullptr);
}

void EventLoop::wait(TimePoint limit) {
  TimePoint deadline = earliest_deadline(std::min(limit, next_housekeeping_));
  {
    std::lock_guard lock(posted_mutex_);
    if (!posted_.empty()) deadline = TimePoint::min();
  }
  epoll_event events[kMaxEvents];
  int n;
  const TimePoint before = Clock::now();
  if (deadline <= before) {
    n = epoll_wait(epoll_fd_, events, kMaxEvents, 0);  // due already: only look
  } else if (options_.timer_slack > Duration::zero() || deadline == TimePoint::max()) {
    // The wait itself has no timeout; the timerfd (in the epoll set) ends
    // it at the deadline, and is set again only when the deadline moves.
    arm_timer(deadline);
    n = epoll_wait(epoll_fd_, events, kMaxEvents, -1);
  } else {
    // Exact timers: the timeout rides on the wait, one system call where the
    // timerfd would take two whenever the deadline moves (every wake-up of a
    // load generator pacing calls).
    const Duration left = deadline - before;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
    // µs-exact wake-ups where the kernel has epoll_pwait2 (5.11+).
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    n = epoll_pwait2(epoll_fd_, events, kMaxEvents, &ts, nullptr);
    if (n < 0 && errno == ENOSYS)
#endif
    {
      // Round up, so a wake-up never comes before the deadline it is for.
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
      n = epoll_wait(epoll_fd_, events, kMaxEvents, static_cast<int>(std::min<long long>(ms, 1 << 30)));
    }
  }
  worked_ = false;
  if (n <= 0) return;  // nothing due, or EINTR (a signal: its eventfd is read next time)
  const TimePoint now = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (kind_of(events[i].data.u64) != Kind::Timer) worked_ = true;
    dispatch(events[i].data.u64, events[i].events, now);
  }
}

void EventLoop::dispatch(std::uint64_t tok, std::uint32_t events, TimePoint now) {
  const auto kind = kind_of(tok);
  const auto index = static_cast<std::uint32_t>(tok);
  const auto generation = static_cast<std::uint32_t>(tok >> 32) & 0xFFFFFF;
  std::uint64_t value = 0;
  switch (kind) {
    case Kind::Wake: {
      [[maybe_unused]] ssize_t r = ::read(wake_fd_, &value, sizeof value);
      return;
    }
    case Kind::Timer: {
      // Expired: it fires no more until set again, whatever the deadline.
      [[maybe_unused]] ssize_t r = ::read(timer_fd_, &value, sizeof value);
      armed_deadline_ = TimePoint::max();
      return;
    }
    case Kind::Signal: {
      [[maybe_unused]] ssize_t r = ::read(signal_fd_, &value, sizeof value);
      signalled_ = true;
      last_signal_ = signals_.last_signal();
      return;
    }
    case Kind::Udp:
      if (index >= bindings_.size() || bindings_[index]->closed) return;
      if (events & EPOLLERR) read_udp_errors(*bindings_[index], now);
      if (events & EPOLLIN) read_udp(*bindings_[index]);
      return;
    case Kind::Listener:
      if (index < bindings_.size() && !bindings_[index]->closed) accept_all(*bindings_[index], now);
      return;
    case Kind::Connection:
      connection_event(index, generation, events, now);
      return;
  }
}

void EventLoop::run_posted() {
  {
    std::lock_guard lock(posted_mutex_);
    if (posted_.empty()) return;
    running_posted_.swap(posted_);
  }
  for (auto& task : running_posted_) task();
  running_posted_.clear();
}

void EventLoop::fire_timers(TimePoint now) {
  for (txn::Node* n : nodes_) {
    if (!n) continue;
    auto d = n->next_deadline();
    if (d && *d <= now) {
      n->advance(now);
      ++counters_.timer_runs;
    }
  }
}

// --- UDP -------------------------------------------------------------------------

void EventLoop::read_udp(Binding& b) {
  const std::size_t batch = rx_msgs_.size();
  for (int round = 0; round < kUdpRoundsPerEvent; ++round) {
    for (std::size_t i = 0; i < batch; ++i) {
      rx_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      rx_msgs_[i].msg_hdr.msg_flags = 0;
      rx_msgs_[i].msg_len = 0;
    }
    const int n = recvmmsg(b.udp_fd, rx_msgs_.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // An ICMP error queued on the socket (ECONNREFUSED …): counted, and
        // reading goes on at the next readiness.
        ++counters_.receive_errors;
      }
      return;
    }
    if (n == 0) return;
    ++counters_.receive_batches;
    const TimePoint now = Clock::now();
    txn::Node* node = b.node >= 0 ? nodes_[b.node] : nullptr;
    for (int i = 0; i < n; ++i) {
      const mmsghdr& m = rx_msgs_[i];
      if (m.msg_hdr.msg_flags & MSG_TRUNC) {
        ++counters_.truncated_datagrams;
        continue;
      }
      const std::string_view bytes(static_cast<const char*>(rx_iov_[i].iov_base), m.msg_len);
      ++counters_.datagrams_in;
      counters_.udp_bytes_in += bytes.size();
      if (only_crlf(bytes)) {
        ++counters_.keepalives_in;
        continue;
      }
      auto remote = from_socket_address(static_cast<const sockaddr*>(m.msg_hdr.msg_name), m.msg_hdr.msg_namelen,
                                        sip::Transport::Udp);
      if (!remote || !node) {
        ++counters_.unrouted;
        continue;
      }
      node->receive(bytes, *remote, b.udp_local, now);
    }
    if (static_cast<std::size_t>(n) < batch) return;
  }
}

namespace {
/// The SIP header section of a datagram quoted by an ICMP error, which keeps
/// only its first few hundred bytes: the complete lines, without
/// Content-Length, closed by an empty line, so the transaction layer can
/// still parse its Via, CSeq and the rest of its identity.
std::string quoted_message_head(std::string_view quoted) {
  std::string_view head = quoted.substr(0, quoted.find("\r\n\r\n"));
  if (head.size() == quoted.size()) head = head.substr(0, head.rfind("\r\n"));
  std::string out;
  out.reserve(head.size() + 4);
  std::size_t pos = 0;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(pos, end - pos);
    const bool content_length = ascii::iequals(line.substr(0, 15), "Content-Length:") ||
                                (line.size() > 1 && (line[0] == 'l' || line[0] == 'L') && (line[1] == ':' || line[1] == ' '));
    if (!content_length) out.append(line).append("\r\n");
    pos = end + 2;
  }
  out.append("\r\n");
  return out;
}
}  // namespace

void EventLoop::read_udp_errors(Binding& b, TimePoint now) {
  // Each entry of the error queue: the datagram that failed (its payload as
  // the ICMP message quoted it), where it was going, and why.
  char payload[2048];
  char control[512];
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage to{};
    iovec iov{payload, sizeof payload};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(b.udp_fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN: the queue is empty
    int err = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
          (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
        sock_extended_err ee;
        std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
        err = static_cast<int>(ee.ee_errno);
      }
    }
    ++counters_.icmp_errors;
    auto remote = from_socket_address(reinterpret_cast<const sockaddr*>(&to), msg.msg_namelen, sip::Transport::Udp);
    txn::Node* node = b.node >= 0 ? nodes_[b.node] : nullptr;
    if (!remote || !node || err == 0) continue;
    const std::string_view quoted(payload, static_cast<std::size_t>(n));
    // The quote is often cut (576 bytes of IPv4 ICMP); the head is enough.
    txn::Transmit failed{b.udp_local, *remote, quoted_message_head(quoted)};
    const std::string why = std::string("ICMP error from ") + describe_endpoint(*remote) + ": " + std::strerror(err);
    if (worth_logging(counters_.icmp_errors)) log(why);
    node->transport_failed(failed, why, now);
  }
}

void EventLoop::flush() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]) continue;
    transmits_.clear();
    nodes_[i]->take_transmits(transmits_);
    for (txn::Transmit& t : transmits_) route(i, std::move(t));
  }
  transmits_.clear();
  for (std::size_t b : udp_dirty_) send_udp(*bindings_[b]);
  udp_dirty_.clear();
  if (!dirty_connections_.empty()) {
    const TimePoint now = Clock::now();
    for (std::size_t k = 0; k < dirty_connections_.size(); ++k) {
      Connection& c = *connections_[dirty_connections_[k]];
      c.dirty = false;
      if (c.fd >= 0) write_connection(c, now);
    }
    dirty_connections_.clear();
  }
}

EventLoop::Binding* EventLoop::source_binding(std::size_t node, const txn::Transmit& t) {
  const bool udp = t.destination.transport == sip::Transport::Udp;
  const bool v6 = t.destination.address.v6;
  Binding* fallback = nullptr;
  for (auto& b : bindings_) {
    if (b->closed || b->node != static_cast<int>(node) || b->endpoint.address.v6 != v6) continue;
    if (udp && b->udp_fd < 0) continue;
    if (same_address_and_port(b->endpoint, t.source)) return b.get();
    if (!fallback) fallback = b.get();
  }
  // A Node that names a source it was not attached at (or of the other IP
  // family) still gets its message out, from its first fitting socket.
  return fallback;
}

void EventLoop::route(std::size_t node, txn::Transmit&& t) {
  Binding* b = source_binding(node, t);
  if (!b) {
    ++counters_.unrouted;
    ++counters_.send_errors;
    if (worth_logging(counters_.unrouted))
      log("no socket to send from " + describe_endpoint(t.source) + " to " + describe_endpoint(t.destination));
    return;
  }
  switch (t.destination.transport) {
    case sip::Transport::Udp: {
      if (b->udp_pending.empty()) {
        udp_dirty_.push_back(b->index);
      }
      b->udp_pending.push_back(std::move(t));
      return;
    }
    case sip::Transport::Tcp:
      queue_stream(*b, node, std::move(t));
      return;
    case sip::Transport::Tls:
      ++counters_.send_errors;
      if (worth_logging(counters_.send_errors)) log("TLS is not implemented: dropped a message to " + t.destination.to_string());
      return;
  }
}

void EventLoop::send_udp(Binding& b) {
  std::vector<txn::Transmit>& pending = b.udp_pending;
  const std::size_t total = pending.size();
  if (b.udp_fd < 0) {
    pending.clear();
    return;
  }
  std::size_t done = 0;
  while (done < total) {
    const std::size_t count = std::min(total - done, kMaxSendBatch);
    if (tx_msgs_.size() < count) {
      tx_msgs_.resize(count);
      tx_iov_.resize(count);
      tx_to_.resize(count);
    }
    for (std::size_t i = 0; i < count; ++i) {
      txn::Transmit& t = pending[done + i];
      tx_to_[i] = to_socket_address(t.destination);
      tx_iov_[i].iov_base = t.bytes.data();
      tx_iov_[i].iov_len = t.bytes.size();
      std::memset(&tx_msgs_[i], 0, sizeof(mmsghdr));
      tx_msgs_[i].msg_hdr.msg_name = &tx_to_[i].storage;
      tx_msgs_[i].msg_hdr.msg_namelen = tx_to_[i].length;
      tx_msgs_[i].msg_hdr.msg_iov = &tx_iov_[i];
      tx_msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    std::size_t sent = 0;
    while (sent < count) {
      const int r = sendmmsg(b.udp_fd, tx_msgs_.data() + sent, static_cast<unsigned>(count - sent), MSG_DONTWAIT);
      if (r > 0) {
        ++counters_.send_batches;
        for (int k = 0; k < r; ++k) {
          ++counters_.datagrams_out;
          counters_.udp_bytes_out += tx_iov_[sent + k].iov_len;
        }
        sent += static_cast<std::size_t>(r);
        continue;
      }
      const int err = r < 0 ? errno : EAGAIN;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        // The send buffer is full: the rest of this batch is dropped (UDP
        // may lose it anyway; the transaction layer retransmits).
        const std::size_t dropped = count - sent;
        counters_.send_eagain += dropped;
        counters_.send_errors += dropped;
        if (worth_logging(counters_.send_eagain))
          log("UDP send buffer full on " + describe_endpoint(b.udp_local) + ": " + std::to_string(dropped) +
              " datagram(s) dropped");
        sent = count;
        break;
      }
      // This one datagram is refused (too long, unreachable, wrong family): skip it.
      ++counters_.send_errors;
      if (worth_logging(counters_.send_errors))
        log("cannot send a datagram from " + describe_endpoint(b.udp_local) + " to " +
            pending[done + sent].destination.to_string() + ": " + std::strerror(err));
      ++sent;
    }
    done += count;
  }
  pending.clear();
}

}  // namespace imsflow::net
