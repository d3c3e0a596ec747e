// `warden proxy` as a drop-in HTTP_PROXY/HTTPS_PROXY for real clients on this host: the real warden
// binary on 127.0.0.1:0, the client environment taken from what it prints (HTTP(S)_PROXY,
// http(s)_proxy, CURL_CA_BUNDLE, GIT_SSL_CAINFO, NODE_EXTRA_CA_CERTS, ...), nginx upstreams on
// loopback (plain and TLS), and curl, git (dumb HTTP clone), pip (download from a PEP 503 index) and
// node. Each test's policy allows only that client's executable, so an allowed request also proves the
// caller identity from /proc; the events are read back from the log dir. Nothing leaves the machine:
// every server binds 127.0.0.1, the clients' only proxy is warden, and the policy allows nothing else
// (asserted from the events).
//
// Upstream trust: nginx's certificate is self-signed; the warden process gets SSL_CERT_FILE=<it>, which
// OpenSSL's default verify paths (what the proxy's upstream context loads) honour.

#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/child_process.h"
#include "support/nginx.h"
#include "support/node_tools.h"
#include "support/test_env.h"
#include "support/warden_proxy.h"

#include <fmt/format.h>

namespace warden::testing {
namespace {

class ProxyDropInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!makeSelfSignedCertificate(dir_ / "nginx.pem", dir_ / "nginx.key")) GTEST_SKIP() << "openssl failed";
    std::string why;
    http_ = NginxServer::start(&why);
    if (!http_) GTEST_SKIP() << why;
    NginxServer::Tls tls{dir_ / "nginx.pem", dir_ / "nginx.key"};
    https_ = NginxServer::start(&why, &tls);
    if (!https_) GTEST_SKIP() << why;
  }

  // One rule, `name`, for both nginx servers (REST, read-only, /denied/** denied), allowing only `binary`.
  std::string policyFor(const std::string& name, const std::string& binary) const {
    return fmt::format(
        "version: 1\nnetwork:\n  {}:\n    endpoints:\n"
        "      - host: 127.0.0.1\n        ports: [{}, {}]\n        protocol: rest\n        access: read-only\n"
        "        allowed_ips: [127.0.0.1/32]\n        deny_rules:\n          - {{ method: \"*\", path: \"/denied/**\" }}\n"
        "    binaries: [ {{ path: \"{}\" }} ]\n",
        name, http_->port(), https_->port(), binary);
  }

  bool startProxy(const std::string& rule, const std::string& binary) {
    std::string why;
    proxy_ = WardenProxy::start(dir_.path(), policyFor(rule, binary), dir_ / "nginx.pem", &why);
    if (!proxy_) ADD_FAILURE() << why;
    return proxy_ != nullptr;
  }

  std::string httpUrl(const std::string& path) const { return fmt::format("http://127.0.0.1:{}{}", http_->port(), path); }
  std::string httpsUrl(const std::string& path) const {
    return fmt::format("https://127.0.0.1:{}{}", https_->port(), path);
  }

  // The request's HTTP event came from `executable` under `rule`, with `code`.
  void expectHttpEvent(const std::string& path, const std::string& action, int code, const std::string& executable,
                       const std::string& rule) {
    const auto e = proxy_->waitForHttpEvent(path, action);
    ASSERT_FALSE(e.is_null()) << "no " << action << " HTTP event for " << path << "\n" << proxy_->shorthand();
    EXPECT_EQ(e.value(nlohmann::json::json_pointer("/actor/process/file/path"), std::string()), executable) << e.dump();
    EXPECT_EQ(e.value(nlohmann::json::json_pointer("/firewall_rule/name"), std::string()), rule) << e.dump();
    EXPECT_EQ(e.value(nlohmann::json::json_pointer("/http_response/code"), 0), code) << e.dump();
  }

  // Ends the proxy (SIGTERM, exit 0) and checks that no connection went anywhere but 127.0.0.1.
  void stopAndCheckOnlyLoopback() {
    EXPECT_EQ(proxy_->stop(), 0) << proxy_->shorthand();
    for (const auto& e : proxy_->events()) {
      if (!e.contains("dst_endpoint")) continue;
      EXPECT_EQ(e["dst_endpoint"].value("ip", "127.0.0.1"), "127.0.0.1") << e.dump();
      EXPECT_EQ(e["dst_endpoint"].value("hostname", "127.0.0.1"), "127.0.0.1") << e.dump();
    }
  }

  TempDir dir_;
  std::unique_ptr<NginxServer> http_;
  std::unique_ptr<NginxServer> https_;
  std::unique_ptr<WardenProxy> proxy_;
};

TEST_F(ProxyDropInTest, CurlFetchesOverHttpAndHttpsAndADeniedPathFailsWith403) {
  const std::string curl = realExecutable("curl");
  if (curl.empty()) GTEST_SKIP() << "curl not found";
  ASSERT_TRUE(startProxy("curl_rule", curl));
  // curl reads http_proxy / https_proxy and CURL_CA_BUNDLE from the printed variables.
  const auto plain = runCommand(fmt::format("{} timeout 30 curl -sS -f {}", proxy_->env(), httpUrl("/hello.txt")));
  EXPECT_EQ(plain.output, "hello from nginx\n");
  const auto tls = runCommand(fmt::format("{} timeout 30 curl -sS -f {}", proxy_->env(), httpsUrl("/hello.txt")));
  EXPECT_EQ(tls.output, "hello from nginx\n");
  const auto denied = runCommand(
      fmt::format("{} timeout 30 curl -sS -o /dev/null -w '%{{http_code}}' {}", proxy_->env(), httpsUrl("/denied/x")));
  EXPECT_EQ(denied.output, "403");

  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", "curl(", httpUrl("/hello.txt"), "[policy:curl_rule"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", "curl(", httpsUrl("/hello.txt"), "[policy:curl_rule"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "DENIED", "curl(", httpsUrl("/denied/x"), "[policy:curl_rule"}), "")
      << proxy_->shorthand();
  expectHttpEvent("/hello.txt", "Allowed", 200, curl, "curl_rule");
  expectHttpEvent("/denied/x", "Denied", 403, curl, "curl_rule");
  stopAndCheckOnlyLoopback();
}

// A bare repository with one commit, published for dumb HTTP (`git update-server-info`) under `www`.
bool makeDumbHttpRepo(const std::filesystem::path& scratch, const std::filesystem::path& www, const std::string& git_env) {
  const auto r = runCommand(fmt::format(
      "set -e; {0} git init -q '{1}/work'; echo 'cloned through warden' > '{1}/work/README';"
      "{0} git -C '{1}/work' add README; {0} git -C '{1}/work' -c user.name=t -c user.email=t@t commit -q -m one;"
      "mkdir -p '{2}'; {0} git clone -q --bare '{1}/work' '{2}/repo.git'; {0} git -C '{2}/repo.git' update-server-info;"
      "mkdir -p '{2}/denied'; cp -r '{2}/repo.git' '{2}/denied/repo.git'",
      git_env, scratch.string(), www.string()));
  if (r.status != 0) ADD_FAILURE() << r.output;
  return r.status == 0;
}

TEST_F(ProxyDropInTest, GitClonesOverHttpAndHttpsAndADeniedRepoFails) {
  const auto exec_path = runCommand("git --exec-path");
  if (exec_path.status != 0) GTEST_SKIP() << "git not found";
  std::string helper_dir = exec_path.output;
  while (!helper_dir.empty() && helper_dir.back() == '\n') helper_dir.pop_back();
  // git-remote-https is a link to git-remote-http here; /proc/<pid>/exe names the file itself.
  const std::string helper = realExecutable(helper_dir + "/git-remote-http");
  ASSERT_FALSE(helper.empty());
  const std::string git_env = fmt::format("env HOME='{}' GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0",
                                          dir_.path().string());
  ASSERT_TRUE(makeDumbHttpRepo(dir_ / "src-http", http_->docRoot(), git_env));
  ASSERT_TRUE(makeDumbHttpRepo(dir_ / "src-https", https_->docRoot(), git_env));
  ASSERT_TRUE(startProxy("git_rule", helper));

  // http_proxy / https_proxy and GIT_SSL_CAINFO come from the printed variables.
  const auto plain = runCommand(fmt::format("{} {} timeout 60 git clone -q {} '{}'", proxy_->env(), git_env,
                                            httpUrl("/repo.git"), (dir_ / "clone-http").string()));
  ASSERT_EQ(plain.status, 0) << plain.output << proxy_->shorthand();
  EXPECT_EQ(readFile(dir_ / "clone-http" / "README"), "cloned through warden\n");
  const auto tls = runCommand(fmt::format("{} {} timeout 60 git clone -q {} '{}'", proxy_->env(), git_env,
                                          httpsUrl("/repo.git"), (dir_ / "clone-https").string()));
  ASSERT_EQ(tls.status, 0) << tls.output << proxy_->shorthand();
  EXPECT_EQ(readFile(dir_ / "clone-https" / "README"), "cloned through warden\n");
  const auto denied = runCommand(fmt::format("{} {} timeout 60 git clone -q {} '{}'", proxy_->env(), git_env,
                                             httpsUrl("/denied/repo.git"), (dir_ / "clone-denied").string()));
  EXPECT_NE(denied.status, 0) << denied.output;
  EXPECT_NE(denied.output.find("403"), std::string::npos) << denied.output;

  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", "git-remote-http(", httpUrl("/repo.git/info/refs"), "[policy:git_rule"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", "git-remote-http(", httpsUrl("/repo.git/info/refs"), "[policy:git_rule"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "DENIED", "git-remote-http(", httpsUrl("/denied/repo.git/info/refs"), "[policy:git_rule"}), "")
      << proxy_->shorthand();
  expectHttpEvent("/repo.git/HEAD", "Allowed", 200, helper, "git_rule");
  expectHttpEvent("/denied/repo.git/info/refs", "Denied", 403, helper, "git_rule");
  stopAndCheckOnlyLoopback();
}

// A PEP 503 simple index for one package with one (minimal but valid) wheel, under `www`/`prefix`.
bool makeSimpleIndex(const std::filesystem::path& www, const std::string& prefix) {
  const auto root = www / prefix;
  const auto r = runCommand(fmt::format(R"(set -e; mkdir -p '{0}/simple/wardenprobe'; cd '{0}/simple/wardenprobe'
python3 - <<'PY'
import hashlib, zipfile
name = "wardenprobe-1.0-py3-none-any.whl"
with zipfile.ZipFile(name, "w") as z:
    z.writestr("wardenprobe/__init__.py", "VERSION = '1.0'\n")
    z.writestr("wardenprobe-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: wardenprobe\nVersion: 1.0\n")
    z.writestr("wardenprobe-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: warden-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("wardenprobe-1.0.dist-info/RECORD", "")
digest = hashlib.sha256(open(name, "rb").read()).hexdigest()
open("index.html", "w").write(f'<!DOCTYPE html><html><body><a href="{{name}}#sha256={{digest}}">{{name}}</a></body></html>\n')
open("../index.html", "w").write('<!DOCTYPE html><html><body><a href="wardenprobe/">wardenprobe</a></body></html>\n')
PY
)",
                                        root.string()));
  if (r.status != 0) ADD_FAILURE() << r.output;
  return r.status == 0;
}

TEST_F(ProxyDropInTest, PipDownloadsFromAnHttpsIndexAndADeniedIndexFails) {
  const auto probe = runCommand("python3 -m pip --version && python3 -c 'import os,sys; print(os.path.realpath(sys.executable))'");
  if (probe.status != 0) GTEST_SKIP() << "python3 -m pip unavailable: " << probe.output;
  std::string python = probe.output.substr(probe.output.find('\n') + 1);
  while (!python.empty() && python.back() == '\n') python.pop_back();
  // The shorthand names the process by its command name ("python3" via pyenv's shim, "python3.11" run
  // directly): the lines are matched on "python", the OCSF events on the exact executable.
  const std::string python_name = "python";
  ASSERT_TRUE(makeSimpleIndex(https_->docRoot(), ""));
  ASSERT_TRUE(makeSimpleIndex(https_->docRoot(), "denied"));
  ASSERT_TRUE(startProxy("pip_rule", python));

  // Only the local index (every PIP_* variable of the test's environment dropped, e.g. PIP_FIND_LINKS),
  // no dependencies, no version check, no user/site config, no cache: nothing but 127.0.0.1 is asked for. HTTPS_PROXY from the printed variables; the CA bundle via --cert.
  const std::string pip = fmt::format(
      "env $(env | sed -n 's/^\\(PIP_[A-Za-z0-9_]*\\)=.*/-u \\1/p') {} PIP_CONFIG_FILE=/dev/null "
      "PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 timeout 120 python3 -m pip download "
      "--no-deps --no-cache-dir --cert '{}' --timeout 20 --retries 0 -d '{}'",
      proxy_->env(), proxy_->variable("REQUESTS_CA_BUNDLE"), (dir_ / "wheels").string());
  const auto ok = runCommand(fmt::format("{} --index-url {} wardenprobe", pip, httpsUrl("/simple/")));
  ASSERT_EQ(ok.status, 0) << ok.output << proxy_->shorthand();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "wheels" / "wardenprobe-1.0-py3-none-any.whl")) << ok.output;
  // -vv: pip reports the index page's 403 only at debug level ("Could not fetch URL ...: 403 ...").
  const auto denied = runCommand(fmt::format("{} -vv --index-url {} wardenprobe", pip, httpsUrl("/denied/simple/")));
  EXPECT_NE(denied.status, 0) << denied.output;
  EXPECT_NE(denied.output.find("403"), std::string::npos) << denied.output;

  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", python_name, httpsUrl("/simple/wardenprobe/"), "[policy:pip_rule"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", python_name,
                                 httpsUrl("/simple/wardenprobe/wardenprobe-1.0-py3-none-any.whl"), "[policy:pip_rule"}),
            "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "DENIED", python_name, httpsUrl("/denied/simple/wardenprobe/"), "[policy:pip_rule"}), "")
      << proxy_->shorthand();
  expectHttpEvent("/simple/wardenprobe/wardenprobe-1.0-py3-none-any.whl", "Allowed", 200, python, "pip_rule");
  expectHttpEvent("/denied/simple/wardenprobe/", "Denied", 403, python, "pip_rule");
  stopAndCheckOnlyLoopback();
}

TEST_F(ProxyDropInTest, NodeFetchesOverHttpAndHttpsAndADeniedPathGets403) {
  const std::string node = realExecutable("node");
  if (node.empty()) GTEST_SKIP() << "node not found";
  std::string why;
  if (!ensureNodePackages(&why)) GTEST_SKIP() << why;
  ASSERT_TRUE(startProxy("node_rule", node));
  // HTTP(S)_PROXY and NODE_EXTRA_CA_CERTS come from the printed variables; NODE_USE_ENV_PROXY=1 lets
  // node >= 24 use them natively, older node uses an agent (see http_get.js).
  const auto get = [&](const std::string& url) {
    const auto r = runCommand(fmt::format("{} NODE_USE_ENV_PROXY=1 timeout 30 '{}' '{}' '{}'", proxy_->env(), node,
                                          (nodeSupportDir() / "http_get.js").string(), url));
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << r.output;
    return j;
  };
  const auto plain = get(httpUrl("/hello.txt"));
  EXPECT_EQ(plain.value("status", 0), 200) << plain.dump();
  EXPECT_EQ(plain.value("body", ""), "hello from nginx\n") << plain.dump();
  EXPECT_NE(plain.value("via", ""), "direct") << plain.dump();
  const auto tls = get(httpsUrl("/hello.txt"));
  EXPECT_EQ(tls.value("status", 0), 200) << tls.dump();
  EXPECT_EQ(tls.value("body", ""), "hello from nginx\n") << tls.dump();
  const auto denied = get(httpsUrl("/denied/x"));
  EXPECT_EQ(denied.value("status", 0), 403) << denied.dump();
  EXPECT_EQ(denied.value("policy", ""), "node_rule") << denied.dump();

  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", "node(", httpUrl("/hello.txt"), "[policy:node_rule"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "ALLOWED", "node(", httpsUrl("/hello.txt"), "[policy:node_rule"}), "")
      << proxy_->shorthand();
  EXPECT_NE(proxy_->waitForLine({"HTTP:GET", "DENIED", "node(", httpsUrl("/denied/x"), "[policy:node_rule"}), "")
      << proxy_->shorthand();
  expectHttpEvent("/hello.txt", "Allowed", 200, node, "node_rule");
  expectHttpEvent("/denied/x", "Denied", 403, node, "node_rule");
  stopAndCheckOnlyLoopback();
}

}  // namespace
}  // namespace warden::testing
