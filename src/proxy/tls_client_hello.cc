#include "proxy/tls_client_hello.h"

#include <cstdint>

#include "policy/glob.h"

namespace warden::proxy {
namespace {

constexpr size_t kMaxTlsRecordBytes = 16384 + 256;  // plaintext limit, with room for legacy slack

}  // namespace

namespace {

// A bounds-checked big-endian reader over a byte string.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool empty() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  bool u8(uint32_t& out) { return number(1, out); }
  bool u16(uint32_t& out) { return number(2, out); }
  bool u24(uint32_t& out) { return number(3, out); }
  bool bytes(size_t n, std::string_view& out) {
    if (n > remaining()) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    std::string_view ignored;
    return bytes(n, ignored);
  }

 private:
  bool number(size_t n, uint32_t& out) {
    if (n > remaining()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) out = (out << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += n;
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

uint32_t be16(std::string_view s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 8) | static_cast<uint8_t>(s[at + 1]);
}

// Parses a whole ClientHello body (after the 4-byte handshake header).
bool parseClientHelloBody(std::string_view body, ClientHelloInfo& info) {
  Reader r(body);
  uint32_t version = 0;
  if (!r.u16(version) || (version >> 8) != 3) return false;
  if (!r.skip(32)) return false;  // random
  uint32_t length = 0;
  if (!r.u8(length) || length > 32 || !r.skip(length)) return false;  // legacy_session_id
  if (!r.u16(length) || length < 2 || length % 2 != 0 || !r.skip(length)) return false;  // cipher_suites
  if (!r.u8(length) || length < 1 || !r.skip(length)) return false;  // compression methods
  if (r.empty()) return true;  // no extensions (pre-TLS 1.2 style): valid, no SNI
  std::string_view extensions_block;
  if (!r.u16(length) || !r.bytes(length, extensions_block) || !r.empty()) return false;
  Reader ext(extensions_block);
  bool seen_sni = false;
  bool seen_alpn = false;
  while (!ext.empty()) {
    uint32_t type = 0;
    std::string_view data;
    if (!ext.u16(type) || !ext.u16(length) || !ext.bytes(length, data)) return false;
    if (type == 0) {  // server_name (RFC 6066)
      if (seen_sni) return false;
      seen_sni = true;
      Reader sni(data);
      std::string_view list;
      if (!sni.u16(length) || !sni.bytes(length, list) || !sni.empty() || list.empty()) return false;
      Reader names(list);
      while (!names.empty()) {
        uint32_t name_type = 0;
        std::string_view name;
        if (!names.u8(name_type) || !names.u16(length) || !names.bytes(length, name)) return false;
        if (name_type != 0) continue;  // not host_name
        if (info.sni) return false;    // at most one host_name
        // A trailing dot is not allowed in SNI (normalizeHost would drop it), nor IP literal syntax.
        if (name.empty() || name.back() == '.' || name.find_first_of("[]:") != std::string_view::npos) return false;
        auto normalized = policy::normalizeHost(name);
        if (!normalized) return false;
        info.sni = std::move(*normalized);
      }
    } else if (type == 16) {  // application_layer_protocol_negotiation (RFC 7301)
      if (seen_alpn) return false;
      seen_alpn = true;
      Reader alpn(data);
      std::string_view list;
      if (!alpn.u16(length) || !alpn.bytes(length, list) || !alpn.empty() || list.empty()) return false;
      Reader protocols(list);
      while (!protocols.empty()) {
        std::string_view protocol;
        if (!protocols.u8(length) || length == 0 || !protocols.bytes(length, protocol)) return false;
        if (info.alpn.size() < 32) info.alpn.emplace_back(protocol);
      }
    }
  }
  return true;
}

}  // namespace

bool looksLikeTlsClientHello(std::string_view first_bytes) {
  if (first_bytes.size() < kTlsSniffBytes) return false;
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(first_bytes[i]); };
  const uint32_t record_length = be16(first_bytes, 3);
  return byte(0) == 22 && byte(1) == 3 && byte(2) <= 4 && record_length >= 1 &&
         record_length <= kMaxTlsRecordBytes && byte(5) == 1;
}

ClientHelloInfo inspectClientHello(std::string_view bytes) {
  ClientHelloInfo info;
  std::string handshake;  // the handshake message, reassembled from its records
  size_t pos = 0;
  while (true) {
    if (bytes.size() - pos < 5) {
      // A partial record header: plausible only if what is there is a handshake record of 3.x.
      const std::string_view rest = bytes.substr(pos);
      const bool plausible = (rest.empty() || static_cast<uint8_t>(rest[0]) == 22) &&
                             (rest.size() < 2 || rest[1] == 3) &&
                             (rest.size() < 3 || static_cast<uint8_t>(rest[2]) <= 4);
      info.status = plausible ? ClientHelloStatus::kIncomplete : ClientHelloStatus::kInvalid;
      return info;
    }
    if (static_cast<uint8_t>(bytes[pos]) != 22 || bytes[pos + 1] != 3 || static_cast<uint8_t>(bytes[pos + 2]) > 4) {
      return info;  // kInvalid
    }
    const size_t record_length = be16(bytes, pos + 3);
    if (record_length == 0 || record_length > kMaxTlsRecordBytes) return info;
    const size_t available = std::min(record_length, bytes.size() - pos - 5);
    handshake.append(bytes.substr(pos + 5, available));
    const bool record_complete = available == record_length;
    pos += 5 + available;

    if (!handshake.empty() && static_cast<uint8_t>(handshake[0]) != 1) return info;  // not a ClientHello
    if (handshake.size() >= 4) {
      const size_t message_length = (size_t{static_cast<uint8_t>(handshake[1])} << 16) |
                                    (size_t{static_cast<uint8_t>(handshake[2])} << 8) |
                                    static_cast<uint8_t>(handshake[3]);
      if (message_length > kMaxClientHelloBytes) return info;
      if (handshake.size() >= 4 + message_length) {
        // Only the ClientHello may be in the first flight: trailing handshake bytes are malformed.
        if (handshake.size() != 4 + message_length) return info;
        if (!parseClientHelloBody(std::string_view(handshake).substr(4, message_length), info)) {
          info.sni.reset();
          info.alpn.clear();
          return info;
        }
        info.status = ClientHelloStatus::kComplete;
        info.record_bytes = pos;
        return info;
      }
    }
    if (handshake.size() > kMaxClientHelloBytes + 4) return info;
    if (!record_complete) {
      info.status = ClientHelloStatus::kIncomplete;
      return info;
    }
  }
}

std::optional<std::string> parseSni(std::string_view client_hello) {
  ClientHelloInfo info = inspectClientHello(client_hello);
  if (info.status != ClientHelloStatus::kComplete) return std::nullopt;
  return std::move(info.sni);
}

}  // namespace warden::proxy
