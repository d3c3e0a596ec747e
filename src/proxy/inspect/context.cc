#include "proxy/inspect/context.h"

#include <fmt/format.h>

#include "ocsf/value.h"

namespace warden::proxy::inspect {

void Recorder::inspectionProblem(std::string_view protocol, std::string_view host, std::string message) const {
  ocsf::OperationalInput in;
  in.severity = ocsf::Severity::kLow;
  in.name = "Inspection";
  in.message = std::move(message);
  in.unmapped = ocsf::Value::object();
  in.unmapped.set("protocol", std::string(protocol));
  if (!host.empty()) in.unmapped.set("host", std::string(host));
  emit(ocsf::operationalEvent(*session, now(), in));
}

ocsf::Endpoint Parties::dst() const {
  ocsf::Endpoint e;
  e.hostname = host;
  if (port != 0) e.port = port;
  return e;
}

std::string Parties::origin() const {
  const bool default_port = (tls && port == 443) || (!tls && port == 80) || port == 0;
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? fmt::format("{}://{}", tls ? "https" : "http", h)
                      : fmt::format("{}://{}:{}", tls ? "https" : "http", h, port);
}

}  // namespace warden::proxy::inspect
