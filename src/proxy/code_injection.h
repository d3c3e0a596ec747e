#pragma once

// Signs that a process runs code its executable did not bring (docs/policy.md "Binary identity"),
// read from /proc text: loader variables in its initial environment (/proc/<pid>/environ) and its
// executable memory (/proc/<pid>/maps). Socket-free, pure parsers over untrusted text (fuzzed in
// code_injection_fuzz); the caller-identity resolver reads the files.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::proxy {

// The loader variables set (non-empty) in a NUL-separated environment block, as "NAME=value" in the
// block's order, each value cut to 256 bytes: LD_PRELOAD and LD_AUDIT (the dynamic linker loads the
// named objects into the process) and LD_LIBRARY_PATH (it looks for the executable's own libraries
// there first). Nothing else from the block is kept: environments hold secrets.
std::vector<std::string> loaderVariables(std::string_view environ_block);

// One line of /proc/<pid>/maps: "start-end perms offset dev inode [path]".
struct MapsEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  bool readable = false;
  bool writable = false;
  bool executable = false;
  uint64_t inode = 0;
  std::string path;  // empty for anonymous memory; "[vdso]", "/memfd:x (deleted)", "/usr/lib/... (deleted)"
};
// nullopt for anything that is not such a line (the path may hold spaces; it is kept whole).
std::optional<MapsEntry> parseMapsLine(std::string_view line);

// Where the code of an executable mapping comes from.
enum class CodeOrigin {
  kNotCode,      // not executable
  kFile,         // a file that is still there
  kKernel,       // [vdso], [vsyscall] and other [bracketed] kernel mappings
  kAnonymous,    // no file: JIT compilers (node, java) make these; so does injected shellcode
  kFilelessCode  // a memfd, or a file deleted or replaced since it was mapped (fileless code loading)
};
CodeOrigin codeOrigin(const MapsEntry& entry);

}  // namespace warden::proxy
