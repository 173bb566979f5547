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

constexpr std::size_t kVerifyChunk = 10'000;
constexpr const char* kChainColumns =
    "SELECT audit_id, sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id, method, peer,"
    " request_summary, status_code, status_message, prev_hash, record_hash FROM audit_log";

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_i64(std::vector<std::uint8_t>& out, std::int64_t v) { put_u64(out, static_cast<std::uint64_t>(v)); }
void put_text(std::vector<std::uint8_t>& out, const std::string& s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

registry::Hash audit_chain_hash(const registry::Hash& prev_hash, const StoredAuditRecord& r) {
  std::vector<std::uint8_t> bytes(prev_hash.begin(), prev_hash.end());
  bytes.reserve(bytes.size() + 1 + 8 * 7 + 4 * 5 + r.principal.size() + r.method.size() + r.peer.size() +
                r.request_summary.size() + r.status_message.size());
  bytes.push_back(1);  // encoding version
  put_u64(bytes, r.audit_id);
  put_i64(bytes, r.sequence);
  put_i64(bytes, r.recorded_at);
  put_i64(bytes, r.token_id);
  put_i64(bytes, r.role);
  put_text(bytes, r.principal);
  put_i64(bytes, r.participant);
  put_text(bytes, r.method);
  put_text(bytes, r.peer);
  put_text(bytes, r.request_summary);
  put_i64(bytes, r.status_code);
  put_text(bytes, r.status_message);
  return registry::sha256(bytes.data(), bytes.size());
}

Status verify_audit_log(const std::string& conninfo, std::uint64_t from, std::uint64_t to,
                        AuditVerificationReport& out) {
  if (from != 0 && to != 0 && from > to) return invalid_argument("from_audit_id is after to_audit_id");
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  PgResult r;
  if (Status s = read_query(conn.get(), "SELECT COALESCE(MAX(audit_id), 0) FROM audit_log", {}, r); !s.is_ok()) {
    return s;
  }
  const std::uint64_t last = std::strtoull(PQgetvalue(r.get(), 0, 0), nullptr, 10);
  if (from > last || to > last) return not_found("the audit log ends at record " + std::to_string(last));
  out = AuditVerificationReport{};
  registry::Hash previous{};
  std::uint64_t previous_id = 0;
  if (from > 1) {
    if (Status s = read_query(conn.get(),
                              "SELECT audit_id, record_hash FROM audit_log WHERE audit_id < $1"
                              " ORDER BY audit_id DESC LIMIT 1",
                              {std::to_string(from)}, r);
        !s.is_ok()) {
      return s;
    }
    if (PQntuples(r.get()) == 1) {
      previous_id = std::strtoull(PQgetvalue(r.get(), 0, 0), nullptr, 10);
      previous = hash_column(r.get(), 0, 1).value_or(registry::Hash{});  // a bad one fails the next link
    }
  }
  const std::uint64_t end = to == 0 ? last : to;
  std::uint64_t cursor = from == 0 ? 0 : from - 1;
  while (cursor < end) {
    if (Status s = read_query(conn.get(),
                              std::string(kChainColumns) + " WHERE audit_id > $1 AND audit_id <= $2 ORDER BY audit_id"
                                                           " LIMIT " + std::to_string(kVerifyChunk),
                              {std::to_string(cursor), std::to_string(end)}, r);
        !s.is_ok()) {
      return s;
    }
    const int rows = PQntuples(r.get());
    for (int row = 0; row < rows; ++row) {
      auto i64 = [&](int col) { return std::strtoll(PQgetvalue(r.get(), row, col), nullptr, 10); };
      auto text = [&](int col) { return std::string(PQgetvalue(r.get(), row, col)); };
      StoredAuditRecord record;
      record.audit_id = std::strtoull(PQgetvalue(r.get(), row, 0), nullptr, 10);
      record.sequence = i64(1);
      record.recorded_at = i64(2);
      record.token_id = i64(3);
      record.role = i64(4);
      record.principal = text(5);
      record.participant = i64(6);
      record.method = text(7);
      record.peer = text(8);
      record.request_summary = text(9);
      record.status_code = i64(10);
      record.status_message = text(11);
      const std::string id = std::to_string(record.audit_id);
      const auto prev_hash = hash_column(r.get(), row, 12);
      const auto record_hash = hash_column(r.get(), row, 13);
      if (!prev_hash || !record_hash) {
        out.failure = "record " + id + "'s prev_hash or record_hash is not 32 bytes";
      } else if (*prev_hash != previous) {
        const std::string before =
            previous_id == 0 ? std::string("the start of the log") : "record " + std::to_string(previous_id);
        out.failure = "prev_hash of record " + id + " does not link to " + before +
                      ": a record before it was removed, inserted or altered";
      } else if (audit_chain_hash(previous, record) != *record_hash) {
        out.failure = "hash mismatch: record " + id + " was altered";
      }
      if (!out.failure.empty()) {
        out.valid = false;
        out.first_bad_audit_id = record.audit_id;
        return Status::ok();
      }
      if (out.first_audit_id == 0) out.first_audit_id = record.audit_id;
      out.last_audit_id = record.audit_id;
      out.last_hash = previous = *record_hash;
      previous_id = record.audit_id;
      ++out.records_checked;
    }
    if (rows < static_cast<int>(kVerifyChunk)) break;
    cursor = previous_id;
  }
  return Status::ok();
}

Status query_audit_log(const std::string& conninfo, const AuditFilter& filter, std::vector<engine::AuditEntry>& out,
                       std::vector<registry::Hash>* hashes) {
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  std::string sql =
      "SELECT sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id, method, peer,"
      " request_summary, status_code, status_message, audit_id, record_hash FROM audit_log WHERE TRUE";
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
    if (hashes != nullptr) hashes->push_back(hash_column(r.get(), row, 12).value_or(registry::Hash{}));
  }
  return Status::ok();
}

}  // namespace carbon::store
