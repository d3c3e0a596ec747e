#include "policy/path_readings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policy/engine.h"
#include "policy/loader.h"

namespace warden::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Policy load(const std::string& yaml) {
  Diagnostics d;
  auto p = loadPolicyText(yaml, "test.yaml", &d);
  EXPECT_TRUE(p.ok()) << d.toString();
  return p.ok() ? std::move(p).value() : Policy{};
}

const Endpoint& endpointOf(const Policy& p) { return p.network.at(0).endpoints.at(0); }

Policy withRules(const std::string& rules) {
  return load("version: 1\nnetwork:\n  r:\n    endpoints:\n      - host: api.example.com\n        ports: [443]\n"
              "        protocol: rest\n" +
              rules + "    binaries: [{path: /usr/bin/curl}]\n");
}

TEST(PathReadingsTest, APathWithNothingToCutHasOneReading) {
  EXPECT_THAT(pathReadings("/repos/a/b"), ElementsAre("/repos/a/b"));
  EXPECT_THAT(pathReadings("/"), ElementsAre("/"));
  EXPECT_THAT(pathReadings("*"), ElementsAre("*"));
  EXPECT_THAT(pathReadings("/v1.2/x"), ElementsAre("/v1.2/x"));  // a dot inside a segment is kept
}

TEST(PathReadingsTest, ParamsAreCutFromEverySegment) {
  EXPECT_THAT(pathReadings("/admin;x=1/secret"), ElementsAre("/admin;x=1/secret", "/admin/secret"));
  EXPECT_THAT(pathReadings("/a;b/c;d;e/"), ElementsAre("/a;b/c;d;e/", "/a/c/"));
  // A segment that is only parameters disappears, as canonicalisation collapses empty segments.
  EXPECT_THAT(pathReadings("/;jsessionid=1/admin"), ElementsAre("/;jsessionid=1/admin", "/admin"));
  EXPECT_THAT(pathReadings("/;x"), ElementsAre("/;x", "/"));
}

TEST(PathReadingsTest, TrailingDotsAreCutButAllDotSegmentsStay) {
  EXPECT_THAT(pathReadings("/admin./secret"), ElementsAre("/admin./secret", "/admin/secret"));
  EXPECT_THAT(pathReadings("/admin../x.."), ElementsAre("/admin../x..", "/admin/x"));
  EXPECT_THAT(pathReadings("/.../a"), ElementsAre("/.../a"));
}

TEST(PathReadingsTest, BothCutsTogetherGiveAnotherReading) {
  // Parameters first, then the dot their cut exposes: Tomcat on Windows reads "/admin/secret".
  EXPECT_THAT(pathReadings("/admin.;x/secret"), ElementsAre("/admin.;x/secret", "/admin./secret", "/admin/secret"));
}

TEST(RequestReadingsTest, ParamsInASegmentCannotPassADenyRule) {
  const Policy p = withRules("        access: full\n        deny_rules: [{method: \"*\", path: \"/admin/**\"}]\n");
  const Decision plain = decideRequest(endpointOf(p), HttpRequest{"GET", "/admin/secret", "", ""});
  EXPECT_EQ(plain.verdict, Verdict::kDeny);
  const Decision params = decideRequest(endpointOf(p), HttpRequest{"GET", "/admin;x=1/secret", "", ""});
  EXPECT_EQ(params.verdict, Verdict::kDeny);
  EXPECT_THAT(params.reason, HasSubstr("which an upstream may read as /admin/secret"));
  EXPECT_THAT(params.reason, HasSubstr("deny: * /admin/**"));
  const Decision dot = decideRequest(endpointOf(p), HttpRequest{"GET", "/admin./secret", "", ""});
  EXPECT_EQ(dot.verdict, Verdict::kDeny);
  const Decision other = decideRequest(endpointOf(p), HttpRequest{"GET", "/public;v=2/x", "", ""});
  EXPECT_EQ(other.verdict, Verdict::kAllow);
}

TEST(RequestReadingsTest, EveryReadingMustBeAllowedByTheAllowRules) {
  const Policy p = withRules("        rules:\n          - allow: {method: GET, path: \"/repos/**\"}\n");
  EXPECT_EQ(decideRequest(endpointOf(p), HttpRequest{"GET", "/repos/a;v=1", "", ""}).verdict, Verdict::kAllow);
  // Read literally the first segment is ";x"; with the parameters cut it is /admin, which no rule allows.
  const Decision cut = decideRequest(endpointOf(p), HttpRequest{"GET", "/;x/admin", "", ""});
  EXPECT_EQ(cut.verdict, Verdict::kDeny);
}

TEST(RequestReadingsTest, UpperCaseCannotPassACaseInsensitiveDeny) {
  const Policy p = withRules(
      "        access: full\n        deny_rules: [{method: \"*\", path: \"/admin/**\", case_insensitive: true}]\n");
  EXPECT_EQ(decideRequest(endpointOf(p), HttpRequest{"GET", "/ADMIN/x", "", ""}).verdict, Verdict::kDeny);
  EXPECT_EQ(decideRequest(endpointOf(p), HttpRequest{"GET", "/Admin;x/y", "", ""}).verdict, Verdict::kDeny);
  const Policy strict = withRules("        access: full\n        deny_rules: [{method: \"*\", path: \"/admin/**\"}]\n");
  // Without case_insensitive the rule means what it says: HTTP paths are case-sensitive.
  EXPECT_EQ(decideRequest(endpointOf(strict), HttpRequest{"GET", "/ADMIN/x", "", ""}).verdict, Verdict::kAllow);
}

TEST(RequestReadingsTest, AnObservedReadingIsObservedUnderAudit) {
  const Policy p = withRules(
      "        enforcement: audit\n        access: full\n        deny_rules: [{method: \"*\", path: \"/admin/**\"}]\n");
  const Decision d = decideRequest(endpointOf(p), HttpRequest{"GET", "/admin;x/secret", "", ""});
  EXPECT_EQ(d.action(), Action::kObserved);
  EXPECT_THAT(d.reason, HasSubstr("/admin/secret"));
}

}  // namespace
}  // namespace warden::policy
