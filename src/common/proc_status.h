#pragma once

// Fields of a /proc/<pid>/status text (proc(5)). Pure parsers over text the kernel wrote; a process
// may exit between listing and reading, so every reader treats a missing field as "unknown".

#include <cstdint>
#include <string_view>

namespace warden {

// The index-th number of a "Key:\tn0\tn1..." line ("Uid", 1 -> the effective uid). 0 when the line
// or the number is missing or malformed.
uint32_t procStatusNumber(std::string_view status, std::string_view key, int index);

// The last number of the "NSpid:" line: the process's pid in its own (innermost) pid namespace.
// 0 when the line is missing (kernels before 4.1) or malformed.
uint32_t procStatusNamespacePid(std::string_view status);

}  // namespace warden
