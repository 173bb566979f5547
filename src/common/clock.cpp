#include "common/clock.h"

#include <chrono>

namespace carbon {

UnixNanos SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace carbon
