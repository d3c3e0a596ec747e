// `warden audit generate` end to end: the stream it writes validates against the official schema,
// verifies with the key it prints, covers every event kind, and honours --producers and --rate.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "support/test_env.h"

namespace warden::testing {
namespace {

std::string warden() { return wardenBinary().string(); }

TEST(AuditGenerateTest, WritesAValidVerifiableSessionCoveringEveryKind) {
  TempDir tmp;
  const auto dir = tmp / "logs";
  const auto gen = runCommand(warden() + " audit generate --events 2500 --log-dir " + dir.string() +
                              " --ocsf-json --producers 2");
  ASSERT_EQ(gen.status, 0) << gen.output;
  // Every event is accounted for: written, or a repeat of the same denial counted into a summary.
  unsigned long written = 0, coalesced = 0, summaries = 0;
  const auto counts = gen.output.find("events (");
  ASSERT_NE(counts, std::string::npos) << gen.output;
  ASSERT_EQ(std::sscanf(gen.output.c_str() + counts, "events (%lu written, 0 shed, %lu coalesced into %lu summaries)",
                        &written, &coalesced, &summaries),
            3)
      << gen.output;
  EXPECT_EQ(written + coalesced, 2500u) << gen.output;
  EXPECT_EQ(summaries > 0, coalesced > 0) << gen.output;

  const auto validate = runCommand(warden() + " ocsf validate " + (dir / "warden-ocsf.log").string());
  EXPECT_EQ(validate.status, 0) << validate.output.substr(0, 2000);

  const auto verify =
      runCommand(warden() + " audit verify " + dir.string() + " --key " + (dir / "signing-key.pub").string());
  EXPECT_EQ(verify.status, 0) << verify.output;
  EXPECT_EQ(verify.output.rfind("ok:", 0), 0u) << verify.output;

  // Every shorthand family of events.md appears in warden.log.
  const std::string log = readFile(dir / "warden.log");
  std::set<std::string> seen;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(" OCSF ");
    if (at == std::string::npos) continue;
    seen.insert(line.substr(at + 6, line.find(':', at + 6) - at - 6));
  }
  for (const char* kind : {"NET", "HTTP", "DNS", "SSH", "PROC", "FILE", "FINDING", "CONFIG", "LIFECYCLE", "SESSION",
                           "PKG", "TOOL", "LIMIT", "LOG", "EVENT"}) {
    EXPECT_TRUE(seen.count(kind)) << "no " << kind << " line in warden.log";
  }
}

TEST(AuditGenerateTest, WithoutOcsfJsonWritesOnlyTheShorthandLog) {
  TempDir tmp;
  const auto dir = tmp / "logs";
  const auto gen = runCommand(warden() + " audit generate --events 100 --log-dir " + dir.string());
  ASSERT_EQ(gen.status, 0) << gen.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "warden.log"));
  EXPECT_FALSE(std::filesystem::exists(dir / "warden-ocsf.log"));
}

TEST(AuditGenerateTest, RateLimitsTheStream) {
  TempDir tmp;
  const auto start = std::chrono::steady_clock::now();
  const auto gen = runCommand(warden() + " audit generate --events 200 --rate 1000 --log-dir " + (tmp / "l").string());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(gen.status, 0) << gen.output;
  // 200 events at 1000/s cannot finish in less than ~199 ms.
  EXPECT_GE(took, std::chrono::milliseconds(190));
}

TEST(AuditGenerateTest, RejectsBadArgumentsAsUsageErrors) {
  TempDir tmp;
  EXPECT_EQ(runCommand(warden() + " audit generate --log-dir " + (tmp / "l").string()).status, 2);
  EXPECT_EQ(runCommand(warden() + " audit generate --events 0 --log-dir " + (tmp / "l").string()).status, 2);
  EXPECT_EQ(runCommand(warden() + " audit generate --events 10 --producers 0 --log-dir " + (tmp / "l").string()).status,
            2);
}

}  // namespace
}  // namespace warden::testing
