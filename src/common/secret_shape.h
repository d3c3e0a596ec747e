#pragma once

// What looks like a secret in data Warden records (command lines, MCP tool arguments, model
// prompts and answers, provider errors): a value under a secret-sounding key, or a value shaped like a token.
// Used to redact before anything reaches an event; a false positive costs a "[redacted]", a false
// negative a leaked secret, so the shapes lean wide. Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace warden {

inline constexpr std::string_view kRedacted = "[redacted]";

// Key names whose values are secrets whatever they look like: password, passwd, secret, token,
// api_key/apikey/api-key, authorization, auth, cookie, credential(s), private_key, access_key,
// client_secret, session... (case-insensitive, '-' and '_' alike, as a whole word of the key).
bool isSecretKeyName(std::string_view key);

// A value shaped like a credential: a known token prefix (sk-, sk-ant-, ghp_, gho_, ghu_, ghs_,
// github_pat_, glpat-, xox[abpr]-, AKIA/ASIA + 16, AIza, hf_, npm_, pypi-, warden-cred-), a JWT
// (three base64url parts starting eyJ), a PEM private key, a "Bearer"/"Basic" credential, or a long
// (>= 32 bytes) run of token characters mixing letters and digits.
bool looksLikeSecret(std::string_view value);

// `text` with every whitespace-separated word (and key=value / "key": value pair) that looks like
// a secret replaced by "[redacted]". Used on free text: prompts, completions, error messages.
std::string redactSecrets(std::string_view text);

}  // namespace warden
