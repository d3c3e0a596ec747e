#include "proxy/inspect/mcp.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "inspect_test_util.h"
#include "policy/loader.h"

namespace warden::proxy::inspect {
namespace {

using nlohmann::json;

policy::Endpoint mcpEndpoint(bool audit = false) {
  policy::Endpoint e;
  e.rule = "tools_server";
  e.protocol = policy::Protocol::kMcp;
  e.enforcement = audit ? policy::Enforcement::kAudit : policy::Enforcement::kEnforce;
  policy::Endpoint::Tools tools;
  tools.allow = std::vector<policy::Glob>{policy::Glob::create("read_*", policy::Glob::Kind::kText).value(),
                                          policy::Glob::create("search", policy::Glob::Kind::kText).value()};
  tools.deny = {policy::Glob::create("delete_*", policy::Glob::Kind::kText).value()};
  e.tools = std::move(tools);
  return e;
}

HttpRequestHead post(std::string_view body) {
  return requestHead("POST /mcp HTTP/1.1\r\nHost: mcp.example.com\r\nContent-Type: application/json\r\n"
                     "Mcp-Session-Id: s-1\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n");
}

class McpExchangeTest : public ::testing::Test {
 protected:
  RecorderFixture f;
  policy::Endpoint endpoint = mcpEndpoint();
  McpSessions sessions;
  McpCounts counts;

  McpExchange exchange() { return McpExchange(f.recorder, f.parties, endpoint, policy::ToolInputs::kSummary, sessions, counts); }
};

TEST_F(McpExchangeTest, ADeniedToolIsAnsweredWithTheRequestsIdAndRecordedDenied) {
  McpExchange x = exchange();
  const std::string body =
      R"({"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"name":"delete_repo","arguments":{"owner":"a","repo":"b"}}})";
  const auto answer = x.onRequest(post(body), body, false);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  const json reply = json::parse(answer->body);
  EXPECT_EQ(reply["id"], "req-7");
  EXPECT_EQ(reply["jsonrpc"], "2.0");
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("delete_repo"), std::string::npos);
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "TOOL:CALL [MED] DENIED node(99) -> delete_repo [server:mcp.example.com policy:tools_server engine:l7] "
            "[reason:tool delete_repo is denied by rule tools_server (tools.deny delete_*)]");
}

TEST_F(McpExchangeTest, AToolOutsideTheAllowListIsDeniedAndABatchIsRefusedWhole) {
  McpExchange x = exchange();
  const std::string body =
      R"([{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}},)"
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"write_file"}},)"
      R"({"jsonrpc":"2.0","method":"notifications/progress"}])";
  const auto answer = x.onRequest(post(body), body, false);
  ASSERT_TRUE(answer.has_value());
  const json reply = json::parse(answer->body);
  ASSERT_TRUE(reply.is_array());
  ASSERT_EQ(reply.size(), 2u);  // both requests answered, the notification not
  std::set<int> ids;
  for (const auto& r : reply) ids.insert(r["id"].get<int>());
  EXPECT_EQ(ids, (std::set<int>{1, 2}));
  EXPECT_NE(f.lines().at(0).find("write_file is not allowed by rule tools_server"), std::string::npos);
}

TEST_F(McpExchangeTest, AnAllowedCallIsRecordedWhenItsResultArrivesOnAnEventStream) {
  McpExchange x = exchange();
  const std::string init = R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{}})";
  ASSERT_FALSE(x.onRequest(post(init), init, false).has_value());
  x.onResponseHead(responseHead("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMcp-Session-Id: s-1\r\nContent-Length: 10\r\n\r\n"));
  x.onResponseBody(R"({"jsonrpc":"2.0","id":0,"result":{"serverInfo":{"name":"docs-server","version":"1"}}})");
  x.onEnd({.response_complete = true});

  McpExchange call = exchange();
  const std::string body =
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"search","arguments":{"q":"ocsf","api_key":"abc"}}})";
  ASSERT_FALSE(call.onRequest(post(body), body, false).has_value());
  f.clock.advanceMillis(42);
  call.onResponseHead(responseHead("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string stream =
      "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
      "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}}\n\n";
  for (char c : stream) call.onResponseBody(std::string_view(&c, 1));  // byte by byte
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 1u) << "recorded as soon as the result arrived, before the end";
  EXPECT_EQ(lines[0], "TOOL:CALL [INFO] node(99) -> search [server:mcp.example.com status:success ms:42]");
  const auto all_events = f.emitter.events();
  const ocsf::Event& e = all_events.at(0);
  EXPECT_EQ(e.api->service_name, "docs-server");
  EXPECT_EQ(e.unmapped.findPath({"tool", "input_summary"})->asString(), "api_key=[redacted] q=ocsf");
  call.onEnd({.response_complete = true});
  EXPECT_EQ(f.lines().size(), 1u);
}

TEST_F(McpExchangeTest, IsErrorErrorsAndTimeoutsAreTheirOwnResultStatus) {
  McpExchange x = exchange();
  const std::string body =
      R"([{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_a"}},)"
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_b"}},)"
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read_c"}}])";
  ASSERT_FALSE(x.onRequest(post(body), body, false).has_value());
  x.onResponseHead(responseHead("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"));
  x.onResponseBody(R"([{"jsonrpc":"2.0","id":1,"result":{"isError":true,"content":[{"type":"text","text":"no such file"}]}},)"
                   R"({"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"bad params"}}])");
  x.onEnd({.response_complete = true, .timed_out = true});
  const auto lines = f.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("read_a [server:mcp.example.com status:isError"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("read_b [server:mcp.example.com status:error"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("read_c [server:mcp.example.com status:timeout"), std::string::npos) << lines[2];
  EXPECT_EQ(f.emitter.events()[1].unmapped.findPath({"tool", "error"})->asString(), "-32602: bad params");
}

TEST_F(McpExchangeTest, OtherMethodsAreCountedAndRecordedOnlyWhenTheyFail) {
  {
    McpExchange x = exchange();
    const std::string body = R"([{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"prompts/get"}])";
    ASSERT_FALSE(x.onRequest(post(body), body, false).has_value());
    x.onResponseHead(responseHead("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"));
    x.onResponseBody(R"([{"jsonrpc":"2.0","id":1,"result":{"tools":[]}},{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}}])");
    x.onEnd({.response_complete = true});
  }
  auto lines = f.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "TOOL:CALL [LOW] node(99) -> prompts/get [server:mcp.example.com status:error]");
  recordMcpCounts(f.recorder, f.parties, counts);
  lines = f.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("EVENT:MCP_MESSAGES [INFO] 2 MCP messages"), std::string::npos) << lines[1];
  EXPECT_EQ(f.emitter.events()[1].unmapped.findPath({"methods", "tools/list"})->asUint(), 1u);
}

TEST_F(McpExchangeTest, ABodyThatCannotBeCheckedIsRefusedOnAnEndpointWithToolRules) {
  McpExchange x = exchange();
  const std::string body = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":)";
  const auto answer = x.onRequest(post(body), body, false);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 400);
  EXPECT_EQ(json::parse(answer->body)["error"]["code"], -32700);
  EXPECT_NE(f.lines().at(0).find("EVENT:INSPECTION [LOW] MCP request to mcp.example.com not understood: not valid JSON"),
            std::string::npos)
      << f.lines().at(0);
  McpExchange big = exchange();
  EXPECT_TRUE(big.onRequest(post("{}"), "", /*too_large=*/true).has_value());
}

TEST_F(McpExchangeTest, UnderAuditADeniedToolIsObservedAndStillReachesTheServer) {
  endpoint = mcpEndpoint(/*audit=*/true);
  McpExchange x = exchange();
  const std::string body = R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"delete_repo"}})";
  EXPECT_FALSE(x.onRequest(post(body), body, false).has_value());
  ASSERT_EQ(f.lines().size(), 1u);
  EXPECT_NE(f.lines()[0].find("TOOL:CALL [MED] OBSERVED node(99) -> delete_repo"), std::string::npos) << f.lines()[0];
}

TEST(JsonRpcTest, ParsesRequestsNotificationsResponsesAndNamesWhatIsInvalid) {
  const RpcPayload p = parseJsonRpc(
      R"([{"jsonrpc":"2.0","id":"a","method":"m","params":[1]},{"jsonrpc":"2.0","method":"n"},)"
      R"({"jsonrpc":"2.0","id":3,"result":null},{"jsonrpc":"1.0","id":4,"method":"x"},{"jsonrpc":"2.0","id":5,"method":7}])");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p.messages.size(), 5u);
  EXPECT_EQ(p.messages[0].kind, RpcMessage::Kind::kRequest);
  EXPECT_EQ(p.messages[0].id, "\"a\"");
  EXPECT_EQ(p.messages[1].kind, RpcMessage::Kind::kNotification);
  EXPECT_EQ(p.messages[2].kind, RpcMessage::Kind::kResponse);
  EXPECT_EQ(p.messages[3].kind, RpcMessage::Kind::kInvalid);
  EXPECT_EQ(p.messages[3].id, "4");
  EXPECT_EQ(p.messages[4].problem, "method is not a string");
  EXPECT_FALSE(parseJsonRpc("[]").ok());
  EXPECT_FALSE(parseJsonRpc("42").ok());
  EXPECT_FALSE(parseJsonRpc("{").ok());
  EXPECT_EQ(rpcErrorResponse("\"a\"", -32001, "no"), R"({"jsonrpc":"2.0","id":"a","error":{"code":-32001,"message":"no"}})");
}

}  // namespace
}  // namespace warden::proxy::inspect
