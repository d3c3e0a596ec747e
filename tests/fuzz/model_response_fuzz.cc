// libFuzzer target: model API answers as the proxy reads them (proxy/inspect/model_call.h, sse.h):
// each API, streamed (SSE, fed in two different splits that must give the same facts) and not. The
// first byte picks the API and the split. Checks: no crash, split-independence, bounded fields.

#include <cstddef>
#include <cstdint>
#include <string>

#include "inspect_fuzz_util.h"
#include "proxy/inspect/model_call.h"
#include "proxy/inspect/sse.h"

using namespace warden;
using namespace warden::proxy::inspect;
using warden::fuzz::check;

namespace {

ocsf::ModelCall run(ModelApi api, std::string_view body, std::string_view type, size_t piece) {
  ModelCallParser p(api, policy::ModelContent::kFull);
  p.onRequestBody(body.substr(0, body.size() / 4));
  p.onResponseHead(200, type);
  for (size_t i = 0; i < body.size(); i += piece) p.onResponseBody(body.substr(i, piece));
  return p.finish(true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  const ModelApi api = static_cast<ModelApi>(1 + bytes[0] % 3);
  const std::string_view body(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const size_t piece = 1 + bytes[0] % 13;
  const ocsf::ModelCall a = run(api, body, "text/event-stream", piece);
  const ocsf::ModelCall b = run(api, body, "text/event-stream", body.size() + 1);
  check(a.model == b.model && a.stop_reason == b.stop_reason && a.tool_calls.size() == b.tool_calls.size() &&
        a.input_tokens == b.input_tokens && a.complete == b.complete);
  check(a.tool_calls.size() <= 128 && a.completion.size() <= 64 * 1024);
  (void)run(api, body, "application/json", piece);

  SseParser sse(64);
  size_t events = 0;
  sse.feed(body, [&](const SseEvent& e) {
    check(e.data.size() <= 64);
    ++events;
  });
  check(events == sse.eventsDispatched());
  return 0;
}
