#include "sandbox/session_attribution.h"

#include "common/clock.h"
#include "common/ip_address.h"

namespace warden::sandbox {

namespace {

// The address as the capture's records spell it: canonical text, IPv4-mapped IPv6 as IPv4.
std::string ipText(const proxy::TcpEndpoint& endpoint) {
  const proxy::TcpEndpoint e = endpoint.normalized();
  return IpAddress::fromBytes(e.v6 ? IpAddress::Family::kV6 : IpAddress::Family::kV4, e.address).toString();
}

}  // namespace

proxy::CaptureAttribution captureAttribution(std::shared_ptr<capture::ProcessTable> table,
                                             std::chrono::milliseconds wait) {
  return [table = std::move(table), wait](proxy::SocketProtocol protocol, const proxy::TcpEndpoint& client,
                                          const proxy::TcpEndpoint& server) -> std::optional<ocsf::Process> {
    capture::ProcessTable::SocketEnds ends;
    ends.protocol = protocol == proxy::SocketProtocol::kUdp ? capture::ProcessTable::Protocol::kUdp
                                                            : capture::ProcessTable::Protocol::kTcp;
    ends.local_ip = ipText(client);
    ends.local_port = client.port;
    ends.remote_ip = ipText(server);
    ends.remote_port = server.port;
    return table->bySource(ends, SystemClock::instance().nowMillis(), wait);
  };
}

}  // namespace warden::sandbox
