#pragma once

// The egress proxy as `warden run` and `warden proxy` both assemble it (one assembly, so the two do
// not drift): caller identity from /proc, the TLS interception CA, the listener, the sandbox DNS
// resolver beside it (sessions only), and the policy reloader watching the policy file.
//
//   create(): caller identity (a failure is a note: binary rules then cannot match), the Server
//   (bound), the DnsResolver (bound, when dns is set), the PolicyReloader (a failure is a note:
//   reload with SIGHUP). start(): NET:LISTEN, threads. stop(): reloader, resolver, proxy — reverse
//   order, idempotent, also run by the destructor.
//
// Borrows the PolicyStore and the Emitter (both must outlive the stack); owns the rest. start/stop
// and reload() from one thread; the accessors are thread-safe.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "audit/emitter.h"
#include "common/result.h"
#include "ocsf/builders.h"
#include "policy/snapshot.h"
#include "proxy/caller_identity.h"
#include "proxy/capture_attribution.h"
#include "proxy/server/dns_resolver.h"
#include "proxy/server/policy_reloader.h"
#include "proxy/server/server.h"
#include "proxy/tls_ca.h"

namespace warden::proxy {

struct ProxyStackOptions {
  ServerOptions server;
  CallerLookupOptions caller;                        // where caller identity reads /proc
  std::shared_ptr<CertificateAuthority> ca;          // TLS interception; null: no termination
  std::optional<DnsResolverOptions> dns;             // the sandbox resolver; none for `warden proxy`
  std::optional<std::filesystem::path> policy_file;  // watched and reloaded; none: no reloader
  // Who the kernel capture saw connect from a client's address, asked when caller identity misses
  // (warden run; empty for `warden proxy`): the proxy's and the resolver's actor for the record only.
  CaptureAttribution capture_attribution;
  // Operational notes (caller identity unavailable, no file watch): level 1 = warning.
  std::function<void(std::string_view component, std::string message)> note;
};

class ProxyStack {
 public:
  static Result<std::unique_ptr<ProxyStack>> create(ProxyStackOptions options, policy::PolicyStore& store,
                                                    audit::Emitter& emitter, const ocsf::SessionContext& session);
  ~ProxyStack();
  ProxyStack(const ProxyStack&) = delete;
  ProxyStack& operator=(const ProxyStack&) = delete;

  void start();
  void stop();
  // Re-reads the policy file now (SIGHUP); nothing without a reloader.
  void reload();

  Server& server() { return *server_; }
  DnsResolver* dns() { return dns_.get(); }
  const ocsf::SessionContext& session() const { return server_->session(); }
  // The resolver behind caller identity (null when unavailable): other components name actors with it.
  std::shared_ptr<CallerIdentityResolver> identities() const { return identities_; }

 private:
  ProxyStack() = default;

  std::shared_ptr<CallerIdentityResolver> identities_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<DnsResolver> dns_;
  std::unique_ptr<PolicyReloader> reloader_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace warden::proxy
