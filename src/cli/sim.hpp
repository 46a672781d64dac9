// `imsflow sim`: calls between two user agents over the deterministic
// simulated network, each seed troubleshooting row on demand. One call
// prints its ladder and phases; many print a summary.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace imsflow::cli {

struct SimOptions {
  std::string scenario = "100rel";  // see kSimScenarios in sim.cpp
  std::uint32_t calls = 1;
  double loss = 0;                  // per datagram, both directions
  std::uint32_t delay_ms = 20;      // one-way
  std::uint32_t hold_ms = 500;      // confirmed calls are hung up after this
  std::uint64_t seed = 1;
  std::string pcap;                 // write every datagram here
  bool json = false;
};

/// Runs the scenario; returns the exit status (0 when the outcome is the one
/// the scenario expects, 1 otherwise, 2 for a usage error).
int run_sim(const SimOptions& options, std::ostream& out, std::ostream& err);

/// The scenario names, for --help.
std::string sim_scenario_help();

}  // namespace imsflow::cli
