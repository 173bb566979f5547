#pragma once
/// The journal writer's database side: commits a batch of engine outcomes
/// (the journal rows and the projections they change) in one transaction.

#include <mutex>
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
/// rest (cash accounts, holdings, older orders) by one INSERT ... ON CONFLICT
/// per table, the rows inlined as array literals unnested by the server.
/// Reconnects after a lost connection; on every (re)connect it reads the
/// last committed sequence, so a batch whose COMMIT landed although its
/// answer was lost is recognised and not written twice.
/// Not thread-safe: used by the journal writer thread only (interrupt() excepted).
class PostgresJournal final : public engine::JournalSink {
 public:
  /// `conninfo` is a libpq connection string; nothing connects before the first commit.
  explicit PostgresJournal(std::string conninfo);
  ~PostgresJournal() override;
  PostgresJournal(const PostgresJournal&) = delete;
  PostgresJournal& operator=(const PostgresJournal&) = delete;

  /// Ok once the batch is committed, or when the journal already holds it
  /// (a retry after a lost COMMIT answer). UNAVAILABLE: the database is
  /// unreachable or the outcome is unknown (retry the same batch as a whole).
  [[nodiscard]] Status commit(const std::vector<const engine::Outcome*>& batch) override;
  /// The same, `known_tail` as for begin().
  [[nodiscard]] Status commit(const std::vector<const engine::Outcome*>& batch, Sequence known_tail);

  /// The highest sequence known to be committed (0 before the first connection).
  Sequence last_committed() const { return last_committed_; }

  /// commit() in three steps, for a pipeline of connections (PipelinedJournal):
  /// begin() opens the batch's transaction and appends its rows (binary COPY
  /// into the append-only tables, keys no other batch writes: it takes no
  /// lock another batch's statements need); update() runs the statements that change rows earlier batches
  /// wrote (the projections' upserts, which wait for an earlier transaction
  /// still writing such a row, and the market-state and registry statements,
  /// which PipelinedJournal runs only once the batches before committed);
  /// end() commits (true) or
  /// abandons the transaction (false: the connection is closed and the server
  /// rolls it back). `known_tail` is the highest sequence committed through
  /// any connection: a batch at or below it is recognised as committed, and
  /// the three steps then do nothing. Statuses as commit(); after a failure,
  /// call end(false).
  [[nodiscard]] Status begin(const std::vector<const engine::Outcome*>& batch, Sequence known_tail);
  [[nodiscard]] Status update();
  [[nodiscard]] Status end(bool commit);

  /// After begin(): whether update() runs market-state or registry statements
  /// (rather than only the projections' upserts).
  bool has_market_statements() const { return open_last_ != 0 && market_statements_ > 0; }

  /// Closes the connection; the next batch reconnects and reads the journal's tail again.
  void disconnect() { set_connection(nullptr); }

  /// Any thread: shuts the connection's socket down, so a statement waiting
  /// for a server that does not answer fails at once (outcome unknown:
  /// UNAVAILABLE); the connection is then replaced as after any loss. It
  /// holds until clear_interrupt(): a connection opened meanwhile is shut
  /// down as soon as it is made, so an interrupt cannot fall between two.
  void interrupt() override;
  /// Any thread: ends interrupt()'s hold (before handing this journal a new
  /// batch). commit(batch) calls it itself.
  void clear_interrupt();

 private:
  /// One table's COPY: the statement and its data.
  struct Copy {
    const char* sql;
    BinaryCopy data;
  };

  Status connect_if_needed();
  /// INTERNAL (and the connection dropped) if the journal just read ends below `committed`, a sequence this
  /// carbond saw committed: the database lost acknowledged commands.
  Status check_tail_not_behind(Sequence committed);
  /// Replaces the connection (nullptr: closes it), and the socket interrupt() shuts down.
  void set_connection(PgConn conn);
  /// Connects, recognises a batch already committed (`landed`), encodes the rest.
  Status prepare(const std::vector<const engine::Outcome*>& batch, Sequence known_tail, bool& landed);
  void encode(const std::vector<const engine::Outcome*>& batch);
  /// The batch's appends: BEGIN and the COPY statements (data in `copies`).
  std::string appends_sql(std::vector<Copy*>& copies, std::size_t& statements);
  /// ";statement" for each update of rows earlier batches wrote.
  std::string updates_sql(std::size_t& statements) const;
  /// The whole transaction as one simple query, COMMIT included.
  Status run_whole();
  Status send(const std::string& sql, const std::vector<Copy*>& copies, std::size_t statements, bool with_commit);
  Status fail(Status status);

  std::string conninfo_;
  PgConn conn_;
  std::mutex socket_mutex_;  ///< guards socket_ against the connection closing under interrupt()
  int socket_ = -1;          ///< a duplicate of conn_'s socket while it is open (closed with it)
  bool interrupted_ = false;  ///< guarded by socket_mutex_: interrupt() called, clear_interrupt() not since
  Sequence last_committed_ = 0;
  std::string payload_;  ///< scratch for one event's JSON
  std::string market_sql_;             ///< ";statement" per market-state and registry row set of the batch
  std::size_t market_statements_ = 0;  ///< how many statements market_sql_ holds
  std::string updates_sql_;             ///< ";statement" per projection upsert (cash, holdings, older orders)
  std::size_t update_statements_ = 0;  ///< how many statements updates_sql_ holds
  Copy journal_, participants_, movements_, ledger_, trades_, new_orders_;  ///< straight into their tables
  Sequence open_last_ = 0;  ///< begin(): the last sequence of the open transaction's batch (0: none)
};

/// The JSON payload journaled for an event.
std::string event_payload_json(const engine::Event& event);

/// Replaces `out` with the json journaled for a command's events (the
/// `events` column of journal_commands): [[kind, payload], ...] in order.
void append_events(std::string& out, const std::vector<engine::Event>& events);

}  // namespace carbon::store
