// The imsflow command: parses arguments and hands each subcommand to its
// layer. No protocol logic lives here.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/lint.hpp"
#include "cli/sim.hpp"
#include "cli/ue.hpp"

int main(int argc, char** argv) {
  CLI::App app{"imsflow: speak, load and read the VoLTE/IMS SIP session ladder"};
  app.set_version_flag("--version", "imsflow 0.1.0");
  app.require_subcommand(1);

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
  CLI::App* ue_cmd = app.add_subcommand("ue", "A UE on real sockets; --answer: answer every INVITE with a ladder");
  ue_cmd->add_option("--listen", ue.listen, "ADDRESS:PORT to listen on, UDP and TCP (port 0: any free one)")
      ->capture_default_str();
  ue_cmd->add_flag("--answer", ue.answer, "Answer every incoming INVITE (a terminating UE)");
  ue_cmd->add_option("--profile", ue.profile, "100rel, preconditions or plain")->capture_default_str();
  ue_cmd->add_option("--transport", ue.transport, "udp or tcp, for the Contact it gives")->capture_default_str();
  ue_cmd->add_option("--respond", ue.respond, "Reject every call with this status (486, 488, 503 …)");
  ue_cmd->add_option("--duration", ue.duration_s, "Stop by itself after this many seconds");
  ue_cmd->add_flag("--json", ue.json, "Print the final summary as JSON");
  ue_cmd->footer("Examples:\n"
                 "  imsflow ue --listen 127.0.0.1:5070 --answer\n"
                 "  sipp -sf tests/interop/sipp/uac_100rel.xml 127.0.0.1:5070 -m 100\n"
                 "Ctrl-C stops it and prints the calls seen, including those still up.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (lint_cmd->parsed()) return imsflow::cli::run_lint(lint, std::cout, std::cerr);
  if (sim_cmd->parsed()) return imsflow::cli::run_sim(sim, std::cout, std::cerr);
  if (ue_cmd->parsed()) return imsflow::cli::run_ue(ue, std::cout, std::cerr);
  return 2;
}
