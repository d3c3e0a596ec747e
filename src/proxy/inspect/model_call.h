#pragma once

// Model API calls on `protocol: llm` endpoints (sandbox.md "Model APIs"): OpenAI-compatible
// /v1/chat/completions and /v1/responses, Anthropic /v1/messages, streamed (SSE) or not. The
// parser reads copies of the bytes the relay forwards — it never holds a byte back — and keeps
// only bounded state: the request body up to a limit, a non-streamed answer up to a limit, one SSE
// event at a time, the completion text up to the content limit. docs/model-calls.md.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocsf/builders.h"
#include "policy/model.h"
#include "proxy/inspect/sse.h"

namespace warden::proxy::inspect {

enum class ModelApi { kNone, kChatCompletions, kResponses, kMessages };

// The API a request speaks, from its method and canonical path: POST .../chat/completions,
// POST .../v1/responses, POST .../v1/messages (a path prefix such as /openai or /api is allowed).
ModelApi modelApiFor(std::string_view method, std::string_view canonical_path);
// "chat.completions", "responses", "messages".
std::string_view modelOperation(ModelApi api);
// The provider, from the host when it is a known one (api.openai.com -> "openai", api.anthropic.com
// -> "anthropic", openrouter.ai, api.mistral.ai, api.groq.com, api.deepseek.com, api.together.xyz,
// generativelanguage.googleapis.com -> "google", api.x.ai -> "xai"), else the wire format
// ("openai-compatible", "anthropic-compatible").
std::string providerFor(std::string_view host, ModelApi api);

struct ModelLimits {
  size_t max_request_bytes = 8 * 1024 * 1024;   // request body kept for reading (model, stream, prompt)
  size_t max_answer_bytes = 16 * 1024 * 1024;   // a non-streamed answer kept for reading
  size_t max_event_bytes = 1024 * 1024;         // one SSE event
  size_t max_content_bytes = 64 * 1024;         // prompt / completion text kept (model_content)
  size_t max_tool_calls = 128;
};

// The facts of one call, from its bytes. Single-threaded; no exceptions (nlohmann is used with
// allow_exceptions=false and dumps with error_handler_t::replace).
class ModelCallParser {
 public:
  ModelCallParser(ModelApi api, policy::ModelContent content, ModelLimits limits = {});

  void onRequestBody(std::string_view bytes);
  void onResponseHead(int status, std::string_view content_type);
  void onResponseBody(std::string_view bytes);
  // Everything known. `body_complete`: the whole answer body arrived. A stream that did not reach
  // its final event (chat: [DONE] or a finish_reason; responses: response.completed/incomplete/
  // failed; messages: message_stop) is incomplete whatever the transport said.
  ocsf::ModelCall finish(bool body_complete);

  // Problems worth an EVENT (malformed JSON, an oversized event...), in order (at most 8).
  const std::vector<std::string>& problems() const { return problems_; }
  bool streamed() const { return sse_.has_value(); }

 private:
  void readRequest();
  void onJsonAnswer(const nlohmann::json& j);
  void onStreamEvent(const SseEvent& e);
  void onChatChunk(const nlohmann::json& j);
  void onResponsesEvent(std::string_view type, const nlohmann::json& j);
  void onMessagesEvent(std::string_view type, const nlohmann::json& j);
  void readResponsesObject(const nlohmann::json& response);
  void readError(const nlohmann::json& j);
  void addToolCall(std::string id, std::string name);
  void appendCompletion(std::string_view text);
  void problem(std::string what);

  ModelApi api_;
  policy::ModelContent content_;
  ModelLimits limits_;
  std::string request_;
  bool request_too_large_ = false;
  int status_ = 0;
  bool json_answer_ = false;
  std::string answer_;
  bool answer_too_large_ = false;
  std::optional<SseParser> sse_;
  bool stream_done_ = false;

  // What was learnt.
  std::string model_;
  std::optional<int64_t> input_tokens_;
  std::optional<int64_t> output_tokens_;
  std::string stop_reason_;
  std::vector<ocsf::ModelToolCall> tool_calls_;
  std::vector<int64_t> chat_tool_index_;  // chat streaming: tool_calls[].index -> position in tool_calls_
  std::string error_;
  std::string prompt_;
  std::string completion_;
  bool completion_cut_ = false;
  std::vector<std::string> problems_;
};

}  // namespace warden::proxy::inspect
