#include "engine/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <spdlog/spdlog.h>

namespace carbon::engine {

EngineRuntime::EngineRuntime(Exchange& exchange, const Clock& clock, JournalSink& sink, RuntimeOptions options)
    : exchange_(exchange),
      clock_(clock),
      sink_(sink),
      options_(options),
      commands_(options.command_ring_capacity),
      outcomes_(options.event_ring_capacity) {}

EngineRuntime::~EngineRuntime() { stop(); }

void EngineRuntime::start() {
  accepting_.store(true, std::memory_order_release);
  engine_thread_ = std::thread([this] { engine_loop(); });
  writer_thread_ = std::thread([this] { writer_loop(); });
}

Status EngineRuntime::submit(Command command, Completion* completion) {
  submitters_.fetch_add(1, std::memory_order_seq_cst);
  if (!accepting_.load(std::memory_order_seq_cst)) {
    submitters_.fetch_sub(1, std::memory_order_release);
    return Status{ErrorCode::unavailable, "carbond is shutting down and takes no new commands"};
  }
  if (journal_down_.load(std::memory_order_relaxed)) {
    submitters_.fetch_sub(1, std::memory_order_release);
    counters_.refused_unavailable.fetch_add(1, std::memory_order_relaxed);
    return Status{ErrorCode::unavailable,
                  "the database is unreachable: carbond takes no commands until it is back (nothing was done)"};
  }
  Request request{std::move(command), completion, std::chrono::steady_clock::now()};
  const bool pushed = commands_.try_push(request);
  if (pushed) engine_waiter_.notify();
  // Last touch of the runtime: stop() may finish (and the owner destroy it) once this reaches 0.
  submitters_.fetch_sub(1, std::memory_order_seq_cst);
  if (!pushed) {
    counters_.rejected_full.fetch_add(1, std::memory_order_relaxed);
    return Status{ErrorCode::resource_exhausted, "the engine's command ring is full; retry later"};
  }
  return Status::ok();
}

void EngineRuntime::stop() {
  if (stopped_.exchange(true)) return;
  // One deadline for every commit still failing from here on: past it the
  // writer abandons what is left (see commit_with_retry), so stop() returns
  // even while the database is down and the rings are full.
  give_up_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_commit_retry_ms);
  stopping_writer_.store(true, std::memory_order_seq_cst);
  accepting_.store(false, std::memory_order_seq_cst);
  while (submitters_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  draining_.store(true, std::memory_order_release);
  engine_waiter_.wake();
  writer_waiter_.wake();
  join_by_deadline(engine_thread_, engine_done_);
  writer_waiter_.wake();
  join_by_deadline(writer_thread_, writer_done_);
}

void EngineRuntime::join_by_deadline(std::thread& thread, const std::atomic<bool>& done) {
  if (!thread.joinable()) return;
  // Past the deadline a commit that has not returned is interrupted: the
  // writer may be inside one (a synchronous sink: it cannot watch the time
  // itself), and the engine may be waiting for room the writer would make.
  auto next_interrupt = give_up_at_;
  while (!done.load(std::memory_order_acquire)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_interrupt) {
      sink_.interrupt();
      next_interrupt = now + std::chrono::milliseconds(200);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  thread.join();
}

void EngineRuntime::engine_loop() {
  int idle_spins = 0;
  for (;;) {
    std::optional<Request> request = commands_.try_pop();
    if (!request) {
      if (draining_.load(std::memory_order_acquire)) {
        request = commands_.try_pop();
        if (!request) break;
      } else if (++idle_spins < kSpinsBeforeSleep) {
        cpu_relax();
        continue;
      } else {
        const auto ticket = engine_waiter_.prepare_wait();
        request = commands_.try_pop();
        if (!request) {
          if (!draining_.load(std::memory_order_acquire)) engine_waiter_.wait(ticket);
          engine_waiter_.cancel_wait();
          idle_spins = 0;
          continue;
        }
        engine_waiter_.cancel_wait();
      }
    }
    idle_spins = 0;
    const std::size_t kind = request->command.body.index();
    Pending pending{exchange_.execute(request->command, clock_.now()), request->completion, request->submitted,
                    request->command.principal.participant, kind};
    if (!request->command.audit_method.empty()) {
      // An audited call: who, what, when and the outcome, journaled with the command's events; one that
      // journaled nothing carries its record in the reply, for the server to write before it answers.
      // The command is spent: its audit strings move into the record rather than being copied.
      Command& c = request->command;
      const Principal& who = c.principal;
      const ParticipantId acted_on = who.participant != 0      ? who.participant
                                     : c.audit_participant != 0 ? c.audit_participant
                                                                : exchange_.acted_on(c.body);
      AuditEntry entry{pending.outcome.sequence, pending.outcome.at, who.token_id, who.role,
                       who.name, acted_on,
                       std::move(c.audit_method), std::move(c.audit_peer),
                       std::move(c.audit_request), pending.outcome.reply.status.code(),
                       pending.outcome.reply.status.message(), 0};
      if (pending.outcome.sequence != 0) {
        pending.outcome.audit = std::move(entry);
      } else {
        pending.outcome.reply.unjournaled_audit = std::move(entry);
      }
    }
    if (pending.outcome.sequence == 0 && request->command.principal.role != Role::trader) {
      // A staff read: its audit record (made by the server) names the participant it read about.
      pending.outcome.reply.acted_on = exchange_.acted_on(request->command.body);
    }
    counters_.commands.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->commands[kind]->Increment();
    while (!outcomes_.try_push(pending)) {
      // The writer is behind (the database is slow or down): wait for room.
      writer_waiter_.notify_if(outcomes_.approximate_size());
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    // Wakes the writer only if it sleeps waiting for this many outcomes (see wait_for_work).
    writer_waiter_.notify_if(outcomes_.approximate_size());
  }
  engine_done_.store(true, std::memory_order_release);
  writer_waiter_.wake();
}

bool EngineRuntime::take_outcome(std::vector<Pending>& batch) {
  if (!backlog_.empty()) {
    batch.push_back(std::move(backlog_.front()));
    backlog_.pop_front();
    return true;
  }
  std::optional<Pending> pending = outcomes_.try_pop();
  if (!pending) return false;
  batch.push_back(std::move(*pending));
  return true;
}

void EngineRuntime::fill_batch(std::vector<Pending>& batch) {
  while (batch.size() < options_.max_batch && take_outcome(batch)) {
  }
  if (batch.empty() || options_.max_batch_wait_us <= 0) return;
  // Bounded by time as well as size: wait a little for more, then commit what there is.
  const auto close_at = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.max_batch_wait_us);
  while (batch.size() < options_.max_batch && !engine_done_.load(std::memory_order_acquire)) {
    if (take_outcome(batch)) continue;
    const auto now = std::chrono::steady_clock::now();
    if (now >= close_at) break;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(close_at - now,
                                                                             std::chrono::microseconds(50)));
  }
}

void EngineRuntime::writer_loop() {
  const std::size_t depth = std::max<std::size_t>(1, sink_.pipeline_depth());
  std::vector<Pending>& batch = filling_;
  batch.reserve(options_.max_batch);
  int idle_spins = 0;
  for (;;) {
    reopen_if_caught_up();
    fill_batch(batch);
    // A small batch waits for the one in flight rather than starting beside it.
    const bool hold = depth > 1 && !batch.empty() && !in_flight_.empty() &&
                      batch.size() < std::min(options_.pipeline_min_batch, options_.max_batch) &&
                      !engine_done_.load(std::memory_order_acquire);
    if (batch.empty() || hold) {
      if (!in_flight_.empty() && oldest_done()) {
        finish_oldest();
        continue;
      }
      if (hold) {
        wait_for_work(idle_spins);
        continue;
      }
      if (engine_done_.load(std::memory_order_acquire)) {
        if (outcomes_.approximate_size() != 0) continue;
        if (in_flight_.empty()) break;
        await_oldest();  // nothing more will come: wait for what is in flight
        finish_oldest();
        continue;
      }
      wait_for_work(idle_spins);
      continue;
    }
    idle_spins = 0;
    if (!sink_.asynchronous()) {
      answer(batch, commit_with_retry(batch));
      batch.clear();
      continue;
    }
    launch(batch);
    while (in_flight_.size() >= depth) {
      await_oldest();
      finish_oldest();
    }
  }
  writer_done_.store(true, std::memory_order_release);
}

void EngineRuntime::wait_for_work(int& idle_spins) {
  if (++idle_spins < kSpinsBeforeSleep) {
    cpu_relax();
    return;
  }
  // Sleep until the engine hands over enough outcomes or the sink has a result (both notify).
  // Nothing in flight: the first outcome starts a batch. A batch in flight: an outcome only
  // matters once the batch filling would start beside it (pipeline_min_batch); until then
  // the engine does not wake the writer for each one, only the sink's result or a full ring does.
  std::size_t wake_at = 1;
  if (!in_flight_.empty()) {
    const std::size_t min_batch = std::min(options_.pipeline_min_batch, options_.max_batch);
    wake_at = filling_.size() < min_batch ? min_batch - filling_.size() : 1;
    // A ring smaller than that would never hold it: then a full ring wakes the writer.
    wake_at = std::min(wake_at, options_.event_ring_capacity);
  }
  const auto ticket = writer_waiter_.prepare_wait(wake_at);
  if (outcomes_.approximate_size() == 0 && !engine_done_.load(std::memory_order_acquire) &&
      (in_flight_.empty() || !oldest_done())) {
    if (in_flight_.empty()) {
      writer_waiter_.wait(ticket);
    } else {
      sleep_watching_oldest(ticket);
    }
  }
  writer_waiter_.cancel_wait();
  idle_spins = 0;
}

bool EngineRuntime::oldest_done() const { return !in_flight_.front().in_sink || sink_.oldest_ready(); }

void EngineRuntime::await_oldest() {
  while (!oldest_done()) {
    // Outcomes cannot be committed before the oldest's result: only the sink wakes this sleep.
    const auto ticket = writer_waiter_.prepare_wait(std::numeric_limits<std::size_t>::max());
    if (oldest_done()) {
      writer_waiter_.cancel_wait();
      return;
    }
    sleep_watching_oldest(ticket);
  }
}

void EngineRuntime::sleep_watching_oldest(std::uint32_t ticket) {
  // A commit that does not return (the server stopped answering: a frozen
  // host, a lock never released) is treated as an outage once it has taken
  // unavailable_after_ms: refuse new commands, answer whoever waits longer
  // than that UNAVAILABLE, keep everything queued, and carry on once it
  // returns. A stop that has waited past its deadline interrupts it.
  const auto unavailable_after = std::chrono::milliseconds(options_.unavailable_after_ms);
  const InFlight& oldest = in_flight_.front();
  const bool stopping = stopping_writer_.load(std::memory_order_seq_cst);
  auto now = std::chrono::steady_clock::now();
  auto until = journal_down_.load(std::memory_order_relaxed) ? now + std::chrono::milliseconds(20)
                                                             : oldest.started + unavailable_after;
  if (stopping) until = std::min(until, give_up_at_);
  (void)writer_waiter_.wait_for(ticket, std::max<std::chrono::steady_clock::duration>(until - now,
                                                                                     std::chrono::milliseconds(1)));
  // Woken or not, look at the time: a wake-up may be the sink's result, the
  // engine's outcomes (wait_for_work), a stop, or none (the deadline).
  if (oldest_done()) return;
  now = std::chrono::steady_clock::now();
  const bool past_stop = stopping && now >= give_up_at_;
  // During an outage (a retry that hangs too) callers are answered at their own deadlines.
  if (!journal_down_.load(std::memory_order_relaxed) && now - oldest.started < unavailable_after && !past_stop) {
    return;
  }
  commits_resumed_ = false;
  if (!journal_down_.exchange(true, std::memory_order_relaxed)) {
    spdlog::error("a journal commit of {} commands has not returned for {} ms: refusing new commands and "
                  "answering UNAVAILABLE to whoever waits longer, until the database answers",
                  oldest.journaled.size(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(now - oldest.started).count());
  }
  if (now >= next_overdue_pass_) {  // a pass over every waiting caller, not at every wake-up
    next_overdue_pass_ = now + std::chrono::milliseconds(20);
    answer_all_overdue();
  }
  if (past_stop && !abandoned_) {
    spdlog::critical("stopping while a journal commit of {} commands has not returned: interrupting it; it and "
                     "every later command are not acknowledged",
                     oldest.journaled.size());
    abandoned_ = true;
    sink_.interrupt();
  }
}

void EngineRuntime::answer(std::vector<Pending>& batch, bool committed) {
  if (committed && listener_ != nullptr) notify_listener(batch);
  if (metrics_ != nullptr) observe_replies(batch);
  for (Pending& pending : batch) {
    if (pending.completion != nullptr) pending.completion->complete(std::move(pending.outcome.reply));
  }
}

void EngineRuntime::launch(std::vector<Pending>& batch) {
  InFlight& flight = in_flight_.emplace_back();
  flight.batch = std::move(batch);
  if (spare_batches_.empty()) {
    batch = std::vector<Pending>();
    batch.reserve(options_.max_batch);
  } else {  // one an answered batch left: its room is allocated already
    batch = std::move(spare_batches_.back());
    spare_batches_.pop_back();
  }
  flight.started = std::chrono::steady_clock::now();
  for (Pending& pending : flight.batch) {
    if (!pending.outcome.events.empty()) flight.journaled.push_back(&pending.outcome);
  }
  if (flight.journaled.empty()) return;  // nothing to journal: answered in its turn
  // Into the sink only behind batches that are in it too: those that failed
  // there are committed by commit_with_retry first, one at a time.
  auto behind_retry = [&] {
    return std::any_of(in_flight_.begin(), std::prev(in_flight_.end()),
                       [](const InFlight& f) { return !f.in_sink && !f.journaled.empty(); });
  };
  while (behind_retry()) {
    await_oldest();
    finish_oldest();
  }
  if (abandoned_ || journal_down_.load(std::memory_order_relaxed)) return;  // commit_with_retry, in its turn
  sink_.start(flight.journaled, writer_waiter_);
  flight.in_sink = true;
}

void EngineRuntime::finish_oldest() {
  InFlight& flight = in_flight_.front();
  bool committed = true;
  if (flight.in_sink) {
    Status status = sink_.finish_oldest();
    if (status.is_ok()) {
      record_commit(flight.journaled.size(), flight.started);
    } else {
      // The sink rolled back this batch and every later one: commit them
      // again, one at a time and in order, the way an outage is ridden out.
      // Whatever the error: batches side by side can fail where one alone
      // would not, so the verdict (retry, or stop for good) is commit_with_retry's.
      counters_.commit_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("journal pipeline: a batch of {} commands was not committed ({}); committing it and the {} "
                   "after it one at a time",
                   flight.journaled.size(), status.message(), in_flight_.size() - 1);
      for (InFlight& f : in_flight_) f.in_sink = false;
      if (stopping_writer_.load(std::memory_order_seq_cst) && std::chrono::steady_clock::now() >= give_up_at_) {
        // Interrupted by stop() past its deadline (or failed then): no retry on a fresh connection.
        abandoned_ = true;
      }
      committed = commit_with_retry(flight.batch);
    }
  } else {
    committed = commit_with_retry(flight.batch);
  }
  answer(flight.batch, committed);
  flight.batch.clear();
  spare_batches_.push_back(std::move(flight.batch));
  in_flight_.pop_front();
}

void EngineRuntime::record_commit(std::size_t commands, TimePoint started) {
  counters_.batches.fetch_add(1, std::memory_order_relaxed);
  if (journal_down_.load(std::memory_order_relaxed)) commits_resumed_ = true;
  if (metrics_ == nullptr) return;
  metrics_->commit_batch_size->Observe(static_cast<double>(commands));
  metrics_->commit_latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void EngineRuntime::reopen_if_caught_up() {
  // Nothing of the outage left: neither queued nor taken into a batch not yet committed.
  if (!commits_resumed_ || !backlog_.empty() || !in_flight_.empty()) return;
  commits_resumed_ = false;
  if (journal_down_.exchange(false, std::memory_order_relaxed)) {
    spdlog::info("journal commits succeed again and what queued during the outage is committed: carbond takes "
                 "commands");
  }
}

void EngineRuntime::observe_replies(const std::vector<Pending>& batch) {
  const auto now = std::chrono::steady_clock::now();
  for (const Pending& pending : batch) {
    if (pending.completion == nullptr) continue;  // answered already (outage), or nobody waits
    metrics_->ack_latency->Observe(std::chrono::duration<double>(now - pending.submitted).count());
    if (!pending.outcome.reply.status.is_ok()) {
      const auto* rejected = pending.outcome.events.empty()
                                 ? nullptr
                                 : std::get_if<CommandRejected>(&pending.outcome.events.front());
      metrics_->rejections.count(pending.kind, pending.outcome.reply.status,
                                 rejected != nullptr ? std::string_view(rejected->command) : std::string_view{});
    }
  }
}

void EngineRuntime::notify_listener(const std::vector<Pending>& batch) {
  committed_.clear();
  for (const Pending& pending : batch) {
    if (!pending.outcome.events.empty()) {
      committed_.push_back(
          CommittedOutcome{&pending.outcome, pending.issuer, pending.answered_unavailable, pending.kind});
    }
  }
  if (!committed_.empty()) listener_->on_commit(committed_);
}

bool EngineRuntime::commit_with_retry(std::vector<Pending>& batch) {
  if (abandoned_) {
    fail_unknown(batch);
    return false;
  }
  std::vector<const Outcome*> journaled;
  for (const Pending& pending : batch) {
    if (!pending.outcome.events.empty()) journaled.push_back(&pending.outcome);
  }
  if (journaled.empty()) return true;
  auto backoff = std::chrono::milliseconds(20);
  for (;;) {
    // The same batch, whole, on every attempt: the sink relies on it to recognise a batch that landed.
    const auto commit_started = std::chrono::steady_clock::now();
    Status status = commit_once(journaled);
    if (status.is_ok()) {
      record_commit(journaled.size(), commit_started);
      return true;
    }
    counters_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    // A stop past its deadline (whose interrupt may be what ended this
    // attempt, whatever its status says): no other attempt.
    if (abandoned_ ||
        (stopping_writer_.load(std::memory_order_seq_cst) && std::chrono::steady_clock::now() >= give_up_at_)) {
      if (!abandoned_) {
        spdlog::critical("stopping with the database unavailable: {} and later commands are not acknowledged ({})",
                         journaled.size(), status.message());
      }
      abandoned_ = true;
      fail_unknown(batch);
      return false;
    }
    if (status.code() != ErrorCode::unavailable) {
      // Not a passing outage: retrying cannot help, and carrying on would
      // acknowledge what never reached the journal. Stop here; nothing
      // unacknowledged is kept, and a restart recovers the committed state.
      spdlog::critical("journal commit of {} commands failed for good, stopping carbond: {}", journaled.size(),
                       status.message());
      spdlog::shutdown();
      std::abort();
    }
    commits_resumed_ = false;
    if (!journal_down_.exchange(true, std::memory_order_relaxed)) {
      spdlog::error("journal commit of {} commands failed: {}; refusing new commands and retrying", journaled.size(),
                    status.message());
    } else if (backoff >= std::chrono::milliseconds(1000)) {
      spdlog::warn("journal commit still failing, retrying: {}", status.message());
    }
    wait_out_outage(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

Status EngineRuntime::commit_once(const std::vector<const Outcome*>& journaled) {
  if (!sink_.asynchronous()) return sink_.commit(journaled);
  // finish_oldest()'s batch, alone: one that failed in the sink (which then
  // emptied itself), or one queued during an outage (none is started behind it).
  InFlight& flight = in_flight_.front();
  flight.started = std::chrono::steady_clock::now();
  sink_.start(journaled, writer_waiter_);
  flight.in_sink = true;
  await_oldest();  // watched: past unavailable_after_ms an outage, past stop's deadline interrupted
  flight.in_sink = false;
  return sink_.finish_oldest();
}

void EngineRuntime::wait_out_outage(std::chrono::milliseconds pause) {
  const auto until = std::chrono::steady_clock::now() + pause;
  for (;;) {
    answer_all_overdue();
    const auto now = std::chrono::steady_clock::now();
    if (now >= until || (stopping_writer_.load(std::memory_order_seq_cst) && now >= give_up_at_)) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(20)));
  }
}

void EngineRuntime::answer_all_overdue() {
  // Keep the engine's ring moving (its commands were taken before the outage
  // was noticed) and answer whoever has waited too long.
  while (std::optional<Pending> pending = outcomes_.try_pop()) backlog_.push_back(std::move(*pending));
  for (InFlight& flight : in_flight_) answer_overdue(flight.batch);
  answer_overdue(filling_);
  answer_overdue(backlog_);
}

template <typename Container>
void EngineRuntime::answer_overdue(Container& pendings) {
  const auto cutoff = std::chrono::steady_clock::now() - std::chrono::milliseconds(options_.unavailable_after_ms);
  for (Pending& pending : pendings) {
    if (pending.completion == nullptr || pending.submitted > cutoff) continue;
    // Its events stay queued and will be committed when the database is back; the caller cannot know that yet.
    Reply reply;
    reply.status = Status{ErrorCode::unavailable,
                          "the database is unreachable: this command's outcome is unknown until carbond is back "
                          "(resubmit with the same client order id or idempotency key)"};
    // A staff command that journaled nothing (a repeat) is still audited, with this outcome.
    reply.unjournaled_audit = std::move(pending.outcome.reply.unjournaled_audit);
    pending.completion->complete(std::move(reply));
    pending.completion = nullptr;
    pending.answered_unavailable = true;
    counters_.answered_unavailable.fetch_add(1, std::memory_order_relaxed);
  }
}

void EngineRuntime::fail_unknown(std::vector<Pending>& batch) {
  // Every reply of an abandoned batch, repeats and reads included: none of
  // them may claim what the journal does not hold.
  for (Pending& pending : batch) {
    std::optional<AuditEntry> audit = std::move(pending.outcome.reply.unjournaled_audit);  // audited all the same
    pending.outcome.reply = Reply{};
    pending.outcome.reply.unjournaled_audit = std::move(audit);
    pending.outcome.reply.status = Status{
        ErrorCode::unavailable, "carbond stopped before the database confirmed this command; its outcome is unknown "
                                "until carbond is back (resubmit with the same client order id or idempotency key)"};
  }
}

}  // namespace carbon::engine
