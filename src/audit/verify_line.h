#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace warden::audit::verify_line {

// The fields of one JSONL line that `warden audit verify` needs, and the two parsers that fill
// them. Internal to the verifier (and its tests and fuzz target); not a general JSON API.

struct CheckpointFields {
  bool has_first = false, has_last = false, has_final = false;
  uint64_t first_seq = 0, last_seq = 0;
  bool final = false;
  std::string head, key_id, signature;
  int64_t time = 0;  // the checkpoint event's `time`, filled in by the verifier
};

struct SigningKeyFields {
  std::string algorithm, public_key, key_id;
};

struct LossFields {
  uint64_t count = 0, first_seq = 0, last_seq = 0;
};

// Filled by a parse; reset() between lines keeps string capacity. For duplicate keys the last
// value wins; values of the wrong type leave a field unset (seq_mistyped notes a bad sequence).
struct ParsedLine {
  bool root_object = false;
  bool has_seq = false, has_session = false, has_prev = false, has_class = false, has_activity = false,
       has_time = false, has_checkpoint = false, has_signing_key = false, has_loss = false;
  bool seq_mistyped = false;
  uint64_t seq = 0;
  int64_t class_uid = 0, activity_id = 0, time = 0;
  std::string session, prev, message, state, activity_name;
  CheckpointFields checkpoint;
  SigningKeyFields signing_key;
  LossFields loss;

  void reset();
};

// The fast path: a strict single-pass scanner for well-formed JSON that copies only the fields
// above. Returns false when it cannot vouch for the line — invalid JSON, but also anything it
// leaves to the full parser (UTF-16 surrogate escapes, integers beyond 64 bits, nesting deeper
// than 64, a root that is not an object). It never accepts text nlohmann::json rejects, and
// what it accepts it reads exactly as parseLineFull() does. `out` is unspecified after false.
bool scanLineFast(std::string_view line, ParsedLine& out);

// The full parser: nlohmann::json SAX (non-throwing). False with `error` set ("not valid JSON at
// byte N: …") when the line is not JSON.
bool parseLineFull(std::string_view line, ParsedLine& out, std::string& error);

// scanLineFast(), falling back to parseLineFull(). Resets `out` first.
bool parseLine(std::string_view line, ParsedLine& out, std::string& error);

}  // namespace warden::audit::verify_line
