#include "sdp/session.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util/ascii.hpp"
#include "util/byte_scan.hpp"

namespace imsflow::sdp {

namespace {

std::uint32_t u32(std::size_t v) { return static_cast<std::uint32_t>(v); }

/// Where a field (a view into `value`) starts inside it.
std::size_t offset_in(std::string_view value, std::string_view field) {
  return static_cast<std::size_t>(field.data() - value.data());
}

/// Splits off the next space-separated field. SDP fields are a few bytes
/// long, shorter than what a memchr call costs to set up: one 16-byte class
/// step (which may look ahead to `limit`, the end of the body), then a byte
/// loop. `rest` must point into the body.
std::string_view next_field(std::string_view& rest, const char* limit) {
  const char* const begin = rest.data();
  const char* const end = begin + rest.size();
  const char* p = scan::skip_common(begin, end, limit, scan::kCommonNotSpace);
  while (p != end && *p != ' ') ++p;
  const std::string_view f(begin, static_cast<std::size_t>(p - begin));
  // An exhausted `rest` keeps pointing into the body, so that the next call
  // may look ahead from it.
  rest = p == end ? std::string_view(end, 0) : std::string_view(p + 1, static_cast<std::size_t>(end - p - 1));
  return f;
}

/// The space-separated fields of an SDP value, one after another, as
/// next_field() gives them. A value of up to 64 bytes with 64 readable bytes
/// after its start (inside the body) has its spaces found at once, as one bit
/// mask: each field is then a bit scan away, with no search per field. (Its
/// own four compares: the shared scan::internal::match_mask64 measured 10 ns
/// slower per body, BENCHMARKS.md.)
class Fields {
 public:
  Fields(std::string_view value, const char* limit) : rest_(value), start_(value.data()), limit_(limit) {
#if defined(__SSE2__)
    const char* const p = value.data();
    const std::size_t n = value.size();
    if (n <= 64 && limit - p >= 64) {
      const __m128i space = _mm_set1_epi8(' ');
      auto part = [&](int k) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
        return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, space))))
               << (16 * k);
      };
      const std::uint64_t in_value = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
      spaces_ = (part(0) | part(1) | part(2) | part(3)) & in_value;
      masked_ = true;
    }
#endif
  }

  /// The next field (empty when none is left), as next_field(rest) would.
  std::string_view next() {
    if (!masked_) return next_field(rest_, limit_);
    const char* const begin = rest_.data();
    const char* const end = begin + rest_.size();
    if (spaces_ == 0) {  // the last field runs to the end
      rest_ = std::string_view(end, 0);
      return std::string_view(begin, static_cast<std::size_t>(end - begin));
    }
    const char* const space = start_ + __builtin_ctzll(spaces_);
    spaces_ &= spaces_ - 1;
    rest_ = std::string_view(space + 1, static_cast<std::size_t>(end - space - 1));
    return std::string_view(begin, static_cast<std::size_t>(space - begin));
  }
  /// No field left: what next_field's `rest` being empty says.
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
  const char* start_;  // of the value: bit i of spaces_ is its byte i
  const char* limit_;
  std::uint64_t spaces_ = 0;
  bool masked_ = false;
};

/// a=<name>[:<value>], split at the first ':' (names are short), written
/// into the table entry `out`: an Attribute returned by value was stored in
/// halves and then copied in 16-byte loads, which cannot take their data
/// from those stores and wait for them to reach the cache, on every a= line.
[[gnu::always_inline]] inline void split_attribute(std::string_view v, const char* limit, Attribute& out) {
  const char* const end = v.data() + v.size();
  const char* colon = v.empty() ? end : scan::skip_common(v.data(), end, limit, scan::kCommonNotSpaceOrColon);
  while (colon < end && *colon != ':') ++colon;
  if (colon == end) {
    out.name = v;
    return;
  }
  out.name = std::string_view(v.data(), static_cast<std::size_t>(colon - v.data()));
  out.value = std::string_view(colon + 1, static_cast<std::size_t>(end - colon - 1));
  out.has_value = true;
}

bool is_ipv6(std::string_view s) {
  int colons = 0;
  for (char c : s) {
    if (c == ':') ++colons;
    else if (!ascii::is_hex(c) && c != '.') return false;
  }
  return colons >= 2;
}

// A host name, not a malformed address: its top label starts with a letter.
bool is_fqdn(std::string_view s) {
  if (s.empty() || !ascii::all_of(s, ascii::kHostname)) return false;
  std::string_view top = s.back() == '.' ? s.substr(0, s.size() - 1) : s;
  const std::size_t dot = top.rfind('.');
  top = dot == std::string_view::npos ? top : top.substr(dot + 1);
  return !top.empty() && ascii::is_alpha(top[0]);
}

class Parser {
 public:
  explicit Parser(std::string_view body) : body_(body), limit_(body.data() + body.size()) {}
  /// Fills `s`, a fresh Session, in place.
  std::optional<SdpError> run(Session& s);

 private:
  SdpError error(std::size_t at, const char* expected) const { return SdpError{u32(at), line_no_, expected}; }
  std::optional<SdpError> connection(std::string_view v, std::size_t at, Connection& out) const;
  std::optional<SdpError> bandwidth(std::string_view v, std::size_t at, Bandwidth& out) const;
  std::optional<SdpError> media_line(std::string_view v, std::size_t at, Media& out) const;

  std::string_view body_;
  const char* limit_;  // the end of the body: class runs may look ahead to it
  std::uint32_t line_no_ = 0;
};

std::optional<SdpError> Parser::connection(std::string_view v, std::size_t at, Connection& c) const {
  Fields rest(v, limit_);
  c.net_type = rest.next();
  c.addr_type = rest.next();
  std::string_view addr = rest.next();
  if (c.net_type.empty() || c.addr_type.empty() || addr.empty() || !rest.empty())
    return error(at, "c=<nettype> <addrtype> <address>");
  if (c.net_type != "IN") return error(at, "network type IN");
  if (const std::size_t slash = addr.find('/'); slash != std::string_view::npos) addr = addr.substr(0, slash);
  c.address = addr;
  // The offset of the address itself: searching v for its text could match
  // an earlier field ("c=IN IP4 4" would point at the 4 of "IP4").
  const std::size_t addr_at = at + offset_in(v, addr);
  if (c.addr_type == "IP4") {
    c.type = AddressType::IP4;
    if (!ascii::is_ipv4_address(addr, limit_) && !is_fqdn(addr)) return error(addr_at, "an IPv4 address or host name");
  } else if (c.addr_type == "IP6") {
    c.type = AddressType::IP6;
    if (!is_ipv6(addr) && !is_fqdn(addr)) return error(addr_at, "an IPv6 address or host name");
  } else {
    c.type = AddressType::Other;
  }
  return std::nullopt;
}

std::optional<SdpError> Parser::bandwidth(std::string_view v, std::size_t at, Bandwidth& b) const {
  const std::size_t colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0) return error(at, "b=<bwtype>:<bandwidth>");
  b.type = v.substr(0, colon);
  auto value = ascii::parse_uint(v.substr(colon + 1), 0xFFFFFFFFull);
  if (!value) return error(at + colon + 1, "a bandwidth number");
  b.value = static_cast<std::uint32_t>(*value);
  return std::nullopt;
}

std::optional<SdpError> Parser::media_line(std::string_view v, std::size_t at, Media& m) const {
  Fields rest(v, limit_);
  m.media = rest.next();
  std::string_view port = rest.next();
  m.proto = rest.next();
  if (m.media.empty() || port.empty() || m.proto.empty() || rest.empty())
    return error(at, "m=<media> <port> <proto> <fmt> ...");
  const std::size_t port_at = at + offset_in(v, port);
  if (const std::size_t slash = port.find('/'); slash != std::string_view::npos) {
    auto count = ascii::parse_uint(port.substr(slash + 1), 65535);
    if (!count || *count == 0) return error(port_at + slash + 1, "a port count");
    m.port_count = static_cast<std::uint16_t>(*count);
    port = port.substr(0, slash);
  }
  auto p = ascii::parse_uint(port, 65535);
  if (!p) return error(port_at, "a port from 0 to 65535");
  m.port = static_cast<std::uint16_t>(*p);
  while (!rest.empty()) {
    std::string_view fmt = rest.next();
    if (fmt.empty()) return error(at, "single spaces between media formats");
    m.formats.push_back(fmt);
  }
  return std::nullopt;
}

std::optional<SdpError> Parser::run(Session& s) {
  std::size_t pos = 0;
  char expect_next = 'v';  // the type the grammar wants next at session level
  bool seen_origin = false, seen_name = false, seen_timing = false;
  Media* media = nullptr;
  // Where each m= line starts, to point a missing c= at its media section.
  struct MediaStart {
    std::uint32_t offset, line;
  };
  SmallVector<MediaStart, 2> media_starts;
  // On pointers, with the body in locals: the stores into `s` would otherwise
  // make the compiler load body_ again, and substr() check bounds, per line.
  const char* const base = body_.data();
  const std::size_t size = body_.size();
  while (pos < size) {
    ++line_no_;
    const char* const from = base + pos;
    const std::size_t lf = static_cast<std::size_t>(scan::find_byte(from, base + size, '\n') - base);
    std::size_t end = lf;
    if (end > pos && base[end - 1] == '\r') --end;
    const std::string_view line(from, end - pos);
    const std::size_t at = pos;
    pos = lf + 1;
    if (line.empty()) {
      // Empty lines at the very end are harmless; one in the middle is not.
      if (body_.find_first_not_of("\r\n", at) == std::string_view::npos) break;
      return error(at, "a '<type>=<value>' line, not an empty line");
    }
    if (line.size() < 2 || line[1] != '=' || !ascii::is_alpha(line[0]))
      return error(at, "a '<type>=<value>' line");
    const char type = line[0];
    const std::string_view v(line.data() + 2, line.size() - 2);
    const std::size_t vat = at + 2;
    if (line_no_ == 1) {
      if (type != 'v') return error(at, "'v=0' as the first line");
      auto ver = ascii::parse_uint(v, 0xFFFFFFFFull);
      if (!ver || *ver != 0) return error(vat, "protocol version 0");
      expect_next = 'o';
      continue;
    }
    // RFC 4566 §5: v=, o= and s= open every description, in that order.
    if (expect_next == 'o' && type != 'o') return error(at, "an o= line right after v=");
    if (expect_next == 's' && type != 's') return error(at, "an s= line right after o=");
    if (type == 'm') {
      if (!seen_timing) return error(at, "a t= line before the first m= line");
      Media& m = s.media.emplace_back();
      if (auto e = media_line(v, vat, m)) return *e;
      media_starts.push_back(MediaStart{u32(at), line_no_});
      media = &m;
      continue;
    }
    if (media) {
      switch (type) {
        case 'i': case 'k': break;
        // Each entry is filled where it is kept (see split_attribute).
        case 'c':
          if (auto e = connection(v, vat, media->connection.emplace())) return *e;
          break;
        case 'b':
          if (auto e = bandwidth(v, vat, media->bandwidths.emplace_back())) return *e;
          break;
        case 'a': {
          Attribute& a = media->attributes.emplace_back();
          split_attribute(v, limit_, a);
          if (a.name.empty()) return error(vat, "an attribute name after 'a='");
          break;
        }
        default:
          return error(at, "a media-level line (i=, c=, b=, k=, a=) or the next m=");
      }
      continue;
    }
    switch (type) {
      case 'o': {
        if (expect_next != 'o') return error(at, "exactly one o= line, second");
        Fields rest(v, limit_);
        Origin& o = s.origin;
        o.username = rest.next();
        o.session_id = rest.next();
        o.session_version = rest.next();
        o.net_type = rest.next();
        o.addr_type = rest.next();
        o.address = rest.next();
        if (o.address.empty() || !rest.empty())
          return error(vat, "o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>");
        if (!ascii::all_of(o.session_id, ascii::kDigit) || !ascii::all_of(o.session_version, ascii::kDigit))
          return error(vat, "numeric sess-id and sess-version in o=");
        seen_origin = true;
        expect_next = 's';
        break;
      }
      case 's':
        if (expect_next != 's') return error(at, "the s= line right after o=");
        // RFC 4566 wants at least one character; RFC 5118 §4.8 sends "s=" and must be accepted.
        s.session_name = v;
        seen_name = true;
        expect_next = 0;
        break;
      case 'i': case 'u': case 'e': case 'p': case 'z': case 'k': case 'r':
        if (!seen_name) return error(at, "o= and s= before this line");
        break;
      case 'c':
        if (!seen_name) return error(at, "o= and s= before c=");
        if (auto e = connection(v, vat, s.connection.emplace())) return *e;
        break;
      case 'b':
        if (auto e = bandwidth(v, vat, s.bandwidths.emplace_back())) return *e;
        break;
      case 't': {
        if (!seen_name) return error(at, "o= and s= before t=");
        Fields rest(v, limit_);
        std::string_view start = rest.next();
        std::string_view stop = rest.next();
        if (!ascii::parse_uint(start, ~0ull) || !ascii::parse_uint(stop, ~0ull) || !rest.empty())
          return error(vat, "t=<start-time> <stop-time>");
        if (!seen_timing) s.timing = v;
        seen_timing = true;
        break;
      }
      case 'a': {
        Attribute& a = s.attributes.emplace_back();
        split_attribute(v, limit_, a);
        if (a.name.empty()) return error(vat, "an attribute name after 'a='");
        break;
      }
      case 'v':
        return error(at, "one v= line, as the first line only");
      default:
        return error(at, "a known SDP line type (v o s i u e p c b t r z k a m)");
    }
  }
  if (expect_next == 'v') return SdpError{0, 1, "'v=0' (the body is empty)"};
  if (!seen_origin) return error(body_.size(), "an o= line");
  if (!seen_name) return error(body_.size(), "an s= line");
  if (!seen_timing) return error(body_.size(), "a t= line");
  // RFC 4566 §5.7: a c= line at session level, or one in every media section.
  for (std::size_t i = 0; i < s.media.size(); ++i) {
    if (!s.connection && !s.media[i].connection)
      return SdpError{media_starts[i].offset, media_starts[i].line,
                      "a c= line in this m= section (there is none at session level)"};
  }
  return std::nullopt;
}

}  // namespace

std::string SdpError::describe() const {
  return std::string("SDP line ") + std::to_string(line) + ": expected " + expected + " at body byte " +
         std::to_string(offset);
}

std::string_view direction_name(Direction d) {
  switch (d) {
    case Direction::SendRecv: return "sendrecv";
    case Direction::SendOnly: return "sendonly";
    case Direction::RecvOnly: return "recvonly";
    case Direction::Inactive: return "inactive";
  }
  return "sendrecv";
}

namespace {
std::optional<Direction> direction_of(const Attribute& a) {
  if (a.has_value) return std::nullopt;
  if (a.name == "sendrecv") return Direction::SendRecv;
  if (a.name == "sendonly") return Direction::SendOnly;
  if (a.name == "recvonly") return Direction::RecvOnly;
  if (a.name == "inactive") return Direction::Inactive;
  return std::nullopt;
}

/// For "<pt> <rest>" attribute values: the rest when pt matches.
std::optional<std::string_view> for_payload(std::string_view value, int pt) {
  const std::size_t sp = value.find(' ');
  auto n = ascii::parse_uint(value.substr(0, sp), 127);
  if (!n || static_cast<int>(*n) != pt) return std::nullopt;
  return sp == std::string_view::npos ? std::string_view() : ascii::trim_lws(value.substr(sp + 1));
}
}  // namespace

const Attribute* Media::attribute(std::string_view name) const {
  for (const Attribute& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<RtpMap> Media::rtpmap(int pt) const {
  for (const Attribute& a : attributes) {
    if (a.name != "rtpmap") continue;
    auto rest = for_payload(a.value, pt);
    if (!rest) continue;
    RtpMap map;
    map.payload_type = pt;
    std::string_view r = *rest;
    const std::size_t slash = r.find('/');
    map.encoding = r.substr(0, slash);
    if (slash != std::string_view::npos) {
      r = r.substr(slash + 1);
      const std::size_t slash2 = r.find('/');
      map.clock_rate = static_cast<std::uint32_t>(ascii::parse_uint(r.substr(0, slash2), 0xFFFFFFFFull).value_or(0));
      if (slash2 != std::string_view::npos)
        map.channels = static_cast<std::uint16_t>(ascii::parse_uint(r.substr(slash2 + 1), 255).value_or(1));
    }
    return map;
  }
  return std::nullopt;
}

std::optional<std::string_view> Media::fmtp(int pt) const {
  for (const Attribute& a : attributes) {
    if (a.name != "fmtp") continue;
    if (auto rest = for_payload(a.value, pt)) return rest;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> Media::ptime() const {
  const Attribute* a = attribute("ptime");
  if (!a) return std::nullopt;
  auto v = ascii::parse_uint(ascii::trim_lws(a->value), 0xFFFFFFFFull);
  if (!v) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

bool Media::has_direction() const {
  for (const Attribute& a : attributes) {
    if (direction_of(a)) return true;
  }
  return false;
}

Direction Media::direction(Direction session_default) const {
  for (const Attribute& a : attributes) {
    if (auto d = direction_of(a)) return *d;
  }
  return session_default;
}

const Attribute* Session::attribute(std::string_view name) const {
  for (const Attribute& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Direction Session::direction() const {
  for (const Attribute& a : attributes) {
    if (auto d = direction_of(a)) return *d;
  }
  return Direction::SendRecv;
}

const Connection* Session::connection_for(std::size_t i) const {
  if (i < media.size() && media[i].connection) return &*media[i].connection;
  return connection ? &*connection : nullptr;
}

Result<Session, SdpError> parse(std::string_view body) {
  // The Session (about 3 KB) is built where the caller receives it: no move.
  Result<Session, SdpError> out(std::in_place);
  out->raw = body;  // from the argument's registers, not copied from the parser's own
  if (auto e = Parser(body).run(*out)) out = Unexpected{*e};
  return out;
}

// --- writer ----------------------------------------------------------------

SdpWriter& SdpWriter::line(char type, std::string_view value) {
  text_.push_back(type);
  text_.push_back('=');
  text_.append(value);
  text_.append("\r\n");
  return *this;
}

SdpWriter& SdpWriter::origin(std::string_view username, std::uint64_t session_id, std::uint64_t version,
                             std::string_view address) {
  const bool v6 = address.find(':') != std::string_view::npos;
  return line('o', std::string(username) + " " + std::to_string(session_id) + " " + std::to_string(version) +
                       (v6 ? " IN IP6 " : " IN IP4 ") + std::string(address));
}

SdpWriter& SdpWriter::session_name(std::string_view name) { return line('s', name.empty() ? "-" : name); }

SdpWriter& SdpWriter::connection(std::string_view address) {
  const bool v6 = address.find(':') != std::string_view::npos;
  return line('c', std::string(v6 ? "IN IP6 " : "IN IP4 ") + std::string(address));
}

SdpWriter& SdpWriter::bandwidth(std::string_view type, std::uint32_t value) {
  return line('b', std::string(type) + ":" + std::to_string(value));
}

SdpWriter& SdpWriter::timing(std::uint64_t start, std::uint64_t stop) {
  return line('t', std::to_string(start) + " " + std::to_string(stop));
}

SdpWriter& SdpWriter::media(std::string_view media, std::uint16_t port, std::string_view proto,
                            std::string_view formats) {
  return line('m', std::string(media) + " " + std::to_string(port) + " " + std::string(proto) + " " +
                       std::string(formats));
}

SdpWriter& SdpWriter::attribute(std::string_view name, std::string_view value) {
  if (value.empty()) return line('a', name);
  return line('a', std::string(name) + ":" + std::string(value));
}

}  // namespace imsflow::sdp
