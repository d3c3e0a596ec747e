// The `credentials` section of a policy (sandbox.md "Credentials").

#include <fmt/format.h>

#include "common/encoding.h"
#include "policy/policy_reader.h"

namespace warden::policy {
void PolicyReader::loadCredentials(const YAML::Node& n, SourceLocation at, std::vector<Credential>& out) {
  if (n.IsNull()) return;
  forEachEntry(
      n, "credentials", {}, at,
      [&](const std::string& name, SourceLocation name_at, const YAML::Node& value) {
        const std::string path = yamlChildPath("credentials", name);
        Credential credential;
        credential.name = name;
        credential.location = name_at;
        bool have_env = false, have_value = false, have_inject = false;
        const size_t errors_before = errors();
        forEachEntry(value, path, {"env", "value_from", "inject"}, name_at,
                     [&](const std::string& key, SourceLocation key_at, const YAML::Node& v) {
                       const std::string field = yamlChildPath(path, key);
                       if (key == "env") {
                         have_env = true;
                         const auto text = scalar(v, field, key_at, "a variable name");
                         if (!text) return;
                         if (!isEnvironmentName(*text)) {
                           error(v, fmt::format("{}: '{}' is not a variable name", field, echoValue(*text)), key_at);
                           return;
                         }
                         credential.env = *text;
                       } else if (key == "value_from") {
                         have_value = true;
                         const auto text = scalar(v, field, key_at, "env:NAME or file:/path");
                         if (!text) return;
                         const std::string_view ref = *text;
                         if (ref.starts_with("env:") && isEnvironmentName(ref.substr(4))) {
                           credential.source = Credential::Source::kEnv;
                           credential.source_ref = std::string(ref.substr(4));
                         } else if (ref.starts_with("file:/") && ref.find('\0') == std::string_view::npos) {
                           credential.source = Credential::Source::kFile;
                           credential.source_ref = std::string(ref.substr(5));
                         } else {
                           error(v,
                                 fmt::format("{}: '{}' is neither env:NAME (the supervisor's environment) nor "
                                             "file:/absolute/path (a file readable only by root)",
                                             field, echoValue(ref)),
                                 key_at);
                         }
                       } else {
                         have_inject = true;
                         forEachItem(v, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& t) {
                           Credential::Target target;
                           bool have_host = false, have_ports = false;
                           forEachEntry(t, item_path, {"host", "ports"}, locate(t, key_at),
                                        [&](const std::string& tk, SourceLocation tk_at, const YAML::Node& tv) {
                                          const std::string tf = yamlChildPath(item_path, tk);
                                          if (tk == "host") {
                                            have_host = true;
                                            if (auto host = loadHost(tv, tf, tk_at)) target.host = std::move(*host);
                                          } else {
                                            have_ports = true;
                                            target.ports = loadPorts(tv, tf, tk_at);
                                          }
                                        });
                           if (!t.IsMap()) return;
                           if (!have_host) error(t, fmt::format("{}: missing 'host'", item_path), key_at);
                           if (!have_ports) error(t, fmt::format("{}: missing 'ports' (e.g. ports: [443])", item_path), key_at);
                           credential.inject.push_back(std::move(target));
                         });
                         if (v.IsSequence() && v.size() == 0) {
                           error(v, fmt::format("{}: empty; name the endpoints that may receive the value", field),
                                 key_at);
                         }
                       }
                     });
        if (!value.IsMap()) return;
        if (!have_env) error(name_at, fmt::format("{}: missing 'env' (the agent's variable that holds the placeholder)", path));
        if (!have_value) error(name_at, fmt::format("{}: missing 'value_from' (env:NAME or file:/path)", path));
        if (!have_inject) error(name_at, fmt::format("{}: missing 'inject' (the endpoints that receive the value)", path));
        for (const auto& other : out) {
          if (!credential.env.empty() && other.env == credential.env) {
            error(name_at, fmt::format("{}: env '{}' is already the placeholder of credential '{}'", path,
                                       credential.env, other.name));
          }
        }
        if (errors() == errors_before) out.push_back(std::move(credential));
      },
      /*any_key=*/true);
}

}  // namespace warden::policy
