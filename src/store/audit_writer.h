#pragma once
/// Writes the audit records of staff reads (calls that change nothing, so
/// have no journal batch to ride in) to audit_log before they are answered.
/// One thread with its own connection; submit() only queues, so the journal
/// writer thread (which completes reads answered by the engine) and the gRPC
/// threads never wait for PostgreSQL here.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/status.h"
#include "engine/access_records.h"
#include "store/pg.h"

namespace carbon::store {

class AuditWriter {
 public:
  /// Called on the writer's thread with OK once the record is committed, or
  /// UNAVAILABLE if it could not be written (the read must then not be answered).
  using Done = std::function<void(Status)>;

  /// `lock_timeout_ms`: how long a record waits for the audit log's lock
  /// (held by a journal transaction that does not end, say) before its call
  /// is told UNAVAILABLE. A record not committed within that plus
  /// kAnswerMarginMs (the server does not answer: a frozen host) is
  /// abandoned with UNAVAILABLE too, and its connection with it.
  explicit AuditWriter(std::string conninfo, int lock_timeout_ms = kLockTimeoutMs);
  static constexpr int kLockTimeoutMs = 5'000;
  static constexpr int kAnswerMarginMs = 2'000;
  /// Writes what is queued, then stops.
  ~AuditWriter();
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  /// Queues `entry` (its sequence is 0: a read); any thread. While the writer
  /// is being destroyed, calls `done` at once, on the caller's thread, with UNAVAILABLE.
  void submit(engine::AuditEntry entry, Done done);

 private:
  void run();
  Status write(const engine::AuditEntry& entry);

  std::string conninfo_;
  std::string begin_;  ///< BEGIN, the lock timeout, and the lock
  int answer_within_ms_;
  bool timed_out_ = false;  ///< the last write's server did not answer in time (no retry then)
  PgConn conn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<engine::AuditEntry, Done>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace carbon::store
