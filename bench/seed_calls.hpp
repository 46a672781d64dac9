// The calls the analyzer's benchmarks capture, message by message: the
// seed ladder (INVITE, 100, reliable 183 with SDP, PRACK, 200 PRACK, 200,
// ACK, then BYE and its 200 after the hold), a busy callee (486) and a
// caller that gives up ringing (CANCEL, 487). Each call has its own
// Call-ID, tags and branches, so the outcome of every call is known by
// construction. Used by analyze_bench.cpp (in memory) and
// analyze_capture_gen.cpp (files of any size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace imsflow::bench {

enum class SeedCallKind : std::uint8_t {
  Established,  // 9 messages; the BYE comes `hold_ms` after the ACK
  Busy,         // INVITE, 100, 486, ACK
  Cancelled,    // INVITE, 100, (ringing for `hold_ms`) CANCEL, 200, 487, ACK
};

struct SeedMessage {
  std::int64_t at_ms = 0;  // since the INVITE
  bool from_caller = true;
  std::string text;
};

namespace internal {

inline std::string crlf(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 32);
  for (char c : s) {
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

inline std::string message(const std::string& head, const std::string& body = {}) {
  const std::string b = crlf(body);
  std::string out = crlf(head);
  if (!b.empty()) out += "Content-Type: application/sdp\r\n";
  return out + "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
}

}  // namespace internal

/// The messages of call number `n` between `caller` and `callee` (host
/// text, e.g. "10.0.0.1"), in the order they are sent.
inline std::vector<SeedMessage> seed_call(std::uint64_t n, SeedCallKind kind, const std::string& caller,
                                          const std::string& callee, std::int64_t hold_ms) {
  using internal::message;
  const std::string i = std::to_string(n);
  const std::string sdp = "v=0\no=a " + i + " 1 IN IP4 " + caller + "\ns=-\nc=IN IP4 " + caller +
                          "\nt=0 0\nm=audio 4000 RTP/AVP 116 111\n"
                          "a=rtpmap:116 AMR-WB/16000\na=rtpmap:111 telephone-event/16000\n";
  const std::string id = "Call-ID: bench-" + i + "@" + caller + "\n";
  const auto via = [&](const char* which) {
    return "Via: SIP/2.0/UDP " + caller + ":5060;branch=z9hG4bK" + i + which + "\n";
  };
  const std::string from = "From: <sip:a" + i + "@ims.test>;tag=a" + i + "\n";
  const std::string to = "To: <sip:b@ims.test>\n";
  const std::string tob = "To: <sip:b@ims.test>;tag=b" + i + "\n";
  const std::string invite_head = "INVITE sip:b@ims.test SIP/2.0\n" + via("a") + "Max-Forwards: 70\n" + from + to + id +
                                  "CSeq: 1 INVITE\nContact: <sip:a@" + caller + ">\nSupported: 100rel\n";
  std::vector<SeedMessage> out;
  out.push_back({0, true, message(invite_head, sdp)});
  out.push_back({20, false, message("SIP/2.0 100 Trying\n" + via("a") + from + to + id + "CSeq: 1 INVITE\n")});
  switch (kind) {
    case SeedCallKind::Established:
      out.push_back({20, false, message("SIP/2.0 183 Session Progress\n" + via("a") + from + tob + id +
                                            "CSeq: 1 INVITE\nRequire: 100rel\nRSeq: 1\nContact: <sip:b@" + callee + ">\n",
                                        sdp)});
      out.push_back({40, true, message("PRACK sip:b@" + callee + " SIP/2.0\n" + via("b") + "Max-Forwards: 70\n" + from +
                                       tob + id + "CSeq: 2 PRACK\nRAck: 1 1 INVITE\n")});
      out.push_back({60, false, message("SIP/2.0 200 OK\n" + via("b") + from + tob + id + "CSeq: 2 PRACK\n")});
      out.push_back({60, false, message("SIP/2.0 200 OK\n" + via("a") + from + tob + id +
                                        "CSeq: 1 INVITE\nContact: <sip:b@" + callee + ">\n")});
      out.push_back({80, true, message("ACK sip:b@" + callee + " SIP/2.0\n" + via("c") + "Max-Forwards: 70\n" + from +
                                       tob + id + "CSeq: 1 ACK\n")});
      out.push_back({80 + hold_ms, true, message("BYE sip:b@" + callee + " SIP/2.0\n" + via("d") + "Max-Forwards: 70\n" +
                                                 from + tob + id + "CSeq: 3 BYE\n")});
      out.push_back({100 + hold_ms, false, message("SIP/2.0 200 OK\n" + via("d") + from + tob + id + "CSeq: 3 BYE\n")});
      break;
    case SeedCallKind::Busy:
      out.push_back({40, false, message("SIP/2.0 486 Busy Here\n" + via("a") + from + tob + id + "CSeq: 1 INVITE\n")});
      out.push_back({60, true, message("ACK sip:b@ims.test SIP/2.0\n" + via("a") + "Max-Forwards: 70\n" + from + tob +
                                       id + "CSeq: 1 ACK\n")});
      break;
    case SeedCallKind::Cancelled:
      out.push_back({hold_ms, true, message("CANCEL sip:b@ims.test SIP/2.0\n" + via("a") + "Max-Forwards: 70\n" + from +
                                            to + id + "CSeq: 1 CANCEL\n")});
      out.push_back({hold_ms + 20, false, message("SIP/2.0 200 OK\n" + via("a") + from + tob + id + "CSeq: 1 CANCEL\n")});
      out.push_back({hold_ms + 20, false, message("SIP/2.0 487 Request Terminated\n" + via("a") + from + tob + id +
                                                  "CSeq: 1 INVITE\n")});
      out.push_back({hold_ms + 40, true, message("ACK sip:b@ims.test SIP/2.0\n" + via("a") + "Max-Forwards: 70\n" + from +
                                                 tob + id + "CSeq: 1 ACK\n")});
      break;
  }
  return out;
}

}  // namespace imsflow::bench
