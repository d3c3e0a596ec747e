#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "gateway/settings/runtime_settings.h"
#include "gateway/settings/settings_registry.h"
#include "gateway/store/store.h"

namespace warden::gateway {

// Runtime settings kept in the event store (schema migration 2), so they survive a restart. The
// store knows only text; this is where the registry's typed values meet it.

// The RuntimeSettings persistence hook: a runtime change becomes saveSetting(session, key, the
// registry's text form or nullopt for a delete, revision); a base change or bumpRevision() becomes
// saveRevision(revision). A store error other than InvalidArgument is returned as Unavailable
// "event store: ... (nothing was changed)", so the change is abandoned and SetSetting answers
// UNAVAILABLE. Borrows `store` and `registry`, which must outlive the returned function.
RuntimeSettings::PersistFn settingsPersistence(EventStore& store, const SettingsRegistry& registry);

// Start-up: loads the persisted values and revision into `settings` (RuntimeSettings::restore, so
// the revision becomes last + 1) and saves that revision at once, so a second restart without any
// change still serves a revision higher than the first. A stored value whose key the registry no
// longer knows, or whose text no longer parses, is skipped and described in `*skipped`. Returns
// what was loaded (the policy state is used by the caller).
Result<PersistedSettings> restoreSettings(EventStore& store, RuntimeSettings& settings,
                                          const SettingsRegistry& registry, std::vector<std::string>* skipped);

}  // namespace warden::gateway
