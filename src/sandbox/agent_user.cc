#include "sandbox/agent_user.h"

#include <pwd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace warden::sandbox {
namespace {

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads every entry of a passwd-format file (fgetpwent_r: thread-safe, skips nothing silently but
// malformed lines, which it ignores like the C library does for /etc/passwd).
Result<std::vector<PasswdEntry>> readPasswd(const std::filesystem::path& file) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(file.c_str(), "re"));
  if (!f) return errnoError(fmt::format("reading {}", file.string()));
  std::vector<PasswdEntry> entries;
  std::vector<char> buf(4096);
  for (;;) {
    struct passwd pw {};
    struct passwd* result = nullptr;
    const int rc = ::fgetpwent_r(f.get(), &pw, buf.data(), buf.size(), &result);
    if (rc == ERANGE) {
      if (buf.size() >= (1u << 20)) return invalidArgument(fmt::format("{}: line too long", file.string()));
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == ENOENT || result == nullptr) break;
    if (rc != 0) return errnoError(fmt::format("reading {}", file.string()), rc);
    entries.push_back({pw.pw_name ? pw.pw_name : "", pw.pw_uid, pw.pw_gid, pw.pw_dir ? pw.pw_dir : ""});
  }
  return entries;
}

constexpr uint32_t kReservedId = std::numeric_limits<uint32_t>::max();  // (uid_t)-1: "unchanged"

Result<uint32_t> parseId(std::string_view text, std::string_view what, std::string_view whole) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return invalidArgument(fmt::format("run_as_user '{}': {} is not a number", whole, what));
  }
  if (value == kReservedId) {
    return invalidArgument(fmt::format("run_as_user '{}': {} {} is reserved", whole, what, value));
  }
  return value;
}

bool isDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<AgentUser> refuseRoot(AgentUser user, std::string_view what) {
  if (user.uid == 0 || user.gid == 0) {
    return permissionDenied(fmt::format("run_as_user '{}' is uid {} gid {}: the agent never runs as root "
                                        "(uid 0) or with group 0",
                                        what, user.uid, user.gid));
  }
  return user;
}

}  // namespace

Result<AgentUser> resolveAgentUser(const std::optional<std::string>& run_as_user) {
  return resolveAgentUser(run_as_user, "/etc/passwd");
}

Result<AgentUser> resolveAgentUser(const std::optional<std::string>& run_as_user,
                                   const std::filesystem::path& passwd_file) {
  auto entries = readPasswd(passwd_file);
  if (!entries.ok()) return entries.error();
  auto byName = [&](std::string_view name) -> const PasswdEntry* {
    for (const auto& e : *entries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  };
  auto byUid = [&](uid_t uid) -> const PasswdEntry* {
    for (const auto& e : *entries) {
      if (e.uid == uid) return &e;
    }
    return nullptr;
  };

  if (!run_as_user) {
    if (const auto* e = byName(kDefaultAgentName)) {
      return refuseRoot({e->uid, e->gid, e->name, e->home.empty() ? "/tmp" : e->home}, kDefaultAgentName);
    }
    return AgentUser{kDefaultAgentUid, kDefaultAgentGid, kDefaultAgentName, "/tmp"};
  }

  const std::string& spec = *run_as_user;
  if (spec.empty()) return invalidArgument("run_as_user is empty: name a user, or give UID or UID:GID");
  const auto colon = spec.find(':');
  const std::string_view uid_text = std::string_view(spec).substr(0, colon);
  if (colon != std::string::npos || isDigits(uid_text)) {
    auto uid = parseId(uid_text, "the uid", spec);
    if (!uid.ok()) return uid.error();
    AgentUser user;
    user.uid = *uid;
    const auto* e = byUid(user.uid);
    if (colon != std::string::npos) {
      auto gid = parseId(std::string_view(spec).substr(colon + 1), "the gid", spec);
      if (!gid.ok()) return gid.error();
      user.gid = *gid;
    } else {
      user.gid = e ? e->gid : user.uid;
    }
    user.name = e ? e->name : std::to_string(user.uid);
    user.home = (e && !e->home.empty()) ? e->home : "/tmp";
    return refuseRoot(std::move(user), spec);
  }

  const auto* e = byName(spec);
  if (!e) {
    return notFound(fmt::format("run_as_user '{}': no such user in {}", spec, passwd_file.string()));
  }
  return refuseRoot({e->uid, e->gid, e->name, e->home.empty() ? "/tmp" : e->home}, spec);
}

}  // namespace warden::sandbox
