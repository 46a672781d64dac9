// What each end of a generated call does: the terminating side's answer
// (the 100rel ladder, preconditions, the plain ladder, or a failure on
// purpose) and the originating side's offer. The same behaviours drive the
// simulator command, the demo and the load generator, so a scenario is
// written once. Protocol rules stay in dialog/; this only decides what to
// say and when.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dialog/user_agent.hpp"
#include "sdp/offer_answer.hpp"

namespace imsflow::load {

enum class Profile : std::uint8_t {
  Reliable100rel,  // 100, 183 (reliable, SDP answer), PRACK, 200, 200, ACK
  Preconditions,   // … UPDATE, 200, 180 (reliable), PRACK, 200 … (TS 34.229-5 order)
  Plain,           // 100, 180, 200, ACK: no 100rel
};
std::string_view profile_name(Profile p);
std::optional<Profile> profile_from_name(std::string_view name);

/// The caller's SDP offer for a profile (AMR-WB, AMR, telephone-event; with
/// the RFC 3312 lines for Preconditions).
std::string offer_for(Profile p, const sdp::LocalMedia& media);

struct AnswerBehaviour {
  Profile profile = Profile::Reliable100rel;
  int reject_status = 0;  // answer every INVITE with this final status instead
  std::uint32_t retry_after_s = 0;  // with reject_status: Retry-After (RFC 3261 §20.33), 0 for none
  bool silent = false;    // never answer (the caller sees only 100 Trying)
  sdp::LocalMedia media;  // what the callee can receive (codecs decide 488)
};

/// The terminating side: reacts to a UserAgent's session events.
class Answerer : public dialog::SessionObserver {
 public:
  explicit Answerer(AnswerBehaviour behaviour) : behaviour_(std::move(behaviour)) {}
  void bind(dialog::UserAgent& ua) { ua_ = &ua; }
  void on_session_event(const dialog::SessionEvent& e) override;
  std::uint64_t answered() const { return answered_; }
  std::uint64_t rejected() const { return rejected_; }

 private:
  AnswerBehaviour behaviour_;
  dialog::UserAgent* ua_ = nullptr;
  std::uint64_t answered_ = 0;
  std::uint64_t rejected_ = 0;
};

/// What happened to one call, as its session events told: the seed's phase
/// times, whether it was confirmed, and the first failure (or the end) with
/// its cause. The demo, the simulator command and the UE command keep one
/// per call.
struct CallOutcome {
  dialog::SessionTimes times;
  bool incoming = false;
  bool confirmed = false;
  bool failed = false;
  bool ended = false;
  int status = 0;     // the failure's status
  std::string cause;  // the failure's cause, else the end's
  /// `ua` (may be null) gives the session's times.
  void record(const dialog::SessionEvent& e, const dialog::UserAgent* ua);
};

/// Configures a UserAgent for a profile: Supported tags and whether
/// provisionals go reliably.
void apply_profile(Profile p, dialog::UserAgentConfig& config);

}  // namespace imsflow::load
