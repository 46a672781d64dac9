// `imsflow ue --answer`: a terminating UE on real sockets that answers
// every INVITE with the chosen ladder, for any number of concurrent calls,
// until Ctrl-C (or --duration); then it prints what happened, including
// the calls still up, so no call state is lost silently.
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
  double duration_s = 0;                 // stop by itself after this long (0: only on a signal)
  bool json = false;                     // the final summary as JSON
};

int run_ue(const UeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace imsflow::cli
