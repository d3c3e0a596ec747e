#include "ocsf/samples.h"

#include <memory>
#include <string>
#include <utility>

namespace warden::ocsf {

namespace {

Process proc(std::string name, int64_t pid, std::string path,
             std::shared_ptr<const Process> parent = nullptr) {
  Process p;
  p.name = std::move(name);
  p.pid = pid;
  p.uid = 1000;
  File f;
  f.path = std::move(path);
  f.type_id = FileType::kRegular;
  p.file = std::move(f);
  p.working_directory = "/workspace";
  p.parent_process = std::move(parent);
  return p;
}

Endpoint endpoint(std::string hostname, std::string ip, std::optional<int> port) {
  Endpoint e;
  e.hostname = std::move(hostname);
  e.ip = std::move(ip);
  e.port = port;
  return e;
}

Decision decision(Action action, std::string rule, std::string engine, std::string reason = "") {
  Decision d;
  d.action = action;
  d.rule = std::move(rule);
  d.engine = std::move(engine);
  d.reason = std::move(reason);
  return d;
}

Connection connection(const Process& actor, Endpoint dst, int src_port) {
  Connection c;
  c.actor = actor;
  c.src = endpoint("", "10.200.0.2", src_port);
  c.dst = std::move(dst);
  return c;
}

}  // namespace

SessionContext sampleContext() {
  SessionContext ctx;
  ctx.hostname = "warden-host-1";
  ctx.session_id = "0193a5c2-7d41-7b8e-9f10-2c3d4e5f6a7b";
  ctx.session_name = "agent-7";
  ctx.image_name = "python:3.12-slim";
  ctx.proxy = endpoint("", "10.200.0.1", 3128);
  return ctx;
}

std::vector<Event> sampleOfEveryEvent(const SessionContext& ctx, int64_t start_time) {
  std::vector<Event> out;
  int64_t t = start_time;
  auto next = [&t] { return t += 37; };

  const auto claude = std::make_shared<const Process>(proc("claude", 12, "/usr/local/bin/claude"));
  const auto bash = std::make_shared<const Process>(proc("bash", 77, "/usr/bin/bash", claude));
  const Process python = proc("python3", 42, "/usr/bin/python3.11", claude);
  const Process curl = proc("curl", 88, "/usr/bin/curl", bash);
  const Process node = proc("node", 99, "/usr/bin/node", claude);

  // Supervisor and session start.
  out.push_back(lifecycle(ctx, next(), LifecycleInput{}));
  {
    LifecycleInput ready;
    ready.activity = LifecycleActivity::kReady;
    ready.component = "proxy";
    ready.message = "listening on 10.200.0.1:3128";
    out.push_back(lifecycle(ctx, next(), ready));
  }
  {
    SessionInput create;
    create.activity = SessionActivity::kCreate;
    create.message = "namespaces, veth 10.200.0.1/30, cgroup created";
    out.push_back(session(ctx, next(), create));
  }
  {
    ConfigChange loaded;
    loaded.message = "policy loaded";
    loaded.policy_version = "3";
    loaded.policy_hash = "9f2c01ab5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3";
    out.push_back(configChange(ctx, next(), loaded));
  }
  {
    ConfigChange degraded;
    degraded.state = std::string(kConfigDegraded);
    degraded.message = "Landlock ABI 1 applied; file rename/truncate rules unavailable";
    out.push_back(configChange(ctx, next(), degraded));
  }
  out.push_back(netListen(ctx, next()));
  {
    SessionInput start;
    start.activity = SessionActivity::kStart;
    out.push_back(session(ctx, next(), start));
  }

  // Processes.
  out.push_back(procLaunch(ctx, next(), *claude, {"claude", "--print", "fix the tests"}, LaunchType::kSpawn));
  out.push_back(procLaunch(ctx, next(), python, {"python3", "-m", "pip", "install", "requests"}));
  out.push_back(
      procLaunch(ctx, next(), curl, {"curl", "-s", "https://api.github.com/zen"}, LaunchType::kExec));
  {
    Process forked = *bash;
    forked.pid = 78;
    forked.parent_process = bash;
    out.push_back(procLaunch(ctx, next(), forked, {}, LaunchType::kFork));
  }
  out.push_back(procSignal(ctx, next(), curl, 15, *bash));
  {
    // As the kernel capture reports them: namespace pid, start time, ancestry, a cut argv, a failed exec.
    Process kernel = curl;
    kernel.namespace_pid = 12;
    kernel.created_time = t - 5;
    kernel.working_directory = "/workspace";
    kernel.ancestry = {{"bash", 77, "/usr/bin/bash"}, {"claude", 12, "/usr/local/bin/claude"}};
    LaunchDetails d;
    d.argv = {"curl", "-d", std::string(64, 'x')};
    d.argv_truncated = true;
    d.argv_length = 300000;
    d.euid = 1000;
    d.gid = 1000;
    out.push_back(procLaunch(ctx, next(), kernel, d));
    LaunchDetails failed;
    failed.argv = {"/nonexistent-cmd"};
    failed.failure_errno = 2;
    failed.attempts = 3;
    out.push_back(procLaunch(ctx, next(), *bash, failed));
  }

  // DNS.
  {
    DnsLookup q;
    q.actor = python;
    q.src = endpoint("", "10.200.0.2", 40112);
    q.hostname = "wheels.example.org";
    q.type = "A";
    q.answers = {DnsAnswer{"203.0.113.7", "A"}};
    q.rcode = DnsRcode::kNoError;
    out.push_back(dnsQuery(ctx, next(), q));
    q.type = "AAAA";
    q.answers = {DnsAnswer{"2001:db8::7", "AAAA"}};
    out.push_back(dnsResponse(ctx, next(), q));
    DnsLookup nx;
    nx.actor = curl;
    nx.src = endpoint("", "10.200.0.2", 40113);
    nx.hostname = "exfil.evil.example";
    nx.rcode = DnsRcode::kNxDomain;
    nx.decision = decision(Action::kDenied, "-", "policy", "no policy could allow exfil.evil.example");
    out.push_back(dnsResponse(ctx, next(), nx));
    DnsLookup servfail;
    servfail.actor = python;
    servfail.src = endpoint("", "10.200.0.2", 40114);
    servfail.hostname = "flaky.example.org";
    servfail.rcode = DnsRcode::kServError;
    out.push_back(dnsResponse(ctx, next(), servfail));
  }

  // Connections.
  const Connection pypi = connection(python, endpoint("api.example.com", "203.0.113.10", 443), 50001);
  out.push_back(netOpen(ctx, next(), pypi, decision(Action::kAllowed, "python_deps", "policy")));
  out.push_back(netOpen(ctx, next(), connection(curl, endpoint("evil.example", "", 443), 50002),
                        decision(Action::kDenied, "-", "policy", "no policy allows evil.example:443")));
  out.push_back(netOpen(ctx, next(), connection(curl, endpoint("", "169.254.169.254", 80), 50003),
                        decision(Action::kDenied, "-", "ssrf", "169.254.169.254 is link-local")));
  out.push_back(
      netOpen(ctx, next(), connection(curl, endpoint("", "2001:db8::20", 8443), 50004),
              decision(Action::kObserved, "internal_db", "policy", "audit: port 8443 not in rule")));

  // HTTP, every method.
  {
    HttpExchange get;
    get.actor = curl;
    get.src = endpoint("", "10.200.0.2", 50010);
    get.url = "https://api.github.com/zen?access_token=not-recorded";
    get.response_code = 200;
    get.user_agent = "curl/7.88.1";
    out.push_back(httpRequest(ctx, next(), get, decision(Action::kAllowed, "github", "l7")));
    HttpExchange post = get;
    post.method = "POST";
    post.url = "/user/repos";
    post.host = "api.github.com";
    post.port = 443;
    post.response_code = 403;
    out.push_back(httpRequest(
        ctx, next(), post,
        decision(Action::kDenied, "github", "l7", "POST /user/repos not allowed by rule read-only")));
    for (const char* method : {"DELETE", "HEAD", "OPTIONS", "PUT", "TRACE", "PATCH", "PROPFIND"}) {
      HttpExchange x = get;
      x.method = method;
      x.url = "http://uploads.example.com:8080/repos/a/b";
      x.response_code = 204;
      out.push_back(httpRequest(ctx, next(), x,
                                decision(Action::kObserved, "uploads", "l7", "audit: method not allowed")));
    }
    HttpExchange connect = get;
    connect.method = "CONNECT";
    connect.url = "api.github.com:443";
    connect.response_code = 200;
    out.push_back(httpRequest(ctx, next(), connect, decision(Action::kAllowed, "github", "policy")));
  }

  // A WebSocket upgrade, then an unsolicited 101 (dual emit: HTTP + High finding).
  out.push_back(netUpgrade(ctx, next(), connection(node, endpoint("chat.example.com", "", 443), 50020),
                           decision(Action::kAllowed, "slack", "l7")));
  {
    HttpExchange x;
    x.actor = node;
    x.src = endpoint("", "10.200.0.2", 50021);
    x.url = "https://chat.example.com/api/messages";
    x.response_code = 101;
    Event http = httpRequest(ctx, next(), x,
                             decision(Action::kDenied, "slack", "l7", "unsolicited 101 Switching Protocols"));
    http.severity = Severity::kHigh;  // events.md Severity: unsolicited upgrades are High
    out.push_back(http);
    FindingInput f;
    f.title = "Unsolicited 101 Switching Protocols";
    f.desc =
        "The upstream switched protocols although the client did not ask to upgrade; both sides were closed.";
    f.types = {"unsolicited-101"};
    f.evidences.push(evidenceOf(http));
    f.rule = FirewallRule{"slack", "l7"};
    f.actor = node;
    out.push_back(finding(ctx, next(), f));
  }
  // A credential sent to a host the policy does not allow it for (dual emit).
  {
    HttpExchange x;
    x.actor = curl;
    x.src = endpoint("", "10.200.0.2", 50022);
    x.method = "POST";
    x.url = "https://paste.example.net/upload";
    const Event http = httpRequest(
        ctx, next(), x, decision(Action::kDenied, "-", "l7", "GitHub token sent to paste.example.net"));
    out.push_back(http);
    FindingInput f;
    f.title = "Credential sent to a host not allowed to receive it";
    f.types = {"credential-leak"};
    f.attacks = {Attack{"T1567", "Exfiltration Over Web Service", "TA0010", "Exfiltration"}};
    f.evidences.push(evidenceOf(http));
    f.remediation = "Scope the token to the hosts that need it; rotate it if it was exposed.";
    out.push_back(finding(ctx, next(), f));
  }
  // A proxy bypass attempt (dual emit: NET Refuse + Medium finding with a remediation hint).
  {
    Connection direct = connection(node, endpoint("", "93.184.216.34", 443), 50030);
    const Event refuse = netRefuse(ctx, next(), direct, "direct connection bypassed the proxy");
    out.push_back(refuse);
    FindingInput f;
    f.title = "Proxy bypass attempt";
    f.desc = "A process connected directly to 93.184.216.34:443 instead of using the egress proxy.";
    f.types = {"proxy-bypass"};
    f.attacks = {Attack{"T1090", "Proxy", "TA0011", "Command and Control"}};
    f.evidences.push(evidenceOf(refuse));
    f.remediation =
        "Set HTTP_PROXY/HTTPS_PROXY; NODE_USE_ENV_PROXY=1 for Node.js; use the sandbox DNS resolver.";
    f.severity = Severity::kMedium;
    f.risk_level = RiskLevel::kMedium;
    f.confidence = Confidence::kMedium;
    f.disposition = Disposition::kBlocked;
    f.rule = FirewallRule{"bypass-detect", "nftables"};
    out.push_back(finding(ctx, next(), f));
  }
  // Relay errors.
  {
    RelayError bad_gateway;
    bad_gateway.response_code = 502;
    bad_gateway.detail = "connect to 203.0.113.99:443: connection refused";
    out.push_back(netFail(ctx, next(),
                          connection(python, endpoint("down.example.org", "203.0.113.99", 443), 50040),
                          bad_gateway));
    RelayError timeout;
    timeout.response_code = 504;
    timeout.detail = "upstream idle for 60s";
    out.push_back(netReset(
        ctx, next(), connection(python, endpoint("slow.example.org", "203.0.113.98", 443), 50041), timeout));
  }
  out.push_back(netClose(ctx, next(), pypi, 53211, 1207, 842));

  // SSH into the sandbox, every activity, and a nonce replay (dual emit).
  {
    SshSession ssh;
    ssh.src = endpoint("", "192.0.2.50", 52114);
    ssh.dst = endpoint("", "10.200.0.2", 22);
    ssh.auth_type = AuthType::kPublicKey;
    SshSession listen;
    listen.dst = ssh.dst;
    out.push_back(sshActivity(ctx, next(), SshActivity::kListen, listen));
    out.push_back(
        sshActivity(ctx, next(), SshActivity::kOpen, ssh, decision(Action::kAllowed, "ssh", "policy")));
    out.push_back(sshActivity(ctx, next(), SshActivity::kClose, ssh));
    SshSession bad = ssh;
    bad.auth_type = AuthType::kPassword;
    out.push_back(sshActivity(ctx, next(), SshActivity::kFail, bad));
    out.push_back(
        sshActivity(ctx, next(), SshActivity::kRefuse, ssh,
                    decision(Action::kDenied, "-", "policy", "no policy allows ssh from 192.0.2.50")));
    SshSession replay = ssh;
    replay.other_name = "Replay";
    replay.message = "handshake nonce replayed";
    const Event replayed =
        sshActivity(ctx, next(), SshActivity::kOther, replay,
                    decision(Action::kDenied, "ssh", "policy", "handshake nonce already used"));
    out.push_back(replayed);
    FindingInput f;
    f.title = "SSH handshake nonce replay";
    f.types = {"ssh-replay"};
    f.evidences.push(evidenceOf(replayed));
    out.push_back(finding(ctx, next(), f));
  }

  // Files, every activity, and one a control denied.
  {
    auto access = [&](FileActivity a, std::string path) {
      FileAccess fa;
      fa.activity = a;
      fa.actor = python;
      fa.file.path = std::move(path);
      return fa;
    };
    out.push_back(fileActivity(ctx, next(), access(FileActivity::kCreate, "/workspace/out.txt")));
    out.push_back(fileActivity(ctx, next(), access(FileActivity::kRead, "/workspace/.env")));
    const Event keys =
        fileActivity(ctx, next(), access(FileActivity::kUpdate, "/home/agent/.ssh/authorized_keys"));
    out.push_back(keys);
    {
      // A detection rule's finding (src/detect), as the rules engine makes it: analytic = the rule,
      // no disposition (FINDING:CREATED), the evidence names the triggering event.
      FindingInput rf;
      rf.title = "Credential file written: /home/agent/.ssh/authorized_keys";
      rf.desc = "a process wrote to a credential or authentication file";
      rf.types = {"credential-file-write"};
      rf.detection_rule = "credential-file-write";
      rf.disposition = std::nullopt;
      rf.confidence = Confidence::kMedium;
      rf.attacks = {Attack{"T1098.004", "SSH Authorized Keys", "TA0003", "Persistence"}};
      Value ev = evidenceOf(keys);
      ev.set("uid", keys.metadata.uid);
      ev.set("name", "File System Activity: Update");
      Value data = Value::object();
      data.set("sequence", 42);
      ev.set("data", std::move(data));
      rf.evidences.push(std::move(ev));
      out.push_back(finding(ctx, next(), rf));
    }
    out.push_back(fileActivity(ctx, next(), access(FileActivity::kDelete, "/workspace/tmp.log")));
    FileAccess rename = access(FileActivity::kRename, "/workspace/a.txt");
    File target;
    target.path = "/workspace/b.txt";
    rename.target = target;
    out.push_back(fileActivity(ctx, next(), rename));
    FileAccess mount = access(FileActivity::kMount, "/dev/sdb1");
    mount.file.type_id = FileType::kBlockDevice;
    File point;
    point.path = "/mnt/data";
    point.type_id = FileType::kFolder;
    mount.target = point;
    out.push_back(fileActivity(ctx, next(), mount));
    FileAccess unmount = access(FileActivity::kUnmount, "/mnt/data");
    unmount.file.type_id = FileType::kFolder;
    out.push_back(fileActivity(ctx, next(), unmount));
    out.push_back(fileActivity(ctx, next(), access(FileActivity::kOpen, "/etc/hosts")));
    FileAccess denied = access(FileActivity::kUpdate, "/etc/passwd");
    denied.decision = decision(Action::kDenied, "filesystem", "landlock", "/etc is read-only");
    out.push_back(fileActivity(ctx, next(), denied));
    FileAccess shadow = access(FileActivity::kOpen, "/etc/shadow");
    shadow.sensitive = true;
    shadow.decision = decision(Action::kDenied, "-", "kernel", "EACCES");
    out.push_back(fileActivity(ctx, next(), shadow));
    FileAccess chmod = access(FileActivity::kSetSecurity, "/workspace/run.sh");
    chmod.operation = "chmod";
    chmod.details.set("mode", "0755");
    out.push_back(fileActivity(ctx, next(), chmod));
    FileAccess truncate = access(FileActivity::kUpdate, "/workspace/log.txt");
    truncate.operation = "truncate";
    out.push_back(fileActivity(ctx, next(), truncate));
  }

  // Packages and tool calls.
  {
    PackageInstall pkg;
    pkg.actor = python;
    pkg.manager = "pip";
    pkg.name = "requests";
    pkg.version = "2.31.0";
    pkg.requested_version = ">=2.31";
    pkg.source_url = "https://wheels.example.org/requests-2.31.0.whl";
    pkg.sha256 = "3f5a1f4c8b9e0d7a6c5b4e3f2a1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d";
    out.push_back(pkgInstall(ctx, next(), pkg));
  }
  {
    ToolCall call;
    call.actor = *claude;
    call.tool = "read_file";
    call.service = "filesystem";
    call.input_summary = "path=/workspace/README.md";
    out.push_back(toolCall(ctx, next(), call));
    call.tool = "run_command";
    call.service = "shell";
    call.input_summary = "cmd=make test (14 bytes)";
    call.result_status = "error";
    call.status = Status::kFailure;
    call.src = endpoint("", "10.200.0.2", 0);
    call.src.port.reset();
    out.push_back(toolCall(ctx, next(), call));
  }

  // The gateway's API: an operator's change, a refused read, a refused re-registration.
  {
    ApiCall call;
    call.activity = ApiActivity::kUpdate;
    call.operation = "SetSetting";
    call.caller.auth = "unix";
    call.caller.name = "root";
    call.caller.uid = 0;
    call.caller.pid = 4242;
    call.request = {{"key", "ocsf_json_enabled"}, {"scope", "global"}, {"value", "true"}};
    out.push_back(apiCall(ctx, next(), call));
    ApiCall read;
    read.activity = ApiActivity::kRead;
    read.operation = "ListSessions";
    read.caller.auth = "unix";
    read.caller.name = "nobody";
    read.caller.uid = 65534;
    read.caller.pid = 4243;
    read.action = Action::kDenied;
    read.reason = "uid 65534 is not an operator (root or group warden)";
    out.push_back(apiCall(ctx, next(), read));
    ApiCall create;
    create.activity = ApiActivity::kCreate;
    create.operation = "RegisterSession";
    create.caller.src = endpoint("", "10.0.0.7", 50312);
    create.request = {{"session", ctx.session_id}};
    create.action = Action::kDenied;
    create.reason = "session is already registered; a session id is registered once";
    create.severity = Severity::kHigh;
    out.push_back(apiCall(ctx, next(), create));
    ApiCall erase;
    erase.activity = ApiActivity::kDelete;
    erase.operation = "DeleteSetting";
    erase.caller.auth = "token";
    erase.caller.name = "ops-1";
    erase.caller.credential_type = "operator token";
    erase.caller.credential_uid = "ops-1";
    erase.caller.src = endpoint("", "127.0.0.1", 50400);
    erase.request = {{"key", "ocsf_json_enabled"}, {"scope", "global"}};
    out.push_back(apiCall(ctx, next(), erase));
  }

  // What the proxy understands: verified and tampered packages, a denied tool, model calls.
  {
    PackageInstall pkg;
    pkg.actor = python;
    pkg.manager = "npm";
    pkg.name = "left-pad";
    pkg.version = "1.3.0";
    pkg.source_url = "https://registry.example/left-pad/-/left-pad-1.3.0.tgz";
    pkg.sha256 = "5d1a0e2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
    pkg.advertised_hash = "sha512-3L/Jt6Gq0ZkWmbVV1f3a6Nn3b0Hr5dq1m1eWlY8qg7N6A==";
    pkg.verdict = "mismatch";
    pkg.verdict_detail = "the artifact's sha512 differs from the one the registry advertised";
    pkg.bytes = 2048;
    pkg.install_kind = "index";
    pkg.decision = decision(Action::kDenied, "registry", "l7", "hash mismatch: download cut off");
    out.push_back(pkgInstall(ctx, next(), pkg));
    PackageInstall cut;
    cut.manager = "apt";
    cut.name = "hello";
    cut.version = "2.10-3";
    cut.source_url = "http://deb.example.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb";
    cut.advertised_sha256 = "0b2d8d7e1c4f3a5b6978a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5";
    cut.bytes = 4096;
    cut.complete = false;
    cut.verdict_detail = "the body ended after 4096 of 53184 bytes";
    out.push_back(pkgInstall(ctx, next(), cut));
  }
  {
    ToolCall denied;
    denied.actor = *claude;
    denied.tool = "delete_repo";
    denied.service = "github";
    denied.method = "tools/call";
    denied.dst = endpoint("mcp.example.com", "", 443);
    denied.input_summary = "keys: owner, repo";
    denied.decision = decision(Action::kDenied, "tools_server", "l7", "tool delete_repo is denied by rule tools_server");
    out.push_back(toolCall(ctx, next(), denied));
    ToolCall timed_out;
    timed_out.actor = *claude;
    timed_out.tool = "search";
    timed_out.service = "docs";
    timed_out.method = "tools/call";
    timed_out.dst = endpoint("mcp.example.com", "", 443);
    timed_out.result_status = "timeout";
    timed_out.status = Status::kFailure;
    timed_out.duration_ms = 60000;
    out.push_back(toolCall(ctx, next(), timed_out));
  }
  {
    ModelCall m;
    m.actor = *claude;
    m.src = endpoint("", "10.200.0.2", 50112);
    m.dst = endpoint("api.anthropic.com", "", 443);
    m.operation = "messages";
    m.provider = "anthropic";
    m.model = "claude-sonnet-4";
    m.input_tokens = 1234;
    m.output_tokens = 567;
    m.stop_reason = "tool_use";
    m.tool_calls = {{"toolu_01A", "read_file"}, {"toolu_01B", "bash"}};
    m.streamed = true;
    m.http_status = 200;
    m.duration_ms = 2310;
    m.content_level = "summary";
    m.prompt = "list the files in the workspace";
    m.completion = "I will read the directory first.";
    out.push_back(modelCall(ctx, next(), m));
    ModelCall cut_short;
    cut_short.dst = endpoint("api.openai.com", "", 443);
    cut_short.operation = "chat.completions";
    cut_short.provider = "openai";
    cut_short.model = "gpt-4o";
    cut_short.streamed = true;
    cut_short.complete = false;
    cut_short.http_status = 200;
    out.push_back(modelCall(ctx, next(), cut_short));
  }

  // Limits, exits.
  {
    LimitHit cpu;
    cpu.type = "cpu";
    cpu.measured = 2400000;
    cpu.limit = 2000000;
    cpu.action = "throttle";
    out.push_back(resourceLimit(ctx, next(), cpu));
    LimitHit oom;
    oom.type = "oom";
    oom.measured = 536870912;
    oom.limit = 536870912;
    oom.action = "kill";
    oom.process = python;
    out.push_back(resourceLimit(ctx, next(), oom));
  }
  out.push_back(procTerminate(ctx, next(), curl, ProcessExit{}));
  {
    ProcessExit killed;
    killed.exit_code = 137;
    killed.signal = 9;
    killed.killed_by_limit = true;
    out.push_back(procTerminate(ctx, next(), python, killed));
    ProcessExit signalled;
    signalled.signal = 15;
    out.push_back(procTerminate(ctx, next(), curl, signalled));
  }
  {
    OperationalInput op;
    op.severity = Severity::kLow;
    op.name = "Spool";
    op.message = "gateway unreachable; spooling events";
    op.unmapped.set("spooled", 120);
    op.unmapped.set("gateway", "grpc://gw.example.internal:7443");
    out.push_back(operationalEvent(ctx, next(), op));
  }
  {
    ConfigChange updated;
    updated.state = std::string(kConfigUpdated);
    updated.message = "OCSF JSONL output enabled";
    updated.config_revision = 4;
    out.push_back(configChange(ctx, next(), updated));
    ConfigChange failed;
    failed.state = std::string(kConfigFailed);
    failed.message = "policy reload failed; previous policy stays in force";
    failed.errors = {"policy.yaml:12:5: unknown key 'endpoint'", "policy.yaml:20:9: ports must be 1-65535"};
    out.push_back(configChange(ctx, next(), failed));
  }

  // Session end.
  {
    SessionInput pause;
    pause.activity = SessionActivity::kPause;
    out.push_back(session(ctx, next(), pause));
    SessionInput resume;
    resume.activity = SessionActivity::kResume;
    out.push_back(session(ctx, next(), resume));
    SessionInput stop;
    stop.activity = SessionActivity::kStop;
    stop.reason = StopReason::kTimeout;
    stop.exit_code = 124;
    out.push_back(session(ctx, next(), stop));
    SessionInput cleanup;
    cleanup.activity = SessionActivity::kCleanup;
    cleanup.message = "namespaces, veth, cgroup and CA files removed; /workspace kept";
    out.push_back(session(ctx, next(), cleanup));
  }
  {
    LifecycleInput failed;
    failed.activity = LifecycleActivity::kFailed;
    failed.component = "gateway-push";
    failed.error = "spool directory not writable";
    out.push_back(lifecycle(ctx, next(), failed));
    LifecycleInput stop;
    stop.activity = LifecycleActivity::kStop;
    out.push_back(lifecycle(ctx, next(), stop));
  }
  return out;
}

}  // namespace warden::ocsf
