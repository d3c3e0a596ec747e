#include "capture/procconn/procconn_source.h"

#include <fmt/format.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "capture/argv_area.h"
#include "common/file_io.h"
#include "common/proc_status.h"

namespace warden::capture {

namespace {

std::string readLink(const std::string& path) {
  char buf[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string readSmall(const std::string& path, size_t max) {
  auto r = readFileBounded(path, max, OverLimit::kTruncate);
  return r.ok() ? *r : std::string();
}

}  // namespace

Result<std::unique_ptr<ProcConnSource>> ProcConnSource::create(const CaptureOptions& options, audit::Emitter& emitter,
                                                               const ocsf::SessionContext& ctx,
                                                               std::shared_ptr<ProcessTable> table) {
  auto rules = PathRules::create(options.sensitive_paths, options.exclude_paths, options.home);
  if (!rules.ok()) return rules.error();
  if (!table) table = std::make_shared<ProcessTable>();
  std::unique_ptr<ProcConnSource> s(new ProcConnSource(options, emitter, ctx, std::move(table), std::move(*rules)));
  s->sock_ = UniqueFd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR));
  if (s->sock_.get() < 0) return unavailable(fmt::format("proc connector socket: {}", std::strerror(errno)));
  const int rcvbuf = 8 << 20;
  setsockopt(s->sock_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;
  if (bind(s->sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return unavailable(fmt::format("proc connector bind: {}", std::strerror(errno)));
  // nlmsghdr | cn_msg | enum proc_cn_mcast_op, built byte by byte (cn_msg ends in a flexible array).
  alignas(nlmsghdr) char req[NLMSG_SPACE(sizeof(cn_msg) + sizeof(enum proc_cn_mcast_op))] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(req);
  nl->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(enum proc_cn_mcast_op));
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = static_cast<uint32_t>(getpid());
  cn_msg cn{};
  cn.id.idx = CN_IDX_PROC;
  cn.id.val = CN_VAL_PROC;
  cn.len = sizeof(enum proc_cn_mcast_op);
  std::memcpy(NLMSG_DATA(nl), &cn, sizeof cn);
  const enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
  std::memcpy(static_cast<char*>(NLMSG_DATA(nl)) + sizeof cn, &op, sizeof op);
  if (send(s->sock_.get(), req, nl->nlmsg_len, 0) < 0)
    return unavailable(fmt::format("proc connector subscribe: {} (needs CAP_NET_ADMIN)", std::strerror(errno)));
  return s;
}

ProcConnSource::ProcConnSource(const CaptureOptions& options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
                               std::shared_ptr<ProcessTable> table, PathRules rules)
    : options_(options),
      clock_(options.clock != nullptr ? *options.clock : SystemClock::instance()),
      recorder_(options_, std::move(rules), emitter, ctx, std::move(table)),
      cgroup_(options.cgroup_path) {}

ProcConnSource::~ProcConnSource() { stop(); }

Result<void> ProcConnSource::start() {
  if (started_) return failedPrecondition("procconn capture already started");
  wake_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake_.get() < 0) return errnoError("eventfd");
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void ProcConnSource::run() {
  for (;;) {
    pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    const int n = poll(fds, 2, 250);
    if (n > 0 && (fds[0].revents & POLLIN) && !drain()) return;
    recorder_.tick(clock_.nowMillis());
    if (n > 0 && (fds[1].revents & POLLIN)) {
      drain();
      return;
    }
  }
}

bool ProcConnSource::drain() {
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    ssize_t got = recv(sock_.get(), buf, sizeof buf, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return true;
      if (errno == ENOBUFS) {  // the kernel dropped messages: how many is not known
        const int64_t now = clock_.nowMillis();
        recorder_.account(RecordKind::kExec).dropped++;
        recorder_.reportLoss(RecordKind::kExec, 1, now, now, "proc connector socket overflowed (at least one message)");
        continue;
      }
      return false;
    }
    for (auto* nl = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nl, got); nl = NLMSG_NEXT(nl, got)) {
      if (nl->nlmsg_type != NLMSG_DONE) continue;
      handle(NLMSG_DATA(nl), nl->nlmsg_len - NLMSG_HDRLEN);
    }
  }
}

void ProcConnSource::handle(const void* msg, size_t len) {
  if (len < sizeof(cn_msg) + sizeof(proc_event)) return;
  const auto* cn = static_cast<const cn_msg*>(msg);
  if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) return;
  proc_event ev{};
  std::memcpy(&ev, cn->data, sizeof ev);
  const int64_t now = clock_.nowMillis();
  switch (ev.what) {
    case proc_event::PROC_EVENT_FORK: {
      const uint32_t pid = static_cast<uint32_t>(ev.event_data.fork.child_tgid);
      if (ev.event_data.fork.child_pid != ev.event_data.fork.child_tgid) return;  // a thread
      if (!cgroup_.contains(pid)) return;
      recorder_.account(RecordKind::kFork).seen++;
      recorder_.account(RecordKind::kFork).received++;
      ForkFact f;
      f.time_ms = now;
      f.pid = pid;
      f.ppid = static_cast<uint32_t>(ev.event_data.fork.parent_tgid);
      f.comm = readSmall("/proc/" + std::to_string(pid) + "/comm", 64);
      if (!f.comm.empty() && f.comm.back() == '\n') f.comm.pop_back();
      recorder_.onFork(f);
      return;
    }
    case proc_event::PROC_EVENT_EXEC: {
      const uint32_t pid = static_cast<uint32_t>(ev.event_data.exec.process_tgid);
      if (!cgroup_.contains(pid)) return;
      recorder_.account(RecordKind::kExec).seen++;
      recorder_.account(RecordKind::kExec).received++;
      const std::string dir = "/proc/" + std::to_string(pid);
      const std::string status = readSmall(dir + "/status", 16384);
      ExecFact f;
      f.time_ms = now;
      f.pid = pid;
      f.ppid = procStatusNumber(status, "PPid", 0);
      f.uid = procStatusNumber(status, "Uid", 0);
      f.euid = procStatusNumber(status, "Uid", 1);
      f.gid = procStatusNumber(status, "Gid", 0);
      f.ns_pid = procStatusNamespacePid(status);
      f.exe = readLink(dir + "/exe");
      f.cwd = readLink(dir + "/cwd");
      f.comm = readSmall(dir + "/comm", 64);
      if (!f.comm.empty() && f.comm.back() == '\n') f.comm.pop_back();
      std::string cmdline = readSmall(dir + "/cmdline", options_.argv_max + 1);
      f.argv_truncated = cmdline.size() > options_.argv_max;
      if (f.argv_truncated) cmdline.resize(options_.argv_max);
      if (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
      f.argv = splitArgv(cmdline);
      f.argv_length = cmdline.size();
      f.best_effort = true;
      recorder_.onExec(std::move(f));
      return;
    }
    case proc_event::PROC_EVENT_EXIT: {
      if (ev.event_data.exit.process_pid != ev.event_data.exit.process_tgid) return;  // a thread
      const uint32_t pid = static_cast<uint32_t>(ev.event_data.exit.process_tgid);
      if (!recorder_.table()->find(pid)) return;  // not one of ours (membership is gone with it)
      recorder_.account(RecordKind::kExit).seen++;
      recorder_.account(RecordKind::kExit).received++;
      ExitFact f;
      f.time_ms = now;
      f.pid = pid;
      f.status = static_cast<int>(ev.event_data.exit.exit_code);
      recorder_.onExit(f);
      return;
    }
    default: return;
  }
}

void ProcConnSource::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!started_) return;
  const uint64_t one = 1;
  if (write(wake_.get(), &one, sizeof one) < 0) {
  }
  if (thread_.joinable()) thread_.join();
  recorder_.flush();
  recorder_.summary("procconn", recorder_.accounts(), clock_.nowMillis());
}

}  // namespace warden::capture
