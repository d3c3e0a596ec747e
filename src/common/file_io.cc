#include "common/file_io.h"

#include <fcntl.h>
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

}  // namespace warden
