#include "cli/demo.hpp"

#include <fmt/format.h>

#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "ims/topology.hpp"
#include "load/call_behaviour.hpp"
#include "net/event_loop.hpp"
#include "net/pcap_writer.hpp"
#include "net/recording_node.hpp"
#include "report/ladder.hpp"

namespace imsflow::cli {

namespace {

using namespace std::chrono_literals;

struct DemoScenario {
  const char* name;
  const char* what;
  bool established;  // the outcome that makes the run a success
};

// The seed's ladder, and each of its troubleshooting rows.
constexpr DemoScenario kDemoScenarios[] = {
    {"volte", "the VoLTE ladder: reliable 183, PRACK, UPDATE (preconditions), reliable 180, PRACK, 200, ACK", true},
    {"100rel", "reliable 183 with the SDP answer, PRACK, 200, 200, ACK (no preconditions)", true},
    {"no-progress", "UE-B never answers: only 100 Trying, then UE-A's Timer C, CANCEL and 487", false},
    {"no-prack", "UE-A never PRACKs: UE-B resends the 183, then gives up with 504 after 64*T1", false},
    {"no-ack", "UE-A never ACKs the 200: UE-B resends it, then BYE after 64*T1", false},
    {"codec-mismatch", "UE-B has only PCMU: 488 Not Acceptable Here", false},
    {"unregistered-callee", "UE-B did not register: the S-CSCF answers 480", false},
    {"forked", "UE-B registered from two devices: the S-CSCF forks, one answers, the other is CANCELled", true},
};

const DemoScenario* find_scenario(const std::string& name) {
  for (const DemoScenario& s : kDemoScenarios)
    if (name == s.name) return &s;
  return nullptr;
}

// What one side of the call saw.
struct SideLog : load::CallOutcome {
  dialog::UserAgent* ua = nullptr;
  void record(const dialog::SessionEvent& e) { load::CallOutcome::record(e, ua); }
};

struct Caller : dialog::SessionObserver {
  SideLog log;
  void on_session_event(const dialog::SessionEvent& e) override { log.record(e); }
};

struct Callee : load::Answerer {
  using load::Answerer::Answerer;
  SideLog log;
  void on_session_event(const dialog::SessionEvent& e) override {
    log.record(e);
    load::Answerer::on_session_event(e);
  }
};

double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Arrow {
  TimePoint at;
  std::size_t from = 0, to = 0;
  bool received = true;
  sip::Endpoint wire_source, wire_destination;  // as the receiver saw them (the real ports, TCP too)
  const std::string* bytes = nullptr;
};

// Pairs each send with the receipt of the same bytes, so arrows join the
// right columns whatever the transport.
std::vector<Arrow> arrows_of(const std::vector<net::ObservedMessage>& seen,
                             const std::vector<ims::NamedNode>& nodes) {
  std::vector<Arrow> out;
  std::vector<bool> used(seen.size(), false);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    const net::ObservedMessage& s = seen[i];
    if (!s.sent) continue;
    Arrow a{s.at, s.node, s.node, false, s.source, s.destination, &s.bytes};
    for (std::size_t j = 0; j < seen.size(); ++j) {
      const net::ObservedMessage& r = seen[j];
      if (used[j] || r.sent || r.node == s.node || r.bytes != s.bytes) continue;
      used[j] = true;
      a.to = r.node;
      a.received = true;
      a.wire_source = r.source;
      a.wire_destination = r.destination;
      break;
    }
    if (!a.received) {
      for (std::size_t n = 0; n < nodes.size(); ++n)
        if (nodes[n].local.address == s.destination.address && nodes[n].local.port == s.destination.port) a.to = n;
    }
    out.push_back(a);
  }
  return out;
}

bool is_registration(const std::string& bytes) {
  const std::size_t cseq = bytes.find("\nCSeq:");
  const std::size_t eol = bytes.find('\n', cseq + 1);
  return cseq != std::string::npos && bytes.substr(cseq, eol - cseq).find("REGISTER") != std::string::npos;
}

report::Ladder ladder_of(const std::vector<Arrow>& arrows, const std::vector<ims::NamedNode>& nodes, bool registration,
                         TimePoint zero) {
  report::Ladder l;
  for (const ims::NamedNode& n : nodes) l.columns.push_back({n.name, n.local.to_string()});
  for (const Arrow& a : arrows) {
    if (is_registration(*a.bytes) != registration) continue;
    report::LadderRow row;
    row.at = a.at - zero;
    row.from = a.from;
    row.to = a.to;
    row.label = report::compact_label(*a.bytes);
    if (!a.received) row.note = "(not received)";
    l.rows.push_back(std::move(row));
  }
  return l;
}

}  // namespace

std::string demo_scenario_help() {
  std::string h;
  for (const DemoScenario& s : kDemoScenarios) h += fmt::format("  {:<20} {}\n", s.name, s.what);
  return h;
}

int run_demo(const DemoOptions& o, std::ostream& out, std::ostream& err) {
  const DemoScenario* scenario = find_scenario(o.scenario);
  if (!scenario) {
    err << "imsflow demo: unknown scenario '" << o.scenario << "'; one of:\n" << demo_scenario_help();
    return 2;
  }
  if (o.transport != "udp" && o.transport != "tcp") {
    err << "imsflow demo: --transport must be udp or tcp\n";
    return 2;
  }
  const std::string name = scenario->name;
  const sip::Transport transport = o.transport == "tcp" ? sip::Transport::Tcp : sip::Transport::Udp;
  const load::Profile profile = name == "100rel" ? load::Profile::Reliable100rel : load::Profile::Preconditions;
  const bool forked = name == "forked";
  const bool callee_registers = name != "unregistered-callee";

  net::EventLoop loop;
  if (!loop.ok()) {
    err << "imsflow demo: " << loop.error() << "\n";
    return 2;
  }
  auto bind = [&](sip::Endpoint& e) {
    auto bound = loop.bind(sip::Endpoint{transport, sip::IpAddress::loopback_v4(), 0});
    if (!bound) {
      err << "imsflow demo: cannot bind a loopback port: " << bound.error().describe() << "\n";
      return false;
    }
    e = *bound;
    return true;
  };
  ims::TopologyEndpoints endpoints;
  endpoints.ue_b.resize(forked ? 2 : 1);
  for (sip::Endpoint* e : {&endpoints.ue_a, &endpoints.pcscf_a, &endpoints.scscf, &endpoints.pcscf_b})
    if (!bind(*e)) return 2;
  for (sip::Endpoint& e : endpoints.ue_b)
    if (!bind(e)) return 2;

  ims::TopologyOptions options;
  options.seed = 1;
  load::apply_profile(profile, options.ue);
  // The failure rows end on 64*T1 timers: T1 = 50 ms makes that 3.2 s.
  const bool scaled = !scenario->established;
  if (scaled) {
    options.timers.t1 = 50ms;
    options.timers.t2 = 400ms;
  }
  if (name == "no-progress") options.caller_timer_c = 3s;
  if (name == "no-prack") options.ue.faults.no_prack = true;
  if (name == "no-ack") options.ue.faults.no_ack = true;

  load::AnswerBehaviour behaviour;
  behaviour.profile = profile;
  behaviour.media.address = "127.0.0.1";
  if (name == "no-progress") behaviour.silent = true;
  if (name == "codec-mismatch") behaviour.media.codecs = {sdp::Codec::pcmu()};
  Caller caller;
  std::vector<std::unique_ptr<Callee>> callees;
  std::vector<dialog::SessionObserver*> observers;
  for (std::size_t i = 0; i < endpoints.ue_b.size(); ++i) {
    load::AnswerBehaviour b = behaviour;
    if (forked && i == 1) b.silent = true;  // the second device never picks up
    callees.push_back(std::make_unique<Callee>(b));
    observers.push_back(callees.back().get());
  }
  ims::ImsTopology topo(endpoints, options, caller, observers);
  caller.log.ua = &topo.ue_a.user_agent();
  for (std::size_t i = 0; i < callees.size(); ++i) {
    callees[i]->bind(topo.ue_b[i]->user_agent());
    callees[i]->log.ua = &topo.ue_b[i]->user_agent();
  }
  const std::vector<ims::NamedNode> nodes = topo.nodes();
  std::vector<net::ObservedMessage> seen;
  std::vector<std::unique_ptr<net::RecordingNode>> recorders;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    recorders.push_back(std::make_unique<net::RecordingNode>(*nodes[i].node, i, seen));
    if (auto a = loop.attach(*recorders.back(), nodes[i].local); !a) {
      err << "imsflow demo: " << a.error().describe() << "\n";
      return 2;
    }
  }
  if (auto s = loop.stop_on_signals({SIGINT, SIGTERM}); !s) err << "imsflow demo: " << s.error().describe() << "\n";

  // 1. Registration.
  const TimePoint start = Clock::now();
  std::vector<ims::ImsUe*> registering{&topo.ue_a};
  if (callee_registers)
    for (auto& ue : topo.ue_b) registering.push_back(ue.get());
  for (ims::ImsUe* ue : registering) ue->register_now(Clock::now());
  auto settled = [&] {
    for (ims::ImsUe* ue : registering)
      if (ue->phase() == ims::RegistrationPhase::Registering) return false;
    return true;
  };
  loop.run_until(settled, 10s);
  bool registered = true;
  for (ims::ImsUe* ue : registering) registered &= ue->phase() == ims::RegistrationPhase::Registered;

  // 2. The call, then BYE from UE-A once it is up.
  TimePoint invite_at = Clock::now();
  dialog::SessionId call;
  if (registered) {
    sdp::LocalMedia media;
    media.address = "127.0.0.1";
    invite_at = Clock::now();
    call = topo.ue_a.call("tel:+15550102", load::offer_for(profile, media), invite_at);
    auto callee_done = [&] {
      for (const auto& c : callees)
        if (c->log.failed || c->log.ended) return true;
      return false;
    };
    loop.run_until([&] { return caller.log.confirmed || caller.log.failed || callee_done(); }, 30s);
    if (caller.log.confirmed && scenario->established) {
      loop.run_for(300ms);
      topo.ue_a.user_agent().hang_up(call, Clock::now());
      loop.run_until([&] { return caller.log.ended; }, 5s);
    } else if (!caller.log.failed) {
      loop.run_until([&] { return caller.log.failed || caller.log.ended; }, 10s);
    }
    loop.run_for(200ms);  // the last ACKs and retransmissions
  }

  const std::vector<Arrow> arrows = arrows_of(seen, nodes);
  if (!o.pcap.empty()) {
    net::PcapWriter pcap;
    if (auto r = pcap.open(o.pcap); !r) {
      err << "imsflow demo: " << r.error().describe() << "\n";
      return 2;
    }
    const auto wall_now = std::chrono::system_clock::now();
    const TimePoint mono_now = Clock::now();
    for (const Arrow& a : arrows) {
      const auto wall = wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(mono_now - a.at);
      if (auto r = pcap.write(a.wire_source, a.wire_destination, *a.bytes, wall); !r) {
        err << "imsflow demo: " << r.error().describe() << "\n";
        return 2;
      }
    }
    if (auto r = pcap.close(); !r) {
      err << "imsflow demo: " << r.error().describe() << "\n";
      return 2;
    }
  }

  const bool established = caller.log.confirmed && (caller.log.ended || !scenario->established) && !caller.log.failed;
  const bool as_expected = registered && (scenario->established ? established : !established);
  std::vector<std::string> causes;
  if (caller.log.failed) causes.push_back(fmt::format("UE-A: {} {}", caller.log.status, caller.log.cause));
  for (std::size_t i = 0; i < callees.size(); ++i) {
    const SideLog& c = callees[i]->log;
    const std::string who = nodes[4 + i].name;
    if (c.failed) causes.push_back(fmt::format("{}: {}", who, c.cause));
    else if (c.ended && !c.cause.empty() && !scenario->established) causes.push_back(fmt::format("{}: {}", who, c.cause));
  }
  const dialog::SessionTimes& t = caller.log.times;

  if (o.json) {
    nlohmann::json j;
    j["scenario"] = name;
    j["transport"] = o.transport;
    nlohmann::json cols = nlohmann::json::array();
    for (const ims::NamedNode& n : nodes) cols.push_back({{"name", n.name}, {"address", n.local.to_string()}});
    j["nodes"] = cols;
    nlohmann::json regs = nlohmann::json::array();
    for (ims::ImsUe* ue : registering)
      regs.push_back({{"impu", ue->config().impu},
                      {"state", ims::to_string(ue->phase())},
                      {"challenges", ue->challenges()}});
    j["registrations"] = regs;
    nlohmann::json msgs = nlohmann::json::array();
    for (const Arrow& a : arrows)
      msgs.push_back({{"t_ms", ms(a.at - start)},
                      {"from", nodes[a.from].name + " " + nodes[a.from].local.to_string()},
                      {"to", nodes[a.to].name + " " + nodes[a.to].local.to_string()},
                      {"label", report::message_label(*a.bytes)},
                      {"received", a.received}});
    j["messages"] = msgs;
    auto since = [&](const std::optional<TimePoint>& p) -> nlohmann::json {
      return p && t.invite ? nlohmann::json(ms(*p - *t.invite)) : nlohmann::json(nullptr);
    };
    j["phases_ms"] = {{"session_request", since(t.invite)},
                      {"provisional_handling", since(t.first_provisional)},
                      {"post_dial_delay", since(t.first_18x)},
                      {"reliability_handling", since(t.reliability_done)},
                      {"preconditions_met", since(t.preconditions_met)},
                      {"final_response", since(t.final_response)},
                      {"ack", since(t.ack)}};
    j["outcome"] = !registered ? "registration failed" : established ? "established" : "failed";
    j["causes"] = causes;
    j["as_expected"] = as_expected;
    out << j.dump(2) << "\n";
    return as_expected ? 0 : 1;
  }

  out << fmt::format("imsflow demo ({}, {}): {}\n", name, o.transport, scenario->what);
  if (scaled) out << "timers scaled for the demo: T1 = 50 ms, so 64*T1 = 3.2 s\n";
  out << "\nregistration (IMS AKA, Milenage)\n";
  out << report::render_text(ladder_of(arrows, nodes, true, start), 20) << "\n";
  for (ims::ImsUe* ue : registering)
    out << fmt::format("  {:<24} {} ({} AKA challenge{})\n", ue->config().impu, ims::to_string(ue->phase()),
                       ue->challenges(), ue->challenges() == 1 ? "" : "s");
  if (!registered) {
    out << "result: registration failed\n";
    return 1;
  }
  out << "\ncall: tel:+15550102 from sip:alice@ims.example\n";
  out << report::render_text(ladder_of(arrows, nodes, false, invite_at), 20) << "\n";
  if (t.invite) {
    auto phase = [&](const char* label, const std::optional<TimePoint>& p) {
      if (p) out << fmt::format("  {:<42} {:>9.3f} ms\n", label, ms(*p - *t.invite));
    };
    out << "phases at UE-A (from the INVITE):\n";
    phase("session request (INVITE sent)", t.invite);
    phase("provisional handling (first response)", t.first_provisional);
    phase("first 18x (post-dial delay)", t.first_18x);
    phase("reliability handling (PRACK answered)", t.reliability_done);
    phase("preconditions met", t.preconditions_met);
    phase("final confirmation: 200 OK", t.final_response);
    phase("final confirmation: ACK", t.ack);
  }
  if (established) {
    out << "result: established (dialog confirmed by ACK)\n";
  } else {
    out << "result: not established\n";
  }
  for (const std::string& c : causes) out << "  cause: " << c << "\n";
  if (!as_expected) out << "(not the outcome this scenario expects)\n";
  return as_expected ? 0 : 1;
}

}  // namespace imsflow::cli
