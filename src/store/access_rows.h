#pragma once
/// The access-control rows of one journal batch: API tokens (latest state of
/// each) and audit records (one per audited command), plus the journal
/// payload of ApiTokenChanged. Used by the journal writer thread only.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/records.h"
#include "store/columns.h"

namespace carbon::store {

class AccessRows {
 public:
  /// Takes note of the outcome's ApiTokenChanged events and of its audit entry.
  void add(const engine::Outcome& outcome);
  /// (statement, array parameters) pairs for the tables with rows in this batch.
  std::vector<std::pair<const char*, Columns>> statements() const;

 private:
  std::map<std::uint64_t, engine::ApiTokenRecord> tokens_;
  std::vector<const engine::AuditEntry*> audit_;
};

/// The journal payload of ApiTokenChanged (never the secret; the hash is kept), or nothing.
std::optional<std::string> access_event_json(const engine::Event& event);

/// The numeric gRPC status code of an error code (0 OK, 3 INVALID_ARGUMENT, ...).
int grpc_code_number(ErrorCode code);

}  // namespace carbon::store
