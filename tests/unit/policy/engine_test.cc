#include "policy/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policy/loader.h"

namespace warden::policy {
namespace {

using ::testing::HasSubstr;

Policy load(const std::string& yaml) {
  Diagnostics d;
  auto p = loadPolicyText(yaml, "test.yaml", &d);
  EXPECT_TRUE(p.ok()) << d.toString();
  return p.ok() ? std::move(p).value() : Policy{};
}

// One rule named `rule` with one endpoint (the YAML flow mapping `endpoint`) and binaries.
Policy oneRule(const std::string& endpoint, const std::string& binaries = "[{path: /usr/bin/curl}]",
               const std::string& rule = "r") {
  return load("version: 1\nnetwork:\n  " + rule + ":\n    endpoints: [" + endpoint +
              "]\n    binaries: " + binaries + "\n");
}

ConnectRequest connect(std::string host, uint16_t port, std::string exe = "/usr/bin/curl",
                       std::vector<std::string> ancestors = {}) {
  return ConnectRequest{std::move(host), port, std::move(exe), std::move(ancestors)};
}

HttpRequest request(std::string method, std::string path, std::string query = "") {
  return HttpRequest{std::move(method), std::move(path), std::move(query)};
}

const Endpoint& firstEndpoint(const Policy& p) {
  return p.network.at(0).endpoints.at(0);
}

// ---- Connect: hosts and ports ----------------------------------------------------------------

TEST(PolicyEngineTest, AllowsConnectWhenHostPortAndBinaryMatch) {
  const Policy p = oneRule("{host: api.example.com, ports: [443]}", "[{path: /usr/bin/curl}]", "github");
  const Decision d = decideConnect(p, connect("api.example.com", 443));
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_EQ(d.action(), Action::kAllowed);
  EXPECT_EQ(d.rule, "github");
  EXPECT_EQ(d.matched_binary, "/usr/bin/curl");
  ASSERT_NE(d.endpoint, nullptr);
  EXPECT_EQ(d.endpoint, &firstEndpoint(p));
}

TEST(PolicyEngineTest, DeniesConnectToHostOutsideAllowlist) {
  const Policy p = oneRule("{host: api.example.com, ports: [443]}");
  const Decision d = decideConnect(p, connect("evil.example", 443));
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.action(), Action::kDenied);
  EXPECT_EQ(d.rule, "");
  EXPECT_EQ(d.endpoint, nullptr);
  EXPECT_EQ(d.reason, "no policy allows evil.example:443");
}

TEST(PolicyEngineTest, DeniesConnectOnPortTheEndpointDoesNotList) {
  const Policy p = oneRule("{host: api.example.com, ports: [443, 8443]}");
  const Decision d = decideConnect(p, connect("api.example.com", 80));
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.reason,
            "no policy allows api.example.com:80 (rule r allows api.example.com on ports 443, 8443 only)");
  EXPECT_TRUE(decideConnect(p, connect("api.example.com", 8443)).allowed());
}

TEST(PolicyEngineTest, MatchesHostCaseInsensitivelyAndIgnoresTrailingDot) {
  const Policy p = oneRule("{host: Api.Example.com, ports: [443]}");
  EXPECT_TRUE(decideConnect(p, connect("API.EXAMPLE.COM", 443)).allowed());
  EXPECT_TRUE(decideConnect(p, connect("api.example.com.", 443)).allowed());
  EXPECT_FALSE(decideConnect(p, connect("api.example.com..", 443)).allowed());
}

TEST(PolicyEngineTest, SingleStarHostMatchesExactlyOneLabel) {
  const Policy p = oneRule("{host: '*.example.com', ports: [443]}");
  EXPECT_TRUE(decideConnect(p, connect("a.example.com", 443)).allowed());
  EXPECT_FALSE(decideConnect(p, connect("example.com", 443)).allowed());
  EXPECT_FALSE(decideConnect(p, connect("a.b.example.com", 443)).allowed());
}

TEST(PolicyEngineTest, DoubleStarHostMatchesAnyDepthButNotTheApex) {
  const Policy p = oneRule("{host: '**.example.com', ports: [443]}");
  EXPECT_TRUE(decideConnect(p, connect("a.example.com", 443)).allowed());
  EXPECT_TRUE(decideConnect(p, connect("x.y.z.example.com", 443)).allowed());
  EXPECT_FALSE(decideConnect(p, connect("example.com", 443)).allowed());
  EXPECT_FALSE(decideConnect(p, connect("notexample.com", 443)).allowed());
}

TEST(PolicyEngineTest, IpLiteralConnectMatchesOnlyAnEndpointWithThatAddress) {
  const Policy p = oneRule("{host: 'fd00::5', ports: [5432]}");
  EXPECT_TRUE(decideConnect(p, connect("[FD00:0::5]", 5432)).allowed());
  EXPECT_TRUE(decideConnect(p, connect("fd00::5", 5432)).allowed());
  EXPECT_FALSE(decideConnect(p, connect("fd00::6", 5432)).allowed());
  const Policy named = oneRule("{host: db.corp.internal, ports: [5432], allowed_ips: [10.30.1.5/32]}");
  EXPECT_FALSE(decideConnect(named, connect("10.30.1.5", 5432)).allowed());
}

TEST(PolicyEngineTest, DeniesInvalidHostNamesAndPortZero) {
  const Policy p = oneRule("{host: api.example.com, ports: [443]}");
  EXPECT_THAT(decideConnect(p, connect("api example.com", 443)).reason, HasSubstr("not a valid host name"));
  EXPECT_FALSE(decideConnect(p, connect("", 443)).allowed());
  EXPECT_FALSE(decideConnect(p, connect("api.example.com", 0)).allowed());
}

TEST(PolicyEngineTest, EmptyNetworkSectionMeansNoEgress) {
  for (const char* yaml : {"version: 1\n", "version: 1\nnetwork:\n", "version: 1\nnetwork: {}\n"}) {
    const Policy p = load(yaml);
    EXPECT_TRUE(p.network.empty());
    EXPECT_FALSE(decideConnect(p, connect("api.example.com", 443)).allowed()) << yaml;
    EXPECT_FALSE(couldEverAllowHost(p, "api.example.com"));
  }
}

// ---- Connect: binaries -----------------------------------------------------------------------

TEST(PolicyEngineTest, DeniesBinaryNotListedAndNamesTheAllowedOnes) {
  const Policy p = oneRule("{host: api.github.com, ports: [443]}",
                           "[{path: /usr/bin/curl}, {path: /usr/bin/git}]", "github_readonly");
  const Decision d = decideConnect(p, connect("api.github.com", 443, "/usr/bin/wget"));
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.rule, "github_readonly");
  EXPECT_EQ(
      d.reason,
      "binary /usr/bin/wget is not allowed by rule github_readonly (allowed: /usr/bin/curl, /usr/bin/git)");
}

TEST(PolicyEngineTest, AllowsWhenAnAncestorExecutableMatchesAnEntryWithAncestorsTrue) {
  const Policy p = oneRule("{host: api.github.com, ports: [443]}", "[{path: /usr/bin/git, ancestors: true}]");
  const Decision d = decideConnect(
      p, connect("api.github.com", 443, "/usr/lib/git-core/git-remote-https", {"/usr/bin/git", "/bin/bash"}));
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.matched_binary, "/usr/bin/git");
  EXPECT_FALSE(decideConnect(p, connect("api.github.com", 443, "/usr/bin/python3", {"/bin/bash"})).allowed());
}

TEST(PolicyEngineTest, AnAncestorDoesNotMatchAnEntryWithoutAncestorsTrue) {
  // Issue 12 item 3 (a): python started under curl's process tree is not curl.
  const Policy p = oneRule("{host: api.github.com, ports: [443]}", "[{path: /usr/bin/curl}]");
  const Decision d = decideConnect(p, connect("api.github.com", 443, "/usr/bin/python3.11", {"/usr/bin/curl"}));
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.reason, "binary /usr/bin/python3.11 is not allowed by rule r (allowed: /usr/bin/curl)");
}

TEST(PolicyEngineTest, EveryHolderOfTheSocketMustBeAllowed) {
  // Issue 12 item 3 (b): a socket made by a process that became curl, also held by python.
  const Policy p = oneRule("{host: api.github.com, ports: [443]}", "[{path: /usr/bin/curl}]");
  ConnectRequest request = connect("api.github.com", 443, "/usr/bin/curl");
  request.pid = 40;
  EXPECT_TRUE(decideConnect(p, request).allowed());
  request.other_holders.push_back(CallerProcess{.executable = "/usr/bin/python3.11", .pid = 41});
  const Decision d = decideConnect(p, request);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.rule, "r");
  EXPECT_EQ(d.reason,
            "the socket is also held by /usr/bin/python3.11 (pid 41), which rule r does not allow (allowed: "
            "/usr/bin/curl)");
  // Both holders allowed: allowed.
  request.other_holders.back().executable = "/usr/bin/curl";
  EXPECT_TRUE(decideConnect(p, request).allowed());
}

TEST(PolicyEngineTest, InjectedCodeIsAllowedAndFlaggedUnlessTheEntrySaysDeny) {
  // Issue 12 item 3 (c): LD_PRELOAD into curl.
  ConnectRequest request = connect("api.github.com", 443, "/usr/bin/curl");
  request.injected = true;
  request.pid = 7;
  const Policy alert = oneRule("{host: api.github.com, ports: [443]}", "[{path: /usr/bin/curl}]");
  const Decision allowed = decideConnect(alert, request);
  EXPECT_TRUE(allowed.allowed());
  EXPECT_TRUE(allowed.injected);
  const Policy deny = oneRule("{host: api.github.com, ports: [443]}", "[{path: /usr/bin/curl, injected: deny}]");
  const Decision denied = decideConnect(deny, request);
  EXPECT_FALSE(denied.allowed());
  EXPECT_TRUE(denied.injected);
  EXPECT_EQ(denied.reason, "/usr/bin/curl (pid 7) runs with injected code and rule r says injected: deny");
  request.injected = false;
  const Decision clean = decideConnect(deny, request);
  EXPECT_TRUE(clean.allowed());
  EXPECT_FALSE(clean.injected);
  // Another holder's injection counts the same way.
  request.other_holders.push_back(CallerProcess{.executable = "/usr/bin/curl", .injected = true, .pid = 8});
  const Decision other = decideConnect(deny, request);
  EXPECT_FALSE(other.allowed());
  EXPECT_THAT(other.reason, HasSubstr("also held by /usr/bin/curl (pid 8), which runs with injected code"));
}

TEST(PolicyEngineTest, BinaryGlobStarStaysWithinOneSegment) {
  const Policy p = oneRule("{host: db.corp.internal, ports: [5432]}", "[{path: '/opt/app/*'}]");
  EXPECT_TRUE(decideConnect(p, connect("db.corp.internal", 5432, "/opt/app/server")).allowed());
  EXPECT_FALSE(decideConnect(p, connect("db.corp.internal", 5432, "/opt/app/bin/server")).allowed());
}

TEST(PolicyEngineTest, BinaryGlobDoubleStarCrossesSegments) {
  const Policy p = oneRule("{host: db.corp.internal, ports: [5432]}", "[{path: '/opt/app/**', ancestors: true}]");
  EXPECT_TRUE(decideConnect(p, connect("db.corp.internal", 5432, "/opt/app/bin/x/server")).allowed());
  EXPECT_TRUE(
      decideConnect(p, connect("db.corp.internal", 5432, "/usr/bin/env", {"/opt/app/run"})).allowed());
  EXPECT_FALSE(decideConnect(p, connect("db.corp.internal", 5432, "/opt/application/server")).allowed());
}

TEST(PolicyEngineTest, UnknownCallerMatchesNoBinary) {
  const Policy p = oneRule("{host: api.example.com, ports: [443]}", "[{path: '/**'}]");
  EXPECT_FALSE(decideConnect(p, connect("api.example.com", 443, "")).allowed());
  EXPECT_TRUE(decideConnect(p, connect("api.example.com", 443, "/anything/at/all")).allowed());
}

TEST(PolicyEngineTest, FirstFullyMatchingRuleInFileOrderWins) {
  const Policy p = load(R"(version: 1
network:
  first:
    endpoints: [{host: api.example.com, ports: [443]}]
    binaries: [{path: /usr/bin/git}]
  second:
    endpoints: [{host: '*.example.com', ports: [443]}]
    binaries: [{path: /usr/bin/curl}]
  third:
    endpoints: [{host: '**.example.com', ports: [443]}]
    binaries: [{path: /usr/bin/curl}]
)");
  EXPECT_EQ(decideConnect(p, connect("api.example.com", 443, "/usr/bin/curl")).rule, "second");
  EXPECT_EQ(decideConnect(p, connect("api.example.com", 443, "/usr/bin/git")).rule, "first");
  const Decision wget = decideConnect(p, connect("api.example.com", 443, "/usr/bin/wget"));
  EXPECT_EQ(wget.rule, "first");
  EXPECT_EQ(
      wget.reason,
      "binary /usr/bin/wget is not allowed by rule first (allowed: /usr/bin/git) or rule second (allowed: "
      "/usr/bin/curl) or rule third (allowed: /usr/bin/curl)");
}

TEST(PolicyEngineTest, AuditEndpointObservesBinaryMismatchInsteadOfDenying) {
  const Policy p = oneRule("{host: api.example.com, ports: [443], enforcement: audit}");
  const Decision d = decideConnect(p, connect("api.example.com", 443, "/usr/bin/wget"));
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_TRUE(d.would_deny);
  EXPECT_EQ(d.action(), Action::kObserved);
  EXPECT_EQ(d.enforcement, Enforcement::kAudit);
  EXPECT_THAT(d.reason, HasSubstr("binary /usr/bin/wget is not allowed by rule r"));
  // Audit never opens hosts the policy does not name.
  EXPECT_FALSE(decideConnect(p, connect("evil.example", 443)).allowed());
}

TEST(PolicyEngineTest, DecisionExposesEndpointDetailsForTheProxy) {
  const Policy p = load(R"(version: 1
network:
  db:
    endpoints: [{host: db.corp.internal, ports: [5432], tls: skip, allowed_ips: [10.30.1.5/32]}]
    binaries: [{path: '/opt/app/**'}]
  api:
    endpoints: [{host: api.example.com, ports: [443], protocol: rest, access: read-only}]
    binaries: [{path: /usr/bin/curl}]
)");
  const Decision db = decideConnect(p, connect("db.corp.internal", 5432, "/opt/app/x"));
  ASSERT_NE(db.endpoint, nullptr);
  EXPECT_TRUE(db.endpoint->tls_skip);
  EXPECT_FALSE(db.endpoint->needsL7Inspection());
  ASSERT_EQ(db.endpoint->allowed_ips.size(), 1u);
  EXPECT_EQ(db.endpoint->allowed_ips[0].toString(), "10.30.1.5/32");
  const Decision api = decideConnect(p, connect("api.example.com", 443));
  ASSERT_NE(api.endpoint, nullptr);
  EXPECT_EQ(api.endpoint->protocol, Protocol::kRest);
  EXPECT_TRUE(api.endpoint->needsL7Inspection());
}

// ---- L7 requests -----------------------------------------------------------------------------

TEST(PolicyEngineTest, ReadOnlyAccessAllowsOnlyGetHeadOptions) {
  const Policy p = oneRule("{host: api.example.com, ports: [443], protocol: rest, access: read-only}",
                           "[{path: /usr/bin/curl}]", "github");
  const Endpoint& e = firstEndpoint(p);
  for (const char* m : {"GET", "HEAD", "OPTIONS"})
    EXPECT_TRUE(decideRequest(e, request(m, "/x")).allowed()) << m;
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE", "get"}) {
    EXPECT_FALSE(decideRequest(e, request(m, "/x")).allowed()) << m;
  }
  EXPECT_EQ(decideRequest(e, request("POST", "/user/repos")).reason,
            "POST /user/repos is not allowed by rule github (access read-only allows GET, HEAD, OPTIONS)");
}

TEST(PolicyEngineTest, ReadWriteAccessAddsPostPutPatchButNotDelete) {
  const Policy p = oneRule("{host: api.example.com, ports: [443], protocol: rest, access: read-write}");
  const Endpoint& e = firstEndpoint(p);
  for (const char* m : {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"}) {
    EXPECT_TRUE(decideRequest(e, request(m, "/x")).allowed()) << m;
  }
  EXPECT_FALSE(decideRequest(e, request("DELETE", "/x")).allowed());
}

TEST(PolicyEngineTest, FullAccessAllowsEveryMethodButConnect) {
  const Policy p = oneRule("{host: api.example.com, ports: [443], protocol: rest, access: full}");
  const Endpoint& e = firstEndpoint(p);
  for (const char* m : {"GET", "DELETE", "TRACE", "PROPFIND"})
    EXPECT_TRUE(decideRequest(e, request(m, "/x")).allowed()) << m;
  EXPECT_FALSE(decideRequest(e, request("CONNECT", "/x")).allowed());
}

TEST(PolicyEngineTest, ExplicitAllowRulesMatchMethodAndPathGlob) {
  const Policy p = oneRule(R"({host: uploads.github.com, ports: [443], protocol: rest,
                              rules: [{allow: {method: GET, path: '/repos/**'}},
                                      {allow: {method: [PUT, POST], path: '/uploads/*'}}]})",
                           "[{path: /usr/bin/curl}]", "uploads");
  const Endpoint& e = firstEndpoint(p);
  EXPECT_TRUE(decideRequest(e, request("GET", "/repos/a/b")).allowed());
  EXPECT_TRUE(decideRequest(e, request("GET", "/repos")).allowed());
  EXPECT_TRUE(decideRequest(e, request("PUT", "/uploads/file")).allowed());
  EXPECT_TRUE(decideRequest(e, request("POST", "/uploads/file")).allowed());
  EXPECT_FALSE(decideRequest(e, request("POST", "/uploads/a/file")).allowed());
  EXPECT_FALSE(decideRequest(e, request("DELETE", "/repos/a")).allowed());
  EXPECT_EQ(decideRequest(e, request("GET", "/user")).reason,
            "GET /user is not allowed by rule uploads (allowed: GET /repos/**, PUT|POST /uploads/*)");
}

TEST(PolicyEngineTest, QueryGlobRestrictsAnAllowRule) {
  const Policy p = oneRule(R"({host: api.example.com, ports: [443], protocol: rest,
                              rules: [{allow: {method: GET, path: /search, query: 'q=*'}}]})");
  const Endpoint& e = firstEndpoint(p);
  EXPECT_TRUE(decideRequest(e, request("GET", "/search", "q=warden/sandbox")).allowed());
  EXPECT_FALSE(decideRequest(e, request("GET", "/search", "token=abc")).allowed());
  EXPECT_FALSE(decideRequest(e, request("GET", "/search")).allowed());
  // The query never appears in a reason: it may hold secrets.
  EXPECT_THAT(decideRequest(e, request("GET", "/search", "token=abc")).reason,
              ::testing::Not(HasSubstr("abc")));
}

TEST(PolicyEngineTest, DenyRulesWinOverAllowRules) {
  const Policy p = oneRule(R"({host: uploads.github.com, ports: [443], protocol: rest,
                              rules: [{allow: {method: '*', path: '/**'}}],
                              deny_rules: [{method: '*', path: '/admin/**'}]})",
                           "[{path: /usr/bin/curl}]", "uploads");
  const Endpoint& e = firstEndpoint(p);
  EXPECT_TRUE(decideRequest(e, request("GET", "/repos/x")).allowed());
  const Decision d = decideRequest(e, request("GET", "/admin/users"));
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.rule, "uploads");
  EXPECT_EQ(d.reason, "GET /admin/users is denied by rule uploads (deny: * /admin/**)");
}

TEST(PolicyEngineTest, DenyRulesWinOverAnAccessPreset) {
  const Policy p = oneRule(R"({host: api.example.com, ports: [443], protocol: rest, access: full,
                              deny_rules: [{method: DELETE, path: '/repos/**'}]})");
  const Endpoint& e = firstEndpoint(p);
  EXPECT_TRUE(decideRequest(e, request("DELETE", "/gists/1")).allowed());
  EXPECT_FALSE(decideRequest(e, request("DELETE", "/repos/a/b")).allowed());
  EXPECT_TRUE(decideRequest(e, request("GET", "/repos/a/b")).allowed());
}

TEST(PolicyEngineTest, AuditEnforcementAllowsADeniedRequestButMarksItWouldDeny) {
  const Policy p =
      oneRule("{host: api.example.com, ports: [443], protocol: rest, access: read-only, enforcement: audit}");
  const Decision d = decideRequest(firstEndpoint(p), request("DELETE", "/repos/x"));
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_TRUE(d.would_deny);
  EXPECT_EQ(d.action(), Action::kObserved);
  EXPECT_THAT(d.reason, HasSubstr("DELETE /repos/x is not allowed by rule r"));
  const Decision ok = decideRequest(firstEndpoint(p), request("GET", "/repos/x"));
  EXPECT_EQ(ok.action(), Action::kAllowed);
}

TEST(PolicyEngineTest, EnforceEnforcementDeniesTheSameRequest) {
  const Policy p = oneRule(
      "{host: api.example.com, ports: [443], protocol: rest, access: read-only, enforcement: enforce}");
  const Decision d = decideRequest(firstEndpoint(p), request("DELETE", "/repos/x"));
  EXPECT_EQ(d.action(), Action::kDenied);
  EXPECT_FALSE(d.would_deny);
}

TEST(PolicyEngineTest, L4OnlyEndpointAllowsEveryRequest) {
  const Policy p = oneRule("{host: api.example.com, ports: [80]}");
  EXPECT_TRUE(decideRequest(firstEndpoint(p), request("DELETE", "/anything")).allowed());
}

TEST(PolicyEngineTest, RequestOnAConnectionThatWasNotAllowedIsDenied) {
  const Policy p = oneRule("{host: api.example.com, ports: [443], protocol: rest, access: full}");
  const Decision refused = decideConnect(p, connect("evil.example", 443));
  EXPECT_FALSE(decideRequest(p, refused, request("GET", "/")).allowed());
  const Decision allowed = decideConnect(p, connect("api.example.com", 443));
  const Decision d = decideRequest(p, allowed, request("GET", "/"));
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.matched_binary, "/usr/bin/curl");
}

TEST(PolicyEngineTest, RequestOnAnObservedConnectionStaysObserved) {
  const Policy p =
      oneRule("{host: api.example.com, ports: [443], protocol: rest, access: full, enforcement: audit}");
  const Decision observed = decideConnect(p, connect("api.example.com", 443, "/usr/bin/wget"));
  ASSERT_EQ(observed.action(), Action::kObserved);
  EXPECT_EQ(decideRequest(p, observed, request("GET", "/")).action(), Action::kObserved);
}

// ---- Protocol: upgrades ------------------------------------------------------------------------

HttpRequest upgradeRequest(std::string upgrade, std::string path = "/socket") {
  HttpRequest r = request("GET", std::move(path));
  r.upgrade = std::move(upgrade);
  return r;
}

TEST(PolicyEngineTest, RestEndpointDeniesAWebsocketUpgradeItsAccessWouldOtherwiseAllow) {
  const Policy p = oneRule("{host: api.example.com, ports: [443], protocol: rest, access: full}");
  const Decision d = decideRequest(firstEndpoint(p), upgradeRequest("websocket"));
  EXPECT_EQ(d.action(), Action::kDenied);
  EXPECT_EQ(d.rule, "r");
  EXPECT_THAT(d.reason, HasSubstr("protocol rest"));
  EXPECT_THAT(d.reason, HasSubstr("protocol: websocket"));
  // The same request without Upgrade is allowed: only the upgrade is refused.
  EXPECT_TRUE(decideRequest(firstEndpoint(p), request("GET", "/socket")).allowed());
}

TEST(PolicyEngineTest, McpEndpointDeniesUpgradesLikeRest) {
  const Policy p = oneRule("{host: mcp.example.com, ports: [443], protocol: mcp, access: full}");
  const Decision d = decideRequest(firstEndpoint(p), upgradeRequest("websocket"));
  EXPECT_EQ(d.action(), Action::kDenied);
  EXPECT_THAT(d.reason, HasSubstr("protocol mcp"));
}

TEST(PolicyEngineTest, WebsocketEndpointAllowsAWebsocketUpgradeInAnyCase) {
  const Policy p = oneRule("{host: ws.example.com, ports: [443], protocol: websocket, access: full}");
  EXPECT_TRUE(decideRequest(firstEndpoint(p), upgradeRequest("websocket")).allowed());
  EXPECT_TRUE(decideRequest(firstEndpoint(p), upgradeRequest("WebSocket")).allowed());
  // Ordinary requests stay allowed on a websocket endpoint.
  EXPECT_TRUE(decideRequest(firstEndpoint(p), request("GET", "/")).allowed());
}

TEST(PolicyEngineTest, WebsocketEndpointDeniesOtherUpgradeProtocols) {
  const Policy p = oneRule("{host: ws.example.com, ports: [443], protocol: websocket, access: full}");
  const Decision h2c = decideRequest(firstEndpoint(p), upgradeRequest("h2c"));
  EXPECT_EQ(h2c.action(), Action::kDenied);
  EXPECT_THAT(h2c.reason, HasSubstr("only Upgrade: websocket"));
  EXPECT_FALSE(decideRequest(firstEndpoint(p), upgradeRequest("websocket, h2c")).allowed());
}

TEST(PolicyEngineTest, WebsocketUpgradeStillHasToPassTheRequestRules) {
  const Policy p = oneRule(
      "{host: ws.example.com, ports: [443], protocol: websocket, rules: [{allow: {method: GET, path: /live}}]}");
  EXPECT_TRUE(decideRequest(firstEndpoint(p), upgradeRequest("websocket", "/live")).allowed());
  EXPECT_FALSE(decideRequest(firstEndpoint(p), upgradeRequest("websocket", "/admin")).allowed());
}

TEST(PolicyEngineTest, AuditRestEndpointObservesAnUpgradeInsteadOfDenying) {
  const Policy p =
      oneRule("{host: api.example.com, ports: [443], protocol: rest, access: full, enforcement: audit}");
  const Decision d = decideRequest(firstEndpoint(p), upgradeRequest("websocket"));
  EXPECT_EQ(d.action(), Action::kObserved);
  EXPECT_THAT(d.reason, HasSubstr("does not allow upgrades"));
}

TEST(PolicyEngineTest, L4OnlyEndpointAllowsAnUpgrade) {
  // A raw L4 grant: the connection could be tunnelled anyway, so an upgrade adds nothing.
  const Policy p = oneRule("{host: api.example.com, ports: [80]}");
  EXPECT_TRUE(decideRequest(firstEndpoint(p), upgradeRequest("websocket")).allowed());
}

TEST(PolicyEngineTest, UpgradeDenialOnTheConnectionDecisionPathNamesTheRule) {
  const Policy p = oneRule("{host: api.example.com, ports: [443], protocol: rest, access: full}", "[{path: /usr/bin/curl}]",
                           "github");
  const Decision connect_decision = decideConnect(p, connect("api.example.com", 443));
  ASSERT_TRUE(connect_decision.allowed());
  const Decision d = decideRequest(p, connect_decision, upgradeRequest("websocket"));
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.rule, "github");
}

// ---- DNS and packages ------------------------------------------------------------------------

TEST(PolicyEngineTest, CouldEverAllowHostOnlyForNamesSomeEndpointMatches) {
  const Policy p = load(R"(version: 1
network:
  a:
    endpoints: [{host: api.github.com, ports: [443]}, {host: '**.corp.internal', ports: [5432]}]
    binaries: [{path: /usr/bin/curl}]
)");
  EXPECT_TRUE(couldEverAllowHost(p, "API.github.com."));
  EXPECT_TRUE(couldEverAllowHost(p, "db.eu.corp.internal"));
  EXPECT_FALSE(couldEverAllowHost(p, "corp.internal"));
  EXPECT_FALSE(couldEverAllowHost(p, "evil.example"));
  EXPECT_FALSE(couldEverAllowHost(p, "bad name"));
}

TEST(PolicyEngineTest, ResolvableNamesAreEndpointPackageSourceAndCredentialHosts) {
  const Policy p = load(
      "version: 1\n"
      "audit:\n  package_sources: [pypi.example.org]\n"
      "credentials:\n  gh:\n    env: GITHUB_TOKEN\n    value_from: env:WARDEN_GH\n"
      "    inject: [{host: '*.github.example', ports: [443]}]\n"
      "network:\n  r:\n    endpoints: [{host: '**.corp.internal', ports: [5432]}]\n"
      "    binaries: [{path: /usr/bin/psql}]\n");
  EXPECT_TRUE(resolvableName(p, "db.eu.corp.internal"));
  EXPECT_TRUE(resolvableName(p, "PyPI.example.org."));
  EXPECT_TRUE(resolvableName(p, "api.github.example"));
  EXPECT_FALSE(resolvableName(p, "c2VjcmV0LWRhdGE.exfil.evil.example"));
  EXPECT_FALSE(resolvableName(p, "corp.internal"));
  EXPECT_FALSE(resolvableName(p, "a\\032b.corp.internal"));  // presentation escapes are not a host name
  EXPECT_FALSE(resolvableName(Policy{}, "pypi.org"));           // no rules: nothing resolves
}

TEST(PolicyEngineTest, PackageSourcesComeFromTheAuditSection) {
  const Policy p = load("version: 1\naudit:\n  package_sources: [Packages.Example.org, '*.pypi.example']\n");
  EXPECT_EQ(packageSources(p), (std::vector<std::string>{"packages.example.org", "*.pypi.example"}));
  EXPECT_TRUE(isPackageSource(p, "packages.example.org."));
  EXPECT_TRUE(isPackageSource(p, "files.pypi.example"));
  EXPECT_FALSE(isPackageSource(p, "evil.example"));
}

TEST(PolicyEngineTest, ActionNamesMatchTheShorthand) {
  EXPECT_EQ(actionName(Action::kAllowed), "ALLOWED");
  EXPECT_EQ(actionName(Action::kDenied), "DENIED");
  EXPECT_EQ(actionName(Action::kObserved), "OBSERVED");
}

}  // namespace
}  // namespace warden::policy
