#include "proxy/inspect/install_args.h"

#include <vector>

namespace warden::proxy::inspect {

namespace {

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = s.find_first_not_of(' ', i);
    if (start == std::string_view::npos) break;
    size_t end = s.find(' ', start);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    i = end;
  }
  return out;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool isUrlSpec(std::string_view spec) {
  return startsWith(spec, "http://") || startsWith(spec, "https://") || startsWith(spec, "file:");
}

bool isVcsSpec(std::string_view spec) {
  for (std::string_view p : {"git+", "hg+", "svn+", "bzr+", "git://", "github:", "gitlab:", "bitbucket:", "gist:"}) {
    if (startsWith(spec, p)) return true;
  }
  return false;
}

// The words after the install verb; empty when the command line is not an install.
std::vector<std::string_view> installArguments(PackageManager manager, std::string_view cmd_line) {
  const auto w = words(cmd_line);
  for (size_t i = 0; i < w.size(); ++i) {
    const std::string_view verb = w[i];
    const bool is_install = manager == PackageManager::kNpm
                                ? (verb == "install" || verb == "i" || verb == "add" || verb == "isntall")
                                : verb == "install";
    if (!is_install) continue;
    if (manager == PackageManager::kPip) {
      // "pip install", "python3 -m pip install", "pip3 install"
      bool pip = false;
      for (size_t j = 0; j < i; ++j) pip = pip || w[j].find("pip") != std::string_view::npos;
      if (!pip) continue;
    }
    std::vector<std::string_view> out;
    for (size_t j = i + 1; j < w.size(); ++j) {
      if (startsWith(w[j], "-")) {
        // Options that take a value: skip it too.
        if (w[j] == "-r" || w[j] == "-c" || w[j] == "-i" || w[j] == "--index-url" || w[j] == "--extra-index-url" ||
            w[j] == "-f" || w[j] == "--find-links" || w[j] == "--target" || w[j] == "-t" || w[j] == "--registry" ||
            w[j] == "-o" || w[j] == "--prefix") {
          ++j;
        }
        continue;
      }
      out.push_back(w[j]);
    }
    return out;
  }
  return {};
}

}  // namespace

InstallSpec installSpecFor(PackageManager manager, std::string_view cmd_line, std::string_view name,
                           std::string_view url) {
  InstallSpec spec;
  for (std::string_view arg : installArguments(manager, cmd_line)) {
    if (isVcsSpec(arg) || arg.find("@git+") != std::string_view::npos) {
      spec.vcs = spec.vcs || arg.find(name) != std::string_view::npos || manager == PackageManager::kNpm;
      continue;
    }
    if (isUrlSpec(arg)) {
      if (arg == url || (!url.empty() && url.find(arg) != std::string_view::npos) ||
          arg.find(name) != std::string_view::npos) {
        spec.direct_url = true;
        spec.named = true;
      }
      continue;
    }
    switch (manager) {
      case PackageManager::kPip: {
        // name[extras](specifier) | name @ url
        const size_t cut = arg.find_first_of("[=<>!~;@ ");
        const std::string candidate = normalizePipName(arg.substr(0, cut));
        if (candidate != normalizePipName(name)) break;
        spec.named = true;
        std::string_view rest = cut == std::string_view::npos ? std::string_view() : arg.substr(cut);
        if (!rest.empty() && rest[0] == '[') {
          const size_t close = rest.find(']');
          rest = close == std::string_view::npos ? std::string_view() : rest.substr(close + 1);
        }
        if (!rest.empty() && rest[0] == '@') {
          spec.direct_url = true;
          break;
        }
        spec.requested_version = std::string(rest.substr(0, rest.find(';')));
        break;
      }
      case PackageManager::kNpm: {
        // name@range, @scope/name@range
        const size_t at = arg.find('@', startsWith(arg, "@") ? 1 : 0);
        const std::string_view candidate = arg.substr(0, at);
        if (candidate != name) break;
        spec.named = true;
        spec.requested_version = at == std::string_view::npos ? "latest" : std::string(arg.substr(at + 1));
        break;
      }
      case PackageManager::kApt: {
        const size_t eq = arg.find('=');
        if (arg.substr(0, eq) != name) break;
        spec.named = true;
        if (eq != std::string_view::npos) spec.requested_version = std::string(arg.substr(eq + 1));
        break;
      }
    }
  }
  return spec;
}

bool isInstallerVcsFetch(std::string_view cmd_line) {
  return cmd_line.find("pip-req-build-") != std::string_view::npos ||
         cmd_line.find("pip-install-") != std::string_view::npos ||
         cmd_line.find("_cacache/tmp/git-clone") != std::string_view::npos;
}

}  // namespace warden::proxy::inspect
