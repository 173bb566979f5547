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
#include "registry/ledger.h"

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

/// Records matching `filter`, newest first, at most filter.limit; with `hashes`, also each record's
/// record_hash (migration 0024), hashes[i] for out[i] (all zeros if the stored one is not 32 bytes, which
/// verify_audit_log reports). UNAVAILABLE: database.
[[nodiscard]] Status query_audit_log(const std::string& conninfo, const AuditFilter& filter,
                                     std::vector<engine::AuditEntry>& out,
                                     std::vector<registry::Hash>* hashes = nullptr);

/// What a verification of the audit log's hash chain found.
struct AuditVerificationReport {
  bool valid = true;
  std::uint64_t records_checked = 0;
  std::uint64_t first_audit_id = 0;  ///< first record checked; 0 if none
  std::uint64_t last_audit_id = 0;   ///< last record checked; 0 if none
  registry::Hash last_hash{};        ///< record_hash of the last record checked
  std::uint64_t first_bad_audit_id = 0;
  std::string failure;  ///< empty when valid
};

/// One audit_log row as stored, for hashing: every column the chain covers, unconverted.
struct StoredAuditRecord {
  std::uint64_t audit_id = 0;
  std::int64_t sequence = 0;
  std::int64_t recorded_at = 0;
  std::int64_t token_id = 0;
  std::int64_t role = 0;
  std::string principal;
  std::int64_t participant = 0;
  std::string method;
  std::string peer;
  std::string request_summary;
  std::int64_t status_code = 0;
  std::string status_message;
};

/// SHA-256(prev_hash || canonical bytes of `r`), the canonical bytes as migration 0024 defines them (version 1:
/// the byte 1, integers as 8 bytes big-endian, texts as a 4-byte big-endian length and their UTF-8 bytes).
/// Written apart from the database's own function, so the check does not trust it.
registry::Hash audit_chain_hash(const registry::Hash& prev_hash, const StoredAuditRecord& r);

/// Verifies the audit log's records with audit ids in [from, to] (0 = the first / the last; ids have gaps,
/// a bound need not be a record's): each prev_hash is the record_hash of the record before it by audit id
/// (32 zero bytes before the first), and each record_hash is audit_chain_hash of the record. A broken chain
/// is an OK status with report.valid false naming the first bad record. INVALID_ARGUMENT from after to;
/// NOT_FOUND a bound beyond the last record; UNAVAILABLE database.
[[nodiscard]] Status verify_audit_log(const std::string& conninfo, std::uint64_t from, std::uint64_t to,
                                      AuditVerificationReport& out);

}  // namespace carbon::store
