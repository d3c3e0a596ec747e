#include "capture/kmsg/bypass_events.h"

#include <string>

namespace warden::capture {
namespace {

std::string target(const NftLogRecord& r) {
  const bool v6 = r.dst_ip.find(':') != std::string::npos;
  std::string out = v6 ? "[" + r.dst_ip + "]" : r.dst_ip;
  if (r.dst_port != 0) out += ":" + std::to_string(r.dst_port);
  return out + "/" + (r.protocol.empty() ? std::string("ip") : r.protocol);
}

}  // namespace

ocsf::Event bypassRefuse(const ocsf::SessionContext& ctx, int64_t time, const NftLogRecord& record,
                         const std::optional<ocsf::Process>& actor) {
  ocsf::Connection conn;
  // OCSF's actor.process needs a pid (its `uid` is a process id, not a user): an actor known only
  // by the socket's Unix uid cannot be one, so that uid goes under unmapped instead.
  if (actor && actor->pid) conn.actor = actor;
  conn.src.ip = record.src_ip;
  if (record.src_port != 0) conn.src.port = record.src_port;
  conn.dst.ip = record.dst_ip;
  if (record.dst_port != 0) conn.dst.port = record.dst_port;
  conn.protocol = record.protocol;
  ocsf::Event e = ocsf::netRefuse(ctx, time, conn, kBypassReason);
  if (record.uid) e.unmapped.set("uid", static_cast<uint64_t>(*record.uid));
  return e;
}

ocsf::Event bypassFinding(const ocsf::SessionContext& ctx, int64_t time, const NftLogRecord& record,
                          const ocsf::Event& refuse) {
  ocsf::FindingInput f;
  f.title = "Proxy bypass attempt";
  std::string who = "A process";
  if (refuse.actor && !refuse.actor->name.empty()) {
    who = "Process " + refuse.actor->name;
    if (refuse.actor->pid) who += " (pid " + std::to_string(*refuse.actor->pid) + ")";
  } else if (record.uid) {
    who = "A process of uid " + std::to_string(*record.uid);
  }
  f.desc = who + " tried to reach " + target(record) +
           " directly instead of through the egress proxy; the sandbox firewall rejected it.";
  f.types = {"proxy-bypass"};
  f.attacks = {ocsf::Attack{"T1090", "Proxy", "TA0011", "Command and Control"}};
  f.evidences = ocsf::Value::array();
  f.evidences.push(ocsf::evidenceOf(refuse));
  f.remediation = std::string(kBypassRemediation);
  f.severity = ocsf::Severity::kMedium;
  f.risk_level = ocsf::RiskLevel::kMedium;
  f.confidence = ocsf::Confidence::kHigh;  // the kernel saw the packet; nothing is inferred
  f.disposition = ocsf::Disposition::kBlocked;
  f.rule = ocsf::FirewallRule{"bypass-detect", "nftables"};
  f.actor = refuse.actor;
  return ocsf::finding(ctx, time, f);
}

}  // namespace warden::capture
