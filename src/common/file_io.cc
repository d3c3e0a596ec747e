#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/unique_fd.h"

namespace warden {

Result<std::string> readAll(int fd, std::string_view what, size_t max_bytes, OverLimit over) {
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    // One byte past the bound tells a file of exactly max_bytes from a longer one.
    const size_t left = max_bytes - std::min(out.size(), max_bytes);
    const size_t want = left < sizeof buf ? left + 1 : sizeof buf;
    const ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("read " + std::string(what));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      if (over == OverLimit::kTruncate) {
        out.resize(max_bytes);
        break;
      }
      return outOfRange(std::string(what) + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return out;
}

Result<std::string> readFileBounded(const std::filesystem::path& path, size_t max_bytes, OverLimit over) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return errnoError("open " + path.string());
  return readAll(fd.get(), path.string(), max_bytes, over);
}

Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp" + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) return errnoError("create " + tmp.string());
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::unlink(tmp.c_str());
      return errnoError("write " + tmp.string(), err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0 || ::close(fd.release()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return errnoError("finish " + tmp.string(), err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return errnoError("rename " + tmp.string() + " -> " + path.string(), err);
  }
  return okResult();
}

}  // namespace warden
