#include "sandbox/stale_sessions.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <system_error>

namespace warden::sandbox {
namespace {

std::filesystem::path lockPath(const std::filesystem::path& state_dir, const std::string& id) {
  return state_dir / (id + ".lock");
}

// A session id as Warden makes them (UUIDv7 text): nothing else is ever removed.
bool looksLikeSessionId(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<UniqueFd> lockSessionState(const std::filesystem::path& state_dir, const std::string& session_id) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return errnoError("creating " + state_dir.string(), ec.value());
  ::chmod(state_dir.c_str(), 0755);
  const std::filesystem::path path = lockPath(state_dir, session_id);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return errnoError("open " + path.string());
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return errnoError("flock " + path.string());
  return fd;
}

bool sessionLockHeld(const std::filesystem::path& state_dir, const std::string& session_id) {
  const std::filesystem::path lock = lockPath(state_dir, session_id);
  UniqueFd fd(::open(lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return errno != ENOENT;  // unreadable: assume alive
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return false;  // released when fd closes
  return errno == EWOULDBLOCK;
}

std::vector<std::string> sweepStaleSessionFiles(const std::filesystem::path& sessions_dir,
                                                const std::filesystem::path& state_dir) {
  std::set<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(sessions_dir, ec)) {
    if (entry.path().extension() == ".sock" || entry.path().extension() == ".name") {
      ids.insert(entry.path().stem().string());
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(state_dir, ec)) {
    const std::filesystem::path& p = entry.path();
    ids.insert(p.extension() == ".lock" ? p.stem().string() : p.filename().string());
  }
  const std::filesystem::path roots_dir = sessions_dir.parent_path() / "roots";
  for (const auto& entry : std::filesystem::directory_iterator(roots_dir, ec)) ids.insert(entry.path().filename().string());
  std::vector<std::string> removed;
  for (const std::string& id : ids) {
    if (!looksLikeSessionId(id)) continue;
    const std::filesystem::path lock = lockPath(state_dir, id);
    UniqueFd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // live (or unknowable)
    std::vector<std::string> what;
    std::error_code rm;
    if (std::filesystem::remove(sessions_dir / (id + ".sock"), rm)) what.push_back("control socket");
    std::filesystem::remove(sessions_dir / (id + ".name"), rm);
    if (std::filesystem::remove_all(state_dir / id, rm) > 0) what.push_back("state directory");
    // The agent's root mount point: empty on the host (the mounts lived in the agent's namespace).
    if (std::filesystem::remove(roots_dir / id, rm)) what.push_back("root mount point");
    std::filesystem::remove(lock, rm);
    if (!what.empty()) {
      std::string line = "session " + id + ":";
      for (size_t i = 0; i < what.size(); ++i) line += (i ? ", " : " ") + what[i];
      removed.push_back(line);
    }
  }
  return removed;
}

}  // namespace warden::sandbox
