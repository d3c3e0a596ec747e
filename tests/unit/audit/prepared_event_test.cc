#include "audit/prepared_event.h"

#include <gtest/gtest.h>

#include <string>

#include "audit/chain.h"
#include "audit/log_events.h"
#include "audit_test_util.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"

namespace warden::audit {
namespace {

using testutil::kNoon;
using testutil::testSession;

Digest someDigest(uint8_t seed) {
  Digest d;
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(seed * 31 + i * 7);
  return d;
}

// The writer's splice must give exactly the bytes the formatter gives for the sequenced event:
// the chain and the verifier depend on it. Every event kind, sequences of every width.
TEST(PreparedEventTest, SplicedJsonIsExactlyTheFormattersBytesForEveryEventKind) {
  ManualClock clock(kNoon);
  const auto session = testSession();
  auto samples = ocsf::sampleOfEveryEvent(session, kNoon);
  samples.push_back(logStartEvent(session, kNoon, std::string(64, 'b'), "0123456789abcdef"));
  samples.push_back(testutil::testEvent(kNoon, "no unmapped at all"));
  ASSERT_GT(samples.size(), 20u);
  const uint64_t sequences[] = {1, 9, 10, 99999, 1000000, 18446744073709551615ull};
  for (size_t i = 0; i < samples.size(); ++i) {
    ocsf::Event event = samples[i];
    PreparedEvent p;
    prepareEvent(p, event, session, clock);
    for (const uint64_t seq : sequences) {
      const Digest prev = someDigest(static_cast<uint8_t>(i + seq));
      std::string spliced = "prefix";
      appendSequencedJson(spliced, p, seq, prev);
      ocsf::Event expected = event;
      expected.metadata.sequence = seq;
      expected.integrity_prev = digestHex(prev);
      EXPECT_EQ(spliced, "prefix" + ocsf::toJsonl(expected)) << "sample " << i << " seq " << seq;
    }
    EXPECT_EQ(p.line.substr(p.shorthand_at), ocsf::toShorthand(event)) << "sample " << i;
    std::string log_line;
    ocsf::appendLogLine(log_line, event);
    EXPECT_EQ(p.line, log_line);
  }
}

TEST(PreparedEventTest, FillsWhatTheProducerLeftEmptyFromTheSessionAndTheClock) {
  ManualClock clock(kNoon + 5);
  ocsf::Event e = testutil::testEvent(0, "bare");
  PreparedEvent p;
  prepareEvent(p, e, testSession(), clock);
  EXPECT_EQ(e.time, kNoon + 5);
  EXPECT_EQ(p.time, kNoon + 5);
  EXPECT_EQ(e.metadata.correlation_uid, testSession().session_id);
  EXPECT_EQ(e.metadata.uid.size(), 36u);
  ASSERT_TRUE(e.device.has_value());
  EXPECT_EQ(e.device->hostname, "host1");
  EXPECT_NE(p.json.find("\"sequence\":0"), std::string::npos) << p.json;
}

TEST(PreparedEventTest, ANewlineThatReachesTheLogLineIsEscapedSoItStaysOneLine) {
  ManualClock clock(kNoon);
  ocsf::Event e = testutil::testEvent(kNoon, "a");
  e.unmapped.set("k\nfake", "v");  // a key: keys are escaped too, but the line must hold whatever happens
  PreparedEvent p;
  prepareEvent(p, e, testSession(), clock);
  EXPECT_EQ(p.line.find('\n'), std::string::npos) << p.line;
}

}  // namespace
}  // namespace warden::audit
