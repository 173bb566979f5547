#pragma once
/// The journal writer's database side: commits a batch of engine outcomes
/// (the journal rows and the projections they change) in one transaction.

#include <string>
#include <vector>

#include "engine/runtime.h"
#include "store/binary_copy.h"
#include "store/pg.h"

namespace carbon::store {

/// A JournalSink on PostgreSQL. One transaction per batch, sent as one
/// simple query: the append-only tables (journal_commands: one row per
/// command with its events as a json array; participants,
/// cash_movements, ledger_entries, trades) take their rows by binary COPY;
/// the projections (cash_accounts, holdings, orders) are deduplicated in
/// memory (last value wins), so each touched row is written once per batch:
/// orders entered by the batch itself by COPY straight into orders, the
/// rest copied into session-local staging tables and upserted from there (by
/// prepared statements that empty the staging tables as they read them).
/// Reconnects after a lost connection; on every (re)connect it reads the
/// last committed sequence, so a batch whose COMMIT landed although its
/// answer was lost is recognised and not written twice.
/// Not thread-safe: used by the journal writer thread only.
class PostgresJournal final : public engine::JournalSink {
 public:
  /// `conninfo` is a libpq connection string; nothing connects before the first commit.
  explicit PostgresJournal(std::string conninfo);

  /// Ok once the batch is committed, or when the journal already holds it
  /// (a retry after a lost COMMIT answer). UNAVAILABLE: the database is
  /// unreachable or the outcome is unknown (retry the same batch as a whole).
  [[nodiscard]] Status commit(const std::vector<const engine::Outcome*>& batch) override;

  /// The highest sequence known to be committed (0 before the first connection).
  Sequence last_committed() const { return last_committed_; }

 private:
  /// One table's COPY: the statement and its data.
  struct Copy {
    const char* sql;
    BinaryCopy data;
  };

  Status connect_if_needed();
  void encode(const std::vector<const engine::Outcome*>& batch);
  Status send(const std::string& sql, const std::vector<Copy*>& copies, std::size_t statements);
  Status fail(Status status);

  std::string conninfo_;
  PgConn conn_;
  Sequence last_committed_ = 0;
  std::string payload_;  ///< scratch for one event's JSON
  std::string market_sql_;             ///< ";statement" per market-state and registry row set of the batch
  std::size_t market_statements_ = 0;  ///< how many statements market_sql_ holds
  Copy journal_, participants_, movements_, ledger_, trades_, new_orders_;  ///< straight into their tables
  Copy cash_, holdings_, orders_;  ///< into staging tables, then upserted
  std::size_t staged_since_truncate_ = 0;  ///< rows staged since the staging tables were last truncated
};

/// The JSON payload journaled for an event.
std::string event_payload_json(const engine::Event& event);

/// Replaces `out` with the json journaled for a command's events (the
/// `events` column of journal_commands): [[kind, payload], ...] in order.
void append_events(std::string& out, const std::vector<engine::Event>& events);

}  // namespace carbon::store
