#include "audit/export/export_url.h"

#include <gtest/gtest.h>

#include "support/test_env.h"

namespace warden::audit::exporting {
namespace {

TEST(ExportUrlTest, ParsesTheThreeSyslogTransports) {
  auto tcp = ExportUrl::parse("syslog+tcp://siem.example:6514");
  ASSERT_TRUE(tcp.ok()) << tcp.error().toString();
  EXPECT_EQ(tcp->transport, ExportUrl::Transport::kTcp);
  EXPECT_EQ(tcp->host, "siem.example");
  EXPECT_EQ(tcp->port, 6514);
  EXPECT_FALSE(tcp->ca_file.has_value());

  auto tls = ExportUrl::parse("syslog+tls://127.0.0.1:6514?ca=/etc/ssl/siem-ca.pem");
  ASSERT_TRUE(tls.ok()) << tls.error().toString();
  EXPECT_EQ(tls->transport, ExportUrl::Transport::kTls);
  EXPECT_EQ(tls->host, "127.0.0.1");
  ASSERT_TRUE(tls->ca_file.has_value());
  EXPECT_EQ(*tls->ca_file, "/etc/ssl/siem-ca.pem");
  EXPECT_EQ(tls->name, "syslog+tls://127.0.0.1:6514") << "the name never carries the query";

  auto udp = ExportUrl::parse("syslog+udp://[::1]:514");
  ASSERT_TRUE(udp.ok()) << udp.error().toString();
  EXPECT_EQ(udp->transport, ExportUrl::Transport::kUdp);
  EXPECT_EQ(udp->host, "::1");
  EXPECT_EQ(udp->port, 514);
  EXPECT_EQ(udp->text, "syslog+udp://[::1]:514");
  EXPECT_EQ(udp->name, "syslog+udp://[::1]:514");
}

TEST(ExportUrlTest, RejectsWhatIsNotAnExportUrlNamingTheUrlAndTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"siem.example:514", "expected syslog+tcp://"},
      {"syslog+sctp://h:1", "unknown scheme 'syslog+sctp'"},
      {"http://siem.example/ingest", "only for a receiver on this host"},
      {"http://10.0.0.5:8080/ingest", "only for a receiver on this host"},
      {"https://siem.example/ingest?format=xml", "format 'xml' is not ndjson or es-bulk"},
      {"https://siem.example/ingest?header=NoColon", "not Name:Value"},
      {"https://siem.example/ingest?header=Content-Length:5", "written by the export itself"},
      {"https://siem.example/in gest", "percent-encode"},
      {"https://siem.example/ingest?ca=", "needs a file"},
      {"syslog+tcp://siem.example", "a port is required"},
      {"syslog+tcp://siem.example:0", "is not a port"},
      {"syslog+tcp://siem.example:70000", "is not a port"},
      {"syslog+tcp://siem.example:51x", "is not a port"},
      {"syslog+tcp://:514", "the host is empty"},
      {"syslog+tcp://::1:514", "in brackets"},
      {"syslog+tcp://user@h:514", "user info"},
      {"syslog+tcp://h:514/path", "a path is not allowed"},
      {"syslog+tcp://h:514?ca=/x", "only for syslog+tls and https"},
      {"syslog+tls://h:514?ca=", "needs a file"},
      {"syslog+tls://h:514?cert=/x", "unknown parameter 'cert'"},
      {"syslog+tcp://h st:514", "not allowed in a name"},
  };
  for (const auto& [url, why] : cases) {
    auto parsed = ExportUrl::parse(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << url;
    EXPECT_NE(parsed.error().message().find(redactedExportUrl(url)), std::string::npos) << parsed.error().message();
    EXPECT_NE(parsed.error().message().find(why), std::string::npos) << url << ": " << parsed.error().message();
  }
}

TEST(ExportUrlTest, ParsesHttpsWithHeadersFormatAndTheReceiversOwnParameters) {
  auto url = ExportUrl::parse(
      "https://hec.example:8088/services/collector/raw?header=Authorization:Splunk%20abc-123&sourcetype=ocsf"
      "&ca=/etc/ca.pem&header=X-Splunk-Request-Channel:%200190&channel=7");
  ASSERT_TRUE(url.ok()) << url.error().toString();
  EXPECT_EQ(url->transport, ExportUrl::Transport::kHttps);
  EXPECT_EQ(url->host, "hec.example");
  EXPECT_EQ(url->port, 8088);
  EXPECT_EQ(url->target, "/services/collector/raw?sourcetype=ocsf&channel=7");
  ASSERT_EQ(url->headers.size(), 2u);
  EXPECT_EQ(url->headers[0], std::make_pair(std::string("Authorization"), std::string("Splunk abc-123")));
  EXPECT_EQ(url->headers[1], std::make_pair(std::string("X-Splunk-Request-Channel"), std::string("0190")));
  EXPECT_EQ(url->ca_file, "/etc/ca.pem");
  EXPECT_EQ(url->format, ExportUrl::Format::kNdjson);
  EXPECT_EQ(url->name, "https://hec.example:8088/services/collector/raw") << "never the query: tokens live there";

  auto bulk = ExportUrl::parse("https://[2001:db8::1]/warden-events/_bulk?format=es-bulk");
  ASSERT_TRUE(bulk.ok()) << bulk.error().toString();
  EXPECT_EQ(bulk->port, 443);
  EXPECT_EQ(bulk->format, ExportUrl::Format::kEsBulk);
  EXPECT_EQ(bulk->target, "/warden-events/_bulk");

  auto local = ExportUrl::parse("http://localhost:9200/_bulk?format=es-bulk");
  ASSERT_TRUE(local.ok()) << local.error().toString();
  EXPECT_EQ(local->transport, ExportUrl::Transport::kHttp);
  EXPECT_TRUE(ExportUrl::parse("http://127.0.0.9/x").ok());
  EXPECT_TRUE(ExportUrl::parse("http://[::1]:8080/x").ok());
}

TEST(ExportUrlTest, AnErrorNeverShowsAHeadersValue) {
  auto bad = ExportUrl::parse("https://hec.example:0/raw?header=Authorization:Splunk%20abc-123");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message().find("abc-123"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("header=[redacted]"), std::string::npos) << bad.error().message();
}

TEST(ExportUrlTest, AHeaderFileHoldsNameValueLinesAndItsErrorsNameTheLineNotTheValue) {
  warden::testing::TempDir dir;
  warden::testing::writeFile(dir / "ok", "# token\n\nAuthorization: Bearer xyz-987\r\nX-A:b\n");
  auto ok = readHeaderFile((dir / "ok").string());
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].second, "Bearer xyz-987");
  EXPECT_EQ((*ok)[1].first, "X-A");
  warden::testing::writeFile(dir / "bad", "Authorization: Bearer xyz-987\nno colon secret-555\n");
  auto bad = readHeaderFile((dir / "bad").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find(":2: not 'Name: Value'"), std::string::npos) << bad.error().message();
  EXPECT_EQ(bad.error().message().find("secret-555"), std::string::npos);
  EXPECT_FALSE(readHeaderFile((dir / "missing").string()).ok());
}

}  // namespace
}  // namespace warden::audit::exporting
