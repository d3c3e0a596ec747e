#include "audit/verify_line.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/encoding.h"

namespace warden::audit::verify_line {

void ParsedLine::reset() {
  root_object = has_seq = has_session = has_prev = has_class = has_activity = has_time = false;
  has_checkpoint = has_signing_key = has_loss = seq_mistyped = false;
  seq = 0;
  class_uid = activity_id = time = 0;
  session.clear();
  prev.clear();
  message.clear();
  state.clear();
  activity_name.clear();
  checkpoint = {};
  signing_key = {};
  loss = {};
}

namespace {

// Which object the parser is inside.
enum class Ctx : uint8_t { kIgnore, kRoot, kMetadata, kUnmapped, kIntegrity, kCheckpoint, kSigningKey, kLoss, kArray };

// Which member's value comes next.
enum class Key : uint8_t {
  kNone, kClassUid, kActivityId, kActivityName, kTime, kMessage, kMetadata, kUnmapped, kSequence, kCorrelationUid,
  kIntegrity, kState, kCheckpoint, kSigningKey, kLoss, kPrev, kCpFirst, kCpLast, kCpHead, kCpKeyId, kCpSignature,
  kCpFinal, kSkAlgorithm, kSkPublicKey, kSkKeyId, kLossCount, kLossFirst, kLossLast,
};

Key classify(Ctx ctx, std::string_view k) {
  switch (ctx) {
    case Ctx::kRoot:
      if (k == "class_uid") return Key::kClassUid;
      if (k == "activity_id") return Key::kActivityId;
      if (k == "activity_name") return Key::kActivityName;
      if (k == "time") return Key::kTime;
      if (k == "message") return Key::kMessage;
      if (k == "metadata") return Key::kMetadata;
      if (k == "unmapped") return Key::kUnmapped;
      return Key::kNone;
    case Ctx::kMetadata:
      if (k == "sequence") return Key::kSequence;
      if (k == "correlation_uid") return Key::kCorrelationUid;
      return Key::kNone;
    case Ctx::kUnmapped:
      if (k == "integrity") return Key::kIntegrity;
      if (k == "state") return Key::kState;
      if (k == "checkpoint") return Key::kCheckpoint;
      if (k == "signing_key") return Key::kSigningKey;
      if (k == "loss") return Key::kLoss;
      return Key::kNone;
    case Ctx::kIntegrity:
      return k == "prev" ? Key::kPrev : Key::kNone;
    case Ctx::kCheckpoint:
      if (k == "first_seq") return Key::kCpFirst;
      if (k == "last_seq") return Key::kCpLast;
      if (k == "head") return Key::kCpHead;
      if (k == "key_id") return Key::kCpKeyId;
      if (k == "signature") return Key::kCpSignature;
      if (k == "final") return Key::kCpFinal;
      return Key::kNone;
    case Ctx::kSigningKey:
      if (k == "algorithm") return Key::kSkAlgorithm;
      if (k == "public_key") return Key::kSkPublicKey;
      if (k == "key_id") return Key::kSkKeyId;
      return Key::kNone;
    case Ctx::kLoss:
      if (k == "count") return Key::kLossCount;
      if (k == "first_seq") return Key::kLossFirst;
      if (k == "last_seq") return Key::kLossLast;
      return Key::kNone;
    default:
      return Key::kNone;
  }
}

// ----- Storing values: shared by both parsers so they read a line identically. -----

void putUnsigned(ParsedLine& out, Key key, uint64_t v) {
  constexpr uint64_t kMaxI64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  switch (key) {
    case Key::kSequence: out.seq = v; out.has_seq = true; break;
    case Key::kClassUid: if (v <= kMaxI64) { out.class_uid = static_cast<int64_t>(v); out.has_class = true; } break;
    case Key::kActivityId: if (v <= kMaxI64) { out.activity_id = static_cast<int64_t>(v); out.has_activity = true; } break;
    case Key::kTime: if (v <= kMaxI64) { out.time = static_cast<int64_t>(v); out.has_time = true; } break;
    case Key::kCpFirst: out.checkpoint.first_seq = v; out.checkpoint.has_first = true; break;
    case Key::kCpLast: out.checkpoint.last_seq = v; out.checkpoint.has_last = true; break;
    case Key::kLossCount: out.loss.count = v; break;
    case Key::kLossFirst: out.loss.first_seq = v; break;
    case Key::kLossLast: out.loss.last_seq = v; break;
    default: break;
  }
}

void putInteger(ParsedLine& out, Key key, int64_t v) {
  if (v >= 0) return putUnsigned(out, key, static_cast<uint64_t>(v));
  switch (key) {
    case Key::kClassUid: out.class_uid = v; out.has_class = true; break;
    case Key::kActivityId: out.activity_id = v; out.has_activity = true; break;
    case Key::kTime: out.time = v; out.has_time = true; break;
    case Key::kSequence: out.seq_mistyped = true; break;
    default: break;
  }
}

void putString(ParsedLine& out, Key key, std::string&& v) {
  switch (key) {
    case Key::kActivityName: out.activity_name = std::move(v); break;
    case Key::kMessage: out.message = std::move(v); break;
    case Key::kCorrelationUid: out.session = std::move(v); out.has_session = true; break;
    case Key::kState: out.state = std::move(v); break;
    case Key::kPrev: out.prev = std::move(v); out.has_prev = true; break;
    case Key::kCpHead: out.checkpoint.head = std::move(v); break;
    case Key::kCpKeyId: out.checkpoint.key_id = std::move(v); break;
    case Key::kCpSignature: out.checkpoint.signature = std::move(v); break;
    case Key::kSkAlgorithm: out.signing_key.algorithm = std::move(v); break;
    case Key::kSkPublicKey: out.signing_key.public_key = std::move(v); break;
    case Key::kSkKeyId: out.signing_key.key_id = std::move(v); break;
    case Key::kSequence: out.seq_mistyped = true; break;
    default: break;
  }
}

void putBool(ParsedLine& out, Key key, bool v) {
  if (key == Key::kCpFinal) {
    out.checkpoint.final = v;
    out.checkpoint.has_final = true;
  }
}

// Something that is not a number or string where a tracked scalar was expected.
void putOther(ParsedLine& out, Key key) {
  if (key == Key::kSequence) out.seq_mistyped = true;
}

// The object a member opens, if it is one we track.
Ctx childContext(ParsedLine& out, Key key) {
  switch (key) {
    case Key::kMetadata: return Ctx::kMetadata;
    case Key::kUnmapped: return Ctx::kUnmapped;
    case Key::kIntegrity: return Ctx::kIntegrity;
    case Key::kCheckpoint: out.has_checkpoint = true; return Ctx::kCheckpoint;
    case Key::kSigningKey: out.has_signing_key = true; return Ctx::kSigningKey;
    case Key::kLoss: out.has_loss = true; return Ctx::kLoss;
    default: return Ctx::kIgnore;
  }
}

bool tracked(Ctx c) { return c != Ctx::kIgnore && c != Ctx::kArray; }

// ----- The full parser -----

// nlohmann::json SAX handler filling a ParsedLine. Never throws; a syntax error ends the parse
// (sax_parse returns false) and the message is kept.
class LineSax {
 public:
  using json = nlohmann::json;
  explicit LineSax(ParsedLine& out) : out_(out) { stack_.reserve(16); }
  const std::string& error() const { return error_; }

  bool null() { return scalarOther(); }
  bool boolean(bool v) {
    if (inTracked()) putBool(out_, key_, v);
    return scalarOther();
  }
  bool number_integer(int64_t v) {
    if (inTracked()) putInteger(out_, key_, v);
    return true;
  }
  bool number_unsigned(uint64_t v) {
    if (inTracked()) putUnsigned(out_, key_, v);
    return true;
  }
  bool number_float(double, const std::string&) { return scalarOther(); }
  bool string(std::string& v) {
    if (inTracked()) putString(out_, key_, std::move(v));
    return true;
  }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) {
    Ctx child = Ctx::kIgnore;
    if (stack_.empty()) {
      child = Ctx::kRoot;
      out_.root_object = true;
    } else if (inTracked()) {
      putOther(out_, key_);
      child = childContext(out_, key_);
    }
    stack_.push_back(child);
    key_ = Key::kNone;
    return true;
  }
  bool end_object() { return pop(); }
  bool start_array(std::size_t) {
    if (inTracked()) putOther(out_, key_);
    stack_.push_back(Ctx::kArray);
    key_ = Key::kNone;
    return true;
  }
  bool end_array() { return pop(); }
  bool key(std::string& k) {
    key_ = stack_.empty() ? Key::kNone : classify(stack_.back(), k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."; keep the tail.
    std::string_view what = e.what();
    const auto colon = what.find("] ");
    if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
    error_ = fmt::format("not valid JSON at byte {}: {}", position, what.substr(0, 160));
    return false;
  }

 private:
  bool inTracked() const { return !stack_.empty() && tracked(stack_.back()); }
  bool scalarOther() {
    if (inTracked()) putOther(out_, key_);
    return true;
  }
  bool pop() {
    if (!stack_.empty()) stack_.pop_back();
    key_ = Key::kNone;
    return true;
  }

  ParsedLine& out_;
  std::vector<Ctx> stack_;
  Key key_ = Key::kNone;
  std::string error_;
};

// ----- The fast path -----

// Recursive descent over one line. Strict: every rule of RFC 8259 that nlohmann::json enforces
// (string escapes, control characters, UTF-8 as RFC 3629, number grammar, literals, nothing after
// the root) is enforced here; what it does not handle it declines (returns false).
class FastScanner {
 public:
  explicit FastScanner(ParsedLine& out) : out_(out) {}

  bool scan(std::string_view s) {
    p_ = s.data();
    end_ = s.data() + s.size();
    skipWs();
    if (p_ == end_ || *p_ != '{') return false;
    out_.root_object = true;
    if (!object(Ctx::kRoot, 1)) return false;
    skipWs();
    return p_ == end_;
  }

 private:
  static constexpr int kMaxDepth = 64;

  void skipWs() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool object(Ctx ctx, int depth) {
    ++p_;  // '{'
    skipWs();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      const char* kb;
      const char* ke;
      bool esc;
      if (!string(kb, ke, esc)) return false;
      Key key = Key::kNone;
      if (tracked(ctx)) {
        if (esc) {
          std::string k;
          if (!unescape(kb, ke, k)) return false;
          key = classify(ctx, k);
        } else {
          key = classify(ctx, std::string_view(kb, static_cast<size_t>(ke - kb)));
        }
      }
      skipWs();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skipWs();
      if (!value(ctx, key, depth)) return false;
      skipWs();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        skipWs();
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      return false;
    }
  }

  bool array(int depth) {
    ++p_;  // '['
    skipWs();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!value(Ctx::kArray, Key::kNone, depth)) return false;
      skipWs();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        skipWs();
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return false;
    }
  }

  bool value(Ctx parent, Key key, int depth) {
    if (p_ == end_) return false;
    const bool t = tracked(parent);
    switch (*p_) {
      case '{': {
        if (depth >= kMaxDepth) return false;
        Ctx child = Ctx::kIgnore;
        if (t) {
          putOther(out_, key);
          child = childContext(out_, key);
        }
        return object(child, depth + 1);
      }
      case '[':
        if (depth >= kMaxDepth) return false;
        if (t) putOther(out_, key);
        return array(depth + 1);
      case '"': {
        const char* b;
        const char* e;
        bool esc;
        if (!string(b, e, esc)) return false;
        if (t && key != Key::kNone) {
          std::string v;
          if (esc) {
            if (!unescape(b, e, v)) return false;
          } else {
            v.assign(b, static_cast<size_t>(e - b));
          }
          putString(out_, key, std::move(v));
        }
        return true;
      }
      case 't':
        if (!literal("true")) return false;
        if (t) {
          putBool(out_, key, true);
          putOther(out_, key);
        }
        return true;
      case 'f':
        if (!literal("false")) return false;
        if (t) {
          putBool(out_, key, false);
          putOther(out_, key);
        }
        return true;
      case 'n':
        if (!literal("null")) return false;
        if (t) putOther(out_, key);
        return true;
      default:
        return number(t ? key : Key::kNone);
    }
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool number(Key key) {
    const char* start = p_;
    const bool negative = p_ < end_ && *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !digit(*p_)) return false;
    uint64_t v = 0;
    bool overflow = false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && digit(*p_)) {
        const uint64_t d = static_cast<uint64_t>(*p_ - '0');
        if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) overflow = true;
        v = v * 10 + d;
        ++p_;
      }
    }
    bool is_float = false;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ < end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ < end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (is_float) {
      // nlohmann::json rejects a float that overflows to infinity; so must we.
      const std::string token(start, p_);
      if (!std::isfinite(std::strtod(token.c_str(), nullptr))) return false;
      putOther(out_, key);
      return true;
    }
    if (overflow) return false;  // nlohmann reads it as a double; leave that to the full parser
    if (negative) {
      constexpr uint64_t kMinMagnitude = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
      if (v > kMinMagnitude) return false;
      if (v == 0) {
        putUnsigned(out_, key, 0);  // "-0": nlohmann reports an integer 0
        return true;
      }
      putInteger(out_, key, v == kMinMagnitude ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v));
      return true;
    }
    putUnsigned(out_, key, v);
    return true;
  }

  static bool cont(const char* p, const char* end, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    if (p >= end) return false;
    const auto c = static_cast<unsigned char>(*p);
    return c >= lo && c <= hi;
  }

  // At '"': finds the closing quote, validating escapes, control characters and UTF-8.
  // [b, e) is the raw content; `esc` says whether it holds escapes.
  bool string(const char*& b, const char*& e, bool& esc) {
    ++p_;
    b = p_;
    esc = false;
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        e = p_;
        ++p_;
        return true;
      }
      if (c == '\\') {
        esc = true;
        if (p_ + 1 >= end_) return false;
        const char n = p_[1];
        if (n == '"' || n == '\\' || n == '/' || n == 'b' || n == 'f' || n == 'n' || n == 'r' || n == 't') {
          p_ += 2;
          continue;
        }
        if (n != 'u' || end_ - p_ < 6) return false;
        int cp = 0;
        for (int i = 2; i < 6; ++i) {
          const int h = hexDigitValue(p_[i]);
          if (h < 0) return false;
          cp = cp * 16 + h;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogates: the full parser's job
        p_ += 6;
        continue;
      }
      if (c < 0x20) return false;
      if (c < 0x80) {
        ++p_;
        continue;
      }
      // UTF-8, the ranges of RFC 3629 (as nlohmann::json checks them).
      if (c >= 0xC2 && c <= 0xDF) {
        if (!cont(p_ + 1, end_)) return false;
        p_ += 2;
      } else if (c == 0xE0) {
        if (!cont(p_ + 1, end_, 0xA0) || !cont(p_ + 2, end_)) return false;
        p_ += 3;
      } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        if (!cont(p_ + 1, end_) || !cont(p_ + 2, end_)) return false;
        p_ += 3;
      } else if (c == 0xED) {
        if (!cont(p_ + 1, end_, 0x80, 0x9F) || !cont(p_ + 2, end_)) return false;
        p_ += 3;
      } else if (c == 0xF0) {
        if (!cont(p_ + 1, end_, 0x90) || !cont(p_ + 2, end_) || !cont(p_ + 3, end_)) return false;
        p_ += 4;
      } else if (c >= 0xF1 && c <= 0xF3) {
        if (!cont(p_ + 1, end_) || !cont(p_ + 2, end_) || !cont(p_ + 3, end_)) return false;
        p_ += 4;
      } else if (c == 0xF4) {
        if (!cont(p_ + 1, end_, 0x80, 0x8F) || !cont(p_ + 2, end_) || !cont(p_ + 3, end_)) return false;
        p_ += 4;
      } else {
        return false;
      }
    }
    return false;
  }

  // Decodes a validated string body (no surrogate escapes) into UTF-8.
  static bool unescape(const char* b, const char* e, std::string& out) {
    out.clear();
    out.reserve(static_cast<size_t>(e - b));
    for (const char* p = b; p < e;) {
      if (*p != '\\') {
        out.push_back(*p++);
        continue;
      }
      const char n = p[1];
      switch (n) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = 0;
          for (int i = 2; i < 6; ++i) cp = cp * 16 + static_cast<unsigned>(hexDigitValue(p[i]));
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          p += 6;
          continue;
        }
        default: return false;
      }
      p += 2;
    }
    return true;
  }

  ParsedLine& out_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
};

}  // namespace

bool scanLineFast(std::string_view line, ParsedLine& out) { return FastScanner(out).scan(line); }

bool parseLineFull(std::string_view line, ParsedLine& out, std::string& error) {
  LineSax sax(out);
  if (!nlohmann::json::sax_parse(line.data(), line.data() + line.size(), &sax)) {
    error = sax.error().empty() ? std::string("not valid JSON") : sax.error();
    return false;
  }
  return true;
}

bool parseLine(std::string_view line, ParsedLine& out, std::string& error) {
  out.reset();
  if (scanLineFast(line, out)) return true;
  out.reset();
  return parseLineFull(line, out, error);
}

}  // namespace warden::audit::verify_line
