#include "policy/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/encoding.h"
#include "support/test_env.h"

namespace warden::policy {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

// Every problem the loader reports for `yaml`, as "p.yaml:L:C: message" lines.
std::vector<std::string> problems(const std::string& yaml) {
  Diagnostics d;
  const auto p = loadPolicyText(yaml, "p.yaml", &d);
  EXPECT_FALSE(p.ok()) << "expected problems in:\n" << yaml;
  std::vector<std::string> out;
  for (const auto& e : d.entries()) out.push_back(e.toString());
  return out;
}

Policy load(const std::string& yaml) {
  Diagnostics d;
  auto p = loadPolicyText(yaml, "p.yaml", &d);
  EXPECT_TRUE(p.ok()) << d.toString();
  return p.ok() ? std::move(p).value() : Policy{};
}

// A valid rule around one endpoint (a flow mapping), for endpoint-level checks. The endpoint
// starts at line 4, column 17.
std::string withEndpoint(const std::string& endpoint) {
  return "version: 1\nnetwork:\n  r:\n    endpoints: [" + endpoint +
         "]\n    binaries: [{path: /usr/bin/curl}]\n";
}

TEST(PolicyLoaderTest, SamplePolicyFromTheSandboxDocLoads) {
  const auto file = testing::sourceDir() / "tests/golden/policy/sample.yaml";
  Diagnostics d;
  const auto loaded = loadPolicyFile(file, &d);
  ASSERT_TRUE(loaded.ok()) << d.toString();
  const Policy& p = loaded.value();
  EXPECT_EQ(p.version, 1);
  EXPECT_EQ(p.hash, sha256Hex(testing::readFile(file)));
  EXPECT_EQ(p.source, file.string());
  EXPECT_EQ(p.process.run_as_user, "agent");
  EXPECT_EQ(p.process.timeout_millis, 2 * 3600 * 1000);
  EXPECT_EQ(p.resources.memory_bytes, 4ull << 30);
  EXPECT_EQ(p.resources.pids, 512u);
  EXPECT_EQ(p.resources.cpu, 2.0);
  EXPECT_EQ(p.filesystem.read_only, (std::vector<std::string>{"/usr", "/lib", "/lib64", "/etc", "/bin"}));
  EXPECT_EQ(p.filesystem.read_write, (std::vector<std::string>{"/workspace", "/tmp"}));
  EXPECT_EQ(p.audit.sensitive_paths,
            (std::vector<std::string>{"/etc", "/root", "~/.ssh", "~/.aws", "/workspace/.env"}));
  ASSERT_THAT(p.audit.package_sources, SizeIs(2));
  EXPECT_EQ(p.audit.package_sources[1].pattern(), "wheels.example.org");

  ASSERT_THAT(p.network, SizeIs(3));
  EXPECT_EQ(p.endpointCount(), 4u);
  const NetworkRule& gh = p.network[0];
  EXPECT_EQ(gh.name, "github_readonly");
  EXPECT_EQ(gh.location.line, 16);
  ASSERT_THAT(gh.endpoints, SizeIs(2));
  EXPECT_EQ(gh.endpoints[0].host.pattern(), "api.github.com");
  EXPECT_EQ(gh.endpoints[0].ports, (std::vector<uint16_t>{443}));
  EXPECT_EQ(gh.endpoints[0].protocol, Protocol::kRest);
  EXPECT_EQ(gh.endpoints[0].enforcement, Enforcement::kEnforce);
  EXPECT_EQ(gh.endpoints[0].access, Access::kReadOnly);
  EXPECT_EQ(gh.endpoints[0].rule, "github_readonly");
  ASSERT_THAT(gh.endpoints[1].allow_rules, SizeIs(1));
  EXPECT_EQ(gh.endpoints[1].allow_rules[0].describe(), "GET /repos/**");
  ASSERT_THAT(gh.endpoints[1].deny_rules, SizeIs(1));
  EXPECT_EQ(gh.endpoints[1].deny_rules[0].describe(), "* /admin/**");
  ASSERT_THAT(gh.binaries, SizeIs(2));
  EXPECT_EQ(gh.binaries[1].path.pattern(), "/usr/bin/git");

  EXPECT_EQ(p.network[1].endpoints[0].protocol, Protocol::kWebsocket);
  EXPECT_EQ(p.network[1].endpoints[0].access, Access::kFull);
  const Endpoint& db = p.network[2].endpoints[0];
  EXPECT_TRUE(db.tls_skip);
  EXPECT_EQ(db.protocol, Protocol::kNone);
  ASSERT_THAT(db.allowed_ips, SizeIs(1));
  EXPECT_EQ(db.allowed_ips[0].toString(), "10.30.1.5/32");
  EXPECT_EQ(p.network[2].binaries[0].path.pattern(), "/opt/app/**");
}

TEST(PolicyLoaderTest, TheWholeExampleOfTheSpecificationLoads) {
  // sandbox.md's policy example, every section: process.env, audit, credentials, mcp tools, llm.
  const auto file = testing::sourceDir() / "tests/golden/policy/sandbox_md.yaml";
  Diagnostics d;
  const auto loaded = loadPolicyFile(file, &d);
  ASSERT_TRUE(loaded.ok()) << d.toString();
  const Policy& p = loaded.value();
  ASSERT_THAT(p.process.env, SizeIs(1));
  EXPECT_EQ(p.process.env[0].first, "PIP_INDEX_URL");
  EXPECT_EQ(p.process.env[0].second, "https://pypi.example.org/simple");
  EXPECT_TRUE(p.filesystem.declared);
  EXPECT_TRUE(p.audit.processes);
  EXPECT_TRUE(p.audit.file_writes);
  EXPECT_THAT(p.audit.sensitive_paths, ElementsAre("/etc/shadow", "~/.ssh", "~/.aws", "**/.env"));
  ASSERT_THAT(p.audit.exclude_paths, SizeIs(2));
  EXPECT_TRUE(p.audit.exclude_paths[0].matches("/workspace/pkg/__pycache__/x.pyc"));
  EXPECT_EQ(p.audit.tool_inputs, ToolInputs::kSummary);
  EXPECT_EQ(p.audit.model_content, ModelContent::kNone);
  ASSERT_THAT(p.credentials, SizeIs(1));
  const Credential& c = p.credentials[0];
  EXPECT_EQ(c.name, "github");
  EXPECT_EQ(c.env, "GITHUB_TOKEN");
  EXPECT_EQ(c.source, Credential::Source::kEnv);
  EXPECT_EQ(c.source_ref, "WARDEN_GITHUB_TOKEN");
  ASSERT_THAT(c.inject, SizeIs(1));
  EXPECT_EQ(c.inject[0].host.pattern(), "api.github.com");
  EXPECT_EQ(c.inject[0].ports, (std::vector<uint16_t>{443}));
  const NetworkRule* tools = p.findRule("tools_server");
  ASSERT_NE(tools, nullptr);
  const Endpoint& mcp = tools->endpoints[0];
  EXPECT_EQ(mcp.protocol, Protocol::kMcp);
  EXPECT_EQ(mcp.access, Access::kFull);  // an MCP endpoint is decided by its tools
  ASSERT_TRUE(mcp.tools.has_value());
  ASSERT_TRUE(mcp.tools->allow.has_value());
  EXPECT_TRUE((*mcp.tools->allow)[0].matches("read_file"));
  EXPECT_TRUE(mcp.tools->deny[0].matches("delete_repo"));
  const NetworkRule* models = p.findRule("models");
  ASSERT_NE(models, nullptr);
  EXPECT_EQ(models->endpoints[0].protocol, Protocol::kLlm);
}

TEST(PolicyLoaderTest, NewSectionsRejectWhatTheyCannotUseWithTheirPosition) {
  EXPECT_THAT(problems("version: 1\nprocess:\n  env: {1BAD: x}\n"), ElementsAre(HasSubstr("'1BAD' is not a variable name")));
  EXPECT_THAT(problems("version: 1\nresources: {tmp: 10}\n"), ElementsAre(HasSubstr("resources.tmp")));
  EXPECT_THAT(problems("version: 1\naudit: {tool_inputs: everything}\n"),
              ElementsAre(HasSubstr("audit.tool_inputs: unknown value 'everything' (expected one of: none, keys, "
                                    "summary, full)")));
  EXPECT_THAT(problems("version: 1\naudit: {processes: maybe}\n"), ElementsAre(HasSubstr("is not true or false")));
  EXPECT_THAT(problems("version: 1\naudit: {sensitive_paths: [relative/path]}\n"),
              ElementsAre(HasSubstr("must be an absolute path")));
  EXPECT_THAT(problems("version: 1\ncredentials:\n  gh: {env: GH, value_from: vault:x}\n"),
              ElementsAre(HasSubstr("missing 'inject'"), HasSubstr("neither env:NAME")));
  EXPECT_THAT(problems("version: 1\ncredentials:\n"
                       "  a: {env: T, value_from: env:A, inject: [{host: a.example, ports: [443]}]}\n"
                       "  b: {env: T, value_from: env:B, inject: [{host: b.example, ports: [443]}]}\n"),
              ElementsAre(HasSubstr("env 'T' is already the placeholder of credential 'a'")));
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: [443], protocol: rest, access: full, tools: {deny: [x]}}")),
              ElementsAre(HasSubstr("'tools' applies to MCP tool calls")));
}

TEST(PolicyLoaderTest, BinaryEntriesTakeAncestorsAndInjectedAndRulesTakeCaseInsensitive) {
  const auto p = load("version: 1\nnetwork:\n  r:\n    endpoints:\n"
                      "      - {host: a.example.com, ports: [443], protocol: rest, access: full,\n"
                      "         deny_rules: [{method: '*', path: /admin/**, case_insensitive: true}]}\n"
                      "    binaries: [{path: /usr/bin/node, ancestors: true, injected: deny}, {path: /usr/bin/curl}]\n");
  ASSERT_THAT(p.network, SizeIs(1));
  EXPECT_TRUE(p.network[0].binaries[0].ancestors);
  EXPECT_TRUE(p.network[0].binaries[0].deny_injected);
  EXPECT_FALSE(p.network[0].binaries[1].ancestors);
  EXPECT_FALSE(p.network[0].binaries[1].deny_injected);
  const HttpRule& deny = p.network[0].endpoints[0].deny_rules[0];
  EXPECT_TRUE(deny.case_insensitive);
  EXPECT_TRUE(deny.matches("GET", "/ADMIN/secret", ""));
  EXPECT_TRUE(deny.matches("GET", "/admin/secret", ""));
  EXPECT_THAT(problems("version: 1\nnetwork:\n  r:\n    endpoints: [{host: a.example, ports: [443]}]\n"
                       "    binaries: [{path: /usr/bin/curl, injected: maybe}]\n"),
              ElementsAre(HasSubstr("unknown value 'maybe' (expected one of: alert, deny)")));
}

TEST(PolicyLoaderTest, HashIsSha256OfTheBytes) {
  const std::string text = "version: 1\n";
  EXPECT_EQ(load(text).hash, sha256Hex(text));
}

TEST(PolicyLoaderTest, RejectsUnknownKeysAtEveryLevelWithTheirPosition) {
  EXPECT_THAT(
      problems("version: 1\nproxy: {}\n"),
      ElementsAre("p.yaml:2:1: unknown key 'proxy' at the top level (expected one of: version, process, "
                  "resources, filesystem, audit, credentials, network)"));
  EXPECT_THAT(problems("version: 1\nprocess:\n  timout: 2h\n"),
              ElementsAre("p.yaml:3:3: unknown key 'timout' in process (did you mean 'timeout'?)"));
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: [443], colour: red}")),
              ElementsAre(StartsWith("p.yaml:4:53: unknown key 'colour' in network.r.endpoints[0]")));
  EXPECT_THAT(problems("version: 1\nnetwork:\n  r:\n    endpoints: [{host: a.b, ports: [1]}]\n    binaries: "
                       "[{path: /x, sha: 1}]\n    extra: 1\n"),
              ElementsAre(StartsWith("p.yaml:5:27: unknown key 'sha'"),
                          StartsWith("p.yaml:6:5: unknown key 'extra'")));
}

TEST(PolicyLoaderTest, ReportsEveryProblemInOneFileNotJustTheFirst) {
  const std::string yaml = R"(version: 1
process:
  run_as_user: root
  timeout: soon
resources:
  memory: lots
network:
  r:
    endpoints:
      - host: "api.*.example.com"
        ports: [0, 443, 65536]
        protocol: rest
        access: read-only
    binaries: [{path: curl}]
)";
  EXPECT_THAT(
      problems(yaml),
      ElementsAre(
          StartsWith("p.yaml:3:16: process.run_as_user: the agent never runs as root"),
          StartsWith("p.yaml:4:12: process.timeout: 'soon' is not a positive duration"),
          StartsWith("p.yaml:6:11: resources.memory: 'lots' is not a size"),
          StartsWith("p.yaml:10:15: network.r.endpoints[0].host: host 'api.*.example.com': wildcards "
                     "are allowed only as the leftmost labels"),
          "p.yaml:11:17: network.r.endpoints[0].ports[0]: port '0' is not a number from 1 to 65535",
          "p.yaml:11:25: network.r.endpoints[0].ports[2]: port '65536' is not a number from 1 to 65535",
          StartsWith("p.yaml:14:23: network.r.binaries[0].path: 'curl' must be an absolute path")));
}

TEST(PolicyLoaderTest, ErrorValueListsEveryProblem) {
  const auto p = loadPolicyText("version: 3\nbogus: 1\n", "p.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(p.error().message(),
            "p.yaml:1:10: unsupported policy version '3'; this Warden reads version 1\n"
            "p.yaml:2:1: unknown key 'bogus' at the top level (expected one of: version, process, resources, "
            "filesystem, audit, credentials, network)");
}

TEST(PolicyLoaderTest, ReportsYamlSyntaxErrorsWithTheirPosition) {
  EXPECT_THAT(problems("version: 1\nnetwork:\n  r: {endpoints: [}\n"), ElementsAre(StartsWith("p.yaml:3:")));
  const auto tab = problems("version: 1\nprocess:\n\ttimeout: 2h\n");
  ASSERT_THAT(tab, SizeIs(1));
  EXPECT_THAT(tab[0], AllOf(StartsWith("p.yaml:"), HasSubstr("YAML syntax error")));
  EXPECT_THAT(problems("version: 1\n  bad indent: [\n"), ElementsAre(HasSubstr("YAML syntax error")));
}

TEST(PolicyLoaderTest, RejectsDuplicateKeys) {
  EXPECT_THAT(problems("version: 1\nprocess: {timeout: 1h}\nprocess: {timeout: 2h}\n"),
              ElementsAre("p.yaml:3:1: duplicate key 'process' (first at line 2)"));
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: [443], host: b.example.com}")),
              ElementsAre(StartsWith("p.yaml:4:53: duplicate key 'network.r.endpoints[0].host'")));
}

TEST(PolicyLoaderTest, RequiresVersionOne) {
  EXPECT_THAT(problems("process: {timeout: 1h}\n"),
              ElementsAre("p.yaml:1:1: missing 'version: 1' at the top level"));
  EXPECT_THAT(problems("version: 2\n"),
              ElementsAre(StartsWith("p.yaml:1:10: unsupported policy version '2'")));
  EXPECT_THAT(problems("version: [1]\n"),
              ElementsAre(StartsWith("p.yaml:1:10: version: expected the number 1")));
  EXPECT_THAT(problems(""), ElementsAre("p.yaml:1:1: the policy is empty; it needs at least 'version: 1'"));
  EXPECT_THAT(problems("- version: 1\n"),
              ElementsAre(StartsWith("p.yaml:1:1: : expected a mapping, got a list")));
}

TEST(PolicyLoaderTest, RejectsMoreThanOneDocument) {
  EXPECT_THAT(problems("version: 1\n---\nversion: 1\n"),
              ElementsAre(HasSubstr("more than one YAML document")));
}

TEST(PolicyLoaderTest, NeverRunsAsRoot) {
  for (const char* user : {"root", "0", "000"}) {
    EXPECT_THAT(problems(std::string("version: 1\nprocess: {run_as_user: '") + user + "'}\n"),
                ElementsAre(HasSubstr("never runs as root")))
        << user;
  }
  EXPECT_THAT(problems("version: 1\nprocess: {run_as_user: 'a b'}\n"),
              ElementsAre(HasSubstr("not a valid user name")));
  EXPECT_EQ(load("version: 1\nprocess: {run_as_user: '1000'}\n").process.run_as_user, "1000");
}

TEST(PolicyLoaderTest, ValidatesResourceLimits) {
  const Policy p = load("version: 1\nresources: {memory: 512MiB, pids: 64, cpu: 0.5}\n");
  EXPECT_EQ(p.resources.memory_bytes, 512ull << 20);
  EXPECT_EQ(p.resources.pids, 64u);
  EXPECT_EQ(p.resources.cpu, 0.5);
  EXPECT_THAT(problems("version: 1\nresources: {memory: 1K, pids: 99999999, cpu: 0, extra: 1}\n"),
              ElementsAre(HasSubstr("below the minimum of 1MiB"), HasSubstr("resources.pids"),
                          HasSubstr("resources.cpu"), HasSubstr("unknown key 'extra'")));
  EXPECT_THAT(problems("version: 1\nresources: {cpu: nan}\n"), ElementsAre(HasSubstr("resources.cpu")));
}

TEST(PolicyLoaderTest, FilesystemPathsMustBeAbsoluteAndNotInBothLists) {
  EXPECT_THAT(
      problems("version: 1\nfilesystem:\n  read_only: [usr, /a/../b, /ok/]\n  read_write: [/ok]\n"),
      ElementsAre("p.yaml:2:1: filesystem: '/ok' is in both read_only and read_write; keep it in one",
                  StartsWith("p.yaml:3:15: filesystem.read_only[0]: 'usr' must be an absolute path"),
                  StartsWith("p.yaml:3:20: filesystem.read_only[1]: '/a/../b' has a '.' or '..' segment")));
  EXPECT_THAT(problems("version: 1\nfilesystem: {read_only: /usr}\n"),
              ElementsAre("p.yaml:2:25: filesystem.read_only: expected a list, got a value"));
}

TEST(PolicyLoaderTest, SensitivePathsAcceptHomeButNotOtherUsersHomes) {
  EXPECT_EQ(load("version: 1\naudit: {sensitive_paths: ['~', ~/.ssh, /etc]}\n").audit.sensitive_paths,
            (std::vector<std::string>{"~", "~/.ssh", "/etc"}));
  EXPECT_THAT(
      problems("version: 1\naudit: {sensitive_paths: [~root/.ssh, ~]}\n"),
      ElementsAre("p.yaml:2:9: audit.sensitive_paths[1]: expected a path, got nothing",
                  HasSubstr("2:27: audit.sensitive_paths[0]: '~root/.ssh' must be an absolute path (or '~', "
                            "'~/...'")));
}

TEST(PolicyLoaderTest, RejectsMalformedHostGlobs) {
  for (const char* host : {"'*'", "'**'", "'api.*.example.com'", "'a*.example.com'", "'ex ample.com'",
                           "'a..b'", "'exa$mple.com'"}) {
    EXPECT_THAT(problems(withEndpoint(std::string("{host: ") + host + ", ports: [443]}")),
                ElementsAre(StartsWith("p.yaml:4:24: network.r.endpoints[0].host: ")))
        << host;
  }
  EXPECT_THAT(problems(withEndpoint("{ports: [443]}")),
              ElementsAre("p.yaml:4:17: network.r.endpoints[0]: missing 'host'"));
}

TEST(PolicyLoaderTest, PortsMustBeListedAndInRange) {
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: [0, 65535, 65536, -1, http]}")),
              ElementsAre(HasSubstr("ports[0]: port '0'"), HasSubstr("ports[2]: port '65536'"),
                          HasSubstr("ports[3]: port '-1'"), HasSubstr("ports[4]: port 'http'")));
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com}")), ElementsAre(HasSubstr("missing 'ports'")));
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: []}")),
              ElementsAre(HasSubstr("ports: empty")));
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: 443}")),
              ElementsAre(HasSubstr("ports: expected a list, got a value")));
}

TEST(PolicyLoaderTest, ValidatesMethodsAndPathsOfRequestRules) {
  const std::string yaml = withEndpoint(R"({host: a.example.com, ports: [443], protocol: rest,
      rules: [{allow: {method: get, path: /x}}, {allow: {method: FETCH, path: x}}, {allow: {path: '/y?z=1'}},
              {allow: {method: [GET, BREW], path: /z}}, {deny: {method: GET, path: /}}]})");
  EXPECT_THAT(
      problems(yaml),
      ElementsAre(
          HasSubstr("rules[0].allow.method: method 'get' must be upper case ('GET')"),
          HasSubstr("rules[1].allow.method: unknown method 'FETCH'"),
          HasSubstr("rules[1].allow.path: 'x' must be an absolute path"),
          HasSubstr("rules[2].allow: missing 'method'"),
          HasSubstr("rules[2].allow.path: '/y?z=1' contains '?' or '#'; put the query in 'query'"),
          HasSubstr("rules[3].allow.method[1]: unknown method 'BREW'"),
          HasSubstr("unknown key 'deny' in network.r.endpoints[0].rules[4] (expected one of: allow)")));
}

TEST(PolicyLoaderTest, RejectsAccessAndRulesTogether) {
  EXPECT_THAT(
      problems(withEndpoint(
          "{host: a.example.com, ports: [443], protocol: rest, access: full, rules: [{allow: {method: GET, "
          "path: /}}]}")),
      ElementsAre(
          StartsWith("p.yaml:4:83: network.r.endpoints[0]: use either 'access' or 'rules', not both")));
}

TEST(PolicyLoaderTest, RequestRulesNeedAProtocolAndAProtocolNeedsRules) {
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: [443], access: full}")),
              ElementsAre(HasSubstr("request rules need a protocol")));
  EXPECT_THAT(problems(withEndpoint("{host: a.example.com, ports: [443], protocol: rest}")),
              ElementsAre(HasSubstr("protocol 'rest' needs 'access'")));
  EXPECT_THAT(
      problems(withEndpoint("{host: a.example.com, ports: [443], protocol: rest, access: full, tls: skip}")),
      ElementsAre(HasSubstr("'tls: skip' relays raw bytes")));
  EXPECT_THAT(
      problems(withEndpoint("{host: a.example.com, ports: [443], protocol: grpc, enforcement: strict, "
                            "access: everything, tls: no}")),
      ElementsAre(HasSubstr("unknown protocol 'grpc'"), HasSubstr("unknown enforcement 'strict'"),
                  HasSubstr("unknown access 'everything'"), HasSubstr("unknown tls mode 'no'")));
}

TEST(PolicyLoaderTest, ParsesIpv4AndIpv6AllowedIpsAndRejectsBadOnes) {
  const Policy p =
      load(withEndpoint("{host: db.corp.internal, ports: [5432], allowed_ips: [10.30.0.0/16, 'fd00::/8']}"));
  ASSERT_THAT(p.network[0].endpoints[0].allowed_ips, SizeIs(2));
  EXPECT_EQ(p.network[0].endpoints[0].allowed_ips[1].toString(), "fd00::/8");
  EXPECT_THAT(
      problems(
          withEndpoint("{host: db.corp.internal, ports: [5432], allowed_ips: [10.30.1.5/24, 10.0.0.0/33, "
                       "'::1/129', nonsense]}")),
      ElementsAre(HasSubstr("did you mean 10.30.1.0/24?"), HasSubstr("invalid prefix length (0-32"),
                  HasSubstr("invalid prefix length (0-128"), HasSubstr("'nonsense' is not an IP address")));
}

TEST(PolicyLoaderTest, RulesNeedEndpointsAndBinaries) {
  EXPECT_THAT(problems("version: 1\nnetwork:\n  r: {}\n"),
              ElementsAre("p.yaml:3:3: network.r: missing 'endpoints'",
                          StartsWith("p.yaml:3:3: network.r: missing 'binaries'")));
  EXPECT_THAT(
      problems("version: 1\nnetwork:\n  r:\n    endpoints: []\n    binaries: [/usr/bin/curl]\n"),
      ElementsAre(HasSubstr("endpoints: empty"),
                  "p.yaml:5:16: network.r.binaries[0]: expected a mapping like '- path: /usr/bin/curl'"));
  EXPECT_THAT(problems("version: 1\nnetwork:\n  'bad name':\n    endpoints: [{host: a.b, ports: [1]}]\n"
                       "    binaries: [{path: '/**'}]\n"),
              ElementsAre(HasSubstr("rule name 'bad name' must be")));
}

TEST(PolicyLoaderTest, WrongTypesAreReportedWhereTheyAre) {
  EXPECT_THAT(problems("version: 1\nnetwork: [a, b]\n"),
              ElementsAre("p.yaml:2:10: network: expected a mapping, got a list"));
  EXPECT_THAT(problems("version: 1\nprocess:\n  timeout:\n"),
              ElementsAre(StartsWith("p.yaml:3:3: process.timeout: expected a string, got nothing")));
  EXPECT_THAT(problems("version: 1\n? [a]\n: b\n"), ElementsAre(HasSubstr("keys must be plain strings")));
}

TEST(PolicyLoaderTest, AliasBombStopsWithOneDiagnostic) {
  // 20 rules x 100 aliased endpoints x 100 aliased ports: 200k nodes to walk from a 2 KB file.
  std::string yaml = "version: 1\np: &p [1";
  for (int i = 2; i <= 100; ++i) yaml += ", " + std::to_string(i);
  yaml += "]\ne: &e {host: a.example.com, ports: *p}\nl: &l [*e";
  for (int i = 1; i < 100; ++i) yaml += ", *e";
  yaml += "]\nnetwork:\n";
  for (int i = 0; i < 20; ++i)
    yaml += "  r" + std::to_string(i) + ": {endpoints: *l, binaries: [{path: /x}]}\n";
  const auto found = problems(yaml);
  EXPECT_THAT(found, ElementsAre(HasSubstr("too large to check"), HasSubstr("unknown key 'p'"),
                                 HasSubstr("unknown key 'e'"), HasSubstr("unknown key 'l'")));
}

TEST(PolicyLoaderTest, TooManyProblemsAreCountedNotListed) {
  std::string yaml = "version: 1\nfilesystem:\n  read_only:\n";
  for (int i = 0; i < 300; ++i) yaml += "    - relative\n";
  Diagnostics d;
  const auto p = loadPolicyText(yaml, "p.yaml", &d);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(d.entries().size(), Diagnostics::kMaxDiagnostics);
  EXPECT_EQ(d.count(), 300u);
  EXPECT_THAT(p.error().message(), HasSubstr("... and 100 more problems"));
}

TEST(PolicyLoaderTest, RejectsOversizedText) {
  EXPECT_THAT(problems("version: 1\n" + std::string(kMaxPolicyBytes, '#')),
              ElementsAre(HasSubstr("at most")));
}

TEST(PolicyLoaderTest, MissingFileIsNotFoundWithOneDiagnostic) {
  testing::TempDir dir;
  Diagnostics d;
  const auto p = loadPolicyFile(dir / "absent.yaml", &d);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), Code::kNotFound);
  EXPECT_THAT(p.error().message(), HasSubstr("absent.yaml"));
  ASSERT_THAT(d.entries(), SizeIs(1));
  EXPECT_EQ(d.entries()[0].location.line, 0);
  const auto is_dir = loadPolicyFile(dir.path());
  ASSERT_FALSE(is_dir.ok());
  EXPECT_THAT(is_dir.error().message(), HasSubstr("is a directory"));
}

TEST(PolicyLoaderTest, DiagnosticsUseTheFileNameGiven) {
  testing::TempDir dir;
  const auto path = dir / "bad.yaml";
  testing::writeFile(path, "version: 1\nnetwork: 7\n");
  Diagnostics d;
  ASSERT_FALSE(loadPolicyFile(path, &d).ok());
  ASSERT_THAT(d.entries(), SizeIs(1));
  EXPECT_EQ(d.entries()[0].toString(), path.string() + ":2:10: network: expected a mapping, got a value");
}

}  // namespace
}  // namespace warden::policy
