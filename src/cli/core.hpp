// `imsflow core`: the P-CSCF and the S-CSCF (with its registrar) as a
// server on real sockets. The P-CSCF listens on --listen, the S-CSCF on the
// next port. With --next-hop, requests of senders that are not registered
// (and for callees the registrar does not know) are relayed there
// statefully with Record-Route, as a plain proxy. --pcap records both
// proxies, so a relayed call is in the capture on both of its hops.
#pragma once

#include <iosfwd>
#include <string>

namespace imsflow::cli {

struct CoreOptions {
  std::string listen = "127.0.0.1:5060";
  std::string config;     // subscribers file; empty: the demo subscribers
  std::string next_hop;
  std::string transport = "udp";
  double duration_s = 0;  // 0: until Ctrl-C
  bool json = false;
  std::uint32_t batch_window_us = 0;  // net::LoopOptions::batch_window
  std::uint32_t timer_slack_us = 1000;  // net::LoopOptions::timer_slack
  std::string pcap;       // write every message the P-CSCF and S-CSCF sent and received here, at exit
};

int run_core(const CoreOptions& options, std::ostream& out, std::ostream& err);

}  // namespace imsflow::cli
