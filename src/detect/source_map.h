#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "detect/diagnostics.h"

namespace warden::detect {

// Maps byte offsets of a YAML scalar's value back to line:column in the file, so a problem in
// the middle of a multi-line condition is reported where it is written. YAML folding and
// quoting only change whitespace and quote characters, so the value's non-blank bytes are
// matched, in order, against the file text from the scalar's start; anything the alignment
// cannot follow (escapes in double-quoted scalars) maps to the nearest earlier position.
// A plain value; cheap to copy for conditions (bounded to kMaxConditionBytes).
class TextMap {
 public:
  // Every offset maps to `origin`.
  explicit TextMap(SourcePos origin = {}) : origin_(origin) {}
  // `file_text` is the whole file; `start` is the scalar node's 0-based byte offset in it and
  // `origin` its 1-based position (yaml-cpp's Mark).
  static TextMap build(std::string_view file_text, size_t start, SourcePos origin, std::string_view value);

  SourcePos at(size_t offset) const;

 private:
  SourcePos origin_;
  std::vector<SourcePos> positions_;  // one per value byte, when built
};

}  // namespace warden::detect
