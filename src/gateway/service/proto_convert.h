#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "common/result.h"
#include "gateway/settings/sandbox_config.h"
#include "gateway/store/store.h"
#include "warden/v1/gateway.pb.h"

namespace warden::gateway {

// Maps between the Gateway protobuf messages and the store's plain types. One of the two places
// that include generated headers (the other is gateway_service.cc). Pure functions; thread-safe.

// Error codes share gRPC's numbers (common/error.h), so the mapping is 1:1.
grpc::Status toGrpcStatus(const Error& error);

void toProto(const StoredEvent& in, v1::StoredEvent* out);
// A pushed event of `session_id`: copies sequence, json, shorthand, time; kind is the shorthand's
// prefix up to ':' (empty when there is none: validateEvent() then refuses it); the remaining facts
// come from extractFacts(). The proto's own session_id is ignored here (the caller checks it).
StoredEvent fromProto(const v1::StoredEvent& in, std::string_view session_id);
// The same, taking the json and shorthand strings out of `in` instead of copying them (PushEvents).
StoredEvent fromProto(v1::StoredEvent&& in, std::string_view session_id);
// (shorthandKind() is in gateway/store/store.h.)

void toProto(const SessionRecord& in, uint64_t highest_sequence, v1::Session* out);
void toProto(const SandboxConfig& in, v1::SandboxConfig* out);

// Query shapes: InvalidArgument for a limit over kMaxQueryLimit (0 means the default, 1000).
Result<EventQuery> toEventQuery(const v1::GetLogsRequest& in);
Result<EventQuery> toEventQuery(const v1::QueryRequest& in);

}  // namespace warden::gateway
