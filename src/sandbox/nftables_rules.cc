#include "sandbox/nftables_rules.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <string>

namespace warden::sandbox {
namespace {

bool plainIfName(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string accepts(const RulesetInput& in) {
  const std::string ip = in.host_ip;
  const std::string proxy = std::to_string(in.proxy_port);
  const std::string dns = std::to_string(in.dns_port);
  return "    ip daddr " + ip + " tcp dport " + proxy + " accept\n" +  //
         "    ip daddr " + ip + " udp dport " + dns + " accept\n" +    //
         "    ip daddr " + ip + " tcp dport " + dns + " accept\n";
}

// With `replace`, "add table" then "delete table" first: loading replaces an earlier copy in one
// transaction. Without, the table is only created — the first load, into a namespace or lease known
// to be clean. (A delete leaves the kernel destruction work that the closing netlink socket then
// waits for, about 10 ms of RCU grace period: too dear to pay on every session start.)
std::string replaceTable(std::string_view name, bool replace) {
  if (!replace) return "";
  return "table inet " + std::string(name) + "\ndelete table inet " + std::string(name) + "\n";
}

}  // namespace

std::string hostTableName(int index) {
  return "warden-" + std::to_string(index);
}

Result<void> validateRulesetInput(const RulesetInput& in) {
  in_addr addr{};
  if (::inet_pton(AF_INET, in.host_ip.c_str(), &addr) != 1) {
    return invalidArgument("firewall: host_ip '" + in.host_ip + "' is not an IPv4 address");
  }
  if (!plainIfName(in.host_if))
    return invalidArgument("firewall: host_if '" + in.host_if + "' is not an interface name");
  if (in.index < 0) return invalidArgument("firewall: no lease index");
  if (in.proxy_port == 0) return invalidArgument("firewall: proxy_port is 0");
  if (in.dns_port == 0) return invalidArgument("firewall: dns_port is 0");
  if (in.log_prefix.empty() || in.log_prefix.size() > 127) {
    return invalidArgument("firewall: log_prefix must be 1..127 bytes (nftables' limit), got " +
                           std::to_string(in.log_prefix.size()));
  }
  for (char c : in.log_prefix) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      return invalidArgument("firewall: log_prefix may hold only printable ASCII without '\"' or '\\'");
    }
  }
  if (in.log_rate_per_second < 1 || in.log_rate_per_second > 10000) {
    return invalidArgument("firewall: log_rate_per_second must be 1..10000");
  }
  return okResult();
}

std::string sandboxRuleset(const RulesetInput& in, bool replace) {
  const std::string table(kSandboxTableName);
  return replaceTable(table, replace) + "table inet " + table +
         " {\n"
         "  chain output {\n"
         "    type filter hook output priority 0; policy drop;\n"
         "    oif \"lo\" accept\n"
         "    ct state established,related accept\n" +
         accepts(in) + "    limit rate " + std::to_string(in.log_rate_per_second) + "/second log prefix \"" +
         in.log_prefix +
         "\" flags skuid\n"
         "    meta l4proto tcp reject with tcp reset\n"
         "    reject with icmpx admin-prohibited\n"
         "  }\n"
         "  chain input {\n"
         "    type filter hook input priority 0; policy drop;\n"
         "    iif \"lo\" accept\n"
         "    ct state established,related accept\n"
         "  }\n"
         "}\n";
}

std::string sharedHostRuleset() {
  const std::string table(kHostTableName);
  return "table inet " + table +
         " {\n"
         "  set tcp_allowed {\n"
         "    type ifname . inet_service\n"
         "  }\n"
         "  set udp_allowed {\n"
         "    type ifname . inet_service\n"
         "  }\n"
         "  chain forward {\n"
         "    type filter hook forward priority 0; policy accept;\n"
         "    iifname \"wdh*\" drop\n"
         "    oifname \"wdh*\" drop\n"
         "  }\n"
         "  chain input {\n"
         "    type filter hook input priority 0; policy accept;\n"
         "    iifname != \"wdh*\" accept\n"
         "    ct state established,related accept\n"
         "    fib daddr . iif type local iifname . tcp dport @tcp_allowed accept\n"
         "    fib daddr . iif type local iifname . udp dport @udp_allowed accept\n"
         "    drop\n"
         "  }\n"
         "}\n";
}

namespace {

std::string portElements(const char* verb, const RulesetInput& in) {
  const std::string table(kHostTableName);
  const std::string ifname = "\"" + in.host_if + "\"";
  const std::string proxy = std::to_string(in.proxy_port);
  const std::string dns = std::to_string(in.dns_port);
  return std::string(verb) + " element inet " + table + " tcp_allowed { " + ifname + " . " + proxy + ", " + ifname +
         " . " + dns + " }\n" + verb + " element inet " + table + " udp_allowed { " + ifname + " . " + dns + " }\n";
}

}  // namespace

std::string hostPortElements(const RulesetInput& in) { return portElements("add", in); }

std::string hostPortElementsRemoval(const RulesetInput& in) { return portElements("delete", in); }

}  // namespace warden::sandbox
