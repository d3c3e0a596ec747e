#pragma once

// The relay's side of proxy/inspect (docs/proxy.md "Inspection"): what Connection::inspectRequest
// (l7_inspect.cc) hands back to exchange() (l7_relay.cc), and the guard that tells the inspection
// how the exchange ended whatever path it leaves by.

#include <memory>
#include <optional>
#include <string>

#include "proxy/http_request.h"
#include "proxy/inspect/inspection.h"
#include "proxy/server/connection_deadline.h"

namespace warden::proxy {

enum class ExchangeOutcome;

struct InspectedRequest {
  std::unique_ptr<inspect::ExchangeInspection> exchange;  // null: nothing inspects this request
  bool answered = false;                                   // the proxy answered it itself
  ExchangeOutcome outcome{};                               // when answered
  std::optional<HttpRequestHead> head;                     // the head to forward (credentials substituted)
  bool body_in_hand = false;  // the whole body was read (MCP); it goes out right after the head
  std::string body_raw;       // that body as the client framed it
};

// Calls ExchangeInspection::onEnd once, when the exchange's scope ends.
struct InspectionEndGuard {
  inspect::ExchangeInspection* exchange = nullptr;
  const Deadline* deadline = nullptr;
  inspect::ExchangeEnd end;
  ~InspectionEndGuard() {
    if (exchange == nullptr) return;
    end.timed_out = end.timed_out || (deadline != nullptr && deadline->expired());
    exchange->onEnd(end);
  }
};

}  // namespace warden::proxy
