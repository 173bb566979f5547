#pragma once
/// The injected clock: the engine asks it for the time of each command, so
/// tests can run any session time and a replay gives the same state.

#include <atomic>

#include "common/types.h"

namespace carbon {

/// Source of timestamps. Implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Current time in nanoseconds since the Unix epoch.
  virtual UnixNanos now() const = 0;
};

/// The real wall clock (CLOCK_REALTIME).
class SystemClock final : public Clock {
 public:
  UnixNanos now() const override;
};

/// A clock that moves only when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixNanos start = 0) : now_(start) {}
  UnixNanos now() const override { return now_.load(std::memory_order_relaxed); }
  /// Sets the time; any thread.
  void set(UnixNanos t) { now_.store(t, std::memory_order_relaxed); }
  /// Moves the time forward by `delta` nanoseconds; any thread.
  void advance(UnixNanos delta) { now_.fetch_add(delta, std::memory_order_relaxed); }

 private:
  std::atomic<UnixNanos> now_;
};

}  // namespace carbon
