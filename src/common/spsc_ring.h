#pragma once
/// A bounded lock-free single-producer single-consumer ring.

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>

namespace carbon {

/// Contract: exactly one producer thread calls try_push(); exactly one
/// consumer thread calls try_pop(). Capacity is a power of two.
template <typename T>
class SpscRing {
 public:
  /// capacity: a power of two, at least 2.
  explicit SpscRing(std::size_t capacity) : mask_(capacity - 1), slots_(new Slot[capacity]) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
      throw std::invalid_argument("SpscRing capacity must be a power of two >= 2");
    }
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;
  ~SpscRing() {
    while (try_pop()) {
    }
  }

  /// Producer only. Moves `value` in and returns true, or false when full.
  bool try_push(T& value) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    ::new (static_cast<void*>(slots_[tail & mask_].storage)) T(std::move(value));
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  /// Consumer only. The oldest value, or nothing when empty.
  std::optional<T> try_pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return std::nullopt;
    }
    T* item = std::launder(reinterpret_cast<T*>(slots_[head & mask_].storage));
    std::optional<T> out(std::move(*item));
    item->~T();
    head_.store(head + 1, std::memory_order_release);
    return out;
  }

  /// Any thread; approximate number of queued values.
  std::size_t approximate_size() const {
    return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_relaxed);
  }

 private:
  struct Slot {
    alignas(T) unsigned char storage[sizeof(T)];
  };
  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};
  std::size_t tail_cache_ = 0;
  alignas(64) std::atomic<std::size_t> tail_{0};
  std::size_t head_cache_ = 0;
};

}  // namespace carbon
