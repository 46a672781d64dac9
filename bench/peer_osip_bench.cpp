// libosip2 (GNU oSIP 5.x) doing the work of BM_ParseFull and
// BM_Build200FromInvite, for comparison.
//
// What libosip2's full parse is: osip_message_parse reads the start line and
// every header; the headers it knows (Via, From, To, Call-ID, CSeq, Contact,
// Route, Record-Route, Content-Type, Content-Length, Allow, Accept*, the
// authentication headers, ...) are parsed into their structs, URIs included;
// every other header (Max-Forwards, Supported, Require, RSeq, RAck, all P-
// headers, ...) is kept as a name/value string pair in msg->headers. The body
// is copied into an osip_body_t, which sdp_message_parse then reads into an
// sdp_message_t (every line split into fields, a= lines as name/value).
// Only the parser library (libosipparser2) is used; <osip2/osip.h> (the
// transaction layer) is not needed and does not compile without <sys/time.h>.
#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>

#include <string>

#include "samples.hpp"

namespace imsflow::bench {
namespace {

/// parser_init() fills oSIP's header-name tables; it must run once before any parse.
void ensure_osip_initialised() {
  static const bool done = [] {
    parser_init();
    return true;
  }();
  (void)done;
}

/// The typed single-valued headers every SIP message has (RFC 3261 §8.1.1).
bool has_typed_core_headers(const osip_message_t* msg) {
  return osip_list_size(&msg->vias) > 0 && msg->from != nullptr && msg->to != nullptr && msg->call_id != nullptr &&
         msg->cseq != nullptr;
}

/// The first body part, when the message has one.
const osip_body_t* first_body(const osip_message_t* msg) {
  osip_body_t* body = nullptr;
  if (osip_message_get_body(msg, 0, &body) != OSIP_SUCCESS) return nullptr;
  return body;
}

template <class T>
void free_with(T* p, void (*release)(T*)) {
  if (p != nullptr) release(p);
}

}  // namespace

const char* osip_parse_full_once(const std::string& bytes, int* text_only) {
  ensure_osip_initialised();
  osip_message_t* msg = nullptr;
  if (osip_message_init(&msg) != OSIP_SUCCESS) return "osip_message_init failed";
  if (osip_message_parse(msg, bytes.data(), bytes.size()) != OSIP_SUCCESS) {
    osip_message_free(msg);
    return "osip_message_parse failed";
  }
  if (!has_typed_core_headers(msg)) {
    osip_message_free(msg);
    return "osip left Via, From, To, Call-ID or CSeq untyped";
  }
  const osip_body_t* body = first_body(msg);
  if (msg->content_type != nullptr && body != nullptr && body->length > 0) {
    sdp_message_t* sdp = nullptr;
    if (sdp_message_init(&sdp) != OSIP_SUCCESS || sdp_message_parse(sdp, body->body) != OSIP_SUCCESS ||
        sdp_message_m_media_get(sdp, 0) == nullptr) {
      free_with(sdp, sdp_message_free);
      osip_message_free(msg);
      return "sdp_message_parse failed";
    }
    benchmark::DoNotOptimize(sdp);
    sdp_message_free(sdp);
  }
  if (text_only != nullptr) *text_only = osip_list_size(&msg->headers);
  benchmark::DoNotOptimize(msg);
  osip_message_free(msg);
  return nullptr;
}

void osip_parse_full(benchmark::State& state, const std::string& bytes) {
  int text_only = -1;
  for (auto _ : state) {
    if (const char* why = osip_parse_full_once(bytes, &text_only)) {
      state.SkipWithError(why);
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  if (text_only >= 0) state.counters["text_only"] = text_only;
}

namespace {

/// Clones every element of `from` into `to` with `clone` (an osip_*_clone).
template <class T>
bool clone_list(const osip_list_t& from, osip_list_t& to, int (*clone)(const T*, T**)) {
  osip_list_iterator_t it;
  for (auto* e = static_cast<T*>(osip_list_get_first(&from, &it)); osip_list_iterator_has_elem(it);
       e = static_cast<T*>(osip_list_get_next(&it))) {
    T* copy = nullptr;
    if (clone(e, &copy) != OSIP_SUCCESS) return false;
    osip_list_add(&to, copy, -1);
  }
  return true;
}

/// The RFC 3261 §8.2.6.2 response to `req`, built the way oSIP users (eXosip)
/// do: Via and Record-Route lists, From, To with a new tag, Call-ID and CSeq
/// cloned from the parsed request. nullptr on failure.
osip_message_t* build_200(const osip_message_t* req) {
  osip_message_t* resp = nullptr;
  if (osip_message_init(&resp) != OSIP_SUCCESS) return nullptr;
  osip_message_set_version(resp, osip_strdup("SIP/2.0"));
  osip_message_set_status_code(resp, 200);
  osip_message_set_reason_phrase(resp, osip_strdup("OK"));
  bool ok = clone_list<osip_via_t>(req->vias, resp->vias, osip_via_clone) &&
            clone_list<osip_record_route_t>(req->record_routes, resp->record_routes, osip_record_route_clone) &&
            osip_from_clone(req->from, &resp->from) == OSIP_SUCCESS &&
            osip_to_clone(req->to, &resp->to) == OSIP_SUCCESS &&
            osip_call_id_clone(req->call_id, &resp->call_id) == OSIP_SUCCESS &&
            osip_cseq_clone(req->cseq, &resp->cseq) == OSIP_SUCCESS;
  if (ok) {
    osip_generic_param_t* tag = nullptr;
    if (osip_to_get_tag(resp->to, &tag) != OSIP_SUCCESS) {
      ok = osip_to_set_tag(resp->to, osip_strdup(kToTag)) == OSIP_SUCCESS;
    }
  }
  if (ok) ok = osip_message_set_content_length(resp, "0") == OSIP_SUCCESS;
  if (!ok) {
    osip_message_free(resp);
    return nullptr;
  }
  return resp;
}

}  // namespace

void osip_build_200_from_invite(benchmark::State& state, const std::string& bytes) {
  ensure_osip_initialised();
  osip_message_t* req = nullptr;
  if (osip_message_init(&req) != OSIP_SUCCESS || osip_message_parse(req, bytes.data(), bytes.size()) != OSIP_SUCCESS ||
      !has_typed_core_headers(req)) {
    free_with(req, osip_message_free);
    state.SkipWithError("osip_message_parse failed");
    return;
  }
  std::string out;
  for (auto _ : state) {
    osip_message_t* resp = build_200(req);
    char* text = nullptr;
    std::size_t length = 0;
    if (resp == nullptr || osip_message_to_str(resp, &text, &length) != OSIP_SUCCESS) {
      free_with(resp, osip_message_free);
      state.SkipWithError("building the 200 failed");
      break;
    }
    // Into a reused string, as the imsflow benchmark serializes.
    out.assign(text, length);
    benchmark::DoNotOptimize(out.data());
    osip_free(text);
    osip_message_free(resp);
  }
  osip_message_free(req);
  state.counters["out_bytes"] = static_cast<double>(out.size());
}

}  // namespace imsflow::bench
