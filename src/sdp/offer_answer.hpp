// The offer/answer model (RFC 3264): build an offer from local media, answer
// an offer with what both sides support, and judge an offer against its answer.
// A failure names the seed's cause: "codec or media mismatch".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sdp/codec.hpp"
#include "sdp/session.hpp"
#include "util/result.hpp"

namespace imsflow::sdp {

/// What a UA can do with audio: codecs in preference order, where it receives
/// RTP, and whether it takes part in QoS preconditions (RFC 3312).
struct LocalMedia {
  std::string address = "127.0.0.1";
  std::uint16_t audio_port = 49152;
  std::vector<Codec> codecs = {Codec::amr_wb(), Codec::amr(), Codec::telephone_event()};
  Direction direction = Direction::SendRecv;
  std::uint32_t ptime = 20;
  std::string username = "imsflow";
  std::uint64_t session_id = 1;
  std::uint64_t session_version = 1;
};

struct AgreedCodec {
  int payload_type = -1;
  std::string encoding;
  std::uint32_t clock_rate = 0;
};

struct MediaAgreement {
  std::string media;            // "audio"
  bool accepted = false;        // port != 0 on both sides and a common codec
  std::vector<AgreedCodec> codecs;  // in the answer's order, the answer's payload types
  Direction offer_direction = Direction::SendRecv;
  Direction answer_direction = Direction::SendRecv;
  std::string reason;           // why not accepted
};

enum class OfferAnswerFailure : std::uint8_t {
  None,
  NoCommonCodec,      // the seed's "codec or media mismatch"
  MediaCountMismatch, // the answer's m= lines do not line up with the offer's
  AnswerNotInOffer,   // the answer uses a format the offer did not have
  DirectionMismatch,  // e.g. answer sendonly to an offer sendonly
  NoMedia,
};

struct Negotiation {
  OfferAnswerFailure failure = OfferAnswerFailure::None;
  std::string reason;  // one sentence when failed
  std::vector<MediaAgreement> media;
  bool ok() const { return failure == OfferAnswerFailure::None; }
};

/// An SDP offer for one audio stream with every local codec.
std::string build_offer(const LocalMedia& local, const std::vector<std::string>& extra_media_attributes = {});

struct Answer {
  std::string sdp;
  Negotiation negotiation;
};

/// RFC 3264 §6: answers each offered m= line, keeping the offer's payload
/// types, accepting audio with the local codecs that match (in the offer's
/// order) and rejecting the rest with port 0. The answer repeats the offer's
/// t= line, mirrors the direction (§6.1), states the local ptime, and narrows
/// an AMR mode-set to the modes both sides allow (RFC 4867 §8.3.1). Fails with
/// NoCommonCodec when no audio stream can be accepted (the caller sends 488).
Result<Answer, Negotiation> build_answer(const Session& offer, const LocalMedia& local,
                                         const std::vector<std::string>& extra_media_attributes = {});

/// Judges an offer/answer pair: what was agreed per m= line, or why nothing was.
/// An answer may list formats the offer lacked (RFC 3264 §6.1); they are left
/// out of the agreement, and only an accepted m= line with no offered format
/// at all fails (AnswerNotInOffer). A renumbered dynamic payload type matches
/// the offered one with the same codec. AMR formats whose octet-align, crc,
/// robust-sorting, interleaving or mode-set disagree fail with NoCommonCodec.
Negotiation negotiate(const Session& offer, const Session& answer);

}  // namespace imsflow::sdp
