#include "proxy/inspect/mcp.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/encoding.h"
#include "proxy/http_codec.h"
#include "common/secret_shape.h"
#include "proxy/inspect/tool_input.h"

namespace warden::proxy::inspect {

namespace {

using nlohmann::json;

// JSON-RPC server-error range (-32000..-32099): the proxy refused the call.
constexpr int64_t kToolDeniedCode = -32001;
constexpr int64_t kParseErrorCode = -32700;

std::string mediaType(const HeaderList& headers) {
  const HeaderField* ct = findHeader(headers, "content-type");
  if (ct == nullptr) return "";
  std::string v = ct->value.substr(0, ct->value.find(';'));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return v;
}

std::string cutText(std::string_view s, size_t max) { return std::string(s.substr(0, utf8PrefixLength(s, max))); }

// The first text item of a tool result's content (isError results explain themselves there).
std::string firstText(const json& result) {
  const auto content = result.find("content");
  if (content == result.end() || !content->is_array()) return "";
  for (const json& item : *content) {
    if (!item.is_object()) continue;
    const auto text = item.find("text");
    if (text != item.end() && text->is_string()) return redactSecrets(cutText(text->get_ref<const std::string&>(), 256));
  }
  return "";
}

struct ToolVerdict {
  bool allowed = true;
  bool observed = false;  // allowed under `enforcement: audit` although the globs deny it
  std::string reason;
};

ToolVerdict decideTool(const policy::Endpoint& endpoint, std::string_view tool) {
  ToolVerdict v;
  if (!endpoint.tools) return v;
  const auto& tools = *endpoint.tools;
  for (const policy::Glob& g : tools.deny) {
    if (g.matches(tool)) {
      v.allowed = false;
      v.reason = fmt::format("tool {} is denied by rule {} (tools.deny {})", tool, endpoint.rule, g.pattern());
      break;
    }
  }
  if (v.allowed && tools.allow) {
    const bool listed = std::any_of(tools.allow->begin(), tools.allow->end(),
                                    [&](const policy::Glob& g) { return g.matches(tool); });
    if (!listed) {
      v.allowed = false;
      std::string allowed;
      for (const policy::Glob& g : *tools.allow) allowed += (allowed.empty() ? "" : ", ") + g.pattern();
      v.reason = fmt::format("tool {} is not allowed by rule {} (tools.allow: {})", tool, endpoint.rule, allowed);
    }
  }
  if (!v.allowed && endpoint.enforcement == policy::Enforcement::kAudit) {
    v.allowed = true;
    v.observed = true;
  }
  return v;
}

}  // namespace

// ---- McpSessions ----

void McpSessions::remember(const std::string& key, std::string server_name) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = names_.insert_or_assign(key, std::move(server_name));
  (void)it;
  if (!inserted) return;
  order_.push_back(key);
  if (order_.size() > max_entries_) {
    names_.erase(order_.front());
    order_.erase(order_.begin());
  }
}

std::string McpSessions::serverName(const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto it = names_.find(key);
  return it == names_.end() ? std::string() : it->second;
}

void recordMcpCounts(const Recorder& recorder, const Parties& parties, const McpCounts& counts) {
  if (counts.empty()) return;
  ocsf::OperationalInput in;
  in.name = "MCP Messages";
  uint64_t total = counts.responses;
  ocsf::Value methods = ocsf::Value::object();
  for (const auto& [method, n] : counts.requests) {
    methods.set(method, n);
    total += n;
  }
  in.message = fmt::format("{} MCP messages besides tool calls with {}", total,
                           counts.server.empty() ? parties.host : counts.server + " at " + parties.host);
  in.unmapped = ocsf::Value::object();
  in.unmapped.set("host", parties.host);
  if (!counts.server.empty()) in.unmapped.set("server", counts.server);
  in.unmapped.set("messages", total);
  if (counts.malformed > 0) in.unmapped.set("malformed", counts.malformed);
  in.unmapped.set("methods", std::move(methods));
  if (counts.responses > 0) in.unmapped.set("client_responses", counts.responses);
  recorder.emit(ocsf::operationalEvent(*recorder.session, recorder.now(), in));
}

// ---- McpExchange ----

McpExchange::McpExchange(const Recorder& recorder, const Parties& parties, const policy::Endpoint& endpoint,
                         policy::ToolInputs tool_inputs, McpSessions& sessions, McpCounts& counts, McpLimits limits)
    : recorder_(recorder),
      parties_(parties),
      endpoint_(endpoint),
      tool_inputs_(tool_inputs),
      sessions_(sessions),
      counts_(counts),
      limits_(limits) {}

std::string McpExchange::sessionKey() const {
  std::string key = fmt::format("{}:{}", parties_.host, parties_.port);
  if (!session_id_.empty()) key += " " + session_id_;
  return key;
}

std::string McpExchange::serverName() const {
  std::string name = sessions_.serverName(sessionKey());
  if (name.empty()) name = sessions_.serverName(fmt::format("{}:{}", parties_.host, parties_.port));
  return name;
}

std::optional<LocalAnswer> McpExchange::onRequest(const HttpRequestHead& head, std::string_view body, bool too_large) {
  if (const HeaderField* sid = findHeader(head.headers, "mcp-session-id"); sid != nullptr) session_id_ = sid->value;
  if (head.method != "POST") return std::nullopt;  // GET opens a server stream; DELETE ends a session
  const bool checks_tools = endpoint_.tools.has_value() && endpoint_.enforcement == policy::Enforcement::kEnforce;
  auto refuseUnreadable = [&](const std::string& why) -> std::optional<LocalAnswer> {
    ++counts_.malformed;
    recorder_.inspectionProblem("mcp", parties_.host, fmt::format("MCP request to {} not understood: {}", parties_.host, why));
    if (!checks_tools) return std::nullopt;  // nothing to decide: the server answers it
    // The tools rules cannot be applied to what cannot be read: fail closed.
    LocalAnswer a;
    a.status = 400;
    a.body = rpcErrorResponse("null", kParseErrorCode, "Warden: the request is not JSON-RPC the proxy can check (" + why + ")");
    a.reason = "MCP request not understood: " + why;
    a.rule = endpoint_.rule;
    a.close = false;
    return a;
  };
  if (too_large) {
    return refuseUnreadable(fmt::format("body larger than {} bytes", limits_.max_request_bytes));
  }
  RpcPayload payload = parseJsonRpc(body);
  if (!payload.ok()) return refuseUnreadable(payload.error);

  // Decide every tools/call first; one denied call refuses the whole body (a batch is not split).
  struct Denied {
    std::string id;
    std::string tool;
    std::string reason;
    std::string summary;
  };
  std::vector<Denied> denied;
  const auto now = recorder_.clock->steadyNow();
  std::vector<std::pair<std::string, Pending>> calls;
  std::vector<std::pair<std::string, std::string>> observed;  // id -> reason (audit mode)
  for (RpcMessage& m : payload.messages) {
    switch (m.kind) {
      case RpcMessage::Kind::kInvalid: {
        ++counts_.malformed;
        if (checks_tools) {
          denied.push_back({m.id, "", "invalid JSON-RPC message: " + m.problem, ""});
        }
        break;
      }
      case RpcMessage::Kind::kResponse: ++counts_.responses; break;
      case RpcMessage::Kind::kNotification: ++counts_.requests[m.method]; break;
      case RpcMessage::Kind::kRequest: {
        if (m.method != "tools/call") {
          ++counts_.requests[m.method];
          other_pending_[m.id] = m.method;
          break;
        }
        std::string tool;
        json arguments;
        if (m.params.is_object()) {
          if (const auto n = m.params.find("name"); n != m.params.end() && n->is_string()) tool = n->get<std::string>();
          if (const auto a = m.params.find("arguments"); a != m.params.end()) arguments = *a;
        }
        Pending p{tool, summarizeToolInput(arguments, tool_inputs_), fullToolInput(arguments, tool_inputs_), now};
        if (tool.empty()) {
          if (checks_tools) denied.push_back({m.id, "", "tools/call without a tool name", ""});
          calls.emplace_back(m.id, std::move(p));
          break;
        }
        const ToolVerdict v = decideTool(endpoint_, tool);
        if (!v.allowed) {
          denied.push_back({m.id, tool, v.reason, p.input_summary});
          break;
        }
        if (v.observed) observed.emplace_back(m.id, v.reason);
        calls.emplace_back(m.id, std::move(p));
        break;
      }
    }
  }

  if (!denied.empty()) {
    const std::string server = serverName();
    std::vector<std::string> answers;
    std::string first_reason;
    for (const Denied& d : denied) {
      if (first_reason.empty()) first_reason = d.reason;
      if (!d.tool.empty()) {
        ocsf::ToolCall t;
        t.actor = parties_.actor.value_or(ocsf::Process{});
        t.src = parties_.src;
        t.tool = d.tool;
        t.service = server.empty() ? parties_.host : server;
        t.dst = parties_.dst();
        t.method = "tools/call";
        t.input_summary = d.summary;
        t.result_status = "denied";
        t.status = ocsf::Status::kFailure;
        t.decision = ocsf::Decision{ocsf::Action::kDenied, endpoint_.rule, "l7", d.reason};
        recorder_.emit(ocsf::toolCall(*recorder_.session, recorder_.now(), t));
      }
      if (!d.id.empty()) answers.push_back(rpcErrorResponse(d.id, kToolDeniedCode, "Warden: " + d.reason));
    }
    // The other requests of a refused batch are refused too, each with its id.
    for (const auto& [id, call] : calls) {
      (void)call;
      answers.push_back(rpcErrorResponse(id, kToolDeniedCode, "Warden: the batch held a denied tool call"));
    }
    for (const auto& [id, method] : other_pending_) {
      (void)method;
      answers.push_back(rpcErrorResponse(id, kToolDeniedCode, "Warden: the batch held a denied tool call"));
    }
    other_pending_.clear();
    LocalAnswer a;
    a.status = 200;  // JSON-RPC errors travel in a successful HTTP answer
    a.close = false;
    a.reason = first_reason;
    a.rule = endpoint_.rule;
    a.policy_header = true;
    if (payload.batch) {
      a.body = "[";
      for (size_t i = 0; i < answers.size(); ++i) a.body += (i ? "," : "") + answers[i];
      a.body += "]";
    } else {
      a.body = answers.empty() ? std::string() : answers.front();
      if (a.body.empty()) a.status = 202;  // a denied notification-like call: nothing to answer
    }
    return a;
  }
  for (auto& [id, call] : calls) {
    if (id.empty()) continue;  // a tools/call without an id cannot be matched (notification misuse)
    pending_[id] = std::move(call);
  }
  for (auto& [id, reason] : observed) {
    // Audit mode: record the would-be deny now; the result follows in its own event.
    const auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    ocsf::ToolCall t;
    t.actor = parties_.actor.value_or(ocsf::Process{});
    t.src = parties_.src;
    t.tool = it->second.tool;
    t.service = serverName().empty() ? parties_.host : serverName();
    t.dst = parties_.dst();
    t.method = "tools/call";
    t.input_summary = it->second.input_summary;
    t.result_status = "observed";
    t.decision = ocsf::Decision{ocsf::Action::kObserved, endpoint_.rule, "l7", reason};
    recorder_.emit(ocsf::toolCall(*recorder_.session, recorder_.now(), t));
  }
  return std::nullopt;
}

void McpExchange::onResponseHead(const HttpResponseHead& head) {
  status_ = head.status;
  if (const HeaderField* sid = findHeader(head.headers, "mcp-session-id"); sid != nullptr && session_id_.empty()) {
    session_id_ = sid->value;
  }
  const std::string type = mediaType(head.headers);
  if (type == "application/json") {
    answer_ = Answer::kJson;
  } else if (type == "text/event-stream") {
    answer_ = Answer::kSse;
    sse_ = std::make_unique<SseParser>(limits_.max_event_bytes);
  } else {
    answer_ = Answer::kOther;
  }
}

void McpExchange::onResponseBody(std::string_view payload) {
  if (answer_ == Answer::kJson) {
    if (json_too_large_) return;
    if (json_.size() + payload.size() > limits_.max_json_answer_bytes) {
      json_too_large_ = true;
      json_.clear();
      json_.shrink_to_fit();
      return;
    }
    json_.append(payload);
  } else if (answer_ == Answer::kSse) {
    sse_->feed(payload, [this](const SseEvent& e) {
      if (e.oversized) {
        ++counts_.malformed;
        recorder_.inspectionProblem("mcp", parties_.host,
                                    fmt::format("MCP event from {} over {} bytes not read", parties_.host, limits_.max_event_bytes));
        return;
      }
      RpcPayload p = parseJsonRpc(e.data);
      if (!p.ok()) {
        ++counts_.malformed;
        recorder_.inspectionProblem("mcp", parties_.host, fmt::format("MCP event from {} not understood: {}", parties_.host, p.error));
        return;
      }
      onAnswer(std::move(p));
    });
  }
}

void McpExchange::onAnswer(RpcPayload payload) {
  for (const RpcMessage& m : payload.messages) {
    switch (m.kind) {
      case RpcMessage::Kind::kResponse: onResponseMessage(m); break;
      case RpcMessage::Kind::kRequest:
      case RpcMessage::Kind::kNotification: ++counts_.requests[m.method]; break;  // server -> client
      case RpcMessage::Kind::kInvalid: ++counts_.malformed; break;
    }
  }
}

void McpExchange::onResponseMessage(const RpcMessage& m) {
  if (const auto it = pending_.find(m.id); it != pending_.end()) {
    if (m.error) {
      recordCall(it->first, it->second, "error", fmt::format("{}: {}", m.error->code, redactSecrets(cutText(m.error->message, 200))));
    } else {
      const auto is_error = m.result.is_object() ? m.result.find("isError") : m.result.end();
      const bool tool_error = m.result.is_object() && is_error != m.result.end() && is_error->is_boolean() && is_error->get<bool>();
      recordCall(it->first, it->second, tool_error ? "isError" : "success", tool_error ? firstText(m.result) : "");
    }
    pending_.erase(it);
    return;
  }
  const auto other = other_pending_.find(m.id);
  if (other == other_pending_.end()) return;
  const std::string method = other->second;
  other_pending_.erase(other);
  if (method == "initialize" && m.result.is_object()) {
    const auto info = m.result.find("serverInfo");
    if (info != m.result.end() && info->is_object()) {
      const auto name = info->find("name");
      if (name != info->end() && name->is_string()) {
        const std::string server = cutText(name->get_ref<const std::string&>(), 128);
        sessions_.remember(sessionKey(), server);
        sessions_.remember(fmt::format("{}:{}", parties_.host, parties_.port), server);
        counts_.server = server;
      }
    }
  }
  if (m.error) {
    // A failed method other than tools/call is recorded on its own (events.md: counted unless it fails).
    ocsf::ToolCall t;
    t.actor = parties_.actor.value_or(ocsf::Process{});
    t.src = parties_.src;
    t.tool = method;
    t.method = method;
    const std::string server = serverName();
    t.service = server.empty() ? parties_.host : server;
    t.dst = parties_.dst();
    t.result_status = "error";
    t.status = ocsf::Status::kFailure;
    t.error = fmt::format("{}: {}", m.error->code, redactSecrets(cutText(m.error->message, 200)));
    recorder_.emit(ocsf::toolCall(*recorder_.session, recorder_.now(), t));
  }
  if (counts_.server.empty()) counts_.server = serverName();
}

void McpExchange::recordCall(const std::string& id, const Pending& call, std::string result_status, std::string error) {
  (void)id;
  ocsf::ToolCall t;
  t.actor = parties_.actor.value_or(ocsf::Process{});
  t.src = parties_.src;
  t.tool = call.tool.empty() ? std::string("-") : call.tool;
  const std::string server = serverName();
  t.service = server.empty() ? parties_.host : server;
  t.dst = parties_.dst();
  t.method = "tools/call";
  t.input_summary = call.input_summary;
  t.input = call.input;
  t.status = result_status == "success" ? ocsf::Status::kSuccess : ocsf::Status::kFailure;
  t.result_status = std::move(result_status);
  t.error = std::move(error);
  t.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(recorder_.clock->steadyNow() - call.sent).count();
  recorder_.emit(ocsf::toolCall(*recorder_.session, recorder_.now(), t));
}

void McpExchange::onEnd(const ExchangeEnd& end) {
  if (answer_ == Answer::kJson) {
    if (json_too_large_) {
      ++counts_.malformed;
      recorder_.inspectionProblem("mcp", parties_.host,
                                  fmt::format("MCP answer from {} over {} bytes not read", parties_.host, limits_.max_json_answer_bytes));
    } else if (!json_.empty()) {
      RpcPayload p = parseJsonRpc(json_);
      if (p.ok()) {
        onAnswer(std::move(p));
      } else if (end.response_complete) {
        ++counts_.malformed;
        recorder_.inspectionProblem("mcp", parties_.host, fmt::format("MCP answer from {} not understood: {}", parties_.host, p.error));
      }
    }
  }
  for (auto& [id, call] : pending_) {
    std::string error;
    if (end.timed_out) {
      error = "no result before the proxy's response timeout";
    } else if (status_ >= 400) {
      error = fmt::format("HTTP {} from the server", status_);
    } else if (status_ == 0) {
      error = "no answer from the server";
    } else {
      error = end.response_complete ? "the answer did not carry the call's result" : "the answer ended before the result";
    }
    recordCall(id, call, end.timed_out ? "timeout" : "error", std::move(error));
  }
  pending_.clear();
  if (counts_.server.empty()) counts_.server = serverName();
}

}  // namespace warden::proxy::inspect
