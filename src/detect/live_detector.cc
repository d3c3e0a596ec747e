#include "detect/live_detector.h"

#include <fmt/format.h>

#include <utility>

namespace warden::detect {

Result<std::unique_ptr<LiveDetector>> LiveDetector::start(std::shared_ptr<const RuleSet> rules,
                                                          LiveDetectorOptions options) {
  if (!rules) return invalidArgument("LiveDetector: no rule set");
  if (options.queue_capacity == 0) return invalidArgument("LiveDetector: queue_capacity must be at least 1");
  std::unique_ptr<LiveDetector> d(new LiveDetector(std::move(rules), std::move(options)));
  d->thread_ = std::thread([raw = d.get()] { raw->run(); });
  return d;
}

LiveDetector::LiveDetector(std::shared_ptr<const RuleSet> rules, LiveDetectorOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::instance()),
      engine_(std::move(rules), options_.engine) {}

void LiveDetector::attach(audit::Emitter& emitter) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    emitter_ = &emitter;
  }
  wake_.notify_one();
}

bool LiveDetector::drain(const std::function<bool()>& writer_idle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!idle_.wait_until(lock, deadline, [&] { return idleLocked() && emitter_ != nullptr; })) return false;
    }
    // The detector is idle; if the writer has also caught up (our findings included, which it
    // hands back to submit() before counting them written), nothing is left in flight.
    if (writer_idle()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (idleLocked()) return true;
      continue;
    }
    std::unique_lock<std::mutex> lock(mu_);
    // The writer is still busy: wait for its next batch to reach us (or a short while).
    idle_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(1)),
                     [&] { return !queue_.empty(); });
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
}

LiveDetector::~LiveDetector() { close(); }

void LiveDetector::submit(uint64_t sequence, std::string json) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) {
      ++stats_.after_close;
      return;
    }
    ++stats_.submitted;
    if (queue_.size() >= options_.queue_capacity || queue_bytes_ + json.size() > options_.queue_max_bytes) {
      ++stats_.skipped;
      if (skipped_unreported_++ == 0) skipped_first_seq_ = sequence;
      skipped_last_seq_ = sequence;
      return;
    }
    queue_bytes_ += json.size();
    queue_.push_back(Item{sequence, std::move(json)});
  }
  wake_.notify_one();
  idle_.notify_all();
}

void LiveDetector::submit(const audit::SinkBatch& batch) {
  for (const auto& e : batch.events) submit(e.sequence, std::string(e.json));
}

void LiveDetector::reportSkipped(audit::Emitter& emitter, bool force) {
  uint64_t count = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  const auto now = clock_.steadyNow();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (skipped_unreported_ == 0) return;
    if (!force && now - last_report_ < options_.skipped_report_interval) return;
    count = std::exchange(skipped_unreported_, 0);
    first = skipped_first_seq_;
    last = skipped_last_seq_;
  }
  last_report_ = now;
  ocsf::OperationalInput in;
  in.severity = ocsf::Severity::kHigh;
  in.name = "Detection Skipped";
  in.message = fmt::format("{} event{} not evaluated by the detection rules (their queue was full)", count,
                           count == 1 ? " was" : "s were");
  ocsf::Value skipped = ocsf::Value::object();
  skipped.set("count", count);
  skipped.set("first_seq", first);
  skipped.set("last_seq", last);
  skipped.set("reason", "queue full");
  in.unmapped.set("detection_skipped", std::move(skipped));
  emitter.emit(ocsf::operationalEvent(options_.session, clock_.nowMillis(), in));
}

void LiveDetector::run() {
  EngineOutput out;
  std::deque<Item> batch;
  for (;;) {
    bool closing = false;
    audit::Emitter* emitter = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, options_.skipped_report_interval,
                     [&] { return closing_ || (!queue_.empty() && emitter_ != nullptr); });
      closing = closing_;
      emitter = emitter_;
      if (emitter == nullptr) {
        if (closing) return;  // never attached: nothing can be emitted (the queue dies with us)
        continue;
      }
      batch.swap(queue_);
      queue_bytes_ = 0;
      busy_ = true;
    }
    uint64_t findings = 0;
    for (auto& item : batch) {
      engine_.evaluate(item.json, out);
      for (auto& e : out.events) emitter->emit(std::move(e));
      findings += out.actions.size();
      if (options_.on_action) {
        for (const auto& a : out.actions) options_.on_action(a);
      }
      out.clear();
    }
    const size_t evaluated = batch.size();
    batch.clear();
    reportSkipped(*emitter, closing);
    bool done = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.evaluated += evaluated;
      stats_.findings += findings;
      stats_.rules_disabled = engine_.stats().rules_disabled;
      stats_.unparsable = engine_.stats().unparsable;
      busy_ = false;
      done = closing && queue_.empty();
    }
    idle_.notify_all();
    if (done) return;
  }
}

void LiveDetector::close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  if (closed_) return;
  closed_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

LiveDetectorStats LiveDetector::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace warden::detect
