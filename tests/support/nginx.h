#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace warden::testing {

// A real nginx (/usr/sbin/nginx) serving a temp directory on 127.0.0.1, for integration tests. It
// runs in the foreground (`daemon off; master_process off`) as a child of the test, with its own
// prefix, config, logs and document root under a temp directory; start() returns once it accepts
// connections. The destructor stops it (SIGQUIT, then SIGKILL) and reaps it. Not thread-safe.
//
// Locations: / serves files from docRoot(); /echo answers "echo <method> <uri>"; /big serves
// `big.bin` (1 MiB); /ingest/ takes POSTed bodies (an HTTP export's receiver: each body is appended
// to ingest.log, answered 200 with an Elasticsearch-style `{"errors":false}`), /ingest-small/ the
// same with bodies over 16 KiB refused (413), /ingest-short/ the same but a connection ends after 2
// requests (`Connection: close`), /ingest-auth/ the same but 401 unless
// `Authorization: Splunk s3cret-token`; everything else 404.
class NginxServer {
 public:
  // TLS: serve HTTPS with this certificate and key (PEM files) instead of plain HTTP.
  struct Tls {
    std::filesystem::path certificate;
    std::filesystem::path key;
  };
  // nullptr (and *why set) when nginx is missing or does not come up within 10 s.
  static std::unique_ptr<NginxServer> start(std::string* why = nullptr, const Tls* tls = nullptr);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  uint16_t port() const { return port_; }
  const std::filesystem::path& docRoot() const { return www_; }
  // access.log: one line per request ("$request $status $connection").
  std::string accessLog() const;
  // The non-empty lines of every body /ingest*/ accepted, in order.
  std::vector<std::string> ingestLines() const;
  // Stops nginx (a receiver going down); restart() brings it back on the same port and files.
  void stop();
  bool restart();

 private:
  NginxServer() = default;
  bool launch();  // starts the process; true once it accepts connections (or it exited: pid_ = -1)

  std::filesystem::path root_;
  std::filesystem::path www_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A free TCP port on 127.0.0.1 (bound to port 0, then released). There is a small window in which
// another process could take it; tests that need certainty bind themselves.
uint16_t freeLoopbackPort();

// Writes a self-signed ECDSA certificate for 127.0.0.1 (SAN IP:127.0.0.1, DNS:localhost) with the
// openssl command line; false when openssl fails.
bool makeSelfSignedCertificate(const std::filesystem::path& certificate, const std::filesystem::path& key);

}  // namespace warden::testing
