// Differential check of the parser's one-pass readers (sip/fast_values.hpp):
// every typed entry sip::parse produced for a list, name-addr, Via or
// param-value header must equal what the general grammar gives for the same
// field, view for view (same bytes at the same addresses); so must CSeq,
// Call-ID and the number headers. Used by
// fast_values_test.cpp over every stored message and by the fuzz targets.
// Returns a description of the first difference, or an empty string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sip/header_values.hpp"
#include "sip/message.hpp"
#include "util/ascii.hpp"

namespace imsflow::test {

namespace grammar_check {

inline bool same(std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); }
/// Empty views too must agree on where they point (both default, or both
/// at the same byte), so that any view a reader sets is checked.
inline bool same_or_empty(std::string_view a, std::string_view b) { return same(a, b); }

inline std::string diff_uri(const sip::Uri& a, const sip::Uri& b) {
  if (!same_or_empty(a.raw, b.raw)) return "uri.raw";
  if (!same_or_empty(a.scheme, b.scheme) || a.kind != b.kind) return "uri.scheme";
  if (!same_or_empty(a.user, b.user)) return "uri.user";
  if (!same_or_empty(a.password, b.password)) return "uri.password";
  if (!same_or_empty(a.host, b.host) || a.host_kind != b.host_kind) return "uri.host";
  if (a.port != b.port || a.has_port != b.has_port) return "uri.port";
  if (!same_or_empty(a.params.raw(), b.params.raw())) return "uri.params";
  if (!same_or_empty(a.headers, b.headers)) return "uri.headers";
  if (!same_or_empty(a.opaque, b.opaque)) return "uri.opaque";
  return {};
}

inline std::string diff(const sip::NameAddr& a, const sip::NameAddr& b) {
  if (a.header != b.header) return "header";
  if (!same_or_empty(a.raw, b.raw)) return "raw";
  if (!same_or_empty(a.display_name, b.display_name) || a.display_quoted != b.display_quoted) return "display name";
  if (a.bracketed != b.bracketed || a.wildcard != b.wildcard) return "brackets";
  if (!same_or_empty(a.params.raw(), b.params.raw())) return "params";
  return diff_uri(a.uri, b.uri);
}

inline std::string diff(const sip::Via& a, const sip::Via& b) {
  if (!same_or_empty(a.raw, b.raw)) return "raw";
  if (!same_or_empty(a.protocol_name, b.protocol_name) || !same_or_empty(a.protocol_version, b.protocol_version) ||
      !same_or_empty(a.transport, b.transport))
    return "sent-protocol";
  if (!same_or_empty(a.host, b.host) || a.host_kind != b.host_kind) return "host";
  if (a.port != b.port || a.has_port != b.has_port) return "port";
  if (!same_or_empty(a.branch, b.branch)) return "branch";
  if (!same_or_empty(a.params.raw(), b.params.raw())) return "params";
  return {};
}

inline std::string diff(const sip::ParamValue& a, const sip::ParamValue& b) {
  if (a.header != b.header) return "header";
  if (!same_or_empty(a.raw, b.raw)) return "raw";
  if (!same_or_empty(a.value, b.value)) return "value";
  if (!same_or_empty(a.comment, b.comment)) return "comment";
  if (!same_or_empty(a.params.raw(), b.params.raw())) return "params";
  return {};
}

inline std::string diff(const sip::Token& a, const sip::Token& b) {
  if (a.header != b.header || !same(a.text, b.text)) return "token";
  return {};
}

/// The general grammar's entries for one field; false when it rejects it.
template <class T>
bool general_entries(const sip::HeaderField& f, std::vector<T>& out);

template <>
inline bool general_entries(const sip::HeaderField& f, std::vector<sip::NameAddr>& out) {
  sip::Scanner s(f.value);
  const bool list = sip::header_info(f.id).grammar == sip::HeaderGrammar::NameAddrList;
  if (list && f.id == sip::HeaderId::Contact && f.value == "*") {
    sip::NameAddr star;
    star.header = f.id;
    star.raw = f.value;
    star.wildcard = true;
    out.push_back(star);
    return true;
  }
  auto one = [&](sip::Scanner& sc) -> std::optional<sip::SyntaxError> {
    sip::NameAddr na;
    na.header = f.id;
    if (auto e = sip::parse_name_addr(sc, list, na)) return e;
    out.push_back(na);
    return std::nullopt;
  };
  if (list) return !sip::parse_comma_list(s, false, one);
  if (one(s)) return false;
  s.skip_lws();
  return s.at_end();
}

template <>
inline bool general_entries(const sip::HeaderField& f, std::vector<sip::Via>& out) {
  sip::Scanner s(f.value);
  return !sip::parse_comma_list(s, false, [&](sip::Scanner& sc) -> std::optional<sip::SyntaxError> {
    sip::Via v;
    if (auto e = sip::parse_via(sc, v)) return e;
    out.push_back(v);
    return std::nullopt;
  });
}

template <>
inline bool general_entries(const sip::HeaderField& f, std::vector<sip::Token>& out) {
  sip::Scanner s(f.value);
  return !sip::parse_comma_list(s, true, [&](sip::Scanner& sc) -> std::optional<sip::SyntaxError> {
    std::string_view t = sc.token();
    if (t.empty()) return sc.error("a token");
    out.push_back(sip::Token{f.id, t});
    return std::nullopt;
  });
}

template <>
inline bool general_entries(const sip::HeaderField& f, std::vector<sip::ParamValue>& out) {
  if (f.id == sip::HeaderId::RetryAfter) {
    auto ra = sip::parse_retry_after(f.value);
    if (!ra) return false;
    ra->header = f.id;
    out.push_back(*ra);
    return true;
  }
  sip::Scanner s(f.value);
  const bool list = sip::header_info(f.id).grammar == sip::HeaderGrammar::ParamValueList;
  auto one = [&](sip::Scanner& sc) -> std::optional<sip::SyntaxError> {
    sip::ParamValue pv;
    pv.header = f.id;
    if (auto e = sip::parse_param_value(sc, list, pv)) return e;
    out.push_back(pv);
    return std::nullopt;
  };
  if (list) {
    const bool may_be_empty = f.id == sip::HeaderId::Accept || f.id == sip::HeaderId::AcceptEncoding ||
                              f.id == sip::HeaderId::AcceptLanguage;
    return !sip::parse_comma_list(s, may_be_empty, one);
  }
  if (one(s)) return false;
  s.skip_lws();
  return s.at_end();
}

/// Compares the entries of one table kind, header by header, in wire order.
template <class T, class Typed>
std::string check_table(const sip::Message& m, sip::HeaderGrammar g1, sip::HeaderGrammar g2, Typed&& typed) {
  for (std::size_t id = 1; id < static_cast<std::size_t>(sip::HeaderId::kCount); ++id) {
    const auto hid = static_cast<sip::HeaderId>(id);
    const sip::HeaderGrammar g = sip::header_info(hid).grammar;
    if (g != g1 && g != g2) continue;
    std::vector<T> expected;
    for (const sip::HeaderField& f : m.headers()) {
      if (f.id != hid) continue;
      std::vector<T> entries;
      if (general_entries(f, entries)) {
        expected.insert(expected.end(), entries.begin(), entries.end());
      } else if (!sip::header_info(hid).tolerated_when_malformed()) {
        return std::string(f.name) + ": the general grammar rejects a value the parser accepted";
      }
    }
    std::size_t i = 0;
    for (const T& got : typed(hid)) {
      if (i == expected.size()) return std::string(sip::canonical_name(hid)) + ": more entries than the general grammar gives";
      if (std::string d = diff(got, expected[i]); !d.empty())
        return std::string(sip::canonical_name(hid)) + " entry " + std::to_string(i) + ": " + d + " differs";
      ++i;
    }
    if (i != expected.size()) return std::string(sip::canonical_name(hid)) + ": fewer entries than the general grammar gives";
  }
  return {};
}

}  // namespace grammar_check

/// Every typed entry of `m` against the general grammars; "" when all agree.
inline std::string recheck_with_general_grammars(const sip::Message& m) {
  using G = sip::HeaderGrammar;
  namespace gc = grammar_check;
  if (const sip::HeaderField* f = m.find(sip::HeaderId::CSeq)) {
    auto c = sip::parse_cseq(f->value);
    if (!c) return "CSeq: the general grammar rejects a value the parser accepted";
    if (!m.cseq() || m.cseq()->number != c->number || m.cseq()->method != c->method ||
        !gc::same(m.cseq()->method_text, c->method_text))
      return "CSeq differs";
  }
  // Number headers: digits only, within the header's range (parse_value's rules).
  for (sip::HeaderId id : {sip::HeaderId::ContentLength, sip::HeaderId::Expires, sip::HeaderId::MinExpires,
                           sip::HeaderId::RSeq, sip::HeaderId::MaxForwards}) {
    const sip::HeaderField* f = m.find(id);
    const std::optional<std::uint32_t>& got = id == sip::HeaderId::ContentLength ? m.content_length()
                                              : id == sip::HeaderId::Expires     ? m.expires()
                                              : id == sip::HeaderId::MinExpires  ? m.min_expires()
                                              : id == sip::HeaderId::RSeq        ? m.rseq()
                                                                                 : m.max_forwards();
    if (f == nullptr) {
      if (got) return std::string(sip::canonical_name(id)) + ": a value without the header";
      continue;
    }
    const bool small = sip::header_info(id).grammar == sip::HeaderGrammar::SmallNumber;
    auto n = ascii::all_of(f->value, ascii::kDigit) ? ascii::parse_uint(f->value, small ? 255 : 0xFFFFFFFFull)
                                                    : std::nullopt;
    if (!n || (id == sip::HeaderId::RSeq && *n == 0))
      return std::string(f->name) + ": the general grammar rejects a value the parser accepted";
    if (!got || *got != *n) return std::string(f->name) + " differs";
  }
  if (const sip::HeaderField* f = m.find(sip::HeaderId::CallId)) {
    if (sip::check_call_id(f->value)) return "Call-ID: the general grammar rejects a value the parser accepted";
    if (!gc::same(m.call_id(), f->value)) return "Call-ID differs";
  }
  if (auto d = gc::check_table<sip::NameAddr>(m, G::NameAddr, G::NameAddrList,
                                              [&](sip::HeaderId id) { return m.name_addrs(id); });
      !d.empty())
    return d;
  if (auto d = gc::check_table<sip::Via>(m, G::Via, G::Via, [&](sip::HeaderId) { return m.vias(); }); !d.empty())
    return d;
  if (auto d = gc::check_table<sip::Token>(m, G::TokenList, G::TokenList,
                                           [&](sip::HeaderId id) { return m.tokens(id); });
      !d.empty())
    return d;
  return gc::check_table<sip::ParamValue>(m, G::ParamValue, G::ParamValueList,
                                          [&](sip::HeaderId id) { return m.param_values(id); });
}

}  // namespace imsflow::test
