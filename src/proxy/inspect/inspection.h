#pragma once

// What the proxy understands above HTTP (docs/proxy.md "Inspection"): package installs
// (packages.h), MCP tool calls (mcp.h), model API calls (model_call.h) and credentials the agent
// never holds (credentials.h), tied to the relay through three small objects:
//
//   Inspection            one per proxy: the recorder, the session's package ledger, MCP sessions,
//                         the credential vault. Thread-safe; outlives every connection.
//   ConnectionInspection  one per client connection: who talks to whom (Parties), MCP counts.
//                         Single-threaded (the connection's io thread).
//   ExchangeInspection    one per request/response: the relay calls it at the request head, with
//                         request body bytes, at the response head, with response body bytes
//                         (before forwarding them, so a download can be cut), and at the end.
//
// Socket-free: the relay (proxy/server/l7_relay.cc, l7_inspect.cc) moves the bytes; this decides
// and records. Nothing here holds a byte back except what the relay is told to refuse or cut.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "policy/model.h"
#include "proxy/chunked.h"
#include "proxy/http_request.h"
#include "proxy/http_response.h"
#include "proxy/inspect/context.h"
#include "proxy/inspect/credentials.h"
#include "proxy/inspect/mcp.h"
#include "proxy/inspect/model_call.h"
#include "proxy/inspect/package_ledger.h"
#include "proxy/inspect/packages.h"

namespace warden::proxy::inspect {

struct InspectionLimits {
  McpLimits mcp;
  ModelLimits model;
  PackageLimits packages;
};

class Inspection {
 public:
  Inspection(Recorder recorder, std::shared_ptr<const CredentialVault> credentials, InspectionLimits limits = {});

  const Recorder& recorder() const { return recorder_; }
  const CredentialVault* credentials() const { return credentials_ && !credentials_->empty() ? credentials_.get() : nullptr; }
  PackageLedger& packages() { return ledger_; }
  McpSessions& mcp() { return mcp_; }
  const InspectionLimits& limits() const { return limits_; }

  // A CONNECT to host:port is inspected at L7 (TLS terminated) although its endpoint has no
  // protocol: the host is one of audit.package_sources, or a credential's inject target.
  bool wantsInspection(const policy::Policy& policy, std::string_view host, uint16_t port) const;
  // `text` with credentials (placeholders and values) replaced by their names: every request line
  // that goes into an event passes through here.
  std::string scrub(std::string_view text) const;

 private:
  Recorder recorder_;
  std::shared_ptr<const CredentialVault> credentials_;
  InspectionLimits limits_;
  PackageLedger ledger_;
  McpSessions mcp_;
};

class ExchangeInspection;

class ConnectionInspection {
 public:
  explicit ConnectionInspection(Inspection& inspection) : inspection_(inspection) {}
  ~ConnectionInspection();
  ConnectionInspection(const ConnectionInspection&) = delete;
  ConnectionInspection& operator=(const ConnectionInspection&) = delete;

  // The connection's parties, whenever its target is (re)decided.
  void setParties(Parties parties) { parties_ = std::move(parties); }
  const Parties& parties() const { return parties_; }

  // One exchange on `endpoint` (null: none matched) under `policy`, for a request already allowed
  // by the L7 rules. `url` is the absolute URL of the request (query included).
  std::unique_ptr<ExchangeInspection> begin(const policy::Policy& policy, const policy::Endpoint* endpoint,
                                            const HttpRequestHead& head, std::string_view canonical_path,
                                            std::string_view url);
  // The connection ended: MCP message counts are recorded. Idempotent (the destructor calls it).
  void finish();

 private:
  Inspection& inspection_;
  Parties parties_;
  McpCounts mcp_counts_;
  bool finished_ = false;
};

class ExchangeInspection {
 public:
  // Before the head goes upstream: credentials substituted (or the request refused when one would
  // leak), package sources decided. May rewrite `head`.
  std::optional<LocalAnswer> onRequestHead(HttpRequestHead& head);
  // > 0: read the whole request body (up to this many bytes) before the head is sent, and call
  // onWholeBody with it (MCP: a tools/call is decided before the server sees anything).
  size_t wholeBodyLimit() const;
  std::optional<LocalAnswer> onWholeBody(const HttpRequestHead& head, std::string_view body, bool too_large);
  // Streamed request body bytes (decoded): checked for credentials; kept for the model parser. An
  // answer means: stop, reset the upstream, answer the client.
  std::optional<LocalAnswer> onRequestBody(std::string_view payload);
  void onResponseHead(const HttpResponseHead& head);
  // Response body bytes (decoded) before they are forwarded. False: cut the response off now.
  bool onResponseBody(std::string_view payload, bool last);
  void onEnd(const ExchangeEnd& end);
  // Request text for events with credentials (placeholders and values) replaced by their names.
  std::string scrub(std::string_view text) const;

  // The relay's side: body bytes as they are framed on the wire (Content-Length bytes, or the
  // chunked coding, decoded here). `framing` is the message's (head.body / response.body).
  std::optional<LocalAnswer> onRequestBytes(BodyFraming framing, std::string_view raw);
  bool onResponseBytes(BodyFraming framing, std::string_view raw, bool last);
  // True when the relay must call the byte hooks at all (some inspector reads bodies).
  bool readsRequestBody() const { return body_scanner_.has_value() || model_ != nullptr; }
  bool readsResponseBody() const { return package_ != nullptr || mcp_ != nullptr || model_ != nullptr; }

 private:
  friend class ConnectionInspection;
  ExchangeInspection(Inspection& inspection, const Parties& parties, McpCounts& counts);
  LocalAnswer leakAnswer(const std::vector<std::string>& names, std::string_view where);

  Inspection& inspection_;
  const Parties& parties_;
  McpCounts& mcp_counts_;
  std::string url_;
  std::string method_;
  std::unique_ptr<PackageExchange> package_;
  std::unique_ptr<McpExchange> mcp_;
  std::unique_ptr<ModelCallParser> model_;
  ModelApi model_api_ = ModelApi::kNone;
  std::optional<CredentialVault::BodyScanner> body_scanner_;
  std::unique_ptr<ChunkedDecoder> request_chunks_;
  std::unique_ptr<ChunkedDecoder> response_chunks_;
  std::string scratch_;
  std::chrono::steady_clock::time_point started_;
  bool ended_ = false;
};

}  // namespace warden::proxy::inspect
