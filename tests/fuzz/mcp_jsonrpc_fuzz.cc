// libFuzzer target: MCP traffic as the proxy sees it (proxy/inspect/mcp.h, jsonrpc.h). The input is
// split in two at its first byte's position: a request body (JSON-RPC, single or batch) decided
// against tools globs, then an answer fed both as application/json and as text/event-stream in small
// pieces. Checks: no crash, every event renders as one line, an answer to a denied call is JSON.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "inspect_fuzz_util.h"
#include "policy/glob.h"
#include "proxy/inspect/jsonrpc.h"
#include "proxy/inspect/mcp.h"

using namespace warden;
using namespace warden::proxy::inspect;
using warden::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(bytes), size);
  const size_t cut = size == 0 ? 0 : bytes[0] % (size + 1);
  const std::string_view request = all.substr(0, cut);
  const std::string_view answer = all.substr(cut);
  (void)parseJsonRpc(request);

  fuzz::FuzzRecorder f;
  policy::Endpoint endpoint;
  endpoint.rule = "fuzz";
  endpoint.protocol = policy::Protocol::kMcp;
  policy::Endpoint::Tools tools;
  tools.allow = std::vector<policy::Glob>{policy::Glob::create("read_*", policy::Glob::Kind::kText).value()};
  tools.deny = {policy::Glob::create("delete_*", policy::Glob::Kind::kText).value()};
  endpoint.tools = std::move(tools);
  McpSessions sessions;
  for (const char* type : {"application/json", "text/event-stream"}) {
    McpCounts counts;
    McpExchange x(f.recorder, f.parties, endpoint, policy::ToolInputs::kFull, sessions, counts);
    proxy::HttpRequestParser rp;
    (void)rp.feed("POST /mcp HTTP/1.1\r\nHost: fuzz.example\r\nContent-Type: application/json\r\n\r\n");
    if (auto a = x.onRequest(rp.head(), request, false)) {
      if (!a->body.empty()) check(!nlohmann::json::parse(a->body, nullptr, false).is_discarded());
      continue;
    }
    proxy::HttpResponseParser sp("POST");
    (void)sp.feed(std::string("HTTP/1.1 200 OK\r\nContent-Type: ") + type + "\r\nContent-Length: 1\r\n\r\n");
    x.onResponseHead(sp.head());
    for (size_t i = 0; i < answer.size(); i += 7) x.onResponseBody(answer.substr(i, 7));
    x.onEnd({.response_complete = true});
    recordMcpCounts(f.recorder, f.parties, counts);
  }
  return 0;
}
