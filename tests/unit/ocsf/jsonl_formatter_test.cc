#include "ocsf/jsonl_formatter.h"

#include <gtest/gtest.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "ocsf/json_writer.h"

namespace warden::ocsf {
namespace {

// A Network Activity event with every object the formatter writes for NET.
Event netEvent() {
  Event e;
  e.kind = Kind::kNet;
  e.class_uid = ClassUid::kNetworkActivity;
  e.activity_id = 1;
  e.time = 1763900000123;
  e.severity = Severity::kInformational;
  e.metadata.profiles = kProfileHost | kProfileContainer | kProfileNetworkProxy | kProfileSecurityControl;
  e.metadata.uid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  e.metadata.correlation_uid = "sess-1";
  e.metadata.sequence = 7;
  e.device = Device{.hostname = "host1", .container = Container{.name = "agent-7", .uid = "sess-1"}};
  e.actor = Process{.name = "python3", .pid = 42, .uid = 1000};
  e.dst_endpoint = Endpoint{.hostname = "api.example.com", .port = 443};
  e.proxy_endpoint = Endpoint{.ip = "10.200.0.1", .port = 3128};
  e.connection_info = ConnectionInfo{.protocol_name = "tcp"};
  e.action = Action::kAllowed;
  e.disposition = Disposition::kAllowed;
  e.firewall_rule = FirewallRule{.name = "python_deps", .type = "policy"};
  e.observation_point = ObservationPoint::kDestination;
  e.is_src_dst_assignment_known = true;
  e.integrity_prev = std::string(64, 'a');
  e.unmapped.set("zeta", "z");
  e.unmapped.set("argv", Value(Value::Array{"a", "b"}));
  return e;
}

// True when every object in `j` (recursively) lists its keys in byte order.
bool keysSorted(const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    std::string prev;
    bool first = true;
    for (const auto& [k, v] : j.items()) {
      if (!first && !(prev < k)) return false;
      first = false;
      prev = k;
      if (!keysSorted(v)) return false;
    }
  } else if (j.is_array()) {
    for (const auto& v : j) {
      if (!keysSorted(v)) return false;
    }
  }
  return true;
}

TEST(JsonlFormatterTest, WritesKeysInByteOrderAtEveryDepth) {
  const std::string line = toJsonl(netEvent());
  const auto j = nlohmann::ordered_json::parse(line);
  EXPECT_TRUE(keysSorted(j)) << line;
  EXPECT_EQ(j["type_uid"], 400101);
  EXPECT_EQ(j["type_name"], "Network Activity: Open");
  EXPECT_EQ(j["category_uid"], 4);
  EXPECT_EQ(j["metadata"]["sequence"], 7);
  EXPECT_EQ(j["metadata"]["version"], "1.7.0");
  EXPECT_EQ(j["unmapped"]["integrity"]["prev"], std::string(64, 'a'));
  EXPECT_EQ(j["unmapped"]["zeta"], "z");
  EXPECT_EQ(j["actor"]["process"]["user"]["uid"], "1000");
}

TEST(JsonlFormatterTest, IsCompactWithNoNullsOrEmptyContainers) {
  Event e = netEvent();
  e.unmapped.set("empty", Value::object());
  e.unmapped.set("nothing", Value());
  e.answers.clear();
  const std::string line = toJsonl(e);
  // Compact re-serialisation in parse order reproduces the line: no whitespace, plain numbers.
  EXPECT_EQ(nlohmann::ordered_json::parse(line).dump(), line);
  EXPECT_EQ(line.find("null"), std::string::npos);
  EXPECT_EQ(line.find("{}"), std::string::npos);
  EXPECT_EQ(line.find("[]"), std::string::npos);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(JsonlFormatterTest, IsDeterministic) { EXPECT_EQ(toJsonl(netEvent()), toJsonl(netEvent())); }

TEST(JsonStringTest, EscapesMinimallyAndControlsAsUnicode) {
  std::string out;
  appendJsonString(out, std::string("a\"b\\c\nd\x01\x1f\x7f/]", 12));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\u000ad\\u0001\\u001f\x7f/]\"");
}

TEST(JsonStringTest, EscapesNulInsideStrings) {
  std::string out;
  appendJsonString(out, std::string("x\0y", 3));
  EXPECT_EQ(out, "\"x\\u0000y\"");
}

TEST(JsonStringTest, ReplacesInvalidUtf8WithReplacementCharacter) {
  std::string out;
  appendJsonString(out, "ok\xc3\xa9 bad\xff\xc0\xaf end\xe2\x82");
  EXPECT_EQ(out, "\"ok\xc3\xa9 bad\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded());
}

TEST(JsonStringTest, KeepsAMegabyteStringIntact) {
  const std::string big(1 << 20, 'x');
  Event e = netEvent();
  e.message = big;
  const auto j = nlohmann::json::parse(toJsonl(e));
  EXPECT_EQ(j["message"].get<std::string>().size(), big.size());
}

// Byte-at-a-time reference for ASCII input: what appendJsonString must produce.
std::string referenceEscape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out.push_back(static_cast<char>(c));
  }
  return out + "\"";
}

TEST(JsonStringTest, WordAtATimeScanFindsEverySpecialByteAtEveryPosition) {
  for (const char special : {'"', '\\', '\n', '\0', '\x1f', '\x01'}) {
    for (size_t len = 1; len <= 40; ++len) {
      for (size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s[at] = special;
        std::string out;
        appendJsonString(out, s);
        ASSERT_EQ(out, referenceEscape(s)) << "len " << len << " at " << at << " byte " << int(special);
      }
    }
  }
  // A high byte anywhere (here a valid two-byte sequence) leaves the fast path correctly.
  std::string s(20, 'a');
  s.replace(9, 2, "\xc3\xa9");
  std::string out;
  appendJsonString(out, s);
  EXPECT_EQ(out, "\"" + s + "\"");
}

TEST(ValueTest, ObjectKeysStaySortedAndLastWriteWins) {
  Value v;
  v.set("b", 1);
  v.set("a", 2);
  v.set("b", 3);
  ASSERT_EQ(v.asObject().size(), 2u);
  EXPECT_EQ(v.asObject()[0].first, "a");
  EXPECT_EQ(v.find("b")->asInt(), 3);
  EXPECT_EQ(v.findPath({"a"})->asInt(), 2);
  EXPECT_EQ(v.findPath({"a", "x"}), nullptr);
}

}  // namespace
}  // namespace warden::ocsf
