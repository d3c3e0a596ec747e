#include "cli/operator_flags.h"

#include <CLI/CLI.hpp>

namespace warden::cli {

gateway::OperatorConnection OperatorFlags::connection() const {
  gateway::OperatorConnection c;
  c.gateway = gateway;
  if (!gateway_ca.empty()) c.channel.ca_file = gateway_ca;
  if (!client_cert.empty()) c.channel.client_cert = client_cert;
  if (!client_key.empty()) c.channel.client_key = client_key;
  if (!token_file.empty()) c.token_file = token_file;
  return c;
}

CLI::Option* addOperatorFlags(CLI::App* app, OperatorFlags* flags) {
  CLI::Option* gw = app->add_option(
      "--gateway", flags->gateway,
      "the gateway: unix:/PATH, https://HOST:PORT, http://HOST:PORT or HOST:PORT (default: $WARDEN_GATEWAY, "
      "else unix:/run/warden/gateway.sock)");
  app->add_option("--gateway-ca", flags->gateway_ca, "PEM CA certificates for an https:// gateway (default: system roots)");
  app->add_option("--client-cert", flags->client_cert, "PEM client certificate for an https:// gateway (operators' mTLS)");
  app->add_option("--client-key", flags->client_key, "PEM private key of --client-cert");
  app->add_option("--token-file", flags->token_file,
                  "file holding an operator token ('TOKEN' or 'ID TOKEN'); sent as authorization: Bearer");
  return gw;
}

}  // namespace warden::cli
