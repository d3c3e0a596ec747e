#pragma once

// The OCSF 1.7.0 schema the binary carries (data/ocsf/schema-1.7.0.json, checked against its
// recorded sha256 at build time and embedded by cmake/embed_schema.cmake), so `warden ocsf validate`
// and every in-process check work from a lone copy of the binary.

#include <filesystem>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "ocsf/schema.h"

namespace warden::ocsf {

// The embedded document's bytes (static storage; never empty).
std::string_view embeddedSchemaText();

// The embedded schema, parsed and indexed on first use (thread-safe) and shared afterwards.
// The parse cannot fail for a build whose embedded file matched its sha256; the Result is kept so a
// broken build says so instead of crashing.
Result<Schema> embeddedSchema();

// The schema to validate with: the file at `path` when one is given (its own errors: NotFound,
// DataLoss, InvalidArgument, each naming the file), else the embedded one.
Result<Schema> loadSchema(const std::optional<std::filesystem::path>& path);

}  // namespace warden::ocsf
