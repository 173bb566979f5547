#include "store/pipelined_journal.h"

#include <algorithm>
#include <utility>

namespace carbon::store {

PipelinedJournal::PipelinedJournal(std::string conninfo, std::size_t connections) {
  lanes_.reserve(std::max<std::size_t>(connections, 1));
  for (std::size_t k = 0; k < std::max<std::size_t>(connections, 1); ++k) {
    lanes_.push_back(std::make_unique<Lane>(conninfo));
  }
  for (auto& lane : lanes_) lane->thread = std::thread([this, l = lane.get()] { lane_loop(*l); });
}

PipelinedJournal::~PipelinedJournal() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& lane : lanes_) lane->thread.join();
}

Sequence PipelinedJournal::last_committed() const {
  std::lock_guard lock(mutex_);
  return tail_;
}

void PipelinedJournal::start(const std::vector<const engine::Outcome*>& batch, IdleWaiter& ready) {
  {
    std::lock_guard lock(mutex_);
    Job& job = jobs_.emplace_back();
    job.id = next_id_++;
    job.batch = &batch;
    job.ready = &ready;
    Lane& lane = *lanes_[next_lane_];
    next_lane_ = (next_lane_ + 1) % lanes_.size();
    // Depth = lanes and jobs finish in order, so the lane's previous job is done and taken.
    lane.journal.clear_interrupt();  // an interrupt from here on (finish(), interrupt()) holds for this job
    lane.job = &job;
  }
  changed_.notify_all();
}

bool PipelinedJournal::oldest_ready() const {
  std::lock_guard lock(mutex_);
  if (jobs_.empty() || !jobs_.front().done) return false;
  // A failure is taken with every later job (finish_oldest waits for them):
  // ready once they are done too, so the caller waits for them watching the time.
  return jobs_.front().status.is_ok() ||
         std::all_of(jobs_.begin(), jobs_.end(), [](const Job& j) { return j.done; });
}

Status PipelinedJournal::finish_oldest() {
  std::unique_lock lock(mutex_);
  if (jobs_.empty()) return Status{ErrorCode::internal, "journal: no batch in flight"};
  changed_.wait(lock, [&] { return jobs_.front().done; });
  Status status = std::move(jobs_.front().status);
  jobs_.pop_front();
  if (!status.is_ok()) {
    // Every later job sees failed_ and abandons its transaction (finish() cut
    // their statements); wait for them, then start afresh: connections
    // closed, so each reads the tail again.
    changed_.wait(lock, [&] { return std::all_of(jobs_.begin(), jobs_.end(), [](const Job& j) { return j.done; }); });
    jobs_.clear();
    failed_ = false;
    for (auto& lane : lanes_) lane->reconnect = true;
  }
  return status;
}

void PipelinedJournal::interrupt() {
  for (auto& lane : lanes_) lane->journal.interrupt();
}

Status PipelinedJournal::commit(const std::vector<const engine::Outcome*>& batch) {
  if (batch.empty()) return Status::ok();
  IdleWaiter unused;
  start(batch, unused);
  return finish_oldest();
}

void PipelinedJournal::lane_loop(Lane& lane) {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || lane.job != nullptr; });
    if (lane.job == nullptr) return;  // stopping, nothing in hand
    Job& job = *lane.job;
    const Sequence tail = tail_;
    const bool reconnect = std::exchange(lane.reconnect, false);
    // Nothing before it in flight, and nothing failed since the caller last
    // took a failure: the whole transaction in one round trip, as PostgresJournal::commit.
    const bool alone = !failed_ && done_through_ + 1 == job.id;
    lock.unlock();

    if (alone) {
      if (reconnect) lane.journal.disconnect();
      Status status = lane.journal.commit(*job.batch, tail);
      lock.lock();
      updated_through_ = job.id;
      finish(lane, job, std::move(status));
      continue;
    }

    // 1. Appends: side by side with the batches before it (new keys only, nothing to wait for).
    if (reconnect) lane.journal.disconnect();
    Status status = lane.journal.begin(*job.batch, tail);

    // 2. Updates of rows earlier batches wrote, once the batch before it made
    // its own: this transaction may then wait for that one's row locks (until
    // it commits), never the other way round, so no two wait for each other.
    // The projections' upserts only need that (INSERT ... ON CONFLICT waits
    // for a conflicting row's writer); the market-state and registry
    // statements read rows (foreign keys, delete-then-insert of a holding's
    // CCER blocks) that an uncommitted transaction would hide, so a batch
    // with any runs them only after the batch before it committed.
    const bool after_commit = lane.journal.has_market_statements();
    lock.lock();
    changed_.wait(lock, [&] { return (after_commit ? done_through_ : updated_through_) + 1 == job.id; });
    const bool update = status.is_ok() && !failed_;
    lock.unlock();
    if (update) status = lane.journal.update();
    lock.lock();
    updated_through_ = job.id;
    changed_.notify_all();

    // 3. Commit after the batch before it committed; abandon if any before it failed.
    changed_.wait(lock, [&] { return done_through_ + 1 == job.id; });
    const bool commit = status.is_ok() && !failed_;
    lock.unlock();
    if (commit) {
      status = lane.journal.end(true);
    } else {
      (void)lane.journal.end(false);
      if (status.is_ok()) status = Status{ErrorCode::unavailable, "journal: not committed, a batch before it failed"};
    }

    lock.lock();
    finish(lane, job, std::move(status));
  }
}

void PipelinedJournal::finish(Lane& lane, Job& job, Status status) {
  if (!status.is_ok()) {
    failed_ = true;
    // The jobs after it can no longer commit: cut their statements rather
    // than wait for them, since one may be stuck (on a lock, or on a server
    // that stopped answering, which is often why this one failed).
    for (auto& other : lanes_) {
      if (other.get() != &lane && other->job != nullptr && !other->job->done) other->journal.interrupt();
    }
  } else if (!job.batch->empty()) {
    tail_ = std::max(tail_, job.batch->back()->sequence);
  }
  job.status = std::move(status);
  job.done = true;
  done_through_ = job.id;
  lane.job = nullptr;
  changed_.notify_all();
  job.ready->notify();
}

}  // namespace carbon::store
