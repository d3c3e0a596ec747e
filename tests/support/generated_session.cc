#include "support/generated_session.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_env.h"

namespace warden::testing {

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

GeneratedSession generateSession(const std::filesystem::path& dir, int events) {
  GeneratedSession g;
  const auto r = runCommand(wardenBinary().string() + " audit generate --events " + std::to_string(events) +
                            " --log-dir " + dir.string() + " --ocsf-json 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  g.json = splitLines(readFile(dir / "warden-ocsf.log"));
  for (const auto& line : splitLines(readFile(dir / "warden.log"))) {
    if (line.find(" OCSF ") != std::string::npos) g.log_lines.push_back(line);
  }
  EXPECT_EQ(g.json.size(), g.log_lines.size());
  EXPECT_FALSE(g.json.empty());
  if (g.json.empty()) return g;
  const auto start = nlohmann::json::parse(g.json.front(), nullptr, false);
  if (!start.is_object()) return g;
  g.id = start["metadata"]["correlation_uid"].get<std::string>();
  g.public_key = start["unmapped"]["signing_key"]["public_key"].get<std::string>();
  return g;
}

}  // namespace warden::testing
