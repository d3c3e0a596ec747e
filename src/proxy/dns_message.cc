#include "proxy/dns_message.h"

#include <fmt/format.h>

#include <array>
#include <memory>
#include <mutex>

#include "common/ip_address.h"

namespace warden::proxy {
namespace {

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeNs = 2;
constexpr uint16_t kTypeCname = 5;
constexpr uint16_t kTypeSoa = 6;
constexpr uint16_t kTypePtr = 12;
constexpr uint16_t kTypeMx = 15;
constexpr uint16_t kTypeTxt = 16;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kTypeDname = 39;

constexpr size_t kMinQuestionBytes = 5;  // root name + type + class
constexpr size_t kMinRecordBytes = 11;   // root name + type + class + ttl + rdlength
constexpr int kMaxPointerHops = 127;     // belt and braces: backwards-only pointers already terminate

uint16_t be16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((uint16_t{b[at]} << 8) | b[at + 1]);
}
uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// Appends one label byte in presentation form (lower-cased unless `keep_case`).
void appendLabelByte(std::string& out, uint8_t c, bool keep_case) {
  if (!keep_case && c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c - 'A' + 'a');
  const bool special = c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '$' ||
                       c == '@';
  if (c <= 0x20 || c >= 0x7f || special) {
    out += fmt::format("\\{:03d}", c);
  } else {
    out.push_back(static_cast<char>(c));
  }
}

// Reads the (possibly compressed) name starting at `pos`. On success `end` is the offset just after
// the name's bytes at `pos` (after the first pointer when there is one). A pointer must point strictly
// backwards, and the name it points to must lie wholly before the pointer (a prior occurrence,
// RFC 1035 section 4.1.4), so every jump shrinks the readable window and the walk always ends. Errors
// name what is wrong; the caller prefixes the section.
Result<std::string> readName(std::span<const uint8_t> msg, size_t pos, size_t& end, bool keep_case = false) {
  std::string name;
  size_t wire_length = 1;  // the root byte
  size_t cursor = pos;
  size_t bound = msg.size();  // after a jump: the offset of the pointer jumped from
  bool jumped = false;
  int hops = 0;
  auto past = [&](std::string_view what, size_t at) {
    return invalidArgument(jumped ? fmt::format("{} at offset {} runs into the compression pointer at offset {}",
                                                what, at, bound)
                                  : fmt::format("{} at offset {} runs past the end", what, at));
  };
  while (true) {
    if (cursor >= bound) return past("name", cursor);
    const uint8_t len = msg[cursor];
    if (len == 0) {
      if (!jumped) end = cursor + 1;
      break;
    }
    const uint8_t kind = len & 0xC0;
    if (kind == 0xC0) {
      if (cursor + 1 >= bound) return past("compression pointer", cursor);
      const size_t target = ((len & 0x3Fu) << 8) | msg[cursor + 1];
      if (target == cursor) return invalidArgument("compression pointer loops");
      if (target > cursor) {
        return invalidArgument(
            fmt::format("compression pointer at offset {} points forward (to {})", cursor, target));
      }
      if (target < kDnsHeaderBytes) {
        return invalidArgument(fmt::format("compression pointer at offset {} points into the header", cursor));
      }
      if (++hops > kMaxPointerHops) return invalidArgument("compression pointer loops");
      if (!jumped) end = cursor + 2;
      jumped = true;
      bound = cursor;
      cursor = target;
      continue;
    }
    if (kind != 0) {
      return invalidArgument(fmt::format("label length byte 0x{:02x} at offset {}: labels are at most 63 bytes "
                                         "(extended label types are not supported)",
                                         len, cursor));
    }
    if (cursor + 1 + len > bound) return past("label", cursor);
    wire_length += 1u + len;
    if (wire_length > kDnsMaxNameBytes) {
      return invalidArgument(fmt::format("name longer than {} bytes", kDnsMaxNameBytes));
    }
    if (!name.empty()) name.push_back('.');
    for (size_t i = 0; i < len; ++i) appendLabelByte(name, msg[cursor + 1 + i], keep_case);
    cursor += 1u + len;
  }
  if (name.empty()) name.push_back('.');
  return name;
}

std::string hex(std::span<const uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (const uint8_t c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string genericRdata(std::span<const uint8_t> rdata) {
  if (rdata.empty()) return "\\# 0";
  return fmt::format("\\# {} {}", rdata.size(), hex(rdata));
}

// A name that must end exactly at `limit` (inside rdata).
Result<std::string> readNameWithin(std::span<const uint8_t> msg, size_t pos, size_t limit, size_t& end) {
  auto name = readName(msg.first(limit), pos, end);
  if (!name.ok()) return name;
  return name;
}

Result<std::string> renderRdata(std::span<const uint8_t> msg, uint16_t type, size_t start, size_t length) {
  const size_t limit = start + length;
  const std::span<const uint8_t> rdata = msg.subspan(start, length);
  switch (type) {
    case kTypeA:
      if (length != 4) return invalidArgument(fmt::format("A rdata of {} bytes (must be 4)", length));
      return fmt::format("{}.{}.{}.{}", rdata[0], rdata[1], rdata[2], rdata[3]);
    case kTypeAaaa: {
      if (length != 16) return invalidArgument(fmt::format("AAAA rdata of {} bytes (must be 16)", length));
      std::array<uint8_t, 16> bytes{};
      for (size_t i = 0; i < 16; ++i) bytes[i] = rdata[i];
      return IpAddress::v6(bytes).toString();
    }
    case kTypeCname:
    case kTypeNs:
    case kTypePtr:
    case kTypeDname: {
      size_t end = 0;
      auto name = readNameWithin(msg, start, limit, end);
      if (!name.ok()) return name.error();
      if (end != limit) return invalidArgument(fmt::format("{} bytes after the name in rdata", limit - end));
      return name;
    }
    case kTypeMx: {
      if (length < 3) return invalidArgument(fmt::format("MX rdata of {} bytes", length));
      size_t end = 0;
      auto name = readNameWithin(msg, start + 2, limit, end);
      if (!name.ok()) return name.error();
      if (end != limit) return invalidArgument(fmt::format("{} bytes after the name in rdata", limit - end));
      return fmt::format("{} {}", be16(msg, start), *name);
    }
    case kTypeSoa: {
      size_t end = 0;
      auto mname = readNameWithin(msg, start, limit, end);
      if (!mname.ok()) return mname.error();
      auto rname = readNameWithin(msg, end, limit, end);
      if (!rname.ok()) return rname.error();
      if (limit - end != 20) return invalidArgument("SOA rdata: the five numbers must fill the last 20 bytes");
      return fmt::format("{} {} {} {} {} {} {}", *mname, *rname, be32(msg, end), be32(msg, end + 4),
                         be32(msg, end + 8), be32(msg, end + 12), be32(msg, end + 16));
    }
    case kTypeTxt: {
      if (length == 0) return invalidArgument("TXT rdata is empty");
      std::string out;
      size_t i = 0;
      while (i < length) {
        const size_t n = rdata[i];
        if (i + 1 + n > length) return invalidArgument("TXT string runs past the rdata");
        if (!out.empty()) out.push_back(' ');
        out.push_back('"');
        for (size_t k = 0; k < n; ++k) {
          const uint8_t c = rdata[i + 1 + k];
          if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
          } else if (c < 0x20 || c >= 0x7f) {
            out += fmt::format("\\{:03d}", c);
          } else {
            out.push_back(static_cast<char>(c));
          }
        }
        out.push_back('"');
        i += 1 + n;
      }
      return out;
    }
    default:
      return genericRdata(rdata);
  }
}

// Walks `count` questions from `pos`; fills `out` when given.
Result<size_t> readQuestions(std::span<const uint8_t> msg, size_t pos, size_t count,
                             std::vector<DnsQuestion>* out) {
  for (size_t i = 0; i < count; ++i) {
    size_t end = 0;
    auto name = readName(msg, pos, end, /*keep_case=*/true);
    if (!name.ok()) return invalidArgument(fmt::format("question {}: {}", i + 1, name.error().message()));
    if (end + 4 > msg.size()) return invalidArgument(fmt::format("question {}: type and class run past the end", i + 1));
    if (out != nullptr) {
      std::string lowered = *name;
      for (char& c : lowered) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      out->push_back(DnsQuestion{.name = std::move(lowered),
                                 .type = be16(msg, end),
                                 .klass = be16(msg, end + 2),
                                 .name_as_sent = std::move(*name)});
    }
    pos = end + 4;
  }
  return pos;
}

Result<size_t> readRecords(std::span<const uint8_t> msg, size_t pos, size_t count, std::string_view section,
                           std::vector<DnsRecord>* out) {
  for (size_t i = 0; i < count; ++i) {
    size_t end = 0;
    auto name = readName(msg, pos, end);
    if (!name.ok()) return invalidArgument(fmt::format("{} {}: {}", section, i + 1, name.error().message()));
    if (end + 10 > msg.size()) {
      return invalidArgument(fmt::format("{} {}: record header runs past the end", section, i + 1));
    }
    const uint16_t type = be16(msg, end);
    const uint32_t ttl = be32(msg, end + 4);
    const size_t rdlength = be16(msg, end + 8);
    const size_t rdstart = end + 10;
    if (rdstart + rdlength > msg.size()) {
      return invalidArgument(fmt::format("{} {}: rdata of {} bytes runs past the end", section, i + 1, rdlength));
    }
    auto rdata = renderRdata(msg, type, rdstart, rdlength);
    if (!rdata.ok()) return invalidArgument(fmt::format("{} {}: {}", section, i + 1, rdata.error().message()));
    if (out != nullptr) {
      out->push_back(DnsRecord{.name = std::move(*name), .type = type, .ttl = ttl, .rdata = std::move(*rdata)});
    }
    pos = rdstart + rdlength;
  }
  return pos;
}

}  // namespace

Result<DnsMessage> parseDnsMessage(std::span<const uint8_t> bytes) {
  if (bytes.size() < kDnsHeaderBytes) {
    return invalidArgument(fmt::format("message of {} bytes is shorter than the 12-byte header", bytes.size()));
  }
  if (bytes.size() > 65535) return invalidArgument(fmt::format("message of {} bytes (at most 65535)", bytes.size()));
  DnsMessage m;
  m.id = be16(bytes, 0);
  const uint16_t flags = be16(bytes, 2);
  m.is_response = (flags & 0x8000) != 0;
  m.opcode = static_cast<uint8_t>((flags >> 11) & 0xF);
  m.truncated = (flags & 0x0200) != 0;
  m.rcode = static_cast<uint8_t>(flags & 0xF);
  const size_t qd = be16(bytes, 4);
  const size_t an = be16(bytes, 6);
  const size_t ns = be16(bytes, 8);
  const size_t ar = be16(bytes, 10);
  const size_t need = qd * kMinQuestionBytes + (an + ns + ar) * kMinRecordBytes;
  const size_t have = bytes.size() - kDnsHeaderBytes;
  if (need > have) {
    return invalidArgument(fmt::format("header counts {} questions and {} records, which need at least {} bytes; "
                                       "{} follow",
                                       qd, an + ns + ar, need, have));
  }
  m.questions.reserve(qd);
  m.answers.reserve(an);
  auto pos = readQuestions(bytes, kDnsHeaderBytes, qd, &m.questions);
  if (!pos.ok()) return pos.error();
  pos = readRecords(bytes, *pos, an, "answer", &m.answers);
  if (!pos.ok()) return pos.error();
  pos = readRecords(bytes, *pos, ns, "authority", nullptr);
  if (!pos.ok()) return pos.error();
  pos = readRecords(bytes, *pos, ar, "additional", nullptr);
  if (!pos.ok()) return pos.error();
  if (*pos != bytes.size()) {
    return invalidArgument(fmt::format("{} trailing bytes after the last record", bytes.size() - *pos));
  }
  return m;
}

std::vector<uint8_t> buildErrorResponse(std::span<const uint8_t> query, uint8_t rcode) {
  if (query.size() < kDnsHeaderBytes) return {};
  std::vector<uint8_t> out(query.begin(), query.begin() + kDnsHeaderBytes);
  const uint16_t in_flags = be16(query, 2);
  // QR | opcode | RD | RA | rcode.
  const uint16_t flags = static_cast<uint16_t>(0x8000 | (in_flags & 0x7800) | (in_flags & 0x0100) | 0x0080 |
                                               (rcode & 0xF));
  out[2] = static_cast<uint8_t>(flags >> 8);
  out[3] = static_cast<uint8_t>(flags & 0xFF);
  const size_t qd = be16(query, 4);
  size_t echo_end = kDnsHeaderBytes;
  if (qd * kMinQuestionBytes <= query.size() - kDnsHeaderBytes) {
    auto end = readQuestions(query, kDnsHeaderBytes, qd, nullptr);
    if (end.ok()) echo_end = *end;
  }
  const size_t echoed = echo_end == kDnsHeaderBytes ? 0 : qd;
  out[4] = static_cast<uint8_t>(echoed >> 8);
  out[5] = static_cast<uint8_t>(echoed & 0xFF);
  for (size_t i = 6; i < kDnsHeaderBytes; ++i) out[i] = 0;
  out.insert(out.end(), query.begin() + kDnsHeaderBytes, query.begin() + echo_end);
  return out;
}

std::string_view dnsTypeName(uint16_t type) {
  switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 36: return "KX";
    case 37: return "CERT";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 59: return "CDS";
    case 60: return "CDNSKEY";
    case 61: return "OPENPGPKEY";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 108: return "EUI48";
    case 109: return "EUI64";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 255: return "ANY";
    case 256: return "URI";
    case 257: return "CAA";
    default: break;
  }
  // "TYPE<n>": one fixed-width slot per type, built once on first use.
  static constexpr size_t kSlot = 10;  // "TYPE65535" + NUL
  static const std::unique_ptr<char[]> table = [] {
    auto t = std::make_unique<char[]>(kSlot * 65536);
    for (size_t i = 0; i < 65536; ++i) fmt::format_to_n(t.get() + i * kSlot, kSlot - 1, "TYPE{}", i);
    return t;
  }();
  const char* slot = table.get() + size_t{type} * kSlot;
  return std::string_view(slot);
}

std::string dnsRcodeName(uint8_t rcode) {
  switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    default: return fmt::format("RCODE{}", rcode);
  }
}

}  // namespace warden::proxy
