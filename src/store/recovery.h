#pragma once
/// Loads the projections at start so the engine can rebuild its state, and
/// checks them before carbond opens its port.

#include <libpq-fe.h>

#include <cstdint>

#include "engine/records.h"

namespace carbon::store {

/// Reads participants, cash, holdings, orders, trades, idempotency keys, the
/// last sequence and the ledger's tail in one repeatable-read snapshot.
/// Throws std::runtime_error on a database error.
engine::RecoveredState load_state(PGconn* conn);

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

}  // namespace carbon::store
