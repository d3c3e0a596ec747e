#include "proxy/inspect/model_call.h"

#include <gtest/gtest.h>

#include <string>

#include "ocsf/shorthand.h"

namespace warden::proxy::inspect {
namespace {

ocsf::ModelCall run(ModelApi api, std::string_view request, std::string_view content_type, std::string_view answer,
                    size_t piece = 0, bool complete = true, policy::ModelContent content = policy::ModelContent::kNone) {
  ModelCallParser p(api, content);
  p.onRequestBody(request);
  p.onResponseHead(200, content_type);
  if (piece == 0) piece = answer.size() == 0 ? 1 : answer.size();
  for (size_t i = 0; i < answer.size(); i += piece) p.onResponseBody(answer.substr(i, piece));
  return p.finish(complete);
}

TEST(ModelApiTest, PathsAndProviders) {
  EXPECT_EQ(modelApiFor("POST", "/v1/chat/completions"), ModelApi::kChatCompletions);
  EXPECT_EQ(modelApiFor("POST", "/openai/v1/chat/completions"), ModelApi::kChatCompletions);
  EXPECT_EQ(modelApiFor("POST", "/v1/responses"), ModelApi::kResponses);
  EXPECT_EQ(modelApiFor("POST", "/v1/messages"), ModelApi::kMessages);
  EXPECT_EQ(modelApiFor("GET", "/v1/models"), ModelApi::kNone);
  EXPECT_EQ(modelApiFor("POST", "/v1/messages/count_tokens"), ModelApi::kNone);
  EXPECT_EQ(providerFor("api.anthropic.com", ModelApi::kMessages), "anthropic");
  EXPECT_EQ(providerFor("llm.internal", ModelApi::kChatCompletions), "openai-compatible");
}

constexpr std::string_view kChatRequest =
    R"({"model":"gpt-4o","stream":true,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"weather in Paris? key sk-abcdefghijklmnopqrstuvwxyz0123"}]})";

constexpr std::string_view kChatStream =
    "data: {\"id\":\"c1\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Let me \"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\",\"function\":{\"name\":\"get_time\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":18}}\n\n"
    "data: [DONE]\n\n";

TEST(ModelCallParserTest, AChatStreamGivesTheSameFactsWhateverTheSplit) {
  for (size_t piece : {size_t{0}, size_t{1}, size_t{5}, size_t{64}}) {
    const ocsf::ModelCall c = run(ModelApi::kChatCompletions, kChatRequest, "text/event-stream", kChatStream, piece);
    EXPECT_TRUE(c.streamed);
    EXPECT_TRUE(c.complete) << piece;
    EXPECT_EQ(c.model, "gpt-4o-2024-08-06");
    EXPECT_EQ(c.input_tokens, 31);
    EXPECT_EQ(c.output_tokens, 18);
    EXPECT_EQ(c.stop_reason, "tool_calls");
    ASSERT_EQ(c.tool_calls.size(), 2u) << piece;
    EXPECT_EQ(c.tool_calls[0].id, "call_1");
    EXPECT_EQ(c.tool_calls[0].name, "get_weather");
    EXPECT_EQ(c.tool_calls[1].name, "get_time");
    EXPECT_TRUE(c.prompt.empty()) << "model_content: none keeps no content";
    EXPECT_TRUE(c.completion.empty());
  }
}

TEST(ModelCallParserTest, AStreamCutInTheMiddleIsIncomplete) {
  const std::string_view cut = kChatStream.substr(0, kChatStream.find("finish_reason") - 20);
  const ocsf::ModelCall c = run(ModelApi::kChatCompletions, kChatRequest, "text/event-stream", cut, 0, /*complete=*/false);
  EXPECT_FALSE(c.complete);
  EXPECT_EQ(c.tool_calls.size(), 2u) << "what arrived is still recorded";
  const ocsf::ModelCall unended = run(ModelApi::kChatCompletions, kChatRequest, "text/event-stream",
                                      kChatStream.substr(0, kChatStream.find("data: {\"choices\":[{\"index\":0,\"delta\":{},")),
                                      0, /*complete=*/true);
  EXPECT_FALSE(unended.complete) << "a clean close before the final event is still incomplete";
}

TEST(ModelCallParserTest, ContentIsKeptOnlyAsThePolicySaysAndWithoutSecrets) {
  const ocsf::ModelCall summary = run(ModelApi::kChatCompletions, kChatRequest, "text/event-stream", kChatStream, 0, true,
                                      policy::ModelContent::kSummary);
  EXPECT_EQ(summary.content_level, "summary");
  EXPECT_EQ(summary.prompt, "weather in Paris? key [redacted]");
  EXPECT_EQ(summary.completion, "Let me ");
  const ocsf::ModelCall full = run(ModelApi::kChatCompletions, kChatRequest, "text/event-stream", kChatStream, 0, true,
                                   policy::ModelContent::kFull);
  EXPECT_NE(full.prompt.find("be brief"), std::string::npos);
  EXPECT_EQ(full.prompt.find("sk-abcdefghijklmnopqrstuvwxyz0123"), std::string::npos) << full.prompt;
}

TEST(ModelCallParserTest, ANonStreamedChatAnswer) {
  const ocsf::ModelCall c = run(
      ModelApi::kChatCompletions, R"({"model":"gpt-4o","messages":[]})", "application/json",
      R"({"model":"gpt-4o-mini","choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"bash","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":7}})");
  EXPECT_FALSE(c.streamed);
  EXPECT_TRUE(c.complete);
  EXPECT_EQ(c.model, "gpt-4o-mini");
  EXPECT_EQ(c.input_tokens, 5);
  ASSERT_EQ(c.tool_calls.size(), 1u);
  EXPECT_EQ(c.tool_calls[0].name, "bash");
}

TEST(ModelCallParserTest, AnAnthropicMessagesStream) {
  const std::string_view stream =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4\",\"usage\":{\"input_tokens\":1234,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: ping\ndata: {\"type\":\"ping\"}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Reading.\"}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"read_file\",\"input\":{}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_02\",\"name\":\"bash\",\"input\":{}}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":567}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  ocsf::ModelCall c = run(ModelApi::kMessages, R"({"model":"claude-sonnet-4","stream":true,"messages":[]})",
                          "text/event-stream; charset=utf-8", stream, 3);
  EXPECT_TRUE(c.complete);
  c.dst.hostname = "api.anthropic.com";
  c.dst.port = 443;
  c.duration_ms = 2310;
  ocsf::Process node;
  node.name = "node";
  node.pid = 99;
  c.actor = node;
  c.provider = "anthropic";
  EXPECT_EQ(ocsf::toShorthand(ocsf::modelCall(ocsf::SessionContext{}, 1, c)),
            "MODEL:CALL [INFO] node(99) -> api.anthropic.com claude-sonnet-4 [in:1234 out:567 ms:2310 stop:tool_use "
            "tools:read_file,bash]");
}

TEST(ModelCallParserTest, AResponsesStreamAndAnError) {
  const std::string_view stream =
      "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"model\":\"gpt-4.1\",\"status\":\"in_progress\"}}\n\n"
      "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"item\":{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_A\",\"name\":\"lookup\"}}\n\n"
      "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"item\":{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_A\",\"name\":\"lookup\"}}\n\n"
      "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-4.1\",\"status\":\"completed\",\"usage\":{\"input_tokens\":11,\"output_tokens\":3}}}\n\n";
  const ocsf::ModelCall c = run(ModelApi::kResponses, R"({"model":"gpt-4.1","input":"hi","stream":true})", "text/event-stream", stream);
  EXPECT_TRUE(c.complete);
  EXPECT_EQ(c.stop_reason, "completed");
  EXPECT_EQ(c.input_tokens, 11);
  ASSERT_EQ(c.tool_calls.size(), 1u);
  EXPECT_EQ(c.tool_calls[0].id, "call_A");

  ModelCallParser p(ModelApi::kChatCompletions, policy::ModelContent::kNone);
  p.onRequestBody(R"({"model":"gpt-4o"})");
  p.onResponseHead(401, "application/json");
  p.onResponseBody(R"({"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz012345","type":"invalid_request_error"}})");
  const ocsf::ModelCall e = p.finish(true);
  EXPECT_EQ(e.model, "gpt-4o");
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(e.error, "invalid_request_error: Incorrect API key provided: [redacted]");
}

TEST(ModelCallParserTest, MalformedAnswersAreProblemsNotCrashes) {
  ModelCallParser p(ModelApi::kMessages, policy::ModelContent::kFull);
  p.onRequestBody("{not json");
  p.onResponseHead(200, "text/event-stream");
  p.onResponseBody("event: message_start\ndata: {\"type\":\n\ndata: [1,2]\n\n");
  const ocsf::ModelCall c = p.finish(true);
  EXPECT_FALSE(c.complete);
  EXPECT_GE(p.problems().size(), 2u);
}

}  // namespace
}  // namespace warden::proxy::inspect
