#pragma once

// Reading a whole file into memory, bounded. Files under /proc and /sys report size 0, so these read
// until EOF instead of trusting st_size.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "common/result.h"

namespace warden {

// What to do with a file longer than the bound.
enum class OverLimit {
  kFail,      // OutOfRange "<what>: larger than <max> bytes"
  kTruncate,  // the first max_bytes (for files where a prefix is all that is wanted)
};

// Reads `fd` from its current offset to EOF, retrying EINTR. A read error is errnoError("read <what>").
Result<std::string> readAll(int fd, std::string_view what, size_t max_bytes, OverLimit over);

// open(path, O_RDONLY | O_CLOEXEC) and readAll(); an open error is errnoError("open <path>").
Result<std::string> readFileBounded(const std::filesystem::path& path, size_t max_bytes, OverLimit over);

// Writes `content` to `path` with `mode` via a temporary file beside it and rename(), so readers
// never see a partial file (O_NOFOLLOW: a link planted at the temporary name is refused).
Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content, mode_t mode);

}  // namespace warden
