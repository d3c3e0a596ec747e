#include "capture/capture_options.h"

namespace warden::capture {

std::vector<std::string> defaultSensitivePaths() {
  return {"/etc/shadow",      "/etc/gshadow", "/etc/sudoers",  "/etc/sudoers.d",   "~/.ssh",
          "~/.aws",           "~/.azure",     "~/.config/gcloud", "~/.kube",       "~/.docker/config.json",
          "~/.netrc",         "~/.git-credentials", "~/.npmrc", "~/.pypirc",       "**/.env",
          "/run/secrets",     "/var/run/secrets"};
}

}  // namespace warden::capture
