#pragma once
/// The threads around the Exchange: gRPC threads submit commands into a
/// bounded lock-free ring; one engine thread applies them in order; one
/// journal writer thread commits their events in batches and only then
/// completes the callers' replies.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/idle_waiter.h"
#include "common/mpsc_ring.h"
#include "common/spsc_ring.h"
#include "engine/exchange.h"
#include "engine/runtime_metrics.h"

namespace carbon::engine {

/// Receives a command's reply once its events are durable. complete() is
/// called exactly once, on the journal writer thread; after it returns the
/// runtime no longer touches the object (it may delete itself).
class Completion {
 public:
  virtual ~Completion() = default;
  virtual void complete(Reply&& reply) = 0;
};

/// Makes events durable. Called only from the journal writer thread.
/// UNAVAILABLE means a passing outage (the batch is retried); any other
/// error is permanent and stops the process (fail-stop).
class JournalSink {
 public:
  virtual ~JournalSink() = default;
  /// Commits the events of every outcome in `batch`, in order, in one
  /// transaction. Returns ok only once the transaction has committed.
  [[nodiscard]] virtual Status commit(const std::vector<const Outcome*>& batch) = 0;

  /// Pipelining, optional: how many batches may be in flight at once (started,
  /// their result not yet taken).
  virtual std::size_t pipeline_depth() const { return 1; }
  /// True when the sink commits on threads of its own through start(),
  /// oldest_ready() and finish_oldest() (at any depth, 1 included). The writer
  /// then drives every commit through them, retries after a failure too, and
  /// sleeps with a deadline meanwhile: a commit that does not return is
  /// noticed (an outage) and a stop can interrupt it. False: depth 1 commits
  /// through commit() on the writer thread, which waits in it.
  virtual bool asynchronous() const { return pipeline_depth() > 1; }
  /// Starts committing `batch` after every batch started before it: their
  /// transactions run side by side but commit in the order started, each only
  /// once the one before it has. `batch` and its outcomes stay alive until the
  /// result is taken; `ready` is notified when a result is ready. Only with
  /// fewer than pipeline_depth() batches in flight.
  virtual void start(const std::vector<const Outcome*>& batch, IdleWaiter& ready) {
    (void)batch;
    (void)ready;
  }
  /// True when the oldest batch in flight has its result (finish_oldest() will not wait).
  virtual bool oldest_ready() const { return true; }
  /// Waits for the oldest batch in flight. Ok: it is committed. Otherwise it
  /// and every batch started after it are not committed (the sink waited for
  /// them and rolled them back; oldest_ready() is true only once they are
  /// done), nothing is in flight any more, and the caller commits them again,
  /// in order, one at a time (start() and finish_oldest()).
  [[nodiscard]] virtual Status finish_oldest() { return Status{ErrorCode::internal, "this journal is not pipelined"}; }
  /// Any thread, pipelined sinks: makes every batch in flight fail now (their
  /// outcome unknown: a COMMIT may have landed unseen) instead of waiting for
  /// a database that does not answer. Used by a stop that has waited long enough.
  virtual void interrupt() {}
};

/// One committed command as a CommitListener sees it.
struct CommittedOutcome {
  const Outcome* outcome = nullptr;  ///< events and reply; valid only during the call
  ParticipantId issuer = 0;          ///< the participant whose trader sent the command; 0 for staff
  /// The caller was answered UNAVAILABLE (outcome unknown) while the database
  /// was unreachable, before this commit: the reply never reached it.
  bool answered_unavailable = false;
  std::size_t kind = 0;  ///< the command's CommandBody index
};

/// Observes what the journal has committed, for market data and unsolicited
/// execution reports. on_commit() is called on the journal writer thread
/// after each batch's transaction has committed and BEFORE the batch's
/// completions run: the replies are still whole (complete() moves them out),
/// and whatever the listener hands on about a command is ordered before the
/// command's own reply. Only outcomes that journaled events are passed, in
/// sequence order; an abandoned (never committed) batch is not passed. The
/// writer waits for on_commit(): it must be quick, must not block on I/O or
/// on a lock held for long, must not throw, and must not call the runtime.
class CommitListener {
 public:
  virtual ~CommitListener() = default;
  virtual void on_commit(std::span<const CommittedOutcome> batch) noexcept = 0;
};

/// Sizes of the rings and batches.
struct RuntimeOptions {
  std::size_t command_ring_capacity = 65'536;  ///< power of two
  std::size_t event_ring_capacity = 65'536;    ///< power of two
  std::size_t max_batch = 4'096;               ///< outcomes per commit at most
  int max_batch_wait_us = 0;                   ///< once a batch has its first outcome, how long (µs) the writer
                                               ///< waits for more before committing; 0 = commit as soon as the
                                               ///< ring is empty (a commit in flight still groups what arrives)
  int unavailable_after_ms = 2'000;            ///< while commits fail (database unreachable), a command waiting
                                               ///< longer than this is answered UNAVAILABLE (outcome unknown);
                                               ///< its events stay queued and are committed once the database is back
  int stop_commit_retry_ms = 5'000;            ///< on stop, how long a failing commit is retried before
                                               ///< everything uncommitted is answered UNAVAILABLE
  std::size_t pipeline_min_batch = 256;        ///< pipelined sinks: a batch starts beside one in flight only
                                               ///< with this many outcomes (smaller ones keep filling until the
                                               ///< one in flight is done: fewer, larger commits at light load)
};

/// Counters for logs and metrics; read from any thread.
struct RuntimeCounters {
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> rejected_full{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> commit_failures{0};
  std::atomic<std::uint64_t> refused_unavailable{0};  ///< submits refused while the database was unreachable
  std::atomic<std::uint64_t> answered_unavailable{0};  ///< waiting commands answered UNAVAILABLE during an outage
};

/// Owns the engine and journal writer threads.
class EngineRuntime {
 public:
  /// The exchange, clock and sink must outlive the runtime.
  EngineRuntime(Exchange& exchange, const Clock& clock, JournalSink& sink, RuntimeOptions options);
  ~EngineRuntime();
  EngineRuntime(const EngineRuntime&) = delete;
  EngineRuntime& operator=(const EngineRuntime&) = delete;

  /// Sets the observer of committed batches (nullptr = none). Call before
  /// start(); the listener must outlive the runtime's threads (stop()).
  void set_commit_listener(CommitListener* listener) { listener_ = listener; }

  /// Sets the metrics the engine and writer threads update (nullptr = none).
  /// Call before start(); they must outlive the runtime's threads.
  void set_metrics(RuntimeMetrics* metrics) { metrics_ = metrics; }

  /// Starts both threads. Call once.
  void start();

  /// Any thread. Queues a command; on success the runtime owns `completion`
  /// until it calls complete(). Never blocks: a full ring answers
  /// RESOURCE_EXHAUSTED, a stopping runtime or one whose commits are failing
  /// (database unreachable) UNAVAILABLE (completion untouched, nothing done).
  [[nodiscard]] Status submit(Command command, Completion* completion);

  /// Stops intake, lets the engine drain the ring and the writer commit
  /// everything, then joins both threads. Idempotent; any thread but those two.
  void stop();

  /// True once every outcome handed to the writer has been completed and the threads have stopped.
  bool stopped() const { return writer_done_.load(std::memory_order_acquire); }

  const RuntimeCounters& counters() const { return counters_; }
  /// True while the last commit attempt failed (the database is unreachable); any thread.
  bool journal_unavailable() const { return journal_down_.load(std::memory_order_relaxed); }
  /// Commands waiting for the engine (approximate).
  std::size_t command_ring_depth() const { return commands_.approximate_size(); }
  /// Outcomes waiting for the journal writer (approximate).
  std::size_t event_ring_depth() const { return outcomes_.approximate_size(); }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Request {
    Command command;
    Completion* completion = nullptr;
    TimePoint submitted{};
  };
  struct Pending {
    Outcome outcome;
    Completion* completion = nullptr;  ///< nullptr once answered (outage) or for none
    TimePoint submitted{};
    ParticipantId issuer = 0;
    std::size_t kind = 0;  ///< the command's CommandBody index, for metrics
    bool answered_unavailable = false;  ///< answered UNAVAILABLE before its commit (outage)
  };

  /// A batch handed to a pipelined sink (or, behind a failed one, waiting
  /// for commit_with_retry), answered when its turn comes: in order.
  struct InFlight {
    std::vector<Pending> batch;
    std::vector<const Outcome*> journaled;  ///< the sink reads it until the result is taken
    TimePoint started{};
    bool in_sink = false;  ///< started in the sink; otherwise committed by commit_with_retry
  };

  void engine_loop();
  void writer_loop();
  /// Pipelined sinks: hands the batch to the sink (or queues it behind one
  /// that failed) and leaves `batch` empty.
  void launch(std::vector<Pending>& batch);
  /// stop(): joins `thread` once `done`, interrupting the sink's commits from give_up_at_ on.
  void join_by_deadline(std::thread& thread, const std::atomic<bool>& done);
  /// Spins a little, then sleeps until an outcome arrives or the oldest batch in flight has its result.
  void wait_for_work(int& idle_spins);
  /// True when finish_oldest() will not wait (the oldest in flight has its result, or is not in the sink).
  bool oldest_done() const;
  /// Sleeps until the oldest batch in flight has its result, answering callers who wait too long meanwhile.
  void await_oldest();
  /// Sleeps on writer_waiter_ (after prepare_wait) until notified, or until the oldest batch in
  /// flight has been in the sink unavailable_after_ms (or stop's deadline passed): then treats the
  /// database as unreachable, as an outage, and past stop's deadline interrupts the sink.
  void sleep_watching_oldest(std::uint32_t ticket);
  /// Takes the oldest in-flight batch's result (waiting for it), answers it, and drops it.
  void finish_oldest();
  /// Notifies the listener (if committed), observes and completes a batch's replies.
  void answer(std::vector<Pending>& batch, bool committed);
  /// A commit succeeded: counters, metrics, and the end of an outage.
  void record_commit(std::size_t commands, TimePoint started);
  bool take_outcome(std::vector<Pending>& batch);
  void fill_batch(std::vector<Pending>& batch);
  /// True once the batch's events are committed; false if it was abandoned (replies set to UNAVAILABLE).
  /// An asynchronous sink's batch is in_flight_.front(), nothing else in the sink.
  bool commit_with_retry(std::vector<Pending>& batch);
  /// One attempt: sink_.commit(), or an asynchronous sink's start() and finish_oldest() with the writer
  /// watching it as any batch in flight (the batch is in_flight_.front()).
  Status commit_once(const std::vector<const Outcome*>& journaled);
  void notify_listener(const std::vector<Pending>& batch);
  void observe_replies(const std::vector<Pending>& batch);
  void wait_out_outage(std::chrono::milliseconds pause);
  /// During an outage: takes the engine's outcomes off its ring (into backlog_) and answers everyone
  /// who has waited longer than unavailable_after_ms: in flight (which holds the batch being retried,
  /// asynchronous sink), filling_ (the batch being retried by a synchronous sink, or held back) and backlog_.
  void answer_all_overdue();
  template <typename Container>
  void answer_overdue(Container& pendings);
  void fail_unknown(std::vector<Pending>& batch);
  /// After an outage: takes commands again once a commit has succeeded and what queued during the outage
  /// (backlog_, then in_flight_) is committed. A database that comes and goes cannot grow the backlog without
  /// bound, and new callers do not wait behind it.
  void reopen_if_caught_up();

  Exchange& exchange_;
  const Clock& clock_;
  JournalSink& sink_;
  RuntimeOptions options_;
  RuntimeCounters counters_;
  CommitListener* listener_ = nullptr;
  RuntimeMetrics* metrics_ = nullptr;
  std::vector<CommittedOutcome> committed_;  ///< writer thread only: the listener's view of a batch

  MpscRing<Request> commands_;
  SpscRing<Pending> outcomes_;
  IdleWaiter engine_waiter_;
  IdleWaiter writer_waiter_;

  std::atomic<bool> accepting_{false};
  std::atomic<int> submitters_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> engine_done_{false};
  std::atomic<bool> writer_done_{false};
  std::atomic<bool> stopping_writer_{false};
  std::atomic<bool> journal_down_{false};                ///< set by the writer while commits fail
  /// Writer thread only: a commit succeeded during an outage. Commands are taken again (journal_down_ cleared)
  /// once backlog_ is committed too (reopen_if_caught_up).
  bool commits_resumed_ = false;
  std::deque<Pending> backlog_;                          ///< writer thread only: taken off the ring during an outage
  std::deque<InFlight> in_flight_;                       ///< writer thread only: pipelined batches, oldest first
  std::vector<Pending> filling_;                         ///< writer thread only: the batch being filled (or held)
  std::vector<std::vector<Pending>> spare_batches_;      ///< writer thread only: answered batches' vectors, reused
  std::chrono::steady_clock::time_point give_up_at_{};  ///< written before stopping_writer_ is set
  bool abandoned_ = false;                               ///< writer thread only
  std::chrono::steady_clock::time_point next_overdue_pass_{};  ///< writer thread only: a commit not returning
  std::thread engine_thread_;
  std::thread writer_thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace carbon::engine
