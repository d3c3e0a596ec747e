// The kernel capture's cost and capacity (issue 13), on the real kernel; needs root.
//
//   capture_bench [--rounds N]
//   capture_bench --attribution [--rounds N]   (section 3 only)
//
// 1. Overhead: the same workloads with the eBPF capture's programs detached (off) and attached (on),
//    alternating every batch over N rounds (default 31), medians per operation:
//      fork+exec   batches of 40 x fork + exec /bin/true + wait
//      file write  batches of 300 x open(O_CREAT|O_TRUNC) + write 4 KiB + close, a new file each
//      open+close  batches of 10,000 x open(O_RDONLY) + close of an ordinary (non-sensitive) file
//    each run by a process outside the session cgroup, then by one inside it.
// 2. Capacity: file creates paced at rising rates for 2 s each into the default 16 MiB ring; the
//    first rate whose kernel drop counter moved is where loss starts; the reader's CPU (this process's
//    CPU time: it runs only the reader) per rate.
// 3. Attribution (docs/capture.md "Attribution"): UDP connect(2)+close in batches of 2,000, programs
//    detached vs attached, alternating over N rounds (both connect records: the attempt at sys_enter,
//    the connected socket's ends at sys_exit); then the latency of ProcessTable::bySource for a client
//    that connected and exited just before (the lookup asks the reader for a pass and waits for it)
//    and for a source nobody connected from (a true miss: answered after that pass, not at the 200 ms
//    bound), 300 of each, median and 99th percentile.
// Figures and the command go into BENCHMARKS.md ("Kernel capture"; attribution under its own heading).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "audit/emitter.h"
#include "capture/ebpf/ebpf_source.h"
#include "common/clock.h"
#include "ocsf/samples.h"

namespace {

using namespace warden;

// Counts events; the bench measures the capture, not the audit writer.
class CountingEmitter final : public audit::Emitter {
 public:
  void emit(ocsf::Event&&) override { ++events; }
  void operational(audit::Level, std::string_view, std::string_view) override {}
  std::atomic<uint64_t> events{0};
};

std::string cgroup2Mount() {
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream in(line.substr(0, dash));
    std::string id, parent, devno, root, point;
    in >> id >> parent >> devno >> root >> point;
    return point;
  }
  return {};
}

double nowSec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double cpuSec() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `body` in a child (joining `cgroup` first when given); returns the child's wall seconds for
// body (measured inside the child and passed back through a pipe).
double inChild(const std::string& cgroup, const std::function<void()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (!cgroup.empty()) {
      const int fd = open((cgroup + "/cgroup.procs").c_str(), O_WRONLY);
      const std::string me = std::to_string(getpid());
      if (fd < 0 || write(fd, me.data(), me.size()) < 0) _exit(1);
      close(fd);
    }
    const double t0 = nowSec();
    body();
    const double dt = nowSec() - t0;
    if (write(fds[1], &dt, sizeof dt) < 0) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  double dt = -1;
  if (read(fds[0], &dt, sizeof dt) != sizeof dt) dt = -1;
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return dt;
}

void forkExec(int n) {
  for (int i = 0; i < n; ++i) {
    const pid_t c = fork();
    if (c == 0) {
      execl("/bin/true", "true", static_cast<char*>(nullptr));
      _exit(127);
    }
    int st = 0;
    waitpid(c, &st, 0);
  }
}

void fileWrites(const std::string& dir, int n) {
  char block[4096];
  std::memset(block, 'x', sizeof block);
  for (int i = 0; i < n; ++i) {
    const std::string p = dir + "/w" + std::to_string(i);
    const int fd = open(p.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (write(fd, block, sizeof block) < 0) {
    }
    close(fd);
  }
}

void openClose(const std::string& file, int n) {
  for (int i = 0; i < n; ++i) {
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) close(fd);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Workload {
  const char* name;
  int ops;
  std::function<void()> run;
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// A UDP socket connected to 127.0.0.1:`port`, closed at once; the local port the connect bound.
int udpConnect(uint16_t port) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int local = 0;
  if (connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    sockaddr_in me{};
    socklen_t len = sizeof me;
    if (getsockname(s, reinterpret_cast<sockaddr*>(&me), &len) == 0) local = ntohs(me.sin_port);
  }
  close(s);
  return local;
}

// Section 3 (see the top).
int attribution(const std::string& cg, const capture::CaptureOptions& options, const ocsf::SessionContext& ctx,
                int rounds) {
  CountingEmitter emitter;
  auto table = std::make_shared<capture::ProcessTable>();
  auto s = capture::EbpfSource::create(options, emitter, ctx, table);
  if (!s.ok()) {
    std::printf("capture_bench: eBPF unavailable: %s\n", s.error().message().c_str());
    return 1;
  }
  auto src = std::move(*s);
  if (!src->start().ok()) return 1;
  constexpr int kBatch = 2000;
  // [workload][detached, attached]: the same syscalls without the connect (what the raw syscall
  // tracepoints cost any syscall of the session), then with it (plus the two connect records).
  std::vector<Workload> workloads = {
      {"UDP socket+close", kBatch,
       [] {
         for (int i = 0; i < kBatch; ++i) close(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
       }},
      {"UDP socket+connect+close", kBatch,
       [] {
         for (int i = 0; i < kBatch; ++i) udpConnect(9);
       }},
  };
  std::vector<std::vector<std::vector<double>>> t(workloads.size(), std::vector<std::vector<double>>(2));
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      const int attached = (r + k) % 2;
      if (!src->setAttached(attached != 0).ok()) return 1;
      for (size_t w = 0; w < workloads.size(); ++w) {
        t[w][attached].push_back(inChild(cg, workloads[w].run) / workloads[w].ops);
      }
    }
  }
  if (!src->setAttached(true).ok()) return 1;
  std::printf("\n%-28s %14s %14s %14s\n", "workload", "off us/op", "on us/op", "on - off us");
  double deltas[2] = {0, 0};
  for (size_t w = 0; w < workloads.size(); ++w) {
    const double off_us = median(t[w][0]) * 1e6;
    const double on_us = median(t[w][1]) * 1e6;
    deltas[w] = on_us - off_us;
    std::printf("%-28s %14.2f %14.2f %14.2f\n", workloads[w].name, off_us, on_us, on_us - off_us);
  }
  std::printf("the connect's own capture cost (both records): %.2f us\n", deltas[1] - deltas[0]);

  constexpr int kLookups = 300;
  std::vector<double> hit_us;
  std::vector<double> miss_us;
  int found = 0;
  int wrong = 0;
  for (int i = 0; i < kLookups; ++i) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      const int fd = open((cg + "/cgroup.procs").c_str(), O_WRONLY);
      const std::string me = std::to_string(getpid());
      if (fd < 0 || write(fd, me.data(), me.size()) < 0) _exit(1);
      close(fd);
      const int local = udpConnect(53);
      _exit(write(fds[1], &local, sizeof local) == sizeof local ? 0 : 1);
    }
    close(fds[1]);
    int local = 0;
    if (read(fds[0], &local, sizeof local) != sizeof local) local = 0;
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);  // gone and reaped: what the proxy's /proc lookup could not see
    const capture::ProcessTable::SocketEnds ends{capture::ProcessTable::Protocol::kUdp, "127.0.0.1", local,
                                                 "127.0.0.1", 53};
    double t0 = nowSec();
    const auto who = table->bySource(ends, SystemClock::instance().nowMillis(), std::chrono::milliseconds(200));
    hit_us.push_back((nowSec() - t0) * 1e6);
    if (who && who->pid == pid) {
      ++found;
    } else if (who) {
      ++wrong;
    }
    capture::ProcessTable::SocketEnds nobody = ends;
    nobody.remote_port = 54;
    t0 = nowSec();
    (void)table->bySource(nobody, SystemClock::instance().nowMillis(), std::chrono::milliseconds(200));
    miss_us.push_back((nowSec() - t0) * 1e6);
  }
  src->stop();
  std::printf("\n%-44s %10s %10s %10s\n", "bySource after the client exited", "median us", "p99 us", "found");
  std::printf("%-44s %10.1f %10.1f %6d/%d%s\n", "a client that connected (UDP), exited, reaped", percentile(hit_us, 0.5),
              percentile(hit_us, 0.99), found, kLookups, wrong > 0 ? " (some named the wrong pid)" : "");
  std::printf("%-44s %10.1f %10.1f %10s\n", "a source nobody connected from", percentile(miss_us, 0.5),
              percentile(miss_us, 0.99), "-");
  return found == kLookups ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 31;
  bool only_attribution = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--attribution") == 0) only_attribution = true;
  }
  if (geteuid() != 0) {
    std::puts("capture_bench: skipped (needs root)");
    return 0;
  }
  const std::string mount = cgroup2Mount();
  if (mount.empty()) {
    std::puts("capture_bench: skipped (no cgroup v2 mount)");
    return 0;
  }
  // Not "warden-...": `warden run` sweeps leftover cgroups of that name (sandbox/cgroup_cleanup.cc).
  const std::string cg = mount + "/capture-bench-" + std::to_string(getpid());
  mkdir(cg.c_str(), 0755);
  const std::string dir = std::filesystem::exists("/dev/shm") ? "/dev/shm/warden-capture-bench" : "/tmp/warden-capture-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/w");
  const std::string plain = dir + "/plain.txt";
  std::ofstream(plain) << "ordinary\n";

  capture::CaptureOptions options;
  options.cgroup_path = cg;
  options.home = "/root";
  const ocsf::SessionContext ctx = ocsf::sampleContext();

  if (only_attribution) {
    std::printf("machine: %ld cores, load ", sysconf(_SC_NPROCESSORS_ONLN));
    std::ifstream load("/proc/loadavg");
    std::string a, b, c;
    load >> a >> b >> c;
    std::printf("%s %s %s\n", a.c_str(), b.c_str(), c.c_str());
    const int rc = attribution(cg, options, ctx, rounds);
    std::filesystem::remove_all(dir);
    rmdir(cg.c_str());
    return rc;
  }
  // Batches, so that capture on and off alternate every second or so (the machine's load drifts).
  std::vector<Workload> workloads = {
      {"fork+exec", 40, [] { forkExec(40); }},
      {"file write 4 KiB", 300, [&] { fileWrites(dir + "/w", 300); }},
      {"open+close", 10000, [&] { openClose(plain, 10000); }},
  };
  // [workload][config]: config 0 off/inside, 1 on/inside, 2 on/outside, 3 off/outside
  std::vector<std::vector<std::vector<double>>> t(workloads.size(), std::vector<std::vector<double>>(4));
  std::printf("machine: %ld cores, load %s", sysconf(_SC_NPROCESSORS_ONLN), [] {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    static std::string s;
    s = a + " " + b + " " + c + "\n";
    return s.c_str();
  }());
  {
    // One source for the whole comparison; "off" = its programs detached (they then cost nothing).
    CountingEmitter emitter;
    auto s = capture::EbpfSource::create(options, emitter, ctx, nullptr);
    if (!s.ok()) {
      std::printf("capture_bench: eBPF unavailable: %s\n", s.error().message().c_str());
      return 1;
    }
    auto src = std::move(*s);
    if (!src->start().ok()) return 1;
    // Waits until the reader has nothing left (its events stop growing), so one batch's backlog
    // does not compete with the next batch for the CPU.
    auto quiet = [&emitter] {
      for (;;) {
        const uint64_t n = emitter.events.load();
        usleep(3000);
        if (emitter.events.load() == n) return;
      }
    };
    for (int r = 0; r < rounds; ++r) {
      for (int k = 0; k < 2; ++k) {
        const int on = (r + k) % 2;  // off,on then on,off: neither always goes first
        if (!src->setAttached(on != 0).ok()) return 1;
        for (size_t w = 0; w < workloads.size(); ++w) {
          t[w][on ? 2 : 3].push_back(inChild("", workloads[w].run) / workloads[w].ops);
          t[w][on ? 1 : 0].push_back(inChild(cg, workloads[w].run) / workloads[w].ops);
          quiet();
        }
      }
    }
    if (!src->setAttached(true).ok()) return 1;
    src->stop();
  }
  std::printf("\n%-18s %14s %14s %9s %14s %14s %9s\n", "workload", "off,in us/op", "on,in us/op", "delta", "off,out us/op",
              "on,out us/op", "delta");
  for (size_t w = 0; w < workloads.size(); ++w) {
    const double off_in = median(t[w][0]) * 1e6;
    const double on_in = median(t[w][1]) * 1e6;
    const double off_out = median(t[w][3]) * 1e6;
    const double on_out = median(t[w][2]) * 1e6;
    std::printf("%-18s %14.2f %14.2f %8.1f%% %14.2f %14.2f %8.1f%%\n", workloads[w].name, off_in, on_in,
                100.0 * (on_in - off_in) / off_in, off_out, on_out, 100.0 * (on_out - off_out) / off_out);
  }

  // Capacity: paced creates at rising rates into the default ring.
  std::printf("\n%-14s %14s %12s %12s %12s\n", "target ev/s", "achieved ev/s", "recorded", "dropped", "reader CPU");
  for (int rate : {5000, 20000, 50000, 100000, 200000, 400000}) {
    CountingEmitter emitter;
    auto s = capture::EbpfSource::create(options, emitter, ctx, nullptr);
    if (!s.ok()) {
      std::printf("capture_bench: %s\n", s.error().message().c_str());
      return 1;
    }
    auto src = std::move(*s);
    if (!src->start().ok()) return 1;
    std::filesystem::remove_all(dir + "/c");
    std::filesystem::create_directories(dir + "/c");
    const double seconds = 2.0;
    const double c0 = cpuSec();
    const double w0 = nowSec();
    int made = 0;
    const double dt = inChild(cg, [&] {
      const double start = nowSec();
      for (int i = 0;; ++i) {
        const double due = start + i / static_cast<double>(rate);
        while (nowSec() < due) {
        }
        if (due - start >= seconds) break;
        const int fd = open((dir + "/c/" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
      }
    });
    made = static_cast<int>(rate * seconds);
    src->stop();
    const double wall = nowSec() - w0;
    const double cpu = cpuSec() - c0;
    const auto acc = src->accounts();
    const auto& file = acc[static_cast<size_t>(capture::RecordKind::kFile)];
    std::printf("%-14d %14.0f %12llu %12llu %11.1f%%\n", rate, made / dt, static_cast<unsigned long long>(file.recorded),
                static_cast<unsigned long long>(file.dropped), 100.0 * cpu / wall);
  }
  // A package-install-like burst: copy a whole Python standard library (thousands of creates and
  // writes, then a recursive delete), as pip or npm unpacking does, into the default ring.
  {
    CountingEmitter emitter;
    auto s = capture::EbpfSource::create(options, emitter, ctx, nullptr);
    if (!s.ok()) return 1;
    auto src = std::move(*s);
    if (!src->start().ok()) return 1;
    const std::string dest = dir + "/site";
    const double dt = inChild(cg, [&] {
      const pid_t c = fork();
      if (c == 0) {
        execl("/bin/sh", "sh", "-c", ("mkdir -p " + dest + " && cp -r /usr/lib/python3* " + dest + "/ && rm -rf " + dest).c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
      }
      int st = 0;
      waitpid(c, &st, 0);
    });
    src->stop();
    const auto acc = src->accounts();
    const auto& file = acc[static_cast<size_t>(capture::RecordKind::kFile)];
    std::printf("\ncp -r /usr/lib/python3* + rm -rf (package-install burst): %.2f s, %llu file records recorded, "
                "%llu dropped, %.0f records/s\n",
                dt, static_cast<unsigned long long>(file.recorded), static_cast<unsigned long long>(file.dropped),
                static_cast<double>(file.recorded + file.dropped) / dt);
  }
  std::filesystem::remove_all(dir);
  rmdir(cg.c_str());
  return 0;
}
