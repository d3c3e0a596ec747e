#include "proxy/server/responses.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace warden::proxy {

std::string_view statusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string errorResponse(int status, const ErrorBody& body, bool policy_header) {
  nlohmann::json j = {{"error", body.error}, {"detail", body.detail}};
  if (!body.reason.empty()) j["reason"] = body.reason;
  if (!body.rule.empty()) j["rule"] = body.rule;
  // Details can quote agent-controlled bytes; replace invalid UTF-8 rather than throw.
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "Connection: close\r\n",
      status, statusText(status), text.size());
  if (policy_header) {
    // The rule name comes from the policy file (a YAML key); keep the header one clean line.
    std::string rule;
    for (char c : body.rule.empty() ? std::string_view("-") : body.rule) {
      rule.push_back((c >= 0x21 && c <= 0x7e) ? c : '_');
    }
    out += fmt::format("X-Warden-Policy: {}\r\n", rule);
  }
  out += "\r\n";
  out += text;
  return out;
}

std::string_view connectEstablishedResponse() { return "HTTP/1.1 200 Connection Established\r\n\r\n"; }

}  // namespace warden::proxy
