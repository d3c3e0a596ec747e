#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "gateway/settings/runtime_settings.h"

namespace warden::gateway {

// What GetSandboxPolicy serves to one session: the proto's SandboxConfig
// { config_revision, logging.ocsf_enabled }, as plain data (gateway/proto_convert maps it).
struct SandboxConfig {
  uint64_t config_revision = 0;
  bool ocsf_enabled = false;
  bool operator==(const SandboxConfig&) const = default;
};

// The gateway side of the SandboxConfig channel: builds each session's config from the runtime
// settings. config_revision is RuntimeSettings::revision(), one counter for all sessions, so it
// increases on every change of what is served to ANY session (a global change) or to that
// session (a session change) — and also, harmlessly, when another session's value changes.
// Revision and values are read under one lock, so a config never pairs a new revision with an
// old value. Borrows `settings`, which must outlive it; thread-safe like RuntimeSettings.
class SandboxConfigState {
 public:
  explicit SandboxConfigState(const RuntimeSettings& settings) : settings_(settings) {}

  // The config in force for `session` now.
  Result<SandboxConfig> configFor(std::string_view session) const;
  // True when `served` is news to a session that has applied `applied_revision` (0: none yet).
  // The supervisor applies only higher revisions; an equal or lower one is a repeat.
  static bool isNewer(const SandboxConfig& served, uint64_t applied_revision) {
    return served.config_revision > applied_revision;
  }

 private:
  const RuntimeSettings& settings_;
};

// The session side's memory of what it applied: offer() each config received; it returns true
// (and remembers it) only for a higher revision. Not thread-safe (one poller owns it).
class AppliedSandboxConfig {
 public:
  bool offer(const SandboxConfig& served);
  uint64_t revision() const { return applied_.config_revision; }
  const SandboxConfig& current() const { return applied_; }

 private:
  SandboxConfig applied_;
};

}  // namespace warden::gateway
