// The kernel capture names the client of a proxy or DNS connection that /proc can no longer show
// (docs/capture.md "Attribution"): the real eBPF capture on a cgroup of the test's own, the real
// proxy Server and DnsResolver on loopback, real curl and dig as clients, and the session's own hook
// (sandbox::captureAttribution). /proc is made to miss deterministically, not by racing an exit:
// caller identity reads the procfs of a pid namespace the clients are not in — what a sandbox's
// lookup sees once its client is gone — while the socket tables are this host's (the same network
// namespace), so the lookup finds the socket and no holder: NotFound, as for a client that exited.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "capture/ebpf/ebpf_source.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"
#include "policy/loader.h"
#include "policy/snapshot.h"
#include "proxy/caller_identity.h"
#include "proxy/server/connection_caller.h"
#include "proxy/server/dns_resolver.h"
#include "proxy/server/server.h"
#include "sandbox/session_attribution.h"
#include "support/capture_fixture.h"
#include "support/child_process.h"
#include "support/collecting_emitter.h"
#include "support/raw_upstream.h"
#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using capture::testing::schemaProblems;
using capture::testing::spawnIn;
using capture::testing::TestCgroup;
using capture::testing::waitChild;

class CaptureAttributionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF programs, a cgroup, a pid namespace)";
    curl_ = realExecutable("curl");
    dig_ = realExecutable("dig");
    if (curl_.empty() || dig_.empty()) GTEST_SKIP() << "curl and dig are needed (Debian: curl, bind9-dnsutils)";
    auto cg = TestCgroup::create();
    if (!cg) GTEST_SKIP() << "no cgroup v2 mount to make a test cgroup under";
    cgroup_.emplace(std::move(*cg));
    capture::CaptureOptions o;
    o.cgroup_path = cgroup_->path();
    o.file_writes = false;  // connects are recorded with the processes
    o.home = dir_.path().string();
    ctx_ = ocsf::sampleContext();
    auto source = capture::EbpfSource::create(o, capture_events_, ctx_, table_);
    if (!source.ok()) GTEST_SKIP() << "eBPF capture unavailable: " << source.error().message();
    source_ = std::move(*source);
    ASSERT_TRUE(source_->start().ok());
    // A procfs that holds none of the clients: a pid namespace of its own, with its own /proc.
    std::string why;
    view_ = ChildProcess::start(
        {.argv = {"unshare", "--pid", "--mount-proc", "--kill-child", "sh", "-c", "echo ready; exec cat"}}, &why);
    ASSERT_TRUE(view_) << why;
    ASSERT_NE(view_->waitForLine("ready"), "") << view_->output();
  }

  void TearDown() override {
    server_.reset();
    dns_.reset();
    if (source_) source_->stop();
    // unshare ignores SIGTERM while it waits for its child; SIGKILL takes the namespace's init with it
    // (--kill-child).
    if (view_) view_->signalAndWait(SIGKILL, std::chrono::seconds(10));
  }

  // Caller identity through the pid namespace's procfs (`blind`) or this host's /proc.
  std::shared_ptr<proxy::CallerIdentityResolver> identities(bool blind) {
    proxy::CallerLookupOptions lo;
    if (blind) {
      lo.proc_root = "/proc/" + std::to_string(view_->pid()) + "/root/proc";
      lo.net_pid = "1";
    }
    lo.use_sock_diag = false;
    auto ids = proxy::CallerIdentityResolver::create(lo);
    EXPECT_TRUE(ids.ok()) << ids.error().toString();
    return ids.ok() ? std::shared_ptr<proxy::CallerIdentityResolver>(std::move(ids).value()) : nullptr;
  }

  proxy::CaptureAttribution hook() { return sandbox::captureAttribution(table_, std::chrono::seconds(5)); }

  void loadPolicy(const std::string& yaml) {
    const auto path = dir_ / "policy.yaml";
    writeFile(path, yaml);
    auto loaded = policy::loadPolicyFile(path);
    ASSERT_TRUE(loaded.ok()) << loaded.error().toString();
    store_ = std::make_unique<policy::PolicyStore>(std::make_shared<const policy::Policy>(std::move(loaded).value()));
  }

  void startProxy(bool blind, bool with_capture) {
    proxy::ServerOptions o;
    o.listen_address = "127.0.0.1";
    o.listen_port = 0;
    o.threads = 1;
    o.targets.allow_loopback_upstream = true;
    auto server = proxy::Server::create(o, *store_, events_, ctx_,
                                        proxy::makeProcCallerLookup(identities(blind),
                                                                    with_capture ? hook() : proxy::CaptureAttribution{}));
    ASSERT_TRUE(server.ok()) << server.error().toString();
    server_ = std::move(server).value();
    server_->start();
  }

  void startResolver(bool with_capture) {
    proxy::DnsResolverOptions o;
    o.listen_address = "127.0.0.1";
    o.listen_port = 0;
    o.upstreams = {"127.0.0.1:9"};  // never asked: the policy allows no name
    o.caller_lookup_timeout = std::chrono::seconds(10);
    auto dns = proxy::DnsResolver::create(
        o, events_, ctx_,
        proxy::makeDnsCallerLookup(identities(true), with_capture ? hook() : proxy::CaptureAttribution{}),
        store_.get());
    ASSERT_TRUE(dns.ok()) << dns.error().toString();
    dns_ = std::move(dns).value();
    dns_->start();
  }

  // Runs `argv` in the test cgroup and returns the pid the kernel gave the program `exe` it ran
  // (the capture's PROC:LAUNCH), or 0.
  int64_t runInSession(const std::vector<std::string>& argv, const std::string& exe, int* exit_code = nullptr) {
    const pid_t pid = spawnIn(cgroup_->path(), argv, dir_.path().string());
    const int status = waitChild(pid);
    if (exit_code != nullptr) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int64_t launched = 0;
    waitFor([&] {
      for (const auto& e : capture_events_.events()) {
        if (e.kind == ocsf::Kind::kProc && e.activity_id == 1 && e.process && e.process->file &&
            e.process->file->path == exe && e.status != ocsf::Status::kFailure) {
          launched = e.process->pid.value_or(0);
        }
      }
      return launched != 0;
    });
    return launched;
  }

  // The first event of `kind` and `activity` the proxy or the resolver recorded, waiting for it;
  // nullopt when none came.
  std::optional<ocsf::Event> eventOf(ocsf::Kind kind, int activity) {
    std::optional<ocsf::Event> found;
    waitFor([&] {
      for (const auto& e : events_.events()) {
        if (e.kind == kind && e.activity_id == activity) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  static std::string actorSource(const ocsf::Event& e) {
    const ocsf::Value* v = e.unmapped.find("actor_source");
    return v != nullptr && v->isString() ? v->asString() : std::string();
  }

  std::string curlPolicy(uint16_t upstream_port) const {
    return "version: 1\nnetwork:\n  curl_only:\n    endpoints:\n      - { host: 127.0.0.1, ports: [" +
           std::to_string(upstream_port) + "], allowed_ips: [127.0.0.1/32] }\n    binaries: [ { path: " + curl_ +
           " } ]\n";
  }

  std::vector<std::string> curlThroughProxy(uint16_t upstream_port, const std::string& out) const {
    return {"/bin/sh", "-c",
            curl_ + " -sS -o /dev/null -w '%{http_code}' -x http://127.0.0.1:" +
                std::to_string(server_->localEndpoint().port()) + " http://127.0.0.1:" + std::to_string(upstream_port) +
                "/ > " + out};
  }

  TempDir dir_;
  std::string curl_;
  std::string dig_;
  std::optional<TestCgroup> cgroup_;
  ocsf::SessionContext ctx_;
  CollectingEmitter capture_events_;
  CollectingEmitter events_;  // the proxy's and the resolver's
  std::shared_ptr<capture::ProcessTable> table_ = std::make_shared<capture::ProcessTable>();
  std::unique_ptr<capture::EbpfSource> source_;
  std::unique_ptr<ChildProcess> view_;
  std::unique_ptr<policy::PolicyStore> store_;
  std::unique_ptr<proxy::Server> server_;
  std::unique_ptr<proxy::DnsResolver> dns_;
};

TEST_F(CaptureAttributionTest, TheProxyNamesACallerProcCannotShowFromTheCaptureAndABinaryRuleStillDeniesIt) {
  RawUpstream upstream({.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"});
  loadPolicy(curlPolicy(upstream.port()));
  startProxy(/*blind=*/true, /*with_capture=*/true);
  const auto out = dir_ / "code";
  const int64_t curl_pid = runInSession(curlThroughProxy(upstream.port(), out.string()), curl_);
  ASSERT_NE(curl_pid, 0) << "the capture did not record curl's exec";

  // Denied: the rule allows curl by its executable, and a caller named by the capture has none.
  EXPECT_EQ(readFile(out), "403");
  EXPECT_EQ(upstream.connections(), 0);
  const auto open = eventOf(ocsf::Kind::kNet, 1);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->action, ocsf::Action::kDenied);
  EXPECT_NE(open->status_detail.find("<unknown>"), std::string::npos) << open->status_detail;
  // ...and still recorded as curl, by the pid the kernel gave it, marked as named by the capture.
  ASSERT_TRUE(open->actor);
  EXPECT_EQ(open->actor->pid, curl_pid);
  EXPECT_EQ(open->actor->name, "curl");
  ASSERT_TRUE(open->actor->file);
  EXPECT_EQ(open->actor->file->path, curl_);
  EXPECT_EQ(actorSource(*open), "kernel capture");
  // Every event of the connection carries it (NET:CLOSE too), and all of them validate.
  const auto close = eventOf(ocsf::Kind::kNet, 2);
  ASSERT_TRUE(close);
  EXPECT_EQ(actorSource(*close), "kernel capture");
  EXPECT_EQ(schemaProblems(events_.events()), "");
}

TEST_F(CaptureAttributionTest, TheSameCallerSeenInProcIsIdentifiedAndAllowedWithoutTheMarker) {
  RawUpstream upstream({.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"});
  loadPolicy(curlPolicy(upstream.port()));
  startProxy(/*blind=*/false, /*with_capture=*/true);
  const auto out = dir_ / "code";
  const int64_t curl_pid = runInSession(curlThroughProxy(upstream.port(), out.string()), curl_);
  ASSERT_NE(curl_pid, 0);
  EXPECT_EQ(readFile(out), "200");
  const auto open = eventOf(ocsf::Kind::kNet, 1);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->action, ocsf::Action::kAllowed);
  ASSERT_TRUE(open->actor);
  EXPECT_EQ(open->actor->pid, curl_pid);
  EXPECT_EQ(actorSource(*open), "");
  EXPECT_EQ(schemaProblems(events_.events()), "");
}

TEST_F(CaptureAttributionTest, TheResolverNamesAUdpAndATcpClientProcCannotShowFromTheCapture) {
  loadPolicy("version: 1\n");
  startResolver(/*with_capture=*/true);
  const std::string port = std::to_string(dns_->udpPort());
  int code = -1;
  const int64_t udp_pid = runInSession({dig_, "-p", port, "@127.0.0.1", "+tries=1", "+timeout=5", "udp.attrib.example"},
                                       dig_, &code);
  ASSERT_NE(udp_pid, 0);
  EXPECT_EQ(code, 0);
  const std::string tcp_port = std::to_string(dns_->tcpPort());
  const int64_t tcp_pid = runInSession(
      {dig_, "+tcp", "-p", tcp_port, "@127.0.0.1", "+tries=1", "+timeout=5", "tcp.attrib.example"}, dig_, &code);
  ASSERT_NE(tcp_pid, 0);
  EXPECT_EQ(code, 0);
  std::vector<ocsf::Event> queries;
  waitFor([&] {
    queries.clear();
    for (const auto& e : events_.events()) {
      if (e.kind == ocsf::Kind::kDns) queries.push_back(e);
    }
    return queries.size() >= 2;
  });
  ASSERT_EQ(queries.size(), 2u);
  for (const auto& q : queries) {
    ASSERT_TRUE(q.query);
    ASSERT_TRUE(q.actor) << q.query->hostname;
    EXPECT_EQ(q.actor->pid, q.query->hostname.starts_with("udp.") ? udp_pid : tcp_pid) << q.query->hostname;
    EXPECT_EQ(q.actor->name, "dig");
    EXPECT_EQ(actorSource(q), "kernel capture");
  }
  EXPECT_EQ(schemaProblems(events_.events()), "");
}

TEST_F(CaptureAttributionTest, WithoutTheCaptureTheQueryOfACallerProcCannotShowHasNoActor) {
  // The control: the same blind lookup and no hook. The miss above is real, not a lookup that worked.
  loadPolicy("version: 1\n");
  startResolver(/*with_capture=*/false);
  int code = -1;
  ASSERT_NE(runInSession({dig_, "-p", std::to_string(dns_->udpPort()), "@127.0.0.1", "+tries=1", "+timeout=5",
                          "nobody.attrib.example"},
                         dig_, &code),
            0);
  EXPECT_EQ(code, 0);
  const auto query = eventOf(ocsf::Kind::kDns, 1);
  ASSERT_TRUE(query);
  EXPECT_FALSE(query->actor && query->actor->pid) << ocsf::toShorthand(*query);
  EXPECT_EQ(actorSource(*query), "");
}

// A live `warden run`: the supervisor is stopped (SIGSTOP) while the agent's clients talk to it, so
// that they have given up, exited and been reaped before the proxy and the resolver look them up —
// the situation attribution is for, made deterministic: the agent waits on a FIFO until the
// supervisor is stopped and reports on another once its clients are gone; only then is the
// supervisor continued.
class RunAttribution : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = sandboxUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    if (realExecutable("dig").empty() || realExecutable("curl").empty()) GTEST_SKIP() << "curl and dig are needed";
  }

  // Opens `fifo` without blocking forever: for writing once a reader has it open, for reading at once.
  static int openFifo(const std::filesystem::path& fifo, int flags) {
    int fd = -1;
    waitFor([&] {
      fd = ::open(fifo.c_str(), flags | O_NONBLOCK | O_CLOEXEC);
      return fd >= 0;
    }, std::chrono::seconds(60));
    return fd;
  }

  // Whether every thread of `pid` is stopped (state T): a SIGSTOP takes effect as each thread next
  // enters the kernel, not when kill() returns.
  static bool allThreadsStopped(pid_t pid) {
    std::error_code ec;
    size_t threads = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
      const std::string stat = readFile(task.path() / "stat");  // "" for a thread that just ended: not yet
      const size_t paren = stat.rfind(") ");
      if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'T') return false;
      ++threads;
    }
    return !ec && threads > 0;
  }

  static std::vector<nlohmann::json> jsonLines(const std::filesystem::path& path) {
    std::vector<nlohmann::json> out;
    std::istringstream lines(readFile(path));
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
    return out;
  }

  TempDir tmp_;
  Workspace ws_;
};

TEST_F(RunAttribution, ClientsGoneBeforeTheirLookupAreNamedByTheCaptureAndABinaryRuleStillDeniesThem) {
  std::string why;
  auto upstream = UpstreamHost::create(&why);
  ASSERT_TRUE(upstream) << why;
  const std::string url = "http://" + upstream->ip() + ":8080/status.json";
  const auto policy = tmp_ / "policy.yaml";
  writeFile(policy, "version: 1\nfilesystem:\n  read_only: [/usr, /lib, /lib64, /bin, /sbin, /etc]\n"
                    "  read_write: [" + ws_.path().string() + ", /tmp]\nnetwork:\n  local_api:\n    endpoints:\n"
                    "      - { host: \"" + upstream->ip() + "\", ports: [8080], allowed_ips: [" + upstream->ip() +
                    "/32] }\n    binaries: [ { path: /usr/bin/curl } ]\n");
  const auto go = ws_ / "go";
  const auto gone = ws_ / "gone";
  for (const auto& fifo : {go, gone}) {
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << fifo;
    ASSERT_EQ(::chown(fifo.c_str(), kAgentUid, kAgentUid), 0);
  }
  const std::string script =
      "cat go > /dev/null; "
      "dig +tries=1 +timeout=1 gone.attrib.example > /dev/null 2>&1; echo dig=$?; "
      "curl -sS -m 2 -o /dev/null " + url + " 2>/dev/null; echo curl=$?; "
      "echo gone > gone; "
      "curl -sS -m 20 -o /dev/null -w 'control=%{http_code}\\n' " + url;
  const auto log_dir = tmp_ / "log";
  auto warden = ChildProcess::start({.argv = {wardenBinary().string(), "run", "--log-dir", log_dir.string(),
                                              "--ocsf-json", "--policy", policy.string(), "--", "sh", "-c", script},
                                     .working_directory = ws_.path()},
                                    &why);
  ASSERT_TRUE(warden) << why;

  // The agent is waiting on `go`: stop the supervisor (its proxy, resolver and capture reader), then
  // let the agent's clients run.
  const int go_fd = openFifo(go, O_WRONLY);
  ASSERT_GE(go_fd, 0) << "the agent never opened the FIFO: " << warden->output();
  ASSERT_EQ(::kill(warden->pid(), SIGSTOP), 0);
  const bool stopped = waitFor([&] { return allThreadsStopped(warden->pid()); }, std::chrono::seconds(30));
  if (!stopped) ::kill(warden->pid(), SIGCONT);
  ASSERT_TRUE(stopped) << "the supervisor did not stop";
  ::close(go_fd);
  // Once dig and the first curl have given up and exited, the agent says so.
  const int gone_fd = openFifo(gone, O_RDONLY);
  ASSERT_GE(gone_fd, 0);
  pollfd p{gone_fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, 60'000);
  char buf[16] = {};
  const ssize_t n = ready > 0 ? ::read(gone_fd, buf, sizeof buf - 1) : -1;
  ::close(gone_fd);
  ::kill(warden->pid(), SIGCONT);
  ASSERT_GT(n, 0) << "the agent's clients did not finish";
  EXPECT_EQ(warden->signalAndWait(0, std::chrono::seconds(60)), 0) << warden->output();
  EXPECT_NE(warden->output().find("dig=9"), std::string::npos) << warden->output();   // no answer
  EXPECT_NE(warden->output().find("curl=28"), std::string::npos) << warden->output();  // timed out
  EXPECT_NE(warden->output().find("control=200"), std::string::npos) << warden->output();

  const auto events = jsonLines(log_dir / "warden-ocsf.log");
  std::set<int64_t> dig_pids;
  std::vector<int64_t> curl_pids;
  for (const auto& e : events) {
    if (e.value("class_uid", 0) != 1007 || e.value("activity_id", 0) != 1) continue;
    const std::string path = e["process"]["file"].value("path", "");
    if (path.ends_with("/dig")) dig_pids.insert(e["process"].value("pid", 0));
    if (path == "/usr/bin/curl") curl_pids.push_back(e["process"].value("pid", 0));
  }
  ASSERT_EQ(dig_pids.size(), 1u);
  ASSERT_EQ(curl_pids.size(), 2u);
  bool dig_named = false;
  bool curl_named_and_denied = false;
  bool control_allowed = false;
  for (const auto& e : events) {
    if (!e.contains("actor") || !e["actor"].contains("process")) continue;
    const auto& actor = e["actor"]["process"];
    const std::string source = e.contains("unmapped") ? e["unmapped"].value("actor_source", "") : "";
    const int64_t pid = actor.value("pid", 0);
    if (e.value("class_uid", 0) == 4003) {
      EXPECT_EQ(source, "kernel capture") << e.dump();
      EXPECT_EQ(actor.value("name", ""), "dig") << e.dump();
      EXPECT_TRUE(dig_pids.contains(pid)) << e.dump();
      dig_named = true;
    }
    if (e.value("class_uid", 0) == 4001 && e.value("activity_id", 0) == 1 && pid == curl_pids[0]) {
      EXPECT_EQ(source, "kernel capture") << e.dump();
      EXPECT_EQ(actor.value("name", ""), "curl") << e.dump();
      EXPECT_EQ(e.value("action", ""), "Denied") << e.dump();
      curl_named_and_denied = true;
    }
    if (e.value("class_uid", 0) == 4001 && e.value("activity_id", 0) == 1 && pid == curl_pids[1]) {
      EXPECT_EQ(source, "") << e.dump();
      EXPECT_EQ(e.value("action", ""), "Allowed") << e.dump();
      control_allowed = true;
    }
  }
  EXPECT_TRUE(dig_named) << readFile(log_dir / "warden.log");
  EXPECT_TRUE(curl_named_and_denied) << readFile(log_dir / "warden.log");
  EXPECT_TRUE(control_allowed) << readFile(log_dir / "warden.log");
  const auto verify = runCommand(wardenBinary().string() + " audit verify " + (log_dir / "warden-ocsf.log").string() + " 2>&1");
  EXPECT_EQ(verify.status, 0) << verify.output;
  const auto validate =
      runCommand(wardenBinary().string() + " ocsf validate --strict " + (log_dir / "warden-ocsf.log").string() + " 2>&1");
  EXPECT_EQ(validate.status, 0) << validate.output;
}

}  // namespace
}  // namespace warden::testing
