#pragma once

// What a TOOL event keeps of an MCP tool call's arguments (policy `audit.tool_inputs`). Values that
// look like secrets (common/secret_shape.h) are "[redacted]" at every level. Pure; thread-safe.

#include <nlohmann/json.hpp>

#include <string>

#include "policy/model.h"

namespace warden::proxy::inspect {

// kNone: "". kKeys: "keys: path, mode". kSummary: "path=/workspace/a.txt mode=r" with every string
// cut to 64 bytes (" (N bytes)" appended when cut), objects as "{a,b}", arrays as "[3 items]".
// kFull: as kSummary (the short form the shorthand can show). Never longer than 256 bytes.
std::string summarizeToolInput(const nlohmann::json& arguments, policy::ToolInputs level);

// kFull only: the arguments as compact JSON with secret-looking values (and values under
// secret-sounding keys) replaced by "[redacted]". "" for the other levels.
std::string fullToolInput(const nlohmann::json& arguments, policy::ToolInputs level);

// `document` with every secret-looking string (and every value under a secret-sounding key)
// replaced by "[redacted]", recursively.
nlohmann::json redactJson(const nlohmann::json& document);

}  // namespace warden::proxy::inspect
