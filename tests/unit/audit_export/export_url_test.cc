#include "audit/export/export_url.h"

#include <gtest/gtest.h>

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
      {"https://siem.example/ingest", "not implemented yet"},
      {"syslog+tcp://siem.example", "a port is required"},
      {"syslog+tcp://siem.example:0", "is not a port"},
      {"syslog+tcp://siem.example:70000", "is not a port"},
      {"syslog+tcp://siem.example:51x", "is not a port"},
      {"syslog+tcp://:514", "the host is empty"},
      {"syslog+tcp://::1:514", "in brackets"},
      {"syslog+tcp://user@h:514", "user info"},
      {"syslog+tcp://h:514/path", "a path is not allowed"},
      {"syslog+tcp://h:514?ca=/x", "only for syslog+tls"},
      {"syslog+tls://h:514?ca=", "needs a file"},
      {"syslog+tls://h:514?cert=/x", "unknown parameter 'cert'"},
      {"syslog+tcp://h st:514", "not allowed in a name"},
  };
  for (const auto& [url, why] : cases) {
    auto parsed = ExportUrl::parse(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << url;
    EXPECT_NE(parsed.error().message().find(url), std::string::npos) << parsed.error().message();
    EXPECT_NE(parsed.error().message().find(why), std::string::npos) << url << ": " << parsed.error().message();
  }
}

}  // namespace
}  // namespace warden::audit::exporting
