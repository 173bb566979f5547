#pragma once
/// Loads the projections at start so the engine can rebuild its state, and
/// checks them before carbond opens its port.

#include <libpq-fe.h>

#include "engine/records.h"

namespace carbon::store {

/// Reads participants, cash, holdings, orders, trades, idempotency keys, the
/// last sequence and the ledger's tail in one repeatable-read snapshot.
/// Throws std::runtime_error on a database error.
engine::RecoveredState load_state(PGconn* conn);

/// Checks what was loaded: every instrument's holdings sum to zero, cash
/// equals deposits minus withdrawals, the ledger's last entry hashes to its
/// stored hash and links to the one before. Throws std::runtime_error with
/// a message naming the first disagreement.
void check_state(PGconn* conn, const engine::RecoveredState& state);

}  // namespace carbon::store
