#pragma once

// Realistic sessions for the gateway benchmarks (gateway_ingest_bench, gateway_query_bench): events
// built with the real builders (ocsf/builders.h, audit/log_events.h), rendered with the canonical
// JSONL and shorthand formatters, with facts drawn from skewed distributions the way agents touch the
// world: a handful of registries and APIs take most connections (Zipf over a few hundred domains), each
// session works in one project tree (Zipf over projects and files) plus shared system files, and a few
// packages dominate installs. Header-only: the bench folder turns every *_bench.cc into its own binary.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log_events.h"
#include "common/encoding.h"
#include "gateway/store/store.h"
#include "ocsf/builders.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"

namespace warden::bench {

// Draws an index in [0, n) with P(i) proportional to 1 / (i + 1)^s. Immutable after construction;
// draw() is const, so one sampler may be shared by threads that each own their generator.
class Zipf {
 public:
  Zipf(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), s));
    for (double& c : cdf_) c /= sum;
  }
  size_t draw(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }
  // The probability of index i.
  double probability(size_t i) const { return i == 0 ? cdf_[0] : cdf_[i] - cdf_[i - 1]; }

 private:
  std::vector<double> cdf_;
};

// The facts incident questions ask about, most frequent first. Built once; immutable; shared.
struct FactSpace {
  std::vector<std::string> domains;   // 300: registries and APIs first, then a long tail
  std::vector<std::string> projects;  // 100 project directories under /workspace
  std::vector<std::string> modules;   // 200 file names inside a project
  std::vector<std::string> system_paths;  // 300 files outside the project (config, libraries)
  std::vector<std::string> packages;  // 200: the popular ones first
  Zipf domain_rank{300, 1.1}, project_rank{100, 0.9}, module_rank{200, 1.0}, system_rank{300, 1.0},
      package_rank{200, 1.0};

  // The project path of module `m` in project `p`.
  std::string projectPath(size_t p, size_t m) const { return "/workspace/" + projects[p] + "/" + modules[m]; }

  static const FactSpace& get() {
    static const FactSpace space = build();
    return space;
  }

 private:
  static FactSpace build() {
    FactSpace f;
    f.domains = {"pypi.org", "files.pythonhosted.org", "api.github.com", "github.com", "registry.npmjs.org",
                 "objects.githubusercontent.com", "api.anthropic.com", "codeload.github.com",
                 "raw.githubusercontent.com", "huggingface.co", "cdn-lfs.huggingface.co", "api.openai.com",
                 "deb.debian.org", "security.debian.org", "crates.io", "static.crates.io", "proxy.golang.org",
                 "sum.golang.org", "storage.googleapis.com", "s3.amazonaws.com", "docs.python.org",
                 "stackoverflow.com", "developer.mozilla.org", "nodejs.org", "repo.maven.apache.org"};
    for (size_t i = f.domains.size(); i < 300; ++i) {
      f.domains.push_back("svc-" + std::to_string(i) + (i % 3 == 0 ? ".internal.example.com" : ".example.org"));
    }
    static constexpr const char* kProjectWords[] = {"api", "billing", "web", "ml", "etl", "auth", "search", "cli",
                                                    "infra", "mobile"};
    for (size_t i = 0; i < 100; ++i) {
      f.projects.push_back(std::string(kProjectWords[i % 10]) + "-" + kProjectWords[(i / 10) % 10] + "-" +
                           std::to_string(i));
    }
    static constexpr const char* kDirs[] = {"src", "src/handlers", "src/models", "tests", "scripts", "docs"};
    static constexpr const char* kExt[] = {".py", ".py", ".ts", ".md", ".toml", ".json"};
    for (size_t i = 0; i < 200; ++i) {
      f.modules.push_back(std::string(kDirs[i % 6]) + "/module_" + std::to_string(i) + kExt[(i / 6) % 6]);
    }
    f.modules[0] = "requirements.txt";
    f.modules[1] = "README.md";
    f.modules[2] = ".env";
    f.system_paths = {"/etc/hosts", "/etc/resolv.conf", "/etc/ssl/certs/ca-certificates.crt", "/etc/passwd",
                      "/home/agent/.bashrc", "/home/agent/.gitconfig", "/home/agent/.ssh/known_hosts",
                      "/home/agent/.cache/pip/selfcheck.json", "/tmp/pytest-of-agent/pytest-0/conftest.py"};
    for (size_t i = f.system_paths.size(); i < 300; ++i) {
      f.system_paths.push_back("/usr/lib/python3.11/site-packages/lib" + std::to_string(i) + "/__init__.py");
    }
    f.packages = {"requests", "numpy", "pandas", "pytest", "urllib3", "certifi", "typescript", "react", "lodash",
                  "express", "boto3", "pydantic", "fastapi", "flask", "django", "torch", "transformers",
                  "scikit-learn", "matplotlib", "sqlalchemy"};
    for (size_t i = f.packages.size(); i < 200; ++i) f.packages.push_back("pkg-" + std::to_string(i));
    return f;
  }
};

// A session's stop reason (SESSION:STOP status_detail), as sessions end in practice: most exit.
inline std::string_view drawStopReason(std::mt19937_64& rng) {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  if (u < 0.80) return "exit";
  if (u < 0.87) return "timeout";
  if (u < 0.92) return "signal";
  if (u < 0.96) return "api";
  if (u < 0.98) return "oom";
  return "policy_violation";
}

// Builds the events of one session. Event `seq` of `total`: 1 is LOG:START, every 1,000th a signed
// LOG:CHECKPOINT, `total` is SESSION:STOP with the session's stop reason, everything else a draw from
// the mix NET 26 % (open, close), HTTP 22 %, DNS 14 %, PROC 12 %, FILE 22 %, TOOL 3 %, PKG 1 %.
// Not thread-safe (owns its generator); one maker per thread and session.
class SessionEventMaker {
 public:
  SessionEventMaker(ocsf::SessionContext ctx, uint64_t seed, size_t project)
      : ctx_(std::move(ctx)), rng_(seed), project_(project) {
    // Actors as the proxy and the capture sources identify them: name, pid, uid (the parent chain
    // and the executable are on PROC launches only).
    auto proc = [](std::string name, int64_t pid) {
      ocsf::Process p;
      p.name = std::move(name);
      p.pid = pid;
      p.uid = 1000;
      return std::make_shared<const ocsf::Process>(std::move(p));
    };
    actors_ = {proc("claude", 12), proc("python3", 142), proc("node", 199), proc("curl", 288), proc("git", 301)};
  }

  const ocsf::SessionContext& context() const { return ctx_; }

  // The event, sequenced and chained (a pseudo-random prev hash: the gateway stores, it does not verify).
  ocsf::Event build(uint64_t seq, uint64_t total, int64_t time, std::string_view stop_reason) {
    ocsf::Event e = draw(seq, total, time, stop_reason);
    e.metadata.sequence = seq;
    std::string prev(32, '\0');
    for (char& c : prev) c = static_cast<char>(rng_() & 0xff);
    e.integrity_prev = hexEncode(prev);
    return e;
  }

  // As the supervisor pushes it: canonical JSON and shorthand, kind and facts as the gateway extracts
  // them (extractFacts, the same parse PushEvents runs).
  static gateway::StoredEvent stored(const ocsf::Event& e, const std::string& session_id) {
    gateway::StoredEvent s;
    s.session_id = session_id;
    s.sequence = e.metadata.sequence;
    s.time_ms = e.time;
    s.json = ocsf::toJsonl(e);
    s.shorthand = ocsf::toShorthand(e);
    s.kind = s.shorthand.substr(0, s.shorthand.find(':'));
    return gateway::extractFacts(std::move(s));
  }

 private:
  const ocsf::Process& actor(size_t i) { return *actors_[i % actors_.size()]; }
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  int port() { return 40000 + static_cast<int>(rng_() % 20000); }
  ocsf::Endpoint sandbox() { return ocsf::Endpoint{"", "10.200.0.2", port()}; }
  std::string ip() { return "203.0.113." + std::to_string(1 + rng_() % 250); }
  const std::string& domain() { return facts().domains[facts().domain_rank.draw(rng_)]; }
  std::string path() {
    if (uniform() < 0.8) return facts().projectPath(project_, facts().module_rank.draw(rng_));
    return facts().system_paths[facts().system_rank.draw(rng_)];
  }
  static const FactSpace& facts() { return FactSpace::get(); }

  ocsf::Event draw(uint64_t seq, uint64_t total, int64_t time, std::string_view stop_reason) {
    using namespace ocsf;
    if (seq == 1) return audit::logStartEvent(ctx_, time, std::string(64, 'a'), "bench-key-1");
    if (seq == total) {
      SessionInput stop;
      stop.activity = SessionActivity::kStop;
      for (auto r : {StopReason::kExit, StopReason::kTimeout, StopReason::kOom, StopReason::kSignal, StopReason::kApi,
                     StopReason::kPolicyViolation}) {
        if (stopReasonName(r) == stop_reason) stop.reason = r;
      }
      stop.exit_code = stop_reason == "exit" ? 0 : 137;
      return session(ctx_, time, stop);
    }
    if (seq % 1000 == 0) {
      audit::CheckpointFacts cp;
      cp.first_seq = seq - 999;
      cp.last_seq = seq - 1;
      cp.head_hex = std::string(64, 'b');
      cp.key_id = "bench-key-1";
      cp.signature_hex = std::string(128, 'c');
      return audit::checkpointEvent(ctx_, time, cp);
    }
    const double u = uniform();
    const size_t who = rng_() % actors_.size();
    if (u < 0.26) {
      Connection c;
      c.actor = actor(who);
      c.src = sandbox();
      c.dst = Endpoint{domain(), ip(), 443};
      if (u < 0.16) {
        Decision d;
        d.rule = "deps";
        if (uniform() < 0.05) {
          d.action = Action::kDenied;
          d.rule = "-";
          d.reason = "no policy allows " + c.dst.hostname + ":443";
        }
        return netOpen(ctx_, time, c, d);
      }
      return netClose(ctx_, time, c, static_cast<int64_t>(rng_() % 2000000), static_cast<int64_t>(rng_() % 20000),
                      static_cast<int64_t>(rng_() % 30000));
    }
    if (u < 0.48) {
      HttpExchange x;
      x.actor = actor(who);
      x.src = sandbox();
      x.method = uniform() < 0.7 ? "GET" : "POST";
      x.url = "https://" + domain() + "/v1/" + facts().packages[facts().package_rank.draw(rng_)] + "/items/" +
              std::to_string(rng_() % 10000);
      x.response_code = uniform() < 0.95 ? 200 : 404;
      x.user_agent = "python-requests/2.31.0";
      Decision d;
      d.rule = "apis";
      d.engine = "l7";
      return httpRequest(ctx_, time, x, d);
    }
    if (u < 0.62) {
      DnsLookup q;
      q.actor = actor(who);
      q.src = sandbox();
      q.hostname = domain();
      q.answers = {DnsAnswer{ip(), "A"}};
      q.rcode = DnsRcode::kNoError;
      return dnsQuery(ctx_, time, q);
    }
    if (u < 0.74) {
      static constexpr const char* kCommands[][4] = {{"python3", "-m", "pytest", "-q"},
                                                     {"git", "status", "--short", ""},
                                                     {"node", "scripts/build.js", "--prod", ""},
                                                     {"bash", "-c", "make test", ""},
                                                     {"python3", "-m", "pip", "install"}};
      const auto& cmd = kCommands[rng_() % 5];
      Process p;
      p.name = cmd[0];
      p.pid = 1000 + static_cast<int64_t>(rng_() % 60000);
      p.uid = 1000;
      File exe;
      exe.path = std::string("/usr/bin/") + cmd[0];
      p.file = std::move(exe);
      p.working_directory = "/workspace/" + facts().projects[project_];
      p.parent_process = actors_[0];
      std::vector<std::string> argv;
      for (const char* a : cmd) {
        if (*a != '\0') argv.emplace_back(a);
      }
      return procLaunch(ctx_, time, p, argv);
    }
    if (u < 0.96) {
      FileAccess fa;
      const double a = uniform();
      fa.activity = a < 0.6 ? FileActivity::kRead : a < 0.85 ? FileActivity::kUpdate : FileActivity::kCreate;
      fa.actor = actor(who);
      fa.file.path = path();
      return fileActivity(ctx_, time, fa);
    }
    if (u < 0.99) {
      ToolCall t;
      t.actor = actor(0);
      t.tool = uniform() < 0.5 ? "read_file" : "run_command";
      t.service = "filesystem";
      t.input_summary = "path=" + path();
      return toolCall(ctx_, time, t);
    }
    PackageInstall pkg;
    pkg.actor = actor(1);
    pkg.manager = uniform() < 0.7 ? "pip" : "npm";
    pkg.name = facts().packages[facts().package_rank.draw(rng_)];
    pkg.version = std::to_string(1 + rng_() % 5) + "." + std::to_string(rng_() % 30) + ".0";
    pkg.source_url = "https://files.pythonhosted.org/packages/" + pkg.name + "-" + pkg.version + ".tar.gz";
    pkg.sha256 = std::string(64, 'd');
    return pkgInstall(ctx_, time, pkg);
  }

  ocsf::SessionContext ctx_;
  std::mt19937_64 rng_;
  size_t project_;
  std::vector<std::shared_ptr<const ocsf::Process>> actors_;
};

}  // namespace warden::bench
