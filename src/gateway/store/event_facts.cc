// extractFacts() (declared in store.h): one streaming pass over a pushed event's JSON, keeping only
// the dozen values the store indexes — no document tree, no map inserts. It answers exactly what a
// full parse followed by lookups would (the reference the unit test and the fuzz target compare it
// with): a repeated key is last-wins, a value of the wrong type counts as absent, and invalid JSON or
// a top level that is not an object leaves the event as it was.
//
// Two tokenizers drive the same handler (FactsHandler, which holds the semantics): a hand-written one
// for the ASCII JSON the builders write (FastScanner: it validates the grammar as it goes and
// copies only the strings the handler keeps; 11.7 -> ~2 us per 1,340-byte event), and nlohmann's
// SAX parser, which takes over whenever the fast one declines — a byte over 0x7f (UTF-8 to
// validate), a \u escape, nesting deeper than 64, anything it does not recognise.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/store/store.h"

namespace warden::gateway {
namespace {

using nlohmann::json;

// The paths the store reads, as a small tree. Inner nodes are objects to descend into; leaves are
// the values kept.
enum Node : int8_t {
  kNone = -1,
  // inner
  kRoot,
  kMetadata,
  kDst,
  kHttp,
  kHttpUrl,
  kQuery,
  kFile,
  kApp,
  kUnmapped,
  kApi,
  kInnerCount,
  // leaves
  kClassUid = kInnerCount,
  kSeverityId,
  kTime,
  kActivityId,
  kStatusDetail,
  kSequence,
  kCorrelationUid,
  kDstDomain,
  kDstHostname,
  kUrlHostname,
  kQueryHostname,
  kFilePath,
  kAppName,
  kUnmappedPackage,  // presence only
  kExitCode,
  kApiOperation,
  kNodeCount,
};

constexpr std::array<Node, kNodeCount> kParent = {
    kNone,     kRoot,     kRoot, kRoot,     kHttp, kRoot,     kRoot,     kRoot, kRoot, kRoot,  // inner
    kRoot,     kRoot,     kRoot, kRoot,     kRoot,                                             // class..status
    kMetadata, kMetadata,                                                                      // sequence, correlation
    kDst,      kDst,      kHttpUrl, kQuery, kFile, kApp,    kUnmapped, kUnmapped, kApi,        // facts
};

Node childOf(Node node, std::string_view key) {
  auto pick = [&](std::initializer_list<std::pair<std::string_view, Node>> children) {
    for (const auto& [name, child] : children) {
      if (key == name) return child;
    }
    return kNone;
  };
  switch (node) {
    case kRoot:
      return pick({{"class_uid", kClassUid},
                   {"severity_id", kSeverityId},
                   {"time", kTime},
                   {"activity_id", kActivityId},
                   {"status_detail", kStatusDetail},
                   {"metadata", kMetadata},
                   {"dst_endpoint", kDst},
                   {"http_request", kHttp},
                   {"query", kQuery},
                   {"file", kFile},
                   {"app", kApp},
                   {"unmapped", kUnmapped},
                   {"api", kApi}});
    case kMetadata: return pick({{"sequence", kSequence}, {"correlation_uid", kCorrelationUid}});
    case kDst: return pick({{"domain", kDstDomain}, {"hostname", kDstHostname}});
    case kHttp: return pick({{"url", kHttpUrl}});
    case kHttpUrl: return pick({{"hostname", kUrlHostname}});
    case kQuery: return pick({{"hostname", kQueryHostname}});
    case kFile: return pick({{"path", kFilePath}});
    case kApp: return pick({{"name", kAppName}});
    case kUnmapped: return pick({{"package", kUnmappedPackage}, {"exit_code", kExitCode}});
    case kApi: return pick({{"operation", kApiOperation}});
    default: return kNone;
  }
}

bool isUnder(Node leaf, Node ancestor) {
  for (Node n = leaf; n != kNone; n = kParent[n]) {
    if (n == ancestor) return true;
  }
  return false;
}

// The SAX handler. Values are recorded at the leaves; a key met again clears what was recorded
// under it (last wins, as in a parsed document).
class FactsHandler {
 public:
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t v) { return integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return integer(static_cast<int64_t>(v)); }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool string(json::string_t& v) {
    const Node at = current();
    if (at >= kInnerCount && at != kUnmappedPackage && !isInteger(at)) text_[at] = std::move(v);
    return true;
  }
  bool start_object(std::size_t) {
    if (frames_.empty()) {
      top_is_object_ = true;
      frames_.push_back({kRoot, kNone});
    } else {
      const Node at = current();
      if (at == kUnmapped) unmapped_object_ = true;
      frames_.push_back({at != kNone && at < kInnerCount ? at : kNone, kNone});
    }
    return true;
  }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    f.child = f.node == kNone ? kNone : childOf(f.node, k);
    if (f.child != kNone) clearUnder(f.child);
    if (f.child == kApp) app_present_ = true;
    if (f.child == kUnmappedPackage) package_present_ = true;
    return true;
  }
  bool end_object() {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    frames_.push_back({kNone, kNone});
    return true;
  }
  bool end_array() {
    frames_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  bool topIsObject() const { return top_is_object_; }
  // Whether key() needs the key's text (inside a path the store reads), and string() the value's.
  bool wantsKey() const { return frames_.empty() || frames_.back().node != kNone; }
  bool wantsString() const {
    const Node at = current();
    return at >= kInnerCount && at != kUnmappedPackage && !isInteger(at);
  }
  const std::optional<std::string>& text(Node n) const { return text_[n]; }
  std::optional<int64_t> integerAt(Node n) const { return integer_[n]; }
  bool appPresent() const { return app_present_; }
  // `unmapped` is an object with a `package` member (of any type).
  bool packagePresent() const { return package_present_ && unmapped_object_; }

 private:
  struct Frame {
    Node node;   // the object this frame is, in the tree (kNone: not a path the store reads)
    Node child;  // the node of the member being read (kNone: not read)
  };

  static bool isInteger(Node n) {
    return n == kClassUid || n == kSeverityId || n == kTime || n == kActivityId || n == kSequence || n == kExitCode;
  }

  Node current() const {
    if (frames_.empty()) return kNone;
    const Frame& f = frames_.back();
    return f.node == kNone ? kNone : f.child;
  }

  bool integer(int64_t v) {
    const Node at = current();
    if (at != kNone && isInteger(at)) integer_[at] = v;
    return true;
  }

  void clearUnder(Node node) {
    for (int n = kInnerCount; n < kNodeCount; ++n) {
      if (isUnder(static_cast<Node>(n), node)) {
        text_[n].reset();
        integer_[n].reset();
      }
    }
    if (node == kApp) app_present_ = false;
    if (node == kUnmapped || node == kUnmappedPackage) package_present_ = false;
    if (node == kUnmapped) unmapped_object_ = false;
  }

  std::vector<Frame> frames_;
  std::array<std::optional<std::string>, kNodeCount> text_{};
  std::array<std::optional<int64_t>, kNodeCount> integer_{};
  bool top_is_object_ = false;
  bool app_present_ = false;
  bool package_present_ = false;
  bool unmapped_object_ = false;  // the last `unmapped` member is an object
};

// The fast tokenizer: RFC 8259 JSON restricted to ASCII without \u escapes, events delivered to a
// FactsHandler exactly as nlohmann's SAX parser delivers them (numbers classified the same way:
// an integer that overflows int64/uint64 is a float). Returns kDeclined for anything outside that
// subset, and for anything that is not valid JSON (nlohmann then decides what it is).
class FastScanner {
 public:
  enum class Outcome { kParsed, kDeclined };

  FastScanner(std::string_view text, FactsHandler& h) : p_(text.data()), end_(text.data() + text.size()), h_(h) {}

  Outcome run() {
    skipSpace();
    if (!value(0)) return Outcome::kDeclined;
    skipSpace();
    return p_ == end_ ? Outcome::kParsed : Outcome::kDeclined;
  }

 private:
  static constexpr int kMaxDepth = 64;

  void skipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': {
        const bool want = h_.wantsString();
        if (!string(want)) return false;
        if (want) h_.string(scratch_);
        return true;
      }
      case 't': return literal("true") && h_.boolean(true);
      case 'f': return literal("false") && h_.boolean(false);
      case 'n': return literal("null") && h_.null();
      default: return number();
    }
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool object(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;
    h_.start_object(static_cast<std::size_t>(-1));
    skipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return h_.end_object();
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      const bool want = h_.wantsKey();
      if (!string(want)) return false;
      if (want) {
        h_.key(scratch_);
      } else {
        scratch_.clear();
        h_.key(scratch_);
      }
      skipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skipSpace();
      if (!value(depth)) return false;
      skipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        skipSpace();
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      return h_.end_object();
    }
  }

  bool array(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;
    h_.start_array(static_cast<std::size_t>(-1));
    skipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return h_.end_array();
    }
    for (;;) {
      if (!value(depth)) return false;
      skipSpace();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        skipSpace();
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      return h_.end_array();
    }
  }

  // Bytes a string can hold as they are (0), and the ones that stop the run: the closing quote (1),
  // an escape (2), a control byte or a byte over 0x7f (3: invalid, or UTF-8 for nlohmann to check).
  static constexpr std::array<uint8_t, 256> kStringClass = [] {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c >= 0x80 ? 3 : 0;
    t['"'] = 1;
    t['\\'] = 2;
    return t;
  }();

  // A string at p_ (the opening quote); its unescaped text into scratch_ when `keep`.
  bool string(bool keep) {
    ++p_;
    scratch_.clear();
    for (;;) {
      const char* run = p_;
      while (p_ != end_ && kStringClass[static_cast<unsigned char>(*p_)] == 0) ++p_;
      if (p_ == end_) return false;
      if (keep) scratch_.append(run, static_cast<size_t>(p_ - run));
      const uint8_t cls = kStringClass[static_cast<unsigned char>(*p_)];
      if (cls == 1) {
        ++p_;
        return true;
      }
      if (cls == 3) return false;
      if (++p_ == end_) return false;
      char out;
      switch (*p_) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        default: return false;  // \u (or invalid): nlohmann decides
      }
      if (keep) scratch_.push_back(out);
      ++p_;
    }
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool number() {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    const char* int_end = p_;
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (!is_float) {
      // As nlohmann: an integer within uint64 (non-negative) or int64 (negative), else a float.
      uint64_t magnitude = 0;
      bool overflow = false;
      for (const char* d = start + (negative ? 1 : 0); d != int_end; ++d) {
        const auto v = static_cast<uint64_t>(*d - '0');
        if (magnitude > (UINT64_MAX - v) / 10) {
          overflow = true;
          break;
        }
        magnitude = magnitude * 10 + v;
      }
      if (!overflow && !negative) return h_.number_unsigned(magnitude);
      if (!overflow && magnitude <= static_cast<uint64_t>(INT64_MAX) + 1) {
        return h_.number_integer(magnitude == static_cast<uint64_t>(INT64_MAX) + 1
                                     ? INT64_MIN
                                     : -static_cast<int64_t>(magnitude));
      }
    }
    const std::string ignored;
    return h_.number_float(0.0, ignored);
  }

  const char* p_;
  const char* end_;
  FactsHandler& h_;
  std::string scratch_;
};

}  // namespace

StoredEvent extractFacts(StoredEvent e) {
  FactsHandler h;
  if (FastScanner(e.json, h).run() == FastScanner::Outcome::kDeclined) {
    h = FactsHandler();
    if (!json::sax_parse(e.json, &h, json::input_format_t::json, /*strict=*/true)) return e;
  }
  if (!h.topIsObject()) return e;
  auto text = [&](Node n) { return h.text(n).value_or(std::string()); };
  auto integer = [&](Node n) { return h.integerAt(n).value_or(0); };
  if (e.class_uid == 0) e.class_uid = static_cast<int>(integer(kClassUid));
  if (e.severity_id == 0) e.severity_id = static_cast<int>(integer(kSeverityId));
  if (e.time_ms == 0) e.time_ms = integer(kTime);
  if (e.sequence == 0 && integer(kSequence) > 0) e.sequence = static_cast<uint64_t>(integer(kSequence));
  if (e.session_id.empty()) e.session_id = text(kCorrelationUid);
  if (e.domain.empty()) {
    for (Node n : {kDstDomain, kUrlHostname, kQueryHostname, kDstHostname}) {
      e.domain = text(n);
      if (!e.domain.empty()) break;
    }
  }
  if (e.path.empty()) e.path = text(kFilePath);
  const bool pkg = e.kind == "PKG" || (h.packagePresent() && h.appPresent());
  if (e.package.empty() && pkg) e.package = text(kAppName);
  // A tool call is found by `audit query --tool NAME` through the package fact, as "tool:NAME" (no
  // package manager allows ':' in a name, so the two never meet).
  if (e.package.empty() && e.kind == "TOOL" && !text(kApiOperation).empty()) e.package = "tool:" + text(kApiOperation);
  const bool session = e.kind == "SESSION" || (e.kind.empty() && text(kAppName) == "warden-session");
  if (session && integer(kActivityId) == 4) {
    e.session_stop = true;
    if (e.stop_reason.empty()) e.stop_reason = text(kStatusDetail);
    if (!e.exit_code) {
      if (const auto code = h.integerAt(kExitCode); code && *code >= INT32_MIN && *code <= INT32_MAX) {
        e.exit_code = static_cast<int>(*code);
      }
    }
  }
  return e;
}

}  // namespace warden::gateway
