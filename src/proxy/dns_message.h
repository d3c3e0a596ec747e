#pragma once

// The DNS wire format (RFC 1035 section 4, RFC 3596 AAAA, RFC 3597 unknown types), as much as the
// sandbox resolver needs to record queries and answers and to answer errors itself. Socket-free:
// everything here is a pure function of its input bytes. Stateless and thread-safe. Every byte is
// untrusted (the agent writes queries; upstreams write answers): parsing is strict and bounded, never
// reads outside the span, and allocates no more than a small multiple of the input.
// Fuzzed by tests/fuzz/dns_message_fuzz.cc.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::proxy {

// RCODEs this code answers with or records (RFC 1035 section 4.1.1).
inline constexpr uint8_t kDnsNoError = 0;
inline constexpr uint8_t kDnsFormErr = 1;
inline constexpr uint8_t kDnsServFail = 2;
inline constexpr uint8_t kDnsNxDomain = 3;
inline constexpr uint8_t kDnsNotImp = 4;
inline constexpr uint8_t kDnsRefused = 5;

inline constexpr size_t kDnsHeaderBytes = 12;
inline constexpr size_t kDnsMaxNameBytes = 255;  // wire length, labels and length bytes and the root
inline constexpr size_t kDnsMaxLabelBytes = 63;

// One question. `name` is presentation form, lower-cased, without the trailing dot ("." for the root);
// bytes outside printable ASCII and the characters `.` `\` `"` `;` `(` `)` `$` `@` inside a label
// are written `\DDD` (decimal, as dig does), so a name is always one safe token.
struct DnsQuestion {
  std::string name;
  uint16_t type = 1;
  uint16_t klass = 1;
  // The same presentation form with the case of every letter as the asker wrote it (case can carry
  // data: mixed-case exfiltration, 0x20 randomisation): what events record.
  std::string name_as_sent;
};

// One resource record of the answer section. rdata rendered: A/AAAA as addresses, CNAME/NS/PTR/DNAME
// as names, MX "10 mail.x", TXT as quoted strings separated by spaces, SOA as its seven fields,
// anything else RFC 3597's "\# <len> <hex>".
struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string rdata;
};

struct DnsMessage {
  uint16_t id = 0;
  bool is_response = false;
  uint8_t opcode = 0;
  uint8_t rcode = 0;  // the header's 4 bits (an EDNS extended rcode is not combined in)
  bool truncated = false;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;  // authority and additional are parsed (validated) but not kept
};

// Strict, bounded parse of a whole DNS message: header, questions, answer, authority and additional
// sections, and nothing after them. Compression pointers only point backwards (strictly before the
// pointer, never into the header), so following them always ends; names are at most 255 bytes and
// labels 63 on the wire; the header's counts are checked against the bytes present before anything is
// allocated; A and AAAA rdata must be 4 and 16 bytes; names inside CNAME/NS/PTR/DNAME/MX/SOA rdata must
// fill their rdata exactly. InvalidArgument says where and what ("answer 2: compression pointer loops",
// "question 1: label of 64 bytes (at most 63)", "3 trailing bytes after the last record").
Result<DnsMessage> parseDnsMessage(std::span<const uint8_t> bytes);

// A response to `query` (the raw query bytes, so the question is echoed exactly) with `rcode` and no
// answers: SERVFAIL when upstreams fail, REFUSED, FORMERR, NOTIMP. The id, opcode and RD bit are
// copied; QR and RA are set; AA, TC, AD, CD are clear. The question section is copied byte for byte
// when it parses, else left out (QDCOUNT 0); authority and additional sections (EDNS) are dropped.
// Empty when `query` is shorter than a header (there is no id to answer to: send nothing).
std::vector<uint8_t> buildErrorResponse(std::span<const uint8_t> query, uint8_t rcode);

// "A", "AAAA", "CNAME", ... for the types in common use, "TYPE<n>" (RFC 3597) for the rest. The view
// is of static storage.
std::string_view dnsTypeName(uint16_t type);

// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", ... "RCODE<n>" otherwise.
std::string dnsRcodeName(uint8_t rcode);

}  // namespace warden::proxy
