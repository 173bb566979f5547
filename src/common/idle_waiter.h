#pragma once
/// Lets a consumer thread that found nothing to do sleep without burning a
/// core, and lets producers wake it cheaply (one load when it is awake).

#include <atomic>
#include <cstdint>
#include <thread>

namespace carbon {

/// One consumer sleeps, any number of producers notify.
/// Consumer protocol: `auto t = prepare_wait(); if (still empty) wait(t); else cancel_wait();`
class IdleWaiter {
 public:
  /// Consumer only: announce the intent to sleep; returns a ticket for wait().
  std::uint32_t prepare_wait() {
    sleeping_.store(true, std::memory_order_relaxed);
    full_fence();
    return epoch_.load(std::memory_order_acquire);
  }
  /// Consumer only: sleep until a notify() after prepare_wait().
  void wait(std::uint32_t ticket) {
    epoch_.wait(ticket, std::memory_order_acquire);
    sleeping_.store(false, std::memory_order_relaxed);
  }
  /// Consumer only: it found work after prepare_wait() and will not sleep.
  void cancel_wait() { sleeping_.store(false, std::memory_order_relaxed); }

  /// Any thread, after publishing work: wakes the consumer if it sleeps.
  void notify() {
#if defined(__SANITIZE_THREAD__)
    wake();  // ThreadSanitizer cannot model fences: always wake (slower, same guarantees)
#else
    full_fence();
    if (sleeping_.load(std::memory_order_relaxed)) wake();
#endif
  }
  /// Any thread: wakes the consumer unconditionally (used to stop it).
  void wake() {
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
  }

 private:
  // Orders the consumer's "I sleep" before its last look at the queue, and
  // a producer's publish before its look at the flag (Dekker): one of the two
  // always sees the other.
  static void full_fence() {
#if !defined(__SANITIZE_THREAD__)
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }

  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<bool> sleeping_{false};
};

/// How long a consumer spins (with a pause) before it sleeps.
inline constexpr int kSpinsBeforeSleep = 100;

/// A CPU pause inside spin loops.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace carbon
