#include "store/audit_reader.h"

#include <cstdlib>

#include "store/access_rows.h"
#include "store/pg.h"

namespace carbon::store {
namespace {

ErrorCode code_of(int grpc_code) {
  for (ErrorCode code : {ErrorCode::ok, ErrorCode::invalid_argument, ErrorCode::failed_precondition,
                         ErrorCode::not_found, ErrorCode::already_exists, ErrorCode::permission_denied,
                         ErrorCode::unauthenticated, ErrorCode::resource_exhausted, ErrorCode::unavailable,
                         ErrorCode::unimplemented, ErrorCode::internal}) {
    if (grpc_code_number(code) == grpc_code) return code;
  }
  return ErrorCode::internal;
}

}  // namespace

Status query_audit_log(const std::string& conninfo, const AuditFilter& filter, std::vector<engine::AuditEntry>& out) {
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  std::string sql =
      "SELECT sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id, method, peer,"
      " request_summary, status_code, status_message, audit_id FROM audit_log WHERE TRUE";
  std::vector<std::string> params;
  auto where = [&](const char* condition, std::string value) {
    params.push_back(std::move(value));
    sql += " AND ";
    sql += condition;
    sql += " $" + std::to_string(params.size());
  };
  if (filter.from != 0) where("recorded_at_unix_nanos >=", std::to_string(filter.from));
  if (filter.to != 0) where("recorded_at_unix_nanos <", std::to_string(filter.to));
  if (!filter.method.empty()) where("method =", filter.method);
  if (filter.token_id != 0) where("token_id =", std::to_string(filter.token_id));
  if (filter.role) where("role =", std::to_string(static_cast<int>(*filter.role)));
  if (filter.participant != 0) where("participant_id =", std::to_string(filter.participant));
  if (!filter.principal.empty()) where("principal =", filter.principal);
  if (filter.failures_only) sql += " AND status_code <> 0";
  if (filter.before_audit_id != 0) where("audit_id <", std::to_string(filter.before_audit_id));
  sql += " ORDER BY audit_id DESC LIMIT " + std::to_string(filter.limit);

  PgResult r;
  if (Status s = read_query(conn.get(), sql, params, r); !s.is_ok()) return s;
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    auto u64 = [&](int col) { return std::strtoull(PQgetvalue(r.get(), row, col), nullptr, 10); };
    auto i64 = [&](int col) { return std::strtoll(PQgetvalue(r.get(), row, col), nullptr, 10); };
    auto text = [&](int col) { return std::string(PQgetvalue(r.get(), row, col)); };
    engine::AuditEntry e;
    e.sequence = u64(0);
    e.at = i64(1);
    e.token_id = u64(2);
    e.role = static_cast<Role>(i64(3));
    e.principal = text(4);
    e.participant = u64(5);
    e.method = text(6);
    e.peer = text(7);
    e.request_summary = text(8);
    e.code = code_of(static_cast<int>(i64(9)));
    e.message = text(10);
    e.audit_id = u64(11);
    out.push_back(std::move(e));
  }
  return Status::ok();
}

}  // namespace carbon::store
