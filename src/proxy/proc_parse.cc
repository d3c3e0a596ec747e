#include "proxy/proc_parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <climits>
#include <cstring>

namespace warden::proxy {
namespace {

constexpr size_t kMaxCommBytes = 64;

bool isHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Exactly `digits` hex digits (no sign, no prefix) -> value.
std::optional<uint32_t> parseHexExact(std::string_view text, size_t digits) {
  if (text.size() != digits || digits == 0 || digits > 8) return std::nullopt;
  uint32_t value = 0;
  for (const char c : text) {
    if (!isHexDigit(c)) return std::nullopt;
    const uint32_t nibble = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    value = (value << 4) | nibble;
  }
  return value;
}

template <typename T>
std::optional<T> parseDecimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits on runs of blanks; stops after `max_tokens` tokens.
std::vector<std::string_view> tokenize(std::string_view text, size_t max_tokens) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size() && tokens.size() < max_tokens) {
    while (i < text.size() && isSpace(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !isSpace(text[i])) ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  return tokens;
}

// "0100007F:1F90" (IPv4) or 32 hex digits ":" 4 hex digits (IPv6).
std::optional<TcpEndpoint> parseTableAddress(std::string_view field) {
  const size_t colon = field.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view addr = field.substr(0, colon);
  const auto port = parseHexExact(field.substr(colon + 1), 4);
  if (!port) return std::nullopt;
  TcpEndpoint endpoint;
  endpoint.port = static_cast<uint16_t>(*port);
  if (addr.size() == 8) {
    const auto word = parseHexExact(addr, 8);
    if (!word) return std::nullopt;
    std::memcpy(endpoint.address.data(), &*word, 4);  // the kernel printed the __be32 as a native u32
  } else if (addr.size() == 32) {
    endpoint.v6 = true;
    for (size_t i = 0; i < 4; ++i) {
      const auto word = parseHexExact(addr.substr(i * 8, 8), 8);
      if (!word) return std::nullopt;
      std::memcpy(endpoint.address.data() + i * 4, &*word, 4);
    }
  } else {
    return std::nullopt;
  }
  return endpoint;
}

void appendHexWord(std::string& out, uint32_t value, int digits) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xf]);
}

}  // namespace

TcpEndpoint TcpEndpoint::v4(const std::array<uint8_t, 4>& bytes, uint16_t port) {
  TcpEndpoint e;
  std::memcpy(e.address.data(), bytes.data(), 4);
  e.port = port;
  return e;
}

TcpEndpoint TcpEndpoint::v6addr(const std::array<uint8_t, 16>& bytes, uint16_t port) {
  TcpEndpoint e;
  e.v6 = true;
  e.address = bytes;
  e.port = port;
  return e;
}

std::optional<TcpEndpoint> TcpEndpoint::fromSockaddr(const sockaddr* addr, socklen_t length) {
  if (addr == nullptr) return std::nullopt;
  if (addr->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof(in));
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &in.sin_addr, 4);
    return v4(bytes, ntohs(in.sin_port));
  }
  if (addr->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof(in6));
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, 16);
    return v6addr(bytes, ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

std::optional<TcpEndpoint> TcpEndpoint::parse(std::string_view address, uint16_t port) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  if (address.empty() || address.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(address);
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    return v4({bytes[0], bytes[1], bytes[2], bytes[3]}, port);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) return v6addr(bytes, port);
  return std::nullopt;
}

TcpEndpoint TcpEndpoint::normalized() const {
  if (!v6) return *this;
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(address.data(), kMappedPrefix, 12) != 0) return *this;
  return v4({address[12], address[13], address[14], address[15]}, port);
}

std::string TcpEndpoint::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), buf, sizeof(buf));
  return v6 ? "[" + std::string(buf) + "]:" + std::to_string(port) : std::string(buf) + ":" + std::to_string(port);
}

std::optional<TcpTableEntry> parseTcpTableLine(std::string_view line) {
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
  const auto tokens = tokenize(line, 10);
  if (tokens.size() < 10) return std::nullopt;
  if (tokens[0].size() < 2 || tokens[0].back() != ':' ||
      !parseDecimal<uint64_t>(tokens[0].substr(0, tokens[0].size() - 1))) {
    return std::nullopt;
  }
  const auto local = parseTableAddress(tokens[1]);
  const auto remote = parseTableAddress(tokens[2]);
  if (!local || !remote || local->v6 != remote->v6) return std::nullopt;
  const auto state = parseHexExact(tokens[3], 2);
  const auto uid = parseDecimal<uint32_t>(tokens[7]);
  const auto inode = parseDecimal<uint64_t>(tokens[9]);
  if (!state || !uid || !inode) return std::nullopt;
  TcpTableEntry entry;
  entry.local = *local;
  entry.remote = *remote;
  entry.state = static_cast<uint8_t>(*state);
  entry.uid = *uid;
  entry.inode = *inode;
  return entry;
}

std::optional<TcpTableEntry> parseUdpTableLine(std::string_view line) { return parseTcpTableLine(line); }

bool isUnspecifiedAddress(const TcpEndpoint& endpoint) {
  const TcpEndpoint n = endpoint.normalized();
  const size_t width = n.v6 ? 16 : 4;
  for (size_t i = 0; i < width; ++i) {
    if (n.address[i] != 0) return false;
  }
  return true;
}

std::string formatTcpTableAddress(const TcpEndpoint& endpoint) {
  std::string out;
  const size_t words = endpoint.v6 ? 4 : 1;
  for (size_t i = 0; i < words; ++i) {
    uint32_t word = 0;
    std::memcpy(&word, endpoint.address.data() + i * 4, 4);
    appendHexWord(out, word, 8);
  }
  out.push_back(':');
  appendHexWord(out, endpoint.port, 4);
  return out;
}

std::optional<ProcStat> parseStatLine(std::string_view line) {
  const size_t open = line.find(" (");
  const size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2) {
    return std::nullopt;
  }
  const auto pid = parseDecimal<int>(line.substr(0, open));
  if (!pid || *pid <= 0) return std::nullopt;
  const std::string_view comm = line.substr(open + 2, close - open - 2);
  if (comm.size() > kMaxCommBytes) return std::nullopt;
  const std::string_view rest = line.substr(close + 1);
  if (rest.empty() || rest.front() != ' ') return std::nullopt;
  // Fields 3.. (state, ppid, ..., starttime = field 22 = index 19).
  const auto fields = tokenize(rest, 20);
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  const auto ppid = parseDecimal<int>(fields[1]);
  const auto start_time = parseDecimal<uint64_t>(fields[19]);
  if (!ppid || !start_time) return std::nullopt;
  ProcStat stat;
  stat.pid = *pid;
  stat.comm = std::string(comm);
  stat.state = fields[0][0];
  stat.ppid = *ppid;
  stat.start_time = *start_time;
  return stat;
}

std::optional<ProcUids> parseStatusUids(std::string_view status) {
  size_t pos = 0;
  while (pos < status.size()) {
    size_t end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    const std::string_view line = status.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, 4) != "Uid:") continue;
    const auto tokens = tokenize(line.substr(4), 2);
    if (tokens.size() < 2) return std::nullopt;
    const auto real = parseDecimal<uint32_t>(tokens[0]);
    const auto effective = parseDecimal<uint32_t>(tokens[1]);
    if (!real || !effective) return std::nullopt;
    return ProcUids{.real = *real, .effective = *effective};
  }
  return std::nullopt;
}

std::optional<uint64_t> parseSocketLink(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() < kPrefix.size() + 2 || link.substr(0, kPrefix.size()) != kPrefix || link.back() != ']') {
    return std::nullopt;
  }
  return parseDecimal<uint64_t>(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1));
}

ExeLink parseExeLink(std::string_view link) {
  constexpr std::string_view kDeleted = " (deleted)";
  ExeLink exe;
  if (link.size() > kDeleted.size() && link.substr(link.size() - kDeleted.size()) == kDeleted) {
    exe.deleted = true;
    link.remove_suffix(kDeleted.size());
  }
  exe.path = std::string(link);
  return exe;
}

Cmdline splitCmdline(std::string_view raw, size_t max_args) {
  Cmdline cmdline;
  if (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  if (raw.empty()) return cmdline;
  size_t pos = 0;
  while (true) {
    if (cmdline.argv.size() == max_args) {
      cmdline.truncated = true;
      break;
    }
    const size_t end = raw.find('\0', pos);
    cmdline.argv.emplace_back(raw.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return cmdline;
}

std::optional<int> parsePidName(std::string_view name) {
  if (name.empty() || name.size() > 10 || name.front() == '0') return std::nullopt;
  const auto value = parseDecimal<int>(name);
  if (!value || *value <= 0) return std::nullopt;
  return value;
}

}  // namespace warden::proxy
