// `warden audit generate --events N --log-dir DIR [--ocsf-json] [--rate EPS] [--producers K]`:
// a realistic synthetic session through the real pipeline (sequence, chain, signed checkpoints),
// for demos, benchmarks and SIEM ingestion tests.

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "audit/generator.h"
#include "audit/pipeline.h"
#include "cli/audit_commands.h"
#include "cli/dispatch.h"
#include "common/encoding.h"
#include "common/host_name.h"

namespace warden::cli {

namespace {

struct GenerateArgs {
  uint64_t events = 0;
  std::string log_dir;
  bool ocsf_json = false;
  double rate = 0;
  int producers = 2;
  std::string name = "generated";
  bool follow = false;
  bool json = false;
};


int runGenerate(const GenerateArgs& a) {
  const SystemClock& clock = SystemClock::instance();
  audit::PipelineOptions options;
  options.log_dir = a.log_dir;
  options.session.hostname = hostName();
  options.session.session_id = uuidV7(clock.nowMillis());
  options.session.session_name = a.name;
  options.session.proxy = ocsf::Endpoint{.ip = "10.200.0.1", .port = 3128};
  const ocsf::SessionContext session = options.session;
  options.jsonl_enabled = a.ocsf_json;
  options.stdout_human = a.follow;
  auto pipeline = audit::Pipeline::start(std::move(options));
  if (!pipeline.ok()) {
    fmt::print(stderr, "warden audit generate: {}\n", pipeline.error().message());
    return kExitFailure;
  }
  audit::Pipeline& p = **pipeline;
  // The public key, for `warden audit verify --key` (a verifier should get it from somewhere the
  // agent cannot write — the gateway, or this output — not only from the log itself).
  const std::string key_path = a.log_dir + "/signing-key.pub";
  std::ofstream(key_path) << p.publicKeyHex() << "\n";

  audit::GenerateOptions g;
  g.events = a.events;
  g.producers = a.producers;
  g.rate = a.rate;
  const auto t0 = std::chrono::steady_clock::now();
  const auto report = audit::generateSession(p, session, g);
  const auto closed = p.close();
  const auto stats = p.stats();
  // Until close() returned: everything sequenced, chained, written and synced.
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    fmt::print("{{\"session_id\":\"{}\",\"emitted\":{},\"written\":{},\"shed\":{},\"coalesced\":{},\"summaries\":{},"
               "\"checkpoints\":{},\"last_sequence\":{},\"seconds\":{:.3f},\"emit_p50_ns\":{},\"emit_p99_ns\":{},"
               "\"log_dir\":\"{}\",\"public_key\":\"{}\"}}\n",
               session.session_id, report.emitted, stats.written, stats.shed, stats.coalesced, stats.summaries,
               stats.checkpoints, stats.last_sequence, secs, report.latencyQuantile(0.5), report.latencyQuantile(0.99),
               a.log_dir, p.publicKeyHex());
  } else {
    fmt::print("generated {} events ({} written, {} shed, {} coalesced into {} summaries) in {:.2f} s to close(): "
               "{:.0f} events/s, emit() p50 {} ns p99 {} ns\n",
               report.emitted, stats.written, stats.shed, stats.coalesced, stats.summaries, secs,
               static_cast<double>(report.emitted) / secs, report.latencyQuantile(0.5), report.latencyQuantile(0.99));
    fmt::print("session {}: sequence 1..{}, {} checkpoints; logs in {}{}\n", session.session_id, stats.last_sequence,
               stats.checkpoints, a.log_dir,
               a.ocsf_json ? " (warden.log, warden-ocsf.log)" : " (warden.log)");
    fmt::print("public key {} (written to {})\n", p.publicKeyHex(), key_path);
  }
  if (!closed.ok()) {
    fmt::print(stderr, "warden audit generate: {}\n", closed.error().message());
    return kExitFailure;
  }
  return stats.shed == 0 ? kExitOk : kExitFailure;
}

}  // namespace

AuditSubcommand addAuditGenerateCommand(CLI::App& audit) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* app = audit.add_subcommand("generate", "Write a realistic synthetic session through the real pipeline");
  app->add_option("--events", args->events, "producer events to emit")->required()->check(CLI::Range(1ull, 1ull << 40));
  app->add_option("--log-dir", args->log_dir, "log directory (created 0700)")->required();
  app->add_flag("--ocsf-json", args->ocsf_json, "also write warden-ocsf.log (JSONL)");
  app->add_option("--rate", args->rate, "events per second across producers (default: as fast as possible)")
      ->check(CLI::Range(0.0, 1e9));
  app->add_option("--producers", args->producers, "producer threads (default 2)")->check(CLI::Range(1, 64));
  app->add_option("--name", args->name, "session name (device.container.name)");
  app->add_flag("--follow", args->follow, "also print every warden.log line on stdout as it is written");
  app->add_flag("--json", args->json, "print the summary as JSON");
  return AuditSubcommand{app, [args] { return runGenerate(*args); }};
}

}  // namespace warden::cli
