#include "sdp/offer_answer.hpp"

#include <algorithm>

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
      out += std::string(map->encoding) + "/" + std::to_string(map->clock_rate);
    } else {
      out += std::string(f);
    }
  }
  return out;
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
  for (const std::string& a : extra) {
    const std::size_t colon = a.find(':');
    w.attribute(std::string_view(a).substr(0, colon),
                colon == std::string::npos ? std::string_view() : std::string_view(a).substr(colon + 1));
  }
  w.attribute("ptime", std::to_string(local.ptime));
  w.direction(local.direction);
  return w.take();
}

Result<Answer, Negotiation> build_answer(const Session& offer, const LocalMedia& local,
                                         const std::vector<std::string>& extra) {
  Answer answer;
  Negotiation& n = answer.negotiation;
  SdpWriter w;
  w.origin(local.username, local.session_id, local.session_version, local.address)
      .session_name("-")
      .connection(local.address)
      .timing();
  bool any_audio = false;
  std::string offered_audio;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const Media& m = offer.media[i];
    MediaAgreement agreement;
    agreement.media = std::string(m.media);
    agreement.offer_direction = m.direction(offer.direction());
    std::string formats;
    std::vector<std::string> attrs;
    if (m.media == "audio" && m.port != 0) {
      offered_audio = describe_formats(m);
      // Keep the offer's payload types and order (RFC 3264 §6.1).
      std::uint32_t voice_rate = 0;
      for (std::string_view f : m.formats) {
        auto map = effective_rtpmap(m, f);
        if (!map || is_dtmf(map->encoding)) continue;
        for (const Codec& c : local.codecs) {
          if (is_dtmf(c.encoding) || !compatible(*map, m.fmtp(map->payload_type).value_or(""), c)) continue;
          agreement.codecs.push_back({map->payload_type, std::string(map->encoding), map->clock_rate});
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
              break;
            }
          }
          break;
        }
      }
      for (const AgreedCodec& c : agreement.codecs) {
        if (!formats.empty()) formats += ' ';
        formats += std::to_string(c.payload_type);
        if (auto map = m.rtpmap(c.payload_type)) {
          std::string line = std::to_string(c.payload_type) + " " + std::string(map->encoding) + "/" +
                             std::to_string(map->clock_rate);
          if (map->channels != 1) line += "/" + std::to_string(map->channels);
          attrs.push_back("rtpmap:" + line);
        }
        if (auto fmtp = m.fmtp(c.payload_type)) attrs.push_back("fmtp:" + std::to_string(c.payload_type) + " " + std::string(*fmtp));
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
      w.media(m.media, local.audio_port, m.proto, formats);
      for (const std::string& a : attrs) {
        const std::size_t colon = a.find(':');
        w.attribute(std::string_view(a).substr(0, colon), std::string_view(a).substr(colon + 1));
      }
      for (const std::string& a : extra) {
        const std::size_t colon = a.find(':');
        w.attribute(std::string_view(a).substr(0, colon),
                    colon == std::string::npos ? std::string_view() : std::string_view(a).substr(colon + 1));
      }
      if (auto ptime = m.ptime()) w.attribute("ptime", std::to_string(*ptime));
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
    if (o.media != a.media) {
      n.failure = OfferAnswerFailure::MediaCountMismatch;
      n.reason = "m= line " + std::to_string(i + 1) + " is " + std::string(o.media) + " in the offer but " +
                 std::string(a.media) + " in the answer";
      return n;
    }
    if (o.port == 0 || a.port == 0) {
      agreement.reason = o.port == 0 ? "rejected in the offer" : "rejected in the answer (port 0)";
      n.media.push_back(std::move(agreement));
      continue;
    }
    for (std::string_view f : a.formats) {
      auto amap = effective_rtpmap(a, f);
      auto omap = effective_rtpmap(o, f);
      const bool in_offer = std::find(o.formats.begin(), o.formats.end(), f) != o.formats.end();
      if (!in_offer || !amap || !omap || !ascii::iequals(amap->encoding, omap->encoding) ||
          (amap->clock_rate && omap->clock_rate && amap->clock_rate != omap->clock_rate)) {
        n.failure = OfferAnswerFailure::AnswerNotInOffer;
        n.reason = "codec or media mismatch: the answer's format " + std::string(f) + " in m= line " +
                   std::to_string(i + 1) + " is not one the offer had";
        return n;
      }
      if (is_amr(amap->encoding)) {
        const AmrParameters ap = parse_amr_fmtp(a.fmtp(amap->payload_type).value_or(""));
        const AmrParameters op = parse_amr_fmtp(o.fmtp(omap->payload_type).value_or(""));
        if (ap.octet_align != op.octet_align) {
          n.failure = OfferAnswerFailure::NoCommonCodec;
          n.reason = "codec or media mismatch: " + std::string(amap->encoding) +
                     " octet-align differs between offer and answer (RFC 4867 §8.3.1)";
          return n;
        }
      }
      agreement.codecs.push_back({amap->payload_type, std::string(amap->encoding), amap->clock_rate});
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
      n.reason = "the answer's " + std::string(direction_name(agreement.answer_direction)) + " does not fit the offer's " +
                 std::string(direction_name(agreement.offer_direction)) + " (RFC 3264 §6.1)";
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
