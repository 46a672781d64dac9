// What the analyzer says about one call rebuilt from a capture: its legs
// (Call-IDs joined by P-Charging-Vector icid-value), nodes and hops, every
// captured copy of every message (original, retransmission on the same hop,
// copy on another hop), transactions, dialogs per To-tag, the seed's four
// phases, the KPIs, the procedure checks and the diagnoses. Everything here
// is owned (copied out of the capture buffers) and is a fact: renderers in
// report/ only lay it out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsflow::analyze {

/// How the INVITE ended (the definitions):
///   Established: a 2xx to the initial INVITE and an ACK for it were seen.
///   Failed: a final answer came but no confirmed dialog: a non-2xx final
///           (not a 487 after CANCEL, not an auth challenge that was retried),
///           or a 2xx that was never ACKed before the call ended.
///   Cancelled: the caller sent CANCEL and no 2xx came (487 or nothing).
///   Incomplete: no final answer in the capture.
enum class Outcome : std::uint8_t { Established, Failed, Cancelled, Incomplete, kCount };
std::string_view outcome_name(Outcome o);  // "established", "failed" …

/// Stable diagnosis codes (docs/analyze.schema.json lists them).
enum class DiagnosisCode : std::uint8_t {
  NoProgress,           // INVITE got nothing beyond 100 Trying before the call ended
  PrackMissing,         // a reliable provisional was never PRACKed
  PrackLate,            // PRACK came only after the 1xx was retransmitted (or > T1 after it)
  AckMissing,           // 2xx to INVITE never ACKed
  Rejected,             // a non-2xx final answer, with its likely cause
  OfferAnswerMismatch,  // an SDP answer that does not agree with its offer
  RouteMismatch,        // in-dialog requests not following the Record-Route set
  PreconditionNotMet,   // alerting/answer while mandatory QoS preconditions were unmet, or 580
  ReleasedAfterSetup,   // established, then released with a media/bearer Reason
  kCount
};
std::string_view diagnosis_name(DiagnosisCode c);  // "no_progress" …

struct Diagnosis {
  DiagnosisCode code = DiagnosisCode::Rejected;
  int status = 0;              // Rejected: the final status
  std::string explanation;     // one line naming the messages and their times
  std::string likely_cause;    // the seed's words for the cause
  std::string where_to_inspect;
  std::string next_step;
};

/// A procedure check: what was looked at and whether it held.
enum class CheckId : std::uint8_t {
  OfferAnswer,         // where the offer and answer were, common codecs
  SupportedRequire,    // 100rel / precondition in Supported/Require, 420
  RSeqContinuity,      // RSeq +1 per reliable provisional in a dialog, RAck matches
  ReliableProvisionalsPracked,
  FinalBeforePrack,    // a 2xx to INVITE sent before a reliable 1xx was PRACKed
  AckAfter2xx,
  RouteRecordRoute,    // in-dialog requests carry the Record-Route set as Route
  Preconditions,       // curr/des/conf state
  Retransmissions,
  ReasonWarning,       // Reason and Warning headers seen
  kCount
};
std::string_view check_name(CheckId c);  // "offer_answer" …

enum class CheckResult : std::uint8_t { Pass, Fail, Info };
std::string_view check_result_name(CheckResult r);  // "pass", "fail", "info"

struct Check {
  CheckId id = CheckId::OfferAnswer;
  CheckResult result = CheckResult::Info;
  std::string detail;
};

/// How one captured copy relates to the others of the same message.
enum class CopyKind : std::uint8_t {
  Original,        // first sighting anywhere
  Retransmission,  // seen again on the same hop (later than kDuplicateWindow)
  Copy,            // the same message on another hop (a proxy forwarded it)
  Duplicate,       // the same frame captured twice on one hop within kDuplicateWindow
                   // (two capture points, a tunnel hop): not a SIP retransmission
};
std::string_view copy_kind_name(CopyKind k);

struct CapturedMessage {
  std::int64_t time_ns = 0;   // capture time, ns since 1970
  std::uint64_t frame = 0;
  std::uint32_t src = 0;      // index in CallAnalysis::nodes
  std::uint32_t dst = 0;
  std::uint32_t leg = 0;      // index in CallAnalysis::call_ids
  std::string label;          // "INVITE +SDP", "183 Session Progress (INVITE) RSeq 1 +SDP"
  std::string transport;      // "UDP", "TCP", "SCTP", "WS"
  bool request = false;
  std::string method;         // request method, or the CSeq method of a response
  int status = 0;             // responses
  std::uint32_t cseq = 0;
  std::string to_tag;
  CopyKind kind = CopyKind::Original;
  std::int64_t hop_delay_ns = 0;  // Copy: since the first sighting of the message
  std::uint32_t transaction = 0;  // index in CallAnalysis::transactions
  bool has_sdp = false;
};

struct Transaction {
  std::string method;         // INVITE, PRACK, ACK …
  std::uint32_t cseq = 0;
  std::string branch;         // the originating UA's Via branch
  std::uint32_t leg = 0;
  std::int64_t request_ns = 0;  // first sighting (0 when the request was not captured)
  int final_status = 0;       // 0 when none
  std::int64_t final_ns = 0;
  std::vector<int> statuses;  // distinct statuses in order of first sighting
  std::uint32_t request_retransmissions = 0;
  std::uint32_t response_retransmissions = 0;
};

/// An early or confirmed dialog of the initial INVITE: one per To-tag (forks).
struct Dialog {
  std::string to_tag;
  std::uint32_t leg = 0;
  int first_status = 0;       // first response with this tag
  int final_status = 0;       // 0 when none
  std::int64_t first_ns = 0;
  bool acked = false;         // 2xx confirmed by ACK
  bool reliable = false;      // had a reliable provisional
};

struct Phase {
  std::string name;                 // "session request" …
  std::optional<double> start_ms;   // since the INVITE
  std::optional<double> end_ms;
  std::optional<double> duration_ms() const {
    if (!start_ms || !end_ms) return std::nullopt;
    return *end_ms - *start_ms;
  }
};

struct HopStats {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint32_t messages = 0;
  std::uint32_t retransmissions = 0;
  std::uint32_t copies = 0;                 // messages first seen on another hop
  std::optional<double> mean_copy_delay_ms; // of those copies, since the first sighting
};

struct OfferAnswerFacts {
  std::string offer_in;    // "INVITE", "183 (INVITE)" … empty when no offer
  std::string answer_in;
  std::vector<std::string> offered_codecs;  // "AMR-WB/16000"
  std::vector<std::string> answered_codecs;
  std::vector<std::string> common_codecs;
  std::string failure;     // why negotiation failed, empty when fine or not judged
};

struct CallAnalysis {
  std::vector<std::string> call_ids;  // legs; the first is the caller's
  std::string icid;                   // P-Charging-Vector icid-value, if any
  std::string from;                   // From URI of the initial INVITE
  std::string to;
  std::string request_uri;
  Outcome outcome = Outcome::Incomplete;
  int final_status = 0;               // of the initial INVITE (0 when none)
  std::string final_reason;
  std::int64_t start_ns = 0;          // first message
  std::int64_t end_ns = 0;            // last message
  std::optional<double> setup_ms;     // INVITE → first 2xx, at the first hop
  std::optional<double> pdd_ms;       // INVITE → first 18x, at the first hop
  std::optional<double> ack_delay_ms; // 2xx → ACK, at the first hop
  std::vector<Phase> phases;          // the seed's four, in order
  std::vector<std::string> nodes;     // "10.0.0.1:5060", in order of first appearance
  /// Per node, what it did with the caller's INVITE: "caller" (sent it first),
  /// "proxy" (received and forwarded it), "callee" (received it, forwarded
  /// nothing), or "node" (not on the INVITE's path).
  std::vector<std::string> node_roles;
  std::vector<CapturedMessage> messages;  // in capture order
  std::vector<HopStats> hops;
  std::vector<Transaction> transactions;
  std::vector<Dialog> dialogs;
  OfferAnswerFacts offer_answer;
  std::vector<Check> checks;
  std::vector<Diagnosis> diagnoses;
  std::uint32_t retransmissions = 0;
  std::uint32_t copies = 0;
  bool ended_by_timeout = false;      // finalized by the quiet timeout, not by the call's end

  bool has(DiagnosisCode c) const {
    for (const Diagnosis& d : diagnoses)
      if (d.code == c) return true;
    return false;
  }
};

}  // namespace imsflow::analyze
