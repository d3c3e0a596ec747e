#include "proxy/capture_attribution.h"

#include "common/secret_shape.h"

namespace warden::proxy {

ocsf::Process capturedActor(ocsf::Process captured) {
  captured.cmd_line = redactSecrets(captured.cmd_line);
  captured.attribution = std::string(kCaptureAttribution);
  return captured;
}

}  // namespace warden::proxy
