// `warden run --export` to a real rsyslog (issue 15 items 7 and 8): every event of a busy session
// arrives exactly as warden-ocsf.log holds it, also across a stop and restart of rsyslog (the outage
// recorded once each way); the copy in rsyslog's file verifies with `warden audit verify
// --from-syslog` and an edited message is named; over TLS with a CA made here; over UDP.
// Everything stays on 127.0.0.1.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "support/child_process.h"
#include "support/nginx.h"
#include "support/rsyslog.h"
#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t countContaining(const std::vector<std::string>& lines, std::string_view needle) {
  size_t n = 0;
  for (const auto& l : lines) n += l.find(needle) != std::string::npos;
  return n;
}

// rsyslog's lines with exact repeats of an earlier line dropped (at-least-once delivery), in order.
std::vector<std::string> withoutRepeats(const std::vector<std::string>& lines) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (seen.insert(l).second) out.push_back(l);
  }
  return out;
}

class ExportSyslog : public WardenRunTest {
 protected:
  std::string runArgs(const std::string& exports, const std::string& script) const {
    return wardenRun("--capture processes --rules-builtin off " + exports, script, "exec");
  }
  std::vector<std::string> jsonl() const { return completeLines(log_dir_ / "warden-ocsf.log"); }
  CommandResult verifySyslog(const std::filesystem::path& file) const {
    return runCommand(wardenBinary().string() + " audit verify --from-syslog " + file.string() + " 2>&1");
  }
  std::string exportTcp(const Rsyslog& r) const { return "--export syslog+tcp://127.0.0.1:" + std::to_string(r.port()); }
};

TEST_F(ExportSyslog, EveryEventOfABusySessionArrivesExactlyAsWrittenAndTheCopyVerifies) {
  std::string why;
  auto rsyslog = Rsyslog::start({}, &why);
  if (!rsyslog) GTEST_SKIP() << why;
  const auto r = runCommand(runArgs(exportTcp(*rsyslog), "i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done") +
                            " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto written = jsonl();
  ASSERT_GT(written.size(), 300u);
  // The session waited for the export to drain before it ended: everything is there already, but
  // rsyslog writes asynchronously.
  ASSERT_TRUE(waitFor([&] { return rsyslog->messages().size() >= written.size(); })) << rsyslog->messages().size();
  EXPECT_EQ(withoutRepeats(rsyslog->messages()), written);
  EXPECT_FALSE(std::filesystem::exists(log_dir_ / ".export-1")) << "the delivered spool is removed";

  for (const auto& file : {rsyslog->msgFile(), rsyslog->protocolFile()}) {
    const auto ok = verifySyslog(file);
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_THAT(ok.output, HasSubstr("ok: " + std::to_string(written.size()) + " events"));
  }
  // The RFC 5424 header carries the session and the sequence.
  const auto protocol = completeLines(rsyslog->protocolFile());
  ASSERT_FALSE(protocol.empty());
  EXPECT_THAT(protocol.front(), HasSubstr(" warden "));
  EXPECT_THAT(protocol.front(), HasSubstr("seq=\"1\"]"));

  // One message edited in the SIEM's copy: verification fails and names its line.
  auto lines = rsyslog->messages();
  const size_t k = lines.size() / 2;
  const size_t at = lines[k].find("\"time\":");
  ASSERT_NE(at, std::string::npos);
  lines[k][at + 8] = lines[k][at + 8] == '1' ? '2' : '1';
  std::string edited;
  for (const auto& l : lines) edited += l + "\n";
  const auto edited_file = tmp_ / "edited.log";
  writeFile(edited_file, edited);
  const auto bad = verifySyslog(edited_file);
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr(edited_file.string() + ":" + std::to_string(k + 1))) << bad.output;
}

TEST_F(ExportSyslog, RsyslogStoppedMidSessionAndRestartedStillGetsEverySequenceAndTheOutageIsRecordedOnceEachWay) {
  std::string why;
  auto rsyslog = Rsyslog::start({}, &why);
  if (!rsyslog) GTEST_SKIP() << why;
  ChildProcess::Options o;
  o.argv = {"sh", "-c",
            runArgs(exportTcp(*rsyslog), "while [ ! -e stop ]; do /bin/true; /bin/true; done; echo agent-done") +
                " 2>&1"};
  auto warden = ChildProcess::start(o, &why);
  ASSERT_TRUE(warden) << why;
  ASSERT_TRUE(waitFor([&] { return rsyslog->messages().size() >= 300; }, std::chrono::seconds(30)))
      << warden->output();
  ASSERT_TRUE(rsyslog->stop());
  const auto stopped_at = std::chrono::steady_clock::now();
  const size_t before_outage = jsonl().size();
  ASSERT_TRUE(waitFor([&] { return countContaining(jsonl(), "\"activity_name\":\"Sink Unreachable\"") == 1; }))
      << warden->output();
  // The agent goes on while the receiver is down; its events wait in the spool.
  ASSERT_TRUE(waitFor([&] { return jsonl().size() >= before_outage + 1000; }, std::chrono::seconds(30)));
  // Down for 10 s, as the issue asks (the outage itself, the scenario — not a synchronisation).
  std::this_thread::sleep_until(stopped_at + std::chrono::seconds(10));
  ASSERT_TRUE(rsyslog->restart(&why)) << why;
  ASSERT_TRUE(waitFor([&] { return countContaining(jsonl(), "\"activity_name\":\"Sink Reconnected\"") == 1; },
                      std::chrono::seconds(15)))
      << warden->output();
  writeFile(ws_ / "stop", "");
  EXPECT_EQ(warden->signalAndWait(0, std::chrono::seconds(60)), 0) << warden->output();

  const auto written = jsonl();
  ASSERT_TRUE(waitFor([&] { return withoutRepeats(rsyslog->messages()).size() >= written.size(); }))
      << rsyslog->messages().size() << " of " << written.size();
  EXPECT_EQ(withoutRepeats(rsyslog->messages()), written);
  EXPECT_EQ(countContaining(written, "\"activity_name\":\"Sink Unreachable\""), 1u);
  EXPECT_EQ(countContaining(written, "\"activity_name\":\"Sink Reconnected\""), 1u);
  const auto ok = verifySyslog(rsyslog->msgFile());
  EXPECT_EQ(ok.status, 0) << ok.output;
  const auto validate = runCommand(wardenBinary().string() + " ocsf validate --strict " +
                                   (log_dir_ / "warden-ocsf.log").string() + " 2>&1");
  EXPECT_EQ(validate.status, 0) << validate.output;
}

TEST_F(ExportSyslog, OverTlsTheServerIsVerifiedAgainstTheCaGivenInTheUrl) {
  const auto certs = tmp_ / "certs";
  std::filesystem::create_directories(certs);
  const std::string d = certs.string();
  const auto made = runCommand(
      "(cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=warden-test-ca -keyout ca.key -out ca.pem"
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr"
      " && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext"
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext"
      " -out server.pem"
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.pem"
      " && chmod 644 *.key) 2>&1");
  ASSERT_EQ(made.status, 0) << made.output;
  std::string why;
  auto rsyslog = Rsyslog::start({.udp = false, .tls_ca = certs / "ca.pem", .tls_cert = certs / "server.pem",
                                 .tls_key = certs / "server.key"},
                                &why);
  if (!rsyslog) GTEST_SKIP() << why;
  const std::string url = "syslog+tls://127.0.0.1:" + std::to_string(rsyslog->port());

  const auto r = runCommand(runArgs("--export '" + url + "?ca=" + (certs / "ca.pem").string() + "'",
                                    "for i in 1 2 3 4 5; do /bin/true; done") +
                            " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto written = jsonl();
  ASSERT_TRUE(waitFor([&] { return rsyslog->messages().size() >= written.size(); })) << rsyslog->output();
  EXPECT_EQ(withoutRepeats(rsyslog->messages()), written);
  const auto ok = verifySyslog(rsyslog->msgFile());
  EXPECT_EQ(ok.status, 0) << ok.output;

  // A server the given CA did not sign is never sent anything: recorded, and the session goes on.
  const size_t before = rsyslog->messages().size();
  std::filesystem::remove_all(log_dir_);
  const auto wrong = runCommand(runArgs("--export '" + url + "?ca=" + (certs / "other.pem").string() + "'",
                                        "/bin/true") +
                                " 2>&1");
  EXPECT_EQ(wrong.status, 0) << wrong.output;
  EXPECT_EQ(countContaining(jsonl(), "\"activity_name\":\"Sink Unreachable\""), 1u);
  EXPECT_THAT(readFile(log_dir_ / "warden.log"), HasSubstr("unable to get local issuer certificate"));
  EXPECT_THAT(readFile(log_dir_ / "warden.log"), Not(HasSubstr("?ca="))) << "query strings are never logged";
  EXPECT_EQ(rsyslog->messages().size(), before);
}

TEST_F(ExportSyslog, OverUdpEachEventIsOneDatagramOnLoopback) {
  std::string why;
  auto rsyslog = Rsyslog::start({.udp = true, .tls_ca = {}, .tls_cert = {}, .tls_key = {}}, &why);
  if (!rsyslog) GTEST_SKIP() << why;
  const auto r = runCommand(
      runArgs("--export syslog+udp://127.0.0.1:" + std::to_string(rsyslog->port()), "/bin/true; /bin/true") + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto written = jsonl();
  ASSERT_TRUE(waitFor([&] { return rsyslog->messages().size() >= written.size(); }))
      << rsyslog->messages().size() << " of " << written.size();
  EXPECT_EQ(rsyslog->messages(), written);
}

TEST_F(ExportSyslog, OverHttpsEveryEventArrivesAsNdjsonThatVerifiesAndTheTokenStaysOutOfTheRecord) {
  const NginxServer::Tls tls{tmp_ / "cert.pem", tmp_ / "key.pem"};
  ASSERT_TRUE(makeSelfSignedCertificate(tls.certificate, tls.key));
  std::string why;
  auto nginx = NginxServer::start(&why, &tls);
  if (!nginx) GTEST_SKIP() << why;
  const std::string url = "https://127.0.0.1:" + std::to_string(nginx->port()) +
                          "/ingest-auth/services/collector/raw?ca=" + tls.certificate.string() +
                          "&header=Authorization:Splunk%20s3cret-token";
  const auto r = runCommand(runArgs("--export " + shellQuote(url), "echo hello; /bin/true") + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto written = jsonl();
  ASSERT_GT(written.size(), 3u);
  // The session waited for the export to drain: the receiver answered for everything (nginx logs
  // each body just after its answer), once, in order.
  ASSERT_TRUE(waitFor([&] { return nginx->ingestLines().size() >= written.size(); }));
  EXPECT_EQ(nginx->ingestLines(), written);
  const auto copy = tmp_ / "siem-copy.jsonl";
  std::string text;
  for (const auto& l : nginx->ingestLines()) text += l + "\n";
  writeFile(copy, text);
  const auto ok = runCommand(wardenBinary().string() + " audit verify " + copy.string() + " 2>&1");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(readFile(log_dir_ / "warden.log").find("s3cret"), std::string::npos);
  for (const auto& l : written) EXPECT_EQ(l.find("s3cret"), std::string::npos);
  EXPECT_EQ(r.output.find("s3cret"), std::string::npos);
}

TEST_F(ExportSyslog, ABadExportUrlIsAUsageErrorNamingItAndStartsNothing) {
  const auto r = runCommand(runArgs("--export syslog+tcp://127.0.0.1", "/bin/true") + " 2>&1");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--export: export URL 'syslog+tcp://127.0.0.1': a port is required"));
  EXPECT_FALSE(std::filesystem::exists(log_dir_));
}

TEST(ExportSyslogProxy, WardenProxyExportsItsEventsToo) {
  std::string why;
  auto rsyslog = Rsyslog::start({}, &why);
  if (!rsyslog) GTEST_SKIP() << why;
  TempDir dir;
  writeFile(dir / "policy.yaml", "version: 1\nnetwork:\n");
  ChildProcess::Options o;
  o.argv = {wardenBinary().string(), "proxy", "--policy", (dir / "policy.yaml").string(), "--listen",
            "127.0.0.1:0", "--log-dir", (dir / "log").string(), "--ocsf-json", "--export",
            "syslog+tcp://127.0.0.1:" + std::to_string(rsyslog->port())};
  auto proxy = ChildProcess::start(o, &why);
  ASSERT_TRUE(proxy) << why;
  ASSERT_NE(proxy->waitForLine("HTTPS_PROXY="), "") << proxy->output();
  EXPECT_EQ(proxy->terminate(), 0) << proxy->output();
  const auto written = completeLines(dir / "log" / "warden-ocsf.log");
  ASSERT_FALSE(written.empty());
  ASSERT_TRUE(waitFor([&] { return rsyslog->messages().size() >= written.size(); })) << proxy->output();
  EXPECT_EQ(rsyslog->messages(), written);
}

}  // namespace
}  // namespace warden::testing
