// Gateway ingest (issue 5): an in-process GatewayServer on 127.0.0.1:0 over the given store, and N
// supervisors (default 4), each its own thread with its own gRPC channel (its own TCP connection),
// registering a session and pushing realistic events (~1.3 KB of canonical OCSF JSON plus the
// shorthand, from the real builders: gateway_bench_events.h) over one PushEvents stream in batches, at most --in-flight
// batches unacknowledged per stream. Reports events/s acknowledged (durably stored) over the run,
// p50/p99 batch acknowledgement latency (write of a batch to its acknowledgement, as the supervisor
// sees it) and the process's CPU use. At the end every session must be stored exactly as pushed
// (highestContiguous == pushed, nothing above it); anything else is a failed run (exit 1).
// Target (2 cores, SQLite, batching): >= 100,000 events/s.
//
// Usage: gateway_ingest_bench [--db URL] [--label NAME] [--batch 500,1000,5000] [--sessions 4]
//                             [--in-flight 4] [--seconds 10] [--events-per-session N] [--no-header]
//                             [--stages] [--sqlite-pragmas "PRAGMA page_size=16384; ..."]
// --db: an SQLite path / sqlite:///path or a postgresql:// URL (default: a new SQLite file in
// /var/tmp/warden-bench, removed afterwards). Each batch size is a separate run with fresh sessions.
// --stages: instead of pushing, the server's steps timed one by one on one thread (CPU per event), to
// show where the time goes: the conversion of each pushed event (a JSON parse) and
// SqliteStore::append in batches of the first --batch size, into a new SQLite file.
// --sqlite-pragmas: PRAGMA statements run on every SQLite connection first (to measure a proposed
// setting against the unchanged store); shown in the store column as "sqlite*".
#include <grpcpp/grpcpp.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/verify_line.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "gateway/service/gateway_server.h"
#include "gateway/service/proto_convert.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway_bench_events.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string db;  // empty: a temporary SQLite file
  std::string label;
  std::vector<size_t> batches{500, 1000, 5000};
  int sessions = 4;
  size_t in_flight = 4;
  double seconds = 10;
  uint64_t events_per_session = 0;  // > 0: stop after this many per session instead of --seconds
  bool header = true;
  bool stages = false;  // instead: time the server's steps one by one (SQLite, CPU per event)
  std::string sqlite_pragmas;  // run on every SQLite connection this process opens (experiments)
};

// --sqlite-pragmas: SQLite calls this for every connection it opens in this process (the store's
// included), before the store sets its own pragmas (journal_mode, synchronous). For measuring a
// proposed setting against the unchanged store; page_size applies to new database files only.
std::string g_sqlite_pragmas;
int applySqlitePragmas(sqlite3* db, const char** error, const sqlite3_api_routines*) {
  char* message = nullptr;
  if (sqlite3_exec(db, g_sqlite_pragmas.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    *error = message;  // SQLite frees it
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

// One pool event: its canonical JSON split around metadata.sequence, so a push writes the real
// sequence into bytes rendered once.
struct Template {
  std::string head, tail, shorthand;
  int64_t time_ms = 0;
};
constexpr uint64_t kSentinelSequence = 987654321987;
constexpr size_t kPoolSize = 4096;

std::vector<Template> makePool(const std::string& session_id, uint64_t seed, size_t* json_bytes) {
  ocsf::SessionContext ctx;
  ctx.hostname = "bench-host-" + std::to_string(seed);
  ctx.session_id = session_id;
  ctx.session_name = "agent-" + std::to_string(seed);
  ctx.proxy = ocsf::Endpoint{"", "10.200.0.1", 3128};
  SessionEventMaker maker(ctx, seed, seed % 100);
  const std::string sentinel = std::to_string(kSentinelSequence);
  const int64_t t0 = SystemClock::instance().nowMillis();
  std::vector<Template> pool;
  pool.reserve(kPoolSize);
  for (size_t i = 0; i < kPoolSize; ++i) {
    const ocsf::Event e = maker.build(kSentinelSequence, 0, t0 + static_cast<int64_t>(i), "");
    const std::string json = ocsf::toJsonl(e);
    const size_t at = json.find(sentinel);
    if (at == std::string::npos) std::abort();  // the formatter always writes metadata.sequence
    *json_bytes += json.size() - sentinel.size() + 4;
    pool.push_back({json.substr(0, at), json.substr(at + sentinel.size()), ocsf::toShorthand(e), e.time});
  }
  return pool;
}

std::shared_ptr<grpc::Channel> supervisorChannel(int port) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  // A connection of its own, as separate supervisors have (channels otherwise share subchannels).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args);
}

// One supervisor's push stream. Filled by its thread; read after join().
struct Pusher {
  std::string session_id, token;
  std::vector<Template> pool;
  uint64_t pushed = 0, acknowledged = 0, duplicates = 0;
  std::vector<double> ack_ms;  // one per batch
  SteadyClock::time_point finished;
  std::string error;
};

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void push(Pusher& p, const std::shared_ptr<grpc::Channel>& channel, const Options& opt, size_t batch,
          std::latch& start, SteadyClock::time_point& deadline_out, const std::atomic<bool>& go) {
  auto stub = v1::Gateway::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + p.token);
  start.arrive_and_wait();
  while (!go.load()) std::this_thread::yield();  // every stream starts at the same instant
  const SteadyClock::time_point deadline = deadline_out;
  auto stream = stub->PushEvents(&ctx);
  struct InFlight {
    uint64_t last;
    SteadyClock::time_point sent;
  };
  std::deque<InFlight> flight;
  v1::PushEventsRequest req;
  req.set_session_id(p.session_id);
  uint64_t next = 1;
  bool writing = true;
  for (;;) {
    while (writing && flight.size() < opt.in_flight) {
      if (opt.events_per_session > 0 ? next > opt.events_per_session : SteadyClock::now() >= deadline) {
        writing = false;
        break;
      }
      uint64_t n = batch;
      if (opt.events_per_session > 0) n = std::min<uint64_t>(n, opt.events_per_session - next + 1);
      req.clear_events();
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t seq = next + i;
        const Template& t = p.pool[seq % p.pool.size()];
        v1::StoredEvent* e = req.add_events();
        e->set_sequence(seq);
        std::string* json = e->mutable_json();
        json->reserve(t.head.size() + t.tail.size() + 20);
        json->append(t.head).append(std::to_string(seq)).append(t.tail);
        e->set_shorthand(t.shorthand);
        e->set_time_ms(t.time_ms);
      }
      const SteadyClock::time_point sent = SteadyClock::now();
      if (!stream->Write(req)) {
        p.error = "PushEvents write failed (stream closed by the server)";
        writing = false;
        break;
      }
      next += n;
      p.pushed = next - 1;
      flight.push_back({next - 1, sent});
    }
    if (flight.empty() || !p.error.empty()) break;
    v1::PushEventsResponse resp;
    if (!stream->Read(&resp)) {
      p.error = "PushEvents read failed with " + std::to_string(flight.size()) + " batches unacknowledged";
      break;
    }
    if (!resp.error().empty()) {
      p.error = "batch refused: " + resp.error();
      break;
    }
    if (resp.acknowledged_through() != flight.front().last) {
      p.error = "acknowledged_through " + std::to_string(resp.acknowledged_through()) + ", expected " +
                std::to_string(flight.front().last);
      break;
    }
    p.ack_ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - flight.front().sent).count());
    p.acknowledged = resp.acknowledged_through();
    p.duplicates += resp.duplicates();
    flight.pop_front();
  }
  p.finished = SteadyClock::now();
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (p.error.empty() && !status.ok()) p.error = "PushEvents ended with " + status.error_message();
}

// Bytes this process has caused to be written to storage so far (/proc/self/io write_bytes); 0 when
// the kernel does not account them.
uint64_t writtenBytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return 0;
}

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Where a pushed event's server time goes, step by step on one thread: the conversion PushEvents
// runs on every event (fromProto: copy + extractFacts, a JSON parse), then SqliteStore::append in
// batches of `batch` (CPU, including its pread/pwrite system calls, and wall, including fsync).
// Returns false when the store refuses or loses anything.
bool measureStages(const std::vector<Template>& pool, const std::filesystem::path& dir, size_t batch) {
  constexpr uint64_t kEvents = 50000;
  const std::string session = uuidV7(SystemClock::instance().nowMillis());
  std::vector<v1::StoredEvent> wire(kEvents);
  for (uint64_t seq = 1; seq <= kEvents; ++seq) {
    const Template& t = pool[seq % pool.size()];
    v1::StoredEvent& e = wire[seq - 1];
    e.set_sequence(seq);
    e.set_json(t.head + std::to_string(seq) + t.tail);
    e.set_shorthand(t.shorthand);
    e.set_time_ms(t.time_ms);
  }
  std::vector<gateway::StoredEvent> events;
  events.reserve(kEvents);
  const double c0 = threadCpuSeconds();
  for (const auto& e : wire) events.push_back(gateway::fromProto(e, session));
  const double convert_us = (threadCpuSeconds() - c0) * 1e6 / static_cast<double>(kEvents);
  // For comparison: the verifier's single-pass field scanner over the same lines (what a scanner for
  // the fact fields would cost; it reads the verifier's fields, not the facts).
  audit::verify_line::ParsedLine parsed;
  uint64_t scanned = 0;
  const double s0 = threadCpuSeconds();
  for (const auto& e : wire) {
    parsed.reset();
    scanned += audit::verify_line::scanLineFast(e.json(), parsed) && parsed.seq == e.sequence() ? 1 : 0;
  }
  const double scan_us = (threadCpuSeconds() - s0) * 1e6 / static_cast<double>(kEvents);
  if (scanned != kEvents) {
    std::fprintf(stderr, "gateway_ingest_bench: stages: the scanner declined %llu lines\n",
                 static_cast<unsigned long long>(kEvents - scanned));
  }

  auto store = gateway::openSqliteStore(dir / "stages.db");
  if (!store.ok() || !(*store)->migrate().ok()) {
    std::fprintf(stderr, "gateway_ingest_bench: cannot open %s\n", (dir / "stages.db").c_str());
    return false;
  }
  const uint64_t written0 = writtenBytes();
  const double a0 = threadCpuSeconds();
  const auto w0 = SteadyClock::now();
  for (size_t at = 0; at < events.size(); at += batch) {
    const std::vector<gateway::StoredEvent> part(events.begin() + static_cast<ptrdiff_t>(at),
                                                 events.begin() + static_cast<ptrdiff_t>(std::min(events.size(), at + batch)));
    auto r = (*store)->append(part);
    if (!r.ok() || r->inserted != part.size() || r->highest_contiguous != at + part.size()) {
      std::fprintf(stderr, "gateway_ingest_bench: stages: append failed or lost events: %s\n",
                   r.ok() ? "wrong counts" : r.error().message().c_str());
      return false;
    }
  }
  const double wall = std::chrono::duration<double>(SteadyClock::now() - w0).count();
  const double append_cpu_us = (threadCpuSeconds() - a0) * 1e6 / static_cast<double>(kEvents);
  const double written_kb = static_cast<double>(writtenBytes() - written0) / 1024.0 / static_cast<double>(kEvents);
  std::error_code ec;
  const double file_kb =
      static_cast<double>(std::filesystem::file_size(dir / "stages.db", ec)) / 1024.0 / static_cast<double>(kEvents);
  std::printf("server steps, one thread, %llu events: fromProto+extractFacts %.1f us CPU/event "
              "(verify_line::scanLineFast over the same lines: %.1f us); SqliteStore::append (batches of %zu) "
              "%.1f us CPU/event, %.1f us wall/event, %.1f KiB written/event (%.1f KiB/event in the file); load %s\n",
              static_cast<unsigned long long>(kEvents), convert_us, scan_us, batch, append_cpu_us,
              wall * 1e6 / static_cast<double>(kEvents), written_kb, ec ? 0.0 : file_kb, loadAverage().c_str());
  return true;
}

// One run: a fresh server and fresh sessions, `batch` events per request. Returns false when any
// event was lost, refused or not acknowledged.
bool runOnce(const Options& opt, const std::string& db, const std::filesystem::path& log_dir, size_t batch) {
  gateway::GatewayServerOptions so;
  so.listen = "127.0.0.1:0";
  so.db = db;
  so.log_dir = log_dir;  // the gateway's own audit trail
  so.operator_socket = "none";  // sessions push over TCP with their tokens
  auto server = gateway::GatewayServer::start(so);
  if (!server.ok()) {
    std::fprintf(stderr, "gateway_ingest_bench: %s\n", server.error().message().c_str());
    return false;
  }
  const int port = (*server)->port();
  std::vector<Pusher> pushers(static_cast<size_t>(opt.sessions));
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  size_t json_bytes = 0;
  for (size_t i = 0; i < pushers.size(); ++i) {
    Pusher& p = pushers[i];
    p.session_id = uuidV7(SystemClock::instance().nowMillis());
    p.pool = makePool(p.session_id, i + 1, &json_bytes);
    channels.push_back(supervisorChannel(port));
    auto stub = v1::Gateway::NewStub(channels.back());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::RegisterSessionRequest req;
    req.set_id(p.session_id);
    req.set_name("bench-" + std::to_string(i + 1));
    req.set_public_key(std::string(64, 'a'));
    v1::RegisterSessionResponse resp;
    const grpc::Status s = stub->RegisterSession(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "gateway_ingest_bench: RegisterSession: %s\n", s.error_message().c_str());
      return false;
    }
    p.token = resp.token();
  }
  const double avg_json = static_cast<double>(json_bytes) / static_cast<double>(pushers.size() * kPoolSize);

  std::latch start(static_cast<ptrdiff_t>(pushers.size()) + 1);
  std::atomic<bool> go{false};
  SteadyClock::time_point deadline;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < pushers.size(); ++i) {
    threads.emplace_back([&, i] { push(pushers[i], channels[i], opt, batch, start, deadline, go); });
  }
  start.arrive_and_wait();
  const double cpu0 = cpuSeconds();
  const SteadyClock::time_point t0 = SteadyClock::now();
  deadline = t0 + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(opt.seconds));
  go.store(true);
  for (auto& t : threads) t.join();
  SteadyClock::time_point t1 = t0;
  for (const auto& p : pushers) t1 = std::max(t1, p.finished);
  const double wall = std::chrono::duration<double>(t1 - t0).count();
  const double cpu = cpuSeconds() - cpu0;

  bool ok = true;
  uint64_t acknowledged = 0;
  std::vector<double> ack_ms;
  for (const auto& p : pushers) {
    acknowledged += p.acknowledged;
    ack_ms.insert(ack_ms.end(), p.ack_ms.begin(), p.ack_ms.end());
    if (!p.error.empty()) {
      std::fprintf(stderr, "gateway_ingest_bench: session %s: %s\n", p.session_id.c_str(), p.error.c_str());
      ok = false;
    }
    if (p.duplicates != 0) {
      std::fprintf(stderr, "gateway_ingest_bench: session %s: %llu duplicates on first push\n",
                   p.session_id.c_str(), static_cast<unsigned long long>(p.duplicates));
      ok = false;
    }
    // The store itself, not only the acknowledgements: 1..pushed stored, nothing above.
    auto highest = (*server)->store().highestContiguous(p.session_id);
    gateway::EventQuery above;
    above.session = p.session_id;
    above.after_sequence = p.pushed;
    above.limit = 1;
    auto extra = (*server)->store().query(above);
    if (!highest.ok() || !extra.ok()) {
      std::fprintf(stderr, "gateway_ingest_bench: session %s: reading the store back failed: %s\n",
                   p.session_id.c_str(),
                   (!highest.ok() ? highest.error() : extra.error()).message().c_str());
      ok = false;
    } else if (*highest != p.pushed || !extra->empty() || p.acknowledged != p.pushed) {
      std::fprintf(stderr,
                   "gateway_ingest_bench: session %s: pushed %llu, acknowledged %llu, store holds 1..%llu%s\n",
                   p.session_id.c_str(), static_cast<unsigned long long>(p.pushed),
                   static_cast<unsigned long long>(p.acknowledged), static_cast<unsigned long long>(*highest),
                   extra->empty() ? "" : " and events above it");
      ok = false;
    }
  }
  (*server)->stop();
  const double rate = static_cast<double>(acknowledged) / wall;
  std::printf("%-11s %6zu %4zu %4d %7.1f %10llu %10.0f %7.1f %8.1f %8.1f %5.0f%% %5.0f  %-15s %s\n",
              opt.label.c_str(), batch, opt.in_flight, opt.sessions, wall,
              static_cast<unsigned long long>(acknowledged), rate, rate * avg_json / 1e6, quantile(ack_ms, 0.5),
              quantile(ack_ms, 0.99), 100.0 * cpu / wall, avg_json, loadAverage().c_str(), ok ? "ok" : "FAILED");
  std::fflush(stdout);
  return ok;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    std::optional<std::string> v;
    if (a == "--no-header") {
      o.header = false;
      continue;
    }
    if (a == "--stages") {
      o.stages = true;
      continue;
    }
    if (!(v = value())) {
      std::fprintf(stderr, "gateway_ingest_bench: %s needs a value\n", a.c_str());
      return std::nullopt;
    }
    if (a == "--db") {
      o.db = *v;
    } else if (a == "--label") {
      o.label = *v;
    } else if (a == "--sqlite-pragmas") {
      o.sqlite_pragmas = *v;
    } else if (a == "--batch") {
      o.batches.clear();
      for (size_t at = 0; at <= v->size();) {
        const size_t comma = std::min(v->find(',', at), v->size());
        o.batches.push_back(std::strtoull(v->substr(at, comma - at).c_str(), nullptr, 10));
        at = comma + 1;
      }
    } else if (a == "--sessions") {
      o.sessions = std::atoi(v->c_str());
    } else if (a == "--in-flight") {
      o.in_flight = std::strtoull(v->c_str(), nullptr, 10);
    } else if (a == "--seconds") {
      o.seconds = std::atof(v->c_str());
    } else if (a == "--events-per-session") {
      o.events_per_session = std::strtoull(v->c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "gateway_ingest_bench: unknown option %s\n", a.c_str());
      return std::nullopt;
    }
  }
  const bool bad_batch = std::any_of(o.batches.begin(), o.batches.end(), [](size_t b) { return b == 0 || b > 10000; });
  if (o.sessions < 1 || o.in_flight < 1 || o.seconds <= 0 || o.batches.empty() || bad_batch) {
    std::fprintf(stderr, "gateway_ingest_bench: need --sessions >= 1, --in-flight >= 1, --seconds > 0, "
                         "--batch sizes in 1..10000\n");
    return std::nullopt;
  }
  if (o.label.empty()) {
    o.label = o.db.rfind("postgres", 0) == 0 ? "postgresql" : o.sqlite_pragmas.empty() ? "sqlite" : "sqlite*";
  }
  return o;
}

int run(int argc, char** argv) {
  auto opt = parse(argc, argv);
  if (!opt) return 2;
  if (!opt->sqlite_pragmas.empty()) {
    g_sqlite_pragmas = opt->sqlite_pragmas;
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(&applySqlitePragmas));
  }
  // Scratch space: the gateway's own audit trail and, without --db, the SQLite files.
  std::filesystem::create_directories("/var/tmp/warden-bench");
  std::string tmpl = "/var/tmp/warden-bench/ingest-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("gateway_ingest_bench: mkdtemp");
    return 1;
  }
  const std::filesystem::path temp_dir = tmpl;
  if (opt->stages) {
    size_t json_bytes = 0;
    const std::vector<Template> pool = makePool(uuidV7(SystemClock::instance().nowMillis()), 1, &json_bytes);
    const bool ok = measureStages(pool, temp_dir, opt->batches.front());
    std::filesystem::remove_all(temp_dir);
    return ok ? 0 : 1;
  }
  if (opt->header) {
    std::printf("%-11s %6s %4s %4s %7s %10s %10s %7s %8s %8s %6s %5s  %-15s %s\n", "store", "batch", "infl",
                "sess", "secs", "events", "events/s", "MB/s", "ack p50", "ack p99", "cpu", "bytes", "load",
                "verified");
  }
  bool ok = true;
  for (size_t batch : opt->batches) {
    std::string db = opt->db;
    if (db.empty()) db = (temp_dir / ("ingest-" + std::to_string(batch) + ".db")).string();
    ok = runOnce(*opt, db, temp_dir / ("gateway-log-" + std::to_string(batch)), batch) && ok;
  }
  std::filesystem::remove_all(temp_dir);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace warden::bench

int main(int argc, char** argv) { return warden::bench::run(argc, argv); }
