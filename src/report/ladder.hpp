// Text ladder diagrams: one column per node, one row per message, an arrow
// from sender to receiver with the message's label, time on the left. The
// same renderer draws simulated calls, live demo calls and captured ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.hpp"

namespace imsflow::report {

struct LadderColumn {
  std::string name;     // "UE-A", "P-CSCF" …
  std::string address;  // "10.0.0.1:5060"
};

struct LadderRow {
  Duration at{};            // since the ladder's start
  std::size_t from = 0;     // column indexes
  std::size_t to = 0;
  std::string label;        // "INVITE (SDP)", "183 Session Progress (INVITE)"
  std::string note;         // after the arrow: "lost", "retransmission" …
};

struct Ladder {
  std::vector<LadderColumn> columns;
  std::vector<LadderRow> rows;
};

/// Draws the ladder. `gap` is the width between two neighbouring columns;
/// labels longer than an arrow widen it.
std::string render_text(const Ladder& ladder, std::size_t gap = 34);

/// A one-word label for a SIP message: the method for a request, "status
/// reason (METHOD)" for a response, with " (SDP)" when it carries a body.
/// Text that is not SIP gives "?".
enum class LabelStyle : std::uint8_t {
  Full,     // "183 Session Progress (INVITE) RSeq 7 +SDP"
  Compact,  // "183 RSeq=7 +SDP", "200 PRACK": for ladders with many columns (a
            // provisional always answers INVITE, so it names no method)
};
std::string message_label(std::string_view bytes, LabelStyle style = LabelStyle::Full);
inline std::string compact_label(std::string_view bytes) { return message_label(bytes, LabelStyle::Compact); }

}  // namespace imsflow::report
