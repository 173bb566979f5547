#pragma once
/// One instrument's central limit order book with price-time priority.

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
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

/// What matching does when an incoming order meets a resting order of the
/// same owner (self-trade prevention by participant; owner 0 = none).
enum class SelfTradePrevention : std::uint8_t {
  /// Stop before the resting order; the rest of the incoming order is the
  /// caller's to cancel. The resting order stays. (The books' default.)
  cancel_incoming = 0,
  /// Remove the resting order from the book, report its id, and go on
  /// matching the incoming order (any further own orders likewise).
  cancel_resting = 1,
  /// Remove the resting order, report its id, and stop as cancel_incoming.
  cancel_both = 2,
};

/// What an amend did.
enum class AmendStatus : std::uint8_t {
  not_found,             ///< no resting order with this id; nothing changed
  invalid,               ///< quantity not positive or price not accepted by the book; nothing changed
  unchanged,             ///< same price and quantity; nothing changed, priority kept
  reduced,               ///< same price, lower quantity: reduced in place, priority kept
  requeued,              ///< new price or higher quantity: new priority; after any matching it rests
  filled,                ///< re-priced across the spread and filled completely; gone from the book
  self_trade_cancelled,  ///< met its owner's resting order under cancel_incoming/cancel_both; gone from the book
};

/// The result of an amend: its status and the quantity left resting (0 if gone).
struct AmendResult {
  AmendStatus status = AmendStatus::not_found;
  Qty resting;
};

/// A price-time priority book: the simple reference (std::map of std::list
/// levels) that the fast LadderBook is held to. Not thread-safe: owned by
/// the engine thread. Pure: no I/O, no clock; the caller supplies priorities.
class OrderBook {
 public:
  /// Executes an incoming order of `side` against the opposite side at prices
  /// no worse than `limit`, for up to `quantity`; appends fills best price
  /// first, earliest first within a price. Returns the quantity left unfilled.
  /// Self-trade prevention: matching stops before a resting order of
  /// `incoming_owner` (0 = no owner) and sets `*self_trade_stopped`.
  Qty match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner = 0,
            bool* self_trade_stopped = nullptr);

  /// As match above with a chosen self-trade prevention `mode`: ids of
  /// resting orders removed by it (cancel_resting, cancel_both) are appended
  /// to `self_trade_cancelled`; `*self_trade_stopped` is set when matching
  /// stopped at an own order (cancel_incoming, cancel_both).
  Qty match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
            SelfTradePrevention mode, std::vector<OrderId>& self_trade_cancelled, bool* self_trade_stopped = nullptr);

  /// Quantity on the opposite side of `side` executable at `limit` or better,
  /// counted up to `cap` (for fill-or-kill). Ignores owners.
  Qty executable_quantity(Side side, Price limit, Qty cap) const;

  /// What match(side, limit, cap, ..., incoming_owner, mode) would fill,
  /// counted up to `cap`: up to the first own order under cancel_incoming
  /// and cancel_both, skipping own orders under cancel_resting.
  Qty executable_quantity(Side side, Price limit, Qty cap, ParticipantId incoming_owner,
                          SelfTradePrevention mode) const;

  /// Rests an order. Its id must not be in the book already.
  void add(const BookOrder& order);

  /// Removes an order; false if it is not in the book.
  bool cancel(OrderId id);

  /// Lowers an order's remaining quantity in place, keeping its time
  /// priority; false if it is not in the book or `remaining` is not in (0, current).
  bool reduce(OrderId id, Qty remaining);

  /// Moves an order to `price` with `remaining` and `priority` (placed by
  /// priority at the new level), without matching; false if it is not in the
  /// book, `remaining` is not positive, or `price` would cross the opposite best.
  bool requeue(OrderId id, Price price, Qty remaining, std::uint64_t priority);

  /// Amends a resting order as the market rules say. Same price and a lower
  /// quantity: reduce (priority kept). Same price and quantity: unchanged.
  /// Anything else: the order leaves the book, takes `priority`, matches as
  /// an incoming limit order of its owner at `price` for `quantity` (fills
  /// appended to `fills`, self-trade prevention `mode` against its owner,
  /// removed resting ids appended to `self_trade_cancelled`), and rests what
  /// is left unless the mode cancelled it.
  [[nodiscard]] AmendResult amend(OrderId id, Price price, Qty quantity, std::uint64_t priority,
                                  std::vector<Fill>& fills, SelfTradePrevention mode,
                                  std::vector<OrderId>& self_trade_cancelled);

  /// The resting order with this id, or nullptr.
  const BookOrder* find(OrderId id) const;

  /// The best bid / best ask price, if any.
  std::optional<Price> best_bid() const;
  std::optional<Price> best_ask() const;

  /// The best `levels` price levels of one side, best first.
  std::vector<DepthLevel> depth(Side side, std::size_t levels) const;

  /// Number of resting orders.
  std::size_t order_count() const { return index_.size(); }

  /// Calls `visit` for every resting order, bids best first then asks best
  /// first, in priority order within a level.
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
                 ParticipantId incoming_owner, SelfTradePrevention mode, std::vector<OrderId>* self_trade_cancelled,
                 bool* self_trade_stopped);

  Bids bids_;
  Asks asks_;
  std::unordered_map<OrderId, Location> index_;
};

}  // namespace carbon::matching
