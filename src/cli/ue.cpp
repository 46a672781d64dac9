#include "cli/ue.hpp"

#include <fmt/format.h>

#include <csignal>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <thread>
#include <vector>

#include "cli/subscribers_file.hpp"
#include "dialog/user_agent.hpp"
#include "ims/ue.hpp"
#include "load/call_behaviour.hpp"
#include "net/event_loop.hpp"
#include "net/recording_node.hpp"
#include "net/sharded_loops.hpp"
#include "sdp/codec.hpp"
#include "util/ascii.hpp"

namespace imsflow::cli {

namespace {

using namespace std::chrono_literals;

// The answering side plus the tally the summary needs.
class CountingAnswerer : public load::Answerer {
 public:
  using load::Answerer::Answerer;
  std::uint64_t incoming = 0, confirmed = 0, ended = 0;
  std::map<std::string, std::uint64_t> failures;
  void on_session_event(const dialog::SessionEvent& e) override {
    using K = dialog::SessionEventKind;
    if (e.kind == K::Incoming) ++incoming;
    if (e.kind == K::Confirmed) ++confirmed;
    if (e.kind == K::Ended) ++ended;
    if (e.kind == K::Failed) ++failures[fmt::format("{} {}", e.status, e.cause)];
    load::Answerer::on_session_event(e);
  }
};

// A UE that registers: answers (with --answer) and keeps its own call.
class RegisteredUe : public CountingAnswerer {
 public:
  RegisteredUe(load::AnswerBehaviour b, bool answer) : CountingAnswerer(std::move(b)), answer_(answer) {}
  dialog::SessionId own;  // the call placed with --call
  load::CallOutcome call;
  dialog::UserAgent* ua = nullptr;
  void on_session_event(const dialog::SessionEvent& e) override {
    if (own && e.session == own) return call.record(e, ua);
    if (answer_) CountingAnswerer::on_session_event(e);
  }

 private:
  bool answer_;
};

double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// --codecs: "PCMU,PCMA" → the codecs the UE can receive (488 when the offer
// has none of them).
std::optional<std::vector<sdp::Codec>> codecs_from_names(std::string_view list) {
  std::vector<sdp::Codec> codecs;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (ascii::iequals(name, "AMR-WB")) codecs.push_back(sdp::Codec::amr_wb());
    else if (ascii::iequals(name, "AMR")) codecs.push_back(sdp::Codec::amr());
    else if (ascii::iequals(name, "PCMU")) codecs.push_back(sdp::Codec::pcmu());
    else if (ascii::iequals(name, "PCMA")) codecs.push_back(sdp::Codec::pcma());
    else if (ascii::iequals(name, "telephone-event")) codecs.push_back(sdp::Codec::telephone_event());
    else return std::nullopt;
  }
  if (codecs.empty()) return std::nullopt;
  return codecs;
}

// How every incoming call is answered: the profile's ladder, or a failure on purpose.
load::AnswerBehaviour answer_behaviour(const UeOptions& o, load::Profile profile, const sip::Endpoint& bound,
                                       const std::vector<sdp::Codec>& codecs) {
  load::AnswerBehaviour b;
  b.profile = profile;
  b.reject_status = o.respond;
  b.retry_after_s = o.retry_after_s;
  b.silent = o.no_answer;
  b.media.address = bound.address.to_string();
  if (!codecs.empty()) b.media.codecs = codecs;
  return b;
}

void write_pcap(const UeOptions& o, const std::vector<std::vector<net::ObservedMessage>>& seen, std::ostream& err) {
  if (o.pcap.empty()) return;
  if (auto status = net::write_recorded_pcap(o.pcap, seen); !status)
    err << "imsflow ue: " << status.error().describe() << "\n";
}

int run_registered_ue(const UeOptions& o, load::Profile profile, const std::vector<sdp::Codec>& codecs,
                      sip::Transport transport, net::EventLoop& loop, const sip::Endpoint& bound_at, std::ostream& out,
                      std::ostream& err) {
  const sip::Endpoint* bound = &bound_at;
  auto pcscf = sip::Endpoint::parse(o.register_at, transport);
  if (!pcscf) {
    err << "imsflow ue: --register wants the P-CSCF's ADDRESS:PORT, not '" << o.register_at << "'\n";
    return 2;
  }
  auto subscribers = load_subscribers(o.config, "imsflow ue", err);
  if (!subscribers) return 2;
  const ims::Subscriber* me = nullptr;
  for (const ims::Subscriber& s : *subscribers)
    if (s.impi == o.impi) me = &s;
  if (!me) {
    err << "imsflow ue: no subscriber with IMPI " << o.impi << (o.config.empty() ? " among the demo's" : " in " + o.config)
        << "\n";
    return 2;
  }
  ims::UeConfig c;
  c.ua.local = *bound;
  c.ua.user = me->impi.substr(0, me->impi.find('@'));
  load::apply_profile(profile, c.ua);
  c.ua.timers.set_t1(std::chrono::milliseconds(o.t1_ms));
  c.impi = me->impi;
  c.impu = me->impus.front();
  c.home_domain = me->impi.find('@') == std::string::npos ? "ims.example" : me->impi.substr(me->impi.find('@') + 1);
  c.k = me->k;
  c.opc = me->opc;
  c.password = me->password;
  c.pcscf = *pcscf;
  RegisteredUe observer(answer_behaviour(o, profile, *bound, codecs), o.answer);
  ims::ImsUe ue(c, observer);
  observer.bind(ue.user_agent());
  observer.ua = &ue.user_agent();
  std::vector<std::vector<net::ObservedMessage>> seen(1);
  net::RecordingNode recorder(ue, 0, seen[0]);
  if (auto a = loop.attach(o.pcap.empty() ? static_cast<txn::Node&>(ue) : recorder, *bound); !a) {
    err << "imsflow ue: " << a.error().describe() << "\n";
    return 2;
  }
  if (auto s = loop.stop_on_signals({SIGINT, SIGTERM}); !s) err << "imsflow ue: " << s.error().describe() << "\n";

  ue.register_now(Clock::now());
  loop.run_until([&] { return ue.phase() != ims::RegistrationPhase::Registering; }, 40s);
  if (ue.phase() != ims::RegistrationPhase::Registered) {
    err << fmt::format("imsflow ue: {} did not register via {}: {}\n", c.impu, pcscf->to_string(),
                       ue.phase() == ims::RegistrationPhase::Registering ? "no answer" : ims::to_string(ue.phase()));
    write_pcap(o, seen, err);  // what the failed registration looked like
    return 1;
  }
  out << fmt::format("imsflow ue: {} registered via P-CSCF {} from {} ({} AKA challenge{}), service route {}\n",
                     c.impu, pcscf->to_string(), bound->to_string(), ue.challenges(), ue.challenges() == 1 ? "" : "s",
                     ue.service_route().empty() ? std::string("none") : ue.service_route().front());
  out.flush();
  int status = 0;
  if (!o.call.empty()) {
    sdp::LocalMedia media;
    media.address = bound->address.to_string();
    const TimePoint invite_at = Clock::now();
    observer.own = ue.call(o.call, load::offer_for(profile, media), invite_at);
    loop.run_until([&] { return observer.call.confirmed || observer.call.failed; }, 60s);
    if (observer.call.confirmed) {
      loop.run_for(std::chrono::milliseconds(o.hold_ms));
      ue.user_agent().hang_up(observer.own, Clock::now());
      loop.run_until([&] { return observer.call.ended; }, 10s);
    }
    const dialog::SessionTimes& t = observer.call.times;
    auto at = [&](const std::optional<TimePoint>& p) {
      return p && t.invite ? fmt::format("{:.3f} ms", ms(*p - *t.invite)) : std::string("-");
    };
    if (observer.call.confirmed) {
      out << fmt::format("call to {}: established (dialog confirmed by ACK); first 18x {}, 200 OK {}, ended {}\n",
                         o.call, at(t.first_18x), at(t.final_response), observer.call.ended ? "by BYE" : "not confirmed");
    } else {
      out << fmt::format("call to {}: not established: {}\n", o.call,
                         observer.call.failed ? fmt::format("{} {}", observer.call.status, observer.call.cause)
                                         : std::string("no outcome within 60 s"));
      status = 1;
    }
  }
  if (o.answer) {
    o.duration_s > 0 ? loop.run_for(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(o.duration_s)))
                     : loop.run();
    out << fmt::format("  calls answered: {} incoming, {} answered, {} confirmed, {} ended\n", observer.incoming,
                       observer.answered(), observer.confirmed, observer.ended);
  }
  // Leave cleanly: deregister, so the core does not keep a dead contact.
  ue.deregister(Clock::now());
  loop.run_until([&] { return ue.phase() != ims::RegistrationPhase::Deregistering; }, 5s);
  out << fmt::format("imsflow ue: {} {}\n", c.impu,
                     ue.phase() == ims::RegistrationPhase::Unregistered ? "deregistered" : "deregistration unanswered");
  write_pcap(o, seen, err);
  return status;
}

}  // namespace

int run_ue(const UeOptions& o, std::ostream& out, std::ostream& err) {
  if (!o.answer && o.register_at.empty()) {
    err << "imsflow ue: give --answer (a terminating UE), --register P-CSCF (an IMS UE), or both\n";
    return 2;
  }
  if (!o.call.empty() && o.register_at.empty()) {
    err << "imsflow ue: --call needs --register (the call goes through the P-CSCF)\n";
    return 2;
  }
  const auto profile = load::profile_from_name(o.profile);
  if (!profile) {
    err << "imsflow ue: --profile must be 100rel, preconditions or plain\n";
    return 2;
  }
  if (o.transport != "udp" && o.transport != "tcp") {
    err << "imsflow ue: --transport must be udp or tcp\n";
    return 2;
  }
  if (o.respond != 0 && (o.respond < 300 || o.respond > 699)) {
    err << "imsflow ue: --respond wants a final failure status, 300 to 699\n";
    return 2;
  }
  if (o.respond != 0 && o.no_answer) {
    err << "imsflow ue: --respond and --no-answer exclude each other\n";
    return 2;
  }
  if (o.retry_after_s != 0 && o.respond == 0) {
    err << "imsflow ue: --retry-after goes with --respond (the rejection carries it)\n";
    return 2;
  }
  if (o.t1_ms == 0) {
    err << "imsflow ue: --t1 must be at least 1 ms\n";
    return 2;
  }
  std::vector<sdp::Codec> codecs;
  if (!o.codecs.empty()) {
    auto named = codecs_from_names(o.codecs);
    if (!named) {
      err << "imsflow ue: --codecs wants names from AMR-WB, AMR, PCMU, PCMA, telephone-event, comma-separated, not '"
          << o.codecs << "'\n";
      return 2;
    }
    codecs = std::move(*named);
  }
  const sip::Transport transport = o.transport == "tcp" ? sip::Transport::Tcp : sip::Transport::Udp;
  auto listen = sip::Endpoint::parse(o.listen, transport);
  if (!listen) {
    err << "imsflow ue: --listen wants ADDRESS:PORT (\"127.0.0.1:5060\", \"[::1]:5060\"), not '" << o.listen << "'\n";
    return 2;
  }
  if (!o.register_at.empty()) {
    net::EventLoop loop(net::LoopOptions::from_flags(o.batch_window_us, o.timer_slack_us));
    auto bound = loop.bind(*listen);
    if (!bound) {
      err << "imsflow ue: cannot listen on " << o.listen << ": " << bound.error().describe() << "\n";
      return 2;
    }
    return run_registered_ue(o, *profile, codecs, transport, loop, *bound, out, err);
  }
  // One answering UA per thread, all on one port (SO_REUSEPORT spreads the
  // callers' sockets over them, and each dialog stays in its thread). A UDP
  // listener also takes TCP on the same port (RFC 3261 §18.1.1 size rule).
  const unsigned threads = std::max(1u, o.threads);
  net::ShardedLoops loops(threads, net::LoopOptions::from_flags(o.batch_window_us, o.timer_slack_us));
  auto bound = loops.bind(*listen);
  if (!bound) {
    err << "imsflow ue: cannot listen on " << o.listen << ": " << bound.error().describe() << "\n";
    return 2;
  }
  const load::AnswerBehaviour behaviour = answer_behaviour(o, *profile, *bound, codecs);
  std::vector<std::unique_ptr<CountingAnswerer>> answerers;
  std::vector<std::unique_ptr<dialog::UserAgent>> uas;
  // --pcap: each thread records what its UA sent and received.
  std::vector<std::vector<net::ObservedMessage>> seen(threads);
  std::vector<std::unique_ptr<net::RecordingNode>> recorders;
  for (unsigned i = 0; i < threads; ++i) {
    dialog::UserAgentConfig config;
    config.local = *bound;
    config.user = "ue";
    config.seed = 1 + i * 7919;
    load::apply_profile(*profile, config);
    config.timers.set_t1(std::chrono::milliseconds(o.t1_ms));
    answerers.push_back(std::make_unique<CountingAnswerer>(behaviour));
    uas.push_back(std::make_unique<dialog::UserAgent>(config, *answerers.back()));
    answerers.back()->bind(*uas.back());
    if (!o.pcap.empty()) recorders.push_back(std::make_unique<net::RecordingNode>(*uas.back(), i, seen[i]));
  }
  auto node_for = [&](std::size_t i) -> txn::Node& {
    if (!recorders.empty()) return *recorders[i];
    return *uas[i];
  };
  if (auto a = loops.attach(node_for, *bound); !a) {
    err << "imsflow ue: " << a.error().describe() << "\n";
    return 2;
  }
  if (auto s = loops.stop_on_signals({SIGINT, SIGTERM}); !s) err << "imsflow ue: " << s.error().describe() << "\n";
  // The banner goes to stderr with --json, so standard output is the JSON alone.
  std::string failing;
  if (o.respond) failing = fmt::format(", rejecting with {}", o.respond);
  if (o.retry_after_s) failing += fmt::format(" (Retry-After: {})", o.retry_after_s);
  if (o.no_answer) failing = ", never answering (100 Trying only)";
  (o.json ? err : out) << fmt::format("imsflow ue: answering on {} (udp and tcp), profile {}{}{}; Ctrl-C to stop\n",
                                      bound->to_string(), o.profile, failing,
                                      threads > 1 ? fmt::format(", {} threads", threads) : std::string());
  (o.json ? err : out).flush();
  loops.start();
  const TimePoint end = Clock::now() + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(o.duration_s));
  while (!loops.last_signal() && (o.duration_s <= 0 || Clock::now() < end)) std::this_thread::sleep_for(20ms);
  const bool by_signal = loops.last_signal().has_value();
  loops.stop();
  loops.join();
  write_pcap(o, seen, err);
  const net::LoopCounters c = loops.total_counters();
  std::uint64_t incoming = 0, answered = 0, confirmed = 0, ended = 0, retransmissions = 0, dropped = 0;
  std::size_t still_up = 0;
  std::map<std::string, std::uint64_t> failures;
  for (unsigned i = 0; i < threads; ++i) {
    incoming += answerers[i]->incoming;
    answered += answerers[i]->answered();
    confirmed += answerers[i]->confirmed;
    ended += answerers[i]->ended;
    for (const auto& [cause, n] : answerers[i]->failures) failures[cause] += n;
    still_up += uas[i]->live_sessions();
    retransmissions += uas[i]->transaction_stats().retransmissions_sent;
    dropped += uas[i]->transaction_stats().dropped;
  }
  if (o.json) {
    nlohmann::json j;
    j["stopped_by"] = by_signal ? "signal" : "duration";
    j["calls"] = {{"incoming", incoming}, {"answered", answered}, {"confirmed", confirmed}, {"ended", ended},
                  {"still_up", still_up}};
    nlohmann::json f = nlohmann::json::object();
    for (const auto& [cause, n] : failures) f[cause] = n;
    j["failed"] = f;
    j["messages"] = {{"udp_in", c.datagrams_in}, {"udp_out", c.datagrams_out}, {"tcp_in", c.stream_messages_in},
                     {"tcp_out", c.stream_messages_out}};
    j["retransmissions"] = retransmissions;
    j["dropped"] = dropped;
    out << j.dump(2) << "\n";
    return 0;
  }
  out << fmt::format("\nimsflow ue: stopped ({})\n", by_signal ? "signal" : "duration over");
  out << fmt::format("  calls     {} incoming, {} answered, {} confirmed, {} ended, {} still up at shutdown\n", incoming,
                     answered, confirmed, ended, still_up);
  for (const auto& [cause, n] : failures) out << fmt::format("  failed    {:>6}  {}\n", n, cause);
  out << fmt::format("  messages  udp {} in / {} out, tcp {} in / {} out, {} retransmissions, {} dropped\n",
                     c.datagrams_in, c.datagrams_out, c.stream_messages_in, c.stream_messages_out, retransmissions,
                     dropped);
  return 0;
}

}  // namespace imsflow::cli
