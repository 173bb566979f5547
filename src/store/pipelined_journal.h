#pragma once
/// The journal writer on several connections: consecutive batches run their
/// statements side by side, each on its own connection and thread, and commit
/// strictly in order.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/runtime.h"
#include "store/journal.h"

namespace carbon::store {

/// A pipelined JournalSink: up to `connections` batches in flight, batch k on
/// connection k mod `connections` (a PostgresJournal each, driven by its own
/// thread). A batch's thread encodes it and appends its rows in a transaction
/// it leaves open (PostgresJournal::begin: the bulk of the work, side by side
/// with the batch before it). Once the batch before it has run its updates,
/// it runs its own upserts of projection rows (which wait for the earlier
/// transaction's row locks, never the other way round, so the later values
/// win and no two transactions wait for each other); market-state and
/// registry statements wait until the batch before it committed, since they
/// read rows an open transaction would hide. Once the batch before it
/// committed, it commits; if any batch before it failed, it abandons its
/// transaction (the server rolls it back). So the journal only ever holds a
/// prefix of the sequence, whatever fails or crashes when: a later batch
/// never commits before an earlier one, and none commits after a failure
/// before the caller has taken that failure and committed the failed
/// batches again, one at a time. A failure cuts the statements of the batches
/// after it (they can no longer commit), and is ready to be taken only once
/// they are done.
///
/// A batch with nothing before it in flight runs as PostgresJournal::commit
/// does, the whole transaction in one round trip.
///
/// After a failure every connection is closed, so each reconnects and reads
/// the journal's tail before its next batch (a batch whose COMMIT landed
/// unseen is recognised, not written twice).
class PipelinedJournal final : public engine::JournalSink {
 public:
  /// `connections` >= 1; nothing connects before the first batch.
  PipelinedJournal(std::string conninfo, std::size_t connections);
  ~PipelinedJournal() override;
  PipelinedJournal(const PipelinedJournal&) = delete;
  PipelinedJournal& operator=(const PipelinedJournal&) = delete;

  /// One batch, nothing else in flight: start() and finish_oldest().
  [[nodiscard]] Status commit(const std::vector<const engine::Outcome*>& batch) override;
  std::size_t pipeline_depth() const override { return lanes_.size(); }
  /// Always, one connection included: the caller's thread never waits inside a statement.
  bool asynchronous() const override { return true; }
  void start(const std::vector<const engine::Outcome*>& batch, IdleWaiter& ready) override;
  bool oldest_ready() const override;
  [[nodiscard]] Status finish_oldest() override;
  /// Interrupts every connection's statement in progress (PostgresJournal::interrupt).
  void interrupt() override;

  /// The highest sequence this writer knows to be committed.
  Sequence last_committed() const;

 private:
  struct Job {
    std::uint64_t id = 0;
    const std::vector<const engine::Outcome*>* batch = nullptr;
    IdleWaiter* ready = nullptr;
    bool done = false;
    Status status;
  };
  struct Lane {
    explicit Lane(const std::string& conninfo) : journal(conninfo) {}
    PostgresJournal journal;
    Job* job = nullptr;       ///< the batch this lane runs, if any
    bool reconnect = false;   ///< close the connection before the next batch (after a failure)
    std::thread thread;
  };

  void lane_loop(Lane& lane);
  /// With mutex_ held: records the job's result, in order, and wakes whoever waits for it.
  void finish(Lane& lane, Job& job, Status status);

  std::vector<std::unique_ptr<Lane>> lanes_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;           ///< in flight, in the order started (references stay valid)
  std::uint64_t next_id_ = 1;      ///< id of the next job started
  std::uint64_t updated_through_ = 0;  ///< every job up to this id ran its updates (in order)
  std::uint64_t done_through_ = 0;     ///< every job up to this id is done (jobs finish in order)
  std::size_t next_lane_ = 0;
  Sequence tail_ = 0;              ///< highest sequence committed through any lane
  bool failed_ = false;            ///< a job failed: every later one in flight abandons its transaction
  bool stopping_ = false;
};

}  // namespace carbon::store
