// libFuzzer target: arbitrary bytes as the content of a spool segment file (a damaged disk, a
// crash mid-write), through parseSpoolSegment — what Spool::open() runs on every segment. Must
// never crash, hang or leak. Also checks the parser's promises: the valid prefix is within the
// input, re-encoding the records returned gives back exactly that prefix (so open() truncating
// there keeps every record it reported), and parsing the prefix alone gives the same records.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/spool.h"
#include "audit/spool_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::audit;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  size_t valid = 0;
  const auto records = parseSpoolSegment(bytes, &valid);
  if (!records.ok()) {
    if (records.error().message().find("offset ") == std::string::npos) std::abort();  // must name where
    return 0;
  }
  if (valid > size) std::abort();
  std::string reencoded;
  if (valid > 0) reencoded.assign(kSpoolSegmentMagic);
  uint64_t prev = 0;
  for (const auto& e : *records) {
    if (e.sequence <= prev) std::abort();
    prev = e.sequence;
    encodeSpoolRecord(e, reencoded);
  }
  if (reencoded != bytes.substr(0, valid)) std::abort();
  size_t again_valid = 0;
  const auto again = parseSpoolSegment(bytes.substr(0, valid), &again_valid);
  if (!again.ok() || again_valid != valid || *again != *records) std::abort();
  return 0;
}
