#include "gateway/service/audit_trail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "audit/spool_sink.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/host_name.h"

namespace warden::gateway {
namespace {

constexpr size_t kUploadBatch = 1000;
constexpr std::string_view kComponent = "gateway-audit";

}  // namespace

Result<std::unique_ptr<GatewayAuditTrail>> GatewayAuditTrail::start(EventStore& store, AuditTrailOptions options) {
  const int64_t now = SystemClock::instance().nowMillis();
  std::unique_ptr<GatewayAuditTrail> t(new GatewayAuditTrail(store, std::move(options)));
  t->session_.hostname = t->options_.hostname.empty() ? hostName() : t->options_.hostname;
  t->session_.session_id = uuidV7(now);
  t->session_.session_name = std::string(kGatewaySessionName);
  t->log_dir_ = t->options_.log_root / t->session_.session_id;

  audit::PipelineOptions po;
  po.log_dir = t->log_dir_;
  po.session = t->session_;
  po.jsonl_enabled = true;  // warden-ocsf.log too, so `warden audit verify DIR` works on the files
  // Called on the writer thread (and once inside Pipeline::start for LOG:START): only queues.
  po.sinks.push_back(std::make_shared<audit::CallbackSink>("gateway store", [trail = t.get()](const audit::SinkBatch& b) {
    std::vector<audit::SpooledEvent> batch;
    batch.reserve(b.events.size());
    for (const auto& r : b.events) {
      batch.push_back(audit::SpooledEvent{.sequence = r.sequence, .json = std::string(r.json),
                                          .shorthand = std::string(r.shorthand)});
    }
    if (!batch.empty()) trail->enqueue(std::move(batch));
  }));
  auto pipeline = audit::Pipeline::start(std::move(po));
  if (!pipeline.ok()) {
    return pipeline.error().withContext("the gateway's own audit log in " + t->log_dir_.string());
  }
  t->pipeline_ = std::move(*pipeline);

  SessionRecord rec;
  rec.id = t->session_.session_id;
  rec.name = std::string(kGatewaySessionName);
  rec.public_key = t->pipeline_->publicKeyHex();
  rec.state = "running";
  rec.created_ms = now;
  rec.updated_ms = now;
  rec.hostname = t->session_.hostname;
  if (auto r = store.upsertSession(rec); !r.ok()) {
    (void)t->pipeline_->close();
    t->pipeline_.reset();
    return r.error().withContext("registering the gateway's own session " + rec.id);
  }
  t->record_ = std::move(rec);
  t->uploader_ = std::thread([trail = t.get()] { trail->upload(); });
  return t;
}

GatewayAuditTrail::~GatewayAuditTrail() { close(); }

uint64_t GatewayAuditTrail::unstored() const {
  std::lock_guard lock(mu_);
  return unstored_;
}

void GatewayAuditTrail::enqueue(std::vector<audit::SpooledEvent>&& batch) {
  {
    std::lock_guard lock(mu_);
    for (auto& e : batch) {
      if (pending_.size() >= options_.max_pending_events) {
        ++unstored_;
        continue;
      }
      pending_.push_back(std::move(e));
    }
  }
  cv_.notify_all();
}

void GatewayAuditTrail::report(audit::Level level, const std::string& message) {
  bool to_stderr = false;
  {
    std::lock_guard lock(mu_);
    to_stderr = pipeline_closed_;
  }
  if (to_stderr) {
    std::fprintf(stderr, "warden gateway: %s: %s\n", std::string(kComponent).c_str(), message.c_str());
  } else {
    pipeline_->operational(level, kComponent, message);
  }
}

void GatewayAuditTrail::upload() {
  bool failing = false;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !pending_.empty() || stopping_; });
    if (pending_.empty()) return;  // stopping and drained
    std::vector<StoredEvent> batch;
    const size_t waiting = pending_.size();
    const size_t n = std::min(waiting, kUploadBatch);
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const audit::SpooledEvent& s = pending_[i];
      StoredEvent e;
      e.session_id = session_.session_id;
      e.sequence = s.sequence;
      e.json = s.json;
      e.shorthand = s.shorthand;
      e.kind = std::string(shorthandKind(s.shorthand));
      batch.push_back(extractFacts(std::move(e)));
    }
    lock.unlock();
    auto stored = store_.append(batch);
    if (stored.ok()) {
      if (failing) {
        failing = false;
        report(audit::Level::kInfo, "storing the gateway's own events in the event store works again");
      }
      if (options_.on_stored) options_.on_stored();
      lock.lock();
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      continue;
    }
    if (stored.error().code() == Code::kInvalidArgument) {
      // Retrying cannot help; the events stay in warden.log.
      report(audit::Level::kError, fmt::format("{} of the gateway's own events refused by the event store: {}", n,
                                               stored.error().message()));
      lock.lock();
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      unstored_ += n;
      continue;
    }
    if (!failing) {
      failing = true;
      report(audit::Level::kError,
             fmt::format("cannot store the gateway's own events ({} waiting): {}; retrying every {} ms", waiting,
                         stored.error().message(), options_.retry_interval.count()));
    }
    lock.lock();
    const auto now = std::chrono::steady_clock::now();
    if (stopping_ && now >= give_up_at_) {
      unstored_ += pending_.size();
      std::fprintf(stderr,
                   "warden gateway: %zu of the gateway's own events were not stored in the event store (they are in "
                   "%s): %s\n",
                   pending_.size(), log_dir_.c_str(), stored.error().message().c_str());
      pending_.clear();
      return;
    }
    auto wake = now + options_.retry_interval;
    if (stopping_) wake = std::min(wake, give_up_at_);
    cv_.wait_until(lock, wake, [&] { return stopping_ && std::chrono::steady_clock::now() >= give_up_at_; });
  }
}

void GatewayAuditTrail::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  if (pipeline_) {
    if (auto r = pipeline_->close(); !r.ok()) {
      std::fprintf(stderr, "warden gateway: closing the gateway's own audit log: %s\n", r.error().toString().c_str());
    }
  }
  {
    std::lock_guard lock(mu_);
    pipeline_closed_ = true;
    stopping_ = true;
    give_up_at_ = std::chrono::steady_clock::now() + options_.close_timeout;
  }
  cv_.notify_all();
  if (uploader_.joinable()) uploader_.join();
  if (pipeline_) {
    // The record says the gateway process is gone (it ran until now).
    record_.state = "stopped";
    record_.updated_ms = SystemClock::instance().nowMillis();
    if (auto r = store_.upsertSession(record_); !r.ok()) {
      std::fprintf(stderr, "warden gateway: marking the gateway's own session stopped: %s\n",
                   r.error().toString().c_str());
    }
  }
}

}  // namespace warden::gateway
