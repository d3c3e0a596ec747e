// libFuzzer target: the DNS message parser and error-response builder behind the sandbox resolver
// (proxy/dns_message.h). Checks: no out-of-bounds reads or unbounded work (ASan, timeouts), the
// parse agrees with the header's counts, rendered names stay within their bound, and an error
// response to anything with a header is itself a well-formed message with the same id and question.

#include <cstddef>
#include <cstdint>
#include <span>

#include "proxy/dns_message.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace warden::proxy;
  const std::span<const uint8_t> data(bytes, size);

  auto parsed = parseDnsMessage(data);
  if (parsed.ok()) {
    check(size >= kDnsHeaderBytes);
    check(parsed->questions.size() == ((size_t{bytes[4]} << 8) | bytes[5]));
    check(parsed->answers.size() == ((size_t{bytes[6]} << 8) | bytes[7]));
    for (const auto& q : parsed->questions) {
      check(!q.name.empty() && q.name.size() <= 4 * kDnsMaxNameBytes);  // every byte at most "\DDD"
      check(!dnsTypeName(q.type).empty());
    }
    for (const auto& a : parsed->answers) check(a.name.size() <= 4 * kDnsMaxNameBytes);
  } else {
    check(!parsed.error().message().empty());
  }

  const auto reply = buildErrorResponse(data, kDnsServFail);
  if (size < kDnsHeaderBytes) {
    check(reply.empty());
    return 0;
  }
  auto answer = parseDnsMessage(reply);
  check(answer.ok());
  check(answer->is_response && answer->rcode == kDnsServFail && answer->answers.empty());
  check(answer->id == ((uint16_t{bytes[0]} << 8) | bytes[1]));
  if (parsed.ok()) {
    check(answer->questions.size() == parsed->questions.size());
    for (size_t i = 0; i < answer->questions.size(); ++i) {
      check(answer->questions[i].name == parsed->questions[i].name);
    }
  }
  return 0;
}
