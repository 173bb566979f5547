#pragma once
/// Read-only access to trades and orders in PostgreSQL for regulators
/// (RegulatorService.QueryTrades, QueryOrders). Each call opens its own
/// read-only connection and reads one snapshot, so any thread may call it
/// (the gRPC threads do); it never touches engine state.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/records.h"

namespace carbon::store {

/// Which trades or orders to list: every filter is optional (0 / empty = all).
struct MarketFilter {
  std::string instrument;
  ParticipantId participant = 0;  ///< trades: buyer or seller; orders: owner
  std::optional<int> mode;        ///< trades: TradingMode value
  std::optional<int> status;      ///< orders: OrderStatus value
  UnixNanos from = 0;             ///< inclusive (execution or entry time)
  UnixNanos to = 0;               ///< exclusive
  std::uint64_t after_id = 0;     ///< paging cursor: the last trade or order id returned
  std::size_t limit = 100;
};

/// Trades matching `filter`, by trade id (oldest first), at most filter.limit.
/// NOT_FOUND unknown participant; UNAVAILABLE database.
[[nodiscard]] Status query_trades(const std::string& conninfo, const MarketFilter& filter,
                                  std::vector<engine::TradeRecord>& out);

/// Orders in their latest state matching `filter`, by order id (oldest first), at most filter.limit.
/// NOT_FOUND unknown participant; UNAVAILABLE database.
[[nodiscard]] Status query_orders(const std::string& conninfo, const MarketFilter& filter,
                                  std::vector<engine::OrderRecord>& out);

/// One order in its latest state (TradingService.GetOrder of an order the engine no longer holds: closed in a
/// trading day that has ended). NOT_FOUND no such order; UNAVAILABLE database.
[[nodiscard]] Status read_order(const std::string& conninfo, OrderId id, engine::OrderRecord& out);

/// What an order session's replay is built from (TradingService.OrderSession,
/// replay_after_sequence), read in one snapshot.
struct OrderHistory {
  /// The sequence the history starts after: the one asked for, or the start
  /// of the previous trading day (the end of day before the last one) if later.
  Sequence from = 0;
  /// The participant's orders (any mode) changed after `from`, as they stand now, by order id.
  std::vector<engine::OrderRecord> orders;
  /// The participant's trades (any mode) after `from` (up to now), by trade id.
  std::vector<engine::TradeRecord> trades;
};

/// Reads the order history of `participant` after sequence `after`, with
/// the trading days as they stood at sequence `up_to` (an end of day
/// committed later does not move the start). UNAVAILABLE database.
[[nodiscard]] Status read_order_history(const std::string& conninfo, ParticipantId participant, Sequence after,
                                        Sequence up_to, OrderHistory& out);

}  // namespace carbon::store
