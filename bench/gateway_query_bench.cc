// Gateway incident queries (issue 5) over a large store: fills it with --events (default 10,000,000)
// realistic events across --sessions (default 1,000) straight through EventStore::append in large
// mixed-session batches (reporting the fill rate), then times each incident question --runs times
// through the store and through the Gateway RPC an operator's `warden audit query` would use, and
// reports median and max. Target: every question < 1 s over 10M events.
//
// The filled store is kept (default /var/tmp/warden-bench/query-<events>-<sessions>.db) and reused
// when it is complete, so reruns skip the fill; an interrupted fill resumes where it stopped (append
// is idempotent per (session, sequence)). Events: ~10,000 per session, 1 s apart, sessions starting
// every 10 minutes (about 17 running at once, a week in all); facts as in gateway_bench_events.h.
//
// Usage: gateway_query_bench [--db URL] [--events N] [--sessions N] [--runs N] [--batch N] [--label L]
// Exit 1 when a query fails or answers something the fill contradicts; a missed target is reported, not
// a failure.
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/service/gateway_server.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway_bench_events.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using gateway::EventQuery;
using gateway::EventStore;
using gateway::StoredEvent;

constexpr int64_t kFirstStartMs = 1763900000000;  // 2025-11-23T12:13:20Z
constexpr int64_t kSessionSpacingMs = 10 * 60 * 1000;
constexpr int64_t kEventSpacingMs = 1000;
constexpr uint64_t kChunk = 1000;  // events of one session in one batch

struct Options {
  std::string db;
  std::string label;
  uint64_t events = 10'000'000;
  uint64_t sessions = 1000;
  int runs = 7;
  uint64_t batch = 10000;
};

// What the fill decides for each session, deterministically from its index.
struct SessionPlan {
  std::string id;
  int64_t start_ms = 0;
  size_t project = 0;
  std::string stop_reason;
};

std::vector<SessionPlan> planSessions(uint64_t n) {
  std::vector<SessionPlan> out;
  const FactSpace& f = FactSpace::get();
  for (uint64_t i = 0; i < n; ++i) {
    std::mt19937_64 rng(0x5eed0000 + i);
    SessionPlan p;
    p.start_ms = kFirstStartMs + static_cast<int64_t>(i) * kSessionSpacingMs;
    // UUIDv7-shaped and stable across runs: the start time, then the index.
    char id[64];
    const auto t = static_cast<unsigned long long>(p.start_ms);
    std::snprintf(id, sizeof id, "%08llx-%04llx-7000-8000-%012llx", t >> 16, t & 0xffff,
                  static_cast<unsigned long long>(i));
    p.id = id;
    p.project = f.project_rank.draw(rng);
    p.stop_reason = std::string(drawStopReason(rng));
    out.push_back(std::move(p));
  }
  return out;
}

ocsf::SessionContext contextOf(const SessionPlan& p, uint64_t index) {
  ocsf::SessionContext ctx;
  ctx.hostname = "ci-runner-" + std::to_string(index % 8);
  ctx.session_id = p.id;
  ctx.session_name = "agent-" + std::to_string(index);
  ctx.proxy = ocsf::Endpoint{"", "10.200.0.1", 3128};
  return ctx;
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

double secondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// A bounded hand-off of batches from the generating thread to the appending one.
class BatchQueue {
 public:
  void push(std::vector<StoredEvent> b) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < 2; });
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  std::optional<std::vector<StoredEvent>> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return std::nullopt;
    auto b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<StoredEvent>> queue_;  // Guarded by mu_.
  bool closed_ = false;                          // Guarded by mu_.
};

// Fills what is missing (per session, above its highest contiguous sequence). Returns false on a
// store error or an append that did not store what it was given.
bool fill(EventStore& store, const Options& opt, const std::vector<SessionPlan>& plan) {
  const uint64_t per_session = opt.events / opt.sessions;
  std::vector<uint64_t> have(plan.size());
  uint64_t missing = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    auto h = store.highestContiguous(plan[i].id);
    if (!h.ok()) {
      std::fprintf(stderr, "gateway_query_bench: %s\n", h.error().message().c_str());
      return false;
    }
    have[i] = *h;
    missing += per_session - std::min(per_session, *h);
  }
  if (missing == 0) {
    std::printf("fill: reusing the complete store (%llu events, %llu sessions)\n",
                static_cast<unsigned long long>(per_session * plan.size()),
                static_cast<unsigned long long>(plan.size()));
    return true;
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    gateway::SessionRecord rec;
    rec.id = plan[i].id;
    rec.name = "agent-" + std::to_string(i);
    rec.token_hash = std::string(64, '0');
    rec.public_key = std::string(64, 'a');
    rec.state = "stopped";
    rec.stop_reason = plan[i].stop_reason;
    rec.exit_code = plan[i].stop_reason == "exit" ? 0 : 137;
    rec.created_ms = plan[i].start_ms;
    rec.updated_ms = plan[i].start_ms + static_cast<int64_t>(per_session) * kEventSpacingMs;
    if (auto r = store.upsertSession(rec); !r.ok()) {
      std::fprintf(stderr, "gateway_query_bench: %s\n", r.error().message().c_str());
      return false;
    }
  }
  std::printf("fill: %llu events to append (%llu already stored), batches of %llu, load %s\n",
              static_cast<unsigned long long>(missing),
              static_cast<unsigned long long>(per_session * plan.size() - missing),
              static_cast<unsigned long long>(opt.batch), loadAverage().c_str());
  std::fflush(stdout);

  // Sessions in groups of batch/kChunk; each batch holds kChunk consecutive events of every session of
  // its group, interleaved in time order, as concurrent sessions' pushes arrive.
  const uint64_t group = std::max<uint64_t>(1, opt.batch / kChunk);
  BatchQueue queue;
  std::thread generator([&] {
    for (uint64_t g0 = 0; g0 < plan.size(); g0 += group) {
      const uint64_t g1 = std::min<uint64_t>(plan.size(), g0 + group);
      std::vector<SessionEventMaker> makers;
      for (uint64_t i = g0; i < g1; ++i) makers.emplace_back(contextOf(plan[i], i), 0xe7e47000 + i, plan[i].project);
      for (uint64_t c0 = 1; c0 <= per_session; c0 += kChunk) {
        std::vector<StoredEvent> batch;
        for (uint64_t seq = c0; seq < c0 + kChunk && seq <= per_session; ++seq) {
          for (uint64_t i = g0; i < g1; ++i) {
            if (seq <= have[i]) continue;
            const int64_t t = plan[i].start_ms + static_cast<int64_t>(seq) * kEventSpacingMs;
            const ocsf::Event e = makers[i - g0].build(seq, per_session, t, plan[i].stop_reason);
            batch.push_back(SessionEventMaker::stored(e, plan[i].id));
          }
        }
        if (!batch.empty()) queue.push(std::move(batch));
      }
    }
    queue.close();
  });

  const auto t0 = SteadyClock::now();
  double in_append = 0;
  uint64_t inserted = 0, json_bytes = 0, next_report = 1'000'000;
  bool ok = true;
  while (auto batch = queue.pop()) {
    if (!ok) continue;  // drain so the generator can finish
    const auto a0 = SteadyClock::now();
    auto r = store.append(*batch);
    in_append += secondsSince(a0);
    if (!r.ok()) {
      std::fprintf(stderr, "gateway_query_bench: append: %s\n", r.error().message().c_str());
      ok = false;
      continue;
    }
    if (r->inserted != batch->size()) {
      std::fprintf(stderr, "gateway_query_bench: append stored %llu of %zu events (%llu duplicates)\n",
                   static_cast<unsigned long long>(r->inserted), batch->size(),
                   static_cast<unsigned long long>(r->duplicates));
      ok = false;
    }
    inserted += r->inserted;
    for (const auto& e : *batch) json_bytes += e.json.size();
    if (inserted >= next_report) {
      std::printf("  %llu events, %.0f events/s, load %s\n", static_cast<unsigned long long>(inserted),
                  static_cast<double>(inserted) / secondsSince(t0), loadAverage().c_str());
      std::fflush(stdout);
      next_report += 1'000'000;
    }
  }
  generator.join();
  const double wall = secondsSince(t0);
  std::printf("fill: %llu events in %.1f s = %.0f events/s (append alone %.1f s = %.0f events/s; %.0f JSON bytes "
              "per event), load %s\n",
              static_cast<unsigned long long>(inserted), wall, static_cast<double>(inserted) / wall, in_append,
              static_cast<double>(inserted) / in_append,
              inserted ? static_cast<double>(json_bytes) / static_cast<double>(inserted) : 0.0,
              loadAverage().c_str());
  if (!ok) return false;
  for (size_t i = 0; i < plan.size(); ++i) {
    auto h = store.highestContiguous(plan[i].id);
    if (!h.ok() || *h != per_session) {
      std::fprintf(stderr, "gateway_query_bench: session %s holds 1..%llu after the fill, expected 1..%llu\n",
                   plan[i].id.c_str(), h.ok() ? static_cast<unsigned long long>(*h) : 0ULL,
                   static_cast<unsigned long long>(per_session));
      return false;
    }
  }
  return true;
}

// One incident question, asked of the store and of the Gateway RPC. Each returns the number of
// events or sessions answered, or an error text; `check` judges an answer against the fill.
struct Question {
  std::string name;
  std::function<Result<size_t>()> store;
  std::function<Result<size_t>()> rpc;
  std::function<std::string(size_t)> check;  // "" when the count is plausible
};

struct Timing {
  double median_ms = 0, max_ms = 0;
  size_t rows = 0;
  std::string error;
};

Timing timeIt(const std::function<Result<size_t>()>& ask, int runs) {
  Timing t;
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = SteadyClock::now();
    auto r = ask();
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
    if (!r.ok()) {
      t.error = r.error().message();
      return t;
    }
    if (i > 0 && *r != t.rows) {
      t.error = "answered " + std::to_string(*r) + " then " + std::to_string(t.rows);
      return t;
    }
    t.rows = *r;
  }
  std::sort(ms.begin(), ms.end());
  t.median_ms = ms[ms.size() / 2];
  t.max_ms = ms.back();
  return t;
}

Result<size_t> rpcStatus(const grpc::Status& s, size_t n) {
  if (!s.ok()) return unavailable("rpc: " + s.error_message());
  return n;
}

std::vector<Question> questions(EventStore& store, v1::Gateway::Stub& stub, const std::vector<SessionPlan>& plan,
                                uint64_t per_session) {
  const FactSpace& f = FactSpace::get();
  const SessionPlan& x = plan[plan.size() / 2];
  const int64_t t1 = x.start_ms + std::min<int64_t>(3600, static_cast<int64_t>(per_session) / 3) * kEventSpacingMs;
  const int64_t t2 = t1 + 1800 * kEventSpacingMs;
  // Event seq of a session is at start + seq * spacing: the window holds seqs first..first+1799.
  const int64_t first = (t1 - x.start_ms) / kEventSpacingMs;
  const size_t window = static_cast<size_t>(
      std::max<int64_t>(0, std::min<int64_t>(first + 1799, static_cast<int64_t>(per_session)) - first + 1));
  std::map<std::string, size_t> by_reason;
  for (const auto& p : plan) ++by_reason[p.stop_reason];
  auto deadline = [](grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  };
  auto sessionsWith = [&](std::string name, std::function<void(EventQuery&)> set_store,
                          std::function<void(v1::QueryRequest&)> set_rpc, std::function<std::string(size_t)> check) {
    return Question{
        std::move(name),
        [&store, set_store] {
          EventQuery q;
          set_store(q);
          auto r = store.sessionsMatching(q);
          if (!r.ok()) return Result<size_t>(r.error());
          return Result<size_t>(r->size());
        },
        [&stub, set_rpc, deadline] {
          grpc::ClientContext ctx;
          deadline(ctx);
          v1::QueryRequest req;
          set_rpc(req);
          v1::QueryResponse resp;
          const grpc::Status s = stub.Query(&ctx, req, &resp);
          return rpcStatus(s, static_cast<size_t>(resp.sessions_size()));
        },
        std::move(check)};
  };
  auto some = [](size_t n) { return n > 0 ? std::string() : std::string("no session matched"); };
  std::vector<Question> out;
  out.push_back(Question{
      "session X, T1..T2 (30 min), limit 1000",
      [&store, x, t1, t2] {
        EventQuery q;
        q.session = x.id;
        q.since_ms = t1;
        q.until_ms = t2;
        q.limit = 1000;
        auto r = store.query(q);
        if (!r.ok()) return Result<size_t>(r.error());
        for (const auto& e : *r) {
          if (e.session_id != x.id || e.time_ms < t1 || e.time_ms >= t2) {
            return Result<size_t>(internalError("query answered an event outside the session or window"));
          }
        }
        return Result<size_t>(r->size());
      },
      [&stub, x, t1, t2, deadline] {
        grpc::ClientContext ctx;
        deadline(ctx);
        v1::QueryRequest req;
        req.set_session_id(x.id);
        req.set_since_ms(t1);
        req.set_until_ms(t2);
        req.set_limit(1000);
        v1::QueryResponse resp;
        const grpc::Status s = stub.Query(&ctx, req, &resp);
        return rpcStatus(s, static_cast<size_t>(resp.events_size()));
      },
      [window](size_t n) {
        const size_t expected = std::min<size_t>(1000, window);
        return n == expected ? std::string()
                             : "expected " + std::to_string(expected) + " events, got " + std::to_string(n);
      }});
  out.push_back(Question{
      "logs of session X, class HTTP, limit 1000",
      [&store, x] {
        EventQuery q;
        q.session = x.id;
        q.kinds = {"HTTP"};
        q.limit = 1000;
        auto r = store.query(q);
        if (!r.ok()) return Result<size_t>(r.error());
        for (const auto& e : *r) {
          if (e.kind != "HTTP") return Result<size_t>(internalError("logs answered a " + e.kind + " event"));
        }
        return Result<size_t>(r->size());
      },
      [&stub, x, deadline] {
        grpc::ClientContext ctx;
        deadline(ctx);
        v1::GetLogsRequest req;
        req.set_session_id(x.id);
        req.add_classes("HTTP");
        req.set_limit(1000);
        v1::GetLogsResponse resp;
        const grpc::Status s = stub.GetLogs(&ctx, req, &resp);
        return rpcStatus(s, static_cast<size_t>(resp.events_size()));
      },
      [](size_t n) { return n > 0 && n <= 1000 ? std::string() : "answered " + std::to_string(n) + " events"; }});
  const std::string common_path = f.system_paths[0];
  const std::string project_path = f.projectPath(plan[0].project, 0);
  const std::string top_domain = f.domains[0];
  const std::string tail_domain = f.domains[150];
  const std::string package = f.packages[0];
  out.push_back(sessionsWith("touched path " + common_path + " (top)",
                             [common_path](EventQuery& q) { q.path = common_path; },
                             [common_path](v1::QueryRequest& r) { r.set_path(common_path); }, some));
  out.push_back(sessionsWith("touched path " + project_path,
                             [project_path](EventQuery& q) { q.path = project_path; },
                             [project_path](v1::QueryRequest& r) { r.set_path(project_path); }, some));
  out.push_back(sessionsWith("connected to " + top_domain + " (top)",
                             [top_domain](EventQuery& q) { q.domain = top_domain; },
                             [top_domain](v1::QueryRequest& r) { r.set_domain(top_domain); }, some));
  out.push_back(sessionsWith("connected to " + tail_domain + " (#150)",
                             [tail_domain](EventQuery& q) { q.domain = tail_domain; },
                             [tail_domain](v1::QueryRequest& r) { r.set_domain(tail_domain); }, some));
  out.push_back(sessionsWith("installed package " + package + " (top)", [package](EventQuery& q) { q.package = package; },
                             [package](v1::QueryRequest& r) { r.set_package(package); }, some));
  for (const std::string reason : {"timeout", "policy_violation"}) {
    const size_t expected = by_reason[reason];
    out.push_back(sessionsWith(
        "stopped with reason " + reason, [reason](EventQuery& q) { q.stop_reason = reason; },
        [reason](v1::QueryRequest& r) { r.set_stop_reason(reason); },
        [expected](size_t n) {
          return n == expected ? std::string()
                               : "expected " + std::to_string(expected) + " sessions, got " + std::to_string(n);
        }));
  }
  return out;
}

Result<std::unique_ptr<EventStore>> openStore(const std::string& url) {
  auto loc = gateway::parseStoreUrl(url);
  if (!loc.ok()) return loc.error();
  auto store = loc->postgres ? gateway::openPostgresStore(loc->postgres_url) : gateway::openSqliteStore(loc->sqlite_path);
  if (!store.ok()) return store.error();
  if (auto m = (*store)->migrate(); !m.ok()) return m.error();
  return store;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "gateway_query_bench: %s needs a value\n", a.c_str());
      return std::nullopt;
    }
    const std::string v = argv[++i];
    if (a == "--db") {
      o.db = v;
    } else if (a == "--label") {
      o.label = v;
    } else if (a == "--events") {
      o.events = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--sessions") {
      o.sessions = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--runs") {
      o.runs = std::atoi(v.c_str());
    } else if (a == "--batch") {
      o.batch = std::strtoull(v.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "gateway_query_bench: unknown option %s\n", a.c_str());
      return std::nullopt;
    }
  }
  if (o.sessions < 1 || o.events / o.sessions < 3 || o.runs < 1 || o.batch < 1 || o.batch > 100000) {
    std::fprintf(stderr, "gateway_query_bench: need --sessions >= 1, --events >= 3 per session, --runs >= 1, "
                         "--batch in 1..100000\n");
    return std::nullopt;
  }
  if (o.db.empty()) {
    std::filesystem::create_directories("/var/tmp/warden-bench");
    o.db = "/var/tmp/warden-bench/query-" + std::to_string(o.events) + "-" + std::to_string(o.sessions) + ".db";
  }
  if (o.label.empty()) o.label = o.db.rfind("postgres", 0) == 0 ? "postgresql" : "sqlite";
  return o;
}

int run(int argc, char** argv) {
  auto opt = parse(argc, argv);
  if (!opt) return 2;
  const uint64_t per_session = opt->events / opt->sessions;
  const std::vector<SessionPlan> plan = planSessions(opt->sessions);
  auto store = openStore(opt->db);
  if (!store.ok()) {
    std::fprintf(stderr, "gateway_query_bench: %s\n", store.error().message().c_str());
    return 1;
  }
  std::printf("store: %s (%s), %llu events over %llu sessions\n", opt->label.c_str(),
              opt->db.rfind("postgres", 0) == 0 ? "postgresql URL" : opt->db.c_str(),
              static_cast<unsigned long long>(per_session * opt->sessions),
              static_cast<unsigned long long>(opt->sessions));
  if (!fill(**store, *opt, plan)) return 1;

  std::filesystem::create_directories("/var/tmp/warden-bench");
  std::string log_dir = "/var/tmp/warden-bench/query-gateway-log-XXXXXX";
  if (::mkdtemp(log_dir.data()) == nullptr) {
    std::perror("gateway_query_bench: mkdtemp");
    return 1;
  }
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } remove_log_dir{log_dir};
  gateway::GatewayServerOptions so;
  so.listen = "127.0.0.1:0";
  so.db = opt->db;
  so.log_dir = log_dir;  // the gateway's own audit trail
  so.operator_socket = log_dir + "/operator.sock";  // the RPCs ask as its operator (root)
  auto server = gateway::GatewayServer::start(so);
  if (!server.ok()) {
    std::fprintf(stderr, "gateway_query_bench: %s\n", server.error().message().c_str());
    return 1;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel("unix:" + *so.operator_socket, grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Gateway::NewStub(channel);

  std::printf("\nqueries: %d runs each, load %s\n", opt->runs, loadAverage().c_str());
  std::printf("%-54s %8s %11s %9s %11s %9s  %s\n", "question", "answer", "store p50ms", "max ms", "rpc p50 ms",
              "max ms", "< 1 s");
  bool ok = true;
  for (const Question& q : questions(**store, *stub, plan, per_session)) {
    const Timing s = timeIt(q.store, opt->runs);
    const Timing r = s.error.empty() ? timeIt(q.rpc, opt->runs) : Timing{};
    std::string problem = !s.error.empty() ? s.error : !r.error.empty() ? r.error : q.check(s.rows);
    if (problem.empty() && r.rows != s.rows) {
      problem = "the RPC answered " + std::to_string(r.rows) + ", the store " + std::to_string(s.rows);
    }
    const bool met = std::max(s.max_ms, r.max_ms) < 1000;
    std::printf("%-54s %8zu %11.1f %9.1f %11.1f %9.1f  %s\n", q.name.c_str(), s.rows, s.median_ms, s.max_ms,
                r.median_ms, r.max_ms, !problem.empty() ? "FAILED" : met ? "met" : "MISSED");
    if (!problem.empty()) {
      std::fprintf(stderr, "gateway_query_bench: %s: %s\n", q.name.c_str(), problem.c_str());
      ok = false;
    }
    std::fflush(stdout);
  }
  std::printf("load after: %s\n", loadAverage().c_str());
  (*server)->stop();
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace warden::bench

int main(int argc, char** argv) { return warden::bench::run(argc, argv); }
