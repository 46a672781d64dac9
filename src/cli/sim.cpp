#include "cli/sim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "dialog/user_agent.hpp"
#include "load/call_behaviour.hpp"
#include "report/ladder.hpp"
#include "sim/network.hpp"

namespace imsflow::cli {

namespace {

using namespace std::chrono_literals;

struct Scenario {
  const char* name;
  const char* what;
  bool expect_established;  // the outcome that makes the run a success
};

// Each troubleshooting row of the seed, and the ladders that work.
constexpr Scenario kSimScenarios[] = {
    {"100rel", "INVITE, 100, reliable 183 with SDP, PRACK, 200, 200, ACK (the seed ladder)", true},
    {"preconditions", "the TS 34.229-5 order: … 183, PRACK, UPDATE, 180, PRACK, 200, ACK", true},
    {"plain", "INVITE, 100, 180, 200, ACK without 100rel", true},
    {"prack-lost", "the first PRACK is lost; the 183 retransmission recovers the call", true},
    {"no-prack", "the caller never PRACKs: 183 retransmitted, then 504 after 64*T1", false},
    {"no-ack", "the caller never ACKs: 200 retransmitted, then BYE after 64*T1", false},
    {"no-progress", "only 100 Trying comes back: Timer C, CANCEL, 487", false},
    {"codec-mismatch", "no common codec: 488 Not Acceptable Here", false},
    {"busy", "the callee rejects with 486 Busy Here", false},
};

const Scenario* find_scenario(const std::string& name) {
  for (const Scenario& s : kSimScenarios)
    if (name == s.name) return &s;
  return nullptr;
}

using CallRecord = load::CallOutcome;

void record(std::map<std::uint32_t, CallRecord>& calls, dialog::UserAgent* ua, const dialog::SessionEvent& e) {
  calls[e.session.index].record(e, ua);
}

// The callee's side: answers as the scenario says and keeps what happened.
class CalleeLog : public load::Answerer {
 public:
  using load::Answerer::Answerer;
  std::map<std::uint32_t, CallRecord> calls;
  dialog::UserAgent* ua = nullptr;
  void on_session_event(const dialog::SessionEvent& e) override {
    record(calls, ua, e);
    load::Answerer::on_session_event(e);
  }
};

// The caller's side: keeps what happened to each call.
class CallerLog : public dialog::SessionObserver {
 public:
  std::map<std::uint32_t, CallRecord> calls;  // by session index
  dialog::UserAgent* ua = nullptr;
  std::uint32_t outcomes = 0;  // calls confirmed or failed
  void on_session_event(const dialog::SessionEvent& e) override {
    CallRecord& c = calls[e.session.index];
    if ((e.kind == dialog::SessionEventKind::Confirmed || e.kind == dialog::SessionEventKind::Failed) &&
        !c.confirmed && !c.failed)
      ++outcomes;
    c.record(e, ua);
  }
};

double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

std::string sim_scenario_help() {
  std::string h;
  for (const Scenario& s : kSimScenarios) h += fmt::format("  {:<15} {}\n", s.name, s.what);
  return h;
}

int run_sim(const SimOptions& o, std::ostream& out, std::ostream& err) {
  const Scenario* scenario = find_scenario(o.scenario);
  if (!scenario) {
    err << "imsflow sim: unknown scenario '" << o.scenario << "'; one of:\n" << sim_scenario_help();
    return 2;
  }
  if (o.calls == 0 || o.loss < 0 || o.loss >= 1) {
    err << "imsflow sim: --calls must be at least 1 and --loss in [0, 1)\n";
    return 2;
  }
  const std::string name = scenario->name;
  const load::Profile profile = name == "preconditions" ? load::Profile::Preconditions
                                : name == "plain"       ? load::Profile::Plain
                                                        : load::Profile::Reliable100rel;
  const sip::Endpoint a_at{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
  const sip::Endpoint b_at{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 2), 5060};

  sim::Network net(o.seed);
  net.set_default_link({std::chrono::milliseconds(o.delay_ms), {}, o.loss, 0, 0});
  if (o.calls > 1) net.keep_trace(false);
  if (!o.pcap.empty()) {
    if (auto r = net.write_pcap(o.pcap); !r) {
      err << "imsflow sim: " << r.error().describe() << "\n";
      return 2;
    }
  }
  dialog::UserAgentConfig ac;
  ac.local = a_at;
  ac.user = "ue-a";
  ac.seed = o.seed * 2 + 1;
  load::apply_profile(profile, ac);
  if (name == "no-prack") ac.faults.no_prack = true;
  if (name == "no-ack") ac.faults.no_ack = true;
  if (name == "prack-lost") ac.faults.drop_prack_once = true;
  if (name == "no-progress") ac.timers.timer_c = 60s;
  dialog::UserAgentConfig bc;
  bc.local = b_at;
  bc.user = "ue-b";
  bc.seed = o.seed * 2 + 2;
  load::apply_profile(profile, bc);

  load::AnswerBehaviour behaviour;
  behaviour.profile = profile;
  behaviour.media.address = "10.0.0.2";
  if (name == "no-progress") behaviour.silent = true;
  if (name == "busy") behaviour.reject_status = 486;
  if (name == "codec-mismatch") behaviour.media.codecs = {sdp::Codec::pcmu()};
  CallerLog caller_log;
  CalleeLog answerer(behaviour);
  dialog::UserAgent caller{ac, caller_log};
  dialog::UserAgent callee{bc, answerer};
  caller_log.ua = &caller;
  answerer.bind(callee);
  answerer.ua = &callee;
  net.attach(caller, a_at);
  net.attach(callee, b_at);

  sdp::LocalMedia offer_media;
  offer_media.address = "10.0.0.1";
  dialog::CallRequest request;
  request.target = "sip:ue-b@10.0.0.2";
  request.next_hop = b_at;
  request.sdp_offer = load::offer_for(profile, offer_media);
  const TimePoint start = net.now();
  std::vector<dialog::SessionId> ids;
  for (std::uint32_t i = 0; i < o.calls; ++i) {
    ids.push_back(caller.call(request, net.now()));
    net.flush(caller);
    if (o.calls > 1) net.run_for(1ms);
  }
  // Let every call reach its outcome at the caller, or the callee give up
  // (64*T1 covers the failure rows), hold, then hang up what is up.
  const TimePoint give_up = net.now() + 200s;
  while (caller_log.outcomes < o.calls && net.now() < give_up) {
    bool callee_done = !answerer.calls.empty();
    for (const auto& [i, c] : answerer.calls) callee_done = callee_done && (c.failed || c.confirmed);
    if (callee_done && answerer.calls.size() == o.calls && caller_log.outcomes + answerer.calls.size() >= o.calls &&
        std::all_of(answerer.calls.begin(), answerer.calls.end(), [](const auto& kv) { return kv.second.failed; }))
      break;
    net.run_for(10ms);
  }
  net.run_for(std::chrono::milliseconds(o.hold_ms));
  for (dialog::SessionId id : ids) caller.hang_up(id, net.now());
  net.flush(caller);
  net.run_until_idle(100s);
  if (!o.pcap.empty()) (void)net.close_pcap();

  std::uint32_t established = 0;
  std::map<std::string, std::uint32_t> failures;
  std::vector<double> pdd, setup;
  for (const auto& [index, c] : answerer.calls) {
    if (c.failed) ++failures[fmt::format("UE-B: {}", c.cause)];
  }
  for (const auto& [index, c] : caller_log.calls) {
    if (c.confirmed) ++established;
    if (c.failed) ++failures[fmt::format("UE-A: {} {}", c.status, c.cause)];
    if (c.times.invite && c.times.first_18x) pdd.push_back(ms(*c.times.first_18x - *c.times.invite));
    if (c.times.invite && c.times.final_response && c.confirmed)
      setup.push_back(ms(*c.times.final_response - *c.times.invite));
  }
  const bool as_expected = scenario->expect_established ? established == o.calls : established == 0;

  if (o.json) {
    nlohmann::json j;
    j["scenario"] = name;
    j["calls"] = o.calls;
    j["established"] = established;
    nlohmann::json f = nlohmann::json::object();
    for (const auto& [cause, n] : failures) f[cause] = n;
    j["failed"] = f;
    j["post_dial_delay_ms"] = {{"p50", percentile(pdd, 0.5)}, {"p99", percentile(pdd, 0.99)}};
    j["setup_time_ms"] = {{"p50", percentile(setup, 0.5)}, {"p99", percentile(setup, 0.99)}};
    j["retransmissions"] = caller.transaction_stats().retransmissions_sent + callee.transaction_stats().retransmissions_sent;
    j["datagrams"] = {{"sent", net.counters().sent}, {"lost", net.counters().lost}};
    out << j.dump(2) << "\n";
    return as_expected ? 0 : 1;
  }

  if (o.calls == 1) {
    report::Ladder ladder;
    ladder.columns = {{"UE-A", a_at.to_string()}, {"UE-B", b_at.to_string()}};
    for (const sim::TraceRecord& t : net.trace()) {
      report::LadderRow row;
      row.at = t.sent - start;
      row.from = t.source.address == a_at.address ? 0 : 1;
      row.to = row.from == 0 ? 1 : 0;
      row.label = report::message_label(t.bytes);
      if (t.fate == sim::Fate::Lost) row.note = "(lost)";
      ladder.rows.push_back(std::move(row));
    }
    out << report::render_text(ladder) << "\n";
    const CallRecord& c = caller_log.calls.begin()->second;
    const CallRecord* callee_side = answerer.calls.empty() ? nullptr : &answerer.calls.begin()->second;
    if (c.confirmed && !(callee_side && callee_side->failed)) {
      out << "result: established (dialog confirmed by ACK)\n";
    } else {
      out << "result: failed\n";
      if (c.failed) out << "  UE-A: " << c.status << " " << c.cause << "\n";
      if (callee_side && callee_side->failed) out << "  UE-B: " << callee_side->cause << "\n";
    }
    auto phase = [&](const char* label, const std::optional<TimePoint>& t) {
      if (t) out << fmt::format("  {:<40} {:>9.3f} ms\n", label, ms(*t - *c.times.invite));
    };
    out << "phases (from the INVITE):\n";
    phase("session request (INVITE sent)", c.times.invite);
    phase("provisional handling (first response)", c.times.first_provisional);
    phase("first 18x (post-dial delay)", c.times.first_18x);
    phase("reliability handling (PRACK answered)", c.times.reliability_done);
    phase("preconditions met", c.times.preconditions_met);
    phase("final confirmation: 200 OK", c.times.final_response);
    phase("final confirmation: ACK", c.times.ack);
  } else {
    out << fmt::format("scenario {}: {} calls, {} established, {} failed\n", name, o.calls, established,
                       o.calls - established);
    for (const auto& [cause, n] : failures) out << fmt::format("  failed {:>6}  {}\n", n, cause);
    out << fmt::format("post-dial delay  p50 {:.1f} ms  p99 {:.1f} ms\n", percentile(pdd, 0.5), percentile(pdd, 0.99));
    out << fmt::format("setup time       p50 {:.1f} ms  p99 {:.1f} ms\n", percentile(setup, 0.5),
                       percentile(setup, 0.99));
    out << fmt::format("datagrams        {} sent, {} lost; {} retransmissions\n", net.counters().sent,
                       net.counters().lost,
                       caller.transaction_stats().retransmissions_sent + callee.transaction_stats().retransmissions_sent);
  }
  return as_expected ? 0 : 1;
}

}  // namespace imsflow::cli
