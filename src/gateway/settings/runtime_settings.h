#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "gateway/settings/settings_registry.h"

namespace warden::gateway {

// Where a runtime value is set: globally (`--global`) or for one session (`--sandbox NAME`).
struct SettingScope {
  std::string session;  // empty = global

  static SettingScope global() { return {}; }
  static SettingScope forSession(std::string id) { return {std::move(id)}; }
  bool isGlobal() const { return session.empty(); }
  // "global" or "session 'id'", for messages.
  std::string describe() const;
  bool operator==(const SettingScope&) const = default;
};

// One change of the runtime values, handed to the persistence hook before it takes effect.
struct SettingChange {
  SettingScope scope;
  std::string key;
  std::optional<SettingValue> value;  // nullopt: the value was deleted
  uint64_t revision = 0;              // the config revision once this change is in effect
  // True for setBase() and bumpRevision() (then `key` is empty): not a runtime value (the store
  // keeps only `revision` from it), but it still moves the revision, which must survive a restart.
  bool base = false;
};

// One runtime value as stored (for listing and for restoring after a restart).
struct StoredSetting {
  SettingScope scope;
  std::string key;
  SettingValue value;
};

// Where an effective value came from, highest first.
enum class SettingSource { kGlobal, kSession, kBase, kDefault };
std::string_view settingSourceName(SettingSource source);

struct EffectiveSetting {
  SettingValue value;
  SettingSource source = SettingSource::kDefault;
};

// The runtime values set with `warden settings set` (global and per session) over the static
// base values (the gateway's config file / flag / environment), and the config revision.
//
// effective(session, key) is, highest first: the global runtime value, that session's runtime
// value, the base value, the registry default (product.md: "a global value wins").
//
// The revision starts at 1 (or at what restore() is given) and increases by exactly 1 on every
// change of the stored state: a set that stores a new or different value, a delete of a value that
// was set, a base value that changes, a bumpRevision(). A set of the value already stored, or a delete of a value
// that is not set, changes nothing: no revision bump and no persistence call. A change that does
// not alter any effective value (a session value under a global one) still bumps: the revision
// means "something changed", and serving the same config under a higher revision is harmless.
//
// Persistence: `persist` (optional) is called for each change, in revision order, on the
// changing thread, while the internal lock is held, before the change takes effect. If it returns
// an error the change is abandoned (values and revision unchanged) and the error is returned, so
// nothing is reported as set that was not stored. It must not call back into this object.
//
// Thread-safe: every member may be called from any thread. The registry must outlive this object.
class RuntimeSettings {
 public:
  using PersistFn = std::function<Result<void>(const SettingChange&)>;

  // `base` maps keys to their base values (e.g. ocsf_json_enabled from baseOcsfEnabled()); each
  // must be a known key with a value of the right type (asserted: it comes from our own code).
  RuntimeSettings(const SettingsRegistry& registry, std::map<std::string, SettingValue> base,
                  PersistFn persist = {});

  // Stores `value` at `scope`. InvalidArgument for an unknown key, a value of the wrong type, or
  // a scope the key does not allow (or an over-long session id). Returns whether anything changed.
  Result<bool> set(const SettingScope& scope, std::string_view key, const SettingValue& value);
  // Parses `text` with the registry (the error names the allowed values), then set().
  Result<bool> setText(const SettingScope& scope, std::string_view key, std::string_view text);
  // Deletes the value at `scope`; returns whether one was set. InvalidArgument for an unknown key.
  Result<bool> erase(const SettingScope& scope, std::string_view key);
  // Deletes every value of one session (it ended); returns how many. One revision bump per value.
  Result<size_t> eraseSession(std::string_view session);
  // Replaces a base value (a reloaded config file); bumps the revision if it differs. Persisted
  // like a runtime change, with SettingChange::base set.
  Result<bool> setBase(std::string_view key, const SettingValue& value);
  // Bumps the revision without changing any value: something else served with the config changed
  // (the gateway's policy file). Persisted like a base change: SettingChange{global scope, key "",
  // no value, the new revision, base = true}. Returns the new revision; on a persistence error
  // nothing changes.
  Result<uint64_t> bumpRevision();

  // The value stored at exactly `scope`, or nullopt. InvalidArgument for an unknown key.
  Result<std::optional<SettingValue>> get(const SettingScope& scope, std::string_view key) const;
  // The value in force for `session` (empty: for no session, i.e. global/base/default).
  Result<EffectiveSetting> effective(std::string_view session, std::string_view key) const;
  // Effective value and revision read together, so that they always belong to each other.
  Result<std::pair<EffectiveSetting, uint64_t>> effectiveWithRevision(std::string_view session,
                                                                     std::string_view key) const;
  uint64_t revision() const;
  // Every stored runtime value: global ones first, then by session, then by key.
  std::vector<StoredSetting> list() const;

  // Startup: loads persisted values and the last persisted revision (values must be valid for
  // the registry) without calling `persist`; replaces the current values. The revision becomes
  // last_revision + 1: the base values may have changed with the restart, so the first config
  // served afterwards must be news to every session. last_revision 0 means none was persisted.
  Result<void> restore(const std::vector<StoredSetting>& values, uint64_t last_revision);

 private:
  using Key = std::pair<std::string, std::string>;  // (session, key); session "" = global

  Result<const SettingSpec*> checkScope(const SettingScope& scope, std::string_view key) const;
  EffectiveSetting effectiveLocked(std::string_view session, const std::string& key) const;
  // Calls persist_ for the change that would take the revision to revision_ + 1.
  Result<void> persistLocked(const SettingScope& scope, std::string_view key,
                             const std::optional<SettingValue>& value, bool base = false);

  const SettingsRegistry& registry_;
  const PersistFn persist_;
  mutable std::mutex mu_;
  std::map<std::string, SettingValue, std::less<>> base_;  // Guarded by mu_.
  std::map<Key, SettingValue> values_;                     // Guarded by mu_.
  uint64_t revision_ = 1;                                  // Guarded by mu_.
};

// Session ids longer than this are rejected (they come from the network).
inline constexpr size_t kMaxSessionIdBytes = 256;

}  // namespace warden::gateway
