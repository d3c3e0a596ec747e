#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/test_env.h"

namespace warden::testing {

// A real dnsmasq (Debian's dnsmasq-base) answering on 127.0.0.1:<free port>, UDP and TCP, from
// `records` alone (dnsmasq options such as "--address=/example.test/10.9.8.7"): no resolv.conf, no
// /etc/hosts, no config file, no upstream, nothing but loopback. Started in the foreground under a
// ChildProcess; the destructor stops it (SIGTERM, then SIGKILL) and removes its temp dir. Not
// thread-safe.
class Dnsmasq {
 public:
  // nullptr (and *why) when dnsmasq is missing or does not come up within a few seconds (a port
  // taken between choosing and binding it is retried with another).
  static std::unique_ptr<Dnsmasq> start(const std::vector<std::string>& records, std::string* why = nullptr);
  // Stops dnsmasq and the children it forked for TCP connections (which outlive their parent).
  ~Dnsmasq();
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", as a DnsResolverOptions upstream.
  std::string address() const;
  ChildProcess& process() { return *process_; }
  // True when dnsmasq's query log (--log-queries) shows a query for `name` (ASCII case ignored):
  // what reached the upstream.
  bool queried(const std::string& name);

 private:
  Dnsmasq() = default;
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace warden::testing
