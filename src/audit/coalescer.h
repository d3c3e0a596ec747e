#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ocsf/event.h"

namespace warden::audit {

struct CoalesceOptions {
  // How long after an event is written identical ones are summarised instead (0: off).
  std::chrono::milliseconds window{1000};
  // Windows open at once; when full, a new key is not tracked and its events are written as they
  // come (nothing is dropped; only the summarising stops).
  size_t max_keys = 4096;
};

// Turns floods of identical denials into one event written at once plus one summary per window
// (issue 12 item 7; docs/formats.md "Coalescing repeated events").
//
// Which events: producer events that were refused — action Denied — of the network, HTTP, DNS,
// SSH and file classes, and NET:CLOSE events (the close of each refused CONNECT repeats the same
// bytes; traffic bytes are part of the key, so closes that moved different data never merge).
// Never a finding, a session/lifecycle/config/limit/log event, or another allowed event (every
// allowed open or request is real activity).
// The key: class, activity, action, actor (pid, name, executable path), source address (not its
// port), destination (endpoint
// hostname, ip and port; URL method, host and path; DNS name and type; file path), firewall rule
// and reason (status_detail). Two events with the same key are "identical" for the record.
//
// admit(): the first event of a key is written (kWrite) and opens a window of `window`; every
// identical event while the window is open is counted (kSuppressed) — its time extends the
// window's [start_time, end_time] — and not written. due() closes each window whose time is up:
// one that counted anything yields a summary event, a copy of the first event it suppressed with
// `count` = the number suppressed, `start_time`/`end_time` = the first and last of them,
// `time` = end_time, a fresh metadata.uid, and unmapped.coalesced {window_ms, first_uid} naming
// the event that opened the window (a summary of closes: `duration` = end_time - start_time, the
// time it covers, and unmapped.coalesced.duration_total_ms = the sum of the connections' durations). Counting: for every key, the events written (1 per window)
// plus the `count` of the summaries equals the events produced. Nothing is dropped: at close
// (due(.., true)) every open window with a count yields its summary.
//
// Thread-safe: admit() from any producer thread, due() from the writer. One mutex; admit() of
// an event that cannot coalesce takes no lock.
class Coalescer {
 public:
  explicit Coalescer(CoalesceOptions options) : options_(options) {}

  enum class Verdict : uint8_t { kWrite, kSuppressed };
  // `now` is a steady clock reading (the pipeline's clock).
  Verdict admit(const ocsf::Event& event, std::chrono::steady_clock::time_point now);
  // Summaries of the windows that ended by `now` (all open windows when `all`), in the order
  // their windows opened. The caller writes them.
  std::vector<ocsf::Event> due(std::chrono::steady_clock::time_point now, bool all);
  // The earliest time a window ends (for the writer's wait), or nullopt when none is open.
  std::optional<std::chrono::steady_clock::time_point> nextDue() const;

  bool enabled() const { return options_.window.count() > 0; }
  static bool coalescible(const ocsf::Event& event);
  // The identity two events must share to be coalesced. Exposed for tests.
  static std::string keyOf(const ocsf::Event& event);

  uint64_t suppressed() const;  // events counted into summaries so far
  uint64_t summaries() const;   // summary events produced so far

 private:
  struct Window {
    std::chrono::steady_clock::time_point closes;
    std::string first_uid;  // the event written at once
    uint64_t count = 0;
    int64_t start_time = 0;
    int64_t end_time = 0;
    int64_t duration_total = 0;  // sum of the suppressed events' durations
    std::optional<ocsf::Event> sample;  // the first suppressed event
  };

  const CoalesceOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // Guarded by mu_.
  // Keys in the order their windows opened, which is also the order they close (one window
  // length for all): due() pops from the front. Guarded by mu_.
  std::deque<std::string> order_;
  uint64_t suppressed_ = 0;                          // Guarded by mu_.
  uint64_t summaries_ = 0;                           // Guarded by mu_.
};

}  // namespace warden::audit
