#include "cli/ue.hpp"

#include <fmt/format.h>

#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "dialog/user_agent.hpp"
#include "load/call_behaviour.hpp"
#include "net/event_loop.hpp"

namespace imsflow::cli {

namespace {

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

}  // namespace

int run_ue(const UeOptions& o, std::ostream& out, std::ostream& err) {
  if (!o.answer) {
    err << "imsflow ue: only --answer (a terminating UE) exists so far\n";
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
  const sip::Transport transport = o.transport == "tcp" ? sip::Transport::Tcp : sip::Transport::Udp;
  auto listen = sip::Endpoint::parse(o.listen, transport);
  if (!listen) {
    err << "imsflow ue: --listen wants ADDRESS:PORT (\"127.0.0.1:5060\", \"[::1]:5060\"), not '" << o.listen << "'\n";
    return 2;
  }
  net::EventLoop loop;
  // A UDP listener also takes TCP on the same port (RFC 3261 §18.1.1 size rule).
  auto bound = loop.bind(*listen);
  if (!bound) {
    err << "imsflow ue: cannot listen on " << o.listen << ": " << bound.error().describe() << "\n";
    return 2;
  }
  dialog::UserAgentConfig config;
  config.local = *bound;
  config.user = "ue";
  load::apply_profile(*profile, config);
  load::AnswerBehaviour behaviour;
  behaviour.profile = *profile;
  behaviour.reject_status = o.respond;
  behaviour.media.address = bound->address.to_string();
  CountingAnswerer answerer(behaviour);
  dialog::UserAgent ua{config, answerer};
  answerer.bind(ua);
  if (auto a = loop.attach(ua, *bound); !a) {
    err << "imsflow ue: " << a.error().describe() << "\n";
    return 2;
  }
  if (auto s = loop.stop_on_signals({SIGINT, SIGTERM}); !s) err << "imsflow ue: " << s.error().describe() << "\n";
  out << fmt::format("imsflow ue: answering on {} (udp and tcp), profile {}{}; Ctrl-C to stop\n", bound->to_string(),
                     o.profile, o.respond ? fmt::format(", rejecting with {}", o.respond) : std::string());
  out.flush();
  const net::StopReason why =
      o.duration_s > 0 ? loop.run_for(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(o.duration_s)))
                       : loop.run();
  const auto& c = loop.counters();
  const std::size_t still_up = ua.live_sessions();
  if (o.json) {
    nlohmann::json j;
    j["stopped_by"] = why == net::StopReason::Signal ? "signal" : why == net::StopReason::TimeUp ? "duration" : "stop";
    j["calls"] = {{"incoming", answerer.incoming}, {"answered", answerer.answered()},
                  {"confirmed", answerer.confirmed}, {"ended", answerer.ended}, {"still_up", still_up}};
    nlohmann::json f = nlohmann::json::object();
    for (const auto& [cause, n] : answerer.failures) f[cause] = n;
    j["failed"] = f;
    j["messages"] = {{"udp_in", c.datagrams_in}, {"udp_out", c.datagrams_out}, {"tcp_in", c.stream_messages_in},
                     {"tcp_out", c.stream_messages_out}};
    j["retransmissions"] = ua.transaction_stats().retransmissions_sent;
    j["dropped"] = ua.transaction_stats().dropped;
    out << j.dump(2) << "\n";
    return 0;
  }
  out << fmt::format("\nimsflow ue: stopped ({})\n", why == net::StopReason::Signal ? "signal" : "duration over");
  out << fmt::format("  calls     {} incoming, {} answered, {} confirmed, {} ended, {} still up at shutdown\n",
                     answerer.incoming, answerer.answered(), answerer.confirmed, answerer.ended, still_up);
  for (const auto& [cause, n] : answerer.failures) out << fmt::format("  failed    {:>6}  {}\n", n, cause);
  out << fmt::format("  messages  udp {} in / {} out, tcp {} in / {} out, {} retransmissions, {} dropped\n",
                     c.datagrams_in, c.datagrams_out, c.stream_messages_in, c.stream_messages_out,
                     ua.transaction_stats().retransmissions_sent, ua.transaction_stats().dropped);
  return 0;
}

}  // namespace imsflow::cli
