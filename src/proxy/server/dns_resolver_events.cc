// What the DNS resolver records: each query (DNS:QUERY, with the policy's decision when it answered
// itself, and a tunnelling finding after it), malformed queries, and refusals (one by one up to a
// rate, then counted per second).

#include <fmt/format.h>

#include "common/clock.h"
#include "proxy/server/dns_resolver.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

ocsf::Endpoint toEndpoint(const udp::endpoint& e) {
  ocsf::Endpoint out;
  auto a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  out.ip = a.to_string();
  out.port = e.port();
  return out;
}

std::optional<ocsf::DnsRcode> toOcsfRcode(uint8_t rcode) {
  if (rcode > 5) return std::nullopt;  // the OCSF enum Warden models stops at REFUSED (docs/dns.md)
  return static_cast<ocsf::DnsRcode>(rcode);
}

int64_t nowMillis() { return SystemClock::instance().nowMillis(); }

}  // namespace

void DnsResolver::recordQuery(const udp::endpoint& client, const DnsQuestion& question,
                              const std::optional<DnsMessage>& answer, uint8_t rcode,
                              std::optional<ocsf::Process> actor, const std::optional<ocsf::Decision>& decision,
                              bool forwarded) {
  ocsf::DnsLookup lookup;
  lookup.actor = std::move(actor);
  lookup.src = toEndpoint(client);
  lookup.resolver = self_;
  // The name exactly as asked: its case may be the data.
  lookup.hostname = question.name_as_sent.empty() ? question.name : question.name_as_sent;
  lookup.type = question.type == 0 ? "" : std::string(dnsTypeName(question.type));
  if (answer) {
    for (const auto& record : answer->answers) {
      lookup.answers.push_back(ocsf::DnsAnswer{.rdata = record.rdata, .type = std::string(dnsTypeName(record.type))});
    }
  }
  lookup.rcode = toOcsfRcode(rcode);
  lookup.decision = decision;
  const int64_t now = nowMillis();
  ocsf::Event event = ocsf::dnsQuery(session_, now, lookup);
  const auto sign = lookup.hostname.empty() ? std::nullopt : tunnel_.observe(lookup.hostname, now);
  if (!sign) {
    emitter_.emit(std::move(event));
    return;
  }
  // Dual emit: the DNS event, then the finding. High when the name went upstream (its domain's
  // owner can read it), Medium when it never left.
  ocsf::Value evidence = ocsf::evidenceOf(event);
  emitter_.emit(std::move(event));
  ocsf::FindingInput f;
  f.title = "DNS tunnelling shape";
  f.desc = fmt::format("{}: {}; the query {}", lookup.hostname.substr(0, 255), sign->detail,
                       forwarded ? "was forwarded upstream, where the domain's owner can read it"
                                 : "was answered here and never left the host");
  f.types = {"dns-tunnel", sign->kind};
  f.attacks = {ocsf::Attack{"T1071.004", "Application Layer Protocol: DNS", "TA0011", "Command and Control"}};
  f.evidences = ocsf::Value(ocsf::Value::Array{std::move(evidence)});
  f.severity = forwarded ? ocsf::Severity::kHigh : ocsf::Severity::kMedium;
  f.risk_level = forwarded ? ocsf::RiskLevel::kHigh : ocsf::RiskLevel::kMedium;
  f.confidence = ocsf::Confidence::kMedium;  // a shape, not a proof
  f.disposition = forwarded ? ocsf::Disposition::kDetected : ocsf::Disposition::kBlocked;
  f.actor = lookup.actor;
  f.rule = ocsf::FirewallRule{decision ? decision->rule : std::string("-"), "dns"};
  emitter_.emit(ocsf::finding(session_, now, f));
}

void DnsResolver::recordMalformed(const udp::endpoint& client, bool tcp, const std::string& why, bool answered) {
  ocsf::OperationalInput op;
  op.severity = ocsf::Severity::kLow;
  op.name = "DNS";
  op.message = fmt::format("malformed DNS query, {}: {}", answered ? "answered FORMERR" : "not answered", why);
  op.unmapped.set("component", "dns");
  op.unmapped.set("client", formatDnsEndpoint(client));
  op.unmapped.set("protocol", tcp ? "tcp" : "udp");
  op.unmapped.set("error", why);
  emitter_.emit(ocsf::operationalEvent(session_, nowMillis(), op));
}

void DnsResolver::refuseQuery(const udp::endpoint& client, std::span<const uint8_t> query) {
  refused_.fetch_add(1, std::memory_order_relaxed);
  if (refused_queries_.recorded >= options_.refusal_events_per_second) {
    ++refused_queries_.unrecorded;
    return;
  }
  ++refused_queries_.recorded;
  auto parsed = parseDnsMessage(query);
  DnsQuestion question{.name = "", .type = 0};
  if (parsed.ok() && !parsed->questions.empty()) question = parsed->questions.front();
  recordQuery(client, question, std::nullopt, kDnsRefused, std::nullopt);
}

void DnsResolver::refuseConnection(const asio::ip::tcp::endpoint& client) {
  refused_.fetch_add(1, std::memory_order_relaxed);
  if (refused_connections_.recorded >= options_.refusal_events_per_second) {
    ++refused_connections_.unrecorded;
    return;
  }
  ++refused_connections_.recorded;
  ocsf::OperationalInput op;
  op.severity = ocsf::Severity::kLow;
  op.name = "DNS";
  op.message = fmt::format("DNS TCP connection from {} closed: {} connections are open, the cap",
                           formatDnsEndpoint(udp::endpoint(client.address(), client.port())),
                           options_.max_in_flight);
  op.unmapped.set("component", "dns");
  op.unmapped.set("client", formatDnsEndpoint(udp::endpoint(client.address(), client.port())));
  op.unmapped.set("protocol", "tcp");
  op.unmapped.set("max_connections", uint64_t{options_.max_in_flight});
  emitter_.emit(ocsf::operationalEvent(session_, nowMillis(), op));
}

void DnsResolver::flushRefusals() {
  if (refused_queries_.unrecorded > 0) {
    ocsf::OperationalInput op;
    op.severity = ocsf::Severity::kLow;
    op.name = "DNS";
    op.message = fmt::format("{} more DNS queries refused over the in-flight limit, not recorded one by one",
                             refused_queries_.unrecorded);
    op.unmapped.set("component", "dns");
    op.unmapped.set("refused", refused_queries_.unrecorded);
    op.unmapped.set("max_in_flight", uint64_t{options_.max_in_flight});
    emitter_.emit(ocsf::operationalEvent(session_, nowMillis(), op));
  }
  if (refused_connections_.unrecorded > 0) {
    ocsf::OperationalInput op;
    op.severity = ocsf::Severity::kLow;
    op.name = "DNS";
    op.message = fmt::format("{} more DNS TCP connections closed over the cap, not recorded one by one",
                             refused_connections_.unrecorded);
    op.unmapped.set("component", "dns");
    op.unmapped.set("refused_connections", refused_connections_.unrecorded);
    op.unmapped.set("max_connections", uint64_t{options_.max_in_flight});
    emitter_.emit(ocsf::operationalEvent(session_, nowMillis(), op));
  }
  refused_queries_ = RefusalWindow{};
  refused_connections_ = RefusalWindow{};
}

}  // namespace warden::proxy
