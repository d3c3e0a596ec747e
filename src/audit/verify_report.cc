#include "audit/verify_report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace warden::audit {

std::string_view findingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kModified: return "modified";
    case FindingKind::kMissing: return "missing";
    case FindingKind::kInserted: return "inserted";
    case FindingKind::kReordered: return "reordered";
    case FindingKind::kBadCheckpoint: return "bad checkpoint";
    case FindingKind::kBadSignature: return "bad signature";
    case FindingKind::kWrongKey: return "wrong key";
    case FindingKind::kNoKey: return "no key";
    case FindingKind::kUnsealedTail: return "unsealed tail";
    case FindingKind::kNoFinalCheckpoint: return "no final checkpoint";
    case FindingKind::kMalformed: return "malformed";
    case FindingKind::kMixedSessions: return "mixed sessions";
    case FindingKind::kUnreadable: return "unreadable";
    case FindingKind::kNoEvents: return "no events";
    case FindingKind::kGap: return "gap";
    case FindingKind::kLoss: return "loss";
    case FindingKind::kEmptyFile: return "empty file";
    case FindingKind::kDuplicate: return "duplicate";
  }
  return "unknown";
}

std::string_view findingKindId(FindingKind kind) {
  switch (kind) {
    case FindingKind::kModified: return "modified";
    case FindingKind::kMissing: return "missing";
    case FindingKind::kInserted: return "inserted";
    case FindingKind::kReordered: return "reordered";
    case FindingKind::kBadCheckpoint: return "bad_checkpoint";
    case FindingKind::kBadSignature: return "bad_signature";
    case FindingKind::kWrongKey: return "wrong_key";
    case FindingKind::kNoKey: return "no_key";
    case FindingKind::kUnsealedTail: return "unsealed_tail";
    case FindingKind::kNoFinalCheckpoint: return "no_final_checkpoint";
    case FindingKind::kMalformed: return "malformed";
    case FindingKind::kMixedSessions: return "mixed_sessions";
    case FindingKind::kUnreadable: return "unreadable";
    case FindingKind::kNoEvents: return "no_events";
    case FindingKind::kGap: return "gap";
    case FindingKind::kLoss: return "loss";
    case FindingKind::kEmptyFile: return "empty_file";
    case FindingKind::kDuplicate: return "duplicate";
  }
  return "unknown";
}

bool isProblem(FindingKind kind) {
  return kind != FindingKind::kGap && kind != FindingKind::kLoss && kind != FindingKind::kEmptyFile &&
         kind != FindingKind::kDuplicate;
}

size_t VerifyReport::problemCount() const {
  size_t n = 0;
  for (const Finding& f : findings) n += isProblem(f.kind) ? 1 : 0;
  return n;
}

bool VerifyReport::ok() const { return problemCount() == 0; }

namespace {

std::string keyText(const VerifyReport& r) {
  switch (r.key_source) {
    case KeySource::kGiven: return fmt::format("key {} from {}", r.key_id, r.key_origin);
    case KeySource::kFromLog:
      return fmt::format("key {} taken from the log itself (LOG:START, trust on first use: pass --key to pin it)",
                         r.key_id);
    case KeySource::kNone: break;
  }
  return "no key";
}

nlohmann::json findingJson(const Finding& f) {
  nlohmann::json j = {{"kind", findingKindId(f.kind)}, {"message", f.message}};
  if (f.sequence != 0) j["sequence"] = f.sequence;
  if (f.last_sequence != 0) j["last_sequence"] = f.last_sequence;
  if (!f.file.empty()) j["file"] = f.file;
  if (f.line != 0) j["line"] = f.line;
  return j;
}

}  // namespace

std::string formatReportText(const VerifyReport& r) {
  std::string out;
  for (const Finding& f : r.findings) {
    if (isProblem(f.kind)) {
      out += fmt::format("{}: {}\n", findingKindName(f.kind), f.message);
    } else {
      out += fmt::format("warning: {}: {}\n", findingKindName(f.kind), f.message);
    }
  }
  if (r.suppressed != 0) out += fmt::format("... and {} more findings not shown\n", r.suppressed);
  const std::string session = r.session_id.empty() ? std::string("(unknown)") : r.session_id;
  if (r.ok()) {
    out += fmt::format("ok: {} events, {} checkpoints ({} signed, last at seq {}{}), session {}; {}\n", r.events,
                       r.checkpoints, r.signed_checkpoints, r.last_checkpoint_sequence,
                       r.final_checkpoint ? ", final" : "", session, keyText(r));
  } else {
    const size_t problems = r.problemCount() + r.suppressed;
    out += fmt::format("FAILED: {} problem{}; {} events, {} checkpoints ({} signed), session {}; {}\n", problems,
                       problems == 1 ? "" : "s", r.events, r.checkpoints, r.signed_checkpoints, session, keyText(r));
  }
  return out;
}

std::string formatReportJson(const VerifyReport& r) {
  nlohmann::json problems = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  for (const Finding& f : r.findings) (isProblem(f.kind) ? problems : warnings).push_back(findingJson(f));
  const char* source = r.key_source == KeySource::kGiven ? "given" : r.key_source == KeySource::kFromLog ? "log" : "none";
  nlohmann::json key = {{"source", source}, {"trust_on_first_use", r.key_source == KeySource::kFromLog}};
  if (!r.key_id.empty()) key["key_id"] = r.key_id;
  if (!r.key_origin.empty()) key["origin"] = r.key_origin;
  nlohmann::json j = {
      {"ok", r.ok()},
      {"session", r.session_id},
      {"files", r.files},
      {"events", r.events},
      {"first_sequence", r.first_sequence},
      {"last_sequence", r.last_sequence},
      {"checkpoints", r.checkpoints},
      {"signed_checkpoints", r.signed_checkpoints},
      {"last_checkpoint_sequence", r.last_checkpoint_sequence},
      {"final_checkpoint", r.final_checkpoint},
      {"key", std::move(key)},
      {"problems", std::move(problems)},
      {"warnings", std::move(warnings)},
      {"suppressed", r.suppressed},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace warden::audit
