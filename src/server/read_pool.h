#pragma once
/// A fixed pool of threads for the database reads that a reply asks for after
/// the engine has answered (GetOrder of an order closed in a trading day that
/// has ended: services.cpp). Such a reply is answered on the journal writer's
/// thread, which must not wait for a read, nor start a thread per read. Work
/// posted here already holds a ReadSlot, so what waits in the queue is bounded
/// by [server] max_database_reads.

#include <cstddef>
#include <functional>
#include <memory>

namespace carbon::server {

class ReadPool {
 public:
  /// Starts `threads` threads (at least one).
  explicit ReadPool(std::size_t threads);
  /// Runs what is queued to its end, then joins the threads.
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  /// Queues `work` for one of the threads; returns at once. Any thread.
  void post(std::function<void()> work);

 private:
  struct Threads;
  std::unique_ptr<Threads> threads_;
};

}  // namespace carbon::server
