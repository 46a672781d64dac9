// Audio codecs the VoLTE ladder negotiates (AMR-WB, AMR, telephone-event,
// PCMU, PCMA …) and the rules that say when an offered format matches a local
// one (RFC 3264 §6.1, RFC 4867 §8.3 for AMR's octet-align and mode-set).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sdp/session.hpp"

namespace imsflow::sdp {

struct Codec {
  std::string encoding;          // "AMR-WB", "telephone-event", "PCMU" …
  std::uint32_t clock_rate = 8000;
  std::uint16_t channels = 1;
  int payload_type = -1;         // preferred PT when offering
  std::string fmtp;              // parameters offered or required

  static Codec amr_wb(int pt = 116, std::string fmtp = "mode-change-capability=2;max-red=0");
  static Codec amr(int pt = 118, std::string fmtp = "mode-change-capability=2;max-red=0");
  static Codec telephone_event(int pt = 111, std::uint32_t clock_rate = 16000);
  static Codec pcmu() { return Codec{"PCMU", 8000, 1, 0, {}}; }
  static Codec pcma() { return Codec{"PCMA", 8000, 1, 8, {}}; }
};

/// The rtpmap of a format in an m= line: its a=rtpmap, or the RFC 3551 static
/// assignment (0 PCMU, 8 PCMA, 9 G722, 18 G729 …) when the line has none.
std::optional<RtpMap> effective_rtpmap(const Media& media, std::string_view format);

/// AMR / AMR-WB fmtp parameters that decide compatibility (RFC 4867 §8.1).
struct AmrParameters {
  /// The payload format in use: true for octet-aligned, which octet-align=1
  /// asks for and crc=1, robust-sorting=1 or interleaving imply.
  bool octet_align = false;
  std::uint16_t mode_set = 0;  // bit n set: mode n allowed; 0 = every mode
  bool crc = false;
  bool robust_sorting = false;
  std::uint32_t interleaving = 0;  // 0 when absent
  bool valid = true;               // false when a value was malformed
};
AmrParameters parse_amr_fmtp(std::string_view fmtp);

bool is_amr(std::string_view encoding);
/// The modes a codec's mode-set may name: 0-7 for AMR, 0-8 for AMR-WB.
std::uint16_t amr_all_modes(std::string_view encoding);
/// True when two AMR parameter sets describe the same payload format and
/// leave at least one mode to use (RFC 4867 §8.3.1): octet-align, crc,
/// robust-sorting and interleaving must agree, and restricted mode-sets must
/// overlap.
bool amr_parameters_agree(const AmrParameters& a, const AmrParameters& b);
/// True when a format offered as (map, fmtp) can be answered with `local`.
bool compatible(const RtpMap& offered, std::string_view offered_fmtp, const Codec& local);
/// The fmtp line value an answer carries for an offered format accepted with
/// `local`: the offer's parameters, with an AMR mode-set narrowed to the
/// modes both sides allow. Other codecs get the offer's text unchanged.
std::string answer_fmtp(std::string_view offered_fmtp, const Codec& local);

}  // namespace imsflow::sdp
