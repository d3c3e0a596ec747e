#include "common/host_name.h"

#include <unistd.h>

namespace warden {

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace warden
