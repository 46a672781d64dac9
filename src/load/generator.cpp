#include "load/generator.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace imsflow::load {

namespace {

dialog::UserAgentConfig ua_config(const GeneratorConfig& c) {
  dialog::UserAgentConfig ua = c.ua;
  apply_profile(c.profile, ua);
  ua.faults.no_prack = c.inject.kind == Injection::NoPrack;
  ua.faults.no_ack = c.inject.kind == Injection::NoAck;
  return ua;
}

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::optional<InjectSpec> parse_injection(std::string_view text) {
  if (text.empty() || text == "none") return InjectSpec{};
  if (text == "no-prack") return InjectSpec{Injection::NoPrack, {}};
  if (text == "no-ack") return InjectSpec{Injection::NoAck, {}};
  if (text == "bye-early") return InjectSpec{Injection::ByeEarly, {}};
  constexpr std::string_view kCancel = "cancel-after:";
  if (text.substr(0, kCancel.size()) == kCancel) {
    const std::string number(text.substr(kCancel.size()));
    char* end = nullptr;
    const double s = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(s >= 0) || s > 3600) return std::nullopt;
    return InjectSpec{Injection::CancelAfter,
                      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s))};
  }
  return std::nullopt;
}

std::string injection_name(const InjectSpec& spec) {
  switch (spec.kind) {
    case Injection::None: return "none";
    case Injection::NoPrack: return "no-prack";
    case Injection::NoAck: return "no-ack";
    case Injection::ByeEarly: return "bye-early";
    case Injection::CancelAfter: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "cancel-after:%g", seconds(spec.after));
      return buf;
    }
  }
  return "?";
}

std::string_view kpi_name(Kpi k) {
  switch (k) {
    case Kpi::InviteTo100: return "invite_to_100_ms";
    case Kpi::PostDialDelay: return "pdd_ms";
    case Kpi::ProvisionalToPrack: return "prack_ms";
    case Kpi::Setup: return "setup_ms";
    case Kpi::AckDelay: return "ack_delay_ms";
    case Kpi::kCount: break;
  }
  return "?";
}

std::string_view kpi_label(Kpi k) {
  switch (k) {
    case Kpi::InviteTo100: return "INVITE -> 100";
    case Kpi::PostDialDelay: return "INVITE -> first 18x (PDD)";
    case Kpi::ProvisionalToPrack: return "18x -> 200 PRACK";
    case Kpi::Setup: return "INVITE -> 200 INVITE";
    case Kpi::AckDelay: return "200 -> ACK";
    case Kpi::kCount: break;
  }
  return "?";
}

void GeneratorReport::merge(const GeneratorReport& o) {
  attempted += o.attempted;
  established += o.established;
  failed += o.failed;
  injected_outcomes += o.injected_outcomes;
  unfinished += o.unfinished;
  backoffs += o.backoffs;
  backed_off += o.backed_off;
  for (const auto& [cause, n] : o.failures) failures[cause] += n;
  for (std::size_t i = 0; i < kKpis; ++i) latency[i].merge(o.latency[i]);
  transactions.requests_received += o.transactions.requests_received;
  transactions.responses_received += o.transactions.responses_received;
  transactions.request_retransmissions_received += o.transactions.request_retransmissions_received;
  transactions.response_retransmissions_received += o.transactions.response_retransmissions_received;
  transactions.retransmissions_sent += o.transactions.retransmissions_sent;
  transactions.stray_responses += o.transactions.stray_responses;
  transactions.dropped += o.transactions.dropped;
  transactions.timeouts += o.transactions.timeouts;
  transactions.switched_to_tcp += o.transactions.switched_to_tcp;
  transactions.transport_errors += o.transactions.transport_errors;
  transactions.sent_again.merge(o.transactions.sent_again);
  transactions.received_again.merge(o.transactions.received_again);
  dropped += o.dropped;
  if (dropped_example.empty()) dropped_example = o.dropped_example;
}

CallGenerator::CallGenerator(GeneratorConfig config, TimePoint start)
    : config_(std::move(config)), ua_(ua_config(config_), *this), start_(start), last_refill_(start) {
  tokens_ = 1 - std::clamp(config_.phase, 0.0, 1.0);
  request_.target = config_.target_uri;
  request_.next_hop = config_.target;
  sdp::LocalMedia media;
  media.address = config_.media_address;
  request_.sdp_offer = offer_for(config_.profile, media);
}

bool CallGenerator::will_start() const {
  if (stopped_) return false;
  if (config_.max_calls != 0 && report_.attempted >= config_.max_calls) return false;
  if (config_.duration != Duration::zero() && last_refill_ >= start_ + config_.duration) return false;
  return true;
}

double CallGenerator::rate_at(TimePoint now) const {
  if (config_.ramp <= Duration::zero() || now >= start_ + config_.ramp) return config_.rate;
  const double share = now <= start_ ? 0 : seconds(now - start_) / seconds(config_.ramp);
  return std::max(config_.rate * share, config_.rate * 0.01);
}

void CallGenerator::start_due_calls(TimePoint now) {
  if (now < start_) return;
  if (now < paused_until_) {
    last_refill_ = now;  // no tokens pile up during the pause
    return;
  }
  const double rate = rate_at(now);
  // The bucket holds at most a tenth of a second of calls: a loop that
  // was late catches up that much, no more.
  tokens_ = std::min(tokens_ + rate * seconds(now - last_refill_), std::max(1.0, rate * 0.1));
  last_refill_ = now;
  while (tokens_ >= 1 && will_start() &&
         (config_.max_concurrent == 0 || calls_.size() < config_.max_concurrent)) {
    if (config_.duration != Duration::zero() && now >= start_ + config_.duration) break;
    tokens_ -= 1;
    const dialog::SessionId id = ua_.call(request_, now);
    if (!id) continue;
    calls_[id.index] = Call{id.generation, now};
    ++report_.attempted;
    live_.attempted.fetch_add(1, std::memory_order_relaxed);
    live_.in_flight.fetch_add(1, std::memory_order_relaxed);
    if (config_.inject.kind == Injection::CancelAfter)
      timers_.push(now, config_.inject.after, id.index, id.generation, kCancel);
  }
}

TimePoint CallGenerator::on_tick(TimePoint t) const {
  if (config_.tick <= Duration::zero() || t <= start_) return t;
  const auto ticks = (t - start_ + config_.tick - Duration(1)) / config_.tick;
  return start_ + ticks * config_.tick;
}

void CallGenerator::advance(TimePoint now) {
  start_due_calls(now);
  while (auto e = timers_.pop_due(now)) {
    auto it = calls_.find(e->index);
    if (it == calls_.end() || it->second.generation != e->generation || it->second.hung_up) continue;
    if (e->slot == kCancel && it->second.answered) continue;  // answered in time: no CANCEL
    it->second.hung_up = true;
    ua_.hang_up(dialog::SessionId{e->index, e->generation}, now);
  }
  ua_.advance(now);
}

std::optional<TimePoint> CallGenerator::next_deadline() const {
  std::optional<TimePoint> d = ua_.next_deadline();
  auto earliest = [&](TimePoint t) {
    if (!d || t < *d) d = t;
  };
  if (auto t = timers_.next_deadline()) earliest(*t);
  if (will_start() && (config_.max_concurrent == 0 || calls_.size() < config_.max_concurrent)) {
    const TimePoint from = std::max(last_refill_, start_);
    const double rate = std::max(rate_at(from), 1e-3);
    if (from < paused_until_) {
      earliest(paused_until_);
    } else if (tokens_ >= 1) {
      earliest(from);
    } else {
      earliest(on_tick(from + std::chrono::duration_cast<Duration>(std::chrono::duration<double>((1 - tokens_) / rate))));
    }
  }
  return d;
}

void CallGenerator::hang_up_all(TimePoint now) {
  for (auto& [index, call] : calls_) {
    if (call.hung_up) continue;
    call.hung_up = true;
    ua_.hang_up(dialog::SessionId{index, call.generation}, now);
  }
}

void CallGenerator::finish(std::uint32_t index, bool ok_by_injection) {
  if (ok_by_injection) ++report_.injected_outcomes;
  calls_.erase(index);
  live_.in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void CallGenerator::on_session_event(const dialog::SessionEvent& e) {
  using K = dialog::SessionEventKind;
  auto it = calls_.find(e.session.index);
  if (it == calls_.end() || it->second.generation != e.session.generation) return;
  Call& call = it->second;
  const Injection inject = config_.inject.kind;
  switch (e.kind) {
    case K::Answered:
      call.answered = true;
      return;
    case K::Confirmed: {
      call.answered = true;
      ++report_.established;
      live_.established.fetch_add(1, std::memory_order_relaxed);
      if (const dialog::SessionTimes* t = ua_.times(e.session); t && t->invite) {
        auto add = [&](Kpi k, const std::optional<TimePoint>& from, const std::optional<TimePoint>& to) {
          if (from && to) report_.latency[static_cast<std::size_t>(k)].add(*to - *from);
        };
        add(Kpi::InviteTo100, t->invite, t->first_provisional);
        add(Kpi::PostDialDelay, t->invite, t->first_18x);
        add(Kpi::ProvisionalToPrack, t->first_18x, t->reliability_done);
        add(Kpi::Setup, t->invite, t->final_response);
        add(Kpi::AckDelay, t->final_response, t->ack);
        if (t->final_response) live_.setup.add(*t->final_response - *t->invite);
      }
      timers_.push_at(inject == Injection::ByeEarly ? e.at : on_tick(e.at + config_.hold), e.session.index,
                   e.session.generation, kHangUp);
      return;
    }
    case K::Failed: {
      ++report_.failed;
      live_.failed.fetch_add(1, std::memory_order_relaxed);
      ++report_.failures[e.status ? std::to_string(e.status) + " " + e.cause : e.cause];
      if ((e.status == 503 || e.status == 500) && e.retry_after_s > 0 && e.at + std::chrono::seconds(e.retry_after_s) > paused_until_) {
        const TimePoint until = e.at + std::chrono::seconds(e.retry_after_s);
        report_.backed_off += until - std::max(paused_until_, e.at);
        ++report_.backoffs;
        paused_until_ = until;
      }
      const bool expected = (inject == Injection::NoPrack && e.status >= 500) ||
                            (inject == Injection::CancelAfter && e.status == 487);
      return finish(e.session.index, expected);
    }
    case K::Ended: {
      const bool confirmed = call.answered && inject != Injection::NoAck;
      if (!confirmed) {
        // A 2xx never ACKed (on purpose): the UAS released it.
        ++report_.failed;
        live_.failed.fetch_add(1, std::memory_order_relaxed);
        const std::string why = e.cause.empty() ? "ended" : e.cause;
        ++report_.failures[call.answered ? "200 OK without ACK: " + why : why + " before it was confirmed"];
      }
      return finish(e.session.index, inject == Injection::NoAck || inject == Injection::ByeEarly);
    }
    default:
      return;
  }
}

GeneratorReport CallGenerator::report() const {
  GeneratorReport r = report_;
  r.unfinished = calls_.size();
  r.transactions = ua_.transaction_stats();
  r.dropped = ua_.dropped_count();
  if (!ua_.dropped().empty()) r.dropped_example = ua_.dropped().front();
  return r;
}

}  // namespace imsflow::load
