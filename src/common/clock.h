#pragma once
/// The injected clock: the engine asks it for the time of each command, so
/// tests can run any session time and a replay gives the same state.

#include <atomic>
#include <optional>
#include <string_view>

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

/// The wall clock shifted so that it read `start` when it was made: time
/// runs at the real rate from a chosen instant (a demonstration or a test at
/// session time).
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(UnixNanos start);
  UnixNanos now() const override { return system_.now() + offset_; }

 private:
  SystemClock system_;
  UnixNanos offset_;
};

/// Parses an RFC 3339 instant "YYYY-MM-DDTHH:MM:SS" followed by "Z" or
/// "+HH:MM"/"-HH:MM"; nothing if malformed.
std::optional<UnixNanos> parse_rfc3339(std::string_view text);

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
