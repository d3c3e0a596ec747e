#pragma once

// What an installer's command line asked for (docs/packages.md "requested version"): the calling
// process's argv, as caller identity read it from /proc (recorded, never trusted for a decision).
// Heuristic by nature: `pip install requests==2.31`, `npm install left-pad@1.3.0`,
// `apt-get install hello=2.10-3`; a requirements file or a lock file names nothing here.

#include <string>
#include <string_view>

#include "proxy/inspect/package_url.h"

namespace warden::proxy::inspect {

struct InstallSpec {
  bool named = false;             // the command line names this package
  std::string requested_version;  // "==2.31.0", "^1.3", "2.10-3", "latest"; "" when not said
  bool direct_url = false;        // a URL / file spec stands for the package ("pkg @ https://...", a .whl URL)
  bool vcs = false;               // a VCS spec ("git+https://...", "github:user/repo")
};

// `cmd_line` is argv joined with spaces; `url` the download's absolute URL (a direct-URL install
// names it on the command line).
InstallSpec installSpecFor(PackageManager manager, std::string_view cmd_line, std::string_view name,
                           std::string_view url);

// A git checkout made for an installer: pip's "pip-req-build-*" / "pip-install-*" directories, npm's
// "_cacache/tmp/git-clone*", in git's (or git-remote-http's parent's) command line.
bool isInstallerVcsFetch(std::string_view cmd_line);

}  // namespace warden::proxy::inspect
