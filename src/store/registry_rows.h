#pragma once
/// The registry's projection rows of one journal batch (caps, allocations,
/// compliance, closed years, shortfalls owed, freezes) and the JSON payloads
/// of the registry's events. Used by the journal writer thread only.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/records.h"
#include "store/ccer_rows.h"
#include "store/columns.h"

namespace carbon::store {

/// Collects the registry events of a batch; statements() gives one statement
/// per table with rows, the latest state of each row once.
class RegistryRows {
 public:
  /// Takes note of `event` of the command with sequence `seq` (other events are ignored).
  void add(const engine::Event& event, Sequence seq);
  /// (statement, array parameters) pairs for the tables with rows in this batch.
  std::vector<std::pair<const char*, Columns>> statements() const;

 private:
  std::map<std::pair<int, std::string>, engine::CapRecord> caps_;
  std::vector<engine::AllocationRecord> allocations_;
  std::map<std::pair<int, ParticipantId>, engine::ComplianceRecord> compliance_;
  std::vector<engine::ComplianceYearClosed> closed_years_;
  std::map<std::pair<AccountId, int>, std::pair<Qty, Sequence>> shortfalls_;
  std::map<std::uint64_t, engine::FreezeView> freezes_;
  std::vector<engine::IdempotencyRecord> keys_;
  std::map<int, engine::ComplianceYearConfig> year_configs_;  ///< migration 0005
  std::map<std::uint64_t, engine::PledgeView> pledges_;       ///< migration 0005
  CcerRows ccer_;  ///< CCER tables, after the keys
};

/// The journal payload of a registry event, or nothing for any other event.
std::optional<nlohmann::json> registry_event_json(const engine::Event& event);

}  // namespace carbon::store
