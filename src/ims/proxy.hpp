// A transaction-stateful, record-routing SIP proxy core (RFC 3261 §16),
// sans-I/O: the P-CSCF and the S-CSCF are this core with a RoutingPolicy
// that decides what an initial request becomes (TS 24.229 §5.2, §5.4).
//
// What the core does for every request, as §16 puts it:
//  - §16.3 checks: Max-Forwards 0 → 483 (a loop or a too-long path);
//  - §16.4 loose routing: a top Route naming this proxy is removed;
//  - initial requests (no To-tag, not ACK/CANCEL) go to the policy, which
//    answers them itself (a registrar, a 403) or names one or more targets;
//    requests inside a dialog follow their Route set, else the Request-URI;
//  - §16.6 forwarding: new Request-URI, Max-Forwards − 1, the target's
//    Route set before what is left, Record-Route when asked, a Via of ours
//    with a new branch, and a client transaction per target (parallel
//    forking when there are several);
//  - §16.7 responses: our Via removed; 100 absorbed (the server transaction
//    sent its own); other provisionals and every 2xx relayed at once (a 2xx
//    of another fork after the first goes out statelessly, RFC 6026 §7.1);
//    the other branches CANCELled after a 2xx or a 6xx; otherwise the best
//    final response once every branch is done (§16.7 step 6, 6xx first,
//    then the lowest class), with 408 for a branch that timed out and 503
//    for one whose transport failed;
//  - §16.10 CANCEL: answered by the transaction layer, then CANCEL on each
//    branch that had a provisional (the others as soon as they get one);
//  - ACK for a 2xx (no server transaction) is relayed statelessly on its
//    Route set, with a Via of ours;
//  - overload: beyond ProxyConfig::max_pending requests waiting for their
//    final response (or max_transactions live ones) a new request gets 503
//    with Retry-After, so no queue grows unbounded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sip/endpoint.hpp"
#include "sip/message.hpp"
#include "txn/transaction_layer.hpp"
#include "util/clock.hpp"

namespace imsflow::ims {

/// Where one branch of a forwarded request goes.
struct ProxyTarget {
  std::string request_uri;         // empty: keep the request's
  std::vector<std::string> route;  // name-addr values put before the request's remaining Route set
  std::optional<sip::Endpoint> destination;  // empty: the first Route, else the Request-URI
  bool replace_route = false;      // drop what is left of the request's own Route set
};

/// What a policy makes of an initial request.
struct RoutingDecision {
  int status = 0;                  // non-zero: answer the request with it here
  std::string reason;              // its reason phrase (empty: the usual one)
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::vector<ProxyTarget> targets;  // status 0: forward to these (parallel)
  bool record_route = true;
  bool see_final_response = false;  // call RoutingPolicy::on_final_response for this request
  std::vector<std::string> remove_headers;  // dropped from the forwarded request (by name)
  std::vector<std::pair<std::string, std::string>> add_headers;  // added to it

  static RoutingDecision respond(int status, std::string reason = {}) {
    RoutingDecision d;
    d.status = status;
    d.reason = std::move(reason);
    return d;
  }
};

class RoutingPolicy {
 public:
  virtual ~RoutingPolicy() = default;
  /// An initial request (not ACK or CANCEL, no To-tag). `own_route`: the
  /// URI of its top Route when that named this proxy (the core removes it;
  /// its user part tells "orig" from "term"), else empty. `remote`: where
  /// the request came from.
  virtual RoutingDecision route_initial(const sip::Message& request, std::string_view own_route,
                                        const sip::Endpoint& remote, TimePoint now) = 0;
  /// A final response to an initial request that this proxy forwarded, when
  /// its RoutingDecision asked for it (see_final_response),
  /// before it goes back to `upstream`, where the request came from (the
  /// P-CSCF learns a registration from the 200 to REGISTER). Headers to add
  /// to the relayed response go in `add`.
  virtual void on_final_response(const sip::Message& /*request*/, const sip::Endpoint& /*upstream*/,
                                 const sip::Message& /*response*/,
                                 std::vector<std::pair<std::string, std::string>>& /*add*/, TimePoint) {}
};

struct ProxyConfig {
  sip::Endpoint local;           // where the proxy listens: Via, Record-Route
  std::string record_route_user;  // user part of the Record-Route URI ("pcscf", "scscf")
  txn::TimerConfig timers;
  std::uint64_t seed = 1;
  // Overload (503 with Retry-After): requests still waiting for their final
  // response are the load; all live transactions (most of them finished and
  // only absorbing retransmissions, 32 s each) bound the memory.
  std::size_t max_pending = 20000;
  std::size_t max_transactions = 2000000;
  std::uint32_t retry_after_s = 5;
};

struct ProxyStats {
  std::uint64_t requests_forwarded = 0;
  std::uint64_t responses_relayed = 0;
  std::uint64_t acks_relayed = 0;
  std::uint64_t answered_locally = 0;   // by the policy (registrar, 403, 404 …)
  std::uint64_t loops_refused = 0;      // 483
  std::uint64_t overload_refused = 0;   // 503 with Retry-After
  std::uint64_t cancels_relayed = 0;
  std::uint64_t unroutable = 0;         // no IP destination to send to: 404/502 (no DNS here)
};

class StatefulProxy final : public txn::Node, private txn::TransactionUser {
 public:
  StatefulProxy(ProxyConfig config, RoutingPolicy& policy);

  // --- txn::Node ---
  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
               TimePoint now) override {
    layer_.receive(bytes, remote, local, now);
  }
  void advance(TimePoint now) override { layer_.advance(now); }
  std::optional<TimePoint> next_deadline() const override { return layer_.next_deadline(); }
  void take_transmits(std::vector<txn::Transmit>& out) override { layer_.take_transmits(out); }
  void transport_failed(const txn::Transmit& what, std::string_view why, TimePoint now) override {
    layer_.transport_failed(what, why, now);
  }

  /// This proxy's URI for Record-Route, Path and Service-Route, with `user`
  /// ("orig", "term") when given, always with ;lr.
  std::string own_uri(std::string_view user = {}) const;
  /// Whether a URI names this proxy (its host and port).
  bool is_own_uri(std::string_view uri) const;
  const ProxyStats& stats() const { return stats_; }
  const txn::TransactionStats& transaction_stats() const { return layer_.stats(); }
  std::size_t live_transactions() const { return layer_.live_transactions(); }
  std::size_t live_contexts() const { return contexts_.size(); }
  /// Relayed requests without their final response yet.
  std::size_t pending() const { return pending_; }
  const ProxyConfig& config() const { return config_; }

 private:
  struct Branch {
    txn::TransactionId client;
    int final_status = 0;        // 0 while pending
    bool provisional = false;    // a 1xx came: it may be CANCELled
    bool cancel_pending = false; // CANCEL it when a provisional comes
  };
  // One relayed request: its server transaction and the client branches.
  struct Context {
    txn::TransactionId server;
    sip::Endpoint upstream;       // where responses go
    sip::Endpoint local;          // the local endpoint the request came in on
    std::string request;          // the request as received (for local answers and the policy)
    std::vector<Branch> branches;
    bool invite = false;
    bool see_final_response = false;  // the policy wants the final response
    bool final_sent = false;
    bool cancelled = false;
    int best_status = 0;
    std::string best_response;    // the best final response so far, ready to relay
  };

  // txn::TransactionUser
  void on_request(txn::TransactionId server, const sip::Message& request, const sip::Endpoint& remote,
                  const sip::Endpoint& local, TimePoint now) override;
  void on_response(txn::TransactionId client, const sip::Message& response, TimePoint now) override;
  void on_timeout(txn::TransactionId txn, txn::TimeoutTimer timer, TimePoint now) override;
  void on_cancel(txn::TransactionId invite_server, const sip::Message& cancel, TimePoint now) override;
  void on_transport_error(txn::TransactionId txn, std::string_view why, TimePoint now) override;
  void on_terminated(txn::TransactionId id, TimePoint now) override;

  void relay_ack(const sip::Message& ack, const sip::Endpoint& remote);
  void respond_locally(txn::TransactionId server, const sip::Message& request, const sip::Endpoint& remote,
                       const RoutingDecision& d, TimePoint now);
  /// The forwarded request for one target, and where it goes; nullopt when
  /// there is no IP destination.
  std::optional<std::pair<std::string, sip::Endpoint>> forwarded(const sip::Message& request, const sip::Endpoint& from,
                                                                 const ProxyTarget& target, const RoutingDecision& d,
                                                                 const std::string& branch, bool pop_own_route) const;
  void branch_final(std::uint32_t ctx, std::size_t branch, int status, std::string response_bytes, TimePoint now);
  void finish_if_done(std::uint32_t ctx, TimePoint now);
  void cancel_branches(Context& c, TimePoint now);
  /// A response of ours to `request_bytes` with this status (408, 487, 503 …).
  std::string local_response(const std::string& request_bytes, const sip::Endpoint& upstream, int status,
                             std::string_view extra_name = {}, std::string_view extra_value = {});
  std::string via_value(const std::string& branch, sip::Transport transport) const;
  static std::uint64_t key(txn::TransactionId id) { return (std::uint64_t{id.index} << 32) | id.generation; }

  ProxyConfig config_;
  RoutingPolicy& policy_;
  txn::TransactionLayer layer_;
  std::unordered_map<std::uint32_t, Context> contexts_;     // by context number
  std::unordered_map<std::uint64_t, std::pair<std::uint32_t, std::uint32_t>> by_client_;  // client txn → context, branch
  std::unordered_map<std::uint64_t, std::uint32_t> by_server_;  // server txn → context
  std::uint32_t next_context_ = 1;
  std::size_t pending_ = 0;
  std::uint64_t tag_state_;  // To-tags of the responses the proxy makes itself
  ProxyStats stats_;
  sip::Message scratch_;
};

}  // namespace imsflow::ims
