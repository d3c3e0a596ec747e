// `warden audit verify PATH...`: which files a session's JSONL is in, in chain order, and reading
// them line by line into a Verifier with bounded memory.

#include "audit/verify_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "audit/verify_line.h"
#include "audit/verify_syslog.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::audit {
namespace {

using verify_line::ParsedLine;

constexpr std::string_view kJsonlName = "warden-ocsf.log";

// Reads `fd` line by line into `v` (a Verifier, or a SyslogLineFeeder in front of one), never
// holding more than one line (up to the limit) and a read chunk in memory.
template <typename LineTarget>
Result<void> readLines(int fd, LineTarget& v, size_t max_line) {
  constexpr size_t kChunk = 1u << 20;
  std::string buf;
  size_t begin = 0;
  bool skipping = false;
  uint64_t skipped = 0;
  for (;;) {
    if (begin > 0) {
      buf.erase(0, begin);
      begin = 0;
    }
    const size_t old = buf.size();
    buf.resize(old + kChunk);
    ssize_t n;
    do {
      n = ::read(fd, buf.data() + old, kChunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      buf.resize(old);
      return errnoError("read");
    }
    buf.resize(old + static_cast<size_t>(n));
    if (n == 0) break;
    size_t scan = old;
    for (;;) {
      const void* nl = std::memchr(buf.data() + scan, '\n', buf.size() - scan);
      if (nl == nullptr) break;
      const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
      if (skipping) {
        v.addOverlongLine(skipped + (end - begin));
        skipping = false;
        skipped = 0;
      } else {
        v.addLine(std::string_view(buf.data() + begin, end - begin));
      }
      begin = end + 1;
      scan = begin;
    }
    if (buf.size() - begin > max_line) {
      skipping = true;
      skipped += buf.size() - begin;
      begin = buf.size();
    }
  }
  if (skipping) {
    v.addOverlongLine(skipped + (buf.size() - begin));
  } else if (begin < buf.size()) {
    v.addLine(std::string_view(buf.data() + begin, buf.size() - begin), /*terminated=*/false);
  }
  return okResult();
}

// metadata.sequence of a file's first line, if it has one (reads at most 1 MiB).
std::optional<uint64_t> firstSequence(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string buf;
  constexpr size_t kMax = 1u << 20;
  char chunk[65536];
  while (buf.size() < kMax && buf.find('\n') == std::string::npos) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t nl = buf.find('\n');
  if (nl != std::string::npos) buf.resize(nl);
  ParsedLine parsed;
  std::string error;
  if (!verify_line::parseLine(buf, parsed, error) || !parsed.has_seq) return std::nullopt;
  return parsed.seq;
}

bool isJsonlLogName(std::string_view name) {
  return name == kJsonlName || (name.size() > kJsonlName.size() + 1 && name.substr(0, kJsonlName.size()) == kJsonlName &&
                                name[kJsonlName.size()] == '.');
}

}  // namespace

LogFileSet collectLogFiles(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  LogFileSet out;
  std::vector<std::string> files;
  auto unreadable = [&](const std::string& path, std::string message) {
    Finding f;
    f.kind = FindingKind::kUnreadable;
    f.file = path;
    f.message = std::move(message);
    out.unreadable.push_back(std::move(f));
  };
  for (const std::string& p : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      unreadable(p, fmt::format("{}: no such file or directory", p));
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code ec2;
        if (isJsonlLogName(name) && it->is_regular_file(ec2)) found.push_back(it->path().string());
      }
      if (ec) {
        unreadable(p, fmt::format("{}: cannot list directory: {}", p, ec.message()));
        continue;
      }
      if (found.empty()) {
        unreadable(p, fmt::format("{}: no {}* files in this directory", p, kJsonlName));
        continue;
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }
  // The same file twice would read as every line inserted again.
  std::vector<std::string> unique;
  std::vector<fs::path> seen;
  for (const std::string& f : files) {
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(f, ec);
    if (ec) canon = f;
    if (std::find(seen.begin(), seen.end(), canon) != seen.end()) continue;
    seen.push_back(canon);
    unique.push_back(f);
  }
  // Oldest first: by the first line's sequence; the live file last among equals; unknown last.
  struct Keyed {
    uint64_t seq;
    int live;
    size_t index;
    std::string path;
  };
  std::vector<Keyed> keyed;
  for (size_t i = 0; i < unique.size(); ++i) {
    const auto seq = firstSequence(unique[i]);
    const bool live = fs::path(unique[i]).filename() == kJsonlName;
    keyed.push_back({seq.value_or(std::numeric_limits<uint64_t>::max()), live ? 1 : 0, i, unique[i]});
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.seq != b.seq) return a.seq < b.seq;
    return a.live < b.live;
  });
  for (auto& k : keyed) out.files.push_back(std::move(k.path));
  return out;
}

namespace {

// Streams each file through `v` (directly, or through a SyslogLineFeeder with `syslog`).
void readFiles(Verifier& v, const std::vector<std::string>& files, const VerifyOptions& options, bool syslog) {
  for (const std::string& path : files) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const Error e = errnoError(path);
      Finding f;
      f.kind = FindingKind::kUnreadable;
      f.file = path;
      f.message = fmt::format("cannot open {}", e.message());
      v.addFinding(std::move(f));
      continue;
    }
    v.beginFile(path);
    Result<void> r = okResult();
    if (syslog) {
      SyslogLineFeeder feeder(v);
      r = readLines(fd, feeder, options.max_line_bytes);
      feeder.finish(path);
    } else {
      r = readLines(fd, v, options.max_line_bytes);
    }
    ::close(fd);
    if (!r.ok()) {
      Finding f;
      f.kind = FindingKind::kUnreadable;
      f.file = path;
      f.message = fmt::format("{}: {}", path, r.error().message());
      v.addFinding(std::move(f));
    }
    v.endFile();
  }
}

}  // namespace

VerifyReport verifyPaths(const std::vector<std::string>& paths, const VerifyOptions& options) {
  Verifier v(options);
  LogFileSet set = collectLogFiles(paths);
  for (Finding& f : set.unreadable) v.addFinding(std::move(f));
  readFiles(v, set.files, options, /*syslog=*/false);
  return v.finish();
}

VerifyReport verifySyslogFiles(const std::vector<std::string>& files, const VerifyOptions& options) {
  Verifier v(options);
  readFiles(v, files, options, /*syslog=*/true);
  return v.finish();
}

}  // namespace warden::audit
