#include "proxy/path_canon.h"

#include <fmt/format.h>

#include <vector>

#include "common/encoding.h"

namespace warden::proxy {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool isSubDelimOrColonAt(unsigned char c) {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
      return true;
    default:
      return false;
  }
}

bool isControl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

Error reject(std::string_view code, std::string_view what) {
  return invalidArgument(fmt::format("{}: {}", code, what));
}

void appendEscaped(std::string* out, unsigned char c) {
  out->push_back('%');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xf]);
}

// Canonicalizes one segment's bytes (between slashes) into `out`; `decoded` receives the decoded
// text used to recognise dot segments.
Result<void> canonicalSegment(std::string_view raw, std::string* out, std::string* decoded) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c == '%') {
      if (i + 2 >= raw.size()) {
        return reject("invalid_percent_escape", "'%' must be followed by two hex digits");
      }
      const int hi = hexDigitValue(raw[i + 1]);
      const int lo = hexDigitValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return reject("invalid_percent_escape", "'%' must be followed by two hex digits");
      const auto b = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
      if (b == '/' || b == '\\')
        return reject("encoded_slash", "an encoded '/' or '\\' inside a path segment");
      if (isControl(b)) return reject("control_byte", "an encoded control byte in the path");
      if (isUnreserved(b)) {
        out->push_back(static_cast<char>(b));
      } else {
        appendEscaped(out, b);
      }
      decoded->push_back(static_cast<char>(b));
      continue;
    }
    if (isControl(c)) return reject("control_byte", "a control byte in the path");
    if (c >= 0x80) return reject("non_ascii", "a raw non-ASCII byte in the path (percent-encode it)");
    if (c == '\\')
      return reject("encoded_slash", "a '\\' in the path (ambiguous: some servers treat it as '/')");
    if (c == '?' || c == '#')
      return reject("query_in_path", "a '?' or '#' in the path (split off the query)");
    if (isUnreserved(c) || isSubDelimOrColonAt(c)) {
      out->push_back(static_cast<char>(c));
    } else {
      appendEscaped(out, c);
    }
    decoded->push_back(static_cast<char>(c));
  }
  return okResult();
}

}  // namespace

Result<std::string> canonicalizePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return reject("path_not_absolute", "the path must start with '/'");
  std::vector<std::string> segments;
  bool trailing_slash = false;
  std::string_view rest = path.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view raw = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    std::string canonical;
    std::string decoded;
    WARDEN_RETURN_IF_ERROR(canonicalSegment(raw, &canonical, &decoded));
    if (decoded == ".") {
      trailing_slash = true;
    } else if (decoded == "..") {
      if (segments.empty()) return reject("path_above_root", "'..' would climb above the root");
      segments.pop_back();
      trailing_slash = true;
    } else if (decoded.starts_with(".;") || decoded.starts_with("..;")) {
      return reject("dot_segment_params", "a '.' or '..' segment with ';' parameters");
    } else if (decoded.empty()) {
      // An empty segment ("//", or the trailing one in "/a/"): collapsed; remembers a trailing slash.
      trailing_slash = true;
    } else {
      segments.push_back(std::move(canonical));
      trailing_slash = false;
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  std::string out;
  out.reserve(path.size());
  for (const auto& s : segments) {
    out.push_back('/');
    out += s;
  }
  if (segments.empty() || trailing_slash) out.push_back('/');
  return out;
}

}  // namespace warden::proxy
