// analyze::Analyzer: captured SIP messages in (trace::SipPacket, in capture
// order), finished calls out (CallAnalysis, through a sink), in bounded
// memory.
//
// Correlation: messages are grouped by Call-ID; Call-IDs that carry the same
// P-Charging-Vector icid-value (RFC 7315 §4.6: one per session across CSCFs
// and B2BUA legs) are joined into one call. Inside a call a message is
// identified by its originating UA's Via branch (the bottom Via), CSeq,
// method or status, To-tag and RSeq, so the copy a proxy forwards (one Via
// more) is the same message on another hop, and the same message again on
// the same hop (address pair) is a retransmission. Two sightings on one hop
// closer than kDuplicateWindow are one frame captured twice (two capture
// points, a GTP-U hop seen before and after the tunnel end), not a SIP
// retransmission: RFC 3261 never retransmits sooner than T1/2.
// Nodes are address:port pairs, except that a request on a stream (TCP,
// SCTP, WebSocket) from an ephemeral port, whose top Via names the same
// address with another port, puts that connection's port under the Via's
// (where the sender listens, RFC 3261 §18.1.1): a UE or proxy is one node
// whether it sends over UDP or opens a connection.
//
// Streaming: a call is finalized (analyzed, handed to the sink, then freed)
// when it has ended (the INVITE failed, or its BYE was answered) and no
// message came for `ended_linger` of capture time, or when nothing came for
// `quiet_timeout`, or at finish(). Capture time is the largest timestamp
// seen so far, so nothing here reads a clock. Call-IDs that never carry an
// INVITE (REGISTER, OPTIONS, SUBSCRIBE …) are counted by method, not reported
// as calls.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/call_analysis.hpp"
#include "trace/capture_reader.hpp"
#include "trace/sip_packet.hpp"
#include "util/flat_index.hpp"
#include "util/result.hpp"

namespace imsflow::analyze {

/// Two sightings of one message on one hop closer than this are one frame
/// captured twice, not a retransmission (T1/2 with the default T1 of 500 ms
/// would be 250 ms; real duplicates here are under a millisecond apart).
inline constexpr std::int64_t kDuplicateWindowNs = 50'000'000;

struct AnalyzerOptions {
  /// An ended call is kept this long after its last message for late
  /// retransmissions: 8·T1 covers the ACK and response retransmissions
  /// that still come once the final answer was seen (T2 = 4 s spacing);
  /// anything later starts a Call-ID of its own (counted as non-INVITE).
  /// Longer holds more calls open at once.
  std::int64_t ended_linger_ns = 4'000'000'000;
  /// The same for a call whose INVITE failed: CANCEL, INVITE and ACK
  /// retransmissions may go on for 64·T1 (RFC 3261 Timers B, D, F).
  std::int64_t failed_linger_ns = 32'000'000'000;
  /// A call with no message for this long is finalized as it stands
  /// (longer than Timer C's 3 minutes).
  std::int64_t quiet_timeout_ns = 300'000'000'000;
  /// Build each call's detail: CallAnalysis::messages (every captured
  /// copy), nodes and roles, phases, transactions, dialogs and hops. The
  /// ladder, JSON, CSV and HTML need it; a summary-only run turns it off and
  /// gets the outcome, KPIs, checks, diagnoses and counts only.
  bool keep_messages = true;
};

/// Counts for the whole capture, beside the calls.
struct AnalyzerTotals {
  std::uint64_t messages = 0;          // SIP messages given to add()
  std::uint64_t calls = 0;             // CallAnalysis handed to the sink
  std::uint64_t joined_by_icid = 0;    // Call-IDs joined to a call by icid-value
  std::uint64_t finalized_by_timeout = 0;
  std::size_t peak_open_calls = 0;
  /// Call-IDs without an INVITE, by the method of their first request
  /// ("REGISTER" → 9); a Call-ID whose first message is a response counts
  /// under its CSeq method.
  std::map<std::string, std::uint64_t> non_invite;
};

namespace internal {
struct OpenCall;
}

class Analyzer {
 public:
  /// Receives each finished call once, in the order calls end. The
  /// CallAnalysis may be moved from.
  using CallSink = std::function<void(CallAnalysis&)>;

  explicit Analyzer(CallSink sink, AnalyzerOptions options = {});
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  /// One captured message (its views are read during the call only).
  void add(const trace::SipPacket& packet);
  /// End of capture: every call still open is finalized.
  void finish();

  const AnalyzerTotals& totals() const { return totals_; }
  std::size_t open_calls() const { return live_; }

 private:
  std::uint32_t slot_for(std::string_view call_id, std::uint64_t call_id_hash, std::string_view icid);
  void merge(std::uint32_t into, std::uint32_t from);
  void sweep(std::int64_t now_ns, bool all);
  void finalize(std::uint32_t slot, bool by_timeout);

  CallSink sink_;
  AnalyzerOptions options_;
  AnalyzerTotals totals_;
  std::vector<std::unique_ptr<internal::OpenCall>> slots_;
  std::vector<std::uint32_t> free_slots_;
  FlatIndex by_call_id_;  // hash of each leg's Call-ID → slot
  FlatIndex by_icid_;     // hash of icid-value → slot
  std::size_t live_ = 0;
  std::int64_t now_ns_ = 0;
  std::int64_t next_sweep_ns_ = 0;
  std::uint64_t sequence_ = 0;
};

/// Rebuilds every call of a whole capture in memory (for tests and small
/// files): the calls in the order they ended, and the totals.
struct CaptureAnalysis {
  std::vector<CallAnalysis> calls;
  AnalyzerTotals totals;
  trace::SkipCounters skipped;
  std::string read_error;  // the reader's, when the file ended early
  const CallAnalysis* find(std::string_view call_id) const;
};

/// Reads `path` ("-": standard input) and analyzes it whole. Fails only when
/// the file cannot be opened as a capture.
Result<CaptureAnalysis, trace::CaptureError> analyze_capture(const std::string& path, AnalyzerOptions options = {});
/// The same over a capture file held in memory.
Result<CaptureAnalysis, trace::CaptureError> analyze_capture_bytes(std::string_view file,
                                                                   AnalyzerOptions options = {});

}  // namespace imsflow::analyze
