// `imsflow ue`: a UE on real sockets.
//  --answer: a terminating UE that answers every INVITE with the chosen
//  ladder, for any number of concurrent calls, until Ctrl-C (or
//  --duration); then it prints what happened, including the calls still
//  up, so no call state is lost silently. --respond, --no-answer and
//  --codecs make it fail calls on purpose (the seed's troubleshooting rows).
//  --register P-CSCF: registers first with IMS AKA (as --impi, from the
//  --config subscribers file or the demo's); --call URI then places one
//  MMTel call through the P-CSCF, hangs up after --hold, and deregisters.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace imsflow::cli {

struct UeOptions {
  std::string listen = "127.0.0.1:5060";  // port 0: an ephemeral one, printed at start
  bool answer = false;
  std::string profile = "100rel";        // 100rel | preconditions | plain
  std::string transport = "udp";         // udp | tcp: what the Contact says
  int respond = 0;                       // reject every call with this status instead
  std::uint32_t retry_after_s = 0;       // with respond: the rejection's Retry-After, in seconds
  bool no_answer = false;                // --answer: take calls but never answer (100 Trying only)
  std::string codecs;                    // what it can receive, "PCMU,PCMA"; empty: AMR-WB, AMR, telephone-event
  std::uint32_t batch_window_us = 0;     // net::LoopOptions::batch_window
  std::uint32_t timer_slack_us = 1000;   // net::LoopOptions::timer_slack
  std::uint32_t t1_ms = 500;             // RFC 3261 T1: 18x and 2xx retransmissions, the 64·T1 give-ups
  std::string pcap;                      // write every message sent and received here, at exit
  double duration_s = 0;                 // stop by itself after this long (0: only on a signal)
  bool json = false;                     // the final summary as JSON
  unsigned threads = 1;                  // --answer: event loops sharing the port
  std::string register_at;               // the P-CSCF's ADDRESS:PORT: register there first
  std::string impi = "alice@ims.example";
  std::string config;                    // subscribers file (imsflow core's format); empty: the demo's
  std::string call;                      // a sip: or tel: URI to call once registered
  std::uint32_t hold_ms = 1000;          // how long the call stays up before BYE
};

int run_ue(const UeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace imsflow::cli
