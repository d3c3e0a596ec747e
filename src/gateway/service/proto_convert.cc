#include "gateway/service/proto_convert.h"

#include <string>

namespace warden::gateway {

namespace {
constexpr size_t kDefaultLimit = 1000;

Result<size_t> limitOf(uint32_t requested) {
  if (requested == 0) return kDefaultLimit;
  if (requested > kMaxQueryLimit) {
    return invalidArgument("limit " + std::to_string(requested) + " is over the maximum " +
                           std::to_string(kMaxQueryLimit));
  }
  return static_cast<size_t>(requested);
}
}  // namespace

grpc::Status toGrpcStatus(const Error& error) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(error.code())), error.message());
}

void toProto(const StoredEvent& in, v1::StoredEvent* out) {
  out->set_session_id(in.session_id);
  out->set_sequence(in.sequence);
  out->set_json(in.json);
  out->set_shorthand(in.shorthand);
  out->set_time_ms(in.time_ms);
}

StoredEvent fromProto(const v1::StoredEvent& in, std::string_view session_id) {
  StoredEvent e;
  e.session_id = std::string(session_id);
  e.sequence = in.sequence();
  e.time_ms = in.time_ms();
  e.json = in.json();
  e.shorthand = in.shorthand();
  e.kind = std::string(shorthandKind(in.shorthand()));
  return extractFacts(std::move(e));
}

StoredEvent fromProto(v1::StoredEvent&& in, std::string_view session_id) {
  StoredEvent e;
  e.session_id = std::string(session_id);
  e.sequence = in.sequence();
  e.time_ms = in.time_ms();
  e.json.swap(*in.mutable_json());
  e.shorthand.swap(*in.mutable_shorthand());
  e.kind = std::string(shorthandKind(e.shorthand));
  return extractFacts(std::move(e));
}

void toProto(const SessionRecord& in, uint64_t highest_sequence, v1::Session* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_state(in.state);
  out->set_stop_reason(in.stop_reason);
  if (in.exit_code) out->set_exit_code(*in.exit_code);
  out->set_created_ms(in.created_ms);
  out->set_updated_ms(in.updated_ms);
  out->set_public_key(in.public_key);
  out->set_highest_sequence(highest_sequence);
  out->set_hostname(in.hostname);
}

void toProto(const SandboxConfig& in, v1::SandboxConfig* out) {
  out->set_config_revision(in.config_revision);
  out->mutable_logging()->set_ocsf_enabled(in.ocsf_enabled);
}

Result<EventQuery> toEventQuery(const v1::GetLogsRequest& in) {
  auto limit = limitOf(in.limit());
  if (!limit.ok()) return limit.error();
  EventQuery q;
  if (!in.session_id().empty()) q.session = in.session_id();
  if (in.since_ms() > 0) q.since_ms = in.since_ms();
  q.kinds.assign(in.classes().begin(), in.classes().end());
  if (in.min_severity() > 0) q.min_severity = in.min_severity();
  q.after_sequence = in.after_sequence();
  q.limit = *limit;
  WARDEN_RETURN_IF_ERROR(validateQuery(q));
  return q;
}

Result<EventQuery> toEventQuery(const v1::QueryRequest& in) {
  auto limit = limitOf(in.limit());
  if (!limit.ok()) return limit.error();
  EventQuery q;
  if (!in.session_id().empty()) q.session = in.session_id();
  if (in.since_ms() > 0) q.since_ms = in.since_ms();
  if (in.until_ms() > 0) q.until_ms = in.until_ms();
  q.kinds.assign(in.classes().begin(), in.classes().end());
  if (!in.domain().empty()) q.domain = in.domain();
  if (!in.path().empty()) q.path = in.path();
  if (!in.package().empty()) q.package = in.package();
  if (!in.stop_reason().empty()) q.stop_reason = in.stop_reason();
  q.limit = *limit;
  WARDEN_RETURN_IF_ERROR(validateQuery(q));
  return q;
}

}  // namespace warden::gateway
