// Access control over the API: AdminService's API tokens (issued, revoked and
// listed through the engine, so that every change is journaled and restored)
// and RegulatorService's audit log (read from PostgreSQL on the gRPC thread,
// like the ledger).

#include "server/convert.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "server/services.h"
#include "store/audit_reader.h"

namespace carbon::server {
namespace {

void to_proto(const engine::ApiTokenRecord& token, v1::ApiToken& out) {
  out.set_token_id(token.id);
  out.set_role(static_cast<v1::Role>(token.role));
  out.set_participant_id(token.participant);
  out.set_label(token.label);
  out.set_issued_at_unix_nanos(token.issued_at);
  out.set_expires_at_unix_nanos(token.expires_at);
  out.set_revoked_at_unix_nanos(token.revoked_at);
}

void to_proto(const engine::AuditEntry& entry, v1::AuditRecord& out) {
  out.set_audit_id(entry.audit_id);
  out.set_received_at_unix_nanos(entry.at);
  out.set_token_id(entry.token_id);
  out.set_role(static_cast<v1::Role>(entry.role));
  out.set_participant_id(entry.participant);
  out.set_method(entry.method);
  out.set_peer(entry.peer);
  out.set_principal(entry.principal);
  out.set_status_code(static_cast<int>(to_grpc(Status{entry.code, ""}).error_code()));
  out.set_status_message(entry.message);
  out.set_request_summary(entry.request_summary);
  out.set_sequence(entry.sequence);
}

/// The filters a QueryAuditLog page token is bound to.
std::string audit_filters(const v1::QueryAuditLogRequest& r) {
  return std::to_string(r.from_unix_nanos()) + "|" + std::to_string(r.to_unix_nanos()) + "|" + r.method() + "|" +
         std::to_string(r.token_id()) + "|" + std::to_string(r.role()) + "|" + std::to_string(r.participant_id()) +
         "|" + (r.failures_only() ? "1" : "0") + "|" + std::to_string(r.principal().size()) + ":" + r.principal();
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::IssueApiToken(grpc::CallbackServerContext* ctx,
                                                      const v1::IssueApiTokenRequest* request,
                                                      v1::IssueApiTokenResponse* response) {
  std::string token = generate_token();
  const registry::Hash token_hash = hash_token(token);
  Authenticator& auth = context_.auth;
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/IssueApiToken", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::IssueApiToken{enum_from_wire<Role>(request->role()),
                                                         request->participant_id(), request->label(),
                                                         request->expires_at_unix_nanos(), token_hash}};
      },
      [&auth, token = std::move(token)](const engine::Reply& reply, v1::IssueApiTokenResponse& out) {
        if (reply.api_tokens.empty()) return;
        auth.apply_token(reply.api_tokens.front());  // usable from the next call on
        to_proto(reply.api_tokens.front(), *out.mutable_api_token());
        out.set_token(token);
      },
      request);
}

grpc::ServerUnaryReactor* AdminService::RevokeApiToken(grpc::CallbackServerContext* ctx,
                                                       const v1::RevokeApiTokenRequest* request,
                                                       v1::RevokeApiTokenResponse* response) {
  Authenticator& auth = context_.auth;
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/RevokeApiToken", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::RevokeApiToken{request->token_id()}}; },
      [&auth](const engine::Reply& reply, v1::RevokeApiTokenResponse& out) {
        if (reply.api_tokens.empty()) return;
        auth.apply_token(reply.api_tokens.front());  // refused from the next call (and stream message) on
        to_proto(reply.api_tokens.front(), *out.mutable_api_token());
      },
      request);
}

grpc::ServerUnaryReactor* AdminService::ListApiTokens(grpc::CallbackServerContext* ctx,
                                                      const v1::ListApiTokensRequest* request,
                                                      v1::ListApiTokensResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/ListApiTokens", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::ListApiTokens{request->include_revoked()}}; },
      [](const engine::Reply& reply, v1::ListApiTokensResponse& out) {
        for (const auto& token : reply.api_tokens) to_proto(token, *out.add_api_tokens());
      },
      request);
}

grpc::ServerUnaryReactor* RegulatorService::QueryAuditLog(grpc::CallbackServerContext* ctx,
                                                          const v1::QueryAuditLogRequest* request,
                                                          v1::QueryAuditLogResponse* response) {
  DirectRead read(context_, ctx, "carbon.v1.RegulatorService/QueryAuditLog", request);
  Status s = read.admitted();
  store::AuditFilter filter;
  filter.from = request->from_unix_nanos();
  filter.to = request->to_unix_nanos();
  filter.method = request->method();
  filter.token_id = request->token_id();
  filter.participant = request->participant_id();
  filter.principal = request->principal();
  filter.failures_only = request->failures_only();
  if (s.is_ok() && filter.from != 0 && filter.to != 0 && filter.from > filter.to) {
    s = invalid_argument("from_unix_nanos is after to_unix_nanos");
  }
  if (s.is_ok() && request->role() != v1::ROLE_UNSPECIFIED) {
    if (!v1::Role_IsValid(request->role())) {
      s = invalid_argument("role: unknown enum value " + std::to_string(request->role()));
    } else {
      filter.role = static_cast<Role>(request->role());
    }
  }
  // Newest first: the page token is the last (oldest) audit id returned, bound to the filters; the reader
  // reads one more record than the page, so the last page has no token.
  Page page;
  if (s.is_ok()) s = parse_page(request->page_size(), request->page_token(), audit_filters(*request), page);
  filter.before_audit_id = page.offset;
  filter.limit = page.size + 1;
  std::vector<engine::AuditEntry> entries;
  std::vector<registry::Hash> hashes;
  if (s.is_ok()) s = store::query_audit_log(context_.ledger_conninfo, filter, entries, &hashes);
  if (s.is_ok()) {
    response->set_next_page_token(fill_keyset_page(
        entries, page, response->mutable_records(),
        [&](const engine::AuditEntry& e, v1::AuditRecord& out) {
          to_proto(e, out);
          const registry::Hash& hash = hashes[static_cast<std::size_t>(&e - entries.data())];
          out.set_record_hash(hash.data(), hash.size());
        },
        [](const engine::AuditEntry& e) { return e.audit_id; }));
  }
  return read.finish(std::move(s));
}

grpc::ServerUnaryReactor* RegulatorService::VerifyAuditLog(grpc::CallbackServerContext* ctx,
                                                           const v1::VerifyAuditLogRequest* request,
                                                           v1::VerifyAuditLogResponse* response) {
  DirectRead read(context_, ctx, "carbon.v1.RegulatorService/VerifyAuditLog", request);
  Status s = read.admitted();
  store::AuditVerificationReport report;
  if (s.is_ok()) {
    s = store::verify_audit_log(context_.ledger_conninfo, request->from_audit_id(), request->to_audit_id(), report);
  }
  if (s.is_ok()) {
    response->set_valid(report.valid);
    response->set_records_checked(report.records_checked);
    response->set_first_audit_id(report.first_audit_id);
    response->set_last_audit_id(report.last_audit_id);
    if (report.records_checked != 0) response->set_last_hash(report.last_hash.data(), report.last_hash.size());
    response->set_first_bad_audit_id(report.first_bad_audit_id);
    response->set_failure(report.failure);
  }
  return read.finish(std::move(s));
}

}  // namespace carbon::server
