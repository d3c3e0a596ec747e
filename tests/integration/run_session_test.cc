// Real `warden run` sessions (issue 4): each test runs build/warden as root and checks, from inside
// the sandbox and from the record, one promise of sandbox.md "Isolation". Upstreams live in network
// namespaces the tests create (support/sandbox_fixtures.h); nothing leaves this machine.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include <fstream>
#include <regex>
#include <string>

#include "support/child_process.h"
#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RunSession : public WardenRunTest {
 protected:

  // A policy: system dirs read-only, the workspace read-write, `network` as given (YAML text).
  std::string writePolicy(const std::string& network = "", const std::string& extra = "") {
    const auto path = tmp_ / "policy.yaml";
    writeFile(path, "version: 1\nfilesystem:\n  read_only: [/usr, /lib, /lib64, /bin, /sbin, /etc]\n"
                    "  read_write: [" + ws_.path().string() + ", /tmp]\n" + extra + (network.empty() ? "" : "network:\n" + network));
    return path.string();
  }

  // `warden run [args] -- sh -c SCRIPT`, run in the workspace.
  CommandResult run(const std::string& args, const std::string& script) {
    return runCommand(wardenRun(args, script) + " 2>&1");
  }
};

TEST_F(RunSession, ReturnsTheCommandsExitStatusAndRecordsTheWholeSession) {
  const auto r = run("--policy " + writePolicy() + " --name exit-seven", "echo hello from the sandbox; exit 7");
  EXPECT_EQ(r.status, 7) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hello from the sandbox"));
  const std::string text = log();
  for (const char* line : {" OCSF LOG:START", " OCSF LIFECYCLE:START", " OCSF SESSION:CREATE", " OCSF CONFIG:LOADED",
                           " OCSF SESSION:START", "SESSION:STOP [INFO] exit-seven [reason:exit exit:7]",
                           " OCSF SESSION:CLEANUP", " OCSF LIFECYCLE:STOP", "final:true"}) {
    EXPECT_THAT(text, HasSubstr(line)) << text;
  }
  // The agent's process by its host pid and the executable the kernel ran.
  EXPECT_THAT(text, ::testing::ContainsRegex(" OCSF PROC:LAUNCH \\[INFO\\] (dash|sh|bash)\\([0-9]+\\)"));
  EXPECT_THAT(text, ::testing::ContainsRegex(" OCSF PROC:TERMINATE \\[INFO\\] (dash|sh|bash)\\([0-9]+\\) \\[exit:7\\]"));
  expectVerified();
}

TEST_F(RunSession, ACommandThatDoesNotExistExits127AndIsRecorded) {
  const auto r = runCommand(wardenBinary().string() + " run --log-dir " + log_dir_.string() +
                            " --ocsf-json -- /no/such/command 2>&1");
  EXPECT_EQ(r.status, 127) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not found"));
  EXPECT_THAT(log(), HasSubstr("[reason:exit exit:127]"));
  expectVerified();
}

TEST_F(RunSession, APolicyThatDoesNotParseStartsNothing) {
  const auto path = tmp_ / "bad.yaml";
  writeFile(path, "version: 1\nnetwork:\n  broken:\n    endpoints: [ { host: a.example, ports: [99999] } ]\n    bogus: 1\n");
  const auto r = runCommand(wardenBinary().string() + " run --policy " + path.string() + " --log-dir " +
                            log_dir_.string() + " -- true 2>&1");
  EXPECT_EQ(r.status, 125) << r.output;
  EXPECT_THAT(r.output, HasSubstr("bad.yaml:"));
  EXPECT_THAT(r.output, HasSubstr("nothing was started"));
  EXPECT_FALSE(std::filesystem::exists(log_dir_));
}

TEST_F(RunSession, TheAgentIsInitsChildRunsUnprivilegedAndSeesNothingOfTheHost) {
  const auto r = run("--policy " + writePolicy(),
                     "echo pid=$$; echo uid=$(id -u); grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
                     "echo procs=$(ls /proc | grep -c '^[0-9]'); hostname; kill -0 " + std::to_string(::getpid()) +
                     " 2>/dev/null && echo can-signal-host || echo cannot-signal-host");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("pid=2\n"));  // pid 1 is Warden's init
  EXPECT_THAT(r.output, HasSubstr("uid=64000\n"));
  EXPECT_THAT(r.output, HasSubstr("CapEff:\t0000000000000000"));
  EXPECT_THAT(r.output, HasSubstr("CapBnd:\t0000000000000000"));
  EXPECT_THAT(r.output, HasSubstr("NoNewPrivs:\t1"));
  EXPECT_THAT(r.output, HasSubstr("Seccomp:\t2"));
  EXPECT_THAT(r.output, HasSubstr("cannot-signal-host"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("procs=(\\d+)"))) << r.output;
  EXPECT_LT(std::stoi(m[1]), 10) << "the agent sees only its own processes";
  EXPECT_THAT(log(), HasSubstr("CONFIG:LOADED [INFO] Landlock"));
  EXPECT_THAT(log(), HasSubstr("seccomp"));
}

TEST_F(RunSession, TheAgentCannotReadOrWriteTheLogDirectory) {
  const std::string dir = log_dir_.string();
  // The forged text is decoded at run time so that the recorded command line does not contain it.
  const auto r = run("--policy " + writePolicy(),
                     "ls " + dir + " && echo listed; cat " + dir + "/warden.log && echo read; "
                     "echo \"$(echo Zm9yZ2VkLWxpbmU= | base64 -d)\" >> " + dir +
                         "/warden.log && echo wrote; ls /var/log/warden 2>/dev/null | head -1; echo done");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("listed")));
  EXPECT_THAT(r.output, Not(HasSubstr("read\n")));
  EXPECT_THAT(r.output, Not(HasSubstr("wrote")));
  EXPECT_THAT(log(), Not(HasSubstr("forged-line")));
  expectVerified();
}

TEST_F(RunSession, FilesystemAccessFollowsThePolicy) {
  const auto r = run("--policy " + writePolicy(),
                     "echo data > " + ws_.path().string() + "/out.txt && echo wrote-workspace; "
                     "echo x > /etc/warden-test 2>/dev/null && echo wrote-etc; cat /root/.bashrc >/dev/null 2>&1 && "
                     "echo read-root; ls /var/tmp >/dev/null 2>&1 && echo listed-var-tmp; echo tmp > /tmp/t && cat /tmp/t");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("wrote-workspace"));
  EXPECT_THAT(r.output, Not(HasSubstr("wrote-etc")));
  EXPECT_THAT(r.output, Not(HasSubstr("read-root")));
  EXPECT_THAT(r.output, Not(HasSubstr("listed-var-tmp")));
  EXPECT_THAT(r.output, HasSubstr("tmp\n"));
  EXPECT_EQ(readFile(ws_ / "out.txt"), "data\n");
  EXPECT_FALSE(std::filesystem::exists("/tmp/t") && readFile("/tmp/t") == "tmp\n") << "/tmp is private";
}

TEST_F(RunSession, EgressGoesOnlyThroughTheProxyAndABypassIsRecorded) {
  std::string why;
  auto upstream = UpstreamHost::create(&why);
  ASSERT_TRUE(upstream) << why;
  const std::string base = "http://" + upstream->ip() + ":8080";
  const std::string policy = writePolicy(
      "  local_api:\n    endpoints:\n      - { host: \"" + upstream->ip() + "\", ports: [8080], protocol: rest, "
      "access: read-only, allowed_ips: [" + upstream->ip() + "/32] }\n    binaries: [ { path: /usr/bin/curl } ]\n");
  const auto r = run("--policy " + policy,
                     "curl -sS -m 10 " + base + "/status.json; echo; "
                     "curl -sS -m 10 -o /dev/null -w 'post=%{http_code}\\n' -X POST " + base + "/status.json; "
                     "curl -sS -m 10 -o /dev/null -w 'evil=%{http_code}\\n' http://evil.example.com/; "
                     "curl -sS -m 5 --noproxy '*' " + base + "/status.json && echo bypassed || echo bypass-blocked");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("{\"status\":\"ok\"}"));
  EXPECT_THAT(r.output, HasSubstr("post=403"));
  EXPECT_THAT(r.output, HasSubstr("evil=403"));
  EXPECT_THAT(r.output, HasSubstr("bypass-blocked"));
  EXPECT_THAT(r.output, Not(HasSubstr("bypassed")));
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr("HTTP:GET [INFO] ALLOWED curl("));
  EXPECT_THAT(text, HasSubstr("HTTP:POST [MED] DENIED curl("));
  EXPECT_THAT(text, HasSubstr("-> evil.example.com:80 [policy:- engine:policy]"));
  EXPECT_TRUE(waitFor([&] { return log().find("NET:REFUSE [MED] DENIED") != std::string::npos; }, std::chrono::seconds(1)) ||
              text.find("NET:REFUSE [MED] DENIED") != std::string::npos)
      << text;
  EXPECT_THAT(text, HasSubstr(upstream->ip() + ":8080/tcp [policy:bypass-detect engine:nftables]"));
  EXPECT_THAT(text, HasSubstr(" OCSF FINDING:"));
  // The upstream saw exactly one request: the allowed GET (never the POST, never the bypass).
  const std::string requests = upstream->requestLog();
  EXPECT_THAT(requests, HasSubstr("\"GET /status.json HTTP/1.1\" 200"));
  EXPECT_THAT(requests, Not(HasSubstr("POST")));
  expectVerified();
}

TEST_F(RunSession, ATimeoutReachesAnAgentThatIsNotWrittenToBePidOne) {
  // With a 60 s kill grace, only the SIGTERM Warden's init forwards can end `sleep 30` before the
  // 40 s bound below; before the init it took the whole grace period.
  const auto started = std::chrono::steady_clock::now();
  const auto r = run("--policy " + writePolicy() + " --timeout 2s --kill-grace 60s", "exec sleep 30");
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 124) << r.output;
  EXPECT_LT(took, std::chrono::seconds(25)) << "the SIGTERM did not reach the agent";
  EXPECT_THAT(log(), HasSubstr("[reason:timeout exit:143]"));
  expectVerified();
}

TEST_F(RunSession, OrphansOfTheAgentAreReapedSoNoZombiesPileUp) {
  // A shell starts five background shells and exits at once: they are orphans, re-parented to pid 1.
  // The agent then waits (bounded) for the zombie count to drop to zero and reports it; with the
  // agent itself as pid 1 (before Warden's init) the five stayed zombies for the session's life.
  const std::string agent =
      "import glob, time\n"
      "def zombies():\n"
      "    n = 0\n"
      "    for p in glob.glob('/proc/[0-9]*/status'):\n"
      "        try:\n"
      "            n += 'State:\\tZ' in open(p).read()\n"
      "        except OSError:\n"
      "            pass\n"
      "    return n\n"
      "for _ in range(100):\n"
      "    if zombies() == 0: break\n"
      "    time.sleep(0.1)\n"
      "print('zombies', zombies())\n";
  writeFile(ws_ / "agent.py", agent);
  const auto r = run("--policy " + writePolicy(),
                     "sh -c 'for i in 1 2 3 4 5; do sh -c \"exit 0\" & done'; python3 agent.py");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("zombies 0"));
}

TEST_F(RunSession, TheInvokingDirectoryUnderTmpIsTheAgentsReadWriteWorkspace) {
  // A project directory under the host's /tmp, owned by someone other than the agent.
  TempDir project;
  ASSERT_EQ(::chown(project.path().c_str(), 1234, 1234), 0);
  ASSERT_EQ(::chmod(project.path().c_str(), 0755), 0);
  writeFile(project / "README", "project\n");
  const auto r = runCommand("cd " + project.path().string() + " && " + wardenBinary().string() + " run --log-dir " +
                            log_dir_.string() + " --ocsf-json -- sh -c 'pwd; cat README; echo made > out.txt && echo wrote' 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(project.path().string() + "\n"));
  EXPECT_THAT(r.output, HasSubstr("project\n"));
  EXPECT_THAT(r.output, HasSubstr("wrote"));
  ASSERT_TRUE(std::filesystem::exists(project / "out.txt"));
  struct stat st {};
  ASSERT_EQ(::stat((project / "out.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u) << "written as the workspace's owner (idmapped)";
  EXPECT_THAT(log(), HasSubstr("workspace " + project.path().string() + " read-write"));
  expectVerified();
}

TEST_F(RunSession, WorkspaceFlagNamesAnotherDirectoryAndBadOnesAreRefusedWithTheReason) {
  TempDir other;
  ASSERT_EQ(::chmod(other.path().c_str(), 0777), 0);
  const auto r = run("--workspace " + other.path().string(), "pwd; touch made && echo ok");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(other.path().string() + "\nok"));
  EXPECT_TRUE(std::filesystem::exists(other / "made"));
  const auto root = runCommand("cd / && " + wardenBinary().string() + " run -- true 2>&1");
  EXPECT_EQ(root.status, 125) << root.output;
  EXPECT_THAT(root.output, HasSubstr("is the whole filesystem"));
  EXPECT_THAT(root.output, HasSubstr("--workspace DIR"));
  const auto etc = runCommand(wardenBinary().string() + " run --workspace /etc -- true 2>&1");
  EXPECT_EQ(etc.status, 125) << etc.output;
  EXPECT_THAT(etc.output, HasSubstr("inside /etc"));
  const auto missing = runCommand(wardenBinary().string() + " run --workspace /no/such/dir -- true 2>&1");
  EXPECT_EQ(missing.status, 125) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("/no/such/dir"));
}

TEST_F(RunSession, ReachingTheLogBudgetStopsTheSessionAndSaysSo) {
  // Fail-closed: with a 40 KB budget, an agent that keeps acting is stopped once its record is full.
  const auto r = run("--policy " + writePolicy() + " --capture all --log-budget 40000 --timeout 60s",
                     "i=0; while [ $i -lt 100000 ]; do echo $i > f$i; i=$((i+1)); done; echo finished");
  EXPECT_EQ(r.status, 137) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("finished")));
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(" OCSF LOG:BUDGET_EXHAUSTED"));
  EXPECT_THAT(text, HasSubstr("[reason:policy_violation exit:137 rule:log-budget]"));
  expectVerified();
}

TEST_F(RunSession, ATimeoutStopsTheSessionWith124) {
  const auto r = run("--policy " + writePolicy() + " --name slow --timeout 1s --kill-grace 1s", "sleep 60");
  EXPECT_EQ(r.status, 124) << r.output;
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr("SESSION:STOP [CRIT] slow [reason:timeout"));
  EXPECT_THAT(text, HasSubstr(" OCSF LIMIT:"));
  EXPECT_THAT(text, ::testing::ContainsRegex("PROC:TERMINATE \\[INFO\\] (dash|sh|bash)\\([0-9]+\\) \\[signal:SIGTERM\\]"));
  expectVerified();
}

TEST_F(RunSession, AForkBombHitsThePidsLimitAndTheSessionSurvivesToBeStopped) {
  // Forks 200 sleepers, shrugging off refused forks, then waits: only the timeout ends it.
  const std::string bomb =
      "import os, time\n"
      "for _ in range(200):\n"
      "    try:\n"
      "        if os.fork() == 0:\n"
      "            time.sleep(60)\n"
      "            os._exit(0)\n"
      "    except OSError:\n"
      "        pass\n"
      "time.sleep(60)\n";
  const auto r = runCommand("cd " + ws_.path().string() + " && " + wardenBinary().string() + " run --log-dir " +
                            log_dir_.string() + " --ocsf-json --policy " + writePolicy() +
                            " --pids 24 --timeout 3s --kill-grace 500ms -- /usr/bin/python3 -c " + shellQuote(bomb) + " 2>&1");
  EXPECT_EQ(r.status, 124) << r.output;
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(" OCSF LIMIT:PIDS [LOW]"));
  EXPECT_THAT(text, HasSubstr("[limit:24 "));
  EXPECT_THAT(text, HasSubstr("[reason:timeout"));
  // The limit hit is recorded before the session's stop.
  EXPECT_LT(text.find(" OCSF LIMIT:PIDS"), text.find(" OCSF SESSION:STOP"));
  expectVerified();
}

TEST_F(RunSession, CpuThrottlingUnderThePolicysCpuLimitIsRecorded) {
  const auto r = run("--policy " + writePolicy("", "resources:\n  cpu: 0.1\n"), "timeout 2 sh -c 'while :; do :; done'; true");
  EXPECT_EQ(r.status, 0) << r.output;
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(" OCSF LIMIT:CPU [LOW]"));
  EXPECT_THAT(text, HasSubstr("[limit:100 "));
  EXPECT_THAT(text, HasSubstr("action:throttle]"));
  expectVerified();
}

TEST_F(RunSession, AMemoryHogIsOomKilledAndRecordedWithTheLimit) {
  const auto r = runCommand("cd " + ws_.path().string() + " && " + wardenBinary().string() + " run --log-dir " +
                            log_dir_.string() + " --ocsf-json --policy " + writePolicy() +
                            " --memory 64MiB -- /usr/bin/python3 -c 'x = bytearray(1 << 30); print(len(x))' 2>&1");
  EXPECT_EQ(r.status, 137) << r.output;
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr("LIMIT:OOM [CRIT]"));
  EXPECT_THAT(text, HasSubstr("[limit:67108864 "));
  EXPECT_THAT(text, HasSubstr("[reason:oom exit:137]"));
  expectVerified();
}

TEST_F(RunSession, PauseResumeAndStopThroughTheControlSocket) {
  const std::string name = "ctl-" + std::to_string(::getpid());
  ChildProcess::Options options;
  options.argv = {wardenBinary().string(), "run", "--name", name, "--log-dir", log_dir_.string(), "--ocsf-json",
                  "--policy", writePolicy(), "--kill-grace", "1s", "--", "sleep", "60"};
  options.working_directory = ws_.path();
  auto warden = ChildProcess::start(options);
  ASSERT_TRUE(warden);
  const std::string session = wardenBinary().string() + " session ";
  ASSERT_TRUE(waitFor([&] { return runCommand(session + "status " + name).status == 0; })) << warden->output();
  auto paused = runCommand(session + "pause " + name + " 2>&1");
  EXPECT_EQ(paused.status, 0) << paused.output;
  EXPECT_TRUE(waitFor([&] { return log().find(" OCSF SESSION:PAUSE") != std::string::npos; })) << log();
  EXPECT_THAT(runCommand(session + "status " + name).output, HasSubstr("paused"));
  auto resumed = runCommand(session + "resume " + name + " 2>&1");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  auto stopped = runCommand(session + "stop " + name + " 2>&1");
  EXPECT_EQ(stopped.status, 0) << stopped.output;
  EXPECT_TRUE(waitFor([&] { return log().find("final:true") != std::string::npos; }, std::chrono::seconds(15)));
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(" OCSF SESSION:RESUME"));
  EXPECT_THAT(text, HasSubstr("[reason:api"));
  EXPECT_NE(runCommand(session + "status " + name).status, 0) << "the control socket is gone";
  expectVerified();
}

TEST_F(RunSession, SigtermToTheSupervisorStopsTheSessionAndSealsTheLog) {
  ChildProcess::Options options;
  options.argv = {wardenBinary().string(), "run", "--log-dir", log_dir_.string(), "--ocsf-json", "--policy",
                  writePolicy(), "--kill-grace", "60s", "--", "sleep", "60"};
  options.working_directory = ws_.path();
  auto warden = ChildProcess::start(options);
  ASSERT_TRUE(warden);
  ASSERT_TRUE(waitFor([&] { return log().find(" OCSF PROC:LAUNCH") != std::string::npos; })) << warden->output();
  // Warden's init forwards the SIGTERM to sleep, which has no handler: it ends at once.
  EXPECT_EQ(warden->terminate(std::chrono::seconds(15)), 128 + SIGTERM);
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr("[reason:api exit:143]"));
  EXPECT_THAT(text, HasSubstr(" OCSF SESSION:CLEANUP"));
  EXPECT_THAT(text, HasSubstr("final:true"));
  expectVerified();
}

TEST_F(RunSession, WhatACrashedSupervisorLeftIsCleanedUpByTheNextRun) {
  // Session A's supervisor is SIGKILLed: its agent dies with it (parent-death signal) and its network
  // namespace (veth, sandbox nftables table) with the agent, but its cgroup, control socket and state
  // files stay.
  const auto crashed_log = tmp_ / "crashed";
  ChildProcess::Options options;
  options.argv = {wardenBinary().string(), "run", "--log-dir", crashed_log.string(), "--policy", writePolicy(),
                  "--", "sleep", "60"};
  options.working_directory = ws_.path();
  auto warden = ChildProcess::start(options);
  ASSERT_TRUE(warden);
  std::smatch m;
  std::string text;
  ASSERT_TRUE(waitFor([&] {
    text = readFile(crashed_log / "warden.log");
    return std::regex_search(text, m, std::regex("control socket /run/warden/sessions/([0-9a-f-]+)\\.sock")) &&
           text.find(" OCSF PROC:LAUNCH") != std::string::npos;
  })) << text;
  const std::string id = m[1];
  ASSERT_EQ(::kill(warden->pid(), SIGKILL), 0);
  EXPECT_EQ(warden->terminate(std::chrono::seconds(10)), 128 + SIGKILL);
  ASSERT_TRUE(std::filesystem::exists("/run/warden/sessions/" + id + ".sock"));

  const auto r = run("--policy " + writePolicy(), "true");
  EXPECT_EQ(r.status, 0) << r.output;
  const std::string after = log();
  EXPECT_THAT(after, HasSubstr("removed leftovers of a crashed earlier run"));
  EXPECT_THAT(after, HasSubstr("session " + id.substr(0, 8)));
  EXPECT_FALSE(std::filesystem::exists("/run/warden/sessions/" + id + ".sock"));
  EXPECT_FALSE(std::filesystem::exists("/var/lib/warden/sessions/" + id));
  EXPECT_THAT(runCommand("ls /sys/fs/cgroup/*/ /sys/fs/cgroup/*/*/ /sys/fs/cgroup/*/*/*/ 2>/dev/null").output,
              Not(HasSubstr("warden-" + id)));
}

TEST_F(RunSession, DnsQueriesFromTheAgentAreRecorded) {
  // dnsmasq answers demo.test on loopback; the sandbox resolver forwards to it.
  ChildProcess::Options dns;
  const int port = 20000 + ::getpid() % 20000;
  dns.argv = {"dnsmasq", "--keep-in-foreground", "--no-daemon", "--port=" + std::to_string(port),
              "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
              "--address=/demo.test/10.9.8.7", "--log-facility=-"};
  auto server = ChildProcess::start(dns);
  ASSERT_TRUE(server);
  ASSERT_TRUE(waitFor([&] { return runCommand("dig +short +time=1 +tries=1 @127.0.0.1 -p " + std::to_string(port) + " demo.test").output.find("10.9.8.7") != std::string::npos; }));
  // The resolver answers only names some rule could allow (docs/dns.md): one names demo.test.
  const std::string network = "  demo:\n    endpoints: [{host: demo.test, ports: [443]}]\n    binaries: [{path: /usr/bin/curl}]\n";
  const auto r = run("--policy " + writePolicy(network) + " --dns-upstream 127.0.0.1:" + std::to_string(port),
                     "getent hosts demo.test; dig +short +time=2 +tries=1 demo.test");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("10.9.8.7"));
  EXPECT_THAT(log(), HasSubstr("DNS:QUERY [INFO]"));
  EXPECT_THAT(log(), HasSubstr("demo.test A [answers:10.9.8.7]"));
  expectVerified();
}

}  // namespace
}  // namespace warden::testing
