#include "audit/verify_syslog.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "audit/verify_line.h"
#include "common/encoding.h"

namespace warden::audit {

std::string_view syslogMessageJson(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  constexpr std::string_view kSd = "[warden@32473 ";
  const size_t brace = line.find('{');
  // Only a header's structured data counts: the same text inside the JSON (an agent can make an
  // event carry any string) must not cut the message.
  if (const size_t sd = line.substr(0, brace).find(kSd); sd != std::string_view::npos) {
    // PARAM-VALUEs escape '"', '\' and ']': the SD ends at the first unescaped ']' after it.
    bool in_value = false;
    for (size_t i = sd + kSd.size(); i < line.size(); ++i) {
      const char c = line[i];
      if (in_value && c == '\\') {
        ++i;
      } else if (c == '"') {
        in_value = !in_value;
      } else if (!in_value && c == ']') {
        std::string_view msg = line.substr(i + 1);
        if (!msg.empty() && msg.front() == ' ') msg.remove_prefix(1);
        return msg;
      }
    }
    return line;
  }
  return brace == std::string_view::npos ? line : line.substr(brace);
}

SyslogLineFeeder::SyslogLineFeeder(Verifier& verifier, size_t window)
    : verifier_(verifier), window_(std::max<size_t>(window, 1)) {}

void SyslogLineFeeder::addLine(std::string_view line, bool terminated) {
  const std::string_view json = syslogMessageJson(line);
  verify_line::ParsedLine parsed;
  std::string error;
  if (!verify_line::parseLine(json, parsed, error) || !parsed.has_seq || parsed.seq == 0) {
    verifier_.addLine(json, terminated);
    return;
  }
  const auto full = sha256(json);
  Digest digest;
  std::memcpy(digest.data(), full.data(), digest.size());
  if (digests_.empty()) digests_.resize(window_);
  const size_t slot = parsed.seq % window_;
  const bool in_window = parsed.seq <= highest_ && highest_ - parsed.seq < window_;
  if (in_window && digests_[slot] == digest) {
    ++duplicates_;
    if (first_dup_ == 0 || parsed.seq < first_dup_) first_dup_ = parsed.seq;
    last_dup_ = std::max(last_dup_, parsed.seq);
    verifier_.skipLine();
    return;
  }
  if (parsed.seq > highest_) {
    // Sequences skipped over (missing lines) must not keep digests of a previous lap.
    for (uint64_t s = highest_ + 1; s < parsed.seq && s - highest_ <= window_; ++s) digests_[s % window_] = Digest{};
    highest_ = parsed.seq;
    digests_[slot] = digest;
  }
  verifier_.addLine(json, terminated);
}

void SyslogLineFeeder::finish(std::string_view file) {
  if (duplicates_ == 0) return;
  Finding f;
  f.kind = FindingKind::kDuplicate;
  f.sequence = first_dup_;
  f.last_sequence = last_dup_;
  f.file = std::string(file);
  f.message = fmt::format("{} duplicate deliveries (identical copies of sequences in {}-{}) skipped", duplicates_,
                          first_dup_, last_dup_);
  verifier_.addFinding(std::move(f));
}

}  // namespace warden::audit
