#include "audit/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <tuple>

#include <fmt/format.h>

namespace warden::audit {

namespace fs = std::filesystem;

namespace {

uint64_t countLines(std::string_view s) { return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n')); }

// Parses `<name>.YYYY-MM-DD[.N]`; false for anything else (including another family's files).
bool parseRotatedName(std::string_view file, std::string_view name, std::string& date, uint64_t& n) {
  if (file.size() < name.size() + 11 || file.substr(0, name.size()) != name || file[name.size()] != '.') {
    return false;
  }
  const std::string_view rest = file.substr(name.size() + 1);
  const std::string_view d = rest.substr(0, 10);
  for (size_t i = 0; i < d.size(); ++i) {
    const bool dash = i == 4 || i == 7;
    if (dash ? d[i] != '-' : (d[i] < '0' || d[i] > '9')) return false;
  }
  n = 0;
  if (rest.size() > 10) {
    if (rest[10] != '.' || rest.size() == 11 || rest.size() > 11 + 9) return false;
    for (const char c : rest.substr(11)) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
  }
  date.assign(d);
  return true;
}

void syncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Result<LogFile> LogFile::open(const fs::path& dir, std::string name, size_t max_pending_bytes) {
  LogFile f;
  f.dir_ = dir;
  f.name_ = std::move(name);
  f.path_ = dir / f.name_;
  f.max_pending_bytes_ = max_pending_bytes;
  WARDEN_RETURN_IF_ERROR(f.reopen());
  return f;
}

Result<void> LogFile::reopen() {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errnoError(fmt::format("open {}", path_.string()));
  UniqueFd owned(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errnoError(fmt::format("fstat {}", path_.string()));
  if (!S_ISREG(st.st_mode)) return failedPrecondition(fmt::format("{} is not a regular file", path_.string()));
  bool torn = false;
  if (st.st_size > 0) {
    // A file left by a crash may end in a partial line; the next write starts a fresh line.
    const int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    char last = '\n';
    if (rfd >= 0) {
      if (::pread(rfd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rfd);
    }
    torn = last != '\n';
  }
  fd_ = std::move(owned);
  size_ = static_cast<uint64_t>(st.st_size);
  torn_ = torn;
  return okResult();
}

void LogFile::addPending(std::string_view lines) {
  if (lines.empty()) return;
  const size_t room = max_pending_bytes_ > pending_.size() ? max_pending_bytes_ - pending_.size() : 0;
  size_t keep = lines.size();
  if (keep > room) {
    // Keep the oldest whole lines that fit; the rest are lost (and counted).
    const size_t nl = room == 0 ? std::string_view::npos : lines.substr(0, room).rfind('\n');
    keep = nl == std::string_view::npos ? 0 : nl + 1;
    lines_lost_ += countLines(lines.substr(keep));
  }
  pending_.append(lines.substr(0, keep));
  pending_lines_ += countLines(lines.substr(0, keep));
}

// Writes `data` (complete lines). Returns how many bytes of it are now in the file as complete
// lines; on failure the file is cut back to the last complete line and `err` is set.
static size_t writeLines(int fd, std::string_view data, uint64_t& size, bool& torn, int& err) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    err = n < 0 ? errno : EIO;
    break;
  }
  if (done == data.size()) {
    size += done;
    return done;
  }
  const size_t nl = data.substr(0, done).rfind('\n');
  const size_t complete = nl == std::string_view::npos ? 0 : nl + 1;
  if (done > complete && ::ftruncate(fd, static_cast<off_t>(size + complete)) != 0) torn = true;
  size += complete;
  return complete;
}

bool LogFile::writePending() {
  if (!fd_.valid()) {
    last_errno_ = EBADF;
    return false;
  }
  if (torn_) {
    int err = 0;
    if (writeLines(fd_.get(), "\n", size_, torn_, err) != 1) {
      last_errno_ = err;
      return false;
    }
    torn_ = false;
  }
  if (pending_.empty()) return true;
  int err = 0;
  const size_t w = writeLines(fd_.get(), pending_, size_, torn_, err);
  const uint64_t written_lines = countLines(std::string_view(pending_).substr(0, w));
  if (failing_) lines_delayed_ += written_lines;
  pending_lines_ -= written_lines;
  pending_.erase(0, w);
  if (!pending_.empty()) last_errno_ = err;
  return pending_.empty();
}

LogFile::WriteOutcome LogFile::append(std::string_view lines) {
  bool ok;
  if (pending_.empty() && !torn_ && fd_.valid()) {
    int err = 0;
    const size_t w = writeLines(fd_.get(), lines, size_, torn_, err);
    ok = w == lines.size();
    if (!ok) {
      last_errno_ = err;
      addPending(lines.substr(w));
    }
  } else {
    addPending(lines);
    ok = writePending();
  }
  if (ok) {
    if (failing_) {
      failing_ = false;
      return WriteOutcome::kRecovered;
    }
    return WriteOutcome::kOk;
  }
  if (!failing_) {
    failing_ = true;
    return WriteOutcome::kFailed;
  }
  return WriteOutcome::kStillFailing;
}

bool LogFile::sync() {
  if (failing_ || !fd_.valid()) return false;
  if (::fdatasync(fd_.get()) != 0) {
    last_errno_ = errno;
    return false;
  }
  return true;
}

uint64_t LogFile::discardPending() {
  const uint64_t n = pending_lines_;
  lines_lost_ += n;
  pending_.clear();
  pending_lines_ = 0;
  return n;
}

Result<std::optional<std::string>> LogFile::rotate(std::string_view date) {
  if (size_ == 0) return std::optional<std::string>();
  // One past the highest suffix already used for this date, so names sort in rotation order
  // even after pruning has freed lower ones.
  std::optional<uint64_t> highest;
  for (const auto& p : rotatedFiles(dir_, name_)) {
    std::string d;
    uint64_t n = 0;
    if (parseRotatedName(p.filename().string(), name_, d, n) && d == date) highest = std::max(highest.value_or(0), n);
  }
  std::string target = highest ? fmt::format("{}.{}.{}", name_, date, *highest + 1) : fmt::format("{}.{}", name_, date);
  std::error_code ec;
  if (fs::exists(dir_ / target, ec) || ec) target.clear();
  if (target.empty()) return alreadyExists(fmt::format("{}: cannot pick a rotated name for {} (taken or unreadable)", name_, date));
  if (::rename(path_.c_str(), (dir_ / target).c_str()) != 0) {
    return errnoError(fmt::format("rename {} to {}", path_.string(), target));
  }
  // The old descriptor now names the rotated file; keep it until the new one is open, so a
  // failed open leaves us writing somewhere rather than nowhere.
  auto reopened = reopen();
  syncDirectory(dir_);
  if (!reopened.ok()) return reopened.error();
  return std::optional<std::string>(std::move(target));
}

std::vector<fs::path> LogFile::rotatedFiles(const fs::path& dir, std::string_view name) {
  std::vector<std::tuple<std::string, uint64_t, fs::path>> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    std::string date;
    uint64_t n = 0;
    if (parseRotatedName(file, name, date, n)) found.emplace_back(std::move(date), n, it->path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back(std::move(std::get<2>(f)));
  return out;
}

uint64_t LogFile::prune(int keep) const { return pruneFamily(dir_, name_, keep); }

uint64_t LogFile::pruneFamily(const fs::path& dir, std::string_view name, int keep) {
  const auto files = rotatedFiles(dir, name);
  const size_t k = keep < 0 ? 0 : static_cast<size_t>(keep);
  uint64_t deleted = 0;
  for (size_t i = 0; i + k < files.size(); ++i) {
    std::error_code ec;
    if (fs::remove(files[i], ec)) ++deleted;
  }
  return deleted;
}

}  // namespace warden::audit
