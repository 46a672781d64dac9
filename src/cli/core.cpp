#include "cli/core.hpp"

#include <fmt/format.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/subscribers_file.hpp"
#include "ims/cscf.hpp"
#include "ims/proxy.hpp"
#include "ims/registrar.hpp"
#include "net/event_loop.hpp"
#include "net/recording_node.hpp"

namespace imsflow::cli {

namespace {

nlohmann::json proxy_json(const ims::StatefulProxy& p) {
  const ims::ProxyStats& s = p.stats();
  return {{"forwarded", s.requests_forwarded}, {"responses_relayed", s.responses_relayed},
          {"acks_relayed", s.acks_relayed},    {"answered_locally", s.answered_locally},
          {"loops_refused", s.loops_refused},  {"overload_refused", s.overload_refused},
          {"cancels", s.cancels_relayed},      {"unroutable", s.unroutable},
          {"retransmissions", p.transaction_stats().retransmissions_sent},
          {"dropped", p.transaction_stats().dropped}};
}

}  // namespace

int run_core(const CoreOptions& o, std::ostream& out, std::ostream& err) {
  if (o.transport != "udp" && o.transport != "tcp") {
    err << "imsflow core: --transport must be udp or tcp\n";
    return 2;
  }
  const sip::Transport transport = o.transport == "tcp" ? sip::Transport::Tcp : sip::Transport::Udp;
  auto listen = sip::Endpoint::parse(o.listen, transport);
  if (!listen) {
    err << "imsflow core: --listen wants ADDRESS:PORT (\"127.0.0.1:5060\", \"[::1]:5060\"), not '" << o.listen
        << "'\n";
    return 2;
  }
  std::optional<sip::Endpoint> next_hop;
  if (!o.next_hop.empty()) {
    next_hop = sip::Endpoint::parse(o.next_hop, transport);
    if (!next_hop) {
      err << "imsflow core: --next-hop wants ADDRESS:PORT, not '" << o.next_hop << "'\n";
      return 2;
    }
  }
  auto subscribers = load_subscribers(o.config, "imsflow core", err);
  if (!subscribers) return 2;

  net::EventLoop loop(net::LoopOptions::from_flags(o.batch_window_us, o.timer_slack_us));
  auto pcscf_at = loop.bind(*listen);
  if (!pcscf_at) {
    err << "imsflow core: cannot listen on " << o.listen << ": " << pcscf_at.error().describe() << "\n";
    return 2;
  }
  sip::Endpoint scscf_want = *pcscf_at;
  scscf_want.port = listen->port == 0 ? 0 : static_cast<std::uint16_t>(pcscf_at->port + 1);
  auto scscf_at = loop.bind(scscf_want);
  if (!scscf_at) {
    err << "imsflow core: cannot listen on " << scscf_want.to_string() << " (the S-CSCF, --listen's port + 1): "
        << scscf_at.error().describe() << "\n";
    return 2;
  }

  ims::RegistrarConfig rc;
  std::string orig = "sip:orig@" + scscf_at->to_string();
  if (transport == sip::Transport::Tcp) orig += ";transport=tcp";
  rc.service_route = {"<" + orig + ";lr>"};
  ims::Registrar registrar(rc, std::move(*subscribers));
  ims::Scscf scscf_policy(ims::ScscfConfig{next_hop}, registrar);
  ims::ProxyConfig sc;
  sc.local = *scscf_at;
  sc.seed = 11;
  ims::StatefulProxy scscf(sc, scscf_policy);
  ims::PcscfConfig pc;
  pc.registrar = *scscf_at;
  pc.next_hop = next_hop;
  ims::Pcscf pcscf_policy(pc);
  ims::ProxyConfig pcc;
  pcc.local = *pcscf_at;
  pcc.seed = 12;
  ims::StatefulProxy pcscf(pcc, pcscf_policy);
  pcscf_policy.attach(pcscf);
  // --pcap: one loop, one record for both proxies (what goes between them
  // is written once).
  std::vector<std::vector<net::ObservedMessage>> seen(1);
  net::RecordingNode pcscf_recorder(pcscf, 0, seen[0]);
  net::RecordingNode scscf_recorder(scscf, 1, seen[0]);
  const bool recording = !o.pcap.empty();
  if (auto a = loop.attach(recording ? static_cast<txn::Node&>(pcscf_recorder) : pcscf, *pcscf_at); !a) {
    err << "imsflow core: " << a.error().describe() << "\n";
    return 2;
  }
  if (auto a = loop.attach(recording ? static_cast<txn::Node&>(scscf_recorder) : scscf, *scscf_at); !a) {
    err << "imsflow core: " << a.error().describe() << "\n";
    return 2;
  }
  if (auto s = loop.stop_on_signals({SIGINT, SIGTERM}); !s) err << "imsflow core: " << s.error().describe() << "\n";
  if (!o.json) {
    out << fmt::format("imsflow core: P-CSCF on {}, S-CSCF on {} ({}){}; Ctrl-C to stop\n", pcscf_at->to_string(),
                       scscf_at->to_string(), o.transport,
                       next_hop ? ", other traffic relayed to " + next_hop->to_string() : std::string());
    out.flush();
  }
  const net::StopReason why =
      o.duration_s > 0 ? loop.run_for(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(o.duration_s)))
                       : loop.run();
  if (recording)
    if (auto status = net::write_recorded_pcap(o.pcap, seen); !status)
      err << "imsflow core: " << status.error().describe() << "\n";
  const ims::RegistrarStats& r = registrar.stats();
  if (o.json) {
    nlohmann::json j;
    j["stopped_by"] = why == net::StopReason::Signal ? "signal" : "duration";
    j["pcscf"] = proxy_json(pcscf);
    j["scscf"] = proxy_json(scscf);
    j["registrar"] = {{"challenges", r.challenges},
                      {"registered", r.registered},
                      {"deregistered", r.deregistered},
                      {"auth_failures", r.auth_failures},
                      {"resyncs", r.resyncs}};
    out << j.dump(2) << "\n";
    return 0;
  }
  out << fmt::format("\nimsflow core: stopped ({})\n", why == net::StopReason::Signal ? "signal" : "duration over");
  for (const auto* p : {&pcscf, &scscf}) {
    const ims::ProxyStats& s = p->stats();
    out << fmt::format("  {}  {} forwarded, {} responses relayed, {} ACKs, {} answered here, {} CANCELs, "
                       "{} loops (483), {} overload (503), {} retransmissions\n",
                       p == &pcscf ? "P-CSCF" : "S-CSCF", s.requests_forwarded, s.responses_relayed, s.acks_relayed,
                       s.answered_locally, s.cancels_relayed, s.loops_refused, s.overload_refused,
                       p->transaction_stats().retransmissions_sent);
  }
  out << fmt::format("  registrar  {} challenges, {} registrations, {} deregistrations, {} refused, {} resyncs\n",
                     r.challenges, r.registered, r.deregistered, r.auth_failures, r.resyncs);
  return 0;
}

}  // namespace imsflow::cli
