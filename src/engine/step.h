#pragma once
/// The command being applied (private to the engine's .cpp files).

#include <string>
#include <utility>
#include <vector>

#include "engine/exchange.h"

namespace carbon::engine {

/// One engine step: its sequence and time, the events it emits and the
/// reply, and the cash accounts and holdings it touched (flushed as events
/// once the command has succeeded). Engine thread only.
struct Exchange::Step {
  Sequence sequence;
  UnixNanos at;
  std::vector<Event>& events;
  Reply& reply;
  std::vector<AccountId> touched_cash;
  std::vector<std::pair<AccountId, std::string>> touched_holdings;
};

/// "<n> t": tonnes as the engine's refusal messages write them.
inline std::string tonnes(Qty q) { return std::to_string(q.value) + " t"; }

/// The volume-weighted average price, turnover / volume, rounded half up to a multiple of `tick`: the closing
/// price rule. volume > 0.
inline Price vwap_to_tick(Cash turnover, Qty volume, Price tick) {
  const __int128 denominator = static_cast<__int128>(volume.value) * tick.value;
  const __int128 ticks = (2 * static_cast<__int128>(turnover.value) + denominator) / (2 * denominator);
  return Price{static_cast<std::int64_t>(ticks * tick.value)};
}

}  // namespace carbon::engine
