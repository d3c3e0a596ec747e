// libFuzzer target: arbitrary bytes as a compiled OCSF schema (`warden ocsf validate --schema FILE`)
// through Schema::parse, then, when it indexes, one fixed event through a Validator on it.
// Whatever the schema says (types without primitives, regexes that do not compile, self-referring
// objects, odd enums and constraints), parsing returns a Result and validation returns problems,
// without crashing, throwing, hanging or tripping ASan/UBSan.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "ocsf/schema.h"
#include "ocsf/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto schema = warden::ocsf::Schema::parse(text);
  if (!schema.ok()) {
    if (schema.error().message().empty()) std::abort();  // every refusal says why
    return 0;
  }
  static const nlohmann::json event = nlohmann::json::parse(
      R"({"class_uid":9001,"metadata":{"version":"1.7.0","profiles":["p",7]},"word":"HELLO","count":500,)"
      R"("tags":["abc",1,null],"tag_names":["A"],"thing":{"x":1,"thing":{"x":[1]}},"flag":false,"odd":1,)"
      R"("observables":[{"name":"thing.x"},{"name":"tags[0]"}],"type_uid":900101,"activity_id":1})");
  for (const auto& problem : warden::ocsf::Validator(*schema).validate(event)) {
    if (problem.code.empty() || problem.path.empty() || problem.path[0] != '$') std::abort();
  }
  return 0;
}
