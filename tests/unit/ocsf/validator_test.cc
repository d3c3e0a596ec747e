// The validator, one event per check: each test is named after the check's code (the official
// validator's, ocsf-server lib/schema/validator2.ex, or Warden's own) and asserts the exact
// diagnostic: code, path and severity. Checks the OCSF 1.7.0 schema cannot trigger (schema bugs,
// super-type constraints) run against a small schema written here.

#include "ocsf/validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ocsf/embedded_schema.h"
#include "ocsf/schema.h"
#include "support/test_env.h"

namespace warden::ocsf {

// Lets gmock print problems readably.
void PrintTo(const Problem& p, std::ostream* os) {
  *os << severityName(p.severity) << " " << p.code << " " << p.path << ": " << p.message;
}

namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr auto kError = ProblemSeverity::kError;
constexpr auto kWarning = ProblemSeverity::kWarning;

// The schema is 3 MB: load it once for the whole suite.
class ValidatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = Schema::load(warden::testing::schemaPath());
    ASSERT_TRUE(loaded.ok()) << loaded.error().toString();
    schema_ = std::make_unique<Schema>(std::move(loaded).value());
  }
  static void TearDownTestSuite() { schema_.reset(); }

  static const Schema& schema() { return *schema_; }
  static std::vector<Problem> check(const json& event, ValidatorOptions options = {}) {
    return Validator(*schema_, options).validate(event);
  }
  static std::vector<Problem> checkLine(std::string_view line) {
    return Validator(*schema_).validateLine(line);
  }

  static std::unique_ptr<Schema> schema_;
};

std::unique_ptr<Schema> ValidatorTest::schema_;

// A problem with exactly this code, path and severity.
auto diag(std::string_view code, const std::string& path, ProblemSeverity severity) {
  return AllOf(Field(&Problem::code, code), Field(&Problem::path, path), Field(&Problem::severity, severity));
}

// Same, and its message contains `text`.
auto diag(std::string_view code, const std::string& path, ProblemSeverity severity, const std::string& text) {
  return AllOf(diag(code, path, severity), Field(&Problem::message, HasSubstr(text)));
}

json metadata(std::vector<std::string> profiles = {"host", "container", "network_proxy",
                                                   "security_control"}) {
  return {{"version", "1.7.0"},
          {"product", {{"name", "Warden"}, {"vendor_name", "Warden"}, {"version", "0.1.0"}}},
          {"profiles", profiles},
          {"uid", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
          {"correlation_uid", "sess-1"},
          {"sequence", 1},
          {"log_name", "warden"}};
}

json device() {
  return {{"hostname", "build-host"},
          {"type_id", 0},
          {"os", {{"name", "Linux"}, {"type_id", 200}}},
          {"container", {{"name", "agent-7"}, {"uid", "sess-1"}}}};
}

json common(int class_uid, int category_uid, int activity_id, std::vector<std::string> profiles) {
  return {{"class_uid", class_uid},
          {"category_uid", category_uid},
          {"activity_id", activity_id},
          {"type_uid", class_uid * 100 + activity_id},
          {"time", 1700000000000},
          {"severity_id", 1},
          {"metadata", metadata(std::move(profiles))},
          {"device", device()},
          {"unmapped", {{"integrity", {{"prev", std::string(64, 'a')}}}}}};
}

// NET:OPEN as Warden writes it.
json networkEvent() {
  json e = common(4001, 4, 1, {"host", "container", "network_proxy", "security_control"});
  e["activity_name"] = "Open";
  e["class_name"] = "Network Activity";
  e["category_name"] = "Network Activity";
  e["type_name"] = "Network Activity: Open";
  e["severity"] = "Informational";
  e["src_endpoint"] = {{"ip", "10.200.0.2"}, {"port", 40000}};
  e["dst_endpoint"] = {{"domain", "api.example.com"}, {"port", 443}};
  e["proxy_endpoint"] = {{"ip", "10.200.0.1"}, {"port", 3128}};
  e["connection_info"] = {{"protocol_name", "tcp"}, {"direction_id", 2}, {"direction", "Outbound"}};
  e["action_id"] = 1;
  e["disposition_id"] = 1;
  e["firewall_rule"] = {{"name", "python_deps"}, {"type", "policy"}};
  e["observation_point_id"] = 2;
  e["is_src_dst_assignment_known"] = true;
  return e;
}

// DNS:QUERY with one answer.
json dnsEvent() {
  json e = common(4003, 4, 1, {"host", "container"});
  e["query"] = {{"hostname", "wheels.example.org"}, {"type", "A"}};
  e["answers"] = json::array({{{"rdata", "203.0.113.7"}, {"type", "A"}}});
  e["rcode_id"] = 0;
  e["src_endpoint"] = {{"ip", "10.200.0.2"}};
  e["actor"] = {{"process", {{"name", "python3"}, {"pid", 42}}}};
  return e;
}

// PROC:LAUNCH.
json processEvent() {
  json e = common(1007, 1, 1, {"host", "container"});
  e["process"] = {{"name", "curl"},
                  {"pid", 88},
                  {"uid", "p-88"},
                  {"cmd_line", "curl -s https://api.github.com/zen"},
                  {"file", {{"name", "curl"}, {"path", "/usr/bin/curl"}, {"type_id", 1}}},
                  {"parent_process", {{"name", "bash"}, {"pid", 77}}}};
  e["actor"] = {{"process", {{"name", "bash"}, {"pid", 77}}}};
  e["launch_type_id"] = 1;
  e["unmapped"]["argv"] = {"curl", "-s", "https://api.github.com/zen"};
  return e;
}

// LIFECYCLE:START.
json lifecycleEvent() {
  json e = common(6002, 6, 3, {"host", "container"});
  e["app"] = {{"name", "Warden"}, {"version", "0.1.0"}};
  return e;
}

// HTTP:GET.
json httpEvent() {
  json e = common(4002, 4, 3, {"host", "container", "network_proxy", "security_control"});
  e["http_request"] = {{"http_method", "GET"},
                       {"url", {{"hostname", "api.example.com"}, {"path", "/v1"}, {"scheme", "https"}}}};
  e["dst_endpoint"] = {{"hostname", "api.example.com"}, {"port", 443}};
  e["action_id"] = 1;
  return e;
}

// ----- valid events -----

TEST_F(ValidatorTest, AcceptsMinimalEventsOfEachClassWarnsNothing) {
  EXPECT_THAT(check(networkEvent()), IsEmpty());
  EXPECT_THAT(check(dnsEvent()), IsEmpty());
  EXPECT_THAT(check(processEvent()), IsEmpty());
  EXPECT_THAT(check(lifecycleEvent()), IsEmpty());
  EXPECT_THAT(check(httpEvent()), IsEmpty());
  EXPECT_THAT(checkLine(networkEvent().dump()), IsEmpty());
}

TEST_F(ValidatorTest, AcceptsAnythingUnderUnmappedAndJsonTyped) {
  json e = networkEvent();
  e["unmapped"]["argv"] = {"curl", "-s"};
  e["unmapped"]["package"] = {{"manager", "pip"}, {"nested", {{"deeper", {1, 2.5, true, "x", nullptr}}}}};
  e["unmapped"]["not an identifier!"] = json::object({{"k", json::array({json::object({{"a", nullptr}})})}});
  e["enrichments"] = json::array({{{"name", "n"}, {"value", "v"}, {"data", {{"any", {nullptr, 1}}}}}});
  EXPECT_THAT(check(e), IsEmpty());
}

// ----- class, profiles, version, type_uid -----

TEST_F(ValidatorTest, class_uid_unknown) {
  json e = networkEvent();
  e["class_uid"] = 9999;
  EXPECT_THAT(check(e),
              ElementsAre(diag("class_uid_unknown", "$.class_uid", kError, "unknown class_uid 9999")));
}

TEST_F(ValidatorTest, class_deprecated) {
  json e = common(6004, 6, 1, {"host"});  // web_resource_access_activity, deprecated since 1.1.0
  e["web_resources"] = json::array({{{"name", "r"}}});
  e["http_request"] = {{"url", {{"hostname", "example.com"}}}};
  const auto problems = check(e);
  EXPECT_THAT(problems, Contains(diag("class_deprecated", "$", kWarning, "deprecated since 1.1.0")));
}

TEST_F(ValidatorTest, profile_unknown) {
  json e = networkEvent();
  e["metadata"]["profiles"].push_back("warp_drive");
  EXPECT_THAT(check(e), ElementsAre(diag("profile_unknown", "$.metadata.profiles[4]", kError,
                                         "unknown profile \"warp_drive\"")));
}

TEST_F(ValidatorTest, profile_not_in_class) {
  json e = networkEvent();
  e["metadata"]["profiles"].push_back("incident");  // only findings list it
  EXPECT_THAT(check(e), ElementsAre(diag("profile_not_in_class", "$.metadata.profiles[4]", kWarning,
                                         "profile 'incident' is not one class network_activity lists")));
}

TEST_F(ValidatorTest, version_earlier) {
  json e = networkEvent();
  e["metadata"]["version"] = "1.6.0";
  EXPECT_THAT(check(e), ElementsAre(diag("version_earlier", "$.metadata.version", kWarning, "\"1.6.0\"")));
}

TEST_F(ValidatorTest, version_incompatible_later) {
  json e = networkEvent();
  e["metadata"]["version"] = "1.8.0";
  EXPECT_THAT(check(e), ElementsAre(diag("version_incompatible_later", "$.metadata.version", kError)));
}

TEST_F(ValidatorTest, version_incompatible_prerelease) {
  json e = networkEvent();
  e["metadata"]["version"] = "1.7.0-rc.1";  // a prerelease sorts before its release
  EXPECT_THAT(check(e), ElementsAre(diag("version_incompatible_prerelease", "$.metadata.version", kError)));
}

TEST_F(ValidatorTest, version_incompatible_initial_development) {
  json e = networkEvent();
  e["metadata"]["version"] = "0.9.0";
  EXPECT_THAT(check(e),
              ElementsAre(diag("version_incompatible_initial_development", "$.metadata.version", kError)));
}

TEST_F(ValidatorTest, version_malformed) {
  for (const char* v : {"1.7", "1.7.00", "v1.7.0", "1.7.0-", "1.7.0\n"}) {
    json e = networkEvent();
    e["metadata"]["version"] = v;
    EXPECT_THAT(check(e), ElementsAre(diag("version_malformed", "$.metadata.version", kError))) << v;
  }
}

TEST_F(ValidatorTest, type_uid_incorrect) {
  json e = networkEvent();
  e["type_uid"] = 400102;  // Close, in the enum, but activity_id is 1
  EXPECT_THAT(check(e),
              UnorderedElementsAre(
                  diag("type_uid_incorrect", "$.type_uid", kError, "4001 * 100 + activity_id 1 = 400101"),
                  diag("attribute_enum_sibling_incorrect", "$.type_name", kWarning)));
}

// ----- attributes -----

TEST_F(ValidatorTest, attribute_unknown) {
  json e = networkEvent();
  e["container"] = {{"name", "agent-7"}};  // OCSF 1.7.0 has no top-level container
  e["device"]["os"]["flavour"] = "debian";
  EXPECT_THAT(
      check(e),
      UnorderedElementsAre(
          diag("attribute_unknown", "$.container", kError, "class network_activity does not define it"),
          diag("attribute_unknown", "$.device.os.flavour", kError, "object os does not define it")));
}

TEST_F(ValidatorTest, attribute_unknown_WhenItsProfileIsNotDeclared) {
  json e = networkEvent();
  e["metadata"]["profiles"] = {"host", "container", "security_control"};
  EXPECT_THAT(check(e),
              ElementsAre(diag("attribute_unknown", "$.proxy_endpoint", kError,
                               "belongs to profile(s) network_proxy, which the event does not declare")));
  json d = dnsEvent();
  d["metadata"]["profiles"] = {"host"};
  EXPECT_THAT(check(d), ElementsAre(diag("attribute_unknown", "$.device.container", kError, "container")));
}

TEST_F(ValidatorTest, attribute_unknown_QuotesNamesThatAreNotIdentifiers) {
  json e = networkEvent();
  e["bad\nkey"] = 1;
  const auto problems = check(e);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].code, "attribute_unknown");
  EXPECT_EQ(problems[0].path, "$[\"bad\\nkey\"]");
  EXPECT_EQ(problems[0].message.find('\n'), std::string::npos);
}

TEST_F(ValidatorTest, attribute_required_missing) {
  json e = networkEvent();
  e.erase("time");
  e["device"]["os"].erase("name");
  EXPECT_THAT(check(e), UnorderedElementsAre(diag("attribute_required_missing", "$.time", kError,
                                                  "required attribute 'time' is missing"),
                                             diag("attribute_required_missing", "$.device.os.name", kError)));
}

TEST_F(ValidatorTest, attribute_required_missing_InsideAnArrayElementAndWhenNull) {
  json e = dnsEvent();
  e["answers"].push_back({{"type", "AAAA"}});
  e["severity_id"] = nullptr;  // null is absent (and no enum value)
  EXPECT_THAT(check(e),
              UnorderedElementsAre(diag("attribute_required_missing", "$.answers[1].rdata", kError),
                                   diag("attribute_required_missing", "$.severity_id", kError, "is null"),
                                   diag("attribute_enum_value_unknown", "$.severity_id", kError)));
}

TEST_F(ValidatorTest, attribute_required_missing_ClassUid) {
  json e = networkEvent();
  e.erase("class_uid");
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_required_missing", "$.class_uid", kError)));
}

TEST_F(ValidatorTest, attribute_required_missing_OnceItsProfileIsDeclared) {
  json e = networkEvent();
  e["metadata"]["profiles"].push_back("cloud");  // `cloud` is required only under the cloud profile
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_required_missing", "$.cloud", kError,
                                         "required by profile cloud")));
}

TEST_F(ValidatorTest, attribute_recommended_missing) {
  json e = lifecycleEvent();
  EXPECT_THAT(check(e), IsEmpty());  // off by default, as officially
  const auto problems = check(e, ValidatorOptions{true});
  EXPECT_THAT(problems, Contains(diag("attribute_recommended_missing", "$.message", kWarning)));
  EXPECT_THAT(problems, Contains(diag("attribute_recommended_missing", "$.status_id", kWarning)));
  EXPECT_THAT(problems, Contains(diag("attribute_recommended_missing", "$.device.uid", kWarning)));
  for (const auto& p : problems) EXPECT_EQ(p.code, "attribute_recommended_missing") << p.path;
  // A null recommended attribute is missing, once.
  e["message"] = nullptr;
  const auto with_null = check(e, ValidatorOptions{true});
  EXPECT_EQ(std::count_if(with_null.begin(), with_null.end(), [](const Problem& p) { return p.path == "$.message"; }),
            1);
  EXPECT_EQ(with_null.size(), problems.size());
}

TEST_F(ValidatorTest, attribute_wrong_type) {
  json e = networkEvent();
  e["dst_endpoint"]["port"] = "443";
  e["time"] = 1700000000000.5;
  e["is_src_dst_assignment_known"] = "yes";
  e["device"] = json::array();
  e["src_endpoint"]["location"] = {{"lat", 52}, {"long", 13.4}, {"city", "Berlin"}};  // float_t wants a float
  EXPECT_THAT(
      check(e),
      UnorderedElementsAre(
          diag("attribute_wrong_type", "$.dst_endpoint.port", kError,
               "expected port_t (integer_t), got string_t"),
          diag("attribute_wrong_type", "$.time", kError, "expected timestamp_t (long_t), got float_t"),
          diag("attribute_wrong_type", "$.is_src_dst_assignment_known", kError, "expected boolean_t"),
          diag("attribute_wrong_type", "$.device", kError, "expected device (object), got array"),
          diag("attribute_wrong_type", "$.src_endpoint.location.lat", kError,
               "expected float_t, got integer_t")));
}

TEST_F(ValidatorTest, attribute_wrong_type_ArraysAndScalars) {
  json e = dnsEvent();
  e["answers"] = {{"rdata", "203.0.113.7"}};  // an object where an array is wanted
  e["query"] = json::array({e["query"]});     // an array where an object is wanted
  EXPECT_THAT(
      check(e),
      UnorderedElementsAre(
          diag("attribute_wrong_type", "$.answers", kError, "expected array of dns_answer, got object"),
          diag("attribute_wrong_type", "$.query", kError, "expected dns_query (object), got array")));
}

TEST_F(ValidatorTest, attribute_wrong_type_IntegerBeyondInt64) {
  json e = networkEvent();
  e["dst_endpoint"]["port"] = std::uint64_t{18446744073709551615u};
  EXPECT_THAT(check(e),
              ElementsAre(diag("attribute_wrong_type", "$.dst_endpoint.port", kError, "got long_t")));
  e = networkEvent();
  e["class_uid"] = "4001";
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_wrong_type", "$.class_uid", kError,
                                         "expected integer_t, got string_t")));
}

TEST_F(ValidatorTest, attribute_deprecated) {
  json e = processEvent();
  e["process"]["lineage"] = {"/usr/bin/bash"};  // deprecated since 1.4.0: use ancestry
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_deprecated", "$.process.lineage", kWarning,
                                         "Use the ancestry attribute")));
}

TEST_F(ValidatorTest, attribute_value_null) {
  json e = networkEvent();
  e["message"] = nullptr;
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_value_null", "$.message", kWarning)));
}

// ----- enums -----

TEST_F(ValidatorTest, attribute_enum_value_unknown) {
  json e = networkEvent();
  e["severity_id"] = 7;
  e["device"]["os"]["type_id"] = 12345;
  EXPECT_THAT(check(e),
              UnorderedElementsAre(diag("attribute_enum_value_unknown", "$.severity_id", kError,
                                        "value 7 is not defined for enum severity_id"),
                                   diag("attribute_enum_value_unknown", "$.device.os.type_id", kError)));
}

TEST_F(ValidatorTest, attribute_enum_value_unknown_StringEnumHttpMethod) {
  json e = httpEvent();
  e["http_request"]["http_method"] = "PROPFIND";
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_enum_value_unknown", "$.http_request.http_method", kError,
                                         "value \"PROPFIND\" is not defined for enum http_method")));
  e["http_request"]["http_method"] = "get";  // enums are case-sensitive
  EXPECT_THAT(check(e),
              ElementsAre(diag("attribute_enum_value_unknown", "$.http_request.http_method", kError)));
}

TEST_F(ValidatorTest, attribute_enum_value_unknown_CategoryOfAnotherClass) {
  json e = networkEvent();
  e["category_uid"] = 1;
  EXPECT_THAT(check(e), UnorderedElementsAre(diag("attribute_enum_value_unknown", "$.category_uid", kError)));
}

TEST_F(ValidatorTest, attribute_enum_value_unknown_ActivityAndItsTypeUid) {
  json e = networkEvent();
  e.erase("activity_name");
  e.erase("type_name");
  e["activity_id"] = 42;
  e["type_uid"] = 400142;
  EXPECT_THAT(check(e), UnorderedElementsAre(diag("attribute_enum_value_unknown", "$.activity_id", kError),
                                             diag("attribute_enum_value_unknown", "$.type_uid", kError)));
}

TEST_F(ValidatorTest, attribute_enum_value_deprecated) {
  json e = processEvent();
  e["process"]["user"] = {
      {"uid", "1000"},
      {"account", {{"name", "ci"}, {"type_id", 3}}}};  // AWS IAM User, deprecated since 1.6.0
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_enum_value_deprecated", "$.process.user.account.type_id",
                                         kWarning, "since 1.6.0")));
}

TEST_F(ValidatorTest, attribute_enum_sibling_incorrect) {
  json e = networkEvent();
  e["activity_name"] = "Opened";
  e["type_name"] = "Network Activity: Upgrade";
  e["connection_info"]["direction"] = "outbound";
  EXPECT_THAT(check(e),
              UnorderedElementsAre(
                  diag("attribute_enum_sibling_incorrect", "$.activity_name", kWarning, "expected \"Open\""),
                  diag("attribute_enum_sibling_incorrect", "$.type_name", kWarning,
                       "expected \"Network Activity: Open\""),
                  diag("attribute_enum_sibling_incorrect", "$.connection_info.direction", kWarning)));
}

TEST_F(ValidatorTest, attribute_enum_sibling_incorrect_TypeNameOfActivityOtherIsClassOther) {
  json e = networkEvent();
  e["activity_id"] = 99;
  e["type_uid"] = 400199;
  e["activity_name"] = "Upgrade";
  e["type_name"] = "Network Activity: Upgrade";
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_enum_sibling_incorrect", "$.type_name", kWarning,
                                         "expected \"Network Activity: Other\"")));
  e["type_name"] = "Network Activity: Other";
  EXPECT_THAT(check(e), IsEmpty());
}

TEST_F(ValidatorTest, attribute_enum_sibling_suspicious_other) {
  json e = networkEvent();
  e["activity_id"] = 99;
  e["type_uid"] = 400199;
  e["type_name"] = "Network Activity: Other";
  e["activity_name"] = "Other";  // for 99 the source's own name is expected
  EXPECT_THAT(check(e),
              ElementsAre(diag("attribute_enum_sibling_suspicious_other", "$.activity_name", kWarning)));
}

TEST_F(ValidatorTest, attribute_enum_array_value_unknown) {
  json e = dnsEvent();
  e["answers"][0]["flag_ids"] = {1, 1000};
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_enum_array_value_unknown", "$.answers[0].flag_ids[1]",
                                         kError, "value 1000 is not defined for enum flag_ids")));
}

TEST_F(ValidatorTest, attribute_enum_array_sibling_missing) {
  json e = dnsEvent();
  e["answers"][0]["flag_ids"] = {1, 2};
  e["answers"][0]["flags"] = {"Authoritative Answer"};
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_enum_array_sibling_missing", "$.answers[0].flags[1]",
                                         kError, "expected \"Truncated Response\"")));
}

TEST_F(ValidatorTest, attribute_enum_array_sibling_incorrect) {
  json e = dnsEvent();
  e["answers"][0]["flag_ids"] = {1, 99};
  e["answers"][0]["flags"] = {"Truncated Response", "whatever the source said"};  // 99 may say anything
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_enum_array_sibling_incorrect", "$.answers[0].flags[0]",
                                         kError, "expected \"Authoritative Answer\"")));
}

// ----- values against their dictionary type -----

TEST_F(ValidatorTest, attribute_value_exceeds_range) {
  json e = networkEvent();
  e["dst_endpoint"]["port"] = 70000;
  EXPECT_THAT(check(e), ElementsAre(diag("attribute_value_exceeds_range", "$.dst_endpoint.port", kError,
                                         "outside port_t's range of 0 to 65535")));
}

TEST_F(ValidatorTest, attribute_value_exceeds_max_len) {
  json e = networkEvent();
  e["src_endpoint"]["ip"] = "1111:2222:3333:4444:5555:6666:7777:8888:9";  // 41 characters
  EXPECT_THAT(check(e),
              UnorderedElementsAre(diag("attribute_value_exceeds_max_len", "$.src_endpoint.ip", kError,
                                        "length 41 exceeds ip_t's max length 40"),
                                   diag("attribute_value_regex_not_matched", "$.src_endpoint.ip", kWarning)));
}

TEST_F(ValidatorTest, attribute_value_regex_not_matched) {
  json e = networkEvent();
  e["src_endpoint"]["ip"] = "999.1.1.1";
  e["src_endpoint"]["mac"] = "00:11:22:33:44";
  e["device"]["os_machine_uuid"] = "not-a-uuid";
  e["device"]["os"]["name"] = "Linux 6.1";  // string_t: no regex
  EXPECT_THAT(check(e),
              UnorderedElementsAre(
                  diag("attribute_value_regex_not_matched", "$.src_endpoint.ip", kWarning, "regex of ip_t"),
                  diag("attribute_value_regex_not_matched", "$.src_endpoint.mac", kWarning, "regex of mac_t"),
                  diag("attribute_value_regex_not_matched", "$.device.os_machine_uuid", kWarning,
                       "regex of uuid_t")));
  // uuid_t's regex is not anchored (as in the schema): a value holding a UUID matches.
  e = networkEvent();
  e["device"]["os_machine_uuid"] = "urn:uuid:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  EXPECT_THAT(check(e), IsEmpty());
}

TEST_F(ValidatorTest, attribute_value_regex_not_matched_AcceptsWhatTheOfficialRegexesAccept) {
  json e = networkEvent();
  for (const char* ip : {"10.0.0.1", "::1", "fe80::1%eth0", "::ffff:192.0.2.1", "2001:db8::42"}) {
    e["src_endpoint"]["ip"] = ip;
    EXPECT_THAT(check(e), IsEmpty()) << ip;
  }
  e["src_endpoint"]["mac"] = "00-11-22-aa-BB-cc";
  EXPECT_THAT(check(e), IsEmpty());
}

// ----- constraints, observables -----

TEST_F(ValidatorTest, constraint_failed) {
  json e = networkEvent();
  e.erase("src_endpoint");
  e.erase("dst_endpoint");
  e["firewall_rule"] = {{"type", "policy"}};
  EXPECT_THAT(
      check(e),
      UnorderedElementsAre(
          diag("constraint_failed", "$", kError, "at least one of dst_endpoint, src_endpoint is required"),
          diag("constraint_failed", "$.firewall_rule", kError, "at least one of name, uid")));
}

TEST_F(ValidatorTest, constraint_failed_NullSatisfiesNothing) {
  json e = networkEvent();
  e.erase("src_endpoint");
  e["dst_endpoint"] = nullptr;
  EXPECT_THAT(check(e), UnorderedElementsAre(diag("constraint_failed", "$", kError),
                                             diag("attribute_value_null", "$.dst_endpoint", kWarning)));
}

TEST_F(ValidatorTest, observable_name_invalid_reference) {
  json e = networkEvent();
  e["observables"] = json::array({{{"name", "src_endpoint.ip"}, {"type_id", 2}, {"value", "10.200.0.2"}},
                                  {{"name", "src_endpoint.nope"}, {"type_id", 2}},
                                  {{"name", "unmapped.x"}, {"type_id", 0}},
                                  {{"name", "device[0].hostname"}, {"type_id", 1}}});
  EXPECT_THAT(check(e), UnorderedElementsAre(
                            diag("observable_name_invalid_reference", "$.observables[1].name", kError),
                            diag("observable_name_invalid_reference", "$.observables[2].name", kError),
                            diag("observable_name_invalid_reference", "$.observables[3].name", kError)));
  json d = dnsEvent();
  d["observables"] = json::array(
      {{{"name", "answers[0].rdata"}, {"type_id", 0}}, {{"name", "answers.rdata"}, {"type_id", 0}}});
  EXPECT_THAT(check(d), IsEmpty());
}

// ----- lines that are not events; depth -----

TEST_F(ValidatorTest, event_not_object) {
  EXPECT_THAT(check(json::array({1, 2})), ElementsAre(diag("event_not_object", "$", kError, "(got array)")));
  EXPECT_THAT(checkLine("42"), ElementsAre(diag("event_not_object", "$", kError, "(got integer_t)")));
}

TEST_F(ValidatorTest, json_invalid) {
  EXPECT_THAT(checkLine("{\"class_uid\": 4001,"),
              ElementsAre(diag("json_invalid", "$", kError, "malformed JSON at byte")));
  EXPECT_THAT(checkLine("{} {}"), ElementsAre(diag("json_invalid", "$", kError)));
  EXPECT_THAT(checkLine("{\"a\":1e999}"), ElementsAre(diag("json_invalid", "$", kError)));
  EXPECT_THAT(checkLine("{\"message\":\"\xc3\x28\"}"), ElementsAre(diag("json_invalid", "$", kError)));
}

TEST_F(ValidatorTest, json_invalid_BinaryGarbageGivesAPrintableMessage) {
  const std::string garbage("\x00\xff\xfe\x1b[2J\n\x80{\"", 10);
  const auto problems = checkLine(garbage);
  ASSERT_THAT(problems, ElementsAre(diag("json_invalid", "$", kError)));
  for (const char c : problems[0].message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f)
        << "unprintable byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST_F(ValidatorTest, line_blank) {
  EXPECT_THAT(checkLine(""), ElementsAre(diag("line_blank", "$", kError)));
  EXPECT_THAT(checkLine(" \t\r"), ElementsAre(diag("line_blank", "$", kError)));
}

TEST_F(ValidatorTest, nesting_too_deep) {
  json e = processEvent();
  json* p = &e["process"];
  for (int i = 0; i < 200; ++i) p = &((*p)["parent_process"] = {{"pid", i}});
  EXPECT_THAT(check(e), ElementsAre(Field(&Problem::code, "nesting_too_deep")));
}

TEST_F(ValidatorTest, SurvivesDeeplyNestedInput) {
  const std::string arrays = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(checkLine(arrays), ElementsAre(diag("event_not_object", "$", kError)));
  std::string deep_unmapped = networkEvent().dump();
  deep_unmapped.pop_back();  // drop the final '}'
  std::string nest;
  for (int i = 0; i < 5000; ++i) nest += "{\"a\":";
  nest += "1" + std::string(5000, '}');
  deep_unmapped += ",\"unmapped\":" + nest + "}";
  EXPECT_THAT(checkLine(deep_unmapped), IsEmpty());  // free-form: not walked, as officially
}

// ----- files -----

TEST_F(ValidatorTest, ValidatesStreamLineByLineAndCountsErrorsAndWarnings) {
  json warned = networkEvent();
  warned["activity_name"] = "Opened";
  std::stringstream in;
  in << networkEvent().dump() << "\n"
     << "not json\n"
     << "\n"
     << warned.dump() << "\n"
     << dnsEvent().dump();  // no final newline
  std::vector<std::size_t> bad;
  const auto summary =
      Validator(schema()).validateStream(in, [&](std::size_t line, const std::vector<Problem>& p) {
        EXPECT_FALSE(p.empty());
        bad.push_back(line);
      });
  ASSERT_TRUE(summary.ok()) << summary.error().toString();
  EXPECT_EQ(summary->events, 5u);
  EXPECT_EQ(summary->errors, 2u);
  EXPECT_EQ(summary->warnings, 1u);
  EXPECT_EQ(summary->lines_with_errors, 2u);
  EXPECT_EQ(summary->lines_with_warnings, 1u);
  EXPECT_EQ(bad, (std::vector<std::size_t>{2, 3, 4}));
}

TEST_F(ValidatorTest, RejectsEmptyStream) {
  std::stringstream in;
  const auto summary = Validator(schema()).validateStream(in, nullptr);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(summary.error().message(), HasSubstr("empty file"));
}

TEST_F(ValidatorTest, ReportsMissingFileAsNotFound) {
  const auto summary = Validator(schema()).validateFile("/nonexistent/warden.jsonl", nullptr);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code(), Code::kNotFound);
  EXPECT_EQ(summary.error().message(), "/nonexistent/warden.jsonl: no such file");
}

TEST_F(ValidatorTest, IsSafeToShareAcrossThreads) {
  const Validator validator(schema());
  const std::string good = networkEvent().dump();
  json bad_event = networkEvent();
  bad_event["dst_endpoint"]["port"] = "x";
  bad_event["src_endpoint"]["ip"] = "no ip";  // the regex scratch is per thread
  const std::string bad = bad_event.dump();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!validator.validateLine(good).empty()) ++failures[t];
        if (validator.validateLine(bad).size() != 2) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, (std::vector<int>{0, 0, 0, 0}));
}

// ----- checks only a schema other than 1.7.0 can trigger -----

// A small compiled schema: primitives with constraints, subtypes without their own (so the
// super type's apply), a deprecated object with an unknown constraint kind, broken types.
constexpr std::string_view kProbeSchema = R"({
  "version": "1.7.0",
  "profiles": {},
  "dictionary": {"types": {"attributes": {
    "string_t": {"max_len": 8, "regex": "^[a-z]*$", "values": ["abc", "abcdefghij", "ABC"]},
    "integer_t": {"range": [0, 100], "values": [1, 2, 500]},
    "long_t": {}, "float_t": {}, "json_t": {},
    "boolean_t": {"values": [true]},
    "word_t": {"type": "string_t"},
    "count_t": {"type": "integer_t"},
    "code_t": {"type": "string_t", "max_len": 3, "regex": "^[A-Z]+$", "values": ["AB", "ABCDE", "ab"]},
    "level_t": {"type": "integer_t", "range": [1, 5], "values": [1, 9]},
    "badre_t": {"type": "string_t", "regex": "(unclosed"},
    "odd_t": {"type": "weird_t"},
    "tag_t": {"type": "string_t", "regex": ".", "values": ["abc", "ABC", "abd"]},
    "name_t": {"type": "string_t", "regex": ".", "values": ["A", "B"]}
  }}},
  "objects": {
    "object": {"attributes": {}},
    "thing": {"@deprecated": {"message": "Use <code>other</code>.", "since": "1.2.0"},
              "attributes": {"x": {"type": "long_t"}},
              "constraints": {"sometimes": ["x"]}}
  },
  "classes": {"probe": {"uid": 9001, "category_uid": 9, "caption": "Probe", "attributes": {
    "class_uid": {"type": "long_t", "requirement": "required"},
    "word": {"type": "word_t"}, "count": {"type": "count_t"}, "code": {"type": "code_t"},
    "level": {"type": "level_t"}, "badre": {"type": "badre_t"}, "odd": {"type": "odd_t"},
    "ghost": {"type": "ghost_t"}, "flag": {"type": "boolean_t"},
    "thing": {"type": "object_t", "object_type": "thing"},
    "tags": {"type": "tag_t", "is_array": true, "sibling": "tag_names",
             "enum": {"abc": {"caption": "A"}, "ABC": {"caption": "B", "@deprecated": {"message": "no", "since": "1.1.0"}}}},
    "tag_names": {"type": "name_t", "is_array": true}
  }}}
})";

class ProbeSchemaTest : public ::testing::Test {
 protected:
  static std::vector<Problem> check(json fields) {
    static const Schema schema = [] {
      auto s = Schema::parse(kProbeSchema);
      EXPECT_TRUE(s.ok()) << s.error().toString();
      return std::move(s).value();
    }();
    fields["class_uid"] = 9001;
    return Validator(schema).validate(fields);
  }
};

TEST_F(ProbeSchemaTest, attribute_value_exceeds_super_type_range_and_not_in_super_type_values) {
  EXPECT_THAT(check({{"count", 500}}),
              ElementsAre(diag("attribute_value_exceeds_super_type_range", "$.count", kError,
                               "outside the range of 0 to 100 of integer_t")));
  EXPECT_THAT(check({{"count", 50}}),
              ElementsAre(diag("attribute_value_not_in_super_type_values", "$.count", kError)));
}

TEST_F(ProbeSchemaTest, attribute_value_exceeds_range_and_not_in_type_values_OwnConstraintsFirst) {
  EXPECT_THAT(check({{"level", 9}}), ElementsAre(diag("attribute_value_exceeds_range", "$.level", kError)));
  EXPECT_THAT(check({{"level", 3}}),
              ElementsAre(diag("attribute_value_not_in_type_values", "$.level", kError)));
  EXPECT_THAT(check({{"flag", false}}),
              ElementsAre(diag("attribute_value_not_in_type_values", "$.flag", kError)));
}

TEST_F(ProbeSchemaTest, attribute_value_exceeds_super_type_max_len_and_super_type_regex_not_matched) {
  EXPECT_THAT(check({{"word", "abcdefghij"}}),
              ElementsAre(diag("attribute_value_exceeds_super_type_max_len", "$.word", kError, "length 10")));
  EXPECT_THAT(check({{"word", "ABC"}}),
              ElementsAre(diag("attribute_value_super_type_regex_not_matched", "$.word", kWarning)));
}

TEST_F(ProbeSchemaTest, attribute_value_exceeds_max_len_CountsCharactersNotBytes) {
  EXPECT_THAT(check({{"code", "ABCDE"}}),
              ElementsAre(diag("attribute_value_exceeds_max_len", "$.code", kError)));
  EXPECT_THAT(check({{"code", "AB"}}), IsEmpty());
  EXPECT_THAT(check({{"code", "ab"}}),
              ElementsAre(diag("attribute_value_regex_not_matched", "$.code", kWarning)));
}

TEST_F(ProbeSchemaTest, schema_bug_type_regex_invalid) {
  EXPECT_THAT(check({{"badre", "abc"}}),
              ElementsAre(diag("schema_bug_type_regex_invalid", "$.badre", kError)));
}

TEST_F(ProbeSchemaTest, schema_bug_primitive_type_unknown) {
  EXPECT_THAT(check({{"odd", 1}}), ElementsAre(diag("schema_bug_primitive_type_unknown", "$.odd", kError)));
}

TEST_F(ProbeSchemaTest, schema_bug_type_missing) {
  EXPECT_THAT(check({{"ghost", 1}}), ElementsAre(diag("schema_bug_type_missing", "$.ghost", kError)));
}

TEST_F(ProbeSchemaTest, object_deprecated_and_constraint_unknown) {
  EXPECT_THAT(check({{"thing", {{"x", 1}}}}),
              UnorderedElementsAre(diag("object_deprecated", "$.thing", kWarning, "since 1.2.0: Use other."),
                                   diag("constraint_unknown", "$.thing", kError, "\"sometimes\"")));
}

TEST_F(ProbeSchemaTest, attribute_enum_array_value_deprecated_AndStringEnumsInArrays) {
  EXPECT_THAT(
      check({{"tags", {"abc", "ABC"}}, {"tag_names", {"A", "B"}}}),
      ElementsAre(diag("attribute_enum_array_value_deprecated", "$.tags[1]", kWarning, "since 1.1.0")));
  EXPECT_THAT(check({{"tags", {"abd"}}}),
              ElementsAre(diag("attribute_enum_array_value_unknown", "$.tags[0]", kError)));
}

// ----- the index -----

TEST(SchemaTest, IndexesClassesObjectsAndResolvedTypes) {
  const auto schema = Schema::load(warden::testing::schemaPath());
  ASSERT_TRUE(schema.ok()) << schema.error().toString();
  EXPECT_EQ(schema->version(), "1.7.0");
  ASSERT_TRUE(schema->parsedVersion().has_value());
  EXPECT_EQ(schema->parsedVersion()->minor, 7u);
  EXPECT_GE(schema->classCount(), 80u);

  const ClassSpec* net = schema->findClass(4001);
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->body.name, "network_activity");
  EXPECT_EQ(net->category_uid, 4);
  EXPECT_NE(net->profiles & *schema->profileBit("network_proxy"), 0u);
  EXPECT_EQ(schema->findClass(1008)->body.name, "event_log_actvity");  // sic, in OCSF 1.7.0
  EXPECT_TRUE(schema->findClass(6004)->deprecated.has_value());

  const AttributeSpec* port = schema->findObject("network_endpoint")->find("port");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->base, BaseType::kInteger);
  ASSERT_NE(port->dictionary_type, nullptr);
  ASSERT_TRUE(port->dictionary_type->range.has_value());
  EXPECT_EQ(port->dictionary_type->range->integral->second, 65535);
  EXPECT_EQ(net->body.find("time")->base, BaseType::kLong);  // timestamp_t -> long_t
  EXPECT_TRUE(net->body.find("unmapped")->object->free_form);
  EXPECT_TRUE(schema->findType("ip_t")->regex.has_value());
  EXPECT_EQ(net->body.find("type_uid")->enumeration->findInt(400199)->caption, "Network Activity: Other");
  EXPECT_EQ(net->body.find("type_uid")->sibling, "type_name");
  EXPECT_NE(schema->findObject("http_request")->find("http_method")->enumeration->findText("PATCH"), nullptr);
}

TEST(SchemaTest, LoadReportsMissingAndMalformedFiles) {
  const auto missing = Schema::load("/nonexistent/schema.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);

  EXPECT_EQ(Schema::parse("{not json").error().code(), Code::kDataLoss);
  EXPECT_EQ(Schema::parse("{\"version\":\"1.7.0\"}").error().code(), Code::kInvalidArgument);
}

TEST(SchemaTest, EmbeddedSchemaIsTheCarriedFileByteForByte) {
  EXPECT_EQ(embeddedSchemaText(), warden::testing::readFile(warden::testing::schemaPath()));
  const auto embedded = embeddedSchema();
  ASSERT_TRUE(embedded.ok()) << embedded.error().toString();
  EXPECT_EQ(embedded->version(), "1.7.0");
  EXPECT_GE(embedded->classCount(), 80u);
}

TEST(SchemaTest, LoadSchemaReadsAGivenFileAndNeverFallsBackFromIt) {
  const auto missing = loadSchema(std::filesystem::path("/nonexistent/schema.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_NE(missing.error().message().find("/nonexistent/schema.json"), std::string::npos);

  const auto given = loadSchema(warden::testing::schemaPath());
  ASSERT_TRUE(given.ok()) << given.error().toString();
  EXPECT_EQ(given->version(), "1.7.0");

  const auto fallback = loadSchema(std::nullopt);  // the embedded copy
  ASSERT_TRUE(fallback.ok()) << fallback.error().toString();
  EXPECT_EQ(fallback->classCount(), given->classCount());
}

}  // namespace
}  // namespace warden::ocsf
