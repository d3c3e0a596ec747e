#include "support/nginx.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "support/test_env.h"

namespace warden::testing {

namespace {

bool canConnect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

uint16_t freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<NginxServer> NginxServer::start(std::string* why, const Tls* tls) {
  const char* binary = "/usr/sbin/nginx";
  if (::access(binary, X_OK) != 0) {
    if (why) *why = "nginx is not installed (/usr/sbin/nginx)";
    return nullptr;
  }
  std::unique_ptr<NginxServer> server(new NginxServer());
  char tmpl[] = "/tmp/warden-nginx-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    if (why) *why = "mkdtemp failed";
    return nullptr;
  }
  server->root_ = tmpl;
  server->www_ = server->root_ / "www";
  std::filesystem::create_directories(server->www_);
  std::filesystem::create_directories(server->root_ / "tmp");
  writeFile(server->www_ / "hello.txt", "hello from nginx\n");
  writeFile(server->www_ / "big.bin", std::string(1 << 20, 'x'));
  const auto& r = server->root_;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = freeLoopbackPort();
    const std::string scheme = tls ? "https" : "http";
    // /ingest*/: an HTTP export's receiver (docs/export.md): each request body is appended to
    // ingest.log as it came (proxying to /accepted makes nginx read the body into memory, which
    // is what $request_body needs).
    const std::string ingest = fmt::format(
        "    location /ingest/ {{ client_max_body_size 64m; client_body_buffer_size 64m; "
        "proxy_pass {s}://127.0.0.1:{port}/accepted; access_log {r}/ingest.log body; access_log {r}/access.log; }}\n"
        "    location /ingest-small/ {{ client_max_body_size 16k; client_body_buffer_size 16k; "
        "proxy_pass {s}://127.0.0.1:{port}/accepted; access_log {r}/ingest.log body; access_log {r}/access.log; }}\n"
        "    location /ingest-short/ {{ keepalive_requests 2; client_max_body_size 64m; client_body_buffer_size 64m; "
        "proxy_pass {s}://127.0.0.1:{port}/accepted; access_log {r}/ingest.log body; access_log {r}/access.log; }}\n"
        "    location /ingest-auth/ {{ if ($http_authorization != \"Splunk s3cret-token\") {{ return 401; }} "
        "client_max_body_size 64m; client_body_buffer_size 64m; "
        "proxy_pass {s}://127.0.0.1:{port}/accepted; access_log {r}/ingest.log body; access_log {r}/access.log; }}\n"
        "    location /accepted {{ access_log off; default_type application/json; "
        "return 200 '{{\"errors\":false,\"items\":[]}}'; }}\n",
        fmt::arg("s", scheme), fmt::arg("port", server->port_), fmt::arg("r", r.string()));
    const std::string config = fmt::format(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {r}/nginx.pid;\nerror_log {r}/error.log warn;\n"
        "events {{ worker_connections 512; }}\n"
        "http {{\n  access_log {r}/access.log;\n  log_format body escape=none '$request_body';\n"
        "  client_body_temp_path {r}/tmp/body;\n"
        "  proxy_temp_path {r}/tmp/proxy;\n  fastcgi_temp_path {r}/tmp/fastcgi;\n  uwsgi_temp_path {r}/tmp/uwsgi;\n"
        "  scgi_temp_path {r}/tmp/scgi;\n  keepalive_requests 10000;\n"
        "  server {{\n    listen 127.0.0.1:{port}{ssl};\n    root {r}/www;\n{tls}"
        "    location /echo {{ default_type text/plain; return 200 \"echo $request_method $request_uri\\n\"; }}\n"
        "{ingest}"
        "  }}\n}}\n",
        fmt::arg("r", r.string()), fmt::arg("port", server->port_), fmt::arg("ssl", tls ? " ssl" : ""),
        fmt::arg("ingest", ingest),
        fmt::arg("tls", tls ? fmt::format("    ssl_certificate {};\n    ssl_certificate_key {};\n",
                                          tls->certificate.string(), tls->key.string())
                            : std::string()));
    writeFile(r / "nginx.conf", config);
    const bool up = server->launch();
    if (up && server->pid_ > 0) return server;
    if (server->pid_ > 0) {
      ::kill(server->pid_, SIGKILL);
      ::waitpid(server->pid_, nullptr, 0);
      server->pid_ = -1;
    }
  }
  if (why) *why = "nginx did not start: " + readFile(r / "error.log");
  return nullptr;
}

bool NginxServer::launch() {
  const char* binary = "/usr/sbin/nginx";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string prefix = root_.string() + "/";
    const std::string conf = (root_ / "nginx.conf").string();
    ::execl(binary, binary, "-p", prefix.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  return waitFor(
      [&] {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          pid_ = -1;
          return true;  // exited: stop waiting
        }
        return canConnect(port_);
      },
      std::chrono::seconds(10));
}

void NginxServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGQUIT);
  const bool gone = waitFor([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, std::chrono::seconds(5));
  if (!gone) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

bool NginxServer::restart() {
  stop();
  return launch() && pid_ > 0;
}

NginxServer::~NginxServer() {
  stop();
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
}

bool makeSelfSignedCertificate(const std::filesystem::path& certificate, const std::filesystem::path& key) {
  const auto r = runCommand(fmt::format(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {} -out {} -days 2 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost",
      key.string(), certificate.string()));
  return r.status == 0;
}

std::string NginxServer::accessLog() const { return readFile(root_ / "access.log"); }

std::vector<std::string> NginxServer::ingestLines() const {
  std::vector<std::string> out;
  const std::string text = readFile(root_ / "ingest.log");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace warden::testing
