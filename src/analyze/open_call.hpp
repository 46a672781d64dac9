// Internal to analyze/: what the analyzer keeps of a call while it is open.
// Each captured copy becomes one Sighting: a fixed-size record of the facts
// the checks need (about 100 bytes), copied out of the capture buffer (the
// SipPacket's views die after add()). A call may stay open for minutes and a
// capture may hold tens of thousands of open calls, so the record is small:
//   - short strings (methods, reason phrases, To-tags, Via branches, route
//     URIs) are stored once per call in a StringPool and named by StrId;
//   - what few messages carry (Route/Record-Route sets, Reason, Warning,
//     Retry-After, Unsupported) lives in SightingExtras, only when present;
//   - SDP bodies are kept only for the first sighting of a message that can
//     carry an offer or an answer, and one body repeated is kept once;
//   - From, To and Request-URI are kept on the call, from its first INVITE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze/call_analysis.hpp"
#include "sip/endpoint.hpp"
#include "sip/method.hpp"
#include "util/flat_index.hpp"

namespace imsflow::analyze::internal {

/// "No index" for the 32-bit indexes below.
inline constexpr std::uint32_t kNone = UINT32_MAX;

struct NodeKey {
  sip::IpAddress address;
  std::uint16_t port = 0;
  friend bool operator==(const NodeKey&, const NodeKey&) = default;
};

/// A string of one call's StringPool; 0 is the empty string. Within one call
/// equal strings have equal ids, so tags and branches compare as integers.
using StrId = std::uint32_t;

/// The short strings of one call, each stored once, back to back.
class StringPool {
 public:
  StringPool() = default;
  StringPool(StringPool&&) noexcept = default;
  StringPool& operator=(StringPool&&) noexcept = default;

  StrId intern(std::string_view s);
  /// Valid until the next intern() (the bytes may move).
  std::string_view view(StrId id) const {
    if (id == 0) return {};
    const std::uint32_t begin = id == 1 ? 0 : ends_[id - 2];
    return std::string_view(bytes_).substr(begin, ends_[id - 1] - begin);
  }
  std::size_t size() const { return ends_.size() + 1; }  // with the empty string

 private:
  // Above this many strings a hash index replaces the linear scan.
  static constexpr std::size_t kScanLimit = 16;
  std::string bytes_;
  std::vector<std::uint32_t> ends_;   // ends_[id - 1]: end offset of string id
  std::unique_ptr<FlatIndex> index_;  // hash → id, for large pools only
};

// Bits of Sighting::flags.
enum SightingFlag : std::uint16_t {
  kHasSdp = 1 << 0,  // the message had an SDP body (kept or not)
  kSupports100rel = 1 << 1,
  kRequires100rel = 1 << 2,
  kSupportsPrecondition = 1 << 3,
  kRequiresPrecondition = 1 << 4,
  kHasToTag = 1 << 5,
  kHasRSeq = 1 << 6,
  kHasRAck = 1 << 7,
  kSdpHasPreconditions = 1 << 8,  // the SDP has a=curr: or a=des: lines
};

struct Sighting {
  std::int64_t time_ns = 0;
  std::uint64_t key = 0;          // message identity (see analyzer.hpp)
  std::uint64_t frame = 0;
  std::uint64_t sequence = 0;     // arrival order across the whole capture
  std::uint32_t src = 0;          // OpenCall::nodes indexes
  std::uint32_t dst = 0;
  std::uint32_t leg = 0;          // OpenCall::call_ids index
  std::uint32_t cseq = 0;
  std::uint32_t rseq = 0;         // with kHasRSeq
  std::uint32_t rack_rseq = 0;    // with kHasRAck
  std::uint32_t rack_cseq = 0;
  StrId method_text = 0;          // request method, or CSeq method of a response
  StrId reason_phrase = 0;
  StrId to_tag = 0;
  StrId branch = 0;               // bottom Via branch (the originating UA's)
  std::uint32_t extras = kNone;   // OpenCall::extras index
  std::uint32_t sdp = kNone;      // OpenCall::sdps index (kept bodies only)
  std::uint32_t previous = kNone; // the sighting of the same message (key) before this one
  std::int16_t status = 0;
  std::uint16_t flags = 0;
  sip::Method method = sip::Method::Unknown;  // request method, or CSeq method of a response
  CopyKind kind = CopyKind::Original;
  std::uint8_t via_count = 0;
  std::uint8_t transport = 0;     // trace::Transport
  bool request = false;

  bool has(SightingFlag f) const { return (flags & f) != 0; }
  std::optional<std::uint32_t> rseq_value() const { return has(kHasRSeq) ? std::optional(rseq) : std::nullopt; }
};

// Tens of thousands of calls stay open at once, ten or more sightings each:
// a field added here costs memory on every captured message.
static_assert(sizeof(Sighting) <= 104, "Sighting grew: keep rare facts in SightingExtras");

/// What only some messages carry.
struct SightingExtras {
  std::vector<StrId> routes;         // Route URIs, in order (requests inside a dialog)
  std::vector<StrId> record_routes;  // Record-Route URIs, in order (INVITE and its responses)
  StrId reason_header = 0;           // Reason values joined by ", "
  StrId warning = 0;                 // first Warning: "code agent \"text\""
  StrId retry_after = 0;
  StrId unsupported = 0;             // the first Unsupported option tag (420)
};

struct OpenCall {
  std::vector<std::string> call_ids;
  std::string icid;
  std::vector<NodeKey> nodes;
  /// Stream connections from an ephemeral port, each mapped to the address
  /// its sender listens on (the request's top Via sent-by), so a node is one
  /// column whether it sent over UDP or opened a TCP connection.
  std::vector<std::pair<NodeKey, NodeKey>> aliases;
  std::vector<Sighting> sightings;
  std::vector<SightingExtras> extras;
  std::vector<std::string> sdps;
  StringPool strings;
  // From the first initial INVITE (no To-tag), by sequence.
  StrId from_uri = 0, to_uri = 0, request_uri = 0;
  std::uint64_t invite_sequence = 0;  // 0: none seen
  /// The latest sighting per message key; built only for calls past a
  /// few dozen sightings (smaller ones are scanned).
  std::unique_ptr<FlatIndex> latest_by_key;
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
  StrId first_method = 0;      // of the first message (non-INVITE counting)
  bool has_invite = false;
  bool answered = false;       // a 2xx to an INVITE was seen
  bool ended = false;          // the INVITE failed or a BYE was answered
  bool ended_by_bye = false;   // … the latter: a short linger suffices
  bool live = false;

  std::uint32_t node(const NodeKey& k) {
    for (std::uint32_t i = 0; i < nodes.size(); ++i)
      if (nodes[i] == k) return i;
    nodes.push_back(k);
    return static_cast<std::uint32_t>(nodes.size() - 1);
  }
  const NodeKey& resolve(const NodeKey& k) const {
    for (const auto& [from, to] : aliases)
      if (from == k) return to;
    return k;
  }
  std::string_view text(StrId id) const { return strings.view(id); }
  std::string str(StrId id) const { return std::string(strings.view(id)); }
  /// The kept SDP body of a sighting ("" when none was kept).
  std::string_view sdp(const Sighting& s) const {
    return s.sdp == kNone ? std::string_view() : std::string_view(sdps[s.sdp]);
  }
  bool has_sdp_text(const Sighting& s) const { return s.sdp != kNone; }
  /// Copy: the time since the first sighting of the message.
  std::int64_t hop_delay_ns(const Sighting& s) const {
    if (s.kind != CopyKind::Copy) return 0;
    std::uint32_t first = s.previous;
    while (first != kNone && sightings[first].previous != kNone) first = sightings[first].previous;
    return first == kNone ? 0 : s.time_ns - sightings[first].time_ns;
  }
  /// Route / Record-Route URIs of a sighting (empty when it had none).
  std::vector<std::string> routes(const Sighting& s) const;
  std::vector<std::string> record_routes(const Sighting& s) const;
  StrId extra(const Sighting& s, StrId SightingExtras::*field) const {
    return s.extras == kNone ? 0 : extras[s.extras].*field;
  }
};

/// Turns a finished call into its analysis (call_builder.cpp). `capture_end_ns`
/// is the latest capture time seen: it tells a call cut by the end of the
/// capture from one that stalled.
CallAnalysis build_call(OpenCall& call, std::int64_t capture_end_ns, bool keep_messages);

/// Fills checks and diagnoses (procedure.cpp), given the facts build_call found.
struct InviteFacts;

std::string node_text(const NodeKey& k);

/// A 64-bit hash of bytes whose low bits (the ones a FlatIndex probes with)
/// are well mixed.
std::uint64_t hash_text(std::string_view s);

}  // namespace imsflow::analyze::internal
