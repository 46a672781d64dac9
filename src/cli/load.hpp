// `imsflow load`: the call generator. Calls at a steady rate over one event
// loop per core, each running the real ladder (reliable 183/180 with PRACK,
// preconditions with UPDATE, or plain), a live progress line, and a final
// report: outcomes, failures by cause, retransmissions and the latency
// percentiles of each step of the ladder.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace imsflow::cli {

struct LoadOptions {
  std::string target;                 // ADDRESS:PORT of the UAS (or the first proxy)
  std::string to;                     // Request-URI; default sip:load@TARGET
  double rate = 10;                   // calls per second, all threads together
  std::uint64_t calls = 0;            // 0: no limit
  double duration_s = 0;              // calls start during this long (0: no limit)
  std::uint32_t max_concurrent = 0;   // 0: no limit
  std::uint32_t hold_ms = 1000;
  std::string profile = "100rel";
  std::string transport = "udp";
  std::string local = "127.0.0.1:0";  // each thread binds its own port here
  unsigned threads = 0;               // 0: one per core
  double ramp_s = 0;
  std::string inject;                 // no-prack | no-ack | cancel-after:S | bye-early
  std::string json;                   // write the report and the time series here
  std::string csv;                    // write the time series here
  std::string pcap;                   // write every message sent and received here (kept in memory until the end)
  std::uint32_t batch_window_us = 0;  // net::LoopOptions::batch_window
  std::uint32_t timer_slack_us = 1000;  // net::LoopOptions::timer_slack
  std::uint32_t t1_ms = 500;          // RFC 3261 T1: retransmissions start at it, transactions give up after 64·T1
  int progress = -1;                  // 1 live line, 0 periodic lines, -1: by whether stderr is a terminal
};

/// 0 when every call established (or every call ended as the injection
/// meant), 1 otherwise, 2 for a usage or socket error.
int run_load(const LoadOptions& options, std::ostream& out, std::ostream& err);

}  // namespace imsflow::cli
