#pragma once
/// Loads the projections at start so the engine can rebuild its state, and
/// checks them before carbond opens its port.

#include <libpq-fe.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "engine/records.h"

namespace carbon::store {

/// The closed orders' client ids that load_state read from `orders`, for
/// store_closed_client_id_digests to keep for the next start:
/// RecoveredState::closed_client_ids from `from` on, as one run through
/// `through` (the trading day's opening sequence); with `replace`, all of
/// them in place of every stored run (the stored runs were not trusted).
struct ClosedClientIdRun {
  std::size_t from = 0;
  std::uint64_t through = 0;
  bool replace = false;
};

/// Waits, at most `wait`, until no journal writer connection of another
/// carbond is left in the server (kJournalWriterLock, polled: it never
/// queues ahead of a running carbond's connections), then holds that lock
/// in shared mode on `conn` for as long as `conn` lives, as the journal's
/// connections do: a later start sees this carbond even while it has
/// committed nothing yet. A carbond killed during a commit leaves its
/// connection's backend running its last transaction, which may still
/// commit; the state is read after it has ended, so that the new engine
/// neither misses those commands nor gives their sequence numbers to
/// others. Still held after `wait`: FAILED_PRECONDITION naming the backends
/// (another carbond writing the same database, or a dead one's transaction
/// stuck on a lock).
Status take_journal_writer_lock(PGconn* conn, std::chrono::milliseconds wait);

/// Reads participants, cash, holdings, orders, trades, idempotency keys, the
/// last sequence and the ledger's tail in one repeatable-read snapshot, and
/// writes nothing. The closed orders' client ids come as digests stored
/// by an earlier start (migration 0020) and from `orders` for those closed
/// since; `run` (if given) says which came from `orders`. Throws
/// std::runtime_error on a database error.
engine::RecoveredState load_state(PGconn* conn, ClosedClientIdRun* run = nullptr);

/// How many of the ledger's last entries are re-hashed at start.
inline constexpr std::uint64_t kLedgerTailChecked = 1024;

/// Checks what was loaded: every instrument's holdings sum to zero, cash
/// equals deposits minus withdrawals, every cash account's and holding's
/// reserved amount is exactly what its open orders reserve (and closed
/// orders reserve nothing), no projection is newer than the journal's last
/// sequence, the ledger's last kLedgerTailChecked entries are dense, re-hash
/// to their stored hashes and link to each other, and the head's hash is the
/// one its journal event (LedgerAppended) recorded. Throws
/// std::runtime_error with a message naming the first disagreement.
void check_state(PGconn* conn, const engine::RecoveredState& state);

/// Stores `run` of `state`'s closed client ids as digests (table
/// closed_client_id_digests) so that the next start reads them compactly;
/// at 16 stored runs, all of them again as one. Call it only once
/// check_state has accepted `state`: a refused start stores nothing. The
/// rows are derived from `orders`, so a failure is no reason to stop: it
/// changes nothing, and is returned for the caller to log.
Status store_closed_client_id_digests(PGconn* conn, const engine::RecoveredState& state, const ClosedClientIdRun& run);

}  // namespace carbon::store
