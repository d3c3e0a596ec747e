// `warden settings get|set|delete|list`: the gateway's runtime settings (docs/gateway-settings.md),
// global or per session, e.g. `warden settings set ocsf_json_enabled true --global`.
//
//   get    [KEY | --key K] [--sandbox ID | --global]            the value in force and its source
//   set    [KEY VALUE | --key K --value V] (--sandbox ID | --global)
//   delete [KEY | --key K] (--sandbox ID | --global)
//   list   [--sandbox ID]                                       the stored runtime values
//
// Each prints the effective value with its source (global, session, base, default) and the config
// revision (docs/gateway-client.md). A value of the wrong type prints the gateway's message, which
// lists the allowed values. Exit 0 ok, 1 a failure reported on stderr (unknown key, wrong type,
// unknown session, gateway unreachable), 2 a usage error.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/dispatch.h"
#include "cli/operator_flags.h"
#include "gateway/client/operator_client.h"

namespace warden::cli {
namespace {

struct SettingsOptions {
  std::string verb;
  std::string key_arg, value_arg;  // positional
  std::string key, value;          // --key, --value
  std::string sandbox;
  bool global = false;
  bool json = false;
  OperatorFlags gateway;
};

std::string dumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class SettingsRun {
 public:
  SettingsRun(const SettingsOptions& o, gateway::OperatorClient& client) : o_(o), client_(client) {}

  int run() {
    auto key = pick("KEY", o_.key_arg, "--key", o_.key);
    if (!key) return kExitUsage;
    std::optional<std::string> value;
    if (o_.verb == "set") {
      value = pick("VALUE", o_.value_arg, "--value", o_.value);
      if (!value) return kExitUsage;
    } else if (!o_.value_arg.empty() || !o_.value.empty()) {
      return usage("a VALUE is only for 'set'");
    }
    if (o_.verb != "get" && o_.sandbox.empty() && !o_.global) {
      return usage("'" + o_.verb + "' needs --global or --sandbox ID");
    }
    if (!resolveTarget()) return kExitFailure;
    if (o_.verb == "get") return get(*key);
    if (o_.verb == "set") return set(*key, *value);
    return erase(*key);
  }

  int list() {
    if (!resolveTarget()) return kExitFailure;
    auto settings = client_.listSettings(target_.session);
    if (!settings.ok()) return fail(settings.error());
    if (o_.json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& s : *settings) {
        arr.push_back({{"key", s.key},
                       {"value", s.value},
                       {"scope", s.scope},
                       {"session", s.session},
                       {"type", s.type},
                       {"allowed", s.allowed}});
      }
      fmt::print(stdout, "{}\n", dumpJson({{"settings", std::move(arr)}}));
    } else if (settings->empty()) {
      fmt::print(
          stdout, "no runtime settings are set{}\n",
          target_.session.empty() ? std::string() : " (globally or for session " + target_.session + ")");
    } else {
      for (const auto& s : *settings) {
        fmt::print(stdout, "{} = {} ({})\n", s.key, s.value,
                   s.scope == "session" ? "session " + s.session : s.scope);
      }
    }
    std::fflush(stdout);
    return kExitOk;
  }

 private:
  int usage(std::string_view message) const {
    fmt::print(stderr, "warden settings {}: {}\nRun 'warden settings {} --help' for the options.\n", o_.verb,
               message, o_.verb);
    return kExitUsage;
  }
  int fail(const Error& e) const {
    fmt::print(stderr, "warden settings {}: {}\n", o_.verb, e.message());
    return kExitFailure;
  }

  // The key (or value) given positionally or with its flag; both must agree.
  std::optional<std::string> pick(std::string_view pos_name, const std::string& pos, std::string_view flag,
                                  const std::string& flagged) const {
    if (!pos.empty() && !flagged.empty() && pos != flagged) {
      usage(fmt::format("{} '{}' and {} '{}' disagree; give one", pos_name, pos, flag, flagged));
      return std::nullopt;
    }
    if (pos.empty() && flagged.empty()) {
      usage(fmt::format("give the {} ({} or {})", pos_name == "KEY" ? "key" : "value", pos_name, flag));
      return std::nullopt;
    }
    return pos.empty() ? flagged : pos;
  }

  // --sandbox: an id, a name or an id prefix of a session the gateway knows.
  bool resolveTarget() {
    target_.global = o_.global;
    if (o_.sandbox.empty()) return true;
    auto s = client_.resolveSession(o_.sandbox);
    if (!s.ok()) {
      fail(s.error().withContext("--sandbox"));
      return false;
    }
    target_.session = s->id;
    return true;
  }

  // The value in force where the command points (the session, or no session).
  Result<gateway::SettingInfo> effective(const std::string& key) {
    gateway::SettingTarget read;
    read.session = target_.session;
    read.global = target_.session.empty();
    return client_.getSetting(key, read);
  }

  std::string scopeText() const {
    return target_.session.empty() ? std::string("global") : "session " + target_.session;
  }

  nlohmann::json effectiveJson(const gateway::SettingInfo& s, uint64_t rev) const {
    return {{"key", s.key},         {"value", s.value},           {"source", s.scope},    {"type", s.type},
            {"allowed", s.allowed}, {"session", target_.session}, {"config_revision", rev}};
  }

  void printEffective(const gateway::SettingInfo& s, uint64_t rev) const {
    fmt::print(stdout, "{} = {}{} (from {}; config revision {})\n", s.key, s.value,
               target_.session.empty() ? std::string() : " for session " + target_.session, s.scope, rev);
  }

  int get(const std::string& key) {
    auto s = effective(key);
    if (!s.ok()) return fail(s.error());
    const uint64_t rev = s->config_revision;
    if (o_.json) {
      fmt::print(stdout, "{}\n", dumpJson(effectiveJson(*s, rev)));
    } else {
      printEffective(*s, rev);
    }
    std::fflush(stdout);
    return kExitOk;
  }

  int set(const std::string& key, const std::string& value) {
    auto stored = client_.setSetting(key, value, target_);
    if (!stored.ok()) return fail(stored.error());
    auto s = effective(key);
    if (!s.ok()) return fail(s.error());
    const uint64_t rev = s->config_revision;
    if (o_.json) {
      nlohmann::json j = effectiveJson(*s, rev);
      j["stored"] = {{"value", stored->value}, {"scope", stored->scope}, {"session", stored->session}};
      fmt::print(stdout, "{}\n", dumpJson(j));
    } else {
      fmt::print(stdout, "set {} = {} ({})\n", stored->key, stored->value, scopeText());
      printEffective(*s, rev);
    }
    std::fflush(stdout);
    return kExitOk;
  }

  int erase(const std::string& key) {
    auto deleted = client_.deleteSetting(key, target_);
    if (!deleted.ok()) return fail(deleted.error());
    auto s = effective(key);
    if (!s.ok()) return fail(s.error());
    if (o_.json) {
      nlohmann::json j = effectiveJson(*s, deleted->config_revision);
      j["deleted"] = {{"existed", deleted->existed},
                      {"scope", target_.session.empty() ? "global" : "session"},
                      {"session", target_.session}};
      fmt::print(stdout, "{}\n", dumpJson(j));
    } else {
      if (deleted->existed) {
        fmt::print(stdout, "deleted {} ({})\n", key, scopeText());
      } else {
        fmt::print(stdout, "{} was not set ({}); nothing deleted\n", key, scopeText());
      }
      printEffective(*s, deleted->config_revision);
    }
    std::fflush(stdout);
    return kExitOk;
  }

  const SettingsOptions& o_;
  gateway::OperatorClient& client_;
  gateway::SettingTarget target_;
};

void addCommon(CLI::App* sub, SettingsOptions& o, bool scoped) {
  if (scoped) {
    auto* sandbox = sub->add_option("--sandbox", o.sandbox, "a session (id, name or id prefix)");
    auto* global = sub->add_flag("--global", o.global, "the global value (it wins over session values)");
    sandbox->excludes(global);
    global->excludes(sandbox);
  }
  sub->add_flag("--json", o.json, "print one JSON object");
  addOperatorFlags(sub, &o.gateway);
}

}  // namespace

int settingsCommand(int argc, char** argv) {
  CLI::App app{"Reads and changes the gateway's runtime settings, globally or per session.",
               "warden settings"};
  app.require_subcommand(1);
  SettingsOptions o;
  CLI::App* get = app.add_subcommand("get", "the value in force, its source and the config revision");
  CLI::App* set = app.add_subcommand("set", "store a value (needs --global or --sandbox ID)");
  CLI::App* del = app.add_subcommand("delete", "delete a stored value (needs --global or --sandbox ID)");
  CLI::App* list =
      app.add_subcommand("list", "the stored runtime values (global, and the session's with --sandbox)");
  for (CLI::App* sub : {get, set, del}) {
    sub->add_option("KEY", o.key_arg, "the setting, e.g. ocsf_json_enabled");
    sub->add_option("--key", o.key, "the setting (instead of KEY)");
    addCommon(sub, o, true);
  }
  set->add_option("VALUE", o.value_arg, "the value, as text (true, 30s, ...)");
  set->add_option("--value", o.value, "the value (instead of VALUE)");
  list->add_option("--sandbox", o.sandbox, "also this session's values (id, name or id prefix)");
  addCommon(list, o, false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  o.verb = app.get_subcommands().front()->get_name();
  try {
    auto client = gateway::OperatorClient::forCommand(o.gateway.connection());
    if (!client.ok()) {
      fmt::print(stderr, "warden settings {}: {}\n", o.verb, client.error().message());
      return client.error().code() == Code::kInvalidArgument ? kExitUsage : kExitFailure;
    }
    SettingsRun run(o, *client);
    return o.verb == "list" ? run.list() : run.run();
  } catch (const std::exception& e) {  // the edge: nothing escapes a command
    fmt::print(stderr, "warden settings: internal error: {}\n", e.what());
    return kExitFailure;
  }
}

}  // namespace warden::cli
