#pragma once

#include <string>

namespace warden {

// This host's name (gethostname), "localhost" when it cannot be read: device.hostname of events.
std::string hostName();

}  // namespace warden
