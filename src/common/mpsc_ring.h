#pragma once
/// A bounded lock-free multi-producer single-consumer ring (after Dmitry
/// Vyukov's bounded queue). Producers never block: a full ring says so.

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>

namespace carbon {

/// Contract: any number of threads may call try_push() at once; at most one
/// thread at a time calls try_pop() (the consumer). Capacity is a power of two.
template <typename T>
class MpscRing {
 public:
  /// capacity: a power of two, at least 2.
  explicit MpscRing(std::size_t capacity) : mask_(capacity - 1), cells_(new Cell[capacity]) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
      throw std::invalid_argument("MpscRing capacity must be a power of two >= 2");
    }
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  }
  MpscRing(const MpscRing&) = delete;
  MpscRing& operator=(const MpscRing&) = delete;
  ~MpscRing() {
    while (try_pop()) {
    }
  }

  /// Any thread. Moves `value` in and returns true, or returns false (value untouched) when full.
  bool try_push(T& value) {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          ::new (static_cast<void*>(cell.storage)) T(std::move(value));
          cell.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  /// Consumer only. The oldest value, or nothing when empty.
  std::optional<T> try_pop() {
    Cell& cell = cells_[head_ & mask_];
    const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
    if (static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(head_ + 1) < 0) return std::nullopt;
    T* item = std::launder(reinterpret_cast<T*>(cell.storage));
    std::optional<T> out(std::move(*item));
    item->~T();
    cell.sequence.store(head_ + mask_ + 1, std::memory_order_release);
    ++head_;
    head_seen_.store(head_, std::memory_order_relaxed);
    return out;
  }

  /// Any thread; approximate number of queued values (for metrics).
  std::size_t approximate_size() const {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_seen_.load(std::memory_order_relaxed);
    return tail >= head ? tail - head : 0;
  }
  std::size_t capacity() const { return mask_ + 1; }

 private:
  struct Cell {
    std::atomic<std::size_t> sequence;
    alignas(T) unsigned char storage[sizeof(T)];
  };
  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::size_t> tail_{0};
  alignas(64) std::size_t head_ = 0;
  std::atomic<std::size_t> head_seen_{0};
};

}  // namespace carbon
