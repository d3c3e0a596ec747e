// The egress proxy's holes of issue 12 (items 3, 9, 10): each test makes the attempt the review made
// against a real in-process proxy (real audit pipeline, real /proc caller identity) and a real
// upstream on loopback, and asserts both that it is refused and that the record says so.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "integration/proxy_harness.h"

namespace warden::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// One `protocol: rest` endpoint on the upstream's loopback port: full access but /admin/** denied.
std::string adminDeniedPolicy(uint16_t port, const std::string& deny_extra = "") {
  return policyWith(fmt::format("      - host: 127.0.0.1\n"
                                "        ports: [{}]\n"
                                "        protocol: rest\n"
                                "        access: full\n"
                                "        allowed_ips: [127.0.0.1/32]\n"
                                "        deny_rules: [{{ method: \"*\", path: \"/admin/**\"{} }}]\n",
                                port, deny_extra),
                    "api");
}

// ---- item 9: L7 strictness ----

TEST(ProxyHoles, AChunkSizeALenientUpstreamTruncatesSmugglesNoRequest) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk, .lenient_http = true});
  // Straight to the lenient upstream, the attack works: it reads 0x100000005 as 5, and the bytes
  // after the "last chunk" as a request of their own (the control that shows the test can fail).
  const std::string smuggled = fmt::format("GET /admin/secret HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", upstream.port());
  const std::string padding(70 * 1024, 'P');  // past the 64 KiB checked before the head goes out
  const std::string body = "100000005\r\nAAAAA\r\n0\r\n\r\n" + smuggled + padding;
  const std::string head = fmt::format(
      "POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nTransfer-Encoding: chunked\r\n\r\n", upstream.port());
  {
    RawUpstream direct(RawUpstream::Script{.response = kOk, .lenient_http = true});
    const int fd = connectLoopback(direct.port());
    ASSERT_GE(fd, 0);
    sendAll(fd, head + body);
    EXPECT_TRUE(waitFor([&] { return direct.requests().size() >= 2; })) << "the control attack did not work";
    EXPECT_THAT(direct.requests(), Contains(HasSubstr("GET /admin/secret")));
    ::close(fd);
  }

  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(adminDeniedPolicy(upstream.port())));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, head + body);
  // The head and the first 64 KiB go out re-framed; the upstream reads one POST whose body is still
  // coming. The client then stalls: the proxy resets the upstream and records it.
  EXPECT_TRUE(waitFor([&] { return upstream.received().size() > 64 * 1024; })) << upstream.received().size();
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(10)));
  ::close(fd);
  const std::string seen = upstream.received();
  EXPECT_THAT(seen, Not(HasSubstr("100000005"))) << "the client's chunk size reached the upstream";
  EXPECT_THAT(upstream.requests(), Not(Contains(HasSubstr("/admin/secret"))));
  EXPECT_THAT(seen, HasSubstr("POST /upload HTTP/1.1\r\n"));
  EXPECT_NE(proxy.waitForLine({"NET:FAIL", "the client stalled mid-request body"}), "") << proxy.shorthand();
  EXPECT_NE(proxy.waitForLine({"HTTP:POST", "ALLOWED", "/upload"}), "") << proxy.shorthand();
}

TEST(ProxyHoles, AWholeSmuggledBodyReachesTheUpstreamAsData) {
  // The same attack as a complete body: the chunk is declared short enough to finish, the smuggled
  // request inside it. The lenient upstream reads exactly one request, the POST.
  RawUpstream upstream(RawUpstream::Script{.response = kOk, .lenient_http = true});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(adminDeniedPolicy(upstream.port())));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const std::string smuggled = fmt::format("GET /admin/secret HTTP/1.1\r\nHost: {}\r\n\r\n", target);
  // 0x1_0000_002D: 32-bit truncation reads 0x2D (45) bytes; our decoder reads the true size, so the
  // body declares more than it sends. Sent as one body of exact size instead, with an extension and
  // a trailer a lenient parser would skip blindly:
  const std::string payload = "AAAAA\r\n0\r\n\r\n" + smuggled;
  const std::string body = fmt::format("{:x};ext=\"1\"\r\n{}\r\n0\r\nX-T: 1\r\n\r\n", payload.size(), payload);
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("POST /upload HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n{}", target, body));
  const std::string answer = readResponse(fd);
  EXPECT_EQ(statusOf(answer), 200) << answer;
  ::close(fd);
  EXPECT_TRUE(waitFor([&] { return !upstream.requests().empty(); }));
  EXPECT_THAT(upstream.requests(), ElementsAre(HasSubstr("POST /upload")));
  const std::string seen = upstream.received();
  EXPECT_THAT(seen, HasSubstr(fmt::format("\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n", payload.size(), payload)))
      << "the body is re-framed: our size, no extension, no trailer";
  EXPECT_THAT(seen, Not(HasSubstr("ext=")));
  EXPECT_THAT(seen, Not(HasSubstr("X-T: 1")));
}

TEST(ProxyHoles, AnInvalidFirstChunkSizeIsRefusedBeforeTheHeadGoesOut) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk, .lenient_http = true});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(adminDeniedPolicy(upstream.port())));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("POST /upload HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "-5\r\nhello\r\n0\r\n\r\n",
                          target));
  const std::string answer = readResponse(fd);
  EXPECT_EQ(statusOf(answer), 400) << answer;
  EXPECT_THAT(answer, HasSubstr("invalid_chunk_size"));
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"HTTP:POST [MED] DENIED", "invalid_chunk_size"}), "") << proxy.shorthand();
  EXPECT_EQ(upstream.received(), "") << "the upstream got the head of a request the proxy refused";
}

TEST(ProxyHoles, PathParamsTrailingDotsAndCaseCannotPassADeny) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk, .lenient_http = true});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(adminDeniedPolicy(upstream.port(), ", case_insensitive: true")));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  for (const std::string path : {"/admin;x=1/secret", "/admin./secret", "/ADMIN/x", "/%61dmin/x", "/;j=1/admin/x",
                                 "/Admin.;v/secret"}) {
    const int fd = openTunnel(proxy.port(), target);
    ASSERT_GE(fd, 0);
    sendAll(fd, fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", path, target));
    const std::string answer = readResponse(fd);
    EXPECT_EQ(statusOf(answer), 403) << path << ": " << answer;
    ::close(fd);
    EXPECT_NE(proxy.waitForLine({"HTTP:GET [MED] DENIED", "[policy:api engine:l7]"}), "") << path;
  }
  // An allowed path with parameters still goes through, exactly as decided.
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("GET /public;v=2/x HTTP/1.1\r\nHost: {}\r\n\r\n", target));
  EXPECT_EQ(statusOf(readResponse(fd)), 200);
  ::close(fd);
  EXPECT_TRUE(waitFor([&] { return !upstream.requests().empty(); }));
  EXPECT_THAT(upstream.requests(), ElementsAre("GET /public;v=2/x HTTP/1.1"));
  EXPECT_EQ(proxy.countLines({"HTTP:GET [MED] DENIED"}), 6u) << proxy.shorthand();
  EXPECT_NE(proxy.waitForLine({"which an upstream may read as /admin/secret"}), "") << proxy.shorthand();
}

// ---- item 3: binary identity ----

// One L4 endpoint on the upstream's loopback port, usable by `binaries` (a YAML flow list).
std::string l4Policy(uint16_t port, const std::string& binaries) {
  return fmt::format("version: 1\nnetwork:\n  local:\n    endpoints:\n      - {{ host: 127.0.0.1, ports: [{}], "
                     "allowed_ips: [127.0.0.1/32] }}\n    binaries: {}\n",
                     port, binaries);
}

std::string canonicalPath(const std::string& path) { return std::filesystem::canonical(path).string(); }

// Every complete line of the proxy's JSONL so far, checked with `warden ocsf validate --strict`.
void expectValidRecord(const ProxyHarness& proxy) {
  TempDir copy;
  std::string text = readFile(proxy.dir() / "logs" / "warden-ocsf.log");
  text.erase(text.rfind('\n') + 1);
  writeFile(copy / "events.jsonl", text);
  const auto r = runCommand(wardenBinary().string() + " ocsf validate --strict " + (copy / "events.jsonl").string() +
                            " 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
}

// The first NET:OPEN event of the JSONL record.
nlohmann::json firstOpen(const ProxyHarness& proxy) {
  return proxy.waitForEvent([](const nlohmann::json& e) {
    return e.value("class_uid", 0) == 4001 && e.value("activity_id", 0) == 1;
  });
}

std::string curlVia(const ProxyHarness& proxy, uint16_t port, const std::string& env = "") {
  return runCommand(fmt::format("env -i {} /usr/bin/curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 -x {} "
                                "http://127.0.0.1:{}/",
                                env, proxy.url(), port))
      .output;
}

TEST(ProxyHoles, AProcessUnderAnAllowedBinaryIsNotThatBinary) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk});
  const std::string sh = canonicalPath("/bin/sh");  // /usr/bin/dash
  // sh forks curl (the "; true" keeps sh from exec'ing it): curl's parent runs sh.
  auto viaSh = [&](const ProxyHarness& proxy) {
    return runCommand(fmt::format("{} -c \"env -i /usr/bin/curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 "
                                  "-x {} http://127.0.0.1:{}/; true\"",
                                  sh, proxy.url(), upstream.port()))
        .output;
  };
  {
    ProxyHarness proxy;
    ASSERT_TRUE(proxy.start(l4Policy(upstream.port(), fmt::format("[{{ path: {} }}]", sh))));
    EXPECT_EQ(viaSh(proxy), "403");
    EXPECT_NE(proxy.waitForLine({"NET:OPEN [MED] DENIED curl(", "binary /usr/bin/curl is not allowed by rule local"}), "")
        << proxy.shorthand();
    expectValidRecord(proxy);
  }
  {
    ProxyHarness proxy;  // the same entry with `ancestors: true` lets sh's children through
    ASSERT_TRUE(proxy.start(l4Policy(upstream.port(), fmt::format("[{{ path: {}, ancestors: true }}]", sh))));
    EXPECT_EQ(viaSh(proxy), "200");
    EXPECT_NE(proxy.waitForLine({"NET:OPEN [INFO] ALLOWED curl("}), "") << proxy.shorthand();
    EXPECT_THAT(firstOpen(proxy).dump(), HasSubstr(fmt::format("for {}", sh)));  // the ancestor that matched
  }
}

TEST(ProxyHoles, ASocketInheritedFromAProcessThatBecameCurlIsCheckedForEveryHolder) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk});
  RawUpstream silent(RawUpstream::Script{.respond = false});  // keeps the curl parent busy
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(l4Policy(upstream.port(), "[{ path: /usr/bin/curl }]")));
  // The review's attack: python makes a socket, forks; the parent becomes curl (holding the socket
  // across exec); the child connects it to the proxy once its parent runs curl, and sends.
  TempDir dir;
  writeFile(dir / "inherit.py", R"(import os, socket, sys, time
proxy_port, upstream_port, silent_port = map(int, sys.argv[1:4])
s = socket.socket()
s.set_inheritable(True)
if os.fork() != 0:
    os.execve('/usr/bin/curl', ['curl', '-s', '--max-time', '20', f'http://127.0.0.1:{silent_port}/'], {})
parent = os.getppid()
deadline = time.time() + 10
while os.readlink(f'/proc/{parent}/exe') != '/usr/bin/curl' and time.time() < deadline:
    time.sleep(0.01)
s.connect(('127.0.0.1', proxy_port))
s.sendall(f'CONNECT 127.0.0.1:{upstream_port} HTTP/1.1\r\nHost: 127.0.0.1:{upstream_port}\r\n\r\n'.encode())
print(s.recv(4096).decode().split('\r\n')[0], flush=True)
os.kill(parent, 9)
)");
  const auto r = runCommand(fmt::format("/usr/bin/python3 {} {} {} {}", (dir / "inherit.py").string(), proxy.port(),
                                        upstream.port(), silent.port()));
  EXPECT_THAT(r.output, HasSubstr("403")) << r.output;
  const std::string python = canonicalPath("/usr/bin/python3");
  EXPECT_NE(proxy.waitForLine({"NET:OPEN [MED] DENIED curl(", "the socket is also held by " + python}), "")
      << proxy.shorthand();
  const nlohmann::json open = firstOpen(proxy);
  ASSERT_TRUE(open.is_object());
  EXPECT_EQ(open["actor"]["process"]["name"], "curl");
  ASSERT_TRUE(open["unmapped"]["socket_holders"].is_array()) << open.dump();
  EXPECT_EQ(open["unmapped"]["socket_holders"][0]["path"], python);
  EXPECT_EQ(open["unmapped"]["socket_holders"][0]["name"], std::filesystem::path(python).filename().string());
  EXPECT_EQ(upstream.connections(), 0);
  expectValidRecord(proxy);
}

TEST(ProxyHoles, LdPreloadIntoAnAllowedBinaryIsAFindingAndDeniedWhenTheEntrySaysSo) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk});
  {
    ProxyHarness proxy;
    ASSERT_TRUE(proxy.start(l4Policy(upstream.port(), "[{ path: /usr/bin/curl }]")));
    EXPECT_EQ(curlVia(proxy, upstream.port(), "LD_PRELOAD=libm.so.6"), "200");
    const std::string open = proxy.waitForLine({"NET:OPEN [INFO] ALLOWED curl("});
    EXPECT_NE(open, "") << proxy.shorthand();
    EXPECT_NE(proxy.waitForLine({"FINDING:ALLOWED [HIGH] \"Allowed binary runs with injected code\"",
                                 "type:injected-code"}),
              "")
        << proxy.shorthand();
    const nlohmann::json finding = proxy.waitForEvent([](const nlohmann::json& e) { return e.value("class_uid", 0) == 2004; });
    EXPECT_THAT(finding["finding_info"]["desc"].get<std::string>(), HasSubstr("LD_PRELOAD=libm.so.6 in its environment"));
    const nlohmann::json net = firstOpen(proxy);
    EXPECT_EQ(net["unmapped"]["injection"][0], "LD_PRELOAD=libm.so.6 in its environment");
    // Back to back: the finding is the event right after NET:OPEN.
    EXPECT_EQ(finding["metadata"]["sequence"].get<int64_t>(), net["metadata"]["sequence"].get<int64_t>() + 1);
    // Without the variable: no finding.
    EXPECT_EQ(curlVia(proxy, upstream.port()), "200");
    EXPECT_TRUE(waitFor([&] { return proxy.countLines({"NET:OPEN [INFO] ALLOWED curl("}) == 2; }));
    EXPECT_EQ(proxy.countLines({"FINDING:"}), 1u);
    expectValidRecord(proxy);
  }
  {
    ProxyHarness proxy;
    ASSERT_TRUE(proxy.start(l4Policy(upstream.port(), "[{ path: /usr/bin/curl, injected: deny }]")));
    EXPECT_EQ(curlVia(proxy, upstream.port(), "LD_PRELOAD=libm.so.6"), "403");
    EXPECT_NE(proxy.waitForLine({"NET:OPEN [MED] DENIED curl(", "runs with injected code and rule local says injected: deny"}),
              "")
        << proxy.shorthand();
    EXPECT_NE(proxy.waitForLine({"FINDING:BLOCKED [HIGH] \"Allowed binary runs with injected code\""}), "")
        << proxy.shorthand();
    EXPECT_EQ(curlVia(proxy, upstream.port()), "200");  // the same binary without it is allowed
    expectValidRecord(proxy);
  }
}

TEST(ProxyHoles, CodeLoadedFromAMemfdIsAFinding) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk});
  const std::string python = canonicalPath("/usr/bin/python3");
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(l4Policy(upstream.port(), fmt::format("[{{ path: {} }}]", python))));
  TempDir dir;
  // Fileless loading: a library copied into a memfd and loaded from there (no LD_PRELOAD involved).
  writeFile(dir / "memfd.py", R"(import ctypes, os, socket, sys
fd = os.memfd_create('payload')
os.write(fd, open('/lib/x86_64-linux-gnu/libm.so.6', 'rb').read())
ctypes.CDLL(f'/proc/self/fd/{fd}')
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(f'GET http://127.0.0.1:{sys.argv[2]}/ HTTP/1.1\r\nHost: x\r\n\r\n'.encode())
print(s.recv(4096).decode().split('\r\n')[0])
)");
  const auto r =
      runCommand(fmt::format("env -i /usr/bin/python3 {} {} {}", (dir / "memfd.py").string(), proxy.port(), upstream.port()));
  EXPECT_THAT(r.output, HasSubstr("200")) << r.output;
  EXPECT_NE(proxy.waitForLine({"FINDING:ALLOWED [HIGH] \"Allowed binary runs with injected code\""}), "")
      << proxy.shorthand();
  const nlohmann::json net = firstOpen(proxy);
  EXPECT_THAT(net["unmapped"]["injection"][0].get<std::string>(), HasSubstr("/memfd:payload"));
  expectValidRecord(proxy);
}

// ---- item 10: record fidelity ----

TEST(ProxyHoles, TheActorIsNamedByItsExecutableNotTheNameItGaveItself) {
  RawUpstream upstream(RawUpstream::Script{.response = kOk});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(l4Policy(upstream.port(), "[{ path: /usr/bin/git }]")));
  TempDir dir;
  writeFile(dir / "comm.py", R"(import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, b'git', 0, 0, 0)  # PR_SET_NAME: comm is now "git"
print(open('/proc/self/comm').read().strip())
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(f'GET http://127.0.0.1:{sys.argv[2]}/ HTTP/1.1\r\nHost: x\r\n\r\n'.encode())
print(s.recv(4096).decode().split('\r\n')[0])
)");
  const auto r =
      runCommand(fmt::format("env -i /usr/bin/python3 {} {} {}", (dir / "comm.py").string(), proxy.port(), upstream.port()));
  EXPECT_THAT(r.output, HasSubstr("git\n")) << "the control: comm was changed";
  EXPECT_THAT(r.output, HasSubstr("403")) << r.output;
  const std::string python = std::filesystem::path(canonicalPath("/usr/bin/python3")).filename().string();
  EXPECT_NE(proxy.waitForLine({"NET:OPEN [MED] DENIED " + python + "("}), "") << proxy.shorthand();
  EXPECT_EQ(proxy.countLines({" git("}), 0u) << proxy.shorthand();
}

}  // namespace
}  // namespace warden::testing
