// The call generator of `imsflow load`, sans-I/O: a txn::Node around a
// dialog::UserAgent that starts calls at a steady rate (a token bucket on
// the driver's clock, not sleeps), holds each established call, hangs it
// up, and measures every call's ladder. One generator per event loop; the
// command runs one per core and adds their reports up.
//
// A 503 or 500 with Retry-After pauses new calls for that long (RFC 3261
// §21.5.4: the server asked to be left alone), counted in the report.
//
// The protocol is the sessions layer's: reliable 183/180 with PRACK,
// preconditions with UPDATE or the plain ladder, retransmissions, the
// UDP→TCP size rule. This layer only decides when to call, when to hang
// up, and what to inject.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dialog/user_agent.hpp"
#include "load/call_behaviour.hpp"
#include "load/statistics.hpp"
#include "txn/node.hpp"
#include "txn/timer_queue.hpp"

namespace imsflow::load {

using namespace std::chrono_literals;

/// A failure produced on purpose, to reproduce one row of the seed's table.
enum class Injection : std::uint8_t {
  None,
  NoPrack,      // never PRACK: the UAS gives up after 64·T1 (504)
  NoAck,        // never ACK the 200: the UAS sends BYE after 64·T1
  CancelAfter,  // CANCEL calls still unanswered after `after`
  ByeEarly,     // BYE right after the ACK (established, then released at once)
};

struct InjectSpec {
  Injection kind = Injection::None;
  Duration after{};
};
/// "no-prack", "no-ack", "cancel-after:2.5" (seconds), "bye-early".
std::optional<InjectSpec> parse_injection(std::string_view text);
std::string injection_name(const InjectSpec& spec);

/// The latencies measured per call; names as the analyzer's JSON where they
/// mean the same thing (setup_ms, pdd_ms).
enum class Kpi : std::uint8_t {
  InviteTo100,        // INVITE → first response (100 Trying)
  PostDialDelay,      // INVITE → first 18x
  ProvisionalToPrack, // first 18x → 200 to its PRACK
  Setup,              // INVITE → 200 (INVITE)
  AckDelay,           // 200 → ACK
  kCount
};
constexpr std::size_t kKpis = static_cast<std::size_t>(Kpi::kCount);
std::string_view kpi_name(Kpi k);   // "invite_to_100_ms", "pdd_ms" …
std::string_view kpi_label(Kpi k);  // "INVITE -> 100" …

struct GeneratorConfig {
  dialog::UserAgentConfig ua;  // local endpoint, timers, seed (profile applied by the generator)
  Profile profile = Profile::Reliable100rel;
  std::string target_uri;      // Request-URI and To
  sip::Endpoint target;        // where INVITEs go
  std::string media_address = "127.0.0.1";
  double rate = 10;            // calls per second from this generator
  // Where in its first call interval this generator starts, from 0 (a call
  // at once) to 1: generators sharing a rate take turns instead of all
  // starting a call at the same instant.
  double phase = 0;
  Duration ramp{};             // the rate rises linearly from 0 over this
  std::uint64_t max_calls = 0;      // 0: no limit
  Duration duration{};              // calls start during this long (0: no limit)
  std::uint32_t max_concurrent = 0; // 0: no limit
  Duration hold = 1s;
  InjectSpec inject;
  /// Calls start, and hang-ups happen, on this grid (0: exactly when due).
  /// Starting the calls of a millisecond together lets both ends handle
  /// them in one wake-up and one recvmmsg/sendmmsg batch: at thousands of
  /// calls per second the cost per call is the wake-ups, not the SIP work.
  Duration tick = 1ms;
};

/// What the generator counted. Sums over generators with merge().
struct GeneratorReport {
  std::uint64_t attempted = 0;
  std::uint64_t established = 0;       // confirmed by ACK
  std::uint64_t failed = 0;            // no session: a final non-2xx, a timeout, a CANCEL
  std::uint64_t injected_outcomes = 0; // calls that ended as the injection meant
  std::uint64_t unfinished = 0;        // still in flight when the run stopped
  std::uint64_t backoffs = 0;          // pauses asked by a 503/500 with Retry-After
  Duration backed_off{};               // their total length
  std::map<std::string, std::uint64_t> failures;  // "486 rejected with 486 Busy Here: callee busy" → count
  std::array<LatencySamples, kKpis> latency;
  txn::TransactionStats transactions;  // retransmissions sent and absorbed, timeouts, …
  // Messages the UA could not use (unparsable, no dialog, no RSeq …), and
  // the first reason, so a peer answering garbage shows as such.
  std::uint64_t dropped = 0;
  std::string dropped_example;
  void merge(const GeneratorReport& other);
};

/// Read by other threads while calls run (relaxed atomics).
struct LiveCounters {
  std::atomic<std::uint64_t> attempted{0};
  std::atomic<std::uint64_t> established{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> in_flight{0};
  LiveHistogram setup;
};

class CallGenerator final : public txn::Node, private dialog::SessionObserver {
 public:
  /// Calls start from `start` on.
  CallGenerator(GeneratorConfig config, TimePoint start);

  // --- txn::Node ---
  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local,
               TimePoint now) override {
    ua_.receive(bytes, remote, local, now);
  }
  void advance(TimePoint now) override;
  std::optional<TimePoint> next_deadline() const override;
  void take_transmits(std::vector<txn::Transmit>& out) override { ua_.take_transmits(out); }
  void transport_failed(const txn::Transmit& what, std::string_view why, TimePoint now) override {
    ua_.transport_failed(what, why, now);
  }

  /// No new calls from now on (Ctrl-C, or the run's time is up); calls in
  /// flight go on to their end.
  void stop_starting() { stopped_ = true; }
  /// Hangs up every call still up (CANCEL or BYE), for a prompt end.
  void hang_up_all(TimePoint now);
  /// No call will start any more and none is in flight.
  bool done() const { return !will_start() && calls_.empty(); }
  const LiveCounters& live() const { return live_; }
  /// The final figures; `unfinished` counts calls still in flight.
  GeneratorReport report() const;
  const dialog::UserAgent& user_agent() const { return ua_; }

 private:
  struct Call {
    std::uint32_t generation = 0;
    TimePoint started;
    bool answered = false;   // Confirmed (or, with NoAck, a 2xx came)
    bool hung_up = false;
  };
  enum Action : std::uint8_t { kHangUp = 0, kCancel = 1 };

  void on_session_event(const dialog::SessionEvent& e) override;
  bool will_start() const;
  double rate_at(TimePoint now) const;
  void start_due_calls(TimePoint now);
  void finish(std::uint32_t index, bool ok_by_injection);
  TimePoint on_tick(TimePoint t) const;

  GeneratorConfig config_;
  dialog::UserAgent ua_;
  dialog::CallRequest request_;
  TimePoint start_;
  TimePoint last_refill_;
  double tokens_ = 1;      // set from config_.phase: 1 lets a call start at once
  TimePoint paused_until_;  // a 503/500 with Retry-After asked for quiet until then
  bool stopped_ = false;
  std::unordered_map<std::uint32_t, Call> calls_;  // by session index
  txn::TimerQueue timers_;  // hang-ups and CANCELs (index, generation, action)
  GeneratorReport report_;
  LiveCounters live_;
};

}  // namespace imsflow::load
