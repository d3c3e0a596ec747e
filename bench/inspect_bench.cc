// What proxy/inspect costs per call, in process (issue 14 item 7): an MCP tools/call (request decided,
// answer parsed, TOOL event built) with an SSE and a JSON answer; a model call (request body, answer
// parsed, MODEL event built) streamed (chat.completions, 60 chunks; Anthropic messages) and not; and the
// artifact hashing of a package download per MiB against plain SHA-256 (the floor). Events go to an
// emitter that only counts them (the audit pipeline's cost is measured by pipeline_bench).

#include <benchmark/benchmark.h>

#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "ocsf/samples.h"
#include "policy/glob.h"
#include "policy/loader.h"
#include "proxy/inspect/mcp.h"
#include "proxy/inspect/model_call.h"
#include "proxy/inspect/packages.h"

namespace {

using namespace warden;
using namespace warden::proxy;
using namespace warden::proxy::inspect;

class CountingEmitter final : public audit::Emitter {
 public:
  void emit(ocsf::Event&& e) override { benchmark::DoNotOptimize(e); ++count; }
  void operational(audit::Level, std::string_view, std::string_view) override {}
  uint64_t count = 0;
};

struct Fixture {
  CountingEmitter emitter;
  ocsf::SessionContext session = ocsf::sampleContext();
  ManualClock clock{1700000000000};
  Recorder recorder{&emitter, &session, &clock};
  Parties parties;
  Fixture() {
    ocsf::Process p;
    p.name = "node";
    p.pid = 99;
    parties.actor = p;
    parties.host = "mcp.example.com";
    parties.port = 443;
    parties.tls = true;
    parties.rule = "tools";
  }
};

HttpRequestHead head(const std::string& text) {
  HttpRequestParser p;
  (void)p.feed(text);
  return p.takeHead();
}
HttpResponseHead responseHead(const std::string& text) {
  HttpResponseParser p("POST");
  (void)p.feed(text);
  return p.takeHead();
}

void mcpCall(benchmark::State& state, bool sse) {
  Fixture f;
  policy::Endpoint endpoint;
  endpoint.rule = "tools";
  endpoint.protocol = policy::Protocol::kMcp;
  policy::Endpoint::Tools tools;
  tools.allow = std::vector<policy::Glob>{policy::Glob::create("read_*", policy::Glob::Kind::kText).value()};
  tools.deny = {policy::Glob::create("delete_*", policy::Glob::Kind::kText).value()};
  endpoint.tools = std::move(tools);
  McpSessions sessions;
  McpCounts counts;
  const HttpRequestHead request = head(
      "POST /mcp HTTP/1.1\r\nHost: mcp.example.com\r\nContent-Type: application/json\r\nMcp-Session-Id: "
      "3f2a9c1e-8d7b-4e6f-9a0b-1c2d3e4f5a6b\r\nContent-Length: 200\r\n\r\n");
  const std::string body =
      R"({"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/workspace/src/main.cc","encoding":"utf-8"}}})";
  const HttpResponseHead answer = responseHead(
      std::string("HTTP/1.1 200 OK\r\nContent-Type: ") + (sse ? "text/event-stream" : "application/json") +
      "\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string result =
      R"({"jsonrpc":"2.0","id":17,"result":{"content":[{"type":"text","text":"#include <cstdio>\nint main() { std::puts(\"hello\"); }\n"}]}})";
  const std::string payload = sse ? "event: message\ndata: " + result + "\n\n" : result;
  for (auto _ : state) {
    McpExchange x(f.recorder, f.parties, endpoint, policy::ToolInputs::kSummary, sessions, counts);
    benchmark::DoNotOptimize(x.onRequest(request, body, false));
    x.onResponseHead(answer);
    x.onResponseBody(payload);
    x.onEnd({.response_complete = true});
  }
  state.counters["events"] = static_cast<double>(f.emitter.count);
  state.SetItemsProcessed(state.iterations());
}
void BM_McpToolCallSseAnswer(benchmark::State& state) { mcpCall(state, true); }
void BM_McpToolCallJsonAnswer(benchmark::State& state) { mcpCall(state, false); }
BENCHMARK(BM_McpToolCallSseAnswer);
BENCHMARK(BM_McpToolCallJsonAnswer);

std::string chatStream(int chunks) {
  std::string out;
  for (int i = 0; i < chunks; ++i) {
    out += R"(data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"word )" +
           std::to_string(i) + R"( "},"finish_reason":null}]})" + "\n\n";
  }
  out += "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"bash\",\"arguments\":\"\"}}]}}]}\n\n";
  out += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n";
  out += "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":80}}\n\ndata: [DONE]\n\n";
  return out;
}

void modelCall(benchmark::State& state, ModelApi api, const std::string& type, const std::string& answer,
               size_t piece) {
  Fixture f;
  std::string request = R"({"model":"gpt-4o","stream":true,"messages":[)";
  for (int i = 0; i < 8; ++i) request += R"({"role":"user","content":"please read the files in the workspace and summarise them for me"},)";
  request += R"({"role":"user","content":"go"}]})";
  for (auto _ : state) {
    ModelCallParser p(api, policy::ModelContent::kNone);
    p.onRequestBody(request);
    p.onResponseHead(200, type);
    for (size_t i = 0; i < answer.size(); i += piece) p.onResponseBody(std::string_view(answer).substr(i, piece));
    ocsf::ModelCall call = p.finish(true);
    call.actor = f.parties.actor;
    call.dst = f.parties.dst();
    f.recorder.emit(ocsf::modelCall(f.session, 1, call));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * answer.size()));
}
void BM_ModelCallChatStream60Chunks(benchmark::State& state) {
  modelCall(state, ModelApi::kChatCompletions, "text/event-stream", chatStream(60), 512);
}
void BM_ModelCallChatJson(benchmark::State& state) {
  modelCall(state, ModelApi::kChatCompletions, "application/json",
            R"({"id":"c","model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"Let me look.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"bash","arguments":"{\"cmd\":\"ls\"}"}}]}}],"usage":{"prompt_tokens":1200,"completion_tokens":80}})",
            16384);
}
void BM_ModelCallAnthropicStream(benchmark::State& state) {
  std::string s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4\",\"usage\":{\"input_tokens\":1234,\"output_tokens\":1}}}\n\n";
  for (int i = 0; i < 60; ++i) {
    s += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word " +
         std::to_string(i) + " \"}}\n\n";
  }
  s += "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"read_file\",\"input\":{}}}\n\n";
  s += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":567}}\n\n";
  s += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  modelCall(state, ModelApi::kMessages, "text/event-stream", s, 512);
}
BENCHMARK(BM_ModelCallChatStream60Chunks);
BENCHMARK(BM_ModelCallChatJson);
BENCHMARK(BM_ModelCallAnthropicStream);

// A package download's inspection per MiB (16 KiB reads, as the relay reads) against the floor.
void BM_Sha256Floor(benchmark::State& state) {
  const std::string chunk(16 * 1024, 'w');
  for (auto _ : state) {
    Sha256Stream h;
    for (int i = 0; i < 64; ++i) h.update(chunk);
    benchmark::DoNotOptimize(h.finishHex());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024 * 1024);
}
void BM_PackageArtifactPerMiB(benchmark::State& state) {
  Fixture f;
  f.parties.host = "files.example";
  auto policy = policy::loadPolicyText("version: 1\n", "bench.yaml").value();
  PackageLedger ledger;
  const std::string chunk(16 * 1024, 'w');
  const HttpRequestHead request = head("GET /packages/wheel-1.0-py3-none-any.whl HTTP/1.1\r\nHost: files.example\r\n\r\n");
  const HttpResponseHead ok = responseHead("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n");
  for (auto _ : state) {
    auto x = PackageExchange::begin(f.recorder, f.parties, ledger, policy, request, "/packages/wheel-1.0-py3-none-any.whl",
                                    "https://files.example/packages/wheel-1.0-py3-none-any.whl");
    x->onResponseHead(ok);
    for (int i = 0; i < 64; ++i) benchmark::DoNotOptimize(x->onResponseBody(chunk, i == 63));
    x->onEnd({.response_complete = true});
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024 * 1024);
}
BENCHMARK(BM_Sha256Floor);
BENCHMARK(BM_PackageArtifactPerMiB);

}  // namespace

BENCHMARK_MAIN();
