// A parsed SIP message: views into the buffer it was parsed from (which must
// outlive it), the header fields in wire order, and every known header in its
// typed form, parsed once by sip::parse. Nothing here allocates per header:
// the tables keep their first elements inline.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "sip/header_id.hpp"
#include "sip/header_values.hpp"
#include "sip/method.hpp"
#include "sip/uri.hpp"
#include "util/small_vector.hpp"

namespace imsflow::sip {

/// One header line as written (a folded line counts as one).
struct HeaderField {
  HeaderId id = HeaderId::Other;
  std::string_view name;   // as written, e.g. "v" or "MaX-fOrWaRdS"
  std::string_view value;  // trimmed; folded CRLF+WS stays inside
  std::uint32_t offset = 0;  // of the first byte of the name, in Message::bytes()
  std::uint32_t length = 0;  // of the whole field, folds and final CRLF included
};

/// A header whose value broke its grammar but was tolerated (a P- header):
/// the field is kept as text, its typed form is absent.
struct HeaderDefect {
  HeaderId header = HeaderId::Other;
  std::uint32_t offset = 0;  // in the input given to sip::parse
  const char* expected = "";
};

/// Iterates the entries of a typed table that came from one header.
template <class T>
class HeaderValues {
 public:
  HeaderValues(std::span<const T> all, HeaderId id) : all_(all), id_(id) {}
  class Iterator {
   public:
    Iterator(const T* p, const T* end, HeaderId id) : p_(p), end_(end), id_(id) { skip(); }
    const T& operator*() const { return *p_; }
    const T* operator->() const { return p_; }
    Iterator& operator++() {
      ++p_;
      skip();
      return *this;
    }
    bool operator==(const Iterator& o) const { return p_ == o.p_; }

   private:
    void skip() {
      while (p_ != end_ && p_->header != id_) ++p_;
    }
    const T* p_;
    const T* end_;
    HeaderId id_;
  };
  Iterator begin() const { return Iterator(all_.data(), all_.data() + all_.size(), id_); }
  Iterator end() const {
    const T* e = all_.data() + all_.size();
    return Iterator(e, e, id_);
  }
  bool empty() const { return begin() == end(); }
  std::size_t size() const {
    std::size_t n = 0;
    for (auto it = begin(); it != end(); ++it) ++n;
    return n;
  }
  const T* first() const {
    auto it = begin();
    return it == end() ? nullptr : &*it;
  }

 private:
  std::span<const T> all_;
  HeaderId id_;
};

class Message {
 public:
  // --- start line ---
  bool is_request() const { return is_request_; }
  bool is_response() const { return !is_request_; }
  Method method() const { return method_; }
  std::string_view method_text() const { return method_text_; }
  const Uri& request_uri() const { return request_uri_; }
  int status_code() const { return status_code_; }
  std::string_view reason_phrase() const { return reason_phrase_; }
  std::string_view version() const { return version_; }
  std::string_view start_line() const { return start_line_; }

  /// The bytes of this message as parsed (leading CRLF keep-alives skipped,
  /// trailing bytes of a datagram beyond Content-Length excluded).
  std::string_view bytes() const { return bytes_; }
  std::string_view body() const { return body_; }
  /// Offset of bytes() within the buffer given to sip::parse.
  std::uint32_t offset_in_input() const { return offset_in_input_; }

  // --- header fields ---
  std::span<const HeaderField> headers() const { return {fields_.data(), fields_.size()}; }
  const HeaderField* find(HeaderId id) const;
  /// Any header by name (any case; compact forms resolve to their long form).
  const HeaderField* find(std::string_view name) const;
  std::size_t count(HeaderId id) const;

  // --- dialog identity ---
  const NameAddr* from() const { return first_of(name_addrs_, HeaderId::From); }
  const NameAddr* to() const { return first_of(name_addrs_, HeaderId::To); }
  std::string_view call_id() const { return call_id_; }
  const std::optional<CSeq>& cseq() const { return cseq_; }

  // --- routing ---
  std::span<const Via> vias() const { return {vias_.data(), vias_.size()}; }
  const Via* top_via() const { return vias_.empty() ? nullptr : &vias_[0]; }
  const std::optional<std::uint32_t>& max_forwards() const { return max_forwards_; }
  HeaderValues<NameAddr> name_addrs(HeaderId id) const { return {{name_addrs_.data(), name_addrs_.size()}, id}; }
  HeaderValues<NameAddr> contacts() const { return name_addrs(HeaderId::Contact); }
  HeaderValues<NameAddr> routes() const { return name_addrs(HeaderId::Route); }
  HeaderValues<NameAddr> record_routes() const { return name_addrs(HeaderId::RecordRoute); }
  HeaderValues<NameAddr> paths() const { return name_addrs(HeaderId::Path); }
  HeaderValues<NameAddr> service_routes() const { return name_addrs(HeaderId::ServiceRoute); }

  // --- extensions (RFC 3262, 3311, 4028) ---
  HeaderValues<Token> tokens(HeaderId id) const { return {{tokens_.data(), tokens_.size()}, id}; }
  HeaderValues<Token> supported() const { return tokens(HeaderId::Supported); }
  HeaderValues<Token> require() const { return tokens(HeaderId::Require); }
  HeaderValues<Token> proxy_require() const { return tokens(HeaderId::ProxyRequire); }
  HeaderValues<Token> unsupported() const { return tokens(HeaderId::Unsupported); }
  HeaderValues<Token> allow() const { return tokens(HeaderId::Allow); }
  /// True when `header` (a token-list header) lists `tag` (case-insensitive).
  bool lists(HeaderId header, std::string_view tag) const;
  const std::optional<std::uint32_t>& rseq() const { return rseq_; }
  const std::optional<RAck>& rack() const { return rack_; }

  // --- body and scalars ---
  const std::optional<std::uint32_t>& content_length() const { return content_length_; }
  const ParamValue* content_type() const { return param_values(HeaderId::ContentType).first(); }
  const std::optional<std::uint32_t>& expires() const { return expires_; }
  const std::optional<std::uint32_t>& min_expires() const { return min_expires_; }

  // --- value-with-params headers ---
  HeaderValues<ParamValue> param_values(HeaderId id) const { return {{param_values_.data(), param_values_.size()}, id}; }
  HeaderValues<ParamValue> reasons() const { return param_values(HeaderId::Reason); }
  const ParamValue* retry_after() const { return param_values(HeaderId::RetryAfter).first(); }
  const ParamValue* session_expires() const { return param_values(HeaderId::SessionExpires).first(); }
  const ParamValue* p_charging_vector() const { return param_values(HeaderId::PChargingVector).first(); }
  /// icid-value of P-Charging-Vector (RFC 7315 §4.6), quotes removed.
  std::optional<std::string_view> icid_value() const;
  HeaderValues<Warning> warnings() const { return {{warnings_.data(), warnings_.size()}, HeaderId::Warning}; }
  HeaderValues<Credentials> credentials(HeaderId id) const { return {{credentials_.data(), credentials_.size()}, id}; }

  /// Bytes of input after this message that were not part of it (a datagram
  /// longer than Content-Length, RFC 3261 §18.3).
  std::uint32_t trailing_bytes() const { return trailing_bytes_; }
  /// Tolerated malformed headers, in wire order.
  std::span<const HeaderDefect> defects() const { return {defects_.data(), defects_.size()}; }

 private:
  friend class MessageParser;
  template <class T, std::size_t N>
  static const T* first_of(const SmallVector<T, N>& table, HeaderId id) {
    for (const T& v : table) {
      if (v.header == id) return &v;
    }
    return nullptr;
  }
  void reset();

  // start line
  bool is_request_ = false;
  Method method_ = Method::Unknown;
  int status_code_ = 0;
  std::string_view method_text_, reason_phrase_, version_, start_line_;
  Uri request_uri_;
  // framing
  std::string_view bytes_, body_;
  std::uint32_t offset_in_input_ = 0;
  std::uint32_t trailing_bytes_ = 0;
  // header tables
  SmallVector<HeaderField, 32> fields_;
  SmallVector<NameAddr, 8> name_addrs_;
  SmallVector<Via, 4> vias_;
  SmallVector<Token, 24> tokens_;
  SmallVector<ParamValue, 8> param_values_;
  SmallVector<Warning, 2> warnings_;
  SmallVector<Credentials, 2> credentials_;
  SmallVector<HeaderDefect, 2> defects_;
  // scalars
  std::string_view call_id_;
  std::optional<CSeq> cseq_;
  std::optional<RAck> rack_;
  std::optional<std::uint32_t> max_forwards_, content_length_, expires_, min_expires_, rseq_;
};

}  // namespace imsflow::sip
