// What the proxy understands, inside real `warden run` sessions: the agent (pip, curl) runs in the
// sandbox, its only way out is the session's proxy, and the upstreams live in a network namespace the
// test creates (UpstreamHost: python's http.server for a PEP 503 index, the local provider script for
// echoing headers). Root and the sandbox's kernel features are needed; otherwise the tests skip.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "support/inspect_tools.h"
#include "support/package_repos.h"
#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RunInspect : public WardenRunTest {
 protected:
  void SetUp() override {
    WardenRunTest::SetUp();
    if (IsSkipped()) return;
    std::string failed;
    upstream_ = UpstreamHost::create(&failed);
    ASSERT_TRUE(upstream_) << failed;
  }

  std::string writePolicy(const std::string& top, const std::vector<uint16_t>& ports, const std::string& endpoint_extra) {
    std::string port_list;
    for (uint16_t p : ports) port_list += (port_list.empty() ? "" : ", ") + std::to_string(p);
    const auto path = tmp_ / "policy.yaml";
    writeFile(path, fmt::format("version: 1\nfilesystem:\n  read_only: [/usr, /lib, /lib64, /bin, /sbin, /etc]\n"
                                "  read_write: [{0}, /tmp]\n{1}network:\n  upstream:\n    endpoints:\n"
                                "      - {{ host: \"{2}\", ports: [{3}], allowed_ips: [{2}/32]{4} }}\n"
                                "    binaries: [ {{ path: \"/**\" }} ]\n",
                                ws_.path().string(), top, upstream_->ip(), port_list, endpoint_extra));
    return path.string();
  }

  CommandResult run(const std::string& env, const std::string& policy, const std::string& script) {
    return runCommand(wardenRun("--policy " + policy, script, env) + " 2>&1");
  }
  std::string jsonl() const { return readFile(log_dir_ / "warden-ocsf.log"); }

  std::unique_ptr<UpstreamHost> upstream_;
};

TEST_F(RunInspect, PipInsideASessionInstallsAVerifiedWheelAndATamperedOneIsCutOff) {
  if (runCommand("/usr/bin/python3 -m pip --version").status != 0) GTEST_SKIP() << "Debian's pip (python3-pip) is not installed";
  std::string why;
  ASSERT_TRUE(makePipProject(upstream_->docRoot(), "wardenok", "1.0", false, &why)) << why;
  ASSERT_TRUE(makePipProject(upstream_->docRoot(), "wardenbad", "1.0", true, &why)) << why;
  const std::string policy = writePolicy(fmt::format("audit:\n  package_sources: [\"{}\"]\n", upstream_->ip()), {8080},
                                         ", protocol: rest, access: read-only");
  const std::string pip = fmt::format(
      "PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 /usr/bin/python3 -m pip install --no-deps --no-cache-dir "
      "--timeout 20 --retries 0 --target {}/site --index-url http://{}:8080/simple/ --trusted-host {}",
      ws_.path().string(), upstream_->ip(), upstream_->ip());
  const auto r = run("", policy, pip + " wardenok==1.0 && echo GOOD-INSTALLED; " + pip +
                                     " wardenbad==1.0 && echo BAD-INSTALLED || echo BAD-REFUSED");
  EXPECT_THAT(r.output, HasSubstr("GOOD-INSTALLED"));
  EXPECT_THAT(r.output, HasSubstr("BAD-REFUSED"));
  EXPECT_TRUE(std::filesystem::exists(ws_ / "site" / "wardenok" / "__init__.py")) << r.output;
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(fmt::format("PKG:INSTALL [INFO] pip wardenok 1.0 [source:http://{}:8080/packages/wardenok-1.0-py3-none-any.whl sha256:",
                                          upstream_->ip())));
  EXPECT_THAT(text, HasSubstr("verdict:verified]"));
  EXPECT_THAT(text, HasSubstr("PKG:INSTALL [HIGH] DENIED pip wardenbad 1.0 [policy:upstream engine:l7]"));
  EXPECT_THAT(text, HasSubstr("FINDING:BLOCKED [HIGH] \"Package does not match the hash its index advertised\""));
  expectVerified();
}

TEST_F(RunInspect, AptInsideASessionDownloadsAVerifiedDebAndATamperedOneIsRefused) {
  if (runCommand("command -v apt-ftparchive && command -v dpkg-deb").status != 0) {
    GTEST_SKIP() << "apt-ftparchive (apt-utils) or dpkg-deb missing";
  }
  std::string why;
  ASSERT_TRUE(makeAptRepository(upstream_->docRoot(), {"warden-hello", "warden-tampered"}, {"warden-tampered"}, &why))
      << why;
  const std::string policy = writePolicy(fmt::format("audit:\n  package_sources: [\"{}\"]\n", upstream_->ip()), {8080},
                                         ", protocol: rest, access: read-only");
  // apt as the agent (not root): its state in the workspace, through the session's proxy.
  const std::string ws = ws_.path().string();
  const std::string script = fmt::format(
      "mkdir -p {0}/apt/lists/partial {0}/apt/cache/archives/partial {0}/debs && "
      "echo 'deb [trusted=yes] http://{1}:8080/repo stable main' > {0}/apt/sources.list && cd {0}/debs && "
      "APT=\"apt-get -q -o Acquire::http::Proxy=$http_proxy -o Dir::Etc::SourceList={0}/apt/sources.list "
      "-o Dir::Etc::SourceParts=- -o Dir::State::Lists={0}/apt/lists -o Dir::Cache={0}/apt/cache "
      "-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1 "
      "-o Acquire::Languages=none -o Acquire::Retries=0 -o APT::Architecture=amd64\" && "
      "$APT update && $APT download warden-hello && echo GOOD-DOWNLOADED; "
      "$APT download warden-tampered && echo BAD-DOWNLOADED || echo BAD-REFUSED",
      ws, upstream_->ip());
  const auto r = run("", policy, script);
  EXPECT_THAT(r.output, HasSubstr("GOOD-DOWNLOADED"));
  EXPECT_THAT(r.output, HasSubstr("BAD-REFUSED"));
  EXPECT_TRUE(std::filesystem::exists(ws_ / "debs" / "warden-hello_1.0-1_all.deb")) << r.output;
  // Cut off before its last byte: whatever apt left behind is shorter than what the mirror served.
  const auto tampered = ws_ / "debs" / "warden-tampered_1.0-1_all.deb";
  if (std::filesystem::exists(tampered)) {
    EXPECT_LT(std::filesystem::file_size(tampered),
              std::filesystem::file_size(upstream_->docRoot() / "repo/pool/main/warden-tampered_1.0-1_all.deb"));
  }
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(fmt::format("PKG:INSTALL [INFO] apt warden-hello 1.0-1 [source:http://{}:8080/repo/pool/main/"
                                          "warden-hello_1.0-1_all.deb",
                                          upstream_->ip())))
      << r.output;
  EXPECT_THAT(text, HasSubstr("verdict:verified]"));
  EXPECT_THAT(text, HasSubstr("PKG:INSTALL [HIGH] DENIED apt warden-tampered 1.0-1"));
  expectVerified();
}

TEST_F(RunInspect, NpmInsideASessionInstallsAVerifiedTarballAndATamperedOneIsCaught) {
  std::string why;
  if (!ensureInspectNodePackages(&why)) GTEST_SKIP() << why;
  // A real registry (verdaccio) in the upstream's network namespace, seeded with a good and a
  // tampered package.
  const auto storage = tmp_ / "verdaccio" / "storage";
  ASSERT_TRUE(seedVerdaccioPackage(storage, "wardenpad", "1.0.0", false, &why)) << why;
  ASSERT_TRUE(seedVerdaccioPackage(storage, "wardenbadpad", "1.0.0", true, &why)) << why;
  writeFile(tmp_ / "verdaccio" / "config.yaml",
            fmt::format("storage: {}\nlisten: http://{}:4873\nauth:\n  htpasswd:\n    file: {}\n    max_users: -1\n"
                        "uplinks: {{}}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\n"
                        "log: {{ type: stdout, format: pretty, level: info }}\n",
                        storage.string(), upstream_->ip(), (tmp_ / "verdaccio" / "htpasswd").string()));
  ChildProcess::Options o;
  o.argv = {"ip", "netns", "exec", upstream_->netns(), "node",
            (inspectNodeDir() / "node_modules" / "verdaccio" / "bin" / "verdaccio").string(), "--config",
            (tmp_ / "verdaccio" / "config.yaml").string()};
  o.working_directory = tmp_ / "verdaccio";
  auto registry = ChildProcess::start(o, &why);
  ASSERT_TRUE(registry) << why;
  ASSERT_TRUE(waitFor([&] {
    return runCommand(fmt::format("ip netns exec {} curl -sf http://{}:4873/-/ping", upstream_->netns(), upstream_->ip()))
               .status == 0;
  }, std::chrono::seconds(30)))
      << registry->output();
  const std::string policy = writePolicy(fmt::format("audit:\n  package_sources: [\"{}\"]\n", upstream_->ip()), {4873},
                                         ", protocol: rest, access: read-only");
  const std::string ws = ws_.path().string();
  const std::string npm = fmt::format(
      "mkdir -p {0}/project && HOME={0} timeout 120 npm install --prefix {0}/project --registry http://{1}:4873/ "
      "--proxy $http_proxy --cache {0}/npm-cache --no-audit --no-fund --ignore-scripts --fetch-retries 0 "
      "--loglevel error",
      ws, upstream_->ip());
  const auto r = run("", policy, npm + " wardenpad@^1.0.0 && echo GOOD-INSTALLED; " + npm +
                                     " wardenbadpad@1.0.0 && echo BAD-INSTALLED || echo BAD-REFUSED");
  EXPECT_THAT(r.output, HasSubstr("GOOD-INSTALLED"));
  EXPECT_THAT(r.output, HasSubstr("BAD-REFUSED"));
  EXPECT_TRUE(std::filesystem::exists(ws_ / "project" / "node_modules" / "wardenpad" / "index.js")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(ws_ / "project" / "node_modules" / "wardenbadpad" / "index.js")) << r.output;
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(fmt::format("PKG:INSTALL [INFO] npm wardenpad 1.0.0 [source:http://{}:4873/wardenpad/-/"
                                          "wardenpad-1.0.0.tgz",
                                          upstream_->ip())))
      << r.output;
  EXPECT_THAT(text, ::testing::ContainsRegex("PKG:INSTALL \\[INFO\\] npm wardenpad 1\\.0\\.0 [^\n]*verdict:verified\\]"));
  EXPECT_THAT(text, HasSubstr("PKG:INSTALL [HIGH] DENIED npm wardenbadpad 1.0.0"));
  expectVerified();
}

TEST_F(RunInspect, TheAgentHoldsOnlyAPlaceholderAndItBecomesTheValueOnlyForItsInjectEndpoint) {
  std::string why;
  uint16_t port = 0;
  auto inject = startNodeScript("fake_llm_server.js", {"8081", upstream_->ip()}, &port, &why,
                                {"ip", "netns", "exec", upstream_->netns()});
  ASSERT_TRUE(inject) << why;
  auto other = startNodeScript("fake_llm_server.js", {"8082", upstream_->ip()}, &port, &why,
                               {"ip", "netns", "exec", upstream_->netns()});
  ASSERT_TRUE(other) << why;
  const std::string value = "ghp_sessionSecretValue0123456789abcdef";
  const std::string policy =
      writePolicy(fmt::format("credentials:\n  github:\n    env: GITHUB_TOKEN\n    value_from: env:WARDEN_TEST_GH_TOKEN\n"
                              "    inject:\n      - {{ host: \"{}\", ports: [8081] }}\n",
                              upstream_->ip()),
                  {8081, 8082}, "");
  const auto r = run("WARDEN_TEST_GH_TOKEN=" + value, policy,
                     fmt::format("echo \"PH=$GITHUB_TOKEN.\"; "
                                 "curl -sS -m 10 -H \"Authorization: Bearer $GITHUB_TOKEN\" http://{0}:8081/echo-headers; echo; "
                                 "curl -sS -m 10 -o /dev/null -w 'other=%{{http_code}}\\n' -H \"Authorization: Bearer $GITHUB_TOKEN\" "
                                 "http://{0}:8082/echo-headers",
                                 upstream_->ip()));
  EXPECT_EQ(r.status, 0) << r.output;
  const size_t at = r.output.find("PH=warden-cred-github-");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string placeholder = r.output.substr(at + 3, r.output.find('.', at) - at - 3);
  EXPECT_EQ(placeholder.size(), std::string("warden-cred-github-").size() + 32) << placeholder;
  EXPECT_THAT(r.output, HasSubstr("\"authorization\":\"Bearer " + value + "\""));
  EXPECT_THAT(r.output, HasSubstr("other=403"));
  EXPECT_THAT(other->output(), Not(HasSubstr("REQ ")));
  const std::string text = log();
  EXPECT_THAT(text, HasSubstr(fmt::format("HTTP:GET [HIGH] DENIED curl(")));
  EXPECT_THAT(text, HasSubstr("FINDING:BLOCKED [HIGH] \"Credential sent to a host not allowed to receive it\""));
  EXPECT_THAT(text, Not(HasSubstr(value)));
  EXPECT_THAT(jsonl(), Not(HasSubstr(value)));
  EXPECT_THAT(jsonl(), Not(HasSubstr(placeholder)));
  EXPECT_THAT(text, Not(HasSubstr(placeholder)));
  expectVerified();
}

}  // namespace
}  // namespace warden::testing
