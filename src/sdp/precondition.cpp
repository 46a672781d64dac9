#include "sdp/precondition.hpp"

#include "util/ascii.hpp"

namespace imsflow::sdp {

namespace {

std::vector<std::string_view> words(std::string_view v) {
  std::vector<std::string_view> out;
  while (!v.empty()) {
    const std::size_t start = v.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    v = v.substr(start);
    const std::size_t end = v.find_first_of(" \t");
    out.push_back(v.substr(0, end));
    v = end == std::string_view::npos ? std::string_view() : v.substr(end);
  }
  return out;
}

// The tags are ABNF literals (RFC 3312 §5), so they match without regard to case.
std::optional<StatusType> status_of(std::string_view w) {
  if (ascii::iequals(w, "e2e")) return StatusType::E2E;
  if (ascii::iequals(w, "local")) return StatusType::Local;
  if (ascii::iequals(w, "remote")) return StatusType::Remote;
  return std::nullopt;
}

std::optional<QosDirection> direction_of(std::string_view w) {
  if (ascii::iequals(w, "none")) return QosDirection::None;
  if (ascii::iequals(w, "send")) return QosDirection::Send;
  if (ascii::iequals(w, "recv")) return QosDirection::Recv;
  if (ascii::iequals(w, "sendrecv")) return QosDirection::SendRecv;
  return std::nullopt;
}

/// The five strength tags of RFC 3312 §5; any other word is malformed.
std::optional<Strength> strength_of(std::string_view w) {
  if (ascii::iequals(w, "mandatory")) return Strength::Mandatory;
  if (ascii::iequals(w, "optional")) return Strength::Optional;
  if (ascii::iequals(w, "none")) return Strength::None;
  if (ascii::iequals(w, "failure")) return Strength::Failure;
  if (ascii::iequals(w, "unknown")) return Strength::Unknown;
  return std::nullopt;
}

bool is_qos(std::string_view type) { return ascii::iequals(type, "qos"); }

/// The strength a table row takes when the peer states one: an answer may
/// upgrade a strength but never downgrade it (none < optional < mandatory),
/// "failure" sticks, and "unknown" (the peer does not know the type) says
/// nothing about the strength.
Strength stronger(Strength ours, Strength theirs) {
  if (ours == Strength::Failure || theirs == Strength::Failure) return Strength::Failure;
  if (theirs == Strength::Unknown) return ours;
  if (ours == Strength::Unknown) return theirs;
  auto rank = [](Strength s) { return s == Strength::Mandatory ? 2 : s == Strength::Optional ? 1 : 0; };
  return rank(theirs) > rank(ours) ? theirs : ours;
}

/// Directions seen from the other end: its send is our recv.
QosDirection mirrored(QosDirection d) {
  switch (d) {
    case QosDirection::Send: return QosDirection::Recv;
    case QosDirection::Recv: return QosDirection::Send;
    default: return d;
  }
}

}  // namespace

std::string_view status_type_name(StatusType t) {
  switch (t) {
    case StatusType::E2E: return "e2e";
    case StatusType::Local: return "local";
    case StatusType::Remote: return "remote";
  }
  return "e2e";
}

std::string_view strength_name(Strength s) {
  switch (s) {
    case Strength::Mandatory: return "mandatory";
    case Strength::Optional: return "optional";
    case Strength::None: return "none";
    case Strength::Failure: return "failure";
    case Strength::Unknown: return "unknown";
  }
  return "unknown";
}

std::string_view qos_direction_name(QosDirection d) {
  switch (d) {
    case QosDirection::None: return "none";
    case QosDirection::Send: return "send";
    case QosDirection::Recv: return "recv";
    case QosDirection::SendRecv: return "sendrecv";
  }
  return "none";
}

std::optional<CurrentStatus> parse_curr(std::string_view value) {
  auto w = words(value);
  if (w.size() != 3) return std::nullopt;
  auto st = status_of(w[1]);
  auto dir = direction_of(w[2]);
  if (!st || !dir) return std::nullopt;
  return CurrentStatus{w[0], *st, *dir};
}

std::optional<DesiredStatus> parse_des(std::string_view value) {
  auto w = words(value);
  if (w.size() != 4) return std::nullopt;
  auto strength = strength_of(w[1]);
  auto st = status_of(w[2]);
  auto dir = direction_of(w[3]);
  if (!strength || !st || !dir) return std::nullopt;
  return DesiredStatus{w[0], *strength, *st, *dir};
}

std::optional<ConfirmStatus> parse_conf(std::string_view value) {
  auto w = words(value);
  if (w.size() != 3) return std::nullopt;
  auto st = status_of(w[1]);
  auto dir = direction_of(w[2]);
  if (!st || !dir) return std::nullopt;
  return ConfirmStatus{w[0], *st, *dir};
}

MediaPreconditions read_preconditions(const Media& media) {
  MediaPreconditions p;
  for (const Attribute& a : media.attributes) {
    if (a.name == "curr") {
      if (auto c = parse_curr(a.value)) p.current.push_back(*c);
      else if (p.error.empty()) p.error = "a=curr:" + std::string(a.value) + " is not '<type> <status-type> <direction>'";
    } else if (a.name == "des") {
      if (auto d = parse_des(a.value)) p.desired.push_back(*d);
      else if (p.error.empty()) p.error = "a=des:" + std::string(a.value) + " is not '<type> <strength> <status-type> <direction>'";
    } else if (a.name == "conf") {
      if (auto c = parse_conf(a.value)) p.confirm.push_back(*c);
      else if (p.error.empty()) p.error = "a=conf:" + std::string(a.value) + " is not '<type> <status-type> <direction>'";
    }
  }
  return p;
}

bool MediaPreconditions::failed() const {
  for (const DesiredStatus& d : desired) {
    if (d.strength == Strength::Failure) return true;
  }
  return false;
}

bool MediaPreconditions::met() const {
  if (failed()) return false;
  for (const DesiredStatus& d : desired) {
    if (d.strength != Strength::Mandatory) continue;
    QosDirection have = QosDirection::None;
    for (const CurrentStatus& c : current) {
      if (ascii::iequals(c.type, d.type) && c.status == d.status) have = c.direction;
    }
    if (!covers(have, d.direction)) return false;
  }
  return true;
}

void QosTable::update_from_peer(const MediaPreconditions& peer) {
  for (const CurrentStatus& c : peer.current) {
    if (!is_qos(c.type)) continue;
    // The peer's local segment is our remote one; its directions are mirrored.
    if (c.status == StatusType::Local) remote.current = mirrored(c.direction);
    // What the peer knows of our segment only ever adds to what we know.
    if (c.status == StatusType::Remote)
      local.current = static_cast<QosDirection>(static_cast<unsigned>(local.current) |
                                                static_cast<unsigned>(mirrored(c.direction)));
  }
  for (const DesiredStatus& d : peer.desired) {
    if (!is_qos(d.type) || d.status == StatusType::E2E) continue;
    Segment& seg = d.status == StatusType::Local ? remote : local;
    seg.strength = stronger(seg.strength, d.strength);
    seg.desired = static_cast<QosDirection>(static_cast<unsigned>(seg.desired) |
                                            static_cast<unsigned>(mirrored(d.direction)));
  }
  for (const ConfirmStatus& c : peer.confirm) {
    if (is_qos(c.type)) confirm_requested_by_peer = true;
  }
}

bool QosTable::met() const {
  for (const Segment* s : {&local, &remote}) {
    if (s->strength == Strength::Failure) return false;
    if (s->strength == Strength::Mandatory && !covers(s->current, s->desired)) return false;
  }
  return true;
}

std::vector<std::string> QosTable::attributes(bool ask_confirm) const {
  std::vector<std::string> out;
  out.push_back("curr:qos local " + std::string(qos_direction_name(local.current)));
  out.push_back("curr:qos remote " + std::string(qos_direction_name(remote.current)));
  out.push_back("des:qos " + std::string(strength_name(local.strength)) + " local " +
                std::string(qos_direction_name(local.desired)));
  out.push_back("des:qos " + std::string(strength_name(remote.strength)) + " remote " +
                std::string(qos_direction_name(remote.desired)));
  if (ask_confirm) out.push_back("conf:qos remote " + std::string(qos_direction_name(remote.desired)));
  return out;
}

std::string rewrite_preconditions(std::string_view sdp, const std::vector<std::string>& attributes) {
  std::string out;
  out.reserve(sdp.size() + 64);
  bool in_audio = false;     // inside the first audio section
  bool audio_done = false;   // its attributes were written
  auto write_attributes = [&] {
    for (const std::string& a : attributes) out.append("a=").append(a).append("\r\n");
    audio_done = true;
  };
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t eol = sdp.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? sdp.size() : eol + 1;
    std::string_view line = sdp.substr(pos, next - pos);
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
    pos = next;
    if (content.starts_with("m=")) {
      if (in_audio && !audio_done) write_attributes();
      in_audio = !audio_done && content.starts_with("m=audio");
    }
    if (in_audio && (content.starts_with("a=curr:") || content.starts_with("a=des:") || content.starts_with("a=conf:")))
      continue;
    if (content.starts_with("o=")) {
      // o=<username> <sess-id> <sess-version> …: raise the version.
      std::size_t f1 = content.find(' ');
      std::size_t f2 = f1 == std::string_view::npos ? f1 : content.find(' ', f1 + 1);
      std::size_t f3 = f2 == std::string_view::npos ? f2 : content.find(' ', f2 + 1);
      if (f3 != std::string_view::npos) {
        auto v = ascii::parse_uint(content.substr(f2 + 1, f3 - f2 - 1), ~0ull - 1);
        if (v) {
          out.append(content.substr(0, f2 + 1)).append(std::to_string(*v + 1)).append(content.substr(f3));
          out.append("\r\n");
          continue;
        }
      }
    }
    out.append(content).append("\r\n");
  }
  if (in_audio && !audio_done) write_attributes();
  return out;
}

}  // namespace imsflow::sdp
