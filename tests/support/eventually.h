#pragma once
/// Polling for a condition another process or thread makes true.

#include <chrono>
#include <thread>

namespace carbon::testing {

/// Polls `predicate` every 20 ms until it holds (true) or `within` has passed (false).
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds within = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace carbon::testing
