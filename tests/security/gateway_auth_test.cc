// Issue 12 item 2: the gateway's operators are authenticated and a session is registered once.
//
// A real gateway (in-process GatewayServer, SQLite in a temp dir, TCP on 127.0.0.1:0 and its
// operator socket in the temp dir) and real clients: the `warden` binary run as uid 65534 through
// setpriv(1), the operator client as root over the socket, over mutual TLS with certificates made by
// openssl(1), and with an operator token; the hijack of a registered session tried over TCP. Each
// test asserts the refusal (or the permission) and its record in the gateway's own trail.

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/client/operator_client.h"
#include "gateway/service/gateway_server.h"
#include "support/generated_session.h"
#include "support/test_env.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {
namespace {

using ::testing::HasSubstr;
using warden::testing::GeneratedSession;
using warden::testing::readFile;
using warden::testing::runCommand;
using warden::testing::TempDir;
using warden::testing::waitFor;
using warden::testing::wardenBinary;
using warden::testing::writeFile;

constexpr uid_t kNobody = 65534;
constexpr const char* kOperatorGroup = "4242";  // a gid no account has: only the test gives it out

bool haveSetpriv() { return runCommand("command -v setpriv >/dev/null").status == 0; }
bool haveOpenssl() { return runCommand("command -v openssl >/dev/null").status == 0; }

class GatewayAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // uid 65534 must reach the socket: the refusal has to come from the gateway, not from the
    // directory's permissions.
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  }

  // Starts the gateway; `configure` adjusts the options first.
  void start(const std::function<void(GatewayServerOptions&)>& configure = {}) {
    GatewayServerOptions o;
    o.listen = "127.0.0.1:0";
    o.db = "sqlite://" + (dir_ / "gateway.db").string();
    o.log_dir = dir_ / "trail";
    o.operator_socket = socketPath();
    if (configure) configure(o);
    auto s = GatewayServer::start(o);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    server_ = std::move(*s);
    tcp_ = "127.0.0.1:" + std::to_string(server_->port());
    stub_ = v1::Gateway::NewStub(grpc::CreateChannel(tcp_, grpc::InsecureChannelCredentials()));
  }

  std::string socketPath() const { return (dir_ / "gateway.sock").string(); }
  std::string socketUrl() const { return "unix:" + socketPath(); }

  // `warden ARGS` as uid 65534 (no supplementary groups unless `groups` names some).
  warden::testing::CommandResult asNobody(const std::string& args, const std::string& groups = "") {
    const std::string who = "setpriv --reuid=" + std::to_string(kNobody) + " --regid=" + std::to_string(kNobody) +
                            (groups.empty() ? " --clear-groups" : " --groups=" + groups);
    return runCommand("WARDEN_GATEWAY= " + who + " " + wardenBinary().string() + " " + args);
  }

  // A real session (`warden audit generate`), registered with its LOG:START key over TCP and pushed
  // whole with its token.
  GeneratedSession storedSession(std::string* token_out = nullptr) {
    GeneratedSession g = warden::testing::generateSession(dir_ / "generated", 60);
    std::string token;
    {
      grpc::ClientContext ctx;
      v1::RegisterSessionRequest req;
      req.set_id(g.id);
      req.set_name("victim");
      req.set_public_key(g.public_key);
      v1::RegisterSessionResponse resp;
      const grpc::Status st = stub_->RegisterSession(&ctx, req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      token = resp.token();
    }
    EXPECT_EQ(push(g, token, 0, g.json.size()).acknowledged_through(), g.json.size());
    if (token_out) *token_out = token;
    return g;
  }

  // Pushes lines [from, to) of `g` in one batch with `token` (none when empty); the reply, or an
  // empty reply with `status` set when the stream was refused.
  struct PushOutcome {
    v1::PushEventsResponse reply;
    grpc::Status status;
    uint64_t acknowledged_through() const { return reply.acknowledged_through(); }
  };
  PushOutcome push(const GeneratedSession& g, const std::string& token, size_t from, size_t to,
                   const std::function<std::string(std::string)>& rewrite = {}) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    auto stream = stub_->PushEvents(&ctx);
    v1::PushEventsRequest req;
    req.set_session_id(g.id);
    for (size_t i = from; i < to; ++i) {
      const auto j = nlohmann::json::parse(g.json[i]);
      auto* e = req.add_events();
      e->set_session_id(g.id);
      e->set_sequence(j["metadata"]["sequence"].get<uint64_t>());
      e->set_time_ms(j["time"].get<int64_t>());
      e->set_json(rewrite ? rewrite(g.json[i]) : g.json[i]);
      e->set_shorthand(g.log_lines[i].substr(g.log_lines[i].find(" OCSF ") + 6));
    }
    PushOutcome out;
    if (stream->Write(req)) stream->Read(&out.reply);
    stream->WritesDone();
    v1::PushEventsResponse ignored;
    while (stream->Read(&ignored)) {
    }
    out.status = stream->Finish();
    return out;
  }

  // The gateway's own trail as stored: its API events' shorthand and JSON.
  std::vector<StoredEvent> apiEvents() {
    EventQuery q;
    q.session = server_->gatewaySessionId();
    q.kinds = {"API"};
    q.limit = 10000;
    auto events = server_->store().query(q);
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<StoredEvent>{};
  }
  // Waits until a stored API event's shorthand contains every one of `parts`; returns it ("" if none).
  std::string waitForApiEvent(const std::vector<std::string>& parts) {
    std::string found;
    waitFor([&] {
      for (const auto& e : apiEvents()) {
        bool all = true;
        for (const auto& p : parts) all = all && e.shorthand.find(p) != std::string::npos;
        if (all) {
          found = e.shorthand;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::string allApiShorthand() {
    std::string out;
    for (const auto& e : apiEvents()) out += e.shorthand + "\n";
    return out;
  }

  bool ocsfJsonGloballyOn() {
    auto v = server_->settings().get(SettingScope::global(), "ocsf_json_enabled");
    return v.ok() && v->has_value();
  }

  TempDir dir_;
  std::unique_ptr<GatewayServer> server_;
  std::string tcp_;
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

// ---- the operator socket: SO_PEERCRED ---------------------------------------------------------------

TEST_F(GatewayAuthTest, AnUnprivilegedLocalUserCanNeitherListNorReadNorSetAndEachRefusalIsRecorded) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a child as uid 65534";
  if (!haveSetpriv()) GTEST_SKIP() << "setpriv(1) is not installed";
  start();
  const GeneratedSession victim = storedSession();
  const std::string gw = " --gateway " + socketUrl();

  const auto list = asNobody("sessions list" + gw);
  EXPECT_EQ(list.status, 1) << list.output;
  EXPECT_THAT(list.output, HasSubstr("uid 65534"));
  EXPECT_THAT(list.output, HasSubstr("is not an operator of this gateway"));
  EXPECT_THAT(list.output, ::testing::Not(HasSubstr(victim.id)));

  const auto logs = asNobody("logs " + victim.id + gw);
  EXPECT_EQ(logs.status, 1) << logs.output;
  EXPECT_THAT(logs.output, HasSubstr("is not an operator"));
  EXPECT_THAT(logs.output, ::testing::Not(HasSubstr("LOG:START")));

  const auto set = asNobody("settings set ocsf_json_enabled true --global" + gw);
  EXPECT_EQ(set.status, 1) << set.output;
  EXPECT_THAT(set.output, HasSubstr("is not an operator"));
  EXPECT_FALSE(ocsfJsonGloballyOn()) << "the setting must not have changed";

  const auto query = asNobody("audit query --domain pypi.org" + gw);
  EXPECT_EQ(query.status, 1) << query.output;
  const auto verify = asNobody("audit verify --session " + victim.id + gw);
  EXPECT_EQ(verify.status, 1) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("is not an operator"));

  // Over TCP (loopback) without credentials: nobody is an operator there either.
  const auto tcp = asNobody("sessions list --gateway " + tcp_);
  EXPECT_EQ(tcp.status, 1) << tcp.output;
  EXPECT_THAT(tcp.output, HasSubstr("no operator credentials"));

  // Every refusal is in the gateway's trail, with who tried (uid and pid, never a secret).
  for (const char* op : {"ListSessions", "GetSession", "SetSetting", "Query"}) {
    EXPECT_NE(waitForApiEvent({"[MED] DENIED nobody(", std::string(" -> ") + op, "[auth:unix"}), "")
        << op << " not recorded:\n" << allApiShorthand();
  }
  EXPECT_NE(waitForApiEvent({"DENIED anonymous -> ListSessions [auth:none from:127.0.0.1:"}), "") << allApiShorthand();
  bool uid_in_json = false;
  for (const auto& e : apiEvents()) {
    if (e.shorthand.find("SetSetting") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(e.json);
    uid_in_json = j["actor"]["user"]["uid"] == "65534" && j["actor"]["process"]["pid"].is_number() &&
                  j["status_id"] == 2 && j["unmapped"]["request"]["key"] == "ocsf_json_enabled";
  }
  EXPECT_TRUE(uid_in_json) << allApiShorthand();
}

TEST_F(GatewayAuthTest, AMemberOfTheOperatorGroupIsAnOperatorOnTheSocket) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a child as uid 65534";
  if (!haveSetpriv()) GTEST_SKIP() << "setpriv(1) is not installed";
  start([](GatewayServerOptions& o) { o.operator_group = kOperatorGroup; });
  const GeneratedSession victim = storedSession();
  const auto list = asNobody("sessions list --gateway " + socketUrl(), kOperatorGroup);
  EXPECT_EQ(list.status, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr(victim.id));
  const auto outsider = asNobody("sessions list --gateway " + socketUrl());
  EXPECT_EQ(outsider.status, 1) << outsider.output;
  EXPECT_THAT(outsider.output, HasSubstr("members of group 4242"));
  EXPECT_NE(waitForApiEvent({"[INFO] ALLOWED nobody(", "-> ListSessions [auth:unix"}), "") << allApiShorthand();
}

TEST_F(GatewayAuthTest, RootOnTheSocketIsTheOperatorAndEveryActionIsRecordedWithItsUidAndPid) {
  if (::geteuid() != 0) GTEST_SKIP() << "the operator socket admits root (and a configured group) only";
  start();
  const GeneratedSession victim = storedSession();
  auto client = OperatorClient::create(socketUrl());
  ASSERT_TRUE(client.ok()) << client.error().toString();
  auto sessions = client->listSessions();
  ASSERT_TRUE(sessions.ok()) << sessions.error().toString();
  auto set = client->setSetting("ocsf_json_enabled", "true", {.global = true});
  ASSERT_TRUE(set.ok()) << set.error().toString();
  EXPECT_TRUE(ocsfJsonGloballyOn());
  auto logs = client->getLogs({.session_id = victim.id, .limit = 10});
  ASSERT_TRUE(logs.ok()) << logs.error().toString();
  EXPECT_EQ(logs->size(), 10u);
  auto material = client->verificationMaterial(victim.id);
  ASSERT_TRUE(material.ok()) << material.error().toString();
  EXPECT_EQ(material->public_key, victim.public_key);

  const std::string me = "root(" + std::to_string(::getpid()) + ")";
  EXPECT_NE(waitForApiEvent({"API:READ [INFO] ALLOWED " + me + " -> ListSessions [auth:unix]"}), "") << allApiShorthand();
  EXPECT_NE(waitForApiEvent({"API:UPDATE [INFO] ALLOWED " + me +
                             " -> SetSetting [auth:unix config_revision:2 key:ocsf_json_enabled scope:global value:true]"}),
            "")
      << allApiShorthand();
  EXPECT_NE(waitForApiEvent({"ALLOWED " + me + " -> GetLogs [auth:unix", "session:" + victim.id}), "") << allApiShorthand();
  EXPECT_NE(waitForApiEvent({"ALLOWED " + me + " -> GetVerificationMaterial"}), "") << allApiShorthand();
  // And the CLI, a separate process, is recorded under its own pid.
  const auto cli = runCommand("WARDEN_GATEWAY= " + wardenBinary().string() + " sessions list --gateway " + socketUrl());
  EXPECT_EQ(cli.status, 0) << cli.output;
  EXPECT_THAT(cli.output, HasSubstr(victim.id));
}

// ---- a session is registered once -------------------------------------------------------------------

TEST_F(GatewayAuthTest, RegisteringAnExistingSessionAgainIsRefusedRecordedAndTheRealCopyStaysVerifiable) {
  start();
  std::string token;
  const GeneratedSession victim = warden::testing::generateSession(dir_ / "generated", 80);
  {
    grpc::ClientContext ctx;
    v1::RegisterSessionRequest req;
    req.set_id(victim.id);
    req.set_public_key(victim.public_key);
    v1::RegisterSessionResponse resp;
    ASSERT_TRUE(stub_->RegisterSession(&ctx, req, &resp).ok());
    token = resp.token();
  }
  ASSERT_EQ(push(victim, token, 0, 40).acknowledged_through(), 40u);

  // The attacker registers the same id with its own key, hoping for a token.
  grpc::ClientContext ctx;
  v1::RegisterSessionRequest req;
  req.set_id(victim.id);
  req.set_name("victim");
  req.set_public_key(std::string(64, 'e'));
  v1::RegisterSessionResponse resp;
  const grpc::Status st = stub_->RegisterSession(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS) << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("registered once"));
  EXPECT_TRUE(resp.token().empty());

  // Without the token nothing can be pushed into the session's future sequence numbers: forged
  // copies of events 41..80 are refused, with no token and with a made-up one.
  const auto forge = [](const std::string& json) { return "{\"forged\":true," + json.substr(1); };
  EXPECT_EQ(push(victim, "", 40, 80, forge).status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(push(victim, std::string(64, '0'), 40, 80, forge).status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // The real session goes on: its events are stored as new (no duplicates), nothing was forged.
  const auto real = push(victim, token, 40, victim.json.size());
  EXPECT_EQ(real.acknowledged_through(), victim.json.size());
  EXPECT_EQ(real.reply.duplicates(), 0u) << "no forged event took a real event's sequence";
  auto rec = server_->store().session(victim.id);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->public_key, victim.public_key);

  // The stored copy verifies with the key registered first (the operator's audit verify --session).
  const auto verify = runCommand("WARDEN_GATEWAY= " + wardenBinary().string() + " audit verify --session " +
                                 victim.id + " --gateway " + socketUrl());
  if (::geteuid() == 0) {
    EXPECT_EQ(verify.status, 0) << verify.output;
    EXPECT_THAT(verify.output, HasSubstr("ok:"));
  }

  EXPECT_NE(waitForApiEvent({"API:CREATE [HIGH] DENIED anonymous -> RegisterSession [auth:none from:127.0.0.1:",
                             "session:" + victim.id, "[reason:session '" + victim.id + "' is already registered"}),
            "")
      << allApiShorthand();
  EXPECT_NE(waitForApiEvent({"DENIED anonymous -> PushEvents [auth:none"}), "") << allApiShorthand();
}

// ---- TCP: mutual TLS --------------------------------------------------------------------------------

// A CA for operators, a server certificate for 127.0.0.1 and client certificates, made by openssl.
struct Pki {
  std::filesystem::path dir;
  bool ok = false;
  std::string why;

  explicit Pki(std::filesystem::path d) : dir(std::move(d)) {
    std::filesystem::create_directories(dir);
    writeFile(dir / "server.ext", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    writeFile(dir / "client.ext", "extendedKeyUsage=clientAuth\n");
    ok = ca("ca", "/CN=Warden test CA") && ca("rogue", "/CN=Another CA") &&
         leaf("server", "/CN=127.0.0.1", "ca", "server.ext") &&
         leaf("alice", "/O=Warden operators/CN=alice", "ca", "client.ext") &&
         leaf("mallory", "/O=Warden operators/CN=mallory", "rogue", "client.ext");
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  bool run(const std::string& cmd) {
    const auto r = runCommand("cd " + dir.string() + " && " + cmd);
    if (r.status != 0) why += cmd + ": " + r.output;
    return r.status == 0;
  }
  bool ca(const std::string& name, const std::string& subject) {
    return run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout " + name +
               ".key -out " + name + ".pem -subj '" + subject + "'");
  }
  bool leaf(const std::string& name, const std::string& subject, const std::string& issuer, const std::string& ext) {
    return run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " +
               name + ".csr -subj '" + subject + "'") &&
           run("openssl x509 -req -in " + name + ".csr -CA " + issuer + ".pem -CAkey " + issuer +
               ".key -CAcreateserial -days 2 -extfile " + ext + " -out " + name + ".pem");
  }
  // `openssl x509 -fingerprint -sha256` as lower-case hex without colons.
  std::string fingerprint(const std::string& name) {
    const auto r = runCommand("openssl x509 -noout -fingerprint -sha256 -in " + path(name + ".pem"));
    std::string hex;
    for (char c : r.output.substr(r.output.find('=') + 1)) {
      if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(c));
    }
    return hex;
  }
};

TEST_F(GatewayAuthTest, AClientCertificateFromTheOperatorsCaMakesAnOperatorOthersDoNot) {
  if (!haveOpenssl()) GTEST_SKIP() << "openssl(1) is not installed";
  Pki pki(dir_ / "pki");
  ASSERT_TRUE(pki.ok) << pki.why;
  writeFile(dir_ / "gateway.yaml", "tls:\n  cert: " + pki.path("server.pem") + "\n  key: " + pki.path("server.key") +
                                       "\n  client_ca: " + pki.path("ca.pem") + "\n");
  start([&](GatewayServerOptions& o) {
    o.config_file = dir_ / "gateway.yaml";
    o.operator_socket = "none";
  });
  const std::string url = "https://" + tcp_;
  auto with = [&](const std::string& cert) {
    OperatorClient::Options options;
    options.deadline = std::chrono::milliseconds(5000);
    options.channel.ca_file = pki.path("ca.pem");
    if (!cert.empty()) {
      options.channel.client_cert = pki.path(cert + ".pem");
      options.channel.client_key = pki.path(cert + ".key");
    }
    auto c = OperatorClient::create(url, options);
    EXPECT_TRUE(c.ok()) << c.error().toString();
    return std::move(*c);
  };

  auto alice = with("alice");
  auto listed = alice.listSessions();
  ASSERT_TRUE(listed.ok()) << listed.error().toString();
  ASSERT_TRUE(alice.setSetting("ocsf_json_enabled", "true", {.global = true}).ok());
  EXPECT_TRUE(ocsfJsonGloballyOn());

  auto anonymous = with("");
  auto refused = anonymous.listSessions();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnauthenticated) << refused.error().toString();

  auto mallory = with("mallory");  // a certificate the operators' CA did not sign: no handshake
  auto no_tls = mallory.listSessions();
  ASSERT_FALSE(no_tls.ok());
  EXPECT_EQ(no_tls.error().code(), Code::kUnavailable) << no_tls.error().toString();

  // Sessions keep their tokens over the same TLS port, without a client certificate.
  {
    auto channel = grpc::CreateChannel(tcp_, grpc::SslCredentials({.pem_root_certs = readFile(pki.path("ca.pem"))}));
    auto stub = v1::Gateway::NewStub(channel);
    grpc::ClientContext ctx;
    v1::RegisterSessionRequest req;
    req.set_id("tls-session");
    v1::RegisterSessionResponse resp;
    ASSERT_TRUE(stub->RegisterSession(&ctx, req, &resp).ok());
    grpc::ClientContext pctx;
    pctx.AddMetadata("authorization", "Bearer " + resp.token());
    v1::GetSandboxPolicyRequest preq;
    preq.set_session_id("tls-session");
    v1::GetSandboxPolicyResponse presp;
    EXPECT_TRUE(stub->GetSandboxPolicy(&pctx, preq, &presp).ok());
  }

  const std::string recorded = waitForApiEvent({"ALLOWED", "CN=alice", "-> SetSetting [auth:cert from:127.0.0.1:"});
  ASSERT_NE(recorded, "") << allApiShorthand();
  bool fingerprint_recorded = false;
  for (const auto& e : apiEvents()) {
    if (e.shorthand.find("CN=alice") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(e.json);
    const auto& credential = j["actor"]["user"]["programmatic_credentials"][0];
    fingerprint_recorded = credential["type"] == "x509 certificate" && credential["uid"] == "sha256:" + pki.fingerprint("alice");
  }
  EXPECT_TRUE(fingerprint_recorded) << allApiShorthand();
  EXPECT_NE(waitForApiEvent({"DENIED anonymous -> ListSessions [auth:none from:127.0.0.1:"}), "") << allApiShorthand();
}

// ---- TCP: operator tokens ---------------------------------------------------------------------------

TEST_F(GatewayAuthTest, AnOperatorTokenIsAcceptedOnlyItsIdIsEverRecorded) {
  const std::string secret = "4f2d0c1b9a8e7f6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a2918070605";
  const auto tokens = dir_ / "operator-tokens";
  writeFile(tokens, "# operators\nops-1 " + secret + "\n");
  ASSERT_EQ(::chmod(tokens.c_str(), 0600), 0);
  start([&](GatewayServerOptions& o) {
    o.operator_tokens = tokens;
    o.operator_socket = "none";
  });
  OperatorClient::Options options;
  options.token = secret;
  auto op = OperatorClient::create(tcp_, options);
  ASSERT_TRUE(op.ok());
  ASSERT_TRUE(op->listSessions().ok());
  ASSERT_TRUE(op->setSetting("ocsf_json_enabled", "true", {.global = true}).ok());

  OperatorClient::Options wrong_options;
  wrong_options.token = std::string(secret.rbegin(), secret.rend());
  auto wrong = OperatorClient::create(tcp_, wrong_options);
  ASSERT_TRUE(wrong.ok());
  auto refused = wrong->listSessions();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnauthenticated);

  // The CLI reads the same file (ID TOKEN) with --token-file.
  const auto cli = runCommand("WARDEN_GATEWAY= " + wardenBinary().string() + " settings get ocsf_json_enabled --gateway " +
                              tcp_ + " --token-file " + tokens.string());
  EXPECT_EQ(cli.status, 0) << cli.output;
  EXPECT_THAT(cli.output, HasSubstr("ocsf_json_enabled = true"));

  EXPECT_NE(waitForApiEvent({"API:UPDATE [INFO] ALLOWED ops-1 -> SetSetting [auth:token from:127.0.0.1:"}), "")
      << allApiShorthand();
  EXPECT_NE(waitForApiEvent({"DENIED anonymous -> ListSessions [auth:none", "[reason:the token is not valid"}), "")
      << allApiShorthand();
  // The token is nowhere: not in any stored event, not in the trail's files.
  for (const auto& e : apiEvents()) {
    EXPECT_EQ(e.json.find(secret), std::string::npos) << e.json;
    EXPECT_EQ(e.shorthand.find(secret), std::string::npos) << e.shorthand;
  }
  const auto trail_files = runCommand("grep -rl " + secret + " " + server_->gatewayLogDir().string());
  EXPECT_NE(trail_files.status, 0) << "the token appears in " << trail_files.output;
}

TEST_F(GatewayAuthTest, ATokenFileOthersMayReadIsRefusedAtStart) {
  const auto tokens = dir_ / "operator-tokens";
  writeFile(tokens, "ops-1 4f2d0c1b9a8e7f6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a2918070605\n");
  ASSERT_EQ(::chmod(tokens.c_str(), 0644), 0);
  GatewayServerOptions o;
  o.listen = "127.0.0.1:0";
  o.db = "sqlite://" + (dir_ / "gateway.db").string();
  o.log_dir = dir_ / "trail";
  o.operator_socket = "none";
  o.operator_tokens = tokens;
  auto s = GatewayServer::start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kPermissionDenied);
  EXPECT_THAT(s.error().message(), HasSubstr("chmod 600"));
}

}  // namespace
}  // namespace warden::gateway
