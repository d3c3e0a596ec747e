#include "audit/generator.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/encoding.h"
#include "ocsf/samples.h"

namespace warden::audit {

uint32_t GenerateReport::latencyQuantile(double q) const {
  if (emit_latency_ns.empty()) return 0;
  const auto idx = static_cast<size_t>(q * static_cast<double>(emit_latency_ns.size() - 1));
  return emit_latency_ns[std::min(idx, emit_latency_ns.size() - 1)];
}

namespace {

// Gives each process-bearing event of a cycle its own pids so the stream is not one loop.
void varyPids(ocsf::Event& e, int64_t offset) {
  if (e.actor && e.actor->pid) e.actor->pid = *e.actor->pid + offset;
  if (e.process && e.process->pid) e.process->pid = *e.process->pid + offset;
}

}  // namespace

GenerateReport generateSession(Emitter& emitter, const ocsf::SessionContext& ctx, const GenerateOptions& o) {
  const Clock& clock = o.clock ? *o.clock : SystemClock::instance();
  const std::vector<ocsf::Event> templates = ocsf::sampleOfEveryEvent(ctx, clock.nowMillis());
  const int producers = std::max(1, o.producers);
  std::atomic<uint64_t> next{0};  // claim counter: events [0, o.events) across producers
  std::vector<std::vector<uint32_t>> samples(static_cast<size_t>(producers));

  const auto start = std::chrono::steady_clock::now();
  auto produce = [&](int index) {
    auto& mine = samples[static_cast<size_t>(index)];
    uint64_t calls = 0;
    while (true) {
      const uint64_t n = next.fetch_add(1, std::memory_order_relaxed);
      if (n >= o.events) break;
      if (o.rate > 0) {
        // Pacing (not synchronisation): event n is due n/rate seconds after the start.
        const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(n) * 1e9 / o.rate));
        std::this_thread::sleep_until(due);
      }
      ocsf::Event e = templates[n % templates.size()];
      e.time = clock.nowMillis();
      e.metadata.uid = uuidV7(e.time);
      varyPids(e, static_cast<int64_t>(n / templates.size()) % 30000);
      const bool sample = o.latency_sample_every != 0 && (calls++ % o.latency_sample_every) == 0;
      if (sample) {
        const auto t0 = std::chrono::steady_clock::now();
        emitter.emit(std::move(e));
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
        mine.push_back(static_cast<uint32_t>(std::min<int64_t>(ns.count(), UINT32_MAX)));
      } else {
        emitter.emit(std::move(e));
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < producers; ++i) threads.emplace_back(produce, i);
  produce(0);
  for (auto& t : threads) t.join();

  GenerateReport report;
  report.elapsed = std::chrono::steady_clock::now() - start;
  report.emitted = o.events;
  for (auto& s : samples) report.emit_latency_ns.insert(report.emit_latency_ns.end(), s.begin(), s.end());
  std::sort(report.emit_latency_ns.begin(), report.emit_latency_ns.end());
  return report;
}

}  // namespace warden::audit
