#pragma once
/// Clearing's projection rows of one journal batch (end-of-day
/// reconciliations, surveillance alerts, settlement statements), their
/// journal payloads, and loading them back at start. Each row keeps its
/// record as JSONB next to the columns it is looked up by.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "engine/records.h"
#include "store/columns.h"

namespace carbon::store {

/// Collects the clearing events of a batch; statements() gives one statement per table with rows.
class ClearingRows {
 public:
  /// Takes note of `event` (other events are ignored).
  void add(const engine::Event& event);
  /// (statement, array parameters) pairs for the tables with rows in this batch.
  std::vector<std::pair<const char*, Columns>> statements() const;

 private:
  std::vector<const engine::ReconciliationRecord*> reconciliations_;
  std::vector<const engine::AlertRecord*> alerts_;
  std::vector<const engine::StatementRecord*> statements_;
};

/// The journal payload of a clearing event, or nothing for any other event.
std::optional<nlohmann::json> clearing_event_json(const engine::Event& event);

/// Reads reconciliations, alerts, each participant's latest statement and the day's non-trade ledger
/// entries into `state` (inside the recovery snapshot transaction; after the market state is read).
void load_clearing_state(PGconn* conn, engine::RecoveredState& state);

/// TradingService.GetStatement: the statement of `participant` for `trading_date` ("YYYY-MM-DD"; empty: the
/// last day end of day was run for), read on its own read-only connection (any thread; never engine state).
/// NOT_FOUND no such statement or no end of day yet; UNAVAILABLE database.
[[nodiscard]] Status read_statement(const std::string& conninfo, ParticipantId participant,
                                    const std::string& trading_date, engine::StatementRecord& out);

nlohmann::json to_json(const engine::ReconciliationRecord& r);
nlohmann::json to_json(const engine::AlertRecord& a);
nlohmann::json to_json(const engine::StatementRecord& s);
engine::ReconciliationRecord reconciliation_from_json(const nlohmann::json& j);
engine::AlertRecord alert_from_json(const nlohmann::json& j);
engine::StatementRecord statement_from_json(const nlohmann::json& j);

}  // namespace carbon::store
