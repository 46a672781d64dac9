// One event loop per core: N EventLoops on N threads, each with its own
// sockets bound with SO_REUSEPORT to the same address and port, each driving
// its own Node instance (Nodes are single-threaded and share nothing).
//
// How traffic is spread. For UDP, Linux picks the socket of a reuseport
// group by a hash of the arriving datagram's 4-tuple (source address and
// port, destination address and port): every datagram from one peer socket
// to the shared port goes to the same shard, and different peers (or one
// peer's different source ports) spread across the shards. Which shard sent
// something plays no part: the choice is made on receive, from the hash
// alone. For TCP, the same hash picks the listener that accepts a
// connection, and the connection then stays in that shard.
//
// What that means for sharding by Call-ID. The kernel does not read SIP, so
// it cannot send a Call-ID to "its" shard; a call stays in one shard only
// when every message of it that arrives has the same 4-tuple:
//  - UAS side (the shared port): a peer sends the INVITE, the PRACK, the
//    ACK and the BYE of a dialog from one socket to our shared port, so the
//    whole dialog (and each retransmission) lands in the shard that took the
//    INVITE. Calls from many peer sockets spread over the shards.
//  - UAC side: a shard that sends an INVITE *from the shared port* cannot
//    count on the answer coming back to it. The responses come from the
//    peer's socket to the shared port, and that 4-tuple hashes to one fixed
//    shard for that peer, which is the sender only by chance (1 in N). So a
//    UAC shard must send from a port of its own: bind_each() gives every
//    shard its own ephemeral port; the shard puts it in its Via (with rport)
//    and Contact, generates its Call-IDs, and everything for those calls
//    returns to that port — its shard — because the 4-tuple is the one it
//    sent on. (A peer that answers from a different socket than the one it
//    received on still reaches the right shard: the destination port is ours
//    alone.)
// The UAS-side mapping breaks when a peer changes its source port mid-call
// (a new socket, NAT rebinding, a proxy with several sockets): the messages
// reach another shard, which has no such dialog and answers 481. It breaks
// for live calls, too, when the group changes (a shard's socket closes or
// one is added), because the hash is taken modulo the group size: keep the
// number of shards fixed for the life of the process. Affinity by Call-ID
// across peers needs a stateless dispatcher in front, or shared dialog
// state (DESIGN.md: Redis).
// Each shard's Node should be seeded differently, so Call-IDs, tags and
// branches drawn in different shards do not collide.
#pragma once

#include <cstddef>
#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "net/event_loop.hpp"

namespace imsflow::net {

class ShardedLoops {
 public:
  /// `shards` loops (at least one), each built with `options` plus
  /// reuse_port. The loops exist from here on; threads start with start().
  explicit ShardedLoops(std::size_t shards, LoopOptions options = {});
  /// Stops and joins the threads.
  ~ShardedLoops();
  ShardedLoops(const ShardedLoops&) = delete;
  ShardedLoops& operator=(const ShardedLoops&) = delete;

  std::size_t size() const { return loops_.size(); }
  /// Touch a shard's loop (and its Node) only from its own thread once
  /// started (use EventLoop::post()), or before start() / after join().
  EventLoop& shard(std::size_t i) { return *loops_[i]; }

  /// Binds `local` in every shard, all in one SO_REUSEPORT group (port 0:
  /// shard 0 takes an ephemeral port, the others join it). Call before
  /// start(). Returns the bound endpoint, the same in every shard.
  NetResult<sip::Endpoint> bind(const sip::Endpoint& local, ListenOn which = ListenOn::Default);
  /// Binds `local` (port 0 for an ephemeral one) once per shard, each shard
  /// on a port of its own: the UAC side of a shard (see above). Returns
  /// the endpoint of shard i at [i].
  NetResult<std::vector<sip::Endpoint>> bind_each(const sip::Endpoint& local, ListenOn which = ListenOn::Default);
  /// Attaches `node_for(i)` at `local` in shard i (after bind(), with the
  /// bound endpoint). Call before start().
  NetStatus attach(const std::function<txn::Node&(std::size_t shard)>& node_for, const sip::Endpoint& local,
                   ListenOn which = ListenOn::Default);

  /// One thread per shard, each running its loop until stop().
  void start();
  /// Thread-safe: every shard's run() returns after its iteration.
  void stop();
  /// Waits for the threads (after stop(), or after a hooked signal stopped them).
  void join();
  bool running() const { return !threads_.empty(); }
  /// A hooked signal stops every shard.
  NetStatus stop_on_signals(std::initializer_list<int> signals);
  /// The signal that stopped the shards, if one did (whichever shard saw it first).
  std::optional<int> last_signal() const {
    const int s = signal_.load();
    return s ? std::optional<int>(s) : std::nullopt;
  }

  /// The sum over shards; read it after join().
  LoopCounters total_counters() const;

 private:
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<int> signal_{0};
};

/// Adds every counter of `b` to `a`.
void add_counters(LoopCounters& a, const LoopCounters& b);

}  // namespace imsflow::net
