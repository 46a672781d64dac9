// The imsflow command: parses arguments and hands each subcommand to its
// layer. No protocol logic lives here.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/lint.hpp"

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (lint_cmd->parsed()) return imsflow::cli::run_lint(lint, std::cout, std::cerr);
  return 2;
}
