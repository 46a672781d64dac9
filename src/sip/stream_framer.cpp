#include "sip/stream_framer.hpp"

#include <cstring>

#include "util/ascii.hpp"

namespace imsflow::sip {

StreamFrame StreamFramer::corrupt(std::size_t offset, const char* reason) {
  StreamFrame f;
  f.status = StreamFrame::Status::Corrupt;
  f.offset = offset;
  f.reason = reason;
  return f;
}

bool StreamFramer::take_content_length(std::string_view buf, std::size_t line_start, std::size_t line_end) {
  // line is "Content-Length : 123" or "l: 123" in any case.
  std::string_view line = buf.substr(line_start, line_end - line_start);
  std::size_t i = 0;
  while (i < line.size() && ascii::is_token(line[i])) ++i;
  std::string_view name = line.substr(0, i);
  if (!(ascii::iequals(name, "content-length") || ascii::iequals(name, "l"))) return true;
  while (i < line.size() && ascii::is_space(line[i])) ++i;
  if (i >= line.size() || line[i] != ':') return true;  // not a header line the framer cares about
  std::string_view value = ascii::trim_lws(line.substr(i + 1));
  auto v = ascii::parse_uint(value, max_body_bytes_);
  if (!v) return false;
  if (has_content_length_ && content_length_ != *v) return false;
  has_content_length_ = true;
  content_length_ = static_cast<std::size_t>(*v);
  return true;
}

StreamFrame StreamFramer::next(std::string_view buf) {
  if (scanned_ == 0) {
    // CR/LF before a start line is a keep-alive (RFC 5626 §3.5.1, RFC 3261
    // §7.5): report it on its own once it is complete, i.e. once a start line
    // follows it or it ends in LF.
    std::size_t run = 0;
    while (run < buf.size() && (buf[run] == '\r' || buf[run] == '\n')) ++run;
    if (run > 0) {
      if (run == buf.size() && buf[run - 1] != '\n') return {};
      StreamFrame f;
      f.status = StreamFrame::Status::KeepAlive;
      f.length = run;
      return f;
    }
    if (buf.empty()) return {};
  }

  if (body_start_ == 0) {
    while (scanned_ < buf.size()) {
      const void* nl = std::memchr(buf.data() + scanned_, '\n', buf.size() - scanned_);
      if (!nl) {
        scanned_ = buf.size();
        break;
      }
      const std::size_t lf = static_cast<const char*>(nl) - buf.data();
      const std::size_t end = (lf > line_start_ && buf[lf - 1] == '\r') ? lf - 1 : lf;
      scanned_ = lf + 1;
      if (!start_line_checked_) {
        std::string_view line = buf.substr(line_start_, end - line_start_);
        const bool response = line.size() >= 8 && ascii::iequals(line.substr(0, 4), "SIP/");
        const std::size_t sp = line.rfind(' ');
        const bool request = sp != std::string_view::npos && sp + 5 <= line.size() &&
                             ascii::iequals(line.substr(sp + 1, 4), "SIP/");
        if (!response && !request) return corrupt(line_start_, "a SIP request or status line");
        start_line_checked_ = true;
      } else if (end == line_start_) {
        body_start_ = scanned_;
        break;
      } else if (!ascii::is_space(buf[line_start_]) && !take_content_length(buf, line_start_, end)) {
        return corrupt(line_start_, "one valid, non-negative Content-Length");
      }
      line_start_ = scanned_;
    }
    if (body_start_ == 0) {
      if (scanned_ > max_header_bytes_) return corrupt(0, "a header section within the size limit");
      return {};
    }
    if (!has_content_length_) return corrupt(body_start_, "a Content-Length header (mandatory on streams)");
  }

  const std::size_t total = body_start_ + content_length_;
  if (buf.size() < total) return {};
  StreamFrame f;
  f.status = StreamFrame::Status::Message;
  f.length = total;
  reset();
  return f;
}

}  // namespace imsflow::sip
