#include "audit/export/syslog_message.h"

#include <fmt/format.h>

#include "common/clock.h"

namespace warden::audit::exporting {
namespace {

constexpr int kFacilityLogAudit = 13;

int severityOf(std::string_view shorthand) {
  const size_t open = shorthand.find(" [");
  if (open == std::string_view::npos) return 6;
  const std::string_view rest = shorthand.substr(open + 2);
  const size_t close = rest.find(']');
  const std::string_view label = rest.substr(0, close);
  if (label == "LOW") return 5;
  if (label == "MED") return 4;
  if (label == "HIGH") return 3;
  if (label == "CRIT") return 2;
  if (label == "FATAL") return 1;
  return 6;
}

std::string_view msgIdOf(std::string_view shorthand) {
  const std::string_view type = shorthand.substr(0, shorthand.find(' '));
  if (type.empty() || type.size() > 32) return "-";
  for (const char c : type) {
    if (c < 33 || c > 126) return "-";
  }
  return type;
}

// RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped with '\'.
void appendParamValue(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
    out.push_back(c);
  }
}

void appendPrintUsAscii(std::string& out, std::string_view value, size_t max) {
  if (value.empty()) {
    out.push_back('-');
    return;
  }
  for (size_t i = 0; i < value.size() && i < max; ++i) {
    const char c = value[i];
    out.push_back(c >= 33 && c <= 126 ? c : '_');
  }
}

}  // namespace

void appendSyslogMessage(std::string& out, const SyslogHeader& header, const SinkRecord& record) {
  fmt::format_to(std::back_inserter(out), "<{}>1 ", kFacilityLogAudit * 8 + severityOf(record.shorthand));
  appendUtcMillis(out, record.time);
  out.push_back(' ');
  appendPrintUsAscii(out, header.hostname, 255);
  out.push_back(' ');
  appendPrintUsAscii(out, header.app_name, 48);
  fmt::format_to(std::back_inserter(out), " {} ", header.procid);
  out.append(msgIdOf(record.shorthand));
  out.append(" [warden@32473 session=\"");
  appendParamValue(out, header.session_id);
  fmt::format_to(std::back_inserter(out), "\" seq=\"{}\"] ", record.sequence);
  out.append(record.json);
}

void appendOctetCounted(std::string& out, const SyslogHeader& header, const SinkRecord& record) {
  thread_local std::string message;
  message.clear();
  appendSyslogMessage(message, header, record);
  fmt::format_to(std::back_inserter(out), "{} ", message.size());
  out.append(message);
}

}  // namespace warden::audit::exporting
