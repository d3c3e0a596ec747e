#pragma once

// Shared helpers for the audit pipeline tests (not a test file itself).

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/pipeline.h"
#include "common/clock.h"
#include "ocsf/event.h"
#include "support/test_env.h"

namespace warden::audit::testutil {

// 2026-11-23T12:00:00.000Z
inline constexpr int64_t kNoon = 1795435200000;

inline ocsf::SessionContext testSession() {
  ocsf::SessionContext s;
  s.session_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  s.session_name = "agent-7";
  s.hostname = "host1";
  return s;
}

// A Base Event (EVENT) whose message is `message`, at `time`.
inline ocsf::Event testEvent(int64_t time, std::string message) {
  ocsf::Event e;
  e.kind = ocsf::Kind::kEvent;
  e.class_uid = ocsf::ClassUid::kBase;
  e.activity_id = 99;
  e.activity_name = "Test";
  e.time = time;
  e.message = std::move(message);
  return e;
}

// Collects on_error messages from the writer thread.
struct ErrorSink {
  std::mutex mu;
  std::vector<std::string> messages;  // Guarded by mu.
  void add(std::string_view m) {
    std::lock_guard lk(mu);
    messages.emplace_back(m);
  }
  std::string joined() {
    std::lock_guard lk(mu);
    std::string all;
    for (const auto& m : messages) all.append(m).append("\n");
    return all;
  }
};

// Options with test defaults: a temp log dir, the manual clock, a fast idle poll.
inline PipelineOptions testOptions(const std::filesystem::path& dir, const Clock& clock, ErrorSink* errors = nullptr) {
  PipelineOptions o;
  o.log_dir = dir;
  o.session = testSession();
  o.clock = &clock;
  o.idle_poll = std::chrono::milliseconds(2);
  if (errors != nullptr) {
    o.on_error = [errors](std::string_view m) { errors->add(m); };
  } else {
    o.on_error = [](std::string_view) {};
  }
  return o;
}

// The lines of a file, without their newlines. `complete` is false if the file does not end
// with a newline (a partial last line).
struct FileLines {
  std::vector<std::string> lines;
  bool complete = true;
};
inline FileLines fileLines(const std::filesystem::path& path) {
  FileLines r;
  const std::string text = warden::testing::readFile(path);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      r.lines.push_back(text.substr(pos));
      r.complete = false;
      break;
    }
    r.lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return r;
}

// Every line parsed as JSON (a parse failure is a null value, which tests catch).
inline std::vector<nlohmann::json> jsonLines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : fileLines(path).lines) {
    out.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
  }
  return out;
}

inline bool isLog(const nlohmann::json& j, std::string_view activity_name) {
  return j.value("class_uid", 0) == 1008 && j.value("activity_name", "") == activity_name;
}

inline bool fileContains(const std::filesystem::path& path, std::string_view needle) {
  return warden::testing::readFile(path).find(needle) != std::string::npos;
}

}  // namespace warden::audit::testutil
