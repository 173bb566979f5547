#include "store/pg.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace carbon::store {
namespace {

bool succeeded(const PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

namespace {

/// libpq's messages end in a newline.
void trim_trailing_newlines(std::string& message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
}

}  // namespace

bool database_reachable(const std::string& conninfo) {
  // Bounded as connect_bounded: a frozen server accepts the TCP connection and never answers.
  const char* const keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {"2", conninfo.c_str(), nullptr};
  return PQpingParams(keywords, values, 1) == PQPING_OK;
}

namespace {

/// Settings every connection of carbond's makes its own, whatever the database's or role's defaults:
/// - standard_conforming_strings on (PostgreSQL's default): the journal's statements escape only quotes in
///   their text literals (and arrays double backslashes), which read as written only with it on;
/// - client_encoding UTF8: carbond's strings are UTF-8, and the audit log's hashes are of UTF-8 bytes
///   (migration 0024; store::audit_chain_hash hashes the text as received);
/// - bytea_output hex: from_bytea_text and hash_column read only the hex form;
/// - default_transaction_isolation read committed: the audit log's chain trigger links a record to the last one
///   committed, which a transaction's snapshot taken before the writers' lock would not show (the trigger
///   refuses a record under any other isolation).
/// One round trip per connection.
bool session_settings(PGconn* conn, std::string& error) {
  PgResult set(PQexec(conn, "SET standard_conforming_strings = on; SET client_encoding = 'UTF8';"
                            " SET bytea_output = 'hex'; SET default_transaction_isolation = 'read committed'"));
  if (PQresultStatus(set.get()) == PGRES_COMMAND_OK) return true;
  error = std::string("cannot apply carbond's session settings (standard_conforming_strings, client_encoding, "
                      "bytea_output, default_transaction_isolation): ") + PQerrorMessage(conn);
  return false;
}

bool durable_commits(PGconn* conn, std::string& error) {
  PgResult set(PQexec(conn, kDurableCommitsSql));
  if (PQresultStatus(set.get()) == PGRES_TUPLES_OK) return true;
  error = std::string("cannot set synchronous_commit = on: ") + PQerrorMessage(conn);
  return false;
}

}  // namespace

std::string conninfo_for_logs(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return "a connection string libpq cannot parse";
  }
  std::string out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "password") continue;
    if (!out.empty()) out += ' ';
    out += std::string(o->keyword) + "=" + o->val;
  }
  PQconninfoFree(options);
  return out;
}

PgConn connect_or_throw(const std::string& conninfo) {
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to PostgreSQL (" + conninfo_for_logs(conninfo) +
                             "): " + (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  if (std::string error; !session_settings(conn.get(), error) || !durable_commits(conn.get(), error)) {
    throw std::runtime_error(error);
  }
  return conn;
}

PgConn connect_bounded(const std::string& conninfo, std::string& error) {
  // expand_dbname = 1: `conninfo` (the dbname value) is itself a connection
  // string whose settings override the keywords before it.
  const char* const keywords[] = {"connect_timeout", "tcp_user_timeout", "dbname", nullptr};
  const char* const values[] = {"5", "10000", conninfo.c_str(), nullptr};
  PgConn conn(PQconnectdbParams(keywords, values, 1));
  if (conn && PQstatus(conn.get()) == CONNECTION_OK) {
    std::string refused;
    if (session_settings(conn.get(), refused)) return conn;
    error = std::move(refused);
  } else {
    error = conn ? PQerrorMessage(conn.get()) : "out of memory";
  }
  trim_trailing_newlines(error);
  return nullptr;
}

bool exec_until(PGconn* conn, const std::string& sql, const std::vector<std::string>& params,
                std::chrono::steady_clock::time_point deadline, PgResult& out) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  out.reset();
  const int sent = params.empty() ? PQsendQuery(conn, sql.c_str())
                                  : PQsendQueryParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                                      values.data(), nullptr, nullptr, 0);
  if (sent == 0) return true;  // not sent: no result, and PQerrorMessage says why
  for (;;) {
    if (PQisBusy(conn) != 0) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::shutdown(PQsocket(conn), SHUT_RDWR);
        out.reset();
        return false;
      }
      pollfd waiting{PQsocket(conn), POLLIN, 0};
      if (::poll(&waiting, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1'000))) < 0 && errno != EINTR) {
        out.reset();  // no result (not an earlier statement's): the caller reports PQerrorMessage
        return true;
      }
      if (PQconsumeInput(conn) == 0) {
        out.reset();
        return true;
      }
      continue;
    }
    PGresult* next = PQgetResult(conn);
    if (next == nullptr) return true;
    out.reset(next);  // the last statement's result is kept (an error ends the string of statements)
  }
}

Status open_read_snapshot(const std::string& conninfo, PgConn& conn) {
  std::string message;
  conn = connect_bounded(conninfo, message);
  if (!conn) return Status{ErrorCode::unavailable, "database unreachable: " + message};
  PgResult begin;
  if (!exec_until(conn.get(), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {},
                 std::chrono::steady_clock::now() + kReadTimeout, begin)) {
    return Status{ErrorCode::unavailable, "the database did not answer within " +
                                              std::to_string(kReadTimeout.count()) + " ms; the read was abandoned"};
  }
  if (PQresultStatus(begin.get()) != PGRES_COMMAND_OK) return status_from_result(begin.get(), conn.get());
  return Status::ok();
}

Status read_query(PGconn* conn, const std::string& sql, const std::vector<std::string>& params, PgResult& out,
                  std::chrono::milliseconds limit) {
  if (!exec_until(conn, sql, params, std::chrono::steady_clock::now() + limit, out)) {
    return Status{ErrorCode::unavailable, "the database did not answer within " + std::to_string(limit.count()) +
                                              " ms; the read was abandoned"};
  }
  if (PQresultStatus(out.get()) != PGRES_TUPLES_OK) return status_from_result(out.get(), conn);
  return Status::ok();
}

PgResult exec_or_throw(PGconn* conn, const std::string& sql, const char* what) {
  PgResult result(PQexec(conn, sql.c_str()));
  if (!result || !succeeded(result.get())) {
    throw std::runtime_error(std::string(what) + ": " + PQerrorMessage(conn));
  }
  return result;
}

Status first_id_after(PGconn* conn, const std::string& table, const std::string& id_column, std::uint64_t sequence,
                      std::uint64_t& first) {
  PgResult r;
  if (Status s = read_query(conn, "SELECT COALESCE(MAX(" + id_column + "), 0) FROM " + table, {}, r); !s.is_ok()) {
    return s;
  }
  std::uint64_t low = 1, high = std::strtoull(PQgetvalue(r.get(), 0, 0), nullptr, 10) + 1;
  const std::string at_sql = "SELECT sequence FROM " + table + " WHERE " + id_column + " = $1";
  first = 1;
  while (low < high) {
    const std::uint64_t middle = low + (high - low) / 2;
    if (Status s = read_query(conn, at_sql, {std::to_string(middle)}, r); !s.is_ok()) return s;
    if (PQntuples(r.get()) != 1) return Status::ok();  // not dense after all: read from the start
    if (std::strtoull(PQgetvalue(r.get(), 0, 0), nullptr, 10) > sequence) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  first = low;
  return Status::ok();
}

PgResult exec_params_or_throw(PGconn* conn, const std::string& sql, const std::vector<std::optional<std::string>>& params,
                              const char* what) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult result(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                               nullptr, 0));
  if (!result || !succeeded(result.get())) {
    throw std::runtime_error(std::string(what) + ": " + PQerrorMessage(conn));
  }
  return result;
}

Status status_from_result(const PGresult* result, PGconn* conn) {
  const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  trim_trailing_newlines(message);
  if (PQstatus(conn) != CONNECTION_OK || sqlstate == nullptr) {
    return Status{ErrorCode::unavailable, "database unreachable: " + message};
  }
  const std::string klass(sqlstate, 2);
  // Passing conditions, retried: connection (08), operator intervention (57), resources (53), rollbacks (40),
  // a lock not available (55P03), a read-only transaction (25006: a standby, before or after a failover) and
  // an I/O error of the server (58030). (A batch whose COMMIT landed all the same is recognised on retry.)
  const std::string_view state(sqlstate);
  if (klass == "08" || klass == "57" || klass == "53" || klass == "40" || state == "55P03" || state == "25006" ||
      state == "58030") {
    return Status{ErrorCode::unavailable, "database unavailable (" + std::string(sqlstate) + "): " + message};
  }
  if (klass == "23") return Status{ErrorCode::failed_precondition, "constraint violated: " + message};
  return Status{ErrorCode::internal, "database error " + std::string(sqlstate) + ": " + message};
}

std::string to_bytea_literal(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 15]);
  }
  return out;
}

std::vector<unsigned char> from_bytea_text(const char* text) {
  std::vector<unsigned char> out;
  if (text == nullptr || std::strncmp(text, "\\x", 2) != 0) return out;
  for (const char* p = text + 2; p[0] != '\0' && p[1] != '\0'; p += 2) {
    const int hi = hex_value(p[0]);
    const int lo = hex_value(p[1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::array<std::uint8_t, 32>> hash_column(const PGresult* result, int row, int col) {
  if (PQgetisnull(result, row, col)) return std::nullopt;
  const std::vector<unsigned char> bytes = from_bytea_text(PQgetvalue(result, row, col));
  std::array<std::uint8_t, 32> out{};
  if (bytes.size() != out.size()) return std::nullopt;
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}

}  // namespace carbon::store
