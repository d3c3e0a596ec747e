#include "audit/verify.h"
#include "audit/verify_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

#include "audit/chain.h"
#include "audit/signer.h"
#include "audit/verify_report.h"
#include "support/chain_log_writer.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

using ::testing::HasSubstr;
using warden::testing::ChainLogWriter;

constexpr const char* kFile = "warden-ocsf.log";

// The 10,000-event log every tamper test starts from: LOG:START (seq 1), 10,000 events with a
// checkpoint after every 1,000 events (seqs 1001, 2002, …, 10010), one more event, and the
// final checkpoint (seq 10012). Line n holds seq n. Built once; tests copy the lines.
class VerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log_ = new ChainLogWriter(warden::testing::standardLog(10000)); }
  static void TearDownTestSuite() {
    delete log_;
    log_ = nullptr;
  }

  static std::vector<std::string> lines() { return log_->lines(); }
  static const ChainLogWriter& log() { return *log_; }

  static VerifyReport verify(const std::vector<std::string>& lines, VerifyOptions options = {}) {
    return verifyText(ChainLogWriter::join(lines), kFile, options);
  }

  static std::vector<Finding> problems(const VerifyReport& r) {
    std::vector<Finding> out;
    for (const auto& f : r.findings) {
      if (isProblem(f.kind)) out.push_back(f);
    }
    return out;
  }
  static std::vector<Finding> ofKind(const VerifyReport& r, FindingKind kind) {
    std::vector<Finding> out;
    for (const auto& f : r.findings) {
      if (f.kind == kind) out.push_back(f);
    }
    return out;
  }
  static std::string describe(const VerifyReport& r) { return formatReportText(r); }

  // Changes one character of `line` outside the integrity fields (a digit of `time`).
  static void touchTime(std::string& line) {
    const size_t at = line.find("\"time\":");
    ASSERT_NE(at, std::string::npos);
    char& c = line[at + 8];
    c = c == '9' ? '8' : static_cast<char>(c + 1);
  }

  static ChainLogWriter* log_;
};

ChainLogWriter* VerifyTest::log_ = nullptr;

TEST_F(VerifyTest, CleanLogVerifiesWithEveryCheckpointSigned) {
  const VerifyReport r = verify(lines());
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(r.findings.empty()) << describe(r);
  EXPECT_EQ(r.events, 10012u);
  EXPECT_EQ(r.checkpoints, 11u);
  EXPECT_EQ(r.signed_checkpoints, 11u);
  EXPECT_EQ(r.last_sequence, 10012u);
  EXPECT_TRUE(r.final_checkpoint);
  EXPECT_EQ(r.session_id, log().sessionId());
  EXPECT_EQ(r.key_source, KeySource::kFromLog);
  EXPECT_EQ(r.key_id, log().keyId());
  EXPECT_THAT(formatReportText(r), HasSubstr("ok: 10012 events, 11 checkpoints"));
  EXPECT_THAT(formatReportText(r), HasSubstr("trust on first use"));
}

TEST_F(VerifyTest, OneCharacterChangedInLine5000IsReportedAsModifiedAtSeq5000) {
  auto l = lines();
  touchTime(l[4999]);
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kModified);
  EXPECT_EQ(p[0].sequence, 5000u);
  EXPECT_EQ(p[0].line, 5000u);
  EXPECT_EQ(p[0].file, kFile);
}

TEST_F(VerifyTest, ChangedPrevFieldIsBlamedOnThatLineNotItsPredecessor) {
  auto l = lines();
  const size_t at = l[4999].find("\"prev\":\"");
  ASSERT_NE(at, std::string::npos);
  char& c = l[4999][at + 8];
  c = c == 'a' ? 'b' : 'a';
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kModified);
  EXPECT_EQ(p[0].sequence, 5000u);
}

TEST_F(VerifyTest, RemovedLineIsReportedAsMissingSequence) {
  auto l = lines();
  l.erase(l.begin() + 4999);
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kMissing);
  EXPECT_EQ(p[0].sequence, 5000u);
  EXPECT_EQ(p[0].last_sequence, 5000u);
}

TEST_F(VerifyTest, SeveralRemovedLinesAreReportedAsOneMissingRange) {
  auto l = lines();
  l.erase(l.begin() + 4999, l.begin() + 5003);
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kMissing);
  EXPECT_EQ(p[0].sequence, 5000u);
  EXPECT_EQ(p[0].last_sequence, 5003u);
  EXPECT_THAT(p[0].message, HasSubstr("seqs 5000-5003"));
}

// Retention: seqs 2..3002 deleted except the checkpoints at 1001 and 2002 (2,999 events), as the
// gateway's LOG:DELETE records it.
VerifyOptions::Deletion retentionOf2To3002(uint64_t count = 2999) {
  VerifyOptions::Deletion d;
  d.first = 2;
  d.last = 3002;
  d.count = count;
  d.record = "LOG:DELETE seq 7 of the gateway's session g";
  return d;
}
std::vector<std::string> withoutRetained(std::vector<std::string> l) {
  std::vector<std::string> out;
  for (size_t i = 0; i < l.size(); ++i) {
    const uint64_t seq = i + 1;
    if (seq >= 2 && seq <= 3002 && seq != 1001 && seq != 2002) continue;
    out.push_back(std::move(l[i]));
  }
  return out;
}

TEST_F(VerifyTest, EventsARecordedDeletionAccountsForAreAGapAndTheKeptCheckpointsStillVerify) {
  VerifyOptions o;
  o.deletions.push_back(retentionOf2To3002());
  const VerifyReport r = verify(withoutRetained(lines()), o);
  EXPECT_TRUE(problems(r).empty()) << describe(r);
  const auto gaps = ofKind(r, FindingKind::kGap);
  ASSERT_EQ(gaps.size(), 3u) << describe(r);  // 2-1000, 1002-2001, 2003-3002
  EXPECT_THAT(gaps[0].message, HasSubstr("deleted by retention (LOG:DELETE seq 7 of the gateway's session g)"));
  EXPECT_EQ(r.checkpoints, 11u);  // 1001 .. 10010 and the final one
  EXPECT_TRUE(r.final_checkpoint);
}

TEST_F(VerifyTest, WithoutTheDeletionRecordTheSameEventsAreMissing) {
  const VerifyReport r = verify(withoutRetained(lines()));
  EXPECT_EQ(ofKind(r, FindingKind::kMissing).size(), 3u) << describe(r);
}

TEST_F(VerifyTest, MoreMissingInsideADeletedRangeThanItCountsIsAProblem) {
  VerifyOptions o;
  o.deletions.push_back(retentionOf2To3002());
  auto l = withoutRetained(lines());
  l.erase(l.begin() + 1);  // the kept checkpoint at seq 1001
  const VerifyReport r = verify(l, o);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_THAT(p[0].message, HasSubstr("3000 events are missing inside the ranges retention deleted, but its records "
                                      "account for only 2999: 1 were removed otherwise"));
}

TEST_F(VerifyTest, MissingEventsOutsideARecordedDeletionAreStillMissing) {
  VerifyOptions o;
  o.deletions.push_back(retentionOf2To3002());
  auto l = withoutRetained(lines());
  l.erase(l.begin() + 2000, l.begin() + 2003);  // three events well after the deleted range
  const VerifyReport r = verify(l, o);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kMissing);
  EXPECT_GT(p[0].sequence, 3002u);
}

TEST_F(VerifyTest, DuplicatedLineIsReportedAsInserted) {
  auto l = lines();
  l.insert(l.begin() + 5000, l[4999]);  // line 5001 repeats seq 5000
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kInserted);
  EXPECT_EQ(p[0].sequence, 5000u);
  EXPECT_EQ(p[0].line, 5001u);
}

TEST_F(VerifyTest, OldLineCopiedIntoTheMiddleIsReportedAsInserted) {
  auto l = lines();
  l.insert(l.begin() + 5000, l[9]);  // seq 10 again, after seq 5000
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kInserted);
  EXPECT_EQ(p[0].sequence, 10u);
  EXPECT_EQ(p[0].line, 5001u);
}

TEST_F(VerifyTest, ForgedLineThatChainsFromItsPredecessorIsReportedAsInserted) {
  // A fabricated seq 5001 with a correct prev, placed before the real seq 5001.
  auto l = lines();
  std::string forged = l[5000];
  touchTime(forged);
  l.insert(l.begin() + 5000, forged);
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kInserted);
  EXPECT_EQ(p[0].sequence, 5001u);
  EXPECT_EQ(p[0].line, 5001u);
}

TEST_F(VerifyTest, SwappedLinesAreReportedAsReordered) {
  auto l = lines();
  std::swap(l[4999], l[5000]);
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kReordered);
  EXPECT_EQ(p[0].sequence, 5001u);
  EXPECT_EQ(p[0].line, 5000u);
}

TEST_F(VerifyTest, LineMovedFarBackIsReportedAsReorderedNotMissing) {
  auto l = lines();
  const std::string moved = l[4999];
  l.erase(l.begin() + 4999);
  l.insert(l.begin() + 5100, moved);
  const VerifyReport r = verify(l);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kReordered);
  EXPECT_EQ(p[0].sequence, 5000u);
}

TEST_F(VerifyTest, JsonlOffWindowIsReportedAsGapAndStillPasses) {
  ChainLogWriter w("sess-gap");
  w.events(3000);
  w.setJsonl(false);
  const uint64_t off_seq = w.lastSequence();
  w.events(1500);  // sequenced and chained, including a checkpoint, but not written
  w.setJsonl(true);
  const uint64_t on_seq = w.lastSequence();
  w.events(3000);
  w.checkpoint(true);

  const VerifyReport r = verifyText(w.text(), kFile, {});
  EXPECT_TRUE(r.ok()) << describe(r);
  const auto gaps = ofKind(r, FindingKind::kGap);
  ASSERT_EQ(gaps.size(), 1u) << describe(r);
  EXPECT_EQ(gaps[0].sequence, off_seq + 1);
  EXPECT_EQ(gaps[0].last_sequence, on_seq - 1);
  EXPECT_THAT(gaps[0].message, HasSubstr("JSONL output was off"));
  EXPECT_THAT(gaps[0].message, HasSubstr("only chain-linked"));  // what it cannot prove
  EXPECT_EQ(r.signed_checkpoints, r.checkpoints);
  EXPECT_THAT(formatReportText(r), HasSubstr("warning: gap:"));
  EXPECT_THAT(formatReportText(r), HasSubstr("ok: "));
}

TEST_F(VerifyTest, SequenceJumpWithoutJsonlOffEventsIsMissingNotGap) {
  ChainLogWriter w("sess-jump");
  w.events(100);
  w.setJsonl(false);
  w.events(10);
  w.setJsonl(true);
  w.events(100);
  w.checkpoint(true);
  auto l = w.lines();
  // Remove the "enabled" event after the window: the jump is no longer explained by the record.
  const auto off = std::find_if(l.begin(), l.end(), [](const std::string& s) {
    return s.find("OCSF JSONL output disabled") != std::string::npos;
  });
  ASSERT_NE(off, l.end());
  ASSERT_THAT(*(off + 1), HasSubstr("OCSF JSONL output enabled"));
  l.erase(off + 1);
  const VerifyReport r = verify(l);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(ofKind(r, FindingKind::kGap).size(), 0u) << describe(r);
  EXPECT_EQ(ofKind(r, FindingKind::kMissing).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, TailCutAfterTheLastCheckpointIsAnUnsealedTail) {
  auto l = lines();
  l.resize(9500);  // last checkpoint at seq 9009
  const VerifyReport r = verify(l);
  EXPECT_FALSE(r.ok());
  const auto tail = ofKind(r, FindingKind::kUnsealedTail);
  ASSERT_EQ(tail.size(), 1u) << describe(r);
  EXPECT_EQ(tail[0].sequence, 9010u);
  EXPECT_EQ(tail[0].last_sequence, 9500u);
  EXPECT_THAT(tail[0].message, HasSubstr("still running or the log was truncated"));
  EXPECT_EQ(ofKind(r, FindingKind::kNoFinalCheckpoint).size(), 1u);
  EXPECT_EQ(problems(r).size(), 2u) << describe(r);
}

TEST_F(VerifyTest, RemovedFinalCheckpointIsReportedAsNoFinalCheckpoint) {
  auto l = lines();
  l.pop_back();
  const VerifyReport r = verify(l);
  EXPECT_FALSE(r.ok());
  const auto nf = ofKind(r, FindingKind::kNoFinalCheckpoint);
  ASSERT_EQ(nf.size(), 1u) << describe(r);
  EXPECT_EQ(nf[0].sequence, 10011u);
  EXPECT_THAT(nf[0].message, HasSubstr("still running or the log was truncated"));
  EXPECT_FALSE(r.final_checkpoint);
}

TEST_F(VerifyTest, LogEndingOnARegularCheckpointHasNoUnsealedTail) {
  auto l = lines();
  l.resize(10010);  // ends with the checkpoint at seq 10010
  const VerifyReport r = verify(l);
  EXPECT_EQ(ofKind(r, FindingKind::kUnsealedTail).size(), 0u) << describe(r);
  EXPECT_EQ(ofKind(r, FindingKind::kNoFinalCheckpoint).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, AlteredCheckpointSignatureIsReportedAsBadSignature) {
  auto l = lines();
  std::string& cp = l[5004];  // checkpoint seq 5005
  const size_t at = cp.find("\"signature\":\"");
  ASSERT_NE(at, std::string::npos);
  char& c = cp[at + 14];
  c = c == '0' ? '1' : '0';
  const VerifyReport r = verify(l);
  const auto bad = ofKind(r, FindingKind::kBadSignature);
  ASSERT_EQ(bad.size(), 1u) << describe(r);
  EXPECT_EQ(bad[0].sequence, 5005u);
  EXPECT_EQ(r.signed_checkpoints, 10u);
  // The checkpoint line is itself chained, so its change also shows as a modified line.
  EXPECT_EQ(ofKind(r, FindingKind::kModified).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, LineChangedAndChainRecomputedIsCaughtByTheSignedHead) {
  // The attacker changes seq 5000 and rewrites every prev after it up to and including the
  // next checkpoint: every link holds, but the checkpoint signed the original head.
  auto l = lines();
  touchTime(l[4999]);
  auto prevOf = [](const std::string& line) {
    const size_t at = line.find("\"prev\":\"");
    return line.substr(at + 8, 64);
  };
  Digest prev{};
  ASSERT_TRUE(parseDigestHex(prevOf(l[4999]), prev));
  Digest h = chainNext(prev, l[4999]);
  for (size_t i = 5000; i <= 5004; ++i) {
    const size_t at = l[i].find("\"prev\":\"");
    l[i].replace(at + 8, 64, digestHex(h));
    h = chainNext(h, l[i]);
  }
  const VerifyReport r = verify(l);
  const auto bad = ofKind(r, FindingKind::kBadCheckpoint);
  ASSERT_EQ(bad.size(), 1u) << describe(r);
  EXPECT_EQ(bad[0].last_sequence, 5005u);
  EXPECT_FALSE(r.ok());
}

TEST_F(VerifyTest, DifferentGivenKeyIsReportedAsWrongKey) {
  auto other = Signer::generate();
  ASSERT_TRUE(other.ok());
  VerifyOptions o;
  o.public_key_hex = other->publicKeyHex();
  o.key_origin = "other.pub";
  const VerifyReport r = verify(lines(), o);
  const auto p = problems(r);
  ASSERT_EQ(p.size(), 1u) << describe(r);
  EXPECT_EQ(p[0].kind, FindingKind::kWrongKey);
  EXPECT_EQ(p[0].sequence, 1u);
  EXPECT_THAT(p[0].message, HasSubstr("11 of 11 checkpoint signatures"));
  EXPECT_EQ(r.signed_checkpoints, 0u);
}

TEST_F(VerifyTest, MatchingGivenKeyVerifiesWithoutTrustOnFirstUse) {
  VerifyOptions o;
  o.public_key_hex = log().publicKeyHex();
  o.key_origin = "session.pub";
  const VerifyReport r = verify(lines(), o);
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.key_source, KeySource::kGiven);
  EXPECT_THAT(formatReportText(r), HasSubstr("from session.pub"));
  EXPECT_THAT(formatReportText(r), ::testing::Not(HasSubstr("trust on first use")));
}

TEST_F(VerifyTest, RewrittenLogResignedWithAnotherKeyPassesOnlyWithoutKey) {
  // Whole log forged by someone with their own key: only --key catches it.
  ChainLogWriter forged(log().sessionId());
  forged.events(50);
  forged.checkpoint(true);
  EXPECT_TRUE(verifyText(forged.text(), kFile, {}).ok());
  VerifyOptions o;
  o.public_key_hex = log().publicKeyHex();
  const VerifyReport r = verifyText(forged.text(), kFile, o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(ofKind(r, FindingKind::kWrongKey).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, MalformedJsonLineIsNamedWithItsLineAndTheSequenceItReplaced) {
  auto l = lines();
  l[4999] = "{\"metadata\": {\"sequence\": 5000, oops";
  const VerifyReport r = verify(l);
  const auto bad = ofKind(r, FindingKind::kMalformed);
  ASSERT_EQ(bad.size(), 1u) << describe(r);
  EXPECT_EQ(bad[0].line, 5000u);
  EXPECT_THAT(bad[0].message, HasSubstr("not valid JSON"));
  const auto missing = ofKind(r, FindingKind::kMissing);
  ASSERT_EQ(missing.size(), 1u) << describe(r);
  EXPECT_EQ(missing[0].sequence, 5000u);
  EXPECT_THAT(missing[0].message, HasSubstr("line 5000 between them is malformed"));
}

TEST_F(VerifyTest, LineMissingChainFieldsIsMalformed) {
  auto l = lines();
  l.insert(l.begin() + 10, R"({"class_uid":1001,"metadata":{"sequence":11}})");
  const VerifyReport r = verify(l);
  const auto bad = ofKind(r, FindingKind::kMalformed);
  ASSERT_EQ(bad.size(), 1u) << describe(r);
  EXPECT_THAT(bad[0].message, HasSubstr("metadata.correlation_uid"));
  EXPECT_THAT(bad[0].message, HasSubstr("unmapped.integrity.prev"));
  EXPECT_EQ(problems(r).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, BinaryGarbageGivesClearMessagesAndNoCrash) {
  std::mt19937 rng(42);
  std::string garbage(64 * 1024, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  const VerifyReport r = verifyText(garbage, "garbage.bin", {});
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(ofKind(r, FindingKind::kMalformed).empty());
  EXPECT_EQ(ofKind(r, FindingKind::kNoEvents).size(), 1u);
  for (const auto& f : r.findings) EXPECT_FALSE(f.message.empty());
  EXPECT_LE(r.findings.size(), 101u + 1u);  // capped per kind, the rest counted
}

TEST_F(VerifyTest, EmptyFileIsReportedAsNothingToVerify) {
  const VerifyReport r = verifyText("", kFile, {});
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(ofKind(r, FindingKind::kNoEvents).size(), 1u);
  EXPECT_THAT(ofKind(r, FindingKind::kNoEvents)[0].message, HasSubstr("empty"));
}

TEST_F(VerifyTest, MissingFileIsReportedAsUnreadable) {
  const VerifyReport r = verifyPaths({"/nonexistent/warden-ocsf.log"}, {});
  EXPECT_FALSE(r.ok());
  const auto u = ofKind(r, FindingKind::kUnreadable);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_THAT(u[0].message, HasSubstr("no such file"));
}

TEST_F(VerifyTest, OverlongLineIsReportedWithoutBeingParsed) {
  auto l = lines();
  l.insert(l.begin() + 100, std::string(100000, 'x'));
  VerifyOptions o;
  o.max_line_bytes = 65536;
  const VerifyReport r = verify(l, o);
  const auto bad = ofKind(r, FindingKind::kMalformed);
  ASSERT_EQ(bad.size(), 1u) << describe(r);
  EXPECT_THAT(bad[0].message, HasSubstr("longer than"));
  EXPECT_EQ(problems(r).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, OverlongLineInAFileIsSkippedWhileReading) {
  warden::testing::TempDir dir;
  auto l = lines();
  l.insert(l.begin() + 100, std::string(3u << 20, 'x'));
  warden::testing::writeFile(dir / kFile, ChainLogWriter::join(l));
  VerifyOptions o;
  o.max_line_bytes = 1u << 20;
  const VerifyReport r = verifyPaths({(dir / kFile).string()}, o);
  const auto bad = ofKind(r, FindingKind::kMalformed);
  ASSERT_EQ(bad.size(), 1u) << describe(r);
  EXPECT_EQ(bad[0].line, 101u);
  EXPECT_THAT(bad[0].message, HasSubstr("3145728 bytes"));
  EXPECT_EQ(problems(r).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, LastLineCutShortMidWriteIsMalformed) {
  std::string text = ChainLogWriter::join(lines());
  text.resize(text.size() - 40);  // the final checkpoint loses its end and its newline
  const VerifyReport r = verifyText(text, kFile, {});
  const auto bad = ofKind(r, FindingKind::kMalformed);
  ASSERT_EQ(bad.size(), 1u) << describe(r);
  EXPECT_THAT(bad[0].message, HasSubstr("cut short"));
  EXPECT_EQ(ofKind(r, FindingKind::kNoFinalCheckpoint).size(), 1u);
}

TEST_F(VerifyTest, LinesOfAnotherSessionAreReportedAsMixedSessions) {
  ChainLogWriter other("sess-other");
  other.events(20);
  auto l = lines();
  l.insert(l.end() - 1, other.lines().begin(), other.lines().end());
  const VerifyReport r = verify(l);
  const auto mixed = ofKind(r, FindingKind::kMixedSessions);
  ASSERT_EQ(mixed.size(), 1u) << describe(r);
  EXPECT_THAT(mixed[0].message, HasSubstr("sess-other"));
  EXPECT_THAT(mixed[0].message, HasSubstr("21 line(s)"));  // LOG:START + 20 events
  EXPECT_EQ(problems(r).size(), 1u) << describe(r);
}

TEST_F(VerifyTest, LossEventIsAWarningNotTampering) {
  ChainLogWriter w("sess-loss");
  w.events(500);
  w.loss(17);
  w.events(500);
  w.checkpoint(true);
  const VerifyReport r = verifyText(w.text(), kFile, {});
  EXPECT_TRUE(r.ok()) << describe(r);
  const auto loss = ofKind(r, FindingKind::kLoss);
  ASSERT_EQ(loss.size(), 1u);
  EXPECT_THAT(loss[0].message, HasSubstr("17 events"));
}

TEST_F(VerifyTest, EventsAfterTheFinalCheckpointAreInserted) {
  ChainLogWriter w("sess-after-final");
  w.events(10);
  w.checkpoint(true);
  w.events(3);
  const VerifyReport r = verifyText(w.text(), kFile, {});
  const auto ins = ofKind(r, FindingKind::kInserted);
  ASSERT_EQ(ins.size(), 1u) << describe(r);
  EXPECT_THAT(ins[0].message, HasSubstr("after the final checkpoint"));
}

TEST_F(VerifyTest, InputStartingMidSessionReportsTheEarlierSequencesMissing) {
  auto l = lines();
  l.erase(l.begin(), l.begin() + 2002);  // as if the first rotated file was not given
  VerifyOptions o;
  o.public_key_hex = log().publicKeyHex();
  const VerifyReport r = verify(l, o);
  const auto missing = ofKind(r, FindingKind::kMissing);
  ASSERT_EQ(missing.size(), 1u) << describe(r);
  EXPECT_EQ(missing[0].sequence, 1u);
  EXPECT_EQ(missing[0].last_sequence, 2002u);
  EXPECT_THAT(missing[0].message, HasSubstr("earlier files"));
}

TEST_F(VerifyTest, DirectoryIsReadOldestRotatedFileFirstIgnoringShorthandLogs) {
  warden::testing::TempDir dir;
  auto l = lines();
  const std::vector<std::string> a(l.begin(), l.begin() + 3000), b(l.begin() + 3000, l.begin() + 7000),
      c(l.begin() + 7000, l.end());
  // Names chosen so that sorting by name alone would put them in the wrong order.
  warden::testing::writeFile(dir / "warden-ocsf.log.2026-11-22.2", ChainLogWriter::join(a));
  warden::testing::writeFile(dir / "warden-ocsf.log.2026-11-22", ChainLogWriter::join(b));
  warden::testing::writeFile(dir / "warden-ocsf.log", ChainLogWriter::join(c));
  warden::testing::writeFile(dir / "warden.log", "2026-11-22T10:00:00.000Z OCSF NET:OPEN [INFO] not json\n");
  warden::testing::writeFile(dir / "warden.log.2026-11-21", "garbage\n");
  const VerifyReport r = verifyPaths({dir.path().string()}, {});
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.events, 10012u);
  ASSERT_EQ(r.files.size(), 3u);
  EXPECT_THAT(r.files[0], HasSubstr(".2026-11-22.2"));
  EXPECT_THAT(r.files[2], ::testing::EndsWith("/warden-ocsf.log"));
}

TEST_F(VerifyTest, DirectoryWithoutJsonlFilesIsUnreadable) {
  warden::testing::TempDir dir;
  warden::testing::writeFile(dir / "warden.log", "x\n");
  const VerifyReport r = verifyPaths({dir.path().string()}, {});
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(ofKind(r, FindingKind::kUnreadable).size(), 1u);
  EXPECT_THAT(ofKind(r, FindingKind::kUnreadable)[0].message, HasSubstr("no warden-ocsf.log"));
}

TEST_F(VerifyTest, FileReadMatchesInMemoryVerification) {
  warden::testing::TempDir dir;
  auto l = lines();
  touchTime(l[1234]);
  warden::testing::writeFile(dir / kFile, ChainLogWriter::join(l));
  const VerifyReport from_file = verifyPaths({(dir / kFile).string()}, {});
  const VerifyReport in_memory = verify(l);
  ASSERT_EQ(from_file.findings.size(), in_memory.findings.size());
  EXPECT_EQ(from_file.findings[0].sequence, 1235u);
  EXPECT_EQ(from_file.findings[0].kind, in_memory.findings[0].kind);
}

TEST_F(VerifyTest, JsonReportIsMachineReadable) {
  auto l = lines();
  l.erase(l.begin() + 4999);
  const VerifyReport r = verify(l);
  const auto j = nlohmann::json::parse(formatReportJson(r), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["session"], log().sessionId());
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["kind"], "missing");
  EXPECT_EQ(j["problems"][0]["sequence"], 5000);
  EXPECT_EQ(j["key"]["source"], "log");
  EXPECT_EQ(j["key"]["trust_on_first_use"], true);
}

TEST_F(VerifyTest, ManyProblemsAreCappedPerKindAndCounted) {
  auto l = lines();
  for (size_t i = 10; i < 9000; i += 20) touchTime(l[i]);
  VerifyOptions o;
  o.max_findings_per_kind = 50;
  const VerifyReport r = verify(l, o);
  EXPECT_EQ(ofKind(r, FindingKind::kModified).size(), 50u);
  EXPECT_EQ(r.suppressed, 450u - 50u);
  EXPECT_THAT(formatReportText(r), HasSubstr("more findings not shown"));
}

}  // namespace
}  // namespace warden::audit
