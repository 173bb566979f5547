#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/runtime.h"
#include "support/exposition.h"

namespace carbon::engine {
namespace {

/// A sink that can hold commits back and fail on purpose.
class ControlledSink final : public JournalSink {
 public:
  Status commit(const std::vector<const Outcome*>& batch) override {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return open_ || interrupted_; });
    if (!open_) {  // held, and interrupted: as a connection shut down under a statement
      ++interrupted_commits_;
      return Status{ErrorCode::unavailable, "interrupted"};
    }
    if (failures_to_inject_ > 0) {
      --failures_to_inject_;
      return Status{failure_code_, "injected failure"};
    }
    for (const Outcome* outcome : batch) committed_.push_back(outcome->sequence);
    if (hold_after_ > 0 && --hold_after_ == 0) open_ = false;  // the next commit waits for release()
    return Status::ok();
  }
  /// After `n` more commits succeed, holds the next ones back (as hold()).
  void hold_after_commits(int n) {
    std::lock_guard lock(mutex_);
    hold_after_ = n;
  }
  void hold() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    released_.notify_all();
  }
  void interrupt() override {
    {
      std::lock_guard lock(mutex_);
      interrupted_ = true;
    }
    released_.notify_all();
  }
  int interrupted_commits() {
    std::lock_guard lock(mutex_);
    return interrupted_commits_;
  }
  void fail_next(int n, ErrorCode code = ErrorCode::unavailable) {
    std::lock_guard lock(mutex_);
    failures_to_inject_ = n;
    failure_code_ = code;
  }
  std::vector<Sequence> committed() {
    std::lock_guard lock(mutex_);
    return committed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool open_ = true;
  bool interrupted_ = false;
  int interrupted_commits_ = 0;
  int failures_to_inject_ = 0;
  int hold_after_ = 0;
  ErrorCode failure_code_ = ErrorCode::unavailable;
  std::vector<Sequence> committed_;
};

/// An asynchronous sink (as PipelinedJournal: `depth` batches in flight, two
/// by default) whose batches finish only when the test releases them; the
/// next one released can be made to fail.
class PipelineSink final : public JournalSink {
 public:
  explicit PipelineSink(std::size_t depth = 2) : depth_(depth) {}
  std::size_t pipeline_depth() const override { return depth_; }
  bool asynchronous() const override { return true; }
  void start(const std::vector<const Outcome*>& batch, IdleWaiter& ready) override {
    std::lock_guard lock(mutex_);
    EXPECT_LT(in_flight_.size(), depth_) << "started beyond the sink's depth";
    ++started_;
    std::vector<Sequence> sequences;
    for (const Outcome* outcome : batch) sequences.push_back(outcome->sequence);
    in_flight_.push_back(std::move(sequences));
    most_in_flight_ = std::max(most_in_flight_, in_flight_.size());
    ready_ = &ready;
    changed_.notify_all();
  }
  bool oldest_ready() const override {
    std::lock_guard lock(mutex_);
    return !in_flight_.empty() && released_ > 0;
  }
  Status finish_oldest() override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return released_ > 0; });
    --released_;
    if (fail_next_) {
      // As the contract says: this one and every later one in flight are rolled back.
      fail_next_ = false;
      rolled_back_ += in_flight_.size();
      in_flight_.clear();
      return Status{ErrorCode::unavailable, "injected failure"};
    }
    for (Sequence s : in_flight_.front()) committed_.push_back(s);
    in_flight_.pop_front();
    return Status::ok();
  }
  Status commit(const std::vector<const Outcome*>& batch) override {
    ADD_FAILURE() << "commit() on an asynchronous sink: the writer would wait in it unwatched";
    (void)batch;
    return Status{ErrorCode::internal, "commit() on an asynchronous sink"};
  }
  /// Wakes the writer without a result (wake-ups may come for other reasons; the writer must look again).
  void poke() {
    IdleWaiter* ready = nullptr;
    {
      std::lock_guard lock(mutex_);
      ready = ready_;
    }
    if (ready != nullptr) ready->notify();
  }
  /// As PipelinedJournal::interrupt: every batch in flight fails now.
  void interrupt() override {
    {
      std::lock_guard lock(mutex_);
      ++interrupts_;
    }
    if (std::size_t n = in_flight(); n > 0) release(static_cast<int>(n), /*fail=*/true);
  }
  std::size_t in_flight() {
    std::lock_guard lock(mutex_);
    return in_flight_.size();
  }
  std::size_t interrupts() {
    std::lock_guard lock(mutex_);
    return interrupts_;
  }
  void release(int n, bool fail = false) {
    IdleWaiter* ready = nullptr;
    {
      std::lock_guard lock(mutex_);
      released_ += n;
      fail_next_ = fail_next_ || fail;
      ready = ready_;
    }
    changed_.notify_all();
    if (ready != nullptr) ready->notify();
  }
  bool wait_in_flight(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight_.size() >= n; });
  }
  std::vector<Sequence> committed() {
    std::lock_guard lock(mutex_);
    return committed_;
  }
  std::size_t most_in_flight() {
    std::lock_guard lock(mutex_);
    return most_in_flight_;
  }
  std::size_t rolled_back() {
    std::lock_guard lock(mutex_);
    return rolled_back_;
  }
  /// Batches started, retries included.
  std::size_t started() {
    std::lock_guard lock(mutex_);
    return started_;
  }

 private:
  const std::size_t depth_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<Sequence>> in_flight_;
  std::vector<Sequence> committed_;
  std::size_t most_in_flight_ = 0, rolled_back_ = 0, started_ = 0, interrupts_ = 0;
  int released_ = 0;
  bool fail_next_ = false;
  IdleWaiter* ready_ = nullptr;
};

/// Records the reply and signals a future.
class PromiseCompletion final : public Completion {
 public:
  void complete(Reply&& reply) override { promise.set_value(std::move(reply)); }
  std::promise<Reply> promise;
};

class RuntimeTest : public ::testing::Test {
 protected:
  Command deposit_participant_command(const std::string& code) {
    return Command{Principal{Role::operator_, 0, "ops"},
                   CreateParticipant{code, "Name", ParticipantType::institution, {}}};
  }
  Config config = default_config();
  Exchange exchange{config};
  ManualClock clock{1'000};
  ControlledSink sink;
};

TEST_F(RuntimeTest, ReplyIsSentOnlyAfterItsEventsAreCommitted) {
  EngineRuntime runtime(exchange, clock, sink, RuntimeOptions{});
  runtime.start();
  sink.hold();
  PromiseCompletion completion;
  auto reply = completion.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &completion).is_ok());
  EXPECT_EQ(reply.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_TRUE(sink.committed().empty());
  sink.release();
  ASSERT_EQ(reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Reply r = reply.get();
  EXPECT_TRUE(r.status.is_ok());
  ASSERT_EQ(sink.committed().size(), 1u);
  EXPECT_EQ(sink.committed()[0], r.sequence);
  runtime.stop();
}

TEST_F(RuntimeTest, FullRingAnswersResourceExhaustedInsteadOfBlocking) {
  RuntimeOptions options;
  options.command_ring_capacity = 2;
  options.event_ring_capacity = 2;
  options.max_batch = 1;
  EngineRuntime runtime(exchange, clock, sink, options);
  runtime.start();
  sink.hold();
  std::vector<std::unique_ptr<PromiseCompletion>> completions;
  Status refused;
  for (int i = 0; i < 64 && refused.is_ok(); ++i) {
    auto completion = std::make_unique<PromiseCompletion>();
    refused = runtime.submit(deposit_participant_command("P" + std::to_string(i)), completion.get());
    if (refused.is_ok()) completions.push_back(std::move(completion));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(refused.code(), ErrorCode::resource_exhausted);
  EXPECT_GE(runtime.counters().rejected_full.load(), 1u);
  sink.release();
  for (auto& completion : completions) {
    auto reply = completion->promise.get_future();
    ASSERT_EQ(reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_TRUE(reply.get().status.is_ok());
  }
  runtime.stop();
}

TEST_F(RuntimeTest, FailedCommitIsRetriedAndTheReplyStillArrivesOnce) {
  EngineRuntime runtime(exchange, clock, sink, RuntimeOptions{});
  runtime.start();
  sink.fail_next(2);
  PromiseCompletion completion;
  auto reply = completion.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &completion).is_ok());
  ASSERT_EQ(reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(reply.get().status.is_ok());
  EXPECT_EQ(sink.committed().size(), 1u);
  EXPECT_GE(runtime.counters().commit_failures.load(), 2u);
  runtime.stop();
}

/// A runtime on a PipelineSink, one command per batch, with two commands
/// (participants A and B) in flight together.
class PipelinedRuntimeTest : public RuntimeTest {
 protected:
  void SetUp() override {
    runtime.start();
    ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &first).is_ok());
    ASSERT_TRUE(pipeline.wait_in_flight(1));
    ASSERT_TRUE(runtime.submit(deposit_participant_command("B"), &second).is_ok());
    ASSERT_TRUE(pipeline.wait_in_flight(2)) << "the second batch waits for the first instead of starting beside it";
  }
  void TearDown() override {
    pipeline.release(8);  // whatever an assertion left in flight
    runtime.stop();
  }
  static RuntimeOptions one_per_batch() {
    RuntimeOptions options;
    options.max_batch = 1;
    return options;
  }
  PipelineSink pipeline;
  EngineRuntime runtime{exchange, clock, pipeline, one_per_batch()};
  PromiseCompletion first, second;
  std::future<Reply> first_reply = first.promise.get_future();
  std::future<Reply> second_reply = second.promise.get_future();
};

TEST_F(PipelinedRuntimeTest, BatchesAreInFlightTogetherAndAnsweredInOrderEachAfterItsCommit) {
  EXPECT_EQ(first_reply.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(second_reply.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  pipeline.release(1);
  ASSERT_EQ(first_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(second_reply.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "answered before its commit";
  pipeline.release(1);
  ASSERT_EQ(second_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Reply a = first_reply.get(), b = second_reply.get();
  EXPECT_TRUE(a.status.is_ok());
  EXPECT_TRUE(b.status.is_ok());
  EXPECT_EQ(pipeline.committed(), (std::vector<Sequence>{a.sequence, b.sequence}));
  EXPECT_EQ(pipeline.most_in_flight(), 2u);
  EXPECT_EQ(runtime.counters().batches.load(), 2u);
}

TEST_F(PipelinedRuntimeTest, ABatchThatFailsIsCommittedAgainWithTheOnesAfterItInOrderAndAnsweredOnce) {
  pipeline.release(1, /*fail=*/true);  // the first fails: both in flight are rolled back
  pipeline.release(2);                 // and each is started again, alone, in order
  ASSERT_EQ(first_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(second_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Reply a = first_reply.get(), b = second_reply.get();
  EXPECT_TRUE(a.status.is_ok());
  EXPECT_TRUE(b.status.is_ok());
  EXPECT_EQ(pipeline.rolled_back(), 2u);
  EXPECT_EQ(pipeline.started(), 4u) << "both started again";
  EXPECT_EQ(pipeline.most_in_flight(), 2u);
  EXPECT_EQ(pipeline.committed(), (std::vector<Sequence>{a.sequence, b.sequence}));
  EXPECT_EQ(runtime.counters().commit_failures.load(), 1u);
  // Afterwards the pipeline is used again.
  PromiseCompletion third;
  auto third_reply = third.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("C"), &third).is_ok());
  ASSERT_TRUE(pipeline.wait_in_flight(1));
  pipeline.release(1);
  ASSERT_EQ(third_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Reply c = third_reply.get();
  EXPECT_EQ(pipeline.committed(), (std::vector<Sequence>{a.sequence, b.sequence, c.sequence}));
  EXPECT_EQ(pipeline.started(), 5u);
}

/// Two commands, one per batch, both in flight in a PipelineSink that does not answer.
class HungPipelineTest : public RuntimeTest {
 protected:
  void start(RuntimeOptions options) {
    options.max_batch = 1;
    runtime = std::make_unique<EngineRuntime>(exchange, clock, pipeline, options);
    runtime->start();
    ASSERT_TRUE(runtime->submit(deposit_participant_command("A"), &first).is_ok());
    ASSERT_TRUE(pipeline.wait_in_flight(1));
    ASSERT_TRUE(runtime->submit(deposit_participant_command("B"), &second).is_ok());
    ASSERT_TRUE(pipeline.wait_in_flight(2));
  }
  void TearDown() override {
    if (runtime) runtime->stop();
  }
  /// Both callers hear UNAVAILABLE (outcome unknown), and while the outage lasts a new command is refused.
  void expect_an_outage() {
    ASSERT_EQ(first_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    ASSERT_EQ(second_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_EQ(first_reply.get().status.code(), ErrorCode::unavailable);
    EXPECT_EQ(second_reply.get().status.code(), ErrorCode::unavailable);
    EXPECT_TRUE(runtime->journal_unavailable());
    PromiseCompletion refused;
    EXPECT_EQ(runtime->submit(deposit_participant_command("C"), &refused).code(), ErrorCode::unavailable);
  }
  PipelineSink pipeline;
  std::unique_ptr<EngineRuntime> runtime;
  PromiseCompletion first, second;
  std::future<Reply> first_reply = first.promise.get_future();
  std::future<Reply> second_reply = second.promise.get_future();
};

TEST_F(HungPipelineTest, ACommitThatDoesNotReturnIsAnOutageCallersHearUnavailableAndNothingIsLost) {
  RuntimeOptions options;
  options.unavailable_after_ms = 100;
  start(options);
  // Neither batch returns (a frozen server): past unavailable_after_ms both callers hear UNAVAILABLE.
  expect_an_outage();
  EXPECT_TRUE(pipeline.committed().empty());
  EXPECT_EQ(pipeline.interrupts(), 0u) << "not stopping: the commit is waited for, not interrupted";

  pipeline.release(2);  // the server answers after all
  for (int i = 0; i < 500 && runtime->journal_unavailable(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(runtime->journal_unavailable());
  EXPECT_EQ(pipeline.committed().size(), 2u) << "both answered commands' events are committed, once";
  pipeline.release(1);
  PromiseCompletion after;
  auto after_reply = after.promise.get_future();
  ASSERT_TRUE(runtime->submit(deposit_participant_command("D"), &after).is_ok());
  ASSERT_EQ(after_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(after_reply.get().status.is_ok());
  EXPECT_EQ(pipeline.committed().size(), 3u);
  EXPECT_EQ(runtime->counters().answered_unavailable.load(), 2u);
}

TEST_F(HungPipelineTest, WakeUpsLongBeforeAnyDeadlineDoNotHideACommitThatDoesNotReturn) {
  RuntimeOptions options;
  options.unavailable_after_ms = 100;
  options.command_ring_capacity = 4;
  options.event_ring_capacity = 2;
  start(options);
  // Commands keep coming: each outcome wakes the writer, and once the outcome ring is full the engine
  // wakes it every 50 us while it waits for room, long before any deadline; other wake-ups too.
  std::atomic<bool> poking{true};
  std::thread poker([&] {
    while (poking.load()) {
      pipeline.poke();
      std::this_thread::yield();
    }
  });
  std::vector<std::unique_ptr<PromiseCompletion>> more;
  bool refused = false;
  const auto began = std::chrono::steady_clock::now();
  const auto give_up = began + std::chrono::seconds(3);
  for (int i = 0; !refused && std::chrono::steady_clock::now() < give_up; ++i) {
    auto completion = std::make_unique<PromiseCompletion>();
    const Status submitted = runtime->submit(deposit_participant_command("C" + std::to_string(i)), completion.get());
    if (submitted.is_ok()) {
      more.push_back(std::move(completion));
    } else if (submitted.code() == ErrorCode::resource_exhausted) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));  // the command ring is full: back-pressure
    } else {
      ASSERT_EQ(submitted.code(), ErrorCode::unavailable) << submitted.message();
      refused = true;
    }
  }
  const auto refused_after = std::chrono::steady_clock::now() - began;
  const bool answered = first_reply.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  poking = false;
  poker.join();
  EXPECT_TRUE(refused) << "new commands were still taken with a commit hung for 3 s";
  EXPECT_LT(refused_after, std::chrono::seconds(1)) << "the hung commit was noticed late (deadline: 100 ms)";
  ASSERT_TRUE(answered) << "the caller waiting on the hung commit was not answered";
  EXPECT_EQ(first_reply.get().status.code(), ErrorCode::unavailable);
  pipeline.release(1'000'000);  // the database answers: everything queued is committed, each caller answered once
  runtime->stop();              // before the completions below go
  for (auto& completion : more) {
    auto reply = completion->promise.get_future();
    ASSERT_EQ(reply.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  }
  EXPECT_EQ(pipeline.committed().size(), more.size() + 2);
}

TEST_F(HungPipelineTest, StopInterruptsACommitThatDoesNotReturnAndAcknowledgesNothing) {
  RuntimeOptions options;
  options.unavailable_after_ms = 60'000;  // the stop's deadline comes first
  options.stop_commit_retry_ms = 200;
  start(options);
  const auto started = std::chrono::steady_clock::now();
  runtime->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_GE(pipeline.interrupts(), 1u);
  ASSERT_EQ(first_reply.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  ASSERT_EQ(second_reply.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(first_reply.get().status.code(), ErrorCode::unavailable);
  EXPECT_EQ(second_reply.get().status.code(), ErrorCode::unavailable);
  EXPECT_TRUE(pipeline.committed().empty());
  EXPECT_EQ(pipeline.started(), 2u) << "nothing is retried once stop gave up";
}

TEST_F(HungPipelineTest, ARetryThatDoesNotReturnIsWatchedAsWell) {
  RuntimeOptions options;
  options.unavailable_after_ms = 100;
  start(options);
  // The first fails: both are rolled back, and the first is started again, alone, and does not return.
  pipeline.release(1, /*fail=*/true);
  expect_an_outage();
  EXPECT_EQ(pipeline.started(), 3u) << "the retry is in the sink, waited for";
  EXPECT_EQ(pipeline.in_flight(), 1u);
  EXPECT_EQ(pipeline.interrupts(), 0u) << "not stopping: the retry is waited for, not interrupted";

  pipeline.release(2);  // the server answers: the first's retry, then the second's
  for (int i = 0; i < 500 && runtime->journal_unavailable(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(runtime->journal_unavailable());
  for (int i = 0; i < 500 && pipeline.committed().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pipeline.committed().size(), 2u) << "both answered commands' events are committed, once";
  EXPECT_EQ(runtime->counters().answered_unavailable.load(), 2u);
}

TEST_F(HungPipelineTest, DuringAnOutageCallersAreAnsweredAtTheirOwnDeadlineWhileARetryHangs) {
  RuntimeOptions options;
  options.unavailable_after_ms = 1'000;
  start(options);
  const auto sent = std::chrono::steady_clock::now();
  auto started = [&](std::size_t n) {
    for (int i = 0; i < 500 && pipeline.started() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return pipeline.started() >= n;
  };
  pipeline.release(1, /*fail=*/true);  // both rolled back; the first is started again and hangs
  ASSERT_TRUE(started(3));
  std::this_thread::sleep_until(sent + std::chrono::milliseconds(700));
  pipeline.release(1, /*fail=*/true);  // that attempt fails too: an outage; the next attempt hangs
  ASSERT_TRUE(started(4));
  // Both callers have waited since `sent`: answered at sent + 1 s, not 1 s after the hanging attempt began.
  expect_an_outage();
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_LT(waited, std::chrono::milliseconds(1'450)) << "answered only a full deadline after the last attempt began";
  pipeline.release(2);
  for (int i = 0; i < 500 && pipeline.committed().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pipeline.committed().size(), 2u);
}

TEST_F(RuntimeTest, ACommitThatDoesNotReturnOnOneConnectionIsAnOutageToo) {
  PipelineSink one(1);  // PipelinedJournal with journal_connections = 1
  RuntimeOptions options;
  options.unavailable_after_ms = 100;
  EngineRuntime runtime(exchange, clock, one, options);
  runtime.start();
  PromiseCompletion first, second;
  auto first_reply = first.promise.get_future();
  auto second_reply = second.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &first).is_ok());
  ASSERT_TRUE(one.wait_in_flight(1));
  ASSERT_TRUE(runtime.submit(deposit_participant_command("B"), &second).is_ok());  // waits behind it
  ASSERT_EQ(first_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(second_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(first_reply.get().status.code(), ErrorCode::unavailable);
  EXPECT_EQ(second_reply.get().status.code(), ErrorCode::unavailable);
  EXPECT_TRUE(runtime.journal_unavailable());
  PromiseCompletion refused;
  EXPECT_EQ(runtime.submit(deposit_participant_command("C"), &refused).code(), ErrorCode::unavailable);

  one.release(2);  // it returns; the second follows
  for (int i = 0; i < 500 && one.committed().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(one.committed().size(), 2u);
  // Commands are taken again once the writer has seen both committed (its next turn).
  for (int i = 0; i < 500 && runtime.journal_unavailable(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(runtime.journal_unavailable());
  EXPECT_EQ(one.most_in_flight(), 1u);
  EXPECT_EQ(one.interrupts(), 0u);
  runtime.stop();
}

TEST_F(RuntimeTest, StopInterruptsACommitThatDoesNotReturnOnASingleConnection) {
  RuntimeOptions options;
  options.stop_commit_retry_ms = 200;
  EngineRuntime runtime(exchange, clock, sink, options);
  runtime.start();
  sink.hold();  // the writer's commit blocks, as in a send to a frozen server
  PromiseCompletion waiting;
  auto waiting_reply = waiting.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &waiting).is_ok());
  const auto started = std::chrono::steady_clock::now();
  runtime.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(sink.interrupted_commits(), 1);
  ASSERT_EQ(waiting_reply.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(waiting_reply.get().status.code(), ErrorCode::unavailable);
  EXPECT_TRUE(sink.committed().empty());
}

TEST_F(RuntimeTest, StopWithTheDatabaseDownReturnsAndAcknowledgesNothingUncommitted) {
  RuntimeOptions options;
  options.command_ring_capacity = 4;
  options.event_ring_capacity = 2;
  options.max_batch = 1;
  options.stop_commit_retry_ms = 200;
  EngineRuntime runtime(exchange, clock, sink, options);
  runtime.start();
  sink.fail_next(1'000'000);
  std::vector<std::unique_ptr<PromiseCompletion>> completions;
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 6; ++i) {
    auto completion = std::make_unique<PromiseCompletion>();
    auto reply = completion->promise.get_future();
    const Command command = i == 5 ? Command{Principal{Role::operator_, 0, "ops"}, ListParticipants{}}
                                   : deposit_participant_command("P" + std::to_string(i));
    if (runtime.submit(command, completion.get()).is_ok()) {
      completions.push_back(std::move(completion));
      replies.push_back(std::move(reply));
    }
  }
  ASSERT_FALSE(replies.empty());
  const auto started = std::chrono::steady_clock::now();
  runtime.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  for (auto& reply : replies) {
    ASSERT_EQ(reply.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(reply.get().status.code(), ErrorCode::unavailable) << "nothing uncommitted may be acknowledged";
  }
  EXPECT_TRUE(sink.committed().empty());
}

/// Records, per committed outcome, whether its caller had been answered UNAVAILABLE before the commit.
class AnsweredListener final : public CommitListener {
 public:
  void on_commit(std::span<const CommittedOutcome> batch) noexcept override {
    std::lock_guard lock(mutex);
    for (const CommittedOutcome& committed : batch) answered.push_back(committed.answered_unavailable);
  }
  std::mutex mutex;
  std::vector<bool> answered;
};

TEST_F(RuntimeTest, DuringAnOutageWaitingCommandsAreAnsweredUnavailableAndStillCommittedLater) {
  RuntimeOptions options;
  options.unavailable_after_ms = 100;
  EngineRuntime runtime(exchange, clock, sink, options);
  AnsweredListener listener;
  runtime.set_commit_listener(&listener);
  runtime.start();
  sink.fail_next(1'000'000);
  PromiseCompletion waiting;
  auto waiting_reply = waiting.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &waiting).is_ok());
  ASSERT_EQ(waiting_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(waiting_reply.get().status.code(), ErrorCode::unavailable);
  EXPECT_TRUE(runtime.journal_unavailable());
  PromiseCompletion refused;
  EXPECT_EQ(runtime.submit(deposit_participant_command("B"), &refused).code(), ErrorCode::unavailable);
  EXPECT_TRUE(sink.committed().empty());

  sink.fail_next(0);  // the database is back
  for (int i = 0; i < 500 && runtime.journal_unavailable(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(runtime.journal_unavailable());
  EXPECT_EQ(sink.committed().size(), 1u) << "the answered command's events are committed, once";
  PromiseCompletion after;
  auto after_reply = after.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("C"), &after).is_ok());
  ASSERT_EQ(after_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(after_reply.get().status.is_ok());
  EXPECT_EQ(runtime.counters().answered_unavailable.load(), 1u);
  runtime.stop();
  // The listener (the order sessions) learns which commit's caller heard UNAVAILABLE instead of its reply.
  std::lock_guard lock(listener.mutex);
  EXPECT_EQ(listener.answered, (std::vector<bool>{true, false}));
}

// A database that is back does not reopen the gate at its first commit: commands are taken again only once
// everything queued during the outage is committed. Otherwise a database that comes and goes would let the
// backlog grow by a ring's worth at each return, and new callers would wait behind it.
TEST_F(RuntimeTest, CommandsAreTakenAgainOnlyOnceWhatQueuedDuringAnOutageIsCommitted) {
  RuntimeOptions options;
  options.unavailable_after_ms = 60'000;  // nobody is answered UNAVAILABLE here: only the gate is under test
  options.max_batch = 1;                  // one command per commit: the backlog drains one by one
  EngineRuntime runtime(exchange, clock, sink, options);
  runtime.start();
  sink.hold();
  std::vector<std::unique_ptr<PromiseCompletion>> waiting;
  for (int k = 0; k < 5; ++k) {
    waiting.push_back(std::make_unique<PromiseCompletion>());
    ASSERT_TRUE(runtime.submit(deposit_participant_command("P" + std::to_string(k)), waiting.back().get()).is_ok());
  }
  for (int i = 0; i < 500 && runtime.counters().commands.load() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(runtime.counters().commands.load(), 5u);
  sink.fail_next(1);           // the first commit fails: an outage, and the four behind it queue
  sink.hold_after_commits(1);  // the database is back, but slow: one commit, then the next waits
  sink.release();
  for (int i = 0; i < 500 && sink.committed().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(sink.committed().size(), 1u);
  EXPECT_TRUE(runtime.journal_unavailable()) << "four commands queued during the outage are not committed yet";
  PromiseCompletion refused;
  const Status late = runtime.submit(deposit_participant_command("LATE"), &refused);
  EXPECT_EQ(late.code(), ErrorCode::unavailable) << late.message();

  sink.release();
  for (int i = 0; i < 500 && runtime.journal_unavailable(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(runtime.journal_unavailable());
  EXPECT_EQ(sink.committed().size(), 5u);
  for (auto& w : waiting) {
    auto reply = w->promise.get_future();
    ASSERT_EQ(reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_TRUE(reply.get().status.is_ok());
  }
  PromiseCompletion after;
  auto after_reply = after.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("AFTER"), &after).is_ok());
  ASSERT_EQ(after_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(after_reply.get().status.is_ok());
  runtime.stop();
}

// A staff command that journals nothing (a repeated deposit) carries its audit record in its reply, for the server
// to write; answered UNAVAILABLE during an outage, it still does, so that no staff call goes unaudited.
TEST_F(RuntimeTest, AStaffRepeatKeepsItsAuditRecordWhetherAnsweredOrAnsweredUnavailable) {
  RuntimeOptions options;
  options.unavailable_after_ms = 100;
  EngineRuntime runtime(exchange, clock, sink, options);
  runtime.start();
  auto execute = [&](Command command) {
    PromiseCompletion done;
    auto reply = done.promise.get_future();
    EXPECT_TRUE(runtime.submit(std::move(command), &done).is_ok());
    EXPECT_EQ(reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return reply.get();
  };
  const Reply created = execute(deposit_participant_command("P"));
  ASSERT_TRUE(created.status.is_ok());
  const Principal ops{Role::operator_, 0, "ops"};
  const auto deposit = [&] {
    return Command{ops, MoveCash{created.participants.at(0).cash_account, Cash{100}, "wire-1", false},
                   "/carbon.v1.AdminService/Deposit", "ipv4:127.0.0.1:1", "{\"idempotency_key\":\"wire-1\"}", 0};
  };
  const Reply first = execute(deposit());
  ASSERT_TRUE(first.status.is_ok());
  EXPECT_FALSE(first.unjournaled_audit) << "journaled with its events";
  const Reply repeat = execute(deposit());
  ASSERT_TRUE(repeat.status.is_ok());
  ASSERT_TRUE(repeat.unjournaled_audit);
  EXPECT_EQ(repeat.unjournaled_audit->method, "/carbon.v1.AdminService/Deposit");
  EXPECT_EQ(repeat.unjournaled_audit->principal, "ops");
  EXPECT_EQ(repeat.unjournaled_audit->sequence, 0u);
  EXPECT_EQ(repeat.unjournaled_audit->participant, created.participants.at(0).id);

  // Behind a commit that fails: both waiting callers are answered UNAVAILABLE, the repeat with its record.
  sink.hold();
  PromiseCompletion blocked, again;
  auto blocked_reply = blocked.promise.get_future();
  auto again_reply = again.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("Q"), &blocked).is_ok());
  ASSERT_TRUE(runtime.submit(deposit(), &again).is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  sink.fail_next(1'000'000);
  sink.release();
  ASSERT_EQ(again_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Reply unavailable = again_reply.get();
  EXPECT_EQ(unavailable.status.code(), ErrorCode::unavailable) << unavailable.status.message();
  ASSERT_TRUE(unavailable.unjournaled_audit);
  EXPECT_EQ(unavailable.unjournaled_audit->method, "/carbon.v1.AdminService/Deposit");
  ASSERT_EQ(blocked_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(blocked_reply.get().status.code(), ErrorCode::unavailable);
  sink.fail_next(0);
  runtime.stop();
}

TEST_F(RuntimeTest, ABatchWaitsUpToMaxBatchWaitForMoreCommands) {
  RuntimeOptions options;
  options.max_batch_wait_us = 300'000;
  EngineRuntime runtime(exchange, clock, sink, options);
  runtime.start();
  PromiseCompletion first, second;
  auto first_reply = first.promise.get_future();
  auto second_reply = second.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &first).is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(runtime.submit(deposit_participant_command("B"), &second).is_ok());
  ASSERT_EQ(first_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(second_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(runtime.counters().batches.load(), 1u) << "both commands share one commit";
  runtime.stop();
}

TEST_F(RuntimeTest, APermanentJournalErrorStopsTheProcessInsteadOfAcknowledging) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        spdlog::set_default_logger(spdlog::stderr_color_st("death"));
        EngineRuntime runtime(exchange, clock, sink, RuntimeOptions{});
        runtime.start();
        sink.fail_next(1, ErrorCode::internal);
        PromiseCompletion completion;
        auto reply = completion.promise.get_future();
        (void)runtime.submit(deposit_participant_command("A"), &completion);
        reply.wait_for(std::chrono::seconds(10));
        runtime.stop();
      },
      "failed for good");
}

TEST_F(RuntimeTest, StopDrainsEverythingQueuedAndThenRefusesNewCommands) {
  EngineRuntime runtime(exchange, clock, sink, RuntimeOptions{});
  runtime.start();
  std::vector<std::unique_ptr<PromiseCompletion>> completions;
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 200; ++i) {
    completions.push_back(std::make_unique<PromiseCompletion>());
    replies.push_back(completions.back()->promise.get_future());
    ASSERT_TRUE(runtime.submit(deposit_participant_command("P" + std::to_string(i)), completions.back().get()).is_ok());
  }
  runtime.stop();
  for (auto& reply : replies) {
    ASSERT_EQ(reply.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_TRUE(reply.get().status.is_ok());
  }
  EXPECT_EQ(sink.committed().size(), 200u);
  PromiseCompletion late;
  EXPECT_EQ(runtime.submit(deposit_participant_command("late"), &late).code(), ErrorCode::unavailable);
}

TEST_F(RuntimeTest, QueriesNeedNoCommitButWaitForEarlierCommands) {
  EngineRuntime runtime(exchange, clock, sink, RuntimeOptions{});
  runtime.start();
  sink.hold();
  PromiseCompletion write, read;
  auto write_reply = write.promise.get_future();
  auto read_reply = read.promise.get_future();
  ASSERT_TRUE(runtime.submit(deposit_participant_command("A"), &write).is_ok());
  ASSERT_TRUE(runtime.submit(Command{Principal{Role::operator_, 0, "ops"}, ListParticipants{}}, &read).is_ok());
  EXPECT_EQ(read_reply.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "a read must not overtake an uncommitted write";
  sink.release();
  ASSERT_EQ(read_reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(read_reply.get().participants.size(), 1u);
  runtime.stop();
}

/// Records what the commit listener saw, and whether each command was already answered then.
class RecordingListener final : public CommitListener {
 public:
  void on_commit(std::span<const CommittedOutcome> batch) noexcept override {
    std::lock_guard lock(mutex);
    for (const CommittedOutcome& committed : batch) {
      sequences.push_back(committed.outcome->sequence);
      issuers.push_back(committed.issuer);
      replies_whole.push_back(!committed.outcome->reply.participants.empty());
      answered_before.push_back(answered.load());
    }
  }
  std::mutex mutex;
  std::vector<Sequence> sequences;
  std::vector<ParticipantId> issuers;
  std::vector<bool> replies_whole;
  std::vector<int> answered_before;
  std::atomic<int> answered{0};
};

/// Counts its reply in the listener, then signals.
class CountingCompletion final : public Completion {
 public:
  explicit CountingCompletion(RecordingListener& listener) : listener_(listener) {}
  void complete(Reply&& reply) override {
    listener_.answered.fetch_add(1);
    promise.set_value(std::move(reply));
  }
  std::promise<Reply> promise;

 private:
  RecordingListener& listener_;
};

TEST_F(RuntimeTest, CommitListenerSeesCommittedOutcomesInSequenceOrderBeforeTheirReplies) {
  RecordingListener listener;
  EngineRuntime runtime(exchange, clock, sink, RuntimeOptions{});
  runtime.set_commit_listener(&listener);
  runtime.start();
  sink.hold();
  std::vector<std::unique_ptr<CountingCompletion>> completions;
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 20; ++i) {
    completions.push_back(std::make_unique<CountingCompletion>(listener));
    replies.push_back(completions.back()->promise.get_future());
    Command command = i == 10 ? Command{Principal{Role::operator_, 0, "ops"}, ListParticipants{}}
                              : deposit_participant_command("P" + std::to_string(i));
    ASSERT_TRUE(runtime.submit(std::move(command), completions.back().get()).is_ok());
  }
  sink.release();
  for (auto& reply : replies) ASSERT_EQ(reply.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  runtime.stop();

  std::lock_guard lock(listener.mutex);
  ASSERT_EQ(listener.sequences.size(), 19u) << "the query journals nothing and is not passed";
  for (std::size_t i = 0; i < listener.sequences.size(); ++i) {
    EXPECT_EQ(listener.sequences[i], i + 1);
    EXPECT_EQ(listener.issuers[i], 0u);
    EXPECT_TRUE(listener.replies_whole[i]) << "the listener runs before complete() moves the reply out";
    // Outcome i is command i (i + 1 past the query): it and later commands are not yet answered.
    EXPECT_LE(listener.answered_before[i], static_cast<int>(i < 10 ? i : i + 1));
  }
}

}  // namespace
}  // namespace carbon::engine

namespace carbon::engine {
namespace {

using carbon::testing::exposition_sample;

TEST(RuntimeMetricsTest, ReasonIsTheShortRulePrefixOfTheMessage) {
  EXPECT_EQ(RejectionCounter::reason_of("price band: 12000 fen is outside 9000 to 11000"), "price band");
  EXPECT_EQ(RejectionCounter::reason_of("lot rule: quantity 3 is not a multiple of 5"), "lot rule");
  // Without a rule prefix: the leading words, up to what names a thing.
  EXPECT_EQ(RejectionCounter::reason_of("participant code \"KEU-1\" already exists: pick another"), "participant code");
  EXPECT_EQ(RejectionCounter::reason_of("unknown instrument \"CEA1999\""), "unknown instrument");
  EXPECT_EQ(RejectionCounter::reason_of("holding account 100 does not exist"), "holding account");
  EXPECT_EQ(RejectionCounter::reason_of("quantity must be positive"), "quantity must be positive");
  EXPECT_EQ(RejectionCounter::reason_of("no colon here"), "no colon here");
  // Whole words, at most 40 characters; nothing usable: "other".
  EXPECT_EQ(RejectionCounter::reason_of("a very long message whose leading words run past the limit"),
            "a very long message whose leading words");
  EXPECT_EQ(RejectionCounter::reason_of(": empty prefix"), "other");
  EXPECT_EQ(RejectionCounter::reason_of("CEA2024 is halted"), "other");
}

TEST_F(RuntimeTest, MetricsCountCommandsByKindRejectionsByRuleAndCommits) {
  metrics::Registry registry;
  RuntimeMetrics runtime_metrics(registry);
  EngineRuntime runtime(exchange, clock, sink, RuntimeOptions{});
  runtime.set_metrics(&runtime_metrics);
  runtime.start();
  auto submit = [&](Command command) {
    PromiseCompletion completion;
    auto reply = completion.promise.get_future();
    EXPECT_TRUE(runtime.submit(std::move(command), &completion).is_ok());
    return reply.get();
  };
  EXPECT_TRUE(submit(deposit_participant_command("A")).status.is_ok());
  EXPECT_TRUE(submit(deposit_participant_command("B")).status.is_ok());
  const Reply duplicate = submit(deposit_participant_command("A"));
  ASSERT_FALSE(duplicate.status.is_ok());
  // Refused before the engine (a gRPC thread's check): labelled with the refused request's name.
  const Status invalid{ErrorCode::invalid_argument, "amount_fen must be positive"};
  const Reply refused = submit(Command{Principal{Role::operator_, 0, "ops"}, Refused{"Deposit", invalid}});
  ASSERT_EQ(refused.status.code(), ErrorCode::invalid_argument);
  runtime.stop();

  const std::string text = registry.render();
  EXPECT_EQ(exposition_sample(text, "carbond_commands_total{kind=\"CreateParticipant\"}"), 3) << text;
  EXPECT_EQ(exposition_sample(text, "carbond_commands_total{kind=\"PlaceOrder\"}"), 0) << text;
  // prometheus-cpp renders the labels sorted by name.
  const std::string rejection = "carbond_rejections_total{code=\"" + std::string(to_string(duplicate.status.code())) +
                                "\",command=\"CreateParticipant\",reason=\"" +
                                RejectionCounter::reason_of(duplicate.status.message()) + "\"}";
  EXPECT_EQ(exposition_sample(text, rejection), 1) << text;
  EXPECT_EQ(exposition_sample(text, "carbond_rejections_total{code=\"INVALID_ARGUMENT\",command=\"Deposit\","
                                    "reason=\"amount_fen must be positive\"}"),
            1)
      << text;
  EXPECT_EQ(exposition_sample(text, "carbond_ack_latency_seconds_count"), 4) << text;
  // The refusals are journaled too: four commands with events, in as many commits as the writer made.
  EXPECT_EQ(exposition_sample(text, "carbond_commit_batch_commands_sum"), 4) << text;
  EXPECT_EQ(exposition_sample(text, "carbond_commit_latency_seconds_count"),
            static_cast<double>(runtime.counters().batches.load()))
      << text;
}

}  // namespace
}  // namespace carbon::engine
