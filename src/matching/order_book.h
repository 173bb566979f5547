#pragma once
/// One instrument's central limit order book with price-time priority.

#include <cstdint>
#include <list>
#include <map>
#include <functional>
#include <unordered_map>
#include <vector>

#include "common/types.h"

namespace carbon::matching {

/// An order resting in the book.
struct BookOrder {
  OrderId id = 0;
  ParticipantId owner = 0;
  Side side = Side::buy;
  Price price;
  Qty remaining;
  std::uint64_t priority = 0;  ///< smaller = earlier in time at the same price
};

/// One execution against a resting order, at the resting order's price.
struct Fill {
  OrderId resting_id = 0;
  ParticipantId resting_owner = 0;
  Price price;
  Qty quantity;
  Qty resting_remaining;  ///< what is left of the resting order after this fill
};

/// Aggregated quantity at one price.
struct DepthLevel {
  Price price;
  Qty quantity;
  std::uint32_t order_count = 0;
};

/// A price-time priority book. Not thread-safe: owned by the engine thread.
/// Pure: no I/O, no clock; the caller supplies priorities.
class OrderBook {
 public:
  /// Executes an incoming order of `side` against the opposite side at prices
  /// no worse than `limit`, for up to `quantity`; appends fills best price
  /// first, earliest first within a price. Returns the quantity left unfilled.
  /// Self-trade prevention: matching stops before a resting order of
  /// `incoming_owner` (0 = no owner) and sets `*self_trade_stopped`.
  Qty match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner = 0,
            bool* self_trade_stopped = nullptr);

  /// Quantity on the opposite side of `side` executable at `limit` or better,
  /// counted up to `cap` (for fill-or-kill).
  Qty executable_quantity(Side side, Price limit, Qty cap) const;

  /// Rests an order. Its id must not be in the book already.
  void add(const BookOrder& order);

  /// Removes an order; false if it is not in the book.
  bool cancel(OrderId id);

  /// The resting order with this id, or nullptr.
  const BookOrder* find(OrderId id) const;

  /// The best `levels` price levels of one side, best first.
  std::vector<DepthLevel> depth(Side side, std::size_t levels) const;

  /// Number of resting orders.
  std::size_t order_count() const { return index_.size(); }

  /// Calls `visit` for every resting order, side by side, in priority order.
  void for_each(const std::function<void(const BookOrder&)>& visit) const;

 private:
  using Queue = std::list<BookOrder>;
  using Bids = std::map<Price, Queue, std::greater<Price>>;
  using Asks = std::map<Price, Queue, std::less<Price>>;
  struct Location {
    Side side;
    Price price;
    Queue::iterator position;
  };

  template <typename Levels>
  Qty match_side(Levels& levels, Side incoming, Price limit, Qty quantity, std::vector<Fill>& fills,
                 ParticipantId incoming_owner, bool* self_trade_stopped);

  Bids bids_;
  Asks asks_;
  std::unordered_map<OrderId, Location> index_;
};

}  // namespace carbon::matching
