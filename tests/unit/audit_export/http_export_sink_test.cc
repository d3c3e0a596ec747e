// The HTTPS NDJSON export against a real nginx on loopback (tests/support/nginx.h, /ingest*/
// locations): what arrives, with which headers, across an outage, and when batches are too large.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "audit/export/http_export_link.h"
#include "audit/export/spooled_export_sink.h"
#include "support/nginx.h"
#include "support/test_env.h"
#include "unit/audit/audit_test_util.h"
#include "unit/audit_export/export_session.h"

namespace warden::audit::exporting {
namespace {

using testutil::kNoon;
using testutil::testEvent;
using warden::testing::NginxServer;
using warden::testing::TempDir;
using warden::testing::waitFor;

// nginx serving HTTPS with a self-signed certificate for 127.0.0.1, which the export trusts (ca=).
struct HttpsReceiver {
  TempDir dir;
  std::unique_ptr<NginxServer> nginx;
  std::string why;

  HttpsReceiver() {
    const NginxServer::Tls tls{dir / "cert.pem", dir / "key.pem"};
    if (!warden::testing::makeSelfSignedCertificate(tls.certificate, tls.key)) {
      why = "openssl could not make a certificate";
      return;
    }
    nginx = NginxServer::start(&why, &tls);
  }
  std::string url(std::string_view path, std::string_view params = "") const {
    return fmt::format("https://127.0.0.1:{}{}?ca={}{}{}", nginx->port(), path, (dir / "cert.pem").string(),
                       params.empty() ? "" : "&", params);
  }
};

// nginx writes its log after it answered: wait until it holds `n` lines (more than the lines
// before) before comparing.
std::vector<std::string> ingestedAtLeast(const NginxServer& nginx, size_t n) {
  waitFor([&] { return nginx.ingestLines().size() >= n; });
  return nginx.ingestLines();
}

SpooledExportOptions optionsFor(const std::string& url, const std::filesystem::path& spool) {
  SpooledExportOptions o;
  auto parsed = ExportUrl::parse(url);
  EXPECT_TRUE(parsed.ok()) << parsed.error().toString();
  o.url = parsed.value();
  o.spool_dir = spool;
  o.backoff_min = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(100);
  return o;
}

TEST(HttpExportSinkTest, EveryEventArrivesAsOneNdjsonLineExactlyTheJsonlLine) {
  HttpsReceiver receiver;
  if (!receiver.nginx) GTEST_SKIP() << receiver.why;
  TempDir dir;
  ExportSession s(dir / "log", optionsFor(receiver.url("/ingest/events"), dir / "spool"));
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 3000; ++i) s.pipeline->emit(testEvent(kNoon, "event " + std::to_string(i)));
  ASSERT_TRUE(s.pipeline->close().ok());
  const auto jsonl = s.jsonl();
  ASSERT_GT(jsonl.size(), 3000u);
  EXPECT_EQ(ingestedAtLeast(*receiver.nginx, jsonl.size()), jsonl) << "in order, each exactly once, byte for byte";
  EXPECT_EQ(s.sink->stats().delivered_sequence, jsonl.size());
  EXPECT_EQ(s.sink->stats().outages, 0u) << warden::testing::readFile(dir / "log" / "warden.log");
  EXPECT_FALSE(std::filesystem::exists(dir / "spool"));
  // Batched: far fewer POSTs than events, each with the NDJSON content type.
  const std::string access = receiver.nginx->accessLog();
  const size_t posts = std::count(access.begin(), access.end(), '\n');
  EXPECT_GE(posts, 2u);  // 3,000+ events do not fit one 1 MiB batch... or one 1,024-event batch
  EXPECT_LT(posts, 100u);
}

TEST(HttpExportSinkTest, HeadersFromTheUrlAndAHeaderFileReachTheReceiverAndNeverTheTrail) {
  HttpsReceiver receiver;
  if (!receiver.nginx) GTEST_SKIP() << receiver.why;
  {
    TempDir dir;
    ExportSession s(dir / "log", optionsFor(receiver.url("/ingest-auth/", "header=Authorization:Splunk%20s3cret-token"), dir / "spool"));
    ASSERT_TRUE(s.pipeline);
    for (int i = 0; i < 50; ++i) s.pipeline->emit(testEvent(kNoon, "event " + std::to_string(i)));
    ASSERT_TRUE(s.pipeline->close().ok());
    EXPECT_EQ(ingestedAtLeast(*receiver.nginx, s.jsonl().size()), s.jsonl());
    EXPECT_EQ(s.count("s3cret"), 0u);
    EXPECT_FALSE(testutil::fileContains(dir / "log" / "warden.log", "s3cret"));
  }
  {
    TempDir dir;
    warden::testing::writeFile(dir / "headers", "# the HEC token\nAuthorization: Splunk s3cret-token\nX-Splunk-Request-Channel: 0190a1b2\n");
    ExportSession s(dir / "log", optionsFor(receiver.url("/ingest-auth/", "header_file=" + (dir / "headers").string()), dir / "spool"));
    ASSERT_TRUE(s.pipeline);
    const size_t before = receiver.nginx->ingestLines().size();
    for (int i = 0; i < 50; ++i) s.pipeline->emit(testEvent(kNoon, "event " + std::to_string(i)));
    ASSERT_TRUE(s.pipeline->close().ok());
    EXPECT_EQ(ingestedAtLeast(*receiver.nginx, before + s.jsonl().size()).size() - before, s.jsonl().size());
    EXPECT_EQ(s.count("s3cret"), 0u);
  }
  {
    // A wrong token: 401 is an outage, recorded once, named by its status; nothing is delivered.
    TempDir dir;
    SpooledExportOptions o = optionsFor(receiver.url("/ingest-auth/", "header=Authorization:Splunk%20wrong-s3cret"), dir / "spool");
    o.drain = std::chrono::milliseconds(300);
    ExportSession s(dir / "log", o);
    ASSERT_TRUE(s.pipeline);
    const size_t before = receiver.nginx->ingestLines().size();
    for (int i = 0; i < 20; ++i) s.pipeline->emit(testEvent(kNoon, "event " + std::to_string(i)));
    ASSERT_TRUE(waitFor([&] { return s.count("\"activity_name\":\"Sink Unreachable\"") == 1; }));
    EXPECT_EQ(s.count("HTTP 401"), 1u);
    ASSERT_TRUE(s.pipeline->close().ok());
    EXPECT_EQ(s.count("\"activity_name\":\"Sink Unreachable\""), 1u) << "retries are not new outages";
    EXPECT_EQ(s.count("\"activity_name\":\"Sink Reconnected\""), 0u) << "a connection that answers 401 is not up";
    EXPECT_EQ(receiver.nginx->ingestLines().size(), before);
    EXPECT_EQ(s.count("wrong-s3cret"), 0u);
    EXPECT_FALSE(testutil::fileContains(dir / "log" / "warden.log", "s3cret"));
    EXPECT_TRUE(std::filesystem::exists(dir / "spool")) << "what was not delivered stays in the spool";
  }
}

TEST(HttpExportSinkTest, AReceiverStoppedAndRestartedGetsEverySequenceAndTheOutageIsRecordedOnceEachWay) {
  HttpsReceiver receiver;
  if (!receiver.nginx) GTEST_SKIP() << receiver.why;
  TempDir dir;
  ExportSession s(dir / "log", optionsFor(receiver.url("/ingest/"), dir / "spool"));
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 500; ++i) s.pipeline->emit(testEvent(kNoon, "before " + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return s.sink->stats().delivered_sequence >= 500; }));
  receiver.nginx->stop();
  for (int i = 0; i < 500; ++i) s.pipeline->emit(testEvent(kNoon, "during " + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return s.sink->stats().outages == 1; }));
  ASSERT_TRUE(receiver.nginx->restart());
  // Back once a batch is accepted (a connection alone does not close an HTTP outage).
  ASSERT_TRUE(waitFor([&] { return s.count("\"activity_name\":\"Sink Reconnected\"") == 1; }));
  for (int i = 0; i < 500; ++i) s.pipeline->emit(testEvent(kNoon, "after " + std::to_string(i)));
  ASSERT_TRUE(s.pipeline->close().ok());
  const auto jsonl = s.jsonl();
  // At least once, in order: every sequence arrives; duplicates (none expected with HTTP's
  // acknowledgements, but allowed) are dropped by sequence.
  std::set<uint64_t> seen;
  uint64_t last = 0;
  for (const auto& line : ingestedAtLeast(*receiver.nginx, jsonl.size())) {
    const uint64_t seq = nlohmann::json::parse(line)["metadata"]["sequence"].get<uint64_t>();
    if (seen.insert(seq).second) {
      EXPECT_EQ(seq, last + 1) << "new sequences arrive in order";
      last = seq;
    }
  }
  EXPECT_EQ(seen.size(), jsonl.size());
  EXPECT_EQ(s.count("\"activity_name\":\"Sink Unreachable\""), 1u);
  EXPECT_EQ(s.count("\"activity_name\":\"Sink Reconnected\""), 1u);
}

TEST(HttpExportSinkTest, ABatchTheReceiverRefusesAsTooLargeIsSplitUntilItFitsWithoutAnOutage) {
  HttpsReceiver receiver;
  if (!receiver.nginx) GTEST_SKIP() << receiver.why;
  TempDir dir;
  ExportSession s(dir / "log", optionsFor(receiver.url("/ingest-small/"), dir / "spool"));
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 400; ++i) s.pipeline->emit(testEvent(kNoon, std::string(200, 'x') + std::to_string(i)));
  // Delivered while the session runs, so the batch size change is reported in its warden.log.
  ASSERT_TRUE(waitFor([&] { return s.sink->stats().delivered_sequence >= 401; }));
  ASSERT_TRUE(s.pipeline->close().ok());
  EXPECT_EQ(ingestedAtLeast(*receiver.nginx, s.jsonl().size()), s.jsonl());
  EXPECT_EQ(s.count("\"activity_name\":\"Sink Unreachable\""), 0u);
  EXPECT_TRUE(testutil::fileContains(dir / "log" / "warden.log", "events per batch from now on"))
      << warden::testing::readFile(dir / "log" / "warden.log");
  EXPECT_NE(receiver.nginx->accessLog().find(" 413 "), std::string::npos) << receiver.nginx->accessLog();
}

TEST(HttpExportSinkTest, AServerEndingKeepAliveConnectionsIsNotAnOutage) {
  HttpsReceiver receiver;
  if (!receiver.nginx) GTEST_SKIP() << receiver.why;
  TempDir dir;
  ExportSession s(dir / "log", optionsFor(receiver.url("/ingest-short/"), dir / "spool"));
  ASSERT_TRUE(s.pipeline);
  // Five batches or more: nginx closes each connection after its second request.
  for (int i = 0; i < 5000; ++i) s.pipeline->emit(testEvent(kNoon, "event " + std::to_string(i)));
  ASSERT_TRUE(s.pipeline->close().ok());
  EXPECT_EQ(ingestedAtLeast(*receiver.nginx, s.jsonl().size()), s.jsonl());
  EXPECT_EQ(s.sink->stats().outages, 0u) << warden::testing::readFile(dir / "log" / "warden.log");
  EXPECT_GE(s.sink->stats().connections, 3u) << "new connections were opened after nginx ended the old ones";
}

TEST(HttpExportSinkTest, EsBulkPutsACreateActionNamingSessionAndSequenceBeforeEachEvent) {
  TempDir dir;
  std::string why;
  auto nginx = NginxServer::start(&why);  // plain http: allowed on loopback
  if (!nginx) GTEST_SKIP() << why;
  ExportSession s(dir / "log", optionsFor(fmt::format("http://127.0.0.1:{}/ingest/warden/_bulk?format=es-bulk&refresh=false", nginx->port()),
                            dir / "spool"));
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 30; ++i) s.pipeline->emit(testEvent(kNoon, "event " + std::to_string(i)));
  ASSERT_TRUE(s.pipeline->close().ok());
  const auto jsonl = s.jsonl();
  const auto lines = ingestedAtLeast(*nginx, 2 * jsonl.size());
  ASSERT_EQ(lines.size(), 2 * jsonl.size());
  for (size_t i = 0; i < jsonl.size(); ++i) {
    EXPECT_EQ(lines[2 * i], fmt::format("{{\"create\":{{\"_id\":\"{}-{}\"}}}}", testutil::testSession().session_id, i + 1));
    EXPECT_EQ(lines[2 * i + 1], jsonl[i]);
  }
  EXPECT_NE(nginx->accessLog().find("POST /ingest/warden/_bulk?refresh=false "), std::string::npos)
      << "the receiver's own parameters stay in the request; ours do not: " << nginx->accessLog();
}

TEST(CheckBulkResponseTest, DuplicatesAreAcceptedAndAnyOtherItemErrorIsNamed) {
  EXPECT_TRUE(checkBulkResponse(R"({"took":3,"errors":false,"items":[{"create":{"status":201}}]})").ok());
  EXPECT_TRUE(checkBulkResponse(
                  R"({"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}}]})")
                  .ok());
  auto refused = checkBulkResponse(
      R"({"errors":true,"items":[{"create":{"status":409}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [time]"}}}]})");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("refused 1 of 2"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("mapper_parsing_exception: failed to parse field [time]"), std::string::npos);
  EXPECT_FALSE(checkBulkResponse("not json").ok());
  EXPECT_FALSE(checkBulkResponse(R"({"items":[]})").ok());
}

}  // namespace
}  // namespace warden::audit::exporting
