#pragma once

// JSON-RPC 2.0 messages (https://www.jsonrpc.org/specification), as MCP carries them over HTTP:
// one message or a batch (array) per request body, and per `data:` of an event-stream answer.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::proxy::inspect {

struct RpcError {
  int64_t code = 0;
  std::string message;
};

struct RpcMessage {
  enum class Kind { kRequest, kNotification, kResponse, kInvalid };
  Kind kind = Kind::kInvalid;
  // The id as JSON text ("7", "\"abc\""), exactly what an answer must carry back; "null" for a
  // response with a null id; empty for notifications.
  std::string id;
  std::string method;              // requests and notifications
  nlohmann::json params;           // requests and notifications (null when absent)
  nlohmann::json result;           // successful responses
  std::optional<RpcError> error;   // error responses
  std::string problem;             // kInvalid: why ("no jsonrpc: \"2.0\"", "method is not a string")
};

struct RpcPayload {
  bool batch = false;
  std::vector<RpcMessage> messages;
  std::string error;  // the body is not JSON-RPC at all (not JSON, empty batch, a scalar): why
  bool ok() const { return error.empty(); }
};

// Parses a body or one event's data. Never throws; invalid members of a batch are kept as kInvalid
// messages (with their id when they had a usable one) so that an answer can still name them.
RpcPayload parseJsonRpc(std::string_view text);
// The same for an already parsed document (consumed).
RpcPayload fromJson(nlohmann::json&& document);

// The JSON text of an error response for `id_json` (a RpcMessage::id): {"jsonrpc":"2.0","id":..,
// "error":{"code":..,"message":..}}.
std::string rpcErrorResponse(std::string_view id_json, int64_t code, std::string_view message);

}  // namespace warden::proxy::inspect
