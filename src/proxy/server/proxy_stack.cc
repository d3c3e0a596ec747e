#include "proxy/server/proxy_stack.h"

#include "proxy/server/connection_caller.h"

namespace warden::proxy {

Result<std::unique_ptr<ProxyStack>> ProxyStack::create(ProxyStackOptions options, policy::PolicyStore& store,
                                                       audit::Emitter& emitter, const ocsf::SessionContext& session) {
  auto note = [&](std::string_view component, std::string message) {
    if (options.note) options.note(component, std::move(message));
  };
  std::unique_ptr<ProxyStack> stack(new ProxyStack());
  if (auto resolver = CallerIdentityResolver::create(options.caller); resolver.ok()) {
    stack->identities_ = std::move(resolver).value();
  } else {
    note("proxy", "caller identity unavailable: " + resolver.error().toString() + "; binary rules cannot match");
  }
  const auto& ids = stack->identities_;
  const CaptureAttribution& capture = options.capture_attribution;
  const bool named = ids || capture;
  auto server = Server::create(std::move(options.server), store, emitter, session,
                               named ? makeProcCallerLookup(ids, capture) : CallerLookup{}, options.ca);
  if (!server.ok()) return server.error().withContext("egress proxy");
  stack->server_ = std::move(server).value();
  if (options.dns) {
    auto dns = DnsResolver::create(std::move(*options.dns), emitter, stack->server_->session(),
                                   named ? makeDnsCallerLookup(ids, capture) : DnsResolver::CallerLookup{},
                                   &store);
    if (!dns.ok()) return dns.error().withContext("DNS resolver");
    stack->dns_ = std::move(dns).value();
  }
  if (options.policy_file) {
    auto reloader = PolicyReloader::create({.policy_file = *options.policy_file}, store, emitter,
                                           stack->server_->session());
    if (reloader.ok()) {
      stack->reloader_ = std::move(reloader).value();
    } else {
      note("proxy", "policy file watch unavailable: " + reloader.error().toString() + "; reload with SIGHUP");
    }
  }
  return stack;
}

ProxyStack::~ProxyStack() { stop(); }

void ProxyStack::start() {
  if (started_) return;
  started_ = true;
  server_->start();
  if (dns_) dns_->start();
  if (reloader_) reloader_->start();
}

void ProxyStack::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (reloader_) reloader_->stop();
  if (dns_) dns_->stop();
  if (server_) server_->stop();
}

void ProxyStack::reload() {
  if (reloader_) reloader_->trigger();
}

}  // namespace warden::proxy
