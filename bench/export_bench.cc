// SIEM export to a real rsyslog (issue 15 item 9; docs/export.md): the pipeline's sustained rate with
// and without a syslog+tcp export (baseline in the same run; also to an in-process receiver that
// drops everything, to separate Warden's own cost from rsyslog's), the export's end-to-end throughput
// (until rsyslog has written every message), and event-to-rsyslog latency p50/p99 at 1,000 and
// 50,000 events/s (target p99 < 1 s). Latency is rsyslog's receive time (timegenerated, µs) minus
// the event's own time (the syslog TIMESTAMP, ms), so it includes the pipeline's queue, the writer,
// the export's spool and the network; the clocks are the same host's.
//
// Also the HTTPS NDJSON export's throughput to a real nginx (until every batch was answered 2xx).
//
//   build/bench/export_bench [events]     # default 200,000 for the throughput part

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audit/export/spooled_export_sink.h"
#include "audit/generator.h"
#include "audit/pipeline.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "support/nginx.h"
#include "support/rsyslog.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

using Clk = std::chrono::steady_clock;

ocsf::SessionContext benchSession() {
  ocsf::SessionContext ctx;
  ctx.hostname = "bench-host";
  ctx.session_id = uuidV7(SystemClock::instance().nowMillis());
  ctx.session_name = "bench";
  return ctx;
}

size_t lineCount(const std::filesystem::path& path) {
  std::ifstream in(path);
  return static_cast<size_t>(std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
}

// "2026-12-06T16:43:36.123456+00:00" or "...Z" → epoch microseconds (-1 when it does not parse).
int64_t parseRfc3339Micros(const std::string& s) {
  tm t{};
  int frac_digits = 0;
  int64_t frac = 0;
  if (s.size() < 20 || ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &t) == nullptr) return -1;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++frac_digits) frac = frac * 10 + (s[i] - '0');
  }
  while (frac_digits < 6) {
    frac *= 10;
    ++frac_digits;
  }
  int64_t offset_s = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-') && i + 5 < s.size() + 1) {
    const int hh = std::atoi(s.substr(i + 1, 2).c_str()), mm = std::atoi(s.substr(i + 4, 2).c_str());
    offset_s = (s[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  }
  return (static_cast<int64_t>(::timegm(&t)) - offset_s) * 1'000'000 + frac;
}

// A receiver on 127.0.0.1 that reads and drops everything: Warden's own cost without rsyslog's.
class DiscardReceiver {
 public:
  DiscardReceiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 4) != 0) std::abort();
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      std::vector<char> buf(1 << 20);
      int conn = -1;
      while (!stop_) {
        pollfd p[2] = {{fd_, POLLIN, 0}, {conn, POLLIN, 0}};
        if (::poll(p, conn >= 0 ? 2 : 1, 50) <= 0) continue;
        if (p[0].revents & POLLIN) {
          if (conn >= 0) ::close(conn);
          conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        }
        if (conn >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
          const ssize_t n = ::read(conn, buf.data(), buf.size());
          if (n <= 0) {
            ::close(conn);
            conn = -1;
          } else {
            bytes_ += static_cast<uint64_t>(n);
          }
        }
      }
      if (conn >= 0) ::close(conn);
    });
  }
  ~DiscardReceiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> bytes_{0};
  std::thread thread_;
};

struct Result {
  double emit_seconds = 0;     // first emit until the last emit() returned
  double close_seconds = 0;    // until close() returned (the export drained)
  double arrive_seconds = 0;   // until rsyslog had written every message (0: no export)
  uint64_t sequences = 0;
  uint64_t shed = 0;
  std::vector<double> latency_ms;
};

Result runSession(uint64_t events, double rate, testing::Rsyslog* rsyslog, uint16_t discard_port = 0,
                  const std::string& https_url = "") {
  Result r;
  const auto dir = std::filesystem::temp_directory_path() / ("warden-export-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PipelineOptions options;
  options.log_dir = dir / "log";
  options.session = benchSession();
  options.jsonl_enabled = true;
  std::shared_ptr<exporting::SpooledExportSink> sink;
  const size_t before = rsyslog ? lineCount(rsyslog->msgFile()) : 0;
  const size_t timing_before = rsyslog ? lineCount(rsyslog->timingFile()) : 0;
  if (rsyslog || discard_port != 0 || !https_url.empty()) {
    exporting::SpooledExportOptions o;
    const uint16_t port = rsyslog ? rsyslog->port() : discard_port;
    o.url = exporting::ExportUrl::parse(https_url.empty() ? "syslog+tcp://127.0.0.1:" + std::to_string(port) : https_url)
                .value();
    o.spool_dir = dir / "spool";
    o.drain = std::chrono::seconds(60);
    auto made = exporting::SpooledExportSink::make(o);
    if (!made.ok()) {
      std::fprintf(stderr, "export: %s\n", made.error().toString().c_str());
      std::exit(1);
    }
    sink = std::move(made).value();
    options.sinks.push_back(sink);
  }
  auto pipeline = Pipeline::start(options);
  if (!pipeline.ok()) {
    std::fprintf(stderr, "pipeline: %s\n", pipeline.error().toString().c_str());
    std::exit(1);
  }
  GenerateOptions g;
  g.events = events;
  g.producers = 2;
  g.rate = rate;
  g.latency_sample_every = 0;
  const auto t0 = Clk::now();
  generateSession(**pipeline, options.session, g);
  r.emit_seconds = std::chrono::duration<double>(Clk::now() - t0).count();
  (void)(*pipeline)->close();
  r.close_seconds = std::chrono::duration<double>(Clk::now() - t0).count();
  const auto stats = (*pipeline)->stats();
  r.sequences = stats.last_sequence;
  r.shed = stats.shed;
  if (!https_url.empty()) {
    // close() drained the export: every batch the receiver answered 2xx is acknowledged.
    r.arrive_seconds = r.close_seconds;
    if (sink->stats().delivered_sequence < r.sequences) {
      std::fprintf(stderr, "https: only %llu of %llu delivered\n",
                   static_cast<unsigned long long>(sink->stats().delivered_sequence),
                   static_cast<unsigned long long>(r.sequences));
    }
  }
  if (rsyslog) {
    testing::waitFor([&] { return lineCount(rsyslog->msgFile()) >= before + r.sequences; }, std::chrono::seconds(120));
    r.arrive_seconds = std::chrono::duration<double>(Clk::now() - t0).count();
    // The timing file is another omfile action: written asynchronously too.
    testing::waitFor([&] { return lineCount(rsyslog->timingFile()) >= timing_before + r.sequences; },
                     std::chrono::seconds(30));
    std::ifstream timing(rsyslog->timingFile());
    std::string line;
    for (size_t n = 0; std::getline(timing, line); ++n) {
      if (n < timing_before) continue;
      const size_t sp = line.find(' ');
      const int64_t received = parseRfc3339Micros(line.substr(0, sp));
      const int64_t reported = parseRfc3339Micros(line.substr(sp + 1));
      if (received > 0 && reported > 0) r.latency_ms.push_back(static_cast<double>(received - reported) / 1000.0);
    }
    std::sort(r.latency_ms.begin(), r.latency_ms.end());
  }
  std::filesystem::remove_all(dir);
  return r;
}

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())))];
}

}  // namespace
}  // namespace warden::audit

int main(int argc, char** argv) {
  using namespace warden::audit;
  const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  std::string why;
  auto rsyslog = warden::testing::Rsyslog::start({.udp = false, .tls_ca = {}, .tls_cert = {}, .tls_key = {}, .timing = true, .protocol_file = false},
                                                 &why);
  if (!rsyslog) {
    std::printf("skipped: %s\n", why.c_str());
    return 0;
  }
  std::ifstream loadavg("/proc/loadavg");
  std::string load;
  std::getline(loadavg, load);
  std::printf("machine: %ld cores, load %s\n\n", ::sysconf(_SC_NPROCESSORS_ONLN), load.c_str());

  std::printf("== throughput, %llu events from 2 producers as fast as emit() accepts, both files on\n",
              static_cast<unsigned long long>(events));
  std::printf("%-28s %14s %14s %16s %6s\n", "", "emit events/s", "close s", "delivered ev/s", "shed");
  const Result base = runSession(events, 0, nullptr);
  std::printf("%-28s %14.0f %14.2f %16s %6llu\n", "no export (baseline)", events / base.emit_seconds,
              base.close_seconds, "-", static_cast<unsigned long long>(base.shed));
  {
    DiscardReceiver discard;
    const Result dropped = runSession(events, 0, nullptr, discard.port());
    std::printf("%-28s %14.0f %14.2f %16s %6llu\n", "syslog+tcp to a discarder", events / dropped.emit_seconds,
                dropped.close_seconds, "-", static_cast<unsigned long long>(dropped.shed));
  }
  const Result with = runSession(events, 0, rsyslog.get());
  std::printf("%-28s %14.0f %14.2f %16.0f %6llu\n", "syslog+tcp to rsyslog", events / with.emit_seconds,
              with.close_seconds, static_cast<double>(with.sequences) / with.arrive_seconds,
              static_cast<unsigned long long>(with.shed));

  {
    // HTTPS NDJSON batches to a real nginx on loopback (it logs each body: tests/support/nginx.h).
    const auto dir = std::filesystem::temp_directory_path() / ("warden-export-bench-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const warden::testing::NginxServer::Tls tls{dir / "cert.pem", dir / "key.pem"};
    std::string nginx_why;
    std::unique_ptr<warden::testing::NginxServer> nginx;
    if (warden::testing::makeSelfSignedCertificate(tls.certificate, tls.key)) {
      nginx = warden::testing::NginxServer::start(&nginx_why, &tls);
    }
    if (nginx) {
      const std::string url = "https://127.0.0.1:" + std::to_string(nginx->port()) + "/ingest/bench?ca=" +
                              tls.certificate.string();
      const Result h = runSession(events, 0, nullptr, 0, url);
      std::printf("%-28s %14.0f %14.2f %16.0f %6llu\n", "https NDJSON to nginx", events / h.emit_seconds,
                  h.close_seconds, static_cast<double>(h.sequences) / h.arrive_seconds,
                  static_cast<unsigned long long>(h.shed));
    } else {
      std::printf("%-28s skipped: %s\n", "https NDJSON to nginx", nginx_why.c_str());
    }
    nginx.reset();
    std::filesystem::remove_all(dir);
  }

  std::printf("\n== event-to-rsyslog latency (ms; target p99 < 1000)\n");
  // messages: what rsyslog received (the events written: identical denials are coalesced).
  std::printf("%-14s %10s %8s %8s %8s %8s\n", "rate", "messages", "p50", "p99", "max", "shed");
  for (const auto& [rate, seconds] : {std::pair{1000.0, 5.0}, std::pair{50000.0, 4.0}}) {
    const Result r = runSession(static_cast<uint64_t>(rate * seconds), rate, rsyslog.get());
    std::printf("%-14.0f %10zu %8.1f %8.1f %8.1f %8llu\n", rate, r.latency_ms.size(), quantile(r.latency_ms, 0.50),
                quantile(r.latency_ms, 0.99), r.latency_ms.empty() ? 0.0 : r.latency_ms.back(),
                static_cast<unsigned long long>(r.shed));
  }
  return 0;
}
