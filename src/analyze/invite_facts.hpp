// Internal to analyze/: the facts of a call's initial INVITE that the
// checks and diagnoses (procedure.cpp) read, found by build_call
// (call_builder.cpp). Indexes point into OpenCall::sightings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyze/call_analysis.hpp"
#include "analyze/open_call.hpp"

namespace imsflow::analyze::internal {

inline constexpr std::int64_t kT1Ns = 500'000'000;  // RFC 3261 T1
/// A 2xx without ACK, or a reliable 1xx without PRACK, is only judged once
/// this much capture time followed it (2·T1): earlier, the capture simply ended.
inline constexpr std::int64_t kAnswerGraceNs = 2 * kT1Ns;
/// An INVITE with no progress is called stalled (when the capture ends
/// before its end) only after this long.
inline constexpr std::int64_t kProgressGraceNs = 4'000'000'000;

struct InviteFacts {
  const OpenCall* call = nullptr;
  std::int64_t capture_end_ns = 0;
  std::uint32_t leg = 0;              // the caller's leg (original numbering)
  std::uint32_t cseq = 0;             // of the INVITE transaction that decides the outcome
  StrId branch = 0;
  std::optional<std::size_t> invite;  // first sighting of the first initial INVITE
  std::optional<std::size_t> last_invite;  // first sighting of the deciding INVITE
  std::int64_t t0 = 0;                // the first INVITE (or the first message)
  bool first_hop_known = false;
  std::uint32_t caller = 0, callee = 0;  // nodes of the first hop
  // Indexes of the sighting that gives the time "at the first hop".
  std::optional<std::size_t> first_response, first_18x, first_2xx, final_response, ack, cancel, bye;
  std::vector<std::size_t> reliable;  // first sighting of each reliable 1xx (per To-tag and RSeq)
  Outcome outcome = Outcome::Incomplete;
  int final_status = 0;
  bool challenge_retried = false;     // a 401/407 before the deciding INVITE

  bool on_first_hop(const Sighting& s) const {
    return first_hop_known && ((s.src == caller && s.dst == callee) || (s.src == callee && s.dst == caller));
  }
  bool is_response_to_invite(const Sighting& s) const {
    return !s.request && s.method == sip::Method::Invite && s.leg == leg && s.cseq == cseq;
  }
};

/// Offer/answer, Supported/Require, RSeq/RAck, PRACK, ACK, routes,
/// preconditions, retransmissions, Reason/Warning; then the diagnoses.
void run_checks(const InviteFacts& f, CallAnalysis& out);

/// "12.345 s": a time relative to the INVITE.
std::string at(const InviteFacts& f, std::int64_t t_ns);
/// A message as the explanation names it: "183 Session Progress", "PRACK".
std::string short_name(const OpenCall& call, const Sighting& s);

}  // namespace imsflow::analyze::internal
