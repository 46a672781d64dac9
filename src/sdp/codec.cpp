#include "sdp/codec.hpp"

#include "util/ascii.hpp"

namespace imsflow::sdp {

Codec Codec::amr_wb(int pt, std::string fmtp) { return Codec{"AMR-WB", 16000, 1, pt, std::move(fmtp)}; }
Codec Codec::amr(int pt, std::string fmtp) { return Codec{"AMR", 8000, 1, pt, std::move(fmtp)}; }
Codec Codec::telephone_event(int pt, std::uint32_t clock_rate) {
  return Codec{"telephone-event", clock_rate, 1, pt, "0-15"};
}

std::optional<RtpMap> effective_rtpmap(const Media& media, std::string_view format) {
  auto pt = ascii::parse_uint(format, 127);
  if (!pt) return std::nullopt;
  const int n = static_cast<int>(*pt);
  if (auto map = media.rtpmap(n)) return map;
  // RFC 3551 Table 4 static audio payload types.
  struct Static {
    int pt;
    const char* name;
    std::uint32_t rate;
  };
  static constexpr Static kStatic[] = {{0, "PCMU", 8000},  {3, "GSM", 8000},    {4, "G723", 8000}, {8, "PCMA", 8000},
                                       {9, "G722", 8000},  {13, "CN", 8000},     {18, "G729", 8000}};
  for (const Static& s : kStatic) {
    if (s.pt == n) return RtpMap{n, s.name, s.rate, 1};
  }
  return std::nullopt;
}

AmrParameters parse_amr_fmtp(std::string_view fmtp) {
  AmrParameters p;
  while (!fmtp.empty()) {
    const std::size_t semi = fmtp.find(';');
    std::string_view item = ascii::trim_lws(fmtp.substr(0, semi));
    fmtp = semi == std::string_view::npos ? std::string_view() : fmtp.substr(semi + 1);
    const std::size_t eq = item.find('=');
    std::string_view name = ascii::trim_lws(item.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view() : ascii::trim_lws(item.substr(eq + 1));
    if (ascii::iequals(name, "octet-align")) {
      p.octet_align = value == "1";
      if (value != "0" && value != "1") p.valid = false;
    } else if (ascii::iequals(name, "mode-set")) {
      std::uint16_t set = 0;
      while (!value.empty()) {
        const std::size_t comma = value.find(',');
        auto mode = ascii::parse_uint(ascii::trim_lws(value.substr(0, comma)), 8);
        if (!mode) {
          p.valid = false;
          break;
        }
        set = static_cast<std::uint16_t>(set | (1u << *mode));
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
      }
      p.mode_set = set;
    }
  }
  return p;
}

bool is_amr(std::string_view encoding) { return ascii::iequals(encoding, "AMR") || ascii::iequals(encoding, "AMR-WB"); }

bool compatible(const RtpMap& offered, std::string_view offered_fmtp, const Codec& local) {
  if (!ascii::iequals(offered.encoding, local.encoding)) return false;
  if (offered.clock_rate != 0 && offered.clock_rate != local.clock_rate) return false;
  if (offered.channels != local.channels) return false;
  if (is_amr(local.encoding)) {
    const AmrParameters theirs = parse_amr_fmtp(offered_fmtp);
    const AmrParameters ours = parse_amr_fmtp(local.fmtp);
    if (!theirs.valid) return false;
    // RFC 4867 §8.3.1: octet-align must agree; a restricted mode-set must overlap.
    if (theirs.octet_align != ours.octet_align) return false;
    if (theirs.mode_set && ours.mode_set && !(theirs.mode_set & ours.mode_set)) return false;
  }
  return true;
}

}  // namespace imsflow::sdp
