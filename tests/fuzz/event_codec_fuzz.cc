// The gateway decompresses every stored event body it reads back (gateway/store/event_codec.h): bytes
// from its database, which a damaged disk or a hand edit can turn into anything. decode() must answer
// DataLoss (or the bytes), never crash; and whatever encode() makes of any JSON and shorthand must
// decode to exactly them.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/store/event_codec.h"

namespace {

warden::gateway::EventCodec& codec() {
  static warden::gateway::EventCodec* c = [] {
    auto* made = new warden::gateway::EventCodec();
    // A raw-content dictionary (zstd accepts any bytes as one): typical event text.
    const std::string dict =
        "{\"action\":\"Allowed\",\"action_id\":1,\"activity_id\":1,\"activity_name\":\"Open\",\"category_name\":"
        "\"Network Activity\",\"class_uid\":4001,\"device\":{\"hostname\":\"host\"},\"metadata\":{\"sequence\":"
        "NET:OPEN [INFO] ALLOWED python3(42) -> api.example.com:443 [policy:p engine:policy]";
    if (!made->addDictionary(1, dict, true).ok()) std::abort();
    return made;
  }();
  return *c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string json, shorthand;
  // As a stored body, with and without the dictionary.
  (void)codec().decode(1, input, "", &json, &shorthand);
  (void)codec().decode(0, input, "x", &json, &shorthand);
  (void)codec().decode(2, input, "", &json, &shorthand);
  // As an event: split at the first newline into JSON and shorthand; must round-trip.
  const size_t nl = input.find('\n');
  const std::string_view in_json = input.substr(0, nl);
  const std::string_view in_short = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  const auto encoded = codec().encode(in_json, in_short);
  if (!codec().decode(encoded.dict, encoded.body, encoded.shorthand_inside ? "" : in_short, &json, &shorthand).ok() ||
      json != in_json || shorthand != in_short) {
    std::abort();
  }
  return 0;
}
