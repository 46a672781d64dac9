#include "sip/builder.hpp"

#include <algorithm>
#include <charconv>

namespace imsflow::sip {

std::string_view default_reason_phrase(int status) {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 199: return "Early Dialog Terminated";
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Notification";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 305: return "Use Proxy";
    case 380: return "Alternative Service";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 412: return "Conditional Request Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 421: return "Extension Required";
    case 422: return "Session Interval Too Small";
    case 423: return "Interval Too Brief";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 484: return "Address Incomplete";
    case 485: return "Ambiguous";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 489: return "Bad Event";
    case 491: return "Request Pending";
    case 493: return "Undecipherable";
    case 494: return "Security Agreement Required";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 580: return "Precondition Failure";
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    case 604: return "Does Not Exist Anywhere";
    case 606: return "Not Acceptable";
    default: return "Unknown";
  }
}

MessageBuilder::Span MessageBuilder::store(std::string_view t) {
  Span s{static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(t.size())};
  arena_.append(t);
  return s;
}

namespace {
// Room for a typical session message (an INVITE with SDP is 1–1.5 KB, with
// about 15 headers), so that building one allocates once per table instead
// of at every doubling.
constexpr std::size_t kTypicalMessageBytes = 1536;
constexpr std::size_t kTypicalHeaderCount = 16;
}  // namespace

MessageBuilder MessageBuilder::request(std::string_view method, std::string_view request_uri) {
  MessageBuilder b;
  b.arena_.reserve(kTypicalMessageBytes);
  b.fields_.reserve(kTypicalHeaderCount);
  const std::size_t start = b.arena_.size();
  b.arena_.append(method).append(" ").append(request_uri).append(" SIP/2.0");
  b.start_line_ = {static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(b.arena_.size() - start)};
  return b;
}

MessageBuilder MessageBuilder::response(int status, std::string_view reason) {
  MessageBuilder b;
  b.arena_.reserve(kTypicalMessageBytes);
  b.fields_.reserve(kTypicalHeaderCount);
  char code[4] = {};
  std::to_chars(code, code + 3, status);
  b.arena_.append("SIP/2.0 ").append(code, 3).append(" ").append(reason.empty() ? default_reason_phrase(status) : reason);
  b.start_line_ = {0, static_cast<std::uint32_t>(b.arena_.size())};
  return b;
}

MessageBuilder MessageBuilder::response_to(const Message& request, int status, std::string_view to_tag,
                                           std::string_view reason) {
  MessageBuilder b = response(status, reason);
  b.arena_.reserve(request.bytes().size() - request.body().size() + 64);
  b.fields_.reserve(12);
  const bool copy_record_route =
      request.method() == Method::Invite && ((status > 100 && status < 200) || (status >= 200 && status < 300));
  for (const HeaderField& f : request.headers()) {
    switch (f.id) {
      case HeaderId::Via:
      case HeaderId::From:
      case HeaderId::CallId:
      case HeaderId::CSeq:
        b.add(f.id, f.value);
        break;
      case HeaderId::To: {
        const NameAddr* to = request.to();
        if (status != 100 && !to_tag.empty() && to && !to->tag()) {
          const std::size_t start = b.arena_.size();
          b.arena_.append(f.value).append(";tag=").append(to_tag);
          Field field;
          field.id = HeaderId::To;
          field.name = b.store(canonical_name(HeaderId::To));
          field.value = {static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(f.value.size() + 5 + to_tag.size())};
          b.fields_.push_back(field);
        } else {
          b.add(f.id, f.value);
        }
        break;
      }
      case HeaderId::Timestamp:
        if (status == 100) b.add(f.id, f.value);
        break;
      case HeaderId::RecordRoute:
        if (copy_record_route) b.add(f.id, f.value);
        break;
      default:
        break;
    }
  }
  return b;
}

MessageBuilder MessageBuilder::copy_of(const Message& m) {
  MessageBuilder b;
  b.arena_.reserve(m.bytes().size());
  b.start_line_ = b.store(m.start_line());
  const char* base = m.bytes().data();
  for (const HeaderField& f : m.headers()) {
    Field field;
    field.id = f.id;
    field.raw = b.store(std::string_view(base + f.offset, f.length));
    field.name = {field.raw.offset, static_cast<std::uint32_t>(f.name.size())};
    field.value = {static_cast<std::uint32_t>(field.raw.offset + (f.value.data() - (base + f.offset))),
                   static_cast<std::uint32_t>(f.value.size())};
    b.fields_.push_back(field);
  }
  // The empty line as written (CRLF or a bare LF) is part of the raw copy.
  const std::size_t start_line_end = m.bytes().find('\n') + 1;
  b.start_line_end_ = b.store(m.bytes().substr(m.start_line().size(), start_line_end - m.start_line().size()));
  const std::size_t headers_end = m.body().data() - base;
  const std::size_t last_field_end =
      m.headers().empty() ? start_line_end : m.headers().back().offset + m.headers().back().length;
  b.separator_ = b.store(m.bytes().substr(last_field_end, headers_end - last_field_end));
  b.body_ = b.store(m.body());
  b.ensure_content_length_ = false;
  return b;
}

bool MessageBuilder::matches(const Field& f, HeaderId id, std::string_view name) const {
  if (id != HeaderId::Other) return f.id == id;
  return f.id == HeaderId::Other && ascii::iequals(text(f.name), name);
}

MessageBuilder& MessageBuilder::insert(std::size_t at, HeaderId id, std::string_view name, std::string_view value) {
  Field f;
  f.id = id;
  f.name = store(id != HeaderId::Other ? canonical_name(id) : name);
  f.value = store(value);
  fields_.insert(fields_.begin() + static_cast<std::ptrdiff_t>(at), f);
  return *this;
}

std::size_t MessageBuilder::remove(HeaderId id) {
  const std::size_t before = fields_.size();
  std::erase_if(fields_, [&](const Field& f) { return f.id == id; });
  return before - fields_.size();
}

std::size_t MessageBuilder::remove(std::string_view name) {
  const HeaderId id = header_id_from_name(name);
  const std::size_t before = fields_.size();
  std::erase_if(fields_, [&](const Field& f) { return matches(f, id, name); });
  return before - fields_.size();
}

MessageBuilder& MessageBuilder::replace(HeaderId id, std::string_view value) {
  std::size_t at = fields_.size();
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].id == id) {
      at = i;
      break;
    }
  }
  remove(id);
  return insert(std::min(at, fields_.size()), id, canonical_name(id), value);
}

MessageBuilder& MessageBuilder::set_body(std::string_view content_type, std::string_view body) {
  replace(HeaderId::ContentType, content_type);
  body_ = store(body);
  remove(HeaderId::ContentLength);
  ensure_content_length_ = true;
  return *this;
}

std::optional<std::string_view> MessageBuilder::value(HeaderId id) const {
  for (const Field& f : fields_) {
    if (f.id == id) return text(f.value);
  }
  return std::nullopt;
}

void MessageBuilder::serialize_to(std::string& out) const {
  out.reserve(out.size() + arena_.size() + 64);
  out.append(text(start_line_));
  out.append(start_line_end_.length ? text(start_line_end_) : std::string_view("\r\n"));
  bool has_length = false;
  for (const Field& f : fields_) {
    has_length |= f.id == HeaderId::ContentLength;
    if (f.raw.length) {
      out.append(text(f.raw));
      continue;
    }
    out.append(text(f.name)).append(": ").append(text(f.value)).append("\r\n");
  }
  if (!has_length && ensure_content_length_) {
    char digits[16];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, body_.length);
    (void)ec;
    out.append("Content-Length: ").append(digits, end).append("\r\n");
  }
  out.append(separator_.length ? text(separator_) : std::string_view("\r\n"));
  out.append(text(body_));
}

}  // namespace imsflow::sip
