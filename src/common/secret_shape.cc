#include "common/secret_shape.h"

#include <algorithm>
#include <array>

namespace warden {

namespace {

char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
// Bytes a token is made of: base64, base64url, hex and the separators providers use.
bool isTokenChar(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '+' || c == '/' || c == '=' || c == '.'; }

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (lowerAscii(s[i]) != lowerAscii(prefix[i])) return false;
  }
  return true;
}

bool allTokenChars(std::string_view s) {
  for (char c : s) {
    if (!isTokenChar(c)) return false;
  }
  return true;
}

// "a long run of token characters mixing letters and digits": random API keys, hex digests of
// secrets, base64 blobs. Words (only letters) and numbers are not; nor are paths and dotted names
// ("/var/tmp/build-2024/src/module_v2/file_01.py"): a secret has a long stretch without '/' or '.'
// (24 bytes; base64 puts a '/' in every 64 characters on average), a path is short segments.
bool isHighEntropyToken(std::string_view s) {
  if (s.size() < 32 || !allTokenChars(s)) return false;
  size_t letters = 0;
  size_t digits = 0;
  size_t stretch = 0;
  size_t longest = 0;
  for (char c : s) {
    letters += isAlpha(c) ? 1 : 0;
    digits += isDigit(c) ? 1 : 0;
    stretch = (c == '/' || c == '.') ? 0 : stretch + 1;
    longest = std::max(longest, stretch);
  }
  return letters >= 4 && digits >= 4 && longest >= 24;
}

bool isJwt(std::string_view s) {
  if (!startsWith(s, "eyJ")) return false;
  size_t dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (!(isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '=')) {
      return false;
    }
  }
  return dots == 2 && s.size() >= 20;
}

}  // namespace

bool isSecretKeyName(std::string_view key) {
  // Normalised: lower case, '-' as '_'. A secret word must be the whole key or a '_'-separated part
  // of it ("github_token", "x-api-key"), so "tokenizer" or "author" do not match.
  std::string k;
  k.reserve(key.size());
  for (char c : key) k.push_back(c == '-' ? '_' : lowerAscii(c));
  static constexpr std::array<std::string_view, 20> kWords = {
      "password", "passwd",     "pass",          "secret",     "token",   "apikey",  "api_key",
      "auth",     "authorization", "cookie",     "credential", "credentials", "private_key", "privatekey",
      "access_key", "secret_key", "client_secret", "session",  "bearer",  "signature"};
  for (std::string_view w : kWords) {
    size_t pos = 0;
    while ((pos = k.find(w, pos)) != std::string::npos) {
      const bool left = pos == 0 || k[pos - 1] == '_';
      const bool right = pos + w.size() == k.size() || k[pos + w.size()] == '_';
      if (left && right) return true;
      ++pos;
    }
  }
  return false;
}

bool looksLikeSecret(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '"' || v.back() == '\'' || v.back() == ',')) v.remove_suffix(1);
  if (v.empty()) return false;
  if (v.find("PRIVATE KEY-----") != std::string_view::npos) return true;
  if (startsWithIgnoreCase(v, "bearer ") || startsWithIgnoreCase(v, "basic ")) return v.size() > 10;
  static constexpr std::array<std::string_view, 17> kPrefixes = {
      "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxa-", "xoxb-",
      "xoxp-", "xoxr-", "AIza", "hf_", "npm_", "pypi-", "warden-cred-"};
  for (std::string_view p : kPrefixes) {
    if (startsWith(v, p) && v.size() >= p.size() + 8 && allTokenChars(v)) return true;
  }
  if ((startsWith(v, "AKIA") || startsWith(v, "ASIA")) && v.size() == 20 && allTokenChars(v)) return true;
  if (isJwt(v)) return true;
  return isHighEntropyToken(v);
}

namespace {

bool isPieceChar(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/'; }

// One whitespace-free word: every piece (a run of token characters) that looks like a secret, or
// that follows a secret key name and a ':' or '=' ("api_key":"x", token=x), becomes "[redacted]".
// *key_pending carries "the last piece was a secret key" into the next word ("password: hunter2").
std::string redactWord(std::string_view word, bool* key_pending) {
  if (looksLikeSecret(word)) {
    *key_pending = false;
    return std::string(kRedacted);
  }
  std::string out;
  out.reserve(word.size());
  bool pending = *key_pending;
  bool saw_separator = *key_pending;  // a key that ended the previous word had its ':' there
  size_t i = 0;
  while (i < word.size()) {
    if (!isPieceChar(word[i])) {
      if (word[i] == ':' || word[i] == '=') saw_separator = true;
      out.push_back(word[i++]);
      continue;
    }
    size_t end = i;
    while (end < word.size() && isPieceChar(word[end])) ++end;
    // base64 padding belongs to the piece.
    while (end < word.size() && word[end] == '=' && end + 1 <= word.size() && (end + 1 == word.size() || !isPieceChar(word[end + 1]))) ++end;
    const std::string_view piece = word.substr(i, end - i);
    if ((pending && saw_separator) || looksLikeSecret(piece)) {
      out.append(kRedacted);
      pending = false;
    } else {
      out.append(piece);
      pending = isSecretKeyName(piece);
    }
    saw_separator = false;
    i = end;
  }
  // Into the next word only as "key:" / "key=" at the end of this one.
  *key_pending = pending && saw_separator;
  return out;
}

}  // namespace

std::string redactSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  bool key_pending = false;  // the previous word ended with a secret key name ("password:", "x-api-key:")
  while (i < text.size()) {
    const size_t start = text.find_first_not_of(" \t\r\n", i);
    out.append(text.substr(i, (start == std::string_view::npos ? text.size() : start) - i));
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    out.append(redactWord(text.substr(start, end - start), &key_pending));
    i = end;
  }
  return out;
}

}  // namespace warden
