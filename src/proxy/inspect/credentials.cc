#include "proxy/inspect/credentials.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/encoding.h"
#include "common/file_io.h"
#include "common/unique_fd.h"
#include "policy/glob.h"
#include "proxy/http_codec.h"

namespace warden::proxy::inspect {

namespace {

constexpr size_t kMinValueBytes = 8;
constexpr size_t kMaxValueBytes = 64 * 1024;

std::string placeholderFor(std::string_view name) {
  std::string label;
  for (char c : name) {
    const char l = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
    label.push_back((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') ? l : '-');
  }
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) return "";
  return "warden-cred-" + label + "-" + hexEncode(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
}

size_t replaceAll(std::string& s, std::string_view from, std::string_view to) {
  size_t n = 0;
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
    ++n;
  }
  return n;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return !needle.empty() && haystack.find(needle) != std::string_view::npos;
}

}  // namespace

Result<std::string> readCredentialFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return errnoError(fmt::format("credential file {}", path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errnoError(fmt::format("credential file {}", path));
  if (!S_ISREG(st.st_mode)) return invalidArgument(fmt::format("credential file {} is not a regular file", path));
  const uid_t me = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    return permissionDenied(fmt::format("credential file {} is owned by uid {}, not root", path, st.st_uid));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return permissionDenied(fmt::format("credential file {} has mode {:o}: group or others may read it (chmod 600)", path,
                                        st.st_mode & 07777));
  }
  auto content = readAll(fd.get(), path, kMaxValueBytes, OverLimit::kFail);
  if (!content.ok()) return content.error().withContext("credential file");
  std::string value = std::move(content).value();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return value;
}

bool CredentialVault::Entry::allows(std::string_view host, uint16_t port) const {
  return std::any_of(inject.begin(), inject.end(), [&](const policy::Credential::Target& t) {
    return t.host.matches(host) && std::find(t.ports.begin(), t.ports.end(), port) != t.ports.end();
  });
}

Result<std::shared_ptr<const CredentialVault>> CredentialVault::load(const std::vector<policy::Credential>& credentials,
                                                                     EnvLookup environment) {
  if (!environment) {
    environment = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
  std::shared_ptr<CredentialVault> vault(new CredentialVault());
  for (const policy::Credential& c : credentials) {
    Entry e;
    e.name = c.name;
    e.env = c.env;
    e.inject = c.inject;
    if (c.source == policy::Credential::Source::kEnv) {
      auto v = environment(c.source_ref);
      if (!v) {
        return notFound(fmt::format("credential {}: the supervisor's environment has no {} (value_from: env:{})", c.name,
                                    c.source_ref, c.source_ref));
      }
      e.value = std::move(*v);
    } else {
      auto v = readCredentialFile(c.source_ref);
      if (!v.ok()) return v.error().withContext(fmt::format("credential {}", c.name));
      e.value = std::move(v).value();
    }
    if (e.value.empty()) return invalidArgument(fmt::format("credential {}: the value is empty", c.name));
    if (e.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return invalidArgument(fmt::format("credential {}: the value holds CR, LF or NUL and cannot travel in a header", c.name));
    }
    if (e.value.size() < kMinValueBytes) {
      return invalidArgument(fmt::format("credential {}: the value is shorter than {} bytes (too short to tell apart from "
                                         "ordinary text when looking for leaks)",
                                         c.name, kMinValueBytes));
    }
    e.placeholder = placeholderFor(c.name);
    if (e.placeholder.empty()) return internalError("no randomness for credential placeholders (RAND_bytes failed)");
    vault->entries_.push_back(std::move(e));
  }
  return std::shared_ptr<const CredentialVault>(std::move(vault));
}

CredentialVault::~CredentialVault() {
  for (Entry& e : entries_) OPENSSL_cleanse(e.value.data(), e.value.size());
}

std::vector<std::pair<std::string, std::string>> CredentialVault::agentEnvironment() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry& e : entries_) out.emplace_back(e.env, e.placeholder);
  return out;
}

bool CredentialVault::isInjectTarget(std::string_view host, uint16_t port) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.allows(host, port); });
}

CredentialVault::HeadResult CredentialVault::applyToHead(HttpRequestHead& head, std::string_view host,
                                                         uint16_t port) const {
  HeadResult r;
  auto leaked = [&](const Entry& e) {
    if (std::find(r.leaked.begin(), r.leaked.end(), e.name) == r.leaked.end()) r.leaked.push_back(e.name);
  };
  for (const Entry& e : entries_) {
    const bool allowed = e.allows(host, port);
    // The request target: checked, never rewritten (the path policy decided stays the path sent).
    if (!allowed && (contains(head.target, e.placeholder) || contains(head.target, e.value))) leaked(e);
    for (HeaderField& f : head.headers) {
      // Basic credentials (what clients make of https://user:secret@host/) are decoded first.
      const bool basic = (equalsIgnoreCase(f.name, "authorization") || equalsIgnoreCase(f.name, "proxy-authorization")) &&
                         f.value.size() > 6 && equalsIgnoreCase(std::string_view(f.value).substr(0, 6), "basic ");
      if (basic) {
        std::string_view encoded = std::string_view(f.value).substr(6);
        while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
        if (auto decoded = base64Decode(encoded)) {
          const bool has_placeholder = contains(*decoded, e.placeholder);
          const bool has_value = contains(*decoded, e.value);
          if (!allowed && (has_placeholder || has_value)) leaked(e);
          if (allowed && has_placeholder && !equalsIgnoreCase(f.name, "proxy-authorization")) {
            std::string plain = std::move(*decoded);
            r.substituted += replaceAll(plain, e.placeholder, e.value);
            f.value = "Basic " + base64Encode(plain);
            OPENSSL_cleanse(plain.data(), plain.size());
          }
          continue;
        }
      }
      const bool has_placeholder = contains(f.value, e.placeholder);
      if (!allowed) {
        if (has_placeholder || contains(f.value, e.value) || contains(f.name, e.placeholder)) leaked(e);
        continue;
      }
      if (has_placeholder) r.substituted += replaceAll(f.value, e.placeholder, e.value);
    }
  }
  return r;
}

CredentialVault::BodyScanner::BodyScanner(const CredentialVault& vault, std::string_view host, uint16_t port) {
  for (const Entry& e : vault.entries_) {
    if (e.allows(host, port)) continue;  // bodies to an inject endpoint are left as they are
    needles_.emplace_back(e.placeholder, e.name);
    needles_.emplace_back(e.value, e.name);
  }
  for (const auto& [n, name] : needles_) longest_ = std::max(longest_, n.size());
}

std::vector<std::string> CredentialVault::BodyScanner::feed(std::string_view bytes) {
  std::vector<std::string> found;
  if (needles_.empty() || bytes.empty()) return found;
  // Search the carried tail plus the new bytes, so a needle split between reads is found.
  std::string window = tail_;
  window.append(bytes);
  for (const auto& [needle, name] : needles_) {
    if (window.find(needle) == std::string::npos) continue;
    if (std::find(reported_.begin(), reported_.end(), name) != reported_.end()) continue;
    reported_.emplace_back(name);
    found.emplace_back(name);
  }
  const size_t keep = longest_ > 0 ? longest_ - 1 : 0;
  tail_ = window.size() > keep ? window.substr(window.size() - keep) : window;
  OPENSSL_cleanse(window.data(), window.size());
  return found;
}

std::string CredentialVault::scrub(std::string_view text) const {
  std::string out(text);
  for (const Entry& e : entries_) {
    replaceAll(out, e.placeholder, "[credential:" + e.name + "]");
    replaceAll(out, e.value, "[credential:" + e.name + "]");
  }
  return out;
}

}  // namespace warden::proxy::inspect
