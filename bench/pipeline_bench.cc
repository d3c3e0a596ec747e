// The whole audit pipeline (issue 2): 2 producer threads emit a realistic mixed stream through
// Pipeline to warden.log and warden-ocsf.log with the chain and signed checkpoints. Reports the
// sustained rate (events until close() returns, so everything is on disk), emit() p50/p99 and
// loss. Then `warden audit verify`'s throughput over the log just written.
// Targets on 2 cores: >= 300,000 events/s with zero loss and emit() p99 <= 5 us; verify >= 200,000/s.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "audit/generator.h"
#include "audit/pipeline.h"
#include "audit/verify.h"
#include "common/clock.h"
#include "common/encoding.h"

namespace warden::audit {
namespace {

std::filesystem::path benchDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "warden-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

ocsf::SessionContext benchSession() {
  ocsf::SessionContext ctx;
  ctx.hostname = "bench-host";
  ctx.session_id = uuidV7(SystemClock::instance().nowMillis());
  ctx.session_name = "bench";
  ctx.proxy = ocsf::Endpoint{.ip = "10.200.0.1", .port = 3128};
  return ctx;
}

// Writes `events` through a fresh pipeline; returns the log dir. Counters go on `state`.
std::filesystem::path runPipeline(benchmark::State& state, uint64_t events, int producers, bool jsonl) {
  const auto dir = benchDir();
  PipelineOptions options;
  options.log_dir = dir;
  options.session = benchSession();
  options.jsonl_enabled = jsonl;
  auto pipeline = Pipeline::start(options);
  if (!pipeline.ok()) {
    state.SkipWithError(pipeline.error().message().c_str());
    return dir;
  }
  GenerateOptions g;
  g.events = events;
  g.producers = producers;
  const auto t0 = std::chrono::steady_clock::now();
  const GenerateReport report = generateSession(**pipeline, options.session, g);
  const auto closed = (*pipeline)->close();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto stats = (*pipeline)->stats();
  if (!closed.ok()) state.SkipWithError(closed.error().message().c_str());
  state.SetIterationTime(secs);
  state.counters["events_per_s"] = static_cast<double>(events) / secs;
  state.counters["emit_p50_ns"] = report.latencyQuantile(0.50);
  state.counters["emit_p99_ns"] = report.latencyQuantile(0.99);
  state.counters["shed"] = static_cast<double>(stats.shed);
  state.counters["checkpoints"] = static_cast<double>(stats.checkpoints);
  return dir;
}

void BM_PipelineBothFiles(benchmark::State& state) {
  for (auto _ : state) {
    const auto dir = runPipeline(state, static_cast<uint64_t>(state.range(0)), 2, true);
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_PipelineBothFiles)->Arg(1'000'000)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_PipelineShorthandOnly(benchmark::State& state) {
  for (auto _ : state) {
    const auto dir = runPipeline(state, static_cast<uint64_t>(state.range(0)), 2, false);
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_PipelineShorthandOnly)->Arg(1'000'000)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_Verify(benchmark::State& state) {
  const auto events = static_cast<uint64_t>(state.range(0));
  // The log is written once, outside the timed region.
  std::filesystem::path dir;
  {
    const auto d = benchDir();
    PipelineOptions options;
    options.log_dir = d;
    options.session = benchSession();
    options.jsonl_enabled = true;
    auto pipeline = Pipeline::start(options);
    if (!pipeline.ok()) {
      state.SkipWithError(pipeline.error().message().c_str());
      return;
    }
    GenerateOptions g;
    g.events = events;
    g.producers = 1;
    g.latency_sample_every = 0;
    generateSession(**pipeline, options.session, g);
    (void)(*pipeline)->close();
    dir = d;
  }
  uint64_t verified = 0;
  for (auto _ : state) {
    const VerifyReport report = verifyPaths({dir.string()}, VerifyOptions{});
    if (!report.ok()) state.SkipWithError("verification failed on a clean log");
    verified += report.events;
  }
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(verified), benchmark::Counter::kIsRate);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Verify)->Arg(200'000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace warden::audit

BENCHMARK_MAIN();
