#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace warden::testing {

// A session written by `warden audit generate --ocsf-json` (the real pipeline: chained, signed):
// its JSONL and its warden.log OCSF lines, paired, with its id and LOG:START public key. What the
// gateway's tests register and push as a session would.
struct GeneratedSession {
  std::string id, public_key;
  std::vector<std::string> json;       // warden-ocsf.log
  std::vector<std::string> log_lines;  // warden.log OCSF lines, same order
};

// Runs the warden binary into `dir` (gtest failures when it does not work).
GeneratedSession generateSession(const std::filesystem::path& dir, int events);

std::vector<std::string> splitLines(const std::string& text);

}  // namespace warden::testing
