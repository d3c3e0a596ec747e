// Detection rules (issue 15 item 9): evaluation cost per event over the realistic mixed stream
// (audit::generateSession: one of every event the builders make, cycled), with the built-in pack
// and with 200 rules, against parsing alone; then what it does to the audit pipeline's sustained
// rate when the LiveDetector rides its tap (target: <= 10 % drop), measured in the same run.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "audit/generator.h"
#include "audit/pipeline.h"
#include "audit/spool_sink.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "detect/engine.h"
#include "detect/live_detector.h"
#include "detect/rule_set.h"
#include "ocsf/jsonl_formatter.h"

namespace warden::detect {
namespace {

ocsf::SessionContext benchSession() {
  ocsf::SessionContext ctx;
  ctx.hostname = "bench-host";
  ctx.session_id = uuidV7(SystemClock::instance().nowMillis());
  ctx.session_name = "bench";
  ctx.proxy = ocsf::Endpoint{.ip = "10.200.0.1", .port = 3128};
  return ctx;
}

class Collect final : public audit::Emitter {
 public:
  void emit(ocsf::Event&& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    events.push_back(std::move(e));
  }
  void operational(audit::Level, std::string_view, std::string_view) override {}
  std::mutex mu_;
  std::vector<ocsf::Event> events;
};

// The mixed stream as the writer renders it: sequenced canonical JSON lines.
const std::vector<std::string>& stream() {
  static const std::vector<std::string> lines = [] {
    Collect c;
    audit::GenerateOptions g;
    g.events = 20'000;
    g.latency_sample_every = 0;
    audit::generateSession(c, benchSession(), g);
    std::vector<std::string> out;
    uint64_t seq = 0;
    for (auto& e : c.events) {
      e.metadata.sequence = ++seq;
      e.integrity_prev = std::string(64, 'a');
      out.push_back(ocsf::toJsonl(e));
    }
    return out;
  }();
  return lines;
}

// 188 rules of the shapes users write, over every class the stream has, mostly not matching
// (as in real use): with the pack's 12, 200.
std::string twoHundredRules() {
  std::string y = "lists:\n";
  for (int k = 0; k < 10; ++k) {
    y += "  hosts" + std::to_string(k) + ": [";
    for (int h = 0; h < 20; ++h) y += (h ? ", " : "") + std::string("h") + std::to_string(h) + ".zone" + std::to_string(k) + ".example";
    y += "]\n";
  }
  y += "rules:\n";
  for (int i = 0; i < 188; ++i) {
    const std::string k = std::to_string(i);
    y += "  - name: r" + k + "\n";
    switch (i % 9) {
      case 0: y += "    condition: class_uid = 4001 and dst_endpoint.hostname in (hosts" + std::to_string(i % 10) + ")\n"; break;
      case 1: y += "    condition: class_uid = 4002 and http_request.url.path startswith \"/api/v" + k + "/\"\n"; break;
      case 2: y += "    condition: class_uid = 1007 and process.cmd_line regex \"tool" + k + "\\\\s+--flag\"\n"; break;
      case 3: y += "    condition: class_uid = 1001 and file.path glob \"/srv/data" + k + "/**\"\n"; break;
      case 4: y += "    condition: class_uid = 4003 and query.hostname endswith \".zone" + k + ".example\"\n"; break;
      case 5: y += "    condition: class_uid = 6003 and api.operation = \"tool" + k + "\"\n"; break;
      case 6: y += "    condition: spawned_exec and process.name = \"bin" + k + "\" and process.parent_process.name in (shells)\n"; break;
      case 7: y += "    condition: class_uid in (4001, 4002) and actor.process.cmd_line icontains \"secret" + k + "\"\n"; break;
      case 8:
        y += "    sequence: [class_uid = 1001 and file.path contains \"secret" + k + "\", class_uid = 4001]\n"
             "    within: 60s\n    same: process_tree\n";
        break;
    }
  }
  return y;
}

std::shared_ptr<const RuleSet> ruleSet(bool two_hundred) {
  std::vector<RuleSource> files;
  if (two_hundred) files.push_back(RuleSource{"bench.yaml", twoHundredRules()});
  Diagnostics d;
  auto r = RuleSet::compile(files, {}, &d);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", d.toString().c_str());
    std::abort();
  }
  return r.value();
}

void BM_ParseOnly(benchmark::State& state) {
  const auto& lines = stream();
  simdjson::dom::parser parser;
  size_t i = 0;
  for (auto _ : state) {
    simdjson::dom::element doc;
    const auto& l = lines[i++ % lines.size()];
    benchmark::DoNotOptimize(parser.parse(l.data(), l.size(), true).get(doc));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseOnly);

void evaluate(benchmark::State& state, bool two_hundred) {
  const auto& lines = stream();
  Engine engine(ruleSet(two_hundred));
  EngineOutput out;
  size_t i = 0;
  for (auto _ : state) {
    engine.evaluate(lines[i++ % lines.size()], out);
    out.clear();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["rules"] = static_cast<double>(engine.rules().rules().size());
  state.counters["findings_per_1k"] = 1000.0 * static_cast<double>(engine.stats().findings) /
                                      static_cast<double>(engine.stats().events);
}
void BM_EvaluateBuiltinPack(benchmark::State& state) { evaluate(state, false); }
void BM_Evaluate200Rules(benchmark::State& state) { evaluate(state, true); }
BENCHMARK(BM_EvaluateBuiltinPack);
BENCHMARK(BM_Evaluate200Rules);

// The audit pipeline (2 producers, both files, chain + checkpoints) with the detector on its tap:
// arg 0 none, 1 the pack, 2 200 rules. Timed from the first emit() until the detector drained and
// the pipeline closed (everything evaluated and on disk).
void BM_PipelineWithDetector(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  const uint64_t events = static_cast<uint64_t>(state.range(1));
  for (auto _ : state) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "warden-detect-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    const ocsf::SessionContext ctx = benchSession();
    std::unique_ptr<LiveDetector> det;
    if (mode > 0) {
      LiveDetectorOptions o;
      o.session = ctx;
      det = std::move(LiveDetector::start(ruleSet(mode == 2), o)).value();
    }
    audit::PipelineOptions p;
    p.log_dir = tmpl;
    p.session = ctx;
    p.jsonl_enabled = true;
    if (det)
      p.sinks.push_back(std::make_shared<audit::CallbackSink>(
          "detection rules", [d = det.get()](const audit::SinkBatch& b) { d->submit(b); }));
    auto pipeline = std::move(audit::Pipeline::start(p)).value();
    if (det) det->attach(*pipeline);
    audit::GenerateOptions g;
    g.events = events;
    g.producers = 2;
    g.latency_sample_every = 0;
    const auto t0 = std::chrono::steady_clock::now();
    audit::generateSession(*pipeline, ctx, g);
    if (det) {
      det->drain([&] {
        const auto s = pipeline->stats();
        return s.written + s.shed >= s.emitted;
      }, std::chrono::seconds(120));
      det->close();
    }
    (void)pipeline->close();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(seconds);
    state.counters["events_per_s"] = static_cast<double>(events) / seconds;
    state.counters["shed"] = static_cast<double>(pipeline->stats().shed);
    if (det) {
      state.counters["det_skipped"] = static_cast<double>(det->stats().skipped);
      state.counters["findings"] = static_cast<double>(det->stats().findings);
    }
    std::filesystem::remove_all(tmpl);
  }
}
BENCHMARK(BM_PipelineWithDetector)
    ->Args({0, 300'000})
    ->Args({1, 300'000})
    ->Args({2, 300'000})
    ->Args({0, 300'000})
    ->UseManualTime()
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace warden::detect

BENCHMARK_MAIN();
