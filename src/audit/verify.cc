#include "audit/verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>

#include "audit/chain.h"
#include "audit/signer.h"
#include "audit/verify_line.h"
#include "common/result.h"

namespace warden::audit {
namespace {

using verify_line::CheckpointFields;
using verify_line::LossFields;
using verify_line::ParsedLine;
using verify_line::SigningKeyFields;

// ---------------------------------------------------------------------------------------------
// The chain.

enum RecordFlag : uint8_t {
  kFlagStart = 1 << 0,
  kFlagCheckpoint = 1 << 1,
  kFlagJsonlOff = 1 << 2,
  kFlagJsonlOn = 1 << 3,
  kFlagLoss = 1 << 4,
  kFlagSeed = 1 << 5,  // the virtual record "seq 0" whose hash is h_0
};

// One well-formed line, reduced to what the chain analysis needs.
struct Record {
  uint64_t seq = 0;
  uint64_t pos = 0;   // global line index across files, for order checks
  uint64_t line = 0;  // 1-based within its file
  uint32_t file = 0;
  uint8_t flags = 0;
  Digest prev{};
  Digest hash{};  // chainNext(prev, line bytes): h_seq as the writer computed it, if untouched
};

bool links(const Record& a, const Record& b) { return b.seq == a.seq + 1 && b.prev == a.hash; }

// Consecutive well-linked lines needed after a break before the analysis window closes.
constexpr size_t kResyncRun = 4;
// A window never grows beyond this many lines (memory bound on hopeless input).
constexpr size_t kMaxWindow = 4096;
// Records held back because they appeared ahead of the chain (candidates for reordering).
constexpr size_t kMaxEarly = 4096;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string seqRange(uint64_t first, uint64_t last) {
  return first == last ? fmt::format("seq {}", first) : fmt::format("seqs {}-{}", first, last);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Verifier::State {
  struct ChainCheckpoint {
    Record rec;
    CheckpointFields fields;
    bool link_good = false;
  };
  struct MissingRange {
    uint64_t first = 0, last = 0;
    size_t finding = SIZE_MAX;
  };
  struct Foreign {
    uint64_t count = 0;
    uint32_t file = 0;
    uint64_t line = 0;
  };

  explicit State(VerifyOptions o) : opt(std::move(o)) {}

  VerifyOptions opt;
  VerifyReport report;
  std::array<size_t, 32> kind_counts{};

  // Input position.
  uint32_t file = 0;
  bool file_open = false;
  uint64_t line = 0;  // lines seen in the current file
  uint64_t pos = 0;   // lines seen overall
  uint64_t total_lines = 0;

  ParsedLine parsed;  // reused line to line
  std::string parse_error;

  // Session.
  bool have_session = false;
  std::string session;
  std::map<std::string, Foreign> foreign;

  // Chain state: `anchor` is final; `tentative` links to it and waits for its successor.
  Record anchor;
  std::optional<Record> tentative;
  bool in_window = false;
  Record window_base;
  std::vector<Record> window;
  size_t run = 0;
  std::multimap<uint64_t, Record> early;

  // Extra fields of special records, by pos, until the record is placed or dropped.
  std::unordered_map<uint64_t, CheckpointFields> checkpoint_fields;
  std::unordered_map<uint64_t, SigningKeyFields> start_fields;
  std::unordered_map<uint64_t, LossFields> loss_fields;
  std::deque<std::pair<uint64_t, uint64_t>> recent_malformed;  // (pos, line) of the last few malformed lines

  // The placed chain.
  uint64_t chain_events = 0;
  std::optional<Record> last;
  std::vector<ChainCheckpoint> checkpoints;
  std::optional<SigningKeyFields> start;
  std::optional<Record> start_rec;
  std::vector<MissingRange> missing;
  std::vector<std::pair<uint64_t, size_t>> gaps;  // (first unwritten seq, finding index)
  uint64_t deleted_missing = 0;                   // events missing inside opt.deletions' ranges
  std::optional<Record> last_deleted_gap;         // the record after the last such run

  // --- findings ---------------------------------------------------------------------------
  size_t add(Finding f) {
    auto& n = kind_counts[static_cast<size_t>(f.kind)];
    if (n >= opt.max_findings_per_kind) {
      ++report.suppressed;
      return SIZE_MAX;
    }
    ++n;
    report.findings.push_back(std::move(f));
    return report.findings.size() - 1;
  }
  std::string fileName(uint32_t f) const { return f < report.files.size() ? report.files[f] : std::string("-"); }
  std::string where(const Record& r) const {
    if (r.flags & kFlagSeed) return "the session seed";
    return fmt::format("{}:{}", fileName(r.file), r.line);
  }
  size_t add(FindingKind kind, const Record& r, uint64_t first, uint64_t last_seq, std::string message) {
    Finding f;
    f.kind = kind;
    f.sequence = first;
    f.last_sequence = last_seq;
    if (!(r.flags & kFlagSeed)) {
      f.file = fileName(r.file);
      f.line = r.line;
    }
    f.message = std::move(message);
    return add(std::move(f));
  }
  void malformed(std::string message) {
    Finding f;
    f.kind = FindingKind::kMalformed;
    f.file = fileName(file);
    f.line = line;
    f.message = std::move(message);
    add(std::move(f));
    recent_malformed.emplace_back(pos, line);
    if (recent_malformed.size() > 16) recent_malformed.pop_front();
  }

  void dropSideFields(const Record& r) {
    if (r.flags & kFlagCheckpoint) checkpoint_fields.erase(r.pos);
    if (r.flags & kFlagStart) start_fields.erase(r.pos);
    if (r.flags & kFlagLoss) loss_fields.erase(r.pos);
  }

  // --- lines ------------------------------------------------------------------------------
  void addLine(std::string_view text, bool terminated) {
    ++line;
    ++pos;
    ++total_lines;
    if (text.size() > opt.max_line_bytes) {
      malformed(fmt::format("line of {} bytes is longer than the {}-byte limit; not parsed", text.size(),
                            opt.max_line_bytes));
      return;
    }
    const bool ok = verify_line::parseLine(text, parsed, parse_error);
    const char* cut = terminated ? "" : " (last line has no newline: the write was probably cut short)";
    if (!ok) {
      malformed(fmt::format("{}{}", parse_error, cut));
      return;
    }
    if (!parsed.root_object) {
      malformed(fmt::format("not a JSON object{}", cut));
      return;
    }
    std::string missing_fields;
    if (!parsed.has_seq || parsed.seq == 0) {
      missing_fields += parsed.seq_mistyped || parsed.has_seq ? " metadata.sequence (not a positive integer)"
                                                              : " metadata.sequence";
    }
    if (!parsed.has_session || parsed.session.empty()) missing_fields += " metadata.correlation_uid";
    Digest prev{};
    if (!parsed.has_prev) {
      missing_fields += " unmapped.integrity.prev";
    } else if (!parseDigestHex(parsed.prev, prev)) {
      missing_fields += " unmapped.integrity.prev (not 64 hex digits)";
    }
    if (!missing_fields.empty()) {
      malformed(fmt::format("missing or invalid:{}{}", missing_fields, cut));
      return;
    }

    if (!have_session) {
      have_session = true;
      session = parsed.session;
      report.session_id = session;
      anchor = Record{};
      anchor.flags = kFlagSeed;
      anchor.hash = chainSeed(session);
    } else if (parsed.session != session) {
      auto& f = foreign[parsed.session];
      if (f.count++ == 0) {
        f.file = file;
        f.line = line;
      }
      return;
    }

    Record r;
    r.seq = parsed.seq;
    r.pos = pos;
    r.line = line;
    r.file = file;
    r.prev = prev;
    r.hash = chainNext(prev, text);

    if (parsed.has_class && parsed.class_uid == 1008) {
      if (parsed.has_activity && parsed.activity_id == 6 && parsed.has_signing_key) {
        r.flags |= kFlagStart;
        start_fields[r.pos] = std::move(parsed.signing_key);
      } else if (parsed.has_activity && parsed.activity_id == 99 &&
                 (parsed.has_checkpoint || parsed.activity_name == "Checkpoint")) {
        r.flags |= kFlagCheckpoint;
        parsed.checkpoint.time = parsed.has_time ? parsed.time : 0;
        checkpoint_fields[r.pos] = std::move(parsed.checkpoint);
      } else if (parsed.has_activity && parsed.activity_id == 99 &&
                 (parsed.has_loss || parsed.activity_name == "Loss")) {
        r.flags |= kFlagLoss;
        loss_fields[r.pos] = parsed.loss;
      }
    } else if (parsed.has_class && parsed.class_uid == 5019 && parsed.state == "UPDATED") {
      if (parsed.message.find("disabled") != std::string::npos) {
        r.flags |= kFlagJsonlOff;
      } else if (parsed.message.find("enabled") != std::string::npos) {
        r.flags |= kFlagJsonlOn;
      }
    }
    addRecord(r);
  }

  void addRecord(const Record& r) {
    if (in_window) {
      window.push_back(r);
      run = window.size() >= 2 && links(window[window.size() - 2], r) ? run + 1 : 1;
      if (run >= kResyncRun || window.size() >= kMaxWindow) analyzeWindow(false);
      return;
    }
    if (!tentative) {
      if (links(anchor, r)) {
        tentative = r;
      } else {
        openWindow({r});
      }
      return;
    }
    if (links(*tentative, r)) {
      place(*tentative, true);
      anchor = *tentative;
      tentative = r;
      if (!early.empty() && early.begin()->first <= anchor.seq) purgeEarly(anchor.seq, false);
      return;
    }
    std::vector<Record> w{*tentative, r};
    tentative.reset();
    openWindow(std::move(w));
  }

  void openWindow(std::vector<Record> records) {
    in_window = true;
    window_base = anchor;
    window = std::move(records);
    run = 1;
    if (window.size() >= 2 && links(window[window.size() - 2], window.back())) run = 2;
  }

  // --- the analysis of a break ------------------------------------------------------------
  // The window holds every line from the first one that did not link to `window_base` up to a
  // run of kResyncRun well-linked lines (or the end of input). Within it, the chain is rebuilt
  // by sequence number; each line is placed once, and what does not fit is named.
  void analyzeWindow(bool at_end) {
    const Record base = window_base;
    const uint64_t frontier = at_end ? std::numeric_limits<uint64_t>::max() : window.back().seq;
    std::vector<Record> cand;
    cand.reserve(window.size());
    for (const Record& r : window) {
      if (r.seq <= base.seq) {
        stale(r, base);
      } else if (r.seq > frontier) {
        holdEarly(r);
      } else {
        cand.push_back(r);
      }
    }
    for (auto it = early.upper_bound(base.seq); it != early.end() && it->first <= frontier;) {
      cand.push_back(it->second);
      it = early.erase(it);
    }
    std::stable_sort(cand.begin(), cand.end(), [](const Record& a, const Record& b) {
      return a.seq != b.seq ? a.seq < b.seq : a.pos < b.pos;
    });

    // Choose one line per sequence number: the one that links back, then forward.
    std::vector<Record> chain;
    chain.reserve(cand.size());
    Record cur = base;
    for (size_t i = 0; i < cand.size();) {
      size_t j = i;
      while (j < cand.size() && cand[j].seq == cand[i].seq) ++j;
      size_t k = j;
      while (k < cand.size() && cand[k].seq == cand[j].seq) ++k;
      size_t best = i;
      int best_score = -1;
      for (size_t g = i; g < j; ++g) {
        int score = links(cur, cand[g]) ? 2 : 0;
        for (size_t h = j; h < k; ++h) {
          if (links(cand[g], cand[h])) {
            score += 1;
            break;
          }
        }
        if (score > best_score) {
          best = g;
          best_score = score;
        }
      }
      for (size_t g = i; g < j; ++g) {
        if (g == best) continue;
        add(FindingKind::kInserted, cand[g], cand[g].seq, cand[g].seq,
            fmt::format("seq {} at {} is an extra line: sequence {} appears twice and the line at {} is the one "
                        "that chains",
                        cand[g].seq, where(cand[g]), cand[g].seq, where(cand[best])));
        dropSideFields(cand[g]);
      }
      chain.push_back(cand[best]);
      cur = cand[best];
      i = j;
    }

    // Walk the rebuilt chain: jumps are missing lines or JSONL-off gaps, broken links are
    // modified lines, lines placed before their predecessor are reordered.
    std::vector<uint8_t> bad(chain.size(), 0);
    std::vector<uint8_t> linked(chain.size(), 0);
    for (size_t i = 0; i < chain.size(); ++i) {
      const Record& p = i == 0 ? base : chain[i - 1];
      const Record& n = chain[i];
      if (n.seq == p.seq + 1) {
        linked[i] = n.prev == p.hash;
        bad[i] = !linked[i];
      } else if ((p.flags & kFlagJsonlOff) && (n.flags & kFlagJsonlOn)) {
        gap(p, n);
      } else if (const auto* d = deletedRange(p.seq + 1, n.seq - 1)) {
        deletedGap(p, n, *d);
      } else {
        missingRange(p, n);
      }
      if (!(p.flags & kFlagSeed) && n.pos < p.pos) {
        add(FindingKind::kReordered, n, n.seq, n.seq,
            fmt::format("seq {} at {} is out of order: it appears before seq {} ({})", n.seq, where(n), p.seq,
                        where(p)));
      }
    }
    for (size_t i = 0; i < chain.size(); ++i) {
      if (!bad[i]) continue;
      const Record& p = i == 0 ? base : chain[i - 1];
      const Record& n = chain[i];
      if (i + 1 < chain.size() && bad[i + 1]) {
        // n's own prev and its hash both disagree with its neighbours: n itself was changed.
        add(FindingKind::kModified, n, n.seq, n.seq,
            fmt::format("seq {} at {} was changed after it was written: its prev does not match the hash of seq {} "
                        "and its hash does not match the prev recorded in seq {}",
                        n.seq, where(n), p.seq, chain[i + 1].seq));
        ++i;
      } else if (p.flags & kFlagSeed) {
        add(FindingKind::kModified, n, n.seq, n.seq,
            fmt::format("seq {} at {} does not chain from the session seed (its prev or session id was changed)",
                        n.seq, where(n)));
      } else {
        add(FindingKind::kModified, p, p.seq, p.seq,
            fmt::format("seq {} at {} was changed after it was written: its hash no longer matches the prev "
                        "recorded in seq {} ({})",
                        p.seq, where(p), n.seq, where(n)));
      }
    }
    for (size_t i = 0; i < chain.size(); ++i) place(chain[i], linked[i] != 0);

    if (!chain.empty()) anchor = chain.back();
    window.clear();
    in_window = false;
    run = 0;
    tentative.reset();
    if (!early.empty() && early.begin()->first <= anchor.seq) purgeEarly(anchor.seq, false);
  }

  void gap(const Record& off, const Record& on) {
    const size_t idx =
        add(FindingKind::kGap, on, off.seq + 1, on.seq - 1,
            fmt::format("{} not written while JSONL output was off (disabled at {}, enabled again at {}): not "
                        "tampering, but those events cannot be checked from this file; the chain resumes at seq {}",
                        seqRange(off.seq + 1, on.seq - 1), where(off), where(on), on.seq));
    gaps.emplace_back(off.seq + 1, idx);
  }

  // The deletion that accounts for seqs first..last_seq, all of them inside the recorded ranges;
  // nullptr when some are not.
  const VerifyOptions::Deletion* deletedRange(uint64_t first, uint64_t last_seq) const {
    const VerifyOptions::Deletion* found = nullptr;
    for (uint64_t at = first; at <= last_seq;) {
      const VerifyOptions::Deletion* holder = nullptr;
      for (const auto& d : opt.deletions) {
        if (d.first <= at && at <= d.last) holder = &d;
      }
      if (holder == nullptr) return nullptr;
      if (found == nullptr) found = holder;
      if (holder->last >= last_seq) break;
      at = holder->last + 1;
    }
    return found;
  }

  void deletedGap(const Record& p, const Record& n, const VerifyOptions::Deletion& d) {
    deleted_missing += n.seq - 1 - p.seq;
    last_deleted_gap = n;
    const size_t idx = add(FindingKind::kGap, n, p.seq + 1, n.seq - 1,
                           fmt::format("{} deleted by retention ({}): not tampering, but those events cannot be "
                                       "checked; the chain resumes at seq {}",
                                       seqRange(p.seq + 1, n.seq - 1), d.record, n.seq));
    gaps.emplace_back(p.seq + 1, idx);
  }

  // More missing inside the deleted ranges than the deletions account for: some were removed
  // otherwise (a kept checkpoint, say).
  void checkDeletedCount() {
    if (!last_deleted_gap) return;
    uint64_t deleted = 0;
    for (const auto& d : opt.deletions) deleted += d.count;
    if (deleted_missing <= deleted) return;
    add(FindingKind::kMissing, *last_deleted_gap, 0, 0,
        fmt::format("{} events are missing inside the ranges retention deleted, but its records account for only "
                    "{}: {} were removed otherwise",
                    deleted_missing, deleted, deleted_missing - deleted));
  }

  void missingRange(const Record& p, const Record& n) {
    const uint64_t first = p.seq + 1, last_seq = n.seq - 1;
    std::string message;
    if (p.flags & kFlagSeed) {
      message = fmt::format("{} not in the input: the chain starts at seq {} ({}); were earlier files left out?",
                            seqRange(first, last_seq), n.seq, where(n));
    } else {
      message = fmt::format("{} not in the log: removed between seq {} ({}) and seq {} ({})",
                            seqRange(first, last_seq), p.seq, where(p), n.seq, where(n));
    }
    for (const auto& [mpos, mline] : recent_malformed) {
      if (mpos > p.pos && mpos < n.pos && p.file == n.file) {
        message += fmt::format("; line {} between them is malformed, probably the damaged event", mline);
        break;
      }
    }
    const size_t idx = add(FindingKind::kMissing, n, first, last_seq, std::move(message));
    missing.push_back({first, last_seq, idx});
  }

  // A line whose sequence number the chain has already passed.
  void stale(const Record& r, const Record& base) {
    dropSideFields(r);
    for (auto& m : missing) {
      if (r.seq < m.first || r.seq > m.last) continue;
      if (m.first == m.last && m.finding != SIZE_MAX) {
        // Reported missing at its place; it is here instead: a reordering, not a deletion.
        Finding& f = report.findings[m.finding];
        f.kind = FindingKind::kReordered;
        f.message = fmt::format("seq {} is out of order: it belongs before the line at {}:{} but appears at {}, "
                                "after seq {}",
                                r.seq, f.file, f.line, where(r), base.seq);
        f.file = fileName(r.file);
        f.line = r.line;
        m.finding = SIZE_MAX;
        m.first = 1;
        m.last = 0;
        return;
      }
      add(FindingKind::kReordered, r, r.seq, r.seq,
          fmt::format("seq {} at {} is out of order: it appears after seq {}", r.seq, where(r), base.seq));
      return;
    }
    add(FindingKind::kInserted, r, r.seq, r.seq,
        fmt::format("seq {} at {} is an extra line: sequence {} was already placed earlier in the chain", r.seq,
                    where(r), r.seq));
  }

  void holdEarly(const Record& r) {
    if (early.size() >= kMaxEarly) {
      auto it = early.begin();
      add(FindingKind::kInserted, it->second, it->first, it->first,
          fmt::format("seq {} at {} does not fit the chain", it->first, where(it->second)));
      dropSideFields(it->second);
      early.erase(it);
    }
    early.emplace(r.seq, r);
  }

  void purgeEarly(uint64_t up_to, bool everything) {
    for (auto it = early.begin(); it != early.end();) {
      if (!everything && it->first > up_to) break;
      const Record& r = it->second;
      if (r.seq > up_to) {
        add(FindingKind::kInserted, r, r.seq, r.seq,
            fmt::format("seq {} at {} is an extra line beyond the end of the chain (last seq {})", r.seq, where(r),
                        up_to));
      } else {
        add(FindingKind::kInserted, r, r.seq, r.seq,
            fmt::format("seq {} at {} is an extra line: it does not fit the chain", r.seq, where(r)));
      }
      dropSideFields(r);
      it = early.erase(it);
    }
  }

  // --- the placed chain -------------------------------------------------------------------
  void place(const Record& r, bool link_good) {
    ++chain_events;
    if (!last) report.first_sequence = r.seq;
    last = r;
    if (r.seq == 1) {
      auto it = start_fields.find(r.pos);
      if (it != start_fields.end()) {
        start = std::move(it->second);
        start_rec = r;
      } else {
        add(FindingKind::kMalformed, r, 1, 1,
            fmt::format("seq 1 at {} is not a LOG:START event carrying unmapped.signing_key", where(r)));
      }
    }
    if (r.flags & kFlagCheckpoint) {
      auto it = checkpoint_fields.find(r.pos);
      ChainCheckpoint cp{r, it != checkpoint_fields.end() ? std::move(it->second) : CheckpointFields{}, link_good};
      checkpoints.push_back(std::move(cp));
    }
    if (r.flags & kFlagLoss) {
      auto it = loss_fields.find(r.pos);
      const LossFields l = it != loss_fields.end() ? it->second : LossFields{};
      std::string range = l.first_seq != 0 ? fmt::format(" (reported range {}-{})", l.first_seq, l.last_seq) : "";
      add(FindingKind::kLoss, r, l.first_seq, l.last_seq,
          fmt::format("the writer reports {} events shed before they were written{} at seq {} ({}): the record says "
                      "data was lost; this is not tampering",
                      l.count, range, r.seq, where(r)));
    }
    dropSideFields(r);
  }

  // --- the end ------------------------------------------------------------------------------
  VerifyReport finish() {
    if (in_window) {
      analyzeWindow(true);
    } else if (tentative) {
      place(*tentative, true);
      anchor = *tentative;
      tentative.reset();
    }
    purgeEarly(last ? last->seq : 0, true);

    for (const auto& [sid, f] : foreign) {
      Finding fd;
      fd.kind = FindingKind::kMixedSessions;
      fd.file = fileName(f.file);
      fd.line = f.line;
      fd.message = fmt::format("{} line(s) of session {} (first at {}:{}) are not part of session {} and were "
                               "skipped: verify one session at a time",
                               f.count, sid, fd.file, f.line, session);
      add(std::move(fd));
    }

    report.events = chain_events;
    if (chain_events == 0) {
      Finding f;
      f.kind = FindingKind::kNoEvents;
      f.message = total_lines == 0 ? "nothing to verify: the input is empty"
                                   : "nothing to verify: no line of the input is a well-formed chained event";
      add(std::move(f));
      return std::move(report);
    }
    report.last_sequence = last->seq;
    checkSignatures();
    checkTail();
    checkDeletedCount();
    annotateGaps();
    return std::move(report);
  }

  void checkSignatures() {
    std::string key;
    if (opt.public_key_hex) {
      key = *opt.public_key_hex;
      report.key_source = KeySource::kGiven;
      report.key_origin = opt.key_origin.empty() ? "--key" : opt.key_origin;
    } else if (start) {
      report.key_source = KeySource::kFromLog;
      report.key_origin = "LOG:START (seq 1), trust on first use";
      key = start->public_key;
    }
    if (start && !start->algorithm.empty() && start->algorithm != "Ed25519") {
      add(FindingKind::kMalformed, *start_rec, 1, 1,
          fmt::format("LOG:START at {} names signing algorithm '{}', expected Ed25519", where(*start_rec),
                      start->algorithm));
    }
    const std::string key_id = keyIdForPublicKey(key);
    if (!key.empty() && key_id.empty()) {
      if (report.key_source == KeySource::kFromLog) {
        add(FindingKind::kMalformed, *start_rec, 1, 1,
            fmt::format("LOG:START at {}: unmapped.signing_key.public_key is not a raw Ed25519 key in hex",
                        where(*start_rec)));
      }
      key.clear();
    }
    report.key_id = key_id;
    if (key.empty()) report.key_source = KeySource::kNone;

    bool wrong_key = false;
    if (report.key_source == KeySource::kGiven && start && !iequals(start->public_key, key)) wrong_key = true;
    size_t wrong_key_failures = 0;

    uint64_t prev_cp_seq = 0;
    for (const ChainCheckpoint& cp : checkpoints) {
      ++report.checkpoints;
      const Record& r = cp.rec;
      const CheckpointFields& f = cp.fields;
      const uint64_t covered_from = prev_cp_seq + 1;
      prev_cp_seq = r.seq;
      if (!f.has_last || f.head.empty() || f.signature.empty()) {
        add(FindingKind::kBadCheckpoint, r, r.seq, r.seq,
            fmt::format("checkpoint seq {} at {} lacks last_seq, head or signature", r.seq, where(r)));
        continue;
      }
      bool good = true;
      if (f.last_seq + 1 != r.seq) {
        add(FindingKind::kBadCheckpoint, r, r.seq, r.seq,
            fmt::format("checkpoint seq {} at {} claims to cover up to seq {}, expected {}", r.seq, where(r),
                        f.last_seq, r.seq - 1));
        good = false;
      }
      Digest head{};
      if (!parseDigestHex(f.head, head) || head != r.prev) {
        add(FindingKind::kBadCheckpoint, r, covered_from, r.seq,
            fmt::format("checkpoint seq {} at {}: the head it signs does not match the chain: a line in {} was "
                        "changed and the chain recomputed over it",
                        r.seq, where(r), seqRange(covered_from, r.seq - 1 >= covered_from ? r.seq - 1 : r.seq)));
        good = false;
      }
      if (!key.empty()) {
        const bool sig_ok = verifyEd25519(key, checkpointMessage(session, f.last_seq, f.head, f.time), f.signature);
        if (!sig_ok) {
          good = false;
          if (wrong_key) {
            ++wrong_key_failures;
          } else {
            std::string by = !f.key_id.empty() && f.key_id != key_id
                                 ? fmt::format(" (it names key {}, the key in use is {})", f.key_id, key_id)
                                 : std::string();
            add(FindingKind::kBadSignature, r, r.seq, r.seq,
                fmt::format("checkpoint seq {} at {} (covering up to seq {}): the signature does not verify{}", r.seq,
                            where(r), f.last_seq, by));
          }
        }
      } else {
        good = false;
      }
      if (good && cp.link_good) ++report.signed_checkpoints;
    }

    if (wrong_key) {
      add(FindingKind::kWrongKey, *start_rec, 1, 1,
          fmt::format("the log's signing key (key {}, LOG:START at {}) is not the key given with {} (key {}); {} of "
                      "{} checkpoint signatures do not verify with the given key",
                      keyIdForPublicKey(start->public_key), where(*start_rec), report.key_origin, key_id,
                      wrong_key_failures, checkpoints.size()));
    }
    if (key.empty()) {
      Finding f;
      f.kind = FindingKind::kNoKey;
      f.message = fmt::format("cannot check {} checkpoint signature(s): no usable LOG:START signing key in the input "
                              "and no --key given",
                              checkpoints.size());
      add(std::move(f));
    }
  }

  void checkTail() {
    const ChainCheckpoint* last_cp = checkpoints.empty() ? nullptr : &checkpoints.back();
    report.last_checkpoint_sequence = last_cp ? last_cp->rec.seq : 0;
    const uint64_t sealed_to = last_cp ? last_cp->rec.seq : 0;
    // A final checkpoint that is not the last line: what follows it was added afterwards.
    for (const ChainCheckpoint& cp : checkpoints) {
      if (cp.fields.final && cp.rec.seq != last->seq) {
        add(FindingKind::kInserted, cp.rec, cp.rec.seq + 1, last->seq,
            fmt::format("{} after the final checkpoint (seq {} at {}): nothing may follow the final checkpoint",
                        seqRange(cp.rec.seq + 1, last->seq), cp.rec.seq, where(cp.rec)));
        break;
      }
    }
    if (last->seq > sealed_to) {
      add(FindingKind::kUnsealedTail, *last, sealed_to + 1, last->seq,
          fmt::format("{} after the last checkpoint{}: not covered by any signature; the session is still "
                      "running or the log was truncated",
                      seqRange(sealed_to + 1, last->seq),
                      last_cp ? fmt::format(" (seq {})", last_cp->rec.seq) : std::string(" (there is none)")));
    }
    const bool ends_final = last_cp && last_cp->fields.final && last_cp->rec.seq == last->seq;
    report.final_checkpoint = ends_final;
    if (!ends_final) {
      add(FindingKind::kNoFinalCheckpoint, *last, last->seq, last->seq,
          fmt::format("the log ends at seq {} ({}) without a final checkpoint: the session is still running "
                      "or the log was truncated",
                      last->seq, where(*last)));
    }
  }

  // Say what a gap leaves unproven: the lines between the last checkpoint before it and the
  // gap are chain-linked only, because the next checkpoint's head is computed through events
  // this file does not have.
  void annotateGaps() {
    for (const auto& [first_unwritten, idx] : gaps) {
      if (idx == SIZE_MAX) continue;
      uint64_t from = 1;
      for (const ChainCheckpoint& cp : checkpoints) {
        if (cp.rec.seq < first_unwritten) from = cp.rec.seq + 1;
      }
      if (from + 1 > first_unwritten) continue;
      report.findings[idx].message +=
          fmt::format("; {} before it are only chain-linked: no checkpoint signature can cover them, because the "
                      "next checkpoint's head is computed through the unwritten events",
                      seqRange(from, first_unwritten - 1));
    }
  }
};

// ---------------------------------------------------------------------------------------------

Verifier::Verifier(VerifyOptions options) : s_(std::make_unique<State>(std::move(options))) {}
Verifier::~Verifier() = default;
Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;

void Verifier::beginFile(std::string name) {
  if (s_->file_open) endFile();
  s_->report.files.push_back(std::move(name));
  s_->file = static_cast<uint32_t>(s_->report.files.size() - 1);
  s_->file_open = true;
  s_->line = 0;
}

void Verifier::addLine(std::string_view line, bool terminated) {
  if (!s_->file_open) beginFile("-");
  s_->addLine(line, terminated);
}

void Verifier::addOverlongLine(uint64_t bytes) {
  if (!s_->file_open) beginFile("-");
  ++s_->line;
  ++s_->pos;
  ++s_->total_lines;
  s_->malformed(fmt::format("line of {} bytes is longer than the {}-byte limit; not parsed", bytes,
                            s_->opt.max_line_bytes));
}

void Verifier::skipLine() {
  if (!s_->file_open) beginFile("-");
  ++s_->line;
  ++s_->total_lines;
}

void Verifier::endFile() {
  if (!s_->file_open) return;
  s_->file_open = false;
  if (s_->line == 0) {
    Finding f;
    f.kind = FindingKind::kEmptyFile;
    f.file = s_->fileName(s_->file);
    f.message = fmt::format("{} is empty", f.file);
    s_->add(std::move(f));
  }
}

void Verifier::addFinding(Finding finding) { s_->add(std::move(finding)); }

VerifyReport Verifier::finish() {
  endFile();
  return s_->finish();
}

VerifyReport verifyText(std::string_view content, std::string_view name, const VerifyOptions& options) {
  Verifier v(options);
  v.beginFile(std::string(name));
  size_t begin = 0;
  while (begin < content.size()) {
    const size_t nl = content.find('\n', begin);
    if (nl == std::string_view::npos) {
      v.addLine(content.substr(begin), /*terminated=*/false);
      break;
    }
    v.addLine(content.substr(begin, nl - begin));
    begin = nl + 1;
  }
  v.endFile();
  return v.finish();
}

}  // namespace warden::audit
