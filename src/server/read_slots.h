#pragma once
/// A bound on the database reads the gRPC threads make at once ([server]
/// max_database_reads): GetStatement, the regulator's ledger, trade, order,
/// audit and disclosure queries, and order-session replays each open a
/// PostgreSQL connection of their own for the call, and PostgreSQL's
/// connections are shared with the journal writer, which must never be the
/// one refused. Lock-free; any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace carbon::server {

class ReadSlots {
 public:
  explicit ReadSlots(std::size_t limit) : limit_(limit) {}
  ReadSlots(const ReadSlots&) = delete;
  ReadSlots& operator=(const ReadSlots&) = delete;

  /// Takes a slot: OK, or RESOURCE_EXHAUSTED naming the limit if `limit` reads are in progress.
  Status acquire() {
    std::size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used >= limit_) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return Status{ErrorCode::resource_exhausted,
                      "the server's limit of " + std::to_string(limit_) +
                          " database reads at once ([server] max_database_reads) is reached; retry shortly"};
      }
    } while (!used_.compare_exchange_weak(used, used + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
    return Status::ok();
  }
  void release() { used_.fetch_sub(1, std::memory_order_acq_rel); }
  std::size_t in_use() const { return used_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
  std::atomic<std::uint64_t> refused_{0};
};

/// A slot held for a scope (none if `slots` is null: unbounded).
class ReadSlot {
 public:
  explicit ReadSlot(ReadSlots* slots) : status_(slots == nullptr ? Status::ok() : slots->acquire()) {
    if (slots != nullptr && status_.is_ok()) slots_ = slots;
  }
  ~ReadSlot() {
    if (slots_ != nullptr) slots_->release();
  }
  ReadSlot(const ReadSlot&) = delete;
  ReadSlot& operator=(const ReadSlot&) = delete;

  /// OK if the slot was taken.
  const Status& status() const { return status_; }

 private:
  ReadSlots* slots_ = nullptr;
  Status status_;
};

}  // namespace carbon::server
