// sofia-sip (1.12.11) doing the work of BM_ParseFull and
// BM_Build200FromInvite, for comparison.
//
// What sofia-sip's full parse is here: msg_make copies the bytes into a new
// msg_t and extracts it; every header line is run through its class's parse
// function at once (sofia has no lazy header decoding), so each header it
// knows becomes its typed struct (URIs split into url_t, parameters into
// lists). The message class is sip_extend_mclass(NULL): the default SIP class
// plus the extension headers sofia ships (P-Asserted-Identity,
// P-Preferred-Identity, Alert-Info, Reply-To, Remote-Party-ID, ...), so more
// headers are typed than with sip_default_mclass(). Headers it does not know
// (P-Access-Network-Info, P-Preferred-Service, P-Charging-Vector, ...) end up
// in sip->sip_unknown as name/value. Flags are 0: headers are decoded in
// place in msg_make's copy of the buffer. MSG_DO_EXTRACT_COPY would also keep
// a private copy of each header's text (more work, measured separately as
// BM_ParseFull_sofia_extract_copy). The body is then parsed by sdp_parse
// (flags 0), which copies it and types every line (rtpmaps included).
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sdp.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include <string>

#include "samples.hpp"

namespace imsflow::bench {
namespace {

/// The SIP message class with sofia's extension headers, built once.
msg_mclass_t const* sofia_mclass() {
  static msg_mclass_t const* const mclass = sip_extend_mclass(nullptr);
  return mclass;
}

/// Parses `bytes` with `flags`; nullptr (and a reason) when sofia reports an
/// error, when a header could not be decoded, or when a core header is untyped.
msg_t* sofia_parse(const std::string& bytes, int flags, const char** why) {
  msg_t* msg = msg_make(sofia_mclass(), flags, bytes.data(), static_cast<ssize_t>(bytes.size()));
  if (msg == nullptr) {
    *why = "msg_make failed";
    return nullptr;
  }
  sip_t const* sip = sip_object(msg);
  if (sip == nullptr || msg_has_error(msg) || msg_extract_errors(msg) != 0 || sip->sip_error != nullptr) {
    *why = "sofia reported a parse error";
  } else if (sip->sip_via == nullptr || sip->sip_from == nullptr || sip->sip_to == nullptr ||
             sip->sip_call_id == nullptr || sip->sip_cseq == nullptr ||
             (sip->sip_request == nullptr && sip->sip_status == nullptr)) {
    *why = "sofia left the start line, Via, From, To, Call-ID or CSeq untyped";
  } else {
    return msg;
  }
  msg_destroy(msg);
  return nullptr;
}

int count_unknown(sip_t const* sip) {
  int n = 0;
  for (sip_unknown_t const* u = sip->sip_unknown; u != nullptr; u = u->un_next) ++n;
  return n;
}

/// One full parse with `flags`: nullptr when it went through, else why not.
const char* parse_full_once(const std::string& bytes, int flags, int* text_only) {
  const char* why = "";
  msg_t* msg = sofia_parse(bytes, flags, &why);
  if (msg == nullptr) return why;
  sip_t const* sip = sip_object(msg);
  if (sip->sip_content_type != nullptr && sip->sip_payload != nullptr && sip->sip_payload->pl_len > 0) {
    sdp_parser_t* parser = sdp_parse(nullptr, sip->sip_payload->pl_data, static_cast<issize_t>(sip->sip_payload->pl_len), 0);
    sdp_session_t const* sdp = sdp_session(parser);
    if (sdp == nullptr || sdp->sdp_media == nullptr) {
      sdp_parser_free(parser);
      msg_destroy(msg);
      return "sdp_parse failed";
    }
    benchmark::DoNotOptimize(sdp);
    sdp_parser_free(parser);
  }
  if (text_only != nullptr) *text_only = count_unknown(sip);
  benchmark::DoNotOptimize(sip);
  msg_destroy(msg);
  return nullptr;
}

void parse_full_with(benchmark::State& state, const std::string& bytes, int flags) {
  int text_only = -1;
  for (auto _ : state) {
    if (const char* why = parse_full_once(bytes, flags, &text_only)) {
      state.SkipWithError(why);
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  if (text_only >= 0) state.counters["text_only"] = text_only;
}

}  // namespace

const char* sofia_parse_full_once(const std::string& bytes, int* text_only) { return parse_full_once(bytes, 0, text_only); }

void sofia_parse_full(benchmark::State& state, const std::string& bytes) { parse_full_with(state, bytes, 0); }

void sofia_parse_full_extract_copy(benchmark::State& state, const std::string& bytes) {
  parse_full_with(state, bytes, MSG_DO_EXTRACT_COPY);
}

namespace {

/// The RFC 3261 §8.2.6.2 response to `req` with sofia's public header API
/// (no nta agent): a status line, sip_add_dup of every Via, Record-Route,
/// From, To (tagged), Call-ID and CSeq, then sip_complete_message.
msg_t* build_200(sip_t const* req) {
  msg_t* reply = msg_create(sofia_mclass(), 0);
  if (reply == nullptr) return nullptr;
  sip_t* rsip = sip_object(reply);
  su_home_t* home = msg_home(reply);
  bool ok = sip_header_insert(reply, rsip, reinterpret_cast<sip_header_t*>(sip_status_create(home, 200, "OK", nullptr))) == 0 &&
            sip_add_dup(reply, rsip, reinterpret_cast<sip_header_t const*>(req->sip_via)) == 0 &&
            sip_add_dup(reply, rsip, reinterpret_cast<sip_header_t const*>(req->sip_record_route)) == 0 &&
            sip_add_dup(reply, rsip, reinterpret_cast<sip_header_t const*>(req->sip_from)) == 0 &&
            sip_add_dup(reply, rsip, reinterpret_cast<sip_header_t const*>(req->sip_to)) == 0 &&
            sip_add_dup(reply, rsip, reinterpret_cast<sip_header_t const*>(req->sip_call_id)) == 0 &&
            sip_add_dup(reply, rsip, reinterpret_cast<sip_header_t const*>(req->sip_cseq)) == 0;
  if (ok && rsip->sip_to->a_tag == nullptr) ok = sip_to_tag(home, rsip->sip_to, kToTag) == 0;
  // Adds Content-Length: 0 and the empty line, as sofia's own reply path does.
  if (ok) ok = sip_complete_message(reply) == 0;
  if (!ok) {
    msg_destroy(reply);
    return nullptr;
  }
  return reply;
}

}  // namespace

void sofia_build_200_from_invite(benchmark::State& state, const std::string& bytes) {
  const char* why = "";
  msg_t* req = sofia_parse(bytes, 0, &why);
  if (req == nullptr) {
    state.SkipWithError(why);
    return;
  }
  sip_t const* req_sip = sip_object(req);
  std::string out;
  for (auto _ : state) {
    msg_t* reply = build_200(req_sip);
    // msg_serialize builds the fragment chain, msg_prepare encodes every
    // header into the message buffer; the text is then gathered from the
    // iovecs into a reused string, as the imsflow benchmark serializes.
    if (reply == nullptr || msg_serialize(reply, reinterpret_cast<msg_pub_t*>(sip_object(reply))) < 0 ||
        msg_prepare(reply) <= 0) {
      if (reply != nullptr) msg_destroy(reply);
      state.SkipWithError("building the 200 failed");
      break;
    }
    msg_iovec_t vec[64];
    const isize_t n = msg_iovec(reply, vec, 64);
    if (n <= 0 || n > 64) {
      msg_destroy(reply);
      state.SkipWithError("msg_iovec failed");
      break;
    }
    out.clear();
    for (isize_t i = 0; i < n; ++i) out.append(static_cast<const char*>(vec[i].mv_base), vec[i].mv_len);
    benchmark::DoNotOptimize(out.data());
    msg_destroy(reply);
  }
  msg_destroy(req);
  state.counters["out_bytes"] = static_cast<double>(out.size());
}

}  // namespace imsflow::bench
