#include "engine/runtime.h"

#include <chrono>
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
  Request request{std::move(command), completion};
  const bool pushed = commands_.try_push(request);
  submitters_.fetch_sub(1, std::memory_order_release);
  if (!pushed) {
    counters_.rejected_full.fetch_add(1, std::memory_order_relaxed);
    return Status{ErrorCode::resource_exhausted, "the engine's command ring is full; retry later"};
  }
  engine_waiter_.notify();
  return Status::ok();
}

void EngineRuntime::stop() {
  if (stopped_) return;
  stopped_ = true;
  accepting_.store(false, std::memory_order_seq_cst);
  while (submitters_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  draining_.store(true, std::memory_order_release);
  engine_waiter_.wake();
  if (engine_thread_.joinable()) engine_thread_.join();
  stopping_writer_.store(true, std::memory_order_release);
  writer_waiter_.wake();
  if (writer_thread_.joinable()) writer_thread_.join();
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
    Pending pending{exchange_.execute(request->command, clock_.now()), request->completion};
    counters_.commands.fetch_add(1, std::memory_order_relaxed);
    while (!outcomes_.try_push(pending)) {
      // The writer is behind (the database is slow or down): wait for room.
      writer_waiter_.notify();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    writer_waiter_.notify();
  }
  engine_done_.store(true, std::memory_order_release);
  writer_waiter_.wake();
}

void EngineRuntime::writer_loop() {
  std::vector<Pending> batch;
  batch.reserve(options_.max_batch);
  int idle_spins = 0;
  for (;;) {
    while (batch.size() < options_.max_batch) {
      std::optional<Pending> pending = outcomes_.try_pop();
      if (!pending) break;
      batch.push_back(std::move(*pending));
    }
    if (batch.empty()) {
      if (engine_done_.load(std::memory_order_acquire)) {
        if (outcomes_.approximate_size() == 0) break;
        continue;
      }
      if (++idle_spins < kSpinsBeforeSleep) {
        cpu_relax();
        continue;
      }
      const auto ticket = writer_waiter_.prepare_wait();
      if (outcomes_.approximate_size() == 0 && !engine_done_.load(std::memory_order_acquire)) {
        writer_waiter_.wait(ticket);
      }
      writer_waiter_.cancel_wait();
      idle_spins = 0;
      continue;
    }
    idle_spins = 0;
    commit_with_retry(batch);
    for (Pending& pending : batch) {
      if (pending.completion != nullptr) pending.completion->complete(std::move(pending.outcome.reply));
    }
    batch.clear();
  }
  writer_done_.store(true, std::memory_order_release);
}

void EngineRuntime::commit_with_retry(std::vector<Pending>& batch) {
  std::vector<const Outcome*> journaled;
  for (const Pending& pending : batch) {
    if (!pending.outcome.events.empty()) journaled.push_back(&pending.outcome);
  }
  if (journaled.empty()) return;
  auto backoff = std::chrono::milliseconds(20);
  std::chrono::steady_clock::time_point give_up{};
  for (;;) {
    Status status = sink_.commit(journaled);
    if (status.is_ok()) {
      counters_.batches.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    counters_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("journal commit of {} commands failed, retrying: {}", journaled.size(), status.message());
    if (stopping_writer_.load(std::memory_order_acquire)) {
      const auto now = std::chrono::steady_clock::now();
      if (give_up == std::chrono::steady_clock::time_point{}) {
        give_up = now + std::chrono::milliseconds(options_.stop_commit_retry_ms);
      } else if (now >= give_up) {
        spdlog::critical("giving up on {} uncommitted commands at shutdown; they were never acknowledged",
                         journaled.size());
        for (Pending& pending : batch) {
          if (!pending.outcome.events.empty()) {
            pending.outcome.reply = Reply{};
            pending.outcome.reply.status =
                Status{ErrorCode::unavailable, "the database did not commit this command before shutdown"};
          }
        }
        return;
      }
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace carbon::engine
