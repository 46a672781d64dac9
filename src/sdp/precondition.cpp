#include "sdp/precondition.hpp"

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

std::optional<StatusType> status_of(std::string_view w) {
  if (w == "e2e") return StatusType::E2E;
  if (w == "local") return StatusType::Local;
  if (w == "remote") return StatusType::Remote;
  return std::nullopt;
}

std::optional<QosDirection> direction_of(std::string_view w) {
  if (w == "none") return QosDirection::None;
  if (w == "send") return QosDirection::Send;
  if (w == "recv") return QosDirection::Recv;
  if (w == "sendrecv") return QosDirection::SendRecv;
  return std::nullopt;
}

Strength strength_of(std::string_view w) {
  if (w == "mandatory") return Strength::Mandatory;
  if (w == "optional") return Strength::Optional;
  if (w == "none") return Strength::None;
  if (w == "failure") return Strength::Failure;
  return Strength::Unknown;
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
  auto st = status_of(w[2]);
  auto dir = direction_of(w[3]);
  if (!st || !dir) return std::nullopt;
  return DesiredStatus{w[0], strength_of(w[1]), *st, *dir};
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
      if (c.type == d.type && c.status == d.status) have = c.direction;
    }
    if (!covers(have, d.direction)) return false;
  }
  return true;
}

void QosTable::update_from_peer(const MediaPreconditions& peer) {
  for (const CurrentStatus& c : peer.current) {
    if (c.type != "qos") continue;
    // The peer's local segment is our remote one; its directions are mirrored.
    if (c.status == StatusType::Local) remote.current = mirrored(c.direction);
    // What the peer knows of our segment only ever adds to what we know.
    if (c.status == StatusType::Remote)
      local.current = static_cast<QosDirection>(static_cast<unsigned>(local.current) |
                                                static_cast<unsigned>(mirrored(c.direction)));
  }
  for (const DesiredStatus& d : peer.desired) {
    if (d.type != "qos") continue;
    Segment& seg = d.status == StatusType::Local ? remote : local;
    if (d.status == StatusType::E2E) continue;
    // RFC 3312 §5.1.1: the stronger of the two strengths wins.
    if (d.strength == Strength::Mandatory || d.strength == Strength::Failure) seg.strength = d.strength;
    seg.desired = static_cast<QosDirection>(static_cast<unsigned>(seg.desired) |
                                            static_cast<unsigned>(mirrored(d.direction)));
  }
  for (const ConfirmStatus& c : peer.confirm) {
    if (c.type == "qos") confirm_requested_by_peer = true;
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

}  // namespace imsflow::sdp
