#pragma once

// The files `warden audit verify PATH...` reads: discovery (a directory's warden-ocsf.log and its
// rotated siblings, in chain order) and streaming them through a Verifier (verify.h).

#include <string>
#include <vector>

#include "audit/verify.h"

namespace warden::audit {

// Expands PATH arguments into the JSONL files to read: a file is taken as is; a directory
// contributes its warden-ocsf.log and warden-ocsf.log.* files (never warden.log*). Files are
// ordered so the chain is continuous: by the metadata.sequence of their first line, the live
// warden-ocsf.log last among equals. Paths that do not exist come back in `unreadable`.
struct LogFileSet {
  std::vector<std::string> files;
  std::vector<Finding> unreadable;
};
LogFileSet collectLogFiles(const std::vector<std::string>& paths);

// Reads and verifies the files of collectLogFiles(paths).
VerifyReport verifyPaths(const std::vector<std::string>& paths, const VerifyOptions& options);

}  // namespace warden::audit
