#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "audit/emitter.h"
#include "common/clock.h"
#include "ocsf/builders.h"

namespace warden::audit {

struct GenerateOptions {
  uint64_t events = 10'000;  // producer events to emit in all (the writer adds its LOG events)
  int producers = 1;         // threads emitting at once
  double rate = 0;           // events/s across all producers; 0: as fast as emit() accepts
  // Measure emit() latency on every `latency_sample_every`-th call of each producer (0: never).
  uint32_t latency_sample_every = 16;
  const Clock* clock = nullptr;  // event times; nullptr: SystemClock
};

struct GenerateReport {
  uint64_t emitted = 0;
  std::chrono::nanoseconds elapsed{0};
  std::vector<uint32_t> emit_latency_ns;  // the samples, sorted ascending
  // The q-quantile (0..1) of the sampled emit() latency in ns; 0 without samples.
  uint32_t latencyQuantile(double q) const;
};

// Emits a realistic mixed session through `emitter`: the builders' one-of-every-event sample
// (ocsf/samples.h) cycled in session order, each copy re-timed to now with a fresh metadata.uid
// and a varied pid, from `producers` threads, paced to `rate` when set. Blocks until all are
// emitted; the caller then closes its pipeline. Thread-safe as far as `emitter` is.
GenerateReport generateSession(Emitter& emitter, const ocsf::SessionContext& ctx, const GenerateOptions& options);

}  // namespace warden::audit
