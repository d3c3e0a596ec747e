#include "capture/kmsg/bypass_monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "capture/kmsg/bypass_events.h"
#include "common/file_io.h"

namespace warden::capture {
namespace {

constexpr size_t kReadBytes = 16384;        // more than the kernel's largest record (with its dictionary)
constexpr size_t kMaxPendingBytes = 16384;  // a partial line longer than this is dropped
constexpr uint64_t kMaxMalformedReports = 100;

Result<std::string> readSmallFile(const std::string& path) {
  return readFileBounded(path, 65536, OverLimit::kTruncate);
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

bool validTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxPrefixTagBytes) return false;
  for (char c : tag) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return tag.find(": ") == std::string_view::npos;
}

}  // namespace

BypassMonitor::BypassMonitor(Options options, audit::Emitter& emitter, ocsf::SessionContext session)
    : options_(std::move(options)),
      emitter_(emitter),
      session_(std::move(session)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::instance()) {}

BypassMonitor::~BypassMonitor() {
  stop();
}

Result<std::unique_ptr<BypassMonitor>> BypassMonitor::create(Options options, audit::Emitter& emitter,
                                                             const ocsf::SessionContext& session) {
  if (!validTag(options.session_tag)) {
    return invalidArgument(
        "bypass monitor: session tag must be 1..127 bytes of printable ASCII without spaces");
  }
  return std::unique_ptr<BypassMonitor>(new BypassMonitor(std::move(options), emitter, session));
}

Result<std::unique_ptr<BypassMonitor>> BypassMonitor::start(Options options, audit::Emitter& emitter,
                                                            const ocsf::SessionContext& session) {
  auto monitor = create(std::move(options), emitter, session);
  if (!monitor.ok()) return monitor.error();
  auto started = (*monitor)->start();
  if (!started.ok()) return started.error();
  return monitor;
}

const std::string& BypassMonitor::kernelChange() const {
  return kernel_change_;
}
uint64_t BypassMonitor::attempts() const {
  return attempts_.load();
}
uint64_t BypassMonitor::lost() const {
  return lost_.load();
}

// /proc/net/netfilter/nf_log lists, per protocol family, the bound logger and the registered ones in
// parentheses: " 2 nf_log_ipv4 (nf_log_ipv4,nfnetlink_log)". nftables' `log` needs the registered
// syslog logger of IPv4 (family 2) to write to the kernel ring.
Result<void> BypassMonitor::checkLoggers() const {
  if (options_.nf_log_path.empty()) return okResult();
  auto text = readSmallFile(options_.nf_log_path);
  if (!text.ok()) {
    return unavailable("cannot read the kernel's loggers (" + text.error().message() +
                       "): bypass attempts are rejected but not recorded");
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    const std::string trimmed = trim(line);
    if (trimmed.rfind("2 ", 0) != 0) continue;
    const size_t open = trimmed.find('(');
    if (open != std::string::npos && trimmed.find("nf_log_ipv4", open) != std::string::npos)
      return okResult();
    break;
  }
  return unavailable(
      "no kernel logger for IPv4 packets (nf_log_ipv4 is not registered; modprobe nf_log_syslog): bypass "
      "attempts are rejected but not recorded");
}

Result<void> BypassMonitor::enableNetnsLogging() {
  const std::string& path = options_.nf_log_all_netns_path;
  auto current = readSmallFile(path);
  if (!current.ok()) {
    if (current.error().code() == Code::kNotFound) return okResult();  // a kernel that logs every netns
    return unavailable("cannot read " + path + ": " + current.error().message());
  }
  const std::string value = trim(*current);
  if (value != "0") return okResult();
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() || ::write(fd.get(), "1\n", 2) != 2) {
    return unavailable(errnoError("set " + path + " to 1").message() +
                       ": the sandbox's network namespace cannot log bypass attempts to the kernel ring");
  }
  kernel_change_ = "net.netfilter.nf_log_all_netns 0 -> 1";
  return okResult();
}

Result<void> BypassMonitor::start() {
  if (started_) return failedPrecondition("bypass monitor already started");
  WARDEN_RETURN_IF_ERROR(checkLoggers());
  UniqueFd kmsg(::open(options_.kmsg_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!kmsg.valid()) return unavailable(errnoError("open " + options_.kmsg_path).message());
  // Only what happens from now on: /dev/kmsg seeks to the end of the ring (a pipe cannot seek).
  if (::lseek(kmsg.get(), 0, SEEK_END) < 0 && errno != ESPIPE) {
    return unavailable(errnoError("seek to the end of " + options_.kmsg_path).message());
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return errnoError("eventfd");
  WARDEN_RETURN_IF_ERROR(enableNetnsLogging());
  kmsg_ = std::move(kmsg);
  wake_ = std::move(wake);
  thread_ = std::thread([this] { run(); });
  started_ = true;
  return okResult();
}

void BypassMonitor::stop() {
  if (!started_) return;
  const uint64_t one = 1;
  ssize_t w;
  do {
    w = ::write(wake_.get(), &one, sizeof one);
  } while (w < 0 && errno == EINTR);
  thread_.join();
  started_ = false;
  kmsg_.reset();
  wake_.reset();
}

void BypassMonitor::run() {
  bool source_open = true;
  for (;;) {
    pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {kmsg_.get(), POLLIN, 0}};
    const int n = ::poll(fds, source_open ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      emitter_.operational(audit::Level::kError, "kmsg", errnoError("poll").message());
      return;
    }
    if (fds[0].revents != 0) {
      // Stopping: whatever the kernel already logged is still reported.
      if (source_open) drain();
      return;
    }
    if (source_open && fds[1].revents != 0) source_open = drain();
  }
}

bool BypassMonitor::drain() {
  char buf[kReadBytes];
  for (;;) {
    const ssize_t n = ::read(kmsg_.get(), buf, sizeof buf);
    if (n > 0) {
      pending_.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
        handleLine(std::string_view(pending_).substr(start, nl - start));
        start = nl + 1;
      }
      pending_.erase(0, start);
      if (pending_.size() > kMaxPendingBytes) {
        pending_.clear();
        if (malformed_.fetch_add(1) < kMaxMalformedReports) {
          emitter_.operational(audit::Level::kWarn, "kmsg", "dropped a log line longer than 16384 bytes");
        }
      }
      continue;
    }
    if (n == 0) return false;  // end of a pipe or file; /dev/kmsg never ends
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return true;
    if (errno == EPIPE) {  // the ring overwrote records we had not read; the next one says how many
      lost_pending_ = true;
      continue;
    }
    emitter_.operational(audit::Level::kError, "kmsg",
                         errnoError("read " + options_.kmsg_path).message() + "; bypass monitoring stopped");
    return false;
  }
}

void BypassMonitor::reportLoss(uint64_t count, std::string_view why) {
  lost_ += count;
  ocsf::OperationalInput in;
  in.severity = ocsf::Severity::kLow;
  in.name = "Kernel Log Loss";
  in.message = count == 0 ? std::string(why)
                          : "the kernel log ring overwrote " + std::to_string(count) +
                                " records before they were read; bypass attempts among them are not recorded";
  in.unmapped = ocsf::Value::object();
  in.unmapped.set("source", "kmsg");
  in.unmapped.set("lost", count);
  emitter_.emit(ocsf::operationalEvent(session_, clock_.nowMillis(), in));
}

void BypassMonitor::handleLine(std::string_view line) {
  if (line.empty() || line.front() == ' ') return;  // a /dev/kmsg continuation line
  const std::optional<uint64_t> sequence = kmsgSequence(line);
  if (lost_pending_ && sequence) {
    lost_pending_ = false;
    if (last_sequence_ && *sequence > *last_sequence_ + 1) {
      reportLoss(*sequence - *last_sequence_ - 1, "");
    } else {
      reportLoss(0,
                 "the kernel log ring overwrote records before they were read (how many is unknown); "
                 "bypass attempts among them are not recorded");
    }
  }
  if (sequence) last_sequence_ = sequence;

  auto parsed = parseNftLogRecord(line);
  if (!parsed.ok()) {
    if (parsed.error().code() == Code::kNotFound) return;
    if (malformed_.fetch_add(1) < kMaxMalformedReports) {
      emitter_.operational(audit::Level::kWarn, "kmsg", "unreadable log record: " + parsed.error().message());
    }
    return;
  }
  const NftLogRecord& record = *parsed;
  if (record.prefix_tag != options_.session_tag) return;  // another session's

  const int64_t now = clock_.nowMillis();
  std::optional<ocsf::Process> actor;
  if (options_.resolve_actor) actor = options_.resolve_actor(record);
  ocsf::Event refuse = bypassRefuse(session_, now, record, actor);
  ocsf::Event finding = bypassFinding(session_, now, record, refuse);
  emitter_.emit(std::move(refuse));
  emitter_.emit(std::move(finding));
  attempts_.fetch_add(1);
}

}  // namespace warden::capture
