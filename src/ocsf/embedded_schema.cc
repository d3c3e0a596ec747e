#include "ocsf/embedded_schema.h"

#include <mutex>

extern "C" {
extern const char warden_ocsf_schema_begin[];
extern const char warden_ocsf_schema_end[];
}

namespace warden::ocsf {

std::string_view embeddedSchemaText() {
  return {warden_ocsf_schema_begin, static_cast<size_t>(warden_ocsf_schema_end - warden_ocsf_schema_begin)};
}

Result<Schema> embeddedSchema() {
  static std::once_flag once;
  static std::optional<Result<Schema>> parsed;
  std::call_once(once, [] {
    auto schema = Schema::parse(embeddedSchemaText());
    parsed.emplace(schema.ok() ? std::move(schema) : Result<Schema>(schema.error().withContext("embedded OCSF schema")));
  });
  return *parsed;
}

Result<Schema> loadSchema(const std::optional<std::filesystem::path>& path) {
  if (path) return Schema::load(*path);
  return embeddedSchema();
}

}  // namespace warden::ocsf
