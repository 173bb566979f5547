#pragma once
/// Read-only access to the audit log in PostgreSQL for regulators and
/// auditors. Each call opens its own read-only connection, so any thread may
/// call it (the gRPC threads do); it never touches engine state.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/access_records.h"

namespace carbon::store {

/// Which records to list: every filter is optional (0 / empty = all).
struct AuditFilter {
  UnixNanos from = 0;  ///< inclusive
  UnixNanos to = 0;    ///< exclusive
  std::string method;
  std::uint64_t token_id = 0;
  std::optional<Role> role;
  ParticipantId participant = 0;
  std::string principal;  ///< exact; empty: all
  bool failures_only = false;
  std::uint64_t before_audit_id = 0;  ///< paging cursor: only records older than this audit id (0 = from the newest)
  std::size_t limit = 100;
};

/// Records matching `filter`, newest first, at most filter.limit. UNAVAILABLE: database.
[[nodiscard]] Status query_audit_log(const std::string& conninfo, const AuditFilter& filter,
                                     std::vector<engine::AuditEntry>& out);

}  // namespace carbon::store
