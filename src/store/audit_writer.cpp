#include "store/audit_writer.h"

#include <string_view>

#include "store/access_rows.h"

namespace carbon::store {
namespace {

// Ids drawn in commit order (migration 0015): the lock first, held until COMMIT, waited for a bounded time.
std::string begin_with_lock_timeout(int lock_timeout_ms) {
  return "BEGIN; SET LOCAL lock_timeout = " + std::to_string(lock_timeout_ms) +
         "; LOCK TABLE audit_log_writers IN EXCLUSIVE MODE";
}
constexpr const char* kInsertRead =
    "INSERT INTO audit_log (sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id, method, peer,"
    " request_summary, status_code, status_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

}  // namespace

AuditWriter::AuditWriter(std::string conninfo, int lock_timeout_ms)
    : conninfo_(std::move(conninfo)), begin_(begin_with_lock_timeout(lock_timeout_ms)), thread_([this] { run(); }) {}

AuditWriter::~AuditWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void AuditWriter::submit(engine::AuditEntry entry, Done done) {
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.emplace_back(std::move(entry), std::move(done));
      queued = true;
    }
  }
  if (queued) {
    wake_.notify_one();
  } else {
    // Stopping: the writer thread may be gone, and a Done never called would strand its caller.
    done(Status{ErrorCode::unavailable, "carbond is stopping: the call is not answered unaudited"});
  }
}

void AuditWriter::run() {
  for (;;) {
    std::pair<engine::AuditEntry, Done> next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    Status status = write(next.first);
    if (!status.is_ok() && conn_ == nullptr) status = write(next.first);  // one fresh connection after a broken one
    next.second(std::move(status));
  }
}

Status AuditWriter::write(const engine::AuditEntry& e) {
  if (conn_ == nullptr || PQstatus(conn_.get()) != CONNECTION_OK) {
    // Bounded, like the journal's: a read waits at most the connect timeout, then answers UNAVAILABLE.
    std::string message;
    conn_ = connect_bounded(conninfo_, message);
    if (!conn_) {
      return Status{ErrorCode::unavailable, "audit log unreachable, the read is not answered unaudited: " + message};
    }
  }
  const std::string values[] = {std::to_string(e.sequence),
                                std::to_string(e.at),
                                std::to_string(e.token_id),
                                std::to_string(static_cast<int>(e.role)),
                                e.principal,
                                std::to_string(e.participant),
                                e.method,
                                e.peer,
                                e.request_summary,
                                std::to_string(grpc_code_number(e.code)),
                                e.message};
  const char* params[11];
  for (int k = 0; k < 11; ++k) params[k] = values[k].c_str();
  PgResult r(PQexec(conn_.get(), begin_.c_str()));
  if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
    r = PgResult(PQexecParams(conn_.get(), kInsertRead, 11, nullptr, params, nullptr, nullptr, 0));
  }
  if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) r = PgResult(PQexec(conn_.get(), "COMMIT"));
  if (PQresultStatus(r.get()) == PGRES_COMMAND_OK && std::string_view(PQcmdStatus(r.get())) == "COMMIT") {
    return Status::ok();
  }
  Status s = PQresultStatus(r.get()) == PGRES_COMMAND_OK
                 ? Status{ErrorCode::unavailable, "the transaction rolled back at COMMIT"}
                 : status_from_result(r.get(), conn_.get());
  const bool broken = PQstatus(conn_.get()) != CONNECTION_OK;
  if (broken) {
    conn_.reset();
  } else if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
    PgResult rollback(PQexec(conn_.get(), "ROLLBACK"));
  }
  return Status{ErrorCode::unavailable,
                std::string("audit log not written, the read is not answered unaudited: ") + s.message()};
}

}  // namespace carbon::store
