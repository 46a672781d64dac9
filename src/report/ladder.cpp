#include "report/ladder.hpp"

#include <algorithm>
#include <cstdio>

#include "sip/parser.hpp"

namespace imsflow::report {

namespace {

std::string format_ms(Duration d) {
  const double ms = std::chrono::duration<double, std::milli>(d).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%10.3f", ms);
  return buf;
}

}  // namespace

std::string message_label(std::string_view bytes, LabelStyle style) {
  sip::Message m;
  if (!sip::parse(bytes, m)) return "?";
  const bool full = style == LabelStyle::Full;
  std::string label;
  if (m.is_request()) {
    label = std::string(m.method_text());
  } else {
    label = std::to_string(m.status_code());
    if (full && !m.reason_phrase().empty()) label += " " + std::string(m.reason_phrase());
    if (m.cseq()) {
      if (full) {
        label += " (" + std::string(m.cseq()->method_text) + ")";
      } else if (m.status_code() >= 200 || m.cseq()->method != sip::Method::Invite) {
        label += " " + std::string(m.cseq()->method_text);
      }
    }
  }
  const char* sep = full ? " " : "=";
  if (m.rseq()) label += std::string(" RSeq") + sep + std::to_string(*m.rseq());
  if (m.rack()) label += std::string(" RAck") + sep + std::to_string(m.rack()->rseq);
  if (!m.body().empty()) label += " +SDP";
  return label;
}

std::string render_text(const Ladder& ladder, std::size_t gap) {
  const std::size_t n = ladder.columns.size();
  if (n == 0) return {};
  // Widen the gap so the longest label fits on one arrow.
  for (const LadderRow& r : ladder.rows) {
    const std::size_t span = r.from > r.to ? r.from - r.to : r.to - r.from;
    if (span == 0) continue;
    gap = std::max(gap, (r.label.size() + 10 + span - 1) / span);
  }
  constexpr std::size_t kTimeWidth = 12;  // "  123456.789"
  constexpr std::string_view kTimeHeader = "    time ms";
  // The first column sits far enough right that its name, centred on it,
  // keeps a space after the time header and its address starts at or after
  // column 0.
  const std::size_t first_x =
      std::max({kTimeWidth + 2, kTimeHeader.size() + 1 + ladder.columns[0].name.size() / 2,
                ladder.columns[0].address.size() / 2});
  const auto column_x = [&](std::size_t c) { return first_x + c * gap; };
  const std::size_t width = column_x(n - 1) + 1;

  std::string out;
  // Header: names, then addresses, centred on their column.
  for (int line = 0; line < 2; ++line) {
    std::string row(width + 24, ' ');
    if (line == 0) row.replace(0, kTimeHeader.size(), kTimeHeader);
    for (std::size_t c = 0; c < n; ++c) {
      const std::string& text = line == 0 ? ladder.columns[c].name : ladder.columns[c].address;
      const std::size_t x = column_x(c);
      const std::size_t start = x >= text.size() / 2 ? x - text.size() / 2 : 0;
      if (start + text.size() > row.size()) row.resize(start + text.size(), ' ');
      row.replace(start, text.size(), text);
    }
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
  }
  for (const LadderRow& r : ladder.rows) {
    std::string row(width, ' ');
    const std::string t = format_ms(r.at);
    row.replace(0, t.size(), t);
    for (std::size_t c = 0; c < n; ++c) row[column_x(c)] = '|';
    if (r.from != r.to && r.from < n && r.to < n) {
      const std::size_t a = column_x(std::min(r.from, r.to)) + 1;
      const std::size_t b = column_x(std::max(r.from, r.to)) - 1;
      for (std::size_t x = a; x <= b; ++x) row[x] = '-';
      if (r.to > r.from) {
        row[b] = '>';
      } else {
        row[a] = '<';
      }
      const std::string label = " " + r.label + " ";
      const std::size_t room = b - a + 1;
      if (label.size() + 2 <= room) {
        const std::size_t start = a + (room - label.size()) / 2;
        row.replace(start, label.size(), label);
      }
    }
    if (!r.note.empty()) row += "  " + r.note;
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
  }
  return out;
}

}  // namespace imsflow::report
