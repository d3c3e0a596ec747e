#include "ocsf/builders.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"

namespace warden::ocsf {
namespace {

using nlohmann::json;

constexpr int64_t kTime = 1763900000123;

Process proc(std::string name, int64_t pid) {
  Process p;
  p.name = std::move(name);
  p.pid = pid;
  return p;
}

Endpoint host(std::string hostname, std::string ip, std::optional<int> port) {
  Endpoint e;
  e.hostname = std::move(hostname);
  e.ip = std::move(ip);
  e.port = port;
  return e;
}

Connection conn() {
  Connection c;
  c.actor = proc("curl", 7);
  c.src = host("", "10.200.0.2", 40000);
  c.dst = host("api.example.com", "203.0.113.5", 443);
  return c;
}

Decision deny(std::string reason = "no") {
  Decision d;
  d.action = Action::kDenied;
  d.reason = std::move(reason);
  return d;
}

json jsonOf(const Event& e) {
  return json::parse(toJsonl(e));
}

std::set<std::string> profilesOf(const Event& e) {
  std::set<std::string> out;
  const json j = jsonOf(e);
  for (const auto& p : j["metadata"]["profiles"]) out.insert(p.get<std::string>());
  return out;
}

// --- enrichment ---

TEST(BuildersTest, EnrichesEveryEventWithHostContainerAndSession) {
  const SessionContext ctx = sampleContext();
  const json j = jsonOf(netListen(ctx, kTime));
  EXPECT_EQ(j["device"]["hostname"], "warden-host-1");
  EXPECT_EQ(j["device"]["os"]["name"], "Linux");
  EXPECT_EQ(j["device"]["os"]["type_id"], 200);
  EXPECT_EQ(j["device"]["container"]["name"], "agent-7");
  EXPECT_EQ(j["device"]["container"]["uid"], ctx.session_id);
  EXPECT_EQ(j["device"]["container"]["image"]["name"], "python:3.12-slim");
  EXPECT_EQ(j["metadata"]["correlation_uid"], ctx.session_id);
  EXPECT_EQ(j["metadata"]["version"], "1.7.0");
  EXPECT_EQ(j["metadata"]["log_name"], "warden");
  EXPECT_EQ(j["time"], kTime);
}

TEST(BuildersTest, UsesTheSessionIdAsContainerNameWhenTheSessionHasNoName) {
  SessionContext ctx = sampleContext();
  ctx.session_name.clear();
  ctx.image_name.clear();
  const json j = jsonOf(netListen(ctx, kTime));
  EXPECT_EQ(j["device"]["container"]["name"], ctx.session_id);
  EXPECT_FALSE(j["device"]["container"].contains("image"));
}

TEST(BuildersTest, GivesEveryEventAFreshUuidV7FromItsTime) {
  const Event a = netListen(sampleContext(), kTime);
  const Event b = netListen(sampleContext(), kTime);
  EXPECT_NE(a.metadata.uid, b.metadata.uid);
  ASSERT_EQ(a.metadata.uid.size(), 36u);
  EXPECT_EQ(a.metadata.uid[14], '7');
  // The first 48 bits are the epoch milliseconds.
  char hex[16];
  std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(kTime));
  EXPECT_EQ(a.metadata.uid.substr(0, 8) + a.metadata.uid.substr(9, 4), std::string(hex));
}

TEST(BuildersTest, CarriesTheProductVersionFromTheContext) {
  SessionContext ctx = sampleContext();
  ctx.product_version = "9.9.9";
  EXPECT_EQ(jsonOf(netListen(ctx, kTime))["metadata"]["product"]["version"], "9.9.9");
  LifecycleInput in;
  EXPECT_EQ(jsonOf(lifecycle(ctx, kTime, in))["app"]["version"], "9.9.9");
}

// --- profiles ---

TEST(BuildersTest, DeclaresNetworkProxyAndSecurityControlOnDecidedConnections) {
  EXPECT_EQ(profilesOf(netOpen(sampleContext(), kTime, conn(), Decision{})),
            (std::set<std::string>{"container", "host", "network_proxy", "security_control"}));
}

TEST(BuildersTest, DeclaresNoSecurityControlOnEventsWithoutActionDispositionOrRule) {
  EXPECT_EQ(profilesOf(netClose(sampleContext(), kTime, conn(), 1, 2, 3)),
            (std::set<std::string>{"container", "host", "network_proxy"}));
  EXPECT_EQ(profilesOf(procTerminate(sampleContext(), kTime, proc("x", 1), ProcessExit{})),
            (std::set<std::string>{"container", "host"}));
}

TEST(BuildersTest, DeclaresSecurityControlOnFindingsAndDeniedFiles) {
  EXPECT_TRUE(profilesOf(finding(sampleContext(), kTime, FindingInput{})).count("security_control"));
  FileAccess fa;
  fa.actor = proc("sh", 1);
  fa.file.path = "/etc/passwd";
  EXPECT_FALSE(profilesOf(fileActivity(sampleContext(), kTime, fa)).count("security_control"));
  fa.decision = deny();
  EXPECT_TRUE(profilesOf(fileActivity(sampleContext(), kTime, fa)).count("security_control"));
}

TEST(BuildersTest, EveryProfileDeclaredMatchesTheEventsContent) {
  for (const Event& e : sampleOfEveryEvent(sampleContext())) {
    const bool net = e.kind == Kind::kNet || e.kind == Kind::kHttp;
    const bool control = e.action || e.disposition || e.firewall_rule || !e.attacks.empty();
    EXPECT_EQ((e.metadata.profiles & kProfileNetworkProxy) != 0, net) << toJsonl(e);
    EXPECT_EQ((e.metadata.profiles & kProfileSecurityControl) != 0, control) << toJsonl(e);
    EXPECT_TRUE(e.metadata.profiles & kProfileHost);
    EXPECT_TRUE(e.metadata.profiles & kProfileContainer);
  }
}

// --- class, activity, type ---

TEST(BuildersTest, TypeUidIsClassTimesHundredPlusActivity) {
  for (const Event& e : sampleOfEveryEvent(sampleContext())) {
    const json j = jsonOf(e);
    EXPECT_EQ(j["type_uid"].get<int>(), j["class_uid"].get<int>() * 100 + j["activity_id"].get<int>());
    // type_name is the schema's caption of type_uid: "<class>: Other" for activity 99 (the specific
    // name stays in activity_name); none for Base Event's 99 (docs/validation.md).
    if (j["type_uid"] == 99) {
      EXPECT_FALSE(j.contains("type_name"));
    } else if (j["activity_id"] == 99) {
      EXPECT_EQ(j["type_name"], j["class_name"].get<std::string>() + ": Other");
    } else {
      EXPECT_EQ(j["type_name"], j["class_name"].get<std::string>() + ": " + j["activity_name"].get<std::string>());
    }
  }
}

TEST(BuildersTest, MapsHttpMethodsToTheirActivityIds) {
  EXPECT_EQ(httpActivityId("CONNECT"), 1);
  EXPECT_EQ(httpActivityId("DELETE"), 2);
  EXPECT_EQ(httpActivityId("GET"), 3);
  EXPECT_EQ(httpActivityId("HEAD"), 4);
  EXPECT_EQ(httpActivityId("OPTIONS"), 5);
  EXPECT_EQ(httpActivityId("POST"), 6);
  EXPECT_EQ(httpActivityId("PUT"), 7);
  EXPECT_EQ(httpActivityId("TRACE"), 8);
  EXPECT_EQ(httpActivityId("PATCH"), 9);
  EXPECT_EQ(httpActivityId("get"), 99);  // methods are case-sensitive
  EXPECT_EQ(httpActivityId("PROPFIND"), 99);
}

TEST(BuildersTest, NamesAnUnknownHttpMethodActivityAfterTheMethod) {
  HttpExchange x;
  x.method = "PROPFIND";
  x.url = "https://dav.example.com/";
  const Event e = httpRequest(sampleContext(), kTime, x, Decision{});
  EXPECT_EQ(e.typeUid(), 400299);
  EXPECT_EQ(e.activityName(), "PROPFIND");
  // Not OCSF's http_method (a closed enum): kept under unmapped instead.
  EXPECT_EQ(e.http_request->http_method, "");
  EXPECT_EQ(e.unmapped.stringAt("http_method"), "PROPFIND");
}

TEST(BuildersTest, RecordsSessionActivitiesAsStartStopOrNamedOther) {
  const SessionContext ctx = sampleContext();
  auto build = [&](SessionActivity a) {
    SessionInput in;
    in.activity = a;
    return session(ctx, kTime, in);
  };
  EXPECT_EQ(build(SessionActivity::kStart).typeUid(), 600203);
  EXPECT_EQ(build(SessionActivity::kStop).typeUid(), 600204);
  EXPECT_EQ(build(SessionActivity::kCreate).activityName(), "Create");
  EXPECT_EQ(build(SessionActivity::kPause).activityName(), "Pause");
  EXPECT_EQ(build(SessionActivity::kResume).activityName(), "Resume");
  EXPECT_EQ(build(SessionActivity::kCleanup).typeUid(), 600299);
  const json j = jsonOf(build(SessionActivity::kStart));
  EXPECT_EQ(j["app"]["name"], "warden-session");
  EXPECT_EQ(j["app"]["uid"], ctx.session_id);
}

TEST(BuildersTest, RecordsWhyASessionStoppedAndItsExitStatus) {
  SessionInput in;
  in.activity = SessionActivity::kStop;
  in.reason = StopReason::kPolicyViolation;
  in.exit_code = 1;
  const json j = jsonOf(session(sampleContext(), kTime, in));
  EXPECT_EQ(j["status_detail"], "policy_violation");
  EXPECT_EQ(j["unmapped"]["exit_code"], 1);
  EXPECT_EQ(j["severity_id"], 3);
  EXPECT_EQ(j["status_id"], 2);
}

// --- severity (events.md "Severity") ---

TEST(BuildersTest, AssignsSeverityPerTheEventsTable) {
  const SessionContext ctx = sampleContext();
  EXPECT_EQ(netOpen(ctx, kTime, conn(), Decision{}).severity, Severity::kInformational);
  EXPECT_EQ(netOpen(ctx, kTime, conn(), deny()).severity, Severity::kMedium);
  EXPECT_EQ(netRefuse(ctx, kTime, conn(), "bypass").severity, Severity::kMedium);
  EXPECT_EQ(netFail(ctx, kTime, conn(), RelayError{}).severity, Severity::kLow);
  EXPECT_EQ(netReset(ctx, kTime, conn(), RelayError{}).severity, Severity::kLow);
  DnsLookup nx;
  nx.hostname = "x.example";
  nx.rcode = DnsRcode::kNxDomain;
  EXPECT_EQ(dnsResponse(ctx, kTime, nx).severity, Severity::kLow);
  EXPECT_EQ(finding(ctx, kTime, FindingInput{}).severity, Severity::kHigh);
  ConfigChange failed;
  failed.state = std::string(kConfigFailed);
  EXPECT_EQ(configChange(ctx, kTime, failed).severity, Severity::kHigh);
  ConfigChange degraded;
  degraded.state = std::string(kConfigDegraded);
  EXPECT_EQ(configChange(ctx, kTime, degraded).severity, Severity::kMedium);
  EXPECT_EQ(configChange(ctx, kTime, ConfigChange{}).severity, Severity::kInformational);
  SessionInput timeout;
  timeout.activity = SessionActivity::kStop;
  timeout.reason = StopReason::kTimeout;
  EXPECT_EQ(session(ctx, kTime, timeout).severity, Severity::kCritical);
  ProcessExit killed;
  killed.exit_code = 137;
  killed.signal = 9;
  killed.killed_by_limit = true;
  EXPECT_EQ(procTerminate(ctx, kTime, proc("p", 1), killed).severity, Severity::kCritical);
  LimitHit oom;
  oom.type = "oom";
  oom.action = "kill";
  EXPECT_EQ(resourceLimit(ctx, kTime, oom).severity, Severity::kCritical);
  LifecycleInput broken;
  broken.activity = LifecycleActivity::kFailed;
  EXPECT_EQ(lifecycle(ctx, kTime, broken).severity, Severity::kCritical);
  broken.fatal = true;
  EXPECT_EQ(lifecycle(ctx, kTime, broken).severity, Severity::kFatal);
}

// --- network ---

TEST(BuildersTest, RecordsADecisionAsActionDispositionRuleAndReason) {
  Decision d = deny("no policy allows api.example.com:443");
  d.rule = "-";
  d.engine = "ssrf";
  const json j = jsonOf(netOpen(sampleContext(), kTime, conn(), d));
  EXPECT_EQ(j["action_id"], 2);
  EXPECT_EQ(j["disposition_id"], 2);  // Blocked
  EXPECT_EQ(j["firewall_rule"]["name"], "-");
  EXPECT_EQ(j["firewall_rule"]["type"], "ssrf");
  EXPECT_EQ(j["status_detail"], "no policy allows api.example.com:443");
  EXPECT_EQ(j["status_id"], 2);
  EXPECT_EQ(j["observation_point_id"], 2);
  EXPECT_EQ(j["is_src_dst_assignment_known"], true);
  EXPECT_EQ(j["proxy_endpoint"]["ip"], "10.200.0.1");
  EXPECT_EQ(j["proxy_endpoint"]["port"], 3128);
  EXPECT_EQ(j["connection_info"]["protocol_name"], "tcp");
  EXPECT_EQ(j["connection_info"]["direction_id"], 2);
  EXPECT_EQ(j["dst_endpoint"]["hostname"], "api.example.com");
}

TEST(BuildersTest, AnActorNamedAfterTheFactSaysHowInUnmappedAndNowhereElse) {
  Connection c = conn();
  c.actor->attribution = "kernel capture";
  const Event marked = netOpen(sampleContext(), kTime, c, deny());
  const json j = jsonOf(marked);
  EXPECT_EQ(j["unmapped"]["actor_source"], "kernel capture");
  EXPECT_EQ(j["actor"]["process"]["pid"], 7);
  EXPECT_FALSE(j["actor"]["process"].contains("attribution"));
  // The same on DNS and HTTP events, which take the actor the same way; none without the mark.
  DnsLookup lookup;
  lookup.actor = c.actor;
  lookup.hostname = "example.com";
  lookup.type = "A";
  EXPECT_EQ(jsonOf(dnsQuery(sampleContext(), kTime, lookup))["unmapped"]["actor_source"], "kernel capture");
  HttpExchange x;
  x.actor = c.actor;
  x.method = "GET";
  x.url = "/";
  x.host = "example.com";
  EXPECT_EQ(jsonOf(httpRequest(sampleContext(), kTime, x, deny()))["unmapped"]["actor_source"], "kernel capture");
  const json plain = jsonOf(netOpen(sampleContext(), kTime, conn(), deny()));
  EXPECT_FALSE(plain.contains("unmapped") && plain["unmapped"].contains("actor_source"));
}

TEST(BuildersTest, RecordsAnAuditModeDenyAsObservedAndDetected) {
  Decision d;
  d.action = Action::kObserved;
  const Event e = netOpen(sampleContext(), kTime, conn(), d);
  EXPECT_EQ(e.action, Action::kObserved);
  EXPECT_EQ(e.disposition, Disposition::kDetected);
  EXPECT_EQ(e.status, Status::kSuccess);
}

TEST(BuildersTest, RecordsTrafficAndDurationOnClose) {
  const json j = jsonOf(netClose(sampleContext(), kTime, conn(), 53211, 1207, 842));
  EXPECT_EQ(j["traffic"]["bytes_in"], 53211);
  EXPECT_EQ(j["traffic"]["bytes_out"], 1207);
  EXPECT_EQ(j["duration"], 842);
  EXPECT_EQ(j["type_uid"], 400102);
}

TEST(BuildersTest, RecordsABypassAsSeenOutsideTheProxy) {
  const json j = jsonOf(netRefuse(sampleContext(), kTime, conn(), "direct connection bypassed the proxy"));
  EXPECT_EQ(j["observation_point_id"], 3);
  EXPECT_FALSE(j.contains("proxy_endpoint"));
  EXPECT_EQ(j["firewall_rule"]["name"], "bypass-detect");
  EXPECT_EQ(j["firewall_rule"]["type"], "nftables");
  EXPECT_EQ(j["action_id"], 2);
  EXPECT_EQ(j["type_uid"], 400105);
}

TEST(BuildersTest, RecordsTheListeningEndpoint) {
  const json j = jsonOf(netListen(sampleContext(), kTime, host("", "127.0.0.1", 8080)));
  EXPECT_EQ(j["proxy_endpoint"]["ip"], "127.0.0.1");
  EXPECT_EQ(j["dst_endpoint"]["port"], 8080);
  EXPECT_EQ(j["type_uid"], 400107);
}

TEST(BuildersTest, RecordsARelayErrorWithTheCodeAnsweredAndWhy) {
  RelayError err;
  err.response_code = 504;
  err.detail = "upstream timed out";
  const json j = jsonOf(netFail(sampleContext(), kTime, conn(), err));
  EXPECT_EQ(j["unmapped"]["response_code"], 504);
  EXPECT_EQ(j["status_detail"], "upstream timed out");
  EXPECT_EQ(j["status_id"], 2);
  EXPECT_EQ(j["type_uid"], 400104);
}

TEST(BuildersTest, NamesTheUpgradeActivity) {
  const Event e = netUpgrade(sampleContext(), kTime, conn(), Decision{});
  EXPECT_EQ(e.typeUid(), 400199);
  EXPECT_EQ(e.activityName(), "Upgrade");
}

// --- URLs and secrets ---

TEST(BuildersTest, SplitsAnAbsoluteUrlDroppingCredentialsQueryAndFragment) {
  const Url u = splitUrl("HTTPS://user:pa55@API.Example.com:8443/v1/x?token=abc#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.hostname, "api.example.com");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.path, "/v1/x");
  EXPECT_EQ(u.query_string, "[redacted]");
}

TEST(BuildersTest, SplitsOriginFormAndIpv6AndEmptyPaths) {
  EXPECT_EQ(splitUrl("/a/b?").path, "/a/b");
  EXPECT_EQ(splitUrl("/a/b?").query_string, "[redacted]");
  EXPECT_EQ(splitUrl("/a/b").query_string, "");
  const Url v6 = splitUrl("http://[2001:db8::1]:8080");
  EXPECT_EQ(v6.hostname, "2001:db8::1");
  EXPECT_EQ(v6.port, 8080);
  EXPECT_EQ(v6.path, "/");
  const Url authority = splitUrl("api.example.com:443");
  EXPECT_EQ(authority.hostname, "api.example.com");
  EXPECT_EQ(authority.port, 443);
  EXPECT_FALSE(splitUrl("http://h:99999/").port.has_value());
}

TEST(BuildersTest, RedactsUrlsForRecording) {
  EXPECT_EQ(redactUrl("https://u:p@h.example/p?sig=1"), "https://h.example/p?[redacted]");
  EXPECT_EQ(redactUrl("/search?q=secret&token=abc"), "/search?[redacted]");
  EXPECT_EQ(redactUrl("/p#frag"), "/p");
  EXPECT_EQ(redactUrl("/plain"), "/plain");
  EXPECT_EQ(redactUrl("http://[::1]:80/x"), "http://[::1]:80/x");
}

TEST(BuildersTest, NeverRecordsQueryStringsOrUrlCredentials) {
  const SessionContext ctx = sampleContext();
  HttpExchange x;
  x.url = "https://alice:hunter2@api.example.com/p?access_token=s3cr3t";
  const std::string http = toJsonl(httpRequest(ctx, kTime, x, Decision{}));
  PackageInstall pkg;
  pkg.name = "n";
  pkg.source_url = "https://alice:hunter2@pkgs.example.com/n.whl?X-Amz-Signature=s3cr3t";
  const std::string package = toJsonl(pkgInstall(ctx, kTime, pkg));
  for (const std::string& line : {http, package}) {
    EXPECT_EQ(line.find("s3cr3t"), std::string::npos) << line;
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    EXPECT_NE(line.find("[redacted]"), std::string::npos) << line;
  }
  EXPECT_EQ(json::parse(http)["http_request"]["url"]["query_string"], "[redacted]");
}

TEST(BuildersTest, FillsAnOriginFormRequestFromTheTunnelTarget) {
  HttpExchange x;
  x.method = "POST";
  x.url = "/user/repos";
  x.host = "API.github.com";
  x.port = 443;
  x.response_code = 403;
  const json j = jsonOf(httpRequest(sampleContext(), kTime, x, deny()));
  EXPECT_EQ(j["http_request"]["url"]["hostname"], "api.github.com");
  EXPECT_EQ(j["http_request"]["url"]["scheme"], "https");
  EXPECT_EQ(j["http_request"]["url"]["path"], "/user/repos");
  EXPECT_EQ(j["http_request"]["http_method"], "POST");
  EXPECT_EQ(j["http_response"]["code"], 403);
  EXPECT_EQ(j["dst_endpoint"]["port"], 443);
  EXPECT_EQ(j["type_uid"], 400206);
}

// --- processes and files ---

TEST(BuildersTest, RecordsALaunchWithArgvParentAndLaunchType) {
  auto parent = std::make_shared<Process>(proc("bash", 77));
  Process p = proc("", 88);
  p.uid = 1000;
  File exe;
  exe.path = "/usr/bin/curl";
  p.file = exe;
  p.parent_process = parent;
  const json j =
      jsonOf(procLaunch(sampleContext(), kTime, p, {"curl", "-s", "https://x/"}, LaunchType::kSpawn));
  EXPECT_EQ(j["process"]["name"], "curl");
  EXPECT_EQ(j["process"]["file"]["name"], "curl");
  EXPECT_EQ(j["process"]["cmd_line"], "curl -s https://x/");
  EXPECT_EQ(j["process"]["user"]["uid"], "1000");  // the Unix uid is user.uid, not process.uid
  EXPECT_FALSE(j["process"].contains("uid"));
  EXPECT_EQ(j["process"]["parent_process"]["pid"], 77);
  EXPECT_EQ(j["actor"]["process"]["pid"], 77);
  EXPECT_EQ(j["unmapped"]["argv"], json::array({"curl", "-s", "https://x/"}));
  EXPECT_EQ(j["launch_type_id"], 1);
}

TEST(BuildersTest, RecordsTheExitCodeAndSignalOfATermination) {
  ProcessExit exit;
  exit.exit_code = 137;
  exit.signal = 9;
  const json j = jsonOf(procTerminate(sampleContext(), kTime, proc("p", 3), exit));
  EXPECT_EQ(j["exit_code"], 137);
  EXPECT_EQ(j["status_detail"], "SIGKILL");
  EXPECT_EQ(j["type_uid"], 100702);
  EXPECT_EQ(signalName(64), "SIG64");
}

TEST(BuildersTest, DerivesFileNamesFromPathsAndRecordsRenameTargets) {
  FileAccess fa;
  fa.activity = FileActivity::kRename;
  fa.actor = proc("mv", 4);
  fa.file.path = "/w/a.txt";
  File to;
  to.path = "/w/b.txt";
  fa.target = to;
  const json j = jsonOf(fileActivity(sampleContext(), kTime, fa));
  EXPECT_EQ(j["file"]["name"], "a.txt");
  EXPECT_EQ(j["file_result"]["name"], "b.txt");
  EXPECT_EQ(j["type_uid"], 100105);
}

// --- findings, config, packages, tools, limits ---

TEST(BuildersTest, BuildsAFindingWithEvidenceFromTheDomainEvent) {
  const Event refuse = netRefuse(sampleContext(), kTime, conn(), "bypass");
  FindingInput f;
  f.title = "Proxy bypass attempt";
  f.types = {"proxy-bypass"};
  f.attacks = {Attack{"T1090", "Proxy", "TA0011", "Command and Control"}};
  f.evidences.push(evidenceOf(refuse));
  f.remediation = "Set HTTP_PROXY";
  const json j = jsonOf(finding(sampleContext(), kTime, f));
  EXPECT_FALSE(j["finding_info"]["uid"].get<std::string>().empty());
  EXPECT_EQ(j["finding_info"]["title"], "Proxy bypass attempt");
  EXPECT_EQ(j["finding_info"]["types"], json::array({"proxy-bypass"}));
  EXPECT_EQ(j["attacks"][0]["technique"]["uid"], "T1090");
  EXPECT_EQ(j["evidences"][0]["dst_endpoint"]["hostname"], "api.example.com");
  EXPECT_EQ(j["evidences"][0]["actor"]["process"]["name"], "curl");
  EXPECT_EQ(j["remediation"]["desc"], "Set HTTP_PROXY");
  EXPECT_EQ(j["is_alert"], true);
  EXPECT_EQ(j["confidence_id"], 3);
  EXPECT_EQ(j["risk_level_id"], 3);
  EXPECT_EQ(j["disposition_id"], 2);
}

TEST(BuildersTest, PutsConfigStateAndVersionsUnderUnmapped) {
  ConfigChange c;
  c.state = std::string(kConfigFailed);
  c.policy_version = "3";
  c.policy_hash = "9f2c01ab";
  c.config_revision = 4;
  c.errors = {"policy.yaml:1:1: bad", "policy.yaml:2:1: worse"};
  const json j = jsonOf(configChange(sampleContext(), kTime, c));
  EXPECT_EQ(j["unmapped"]["state"], "FAILED");
  EXPECT_EQ(j["unmapped"]["policy_version"], "3");
  EXPECT_EQ(j["unmapped"]["policy_hash"], "9f2c01ab");
  EXPECT_EQ(j["unmapped"]["config_revision"], 4);
  EXPECT_EQ(j["unmapped"]["errors"].size(), 2u);
  EXPECT_EQ(j["status_detail"], "policy.yaml:1:1: bad");
  EXPECT_EQ(j["type_uid"], 501901);
}

TEST(BuildersTest, RecordsAPackageAsAppAndUnmappedPackage) {
  PackageInstall p;
  p.manager = "pip";
  p.name = "requests";
  p.version = "2.31.0";
  p.requested_version = ">=2";
  p.source_url = "https://wheels.example.org/requests-2.31.0.whl";
  p.sha256 = "ABCDEF";
  const json j = jsonOf(pkgInstall(sampleContext(), kTime, p));
  EXPECT_EQ(j["app"]["name"], "requests");
  EXPECT_EQ(j["app"]["version"], "2.31.0");
  EXPECT_EQ(j["app"]["url_string"], "https://wheels.example.org/requests-2.31.0.whl");
  EXPECT_EQ(j["unmapped"]["package"]["manager"], "pip");
  EXPECT_EQ(j["unmapped"]["package"]["requested_version"], ">=2");
  EXPECT_EQ(j["unmapped"]["package"]["sha256"], "abcdef");
  EXPECT_EQ(j["type_uid"], 600201);
}

TEST(BuildersTest, RecordsAToolCallAsApiActivityWithASummary) {
  ToolCall t;
  t.actor = proc("claude", 12);
  t.tool = "read_file";
  t.service = "filesystem";
  t.input_summary = std::string(1000, 's');
  const json j = jsonOf(toolCall(sampleContext(), kTime, t));
  EXPECT_EQ(j["api"]["operation"], "read_file");
  EXPECT_EQ(j["api"]["service"]["name"], "filesystem");
  EXPECT_EQ(j["src_endpoint"]["hostname"], "agent-7");
  EXPECT_EQ(j["unmapped"]["tool"]["input_summary"].get<std::string>().size(), 256u);
  EXPECT_EQ(j["unmapped"]["tool"]["result_status"], "success");
  EXPECT_EQ(j["status_id"], 1);
  EXPECT_EQ(j["type_uid"], 600399);
  EXPECT_EQ(j["activity_name"], "Call");
}

TEST(BuildersTest, RecordsALimitUnderUnmappedWithTheProcess) {
  LimitHit h;
  h.type = "pids";
  h.measured = 512;
  h.limit = 512;
  h.action = "deny";
  h.process = proc("fork-bomb", 66);
  const json j = jsonOf(resourceLimit(sampleContext(), kTime, h));
  EXPECT_EQ(j["unmapped"]["limit"]["type"], "pids");
  EXPECT_EQ(j["unmapped"]["limit"]["measured"], 512);
  EXPECT_EQ(j["unmapped"]["limit"]["limit"], 512);
  EXPECT_EQ(j["unmapped"]["limit"]["action"], "deny");
  EXPECT_EQ(j["actor"]["process"]["pid"], 66);
  EXPECT_EQ(j["activity_name"], "Resource Limit");
  EXPECT_EQ(j["severity_id"], 2);
}

TEST(BuildersTest, KeepsTheIntegrityKeyForTheChainOnly) {
  OperationalInput op;
  op.unmapped.set("integrity", "forged");
  op.unmapped.set("k", "v");
  Event e = operationalEvent(sampleContext(), kTime, op);
  EXPECT_EQ(e.unmapped.find("integrity"), nullptr);
  e.integrity_prev = std::string(64, 'a');
  EXPECT_EQ(jsonOf(e)["unmapped"]["integrity"]["prev"], std::string(64, 'a'));
}

TEST(BuildersTest, RecordsLifecycleAsTheWardenApp) {
  LifecycleInput in;
  in.activity = LifecycleActivity::kReady;
  in.component = "proxy";
  const json j = jsonOf(lifecycle(sampleContext(), kTime, in));
  EXPECT_EQ(j["app"]["name"], "Warden");
  EXPECT_EQ(j["activity_name"], "Ready");
  EXPECT_EQ(j["unmapped"]["component"], "proxy");
  EXPECT_EQ(j["type_uid"], 600299);
}

}  // namespace
}  // namespace warden::ocsf
