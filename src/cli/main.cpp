// The imsflow command: parses arguments and hands each subcommand to its
// layer. No protocol logic lives here.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/analyze.hpp"
#include "cli/core.hpp"
#include "cli/demo.hpp"
#include "cli/lint.hpp"
#include "cli/load.hpp"
#include "cli/sim.hpp"
#include "cli/ue.hpp"

namespace {
constexpr const char* kBatchWindowHelp =
    "Microseconds each event loop waits after a wake-up with work, so the next finds many datagrams: less CPU per "
    "call at high rates, up to this much latency per hop (0: none)";
constexpr const char* kTimerSlackHelp =
    "Microseconds a SIP timer may fire late, so timers due close together share one wake-up (0: exact)";
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"imsflow: speak, load and read the VoLTE/IMS SIP session ladder"};
  app.set_version_flag("--version", "imsflow 0.1.0");
  app.require_subcommand(1);

  imsflow::cli::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", "Register two UEs with IMS AKA and call across P-CSCF, S-CSCF, P-CSCF over loopback sockets");
  demo_cmd->add_option("--scenario", demo.scenario, "What happens on the call (see below)")->capture_default_str();
  demo_cmd->add_option("--transport", demo.transport, "udp or tcp")->capture_default_str();
  demo_cmd->add_option("--pcap", demo.pcap, "Write every message to this pcap file (Wireshark, imsflow analyze)");
  demo_cmd->add_flag("--json", demo.json, "Print the ladder, phases and outcome as JSON");
  demo_cmd->footer("Scenarios:\n" + imsflow::cli::demo_scenario_help() +
                   "Examples:\n"
                   "  imsflow demo\n"
                   "  imsflow demo --scenario no-prack --pcap no-prack.pcap\n"
                   "  imsflow demo --transport tcp --json | jq .phases_ms\n"
                   "Exit status: 0 when the call ends as the scenario expects (established, or the failure it "
                   "provokes), 1 otherwise, 2 usage or socket error.");

  imsflow::cli::CoreOptions core;
  CLI::App* core_cmd = app.add_subcommand(
      "core", "The P-CSCF and S-CSCF with its registrar as a server (the S-CSCF on --listen's port + 1)");
  core_cmd->add_option("--listen", core.listen, "ADDRESS:PORT of the P-CSCF, UDP and TCP")->capture_default_str();
  core_cmd->add_option("--config", core.config,
                       "Subscribers file: IMPI IMPU[,IMPU...] K OPc [sqn=N] [amf=HEX] [password=X] per line");
  core_cmd->add_option("--next-hop", core.next_hop,
                       "Relay requests of unregistered senders and unknown callees here (a plain proxy)");
  core_cmd->add_option("--transport", core.transport, "udp or tcp, for its own URIs")->capture_default_str();
  core_cmd->add_option("--duration", core.duration_s, "Stop by itself after this many seconds");
  core_cmd->add_flag("--json", core.json, "Print the final counters as JSON");
  core_cmd->add_option("--batch-window", core.batch_window_us, kBatchWindowHelp)
      ->capture_default_str();
  core_cmd->add_option("--timer-slack", core.timer_slack_us, kTimerSlackHelp)->capture_default_str();
  core_cmd->add_option("--pcap", core.pcap,
                       "Write every message the P-CSCF and S-CSCF sent and received here when it stops (held in "
                       "memory until then); a relayed call is in it on both hops");
  core_cmd->footer("Examples:\n"
                   "  imsflow core --listen 127.0.0.1:5060\n"
                   "  imsflow core --listen 127.0.0.1:5060 --next-hop 127.0.0.1:5080   # SIPp UAC -> core -> SIPp UAS\n"
                   "  imsflow core --listen 127.0.0.1:5060 --next-hop 127.0.0.1:5070 --pcap core.pcap\n"
                   "  imsflow core --config subscribers.conf\n"
                   "Ctrl-C stops it and prints what each node did.");

  imsflow::cli::LoadOptions load;
  CLI::App* load_cmd = app.add_subcommand(
      "load", "Generate calls with the real ladder (100rel, preconditions, plain) at a steady rate, on every core");
  load_cmd->add_option("--target", load.target, "ADDRESS:PORT of the UAS or the first proxy")->required();
  load_cmd->add_option("--to", load.to, "Request-URI (default sip:load@TARGET)");
  load_cmd->add_option("--rate", load.rate, "Calls per second, all threads together")->capture_default_str();
  load_cmd->add_option("--calls", load.calls, "Stop after this many calls (0: no limit)");
  load_cmd->add_option("--duration", load.duration_s, "Start calls for this many seconds (0: no limit)");
  load_cmd->add_option("--max-concurrent", load.max_concurrent, "At most this many calls in flight (0: no limit)");
  load_cmd->add_option("--hold", load.hold_ms, "Milliseconds an established call stays up before BYE")
      ->capture_default_str();
  load_cmd->add_option("--profile", load.profile, "100rel, preconditions or plain")->capture_default_str();
  load_cmd->add_option("--transport", load.transport, "udp or tcp")->capture_default_str();
  load_cmd->add_option("--local", load.local, "ADDRESS:PORT to send from (each thread binds its own port)")
      ->capture_default_str();
  load_cmd->add_option("--threads", load.threads, "Event loops (default: one per core)");
  load_cmd->add_option("--ramp", load.ramp_s, "Seconds over which the rate rises from 0");
  load_cmd->add_option("--inject", load.inject, "no-prack, no-ack, cancel-after:SECONDS or bye-early");
  load_cmd->add_option("--json", load.json, "Write the report and a per-second time series here");
  load_cmd->add_option("--csv", load.csv, "Write the per-second time series here");
  load_cmd->add_option("--pcap", load.pcap, "Write every message sent and received here (held in memory until the end)");
  load_cmd->add_option("--t1", load.t1_ms,
                       "RFC 3261 T1 in milliseconds: first retransmission interval; transactions give up after 64*T1")
      ->capture_default_str();
  load_cmd->add_option("--batch-window", load.batch_window_us,
                       kBatchWindowHelp)
      ->capture_default_str();
  load_cmd->add_option("--timer-slack", load.timer_slack_us,
                       "Microseconds a timer (call pacing included) may fire late, so timers due close together "
                       "share one wake-up; new calls then start in groups of up to this long (0: exact)")
      ->capture_default_str();
  load_cmd->add_flag("--progress,!--no-progress", load.progress,
                     "One live progress line (default when stderr is a terminal), or periodic lines");
  load_cmd->footer("Examples:\n"
                   "  imsflow ue --listen 127.0.0.1:5070 --answer &\n"
                   "  imsflow load --target 127.0.0.1:5070 --rate 500 --calls 5000 --hold 1000\n"
                   "  imsflow load --target 127.0.0.1:5070 --rate 100 --duration 10 --inject no-prack --json r.json\n"
                   "Exit status: 0 when every call established (or ended as --inject meant), 1 otherwise, 2 usage or "
                   "socket error.");

  imsflow::cli::LintOptions lint;
  CLI::App* lint_cmd = app.add_subcommand(
      "lint", "Check SIP messages (and their SDP bodies) and say what a UAS must answer");
  lint_cmd->add_option("files", lint.files, "Message files, one SIP message each; '-' reads standard input")
      ->required();
  lint_cmd->add_flag("--json", lint.json,
                     "Print a JSON array of {file, verdict, reason, offset, header, response}");
  lint_cmd->footer(
      "Examples:\n"
      "  imsflow lint tests/data/messages/*.sip\n"
      "  imsflow lint --json invite.sip | jq '.[] | select(.verdict == \"invalid\")'\n"
      "  printf 'OPTIONS sip:a@b SIP/2.0\\r\\n\\r\\n' | imsflow lint -\n"
      "Exit status: 0 all valid, 1 any invalid, 2 usage or I/O error.");

  imsflow::cli::SimOptions sim;
  CLI::App* sim_cmd = app.add_subcommand(
      "sim", "Run calls between two UEs over a simulated network and draw the ladder (deterministic)");
  sim_cmd->add_option("--scenario", sim.scenario, "What happens on the call (see below)")->capture_default_str();
  sim_cmd->add_option("--calls", sim.calls, "Number of calls; more than one prints a summary")->capture_default_str();
  sim_cmd->add_option("--loss", sim.loss, "Probability that a datagram is lost, each way")->capture_default_str();
  sim_cmd->add_option("--delay", sim.delay_ms, "One-way delay in milliseconds")->capture_default_str();
  sim_cmd->add_option("--hold", sim.hold_ms, "Milliseconds a confirmed call stays up before BYE")->capture_default_str();
  sim_cmd->add_option("--seed", sim.seed, "Seed of the network's randomness (same seed, same run)")->capture_default_str();
  sim_cmd->add_option("--pcap", sim.pcap, "Write every datagram to this pcap file (Wireshark reads it)");
  sim_cmd->add_flag("--json", sim.json, "Print the outcome as JSON");
  sim_cmd->footer("Scenarios:\n" + imsflow::cli::sim_scenario_help() +
                  "Exit status: 0 when the outcome is the scenario's (established, or the failure it provokes), "
                  "1 otherwise, 2 usage error.");

  imsflow::cli::UeOptions ue;
  CLI::App* ue_cmd = app.add_subcommand(
      "ue", "A UE on real sockets: --answer every INVITE, --register with an IMS core, --call through it");
  ue_cmd->add_option("--listen", ue.listen, "ADDRESS:PORT to listen on, UDP and TCP (port 0: any free one)")
      ->capture_default_str();
  ue_cmd->add_flag("--answer", ue.answer, "Answer every incoming INVITE (a terminating UE)");
  ue_cmd->add_option("--profile", ue.profile, "100rel, preconditions or plain")->capture_default_str();
  ue_cmd->add_option("--transport", ue.transport, "udp or tcp, for the Contact it gives")->capture_default_str();
  ue_cmd->add_option("--respond", ue.respond, "Reject every call with this status (486, 488, 503 …)");
  ue_cmd->add_option("--retry-after", ue.retry_after_s, "With --respond: add Retry-After with these seconds (503)");
  ue_cmd->add_flag("--no-answer", ue.no_answer, "Take every call but never answer it: 100 Trying only, until CANCEL");
  ue_cmd->add_option("--codecs", ue.codecs,
                     "Codecs it can receive, e.g. PCMU,PCMA (default AMR-WB,AMR,telephone-event); an offer with "
                     "none of them gets 488");
  ue_cmd->add_option("--batch-window", ue.batch_window_us, kBatchWindowHelp)
      ->capture_default_str();
  ue_cmd->add_option("--timer-slack", ue.timer_slack_us, kTimerSlackHelp)->capture_default_str();
  ue_cmd->add_option("--t1", ue.t1_ms,
                     "RFC 3261 T1 in milliseconds: reliable 18x and 2xx retransmissions start at it; an unPRACKed "
                     "18x gets 504 and an unACKed 2xx a BYE after 64*T1")
      ->capture_default_str();
  ue_cmd->add_option("--pcap", ue.pcap, "Write every message sent and received here when it stops (held in memory until then)");
  ue_cmd->add_option("--duration", ue.duration_s, "Stop by itself after this many seconds");
  ue_cmd->add_flag("--json", ue.json, "Print the final summary as JSON");
  ue_cmd->add_option("--threads", ue.threads, "--answer: event loops sharing the port (SO_REUSEPORT)")
      ->capture_default_str();
  ue_cmd->add_option("--register", ue.register_at, "Register first with IMS AKA through this P-CSCF (ADDRESS:PORT)");
  ue_cmd->add_option("--impi", ue.impi, "Private identity to register as (from --config)")->capture_default_str();
  ue_cmd->add_option("--config", ue.config, "Subscribers file (imsflow core's format); default: the demo's");
  ue_cmd->add_option("--call", ue.call, "Once registered, call this sip: or tel: URI through the P-CSCF");
  ue_cmd->add_option("--hold", ue.hold_ms, "Milliseconds the call stays up before BYE")->capture_default_str();
  ue_cmd->footer("Examples:\n"
                 "  imsflow ue --listen 127.0.0.1:5070 --answer\n"
                 "  imsflow core --listen 127.0.0.1:5060 &\n"
                 "  imsflow ue --listen 127.0.0.1:5072 --register 127.0.0.1:5060 --impi bob@ims.example --answer &\n"
                 "  imsflow ue --listen 127.0.0.1:5070 --register 127.0.0.1:5060 --call tel:+15550102\n"
                 "  sipp -sf tests/interop/sipp/uac_100rel.xml 127.0.0.1:5070 -m 100\n"
                 "  imsflow ue --listen 127.0.0.1:5070 --answer --respond 503 --retry-after 1 --pcap ue.pcap\n"
                 "  imsflow ue --listen 127.0.0.1:5070 --answer --codecs PCMU --pcap ue.pcap   # 488 to AMR offers\n"
                 "Ctrl-C stops it and prints the calls seen, including those still up.");

  imsflow::cli::AnalyzeOptions analyze;
  CLI::App* analyze_cmd = app.add_subcommand(
      "analyze", "Rebuild every call of a pcap/pcapng capture, draw its ladder and say why it failed");
  analyze_cmd->add_option("file", analyze.file, "Capture file (pcap or pcapng); '-' reads standard input")
      ->required();
  analyze_cmd->add_flag("--json", analyze.json, "Print every call and the summary as JSON (docs/analyze.schema.json)");
  analyze_cmd->add_option("--ladder", analyze.ladder, "Print this call (a Call-ID) in full: ladder, phases, checks");
  analyze_cmd->add_option("--csv", analyze.csv, "Write one row per call to this file");
  analyze_cmd->add_option("--html", analyze.html, "Write a self-contained HTML page with SVG ladders to this file");
  analyze_cmd->add_option("--quiet-timeout", analyze.quiet_timeout_s,
                          "Seconds of capture time without a message after which an open call is finalized")
      ->capture_default_str();
  analyze_cmd->add_flag("--progress", analyze.progress, "Progress lines on stderr (default: when it is a terminal)");
  analyze_cmd->footer(
      "Examples:\n"
      "  imsflow analyze call.pcapng\n"
      "  imsflow analyze --ladder 'a84b4c76e66710@pc33' call.pcap\n"
      "  imsflow analyze --json big.pcap | jq '.calls[] | select(.outcome != \"established\") | .call_id'\n"
      "  tcpdump -w - -i any port 5060 | imsflow analyze --csv calls.csv -\n"
      "Diagnoses: no_progress prack_missing prack_late ack_missing rejected offer_answer_mismatch\n"
      "  route_mismatch precondition_not_met released_after_setup\n"
      "Exit status: 0 analyzed (whatever the calls' outcomes), 1 the --ladder Call-ID is not in the\n"
      "capture, 2 usage or I/O error (not a capture, an output that cannot be written).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (core_cmd->parsed()) return imsflow::cli::run_core(core, std::cout, std::cerr);
  if (demo_cmd->parsed()) return imsflow::cli::run_demo(demo, std::cout, std::cerr);
  if (load_cmd->parsed()) return imsflow::cli::run_load(load, std::cout, std::cerr);
  if (lint_cmd->parsed()) return imsflow::cli::run_lint(lint, std::cout, std::cerr);
  if (sim_cmd->parsed()) return imsflow::cli::run_sim(sim, std::cout, std::cerr);
  if (ue_cmd->parsed()) return imsflow::cli::run_ue(ue, std::cout, std::cerr);
  if (analyze_cmd->parsed()) return imsflow::cli::run_analyze(analyze, std::cout, std::cerr);
  return 2;
}
