#include "gateway/settings/runtime_settings.h"

#include <fmt/format.h>

#include <cassert>
#include <utility>

#include "common/encoding.h"

namespace warden::gateway {

std::string SettingScope::describe() const {
  return isGlobal() ? std::string("global") : fmt::format("session '{}'", session);
}

std::string_view settingSourceName(SettingSource source) {
  switch (source) {
    case SettingSource::kGlobal:
      return "global";
    case SettingSource::kSession:
      return "session";
    case SettingSource::kBase:
      return "base";
    case SettingSource::kDefault:
      return "default";
  }
  return "default";
}

RuntimeSettings::RuntimeSettings(const SettingsRegistry& registry, std::map<std::string, SettingValue> base,
                                 PersistFn persist)
    : registry_(registry), persist_(std::move(persist)) {
  for (auto& [key, value] : base) {
    [[maybe_unused]] const auto valid = registry_.validate(key, value);
    assert(valid.ok());
    base_.emplace(key, std::move(value));
  }
}

Result<const SettingSpec*> RuntimeSettings::checkScope(const SettingScope& scope, std::string_view key) const {
  auto spec_or = registry_.lookup(key);
  if (!spec_or.ok()) return spec_or.error();
  const SettingSpec& spec = **spec_or;
  if (scope.isGlobal() && !spec.global) {
    return invalidArgument(fmt::format("{}: can only be set per session (--sandbox NAME), not globally", spec.key));
  }
  if (!scope.isGlobal()) {
    if (!spec.per_session) {
      return invalidArgument(fmt::format("{}: can only be set globally (--global), not per session", spec.key));
    }
    if (scope.session.size() > kMaxSessionIdBytes || !isValidUtf8(scope.session)) {
      return invalidArgument(
          fmt::format("session id is not valid UTF-8 of at most {} bytes", kMaxSessionIdBytes));
    }
  }
  return *spec_or;
}

Result<void> RuntimeSettings::persistLocked(const SettingScope& scope, std::string_view key,
                                            const std::optional<SettingValue>& value, bool base) {
  if (!persist_) return okResult();
  return persist_(SettingChange{scope, std::string(key), value, revision_ + 1, base});
}

Result<bool> RuntimeSettings::set(const SettingScope& scope, std::string_view key, const SettingValue& value) {
  auto spec_or = checkScope(scope, key);
  if (!spec_or.ok()) return spec_or.error();
  WARDEN_RETURN_IF_ERROR(registry_.validate(key, value));
  std::lock_guard lock(mu_);
  Key k{scope.session, std::string(key)};
  const auto it = values_.find(k);
  if (it != values_.end() && it->second == value) return false;
  WARDEN_RETURN_IF_ERROR(persistLocked(scope, key, value));
  values_[std::move(k)] = value;
  ++revision_;
  return true;
}

Result<bool> RuntimeSettings::setText(const SettingScope& scope, std::string_view key, std::string_view text) {
  auto value = registry_.parse(key, text);
  if (!value.ok()) return value.error();
  return set(scope, key, *value);
}

Result<bool> RuntimeSettings::erase(const SettingScope& scope, std::string_view key) {
  auto spec_or = checkScope(scope, key);
  if (!spec_or.ok()) return spec_or.error();
  std::lock_guard lock(mu_);
  const auto it = values_.find(Key{scope.session, std::string(key)});
  if (it == values_.end()) return false;
  WARDEN_RETURN_IF_ERROR(persistLocked(scope, key, std::nullopt));
  values_.erase(it);
  ++revision_;
  return true;
}

Result<size_t> RuntimeSettings::eraseSession(std::string_view session) {
  if (session.empty()) return invalidArgument("eraseSession needs a session id, not the global scope");
  std::lock_guard lock(mu_);
  size_t erased = 0;
  auto it = values_.lower_bound(Key{std::string(session), std::string()});
  while (it != values_.end() && it->first.first == session) {
    WARDEN_RETURN_IF_ERROR(persistLocked(SettingScope::forSession(std::string(session)), it->first.second,
                                         std::nullopt));
    it = values_.erase(it);
    ++revision_;
    ++erased;
  }
  return erased;
}

Result<bool> RuntimeSettings::setBase(std::string_view key, const SettingValue& value) {
  WARDEN_RETURN_IF_ERROR(registry_.validate(key, value));
  std::lock_guard lock(mu_);
  const auto it = base_.find(key);
  if (it != base_.end() && it->second == value) return false;
  WARDEN_RETURN_IF_ERROR(persistLocked(SettingScope::global(), key, value, /*base=*/true));
  base_.insert_or_assign(std::string(key), value);
  ++revision_;
  return true;
}

Result<uint64_t> RuntimeSettings::bumpRevision() {
  std::lock_guard lock(mu_);
  if (revision_ == UINT64_MAX) return failedPrecondition("config revision is at its maximum");
  WARDEN_RETURN_IF_ERROR(persistLocked(SettingScope::global(), "", std::nullopt, /*base=*/true));
  return ++revision_;
}

Result<std::optional<SettingValue>> RuntimeSettings::get(const SettingScope& scope, std::string_view key) const {
  auto spec_or = registry_.lookup(key);
  if (!spec_or.ok()) return spec_or.error();
  std::lock_guard lock(mu_);
  const auto it = values_.find(Key{scope.session, std::string(key)});
  if (it == values_.end()) return std::optional<SettingValue>();
  return std::optional<SettingValue>(it->second);
}

EffectiveSetting RuntimeSettings::effectiveLocked(std::string_view session, const std::string& key) const {
  if (const auto g = values_.find(Key{std::string(), key}); g != values_.end()) {
    return {g->second, SettingSource::kGlobal};
  }
  if (!session.empty()) {
    if (const auto s = values_.find(Key{std::string(session), key}); s != values_.end()) {
      return {s->second, SettingSource::kSession};
    }
  }
  if (const auto b = base_.find(key); b != base_.end()) return {b->second, SettingSource::kBase};
  return {registry_.find(key)->default_value, SettingSource::kDefault};
}

Result<EffectiveSetting> RuntimeSettings::effective(std::string_view session, std::string_view key) const {
  auto both = effectiveWithRevision(session, key);
  if (!both.ok()) return both.error();
  return std::move(both->first);
}

Result<std::pair<EffectiveSetting, uint64_t>> RuntimeSettings::effectiveWithRevision(std::string_view session,
                                                                                    std::string_view key) const {
  auto spec_or = registry_.lookup(key);
  if (!spec_or.ok()) return spec_or.error();
  std::lock_guard lock(mu_);
  return std::pair{effectiveLocked(session, std::string(key)), revision_};
}

uint64_t RuntimeSettings::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

std::vector<StoredSetting> RuntimeSettings::list() const {
  std::lock_guard lock(mu_);
  std::vector<StoredSetting> out;
  out.reserve(values_.size());
  for (const auto& [k, v] : values_) out.push_back({SettingScope{k.first}, k.second, v});
  return out;
}

Result<void> RuntimeSettings::restore(const std::vector<StoredSetting>& values, uint64_t last_revision) {
  if (last_revision == UINT64_MAX) return invalidArgument("restored config revision is at its maximum");
  std::map<Key, SettingValue> loaded;
  for (const auto& s : values) {
    auto spec_or = checkScope(s.scope, s.key);
    if (!spec_or.ok()) return spec_or.error().withContext("restoring runtime settings");
    if (auto valid = registry_.validate(s.key, s.value); !valid.ok()) {
      return valid.error().withContext("restoring runtime settings");
    }
    loaded.insert_or_assign(Key{s.scope.session, s.key}, s.value);
  }
  std::lock_guard lock(mu_);
  values_ = std::move(loaded);
  revision_ = last_revision + 1;
  return okResult();
}

}  // namespace warden::gateway
