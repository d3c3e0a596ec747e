// Formatting throughput per class: one sample event of each kind rendered as canonical JSONL and
// as a warden.log shorthand line, on one core. Target (issue 2): >= 1,000,000 Network Activity
// events/s for each format.
#include <benchmark/benchmark.h>

#include <string>

#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"

namespace warden::ocsf {
namespace {

const std::vector<Event>& samples() {
  static const std::vector<Event> events = [] {
    SessionContext ctx;
    ctx.hostname = "bench-host";
    ctx.session_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    ctx.session_name = "bench";
    auto v = sampleOfEveryEvent(ctx);
    for (auto& e : v) e.integrity_prev = std::string(64, 'a');
    return v;
  }();
  return events;
}

const Event* firstOfKind(Kind kind) {
  for (const auto& e : samples()) {
    if (e.kind == kind) return &e;
  }
  return nullptr;
}

// Renders the first sample of `kind` with `format` over and over into one reused buffer.
void benchFormat(benchmark::State& state, Kind kind, void (*format)(std::string&, const Event&)) {
  const Event* e = firstOfKind(kind);
  if (e == nullptr) {
    state.SkipWithError("no sample of this kind");
    return;
  }
  std::string out;
  out.reserve(4096);
  for (auto _ : state) {
    out.clear();
    format(out, *e);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}

void BM_Jsonl(benchmark::State& state, Kind kind) { benchFormat(state, kind, appendJsonl); }
void BM_Shorthand(benchmark::State& state, Kind kind) { benchFormat(state, kind, appendLogLine); }

#define WARDEN_FORMAT_BENCH(kind)                                      \
  BENCHMARK_CAPTURE(BM_Jsonl, kind, Kind::k##kind);                   \
  BENCHMARK_CAPTURE(BM_Shorthand, kind, Kind::k##kind)

WARDEN_FORMAT_BENCH(Net);
WARDEN_FORMAT_BENCH(Http);
WARDEN_FORMAT_BENCH(Dns);
WARDEN_FORMAT_BENCH(Ssh);
WARDEN_FORMAT_BENCH(Proc);
WARDEN_FORMAT_BENCH(File);
WARDEN_FORMAT_BENCH(Finding);
WARDEN_FORMAT_BENCH(Config);
WARDEN_FORMAT_BENCH(Lifecycle);
WARDEN_FORMAT_BENCH(Session);
WARDEN_FORMAT_BENCH(Pkg);
WARDEN_FORMAT_BENCH(Tool);
WARDEN_FORMAT_BENCH(Limit);
WARDEN_FORMAT_BENCH(Event);

}  // namespace
}  // namespace warden::ocsf

BENCHMARK_MAIN();
