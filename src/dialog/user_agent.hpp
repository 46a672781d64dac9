// A user agent core with INVITE sessions (RFC 3261 §12–§15, RFC 3262,
// RFC 6026), sans-I/O: it owns a transaction layer and is itself a
// txn::Node, so net/ and sim/ drive it like any core.
//
// UAC: one early dialog per To-tag (forking), a PRACK for every reliable
// provisional once per dialog and in RSeq order, ACK for every 2xx (and BYE
// for the forks it did not keep), CANCEL, BYE.
// UAS: reliable provisionals with Require: 100rel and RSeq, retransmitted
// until PRACKed (T1 doubling up to T2) and given up with a 5xx after 64·T1;
// no new reliable provisional with a body before the previous one is
// PRACKed; 2xx retransmitted until ACK and the call released with BYE after
// 64·T1 without one; 481 for requests that match no dialog (but 200 for a
// PRACK of a reliable provisional still outstanding when the final response
// went, until the INVITE transaction ends); 420 for an unsupported Require;
// 482 for a merged INVITE (RFC 3261 §8.2.2.2).
// Both: offer/answer state per dialog (RFC 3264, RFC 3261 §13.2.1, RFC 3262
// §5, RFC 3311 §5), which decides what each INVITE, 18x, PRACK, 2xx, ACK and
// UPDATE body is (offer, answer or nothing), refuses an UPDATE offer with 491
// or 500 when one is already open, and gates update() in early dialogs. A
// transport error (Node::transport_failed) fails the session.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sdp/precondition.hpp"
#include "sip/endpoint.hpp"
#include "sip/message.hpp"
#include "sip/verdict.hpp"
#include "txn/transaction_layer.hpp"
#include "util/clock.hpp"
#include "util/flat_index.hpp"

namespace imsflow::dialog {

struct SessionId {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
  explicit operator bool() const { return generation != 0; }
  friend bool operator==(const SessionId&, const SessionId&) = default;
};

/// Deliberate misbehaviour, to reproduce the seed's failure rows on purpose.
struct Faults {
  bool no_prack = false;      // UAC: never PRACK a reliable provisional
  bool no_ack = false;        // UAC: never ACK a 2xx
  bool drop_prack_once = false;  // UAC: skip the first PRACK (as if lost); the 183's retransmission gets one
};

struct UserAgentConfig {
  sip::Endpoint local;                  // where this UA listens: Via and Contact
  std::string user = "ua";              // user part of the Contact and default From
  std::string aor;                      // From URI; default sip:user@local
  /// Header parameters after the Contact's URI: feature tags such as
  /// +g.3gpp.icsi-ref and +sip.instance (RFC 3840, RFC 5626), with their ';'.
  std::string contact_params;
  bool reliable_provisionals = true;    // UAS: 18x reliably when the INVITE allows 100rel
  bool require_100rel = false;          // UAC: Require (not just Supported) 100rel
  std::vector<std::string> supported{"100rel", "timer"};
  std::string allow = "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, OPTIONS";
  std::string user_agent = "imsflow";
  /// Preconditions (RFC 3312): local resources become ready this long after
  /// the INVITE (sent or received); nullopt: only when set_local_qos_ready().
  std::optional<Duration> local_qos_ready_after = Duration::zero();
  /// Session timers (RFC 4028): the interval this UA asks for (UAC) or
  /// grants when the INVITE names none (UAS); 0: none of its own.
  std::uint32_t session_expires = 0;
  std::uint32_t min_se = 90;  // below it an INVITE gets 422
  txn::TimerConfig timers;
  std::uint64_t seed = 1;               // tags, Call-IDs, branches and RSeq are drawn from it
  Faults faults;
};

enum class SessionRole : std::uint8_t { Uac, Uas };

/// The state of the SDP offer/answer exchange in one dialog (RFC 3264 §4,
/// RFC 3261 §13.2.1, RFC 3262 §5, RFC 3311 §5).
enum class OfferAnswerPhase : std::uint8_t {
  NoOffer,      // nothing offered yet (an INVITE without SDP, no reliable answer yet)
  LocalOffer,   // our offer is out, unanswered
  RemoteOffer,  // the peer's offer is in, not yet answered
  Complete,     // the last offer has its answer
};
/// Which message carried an offer or an answer.
enum class SdpCarrier : std::uint8_t {
  None,
  Invite,
  ReliableProvisional,  // an 18x sent with 100rel
  Final2xx,             // the 2xx to an INVITE or re-INVITE
  Ack,
  Prack,
  PrackResponse,        // the 200 to a PRACK
  Update,
  UpdateResponse,       // the 200 to an UPDATE
};
std::string_view to_string(OfferAnswerPhase p);
std::string_view to_string(SdpCarrier c);

struct OfferAnswer {
  OfferAnswerPhase phase = OfferAnswerPhase::NoOffer;
  SdpCarrier offer_in = SdpCarrier::None;   // where the open (or last) offer went
  SdpCarrier answer_in = SdpCarrier::None;  // Complete: where its answer went
  /// False while the exchange rides a reliable provisional not yet
  /// acknowledged: the UAS's answer in an 18x not yet PRACKed, the UAC's
  /// answer in a PRACK not yet answered with 200. RFC 3311 §5.1: no UPDATE
  /// offer in an early dialog before then.
  bool settled = true;
};

enum class SessionState : std::uint8_t { Calling, Early, Answered, Confirmed, Terminating, Terminated };
std::string_view to_string(SessionState s);

enum class SessionEventKind : std::uint8_t {
  Incoming,     // UAS: a new INVITE (answer with send_provisional/answer/reject)
  Progress,     // a provisional response sent or received
  PrackDone,    // a reliable provisional was PRACKed (UAS) or its PRACK got 200 (UAC)
  Answered,     // 2xx sent or received
  Confirmed,    // ACK sent (UAC) or received (UAS): the dialog is established
  Failed,       // the INVITE ended without a session: status and cause say why
  Ended,        // BYE done (or the session was released after a failure to confirm)
  Updated,      // an UPDATE got its 2xx (sent or received); body: the answer
  PreconditionsMet,  // local and remote QoS are both ready (RFC 3312): alerting may start
};
std::string_view to_string(SessionEventKind k);

/// The seed's phases, as times on the driver's clock.
struct SessionTimes {
  std::optional<TimePoint> invite;              // session request
  std::optional<TimePoint> first_provisional;   // provisional handling (100 or 18x)
  std::optional<TimePoint> first_18x;
  std::optional<TimePoint> reliability_done;    // reliability handling: PRACK 200
  std::optional<TimePoint> final_response;      // final confirmation: 2xx …
  std::optional<TimePoint> ack;                 // … and ACK
  std::optional<TimePoint> preconditions_met;
};

struct SessionEvent {
  SessionEventKind kind = SessionEventKind::Progress;
  SessionId session;
  TimePoint at;
  int status = 0;
  bool reliable = false;       // Progress: the provisional was sent with 100rel
  std::uint32_t rseq = 0;
  std::string remote_tag;      // the dialog (fork) this is about
  std::string cause;           // Failed/Ended: why, in the seed's words
  std::string_view body;       // Progress/Answered: the SDP, when there is one (valid during the callback)
  std::uint32_t retry_after_s = 0;  // Failed: the final response's Retry-After, in seconds (0: none)
};

class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_session_event(const SessionEvent& event) = 0;
  /// The peer made an SDP offer this UA must answer now. Asked for, in the
  /// call flow:
  ///  - UAC, an INVITE sent without SDP: the first reliable 18x (the answer
  ///    goes in its PRACK) or the 2xx (the answer goes in the ACK);
  ///  - either side: an UPDATE offer (answer in its 200), a PRACK offer
  ///    after the offer/answer completed (answer in the PRACK's 200), a
  ///    re-INVITE offer (answer in the 2xx).
  /// nullopt lets the session answer by itself: its last SDP, with the
  /// precondition lines of its QoS table. With neither, the request is
  /// refused with 488; an offer in an 18x is left unPRACKed and the call
  /// CANCELled; an offer in a 2xx is ACKed without SDP and the call ended
  /// with BYE (RFC 3261 §13.2.2.4). `offer` is valid during the call.
  virtual std::optional<std::string> answer_offer(SessionId, std::string_view /*offer*/) { return std::nullopt; }
  /// A response to a request sent with UserAgent::send_standalone() (each
  /// provisional and the final one). `response` is valid during the call.
  virtual void on_standalone_response(txn::TransactionId, const sip::Message& /*response*/, TimePoint) {}
  /// That request got no final response: it timed out (Timer B or F) or
  /// could not be sent. `why` says which.
  virtual void on_standalone_failure(txn::TransactionId, std::string_view /*why*/, TimePoint) {}
};

/// What the UAC puts in a new INVITE.
struct CallRequest {
  std::string target;                  // Request-URI and To
  sip::Endpoint next_hop;              // where the INVITE goes (an outbound proxy, the P-CSCF, the UAS)
  std::string sdp_offer;               // empty: no offer in the INVITE; the UAS offers in its first
                                       // reliable 18x or its 2xx, answered through answer_offer()
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
  std::vector<std::string> route;      // a preloaded route set (Service-Route), as name-addr values
};

class UserAgent final : public txn::Node, private txn::TransactionUser {
 public:
  UserAgent(UserAgentConfig config, SessionObserver& observer);
  ~UserAgent() override;

  // --- txn::Node ---
  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
               TimePoint now) override;
  void advance(TimePoint now) override;
  std::optional<TimePoint> next_deadline() const override;
  void take_transmits(std::vector<txn::Transmit>& out) override { layer_.take_transmits(out); }
  /// A message of this UA could not be sent: the transaction that sent it
  /// ends, and the session it belongs to fails (Failed, status 503, before
  /// it is confirmed; Ended after) with cause "transport error: <why>".
  /// Messages sent outside a transaction (the ACK for a 2xx, 2xx
  /// retransmissions after the transaction) are traced to their session by
  /// Call-ID and tag.
  void transport_failed(const txn::Transmit& what, std::string_view why, TimePoint now) override;

  // --- UAC ---
  SessionId call(const CallRequest& request, TimePoint now);
  /// CANCEL while early (deferred until a provisional came, RFC 3261 §9.1),
  /// BYE when answered or confirmed; UAS: 480 before the final response.
  void hang_up(SessionId id, TimePoint now);

  // --- UAS ---
  /// 18x; reliable (100rel) when the INVITE allows it and the config wants
  /// it. A reliable one with a body waits while another is unPRACKed.
  /// The SDP of a reliable 18x is the answer to the INVITE's offer, or the
  /// offer when the INVITE had none (RFC 3261 §13.2.1; its PRACK then
  /// brings the answer). Once the offer/answer is complete a reliable 18x
  /// goes without SDP whatever `sdp` says. In an unreliable 18x the SDP is
  /// a preview only: it changes no offer/answer state, but answer() falls
  /// back to it.
  bool send_provisional(SessionId id, int status, std::string_view sdp, TimePoint now);
  /// The 2xx. Its SDP, by offer/answer state: the answer to the INVITE's
  /// offer, or our offer when there was none so far (the ACK then brings the
  /// answer); in both cases an empty `sdp` means the last SDP this session
  /// sent (an unreliable 18x's), and false is returned when there is none.
  /// Once the offer/answer completed in a reliable 18x and its PRACK, the
  /// 2xx has no SDP whatever `sdp` says (RFC 3261 §13.2.1, RFC 6337 §3.1.1).
  /// Held (true) while a reliable 18x with SDP awaits its PRACK.
  bool answer(SessionId id, std::string_view sdp, TimePoint now);
  bool reject(SessionId id, int status, TimePoint now, std::string_view reason_header = {});

  // --- outside sessions ---
  /// Sends a request that belongs to no INVITE session (REGISTER, OPTIONS,
  /// MESSAGE) on this UA's transaction layer, so it leaves from the UA's
  /// address; its responses reach the observer's on_standalone_response().
  /// The caller builds the whole request; its top Via branch must be one
  /// from new_branch().
  txn::TransactionId send_standalone(txn::OutgoingRequest request, TimePoint now);
  std::string new_branch() { return layer_.new_branch(); }

  // --- both ---
  /// Sends an UPDATE with an SDP offer in an early or confirmed dialog
  /// (RFC 3311). On 491 (glare) it is retried after the RFC 3261 §14.1 wait.
  /// False while an offer is open in the dialog, and in an early dialog
  /// until its offer/answer completed and settled (RFC 3311 §5.1: the UAC
  /// got the answer in a reliable 18x, or its PRACK with the answer got
  /// 200; the UAS got the PRACK of its 18x with the answer).
  bool update(SessionId id, std::string_view sdp, TimePoint now);
  /// Our access network's resources are reserved (RFC 3312): the UAC then
  /// sends UPDATE with the new status; the UAS may start alerting when the
  /// peer's are ready too.
  void set_local_qos_ready(SessionId id, TimePoint now);

  // --- inspection ---
  std::size_t live_sessions() const { return live_; }
  std::size_t live_transactions() const { return layer_.live_transactions(); }
  std::optional<SessionState> state(SessionId id) const;
  /// The precondition status table, when the session uses preconditions.
  const sdp::QosTable* qos(SessionId id) const;
  const SessionTimes* times(SessionId id) const;
  std::string_view call_id(SessionId id) const;
  /// Remote tags of the session's dialogs (one per fork at the UAC).
  std::vector<std::string> dialogs(SessionId id) const;
  /// The offer/answer state of one dialog of the session; an empty
  /// `remote_tag` names the current one (the confirmed, else the latest).
  std::optional<OfferAnswer> offer_answer(SessionId id, std::string_view remote_tag = {}) const;
  /// The transaction layer's counters, with the retransmissions this core
  /// makes and absorbs itself (reliable 1xx and 2xx to INVITE, RFC 3262 §3
  /// and RFC 3261 §13.3.1.4; the ACK re-sent for a repeated 2xx) added in.
  txn::TransactionStats transaction_stats() const;
  const UserAgentConfig& config() const { return config_; }
  /// The Contact value this UA puts in its requests and 2xx.
  std::string contact() const { return contact_value(); }
  /// Why the last refused input was refused (for logs and tests).
  const std::vector<std::string>& dropped() const { return dropped_; }
  /// Every drop since the start (dropped() keeps only the recent reasons).
  std::uint64_t dropped_count() const { return dropped_count_; }

 private:
  struct Dialog;
  struct Session;
  struct ReliableProvisional;
  enum Slot : std::uint8_t {
    kRel1xxRetransmit = 0,
    kRel1xxGiveUp,
    k2xxRetransmit,
    k2xxGiveUp,
    kQosReady,
    kUpdateRetry,
    kSessionTimer,
    kCancelGiveUp,
    kSlots
  };
  // LingeringPrack: an ended UAS session's INVITE transaction; remote_tag
  // holds the key of its entry in lingering_.
  enum class TxnPurpose : std::uint8_t { Invite, Prack, Bye, Cancel, Update, LingeringPrack, Standalone, Other };
  // RFC 3262 §3: a reliable provisional still unPRACKed when the session
  // ended with its final response; a PRACK for it gets 200 until the INVITE
  // server transaction ends.
  struct LingeringProvisional {
    std::string remote_tag;
    std::uint32_t rseq = 0;
    std::uint32_t invite_cseq = 0;
  };
  struct TxnOwner {
    SessionId session;
    TxnPurpose purpose = TxnPurpose::Other;
    std::string remote_tag;
  };
  // Which session a transaction works for, indexed like the layer's own
  // slots (a transaction handle's index), so no hashing on the hot path.
  class TxnOwners {
   public:
    void set(txn::TransactionId id, TxnOwner owner) {
      if (id.index >= entries_.size()) entries_.resize(id.index + 1);
      entries_[id.index] = Entry{id.generation, std::move(owner)};
    }
    const TxnOwner* find(txn::TransactionId id) const {
      if (!id || id.index >= entries_.size() || entries_[id.index].generation != id.generation) return nullptr;
      return &entries_[id.index].owner;
    }
    void erase(txn::TransactionId id) {
      if (find(id)) entries_[id.index].generation = 0;
    }

   private:
    struct Entry {
      std::uint32_t generation = 0;
      TxnOwner owner;
    };
    std::vector<Entry> entries_;
  };

  // txn::TransactionUser
  void on_request(txn::TransactionId server, const sip::Message& request, const sip::Endpoint& remote,
                  const sip::Endpoint& local, TimePoint now) override;
  void on_response(txn::TransactionId client, const sip::Message& response, TimePoint now) override;
  void on_timeout(txn::TransactionId txn, txn::TimeoutTimer timer, TimePoint now) override;
  void on_cancel(txn::TransactionId invite_server, const sip::Message& cancel, TimePoint now) override;
  void on_stray_response(const sip::Message& response, const sip::Endpoint& remote, TimePoint now) override;
  void on_dropped(std::string_view reason, const sip::Endpoint& remote, TimePoint now) override;
  void on_terminated(txn::TransactionId id, TimePoint now) override;
  void on_transport_error(txn::TransactionId txn, std::string_view why, TimePoint now) override;

  // UAC
  void on_invite_response(Session& s, const sip::Message& r, TimePoint now);
  void send_invite(Session& s, TimePoint now);
  bool retry_after_422(Session& s, const sip::Message& r, TimePoint now);
  void send_prack(Session& s, Dialog& d, const sip::Message& provisional, std::string_view body, TimePoint now);
  void send_ack(Session& s, Dialog& d, TimePoint now, std::string_view body = {});
  Dialog& add_uac_dialog(Session& s, std::string_view remote_tag);
  void send_cancel(Session& s, TimePoint now);
  void send_bye(Session& s, Dialog& d, TimePoint now, std::string_view reason_header = {});
  void send_update(Session& s, TimePoint now);
  void maybe_send_qos_update(Session& s, TimePoint now);
  void on_update(Session& s, Dialog& d, txn::TransactionId server, const sip::Message& update, TimePoint now);
  void on_reinvite(Session& s, Dialog& d, txn::TransactionId server, const sip::Message& invite, TimePoint now);
  /// The answer to an offer the peer made: the observer's, else the
  /// session's last SDP (with its precondition lines). May call the observer:
  /// find the session again afterwards.
  std::optional<std::string> answer_for(SessionId id, std::string_view offer);
  /// RFC 3311 §5.2 (and RFC 3261 §14.2 for re-INVITE): 491 while our offer
  /// is open, 500 with Retry-After 0-10 s while the peer's is unanswered.
  /// True when it refused the request.
  bool refuse_offer_while_open(const Session& s, const Dialog& d, txn::TransactionId server,
                               const sip::Message& request, TimePoint now);
  void transport_failure(Session& s, std::string_view why, TimePoint now);
  std::uint64_t next_random();
  void drop(std::string reason);
  void prune_timers();
  void start_session_timer(Session& s, TimePoint now);
  std::string session_expires_header(const Session& s) const;
  void check_preconditions(Session& s, TimePoint now);
  void read_peer_preconditions(Session& s, std::string_view body);
  Dialog* current_dialog(Session& s);
  // UAS
  void on_invite(txn::TransactionId server, const sip::Message& invite, const sip::Endpoint& remote,
                 const sip::Endpoint& local, TimePoint now);
  void on_in_dialog_request(txn::TransactionId server, const sip::Message& request, TimePoint now);
  void on_prack(Session& s, txn::TransactionId server, const sip::Message& prack, TimePoint now);
  void on_prack_acknowledged(Session& s, txn::TransactionId server, const sip::Message& prack,
                             std::string_view answer, TimePoint now);
  bool on_lingering_prack(txn::TransactionId server, const sip::Message& prack, TimePoint now);
  Session* find_by_origin(std::string_view call_id, std::string_view remote_tag);
  void send_reliable(Session& s, ReliableProvisional rp, TimePoint now);
  std::string build_response(const Session& s, int status, std::string_view sdp, bool with_contact,
                             std::string_view extra) const;
  void respond_in_txn(txn::TransactionId server, const sip::Message& request, int status, TimePoint now,
                      std::string_view body = {}, std::string_view extra_name = {}, std::string_view extra_value = {});

  // shared
  SessionId create_session(SessionRole role);
  Session* find(SessionId id);
  const Session* find(SessionId id) const;
  Session* find_by_dialog(std::string_view call_id, std::string_view local_tag);
  Dialog* dialog_for(Session& s, std::string_view remote_tag);
  /// The dialog the session lives on: the caller's answered fork, the
  /// callee's only dialog. Null before there is one.
  static Dialog* kept_dialog(Session& s);
  std::string build_request(Session& s, Dialog& d, std::string_view method, std::uint32_t cseq,
                            const std::string& branch, std::string_view extra, std::string_view body) const;
  sip::Endpoint next_hop(const Session& s, const Dialog& d) const;
  void arm(Session& s, Slot slot, TimePoint now, Duration delay);
  void disarm(Session& s, Slot slot);
  void fire(SessionId id, Slot slot, TimePoint now);
  void emit(SessionEvent e);
  void fail(Session& s, int status, std::string cause, TimePoint now, std::uint32_t retry_after_s = 0);
  void end(Session& s, std::string cause, TimePoint now);
  void release(Session& s);
  std::string random_token(std::size_t hex_digits);
  std::string via_value(const std::string& branch, sip::Transport transport) const;
  std::string contact_value() const;

  UserAgentConfig config_;
  SessionObserver& observer_;
  txn::TransactionLayer layer_;
  sip::ElementProfile profile_;
  std::vector<Session> sessions_;
  std::vector<std::uint32_t> free_;
  FlatIndex by_dialog_;  // Call-ID and local tag → session
  FlatIndex by_origin_;  // UAS: Call-ID and the caller's From-tag → session (merged requests)
  std::unordered_map<std::string, LingeringProvisional> lingering_;  // Call-ID, LF, local tag → entry
  TxnOwners owners_;  // transaction → session and purpose
  txn::MessageTypeCounts sent_again_;      // what this core retransmitted (not the transactions)
  txn::MessageTypeCounts received_again_;  // repeats this core absorbed
  txn::TimerQueue timers_;
  std::size_t live_ = 0;
  std::uint64_t rng_;
  std::vector<std::string> dropped_;
  std::uint64_t dropped_count_ = 0;
  sip::Endpoint current_remote_;  // source of the request being handled (for received/rport)
  std::string supported_;         // config_.supported as one header value
  sip::Message scratch_;
};

}  // namespace imsflow::dialog
