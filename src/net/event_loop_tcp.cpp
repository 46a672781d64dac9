// EventLoop: TCP connections (RFC 3261 §18.3 framing, §18.2.2 responses on
// the connection the request came on, connection reuse by remote endpoint).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/event_loop.hpp"
#include "net/event_loop_internal.hpp"

namespace imsflow::net {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kReadRoundsPerEvent = 16;

bool is_wildcard(const sip::IpAddress& a) {
  const std::size_t n = a.v6 ? 16 : 4;
  return std::all_of(a.bytes.begin(), a.bytes.begin() + n, [](std::uint8_t b) { return b == 0; });
}

bool worth_logging(std::uint64_t count) { return count != 0 && (count & (count - 1)) == 0; }

std::string seconds_text(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

}  // namespace

std::uint32_t EventLoop::add_connection(int fd, std::size_t binding, const sip::Endpoint& remote, bool connecting,
                                        TimePoint now) {
  std::uint32_t index;
  if (!free_connections_.empty()) {
    index = free_connections_.back();
    free_connections_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(connections_.size());
    connections_.push_back(std::make_unique<Connection>());
    connections_.back()->index = index;
  }
  Connection& c = *connections_[index];
  c.generation = (c.generation + 1) & 0xFFFFFF;
  if (c.generation == 0) c.generation = 1;
  c.fd = fd;
  c.binding = binding;
  c.remote = remote;
  c.remote.transport = sip::Transport::Tcp;
  c.connecting = connecting;
  c.writing = connecting;
  c.dirty = false;
  c.out.clear();
  c.out_offset = 0;
  c.in = StreamReader{};
  c.opened = now;
  c.last_activity = now;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (connecting ? EPOLLOUT : 0u);
  ev.data.u64 = token(Kind::Connection, index, c.generation);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  ++live_connections_;
  note_deadline(now + std::min(connecting ? options_.tcp_connect_timeout : options_.tcp_idle_timeout,
                               options_.tcp_idle_timeout));
  bindings_[binding]->connections[c.remote] = index;
  return index;
}

void EventLoop::close_connection(Connection& c, std::string_view reason) {
  if (c.fd < 0) return;
  ::close(c.fd);  // also takes it out of the epoll set
  c.fd = -1;
  ++counters_.connections_closed;
  --live_connections_;
  std::string line;
  if (!reason.empty()) line = "closed TCP connection with " + c.remote.to_string() + ": " + std::string(reason);
  if (c.unsent() > 0) {
    ++counters_.send_errors;
    if (line.empty()) line = "closed TCP connection with " + c.remote.to_string();
    line += " (" + std::to_string(c.unsent()) + " bytes unsent)";
  }
  if (!line.empty()) log(std::move(line));
  Binding& b = *bindings_[c.binding];
  auto it = b.connections.find(c.remote);
  if (it != b.connections.end() && it->second == c.index) b.connections.erase(it);
  c.out.clear();
  c.out.shrink_to_fit();
  c.out_offset = 0;
  c.in = StreamReader{};
  c.connecting = c.writing = false;
  c.awaiting_connect.clear();
  free_connections_.push_back(c.index);
}

void EventLoop::want_write(Connection& c, bool on) {
  if (c.writing == on || c.fd < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
  ev.data.u64 = token(Kind::Connection, c.index, c.generation);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.writing = on;
}

void EventLoop::accept_all(Binding& b, TimePoint now) {
  while (true) {
    SocketAddress peer;
    peer.length = sizeof peer.storage;
    const int fd = ::accept4(b.tcp_fd, peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ++counters_.receive_errors;
        if (worth_logging(counters_.receive_errors))
          log("cannot accept on " + describe_endpoint(b.tcp_local) + ": " + std::strerror(errno));
      }
      return;
    }
    auto remote = from_socket_address(peer.get(), peer.length, sip::Transport::Tcp);
    if (!remote) {
      ::close(fd);
      continue;
    }
    const int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    add_connection(fd, b.index, *remote, false, now);
    ++counters_.connections_accepted;
  }
}

EventLoop::Connection* EventLoop::open_connection(Binding& b, const sip::Endpoint& destination, TimePoint now) {
  const int fd = ::socket(destination.address.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ++counters_.connect_failures;
    connect_error_ = std::string("cannot create a socket: ") + std::strerror(errno);
    log("cannot create a socket for " + describe_endpoint(destination) + ": " + std::strerror(errno));
    return nullptr;
  }
  const int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!is_wildcard(b.endpoint.address)) {
    // Leave from the bound address (any port), so the peer sees the host of our Via.
    sip::Endpoint from = b.endpoint;
    from.port = 0;
    const SocketAddress a = to_socket_address(from);
    (void)::bind(fd, a.get(), a.length);
  }
  const SocketAddress to = to_socket_address(destination);
  bool connecting = false;
  if (::connect(fd, to.get(), to.length) != 0) {
    if (errno != EINPROGRESS) {
      const int err = errno;
      ::close(fd);
      ++counters_.connect_failures;
      connect_error_ = std::strerror(err);
      if (worth_logging(counters_.connect_failures))
        log("cannot connect to " + describe_endpoint(destination) + ": " + std::strerror(err));
      return nullptr;
    }
    connecting = true;
  }
  ++counters_.connections_opened;
  return connections_[add_connection(fd, b.index, destination, connecting, now)].get();
}

void EventLoop::report_failure(std::size_t node, const txn::Transmit& t, std::string_view why) {
  if (node < nodes_.size() && nodes_[node]) nodes_[node]->transport_failed(t, why, Clock::now());
}

void EventLoop::queue_stream(Binding& b, std::size_t node, txn::Transmit&& t) {
  sip::Endpoint key = t.destination;
  key.transport = sip::Transport::Tcp;
  Connection* c = nullptr;
  if (auto it = b.connections.find(key); it != b.connections.end()) c = connections_[it->second].get();
  if (!c) c = open_connection(b, key, Clock::now());
  if (!c) {
    ++counters_.send_errors;
    // Why it failed goes to the transaction, so a report names the cause
    // ("Too many open files", "Network is unreachable") and not only the hop.
    report_failure(node, t, "cannot connect to " + describe_endpoint(key) + ": " + connect_error_);
    return;
  }
  if (c->connecting) c->awaiting_connect.emplace_back(node, t);
  std::string bytes = std::move(t.bytes);
  if (c->unsent() + bytes.size() > options_.tcp_max_queued_bytes) {
    ++counters_.send_errors;
    close_connection(*c, "the peer does not read: more than " + std::to_string(options_.tcp_max_queued_bytes) +
                             " bytes queued");
    return;
  }
  if (c->unsent() == 0) {
    c->out = std::move(bytes);
    c->out_offset = 0;
  } else {
    c->out.append(bytes);
  }
  ++counters_.stream_messages_out;
  if (!c->dirty) {
    c->dirty = true;
    dirty_connections_.push_back(c->index);
  }
}

void EventLoop::write_connection(Connection& c, TimePoint now) {
  if (c.fd < 0 || c.connecting) return;
  while (c.out_offset < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_offset, c.out.size() - c.out_offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_offset += static_cast<std::size_t>(n);
      counters_.tcp_bytes_out += static_cast<std::uint64_t>(n);
      c.last_activity = now;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A partial write: the rest goes out when the socket is writable again.
      want_write(c, true);
      // Drop what was written, so the buffer does not keep growing at the front.
      if (c.out_offset > kReadChunk) {
        c.out.erase(0, c.out_offset);
        c.out_offset = 0;
      }
      note_deadline(now + options_.tcp_stall_timeout);
      return;
    }
    close_connection(c, std::string("send failed: ") + std::strerror(n < 0 ? errno : EPIPE));
    return;
  }
  c.out.clear();
  c.out_offset = 0;
  want_write(c, false);
}

void EventLoop::connection_event(std::uint32_t index, std::uint32_t generation, std::uint32_t events, TimePoint now) {
  if (index >= connections_.size()) return;
  Connection& c = *connections_[index];
  if (c.fd < 0 || c.generation != generation) return;  // closed earlier in this batch
  if (c.connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      ++counters_.connect_failures;
      const std::string why = std::string("connect failed: ") + std::strerror(err);
      auto awaiting = std::move(c.awaiting_connect);
      c.awaiting_connect.clear();
      close_connection(c, why);
      for (const auto& [node, t] : awaiting) report_failure(node, t, why);
      return;
    }
    c.connecting = false;
    c.awaiting_connect.clear();
    c.last_activity = now;
    write_connection(c, now);
    if (c.fd < 0) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    read_connection(c, now);
    if (c.fd < 0) return;
  }
  if ((events & EPOLLOUT) && c.writing) write_connection(c, now);
}

void EventLoop::read_connection(Connection& c, TimePoint now) {
  const Binding& b = *bindings_[c.binding];
  for (int round = 0; round < kReadRoundsPerEvent; ++round) {
    char* into = c.in.prepare(kReadChunk);
    const ssize_t n = ::recv(c.fd, into, kReadChunk, MSG_DONTWAIT);
    if (n < 0) {
      c.in.commit(0);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      ++counters_.receive_errors;
      close_connection(c, std::string("receive failed: ") + std::strerror(errno));
      return;
    }
    c.in.commit(static_cast<std::size_t>(n));
    if (n == 0) {
      // The peer closed. A message it left incomplete is lost; say so.
      const std::size_t left = c.in.buffered();
      close_connection(c, left ? "closed by the peer in the middle of a message (" + std::to_string(left) +
                                     " bytes unframed)"
                               : std::string());
      return;
    }
    counters_.tcp_bytes_in += static_cast<std::uint64_t>(n);
    c.last_activity = now;
    while (true) {
      const StreamItem item = c.in.next(now);
      if (item.kind == StreamItem::Kind::NeedMore) break;
      if (item.kind == StreamItem::Kind::KeepAlive) {
        ++counters_.keepalives_in;
        continue;
      }
      if (item.kind == StreamItem::Kind::Corrupt) {
        ++counters_.framing_errors;
        close_connection(c, "cannot frame the stream: expected " + std::string(item.reason) + " at byte " +
                                std::to_string(item.offset));
        return;
      }
      ++counters_.stream_messages_in;
      txn::Node* node = b.node >= 0 ? nodes_[b.node] : nullptr;
      if (node) {
        node->receive(item.message, c.remote, b.tcp_local, now);
      } else {
        ++counters_.unrouted;
      }
    }
    if (static_cast<std::size_t>(n) < kReadChunk) break;
  }
  if (auto since = c.in.incomplete_since()) note_deadline(*since + options_.tcp_stall_timeout);
}

void EventLoop::housekeeping(TimePoint now) {
  TimePoint next = TimePoint::max();
  for (auto& slot : connections_) {
    Connection& c = *slot;
    if (c.fd < 0) continue;
    if (c.connecting) {
      const TimePoint due = c.opened + options_.tcp_connect_timeout;
      if (now >= due) {
        ++counters_.connect_failures;
        const std::string why = "connect timed out after " + seconds_text(options_.tcp_connect_timeout);
        auto awaiting = std::move(c.awaiting_connect);
        close_connection(c, why);
        for (const auto& [node, t] : awaiting) report_failure(node, t, why);
        continue;
      }
      next = std::min(next, due);
      continue;
    }
    if (auto since = c.in.incomplete_since()) {
      const TimePoint due = *since + options_.tcp_stall_timeout;
      if (now >= due) {
        ++counters_.stall_closes;
        close_connection(c, "the peer stalled in the middle of a message for " +
                                seconds_text(options_.tcp_stall_timeout) + " (" + std::to_string(c.in.buffered()) +
                                " bytes unframed)");
        continue;
      }
      next = std::min(next, due);
    }
    if (c.unsent() > 0) {
      // Bytes wait for a peer that does not read: the same patience as for a
      // peer that stops writing mid-message.
      const TimePoint due = c.last_activity + options_.tcp_stall_timeout;
      if (now >= due) {
        ++counters_.stall_closes;
        close_connection(c, "the peer has not read for " + seconds_text(options_.tcp_stall_timeout));
        continue;
      }
      next = std::min(next, due);
    } else {
      const TimePoint due = c.last_activity + options_.tcp_idle_timeout;
      if (now >= due) {
        ++counters_.idle_closes;
        close_connection(c, "");
        continue;
      }
      next = std::min(next, due);
    }
  }
  next_housekeeping_ = next;
}

}  // namespace imsflow::net
