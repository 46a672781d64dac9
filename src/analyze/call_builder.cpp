// build_call: from the sightings of a finished call to its CallAnalysis:
// legs ordered caller first, nodes, captured messages with labels, hops,
// transactions, dialogs per To-tag, the deciding INVITE, outcome, KPIs and
// the seed's four phases. Checks and diagnoses are procedure.cpp's.
#include <algorithm>
#include <charconv>

#include "analyze/invite_facts.hpp"
#include "analyze/open_call.hpp"
#include "trace/sip_packet.hpp"
#include "util/splitmix.hpp"

namespace imsflow::analyze::internal {

namespace {

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

std::uint64_t txn_hash(const Sighting& s) {
  std::uint64_t h = (static_cast<std::uint64_t>(s.leg) << 32) ^ s.branch;
  h = h * 0x9E3779B97F4A7C15ULL ^ ((static_cast<std::uint64_t>(s.cseq) << 32) | s.method_text);
  return splitmix64(h);
}

std::string label_of(const OpenCall& c, const Sighting& s) {
  std::string l;
  if (s.request) {
    l = c.text(s.method_text);
    if (s.has(kHasRAck)) l += " RAck " + std::to_string(s.rack_rseq);
  } else {
    l = std::to_string(s.status);
    if (s.reason_phrase != 0) l += " " + c.str(s.reason_phrase);
    if (s.method_text != 0) l += " (" + c.str(s.method_text) + ")";
    if (s.has(kHasRSeq)) l += " RSeq " + std::to_string(s.rseq);
  }
  if (s.has(kHasSdp)) l += " +SDP";
  return l;
}

bool is_2xx(const Sighting& s) { return s.status >= 200 && s.status < 300; }

// The earliest sighting that satisfies `pred`, preferring those on the first hop.
template <class Pred>
std::optional<std::size_t> first_at_first_hop(const InviteFacts& f, Pred&& pred) {
  const std::vector<Sighting>& v = f.call->sightings;
  std::optional<std::size_t> on_hop, any;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!pred(v[i])) continue;
    if (!any || v[i].time_ns < v[*any].time_ns) any = i;
    if (f.on_first_hop(v[i]) && (!on_hop || v[i].time_ns < v[*on_hop].time_ns)) on_hop = i;
  }
  return on_hop ? on_hop : any;
}

void find_invite(InviteFacts& f) {
  const std::vector<Sighting>& v = f.call->sightings;
  // The caller's leg: the one with the earliest initial INVITE (no To-tag).
  std::optional<std::size_t> first;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Sighting& s = v[i];
    if (s.request && s.method == sip::Method::Invite && s.to_tag == 0) {
      first = i;
      break;
    }
  }
  if (first) {
    f.invite = first;
    f.leg = v[*first].leg;
    f.t0 = v[*first].time_ns;
    f.first_hop_known = true;
    f.caller = v[*first].src;
    f.callee = v[*first].dst;
    // The deciding transaction: the last initial INVITE of that leg (after
    // 401/407 challenges the UA sends a new one with a higher CSeq).
    std::size_t last = *first;
    for (std::size_t i = *first; i < v.size(); ++i) {
      const Sighting& s = v[i];
      if (s.request && s.method == sip::Method::Invite && s.to_tag == 0 && s.leg == f.leg &&
          s.cseq > v[last].cseq)
        last = i;
    }
    f.last_invite = last;
    // KPIs count from the INVITE that decided the call (after a 401/407,
    // the time the user took to answer the challenge is not post-dial delay).
    f.t0 = v[last].time_ns;
    f.cseq = v[last].cseq;
    f.branch = v[last].branch;
    f.challenge_retried = last != *first;
    return;
  }
  // The INVITE itself was not captured: the lowest INVITE CSeq among responses.
  f.t0 = f.call->first_ns;
  bool found = false;
  for (const Sighting& s : v) {
    if (s.method != sip::Method::Invite) continue;
    if (!found || s.cseq < f.cseq) {
      f.cseq = s.cseq;
      f.leg = s.leg;
      f.branch = s.branch;
      found = true;
    }
  }
}

void find_responses(InviteFacts& f) {
  const std::vector<Sighting>& v = f.call->sightings;
  f.first_response = first_at_first_hop(f, [&](const Sighting& s) { return f.is_response_to_invite(s); });
  f.first_18x = first_at_first_hop(
      f, [&](const Sighting& s) { return f.is_response_to_invite(s) && s.status >= 180 && s.status < 190; });
  f.first_2xx = first_at_first_hop(f, [&](const Sighting& s) { return f.is_response_to_invite(s) && is_2xx(s); });
  if (f.first_2xx) {
    f.final_response = f.first_2xx;
  } else {
    f.final_response =
        first_at_first_hop(f, [&](const Sighting& s) { return f.is_response_to_invite(s) && s.status >= 300; });
  }
  // ACK for the 2xx: a new transaction (another branch), same CSeq number.
  if (f.first_2xx) {
    const std::int64_t t2xx = v[*f.first_2xx].time_ns;
    std::int64_t earliest_2xx = t2xx;
    for (const Sighting& s : v)
      if (f.is_response_to_invite(s) && is_2xx(s)) earliest_2xx = std::min(earliest_2xx, s.time_ns);
    f.ack = first_at_first_hop(f, [&](const Sighting& s) {
      return s.request && s.method == sip::Method::Ack && s.leg == f.leg && s.cseq == f.cseq &&
             s.time_ns >= earliest_2xx && (s.branch != f.branch || f.branch == 0);
    });
  } else if (f.final_response) {
    f.ack = first_at_first_hop(f, [&](const Sighting& s) {
      return s.request && s.method == sip::Method::Ack && s.leg == f.leg && s.cseq == f.cseq;
    });
  }
  f.cancel = first_at_first_hop(f, [&](const Sighting& s) {
    return s.request && s.method == sip::Method::Cancel && s.leg == f.leg && s.cseq == f.cseq;
  });
  f.bye = first_at_first_hop(
      f, [&](const Sighting& s) { return s.request && s.method == sip::Method::Bye && s.leg == f.leg; });
  // Reliable provisionals: one per (To-tag, RSeq), its first sighting.
  std::vector<std::pair<StrId, std::uint32_t>> known;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Sighting& s = v[i];
    if (!f.is_response_to_invite(s) || s.status <= 100 || s.status >= 200 || !s.has(kHasRSeq)) continue;
    std::pair<StrId, std::uint32_t> id{s.to_tag, s.rseq};
    if (std::find(known.begin(), known.end(), id) != known.end()) continue;
    known.push_back(id);
    f.reliable.push_back(i);
  }
}

void decide_outcome(InviteFacts& f) {
  const std::vector<Sighting>& v = f.call->sightings;
  if (f.first_2xx) {
    f.final_status = v[*f.first_2xx].status;
    if (f.ack) {
      f.outcome = Outcome::Established;
      return;
    }
    // No ACK: the dialog never got confirmed, unless the capture just ended.
    const std::int64_t t = v[*f.first_2xx].time_ns;
    bool later = f.bye.has_value();
    if (f.capture_end_ns - t >= kAnswerGraceNs) later = true;
    f.outcome = later ? Outcome::Failed : Outcome::Incomplete;
    return;
  }
  if (f.final_response) f.final_status = v[*f.final_response].status;
  if (f.cancel) {
    f.outcome = Outcome::Cancelled;
    return;
  }
  f.outcome = f.final_response ? Outcome::Failed : Outcome::Incomplete;
}

std::vector<Phase> phases(const InviteFacts& f) {
  const std::vector<Sighting>& v = f.call->sightings;
  auto rel = [&](std::optional<std::size_t> i) -> std::optional<double> {
    if (!i || !f.invite) return std::nullopt;
    return ms(v[*i].time_ns - f.t0);
  };
  std::vector<Phase> out(4);
  out[0].name = "session request";
  out[0].start_ms = f.invite ? std::optional<double>(0.0) : std::nullopt;
  out[0].end_ms = rel(f.first_response);
  out[1].name = "provisional handling";
  out[1].start_ms = rel(f.first_response);
  {
    std::optional<std::size_t> last_1xx;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (f.is_response_to_invite(v[i]) && v[i].status < 200 && v[i].kind == CopyKind::Original) last_1xx = i;
    out[1].end_ms = f.final_response ? rel(f.final_response) : rel(last_1xx);
    if (out[1].start_ms && v[*f.first_response].status >= 200) out[1].start_ms.reset(), out[1].end_ms.reset();
  }
  out[2].name = "reliability handling";
  if (!f.reliable.empty()) {
    out[2].start_ms = rel(first_at_first_hop(f, [&](const Sighting& s) {
      return f.is_response_to_invite(s) && s.status < 200 && s.has(kHasRSeq);
    }));
    // Ends with the 200 to the last PRACK of the INVITE.
    std::optional<std::size_t> last;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Sighting& s = v[i];
      if (!s.request && s.method == sip::Method::Prack && s.leg == f.leg && is_2xx(s) && f.on_first_hop(s))
        last = i;
    }
    if (!last) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        const Sighting& s = v[i];
        if (!s.request && s.method == sip::Method::Prack && s.leg == f.leg && is_2xx(s)) last = i;
      }
    }
    out[2].end_ms = rel(last);
  }
  out[3].name = "final confirmation";
  out[3].start_ms = rel(f.final_response);
  out[3].end_ms = f.final_response ? rel(f.ack) : std::nullopt;
  return out;
}

}  // namespace

std::string node_text(const NodeKey& k) {
  if (k.address.v6) return "[" + k.address.to_string() + "]:" + std::to_string(k.port);
  return k.address.to_string() + ":" + std::to_string(k.port);
}

std::string at(const InviteFacts& f, std::int64_t t_ns) {
  // to_chars rounds as printf("%.3f") does, without parsing a format per call.
  char buf[48];
  char* end = std::to_chars(buf, buf + sizeof buf - 2, static_cast<double>(t_ns - f.t0) / 1e9,
                            std::chars_format::fixed, 3).ptr;
  return std::string(buf, end) + " s";
}

std::string short_name(const OpenCall& c, const Sighting& s) {
  if (s.request) return c.str(s.method_text);
  std::string n = std::to_string(s.status);
  if (s.reason_phrase != 0) n += " " + c.str(s.reason_phrase);
  if (s.method_text != 0) n += " (" + c.str(s.method_text) + ")";
  return n;
}

namespace {

// Nodes and their roles, phases, transactions, dialogs per To-tag, hops and
// every captured message: what the ladder, JSON, CSV and HTML show. A run
// that prints only the summary goes without.
void add_detail(const InviteFacts& f, const std::vector<std::uint32_t>& leg_index, CallAnalysis& out) {
  const OpenCall& call = *f.call;
  const std::vector<Sighting>& v = call.sightings;
  for (const NodeKey& n : call.nodes) out.nodes.push_back(node_text(n));
  {
    std::vector<bool> sent(call.nodes.size()), received(call.nodes.size());
    for (const Sighting& s : v) {
      if (s.method != sip::Method::Invite || s.leg != f.leg || s.cseq != f.cseq) continue;
      if (s.request) {
        sent[s.src] = true;
        received[s.dst] = true;
      } else if (s.kind == CopyKind::Copy) {
        sent[s.src] = true;  // relayed a response it did not originate: a proxy too
      }
    }
    for (std::size_t i = 0; i < call.nodes.size(); ++i) {
      const char* role = "node";
      if (f.first_hop_known && i == f.caller) role = "caller";
      else if (sent[i] && received[i]) role = "proxy";
      else if (received[i]) role = "callee";
      out.node_roles.emplace_back(role);
    }
  }
  out.phases = phases(f);

  // Transactions: (leg, originating branch, CSeq, method), each named by
  // its first sighting.
  FlatIndex txn_index;
  std::vector<std::size_t> txn_first;
  std::vector<std::uint32_t> txn_of(v.size());
  const auto same_txn = [](const Sighting& a, const Sighting& b) {
    return a.leg == b.leg && a.branch == b.branch && a.cseq == b.cseq && a.method_text == b.method_text;
  };
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Sighting& s = v[i];
    const std::uint64_t h = txn_hash(s);
    const auto found = txn_index.find(h, [&](std::uint32_t t) { return same_txn(v[txn_first[t]], s); });
    const auto index = found.value_or(static_cast<std::uint32_t>(out.transactions.size()));
    if (!found) {
      txn_index.insert(h, index);
      txn_first.push_back(i);
      Transaction t;
      t.method = call.str(s.method_text);
      t.cseq = s.cseq;
      t.branch = call.str(s.branch);
      t.leg = leg_index[s.leg];
      out.transactions.push_back(std::move(t));
    }
    Transaction& t = out.transactions[index];
    txn_of[i] = index;
    if (s.request) {
      if (t.request_ns == 0) t.request_ns = s.time_ns;
      if (s.kind == CopyKind::Retransmission) ++t.request_retransmissions;
    } else {
      if (std::find(t.statuses.begin(), t.statuses.end(), s.status) == t.statuses.end()) t.statuses.push_back(s.status);
      if (s.status >= 200 && t.final_status == 0) {
        t.final_status = s.status;
        t.final_ns = s.time_ns;
      }
      if (s.kind == CopyKind::Retransmission) ++t.response_retransmissions;
    }
  }

  // Dialogs of the caller's INVITE, per To-tag.
  std::vector<StrId> dialog_tags;
  for (const Sighting& s : v) {
    if (!f.is_response_to_invite(s) || s.to_tag == 0 || s.status <= 100) continue;
    const auto known = std::find(dialog_tags.begin(), dialog_tags.end(), s.to_tag);
    const std::size_t d = static_cast<std::size_t>(known - dialog_tags.begin());
    if (known == dialog_tags.end()) {
      Dialog fresh;
      fresh.to_tag = call.str(s.to_tag);
      fresh.leg = 0;
      fresh.first_status = s.status;
      fresh.first_ns = s.time_ns;
      out.dialogs.push_back(std::move(fresh));
      dialog_tags.push_back(s.to_tag);
    }
    if (s.has(kHasRSeq) && s.status < 200) out.dialogs[d].reliable = true;
    if (s.status >= 200 && out.dialogs[d].final_status == 0) out.dialogs[d].final_status = s.status;
  }
  for (std::size_t d = 0; d < out.dialogs.size(); ++d) {
    if (out.dialogs[d].final_status < 200 || out.dialogs[d].final_status >= 300) continue;
    for (const Sighting& s : v)
      if (s.request && s.method == sip::Method::Ack && s.leg == f.leg && s.cseq == f.cseq && s.to_tag == dialog_tags[d])
        out.dialogs[d].acked = true;
  }

  // Hops and the captured messages.
  std::vector<double> delay_sum;
  std::size_t last_hop = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Sighting& s = v[i];
    // Calls have a handful of hops: the previous one, else a scan.
    if (last_hop >= out.hops.size() || out.hops[last_hop].src != s.src || out.hops[last_hop].dst != s.dst) {
      last_hop = 0;
      while (last_hop < out.hops.size() && (out.hops[last_hop].src != s.src || out.hops[last_hop].dst != s.dst))
        ++last_hop;
      if (last_hop == out.hops.size()) {
        out.hops.push_back(HopStats{s.src, s.dst});
        delay_sum.push_back(0);
      }
    }
    HopStats& h = out.hops[last_hop];
    ++h.messages;
    if (s.kind == CopyKind::Retransmission) {
      ++h.retransmissions;
      ++out.retransmissions;
    }
    if (s.kind == CopyKind::Copy) {
      ++h.copies;
      ++out.copies;
      delay_sum[last_hop] += ms(call.hop_delay_ns(s));
    }
    {
      CapturedMessage m;
      m.time_ns = s.time_ns;
      m.frame = s.frame;
      m.src = s.src;
      m.dst = s.dst;
      m.leg = leg_index[s.leg];
      m.label = label_of(call, s);
      m.transport = std::string(trace::transport_name(static_cast<trace::Transport>(s.transport)));
      m.request = s.request;
      m.method = call.str(s.method_text);
      m.status = s.status;
      m.cseq = s.cseq;
      m.to_tag = call.str(s.to_tag);
      m.kind = s.kind;
      m.hop_delay_ns = call.hop_delay_ns(s);
      m.transaction = txn_of[i];
      m.has_sdp = s.has(kHasSdp);
      out.messages.push_back(std::move(m));
    }
  }
  for (std::size_t i = 0; i < out.hops.size(); ++i)
    if (out.hops[i].copies > 0) out.hops[i].mean_copy_delay_ms = delay_sum[i] / out.hops[i].copies;
}

}  // namespace

CallAnalysis build_call(OpenCall& call, std::int64_t capture_end_ns, bool keep_messages) {
  CallAnalysis out;
  InviteFacts f;
  f.call = &call;
  f.capture_end_ns = capture_end_ns;
  find_invite(f);
  find_responses(f);
  decide_outcome(f);
  const std::vector<Sighting>& v = call.sightings;

  // Legs: the caller's first, the others in their order.
  std::vector<std::uint32_t> leg_order;
  leg_order.push_back(f.leg);
  for (std::uint32_t i = 0; i < call.call_ids.size(); ++i)
    if (i != f.leg) leg_order.push_back(i);
  std::vector<std::uint32_t> leg_index(call.call_ids.size());
  for (std::uint32_t i = 0; i < leg_order.size(); ++i) {
    leg_index[leg_order[i]] = i;
    out.call_ids.push_back(call.call_ids[leg_order[i]]);
  }
  out.icid = call.icid;
  out.start_ns = call.first_ns;
  out.end_ns = call.last_ns;
  if (f.invite) {
    out.from = call.str(call.from_uri);
    out.to = call.str(call.to_uri);
    out.request_uri = call.str(call.request_uri);
  }
  out.outcome = f.outcome;
  out.final_status = f.final_status;
  if (f.final_response) out.final_reason = call.str(v[*f.final_response].reason_phrase);
  if (f.invite) {
    if (f.first_2xx) out.setup_ms = ms(v[*f.first_2xx].time_ns - f.t0);
    if (f.first_18x) out.pdd_ms = ms(v[*f.first_18x].time_ns - f.t0);
  }
  if (f.first_2xx && f.ack) out.ack_delay_ms = ms(v[*f.ack].time_ns - v[*f.first_2xx].time_ns);

  if (keep_messages) {
    add_detail(f, leg_index, out);
  } else {
    for (const Sighting& s : v) {
      out.retransmissions += s.kind == CopyKind::Retransmission ? 1 : 0;
      out.copies += s.kind == CopyKind::Copy ? 1 : 0;
    }
  }
  run_checks(f, out);
  return out;
}

}  // namespace imsflow::analyze::internal
