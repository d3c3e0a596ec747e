#pragma once

// Internal to the policy loader: the walk of one parsed policy document into a Policy, one member
// function per section, each in its own file (load_<section>.cc). Shares YamlReader's diagnostics
// (common/yaml_reader.h). Single use, single thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/yaml_reader.h"
#include "policy/model.h"

namespace warden::policy {

class PolicyReader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  // The whole document: version, process, resources, filesystem, audit, credentials, network.
  void load(const YAML::Node& root, Policy& policy);

  // Sections.
  void loadVersion(const YAML::Node& n, const std::string& path, SourceLocation at, Policy& policy);
  void loadProcess(const YAML::Node& n, SourceLocation at, ProcessSettings& out);
  void loadResources(const YAML::Node& n, SourceLocation at, ResourceLimits& out);
  void loadFilesystem(const YAML::Node& n, SourceLocation at, FilesystemAccess& out);
  void loadAudit(const YAML::Node& n, SourceLocation at, AuditSettings& out);
  void loadCredentials(const YAML::Node& n, SourceLocation at, std::vector<Credential>& out);
  void loadNetwork(const YAML::Node& n, SourceLocation at, std::vector<NetworkRule>& out);

  // Pieces several sections share.
  // Absolute paths (or "~", "~/..." when `allow_home`); no '.'/'..' segments; trailing '/' dropped.
  std::vector<std::string> loadPaths(const YAML::Node& n, const std::string& path, SourceLocation at,
                                     bool allow_home);
  std::optional<uint16_t> loadPort(const YAML::Node& n, const std::string& path, SourceLocation at);
  // A list of ports, deduplicated, at least one.
  std::vector<uint16_t> loadPorts(const YAML::Node& n, const std::string& path, SourceLocation at);
  std::optional<HostPattern> loadHost(const YAML::Node& n, const std::string& path, SourceLocation at);
  std::vector<Glob> loadGlobs(const YAML::Node& n, const std::string& path, SourceLocation at, Glob::Kind kind);

 private:
  void loadRule(const std::string& name, const YAML::Node& n, SourceLocation at, NetworkRule& out);
  void loadBinary(const YAML::Node& n, const std::string& path, SourceLocation at, NetworkRule& out);
  void loadEndpoint(const YAML::Node& n, const std::string& path, SourceLocation at, Endpoint& out);
  void loadTools(const YAML::Node& n, const std::string& path, SourceLocation at, Endpoint& out);
  std::optional<HttpRule> loadHttpRule(const YAML::Node& n, const std::string& path, SourceLocation at);
  std::vector<std::string> loadMethods(const YAML::Node& n, const std::string& path, SourceLocation at);
};

}  // namespace warden::policy
