#pragma once

// MCP over streamable HTTP on `protocol: mcp` endpoints (sandbox.md "MCP"): every JSON-RPC message
// of a request body and of its answer (application/json or text/event-stream) is parsed;
// `tools/call` is decided by the endpoint's `tools` globs before the server sees it; each call is
// recorded once its result is known (TOOL:CALL); other methods are counted (an EVENT per connection)
// and recorded only when they fail. docs/mcp.md has the decisions.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/http_request.h"
#include "proxy/http_response.h"
#include "proxy/inspect/context.h"
#include "proxy/inspect/jsonrpc.h"
#include "proxy/inspect/sse.h"

namespace warden::proxy::inspect {

// serverInfo.name per MCP session, shared by every connection of one proxy (a client opens several
// connections to one server; the name arrives once, in the initialize answer). Keyed by
// "host:port" and by "host:port Mcp-Session-Id". Bounded (oldest forgotten first). Thread-safe.
class McpSessions {
 public:
  explicit McpSessions(size_t max_entries = 4096) : max_entries_(max_entries) {}
  void remember(const std::string& key, std::string server_name);
  std::string serverName(const std::string& key) const;

 private:
  size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> names_;  // Guarded by mu_.
  std::vector<std::string> order_;                        // Guarded by mu_; insertion order
};

// Methods other than tools/call seen on one connection, by name; recorded at its end.
struct McpCounts {
  std::map<std::string, uint64_t> requests;  // method -> count (requests and notifications)
  uint64_t responses = 0;                    // responses the client sent (e.g. to sampling)
  uint64_t malformed = 0;
  std::string server;  // the server's name, when known
  bool empty() const { return requests.empty() && responses == 0 && malformed == 0; }
};
// EVENT [INFO] "MCP Messages": the counts of one connection. Nothing when empty.
void recordMcpCounts(const Recorder& recorder, const Parties& parties, const McpCounts& counts);

struct McpLimits {
  size_t max_request_bytes = 1024 * 1024;       // a request body is read whole up to this
  size_t max_json_answer_bytes = 4 * 1024 * 1024;
  size_t max_event_bytes = 1024 * 1024;
};

// One HTTP exchange on an MCP endpoint. Single-threaded (the connection's); borrows everything.
class McpExchange {
 public:
  McpExchange(const Recorder& recorder, const Parties& parties, const policy::Endpoint& endpoint,
              policy::ToolInputs tool_inputs, McpSessions& sessions, McpCounts& counts, McpLimits limits = {});

  size_t maxRequestBytes() const { return limits_.max_request_bytes; }
  // The whole request body (or `too_large` when it exceeded maxRequestBytes()). An answer when the
  // request must not reach the server: a denied tools/call (JSON-RPC error with the request's id;
  // TOOL:CALL DENIED recorded), or a body that cannot be checked on an endpoint with tool rules.
  std::optional<LocalAnswer> onRequest(const HttpRequestHead& head, std::string_view body, bool too_large);
  void onResponseHead(const HttpResponseHead& head);
  void onResponseBody(std::string_view payload);
  // Calls still waiting for a result are recorded: timeout, or an error ("no result").
  void onEnd(const ExchangeEnd& end);

 private:
  struct Pending {
    std::string tool;
    std::string input_summary;
    std::string input;
    std::chrono::steady_clock::time_point sent;
  };
  void onAnswer(RpcPayload payload);
  void onResponseMessage(const RpcMessage& m);
  void recordCall(const std::string& id, const Pending& call, std::string result_status, std::string error);
  std::string sessionKey() const;
  std::string serverName() const;

  const Recorder& recorder_;
  const Parties& parties_;
  const policy::Endpoint& endpoint_;
  policy::ToolInputs tool_inputs_;
  McpSessions& sessions_;
  McpCounts& counts_;
  McpLimits limits_;
  std::string session_id_;  // Mcp-Session-Id of the request (or the answer, for initialize)
  std::map<std::string, Pending> pending_;  // tools/call id -> call
  std::map<std::string, std::string> other_pending_;  // id -> method, for other requests
  enum class Answer { kNone, kJson, kSse, kOther } answer_ = Answer::kNone;
  int status_ = 0;
  std::string json_;
  bool json_too_large_ = false;
  std::unique_ptr<SseParser> sse_;
};

}  // namespace warden::proxy::inspect
