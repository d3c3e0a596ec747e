#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace warden::capture {

// argv from a process's argv area (the kernel's mm->arg_start..arg_end, /proc/<pid>/cmdline):
// NUL-separated; a last argument without its NUL (the area was cut) is kept as it is.
std::vector<std::string> splitArgv(std::string_view area);

}  // namespace warden::capture
