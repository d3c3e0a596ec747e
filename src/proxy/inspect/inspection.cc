#include "proxy/inspect/inspection.h"

#include <fmt/format.h>

#include "policy/engine.h"
#include "proxy/http_codec.h"

namespace warden::proxy::inspect {

Inspection::Inspection(Recorder recorder, std::shared_ptr<const CredentialVault> credentials, InspectionLimits limits)
    : recorder_(recorder), credentials_(std::move(credentials)), limits_(limits) {}

bool Inspection::wantsInspection(const policy::Policy& policy, std::string_view host, uint16_t port) const {
  if (policy::isPackageSource(policy, host)) return true;
  return credentials() != nullptr && credentials()->isInjectTarget(host, port);
}

std::string Inspection::scrub(std::string_view text) const {
  const CredentialVault* vault = credentials();
  return vault != nullptr ? vault->scrub(text) : std::string(text);
}

// ---- ConnectionInspection ----

ConnectionInspection::~ConnectionInspection() { finish(); }

void ConnectionInspection::finish() {
  if (finished_) return;
  finished_ = true;
  recordMcpCounts(inspection_.recorder(), parties_, mcp_counts_);
}

std::unique_ptr<ExchangeInspection> ConnectionInspection::begin(const policy::Policy& policy,
                                                                const policy::Endpoint* endpoint,
                                                                const HttpRequestHead& head,
                                                                std::string_view canonical_path, std::string_view url) {
  std::unique_ptr<ExchangeInspection> x(new ExchangeInspection(inspection_, parties_, mcp_counts_));
  x->method_ = head.method;
  x->url_ = std::string(url);
  const policy::Protocol protocol = endpoint != nullptr ? endpoint->protocol : policy::Protocol::kNone;
  if (protocol == policy::Protocol::kMcp) {
    x->mcp_ = std::make_unique<McpExchange>(inspection_.recorder(), parties_, *endpoint, policy.audit.tool_inputs,
                                            inspection_.mcp(), mcp_counts_, inspection_.limits().mcp);
  } else if (protocol == policy::Protocol::kLlm) {
    const ModelApi api = modelApiFor(head.method, canonical_path);
    if (api != ModelApi::kNone) {
      x->model_ = std::make_unique<ModelCallParser>(api, policy.audit.model_content, inspection_.limits().model);
      x->model_api_ = api;
    }
  }
  if (!x->mcp_ && !x->model_) {
    x->package_ = PackageExchange::begin(inspection_.recorder(), parties_, inspection_.packages(), policy, head,
                                         canonical_path, url, inspection_.limits().packages);
  }
  if (const CredentialVault* vault = inspection_.credentials()) {
    CredentialVault::BodyScanner scanner(*vault, parties_.host, parties_.port);
    if (scanner.active()) x->body_scanner_.emplace(std::move(scanner));
  }
  return x;
}

// ---- ExchangeInspection ----

ExchangeInspection::ExchangeInspection(Inspection& inspection, const Parties& parties, McpCounts& counts)
    : inspection_(inspection), parties_(parties), mcp_counts_(counts), started_(inspection.recorder().clock->steadyNow()) {}

LocalAnswer ExchangeInspection::leakAnswer(const std::vector<std::string>& names, std::string_view where) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string reason = fmt::format("credential {} sent to {}:{}, which is not allowed to receive it (in the {})",
                                         list, parties_.host, parties_.port, where);
  LocalAnswer a;
  a.status = 403;
  a.detail = fmt::format("this request carries credential {} to {}, which is not allowed to receive it", list, parties_.host);
  a.reason = reason;
  a.rule = parties_.rule;
  a.severity = ocsf::Severity::kHigh;
  a.close = true;
  const Recorder& recorder = inspection_.recorder();
  const Parties& parties = parties_;
  a.then = [&recorder, &parties, reason, list](const ocsf::Event& http) {
    ocsf::FindingInput f;
    f.title = "Credential sent to a host not allowed to receive it";
    f.desc = fmt::format("{}; the request was refused and never reached {}", reason, parties.host);
    f.types = {"credential-leak"};
    f.attacks = {ocsf::Attack{"T1567", "Exfiltration Over Web Service", "TA0010", "Exfiltration"}};
    f.evidences = ocsf::Value(ocsf::Value::Array{ocsf::evidenceOf(http)});
    f.actor = parties.actor;
    f.rule = ocsf::FirewallRule{parties.rule, "l7"};
    f.remediation = "send credential " + list + " only to its inject endpoints, or add this host to them in the policy";
    recorder.emit(ocsf::finding(*recorder.session, recorder.now(), f));
  };
  return a;
}

std::optional<LocalAnswer> ExchangeInspection::onRequestHead(HttpRequestHead& head) {
  if (const CredentialVault* vault = inspection_.credentials()) {
    const CredentialVault::HeadResult r = vault->applyToHead(head, parties_.host, parties_.port);
    if (!r.leaked.empty()) return leakAnswer(r.leaked, "request head");
  }
  if (package_) {
    if (auto answer = package_->onRequest(head)) return answer;
  }
  return std::nullopt;
}

size_t ExchangeInspection::wholeBodyLimit() const { return mcp_ ? mcp_->maxRequestBytes() : 0; }

std::optional<LocalAnswer> ExchangeInspection::onWholeBody(const HttpRequestHead& head, std::string_view body,
                                                           bool too_large) {
  if (body_scanner_) {
    if (auto leaked = body_scanner_->feed(body); !leaked.empty()) return leakAnswer(leaked, "request body");
  }
  if (mcp_) return mcp_->onRequest(head, body, too_large);
  return std::nullopt;
}

std::optional<LocalAnswer> ExchangeInspection::onRequestBody(std::string_view payload) {
  if (body_scanner_) {
    if (auto leaked = body_scanner_->feed(payload); !leaked.empty()) return leakAnswer(leaked, "request body");
  }
  if (model_) model_->onRequestBody(payload);
  return std::nullopt;
}

void ExchangeInspection::onResponseHead(const HttpResponseHead& head) {
  if (package_) package_->onResponseHead(head);
  if (mcp_) mcp_->onResponseHead(head);
  if (model_) {
    const HeaderField* ct = findHeader(head.headers, "content-type");
    model_->onResponseHead(head.status, ct != nullptr ? std::string_view(ct->value) : std::string_view());
  }
}

bool ExchangeInspection::onResponseBody(std::string_view payload, bool last) {
  if (mcp_) mcp_->onResponseBody(payload);
  if (model_) model_->onResponseBody(payload);
  if (package_) return package_->onResponseBody(payload, last);
  return true;
}

void ExchangeInspection::onEnd(const ExchangeEnd& end) {
  if (ended_) return;
  ended_ = true;
  if (package_) package_->onEnd(end);
  if (mcp_) mcp_->onEnd(end);
  if (model_) {
    ocsf::ModelCall call = model_->finish(end.response_complete);
    const Recorder& recorder = inspection_.recorder();
    for (const std::string& p : model_->problems()) {
      recorder.inspectionProblem("llm", parties_.host, fmt::format("model call to {}: {}", parties_.host, p));
    }
    call.actor = parties_.actor;
    call.src = parties_.src;
    call.dst = parties_.dst();
    call.provider = providerFor(parties_.host, model_api_);
    call.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(inspection_.recorder().clock->steadyNow() - started_).count();
    if (end.timed_out && call.error.empty()) call.error = "the provider stopped answering (proxy timeout)";
    recorder.emit(ocsf::modelCall(*recorder.session, recorder.now(), call));
  }
}

std::optional<LocalAnswer> ExchangeInspection::onRequestBytes(BodyFraming framing, std::string_view raw) {
  if (!readsRequestBody()) return std::nullopt;
  if (framing != BodyFraming::kChunked) return onRequestBody(raw);
  if (!request_chunks_) request_chunks_ = std::make_unique<ChunkedDecoder>(400);
  scratch_.clear();
  request_chunks_->feed(raw, [this](std::string_view payload) { scratch_.append(payload); });
  if (scratch_.empty()) return std::nullopt;
  return onRequestBody(scratch_);
}

bool ExchangeInspection::onResponseBytes(BodyFraming framing, std::string_view raw, bool last) {
  if (!readsResponseBody()) return true;
  if (framing != BodyFraming::kChunked) return onResponseBody(raw, last);
  if (!response_chunks_) response_chunks_ = std::make_unique<ChunkedDecoder>(502);
  scratch_.clear();
  response_chunks_->feed(raw, [this](std::string_view payload) { scratch_.append(payload); });
  if (scratch_.empty() && !last) return true;
  return onResponseBody(scratch_, last);
}

std::string ExchangeInspection::scrub(std::string_view text) const {
  const CredentialVault* vault = inspection_.credentials();
  return vault != nullptr ? vault->scrub(text) : std::string(text);
}

}  // namespace warden::proxy::inspect
