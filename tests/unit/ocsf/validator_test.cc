#include "ocsf/validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  *os << p.path << ": " << p.message;
}

namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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
  static std::vector<Problem> check(const json& event) { return Validator(*schema_).validate(event); }
  static std::vector<Problem> checkLine(std::string_view line) {
    return Validator(*schema_).validateLine(line);
  }

  static std::unique_ptr<Schema> schema_;
};

std::unique_ptr<Schema> ValidatorTest::schema_;

// A problem at exactly `path` whose message contains `text`.
auto problemAt(const std::string& path, const std::string& text) {
  return AllOf(Field(&Problem::path, path), Field(&Problem::message, HasSubstr(text)));
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
  e["src_endpoint"] = {{"ip", "10.200.0.2"}, {"port", 40000}};
  e["dst_endpoint"] = {{"domain", "api.example.com"}, {"port", 443}};
  e["proxy_endpoint"] = {{"ip", "10.200.0.1"}, {"port", 3128}};
  e["connection_info"] = {{"protocol_name", "tcp"}, {"direction_id", 2}};
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

TEST_F(ValidatorTest, AcceptsMinimalNetworkActivityEvent) {
  EXPECT_THAT(check(networkEvent()), IsEmpty());
}

TEST_F(ValidatorTest, AcceptsMinimalDnsActivityEvent) {
  EXPECT_THAT(check(dnsEvent()), IsEmpty());
}

TEST_F(ValidatorTest, AcceptsMinimalProcessActivityEvent) {
  EXPECT_THAT(check(processEvent()), IsEmpty());
}

TEST_F(ValidatorTest, AcceptsMinimalApplicationLifecycleEvent) {
  EXPECT_THAT(check(lifecycleEvent()), IsEmpty());
}

TEST_F(ValidatorTest, AcceptsValidEventGivenAsJsonlLine) {
  EXPECT_THAT(checkLine(networkEvent().dump()), IsEmpty());
}

TEST_F(ValidatorTest, ReportsUnknownClass) {
  json e = networkEvent();
  e["class_uid"] = 9999;
  EXPECT_THAT(check(e), Contains(problemAt("$.class_uid", "unknown class_uid 9999")));
}

TEST_F(ValidatorTest, ReportsMissingClassUid) {
  json e = networkEvent();
  e.erase("class_uid");
  EXPECT_THAT(check(e), Contains(problemAt("$.class_uid", "missing")));
}

TEST_F(ValidatorTest, ReportsCategoryThatDoesNotMatchClass) {
  json e = networkEvent();
  e["category_uid"] = 1;
  EXPECT_THAT(check(e), Contains(problemAt("$.category_uid", "whose category_uid is 4")));
}

TEST_F(ValidatorTest, ReportsTypeUidNotDerivedFromClassAndActivity) {
  json e = networkEvent();
  e["type_uid"] = 400102;
  EXPECT_THAT(check(e), Contains(problemAt("$.type_uid", "= 400101")));
}

TEST_F(ValidatorTest, ReportsActivityIdOutsideItsEnum) {
  json e = networkEvent();
  e["activity_id"] = 42;
  e["type_uid"] = 400142;
  const auto problems = check(e);
  EXPECT_THAT(problems, Contains(problemAt("$.activity_id", "value 42 is not in the enum of activity_id")));
  EXPECT_EQ(problems.size(), 1u);
}

TEST_F(ValidatorTest, ReportsSeverityAndNestedEnumsOutsideTheirEnums) {
  json e = networkEvent();
  e["severity_id"] = 7;
  e["device"]["os"]["type_id"] = 12345;
  e["connection_info"]["direction_id"] = -1;
  const auto problems = check(e);
  EXPECT_THAT(problems, Contains(problemAt("$.severity_id", "not in the enum")));
  EXPECT_THAT(problems, Contains(problemAt("$.device.os.type_id", "not in the enum")));
  EXPECT_THAT(problems, Contains(problemAt("$.connection_info.direction_id", "not in the enum")));
}

TEST_F(ValidatorTest, ReportsEnumValueInsideAnArray) {
  json e = dnsEvent();
  e["answers"][0]["flag_ids"] = {1, 1000};
  EXPECT_THAT(check(e), Contains(problemAt("$.answers[0].flag_ids[1]", "not in the enum of flag_ids")));
}

TEST_F(ValidatorTest, ReportsMissingRequiredTopLevelAttribute) {
  json e = networkEvent();
  e.erase("time");
  EXPECT_THAT(check(e), Contains(problemAt("$.time", "required attribute 'time' is missing")));
}

TEST_F(ValidatorTest, ReportsMissingRequiredNestedAttribute) {
  json e = networkEvent();
  e["device"]["os"].erase("name");
  EXPECT_THAT(check(e), Contains(problemAt("$.device.os.name", "required attribute 'name' is missing")));
}

TEST_F(ValidatorTest, ReportsMissingRequiredAttributeInsideArrayElement) {
  json e = dnsEvent();
  e["answers"].push_back({{"type", "AAAA"}});
  EXPECT_THAT(check(e), Contains(problemAt("$.answers[1].rdata", "required attribute 'rdata' is missing")));
}

TEST_F(ValidatorTest, ReportsClassSpecificRequiredAttribute) {
  json e = processEvent();
  e.erase("process");
  EXPECT_THAT(check(e), Contains(problemAt("$.process", "missing")));
}

TEST_F(ValidatorTest, ReportsStringWhereIntegerExpected) {
  json e = networkEvent();
  e["dst_endpoint"]["port"] = "443";
  EXPECT_THAT(check(e), Contains(problemAt("$.dst_endpoint.port", "expected integer (port_t), got string")));
}

TEST_F(ValidatorTest, ReportsFloatWhereIntegerExpected) {
  json e = networkEvent();
  e["time"] = 1700000000000.5;
  EXPECT_THAT(check(e), Contains(problemAt("$.time", "expected integer (timestamp_t), got float")));
}

TEST_F(ValidatorTest, ReportsArrayWhereObjectExpected) {
  json e = networkEvent();
  e["device"] = json::array();
  EXPECT_THAT(check(e), Contains(problemAt("$.device", "expected object (device), got array")));
}

TEST_F(ValidatorTest, ReportsScalarWhereArrayExpected) {
  json e = dnsEvent();
  e["answers"] = {{"rdata", "203.0.113.7"}};
  EXPECT_THAT(check(e),
              Contains(problemAt("$.answers", "expected array of object (dns_answer), got object")));
}

TEST_F(ValidatorTest, ReportsBooleanAndStringTypeMismatches) {
  json e = networkEvent();
  e["is_src_dst_assignment_known"] = "yes";
  e["dst_endpoint"]["domain"] = 7;
  const auto problems = check(e);
  EXPECT_THAT(problems, Contains(problemAt("$.is_src_dst_assignment_known", "expected boolean")));
  EXPECT_THAT(problems,
              Contains(problemAt("$.dst_endpoint.domain", "expected string (string_t), got integer")));
}

TEST_F(ValidatorTest, ReportsPortOutsideItsRange) {
  json e = networkEvent();
  e["dst_endpoint"]["port"] = 70000;
  EXPECT_THAT(check(e), Contains(problemAt("$.dst_endpoint.port", "out of range 0..65535")));
}

TEST_F(ValidatorTest, ReportsUnknownAttributeAtTopLevel) {
  json e = networkEvent();
  e["container"] = {{"name", "agent-7"}};  // OCSF 1.7.0 has no top-level container
  EXPECT_THAT(check(e), Contains(problemAt("$.container", "unknown attribute 'container'")));
}

TEST_F(ValidatorTest, ReportsUnknownNestedAttribute) {
  json e = networkEvent();
  e["device"]["os"]["flavour"] = "debian";
  EXPECT_THAT(check(e), Contains(problemAt("$.device.os.flavour", "object os does not define it")));
}

TEST_F(ValidatorTest, QuotesAttributeNamesThatAreNotIdentifiers) {
  json e = networkEvent();
  e["bad\nkey"] = 1;
  const auto problems = check(e);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "$[\"bad\\nkey\"]");
  EXPECT_EQ(problems[0].message.find('\n'), std::string::npos);
}

TEST_F(ValidatorTest, ReportsProfileGatedAttributeWithoutItsProfile) {
  json e = networkEvent();
  e["metadata"]["profiles"] = {"host", "container", "security_control"};
  EXPECT_THAT(check(e),
              Contains(problemAt("$.proxy_endpoint",
                                 "attribute 'proxy_endpoint' belongs to profile(s) network_proxy which the "
                                 "event does not declare")));
}

TEST_F(ValidatorTest, ReportsNestedProfileGatedAttributeWithoutItsProfile) {
  json e = dnsEvent();
  e["metadata"]["profiles"] = {"host"};
  EXPECT_THAT(check(e), Contains(problemAt("$.device.container", "belongs to profile(s) container")));
}

TEST_F(ValidatorTest, ReportsSecurityControlAttributesWithoutTheProfile) {
  json e = networkEvent();
  e["metadata"]["profiles"] = {"host", "container", "network_proxy"};
  const auto problems = check(e);
  EXPECT_THAT(problems, Contains(problemAt("$.action_id", "security_control")));
  EXPECT_THAT(problems, Contains(problemAt("$.firewall_rule", "security_control")));
}

TEST_F(ValidatorTest, RequiresProfileGatedRequiredAttributeOnceProfileIsDeclared) {
  json e = networkEvent();
  EXPECT_THAT(check(e), IsEmpty());  // `cloud` is required only under the cloud profile
  e["metadata"]["profiles"].push_back("cloud");
  EXPECT_THAT(check(e), Contains(problemAt("$.cloud", "required by profile cloud")));
}

TEST_F(ValidatorTest, ReportsProfileTheClassDoesNotAllow) {
  json e = networkEvent();
  e["metadata"]["profiles"].push_back("incident");  // only findings carry it
  EXPECT_THAT(check(e), Contains(problemAt("$.metadata.profiles[4]",
                                           "profile 'incident' is not one class network_activity allows")));
}

TEST_F(ValidatorTest, ReportsUnknownProfile) {
  json e = networkEvent();
  e["metadata"]["profiles"].push_back("warp_drive");
  EXPECT_THAT(check(e), Contains(problemAt("$.metadata.profiles[4]", "unknown profile \"warp_drive\"")));
}

TEST_F(ValidatorTest, AcceptsAnythingUnderUnmapped) {
  json e = networkEvent();
  e["unmapped"]["argv"] = {"curl", "-s"};
  e["unmapped"]["package"] = {
      {"manager", "pip"}, {"sha256", "3f5a"}, {"nested", {{"deeper", {1, 2.5, true, "x"}}}}};
  e["unmapped"]["not an identifier!"] = json::object({{"k", json::array({json::object({{"a", 1}})})}});
  EXPECT_THAT(check(e), IsEmpty());
}

TEST_F(ValidatorTest, ReportsUnmappedThatIsNotAnObject) {
  json e = networkEvent();
  e["unmapped"] = "free text";
  EXPECT_THAT(check(e), Contains(problemAt("$.unmapped", "expected object (object), got string")));
}

TEST_F(ValidatorTest, ReportsNullValuesEvenUnderUnmapped) {
  json e = networkEvent();
  e["message"] = nullptr;
  e["unmapped"]["integrity"]["prev"] = nullptr;
  const auto problems = check(e);
  EXPECT_THAT(problems, Contains(problemAt("$.message", "null value")));
  EXPECT_THAT(problems, Contains(problemAt("$.unmapped.integrity.prev", "null value")));
}

TEST_F(ValidatorTest, ReportsWrongMetadataVersion) {
  json e = networkEvent();
  e["metadata"]["version"] = "1.6.0";
  EXPECT_THAT(check(e), Contains(problemAt("$.metadata.version", "expected \"1.7.0\", got \"1.6.0\"")));
}

TEST_F(ValidatorTest, ReportsClassConstraintAtLeastOneEndpoint) {
  json e = networkEvent();
  e.erase("src_endpoint");
  e.erase("dst_endpoint");
  EXPECT_THAT(check(e), Contains(problemAt("$", "at least one of dst_endpoint, src_endpoint is required")));
}

TEST_F(ValidatorTest, ReportsObjectConstraintOnNestedObject) {
  json e = networkEvent();
  e["firewall_rule"] = {{"type", "policy"}};
  EXPECT_THAT(check(e), Contains(problemAt("$.firewall_rule", "at least one of name, uid is required")));
}

TEST_F(ValidatorTest, ReportsNonObjectEvent) {
  EXPECT_THAT(check(json::array({1, 2})), Contains(problemAt("$", "not a JSON object (got array)")));
  EXPECT_THAT(checkLine("42"), Contains(problemAt("$", "not a JSON object (got integer)")));
  EXPECT_THAT(checkLine("\"text\""), Contains(problemAt("$", "not a JSON object (got string)")));
}

TEST_F(ValidatorTest, ReportsMalformedJsonInsteadOfThrowing) {
  EXPECT_THAT(checkLine("{\"class_uid\": 4001,"), Contains(problemAt("$", "malformed JSON at byte")));
  EXPECT_THAT(checkLine("{} {}"), Contains(problemAt("$", "malformed JSON")));
  EXPECT_THAT(checkLine("{\"a\":1e999}"), Contains(problemAt("$", "malformed JSON")));
}

TEST_F(ValidatorTest, ReportsBinaryGarbageAsPrintableProblem) {
  const std::string garbage("\x00\xff\xfe\x1b[2J\n\x80{\"", 10);
  const auto problems = checkLine(garbage);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "$");
  EXPECT_THAT(problems[0].message, HasSubstr("malformed JSON"));
  for (const char c : problems[0].message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f)
        << "unprintable byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST_F(ValidatorTest, ReportsInvalidUtf8InsideString) {
  EXPECT_THAT(checkLine("{\"message\":\"\xc3\x28\"}"), Contains(problemAt("$", "malformed JSON")));
}

TEST_F(ValidatorTest, ReportsBlankLine) {
  EXPECT_THAT(checkLine(""), Contains(problemAt("$", "blank line")));
  EXPECT_THAT(checkLine(" \t\r"), Contains(problemAt("$", "blank line")));
}

TEST_F(ValidatorTest, SurvivesDeeplyNestedInput) {
  const std::string arrays = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(checkLine(arrays), Contains(problemAt("$", "not a JSON object")));

  std::string deep_unmapped = networkEvent().dump();
  deep_unmapped.pop_back();  // drop the final '}'
  std::string nest;
  for (int i = 0; i < 5000; ++i) nest += "{\"a\":";
  nest += "1" + std::string(5000, '}');
  deep_unmapped += ",\"unmapped\":" + nest + "}";
  EXPECT_THAT(checkLine(deep_unmapped), Contains(Field(&Problem::message, HasSubstr("nested deeper than"))));

  json e = processEvent();
  json* p = &e["process"];
  for (int i = 0; i < 200; ++i) p = &((*p)["parent_process"] = {{"pid", i}});
  EXPECT_THAT(check(e), Contains(Field(&Problem::message, HasSubstr("nested deeper than"))));
}

TEST_F(ValidatorTest, ReportsIntegerBeyondInt64AsOutsideEnum) {
  json e = networkEvent();
  e["severity_id"] = std::uint64_t{18446744073709551615u};
  EXPECT_THAT(check(e),
              Contains(problemAt("$.severity_id", "value 18446744073709551615 is not in the enum")));
}

TEST_F(ValidatorTest, ValidatesStreamLineByLineWithLineNumbers) {
  std::stringstream in;
  in << networkEvent().dump() << "\n"
     << "not json\n"
     << "\n"
     << dnsEvent().dump();  // no final newline
  std::vector<std::size_t> bad;
  const auto summary =
      Validator(schema()).validateStream(in, [&](std::size_t line, const std::vector<Problem>& p) {
        EXPECT_FALSE(p.empty());
        bad.push_back(line);
      });
  ASSERT_TRUE(summary.ok()) << summary.error().toString();
  EXPECT_EQ(summary->events, 4u);
  EXPECT_EQ(summary->invalid, 2u);
  EXPECT_EQ(bad, (std::vector<std::size_t>{2, 3}));
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
  const std::string bad = bad_event.dump();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!validator.validateLine(good).empty()) ++failures[t];
        if (validator.validateLine(bad).size() != 1) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, (std::vector<int>{0, 0, 0, 0}));
}

TEST(SchemaTest, IndexesClassesObjectsAndResolvedTypes) {
  const auto schema = Schema::load(warden::testing::schemaPath());
  ASSERT_TRUE(schema.ok()) << schema.error().toString();
  EXPECT_EQ(schema->version(), "1.7.0");
  EXPECT_GE(schema->classCount(), 80u);

  const ClassSpec* net = schema->findClass(4001);
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->body.name, "network_activity");
  EXPECT_EQ(net->category_uid, 4);
  EXPECT_NE(net->profiles & *schema->profileBit("network_proxy"), 0u);
  EXPECT_EQ(schema->findClass(1008)->body.name, "event_log_actvity");  // sic, in OCSF 1.7.0

  const ObjectSpec* endpoint = schema->findObject("network_endpoint");
  ASSERT_NE(endpoint, nullptr);
  const AttributeSpec* port = endpoint->find("port");
  ASSERT_NE(port, nullptr);
  EXPECT_EQ(port->base, BaseType::kInteger);
  ASSERT_TRUE(port->range.has_value());
  EXPECT_EQ(port->range->second, 65535);
  EXPECT_EQ(net->body.find("time")->base, BaseType::kLong);  // timestamp_t -> long_t
  EXPECT_EQ(net->body.find("unmapped")->object->free_form, true);
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
