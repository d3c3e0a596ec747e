// libFuzzer target: the ClientHello sniffer (untrusted bytes straight from a CONNECT tunnel).
// Checks: no out-of-bounds reads (ASan), parseSni agrees with inspectClientHello, a complete hello
// never claims more bytes than it was given, a returned SNI is a normalized host name, and every
// strict prefix of a complete hello is incomplete (never a different answer from fewer bytes).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/tls_client_hello.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using warden::proxy::ClientHelloStatus;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);

  (void)warden::proxy::looksLikeTlsClientHello(data);
  const auto info = warden::proxy::inspectClientHello(data);
  const auto sni = warden::proxy::parseSni(data);
  check(sni.has_value() == (info.status == ClientHelloStatus::kComplete && info.sni.has_value()));
  if (info.status == ClientHelloStatus::kComplete) {
    check(info.record_bytes > 0 && info.record_bytes <= data.size());
    // The hello is self-delimiting: bytes after it do not change the answer.
    const auto prefix = warden::proxy::inspectClientHello(data.substr(0, info.record_bytes));
    check(prefix.status == ClientHelloStatus::kComplete && prefix.sni == info.sni && prefix.alpn == info.alpn);
    if (info.record_bytes > 0) {
      const auto shorter = warden::proxy::inspectClientHello(data.substr(0, info.record_bytes - 1));
      check(shorter.status == ClientHelloStatus::kIncomplete);
    }
  } else {
    check(info.alpn.empty() || info.status != ClientHelloStatus::kInvalid);
  }
  if (sni) {
    check(!sni->empty() && sni->size() <= 253);
    check(warden::proxy::normalizeCertificateHost(*sni).has_value());
    for (const char c : *sni) check(c != '\0' && !(c >= 'A' && c <= 'Z'));
  }

  // The host normalizer on raw bytes: what it accepts is a fixed point.
  const auto host = warden::proxy::normalizeCertificateHost(data.substr(0, 300));
  if (host) {
    const auto again = warden::proxy::normalizeCertificateHost(*host);
    check(again.has_value() && *again == *host);
  }
  return 0;
}
