#include "store/audit_writer.h"

#include <chrono>
#include <iterator>
#include <string_view>
#include <vector>

#include "store/access_rows.h"

namespace carbon::store {
namespace {

// Ids drawn in commit order (migration 0015): the lock first, held until COMMIT, waited for a bounded time.
// A record's commit is durable whatever the database's synchronous_commit (kDurableCommitsSql, for the transaction).
std::string begin_with_lock_timeout(int lock_timeout_ms) {
  return "BEGIN; SET LOCAL lock_timeout = " + std::to_string(lock_timeout_ms) +
         "; SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') = 'off'"
         "; LOCK TABLE audit_log_writers IN EXCLUSIVE MODE";
}
constexpr const char* kInsertRead =
    "INSERT INTO audit_log (sequence, recorded_at_unix_nanos, token_id, role, principal, participant_id, method, peer,"
    " request_summary, status_code, status_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

}  // namespace

AuditWriter::AuditWriter(std::string conninfo, int lock_timeout_ms)
    : conninfo_(std::move(conninfo)),
      begin_(begin_with_lock_timeout(lock_timeout_ms)),
      answer_within_ms_(lock_timeout_ms + kAnswerMarginMs),
      thread_([this] { run(); }) {}

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
    if (!status.is_ok() && conn_ == nullptr && !timed_out_) {
      status = write(next.first);  // one fresh connection after a broken one (not after a server that did not answer)
    }
    next.second(std::move(status));
  }
}

Status AuditWriter::write(const engine::AuditEntry& e) {
  timed_out_ = false;
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
  // Bounded as a whole: the lock's wait, and the server's answers (a frozen host answers nothing, and the
  // call must get UNAVAILABLE rather than wait with it).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(answer_within_ms_);
  PgResult r;
  bool answered = exec_until(conn_.get(), begin_, {}, deadline, r);
  if (answered && PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
    answered = exec_until(conn_.get(), kInsertRead, std::vector<std::string>(std::begin(values), std::end(values)),
                          deadline, r);
  }
  if (answered && PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
    answered = exec_until(conn_.get(), "COMMIT", {}, deadline, r);
  }
  if (!answered) {
    timed_out_ = true;
    conn_.reset();  // shut down by exec_until: a fresh connection for the next record
    return Status{ErrorCode::unavailable, "audit log not written (or, if its COMMIT was sent, not known to be), the "
                                          "read is not answered unaudited: the database did not answer within " +
                                              std::to_string(answer_within_ms_) + " ms"};
  }
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
    PgResult rollback;
    const auto within = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    if (!exec_until(conn_.get(), "ROLLBACK", {}, within, rollback)) {
      timed_out_ = true;  // the server stopped answering: no second try
      conn_.reset();
    }
  }
  return Status{ErrorCode::unavailable,
                std::string("audit log not written, the read is not answered unaudited: ") + s.message()};
}

}  // namespace carbon::store
