#include "proxy/server/policy_reloader.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "policy/diagnostics.h"
#include "policy/loader.h"

namespace warden::proxy {

PolicyReloader::PolicyReloader(ReloaderOptions options, policy::PolicyStore& store, audit::Emitter& emitter,
                               const ocsf::SessionContext& session, const Clock* clock)
    : options_(std::move(options)),
      store_(store),
      emitter_(emitter),
      session_(session),
      clock_(clock != nullptr ? *clock : SystemClock::instance()) {}

PolicyReloader::~PolicyReloader() { stop(); }

Result<std::unique_ptr<PolicyReloader>> PolicyReloader::create(ReloaderOptions options, policy::PolicyStore& store,
                                                               audit::Emitter& emitter,
                                                               const ocsf::SessionContext& session,
                                                               const Clock* clock) {
  std::unique_ptr<PolicyReloader> r(new PolicyReloader(std::move(options), store, emitter, session, clock));
  r->event_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!r->event_.valid()) return errnoError("eventfd");
  if (r->options_.watch_file) {
    r->inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!r->inotify_.valid()) return errnoError("inotify_init1");
    std::filesystem::path dir = r->options_.policy_file.parent_path();
    if (dir.empty()) dir = ".";
    if (::inotify_add_watch(r->inotify_.get(), dir.c_str(),
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
      return errnoError(fmt::format("inotify_add_watch({})", dir.string()));
    }
  }
  return r;
}

void PolicyReloader::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void PolicyReloader::trigger() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(event_.get(), &one, sizeof one);
}

void PolicyReloader::stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  trigger();
  if (thread_.joinable()) thread_.join();
}

bool PolicyReloader::reloadNow() {
  policy::Diagnostics diagnostics;
  auto loaded = policy::loadPolicyFile(options_.policy_file, &diagnostics);
  const int64_t now = clock_.nowMillis();
  if (!loaded.ok()) {
    failures_.fetch_add(1);
    ocsf::ConfigChange change;
    change.state = std::string(ocsf::kConfigFailed);
    change.message = fmt::format("policy reload failed; the previous policy stays in force ({} problem{})",
                                 diagnostics.count() == 0 ? 1 : diagnostics.count(),
                                 diagnostics.count() == 1 ? "" : "s");
    for (const auto& d : diagnostics.entries()) change.errors.push_back(d.toString());
    if (change.errors.empty()) change.errors.push_back(loaded.error().message());
    const auto current = store_.current();
    change.policy_version = std::to_string(current->version);
    change.policy_hash = current->hash;
    emitter_.emit(ocsf::configChange(session_, now, change));
    return false;
  }
  const auto current = store_.current();
  if (loaded.value().hash == current->hash) return false;  // touched, not changed
  auto next = std::make_shared<const policy::Policy>(std::move(loaded).value());
  ocsf::ConfigChange change;
  change.state = std::string(ocsf::kConfigUpdated);
  change.message = fmt::format("policy reloaded: {} rule{}", next->network.size(), next->network.size() == 1 ? "" : "s");
  change.policy_version = std::to_string(next->version);
  change.policy_hash = next->hash;
  store_.swap(std::move(next));
  reloads_.fetch_add(1);
  emitter_.emit(ocsf::configChange(session_, now, change));
  return true;
}

void PolicyReloader::run() {
  const std::string name = options_.policy_file.filename().string();
  bool pending = false;
  for (;;) {
    std::array<pollfd, 2> fds{};
    fds[0] = {event_.get(), POLLIN, 0};
    fds[1] = {inotify_.valid() ? inotify_.get() : -1, POLLIN, 0};
    const int timeout = pending ? static_cast<int>(options_.debounce.count()) : -1;
    const int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) {
      emitter_.operational(audit::Level::kError, "policy-reload", fmt::format("poll failed: {}", std::strerror(errno)));
      return;
    }
    if (stopping_.load()) return;
    if (n == 0) {  // debounce elapsed with no further change
      pending = false;
      reloadNow();
      continue;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t value = 0;
      [[maybe_unused]] const ssize_t r = ::read(event_.get(), &value, sizeof value);
      if (stopping_.load()) return;
      pending = false;
      reloadNow();  // SIGHUP: at once
    }
    if (fds[1].revents & POLLIN) {
      alignas(inotify_event) std::array<char, 4096> buf;
      for (;;) {
        const ssize_t len = ::read(inotify_.get(), buf.data(), buf.size());
        if (len <= 0) break;
        for (ssize_t off = 0; off < len;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
          if (ev->len > 0 && name == ev->name) pending = true;
          off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
      }
    }
  }
}

}  // namespace warden::proxy
