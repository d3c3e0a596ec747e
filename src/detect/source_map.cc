#include "detect/source_map.h"

namespace warden::detect {
namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

TextMap TextMap::build(std::string_view file_text, size_t start, SourcePos origin, std::string_view value) {
  TextMap map(origin);
  if (start > file_text.size()) return map;
  map.positions_.reserve(value.size());
  size_t p = start;
  SourcePos here = origin;
  SourcePos last = origin;
  bool lost = false;
  // Advances p (and here) by one byte of the file.
  auto step = [&]() {
    if (file_text[p] == '\n') {
      ++here.line;
      here.column = 1;
    } else {
      ++here.column;
    }
    ++p;
  };
  for (const char c : value) {
    if (lost || blank(c)) {
      map.positions_.push_back(last);
      continue;
    }
    // Skip what folding and quoting put in the file but not in the value; give up after a
    // stretch that cannot be folding (an escape we cannot follow).
    size_t skipped = 0;
    while (p < file_text.size() && file_text[p] != c && skipped < 256) {
      step();
      ++skipped;
    }
    if (p >= file_text.size() || file_text[p] != c) {
      lost = true;
      map.positions_.push_back(last);
      continue;
    }
    last = here;
    map.positions_.push_back(here);
    step();
  }
  return map;
}

SourcePos TextMap::at(size_t offset) const {
  if (positions_.empty()) return origin_;
  if (offset >= positions_.size()) {
    SourcePos end = positions_.back();
    ++end.column;
    return end;
  }
  return positions_[offset];
}

}  // namespace warden::detect
