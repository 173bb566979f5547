#pragma once
/// API tokens and the audit log: the engine's records, commands and events
/// for access control (included by records.h).

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/types.h"
#include "registry/ledger.h"

namespace carbon::engine {

/// An API token's description. Only the SHA-256 of the secret is kept.
struct ApiTokenRecord {
  std::uint64_t id = 0;
  Role role = Role::trader;
  ParticipantId participant = 0;  ///< ROLE_TRADER only
  std::string label;
  registry::Hash token_hash{};
  UnixNanos issued_at = 0;
  UnixNanos expires_at = 0;  ///< 0 = never
  UnixNanos revoked_at = 0;  ///< 0 = in force
  Sequence updated_sequence = 0;
  bool revoked() const { return revoked_at != 0; }
};

/// Issues a token; the server made the secret and passes only its hash.
struct IssueApiToken {
  Role role = Role::trader;
  ParticipantId participant = 0;
  std::string label;
  UnixNanos expires_at = 0;
  registry::Hash token_hash{};
};
struct RevokeApiToken {
  std::uint64_t token_id = 0;
};
struct ListApiTokens {
  bool include_revoked = false;
};

/// A token after a change (issued or revoked).
struct ApiTokenChanged {
  ApiTokenRecord token;
};

/// One audited call (a staff action, or a staff call refused by the
/// authorization table), journaled in the same transaction as its effects;
/// or a staff read (sequence 0), written by store::AuditWriter before it is answered.
struct AuditEntry {
  Sequence sequence = 0;
  UnixNanos at = 0;
  std::uint64_t token_id = 0;  ///< 0 for tokens from the config
  Role role = Role::trader;
  std::string principal;       ///< staff name or participant code
  ParticipantId participant = 0;  ///< the trader's participant, or the one named in the request
  std::string method;          ///< "/carbon.v1.AdminService/Withdraw"
  std::string peer;
  std::string request_summary;  ///< the request as JSON (no secrets)
  ErrorCode code = ErrorCode::ok;
  std::string message;
  std::uint64_t audit_id = 0;  ///< the record's id in audit_log (set when read back); reads have sequence 0
};

}  // namespace carbon::engine
