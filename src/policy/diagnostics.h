#pragma once

// The policy loader reports with the project's diagnostics (common/diagnostics.h).

#include "common/diagnostics.h"

namespace warden::policy {

using warden::Diagnostic;
using warden::Diagnostics;
using warden::SourceLocation;

}  // namespace warden::policy
