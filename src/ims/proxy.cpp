#include "ims/proxy.hpp"

#include <algorithm>

#include "sip/builder.hpp"
#include "sip/parser.hpp"
#include "sip/uri.hpp"
#include "util/hex.hpp"
#include "util/splitmix.hpp"

namespace imsflow::ims {

namespace {

// RFC 3261 §16.7 step 6: a 6xx wins; otherwise the lowest class, and
// within a class the first to arrive.
bool better_final(int candidate, int best) {
  if (best == 0) return true;
  if (best >= 600) return false;
  if (candidate >= 600) return true;
  return candidate / 100 < best / 100;
}

sip::ParseMode mode_for(const sip::Endpoint& e) {
  return sip::is_reliable(e.transport) ? sip::ParseMode::Stream : sip::ParseMode::Datagram;
}

}  // namespace

StatefulProxy::StatefulProxy(ProxyConfig config, RoutingPolicy& policy)
    : config_(std::move(config)),
      policy_(policy),
      layer_(*this, config_.timers, config_.seed),
      tag_state_(config_.seed ^ 0xA5A5A5A5u) {}

std::string StatefulProxy::own_uri(std::string_view user) const {
  std::string u = "sip:";
  if (!user.empty()) u.append(user).push_back('@');
  u.append(config_.local.to_string());
  if (config_.local.transport == sip::Transport::Tcp) u.append(";transport=tcp");
  u.append(";lr");
  return u;
}

bool StatefulProxy::is_own_uri(std::string_view uri_text) const {
  auto uri = sip::parse_uri(uri_text);
  if (!uri || !uri->is_sip()) return false;
  auto ip = sip::IpAddress::parse(uri->host);
  return ip && *ip == config_.local.address && (uri->has_port ? uri->port : 5060) == config_.local.port;
}

std::string StatefulProxy::via_value(const std::string& branch, sip::Transport transport) const {
  std::string v = "SIP/2.0/";
  v.append(sip::transport_name(transport)).push_back(' ');
  v.append(config_.local.to_string()).append(";branch=").append(branch);
  return v;
}

// --- requests ------------------------------------------------------------------------------

void StatefulProxy::on_request(txn::TransactionId server, const sip::Message& request, const sip::Endpoint& remote,
                               const sip::Endpoint& local, TimePoint now) {
  if (request.method() == sip::Method::Ack) {
    if (!server) relay_ack(request, remote);
    return;
  }
  if (request.max_forwards() && *request.max_forwards() == 0) {
    ++stats_.loops_refused;
    layer_.send_response(server, 483, local_response(std::string(request.bytes()), remote, 483), now);
    return;
  }
  if (pending_ >= config_.max_pending || layer_.live_transactions() > config_.max_transactions) {
    ++stats_.overload_refused;
    layer_.send_response(server, 503,
                         local_response(std::string(request.bytes()), remote, 503, "Retry-After",
                                        std::to_string(config_.retry_after_s)),
                         now);
    return;
  }
  const sip::NameAddr* top_route = request.routes().first();
  const bool pop = top_route && is_own_uri(top_route->uri.raw);
  const sip::NameAddr* to = request.to();
  const bool initial = !(to && to->tag());
  RoutingDecision decision;
  if (initial) {
    decision = policy_.route_initial(request, pop ? top_route->uri.raw : std::string_view(), remote, now);
  } else {
    // Inside a dialog the Route set (or the remote target) says where.
    decision.record_route = false;
    decision.targets.emplace_back();
  }
  if (decision.status != 0) return respond_locally(server, request, remote, decision, now);

  const std::uint32_t number = next_context_++;
  Context c;
  c.server = server;
  c.upstream = layer_.response_destination(server).value_or(remote);
  c.local = local;
  c.request.assign(request.bytes());
  c.invite = request.method() == sip::Method::Invite;
  c.see_final_response = decision.see_final_response;
  for (const ProxyTarget& target : decision.targets) {
    std::string branch = layer_.new_branch();
    auto out = forwarded(request, remote, target, decision, branch, pop);
    if (!out) {
      ++stats_.unroutable;
      continue;
    }
    const txn::TransactionId id = layer_.send_request(
        txn::OutgoingRequest{request.method(), std::move(branch), std::move(out->first), config_.local, out->second},
        now);
    if (!id) continue;
    by_client_[key(id)] = {number, static_cast<std::uint32_t>(c.branches.size())};
    c.branches.push_back(Branch{id});
  }
  if (c.branches.empty()) {
    // No target with an IP address to send to (there is no DNS here).
    layer_.send_response(server, 404, local_response(c.request, c.upstream, 404), now);
    return;
  }
  ++stats_.requests_forwarded;
  ++pending_;
  by_server_[key(server)] = number;
  contexts_.emplace(number, std::move(c));
}

std::optional<std::pair<std::string, sip::Endpoint>> StatefulProxy::forwarded(const sip::Message& request,
                                                                               const sip::Endpoint& from,
                                                                               const ProxyTarget& target,
                                                                               const RoutingDecision& d,
                                                                               const std::string& branch,
                                                                               bool pop_own_route) const {
  auto b = sip::MessageBuilder::copy_of(request);
  std::string request_uri(request.request_uri().raw);
  if (!target.request_uri.empty()) {
    request_uri = target.request_uri;
    b.set_start_line(std::string(request.method_text()) + " " + request_uri + " SIP/2.0");
  }
  const std::uint32_t max_forwards = request.max_forwards() ? *request.max_forwards() - 1 : 70;
  b.replace(sip::HeaderId::MaxForwards, std::to_string(max_forwards));

  // §16.6 steps 6–7: the target's routes first, then what is left of the
  // request's own Route set.
  std::vector<std::string_view> routes(target.route.begin(), target.route.end());
  bool skip = pop_own_route;
  for (const sip::NameAddr& r : request.routes()) {
    if (target.replace_route) break;
    if (skip) {
      skip = false;
      continue;
    }
    routes.push_back(r.raw);
  }
  b.remove(sip::HeaderId::Route);
  for (std::string_view r : routes) b.add(sip::HeaderId::Route, r);
  for (const std::string& name : d.remove_headers) b.remove(name);
  for (const auto& [name, value] : d.add_headers) b.add(name, value);

  std::optional<sip::Endpoint> destination = target.destination;
  const sip::Transport fallback = config_.local.transport;
  if (!destination && !routes.empty()) destination = sip::endpoint_of(sip::uri_of(routes.front()), fallback);
  if (!destination && routes.empty()) destination = sip::endpoint_of(request_uri, fallback);
  if (!destination) return std::nullopt;

  if (d.record_route) {
    // Ours first among the Record-Routes (RFC 3261 §16.6 step 4), kept
    // below the Vias.
    std::vector<std::string_view> existing;
    for (const sip::NameAddr& rr : request.record_routes()) existing.push_back(rr.raw);
    b.remove(sip::HeaderId::RecordRoute);
    b.add(sip::HeaderId::RecordRoute, "<" + own_uri() + ">");
    for (std::string_view rr : existing) b.add(sip::HeaderId::RecordRoute, rr);
  }
  // The sender's Via gets received/rport (RFC 3261 §18.2.1, RFC 3581 §4),
  // then ours goes on top; one via-parm per line.
  const auto vias = request.vias();
  b.remove(sip::HeaderId::Via);
  for (std::size_t i = vias.size(); i-- > 1;) b.add_first(sip::HeaderId::Via, vias[i].raw);
  if (!vias.empty()) b.add_first(sip::HeaderId::Via, txn::response_top_via(vias[0], from));
  b.add_first(sip::HeaderId::Via, via_value(branch, destination->transport));
  return std::pair{b.serialize(), *destination};
}

void StatefulProxy::relay_ack(const sip::Message& ack, const sip::Endpoint& remote) {
  // The ACK for a 2xx is its own transaction-less request (RFC 3261
  // §16.7 step 5 relays its 2xx; the ACK follows the Route set).
  const sip::NameAddr* top_route = ack.routes().first();
  RoutingDecision d;
  d.record_route = false;
  auto out = forwarded(ack, remote, ProxyTarget{}, d, layer_.new_branch(), top_route && is_own_uri(top_route->uri.raw));
  if (!out) {
    ++stats_.unroutable;
    return;
  }
  ++stats_.acks_relayed;
  layer_.send_stateless(txn::Transmit{config_.local, out->second, std::move(out->first)});
}

void StatefulProxy::respond_locally(txn::TransactionId server, const sip::Message& request,
                                    const sip::Endpoint& remote, const RoutingDecision& d, TimePoint now) {
  ++stats_.answered_locally;
  std::string tag = "p";
  append_hex(tag, splitmix64(tag_state_));
  auto b = txn::build_response(request, d.status, remote, tag);
  if (!d.reason.empty()) b.set_start_line("SIP/2.0 " + std::to_string(d.status) + " " + d.reason);
  for (const auto& [name, value] : d.response_headers) b.add(name, value);
  layer_.send_response(server, d.status, b.serialize(), now);
}

std::string StatefulProxy::local_response(const std::string& request_bytes, const sip::Endpoint& upstream, int status,
                                          std::string_view extra_name, std::string_view extra_value) {
  sip::Message m;
  if (!sip::parse(request_bytes, m, mode_for(upstream))) return {};
  std::string tag = "p";
  append_hex(tag, splitmix64(tag_state_));
  auto b = txn::build_response(m, status, upstream, tag);
  if (!extra_name.empty()) b.add(extra_name, extra_value);
  return b.serialize();
}

// --- responses -----------------------------------------------------------------------------

void StatefulProxy::on_response(txn::TransactionId client, const sip::Message& response, TimePoint now) {
  const auto found = by_client_.find(key(client));
  if (found == by_client_.end()) return;
  const auto [number, index] = found->second;
  auto ctx = contexts_.find(number);
  if (ctx == contexts_.end()) return;
  Context& c = ctx->second;
  Branch& branch = c.branches[index];
  const int status = response.status_code();
  if (status < 200) {
    branch.provisional = true;
    if (branch.cancel_pending) {
      branch.cancel_pending = false;
      if (layer_.send_cancel(branch.client, now)) ++stats_.cancels_relayed;
    }
    if (status == 100) return;  // hop by hop: our server transaction sent its own
  }
  // §16.7 step 3: our Via goes; the rest stay in order.
  auto b = sip::MessageBuilder::copy_of(response);
  b.remove(sip::HeaderId::Via);
  const auto vias = response.vias();
  for (std::size_t i = vias.size(); i-- > 1;) b.add_first(sip::HeaderId::Via, vias[i].raw);
  if (status >= 200 && c.see_final_response) {
    sip::Message request;  // parsed again only for the requests the policy asked about
    if (sip::parse(c.request, request, mode_for(c.upstream))) {
      std::vector<std::pair<std::string, std::string>> add;
      policy_.on_final_response(request, c.upstream, response, add, now);
      for (const auto& [name, value] : add) b.add(name, value);
    }
  }
  if (status < 300) {
    if (status >= 200) branch.final_status = status;
    ++stats_.responses_relayed;
    if (!c.final_sent) {
      if (status >= 200) {
        c.final_sent = true;
        --pending_;
      }
      layer_.send_response(c.server, status, b.serialize(), now);
    } else if (status >= 200) {
      // A 2xx of another fork: relayed as it is, outside the transaction.
      layer_.send_stateless(txn::Transmit{c.local, c.upstream, b.serialize()});
    }
    if (status >= 200 && c.invite) cancel_branches(c, now);
    return;
  }
  branch_final(number, index, status, b.serialize(), now);
}

void StatefulProxy::branch_final(std::uint32_t number, std::size_t index, int status, std::string bytes,
                                 TimePoint now) {
  auto ctx = contexts_.find(number);
  if (ctx == contexts_.end()) return;
  Context& c = ctx->second;
  Branch& branch = c.branches[index];
  if (branch.final_status != 0) return;
  branch.final_status = status;
  if (!bytes.empty() && better_final(status, c.best_status)) {
    c.best_status = status;
    c.best_response = std::move(bytes);
  }
  if (status >= 600 && c.invite) cancel_branches(c, now);
  finish_if_done(number, now);
}

void StatefulProxy::finish_if_done(std::uint32_t number, TimePoint now) {
  auto ctx = contexts_.find(number);
  if (ctx == contexts_.end()) return;
  Context& c = ctx->second;
  if (c.final_sent) return;
  for (const Branch& b : c.branches)
    if (b.final_status == 0) return;
  c.final_sent = true;
  --pending_;
  ++stats_.responses_relayed;
  // A CANCELled request ends with 487 unless a branch said something better
  // than a timeout (§16.10).
  if (c.best_response.empty() || (c.cancelled && (c.best_status == 408 || c.best_status == 503))) {
    const int status = c.cancelled ? 487 : 408;
    layer_.send_response(c.server, status, local_response(c.request, c.upstream, status), now);
    return;
  }
  if (c.best_status == 503) {
    // §16.7 step 6: a 503 says the next hop is overloaded, not this proxy
    // nor every route; upstream it becomes a 500, which does not make the
    // previous hop stop sending us everything else.
    layer_.send_response(c.server, 500, local_response(c.request, c.upstream, 500), now);
    return;
  }
  layer_.send_response(c.server, c.best_status, std::move(c.best_response), now);
}

void StatefulProxy::cancel_branches(Context& c, TimePoint now) {
  for (Branch& b : c.branches) {
    if (b.final_status != 0 || b.cancel_pending) continue;
    if (b.provisional) {
      if (layer_.send_cancel(b.client, now)) ++stats_.cancels_relayed;
      b.cancel_pending = false;
      b.provisional = false;  // CANCEL once
    } else {
      b.cancel_pending = true;
    }
  }
}

void StatefulProxy::on_cancel(txn::TransactionId invite_server, const sip::Message&, TimePoint now) {
  const auto found = by_server_.find(key(invite_server));
  if (found == by_server_.end()) return;
  auto ctx = contexts_.find(found->second);
  if (ctx == contexts_.end()) return;
  ctx->second.cancelled = true;
  cancel_branches(ctx->second, now);
}

void StatefulProxy::on_timeout(txn::TransactionId txn, txn::TimeoutTimer timer, TimePoint now) {
  const auto found = by_client_.find(key(txn));
  if (found == by_client_.end()) return;
  const auto [number, index] = found->second;
  auto ctx = contexts_.find(number);
  if (ctx == contexts_.end()) return;
  if (timer == txn::TimeoutTimer::C) {
    // §16.8: as if the branch had answered 408; CANCEL it.
    Branch& b = ctx->second.branches[index];
    if (b.provisional && layer_.send_cancel(b.client, now)) ++stats_.cancels_relayed;
    return;
  }
  branch_final(number, index, 408, local_response(ctx->second.request, ctx->second.upstream, 408), now);
}

void StatefulProxy::on_transport_error(txn::TransactionId txn, std::string_view, TimePoint now) {
  if (const auto found = by_client_.find(key(txn)); found != by_client_.end()) {
    const auto [number, index] = found->second;
    auto ctx = contexts_.find(number);
    if (ctx == contexts_.end()) return;
    // RFC 3261 §8.1.3.1: a transport failure counts as a 503 from that hop.
    branch_final(number, index, 503, local_response(ctx->second.request, ctx->second.upstream, 503), now);
    return;
  }
  if (const auto found = by_server_.find(key(txn)); found != by_server_.end()) {
    if (auto ctx = contexts_.find(found->second); ctx != contexts_.end() && !ctx->second.final_sent) {
      ctx->second.final_sent = true;
      --pending_;
    }
  }
}

void StatefulProxy::on_terminated(txn::TransactionId id, TimePoint) {
  // A context lives while its server transaction or any branch does.
  std::uint32_t number = 0;
  if (auto f = by_client_.find(key(id)); f != by_client_.end()) {
    number = f->second.first;
    const std::uint32_t index = f->second.second;
    by_client_.erase(f);
    if (auto ctx = contexts_.find(number); ctx != contexts_.end()) ctx->second.branches[index].client = {};
  } else if (auto s = by_server_.find(key(id)); s != by_server_.end()) {
    number = s->second;
    by_server_.erase(s);
    if (auto ctx = contexts_.find(number); ctx != contexts_.end()) ctx->second.server = {};
  } else {
    return;
  }
  auto ctx = contexts_.find(number);
  if (ctx == contexts_.end()) return;
  const Context& c = ctx->second;
  if (c.server) return;
  for (const Branch& b : c.branches)
    if (b.client) return;
  if (!c.final_sent) --pending_;
  contexts_.erase(ctx);
}

}  // namespace imsflow::ims
