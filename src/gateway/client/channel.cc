#include "gateway/client/channel.h"

#include <grpcpp/grpcpp.h>

#include <charconv>

#include "common/file_io.h"

namespace warden::gateway {
namespace {

constexpr size_t kMaxCaBytes = 1 << 20;

bool validHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '[') return host.size() > 2 && host.back() == ']' &&
                                  host.substr(1, host.size() - 2).find_first_not_of("0123456789abcdefABCDEF:.") ==
                                      std::string_view::npos;
  return host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
         std::string_view::npos;
}

}  // namespace

Result<GatewayEndpoint> parseGatewayUrl(std::string_view url) {
  const std::string shown(url.substr(0, 200));
  GatewayEndpoint ep;
  if (url.substr(0, 5) == "unix:") {
    const std::string_view path = url.substr(5);
    if (path.empty() || path.front() != '/' || path.size() > 107 || path.find('\0') != std::string_view::npos) {
      return invalidArgument("gateway URL '" + shown + "': give unix:/ABSOLUTE/PATH (at most 107 bytes)");
    }
    ep.target = std::string(url);
    return ep;
  }
  std::string_view rest = url;
  if (const size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    const std::string_view name = rest.substr(0, scheme);
    if (name == "https") {
      ep.tls = true;
    } else if (name != "http") {
      return invalidArgument("gateway URL '" + shown + "': scheme must be http or https");
    }
    rest.remove_prefix(scheme + 3);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return invalidArgument("gateway URL '" + shown + "': no path, query or fragment is allowed");
  }
  if (rest.find('@') != std::string_view::npos) {
    return invalidArgument("gateway URL '" + shown + "': credentials do not belong in the URL");
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || (rest.front() == '[' && colon < rest.find(']'))) {
    return invalidArgument("gateway URL '" + shown + "': a port is required (HOST:PORT)");
  }
  const std::string_view host = rest.substr(0, colon);
  const std::string_view port_text = rest.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return invalidArgument("gateway URL '" + shown + "': port must be 1..65535");
  }
  if (!validHost(host)) return invalidArgument("gateway URL '" + shown + "': bad host");
  ep.target = std::string(rest);
  return ep;
}

Result<std::shared_ptr<grpc::Channel>> makeGatewayChannel(std::string_view url, const ChannelOptions& options) {
  auto ep = parseGatewayUrl(url);
  if (!ep.ok()) return ep.error();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  // Reconnect quickly after a gateway restart: the session's push is waiting on it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.client_cert.has_value() != options.client_key.has_value()) {
    return invalidArgument("a client certificate needs its key and a key its certificate (--client-cert, --client-key)");
  }
  if (options.client_cert && !ep->tls) {
    return invalidArgument("a client certificate is for https:// gateway URLs; '" + std::string(url.substr(0, 200)) +
                           "' is not one");
  }
  if (ep->tls) {
    grpc::SslCredentialsOptions ssl;
    if (options.ca_file) {
      auto pem = readFileBounded(*options.ca_file, kMaxCaBytes, OverLimit::kFail);
      if (!pem.ok()) return pem.error().withContext("gateway CA file");
      ssl.pem_root_certs = std::move(*pem);
    }
    if (options.client_cert) {
      auto cert = readFileBounded(*options.client_cert, kMaxCaBytes, OverLimit::kFail);
      if (!cert.ok()) return cert.error().withContext("client certificate");
      auto key = readFileBounded(*options.client_key, kMaxCaBytes, OverLimit::kFail);
      if (!key.ok()) return key.error().withContext("client key");
      ssl.pem_cert_chain = std::move(*cert);
      ssl.pem_private_key = std::move(*key);
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(ep->target, creds, args);
}

void prepareGatewayCall(grpc::ClientContext& ctx, std::string_view token, std::chrono::milliseconds deadline) {
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + std::string(token));
}

Error gatewayCallError(const grpc::Status& status, std::string_view what) {
  const int code = static_cast<int>(status.error_code());
  const std::string message = std::string(what) + ": " + status.error_message();
  if (code <= 0 || code > static_cast<int>(Code::kUnauthenticated)) return internalError(message);
  return Error(static_cast<Code>(code), message);
}

}  // namespace warden::gateway
