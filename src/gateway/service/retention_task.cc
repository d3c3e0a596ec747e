#include "gateway/service/retention_task.h"

#include <fmt/format.h>

#include "audit/log_events.h"

namespace warden::gateway {
namespace {
constexpr std::string_view kComponent = "retention";
}  // namespace

RetentionTask::RetentionTask(EventStore& store, audit::Emitter& emitter, const ocsf::SessionContext& session,
                             RetentionOptions options)
    : store_(store),
      emitter_(emitter),
      session_(session),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::instance()) {}

RetentionTask::~RetentionTask() { stop(); }

void RetentionTask::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void RetentionTask::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t RetentionTask::passes() const {
  std::lock_guard lock(mu_);
  return passes_;
}

uint64_t RetentionTask::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

Result<std::vector<EventStore::Deleted>> RetentionTask::runOnce() {
  const int64_t now = clock_.nowMillis();
  const int64_t cutoff = options_.max_age_ms ? now - *options_.max_age_ms : 0;
  auto deleted = store_.deleteExpired(cutoff, options_.max_bytes);
  {
    std::lock_guard lock(mu_);
    ++passes_;
    if (!deleted.ok()) ++failures_;
  }
  if (!deleted.ok()) {
    emitter_.operational(audit::Level::kError, kComponent,
                         fmt::format("retention failed, nothing deleted: {}; next try in {} ms",
                                     deleted.error().message(), options_.interval.count()));
    return deleted.error();
  }
  for (const auto& d : *deleted) {
    audit::RetentionFacts facts;
    facts.session_id = d.session_id;
    facts.count = d.count;
    facts.first_seq = d.first_seq;
    facts.last_seq = d.last_seq;
    facts.cutoff_ms = cutoff;
    facts.max_bytes = options_.max_bytes;
    emitter_.emit(audit::retentionEvent(session_, now, facts));
  }
  return deleted;
}

void RetentionTask::run() {
  for (;;) {
    (void)runOnce();  // errors are reported on the trail by runOnce()
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, options_.interval, [&] { return stopping_; })) return;
  }
}

}  // namespace warden::gateway
