#include "gateway/service/settings_persistence.h"

#include <optional>
#include <utility>

namespace warden::gateway {
namespace {

Error asStoreError(const Error& e) {
  if (e.code() == Code::kInvalidArgument) return e;
  return unavailable("event store: " + e.message() + " (nothing was changed; retry)");
}

}  // namespace

RuntimeSettings::PersistFn settingsPersistence(EventStore& store, const SettingsRegistry& registry) {
  return [&store, &registry](const SettingChange& change) -> Result<void> {
    Result<void> saved = okResult();
    if (change.base) {
      saved = store.saveRevision(change.revision);
    } else {
      std::optional<std::string> text;
      if (change.value) {
        const SettingSpec* spec = registry.find(change.key);
        if (spec == nullptr) return invalidArgument("unknown setting '" + change.key + "'");
        text = SettingsRegistry::render(*spec, *change.value);
      }
      saved = store.saveSetting(change.scope.session, change.key, text, change.revision);
    }
    if (!saved.ok()) return asStoreError(saved.error());
    return okResult();
  };
}

Result<PersistedSettings> restoreSettings(EventStore& store, RuntimeSettings& settings,
                                          const SettingsRegistry& registry, std::vector<std::string>* skipped) {
  auto loaded = store.loadSettings();
  if (!loaded.ok()) return loaded.error().withContext("loading the runtime settings");
  std::vector<StoredSetting> values;
  for (const auto& p : loaded->values) {
    auto value = registry.parse(p.key, p.value);
    if (!value.ok()) {
      if (skipped != nullptr) {
        skipped->push_back("stored setting " + p.key + (p.session.empty() ? " (global)" : " of session " + p.session) +
                           " skipped: " + value.error().message());
      }
      continue;
    }
    const SettingSpec* spec = registry.find(p.key);
    if (spec == nullptr || (p.session.empty() ? !spec->global : !spec->per_session)) {
      if (skipped != nullptr) {
        skipped->push_back("stored setting " + p.key + (p.session.empty() ? " (global)" : " of session " + p.session) +
                           " skipped: the key may no longer be set in that scope");
      }
      continue;
    }
    values.push_back({SettingScope{p.session}, p.key, std::move(*value)});
  }
  WARDEN_RETURN_IF_ERROR(settings.restore(values, loaded->revision));
  if (auto saved = store.saveRevision(settings.revision()); !saved.ok()) {
    return saved.error().withContext("saving the config revision after a restart");
  }
  return std::move(*loaded);
}

}  // namespace warden::gateway
