#pragma once
/// Instrument definitions in PostgreSQL (table instrument_definitions, migration
/// 0009): the rows of one journal batch, the journal payload of
/// InstrumentDefined, and loading them at start.

#include <libpq-fe.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/records.h"
#include "store/columns.h"

namespace carbon::store {

/// The latest definition of each instrument defined in a batch. Journal writer thread only.
class InstrumentRows {
 public:
  void add(const engine::Event& event, Sequence sequence);
  /// (statement, array parameters) pairs; empty when the batch defined nothing.
  std::vector<std::pair<const char*, Columns>> statements() const;

 private:
  std::map<std::string, std::pair<const InstrumentConfig*, Sequence>> latest_;
};

/// An instrument's whole definition as JSON, and back (throws std::runtime_error naming the key).
nlohmann::json instrument_json(const InstrumentConfig& config);
InstrumentConfig instrument_from_json(const nlohmann::json& json);

/// The journal payload of InstrumentDefined (keys in JSONB's order: shorter first, then bytewise),
/// or nothing for another event.
std::optional<std::string> instrument_event_json(const engine::Event& event);

/// Reads every stored definition into state.instrument_definitions, by code.
void load_instrument_definitions(PGconn* conn, engine::RecoveredState& state);

}  // namespace carbon::store
