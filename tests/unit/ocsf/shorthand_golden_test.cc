// Every example line of events.md's Shorthand block, built with the real builders and compared
// byte for byte with tests/golden/shorthand/events_md.txt (a verbatim copy of that block).

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ocsf/builders.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"
#include "support/test_env.h"

namespace warden::ocsf {
namespace {

constexpr int64_t kTime = 1763900000123;

Process proc(std::string name, int64_t pid) {
  Process p;
  p.name = std::move(name);
  p.pid = pid;
  return p;
}

Endpoint host(std::string hostname, std::string ip, int port) {
  Endpoint e;
  e.hostname = std::move(hostname);
  e.ip = std::move(ip);
  e.port = port;
  return e;
}

Connection conn(Process actor, Endpoint dst) {
  Connection c;
  c.actor = std::move(actor);
  c.src = host("", "10.200.0.2", 50000);
  c.dst = std::move(dst);
  return c;
}

Decision decide(Action action, std::string rule, std::string engine, std::string reason = "") {
  Decision d;
  d.action = action;
  d.rule = std::move(rule);
  d.engine = std::move(engine);
  d.reason = std::move(reason);
  return d;
}

FileAccess accessOf(FileActivity activity, std::string name, int64_t pid, std::string path) {
  FileAccess a;
  a.activity = activity;
  a.actor = proc(std::move(name), pid);
  a.file.path = std::move(path);
  return a;
}

Event fileOf(const SessionContext& c, FileActivity activity, std::string name, int64_t pid, std::string path) {
  return fileActivity(c, kTime, accessOf(activity, std::move(name), pid, std::move(path)));
}

struct Example {
  std::string name;
  std::function<Event(const SessionContext&)> build;
};

std::vector<Example> examples() {
  return {
      {"NetOpenAllowed",
       [](const SessionContext& c) {
         return netOpen(c, kTime, conn(proc("python3", 42), host("api.example.com", "", 443)),
                        decide(Action::kAllowed, "python_deps", "policy"));
       }},
      {"NetOpenDeniedByPolicyNamesTheExecutableWhenTheNameIsUnknown",
       [](const SessionContext& c) {
         Process curl;
         curl.pid = 64;
         File exe;
         exe.path = "/usr/bin/curl";
         curl.file = exe;
         return netOpen(c, kTime, conn(curl, host("evil.example", "", 443)),
                        decide(Action::kDenied, "-", "policy", "no policy allows evil.example:443"));
       }},
      {"NetOpenDeniedBySsrf",
       [](const SessionContext& c) {
         return netOpen(c, kTime, conn(proc("curl", 70), host("", "169.254.169.254", 80)),
                        decide(Action::kDenied, "-", "ssrf", "169.254.169.254 is link-local"));
       }},
      {"NetClose",
       [](const SessionContext& c) {
         return netClose(c, kTime, conn(proc("python3", 42), host("api.example.com", "203.0.113.10", 443)),
                         53211, 1207, 842);
       }},
      {"NetUpgrade",
       [](const SessionContext& c) {
         return netUpgrade(c, kTime, conn(proc("node", 99), host("chat.example.com", "", 443)),
                           decide(Action::kAllowed, "slack", "l7"));
       }},
      {"NetRefuseBypass",
       [](const SessionContext& c) {
         return netRefuse(c, kTime, conn(proc("node", 99), host("", "93.184.216.34", 443)),
                          "direct connection bypassed the proxy");
       }},
      {"NetListen", [](const SessionContext& c) { return netListen(c, kTime); }},
      {"HttpGetAllowed",
       [](const SessionContext& c) {
         HttpExchange x;
         x.actor = proc("curl", 88);
         x.url = "https://api.github.com/zen";
         return httpRequest(c, kTime, x, decide(Action::kAllowed, "github", "l7"));
       }},
      {"HttpPostDenied",
       [](const SessionContext& c) {
         HttpExchange x;
         x.actor = proc("curl", 88);
         x.method = "POST";
         x.url = "/user/repos";
         x.host = "api.github.com";
         x.port = 443;
         return httpRequest(
             c, kTime, x,
             decide(Action::kDenied, "github", "l7", "POST /user/repos not allowed by rule read-only"));
       }},
      {"DnsQueryWithAnswer",
       [](const SessionContext& c) {
         DnsLookup l;
         l.actor = proc("python3", 42);
         l.src = host("", "10.200.0.2", 40112);
         l.hostname = "wheels.example.org";
         l.type = "A";
         l.answers = {DnsAnswer{"203.0.113.7", "A"}};
         l.rcode = DnsRcode::kNoError;
         return dnsQuery(c, kTime, l);
       }},
      {"DnsQueryNoRuleCouldNeed",
       [](const SessionContext& c) {
         DnsLookup l;
         l.actor = proc("getent", 43);
         l.src = host("", "10.200.0.2", 40113);
         l.hostname = "c2VjcmV0LWRhdGE.exfil.example";
         l.type = "A";
         l.rcode = DnsRcode::kNxDomain;
         l.decision = decide(Action::kDenied, "", "dns",
                             "no rule could allow this name; answered NXDOMAIN without asking upstream");
         return dnsQuery(c, kTime, l);
       }},
      {"ProcLaunch",
       [](const SessionContext& c) {
         auto parent = std::make_shared<Process>(proc("bash", 77));
         Process curl = proc("curl", 88);
         curl.uid = 1000;
         curl.parent_process = parent;
         File exe;
         exe.path = "/usr/bin/curl";
         curl.file = exe;
         return procLaunch(c, kTime, curl, {"curl", "-s", "https://api.github.com/zen"});
       }},
      {"ProcTerminate",
       [](const SessionContext& c) { return procTerminate(c, kTime, proc("curl", 88), ProcessExit{}); }},
      {"FileUpdate",
       [](const SessionContext& c) {
         FileAccess a;
         a.activity = FileActivity::kUpdate;
         a.actor = proc("python3", 42);
         a.actor.uid = 1000;
         a.file.path = "/home/agent/.ssh/authorized_keys";
         return fileActivity(c, kTime, a);
       }},
      // The kernel capture's lines (src/capture builds them with these builders).
      {"ProcLaunchFailedExec",
       [](const SessionContext& c) {
         Process sh = proc("sh", 91);
         sh.uid = 64000;
         sh.parent_process = std::make_shared<Process>(proc("bash", 90));
         LaunchDetails d;
         d.argv = {"/nonexistent-cmd"};
         d.failure_errno = ENOENT;
         return procLaunch(c, kTime, sh, d);
       }},
      {"ProcTerminateBySignal",
       [](const SessionContext& c) {
         ProcessExit x;
         x.signal = SIGKILL;
         return procTerminate(c, kTime, proc("python3", 42), x);
       }},
      {"FileCreate", [](const SessionContext& c) { return fileOf(c, FileActivity::kCreate, "python3", 42, "/workspace/out/report.csv"); }},
      {"FileUpdateSensitive",
       [](const SessionContext& c) {
         FileAccess a = accessOf(FileActivity::kUpdate, "python3", 42, "/home/agent/.ssh/authorized_keys");
         a.sensitive = true;
         return fileActivity(c, kTime, a);
       }},
      {"FileRename",
       [](const SessionContext& c) {
         FileAccess a = accessOf(FileActivity::kRename, "mv", 93, "/workspace/a.txt");
         File b;
         b.path = "/workspace/b.txt";
         a.target = b;
         return fileActivity(c, kTime, a);
       }},
      {"FileDelete", [](const SessionContext& c) { return fileOf(c, FileActivity::kDelete, "rm", 94, "/workspace/b.txt"); }},
      {"FileOpenDeniedSensitive",
       [](const SessionContext& c) {
         FileAccess a = accessOf(FileActivity::kOpen, "cat", 95, "/etc/shadow");
         a.sensitive = true;
         a.decision = decide(Action::kDenied, "-", "kernel", "EACCES (Landlock)");
         return fileActivity(c, kTime, a);
       }},
      {"FileConnectToANamedUnixSocket",
       [](const SessionContext& c) {
         FileAccess a = accessOf(FileActivity::kOpen, "python3", 42, "/run/postgresql/.s.PGSQL.5432");
         a.file.type_id = FileType::kLocalSocket;
         a.operation = "connect";
         return fileActivity(c, kTime, a);
       }},
      {"ToolCallDeniedByTheEndpointsToolGlobs",
       [](const SessionContext& c) {
         ToolCall t;
         t.actor = proc("python3", 42);
         t.tool = "delete_repo";
         t.service = "github-mcp";
         t.method = "tools/call";
         t.dst = host("mcp.example.com", "", 443);
         t.decision = decide(Action::kDenied, "tools_server", "l7", "tool delete_repo is denied by rule tools_server");
         return toolCall(c, kTime, t);
       }},
      {"ModelCallWithToolCalls",
       [](const SessionContext& c) {
         ModelCall m;
         m.actor = proc("node", 99);
         m.dst = host("api.anthropic.com", "", 443);
         m.operation = "messages";
         m.provider = "anthropic";
         m.model = "claude-sonnet-4";
         m.input_tokens = 1234;
         m.output_tokens = 567;
         m.duration_ms = 2310;
         m.stop_reason = "tool_use";
         m.tool_calls = {{"toolu_01", "read_file"}, {"toolu_02", "bash"}};
         m.streamed = true;
         return modelCall(c, kTime, m);
       }},
      {"PkgInstallHashMismatch",
       [](const SessionContext& c) {
         PackageInstall p;
         p.manager = "npm";
         p.name = "left-pad";
         p.version = "1.3.0";
         p.source_url = "https://registry.example/left-pad/-/left-pad-1.3.0.tgz";
         p.sha256 = "5d1a0e2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
         p.advertised_hash = "sha512-deadbeef";
         p.verdict = "mismatch";
         return pkgInstall(c, kTime, p);
        }},
      {"LogLossKernelCapture",
       [](const SessionContext& c) {
         // Built by src/capture (capture_loss.cc) on top of audit::lossEvent; this is its shape.
         Event e = newEvent(c, Kind::kLog, ClassUid::kEventLogActivity, 99, kTime);
         e.activity_name = "Loss";
         e.severity = Severity::kHigh;
         Value loss;
         loss.set("kind", "file");
         loss.set("count", 112);
         loss.set("window", "10:00:01-10:00:02");
         e.unmapped.set("loss", loss);
         applyProfiles(e);
         return e;
       }},
      {"FindingUnsolicited101",
       [](const SessionContext& c) {
         FindingInput f;
         f.title = "Unsolicited 101 Switching Protocols";
         f.types = {"unsolicited-101"};
         return finding(c, kTime, f);
       }},
      {"ConfigLoaded",
       [](const SessionContext& c) {
         ConfigChange ch;
         ch.state = std::string(kConfigLoaded);
         ch.message = "policy loaded";
         ch.policy_version = "3";
         ch.policy_hash = "9f2c01ab5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3";
         return configChange(c, kTime, ch);
       }},
      {"ConfigUpdatedRevision",
       [](const SessionContext& c) {
         ConfigChange ch;
         ch.state = std::string(kConfigUpdated);
         ch.message = "OCSF JSONL output enabled";
         ch.config_revision = 4;
         return configChange(c, kTime, ch);
       }},
      {"SessionStopTimeout",
       [](const SessionContext& c) {
         SessionInput s;
         s.activity = SessionActivity::kStop;
         s.reason = StopReason::kTimeout;
         s.exit_code = 137;
         return session(c, kTime, s);
       }},
      {"PkgInstall",
       [](const SessionContext& c) {
         PackageInstall p;
         p.actor = proc("python3", 42);
         p.manager = "pip";
         p.name = "requests";
         p.version = "2.31.0";
         p.source_url = "https://wheels.example.org/requests-2.31.0.whl";
         p.sha256 = "3f5a1f4c8b9e0d7a6c5b4e3f2a1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d";
         return pkgInstall(c, kTime, p);
       }},
      {"ToolCall",
       [](const SessionContext& c) {
         ToolCall t;
         t.actor = proc("claude", 12);
         t.tool = "read_file";
         t.service = "filesystem";
         t.input_summary = "path=/workspace/README.md";
         return toolCall(c, kTime, t);
       }},
      {"ApiSetSetting",
       [](const SessionContext& c) {
         ApiCall call;
         call.activity = ApiActivity::kUpdate;
         call.operation = "SetSetting";
         call.caller.auth = "unix";
         call.caller.name = "root";
         call.caller.uid = 0;
         call.caller.pid = 4242;
         call.request = {{"key", "ocsf_json_enabled"}, {"scope", "global"}, {"value", "true"}};
         return apiCall(c, kTime, call);
       }},
      {"ApiListSessionsDenied",
       [](const SessionContext& c) {
         ApiCall call;
         call.activity = ApiActivity::kRead;
         call.operation = "ListSessions";
         call.caller.auth = "unix";
         call.caller.name = "nobody";
         call.caller.uid = 65534;
         call.caller.pid = 4243;
         call.action = Action::kDenied;
         call.reason = "uid 65534 is not an operator of this gateway";
         return apiCall(c, kTime, call);
       }},
      {"ApiRegisterSessionRefused",
       [](const SessionContext& c) {
         ApiCall call;
         call.activity = ApiActivity::kCreate;
         call.operation = "RegisterSession";
         call.caller.src = host("", "10.0.0.7", 50312);
         call.request = {{"session", "0190aa"}};
         call.action = Action::kDenied;
         call.reason = "session '0190aa' is already registered";
         call.severity = Severity::kHigh;
         return apiCall(c, kTime, call);
       }},
      {"LimitOom",
       [](const SessionContext& c) {
         LimitHit h;
         h.type = "oom";
         h.measured = 536870912;
         h.limit = 536870912;
         h.action = "kill";
         h.process = proc("python3", 42);
         return resourceLimit(c, kTime, h);
       }},
      {"RuleFindingFromDetectMd",
       [](const SessionContext& c) {
         // detect.md: a detection rule's finding decides nothing itself (FINDING:CREATED).
         FindingInput f;
         f.title = "Downloaded script piped to sh";
         f.types = {"pipe-download-to-shell"};
         f.detection_rule = "pipe-download-to-shell";
         f.disposition = std::nullopt;
         return finding(c, kTime, f);
       }},
      {"RuleFindingWithKillAction",
       [](const SessionContext& c) {
         FindingInput f;
         f.title = "Credential file written: /home/agent/.ssh/authorized_keys";
         f.types = {"credential-file-write"};
         f.detection_rule = "credential-file-write";
         f.disposition = std::nullopt;
         Event e = finding(c, kTime, f);
         e.unmapped.set("action", "kill");  // as src/detect records a rule's action
         return e;
       }},
      {"SessionStopByRule",
       [](const SessionContext& c) {
         SessionInput s;
         s.activity = SessionActivity::kStop;
         s.reason = StopReason::kPolicyViolation;
         s.exit_code = 137;
         s.rule = "credential-file-write";
         return session(c, kTime, s);
       }},
      {"LogCheckpoint",
       [](const SessionContext& c) {
         // LOG events are built by src/audit; this is the shape they have (events.md "Integrity").
         Event e = newEvent(c, Kind::kLog, ClassUid::kEventLogActivity, 99, kTime);
         e.activity_name = "Checkpoint";
         Value cp;
         cp.set("first_seq", 1);
         cp.set("last_seq", 5000);
         cp.set("head", "ab12cd34" + std::string(56, '0'));
         cp.set("key_id", "5f1e9a" + std::string(58, '1'));
         cp.set("signature", std::string(128, 'f'));
         e.unmapped.set("checkpoint", cp);
         applyProfiles(e);
         return e;
       }},
  };
}

std::vector<std::string> goldenLines() {
  std::istringstream in(testing::readFile(testing::sourceDir() / "tests/golden/shorthand/events_md.txt"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ShorthandGoldenTest, GoldenFileHoldsEveryExampleOfEventsMd) {
  EXPECT_EQ(goldenLines().size(), examples().size());
}

TEST(ShorthandGoldenTest, BuildersReproduceEveryEventsMdExampleByteForByte) {
  const auto lines = goldenLines();
  const auto cases = examples();
  ASSERT_EQ(lines.size(), cases.size());
  const SessionContext ctx = sampleContext();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ(toShorthand(cases[i].build(ctx)), lines[i]) << "golden line " << i + 1 << ": " << lines[i];
  }
}

TEST(ShorthandGoldenTest, LogLineIsUtcTimestampThenOcsfThenShorthand) {
  const SessionContext ctx = sampleContext();
  const Event e = netListen(ctx, kTime);
  std::string line;
  appendLogLine(line, e);
  EXPECT_EQ(line, "2025-11-23T12:13:20.123Z OCSF NET:LISTEN [INFO] 10.200.0.1:3128");
}

}  // namespace
}  // namespace warden::ocsf
