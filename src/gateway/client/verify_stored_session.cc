#include "gateway/client/verify_stored_session.h"

#include <string>
#include <utility>

namespace warden::gateway {

Result<audit::VerifyReport> verifyStoredSession(OperatorClient& client, std::string_view session_id,
                                                audit::VerifyOptions options) {
  auto material = client.verificationMaterial(session_id);
  if (!material.ok()) return material.error();
  if (!options.public_key_hex && !material->public_key.empty()) {
    options.public_key_hex = material->public_key;
    options.key_origin =
        "the key registered with session " + std::string(session_id) + " on gateway " + client.address();
  }
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
