// QoS preconditions (RFC 3312, RFC 4032): the a=curr, a=des and a=conf lines,
// and the status table a UA keeps to decide when its preconditions are met
// and alerting may start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/session.hpp"

namespace imsflow::sdp {

enum class StatusType : std::uint8_t { E2E, Local, Remote };
enum class Strength : std::uint8_t { Mandatory, Optional, None, Failure, Unknown };
/// Which directions have resources: a bit set of send (1) and recv (2).
enum class QosDirection : std::uint8_t { None = 0, Send = 1, Recv = 2, SendRecv = 3 };

std::string_view status_type_name(StatusType t);
std::string_view strength_name(Strength s);
std::string_view qos_direction_name(QosDirection d);
/// True when `have` covers every direction in `want`.
constexpr bool covers(QosDirection have, QosDirection want) {
  return (static_cast<unsigned>(have) & static_cast<unsigned>(want)) == static_cast<unsigned>(want);
}

struct CurrentStatus {  // a=curr:qos local sendrecv
  std::string_view type;
  StatusType status = StatusType::E2E;
  QosDirection direction = QosDirection::None;
};
struct DesiredStatus {  // a=des:qos mandatory local sendrecv
  std::string_view type;
  Strength strength = Strength::None;
  StatusType status = StatusType::E2E;
  QosDirection direction = QosDirection::None;
};
struct ConfirmStatus {  // a=conf:qos remote sendrecv
  std::string_view type;
  StatusType status = StatusType::E2E;
  QosDirection direction = QosDirection::None;
};

/// Parse the value after "a=curr:", "a=des:", "a=conf:" (RFC 3312 §5). The
/// returned type views point into `value`. Nullopt when a field is missing,
/// extra, or not one of the tags the grammar lists.
std::optional<CurrentStatus> parse_curr(std::string_view value);
std::optional<DesiredStatus> parse_des(std::string_view value);
std::optional<ConfirmStatus> parse_conf(std::string_view value);

/// The precondition lines of one m= section, as the writer of that SDP sees them.
struct MediaPreconditions {
  std::vector<CurrentStatus> current;
  std::vector<DesiredStatus> desired;
  std::vector<ConfirmStatus> confirm;
  std::string error;  // the first malformed line, if any

  bool empty() const { return current.empty() && desired.empty() && confirm.empty(); }
  /// Every mandatory desired status is covered by the matching current status
  /// (RFC 3312 §5). A "failure" strength means they can never be met.
  bool met() const;
  bool failed() const;
};
MediaPreconditions read_preconditions(const Media& media);

/// RFC 3312 §5.1 segmented status table, from one UA's point of view: its own
/// (local) access segment and the peer's (remote) one, for precondition type qos.
class QosTable {
 public:
  struct Segment {
    QosDirection current = QosDirection::None;
    QosDirection desired = QosDirection::SendRecv;
    Strength strength = Strength::Mandatory;
  };

  Segment local;
  Segment remote;
  bool confirm_requested_by_peer = false;  // the peer's SDP asked for a=conf

  /// Reads the peer's SDP (RFC 3312 §5.1): its "local" is our remote segment
  /// and vice versa, and its send is our recv. The peer's current status of
  /// its own segment replaces ours; what it reports of our segment only adds.
  /// A stated strength upgrades ours (none < optional < mandatory), never
  /// downgrades it; "failure" sticks; "unknown" changes nothing. Only the
  /// "qos" type and the local/remote status types are read.
  void update_from_peer(const MediaPreconditions& peer);
  bool met() const;
  /// The curr/des lines for our next SDP, as "curr:qos local sendrecv" items
  /// ready for SdpWriter::attribute or build_offer's extra attributes.
  std::vector<std::string> attributes(bool ask_confirm = false) const;
};

/// `sdp` with the precondition lines (a=curr/des/conf) of its first audio
/// section replaced by `attributes` ("curr:qos local sendrecv" items, as
/// QosTable::attributes gives them) and the o= version raised by one, as a
/// new offer or answer in the same session must (RFC 3264 §8). Text that is
/// not SDP comes back unchanged.
std::string rewrite_preconditions(std::string_view sdp, const std::vector<std::string>& attributes);

}  // namespace imsflow::sdp
