#include "gateway/settings/gateway_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_env.h"

namespace warden::gateway {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> problems(std::string_view text) {
  std::vector<ConfigDiagnostic> diagnostics;
  const auto result = parseGatewayConfig(text, "gw.yaml", &diagnostics);
  std::vector<std::string> out;
  for (const auto& d : diagnostics) out.push_back(d.toString());
  EXPECT_EQ(result.ok(), out.empty());
  if (!result.ok()) {
    EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(result.error().message(), joinDiagnostics(diagnostics));
  }
  return out;
}

TEST(GatewayConfigTest, ParsesAFullValidFile) {
  const auto config = parseGatewayConfig(R"(# the gateway
listen: 127.0.0.1:7443
db: postgresql://warden@localhost/warden
ocsf_logging: true
retention:
  max_age: 90d
  max_bytes: 10GiB
  interval: 30m
policy: /etc/warden/policy.yaml
log_dir: /var/log/warden/gw
poll_interval: 2s
tls:
  cert: /etc/warden/gw.crt
  key: /etc/warden/gw.key
)",
                                         "gw.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->listen, "127.0.0.1:7443");
  EXPECT_EQ(config->db, "postgresql://warden@localhost/warden");
  EXPECT_EQ(config->ocsf_logging, true);
  EXPECT_EQ(config->retention_millis, int64_t{90} * 86'400'000);
  EXPECT_EQ(config->retention_max_bytes, uint64_t{10} << 30);
  EXPECT_EQ(config->retention_interval_millis, 30 * 60'000);
  EXPECT_EQ(config->policy, "/etc/warden/policy.yaml");
  EXPECT_EQ(config->log_dir, "/var/log/warden/gw");
  EXPECT_EQ(config->poll_interval_millis, 2000);
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->cert, "/etc/warden/gw.crt");
  EXPECT_EQ(config->tls->key, "/etc/warden/gw.key");
}

TEST(GatewayConfigTest, ParsesWhoTheOperatorsAre) {
  const auto config = parseGatewayConfig(R"(operator_socket: /run/warden/gw.sock
operator_group: warden-ops
operator_tokens: /etc/warden/operator-tokens
tls:
  cert: /etc/warden/gw.crt
  key: /etc/warden/gw.key
  client_ca: /etc/warden/operators-ca.pem
)",
                                         "gw.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->operator_socket, "/run/warden/gw.sock");
  EXPECT_EQ(config->operator_group, "warden-ops");
  EXPECT_EQ(config->operator_tokens, "/etc/warden/operator-tokens");
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->client_ca, "/etc/warden/operators-ca.pem");
  EXPECT_THAT(problems("operator_group: [a, b]\n"),
              ::testing::ElementsAre(HasSubstr("operator_group: expected a group name or number, got a list")));
  EXPECT_THAT(problems("tls: {cert: a, key: b, client_cert: c}\n"), ::testing::ElementsAre(HasSubstr("client_cert")));
}

TEST(GatewayConfigTest, ExportsAreAListOfUrls) {
  const auto config = parseGatewayConfig(R"(exports:
  - https://siem.example/ingest?header_file=/etc/warden/siem-headers
  - syslog+tls://siem.example:6514
)",
                                         "gw.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  ASSERT_TRUE(config->exports.has_value());
  EXPECT_EQ(*config->exports, (std::vector<std::string>{"https://siem.example/ingest?header_file=/etc/warden/siem-headers",
                                                        "syslog+tls://siem.example:6514"}));
  EXPECT_THAT(problems("exports: https://one.example/x\n"), ::testing::ElementsAre(HasSubstr("exports: expected a list")));
  EXPECT_THAT(problems("exports: [[a]]\n"), ::testing::ElementsAre(HasSubstr("exports[0]: expected an export URL")));
}

TEST(GatewayConfigTest, EmptyFileLeavesEverythingUnset) {
  const auto config = parseGatewayConfig("", "gw.yaml");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->listen.has_value());
  EXPECT_FALSE(config->ocsf_logging.has_value());
  EXPECT_FALSE(config->tls.has_value());
  EXPECT_FALSE(config->retention_millis.has_value());
  EXPECT_FALSE(config->policy.has_value());
  EXPECT_TRUE(parseGatewayConfig("# only a comment\n", "gw.yaml").ok());
}

TEST(GatewayConfigTest, AcceptsIpv6ListenAndSqlitePath) {
  const auto config = parseGatewayConfig("listen: '[::1]:0'\ndb: /var/lib/warden/gw.db\nocsf_logging: false\n",
                                         "gw.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->listen, "[::1]:0");
  EXPECT_EQ(config->db, "/var/lib/warden/gw.db");
  EXPECT_EQ(config->ocsf_logging, false);
}

TEST(GatewayConfigTest, RejectsUnknownKeyWithPosition) {
  EXPECT_EQ(problems("listen: 127.0.0.1:1\nocsf_loging: true\n"),
            std::vector<std::string>{"gw.yaml:2:1: unknown key 'ocsf_loging' at the top level (did you mean "
                                     "'ocsf_logging'?)"});
  EXPECT_EQ(problems("colour: red\n"),
            std::vector<std::string>{"gw.yaml:1:1: unknown key 'colour' at the top level (expected one of: "
                                     "listen, db, ocsf_logging, retention, policy, log_dir, poll_interval, tls, "
                                     "operator_socket, operator_group, operator_tokens, exports)"});
  EXPECT_EQ(problems("tls:\n  cert: a\n  key: b\n  ca: c\n"),
            std::vector<std::string>{"gw.yaml:4:3: unknown key 'ca' in tls (expected one of: cert, key, client_ca)"});
}

TEST(GatewayConfigTest, RejectsWrongTypesAtTheValue) {
  EXPECT_EQ(problems("ocsf_logging: yes please\n"),
            std::vector<std::string>{"gw.yaml:1:15: ocsf_logging: 'yes please' is not true or false"});
  EXPECT_EQ(problems("retention:\n  max_age: 90 days\n"),
            std::vector<std::string>{"gw.yaml:2:12: retention.max_age: '90 days' is not a positive duration; use a "
                                     "number and a unit: ms, s, m, h or d (90d)"});
  EXPECT_EQ(problems("listen:\n  - a\n"),
            std::vector<std::string>{"gw.yaml:2:3: listen: expected ADDR:PORT, got a list"});
}

TEST(GatewayConfigTest, EmptyValueIsReportedAtItsKey) {
  EXPECT_EQ(problems("db: x\npoll_interval:\n"),
            std::vector<std::string>{"gw.yaml:2:1: poll_interval: expected a duration such as 30s, 5m, 2h or 90d, "
                                     "got nothing"});
}

TEST(GatewayConfigTest, ReportsSeveralProblemsAtOnceInFileOrder) {
  const auto found = problems(R"(listen: nowhere
db: mysql://x
ocsf_logging: 1
retention:
  max_age: 0d
  max_bytes: lots
poll_interval: 5s
extra: 1
tls:
  cert: /a
)");
  ASSERT_EQ(found.size(), 7u);
  EXPECT_THAT(found[0], HasSubstr("gw.yaml:1:9: listen: 'nowhere' is not ADDR:PORT"));
  EXPECT_THAT(found[1], HasSubstr("gw.yaml:2:5: db: 'mysql://x' is neither"));
  EXPECT_THAT(found[2], HasSubstr("gw.yaml:3:15: ocsf_logging: '1' is not true or false"));
  EXPECT_THAT(found[3], HasSubstr("gw.yaml:5:12: retention.max_age: '0d' is not a positive duration"));
  EXPECT_THAT(found[4], HasSubstr("gw.yaml:6:14: retention.max_bytes: 'lots' is not a positive size"));
  EXPECT_THAT(found[5], HasSubstr("gw.yaml:8:1: unknown key 'extra'"));
  EXPECT_THAT(found[6], HasSubstr("gw.yaml:10:3: tls: needs both 'cert' and 'key' (missing 'key')"));
}

TEST(GatewayConfigTest, RetentionIsAMappingOfKnownKeys) {
  EXPECT_EQ(problems("retention: 90d\n"),
            std::vector<std::string>{"gw.yaml:1:12: retention: expected a mapping, got a value"});
  EXPECT_EQ(problems("retention:\n  max_size: 1G\n"),
            std::vector<std::string>{"gw.yaml:2:3: unknown key 'max_size' in retention (expected one of: max_age, "
                                     "max_bytes, interval)"});
  EXPECT_EQ(problems("retention:\n  interval: 0s\n").size(), 1u);
  const auto only_size = parseGatewayConfig("retention: {max_bytes: 512MiB}\n", "gw.yaml");
  ASSERT_TRUE(only_size.ok()) << only_size.error().message();
  EXPECT_EQ(only_size->retention_max_bytes, uint64_t{512} << 20);
  EXPECT_FALSE(only_size->retention_millis.has_value());
  EXPECT_FALSE(only_size->retention_interval_millis.has_value());
}

TEST(GatewayConfigTest, PolicyAndLogDirAreNonEmptyPaths) {
  EXPECT_EQ(problems("policy:\n"),
            std::vector<std::string>{"gw.yaml:1:1: policy: expected a policy file path, got nothing"});
  EXPECT_EQ(problems("log_dir: [a]\n"),
            std::vector<std::string>{"gw.yaml:1:10: log_dir: expected a directory path, got a list"});
}

TEST(GatewayConfigTest, RejectsDuplicateKeys) {
  EXPECT_EQ(problems("db: a\ndb: b\n"),
            std::vector<std::string>{"gw.yaml:2:1: duplicate key 'db' (first at line 1)"});
}

TEST(GatewayConfigTest, RejectsNonMappingRootAndTls) {
  EXPECT_EQ(problems("- listen\n"), std::vector<std::string>{"gw.yaml:1:1: the config: expected a mapping, got a list"});
  EXPECT_EQ(problems("tls: yes\n"), std::vector<std::string>{"gw.yaml:1:6: tls: expected a mapping, got a value"});
}

TEST(GatewayConfigTest, ReportsYamlSyntaxErrorWithPosition) {
  const auto found = problems("listen: [127.0.0.1:1\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_THAT(found[0], ::testing::MatchesRegex("gw\\.yaml:[0-9]+:[0-9]+: YAML syntax error: .*"));
}

TEST(GatewayConfigTest, RejectsSecondDocument) {
  const auto found = problems("db: a\n---\ndb: b\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_THAT(found[0], HasSubstr("more than one YAML document"));
}

TEST(GatewayConfigTest, RejectsOversizedText) {
  const auto found = problems(std::string(kMaxGatewayConfigBytes + 1, '#'));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_THAT(found[0], HasSubstr("bytes; it may be at most " + std::to_string(kMaxGatewayConfigBytes) + " bytes"));
}

TEST(GatewayConfigTest, EscapesControlBytesInEchoedValues) {
  const auto found = problems("db: \"a://\\x01\"\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_THAT(found[0], HasSubstr("'a://\\x01'"));
}

TEST(GatewayConfigTest, LoadsFromFileAndNamesItInDiagnostics) {
  testing::TempDir dir;
  const auto path = dir / "gateway.yaml";
  testing::writeFile(path, "listen: 127.0.0.1:7443\nbogus: 1\n");
  std::vector<ConfigDiagnostic> diagnostics;
  const auto result = loadGatewayConfig(path, &diagnostics);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].file, path.string());
  EXPECT_EQ(diagnostics[0].line, 2);
  EXPECT_EQ(diagnostics[0].column, 1);
  testing::writeFile(path, "ocsf_logging: true\n");
  const auto ok = loadGatewayConfig(path);
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_EQ(ok->ocsf_logging, true);
}

TEST(GatewayConfigTest, MissingFileAndDirectoryAreClearErrors) {
  testing::TempDir dir;
  const auto missing = loadGatewayConfig(dir / "absent.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("absent.yaml"));
  const auto directory = loadGatewayConfig(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(directory.error().message(), HasSubstr("is a directory"));
}

}  // namespace
}  // namespace warden::gateway
