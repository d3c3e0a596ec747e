#include "audit/log_events.h"

#include <fmt/format.h>

#include "common/encoding.h"

namespace warden::audit {

using ocsf::Event;
using ocsf::Value;

void fillMissingSessionFields(Event& event, const SessionContext& session) {
  event.metadata.profiles |= ocsf::kProfileHost | ocsf::kProfileContainer;
  if (event.metadata.uid.empty()) event.metadata.uid = uuidV7(event.time);
  if (event.metadata.correlation_uid.empty()) event.metadata.correlation_uid = session.session_id;
  if (event.metadata.product_version.empty()) event.metadata.product_version = session.product_version;
  if (!event.device) {
    ocsf::Device d;
    d.hostname = session.hostname;
    d.container = ocsf::Container{.name = session.session_name.empty() ? session.session_id : session.session_name,
                                  .uid = session.session_id,
                                  .image_name = session.image_name};
    event.device = std::move(d);
  }
}

namespace {

Event logEvent(const SessionContext& session, int64_t time, int activity_id, std::string_view activity_name,
               ocsf::Severity severity) {
  Event e = ocsf::newEvent(session, ocsf::Kind::kLog, ocsf::ClassUid::kEventLogActivity, activity_id, time);
  e.activity_name = std::string(activity_name);
  e.severity = severity;
  e.log_provider = "warden";
  e.log_type = ocsf::LogType::kApplication;
  return e;
}

Value writeFailureValue(const WriteFailureFacts& f, bool recovered) {
  Value v = Value::object();
  v.set("file", f.file);
  v.set("error", f.error);
  v.set("since", f.since);
  if (recovered) {
    v.set("lines_delayed", f.lines_delayed);
    v.set("lines_lost", f.lines_lost);
  }
  return v;
}

}  // namespace

Event logStartEvent(const SessionContext& session, int64_t time, std::string_view public_key_hex,
                    std::string_view key_id) {
  Event e = logEvent(session, time, 6, "", ocsf::Severity::kInformational);
  e.status = ocsf::Status::kSuccess;
  e.message = "audit log started";
  Value key = Value::object();
  key.set("algorithm", "Ed25519");
  key.set("public_key", public_key_hex);
  key.set("key_id", key_id);
  e.unmapped.set("signing_key", std::move(key));
  return e;
}

Event checkpointEvent(const SessionContext& session, int64_t time, const CheckpointFacts& f) {
  Event e = logEvent(session, time, 99, "Checkpoint", ocsf::Severity::kInformational);
  e.message = fmt::format("{}checkpoint seq {}-{}", f.final ? "final " : "", f.first_seq, f.last_seq);
  Value cp = Value::object();
  cp.set("first_seq", f.first_seq);
  cp.set("last_seq", f.last_seq);
  cp.set("head", f.head_hex);
  cp.set("key_id", f.key_id);
  if (!f.signature_hex.empty()) cp.set("signature", f.signature_hex);
  if (f.final) cp.set("final", true);
  e.unmapped.set("checkpoint", std::move(cp));
  return e;
}

Event lossEvent(const SessionContext& session, int64_t time, const LossFacts& f) {
  Event e = logEvent(session, time, 99, "Loss", ocsf::Severity::kHigh);
  e.status = ocsf::Status::kFailure;
  e.count = static_cast<int64_t>(f.count + f.refused_over_budget);
  if (f.refused_over_budget > 0) {
    e.message = fmt::format("{} events refused past the session's log budget, {} shed (audit queue full), around "
                            "seq {}-{}",
                            f.refused_over_budget, f.count, f.first_seq, f.last_seq);
  } else if (f.operational_lines > 0) {
    e.message = fmt::format("{} events and {} log lines shed (audit queue full) around seq {}-{}", f.count,
                            f.operational_lines, f.first_seq, f.last_seq);
  } else {
    e.message = fmt::format("{} events shed (audit queue full) around seq {}-{}", f.count, f.first_seq, f.last_seq);
  }
  Value loss = Value::object();
  loss.set("count", f.count);
  loss.set("first_seq", f.first_seq);
  loss.set("last_seq", f.last_seq);
  if (f.operational_lines > 0) loss.set("operational_lines", f.operational_lines);
  if (f.refused_over_budget > 0) loss.set("refused_over_budget", f.refused_over_budget);
  e.unmapped.set("loss", std::move(loss));
  return e;
}

Event rotateEvent(const SessionContext& session, int64_t time, std::string_view reason,
                  const std::vector<RotatedFile>& files, uint64_t deleted) {
  Event e = logEvent(session, time, 5, "", ocsf::Severity::kInformational);
  e.status = ocsf::Status::kSuccess;
  std::string names;
  Value list = Value::array();
  for (const auto& f : files) {
    Value v = Value::object();
    v.set("file", f.file);
    v.set("rotated_to", f.rotated_to);
    list.push(std::move(v));
    if (!names.empty()) names.append(", ");
    names.append(f.file).append(" -> ").append(f.rotated_to);
  }
  e.message = fmt::format("log rotated ({}): {}", reason, names);
  Value rot = Value::object();
  rot.set("reason", reason);
  rot.set("files", std::move(list));
  if (deleted > 0) rot.set("deleted", deleted);
  e.unmapped.set("rotation", std::move(rot));
  return e;
}

Event writeFailureEvent(const SessionContext& session, int64_t time, const WriteFailureFacts& f) {
  Event e = logEvent(session, time, 99, "Write Failure", ocsf::Severity::kHigh);
  e.status = ocsf::Status::kFailure;
  e.status_detail = f.error;
  e.message = fmt::format("writing {} failed: {}; lines are held in memory and retried", f.file, f.error);
  e.unmapped.set("write_failure", writeFailureValue(f, false));
  return e;
}

Event writeRecoveredEvent(const SessionContext& session, int64_t time, const WriteFailureFacts& f) {
  Event e = logEvent(session, time, 99, "Write Recovered",
                     f.lines_lost > 0 ? ocsf::Severity::kHigh : ocsf::Severity::kMedium);
  e.status = ocsf::Status::kSuccess;
  e.status_detail = f.error;
  e.message = fmt::format("writing {} works again after '{}': {} lines written late, {} lines could not be written",
                          f.file, f.error, f.lines_delayed, f.lines_lost);
  e.unmapped.set("write_failure", writeFailureValue(f, true));
  return e;
}

Event jsonlConfigEvent(const SessionContext& session, int64_t time, bool enabled,
                       std::optional<uint64_t> config_revision, std::string_view failure) {
  ocsf::ConfigChange c;
  c.config_revision = config_revision;
  if (failure.empty()) {
    c.state = std::string(ocsf::kConfigUpdated);
    c.message = enabled ? "OCSF JSONL output enabled" : "OCSF JSONL output disabled";
  } else {
    c.state = std::string(ocsf::kConfigFailed);
    c.message = fmt::format("OCSF JSONL output could not be {}", enabled ? "enabled" : "disabled");
    c.errors.emplace_back(failure);
    c.severity = ocsf::Severity::kMedium;  // the audit trail itself is intact (warden.log)
  }
  return ocsf::configChange(session, time, c);
}

namespace {

Value gatewayValue(const GatewayLinkFacts& f, bool reconnected) {
  Value v = Value::object();
  v.set("url", f.gateway);
  if (!reconnected) v.set("error", f.error);
  v.set("since", f.since);
  if (reconnected) v.set("down_ms", f.down_ms);
  v.set("pending", f.pending);
  return v;
}

}  // namespace

Event gatewayUnreachableEvent(const SessionContext& session, int64_t time, const GatewayLinkFacts& f) {
  Event e = logEvent(session, time, 99, "Gateway Unreachable", ocsf::Severity::kMedium);
  e.status = ocsf::Status::kFailure;
  e.message = fmt::format("gateway {} unreachable: {}; events kept in the spool", f.gateway, f.error);
  e.unmapped.set("gateway", gatewayValue(f, false));
  return e;
}

Event gatewayReconnectedEvent(const SessionContext& session, int64_t time, const GatewayLinkFacts& f) {
  Event e = logEvent(session, time, 99, "Gateway Reconnected", ocsf::Severity::kInformational);
  e.status = ocsf::Status::kSuccess;
  e.message = fmt::format("gateway {} reachable again after {} ms; {} spooled events to resend", f.gateway,
                          f.down_ms, f.pending);
  e.unmapped.set("gateway", gatewayValue(f, true));
  return e;
}

namespace {

Value sinkValue(const SinkFacts& f, bool with_error) {
  Value v = Value::object();
  v.set("name", f.sink);
  if (with_error && !f.error.empty()) v.set("error", f.error);
  if (f.since != 0) v.set("since", f.since);
  return v;
}

}  // namespace

Event sinkUnreachableEvent(const SessionContext& session, int64_t time, const SinkFacts& f) {
  Event e = logEvent(session, time, 99, "Sink Unreachable", ocsf::Severity::kMedium);
  e.status = ocsf::Status::kFailure;
  e.status_detail = f.error;
  e.message = fmt::format("{} unreachable: {}; {} events wait in its spool", f.sink, f.error, f.pending);
  Value v = sinkValue(f, true);
  v.set("pending", f.pending);
  e.unmapped.set("sink", std::move(v));
  return e;
}

Event sinkReconnectedEvent(const SessionContext& session, int64_t time, const SinkFacts& f) {
  Event e = logEvent(session, time, 99, "Sink Reconnected", ocsf::Severity::kInformational);
  e.status = ocsf::Status::kSuccess;
  e.message = fmt::format("{} reachable again after {} ms; {} events to deliver", f.sink, f.down_ms, f.pending);
  Value v = sinkValue(f, false);
  v.set("down_ms", f.down_ms);
  v.set("pending", f.pending);
  e.unmapped.set("sink", std::move(v));
  return e;
}

Event sinkOverflowEvent(const SessionContext& session, int64_t time, const SinkFacts& f) {
  Event e = logEvent(session, time, 99, "Sink Overflow", ocsf::Severity::kHigh);
  e.status = ocsf::Status::kFailure;
  e.status_detail = f.error;
  e.count = static_cast<int64_t>(f.skipped);
  e.message = f.first_seq != 0
                  ? fmt::format("{} skipped {} (seq {}-{}): {}; the session's files hold them", f.sink, f.skipped,
                                f.first_seq, f.last_seq, f.error)
                  : fmt::format("{} skipped {}: {}; the session's files hold them", f.sink, f.skipped, f.error);
  Value v = sinkValue(f, true);
  v.set("skipped", f.skipped);
  if (f.first_seq != 0) {
    v.set("first_seq", f.first_seq);
    v.set("last_seq", f.last_seq);
  }
  e.unmapped.set("sink", std::move(v));
  return e;
}

Event budgetExhaustedEvent(const SessionContext& session, int64_t time, const BudgetFacts& f) {
  Event e = logEvent(session, time, 99, "Budget Exhausted", ocsf::Severity::kCritical);
  e.status = ocsf::Status::kFailure;
  std::string limit;
  if (f.max_events > 0) limit = fmt::format("{} events", f.max_events);
  if (f.max_bytes > 0) limit.append(fmt::format("{}{} bytes", limit.empty() ? "" : " / ", f.max_bytes));
  e.message = fmt::format("session log budget reached ({}): {} events, {} bytes written; action: {}", limit, f.events,
                          f.bytes, f.action);
  e.status_detail = "log budget exhausted";
  Value v = Value::object();
  if (f.max_events > 0) v.set("max_events", f.max_events);
  if (f.max_bytes > 0) v.set("max_bytes", f.max_bytes);
  v.set("events", f.events);
  v.set("bytes", f.bytes);
  v.set("action", f.action);
  e.unmapped.set("budget", std::move(v));
  return e;
}

Event retentionEvent(const SessionContext& session, int64_t time, const RetentionFacts& f) {
  Event e = logEvent(session, time, 2, "", ocsf::Severity::kInformational);
  e.status = ocsf::Status::kSuccess;
  e.count = static_cast<int64_t>(f.count);
  e.message = fmt::format("retention deleted {} events of session {} (seq {}-{}); checkpoints kept", f.count,
                          f.session_id, f.first_seq, f.last_seq);
  Value v = Value::object();
  v.set("session_id", f.session_id);
  v.set("count", f.count);
  v.set("first_seq", f.first_seq);
  v.set("last_seq", f.last_seq);
  v.set("cutoff_ms", f.cutoff_ms);
  if (f.max_bytes > 0) v.set("max_bytes", f.max_bytes);
  e.unmapped.set("retention", std::move(v));
  return e;
}

}  // namespace warden::audit
