#include "policy/loader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "common/encoding.h"
#include "common/file_io.h"
#include "common/unique_fd.h"
#include "policy/policy_reader.h"

namespace warden::policy {

void PolicyReader::load(const YAML::Node& root, Policy& policy) {
  if (root.IsNull()) {
    error(SourceLocation{1, 1}, "the policy is empty; it needs at least 'version: 1'");
    return;
  }
  const SourceLocation top = locate(root, {1, 1});
  bool have_version = false;
  forEachEntry(root, "", {"version", "process", "resources", "filesystem", "audit", "credentials", "network"}, top,
               [&](const std::string& key, SourceLocation at, const YAML::Node& value) {
                 if (key == "version") {
                   have_version = true;
                   loadVersion(value, key, at, policy);
                 } else if (key == "process") {
                   loadProcess(value, at, policy.process);
                 } else if (key == "resources") {
                   loadResources(value, at, policy.resources);
                 } else if (key == "filesystem") {
                   loadFilesystem(value, at, policy.filesystem);
                 } else if (key == "audit") {
                   loadAudit(value, at, policy.audit);
                 } else if (key == "credentials") {
                   loadCredentials(value, at, policy.credentials);
                 } else if (key == "network") {
                   loadNetwork(value, at, policy.network);
                 }
               });
  if (root.IsMap() && !have_version && !stopped()) error(top, "missing 'version: 1' at the top level");
}

void PolicyReader::loadVersion(const YAML::Node& n, const std::string& path, SourceLocation at, Policy& policy) {
  const auto text = scalar(n, path, at, "the number 1");
  if (!text) return;
  const auto v = parseWholeNumber(*text);
  if (!v || *v != 1) {
    error(n, fmt::format("unsupported policy version '{}'; this Warden reads version 1", echoValue(*text)), at);
    return;
  }
  policy.version = static_cast<int>(*v);
}

namespace {

Result<Policy> finish(Policy policy, Diagnostics& found, Diagnostics* diagnostics) {
  found.sortByLocation();
  if (diagnostics != nullptr) diagnostics->append(found);
  if (!found.empty()) return invalidArgument(found.toString());
  return policy;
}

}  // namespace

Result<Policy> loadPolicyText(std::string_view text, std::string_view name, Diagnostics* diagnostics) {
  Diagnostics found;
  Policy policy;
  policy.source = std::string(name);
  policy.hash = sha256Hex(text);
  if (text.size() > kMaxPolicyBytes) {
    found.add(name, {},
              fmt::format("the file is {} bytes; a policy may be at most {} bytes", text.size(), kMaxPolicyBytes));
    return finish(std::move(policy), found, diagnostics);
  }
  if (const auto root = parseYamlDocument(text, name, kMaxPolicyBytes, found)) {
    PolicyReader reader(name, found);
    reader.load(*root, policy);
  }
  return finish(std::move(policy), found, diagnostics);
}

Result<Policy> loadPolicyFile(const std::filesystem::path& path, Diagnostics* diagnostics) {
  const std::string name = path.string();
  auto fail = [&](Error error) -> Result<Policy> {
    if (diagnostics != nullptr) diagnostics->add(name, {}, error.message());
    return error;
  };
  UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fail(errnoError(fmt::format("cannot open policy file '{}'", name)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(errnoError(fmt::format("cannot stat policy file '{}'", name)));
  if (S_ISDIR(st.st_mode)) return fail(invalidArgument(fmt::format("'{}' is a directory, not a policy file", name)));
  auto text = readAll(fd.get(), name, kMaxPolicyBytes, OverLimit::kFail);
  if (!text.ok()) {
    if (text.error().code() == Code::kOutOfRange) {
      return fail(invalidArgument(
          fmt::format("'{}' is larger than {} bytes; a policy may be at most that large", name, kMaxPolicyBytes)));
    }
    return fail(text.error().withContext(fmt::format("cannot read policy file '{}'", name)));
  }
  return loadPolicyText(*text, name, diagnostics);
}

}  // namespace warden::policy
