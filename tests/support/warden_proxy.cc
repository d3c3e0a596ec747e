#include "support/warden_proxy.h"

#include <sstream>

#include "support/test_env.h"

namespace warden::testing {

std::unique_ptr<WardenProxy> WardenProxy::start(const std::filesystem::path& dir, const std::string& policy_yaml,
                                                const std::filesystem::path& upstream_ca, std::string* why,
                                                const std::vector<std::string>& extra_env,
                                                const std::vector<std::string>& extra_args) {
  auto proxy = std::unique_ptr<WardenProxy>(new WardenProxy());
  proxy->log_dir_ = dir / "logs";
  writeFile(dir / "policy.yaml", policy_yaml);
  ChildProcess::Options o;
  o.argv = {wardenBinary().string(), "proxy", "--policy", (dir / "policy.yaml").string(), "--listen", "127.0.0.1:0",
            "--log-dir", proxy->log_dir_.string(), "--ocsf-json", "--allow-loopback-upstream"};
  o.argv.insert(o.argv.end(), extra_args.begin(), extra_args.end());
  o.set_env = {"SSL_CERT_FILE=" + upstream_ca.string()};
  for (const auto& kv : extra_env) o.set_env.push_back(kv);
  proxy->process_ = ChildProcess::start(o, why);
  if (!proxy->process_) return nullptr;
  // The variables come after the listening line; NODE_EXTRA_CA_CERTS is the last one printed.
  const std::string listening = proxy->process_->waitForLine("warden proxy listening on ");
  if (listening.empty() || proxy->process_->waitForLine("NODE_EXTRA_CA_CERTS=").empty()) {
    if (why) *why = "warden proxy did not start: " + proxy->process_->output();
    return nullptr;
  }
  std::istringstream lines(proxy->process_->output());
  std::string line;
  while (std::getline(lines, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos && line.find(' ') == std::string::npos) proxy->env_.push_back(line);
  }
  return proxy;
}

std::string WardenProxy::env() const {
  std::string out = "env -u NO_PROXY -u no_proxy -u ALL_PROXY -u all_proxy";
  for (const auto& kv : env_) out += " '" + kv + "'";
  return out;
}

std::string WardenProxy::variable(const std::string& name) const {
  for (const auto& kv : env_) {
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
  }
  return "";
}

std::string WardenProxy::waitForLine(const std::vector<std::string>& parts) const {
  std::string found;
  waitFor([&] {
    std::istringstream lines(read("warden.log"));
    std::string line;
    while (std::getline(lines, line)) {
      bool all = true;
      for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
      if (all) {
        found = line;
        return true;
      }
    }
    return false;
  });
  return found;
}

std::vector<nlohmann::json> WardenProxy::events() const {
  std::vector<nlohmann::json> out;
  std::istringstream lines(read("warden-ocsf.log"));
  std::string line;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json WardenProxy::waitForHttpEvent(const std::string& path, const std::string& action) const {
  nlohmann::json found;
  waitFor([&] {
    for (auto& e : events()) {
      if (e.value("class_uid", 0) == 4002 && e.value("action", "") == action &&
          e.value(nlohmann::json::json_pointer("/http_request/url/path"), std::string()) == path) {
        found = e;
        return true;
      }
    }
    return false;
  });
  return found;
}

std::string WardenProxy::read(const char* name) const {
  std::error_code ec;
  return std::filesystem::exists(log_dir_ / name, ec) ? readFile(log_dir_ / name) : "";
}

}  // namespace warden::testing
