// extractFacts()'s streaming scanner against the reference (a full parse, then lookups): the same
// answer for every event the builders produce and for hostile shapes of JSON a session could push.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/store/store.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"
#include "support/facts_reference.h"

namespace warden::gateway {
namespace {

StoredEvent fromJson(std::string json, std::string kind = "") {
  StoredEvent e;
  e.json = std::move(json);
  e.kind = std::move(kind);
  return e;
}

void expectSameAsReference(const StoredEvent& in) {
  const StoredEvent fast = extractFacts(in);
  const StoredEvent reference = testing::extractFactsReference(in);
  EXPECT_TRUE(testing::sameFacts(fast, reference))
      << in.json << "\nscanner:   domain=" << fast.domain << " path=" << fast.path << " package=" << fast.package
      << " stop=" << fast.stop_reason << " class=" << fast.class_uid << " seq=" << fast.sequence
      << "\nreference: domain=" << reference.domain << " path=" << reference.path << " package=" << reference.package
      << " stop=" << reference.stop_reason << " class=" << reference.class_uid << " seq=" << reference.sequence;
}

TEST(EventFactsTest, EveryBuilderEventGivesTheReferenceFacts) {
  const auto ctx = ocsf::sampleContext();
  uint64_t seq = 0;
  size_t with_domain = 0, with_path = 0, with_package = 0, stops = 0;
  for (auto& event : ocsf::sampleOfEveryEvent(ctx)) {
    event.metadata.sequence = ++seq;
    // As pushed (kind from the shorthand) and as a bare line (kind unknown, facts from the JSON only).
    for (const std::string& kind : {std::string(ocsf::kindPrefix(event.kind)), std::string()}) {
      StoredEvent e = fromJson(ocsf::toJsonl(event), kind);
      e.shorthand = ocsf::toShorthand(event);
      expectSameAsReference(e);
    }
    const StoredEvent facts = extractFacts(fromJson(ocsf::toJsonl(event), std::string(ocsf::kindPrefix(event.kind))));
    with_domain += !facts.domain.empty();
    with_path += !facts.path.empty();
    with_package += !facts.package.empty();
    stops += facts.session_stop;
  }
  // The samples exercise every fact (a scanner that finds nothing would agree with nothing above).
  EXPECT_GT(with_domain, 5u);
  EXPECT_GT(with_path, 2u);
  EXPECT_GT(with_package, 0u);
  EXPECT_GT(stops, 0u);
}

TEST(EventFactsTest, ReadsTheFactsOfAHandWrittenEvent) {
  const StoredEvent e = extractFacts(fromJson(
      R"({"app":{"name":"warden-session"},"activity_id":4,"class_uid":6002,"metadata":{"correlation_uid":"s-1",)"
      R"("sequence":42},"severity_id":1,"status_detail":"timeout","time":1700000000123,"unmapped":{"exit_code":124}})"));
  EXPECT_EQ(e.class_uid, 6002);
  EXPECT_EQ(e.sequence, 42u);
  EXPECT_EQ(e.session_id, "s-1");
  EXPECT_EQ(e.time_ms, 1700000000123);
  EXPECT_TRUE(e.session_stop);
  EXPECT_EQ(e.stop_reason, "timeout");
  EXPECT_EQ(e.exit_code, 124);
}

TEST(EventFactsTest, AToolCallIsFoundThroughThePackageFactAsToolColonName) {
  const StoredEvent tool = extractFacts(fromJson(R"({"api":{"operation":"read_file"},"class_uid":6003})", "TOOL"));
  EXPECT_EQ(tool.package, "tool:read_file");
  const StoredEvent model = extractFacts(fromJson(R"({"api":{"operation":"messages"},"class_uid":6003})", "MODEL"));
  EXPECT_EQ(model.package, "");
  expectSameAsReference(fromJson(R"({"api":{"operation":"x","operation":7},"class_uid":6003})", "TOOL"));
  expectSameAsReference(fromJson(R"({"api":[{"operation":"x"}],"class_uid":6003})", "TOOL"));
}

TEST(EventFactsTest, HostileShapesGiveTheReferenceFacts) {
  const std::vector<std::string> lines = {
      // a repeated key: the last one wins, also when it is of another type or an empty object
      R"({"dst_endpoint":{"domain":"a.example"},"dst_endpoint":{"hostname":"b.example"}})",
      R"({"dst_endpoint":{"domain":"a.example"},"dst_endpoint":"b.example"})",
      R"({"file":{"path":"/a"},"file":{"path":7}})",
      R"({"file":{"path":"/a","path":"/b"}})",
      R"({"class_uid":4001,"class_uid":"x"})",
      R"({"class_uid":4001.5,"time":-5,"severity_id":18446744073709551615})",
      // facts in the wrong place: nested deeper, inside arrays, at the top level
      R"({"x":{"file":{"path":"/nested"}},"files":[{"path":"/in-array"}],"path":"/top"})",
      R"({"dst_endpoint":[{"domain":"in-array.example"}],"query":{"hostname":"q.example"}})",
      R"({"http_request":{"url":{"hostname":"h.example"}},"dst_endpoint":{"hostname":"d.example"}})",
      // the package: app.name counts only with unmapped.package present and unmapped an object
      R"({"app":{"name":"requests"},"unmapped":{"package":{"version":"2"}}})",
      R"({"app":{"name":"requests"},"unmapped":{"package":null},"unmapped":{}})",
      R"({"app":{"name":"requests"},"unmapped":{"package":1},"unmapped":[1]})",
      R"({"unmapped":{"package":1},"app":{"name":"requests"},"app":5})",
      R"({"app":{"name":"warden-session"},"activity_id":4,"status_detail":"exit","unmapped":{"exit_code":4294967296}})",
      R"({"app":{"name":"warden-session"},"activity_id":4,"unmapped":{"exit_code":-2147483648}})",
      R"({"app":{"name":"warden-session"},"activity_id":4,"unmapped":{"exit_code":18446744073709551615}})",
      R"({"app":{"name":"warden-session"},"activity_id":4,"unmapped":{"exit_code":3},"unmapped":{"x":1}})",
      // not an object, not JSON, trailing bytes, invalid UTF-8, deep nesting
      R"([{"class_uid":1}])", R"("text")", "", "{", R"({"class_uid":1} x)", "{\"file\":{\"path\":\"\xff\"}}",
      std::string(2000, '[') + std::string(2000, ']'),
      "{\"a\":" + std::string(500, '{') + std::string(500, '}') + ",\"class_uid\":3}",
  };
  for (const auto& line : lines) {
    for (const char* kind : {"", "PKG", "SESSION", "NET"}) expectSameAsReference(fromJson(line, kind));
  }
}

TEST(EventFactsTest, FactsTheCallerGaveAreKept) {
  StoredEvent in = fromJson(R"({"class_uid":4001,"dst_endpoint":{"domain":"json.example"},"metadata":{"sequence":9}})");
  in.domain = "given.example";
  in.sequence = 3;
  in.class_uid = 1;
  const StoredEvent out = extractFacts(in);
  EXPECT_EQ(out.domain, "given.example");
  EXPECT_EQ(out.sequence, 3u);
  EXPECT_EQ(out.class_uid, 1);
  expectSameAsReference(in);
}

}  // namespace
}  // namespace warden::gateway
