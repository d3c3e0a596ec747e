#include "ocsf/shorthand.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/encoding.h"
#include "ocsf/builders.h"
#include "ocsf/samples.h"

namespace warden::ocsf {
namespace {

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

Event message(std::string text) {
  OperationalInput in;
  in.message = std::move(text);
  return operationalEvent(sampleContext(), kTime, in);
}

Event netWith(Action action, std::string reason) {
  Connection c;
  c.actor = proc("curl", 7);
  c.dst = host("evil.example", "", 443);
  Decision d;
  d.action = action;
  d.reason = std::move(reason);
  return netOpen(sampleContext(), kTime, c, d);
}

// True when `s` holds no byte that could end or split a line for common tools.
bool hasNoControlBytes(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  return s.find("\xc2\x85") == std::string::npos && s.find("\xe2\x80\xa8") == std::string::npos &&
         s.find("\xe2\x80\xa9") == std::string::npos;
}

// --- one line, whatever the event holds ---

TEST(ShorthandTest, WritesNewlineCarriageReturnAndNulAsUnicodeEscapes) {
  EXPECT_EQ(toShorthand(message(std::string("a\nb\rc\0d", 7))), "EVENT:OTHER [INFO] a\\u{a}b\\u{d}c\\u{0}d");
}

TEST(ShorthandTest, WritesEveryAsciiControlAndDeleteAsLowerCaseHex) {
  EXPECT_EQ(toShorthand(message("x\x01\x1b\x1f\x7fy")), "EVENT:OTHER [INFO] x\\u{1}\\u{1b}\\u{1f}\\u{7f}y");
}

TEST(ShorthandTest, KeepsControlCharactersInEveryAgentFieldOnOneLine) {
  const std::string evil = "a\nNET:OPEN [INFO] ALLOWED x\r\n\x0b\x0c\x85\xc2\x85\xe2\x80\xa8";
  Process p = proc(evil, 1);
  p.cmd_line = evil;
  p.uid = 1000;

  Connection c;
  c.actor = p;
  c.dst = host(evil, "", 443);
  Decision deny;
  deny.action = Action::kDenied;
  deny.rule = evil;
  deny.reason = evil;
  const SessionContext ctx = sampleContext();

  HttpExchange x;
  x.actor = p;
  x.method = evil;
  x.url = "https://" + evil + "/" + evil;

  DnsLookup dns;
  dns.actor = p;
  dns.hostname = evil;
  dns.type = evil;
  dns.answers = {DnsAnswer{evil, "A"}};

  FileAccess fa;
  fa.actor = p;
  fa.file.path = evil;
  File target;
  target.path = evil;
  fa.target = target;

  FindingInput f;
  f.title = evil;
  f.types = {evil};

  ConfigChange cfg;
  cfg.state = evil;
  cfg.message = evil;
  cfg.policy_version = evil;

  PackageInstall pkg;
  pkg.manager = evil;
  pkg.name = evil;
  pkg.version = evil;
  pkg.source_url = "https://h/" + evil;

  ToolCall tool;
  tool.actor = p;
  tool.tool = evil;
  tool.result_status = evil;

  LimitHit limit;
  limit.type = evil;
  limit.action = evil;

  OperationalInput op;
  op.name = evil;
  op.message = evil;
  op.unmapped.set(evil, evil);

  SessionContext named = ctx;
  named.session_name = evil;
  SessionInput stop;
  stop.activity = SessionActivity::kStop;
  stop.message = evil;

  LifecycleInput life;
  life.component = evil;
  life.message = evil;

  SshSession ssh;
  ssh.src = host(evil, "", 22);
  ssh.other_name = evil;

  const Event events[] = {
      netOpen(ctx, kTime, c, deny),     httpRequest(ctx, kTime, x, deny),
      dnsQuery(ctx, kTime, dns),        procLaunch(ctx, kTime, p, {evil}),
      fileActivity(ctx, kTime, fa),     finding(ctx, kTime, f),
      configChange(ctx, kTime, cfg),    pkgInstall(ctx, kTime, pkg),
      toolCall(ctx, kTime, tool),       resourceLimit(ctx, kTime, limit),
      operationalEvent(ctx, kTime, op), session(named, kTime, stop),
      lifecycle(ctx, kTime, life),      sshActivity(ctx, kTime, SshActivity::kOther, ssh, deny),
  };
  for (const Event& e : events) {
    const std::string line = toShorthand(e);
    EXPECT_TRUE(hasNoControlBytes(line)) << line;
    EXPECT_NE(line.back(), ' ') << line;
  }
}

TEST(ShorthandTest, EscapesUnicodeLineSeparatorsC1ControlsAndBidiOverrides) {
  EXPECT_EQ(toShorthand(message("a\xc2\x85"
                                "b\xe2\x80\xa8"
                                "c\xe2\x80\xa9"
                                "d\xe2\x80\xae"
                                "e\xe2\x81\xa6"
                                "f")),
            "EVENT:OTHER [INFO] a\\u{85}b\\u{2028}c\\u{2029}d\\u{202e}e\\u{2066}f");
}

TEST(ShorthandTest, KeepsWellFormedUtf8AsIs) {
  EXPECT_EQ(toShorthand(message("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92")),
            "EVENT:OTHER [INFO] caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92");
}

TEST(ShorthandTest, WritesInvalidUtf8BytesAsHexEscapesPreservingEachByte) {
  // A lone 0xFF, a truncated 2-byte sequence, an overlong '/', a UTF-16 surrogate.
  EXPECT_EQ(toShorthand(message("a\xff"
                                "b\xc3"
                                "c\xc0\xaf"
                                "d\xed\xa0\x80"
                                "e")),
            "EVENT:OTHER [INFO] a\\x{ff}b\\x{c3}c\\x{c0}\\x{af}d\\x{ed}\\x{a0}\\x{80}e");
}

TEST(ShorthandTest, TurnsRandomBytesInEveryFieldIntoOneValidUtf8Line) {
  std::mt19937 rng(20251123);
  auto junk = [&rng] {
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
  };
  for (int i = 0; i < 500; ++i) {
    FileAccess fa;
    fa.actor = proc(junk(), 1);
    fa.file.path = junk();
    fa.decision = Decision{Action::kDenied, junk(), junk(), junk()};
    OperationalInput op;
    op.name = junk();
    op.message = junk();
    op.unmapped.set(junk(), junk());
    for (const Event& e :
         {fileActivity(sampleContext(), kTime, fa), operationalEvent(sampleContext(), kTime, op)}) {
      const std::string line = toShorthand(e);
      ASSERT_TRUE(isValidUtf8(line)) << line;
      ASSERT_TRUE(hasNoControlBytes(line)) << line;
      ASSERT_NE(line.back(), ' ') << line;
    }
  }
}

// --- brackets ---

TEST(ShorthandTest, EscapesBracketsAndBackslashInsideBracketItems) {
  EXPECT_EQ(toShorthand(netWith(Action::kDenied, "a]b[c\\d [reason:forged]")),
            "NET:OPEN [MED] DENIED curl(7) -> evil.example:443 [policy:- engine:policy] "
            "[reason:a\\]b\\[c\\\\d \\[reason:forged\\]]");
}

TEST(ShorthandTest, EscapesBracketsOutsideBracketItemsTooSoDataCannotImitateOne) {
  FileAccess fa;
  fa.actor = proc("sh", 3);
  fa.file.path = "/tmp/x [reason:fake]\\";
  EXPECT_EQ(toShorthand(fileActivity(sampleContext(), kTime, fa)),
            "FILE:READ [INFO] sh(3) /tmp/x \\[reason:fake\\]\\\\");
}

TEST(ShorthandTest, EscapesQuotesInsideAFindingTitle) {
  FindingInput f;
  f.title = "say \"hi\" [x]";
  EXPECT_EQ(toShorthand(finding(sampleContext(), kTime, f)),
            "FINDING:BLOCKED [HIGH] \"say \\\"hi\\\" \\[x\\]\" [confidence:high]");
}

// --- cuts ---

TEST(ShorthandTest, CutsAMegabyteMessageTo120BytesWithEllipsis) {
  const std::string line = toShorthand(message(std::string(1 << 20, 'x')));
  EXPECT_EQ(line, "EVENT:OTHER [INFO] " + std::string(120, 'x') + "...");
}

TEST(ShorthandTest, CutsAMegabyteReasonTo256BytesWithEllipsis) {
  const std::string line = toShorthand(netWith(Action::kDenied, std::string(1 << 20, 'r')));
  EXPECT_EQ(line, "NET:OPEN [MED] DENIED curl(7) -> evil.example:443 [policy:- engine:policy] [reason:" +
                      std::string(256, 'r') + "...]");
}

TEST(ShorthandTest, CutsAMegabyteTitleTo120Bytes) {
  FindingInput f;
  f.title = std::string(1 << 20, 't');
  f.confidence = Confidence::kLow;
  EXPECT_EQ(toShorthand(finding(sampleContext(), kTime, f)),
            "FINDING:BLOCKED [HIGH] \"" + std::string(120, 't') + "...\" [confidence:low]");
}

TEST(ShorthandTest, BoundsTheLineWhateverSizeTheFieldsAre) {
  const std::string big(1 << 20, 'p');
  FileAccess fa;
  fa.actor = proc(big, 1);
  fa.file.path = big;
  EXPECT_LT(toShorthand(fileActivity(sampleContext(), kTime, fa)).size(), 4096u);
}

TEST(ShorthandTest, CutsAtAUtf8BoundaryNeverInsideACharacter) {
  // 119 ASCII bytes then a 2-byte character that would straddle byte 120.
  const std::string text = std::string(119, 'a') + "\xc3\xa9" + "tail";
  EXPECT_EQ(toShorthand(message(text)), "EVENT:OTHER [INFO] " + std::string(119, 'a') + "...");
}

TEST(ShorthandTest, CutsCountRawBytesBeforeEscaping) {
  const std::string line = toShorthand(message(std::string(200, '\n')));
  std::string want = "EVENT:OTHER [INFO] ";
  for (int i = 0; i < 120; ++i) want += "\\u{a}";
  EXPECT_EQ(line, want + "...");
}

TEST(ShorthandTest, LeavesTextAtExactlyTheLimitUncut) {
  EXPECT_EQ(toShorthand(message(std::string(120, 'm'))), "EVENT:OTHER [INFO] " + std::string(120, 'm'));
}

// --- spaces ---

TEST(ShorthandTest, NeverEndsWithASpace) {
  EXPECT_EQ(toShorthand(message("trailing   ")), "EVENT:OTHER [INFO] trailing");
  EXPECT_EQ(toShorthand(message("")), "EVENT:OTHER [INFO]");
  EXPECT_EQ(toShorthand(message("   ")), "EVENT:OTHER [INFO]");
  SessionInput start;
  start.activity = SessionActivity::kStart;
  EXPECT_EQ(toShorthand(session(sampleContext(), kTime, start)), "SESSION:START [INFO] agent-7");
  for (const Event& e : sampleOfEveryEvent(sampleContext())) {
    const std::string line = toShorthand(e);
    EXPECT_NE(line.back(), ' ') << line;
    EXPECT_EQ(line.find("  "), std::string::npos) << line;
  }
}

// --- reason ---

TEST(ShorthandTest, ShowsReasonOnDeniedOnly) {
  EXPECT_NE(toShorthand(netWith(Action::kDenied, "why")).find("[reason:why]"), std::string::npos);
  EXPECT_EQ(toShorthand(netWith(Action::kAllowed, "why")).find("reason"), std::string::npos);
  EXPECT_EQ(toShorthand(netWith(Action::kObserved, "why")).find("reason"), std::string::npos);
  EXPECT_EQ(toShorthand(netWith(Action::kObserved, "why")),
            "NET:OPEN [MED] OBSERVED curl(7) -> evil.example:443 [policy:- engine:policy]");
}

TEST(ShorthandTest, ShowsASessionStopReasonWhichIsNotADenial) {
  SessionInput stop;
  stop.activity = SessionActivity::kStop;
  stop.reason = StopReason::kOom;
  stop.exit_code = 137;
  EXPECT_EQ(toShorthand(session(sampleContext(), kTime, stop)),
            "SESSION:STOP [CRIT] agent-7 [reason:oom exit:137]");
}

// --- pieces ---

TEST(ShorthandTest, WritesUnknownActorAsDashAndActorWithoutPidAsName) {
  Connection c;
  c.dst = host("a.example", "", 443);
  EXPECT_EQ(toShorthand(netClose(sampleContext(), kTime, c, 1, 2, 3)),
            "NET:CLOSE [INFO] - -> a.example:443 [bytes_in:1 bytes_out:2 ms:3]");
  Process nameless;
  nameless.pid = 5;
  c.actor = nameless;
  EXPECT_EQ(toShorthand(netClose(sampleContext(), kTime, c, 1, 2, 3)),
            "NET:CLOSE [INFO] -(5) -> a.example:443 [bytes_in:1 bytes_out:2 ms:3]");
  Process pidless;
  pidless.name = "git";
  c.actor = pidless;
  EXPECT_EQ(toShorthand(netClose(sampleContext(), kTime, c, 1, 2, 3)),
            "NET:CLOSE [INFO] git -> a.example:443 [bytes_in:1 bytes_out:2 ms:3]");
}

TEST(ShorthandTest, PutsIpv6AddressesInBrackets) {
  Connection c;
  c.actor = proc("curl", 1);
  c.dst = host("", "2001:db8::1", 443);
  Decision d;
  EXPECT_EQ(toShorthand(netOpen(sampleContext(), kTime, c, d)),
            "NET:OPEN [INFO] ALLOWED curl(1) -> [2001:db8::1]:443 [policy:- engine:policy]");
}

TEST(ShorthandTest, PrefersTheHostnameOverTheIp) {
  Connection c;
  c.actor = proc("curl", 1);
  c.dst = host("api.example.com", "203.0.113.1", 443);
  EXPECT_NE(toShorthand(netOpen(sampleContext(), kTime, c, Decision{})).find("-> api.example.com:443"),
            std::string::npos);
}

TEST(ShorthandTest, WritesHttpUrlWithDefaultPortOmittedAndQueryRedacted) {
  HttpExchange x;
  x.actor = proc("curl", 1);
  x.url = "https://user:secret@api.example.com:443/v1/items?token=abc#frag";
  EXPECT_EQ(toShorthand(httpRequest(sampleContext(), kTime, x, Decision{})),
            "HTTP:GET [INFO] ALLOWED curl(1) -> GET https://api.example.com/v1/items?[redacted] [policy:- "
            "engine:policy]");
  x.url = "http://api.example.com:8080/";
  EXPECT_EQ(toShorthand(httpRequest(sampleContext(), kTime, x, Decision{})),
            "HTTP:GET [INFO] ALLOWED curl(1) -> GET http://api.example.com:8080/ [policy:- engine:policy]");
}

TEST(ShorthandTest, NeverPrintsARawQueryStringEvenIfAnEventCarriesOne) {
  Event e = httpRequest(sampleContext(), kTime, HttpExchange{}, Decision{});
  e.http_request->url.query_string = "token=s3cret";
  EXPECT_EQ(toShorthand(e).find("s3cret"), std::string::npos);
}

TEST(ShorthandTest, UsesTheMethodAsActivityForUnknownHttpMethods) {
  HttpExchange x;
  x.actor = proc("curl", 1);
  x.method = "PROPFIND";
  x.url = "https://dav.example.com/a";
  EXPECT_EQ(toShorthand(httpRequest(sampleContext(), kTime, x, Decision{})).rfind("HTTP:PROPFIND [INFO] ", 0),
            0u);
}

TEST(ShorthandTest, ShowsTheHttpResponseCodeWhenThereIsOne) {
  HttpExchange x;
  x.actor = proc("curl", 1);
  x.url = "https://api.example.com/";
  x.response_code = 404;
  EXPECT_EQ(
      toShorthand(httpRequest(sampleContext(), kTime, x, Decision{})),
      "HTTP:GET [INFO] ALLOWED curl(1) -> GET https://api.example.com/ [policy:- engine:policy] [code:404]");
}

TEST(ShorthandTest, WritesDnsErrorsWithDigMnemonics) {
  DnsLookup l;
  l.actor = proc("python3", 42);
  l.hostname = "nope.example";
  l.rcode = DnsRcode::kNxDomain;
  EXPECT_EQ(toShorthand(dnsResponse(sampleContext(), kTime, l)),
            "DNS:RESPONSE [LOW] python3(42) nope.example A [rcode:NXDOMAIN]");
}

TEST(ShorthandTest, JoinsSeveralDnsAnswersWithCommas) {
  DnsLookup l;
  l.actor = proc("python3", 42);
  l.hostname = "multi.example";
  l.answers = {DnsAnswer{"192.0.2.1", "A"}, DnsAnswer{"192.0.2.2", "A"}};
  EXPECT_EQ(toShorthand(dnsQuery(sampleContext(), kTime, l)),
            "DNS:QUERY [INFO] python3(42) multi.example A [answers:192.0.2.1,192.0.2.2]");
}

TEST(ShorthandTest, WritesTheSignalOfATerminatedProcess) {
  ProcessExit exit;
  exit.exit_code = 143;
  exit.signal = 15;
  EXPECT_EQ(toShorthand(procTerminate(sampleContext(), kTime, proc("sleep", 9), exit)),
            "PROC:TERMINATE [INFO] sleep(9) [exit:143 signal:SIGTERM]");
}

TEST(ShorthandTest, WritesARenameWithItsTarget) {
  FileAccess fa;
  fa.activity = FileActivity::kRename;
  fa.actor = proc("mv", 4);
  fa.file.path = "/a";
  File to;
  to.path = "/b";
  fa.target = to;
  EXPECT_EQ(toShorthand(fileActivity(sampleContext(), kTime, fa)), "FILE:RENAME [INFO] mv(4) /a -> /b");
}

TEST(ShorthandTest, UpperCasesMultiWordActivityNamesIntoOneToken) {
  OperationalInput op;
  op.name = "Spool Replay";
  op.message = "replayed 12 events";
  EXPECT_EQ(toShorthand(operationalEvent(sampleContext(), kTime, op)),
            "EVENT:SPOOL_REPLAY [INFO] replayed 12 events");
}

TEST(ShorthandTest, WritesLifecycleAsComponentAndMessage) {
  LifecycleInput in;
  in.activity = LifecycleActivity::kFailed;
  in.component = "proxy";
  in.error = "bind 10.200.0.1:3128: address in use";
  EXPECT_EQ(toShorthand(lifecycle(sampleContext(), kTime, in)),
            "LIFECYCLE:FAILED [CRIT] proxy: failed: bind 10.200.0.1:3128: address in use");
}

TEST(ShorthandTest, WritesSshListenAsTheListeningEndpoint) {
  SshSession ssh;
  ssh.dst = host("", "10.200.0.2", 22);
  EXPECT_EQ(toShorthand(sshActivity(sampleContext(), kTime, SshActivity::kListen, ssh)),
            "SSH:LISTEN [INFO] 10.200.0.2:22");
}

// --- LOG (built by src/audit; rendered here) ---

Event logEvent(int activity, std::string name) {
  Event e = newEvent(sampleContext(), Kind::kLog, ClassUid::kEventLogActivity, activity, kTime);
  e.activity_name = std::move(name);
  return e;
}

TEST(ShorthandTest, WritesAFinalCheckpointWithFinalTrue) {
  Event e = logEvent(99, "Checkpoint");
  Value cp;
  cp.set("first_seq", 5001);
  cp.set("last_seq", 5017);
  cp.set("head", std::string(64, 'c'));
  cp.set("key_id", "abcd" + std::string(60, '0'));
  cp.set("final", true);
  e.unmapped.set("checkpoint", cp);
  EXPECT_EQ(toShorthand(e), "LOG:CHECKPOINT [INFO] [seq:5001-5017 head:cccccccc key:abcd final:true]");
}

TEST(ShorthandTest, WritesALossWithCountAndRange) {
  Event e = logEvent(99, "Loss");
  e.severity = Severity::kHigh;
  Value loss;
  loss.set("count", 17);
  loss.set("first_seq", 100);
  loss.set("last_seq", 116);
  e.unmapped.set("loss", loss);
  EXPECT_EQ(toShorthand(e), "LOG:LOSS [HIGH] [count:17 seq:100-116]");
}

TEST(ShorthandTest, WritesLogStartWithTheSigningKeyId) {
  Event e = logEvent(6, "");
  Value key;
  key.set("algorithm", "Ed25519");
  key.set("public_key", std::string(64, 'e'));
  key.set("key_id", "5f1e" + std::string(60, '9'));
  e.unmapped.set("signing_key", key);
  EXPECT_EQ(toShorthand(e), "LOG:START [INFO] [key:5f1e]");
}

TEST(ShorthandTest, WritesLogRotateWithItsMessage) {
  Event e = logEvent(5, "");
  e.message = "warden.log rotated to warden.log.2025-11-23";
  EXPECT_EQ(toShorthand(e), "LOG:ROTATE [INFO] warden.log rotated to warden.log.2025-11-23");
}

// --- API ---

TEST(ShorthandTest, AppendsWithoutClearing) {
  std::string out = "prefix|";
  appendShorthand(out, message("m"));
  EXPECT_EQ(out, "prefix|EVENT:OTHER [INFO] m");
}

TEST(ShorthandTest, LogLineStartsWithTheEventTimeInUtc) {
  std::string out;
  appendLogLine(out, message("m"));
  EXPECT_EQ(out, "2025-11-23T12:13:20.123Z OCSF EVENT:OTHER [INFO] m");
}

}  // namespace
}  // namespace warden::ocsf
