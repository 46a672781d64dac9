// Hand-written SIP ladders written as pcap files (through net::PcapWriter)
// for the analyzer tests: each message is text with placeholders the builder
// fills, so a test reads as the ladder it describes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "net/pcap_writer.hpp"
#include "sip/endpoint.hpp"

namespace imsflow::analyze::test {

inline sip::Endpoint ep(const char* text) { return *sip::Endpoint::parse(text); }

struct Packet {
  double t_ms = 0;
  sip::Endpoint src, dst;
  std::string text;  // "\n" line ends, turned into CRLF; Content-Length is added
};

/// A SIP message from header lines and an optional body; Content-Length is computed.
inline std::string sip_message(const std::string& head, const std::string& body = {}) {
  std::string out;
  for (char c : head) {
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  std::string b;
  for (char c : body) {
    if (c == '\n') b += "\r\n";
    else b += c;
  }
  if (!b.empty()) out += "Content-Type: application/sdp\r\n";
  out += "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
  return out;
}

inline std::filesystem::path temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("imsflow-analyze-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

/// Writes the packets (times from 2024-01-01) and returns the path.
inline std::filesystem::path write_pcap(const std::string& name, const std::vector<Packet>& packets) {
  const auto path = temp_path(name);
  net::PcapWriter w;
  EXPECT_TRUE(w.open(path));
  const std::chrono::nanoseconds base(1'704'067'200'000'000'000LL);
  for (const Packet& p : packets) {
    const auto at = base + std::chrono::nanoseconds(static_cast<std::int64_t>(p.t_ms * 1e6));
    EXPECT_TRUE(w.write(p.src, p.dst, p.text, at));
  }
  EXPECT_TRUE(w.close());
  return path;
}

inline const char* kOfferSdp =
    "v=0\no=a 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 116 111\n"
    "a=rtpmap:116 AMR-WB/16000\na=rtpmap:111 telephone-event/16000\n";
inline const char* kAnswerSdp =
    "v=0\no=b 1 1 IN IP4 10.0.0.2\ns=-\nc=IN IP4 10.0.0.2\nt=0 0\nm=audio 5000 RTP/AVP 116 111\n"
    "a=rtpmap:116 AMR-WB/16000\na=rtpmap:111 telephone-event/16000\n";
inline const char* kPcmuAnswerSdp =
    "v=0\no=b 1 1 IN IP4 10.0.0.2\ns=-\nc=IN IP4 10.0.0.2\nt=0 0\nm=audio 5000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";

}  // namespace imsflow::analyze::test
