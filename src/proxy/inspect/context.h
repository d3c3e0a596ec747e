#pragma once

// What every inspector of one exchange shares: where events go, who is talking to whom, and the
// shapes the relay and the inspectors exchange (a local answer, how an exchange ended).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "audit/emitter.h"
#include "common/clock.h"
#include "ocsf/builders.h"
#include "policy/model.h"

namespace warden::proxy::inspect {

// Emits events for inspectors. Borrowed pointers; the owner (Inspection) outlives every exchange.
// Thread-safe (the Emitter is; the rest is read-only).
struct Recorder {
  audit::Emitter* emitter = nullptr;
  const ocsf::SessionContext* session = nullptr;
  const Clock* clock = nullptr;

  int64_t now() const { return clock->nowMillis(); }
  void emit(ocsf::Event&& event) const { emitter->emit(std::move(event)); }
  // EVENT [LOW] "Inspection": something the proxy could not understand (malformed JSON-RPC, an
  // index page it could not read, an answer over a size limit). `protocol` is "mcp", "llm", "pip"...
  void inspectionProblem(std::string_view protocol, std::string_view host, std::string message) const;
};

// The connection an exchange runs on, as events name it. Plain data, copied per connection.
struct Parties {
  std::optional<ocsf::Process> actor;  // the calling process (cmd_line included), when identified
  ocsf::Endpoint src;                  // the agent's side of the connection
  std::string host;                    // the target as the client named it (lower case)
  uint16_t port = 0;
  bool tls = false;                      // https (terminated) or http
  std::string rule;                      // the connection's rule ("-" when none)
  policy::Enforcement enforcement = policy::Enforcement::kEnforce;

  ocsf::Endpoint dst() const;            // host:port as an event endpoint
  std::string origin() const;            // "https://host" or "http://host:8080"
};

// An answer the proxy gives itself instead of forwarding a request (a denied MCP tool call, a
// credential sent where it must not go, a download from a source the policy does not list).
struct LocalAnswer {
  int status = 403;
  // Either a JSON error of the proxy's usual shape ({"error", "detail", "reason", "rule"}, the
  // connection closes after it)...
  std::string error = "policy_denied";
  std::string detail;
  // ...or, when `body` is set, exactly this body with `content_type` (a JSON-RPC answer).
  std::string content_type = "application/json";
  std::string body;
  bool close = true;  // close the client connection after a `body` answer
  // The HTTP event of the request: DENIED with this reason (and severity when set).
  std::string reason;
  std::string rule;
  ocsf::Severity severity = ocsf::Severity::kUnknown;
  bool policy_header = true;  // X-Warden-Policy: <rule>
  // Run after the HTTP event is emitted, with that event (dual emit: the finding follows it).
  std::function<void(const ocsf::Event& http_event)> then;
};

// How an exchange ended, for inspectors that record at the end.
struct ExchangeEnd {
  bool response_complete = false;  // the whole response body reached the client
  bool timed_out = false;          // a wait expired (the upstream stalled)
  bool cut = false;                // the proxy cut the response off itself
};

}  // namespace warden::proxy::inspect
