#include "net/sharded_loops.hpp"

namespace imsflow::net {

ShardedLoops::ShardedLoops(std::size_t shards, LoopOptions options) {
  options.reuse_port = true;
  if (shards == 0) shards = 1;
  for (std::size_t i = 0; i < shards; ++i) loops_.push_back(std::make_unique<EventLoop>(options));
}

ShardedLoops::~ShardedLoops() {
  stop();
  join();
}

NetResult<sip::Endpoint> ShardedLoops::bind(const sip::Endpoint& local, ListenOn which) {
  auto first = loops_[0]->bind(local, which);
  if (!first) return first;
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    sip::Endpoint same = *first;
    same.transport = local.transport;
    auto bound = loops_[i]->bind(same, which);
    if (!bound) return bound;
  }
  return first;
}

NetResult<std::vector<sip::Endpoint>> ShardedLoops::bind_each(const sip::Endpoint& local, ListenOn which) {
  if (local.port != 0 && loops_.size() > 1)
    return Unexpected{NetError{NetErrorCode::AlreadyBound, "bind_each needs port 0 (one port per shard): " +
                                                               describe_endpoint(local)}};
  std::vector<sip::Endpoint> out;
  for (auto& loop : loops_) {
    auto bound = loop->bind(local, which);
    if (!bound) return Unexpected{bound.error()};
    out.push_back(*bound);
  }
  return out;
}

NetStatus ShardedLoops::attach(const std::function<txn::Node&(std::size_t)>& node_for, const sip::Endpoint& local,
                               ListenOn which) {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    auto r = loops_[i]->attach(node_for(i), local, which);
    if (!r) return Unexpected{r.error()};
  }
  return std::monostate{};
}

void ShardedLoops::start() {
  if (!threads_.empty()) return;
  for (auto& loop : loops_) {
    EventLoop* l = loop.get();
    threads_.emplace_back([this, l] {
      // A signal stops one shard's run(); it then stops the others.
      if (l->run() == StopReason::Signal) {
        int none = 0;
        signal_.compare_exchange_strong(none, l->last_signal().value_or(0));
        stop();
      }
    });
  }
}

void ShardedLoops::stop() {
  for (auto& loop : loops_) loop->stop();
}

void ShardedLoops::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

NetStatus ShardedLoops::stop_on_signals(std::initializer_list<int> signals) {
  for (auto& loop : loops_) {
    auto r = loop->stop_on_signals(signals);
    if (!r) return r;
  }
  return std::monostate{};
}

void add_counters(LoopCounters& a, const LoopCounters& b) {
  a.datagrams_in += b.datagrams_in;
  a.datagrams_out += b.datagrams_out;
  a.udp_bytes_in += b.udp_bytes_in;
  a.udp_bytes_out += b.udp_bytes_out;
  a.stream_messages_in += b.stream_messages_in;
  a.stream_messages_out += b.stream_messages_out;
  a.tcp_bytes_in += b.tcp_bytes_in;
  a.tcp_bytes_out += b.tcp_bytes_out;
  a.receive_batches += b.receive_batches;
  a.send_batches += b.send_batches;
  a.keepalives_in += b.keepalives_in;
  a.connections_accepted += b.connections_accepted;
  a.connections_opened += b.connections_opened;
  a.connections_closed += b.connections_closed;
  a.connect_failures += b.connect_failures;
  a.idle_closes += b.idle_closes;
  a.stall_closes += b.stall_closes;
  a.framing_errors += b.framing_errors;
  a.truncated_datagrams += b.truncated_datagrams;
  a.unrouted += b.unrouted;
  a.send_errors += b.send_errors;
  a.send_eagain += b.send_eagain;
  a.receive_errors += b.receive_errors;
  a.timer_runs += b.timer_runs;
  a.iterations += b.iterations;
}

LoopCounters ShardedLoops::total_counters() const {
  LoopCounters total;
  for (const auto& loop : loops_) add_counters(total, loop->counters());
  return total;
}

}  // namespace imsflow::net
