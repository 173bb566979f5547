#pragma once
/// libpq behind small RAII types. Only src/store links libpq.

#include <libpq-fe.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace carbon::store {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
/// An owned connection.
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
/// An owned result.
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

/// The advisory lock every journal writer connection holds in shared mode
/// for as long as it lives (PostgresJournal::connect_if_needed), and a
/// running carbond on one more connection from its start. A start takes it
/// exclusively before its migrations and reading the state
/// (take_journal_writer_lock): a connection of a carbond killed mid-commit
/// lives on in the server until its transaction ends, and the state must be
/// read after that, not before.
inline constexpr std::int64_t kJournalWriterLock = 7461003;

/// True if a server answers at `conninfo` and accepts connections (PQping: no login, no query), within
/// 2 s unless `conninfo` sets its own connect_timeout.
bool database_reachable(const std::string& conninfo);

/// A commit carbond acknowledges must be durable: synchronous_commit = off, a common tuning a database or
/// role may set, would let a PostgreSQL crash lose acknowledged commands. This turns it back on for the
/// session; the other values (local, on, remote_write, remote_apply) all wait for the local flush and stay
/// as set. Run by every connection that writes: the journal's (with its session setup), the audit
/// writer's (for each record's transaction) and connect_or_throw's (the start).
inline constexpr const char* kDurableCommitsSql =
    "SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'";

/// Opens a connection; throws std::runtime_error with libpq's message on failure. Both connect functions
/// set, whatever the database's or role's defaults, standard_conforming_strings on (the journal's text
/// literals escape only quotes), client_encoding UTF8 and bytea_output hex (what carbond's strings and
/// hashes are read as) and default_transaction_isolation read committed (the audit log's chain, migration
/// 0024); this one runs kDurableCommitsSql too.
PgConn connect_or_throw(const std::string& conninfo);

/// Opens a connection for a long-lived writer thread, bounded on a dead or
/// black-holed server (connect_timeout 5 s, tcp_user_timeout 10 s, unless
/// `conninfo` sets its own): the caller gets back to answering UNAVAILABLE
/// instead of hanging in connect() or send(). On failure: nullptr and, in
/// `error`, libpq's message without its trailing newline.
PgConn connect_bounded(const std::string& conninfo, std::string& error);

/// How long a read served from PostgreSQL on a gRPC thread (the regulator's
/// ledger, audit and disclosure queries, market history) waits for the
/// server, per statement (VerifyLedger reads in chunks, each its own
/// statement): past it the read is abandoned with UNAVAILABLE instead of
/// holding the thread while the server does not answer (a frozen host).
inline constexpr std::chrono::milliseconds kReadTimeout{30'000};

/// A read-only connection for such a read (connect bounded as connect_bounded)
/// with one REPEATABLE READ snapshot for the whole call.
Status open_read_snapshot(const std::string& conninfo, PgConn& conn);

/// Runs a read (text parameters) and waits `limit` at most for its rows. Ok
/// with `out` holding them; otherwise the status (UNAVAILABLE naming the
/// limit if the server did not answer in time: the connection is then
/// shut down and must not be used again).
Status read_query(PGconn* conn, const std::string& sql, const std::vector<std::string>& params, PgResult& out,
                  std::chrono::milliseconds limit = kReadTimeout);

/// Sends `sql` (with `params`: one statement, text parameters; without: one
/// or more, the last one's result kept) and waits until `deadline` at most.
/// True with the result in `out` (null if none came: PQerrorMessage says
/// why); false if the server did not answer in time: the connection is then
/// shut down and must not be used again.
bool exec_until(PGconn* conn, const std::string& sql, const std::vector<std::string>& params,
                std::chrono::steady_clock::time_point deadline, PgResult& out);

/// Runs a statement without parameters; throws std::runtime_error naming `what` on failure.
PgResult exec_or_throw(PGconn* conn, const std::string& sql, const char* what);
/// `conninfo` as libpq reads it (key=value or URI), without its password, for messages and logs.
std::string conninfo_for_logs(const std::string& conninfo);

/// Runs a parameterised statement (text parameters; nullopt = NULL); throws on failure.
PgResult exec_params_or_throw(PGconn* conn, const std::string& sql, const std::vector<std::optional<std::string>>& params,
                              const char* what);

/// The first id in `table` whose `sequence` is above `sequence` (or one past
/// the last id): a bisection over the primary key `id_column`, a few dozen
/// point reads instead of a scan (the append-only tables keep no index on
/// sequence). The ids must be dense from 1 and grow with the sequence; if one
/// is missing the answer is 1, so the caller's own condition on sequence
/// must still hold. Each read is bounded as read_query's (UNAVAILABLE).
Status first_id_after(PGconn* conn, const std::string& table, const std::string& id_column, std::uint64_t sequence,
                      std::uint64_t& first);

/// Maps a failed result to a carbon status from its SQLSTATE (connection
/// problems and a lock not had within lock_timeout → UNAVAILABLE, constraint
/// violations → FAILED_PRECONDITION, ...).
Status status_from_result(const PGresult* result, PGconn* conn);

/// Hex text of bytes in PostgreSQL's bytea input form ("\\x0a1b...").
std::string to_bytea_literal(const unsigned char* bytes, std::size_t size);
/// Decodes a bytea column fetched in text form.
std::vector<unsigned char> from_bytea_text(const char* text);
/// A 32-byte bytea column (a SHA-256 hash) fetched in text form; nothing if it is NULL or not 32 bytes.
std::optional<std::array<std::uint8_t, 32>> hash_column(const PGresult* result, int row, int col);

}  // namespace carbon::store
