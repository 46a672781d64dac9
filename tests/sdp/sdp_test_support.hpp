// Shared by the SDP tests: the body of a recorded message, and SDP text
// kept together with the session parsed from it.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "sdp/precondition.hpp"
#include "sdp/session.hpp"
#include "shared_data.hpp"

namespace imsflow::sdp::test_support {

/// The body of tests/data/messages/FILE: everything after the first empty line.
inline std::string body_of(const char* file) {
  const std::string msg = test::read_file(test::data_dir() / "messages" / file);
  std::size_t at = msg.find("\r\n\r\n");
  if (at != std::string::npos) return msg.substr(at + 4);
  at = msg.find("\n\n");
  return at == std::string::npos ? std::string() : msg.substr(at + 2);
}

/// SDP text and the session parsed from it; the session's views point into
/// the text, so the two live and die together (and never move).
struct Sdp {
  explicit Sdp(std::string_view t) : text(t), session(parse_or_empty(text)) {}
  Sdp(const Sdp&) = delete;
  Sdp& operator=(const Sdp&) = delete;
  const Session& operator*() const { return session; }
  const Session* operator->() const { return &session; }

  static Session parse_or_empty(std::string_view text) {
    auto s = parse(text);
    EXPECT_TRUE(s) << (s ? std::string() : s.error().describe()) << "\n" << text;
    return s ? std::move(*s) : Session{};
  }
  /// The precondition lines of the first m= section.
  MediaPreconditions preconditions() const {
    EXPECT_FALSE(session.media.empty());
    return session.media.empty() ? MediaPreconditions{} : read_preconditions(session.media[0]);
  }
  std::string text;
  Session session;
};

}  // namespace imsflow::sdp::test_support
