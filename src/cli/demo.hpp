// `imsflow demo`: a P-CSCF, an S-CSCF with its registrar and two UEs in
// this process over real loopback sockets; both UEs register with IMS AKA,
// UE-A calls UE-B, hangs up, and the ladder, the seed's phases and the
// verdict are printed. Each troubleshooting row of the seed on demand.
#pragma once

#include <iosfwd>
#include <string>

namespace imsflow::cli {

struct DemoOptions {
  std::string scenario = "volte";  // see kDemoScenarios in demo.cpp
  std::string transport = "udp";
  std::string pcap;                // write every message here
  bool json = false;
};

/// Returns the exit status: 0 when the call ended as the scenario expects
/// (established, or the failure it provokes, found), 1 otherwise, 2 for a
/// usage or socket error.
int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& err);

std::string demo_scenario_help();

}  // namespace imsflow::cli
