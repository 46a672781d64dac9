#include "sdp/offer_answer.hpp"

#include <algorithm>
#include <utility>

#include "util/ascii.hpp"

namespace imsflow::sdp {

namespace {

bool is_dtmf(std::string_view encoding) { return ascii::iequals(encoding, "telephone-event"); }

/// RFC 3264 §6.1: the answer's direction for an offered one.
Direction answer_direction_for(Direction offered, Direction local) {
  switch (offered) {
    case Direction::SendOnly:
      return (local == Direction::SendRecv || local == Direction::RecvOnly) ? Direction::RecvOnly : Direction::Inactive;
    case Direction::RecvOnly:
      return (local == Direction::SendRecv || local == Direction::SendOnly) ? Direction::SendOnly : Direction::Inactive;
    case Direction::Inactive:
      return Direction::Inactive;
    case Direction::SendRecv:
      return local;
  }
  return local;
}

bool direction_allowed(Direction offered, Direction answered) {
  switch (offered) {
    case Direction::SendOnly: return answered == Direction::RecvOnly || answered == Direction::Inactive;
    case Direction::RecvOnly: return answered == Direction::SendOnly || answered == Direction::Inactive;
    case Direction::Inactive: return answered == Direction::Inactive;
    case Direction::SendRecv: return true;
  }
  return true;
}

std::string describe_formats(const Media& m) {
  std::string out;
  for (std::string_view f : m.formats) {
    if (!out.empty()) out += ", ";
    if (auto map = effective_rtpmap(m, f)) {
      out += std::string(map->encoding);
      if (map->clock_rate) out += "/" + std::to_string(map->clock_rate);
    } else {
      out += std::string(f);
    }
  }
  return out;
}

/// RTP/AVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF …: formats are payload type numbers.
bool is_rtp(std::string_view proto) { return proto.find("RTP/") != std::string_view::npos; }

bool listed(const Media& m, std::string_view format) {
  return std::find(m.formats.begin(), m.formats.end(), format) != m.formats.end();
}

/// Same encoding, and the same clock rate and channels where both say.
bool same_codec(const RtpMap& a, const RtpMap& b) {
  return ascii::iequals(a.encoding, b.encoding) && (!a.clock_rate || !b.clock_rate || a.clock_rate == b.clock_rate) &&
         a.channels == b.channels;
}

/// The value of an a=rtpmap line for a mapping ("116 AMR-WB/16000").
std::string rtpmap_value(const RtpMap& map) {
  std::string out = std::to_string(map.payload_type) + " " + std::string(map.encoding);
  if (map.clock_rate) {
    out += "/" + std::to_string(map.clock_rate);
    if (map.channels != 1) out += "/" + std::to_string(map.channels);
  }
  return out;
}

/// Writes "name:value" (or a bare "name") as an a= line.
void write_attribute(SdpWriter& w, std::string_view item) {
  const std::size_t colon = item.find(':');
  w.attribute(item.substr(0, colon), colon == std::string_view::npos ? std::string_view() : item.substr(colon + 1));
}

/// The offer's t= values, which the answer must repeat (RFC 3264 §6).
std::pair<std::uint64_t, std::uint64_t> offered_timing(const Session& offer) {
  std::string_view t = offer.timing;
  const std::size_t sp = t.find(' ');
  auto start = ascii::parse_uint(t.substr(0, sp), ~0ull);
  auto stop = sp == std::string_view::npos ? std::nullopt : ascii::parse_uint(t.substr(sp + 1), ~0ull);
  return {start.value_or(0), stop.value_or(0)};
}

const char* amr_format_name(bool octet_align) { return octet_align ? "octet-aligned" : "bandwidth-efficient"; }

/// Says how the answer's AMR parameters differ from the offer's.
std::string amr_difference(const AmrParameters& answer, const AmrParameters& offer) {
  if (answer.octet_align != offer.octet_align)
    return std::string("uses ") + amr_format_name(answer.octet_align) + " mode but the offer's is " +
           amr_format_name(offer.octet_align);
  return "has payload parameters (mode-set, crc, robust-sorting, interleaving) that do not agree with the offer's";
}

/// How an answer's format lines up with the offer's m= line.
struct OfferMatch {
  enum class Kind { Found, NotOffered, AmrMismatch } kind = Kind::NotOffered;
  int offer_payload_type = -1;
};

/// RFC 3264 §6.1: the answer SHOULD reuse the offer's payload type number for
/// a codec, so that number is tried first; a renumbered dynamic payload type
/// matches the offered format with the same codec (and, for AMR, the same
/// payload format parameters).
OfferMatch match_in_offer(const Media& offer, const Media& answer, std::string_view format,
                          const std::optional<RtpMap>& amap) {
  OfferMatch match;
  auto amr_agrees = [&](int offer_pt) {
    if (!amap || !is_amr(amap->encoding)) return true;
    return amr_parameters_agree(parse_amr_fmtp(answer.fmtp(amap->payload_type).value_or("")),
                                parse_amr_fmtp(offer.fmtp(offer_pt).value_or("")));
  };
  if (listed(offer, format)) {
    auto omap = effective_rtpmap(offer, format);
    if (!amap || !omap) {
      // One side gives no mapping for the number, so the number is the match.
      match.kind = OfferMatch::Kind::Found;
      match.offer_payload_type = omap ? omap->payload_type : (amap ? amap->payload_type : -1);
      return match;
    }
    if (same_codec(*amap, *omap)) {
      match.kind = amr_agrees(omap->payload_type) ? OfferMatch::Kind::Found : OfferMatch::Kind::AmrMismatch;
      match.offer_payload_type = omap->payload_type;
      return match;
    }
  }
  if (!amap) return match;
  for (std::string_view f : offer.formats) {
    auto omap = effective_rtpmap(offer, f);
    if (!omap || !same_codec(*amap, *omap)) continue;
    if (amr_agrees(omap->payload_type)) {
      match.kind = OfferMatch::Kind::Found;
      match.offer_payload_type = omap->payload_type;
      return match;
    }
    match.kind = OfferMatch::Kind::AmrMismatch;
    match.offer_payload_type = omap->payload_type;
  }
  return match;
}

}  // namespace

std::string build_offer(const LocalMedia& local, const std::vector<std::string>& extra) {
  std::string formats;
  for (const Codec& c : local.codecs) {
    if (!formats.empty()) formats += ' ';
    formats += std::to_string(c.payload_type);
  }
  SdpWriter w;
  w.origin(local.username, local.session_id, local.session_version, local.address)
      .session_name("-")
      .connection(local.address)
      .timing()
      .media("audio", local.audio_port, "RTP/AVP", formats);
  for (const Codec& c : local.codecs) {
    if (c.payload_type >= 96) {
      std::string map = std::to_string(c.payload_type) + " " + c.encoding + "/" + std::to_string(c.clock_rate);
      if (c.channels != 1) map += "/" + std::to_string(c.channels);
      w.attribute("rtpmap", map);
    }
    if (!c.fmtp.empty()) w.attribute("fmtp", std::to_string(c.payload_type) + " " + c.fmtp);
  }
  for (const std::string& a : extra) write_attribute(w, a);
  if (local.ptime) w.attribute("ptime", std::to_string(local.ptime));
  w.direction(local.direction);
  return w.take();
}

Result<Answer, Negotiation> build_answer(const Session& offer, const LocalMedia& local,
                                         const std::vector<std::string>& extra) {
  Answer answer;
  Negotiation& n = answer.negotiation;
  const auto [start, stop] = offered_timing(offer);
  SdpWriter w;
  w.origin(local.username, local.session_id, local.session_version, local.address)
      .session_name("-")
      .connection(local.address)
      .timing(start, stop);
  bool any_audio = false;
  std::string offered_audio;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const Media& m = offer.media[i];
    MediaAgreement agreement;
    agreement.media = std::string(m.media);
    agreement.offer_direction = m.direction(offer.direction());
    std::vector<const Codec*> chosen;  // the local codec behind each agreed format
    if (m.media == "audio" && m.port != 0 && is_rtp(m.proto)) {
      offered_audio = describe_formats(m);
      // Keep the offer's payload types and order (RFC 3264 §6.1).
      std::uint32_t voice_rate = 0;
      for (std::string_view f : m.formats) {
        auto map = effective_rtpmap(m, f);
        if (!map || is_dtmf(map->encoding)) continue;
        for (const Codec& c : local.codecs) {
          if (is_dtmf(c.encoding) || !compatible(*map, m.fmtp(map->payload_type).value_or(""), c)) continue;
          agreement.codecs.push_back({map->payload_type, std::string(map->encoding), map->clock_rate});
          chosen.push_back(&c);
          if (!voice_rate) voice_rate = c.clock_rate;
          break;
        }
      }
      if (!agreement.codecs.empty()) {
        // telephone-event at the clock rate of the first agreed voice codec.
        for (std::string_view f : m.formats) {
          auto map = effective_rtpmap(m, f);
          if (!map || !is_dtmf(map->encoding) || map->clock_rate != voice_rate) continue;
          for (const Codec& c : local.codecs) {
            if (is_dtmf(c.encoding)) {
              agreement.codecs.push_back({map->payload_type, std::string(map->encoding), map->clock_rate});
              chosen.push_back(&c);
              break;
            }
          }
          break;
        }
      }
    }
    if (agreement.codecs.empty()) {
      // Rejected stream: port 0, the offer's formats echoed (RFC 3264 §6).
      std::string echoed;
      for (std::string_view f : m.formats) echoed += (echoed.empty() ? "" : " ") + std::string(f);
      w.media(m.media, 0, m.proto, echoed);
      agreement.reason = m.port == 0 ? "rejected in the offer" : "no common codec";
    } else {
      any_audio = true;
      agreement.accepted = true;
      agreement.answer_direction = answer_direction_for(agreement.offer_direction, local.direction);
      std::string formats;
      for (const AgreedCodec& c : agreement.codecs) {
        if (!formats.empty()) formats += ' ';
        formats += std::to_string(c.payload_type);
      }
      w.media(m.media, local.audio_port, m.proto, formats);
      for (std::size_t k = 0; k < agreement.codecs.size(); ++k) {
        const int pt = agreement.codecs[k].payload_type;
        // rtpmap for every format, static ones included (RFC 3264 §6.1).
        if (auto map = effective_rtpmap(m, std::to_string(pt))) w.attribute("rtpmap", rtpmap_value(*map));
        const std::string fmtp = answer_fmtp(m.fmtp(pt).value_or(""), *chosen[k]);
        if (!fmtp.empty()) w.attribute("fmtp", std::to_string(pt) + " " + fmtp);
      }
      for (const std::string& a : extra) write_attribute(w, a);
      // ptime says what the answerer wants to receive (RFC 3264 §6.1).
      if (local.ptime) w.attribute("ptime", std::to_string(local.ptime));
      w.direction(agreement.answer_direction);
    }
    n.media.push_back(std::move(agreement));
  }
  if (offer.media.empty()) {
    n.failure = OfferAnswerFailure::NoMedia;
    n.reason = "the offer has no m= line";
    return Unexpected{n};
  }
  if (!any_audio) {
    n.failure = OfferAnswerFailure::NoCommonCodec;
    n.reason = "codec or media mismatch: no offered audio codec is supported (offered " +
               (offered_audio.empty() ? std::string("no audio") : offered_audio) + ")";
    return Unexpected{n};
  }
  answer.sdp = w.take();
  return answer;
}

Negotiation negotiate(const Session& offer, const Session& answer) {
  Negotiation n;
  if (offer.media.size() != answer.media.size()) {
    n.failure = OfferAnswerFailure::MediaCountMismatch;
    n.reason = "the answer has " + std::to_string(answer.media.size()) + " m= lines for the offer's " +
               std::to_string(offer.media.size()) + " (RFC 3264 §6)";
    return n;
  }
  if (offer.media.empty()) {
    n.failure = OfferAnswerFailure::NoMedia;
    n.reason = "the offer has no m= line";
    return n;
  }
  bool any_accepted = false;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const Media& o = offer.media[i];
    const Media& a = answer.media[i];
    MediaAgreement agreement;
    agreement.media = std::string(o.media);
    agreement.offer_direction = o.direction(offer.direction());
    agreement.answer_direction = a.direction(answer.direction());
    const std::string line = "m= line " + std::to_string(i + 1);
    if (o.media != a.media) {
      n.failure = OfferAnswerFailure::MediaCountMismatch;
      n.reason = line + " is " + std::string(o.media) + " in the offer but " + std::string(a.media) + " in the answer";
      return n;
    }
    if (o.port == 0 || a.port == 0) {
      agreement.reason = o.port == 0 ? "rejected in the offer" : "rejected in the answer (port 0)";
      n.media.push_back(std::move(agreement));
      continue;
    }
    // RFC 3264 §6.1: the answer may list formats the offer lacked (nobody can
    // send them yet); it must hold at least one the offer had.
    for (std::string_view f : a.formats) {
      if (!is_rtp(o.proto)) {
        if (listed(o, f)) agreement.codecs.push_back({-1, std::string(f), 0});
        continue;
      }
      auto amap = effective_rtpmap(a, f);
      const OfferMatch match = match_in_offer(o, a, f, amap);
      if (match.kind == OfferMatch::Kind::NotOffered) continue;
      if (match.kind == OfferMatch::Kind::AmrMismatch) {
        const AmrParameters ap = parse_amr_fmtp(a.fmtp(amap->payload_type).value_or(""));
        const AmrParameters op = parse_amr_fmtp(o.fmtp(match.offer_payload_type).value_or(""));
        n.failure = OfferAnswerFailure::NoCommonCodec;
        n.reason = "codec or media mismatch: " + std::string(amap->encoding) + " format " + std::string(f) + " in " +
                   line + " " + amr_difference(ap, op) + " (RFC 4867 §8.3.1)";
        return n;
      }
      if (amap) {
        agreement.codecs.push_back({amap->payload_type, std::string(amap->encoding), amap->clock_rate});
      } else {
        auto omap = effective_rtpmap(o, f);
        agreement.codecs.push_back({match.offer_payload_type, omap ? std::string(omap->encoding) : std::string(f),
                                    omap ? omap->clock_rate : 0});
      }
    }
    if (agreement.codecs.empty()) {
      n.failure = OfferAnswerFailure::AnswerNotInOffer;
      n.reason = "codec or media mismatch: none of the answer's formats in " + line + " (" + describe_formats(a) +
                 ") is one the offer had (" + describe_formats(o) + ")";
      return n;
    }
    bool voice = false;
    for (const AgreedCodec& c : agreement.codecs) voice |= !is_dtmf(c.encoding);
    if (!voice) {
      agreement.reason = "no common codec";
      n.media.push_back(std::move(agreement));
      continue;
    }
    if (!direction_allowed(agreement.offer_direction, agreement.answer_direction)) {
      n.failure = OfferAnswerFailure::DirectionMismatch;
      n.reason = "the answer's " + std::string(direction_name(agreement.answer_direction)) +
                 " does not fit the offer's " + std::string(direction_name(agreement.offer_direction)) + " in " + line +
                 " (RFC 3264 §6.1)";
      return n;
    }
    agreement.accepted = true;
    any_accepted = true;
    n.media.push_back(std::move(agreement));
  }
  if (!any_accepted) {
    n.failure = OfferAnswerFailure::NoCommonCodec;
    n.reason = "codec or media mismatch: every offered stream was rejected or has no common codec";
  }
  return n;
}

}  // namespace imsflow::sdp
