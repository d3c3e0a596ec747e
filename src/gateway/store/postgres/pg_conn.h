#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "gateway/store/query_sql.h"

namespace warden::gateway::pg {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// One libpq connection to `url`, reopened on demand after it broke. Not thread-safe (the store
// serialises calls). Errors: a lost or refused connection, SQLSTATE 08*, 57P0* (shutdown), 53300,
// 40001/40P01 (retryable conflicts) -> Unavailable; 53* -> ResourceExhausted; 22* ->
// InvalidArgument; XX001/XX002 -> DataLoss; 42P01 (no table) -> FailedPrecondition; else Internal.
class Connection {
 public:
  explicit Connection(std::string url) : url_(std::move(url)) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result<void> ensureConnected();
  // Runs `sql` with `params` (integers as text, byte strings in binary format, so bytea and text
  // columns both get the exact bytes); without parameters `sql` may hold several statements.
  // Text-format results.
  Result<PgResult> exec(std::string_view what, const std::string& sql, const std::vector<SqlParam>& params = {});
  // COPY ... FROM STDIN with `data` (already in the COPY format the statement names), in one go.
  Result<void> copyIn(std::string_view what, const std::string& sql, std::string_view data);
  // The URL without its password, for messages.
  std::string redactedUrl() const;

 private:
  std::string url_;
  PGconn* conn_ = nullptr;
};

// Rows in PostgreSQL's binary COPY format (the header at construction, the trailer by finish()).
// Integers are written big-endian as int8/int4/int2; byte strings as they are (bytea, or text whose
// bytes the database encoding accepts).
class BinaryCopy {
 public:
  BinaryCopy();
  void row(int16_t fields);
  void int64(int64_t v);
  void int32(int32_t v);
  void int16(int16_t v);
  void bytes(std::string_view v);
  void null();
  const std::string& finish();

 private:
  void raw(uint64_t v, int size);
  std::string out_;
};

// A bytea column in text output ("\x68656c6c6f") as raw bytes.
std::string decodeBytea(const char* text, int length);
int64_t toInt(const PGresult* r, int row, int col);

}  // namespace warden::gateway::pg
