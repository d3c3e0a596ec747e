#include "gateway/client/operator_log_dir.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "audit/log_file.h"
#include "gateway/client/operator_args.h"

namespace warden::gateway {
namespace {

constexpr std::string_view kShorthandLog = "warden.log";
constexpr std::string_view kJsonLog = "warden-ocsf.log";
// Longer lines are skipped (the JSONL limit of one event is 4 MiB; warden.log lines are KiBs).
constexpr size_t kMaxLineBytes = 16u << 20;
constexpr size_t kReadChunk = 1u << 16;

bool classWanted(const LogDirFilter& filter, std::string_view cls) {
  return filter.classes.empty() ||
         std::find(filter.classes.begin(), filter.classes.end(), cls) != filter.classes.end();
}

bool shorthandLineMatches(std::string_view line, const LogDirFilter& filter) {
  // `<UTC ts ms> OCSF <shorthand>`
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos || line.substr(sp + 1, 5) != "OCSF ") return false;
  const auto time = parseRfc3339Millis(line.substr(0, sp));
  if (!time) return false;
  const std::string_view shorthand = line.substr(sp + 6);
  const std::string_view cls = shorthandClass(shorthand);
  if (cls.empty()) return false;
  if (filter.since_ms != 0 && *time < filter.since_ms) return false;
  if (!classWanted(filter, cls)) return false;
  return filter.min_severity == 0 || shorthandSeverity(shorthand) >= filter.min_severity;
}

const nlohmann::json* member(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

int64_t intMember(const nlohmann::json& j, const char* name) {
  const nlohmann::json* m = member(j, name);
  if (m == nullptr || !m->is_number_integer()) return 0;
  return m->get<int64_t>();
}

std::string classOf(const nlohmann::json& j) {
  switch (intMember(j, "class_uid")) {
    case 1001:
      return "FILE";
    case 1007:
      return "PROC";
    case 1008:
      return "LOG";
    case 2004:
      return "FINDING";
    case 4001:
      return "NET";
    case 4002:
      return "HTTP";
    case 4003:
      return "DNS";
    case 4007:
      return "SSH";
    case 5019:
      return "CONFIG";
    case 6003: {
      // API (calls to Warden's own API) carry unmapped.auth, model calls unmapped.model; the rest
      // are the agent's tool calls.
      const nlohmann::json* unmapped = member(j, "unmapped");
      if (unmapped != nullptr && member(*unmapped, "auth") != nullptr) return "API";
      if (unmapped != nullptr && member(*unmapped, "model") != nullptr) return "MODEL";
      return "TOOL";
    }
    case 6002: {
      const nlohmann::json* unmapped = member(j, "unmapped");
      if (unmapped != nullptr && member(*unmapped, "package") != nullptr) return "PKG";
      const nlohmann::json* app = member(j, "app");
      const nlohmann::json* name = app == nullptr ? nullptr : member(*app, "name");
      if (name != nullptr && name->is_string() && name->get_ref<const std::string&>() == "warden-session") {
        return "SESSION";
      }
      return "LIFECYCLE";
    }
    default: {
      const nlohmann::json* unmapped = member(j, "unmapped");
      const nlohmann::json* limit = unmapped == nullptr ? nullptr : member(*unmapped, "limit");
      return limit != nullptr && limit->is_object() ? "LIMIT" : "EVENT";
    }
  }
}

}  // namespace

std::string jsonEventClass(std::string_view line) {
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return {};
  return classOf(j);
}

bool logLineMatches(std::string_view line, LogDirFormat format, const LogDirFilter& filter) {
  if (format == LogDirFormat::kShorthand) return shorthandLineMatches(line, filter);
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  if (filter.since_ms != 0 && intMember(j, "time") < filter.since_ms) return false;
  if (filter.min_severity != 0) {
    const int64_t sev = intMember(j, "severity_id");
    // Unknown (0) and Other (99) read as INFO, as the shorthand's tag shows them.
    if ((sev == 0 || sev == 99 ? 1 : sev) < filter.min_severity) return false;
  }
  return classWanted(filter, classOf(j));
}

Result<LogDirReader> LogDirReader::open(std::filesystem::path dir, LogDirFormat format, LogDirFilter filter) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return notFound("log directory " + dir.string() + " does not exist or is not a directory");
  }
  LogDirReader r;
  r.dir_ = std::move(dir);
  r.name_ = std::string(format == LogDirFormat::kJson ? kJsonLog : kShorthandLog);
  r.format_ = format;
  r.filter_ = std::move(filter);
  return r;
}

bool LogDirReader::hasFiles() const {
  std::error_code ec;
  return std::filesystem::exists(dir_ / name_, ec) || !audit::LogFile::rotatedFiles(dir_, name_).empty();
}

void LogDirReader::handLines(const LineFn& on_line) {
  size_t begin = 0;
  for (;;) {
    const size_t nl = partial_.find('\n', begin);
    if (nl == std::string::npos) break;
    const std::string_view line(partial_.data() + begin, nl - begin);
    if (skipping_) {
      skipping_ = false;
    } else if (logLineMatches(line, format_, filter_)) {
      on_line(line);
    }
    begin = nl + 1;
  }
  partial_.erase(0, begin);
  if (partial_.size() > kMaxLineBytes) {
    partial_.clear();
    skipping_ = true;
  }
}

Result<void> LogDirReader::readAvailable(int fd, const std::string& what, const LineFn& on_line) {
  char buf[kReadChunk];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoError("read " + what);
    if (n == 0) return okResult();
    if (fd == live_.get()) offset_ += static_cast<uint64_t>(n);
    partial_.append(buf, static_cast<size_t>(n));
    handLines(on_line);
  }
}

Result<void> LogDirReader::readAll(const LineFn& on_line) {
  for (const auto& path : audit::LogFile::rotatedFiles(dir_, name_)) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) continue;  // pruned meanwhile
      return errnoError("open " + path.string());
    }
    WARDEN_RETURN_IF_ERROR(readAvailable(fd.get(), path.string(), on_line));
    partial_.clear();  // a rotated file is complete; an unterminated tail is not an event
    skipping_ = false;
  }
  return drainLive(on_line);
}

Result<void> LogDirReader::drainLive(const LineFn& on_line) {
  const std::filesystem::path path = dir_ / name_;
  for (;;) {
    if (live_.valid()) WARDEN_RETURN_IF_ERROR(readAvailable(live_.get(), path.string(), on_line));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return okResult();  // not created yet, or renamed and not yet replaced
      return errnoError("stat " + path.string());
    }
    if (live_.valid() && st.st_dev == live_dev_ && st.st_ino == live_ino_) {
      if (static_cast<uint64_t>(st.st_size) >= offset_) return okResult();
      // Truncated: read it again from the start.
      if (::lseek(live_.get(), 0, SEEK_SET) < 0) return errnoError("lseek " + path.string());
      offset_ = 0;
      partial_.clear();
      skipping_ = false;
      continue;
    }
    // A new live file (first open, or a rotation: the old one was read to its end above).
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) return okResult();
      return errnoError("open " + path.string());
    }
    struct stat opened {};
    if (::fstat(fd.get(), &opened) != 0) return errnoError("fstat " + path.string());
    live_ = std::move(fd);
    live_dev_ = opened.st_dev;
    live_ino_ = opened.st_ino;
    offset_ = 0;
    partial_.clear();
    skipping_ = false;
  }
}

Result<void> LogDirReader::follow(const LineFn& on_line, int stop_fd) {
  UniqueFd watch(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!watch.valid()) return errnoError("inotify_init1");
  constexpr uint32_t kMask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                             IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
  if (::inotify_add_watch(watch.get(), dir_.c_str(), kMask) < 0) return errnoError("watch " + dir_.string());
  for (;;) {
    // Read first: lines written between readAll() and the watch are not missed.
    WARDEN_RETURN_IF_ERROR(drainLive(on_line));
    pollfd fds[2] = {{watch.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoError("poll");
    if (fds[1].revents != 0) return okResult();
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) return internalError("inotify descriptor failed");
    alignas(inotify_event) char events[4096];
    bool gone = false;
    for (;;) {
      const ssize_t got = ::read(watch.get(), events, sizeof events);
      if (got <= 0) break;
      for (ssize_t i = 0; i < got;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(events + i);
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) gone = true;
        i += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
    if (gone) {
      WARDEN_RETURN_IF_ERROR(drainLive(on_line));
      return failedPrecondition("log directory " + dir_.string() +
                                " was removed or moved while following it");
    }
  }
}

}  // namespace warden::gateway
