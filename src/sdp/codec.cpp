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
  // RFC 3551 Tables 4 and 5: the static audio and video payload types.
  struct Static {
    int pt;
    const char* name;
    std::uint32_t rate;
    std::uint16_t channels;
  };
  static constexpr Static kStatic[] = {
      {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},     {4, "G723", 8000, 1},    {5, "DVI4", 8000, 1},
      {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},     {8, "PCMA", 8000, 1},    {9, "G722", 8000, 1},
      {10, "L16", 44100, 2},  {11, "L16", 44100, 1},   {12, "QCELP", 8000, 1},  {13, "CN", 8000, 1},
      {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},   {16, "DVI4", 11025, 1},  {17, "DVI4", 22050, 1},
      {18, "G729", 8000, 1},  {25, "CelB", 90000, 1},  {26, "JPEG", 90000, 1},  {28, "nv", 90000, 1},
      {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},   {33, "MP2T", 90000, 1},  {34, "H263", 90000, 1}};
  for (const Static& s : kStatic) {
    if (s.pt == n) return RtpMap{n, s.name, s.rate, s.channels};
  }
  return std::nullopt;
}

namespace {

/// Calls f(name, value, item) for every "name=value" item of an fmtp value.
/// A value in double quotes is given without them: RFC 4867 §8.2's grammar
/// has none, but UEs in the field write mode-set="0,2,4,7" and every
/// receiver reads the numbers inside, so the quotes carry no meaning here.
/// A ';' inside quotes does not end the item.
template <class F>
void for_each_parameter(std::string_view fmtp, F&& f) {
  while (!fmtp.empty()) {
    std::size_t semi = 0;
    for (bool quoted = false; semi < fmtp.size() && (quoted || fmtp[semi] != ';'); ++semi)
      if (fmtp[semi] == '"') quoted = !quoted;
    if (semi == fmtp.size()) semi = std::string_view::npos;
    std::string_view item = ascii::trim_lws(fmtp.substr(0, semi));
    fmtp = semi == std::string_view::npos ? std::string_view() : fmtp.substr(semi + 1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    std::string_view name = ascii::trim_lws(item.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view() : ascii::trim_lws(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = ascii::trim_lws(value.substr(1, value.size() - 2));
    f(name, value, item);
  }
}

/// A 0/1 flag parameter; anything else marks the set invalid.
bool flag(std::string_view value, AmrParameters& p) {
  if (value != "0" && value != "1") p.valid = false;
  return value == "1";
}

std::string mode_list(std::uint16_t set) {
  std::string out;
  for (unsigned mode = 0; mode < 16; ++mode) {
    if (!(set & (1u << mode))) continue;
    if (!out.empty()) out += ',';
    out += std::to_string(mode);
  }
  return out;
}

}  // namespace

AmrParameters parse_amr_fmtp(std::string_view fmtp) {
  AmrParameters p;
  bool explicit_octet_align = false;
  for_each_parameter(fmtp, [&](std::string_view name, std::string_view value, std::string_view) {
    if (ascii::iequals(name, "octet-align")) {
      explicit_octet_align = flag(value, p);
    } else if (ascii::iequals(name, "crc")) {
      p.crc = flag(value, p);
    } else if (ascii::iequals(name, "robust-sorting")) {
      p.robust_sorting = flag(value, p);
    } else if (ascii::iequals(name, "interleaving")) {
      auto n = ascii::parse_uint(value, 0xFFFFFFFFull);
      if (!n || *n == 0) p.valid = false;
      else p.interleaving = static_cast<std::uint32_t>(*n);
    } else if (ascii::iequals(name, "mode-set")) {
      std::uint16_t set = 0;
      if (value.empty()) p.valid = false;
      while (!value.empty()) {
        const std::size_t comma = value.find(',');
        // Bounded by hand: ascii::parse_uint lets a single digit above a
        // maximum under 9 through.
        auto mode = ascii::parse_uint(ascii::trim_lws(value.substr(0, comma)), 99);
        if (!mode || *mode > 8) {
          p.valid = false;
          break;
        }
        set = static_cast<std::uint16_t>(set | (1u << *mode));
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
      }
      p.mode_set = set;
    }
  });
  // RFC 4867 §8.1: frame CRCs, robust sorting and interleaving exist only in
  // the octet-aligned format, so each of them selects it.
  p.octet_align = explicit_octet_align || p.crc || p.robust_sorting || p.interleaving != 0;
  return p;
}

bool is_amr(std::string_view encoding) { return ascii::iequals(encoding, "AMR") || ascii::iequals(encoding, "AMR-WB"); }

std::uint16_t amr_all_modes(std::string_view encoding) {
  return ascii::iequals(encoding, "AMR-WB") ? 0x1FF : 0xFF;
}

bool amr_parameters_agree(const AmrParameters& a, const AmrParameters& b) {
  if (!a.valid || !b.valid) return false;
  if (a.octet_align != b.octet_align || a.crc != b.crc || a.robust_sorting != b.robust_sorting ||
      a.interleaving != b.interleaving)
    return false;
  return !(a.mode_set && b.mode_set && !(a.mode_set & b.mode_set));
}

bool compatible(const RtpMap& offered, std::string_view offered_fmtp, const Codec& local) {
  if (!ascii::iequals(offered.encoding, local.encoding)) return false;
  if (offered.clock_rate != 0 && offered.clock_rate != local.clock_rate) return false;
  if (offered.channels != local.channels) return false;
  if (is_amr(local.encoding)) {
    const AmrParameters theirs = parse_amr_fmtp(offered_fmtp);
    const AmrParameters ours = parse_amr_fmtp(local.fmtp);
    // A mode the codec does not have (8 for narrowband AMR) is malformed.
    if (theirs.mode_set & ~amr_all_modes(local.encoding)) return false;
    return amr_parameters_agree(theirs, ours);
  }
  return true;
}

std::string answer_fmtp(std::string_view offered_fmtp, const Codec& local) {
  if (!is_amr(local.encoding)) return std::string(offered_fmtp);
  const std::uint16_t theirs = parse_amr_fmtp(offered_fmtp).mode_set;
  const std::uint16_t ours = parse_amr_fmtp(local.fmtp).mode_set;
  // Both sides must keep to the modes each allows (RFC 4867 §8.1 mode-set).
  const std::uint16_t both = theirs && ours ? static_cast<std::uint16_t>(theirs & ours) : (theirs | ours);
  std::string out;
  bool placed = false;
  for_each_parameter(offered_fmtp, [&](std::string_view name, std::string_view, std::string_view item) {
    if (!out.empty()) out += ';';
    if (ascii::iequals(name, "mode-set")) {
      out += "mode-set=" + mode_list(both);
      placed = true;
    } else {
      out += std::string(item);
    }
  });
  if (!placed && both) out = "mode-set=" + mode_list(both) + (out.empty() ? "" : ";") + out;
  return out;
}

}  // namespace imsflow::sdp
