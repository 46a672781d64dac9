#include "sip/fast_values.hpp"

#include "util/byte_scan.hpp"

namespace imsflow::sip::internal {

namespace {

/// `*(";" [blank] name ["=" (gen-value / plain quoted-string)])` from p,
/// calling on_param(name, value) (value empty for a flag, quotes kept), which
/// may refuse a value by returning false. Returns where the list stops, or
/// nullptr for a shape the general grammar must judge.
template <class OnParam>
[[gnu::always_inline]] inline const char* fast_params(const char* p, const char* end, const char* limit,
                                                      OnParam&& on_param) {
  while (p < end && *p == ';') {
    const char* name = p + 1;
    while (name < end && ascii::is_space(*name)) ++name;  // "; utran-cell-id-3gpp=…"
    const char* q = fast_token(name, end, limit);
    if (q == name) return nullptr;
    const std::string_view param_name(name, static_cast<std::size_t>(q - name));
    std::string_view value;
    if (q < end && *q == '=') {
      const char* const v = q + 1;
      if (v < end && *v == '"') {
        const char* close = scan::skip_plain_qdtext(v + 1, end, limit);
        if (close == end || *close != '"') return nullptr;  // escapes, UTF-8, or unterminated
        q = close + 1;
      } else {
        q = scan::skip_common(v, end, limit, scan::kCommonToken);
        while (q < end && internal::is_gen_value_char(*q)) ++q;
        if (q == v) return nullptr;
      }
      value = std::string_view(v, static_cast<std::size_t>(q - v));
    }
    if (!on_param(param_name, value)) return nullptr;
    p = q;
  }
  return p;
}

[[gnu::always_inline]] inline const char* fast_params(const char* p, const char* end, const char* limit, Params& out) {
  if (p == end || *p != ';') return p;
  const char* const start = p;
  p = fast_params(p, end, limit, [](std::string_view, std::string_view) { return true; });
  if (p) out = Params(std::string_view(start, static_cast<std::size_t>(p - start)));
  return p;
}

}  // namespace

const char* fast_name_addr(const char* p, const char* end, const char* limit, NameAddr& na) {
  const char* const start = p;
  if (p == end) return nullptr;
  if (*p == '"') {
    const char* const name = p + 1;
    const char* close = scan::skip_plain_qdtext(name, end, limit);
    if (close == end || *close != '"') return nullptr;
    na.display_name = std::string_view(name, static_cast<std::size_t>(close - name));
    na.display_quoted = true;
    p = close + 1;
    while (p < end && ascii::is_space(*p)) ++p;
    if (p == end || *p != '<') return nullptr;
  } else if (*p != '<') {
    return nullptr;  // a token display name or a bare addr-spec
  }
  na.bracketed = true;
  const char* stop = parse_uri_prefix(p + 1, end, na.uri, limit);
  if (stop == nullptr || stop == end || *stop != '>') return nullptr;
  p = fast_params(stop + 1, end, limit, na.params);
  if (p == nullptr) return nullptr;
  na.raw = std::string_view(start, static_cast<std::size_t>(p - start));
  return p;
}

const char* fast_via(const char* p, const char* end, const char* limit, Via& via) {
  const char* const start = p;
  // sent-protocol: three tokens joined by '/', then whitespace.
  std::string_view* const parts[3] = {&via.protocol_name, &via.protocol_version, &via.transport};
  for (int k = 0; k < 3; ++k) {
    const char* q = fast_token(p, end, limit);
    if (q == p || q == end || *q != (k < 2 ? '/' : ' ')) return nullptr;
    *parts[k] = std::string_view(p, static_cast<std::size_t>(q - p));
    p = q + 1;
  }
  while (p < end && ascii::is_space(*p)) ++p;
  // sent-by: a hostname or IPv4 address (IPv6 takes the general path).
  const char* const host = p;
  p = scan::skip_common(p, end, limit, scan::kCommonHostname);
  while (p < end && ascii::is(*p, ascii::kHostname)) ++p;
  if (p == host || *host == '.' || *host == '-') return nullptr;
  via.host = std::string_view(host, static_cast<std::size_t>(p - host));
  via.host_kind = ascii::is_digit(*host) && ascii::is_ipv4_address(via.host, limit) ? HostKind::IPv4 : HostKind::Name;
  if (p < end && *p == ':') {
    p = read_port(p + 1, end, via.port);
    if (p == nullptr) return nullptr;
    via.has_port = true;
  }
  if (p < end && *p == ';') {
    const char* const params = p;
    p = fast_params(p, end, limit, [&via](std::string_view name, std::string_view value) {
      return take_via_param(via, name, value) == nullptr;
    });
    if (p == nullptr) return nullptr;
    via.params = Params(std::string_view(params, static_cast<std::size_t>(p - params)));
  }
  via.raw = std::string_view(start, static_cast<std::size_t>(p - start));
  return p;
}

const char* fast_param_value(const char* p, const char* end, const char* limit, bool in_list, ParamValue& pv) {
  const char* const start = p;
  if (p == end || *p == '"' || *p == '<') return nullptr;
  // Printable ASCII and UTF-8 up to ';' (or ','); LWS, quotes and controls
  // are for the general grammar.
  p = scan::skip_common(p, end, limit, scan::kCommonValue);
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == ';' || (in_list && c == ',')) break;
    if (c <= 0x20 || c == 0x7F || c == '"') return nullptr;
    ++p;
  }
  if (p == start) return nullptr;
  pv.value = std::string_view(start, static_cast<std::size_t>(p - start));
  p = fast_params(p, end, limit, pv.params);
  if (p == nullptr) return nullptr;
  pv.raw = std::string_view(start, static_cast<std::size_t>(p - start));
  return p;
}

bool fast_cseq(const char* p, const char* end, const char* limit, CSeq& out) {
  const char* const digits = p;
  std::uint64_t number = 0;
  while (p < end && ascii::is_digit(*p) && p - digits < 10) number = number * 10 + static_cast<unsigned>(*p++ - '0');
  if (p == digits || number > 0xFFFFFFFFull || p == end || !ascii::is_space(*p)) return false;
  while (p < end && ascii::is_space(*p)) ++p;
  const char* const method = p;
  p = fast_token(p, end, limit);
  if (p == method || p != end) return false;
  out.number = static_cast<std::uint32_t>(number);
  out.method_text = std::string_view(method, static_cast<std::size_t>(p - method));
  out.method = method_from_token(out.method_text);
  return true;
}

bool fast_call_id(const char* p, const char* end, const char* limit) {
  // word = token characters and ( ) < > : \ " / [ ] ? { }
  auto word = [end, limit](const char* q) {
    q = scan::skip_common(q, end, limit, scan::kCommonToken);
    while (q < end && ascii::is(*q, ascii::kWord)) ++q;
    return q;
  };
  const char* q = word(p);
  if (q == p) return false;
  if (q < end && *q == '@') {
    const char* const host = q + 1;
    q = word(host);
    if (q == host) return false;
  }
  return q == end;
}

}  // namespace imsflow::sip::internal
