#pragma once
/// Lets a consumer thread that found nothing to do sleep without burning a
/// core, and lets producers wake it cheaply (one load when it is awake).

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <thread>

namespace carbon {

/// A CPU pause inside spin loops.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

/// One consumer sleeps, any number of producers notify.
/// Consumer protocol: `auto t = prepare_wait(); if (still empty) wait(t); else cancel_wait();`
class IdleWaiter {
 public:
  /// Consumer only: announce the intent to sleep; returns a ticket for wait().
  /// `wake_at`: notify_if() wakes this sleep only when its producer has at
  /// least that much work waiting (notify() and wake() always wake it).
  std::uint32_t prepare_wait(std::size_t wake_at = 1) {
    wake_at_.store(wake_at, std::memory_order_relaxed);
    sleeping_.store(true, std::memory_order_relaxed);
    full_fence();
    return epoch_.load(std::memory_order_acquire);
  }
  /// Consumer only: sleep until a notify() after prepare_wait().
  void wait(std::uint32_t ticket) {
    epoch_.wait(ticket, std::memory_order_acquire);  // spins and yields a little before it sleeps
    sleeping_.store(false, std::memory_order_relaxed);
  }
  /// Consumer only: as wait(), but for `timeout` at most. True if notified.
  bool wait_for(std::uint32_t ticket, std::chrono::nanoseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // As std::atomic::wait does before it sleeps: a few pauses, then a few
    // yields (a wake-up due within microseconds costs no system call).
    for (int k = 0; k < 16 && epoch_.load(std::memory_order_acquire) == ticket; ++k) {
      if (k < 12) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    bool notified = false;
    for (;;) {
      if (epoch_.load(std::memory_order_acquire) != ticket) {
        notified = true;
        break;
      }
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds::zero()) break;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      const timespec relative{static_cast<std::time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      futex(FUTEX_WAIT_PRIVATE, ticket, &relative);
    }
    sleeping_.store(false, std::memory_order_relaxed);
    return notified;
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
  /// A producer, after publishing work: as notify(), but only if `waiting`
  /// (the work waiting, counted after publishing; an over-count only wakes the
  /// consumer early) reaches the sleeping consumer's `wake_at`. The wake_at
  /// stored before the consumer's fence is seen after this fence whenever the
  /// consumer's look at the queue missed this producer's work (Dekker, as for
  /// the flag), so a consumer never sleeps through the work it asked for.
  void notify_if(std::size_t waiting) {
#if defined(__SANITIZE_THREAD__)
    (void)waiting;
    wake();
#else
    full_fence();
    if (sleeping_.load(std::memory_order_relaxed) && waiting >= wake_at_.load(std::memory_order_relaxed)) wake();
#endif
  }
  /// Any thread: wakes the consumer unconditionally (used to stop it).
  void wake() {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    epoch_.notify_all();                       // a consumer in wait()
    futex(FUTEX_WAKE_PRIVATE, INT_MAX, nullptr);  // a consumer in wait_for()
  }

 private:
  // wait_for() sleeps on the epoch itself with FUTEX_WAIT (std::atomic<uint32_t>
  // is a plain 32-bit word here), std::atomic::wait having no timeout. The
  // kernel sleeps only while the word still equals the ticket, and wake()
  // changes it before it wakes, so no wake-up is lost. A spurious or
  // interrupted FUTEX_WAIT returns early; wait_for() looks at the epoch again.
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                std::atomic<std::uint32_t>::is_always_lock_free);
  void futex(int op, std::uint32_t value, const timespec* timeout) {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), op, value, timeout, nullptr, 0);
  }

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
  std::atomic<std::size_t> wake_at_{1};
};

/// How long a consumer spins (with a pause) before it sleeps.
inline constexpr int kSpinsBeforeSleep = 100;

}  // namespace carbon
