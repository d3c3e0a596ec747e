// The whole audit pipeline (issue 2): 2 producer threads emit a realistic mixed stream through
// Pipeline to warden.log and warden-ocsf.log with the chain and signed checkpoints. Reports the
// sustained rate (events until close() returns, so everything is on disk), emit() p50/p99 and
// loss. Then `warden audit verify`'s throughput over the log just written.
// Targets on 2 cores: >= 300,000 events/s with zero loss and emit() p99 <= 5 us; verify >= 200,000/s.
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "audit/generator.h"
#include "audit/pipeline.h"
#include "audit/verify.h"
#include "audit/verify_files.h"
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

// Writes `events` from `producers` threads through a fresh pipeline into a new directory.
struct Run {
  std::filesystem::path dir;
  GenerateReport report;
  PipelineStats stats;
  double seconds = 0;  // from the first emit() until close() returned (everything on disk)
  double cpu_seconds = 0;  // process CPU (user + system) over the same interval
  std::string error;
};

double processCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The realistic mixed stream check, outside the timed region: the log verifies (chain, every
// checkpoint signed, final), every event is accounted for, and the stream really is mixed.
std::string checkRun(const Run& run, uint64_t events) {
  const auto& s = run.stats;
  if (s.emitted != events || s.written + s.shed + s.coalesced + s.refused_over_budget != s.emitted) {
    return "events not accounted for";
  }
  const VerifyReport report = verifyPaths({run.dir.string()}, VerifyOptions{});
  if (!report.ok()) return "the log written does not verify";
  return {};
}

Run writeSession(uint64_t events, int producers, bool jsonl, uint32_t latency_sample_every) {
  Run run;
  run.dir = benchDir();
  PipelineOptions options;
  options.log_dir = run.dir;
  options.session = benchSession();
  options.jsonl_enabled = jsonl;
  auto pipeline = Pipeline::start(options);
  if (!pipeline.ok()) {
    run.error = pipeline.error().message();
    return run;
  }
  GenerateOptions g;
  g.events = events;
  g.producers = producers;
  g.latency_sample_every = latency_sample_every;
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = processCpuSeconds();
  run.report = generateSession(**pipeline, options.session, g);
  const auto closed = (*pipeline)->close();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.cpu_seconds = processCpuSeconds() - cpu0;
  run.stats = (*pipeline)->stats();
  if (!closed.ok()) run.error = closed.error().message();
  return run;
}

void reportRun(benchmark::State& state, const Run& run, uint64_t events) {
  if (!run.error.empty()) state.SkipWithError(run.error.c_str());
  state.SetIterationTime(run.seconds);
  state.counters["events_per_s"] = static_cast<double>(events) / run.seconds;
  state.counters["emit_p50_ns"] = run.report.latencyQuantile(0.50);
  state.counters["emit_p99_ns"] = run.report.latencyQuantile(0.99);
  state.counters["shed"] = static_cast<double>(run.stats.shed);
  state.counters["coalesced"] = static_cast<double>(run.stats.coalesced);
  state.counters["checkpoints"] = static_cast<double>(run.stats.checkpoints);
  state.counters["cpu_us_per_event"] = run.cpu_seconds * 1e6 / static_cast<double>(events);
}

void BM_PipelineBothFiles(benchmark::State& state) {
  const auto events = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    const Run run = writeSession(events, 2, true, 16);
    reportRun(state, run, events);
    if (const std::string bad = checkRun(run, events); !bad.empty()) state.SkipWithError(bad.c_str());
    std::filesystem::remove_all(run.dir);
  }
}
BENCHMARK(BM_PipelineBothFiles)->Arg(1'000'000)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_PipelineShorthandOnly(benchmark::State& state) {
  const auto events = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    const Run run = writeSession(events, 2, false, 16);
    reportRun(state, run, events);
    std::filesystem::remove_all(run.dir);
  }
}
BENCHMARK(BM_PipelineShorthandOnly)->Arg(1'000'000)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_Verify(benchmark::State& state) {
  const auto events = static_cast<uint64_t>(state.range(0));
  // The log is written once, outside the timed region.
  const Run run = writeSession(events, 1, true, 0);
  if (!run.error.empty()) {
    state.SkipWithError(run.error.c_str());
    return;
  }
  const std::filesystem::path dir = run.dir;
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
