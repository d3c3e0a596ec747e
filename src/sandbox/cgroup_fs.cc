#include "sandbox/cgroup_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "capture/cgroup/cgroup_events.h"
#include "common/file_io.h"
#include "common/unique_fd.h"

namespace warden::sandbox::cgroupfs {

Result<std::string> readText(const std::string& path) {
  auto text = readFileBounded(path, 1u << 20, OverLimit::kFail);
  if (!text.ok() && text.error().code() == Code::kOutOfRange) return resourceExhausted(path + ": more than 1 MiB");
  return text;
}

Result<void> writeText(const std::string& path, std::string_view text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errnoError("open " + path);
  ssize_t n;
  do {
    n = ::write(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errnoError("write '" + std::string(text) + "' to " + path);
  if (static_cast<size_t>(n) != text.size()) return internalError("short write to " + path);
  return okResult();
}

int writeRaw(const std::string& path, std::string_view text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  ssize_t n;
  do {
    n = ::write(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  return static_cast<size_t>(n) == text.size() ? 0 : EIO;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<pid_t> readProcs(const std::string& dir) {
  std::vector<pid_t> out;
  auto text = readText(dir + "/cgroup.procs");
  if (!text.ok()) return out;
  pid_t v = 0;
  bool in_number = false;
  for (char c : *text) {
    if (c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      in_number = true;
    } else {
      if (in_number && v > 0) out.push_back(v);
      v = 0;
      in_number = false;
    }
  }
  if (in_number && v > 0) out.push_back(v);
  return out;
}

std::optional<uint64_t> readNumber(const std::string& path) {
  auto text = readText(path);
  if (!text.ok()) return std::nullopt;
  auto v = capture::parseSingleValue(*text);
  if (!v.ok()) return std::nullopt;
  return *v;
}

std::optional<uint64_t> readKey(const std::string& path, const std::string& key) {
  auto text = readText(path);
  if (!text.ok()) return std::nullopt;
  auto map = capture::parseFlatKeyed(*text);
  if (!map.ok()) return std::nullopt;
  auto it = map->find(key);
  if (it == map->end()) return std::nullopt;
  return it->second;
}

}  // namespace warden::sandbox::cgroupfs
