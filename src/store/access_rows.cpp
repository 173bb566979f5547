#include "store/access_rows.h"

#include <variant>

#include "store/pg.h"

namespace carbon::store {
namespace {

constexpr const char* kUpsertTokens =
    "INSERT INTO api_tokens (token_id, role, participant_id, label, token_sha256, issued_at_unix_nanos,"
    " expires_at_unix_nanos, revoked_at_unix_nanos, updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::text[], $5::bytea[], $6::bigint[],"
    " $7::bigint[], $8::bigint[], $9::bigint[])"
    " ON CONFLICT (token_id) DO UPDATE SET revoked_at_unix_nanos = EXCLUDED.revoked_at_unix_nanos,"
    " updated_sequence = EXCLUDED.updated_sequence";
// Taken before audit records are inserted, so ids are drawn in commit order (migration 0015).
constexpr const char* kLockAudit = "LOCK TABLE audit_log_writers IN EXCLUSIVE MODE";
constexpr const char* kInsertAudit =
    "INSERT INTO audit_log (sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id, method, peer,"
    " request_summary, status_code, status_message)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], $5::text[], $6::bigint[],"
    " $7::text[], $8::text[], $9::text[], $10::int[], $11::text[])";

std::int64_t i(auto v) { return static_cast<std::int64_t>(v); }

}  // namespace

int grpc_code_number(ErrorCode code) {
  switch (code) {
    case ErrorCode::ok: return 0;
    case ErrorCode::invalid_argument: return 3;
    case ErrorCode::failed_precondition: return 9;
    case ErrorCode::not_found: return 5;
    case ErrorCode::already_exists: return 6;
    case ErrorCode::permission_denied: return 7;
    case ErrorCode::unauthenticated: return 16;
    case ErrorCode::resource_exhausted: return 8;
    case ErrorCode::unavailable: return 14;
    case ErrorCode::unimplemented: return 12;
    case ErrorCode::internal: return 13;
  }
  return 2;  // UNKNOWN
}

void AccessRows::add(const engine::Outcome& outcome) {
  for (const engine::Event& event : outcome.events) {
    if (const auto* e = std::get_if<engine::ApiTokenChanged>(&event)) tokens_[e->token.id] = e->token;
  }
  if (outcome.audit) audit_.push_back(&*outcome.audit);
}

std::vector<std::pair<const char*, Columns>> AccessRows::statements() const {
  std::vector<std::pair<const char*, Columns>> out;
  if (!tokens_.empty()) {
    Columns c(9);
    for (const auto& [id, t] : tokens_) {
      c.columns[0].add(t.id);
      c.columns[1].add(i(t.role));
      c.columns[2].add(t.participant);
      c.columns[3].add(t.label);
      c.columns[4].add_bytes(t.token_hash.data(), t.token_hash.size());
      c.columns[5].add(i(t.issued_at));
      c.columns[6].add(i(t.expires_at));
      c.columns[7].add(i(t.revoked_at));
      c.columns[8].add(t.updated_sequence);
    }
    out.emplace_back(kUpsertTokens, std::move(c));
  }
  if (!audit_.empty()) {
    Columns c(11);
    for (const engine::AuditEntry* a : audit_) {
      c.columns[0].add(a->sequence);
      c.columns[1].add(i(a->at));
      c.columns[2].add(a->token_id);
      c.columns[3].add(i(a->role));
      c.columns[4].add(a->principal);
      c.columns[5].add(a->participant);
      c.columns[6].add(a->method);
      c.columns[7].add(a->peer);
      c.columns[8].add(a->request_summary);
      c.columns[9].add(i(grpc_code_number(a->code)));
      c.columns[10].add(a->message);
    }
    out.emplace_back(kLockAudit, Columns(0));
    out.emplace_back(kInsertAudit, std::move(c));
  }
  return out;
}

std::optional<std::string> access_event_json(const engine::Event& event) {
  const auto* e = std::get_if<engine::ApiTokenChanged>(&event);
  if (e == nullptr) return std::nullopt;
  const engine::ApiTokenRecord& t = e->token;
  // Keys in JSONB's order (shorter first, then bytewise), so the stored object reads the same.
  nlohmann::ordered_json j;
  j["role"] = static_cast<int>(t.role);
  j["label"] = t.label;
  j["token_id"] = t.id;
  j["token_sha256"] = registry::to_hex(t.token_hash);
  j["participant_id"] = t.participant;
  j["issued_at_unix_nanos"] = t.issued_at;
  j["expires_at_unix_nanos"] = t.expires_at;
  j["revoked_at_unix_nanos"] = t.revoked_at;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace carbon::store
