#include "proxy/server/connection_registry.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>

namespace warden::proxy {

namespace asio = boost::asio;

// Shared by the Handle and the close callbacks posted for it; touched only on the connection's
// executor (the Handle is destroyed there and posted callbacks run there), so no lock.
struct ConnectionRegistry::Handle::State {
  CloseFn close;
  bool live = true;
  bool closed = false;  // the close callback ran once already
};

ConnectionRegistry::Handle::Handle(Handle&& other) noexcept
    : registry_(other.registry_), id_(other.id_), state_(std::move(other.state_)) {
  other.registry_ = nullptr;
}

ConnectionRegistry::Handle& ConnectionRegistry::Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = other.registry_;
    id_ = other.id_;
    state_ = std::move(other.state_);
    other.registry_ = nullptr;
  }
  return *this;
}

ConnectionRegistry::Handle::~Handle() { reset(); }

void ConnectionRegistry::Handle::reset() {
  if (registry_ == nullptr) return;
  state_->live = false;
  registry_->remove(id_);
  registry_ = nullptr;
  state_.reset();
}

void ConnectionRegistry::Handle::setTarget(RegisteredTarget target) {
  if (registry_ != nullptr) registry_->update(id_, std::move(target));
}

ConnectionRegistry::Handle ConnectionRegistry::add(asio::any_io_executor executor, CloseFn close) {
  auto state = std::make_shared<Handle::State>();
  state->close = std::move(close);
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  Entry& entry = entries_[id];
  entry.executor = std::move(executor);
  entry.state = state;
  if (closing_) postClose(entry, closing_reason_);
  return Handle(this, id, std::move(state));
}

void ConnectionRegistry::remove(uint64_t id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);
}

void ConnectionRegistry::update(uint64_t id, RegisteredTarget target) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.decided = true;
  it->second.target = std::move(target);
}

void ConnectionRegistry::postClose(const Entry& entry, std::string reason) {
  asio::post(entry.executor, [state = entry.state, reason = std::move(reason)] {
    if (!state->live || state->closed) return;
    state->closed = true;
    state->close(reason);
  });
}

size_t ConnectionRegistry::recheck(const policy::Policy& policy) {
  std::lock_guard lock(mu_);
  size_t closed = 0;
  for (const auto& [id, entry] : entries_) {
    if (!entry.decided) continue;
    const RegisteredTarget& t = entry.target;
    const policy::Decision d =
        policy::decideConnect(policy, policy::ConnectRequest{t.host, t.port, t.executable, t.ancestors,
                                                             t.other_holders, t.injected, t.pid});
    if (d.allowed()) continue;
    postClose(entry, fmt::format("rule {} removed or changed on policy reload: {}", t.rule, d.reason));
    ++closed;
  }
  return closed;
}

size_t ConnectionRegistry::closeAll(const std::string& reason) {
  std::lock_guard lock(mu_);
  closing_ = true;
  closing_reason_ = reason;
  for (const auto& [id, entry] : entries_) postClose(entry, reason);
  return entries_.size();
}

size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace warden::proxy
