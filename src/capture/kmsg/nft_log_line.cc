#include "capture/kmsg/nft_log_line.h"

#include <charconv>
#include <string>

#include "common/ip_address.h"

namespace warden::capture {
namespace {

constexpr size_t kMaxHeaderBytes = 128;   // "<prio>,<seq>,<usec>,<flags>[,<more>]"
constexpr size_t kMaxTokens = 64;         // nf_log prints about 25 for TCP
constexpr size_t kMaxProtocolBytes = 16;  // "UDPLITE", "ICMPv6", or a number

// Shows at most 40 bytes of untrusted text in an error, non-printables as '?'.
std::string excerpt(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < 40; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (text.size() > 40) out += "...";
  return out;
}

template <typename T>
bool parseDecimal(std::string_view text, T& out) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

struct Header {
  uint64_t sequence = 0;
  int64_t time_us = 0;
};

// "<prio>,<seq>,<usec>,<flags>[,...]" — flags is one character ('-', 'c', '+') on every kernel
// since 3.5; later fields (a caller id) are allowed and ignored.
Result<Header> parseHeader(std::string_view header) {
  std::string_view fields[4];
  size_t n = 0;
  while (n < 4) {
    const size_t comma = header.find(',');
    fields[n++] = header.substr(0, comma);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (n < 4) return invalidArgument("kmsg header has " + std::to_string(n) + " fields, want 4");
  uint32_t prio = 0;
  Header h;
  if (!parseDecimal(fields[0], prio))
    return invalidArgument("kmsg priority is not a number: '" + excerpt(fields[0]) + "'");
  if (!parseDecimal(fields[1], h.sequence)) {
    return invalidArgument("kmsg sequence is not a number: '" + excerpt(fields[1]) + "'");
  }
  if (!parseDecimal(fields[2], h.time_us)) {
    return invalidArgument("kmsg timestamp is not a number: '" + excerpt(fields[2]) + "'");
  }
  if (fields[3].empty()) return invalidArgument("kmsg flags field is empty");
  return h;
}

bool validTagChar(char c) {
  return c > 0x20 && c < 0x7f;  // printable ASCII, no space (the prefix is ours: a session id)
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool validProtocol(std::string_view p) {
  if (p.empty() || p.size() > kMaxProtocolBytes) return false;
  for (char c : p) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum) return false;
  }
  return true;
}

Result<std::string> parseIp(std::string_view key, std::string_view value) {
  const auto ip = IpAddress::parse(value);
  if (!ip) return invalidArgument(std::string(key) + " is not an IP address: '" + excerpt(value) + "'");
  return ip->toString();
}

Result<uint16_t> parsePort(std::string_view key, std::string_view value) {
  uint32_t port = 0;
  if (!parseDecimal(value, port) || port > 65535) {
    return invalidArgument(std::string(key) + " is not a port: '" + excerpt(value) + "'");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

Result<NftLogRecord> parseNftLogRecord(std::string_view record) {
  // Only the first line: /dev/kmsg appends " KEY=value" continuation lines.
  if (const size_t nl = record.find('\n'); nl != std::string_view::npos) record = record.substr(0, nl);
  const size_t semi = record.substr(0, kMaxHeaderBytes).find(';');
  if (semi == std::string_view::npos) {
    return invalidArgument("not a kmsg record: no ';' within the first " + std::to_string(kMaxHeaderBytes) +
                           " bytes: '" + excerpt(record) + "'");
  }
  auto header = parseHeader(record.substr(0, semi));
  if (!header.ok()) return header.error();
  std::string_view message = record.substr(semi + 1);
  if (message.substr(0, kBypassLogMarker.size()) != kBypassLogMarker) {
    return notFound("not a warden bypass record");
  }
  if (record.size() > kMaxKmsgRecordBytes) {
    return invalidArgument("bypass record of " + std::to_string(record.size()) + " bytes exceeds " +
                           std::to_string(kMaxKmsgRecordBytes));
  }
  message.remove_prefix(kBypassLogMarker.size());

  NftLogRecord out;
  out.sequence = header->sequence;
  out.kernel_time_us = header->time_us;

  const size_t tag_end = message.find(": ");
  if (tag_end == std::string_view::npos) return invalidArgument("bypass record has no ': ' after its tag");
  const std::string_view tag = message.substr(0, tag_end);
  if (tag.empty()) return invalidArgument("bypass record has an empty tag");
  if (tag.size() > kMaxPrefixTagBytes) {
    return invalidArgument("bypass record tag of " + std::to_string(tag.size()) + " bytes exceeds " +
                           std::to_string(kMaxPrefixTagBytes));
  }
  for (char c : tag) {
    if (!validTagChar(c)) return invalidArgument("bypass record tag has a byte that is not printable ASCII");
  }
  out.prefix_tag = std::string(tag);
  message.remove_prefix(tag_end + 2);

  // "KEY=value" and bare flag tokens (DF, SYN, ACK), separated by spaces. The first occurrence of a
  // key wins (UDP prints LEN twice); parsing stops at '[' (the quoted packet of an ICMP error).
  bool have_src = false, have_dst = false, have_proto = false, have_spt = false, have_dpt = false,
       have_uid = false;
  size_t tokens = 0;
  while (!message.empty()) {
    const size_t sp = message.find(' ');
    const std::string_view token = message.substr(0, sp);
    message = sp == std::string_view::npos ? std::string_view() : message.substr(sp + 1);
    if (token.empty()) continue;
    if (++tokens > kMaxTokens) return invalidArgument("bypass record has more than 64 fields");
    if (token.front() == '[') break;
    const size_t eq = token.find('=');
    if (eq == std::string_view::npos) continue;  // a flag
    const std::string_view key = token.substr(0, eq);
    const std::string_view value = token.substr(eq + 1);
    if (key == "SRC" && !have_src) {
      auto ip = parseIp(key, value);
      if (!ip.ok()) return ip.error();
      out.src_ip = std::move(ip).value();
      have_src = true;
    } else if (key == "DST" && !have_dst) {
      auto ip = parseIp(key, value);
      if (!ip.ok()) return ip.error();
      out.dst_ip = std::move(ip).value();
      have_dst = true;
    } else if (key == "PROTO" && !have_proto) {
      if (!validProtocol(value))
        return invalidArgument("PROTO is not a protocol name: '" + excerpt(value) + "'");
      out.protocol = lower(value);
      have_proto = true;
    } else if (key == "SPT" && !have_spt) {
      auto port = parsePort(key, value);
      if (!port.ok()) return port.error();
      out.src_port = *port;
      have_spt = true;
    } else if (key == "DPT" && !have_dpt) {
      auto port = parsePort(key, value);
      if (!port.ok()) return port.error();
      out.dst_port = *port;
      have_dpt = true;
    } else if (key == "UID" && !have_uid) {
      uint32_t uid = 0;
      if (!parseDecimal(value, uid)) return invalidArgument("UID is not a number: '" + excerpt(value) + "'");
      out.uid = uid;
      have_uid = true;
    }
  }
  if (!have_src) return invalidArgument("bypass record has no SRC=");
  if (!have_dst) return invalidArgument("bypass record has no DST=");
  if (!have_proto) return invalidArgument("bypass record has no PROTO=");
  if (have_spt != have_dpt) return invalidArgument("bypass record has only one of SPT= and DPT=");
  return out;
}

std::optional<uint64_t> kmsgSequence(std::string_view record) {
  const size_t semi = record.substr(0, kMaxHeaderBytes).find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  auto header = parseHeader(record.substr(0, semi));
  if (!header.ok()) return std::nullopt;
  return header->sequence;
}

}  // namespace warden::capture
