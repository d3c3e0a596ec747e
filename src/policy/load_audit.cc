// The `audit` section of a policy: what the kernel capture and the proxy record.

#include <fmt/format.h>

#include "policy/policy_reader.h"

namespace warden::policy {
namespace {

// "**/.env" (any depth) is compiled as the path glob "/**/.env".
std::string anchored(std::string_view pattern) {
  return pattern.starts_with("**") ? "/" + std::string(pattern) : std::string(pattern);
}

}  // namespace

void PolicyReader::loadAudit(const YAML::Node& n, SourceLocation at, AuditSettings& out) {
  forEachEntry(
      n, "audit",
      {"processes", "file_writes", "sensitive_paths", "exclude_paths", "package_sources", "tool_inputs",
       "model_content"},
      at, [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string path = yamlChildPath("audit", key);
        if (key == "processes" || key == "file_writes") {
          if (const auto on = boolean(value, path, key_at)) (key == "processes" ? out.processes : out.file_writes) = *on;
        } else if (key == "sensitive_paths") {
          forEachItem(value, path, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            const auto text = scalar(v, item_path, key_at, "a path");
            if (!text) return;
            const std::string_view p = *text;
            const bool home = p == "~" || p.starts_with("~/");
            if (!home && !p.starts_with("/") && !p.starts_with("**/")) {
              error(v,
                    fmt::format("{}: '{}' must be an absolute path (or '~', '~/...' for the agent's home, or "
                                "'**/name' for any depth)",
                                item_path, echoValue(p)),
                    key_at);
              return;
            }
            if (auto glob = Glob::create(anchored(home ? "/home" + std::string(p.substr(1)) : std::string(p)));
                !glob.ok()) {
              error(v, fmt::format("{}: {}", item_path, glob.error().message()), key_at);
              return;
            }
            out.sensitive_paths.emplace_back(p);
          });
        } else if (key == "exclude_paths") {
          forEachItem(value, path, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            const auto text = scalar(v, item_path, key_at, "a path glob");
            if (!text) return;
            auto glob = Glob::create(anchored(*text));
            if (!glob.ok()) {
              error(v, fmt::format("{}: {} (write an absolute glob or '**/...')", item_path, glob.error().message()),
                    key_at);
              return;
            }
            out.exclude_paths.push_back(std::move(glob).value());
          });
        } else if (key == "package_sources") {
          forEachItem(value, path, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            if (auto host = loadHost(v, item_path, key_at)) out.package_sources.push_back(std::move(*host));
          });
        } else if (key == "tool_inputs") {
          if (const auto level = oneOf(value, path, key_at, {"none", "keys", "summary", "full"})) {
            out.tool_inputs = *level == "none"  ? ToolInputs::kNone
                              : *level == "keys" ? ToolInputs::kKeys
                              : *level == "full" ? ToolInputs::kFull
                                                 : ToolInputs::kSummary;
          }
        } else if (key == "model_content") {
          if (const auto level = oneOf(value, path, key_at, {"none", "summary", "full"})) {
            out.model_content = *level == "summary" ? ModelContent::kSummary
                                : *level == "full"  ? ModelContent::kFull
                                                    : ModelContent::kNone;
          }
        }
      });
}

}  // namespace warden::policy
