#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"

namespace warden::gateway {

// The operator token in a token file (`--token-file FILE`): the first line that is not blank or a
// `#` comment, either `TOKEN` or `ID TOKEN` (so a line of the gateway's own token file works as it
// is). InvalidArgument when there is none; the file's read error otherwise. The token is a secret:
// callers send it as "authorization: Bearer" and never print it.
Result<std::string> readTokenFile(const std::filesystem::path& file);

}  // namespace warden::gateway
