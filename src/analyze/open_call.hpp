// Internal to analyze/: what the analyzer keeps of a call while it is open.
// Each captured copy becomes one Sighting with the facts the checks need,
// copied out of the capture buffer (the SipPacket's views die after add()).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyze/call_analysis.hpp"
#include "sip/endpoint.hpp"
#include "sip/method.hpp"

namespace imsflow::analyze::internal {

struct NodeKey {
  sip::IpAddress address;
  std::uint16_t port = 0;
  friend bool operator==(const NodeKey&, const NodeKey&) = default;
};

// Bits of Sighting::flags.
enum SightingFlag : std::uint16_t {
  kHasSdp = 1 << 0,
  kSupports100rel = 1 << 1,
  kRequires100rel = 1 << 2,
  kSupportsPrecondition = 1 << 3,
  kRequiresPrecondition = 1 << 4,
  kHasToTag = 1 << 5,
};

struct Sighting {
  std::int64_t time_ns = 0;
  std::uint64_t frame = 0;
  std::uint64_t sequence = 0;  // arrival order across the whole capture
  std::uint32_t src = 0;       // OpenCall::nodes indexes
  std::uint32_t dst = 0;
  std::uint32_t leg = 0;       // OpenCall::call_ids index
  bool request = false;
  sip::Method method = sip::Method::Unknown;  // request method, or CSeq method of a response
  std::string method_text;
  int status = 0;
  std::string reason_phrase;
  std::uint32_t cseq = 0;
  std::string to_tag;
  std::string branch;          // bottom Via branch (the originating UA's)
  std::uint8_t via_count = 0;
  std::optional<std::uint32_t> rseq;
  std::optional<std::uint32_t> rack_rseq, rack_cseq;
  std::uint16_t flags = 0;
  std::uint8_t transport = 0;  // trace::Transport
  std::uint64_t key = 0;       // message identity (see analyzer.hpp)
  CopyKind kind = CopyKind::Original;
  std::int64_t hop_delay_ns = 0;
  // Kept when present (empty otherwise).
  std::string sdp;             // the body, when it is SDP
  std::vector<std::string> routes;         // Route URIs, in order
  std::vector<std::string> record_routes;  // Record-Route URIs, in order
  std::string reason_header;   // Reason values joined by ", "
  std::string warning;         // first Warning: "code agent \"text\""
  std::string retry_after;
  std::string from_uri, to_uri, request_uri;  // initial INVITE only
  std::vector<std::string> unsupported;       // Unsupported tags (420)

  bool has(SightingFlag f) const { return (flags & f) != 0; }
};

struct HopSeen {
  std::uint32_t src = 0, dst = 0;
  std::int64_t last_ns = 0;
};

struct MessageSeen {
  std::int64_t first_ns = 0;
  std::vector<HopSeen> hops;
};

struct OpenCall {
  std::vector<std::string> call_ids;
  std::string icid;
  std::vector<NodeKey> nodes;
  std::vector<Sighting> sightings;
  std::unordered_map<std::uint64_t, MessageSeen> seen;
  std::int64_t first_ns = 0;
  std::int64_t last_ns = 0;
  bool has_invite = false;
  bool ended = false;          // the INVITE failed or a BYE was answered
  bool ended_by_bye = false;   // … the latter: a short linger suffices
  std::string first_method;    // of the first message (non-INVITE counting)
  bool live = false;

  std::uint32_t node(const NodeKey& k) {
    for (std::uint32_t i = 0; i < nodes.size(); ++i)
      if (nodes[i] == k) return i;
    nodes.push_back(k);
    return static_cast<std::uint32_t>(nodes.size() - 1);
  }
};

/// Turns a finished call into its analysis (call_builder.cpp). `capture_end_ns`
/// is the latest capture time seen: it tells a call cut by the end of the
/// capture from one that stalled.
CallAnalysis build_call(OpenCall& call, std::int64_t capture_end_ns, bool keep_messages);

/// Fills checks and diagnoses (procedure.cpp), given the facts build_call found.
struct InviteFacts;

std::string node_text(const NodeKey& k);

}  // namespace imsflow::analyze::internal
