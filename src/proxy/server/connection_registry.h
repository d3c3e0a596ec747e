#pragma once

// The live connections of one proxy, so that a policy reload can close the ones whose rule
// disappeared (sandbox.md "Hot reload") — raw L4 tunnels and upgraded relays included, which have no
// request boundary to re-check at — and so that stop() can close every connection with its NET:CLOSE.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/engine.h"

namespace warden::proxy {

// What a live connection was allowed as: re-decided with policy::decideConnect on every swap.
struct RegisteredTarget {
  std::string rule;  // the rule that allowed it (for the reason)
  std::string host;
  uint16_t port = 0;
  std::string executable;
  std::vector<std::string> ancestors;
  std::vector<policy::CallerProcess> other_holders;  // every other process holding the socket
  bool injected = false;                             // the caller runs with injected code
  int64_t pid = 0;
};

// Holds one entry per live connection: its executor, a close callback and (once decided) its target.
// Thread-safe: connections add/update/remove from their io threads, the policy reloader's thread
// calls recheck(), Server::stop() calls closeAll(); one mutex guards the map. Close callbacks are
// never run under the mutex nor on the caller's thread: they are posted to the connection's executor
// and run there only if the connection is still registered (so they never touch a destroyed
// connection). The registry must outlive every Handle (the Server owns both).
class ConnectionRegistry {
 public:
  // Runs on the connection's executor with why the connection must end.
  using CloseFn = std::function<void(const std::string& reason)>;

  // A registration; unregisters on destruction (which must happen on the connection's executor,
  // like every other use). Move-only.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& other) noexcept;
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle();

    // The connection is now allowed as `target` (replacing a previous one: forward proxying may
    // change host per request). Only decided connections are re-checked on reload.
    void setTarget(RegisteredTarget target);
    bool valid() const { return registry_ != nullptr; }

   private:
    friend class ConnectionRegistry;
    struct State;
    Handle(ConnectionRegistry* registry, uint64_t id, std::shared_ptr<State> state)
        : registry_(registry), id_(id), state_(std::move(state)) {}
    void reset();

    ConnectionRegistry* registry_ = nullptr;
    uint64_t id_ = 0;
    std::shared_ptr<State> state_;
  };

  ConnectionRegistry() = default;
  ConnectionRegistry(const ConnectionRegistry&) = delete;
  ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;

  // Registers a connection running on `executor`. After closeAll() it is closed at once (its close
  // callback is posted with the closeAll reason).
  Handle add(boost::asio::any_io_executor executor, CloseFn close);

  // Re-decides every decided connection against `policy` (the one just swapped in) and closes those
  // it no longer allows, with a reason naming the rule. Returns how many were closed.
  size_t recheck(const policy::Policy& policy);

  // Closes every connection, and every later add(), with `reason`. Returns how many were live.
  size_t closeAll(const std::string& reason);

  size_t size() const;

 private:
  struct Entry {
    boost::asio::any_io_executor executor;
    std::shared_ptr<Handle::State> state;
    bool decided = false;
    RegisteredTarget target;
  };
  void remove(uint64_t id);
  void update(uint64_t id, RegisteredTarget target);
  static void postClose(const Entry& entry, std::string reason);

  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Entry> entries_;  // Guarded by mu_.
  uint64_t next_id_ = 1;                         // Guarded by mu_.
  bool closing_ = false;                         // Guarded by mu_.
  std::string closing_reason_;                   // Guarded by mu_.
};

}  // namespace warden::proxy
