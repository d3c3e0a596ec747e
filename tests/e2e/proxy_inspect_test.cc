// What the proxy understands, end to end through the real `warden proxy` binary with real clients
// and servers on loopback (docs/packages.md, docs/mcp.md, docs/model-calls.md, docs/credentials.md):
//   - pip (Debian's, /usr/bin/python3 -m pip) installing from a PEP 503 index nginx serves over TLS;
//   - npm installing from verdaccio (a real registry) over TLS;
//   - apt-get downloading from an apt-ftparchive repository nginx serves over plain HTTP;
//   - the MCP TypeScript SDK's client and server (streamable HTTP, SSE and JSON answers);
//   - curl calling a local model provider that speaks the OpenAI and Anthropic wire formats;
//   - curl with a credential placeholder, to its inject endpoint and to another one.
// Each package manager also meets a tampered artifact (one byte changed, same size). Every log is then
// validated (warden ocsf validate) and searched for the secrets it must not hold.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/encoding.h"
#include "support/child_process.h"
#include "support/inspect_tools.h"
#include "support/nginx.h"
#include "support/package_repos.h"
#include "support/test_env.h"
#include "support/warden_proxy.h"

namespace warden::testing {
namespace {

using nlohmann::json;

class ProxyInspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!makeSelfSignedCertificate(dir_ / "server.pem", dir_ / "server.key")) GTEST_SKIP() << "openssl failed";
  }

  bool startProxy(const std::string& policy, const std::vector<std::string>& extra_env = {}) {
    std::string why;
    proxy_ = WardenProxy::start(dir_.path(), policy, dir_ / "server.pem", &why, extra_env);
    if (!proxy_) ADD_FAILURE() << why;
    return proxy_ != nullptr;
  }

  // Stops the proxy; its trail validates, and none of `secrets` is in any of its logs.
  void stopAndCheck(const std::vector<std::string>& secrets) {
    EXPECT_EQ(proxy_->stop(), 0) << proxy_->shorthand();
    const auto validate = runCommand(fmt::format("{} ocsf validate {} 2>&1", wardenBinary().string(),
                                                 (proxy_->logDir() / "warden-ocsf.log").string()));
    EXPECT_EQ(validate.status, 0) << validate.output;
    for (const auto& secret : secrets) {
      const auto grep = runCommand(fmt::format("grep -ohF -- '{}' '{}'/warden*.log*", secret, proxy_->logDir().string()));
      if (grep.status == 0) {
        ADD_FAILURE() << runCommand(fmt::format("grep -oh -- '.\\{{60\\}}{}' '{}'/warden*.log* | head -5", secret,
                                                proxy_->logDir().string()))
                             .output;
      }
      EXPECT_NE(grep.status, 0) << "'" << secret << "' found in " << grep.output;
    }
  }

  // The first event of `class_uid` whose shorthand-relevant field `pointer` equals `value`.
  json waitForEvent(int class_uid, const std::string& pointer, const std::string& value) {
    json found;
    waitFor([&] {
      for (auto& e : proxy_->events()) {
        if (e.value("class_uid", 0) == class_uid && e.value(json::json_pointer(pointer), std::string()) == value) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  TempDir dir_;
  std::unique_ptr<WardenProxy> proxy_;
};

std::string loopbackEndpoint(uint16_t port, const std::string& rest = "") {
  return fmt::format("      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32]{} }}\n", port, rest);
}

std::string policyWith(const std::string& endpoints, const std::string& top = "") {
  return "version: 1\n" + top + "network:\n  local:\n    endpoints:\n" + endpoints + "    binaries: [ { path: \"/**\" } ]\n";
}

// ---- pip ----

TEST_F(ProxyInspectTest, PipInstallsAVerifiedWheelAndATamperedOneIsCutOff) {
  const auto probe = runCommand("/usr/bin/python3 -m pip --version 2>&1");
  if (probe.status != 0) GTEST_SKIP() << "Debian's pip (python3-pip) is not installed: " << probe.output;
  std::string why;
  NginxServer::Tls tls{dir_ / "server.pem", dir_ / "server.key"};
  auto index = NginxServer::start(&why, &tls);
  if (!index) GTEST_SKIP() << why;
  ASSERT_TRUE(makePipProject(index->docRoot(), "wardenok", "1.0", false, &why)) << why;
  ASSERT_TRUE(makePipProject(index->docRoot(), "wardenbad", "1.0", true, &why)) << why;
  ASSERT_TRUE(startProxy(policyWith(loopbackEndpoint(index->port(), ", protocol: rest, access: read-only"),
                                    "audit:\n  package_sources: [127.0.0.1]\n")));
  const std::string pip = fmt::format(
      "env $(env | sed -n 's/^\\(PIP_[A-Za-z0-9_]*\\)=.*/-u \\1/p') {} PIP_CONFIG_FILE=/dev/null "
      "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 timeout 120 /usr/bin/python3 -m pip install --no-deps "
      "--no-cache-dir --cert '{}' --timeout 20 --retries 0 --target '{}' --index-url https://127.0.0.1:{}/simple/",
      proxy_->env(), proxy_->variable("REQUESTS_CA_BUNDLE"), (dir_ / "site").string(), index->port());
  const auto ok = runCommand(pip + " wardenok==1.0 2>&1");
  EXPECT_EQ(ok.status, 0) << ok.output << proxy_->shorthand();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "site" / "wardenok" / "__init__.py")) << ok.output;
  const std::string url = fmt::format("https://127.0.0.1:{}/packages/wardenok-1.0-py3-none-any.whl", index->port());
  EXPECT_NE(proxy_->waitForLine({"PKG:INSTALL [INFO] pip wardenok 1.0 [source:" + url, "verdict:verified]"}), "")
      << proxy_->shorthand();
  const json pkg = waitForEvent(6002, "/app/name", "wardenok");
  EXPECT_EQ(pkg.value(json::json_pointer("/unmapped/package/requested_version"), std::string()), "==1.0") << pkg.dump();
  EXPECT_EQ(pkg.value(json::json_pointer("/unmapped/package/sha256"), std::string()),
            pkg.value(json::json_pointer("/unmapped/package/advertised_sha256"), std::string("x")));
  EXPECT_EQ(pkg.value(json::json_pointer("/actor/process/file/path"), std::string()),
            std::filesystem::canonical("/usr/bin/python3").string());

  const auto bad = runCommand(pip + " wardenbad==1.0 2>&1");
  EXPECT_NE(bad.status, 0) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "site" / "wardenbad")) << bad.output;
  EXPECT_NE(proxy_->waitForLine({"PKG:INSTALL [HIGH] DENIED pip wardenbad 1.0 [policy:local engine:l7]", "verdict:mismatch"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"FINDING:BLOCKED [HIGH] \"Package does not match the hash its index advertised\""}), "")
      << proxy_->shorthand();
  stopAndCheck({});
}

// ---- npm ----

TEST_F(ProxyInspectTest, NpmInstallsFromVerdaccioOverTlsAndATamperedTarballIsCaught) {
  std::string why;
  if (!ensureInspectNodePackages(&why)) GTEST_SKIP() << why;
  const auto storage = dir_ / "verdaccio" / "storage";
  ASSERT_TRUE(seedVerdaccioPackage(storage, "wardenpad", "1.0.0", false, &why)) << why;
  ASSERT_TRUE(seedVerdaccioPackage(storage, "wardenbadpad", "1.0.0", true, &why)) << why;
  const uint16_t port = freeLoopbackPort();
  writeFile(dir_ / "verdaccio" / "config.yaml",
            fmt::format("storage: {}\nlisten: https://127.0.0.1:{}\nhttps:\n  key: {}\n  cert: {}\n"
                        "auth:\n  htpasswd:\n    file: {}\n    max_users: -1\nuplinks: {{}}\n"
                        "packages:\n  '**':\n    access: $all\n    publish: $authenticated\n"
                        "log: {{ type: stdout, format: pretty, level: info }}\n",
                        storage.string(), port, (dir_ / "server.key").string(), (dir_ / "server.pem").string(),
                        (dir_ / "verdaccio" / "htpasswd").string()));
  ChildProcess::Options o;
  o.argv = {"node", (inspectNodeDir() / "node_modules" / "verdaccio" / "bin" / "verdaccio").string(), "--config",
            (dir_ / "verdaccio" / "config.yaml").string()};
  o.working_directory = dir_ / "verdaccio";
  auto registry = ChildProcess::start(o, &why);
  ASSERT_TRUE(registry) << why;
  ASSERT_TRUE(waitFor([&] { return runCommand(fmt::format("curl -sfk https://127.0.0.1:{}/-/ping", port)).status == 0; },
                      std::chrono::seconds(30)))
      << registry->output();
  // By name: npm's agent checks the certificate against "localhost" for an IP literal.
  ASSERT_TRUE(startProxy(policyWith(fmt::format("      - {{ host: localhost, ports: [{}], allowed_ips: [127.0.0.1/32], "
                                                "protocol: rest, access: read-only }}\n",
                                                port),
                                    "audit:\n  package_sources: [localhost]\n")));
  const std::string npm = fmt::format(
      "{} HOME='{}' timeout 120 npm install --prefix '{}' --registry https://localhost:{}/ --cafile '{}' "
      "--cache '{}' --no-audit --no-fund --ignore-scripts --fetch-retries 0 --loglevel error",
      proxy_->env(), dir_.path().string(), (dir_ / "project").string(), port, proxy_->variable("NODE_EXTRA_CA_CERTS"),
      (dir_ / "npm-cache").string());
  std::filesystem::create_directories(dir_ / "project");
  const auto ok = runCommand(npm + " wardenpad@^1.0.0 2>&1");
  EXPECT_EQ(ok.status, 0) << ok.output << proxy_->shorthand();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "project" / "node_modules" / "wardenpad" / "index.js")) << ok.output;
  EXPECT_NE(proxy_->waitForLine({"PKG:INSTALL [INFO] npm wardenpad 1.0.0 [source:https://localhost:" + std::to_string(port) +
                                 "/wardenpad/-/wardenpad-1.0.0.tgz", "verdict:verified]"}),
            "")
      << proxy_->shorthand();
  const json pkg = waitForEvent(6002, "/app/name", "wardenpad");
  EXPECT_EQ(pkg.value(json::json_pointer("/unmapped/package/requested_version"), std::string()), "^1.0.0") << pkg.dump();
  EXPECT_EQ(pkg.value(json::json_pointer("/unmapped/package/advertised_hash"), std::string()).rfind("sha512-", 0), 0u)
      << pkg.dump();

  const auto bad = runCommand(npm + " wardenbadpad@1.0.0 2>&1");
  EXPECT_NE(bad.status, 0) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "project" / "node_modules" / "wardenbadpad" / "index.js")) << bad.output;
  EXPECT_NE(proxy_->waitForLine({"PKG:INSTALL [HIGH] DENIED npm wardenbadpad 1.0.0", "verdict:mismatch"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"FINDING:BLOCKED [HIGH] \"Package does not match the hash its index advertised\""}), "");
  stopAndCheck({});
}

// ---- apt ----

TEST_F(ProxyInspectTest, AptDownloadsFromALocalRepositoryVerifiedThroughReleaseAndPackages) {
  if (runCommand("command -v apt-ftparchive && command -v dpkg-deb").status != 0) {
    GTEST_SKIP() << "apt-ftparchive (apt-utils) or dpkg-deb missing";
  }
  std::string why;
  auto mirror = NginxServer::start(&why);
  if (!mirror) GTEST_SKIP() << why;
  ASSERT_TRUE(makeAptRepository(mirror->docRoot(), {"warden-hello", "warden-tampered"}, {"warden-tampered"}, &why)) << why;
  ASSERT_TRUE(startProxy(policyWith(loopbackEndpoint(mirror->port()), "audit:\n  package_sources: [127.0.0.1]\n")));
  const auto apt_dir = dir_ / "apt";
  std::filesystem::create_directories(apt_dir / "lists" / "partial");
  std::filesystem::create_directories(apt_dir / "cache" / "archives" / "partial");
  std::filesystem::create_directories(dir_ / "debs");
  writeFile(apt_dir / "sources.list", fmt::format("deb [trusted=yes] http://127.0.0.1:{}/repo stable main\n", mirror->port()));
  const std::string apt = fmt::format(
      "cd '{1}' && timeout 120 apt-get -q -o Acquire::http::Proxy=http://127.0.0.1:{2}/ -o Dir::Etc::SourceList={0}/sources.list "
      "-o Dir::Etc::SourceParts=- -o Dir::State::Lists={0}/lists -o Dir::Cache={0}/cache -o Dir::Cache::pkgcache= "
      "-o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Languages=none "
      "-o Acquire::Retries=0 -o APT::Architecture=amd64",
      apt_dir.string(), (dir_ / "debs").string(), proxy_->variable("HTTP_PROXY").substr(17));
  const auto update = runCommand(apt + " update 2>&1");
  ASSERT_EQ(update.status, 0) << update.output << proxy_->shorthand();
  const auto ok = runCommand(apt + " download warden-hello 2>&1");
  EXPECT_EQ(ok.status, 0) << ok.output << proxy_->shorthand();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "debs" / "warden-hello_1.0-1_all.deb")) << ok.output;
  EXPECT_NE(proxy_->waitForLine({"PKG:INSTALL [INFO] apt warden-hello 1.0-1 [source:http://127.0.0.1:" +
                                 std::to_string(mirror->port()) + "/repo/pool/main/warden-hello_1.0-1_all.deb",
                                 "verdict:verified]"}),
            "")
      << proxy_->shorthand();
  const auto bad = runCommand(apt + " download warden-tampered 2>&1");
  EXPECT_NE(bad.status, 0) << bad.output;
  EXPECT_NE(proxy_->waitForLine({"PKG:INSTALL [HIGH] DENIED apt warden-tampered 1.0-1", "verdict:mismatch"}), "")
      << proxy_->shorthand();
  stopAndCheck({});
}

// ---- MCP ----

class McpThroughProxy : public ProxyInspectTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(McpThroughProxy, ToolCallsAreRecordedAndADeniedToolNeverReachesTheServer) {
  std::string why;
  if (!ensureInspectNodePackages(&why)) GTEST_SKIP() << why;
  uint16_t port = 0;
  auto server = startNodeScript("mcp_server.js", {"0", GetParam()}, &port, &why);
  ASSERT_TRUE(server) << why;
  ASSERT_TRUE(startProxy(policyWith(
      loopbackEndpoint(port, ", protocol: mcp, tools: { allow: [\"read_*\", search, fail_tool], deny: [\"delete_*\"] }"),
      "audit:\n  tool_inputs: summary\n")));
  const std::string secret = "sk-proj-thisIsASecretValue123456789";
  const auto client = runCommand(fmt::format(
      "cd '{}' && timeout 60 node mcp_client.js http://127.0.0.1:{}/mcp http://127.0.0.1:{} "
      "'read_file:{{\"path\":\"/workspace/a.txt\"}}' 'search:{{\"q\":\"ocsf\",\"api_key\":\"{}\"}}' "
      "'delete_repo:{{\"repo\":\"warden\"}}' fail_tool 2>&1",
      inspectNodeDir().string(), port, proxy_->variable("HTTP_PROXY").substr(17), secret));
  EXPECT_EQ(client.status, 0) << client.output;
  EXPECT_NE(client.output.find("init warden-test-mcp"), std::string::npos) << client.output;
  EXPECT_NE(client.output.find("ok read_file contents of /workspace/a.txt"), std::string::npos) << client.output;
  EXPECT_NE(client.output.find("ok search results for ocsf"), std::string::npos) << client.output;
  EXPECT_NE(client.output.find("error delete_repo"), std::string::npos) << client.output;
  EXPECT_NE(client.output.find("tool delete_repo is denied by rule local"), std::string::npos) << client.output;
  EXPECT_NE(client.output.find("iserror fail_tool it failed"), std::string::npos) << client.output;
  // The server saw the allowed calls and never the denied one.
  EXPECT_NE(server->output().find("CALL read_file"), std::string::npos) << server->output();
  EXPECT_EQ(server->output().find("CALL delete_repo"), std::string::npos) << server->output();

  EXPECT_NE(proxy_->waitForLine({"TOOL:CALL [INFO] node(", "-> read_file [server:127.0.0.1 status:success ms:"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"TOOL:CALL [MED] DENIED node(", "-> delete_repo [server:127.0.0.1 policy:local engine:l7]",
                                 "[reason:tool delete_repo is denied by rule local (tools.deny delete_*)]"}),
            "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"TOOL:CALL [LOW] node(", "-> fail_tool [server:127.0.0.1 status:isError"}), "")
      << proxy_->shorthand();
  const json search = waitForEvent(6003, "/api/operation", "search");
  EXPECT_EQ(search.value(json::json_pointer("/api/service/name"), std::string()), "warden-test-mcp") << search.dump();
  EXPECT_EQ(search.value(json::json_pointer("/unmapped/tool/input_summary"), std::string()), "api_key=[redacted] q=ocsf");
  stopAndCheck({secret});
  EXPECT_NE(proxy_->shorthand().find("EVENT:MCP_MESSAGES [INFO]"), std::string::npos) << proxy_->shorthand();
}

INSTANTIATE_TEST_SUITE_P(Answers, McpThroughProxy, ::testing::Values("sse", "json"));

// ---- model calls ----

TEST_F(ProxyInspectTest, ModelCallsStreamedOrNotAreRecordedAndACutStreamIsIncomplete) {
  std::string why;
  uint16_t port = 0;
  auto provider = startNodeScript("fake_llm_server.js", {"0"}, &port, &why);
  ASSERT_TRUE(provider) << why;
  ASSERT_TRUE(startProxy(policyWith(loopbackEndpoint(port, ", protocol: llm, access: full"),
                                    "audit:\n  model_content: summary\n")));
  const std::string key = "sk-ant-api03-verySecretKey0123456789";
  auto call = [&](const std::string& path, const std::string& body) {
    return runCommand(fmt::format("{} timeout 30 curl -sS -N http://127.0.0.1:{}{} -H 'x-api-key: {}' "
                                  "-H 'content-type: application/json' -d '{}' 2>&1",
                                  proxy_->env(), port, path, key, body));
  };
  const auto messages = call("/v1/messages", R"({"model":"claude-sonnet-4","stream":true,"messages":[{"role":"user","content":"list files"}]})");
  EXPECT_NE(messages.output.find("event: message_stop"), std::string::npos) << messages.output;
  EXPECT_NE(proxy_->waitForLine({"MODEL:CALL [INFO] curl(", "-> 127.0.0.1 claude-sonnet-4 [in:1234 out:567 ms:",
                                 "stop:tool_use tools:read_file,bash]"}),
            "")
      << proxy_->shorthand();
  call("/v1/chat/completions", R"({"model":"gpt-4o","messages":[{"role":"user","content":"weather?"}]})");
  EXPECT_NE(proxy_->waitForLine({"MODEL:CALL [INFO] curl(", "gpt-4o-2024-08-06 [in:21 out:9 ms:", "stop:tool_calls tools:get_weather]"}), "")
      << proxy_->shorthand();
  call("/v1/chat/completions", R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
  EXPECT_NE(proxy_->waitForLine({"MODEL:CALL [INFO] curl(", "gpt-4o [in:31 out:18 ms:", "stop:tool_calls tools:get_weather]"}), "")
      << proxy_->shorthand();
  call("/v1/responses", R"({"model":"gpt-4.1","stream":true,"input":"hi"})");
  EXPECT_NE(proxy_->waitForLine({"MODEL:CALL [INFO] curl(", "gpt-4.1 [in:11 out:3 ms:", "stop:completed tools:lookup]"}), "")
      << proxy_->shorthand();
  const auto cut = call("/v1/chat/completions", R"({"model":"cut-model","stream":true,"messages":[]})");
  EXPECT_NE(proxy_->waitForLine({"MODEL:CALL [LOW] curl(", "cut-model", "status:incomplete]"}), "") << proxy_->shorthand();
  call("/v1/messages", R"({"model":"error-model","messages":[]})");
  EXPECT_NE(proxy_->waitForLine({"MODEL:CALL [LOW] curl(", "error-model", "status:error]"}), "") << proxy_->shorthand();
  const json first = waitForEvent(6003, "/api/operation", "messages");
  EXPECT_EQ(first.value(json::json_pointer("/api/service/name"), std::string()), "anthropic-compatible");
  EXPECT_EQ(first.value(json::json_pointer("/unmapped/model/prompt"), std::string()), "list files") << first.dump();
  EXPECT_EQ(first.value(json::json_pointer("/unmapped/model/streamed"), false), true);
  stopAndCheck({key});
}

// ---- credentials ----

TEST_F(ProxyInspectTest, ACredentialPlaceholderBecomesTheValueOnlyOnItsInjectEndpoint) {
  std::string why;
  uint16_t allowed_port = 0;
  uint16_t other_port = 0;
  auto allowed = startNodeScript("fake_llm_server.js", {"0"}, &allowed_port, &why);
  ASSERT_TRUE(allowed) << why;
  auto other = startNodeScript("fake_llm_server.js", {"0"}, &other_port, &why);
  ASSERT_TRUE(other) << why;
  const std::string value = "ghp_realValueNeverSeenByTheAgent0123456789";
  ASSERT_TRUE(startProxy(policyWith(loopbackEndpoint(allowed_port) + loopbackEndpoint(other_port),
                                    fmt::format("credentials:\n  github:\n    env: GITHUB_TOKEN\n    value_from: env:WARDEN_TEST_GH_TOKEN\n"
                                                "    inject:\n      - {{ host: 127.0.0.1, ports: [{}] }}\n",
                                                allowed_port)),
                         {"WARDEN_TEST_GH_TOKEN=" + value}));
  const std::string env_file = readFile(proxy_->logDir() / "credentials.env");
  ASSERT_EQ(env_file.rfind("GITHUB_TOKEN=warden-cred-github-", 0), 0u) << env_file;
  const std::string placeholder = env_file.substr(13, env_file.find('\n') - 13);
  auto curl = [&](const std::string& args) {
    return runCommand(fmt::format("{} timeout 30 curl -sS {} 2>&1", proxy_->env(), args));
  };
  // Forward-proxied and tunnelled (CONNECT, -p): the inject endpoint receives the value.
  const auto forward = curl(fmt::format("-H 'Authorization: Bearer {}' http://127.0.0.1:{}/echo-headers", placeholder, allowed_port));
  EXPECT_NE(forward.output.find("\"authorization\":\"Bearer " + value + "\""), std::string::npos) << forward.output;
  const auto tunnel = curl(fmt::format("-p -u 'x-access-token:{}' http://127.0.0.1:{}/echo-headers", placeholder, allowed_port));
  EXPECT_NE(tunnel.output.find("\"authorization\":\"Basic "), std::string::npos) << tunnel.output;
  EXPECT_NE(allowed->waitForLine("auth=Basic " + base64Encode("x-access-token:" + value)), "") << allowed->output();
  // Anywhere else: refused before the upstream sees it, recorded twice.
  const auto leak = curl(fmt::format("-i -H 'Authorization: Bearer {}' http://127.0.0.1:{}/echo-headers", placeholder, other_port));
  EXPECT_NE(leak.output.find("HTTP/1.1 403"), std::string::npos) << leak.output;
  const auto body_leak = curl(fmt::format("-i -d 'token={}' http://127.0.0.1:{}/v1/messages", placeholder, other_port));
  EXPECT_NE(body_leak.output.find("HTTP/1.1 403"), std::string::npos) << body_leak.output;
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET [HIGH] DENIED curl(", fmt::format("http://127.0.0.1:{}/echo-headers", other_port),
                                 "[reason:credential github sent to 127.0.0.1:"}),
            "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"FINDING:BLOCKED [HIGH] \"Credential sent to a host not allowed to receive it\""}), "");
  EXPECT_NE(proxy_->waitForLine({"HTTP:POST [HIGH] DENIED curl(", "in the request body"}), "") << proxy_->shorthand();
  EXPECT_EQ(other->output().find("REQ "), std::string::npos) << other->output();
  stopAndCheck({value, placeholder});
}

}  // namespace
}  // namespace warden::testing
