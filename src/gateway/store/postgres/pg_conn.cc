#include "gateway/store/postgres/pg_conn.h"

#include <cstdlib>
#include <algorithm>
#include <cstring>

namespace warden::gateway::pg {
namespace {

Error mapError(std::string_view sqlstate, std::string message) {
  auto starts = [&](std::string_view p) { return sqlstate.substr(0, p.size()) == p; };
  if (sqlstate.empty() || starts("08") || starts("57P0") || sqlstate == "53300") {
    return unavailable(message + " (the database is unreachable; retry)");
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return unavailable(message + " (conflicting transaction; retry)");
  }
  if (starts("53")) return resourceExhausted(message);
  if (starts("22")) return invalidArgument(message);
  if (sqlstate == "XX001" || sqlstate == "XX002") return dataLoss(message);
  if (sqlstate == "42P01") return failedPrecondition(message + " (run migrate() first)");
  return internalError(message + " [SQLSTATE " + std::string(sqlstate) + "]");
}

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

std::string Connection::redactedUrl() const {
  const auto scheme = url_.find("://");
  const auto at = url_.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url_;
  const auto colon = url_.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url_;
  return url_.substr(0, colon) + ":***" + url_.substr(at);
}

Result<void> Connection::ensureConnected() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) return okResult();
  if (conn_) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  // Keywords are applied in order: the URL (expanded from dbname) overrides these defaults. JIT off:
  // the store's queries are short index probes, for which the planner's JIT cost more than it saves
  // (143 ms of compilation on a 2 s query, BENCHMARKS.md "Incident queries").
  const char* keys[] = {"connect_timeout", "options", "dbname", nullptr};
  const char* values[] = {"5", "-c jit=off", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn_) return resourceExhausted("postgres store: out of memory connecting to " + redactedUrl());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = "postgres store: cannot connect to " + redactedUrl() + ": " + trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    return unavailable(msg);
  }
  // The server's NOTICEs ("relation ... already exists, skipping" from an idempotent migration) are
  // not errors and would otherwise go to stderr, into the middle of the gateway's output.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  return okResult();
}

Result<PgResult> Connection::exec(std::string_view what, const std::string& sql, const std::vector<SqlParam>& params) {
  WARDEN_RETURN_IF_ERROR(ensureConnected());
  std::vector<std::string> ints;
  ints.reserve(params.size());
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].is_int) {
      ints.push_back(std::to_string(params[i].i));
      values[i] = ints.back().c_str();
      formats[i] = 0;
    } else {
      values[i] = params[i].s.c_str();
      lengths[i] = static_cast<int>(params[i].s.size());
      formats[i] = params[i].literal ? 0 : 1;
    }
  }
  // Without parameters, the simple protocol (allows several statements, as migrations need).
  PgResult r(params.empty() ? PQexec(conn_, sql.c_str())
                            : PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                           values.data(), lengths.data(), formats.data(), 0));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = "postgres " + std::string(what) + ": " +
                    trimmed(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK) {
    PQfinish(conn_);
    conn_ = nullptr;
    return unavailable(msg + " (connection to " + redactedUrl() + " lost; retry)");
  }
  return mapError(state ? state : "", std::move(msg));
}

Result<void> Connection::copyIn(std::string_view what, const std::string& sql, std::string_view data) {
  WARDEN_RETURN_IF_ERROR(ensureConnected());
  auto failed = [&](const PGresult* r) -> Error {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = "postgres " + std::string(what) + ": " + trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    if (PQstatus(conn_) != CONNECTION_OK) {
      PQfinish(conn_);
      conn_ = nullptr;
      return unavailable(msg + " (connection to " + redactedUrl() + " lost; retry)");
    }
    return mapError(state ? state : "", std::move(msg));
  };
  {
    PgResult start(PQexec(conn_, sql.c_str()));
    if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) return failed(start.get());
  }
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t at = 0; at < data.size() && sent; at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    sent = PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) == 1;
  }
  const bool ended = PQputCopyEnd(conn_, sent ? nullptr : "the client could not send the rows") == 1;
  Result<void> outcome = okResult();
  bool first = true;
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult r(raw);
    if (first && PQresultStatus(r.get()) != PGRES_COMMAND_OK) outcome = failed(r.get());
    first = false;
  }
  if (outcome.ok() && (!sent || !ended)) outcome = failed(nullptr);
  return outcome;
}

BinaryCopy::BinaryCopy() {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";
  out_.append(kSignature, 11);  // the 11-byte signature, its NUL included
  raw(0, 4);                    // flags
  raw(0, 4);                    // header extension length
}

void BinaryCopy::raw(uint64_t v, int size) {
  for (int i = size - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void BinaryCopy::row(int16_t fields) { raw(static_cast<uint16_t>(fields), 2); }
void BinaryCopy::int64(int64_t v) {
  raw(8, 4);
  raw(static_cast<uint64_t>(v), 8);
}
void BinaryCopy::int32(int32_t v) {
  raw(4, 4);
  raw(static_cast<uint32_t>(v), 4);
}
void BinaryCopy::int16(int16_t v) {
  raw(2, 4);
  raw(static_cast<uint16_t>(v), 2);
}
void BinaryCopy::bytes(std::string_view v) {
  raw(static_cast<uint32_t>(v.size()), 4);
  out_.append(v);
}
void BinaryCopy::null() { raw(0xffffffffu, 4); }
const std::string& BinaryCopy::finish() {
  raw(0xffffu, 2);
  return out_;
}

std::string decodeBytea(const char* text, int length) {
  std::string out;
  if (length < 2 || text[0] != '\\' || text[1] != 'x') return std::string(text, static_cast<size_t>(length));
  out.reserve(static_cast<size_t>(length - 2) / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  for (int i = 2; i + 1 < length; i += 2) out.push_back(static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  return out;
}

int64_t toInt(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return 0;
  return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}

}  // namespace warden::gateway::pg
