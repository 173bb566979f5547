#pragma once
/// The CCER projection rows of one journal batch (methodologies, projects,
/// issuances, serial blocks per account, retirements) and the JSON payloads
/// of the CCER events. Used by the journal writer thread only.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/records.h"
#include "store/columns.h"

namespace carbon::store {

/// Collects the CCER events of a batch; statements() gives the statements for
/// the tables with rows, the latest state of each row once.
class CcerRows {
 public:
  /// Takes note of `event` of the command with sequence `seq` (other events are ignored).
  void add(const engine::Event& event, Sequence seq);
  /// (statement, array parameters) pairs, in an order that keeps the foreign keys.
  std::vector<std::pair<const char*, Columns>> statements() const;

 private:
  std::vector<engine::MethodologyRecord> methodologies_;
  std::map<std::uint64_t, engine::CcerProjectRecord> projects_;
  std::vector<engine::CcerIssuanceRecord> issuances_;
  std::map<AccountId, std::pair<std::vector<registry::CcerBlock>, Sequence>> blocks_;
  std::vector<engine::RetirementRecord> retirements_;
};

/// The journal payload of a CCER event, or nothing for any other event.
std::optional<nlohmann::json> ccer_event_json(const engine::Event& event);

}  // namespace carbon::store
