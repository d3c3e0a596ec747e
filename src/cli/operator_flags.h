#pragma once

#include <string>

#include "gateway/client/operator_client.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace warden::cli {

// How the operator's commands (sessions, logs, settings, audit query, audit verify --session) reach
// the gateway and prove who they are (docs/gateway-client.md "Which gateway"): one set of flags,
// added to each command by addOperatorFlags.
struct OperatorFlags {
  std::string gateway;      // --gateway URL
  std::string gateway_ca;   // --gateway-ca PEM: roots for https
  std::string client_cert;  // --client-cert PEM: mutual TLS
  std::string client_key;   // --client-key PEM
  std::string token_file;   // --token-file FILE: an operator token

  gateway::OperatorConnection connection() const;
};

// Adds --gateway, --gateway-ca, --client-cert, --client-key and --token-file to `app`; returns the
// --gateway option (for excludes()).
CLI::Option* addOperatorFlags(CLI::App* app, OperatorFlags* flags);

}  // namespace warden::cli
