#include "cli/load.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "load/generator.hpp"
#include "net/recording_node.hpp"
#include "net/sharded_loops.hpp"

namespace imsflow::cli {

namespace {

using namespace std::chrono_literals;

struct Sample {
  double t_s = 0;
  std::uint64_t attempted = 0, established = 0, failed = 0, in_flight = 0;
  double rate = 0;  // calls started per second since the previous sample
  double setup_p50_ms = 0, setup_p99_ms = 0;
};

Sample sample(const std::vector<std::unique_ptr<load::CallGenerator>>& gens, double t_s, const Sample& before) {
  Sample s;
  s.t_s = t_s;
  for (const auto& g : gens) {
    s.attempted += g->live().attempted.load(std::memory_order_relaxed);
    s.established += g->live().established.load(std::memory_order_relaxed);
    s.failed += g->live().failed.load(std::memory_order_relaxed);
    s.in_flight += g->live().in_flight.load(std::memory_order_relaxed);
  }
  // Percentiles of the first shard's histogram stand for all (each shard
  // runs the same calls at the same share of the rate).
  s.setup_p50_ms = gens.front()->live().setup.percentile_ms(0.5);
  s.setup_p99_ms = gens.front()->live().setup.percentile_ms(0.99);
  const double dt = t_s - before.t_s;
  s.rate = dt > 0 ? static_cast<double>(s.attempted - before.attempted) / dt : 0;
  return s;
}

std::string progress_line(const Sample& s) {
  return fmt::format("{:7.1f} s  rate {:8.1f}/s  attempted {}  established {}  failed {}  in flight {}  "
                     "setup p50 {:.2f} ms p99 {:.2f} ms",
                     s.t_s, s.rate, s.attempted, s.established, s.failed, s.in_flight, s.setup_p50_ms,
                     s.setup_p99_ms);
}

}  // namespace

int run_load(const LoadOptions& o, std::ostream& out, std::ostream& err) {
  auto usage = [&](const std::string& what) {
    err << "imsflow load: " << what << "\n";
    return 2;
  };
  if (o.target.empty()) return usage("--target ADDRESS:PORT is required");
  const auto profile = load::profile_from_name(o.profile);
  if (!profile) return usage("--profile must be 100rel, preconditions or plain");
  if (o.transport != "udp" && o.transport != "tcp") return usage("--transport must be udp or tcp");
  const sip::Transport transport = o.transport == "tcp" ? sip::Transport::Tcp : sip::Transport::Udp;
  auto target = sip::Endpoint::parse(o.target, transport);
  if (!target) return usage("--target wants ADDRESS:PORT (\"127.0.0.1:5060\", \"[::1]:5060\"), not '" + o.target + "'");
  auto local = sip::Endpoint::parse(o.local, transport);
  if (!local) return usage("--local wants ADDRESS:PORT, not '" + o.local + "'");
  if (!(o.rate > 0) || o.rate > 1e6) return usage("--rate must be above 0 calls/s");
  if (o.duration_s < 0 || o.ramp_s < 0) return usage("--duration and --ramp cannot be negative");
  if (o.t1_ms == 0) return usage("--t1 must be at least 1 ms");
  const auto inject = load::parse_injection(o.inject);
  if (!inject) return usage("--inject must be no-prack, no-ack, cancel-after:SECONDS or bye-early, not '" + o.inject + "'");
  const unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());

  net::ShardedLoops loops(threads, net::LoopOptions::from_flags(o.batch_window_us, o.timer_slack_us));
  auto locals = loops.bind_each(*local);
  if (!locals) return usage("cannot bind " + o.local + ": " + locals.error().describe());
  const std::string to = o.to.empty() ? "sip:load@" + target->to_string() : o.to;
  const TimePoint start = Clock::now() + 20ms;
  std::vector<std::unique_ptr<load::CallGenerator>> gens;
  // --pcap: each thread records what its generator sent and received.
  std::vector<std::vector<net::ObservedMessage>> seen(threads);
  std::vector<std::unique_ptr<net::RecordingNode>> recorders;
  for (unsigned i = 0; i < threads; ++i) {
    load::GeneratorConfig c;
    c.ua.local = (*locals)[i];
    c.ua.user = "load";
    c.ua.seed = 1000 + i * 7919;
    c.ua.timers.set_t1(std::chrono::milliseconds(o.t1_ms));
    c.profile = *profile;
    c.target_uri = to;
    c.target = *target;
    c.media_address = local->address.to_string();
    c.rate = o.rate / threads;
    c.phase = static_cast<double>(i) / threads;  // thread i's first call 1/rate after thread i-1's
    c.ramp = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(o.ramp_s));
    c.max_calls = o.calls == 0 ? 0 : o.calls / threads + (i < o.calls % threads ? 1 : 0);
    if (o.calls != 0 && c.max_calls == 0) continue;  // fewer calls than threads
    c.duration = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(o.duration_s));
    c.max_concurrent = o.max_concurrent == 0 ? 0 : std::max(1u, o.max_concurrent / threads);
    c.hold = std::chrono::milliseconds(o.hold_ms);
    c.inject = *inject;
    gens.push_back(std::make_unique<load::CallGenerator>(c, start));
    txn::Node* node = gens.back().get();
    if (!o.pcap.empty()) {
      recorders.push_back(std::make_unique<net::RecordingNode>(*gens.back(), i, seen[i]));
      node = recorders.back().get();
    }
    if (auto a = loops.shard(i).attach(*node, (*locals)[i]); !a) return usage(a.error().describe());
  }
  if (auto s = loops.stop_on_signals({SIGINT, SIGTERM}); !s) err << "imsflow load: " << s.error().describe() << "\n";
  const bool live_line = o.progress == 1 || (o.progress == -1 && ::isatty(STDERR_FILENO));
  err << fmt::format("imsflow load: {} calls/s to {} ({}, profile {}, {} thread{}{}){}\n", o.rate, target->to_string(),
                     o.transport, o.profile, gens.size(), gens.size() == 1 ? "" : "s",
                     inject->kind == load::Injection::None ? "" : ", inject " + load::injection_name(*inject),
                     o.calls ? fmt::format(", {} calls", o.calls) : o.duration_s > 0 ? fmt::format(", {} s", o.duration_s)
                                                                                      : ", until Ctrl-C");
  loops.start();

  // The main thread watches: progress, the time series, and the end.
  const std::uint64_t wanted = o.calls;
  const Duration starting_for = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(o.duration_s));
  // After the last call started, calls get this long to end (64·T1 covers
  // every timeout of the ladder, plus the hold; the far end's T1 may be the
  // default one whatever ours is).
  const Duration drain =
      std::max<Duration>(32s, 64 * std::chrono::milliseconds(o.t1_ms)) + std::chrono::milliseconds(o.hold_ms) + 5s;
  std::vector<Sample> series;
  Sample last{};
  std::optional<TimePoint> starting_over;
  bool hung_up = false;
  TimePoint next_sample = start + 1s;
  while (!loops.last_signal()) {
    std::this_thread::sleep_for(20ms);
    const TimePoint now = Clock::now();
    Sample s = sample(gens, std::chrono::duration<double>(now - start).count(), last);
    const bool all_started = (wanted != 0 && s.attempted >= wanted) ||
                             (starting_for != Duration::zero() && now >= start + starting_for);
    if (all_started && !starting_over) starting_over = now;
    if (all_started && s.in_flight == 0) {
      last = s;
      break;
    }
    if (starting_over && now > *starting_over + drain && !hung_up) {
      hung_up = true;  // calls that would not end: hang them up, give them 5 s
      for (std::size_t i = 0; i < gens.size(); ++i)
        loops.shard(i).post([g = gens[i].get()] {
          g->stop_starting();
          g->hang_up_all(Clock::now());
        });
    }
    if (starting_over && now > *starting_over + drain + 5s) break;
    if (now >= next_sample) {
      next_sample += 1s;
      series.push_back(s);
      last = s;
      if (live_line) {
        err << "\r" << progress_line(s) << "   " << std::flush;
      } else {
        err << progress_line(s) << "\n";
      }
    }
  }
  const bool by_signal = loops.last_signal().has_value();
  loops.stop();
  loops.join();
  if (live_line) err << "\n";
  const Sample final_sample = sample(gens, std::chrono::duration<double>(Clock::now() - start).count(), last);
  series.push_back(final_sample);

  if (!o.pcap.empty()) {
    if (auto status = net::write_recorded_pcap(o.pcap, seen); !status)
      err << "imsflow load: " << status.error().describe() << "\n";
  }

  load::GeneratorReport total;
  for (const auto& g : gens) total.merge(g->report());
  const double elapsed = final_sample.t_s;
  // The rate achieved: calls over the time they were being started.
  const double starting_s =
      starting_over ? std::chrono::duration<double>(*starting_over - start).count() : elapsed;
  const bool injected = inject->kind != load::Injection::None;
  const bool ok = total.attempted > 0 && total.unfinished == 0 &&
                  (injected ? total.injected_outcomes == total.attempted : total.established == total.attempted);

  nlohmann::json latency = nlohmann::json::object();
  for (std::size_t k = 0; k < load::kKpis; ++k) {
    const auto& l = total.latency[k];
    latency[std::string(load::kpi_name(static_cast<load::Kpi>(k)))] = {
        {"count", l.count()},           {"p50", l.percentile_ms(0.5)},   {"p90", l.percentile_ms(0.9)},
        {"p99", l.percentile_ms(0.99)}, {"p99_9", l.percentile_ms(0.999)}, {"max", l.max_ms()},
        {"mean", l.mean_ms()}};
  }
  if (!o.json.empty()) {
    nlohmann::json j;
    j["target"] = target->to_string();
    j["rate_asked"] = o.rate;
    j["profile"] = o.profile;
    j["transport"] = o.transport;
    j["threads"] = gens.size();
    j["inject"] = load::injection_name(*inject);
    j["elapsed_s"] = elapsed;
    j["rate_achieved"] = starting_s > 0 ? static_cast<double>(total.attempted) / starting_s : 0.0;
    j["stopped_by"] = by_signal ? "signal" : "done";
    j["calls"] = {{"attempted", total.attempted},
                  {"established", total.established},
                  {"failed", total.failed},
                  {"unfinished", total.unfinished},
                  {"injected_outcomes", total.injected_outcomes}};
    j["backoff"] = {{"count", total.backoffs}, {"seconds", std::chrono::duration<double>(total.backed_off).count()}};
    nlohmann::json f = nlohmann::json::object();
    for (const auto& [cause, n] : total.failures) f[cause] = n;
    j["failures"] = f;
    j["latency_ms"] = latency;
    auto by_type = [](const txn::MessageTypeCounts& counts) {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [type, n] : counts.items()) o[type] = n;
      return o;
    };
    j["retransmissions"] = {{"sent", total.transactions.retransmissions_sent},
                            {"requests_absorbed", total.transactions.request_retransmissions_received},
                            {"responses_absorbed", total.transactions.response_retransmissions_received},
                            {"sent_by_type", by_type(total.transactions.sent_again)},
                            {"received_by_type", by_type(total.transactions.received_again)}};
    j["dropped"] = {{"count", total.dropped}, {"example", total.dropped_example}};
    nlohmann::json ts = nlohmann::json::array();
    for (const Sample& s : series)
      ts.push_back({{"t_s", s.t_s}, {"attempted", s.attempted}, {"established", s.established}, {"failed", s.failed},
                    {"in_flight", s.in_flight}, {"rate", s.rate}, {"setup_p50_ms", s.setup_p50_ms},
                    {"setup_p99_ms", s.setup_p99_ms}});
    j["series"] = ts;
    std::ofstream file(o.json);
    if (!(file << j.dump(2) << "\n")) err << "imsflow load: cannot write " << o.json << "\n";
  }
  if (!o.csv.empty()) {
    std::ofstream file(o.csv);
    file << "t_s,attempted,established,failed,in_flight,rate,setup_p50_ms,setup_p99_ms\n";
    for (const Sample& s : series)
      file << fmt::format("{:.3f},{},{},{},{},{:.1f},{:.3f},{:.3f}\n", s.t_s, s.attempted, s.established, s.failed,
                          s.in_flight, s.rate, s.setup_p50_ms, s.setup_p99_ms);
    if (!file) err << "imsflow load: cannot write " << o.csv << "\n";
  }

  out << fmt::format("imsflow load: {} to {} ({}, {}){}\n", o.profile, target->to_string(), o.transport,
                     injected ? "inject " + load::injection_name(*inject) : std::string("no injection"),
                     by_signal ? ", stopped by a signal" : "");
  out << fmt::format("  calls        {} attempted in {:.1f} s ({:.1f}/s), {} established, {} failed, {} unfinished\n",
                     total.attempted, starting_s, starting_s > 0 ? static_cast<double>(total.attempted) / starting_s : 0.0,
                     total.established, total.failed, total.unfinished);
  if (injected) out << fmt::format("  injected     {} of {} calls ended as injected\n", total.injected_outcomes, total.attempted);
  for (const auto& [cause, n] : total.failures) out << fmt::format("  failed {:>7}  {}\n", n, cause);
  if (total.backoffs)
    out << fmt::format("  backed off   {} times, {:.1f} s in all, as Retry-After asked\n", total.backoffs,
                       std::chrono::duration<double>(total.backed_off).count());
  out << fmt::format("  retransmits  {} sent, {} requests and {} responses absorbed\n",
                     total.transactions.retransmissions_sent, total.transactions.request_retransmissions_received,
                     total.transactions.response_retransmissions_received);
  if (total.dropped != 0)
    out << fmt::format("  dropped      {} messages from the network could not be used, e.g. {}\n", total.dropped,
                       total.dropped_example);
  if (total.transactions.sent_again.total() + total.transactions.received_again.total() != 0) {
    out << fmt::format("               sent again: {}\n", total.transactions.sent_again.describe());
    out << fmt::format("               received again: {}\n", total.transactions.received_again.describe());
  }
  out << "  latency (ms)                    count      p50      p90      p99    p99.9      max\n";
  for (std::size_t k = 0; k < load::kKpis; ++k) {
    const auto& l = total.latency[k];
    if (l.count() == 0) continue;
    out << fmt::format("  {:<28} {:>8} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}\n",
                       load::kpi_label(static_cast<load::Kpi>(k)), l.count(), l.percentile_ms(0.5),
                       l.percentile_ms(0.9), l.percentile_ms(0.99), l.percentile_ms(0.999), l.max_ms());
  }
  return ok ? 0 : 1;
}

}  // namespace imsflow::cli
