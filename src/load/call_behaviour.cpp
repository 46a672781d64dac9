#include "load/call_behaviour.hpp"

#include "sdp/precondition.hpp"
#include "sdp/session.hpp"

namespace imsflow::load {

std::string_view profile_name(Profile p) {
  switch (p) {
    case Profile::Reliable100rel: return "100rel";
    case Profile::Preconditions: return "preconditions";
    case Profile::Plain: return "plain";
  }
  return "?";
}

std::optional<Profile> profile_from_name(std::string_view name) {
  if (name == "100rel") return Profile::Reliable100rel;
  if (name == "preconditions") return Profile::Preconditions;
  if (name == "plain") return Profile::Plain;
  return std::nullopt;
}

std::string offer_for(Profile p, const sdp::LocalMedia& media) {
  if (p != Profile::Preconditions) return sdp::build_offer(media);
  // TS 24.229 §6.1.2: the UE's own segment is not ready yet, and it wants
  // both segments reserved before alerting.
  sdp::QosTable qos;
  qos.remote.strength = sdp::Strength::Optional;
  return sdp::build_offer(media, qos.attributes());
}

void CallOutcome::record(const dialog::SessionEvent& e, const dialog::UserAgent* ua) {
  using K = dialog::SessionEventKind;
  if (ua)
    if (const dialog::SessionTimes* t = ua->times(e.session)) times = *t;
  if (e.kind == K::Incoming) incoming = true;
  if (e.kind == K::Confirmed) confirmed = true;
  if (e.kind == K::Failed && !failed) {
    failed = true;
    status = e.status;
    cause = e.cause;
  }
  if (e.kind == K::Ended) {
    ended = true;
    if (cause.empty()) cause = e.cause;
  }
}

void apply_profile(Profile p, dialog::UserAgentConfig& config) {
  switch (p) {
    case Profile::Reliable100rel:
      config.supported = {"100rel", "timer"};
      config.reliable_provisionals = true;
      break;
    case Profile::Preconditions:
      config.supported = {"100rel", "precondition", "timer"};
      config.reliable_provisionals = true;
      break;
    case Profile::Plain:
      config.supported = {"timer"};
      config.reliable_provisionals = false;
      break;
  }
}

void Answerer::on_session_event(const dialog::SessionEvent& e) {
  using K = dialog::SessionEventKind;
  if (!ua_) return;
  switch (e.kind) {
    case K::Incoming: {
      if (behaviour_.silent) return;
      if (behaviour_.reject_status != 0) {
        ++rejected_;
        // A 503 (or 486, 480 …) may say when to try again; callers back off that long.
        const std::string retry_after =
            behaviour_.retry_after_s ? "Retry-After: " + std::to_string(behaviour_.retry_after_s) : std::string();
        ua_->reject(e.session, behaviour_.reject_status, e.at, retry_after);
        return;
      }
      std::string answer;
      if (!e.body.empty()) {
        auto offer = sdp::parse(e.body);
        if (!offer) {
          ++rejected_;
          ua_->reject(e.session, 400, e.at);
          return;
        }
        auto built = sdp::build_answer(*offer, behaviour_.media);
        if (!built) {
          // RFC 3264 §6 / the seed's "codec or media mismatch".
          ++rejected_;
          ua_->reject(e.session, 488, e.at, "Warning: 304 imsflow \"" + built.error().reason + "\"");
          return;
        }
        answer = std::move(built->sdp);
      }
      switch (behaviour_.profile) {
        case Profile::Reliable100rel:
          ua_->send_provisional(e.session, 183, answer, e.at);
          return;
        case Profile::Preconditions:
          ua_->send_provisional(e.session, 183, answer, e.at);
          ua_->send_provisional(e.session, 180, {}, e.at);  // held until the preconditions are met
          return;
        case Profile::Plain:
          ua_->send_provisional(e.session, 180, {}, e.at);
          ++answered_;
          ua_->answer(e.session, answer, e.at);
          return;
      }
      return;
    }
    case K::PrackDone: {
      // 100rel: answer once the 183 is PRACKed. Preconditions: once the 180
      // (sent after the preconditions were met) is PRACKed.
      const dialog::SessionTimes* t = ua_->times(e.session);
      if (behaviour_.profile == Profile::Preconditions && !(t && t->preconditions_met)) return;
      if (ua_->state(e.session) == dialog::SessionState::Early) {
        ++answered_;
        ua_->answer(e.session, {}, e.at);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace imsflow::load
