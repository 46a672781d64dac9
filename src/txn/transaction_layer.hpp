// The transaction layer of RFC 3261 §17 with the RFC 6026 Accepted state,
// sans-I/O: messages and timer firings come in with the current time,
// messages to send go out through take_transmits(), and everything the
// transaction user (a UA core, a proxy) must know arrives through the
// TransactionUser callbacks, synchronously.
//
// What the layer does by itself, as the RFC puts it in the transaction:
//  - retransmits requests over UDP (Timer A, E) and final responses (Timer G);
//  - absorbs request retransmissions and answers them with the last response;
//  - builds and sends the ACK for a non-2xx final response (§17.1.1.3);
//  - sends 100 Trying for a new INVITE (§17.2.1), unless configured not to;
//  - answers CANCEL (§9.2): 200 when it matches a server transaction of
//    any method by the §17.2.3 rule (all but the method), with the To-tag
//    the user gave that transaction (set_local_tag); an INVITE still without
//    its final response is then handed to the user, who sends the 487;
//    481 when it matches nothing;
//  - ends a transaction whose message the driver could not send
//    (§17.1.4, §17.2.4) and tells the user (on_transport_error);
//  - sends a request larger than 1,300 bytes over TCP instead of UDP (§18.1.1).
// What stays with the user: 2xx retransmission until ACK and the ACK for a
// 2xx (RFC 6026 moves both to the TU), reliable provisionals (RFC 3262).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/builder.hpp"
#include "sip/endpoint.hpp"
#include "sip/message.hpp"
#include "sip/method.hpp"
#include "txn/node.hpp"
#include "txn/timer_queue.hpp"
#include "util/clock.hpp"
#include "util/flat_index.hpp"

namespace imsflow::txn {

using namespace std::chrono_literals;

struct TimerConfig {
  Duration t1 = 500ms;  // RTT estimate
  Duration t2 = 4s;     // longest retransmit interval for non-INVITE requests and INVITE responses
  Duration t4 = 5s;     // longest time a message stays in the network
  Duration timer_d = 32s;  // wait for response retransmissions after a non-2xx (UDP)
  Duration timer_c = 180s; // client INVITE in Proceeding with no final response (0: never)
  bool send_100_trying = true;

  Duration timeout_64t1() const { return 64 * t1; }
  /// A T1 other than the RFC's 500 ms (tests, lab networks); T2 caps the
  /// retransmission backoff, so it never stays below T1.
  void set_t1(Duration value) {
    t1 = value;
    t2 = std::max(t2, t1);
  }
};

enum class TransactionKind : std::uint8_t { ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite };

enum class TransactionState : std::uint8_t { Calling, Trying, Proceeding, Completed, Confirmed, Accepted, Terminated };

std::string_view to_string(TransactionState s);

/// A handle on a transaction; stale handles (of ended transactions) are
/// recognised by their generation and refused.
struct TransactionId {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;  // 0: no transaction
  explicit operator bool() const { return generation != 0; }
  friend bool operator==(const TransactionId&, const TransactionId&) = default;
};

/// Why a transaction gave up.
enum class TimeoutTimer : std::uint8_t {
  B,  // INVITE client: no response at all within 64·T1
  C,  // INVITE client: provisional responses but no final one within Timer C
  F,  // non-INVITE client: no final response within 64·T1
  H,  // INVITE server: non-2xx final response never ACKed within 64·T1
  CancelUnanswered,  // INVITE client: 64·T1 after Timer C, still no final response; ended
};
char timer_letter(TimeoutTimer t);

class TransactionUser {
 public:
  virtual ~TransactionUser() = default;
  /// A new request. `server` is its server transaction; for an ACK that
  /// matches no transaction (the ACK for a 2xx) it is empty.
  virtual void on_request(TransactionId server, const sip::Message& request, const sip::Endpoint& remote,
                          const sip::Endpoint& local, TimePoint now) = 0;
  /// A response for a client transaction: each provisional, the final one,
  /// and for INVITE every 2xx while Accepted (forks and retransmissions).
  virtual void on_response(TransactionId client, const sip::Message& response, TimePoint now) = 0;
  virtual void on_timeout(TransactionId txn, TimeoutTimer timer, TimePoint now) = 0;
  /// A CANCEL matched this INVITE server transaction before its final
  /// response; the layer has answered the CANCEL with 200.
  virtual void on_cancel(TransactionId invite_server, const sip::Message& cancel, TimePoint now) = 0;
  /// The driver could not send a message of this transaction (§17.1.4 for
  /// a client, §17.2.4 for a server transaction): the layer ends it right
  /// after this call. For a client transaction treat it as a 503 Service
  /// Unavailable from the next hop (RFC 3261 §8.1.3.1). `why` is the
  /// driver's words, valid during the call.
  virtual void on_transport_error(TransactionId /*txn*/, std::string_view /*why*/, TimePoint) {}
  /// A response that matches no client transaction. RFC 6026 §8.1 has the
  /// layer drop it; this hook is for counting and logging only.
  virtual void on_stray_response(const sip::Message&, const sip::Endpoint& /*remote*/, TimePoint) {}
  /// Input the layer refused, and why (unparsable bytes, bad Via …).
  virtual void on_dropped(std::string_view /*reason*/, const sip::Endpoint& /*remote*/, TimePoint) {}
  virtual void on_terminated(TransactionId, TimePoint) {}
};

/// A request the user hands to the layer. `branch` must be the branch of
/// the top Via in `bytes` (the layer matches responses on it).
struct OutgoingRequest {
  sip::Method method = sip::Method::Unknown;
  std::string branch;
  std::string bytes;
  sip::Endpoint source;
  sip::Endpoint destination;
};

/// Counts per message type, named as on a ladder: "INVITE", "PRACK",
/// "183 (INVITE)", "200 (BYE)". Counting happens only on a retransmission
/// and there are few types, so a short list in first-seen order serves.
class MessageTypeCounts {
 public:
  void add(std::string_view type, std::uint64_t n = 1);
  void add_request(sip::Method method) { add(sip::method_name(method)); }
  void add_response(int status, sip::Method method);
  void merge(const MessageTypeCounts& other);
  std::uint64_t total() const;
  const std::vector<std::pair<std::string, std::uint64_t>>& items() const { return items_; }
  /// "INVITE 3, 183 (INVITE) 1", or "none".
  std::string describe() const;

 private:
  std::vector<std::pair<std::string, std::uint64_t>> items_;
};

struct TransactionStats {
  std::uint64_t requests_received = 0;
  std::uint64_t responses_received = 0;
  std::uint64_t request_retransmissions_received = 0;  // absorbed by a server transaction
  std::uint64_t response_retransmissions_received = 0; // absorbed by a client transaction
  std::uint64_t retransmissions_sent = 0;              // by Timer A, E, G and in answer to retransmissions
  std::uint64_t stray_responses = 0;
  std::uint64_t dropped = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t switched_to_tcp = 0;                   // §18.1.1 size rule
  std::uint64_t transport_errors = 0;                  // transactions ended by transport_failed()
  MessageTypeCounts sent_again;                        // retransmissions_sent, by message type
  MessageTypeCounts received_again;                    // retransmissions absorbed, by message type
};

class TransactionLayer final : public Node {
 public:
  explicit TransactionLayer(TransactionUser& user, TimerConfig config = {}, std::uint64_t branch_seed = 1);

  // --- Node: driven by net/ or sim/ ---
  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
               TimePoint now) override;
  void advance(TimePoint now) override;
  std::optional<TimePoint> next_deadline() const override { return timers_.next_deadline(); }
  void take_transmits(std::vector<Transmit>& out) override;
  /// Finds the live transaction that sent `what` (a request: the client
  /// transaction of its branch and method, while it still awaits a final
  /// response; a response: the server transaction it answers), tells the
  /// user through on_transport_error() and ends it. Anything else (an ACK,
  /// a message of a transaction already gone) is ignored.
  void transport_failed(const Transmit& what, std::string_view why, TimePoint now) override;

  /// The same as receive(), for a message the driver has already parsed.
  void receive_message(const sip::Message& msg, const sip::Endpoint& remote, const sip::Endpoint& local,
                       TimePoint now);

  // --- from the transaction user ---
  /// Starts a client transaction and sends the request. ACK is not a
  /// transaction: send it with send_stateless().
  TransactionId send_request(OutgoingRequest request, TimePoint now);
  /// Sends a response on a server transaction; `status` is the response's
  /// status code. False when the transaction is gone or already final.
  bool send_response(TransactionId server, int status, std::string bytes, TimePoint now);
  /// A message outside any transaction: the ACK for a 2xx, a 2xx
  /// retransmission by the UAS core.
  void send_stateless(Transmit message);
  /// CANCELs a client INVITE transaction that has had a provisional
  /// response (RFC 3261 §9.1), built from the INVITE as it was sent.
  TransactionId send_cancel(TransactionId invite, TimePoint now);
  /// The To-tag the user answers this server transaction's request with
  /// (RFC 3261 §9.2: the 200 to a CANCEL carries the same tag as the
  /// responses to the request it cancels). False when `server` is not a
  /// live server transaction.
  bool set_local_tag(TransactionId server, std::string_view tag);
  /// Ends a transaction at once (a CANCELled INVITE that never got its
  /// final response, RFC 3261 §9.1).
  void abandon(TransactionId id, TimePoint now);

  /// A fresh branch with the magic cookie, unique within this layer and
  /// reproducible from the seed.
  std::string new_branch();

  // --- inspection ---
  std::size_t live_transactions() const { return live_; }
  std::optional<TransactionState> state(TransactionId id) const;
  std::optional<TransactionKind> kind(TransactionId id) const;
  /// Where responses of a server transaction go (RFC 3261 §18.2.2, RFC 3581).
  std::optional<sip::Endpoint> response_destination(TransactionId server) const;
  /// The local endpoint a server transaction's request arrived on.
  std::optional<sip::Endpoint> local_endpoint(TransactionId server) const;
  const TransactionStats& stats() const { return stats_; }
  /// Entries in the timer queue, cancelled ones not yet dropped included
  /// (a bound on memory the tests check).
  std::size_t queued_timers() const { return timers_.size(); }
  const TimerConfig& config() const { return config_; }

 private:
  // Each transaction arms at most one timer per slot; a fired heap entry is
  // valid only while it still equals the slot's deadline.
  enum Slot : std::uint8_t { kRetransmit = 0, kTimeout = 1, kCleanup = 2, kSlots = 3 };

  struct Transaction {
    std::uint32_t generation = 0;
    TransactionKind kind = TransactionKind::ClientNonInvite;
    TransactionState state = TransactionState::Terminated;
    sip::Method method = sip::Method::Unknown;
    bool reliable = false;
    bool timer_c_fired = false;
    int last_status = 0;
    std::string key;
    std::string request;        // client: the request, for retransmission and the non-2xx ACK
    std::string last_response;  // server: the last response sent
    std::string ack;            // client INVITE: the ACK sent for a non-2xx
    std::string local_tag;      // server: the To-tag of the user's responses (set_local_tag)
    std::string cancel_key;     // server, RFC 2543 peers only: what a CANCEL must match (else a prefix of key)
    bool cancellable = false;   // server: in cancel_index_
    sip::Endpoint local;
    sip::Endpoint remote;       // client: the request's destination; server: the response destination
    Duration interval{};        // current retransmit interval
    TimePoint deadline[kSlots];
  };

  TransactionId create(TransactionKind kind, sip::Method method, std::string_view key);
  Transaction* find(TransactionId id);
  const Transaction* find(TransactionId id) const;
  TransactionId lookup(std::string_view key) const;
  static std::uint64_t hash_key(std::string_view key) { return std::hash<std::string_view>{}(key); }
  void arm(TransactionId id, Slot slot, TimePoint now, Duration delay);
  void disarm(Transaction& t, Slot slot) { t.deadline[slot] = TimePoint::max(); }
  void terminate(TransactionId id, TimePoint now);
  void fire(TransactionId id, Slot slot, TimePoint now);
  bool timer_live(const TimerEntry& e) const;
  /// Drops cancelled timers from the top of the queue, so next_deadline()
  /// names a timer that will really fire (a driver sleeps until it).
  void prune_timers();
  void emit(const Transaction& t, const std::string& bytes);
  void request_sent_again(sip::Method method);
  void response_sent_again(int status, sip::Method method);
  void request_received_again(sip::Method method);
  void response_received_again(int status, sip::Method method);
  void emit(const sip::Endpoint& from, const sip::Endpoint& to, std::string bytes);

  void on_request(const sip::Message& msg, const sip::Endpoint& remote, const sip::Endpoint& local, TimePoint now);
  void on_response(const sip::Message& msg, const sip::Endpoint& remote, TimePoint now);
  void on_cancel(const sip::Message& cancel, const sip::Endpoint& remote, const sip::Endpoint& local, TimePoint now);
  std::string build_non_2xx_ack(const Transaction& t, const sip::Message& response) const;
  // RFC 3261 §9.2: a CANCEL matches by the §17.2.3 key without the method.
  static std::string_view cancel_match_key(const Transaction& t);
  TransactionId lookup_cancelled(std::string_view match_key) const;

  TransactionUser& user_;
  TimerConfig config_;
  // A deque, so that growing the table under load never moves the live
  // transactions; freed slots keep their strings' buffers for the next one.
  std::deque<Transaction> slots_;
  std::vector<std::uint32_t> free_;
  FlatIndex index_;  // hash of the transaction key → slot
  FlatIndex cancel_index_;  // server transactions but CANCEL: hash of cancel_match_key → slot
  TimerQueue timers_;
  std::vector<Transmit> out_;
  std::size_t live_ = 0;
  std::uint64_t branch_state_;
  std::string key_scratch_;
  std::string request_key_scratch_;
  TransactionStats stats_;
  sip::Message inbound_;          // the message being received (receive() is not re-entered)
  sip::Message scratch_message_;  // for parsing stored requests (non-2xx ACK)
};

/// RFC 3261 §17.2.3 / §17.1.3 keys, exposed for the tests and the analyzer.
/// Server side: branch, sent-by and method (ACK as INVITE), or the RFC 2543
/// fallback when the branch lacks the magic cookie. Empty when the message
/// has no Via or CSeq.
std::string server_transaction_key(const sip::Message& request);
std::string server_transaction_key(const sip::Message& request, sip::Method as_method);
/// Client side: branch of the top Via and the CSeq method.
std::string client_transaction_key(const sip::Message& response);
/// The same, written into `out` (reused, so the hot path does not allocate).
void client_transaction_key(const sip::Message& response, std::string& out);
void server_transaction_key(const sip::Message& request, sip::Method as_method, std::string& out);

/// Where a UAS sends responses to a request that came from `remote`
/// (RFC 3261 §18.2.2 with RFC 3581 rport): the connection for reliable
/// transports; else the source address, and the source port when rport was
/// asked for (the sent-by port, 5060 by default, otherwise).
sip::Endpoint response_destination(const sip::Message& request, const sip::Endpoint& remote);
/// The top via-parm as a response carries it: with received= and rport=
/// filled in from the source address (RFC 3261 §18.2.1, RFC 3581 §4).
std::string response_top_via(const sip::Via& via, const sip::Endpoint& remote);
/// MessageBuilder::response_to with the top Via completed by
/// response_top_via (over UDP), one via-parm per Via line.
sip::MessageBuilder build_response(const sip::Message& request, int status, const sip::Endpoint& remote,
                                   std::string_view to_tag);

}  // namespace imsflow::txn
