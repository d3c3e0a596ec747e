#include "gateway/client/verify_stored_session.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "audit/log_events.h"

namespace warden::gateway {
namespace {

// The deletions of `session_id` that the gateway's retention recorded: every LOG:DELETE in the
// trails of the gateway's own sessions (one per gateway process) naming it.
Result<std::vector<audit::VerifyOptions::Deletion>> recordedDeletions(OperatorClient& client,
                                                                       std::string_view session_id) {
  std::vector<audit::VerifyOptions::Deletion> out;
  auto sessions = client.listSessions();
  if (!sessions.ok()) return sessions.error();
  for (const auto& trail : *sessions) {
    if (trail.name != audit::kGatewaySessionName) continue;
    LogsRequest request;
    request.session_id = trail.id;
    request.classes = {"LOG"};
    auto read = client.forEachLog(request, [&](const LogEvent& e) {
      if (e.shorthand.rfind("LOG:DELETE", 0) != 0) return;
      const auto j = nlohmann::json::parse(e.json, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) return;
      const auto u = j.find("unmapped");
      if (u == j.end() || !u->is_object()) return;
      const auto r = u->find("retention");
      if (r == u->end() || !r->is_object()) return;
      const auto number = [&](const char* key) -> uint64_t {
        const auto v = r->find(key);
        return v != r->end() && v->is_number_unsigned() ? v->get<uint64_t>() : 0;
      };
      const auto sid = r->find("session_id");
      if (sid == r->end() || !sid->is_string() || sid->get<std::string>() != session_id) return;
      audit::VerifyOptions::Deletion d;
      d.first = number("first_seq");
      d.last = number("last_seq");
      d.count = number("count");
      d.record = fmt::format("LOG:DELETE seq {} of the gateway's session {}", e.sequence, trail.id);
      if (d.first > 0 && d.first <= d.last) out.push_back(std::move(d));
    });
    if (!read.ok()) return read.error().withContext("reading the gateway's retention records");
  }
  return out;
}

}  // namespace

Result<audit::VerifyReport> verifyStoredSession(OperatorClient& client, std::string_view session_id,
                                                audit::VerifyOptions options) {
  auto material = client.verificationMaterial(session_id);
  if (!material.ok()) return material.error();
  if (!options.public_key_hex && !material->public_key.empty()) {
    options.public_key_hex = material->public_key;
    options.key_origin =
        "the key registered with session " + std::string(session_id) + " on gateway " + client.address();
  }
  auto deletions = recordedDeletions(client, session_id);
  if (!deletions.ok()) return deletions.error();
  for (auto& d : *deletions) options.deletions.push_back(std::move(d));
  audit::Verifier verifier(std::move(options));
  verifier.beginFile("gateway:" + std::string(session_id));
  LogsRequest request;
  request.session_id = std::string(session_id);
  auto last = client.forEachLog(request, [&](const LogEvent& e) { verifier.addLine(e.json); });
  if (!last.ok())
    return last.error().withContext("reading the stored events of session " + std::string(session_id));
  verifier.endFile();
  return verifier.finish();
}

}  // namespace warden::gateway
