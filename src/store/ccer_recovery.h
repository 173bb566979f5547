#pragma once
/// Loading and checking the CCER projections of migration 0004 at start.

#include <libpq-fe.h>

#include "engine/records.h"

namespace carbon::store {

/// Reads methodologies, projects, issuances, every account's serial blocks and the
/// retirements with their serials into `state`. Throws std::runtime_error on a database error.
void load_ccer_state(PGconn* conn, engine::RecoveredState& state);

/// Checks that the serial blocks of every account add up to its CCER holding and
/// that no serial is held twice. Throws std::runtime_error naming the first disagreement.
void check_ccer_state(const engine::RecoveredState& state);

}  // namespace carbon::store
