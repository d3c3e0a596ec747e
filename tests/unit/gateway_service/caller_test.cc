// identifyCaller: who an RPC's caller is, from what the transport and the metadata say.

#include "gateway/service/caller.h"

#include <gtest/gtest.h>

#include "gateway/service/operator_tokens.h"

namespace warden::gateway {
namespace {

constexpr const char* kOperatorToken = "0123456789abcdef0123456789abcdef-ops";

OperatorTokens tokens() {
  auto t = OperatorTokens::parse(std::string("ops-1 ") + kOperatorToken + "\n", "tokens");
  EXPECT_TRUE(t.ok()) << t.error().toString();
  return std::move(*t);
}

// Session tokens: "sess-token" belongs to session s1; every other token to none.
Result<std::optional<std::string>> sessionOf(std::string_view token) {
  if (token == "sess-token") return std::optional<std::string>("s1");
  return std::optional<std::string>();
}

CallInfo call(std::string peer, std::optional<std::string> authorization = std::nullopt) {
  CallInfo c;
  c.peer = std::move(peer);
  c.authorization = std::move(authorization);
  return c;
}

TEST(IdentifyCaller, WithoutCredentialsEvenLoopbackIsAnonymousAndNoOperator) {
  const OperatorTokens t = tokens();
  OperatorAccess access{.tokens = &t};
  for (const char* peer : {"ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "ipv4:10.0.0.7:5000", "unix:/x.sock"}) {
    auto c = identifyCaller(call(peer), access, sessionOf);
    ASSERT_TRUE(c.ok()) << peer;
    EXPECT_EQ(c->kind, Caller::Kind::kAnonymous) << peer;
    EXPECT_FALSE(c->is_operator) << peer;
    EXPECT_NE(c->not_operator.find("operator socket"), std::string::npos) << c->not_operator;
  }
}

TEST(IdentifyCaller, AnOperatorTokenIsAcceptedOverTlsOrFromThisHostOnly) {
  const OperatorTokens t = tokens();
  OperatorAccess access{.tokens = &t};
  const std::string bearer = std::string("Bearer ") + kOperatorToken;
  auto local = identifyCaller(call("ipv4:127.0.0.1:5000", bearer), access, sessionOf);
  ASSERT_TRUE(local.ok()) << local.error().toString();
  EXPECT_EQ(local->kind, Caller::Kind::kOperatorToken);
  EXPECT_TRUE(local->is_operator);
  EXPECT_EQ(local->name, "ops-1");
  EXPECT_EQ(local->credential_type, "operator token");
  EXPECT_EQ(local->credential_uid, "ops-1");

  auto plain_remote = identifyCaller(call("ipv4:10.0.0.7:5000", bearer), access, sessionOf);
  ASSERT_FALSE(plain_remote.ok());
  EXPECT_EQ(plain_remote.error().code(), Code::kUnauthenticated);
  EXPECT_NE(plain_remote.error().message().find("only over TLS"), std::string::npos);

  CallInfo tls_remote = call("ipv4:10.0.0.7:5000", bearer);
  tls_remote.tls = true;
  auto over_tls = identifyCaller(tls_remote, access, sessionOf);
  ASSERT_TRUE(over_tls.ok());
  EXPECT_TRUE(over_tls->is_operator);
}

TEST(IdentifyCaller, ASessionTokenNamesItsSessionAndAnUnknownTokenIsRefused) {
  const OperatorTokens t = tokens();
  OperatorAccess access{.tokens = &t};
  auto s = identifyCaller(call("ipv4:10.0.0.7:5000", "Bearer sess-token"), access, sessionOf);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, Caller::Kind::kSession);
  EXPECT_EQ(s->session, "s1");
  EXPECT_FALSE(s->is_operator);
  auto unknown = identifyCaller(call("ipv4:10.0.0.7:5000", "Bearer not-a-token"), access, sessionOf);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), Code::kUnauthenticated);
  auto malformed = identifyCaller(call("ipv4:10.0.0.7:5000", "Basic dXNlcjpwYXNz"), access, sessionOf);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code(), Code::kUnauthenticated);
  // No operator tokens configured: the operator's token is just an unknown token.
  auto none = identifyCaller(call("ipv4:127.0.0.1:5000", std::string("Bearer ") + kOperatorToken), {}, sessionOf);
  ASSERT_FALSE(none.ok());
}

TEST(IdentifyCaller, AClientCertificateCountsOnlyWhenTheGatewayVerifiesThem) {
  CallInfo c = call("ipv4:10.0.0.7:5000");
  c.tls = true;
  c.certificate_subject = "CN=alice,O=ops";
  auto unverified = identifyCaller(c, OperatorAccess{}, sessionOf);
  ASSERT_TRUE(unverified.ok());
  EXPECT_FALSE(unverified->is_operator) << "no client CA configured: a certificate proves nothing";
  auto verified = identifyCaller(c, OperatorAccess{.client_certificates = true}, sessionOf);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->kind, Caller::Kind::kCertificate);
  EXPECT_TRUE(verified->is_operator);
  EXPECT_EQ(verified->name, "CN=alice,O=ops");
  const ocsf::ApiCaller api = verified->toApiCaller();
  EXPECT_EQ(api.auth, "cert");
  EXPECT_EQ(api.src.ip, "10.0.0.7");
  EXPECT_EQ(api.src.port, 5000);
}

TEST(EndpointOfPeer, ReadsGrpcPeerStrings) {
  EXPECT_EQ(endpointOfPeer("ipv4:127.0.0.1:443").ip, "127.0.0.1");
  EXPECT_EQ(endpointOfPeer("ipv4:127.0.0.1:443").port, 443);
  EXPECT_EQ(endpointOfPeer("ipv6:[::1]:7443").ip, "::1");
  EXPECT_EQ(endpointOfPeer("ipv6:%5B::1%5D:7443").ip, "::1");
  EXPECT_EQ(endpointOfPeer("ipv6:%5B::1%5D:7443").port, 7443);
  EXPECT_TRUE(endpointOfPeer("fd:300").ip.empty());
  EXPECT_TRUE(endpointOfPeer("unix:/run/x.sock").ip.empty());
  EXPECT_TRUE(endpointOfPeer("ipv4:not-an-ip:1").ip.empty());
  EXPECT_TRUE(endpointOfPeer("ipv4:1.2.3.4:99999").ip.empty());
}

}  // namespace
}  // namespace warden::gateway
