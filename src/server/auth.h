#pragma once
/// Bearer-token authentication and the per-RPC authorization table.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <mutex>

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "engine/records.h"

namespace carbon::server {

/// SHA-256 of a bearer token; tokens are never stored, only this.
registry::Hash hash_token(std::string_view token);
/// A new random bearer token ("cbt_" + 43 base64url characters, 256 bits).
std::string generate_token();
/// Hash from 64 hex digits; nothing if malformed.
std::optional<registry::Hash> hash_from_hex(std::string_view hex);

/// Maps token hashes to principals. Thread-safe: read by every gRPC thread,
/// written when a participant is created or a token is issued or revoked
/// (journal writer thread, after the commit and before the reply).
class Authenticator {
 public:
  /// The clock that decides expiry (the engine's); none: tokens never expire.
  void set_clock(const Clock* clock) { clock_ = clock; }
  /// Registers a staff member's token hash (from the config or the bootstrap file).
  void add_staff(const registry::Hash& token_hash, Role role, const std::string& name);
  /// Registers a participant's first trader token hash.
  void add_trader(const registry::Hash& token_hash, ParticipantId participant, const std::string& code);
  /// Registers an API token; a revoked one is refused from the next call on (a trader's forgotten, a staff
  /// token's kept, to name an attempt to use it in the audit log). A record
  /// older than one already applied for the same token (an issue's reply after its revocation's commit
  /// in the same batch) changes nothing.
  void apply_token(const engine::ApiTokenRecord& token);
  /// A new participant's first token (API token `token`, named by the participant's `code`), unless a
  /// newer record of it was applied already.
  void add_first_token(const engine::ApiTokenRecord& token, const std::string& code);
  /// Whether API token `token_id` was revoked (as applied here).
  bool revoked(std::uint64_t token_id) const;

  /// The caller named by the "authorization: Bearer <token>" metadata, or an
  /// UNAUTHENTICATED status saying what is wrong (missing, malformed, unknown,
  /// revoked or expired token). A revoked or expired staff token is refused
  /// all the same, but `principal` then names it, so that the attempt is
  /// audited (server/dispatch.h); a trader's is not named.
  Status authenticate(const grpc::ServerContextBase& context, engine::Principal& principal) const;
  /// The same for a token given by its SHA-256.
  Status authenticate_hash(const registry::Hash& token_hash, engine::Principal& principal) const;
  /// For a refused attempt with a revoked or expired staff token (named by authenticate()): whether to audit
  /// it. At most one a minute per token, so that a leaked token cannot flood the append-only log.
  bool audit_refused_attempt(const engine::Principal& principal) const;
  /// Whether `principal`'s token has expired by the engine's clock (cheap: no lookup).
  bool expired(const engine::Principal& principal) const;
  /// Whether the call's token still names `principal` (for open streams: false once revoked or expired).
  bool still_valid(const engine::Principal& principal, const grpc::ServerContextBase& context) const;

 private:
  struct Entry {
    engine::Principal principal;  ///< with its token's expiry
    bool revoked = false;         ///< a staff API token that was revoked: kept to name an attempt to use it
  };
  /// The newest record applied per API token: its updated_sequence and whether it is revoked.
  struct Version {
    Sequence sequence = 0;
    bool revoked = false;
  };
  /// False if `token` is older than the record applied for it; records it otherwise. Under mutex_.
  bool newest_locked(const engine::ApiTokenRecord& token);

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> by_hash_;
  std::unordered_map<std::uint64_t, Version> versions_;
  mutable std::mutex attempts_mutex_;
  /// Per revoked or expired staff token: when an attempt with it was last audited (steady clock).
  mutable std::unordered_map<std::uint64_t, std::chrono::steady_clock::time_point> attempts_audited_;
  const Clock* clock_ = nullptr;
};

/// Whether `role` may call `method` ("carbon.v1.TradingService/PlaceOrder");
/// PERMISSION_DENIED naming the role otherwise. The one authorization table.
Status authorize(Role role, std::string_view method);

}  // namespace carbon::server
