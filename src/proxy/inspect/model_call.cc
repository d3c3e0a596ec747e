#include "proxy/inspect/model_call.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/encoding.h"
#include "common/secret_shape.h"
#include "proxy/inspect/tool_input.h"

namespace warden::proxy::inspect {

namespace {

using nlohmann::json;

constexpr size_t kSummaryBytes = 256;

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> integer(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !(it->is_number_integer() || it->is_number_unsigned())) return std::nullopt;
  return it->get<int64_t>();
}

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string cutUtf8(std::string_view s, size_t max) { return std::string(s.substr(0, utf8PrefixLength(s, max))); }

std::string dumpSafe(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The text of a message's content: a string, or the text parts of an array of parts.
std::string contentText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (!content.is_array()) return out;
  for (const json& part : content) {
    if (part.is_string()) {
      out += part.get<std::string>();
    } else if (part.is_object()) {
      const std::string text = str(part, "text");
      if (!text.empty()) out += (out.empty() ? "" : "\n") + text;
    }
    if (out.size() > 64 * 1024) break;
  }
  return out;
}

}  // namespace

ModelApi modelApiFor(std::string_view method, std::string_view path) {
  if (method != "POST") return ModelApi::kNone;
  if (endsWith(path, "/chat/completions")) return ModelApi::kChatCompletions;
  if (endsWith(path, "/v1/responses") || path == "/responses") return ModelApi::kResponses;
  if (endsWith(path, "/v1/messages") || path == "/messages") return ModelApi::kMessages;
  return ModelApi::kNone;
}

std::string_view modelOperation(ModelApi api) {
  switch (api) {
    case ModelApi::kChatCompletions: return "chat.completions";
    case ModelApi::kResponses: return "responses";
    case ModelApi::kMessages: return "messages";
    case ModelApi::kNone: break;
  }
  return "-";
}

std::string providerFor(std::string_view host, ModelApi api) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kHosts = {{
      {"api.openai.com", "openai"},
      {"api.anthropic.com", "anthropic"},
      {"openrouter.ai", "openrouter"},
      {"api.mistral.ai", "mistral"},
      {"api.groq.com", "groq"},
      {"api.deepseek.com", "deepseek"},
      {"api.together.xyz", "together"},
      {"generativelanguage.googleapis.com", "google"},
      {"api.x.ai", "xai"},
      {"api.fireworks.ai", "fireworks"},
  }};
  for (const auto& [h, name] : kHosts) {
    if (host == h) return std::string(name);
  }
  return api == ModelApi::kMessages ? "anthropic-compatible" : "openai-compatible";
}

ModelCallParser::ModelCallParser(ModelApi api, policy::ModelContent content, ModelLimits limits)
    : api_(api), content_(content), limits_(limits) {}

void ModelCallParser::problem(std::string what) {
  if (problems_.size() < 8) problems_.push_back(std::move(what));
}

void ModelCallParser::onRequestBody(std::string_view bytes) {
  if (request_too_large_) return;
  if (request_.size() + bytes.size() > limits_.max_request_bytes) {
    request_too_large_ = true;
    request_.clear();
    request_.shrink_to_fit();
    return;
  }
  request_.append(bytes);
}

void ModelCallParser::readRequest() {
  if (request_too_large_) {
    problem(fmt::format("request body over {} bytes not read", limits_.max_request_bytes));
    return;
  }
  if (request_.empty()) return;
  const json j = json::parse(request_, nullptr, false);
  request_.clear();
  request_.shrink_to_fit();
  if (j.is_discarded() || !j.is_object()) {
    problem("request body is not a JSON object");
    return;
  }
  if (model_.empty()) model_ = str(j, "model");
  if (content_ == policy::ModelContent::kNone) return;
  // The prompt: the last user message (summary) or the whole conversation (full).
  const json* conversation = member(j, api_ == ModelApi::kResponses ? "input" : "messages");
  if (conversation == nullptr) return;
  if (content_ == policy::ModelContent::kFull) {
    json whole = json::object();
    if (const json* system = member(j, api_ == ModelApi::kResponses ? "instructions" : "system")) whole["system"] = *system;
    whole["messages"] = *conversation;
    prompt_ = cutUtf8(dumpSafe(redactJson(whole)), limits_.max_content_bytes);
    return;
  }
  std::string last;
  if (conversation->is_string()) {
    last = conversation->get<std::string>();
  } else if (conversation->is_array()) {
    for (const json& m : *conversation) {
      if (!m.is_object() || str(m, "role") != "user") continue;
      if (const json* c = member(m, "content")) last = contentText(*c);
    }
  }
  prompt_ = redactSecrets(cutUtf8(last, kSummaryBytes));
}

void ModelCallParser::onResponseHead(int status, std::string_view content_type) {
  status_ = status;
  std::string type(content_type.substr(0, content_type.find(';')));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type == "text/event-stream") {
    sse_.emplace(limits_.max_event_bytes);
  } else {
    json_answer_ = true;  // application/json, or anything else: read it as JSON if it parses
  }
}

void ModelCallParser::onResponseBody(std::string_view bytes) {
  if (sse_) {
    sse_->feed(bytes, [this](const SseEvent& e) { onStreamEvent(e); });
    return;
  }
  if (!json_answer_ || answer_too_large_) return;
  if (answer_.size() + bytes.size() > limits_.max_answer_bytes) {
    answer_too_large_ = true;
    answer_.clear();
    answer_.shrink_to_fit();
    return;
  }
  answer_.append(bytes);
}

void ModelCallParser::addToolCall(std::string id, std::string name) {
  if (tool_calls_.size() >= limits_.max_tool_calls) return;
  tool_calls_.push_back({cutUtf8(id, 256), cutUtf8(name, 256)});
}

void ModelCallParser::appendCompletion(std::string_view text) {
  if (content_ == policy::ModelContent::kNone || completion_cut_) return;
  const size_t cap = content_ == policy::ModelContent::kFull ? limits_.max_content_bytes : kSummaryBytes;
  if (completion_.size() + text.size() > cap) {
    completion_.append(text.substr(0, cap - completion_.size()));
    completion_.resize(utf8PrefixLength(completion_, cap));
    completion_cut_ = true;
    return;
  }
  completion_.append(text);
}

void ModelCallParser::readError(const json& j) {
  // OpenAI: {"error": {"message", "type", "code"}}; Anthropic: {"type": "error", "error": {"type", "message"}}.
  const json* e = member(j, "error");
  if (e == nullptr) return;
  std::string type;
  std::string message;
  if (e->is_object()) {
    type = str(*e, "type");
    if (type.empty()) type = str(*e, "code");
    message = str(*e, "message");
  } else if (e->is_string()) {
    message = e->get<std::string>();
  }
  error_ = redactSecrets(cutUtf8(type.empty() ? message : type + ": " + message, 256));
  if (error_.empty()) error_ = "error";
}

void ModelCallParser::readResponsesObject(const json& r) {
  if (!r.is_object()) return;
  if (const std::string m = str(r, "model"); !m.empty()) model_ = m;
  if (const json* usage = member(r, "usage")) {
    if (auto v = integer(*usage, "input_tokens")) input_tokens_ = v;
    if (auto v = integer(*usage, "output_tokens")) output_tokens_ = v;
  }
  const std::string status = str(r, "status");
  if (status == "incomplete") {
    const json* details = member(r, "incomplete_details");
    stop_reason_ = details != nullptr ? str(*details, "reason") : std::string();
    if (stop_reason_.empty()) stop_reason_ = "incomplete";
  } else if (!status.empty() && status != "in_progress" && status != "queued") {
    stop_reason_ = status;
  }
  if (const json* e = member(r, "error"); e != nullptr && e->is_object()) readError(r);
  if (const json* output = member(r, "output"); output != nullptr && output->is_array() && sse_ == std::nullopt) {
    for (const json& item : *output) {
      const std::string type = str(item, "type");
      if (type == "function_call" || type == "custom_tool_call" || type == "mcp_call") {
        std::string id = str(item, "call_id");
        if (id.empty()) id = str(item, "id");
        addToolCall(std::move(id), str(item, "name"));
      } else if (type == "message") {
        if (const json* c = member(item, "content")) appendCompletion(contentText(*c));
      }
    }
  }
}

void ModelCallParser::onJsonAnswer(const json& j) {
  if (!j.is_object()) {
    problem("answer is not a JSON object");
    return;
  }
  readError(j);
  switch (api_) {
    case ModelApi::kChatCompletions: {
      if (const std::string m = str(j, "model"); !m.empty()) model_ = m;
      if (const json* usage = member(j, "usage")) {
        input_tokens_ = integer(*usage, "prompt_tokens");
        output_tokens_ = integer(*usage, "completion_tokens");
      }
      const json* choices = member(j, "choices");
      if (choices == nullptr || !choices->is_array()) break;
      for (const json& choice : *choices) {
        if (stop_reason_.empty()) stop_reason_ = str(choice, "finish_reason");
        const json* message = member(choice, "message");
        if (message == nullptr) continue;
        if (const json* c = member(*message, "content")) appendCompletion(contentText(*c));
        if (const json* calls = member(*message, "tool_calls"); calls != nullptr && calls->is_array()) {
          for (const json& call : *calls) {
            const json* fn = member(call, "function");
            addToolCall(str(call, "id"), fn != nullptr ? str(*fn, "name") : std::string());
          }
        }
      }
      break;
    }
    case ModelApi::kResponses: readResponsesObject(j); break;
    case ModelApi::kMessages: {
      if (const std::string m = str(j, "model"); !m.empty()) model_ = m;
      if (const json* usage = member(j, "usage")) {
        input_tokens_ = integer(*usage, "input_tokens");
        output_tokens_ = integer(*usage, "output_tokens");
      }
      stop_reason_ = str(j, "stop_reason");
      if (const json* content = member(j, "content"); content != nullptr && content->is_array()) {
        for (const json& block : *content) {
          const std::string type = str(block, "type");
          if (type == "tool_use" || type == "server_tool_use") {
            addToolCall(str(block, "id"), str(block, "name"));
          } else if (type == "text") {
            appendCompletion(str(block, "text"));
          }
        }
      }
      break;
    }
    case ModelApi::kNone: break;
  }
}

void ModelCallParser::onStreamEvent(const SseEvent& e) {
  if (e.oversized) {
    problem(fmt::format("stream event over {} bytes not read", limits_.max_event_bytes));
    return;
  }
  if (api_ == ModelApi::kChatCompletions && e.data == "[DONE]") {
    stream_done_ = true;
    return;
  }
  const json j = json::parse(e.data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    problem("stream event is not a JSON object");
    return;
  }
  std::string type(e.type);
  if (type.empty()) type = str(j, "type");
  switch (api_) {
    case ModelApi::kChatCompletions: onChatChunk(j); break;
    case ModelApi::kResponses: onResponsesEvent(type, j); break;
    case ModelApi::kMessages: onMessagesEvent(type, j); break;
    case ModelApi::kNone: break;
  }
}

void ModelCallParser::onChatChunk(const json& j) {
  if (member(j, "error") != nullptr) {
    readError(j);
    return;
  }
  if (const std::string m = str(j, "model"); !m.empty()) model_ = m;
  if (const json* usage = member(j, "usage"); usage != nullptr && usage->is_object()) {
    if (auto v = integer(*usage, "prompt_tokens")) input_tokens_ = v;
    if (auto v = integer(*usage, "completion_tokens")) output_tokens_ = v;
  }
  const json* choices = member(j, "choices");
  if (choices == nullptr || !choices->is_array()) return;
  for (const json& choice : *choices) {
    if (const std::string reason = str(choice, "finish_reason"); !reason.empty()) stop_reason_ = reason;
    const json* delta = member(choice, "delta");
    if (delta == nullptr) continue;
    if (const json* c = member(*delta, "content"); c != nullptr && c->is_string()) appendCompletion(c->get<std::string>());
    const json* calls = member(*delta, "tool_calls");
    if (calls == nullptr || !calls->is_array()) continue;
    for (const json& call : *calls) {
      // A call's first delta carries its id and name; later deltas (same index) only arguments.
      const int64_t index = integer(call, "index").value_or(-1);
      const std::string id = str(call, "id");
      const json* fn = member(call, "function");
      const std::string name = fn != nullptr ? str(*fn, "name") : std::string();
      const auto known = std::find(chat_tool_index_.begin(), chat_tool_index_.end(), index);
      if (known != chat_tool_index_.end() && index >= 0) {
        auto& existing = tool_calls_[static_cast<size_t>(known - chat_tool_index_.begin())];
        if (existing.id.empty() && !id.empty()) existing.id = cutUtf8(id, 256);
        if (existing.name.empty() && !name.empty()) existing.name = cutUtf8(name, 256);
        continue;
      }
      if (id.empty() && name.empty()) continue;
      if (tool_calls_.size() >= limits_.max_tool_calls) continue;
      chat_tool_index_.push_back(index);
      addToolCall(id, name);
    }
  }
}

void ModelCallParser::onResponsesEvent(std::string_view type, const json& j) {
  if (type == "response.created" || type == "response.in_progress") {
    if (const json* r = member(j, "response")) readResponsesObject(*r);
  } else if (type == "response.output_item.added" || type == "response.output_item.done") {
    const json* item = member(j, "item");
    if (item == nullptr) return;
    const std::string item_type = str(*item, "type");
    if (item_type != "function_call" && item_type != "custom_tool_call" && item_type != "mcp_call") return;
    std::string id = str(*item, "call_id");
    if (id.empty()) id = str(*item, "id");
    const bool seen = std::any_of(tool_calls_.begin(), tool_calls_.end(),
                                  [&](const ocsf::ModelToolCall& t) { return t.id == cutUtf8(id, 256); });
    if (!seen) addToolCall(std::move(id), str(*item, "name"));
  } else if (type == "response.output_text.delta") {
    appendCompletion(str(j, "delta"));
  } else if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
    if (const json* r = member(j, "response")) readResponsesObject(*r);
    stream_done_ = true;
  } else if (type == "error") {
    readError(json{{"error", j}});
    if (error_.empty() || error_ == "error") {
      error_ = redactSecrets(cutUtf8(str(j, "code") + ": " + str(j, "message"), 256));
    }
    stream_done_ = true;
  }
}

void ModelCallParser::onMessagesEvent(std::string_view type, const json& j) {
  if (type == "message_start") {
    const json* m = member(j, "message");
    if (m == nullptr) return;
    if (const std::string name = str(*m, "model"); !name.empty()) model_ = name;
    if (const json* usage = member(*m, "usage")) {
      if (auto v = integer(*usage, "input_tokens")) input_tokens_ = v;
      if (auto v = integer(*usage, "output_tokens")) output_tokens_ = v;
    }
  } else if (type == "content_block_start") {
    const json* block = member(j, "content_block");
    if (block == nullptr) return;
    const std::string block_type = str(*block, "type");
    if (block_type == "tool_use" || block_type == "server_tool_use") addToolCall(str(*block, "id"), str(*block, "name"));
    if (block_type == "text") appendCompletion(str(*block, "text"));
  } else if (type == "content_block_delta") {
    const json* delta = member(j, "delta");
    if (delta != nullptr && str(*delta, "type") == "text_delta") appendCompletion(str(*delta, "text"));
  } else if (type == "message_delta") {
    if (const json* delta = member(j, "delta")) {
      if (const std::string reason = str(*delta, "stop_reason"); !reason.empty()) stop_reason_ = reason;
    }
    if (const json* usage = member(j, "usage")) {
      if (auto v = integer(*usage, "output_tokens")) output_tokens_ = v;
      if (auto v = integer(*usage, "input_tokens")) input_tokens_ = v;
    }
  } else if (type == "message_stop") {
    stream_done_ = true;
  } else if (type == "error") {
    readError(j);
    stream_done_ = true;
  }
}

ocsf::ModelCall ModelCallParser::finish(bool body_complete) {
  readRequest();
  ocsf::ModelCall call;
  call.operation = std::string(modelOperation(api_));
  bool complete = body_complete;
  if (sse_) {
    call.streamed = true;
    // A chat stream that gave its finish_reason and then ended cleanly is whole even without
    // [DONE] (some OpenAI-compatible servers omit it).
    const bool ended = stream_done_ || (api_ == ModelApi::kChatCompletions && !stop_reason_.empty() && body_complete);
    complete = body_complete && ended && sse_->finish();
    if (body_complete && !ended && sse_->eventsDispatched() == 0 && status_ >= 400) complete = true;  // an error page
  } else if (json_answer_) {
    if (answer_too_large_) {
      problem(fmt::format("answer over {} bytes not read", limits_.max_answer_bytes));
    } else if (!answer_.empty() && body_complete) {
      const json j = json::parse(answer_, nullptr, false);
      if (j.is_discarded()) {
        problem("answer is not valid JSON");
      } else {
        onJsonAnswer(j);
      }
    }
    answer_.clear();
    answer_.shrink_to_fit();
  }
  call.complete = complete;
  call.model = model_;
  call.input_tokens = input_tokens_;
  call.output_tokens = output_tokens_;
  call.stop_reason = stop_reason_;
  call.tool_calls = tool_calls_;
  if (status_ > 0) call.http_status = status_;
  call.error = error_;
  if (content_ != policy::ModelContent::kNone) {
    call.content_level = std::string(policy::modelContentName(content_));
    call.prompt = prompt_;
    call.completion = redactSecrets(completion_);
  }
  return call;
}

}  // namespace warden::proxy::inspect
