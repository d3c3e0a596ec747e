#pragma once

// A recorded session for the detection tests: events made with the real builders, shaped as
// their producers make them (events.md class table), sequenced like the audit writer does and
// rendered to canonical JSON. Where a producer will carry a field the builders do not have yet
// (process.euid from kernel capture, with the linux/linux_users profile it needs), the test adds it
// to the JSON, as the capture builders will write it.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "detect/engine.h"
#include "ocsf/builders.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"

namespace warden::detect::test {

inline constexpr int64_t kStart = 1'796'000'000'000;

inline ocsf::Process proc(std::string name, int64_t pid, std::string cmd = "", std::string exe = "",
                          std::optional<ocsf::Process> parent = std::nullopt, int64_t uid = 1000) {
  ocsf::Process p;
  p.name = std::move(name);
  p.pid = pid;
  p.uid = uid;
  p.cmd_line = cmd.empty() ? p.name : std::move(cmd);
  ocsf::File f;
  f.path = exe.empty() ? "/usr/bin/" + p.name : std::move(exe);
  f.name = f.path.substr(f.path.rfind('/') + 1);
  f.type_id = ocsf::FileType::kExecutable;
  p.file = f;
  p.working_directory = "/workspace";
  if (parent) p.parent_process = std::make_shared<const ocsf::Process>(std::move(*parent));
  return p;
}

// Splits a command line on spaces (the tests' commands have no quoting).
inline std::vector<std::string> argvOf(const std::string& cmd) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < cmd.size()) {
    const size_t sp = cmd.find(' ', start);
    out.push_back(cmd.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return out;
}

class Trail {
 public:
  explicit Trail(ocsf::SessionContext ctx = ocsf::sampleContext(), int64_t start = kStart)
      : ctx_(std::move(ctx)), now_(start) {}

  const ocsf::SessionContext& ctx() const { return ctx_; }
  int64_t now() const { return now_; }
  void advance(int64_t ms) { now_ += ms; }

  // Sequences `e` (time = now, next sequence), renders it, applies `patch` to the JSON (keys stay
  // sorted: nlohmann's object is a std::map) and keeps the line.
  const std::string& add(ocsf::Event e, const std::function<void(nlohmann::json&)>& patch = nullptr) {
    e.time = now_;
    e.metadata.sequence = ++sequence_;
    e.integrity_prev = std::string(64, 'a');
    std::string line = ocsf::toJsonl(e);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    if (patch) {
      auto j = nlohmann::json::parse(line);
      patch(j);
      line = j.dump();
    }
    lines_.push_back(std::move(line));
    return lines_.back();
  }

  // PROC:LAUNCH of `p` (argv from its cmd_line, as the kernel reports it), with the euid the capture
  // builders will add. (events.md's `lineage` is deprecated in OCSF 1.7.0 — the validator warns —
  // so it is left to capture to carry the ancestry the schema's way; no rule here needs it.)
  const std::string& launch(const ocsf::Process& p, int64_t euid = 1000) {
    return add(ocsf::procLaunch(ctx_, now_, p, argvOf(p.cmd_line)), [&](nlohmann::json& j) {
      j["process"]["euid"] = euid;  // a linux/linux_users attribute: the event declares the profile
      auto& profiles = j["metadata"]["profiles"];
      profiles.push_back("linux/linux_users");
      std::sort(profiles.begin(), profiles.end());
    });
  }

  const std::vector<std::string>& lines() const { return lines_; }
  uint64_t lastSequence() const { return sequence_; }

 private:
  ocsf::SessionContext ctx_;
  int64_t now_;
  uint64_t sequence_ = 0;
  std::vector<std::string> lines_;
};

// Evaluates every line; returns everything the engine produced.
inline EngineOutput replay(Engine& engine, const std::vector<std::string>& lines) {
  EngineOutput out;
  for (const auto& l : lines) engine.evaluate(l, out);
  return out;
}

// The shorthand lines of the findings (and other events) in `out`.
inline std::vector<std::string> shorthand(const EngineOutput& out) {
  std::vector<std::string> s;
  for (const auto& e : out.events) s.push_back(ocsf::toShorthand(e));
  return s;
}

}  // namespace warden::detect::test
