#include "audit/spool_format.h"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "audit/spool.h"

namespace warden::audit {
namespace {

// Slicing-by-8 tables for the reflected Castagnoli polynomial 0x82F63B78.
struct Crc32cTables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Crc32cTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};
constexpr Crc32cTables kCrc;

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t getU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t getU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Reads a record header and checks its own checksum and lengths; kIncomplete only when fewer
// than kSpoolRecordHeaderBytes remain.
RecordRead readHeader(std::string_view bytes, size_t offset, uint32_t& payload_len, uint32_t& json_len,
                      uint32_t& payload_crc) {
  RecordRead r;
  if (bytes.size() - offset < kSpoolRecordHeaderBytes) {
    r.status = RecordStatus::kIncomplete;
    return r;
  }
  const char* p = bytes.data() + offset;
  payload_len = getU32(p);
  json_len = getU32(p + 4);
  r.sequence = getU64(p + 8);
  payload_crc = getU32(p + 16);
  const uint32_t header_crc = getU32(p + 20);
  if (crc32c(std::string_view(p, 20)) != header_crc) {
    r.reason = "record header checksum mismatch";
  } else if (payload_len > kMaxSpoolPayloadBytes) {
    r.reason = fmt::format("record length {} exceeds {}", payload_len, kMaxSpoolPayloadBytes);
  } else if (json_len > payload_len) {
    r.reason = fmt::format("json length {} exceeds record length {}", json_len, payload_len);
  } else if (r.sequence == 0) {
    r.reason = "record sequence 0";
  } else {
    r.status = RecordStatus::kOk;
  }
  return r;
}

}  // namespace

uint32_t crc32c(std::string_view data, uint32_t crc) {
  const auto& t = kCrc.t;
  uint32_t c = ~crc;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  while (n >= 8) {
    const uint32_t lo = c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

size_t encodedSpoolRecordBytes(const SpooledEventView& event) {
  return kSpoolRecordHeaderBytes + event.json.size() + event.shorthand.size();
}

void encodeSpoolRecord(const SpooledEventView& event, std::string& out) {
  const uint32_t payload_crc = crc32c(event.shorthand, crc32c(event.json));
  const size_t start = out.size();
  putU32(out, static_cast<uint32_t>(event.json.size() + event.shorthand.size()));
  putU32(out, static_cast<uint32_t>(event.json.size()));
  putU64(out, event.sequence);
  putU32(out, payload_crc);
  putU32(out, crc32c(std::string_view(out).substr(start, 20)));
  out.append(event.json);
  out.append(event.shorthand);
}

RecordRead readSpoolRecord(std::string_view bytes, size_t offset, SpooledEvent* event) {
  uint32_t payload_len = 0, json_len = 0, payload_crc = 0;
  RecordRead r = readHeader(bytes, offset, payload_len, json_len, payload_crc);
  if (r.status != RecordStatus::kOk) return r;
  const size_t begin = offset + kSpoolRecordHeaderBytes;
  if (bytes.size() - begin < payload_len) {
    r.status = RecordStatus::kIncomplete;
    return r;
  }
  const std::string_view payload = bytes.substr(begin, payload_len);
  if (crc32c(payload) != payload_crc) {
    r.status = RecordStatus::kCorrupt;
    r.reason = fmt::format("payload checksum mismatch (sequence {})", r.sequence);
    return r;
  }
  r.end = begin + payload_len;
  if (event != nullptr) {
    event->sequence = r.sequence;
    event->json.assign(payload.substr(0, json_len));
    event->shorthand.assign(payload.substr(json_len));
  }
  return r;
}

Result<std::vector<SpooledEvent>> parseSpoolSegment(std::string_view bytes, size_t* valid_prefix_bytes) {
  std::vector<SpooledEvent> events;
  size_t valid = 0;
  const auto finish = [&](size_t v) {
    if (valid_prefix_bytes != nullptr) *valid_prefix_bytes = v;
  };
  finish(0);
  const size_t magic = kSpoolSegmentMagic.size();
  if (bytes.size() < magic) {
    if (kSpoolSegmentMagic.substr(0, bytes.size()) != bytes) {
      return dataLoss("offset 0: not a spool segment (bad magic)");
    }
    return events;  // torn while the segment was being created
  }
  if (bytes.substr(0, magic) != kSpoolSegmentMagic) return dataLoss("offset 0: not a spool segment (bad magic)");
  valid = magic;
  uint64_t last_seq = 0;
  size_t offset = magic;
  while (offset < bytes.size()) {
    SpooledEvent event;
    RecordRead r = readSpoolRecord(bytes, offset, &event);
    if (r.status == RecordStatus::kOk) {
      if (r.sequence <= last_seq) {
        return dataLoss(fmt::format("offset {}: sequence {} after {} is not increasing", offset, r.sequence, last_seq));
      }
      last_seq = r.sequence;
      events.push_back(std::move(event));
      offset = r.end;
      valid = offset;
      continue;
    }
    // A record whose (checksummed) header is whole but whose payload runs past the end: torn.
    if (r.status == RecordStatus::kIncomplete) break;
    // A bad record, or a cut header. It is a torn tail unless a whole, later record follows it
    // somewhere: then bytes in the middle of the segment were damaged.
    for (size_t p = offset + 1; p + kSpoolRecordHeaderBytes <= bytes.size(); ++p) {
      const RecordRead later = readSpoolRecord(bytes, p, nullptr);
      if (later.status == RecordStatus::kOk && later.sequence > last_seq) {
        return dataLoss(fmt::format("offset {}: {}; a whole record (sequence {}) follows at offset {}", offset,
                                    r.status == RecordStatus::kIncomplete ? "record cut short" : r.reason,
                                    later.sequence, p));
      }
    }
    break;
  }
  finish(valid);
  return events;
}

}  // namespace warden::audit
