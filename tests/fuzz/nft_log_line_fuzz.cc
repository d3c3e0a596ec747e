// libFuzzer target: parseNftLogRecord, the parser of kernel log records the sandbox's bypass rule
// writes (src/capture/kmsg/nft_log_line.h). Checks: no out-of-bounds reads (ASan); a parsed record
// keeps its bounds (tag 1..127 printable bytes without spaces, a short lower-case protocol,
// addresses that parse back to themselves); the error codes are only NotFound and
// InvalidArgument; kmsgSequence agrees with the parse.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "capture/kmsg/nft_log_line.h"
#include "common/ip_address.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace warden;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const auto r = capture::parseNftLogRecord(data);
  const auto seq = capture::kmsgSequence(data);
  if (!r.ok()) {
    check(r.error().code() == Code::kNotFound || r.error().code() == Code::kInvalidArgument);
    check(!r.error().message().empty());
    return 0;
  }
  check(seq.has_value() && *seq == r->sequence);
  check(!r->prefix_tag.empty() && r->prefix_tag.size() <= capture::kMaxPrefixTagBytes);
  for (char c : r->prefix_tag) check(c > 0x20 && c < 0x7f);
  check(!r->protocol.empty() && r->protocol.size() <= 16);
  for (char c : r->protocol) check(!(c >= 'A' && c <= 'Z'));
  for (const std::string* ip : {&r->src_ip, &r->dst_ip}) {
    const auto parsed = IpAddress::parse(*ip);
    check(parsed.has_value() && parsed->toString() == *ip);
  }
  check(r->kernel_time_us >= 0);
  return 0;
}
