#pragma once
/// A price-time priority book on a tick-indexed ladder: the fast book for a
/// bounded price band. Same contract as OrderBook (the simple reference),
/// which the differential tests hold it to.

#include <cstdint>
#include <functional>
#include <vector>

#include "common/types.h"
#include "matching/order_book.h"

namespace carbon::matching {

/// Not thread-safe: owned by the engine thread. Pure: no I/O, no clock.
/// Memory is pooled: after construction, add/match/cancel/reduce allocate
/// nothing while the book holds at most `capacity` orders (beyond that the
/// pool and index double, once).
class LadderBook {
 public:
  /// Prices from `lowest` to `highest` inclusive, every `tick` fen.
  LadderBook(Price lowest, Price highest, Price tick, std::size_t capacity = 1024);

  /// Whether a resting order may have this price (inside the band, on the grid).
  bool accepts(Price price) const;

  /// As OrderBook::match: fills best price first, earliest first; stops before
  /// a resting order of `incoming_owner` (self-trade prevention).
  Qty match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner = 0,
            bool* self_trade_stopped = nullptr);

  /// As OrderBook::executable_quantity.
  Qty executable_quantity(Side side, Price limit, Qty cap) const;

  /// Rests an order; its price must be accepted and its id new and nonzero
  /// (std::invalid_argument otherwise). An order whose priority is below the
  /// last at its level is placed by priority.
  void add(const BookOrder& order);

  /// Removes an order; false if it is not in the book.
  bool cancel(OrderId id);

  /// Lowers an order's remaining quantity in place, keeping its time
  /// priority; false if it is not in the book or `remaining` is not in (0, current).
  bool reduce(OrderId id, Qty remaining);

  /// The resting order with this id, or nullptr.
  const BookOrder* find(OrderId id) const;

  /// The best `levels` price levels of one side, best first.
  std::vector<DepthLevel> depth(Side side, std::size_t levels) const;

  /// The first order in time at the best price of one side, or nullptr if the side is empty.
  const BookOrder* front(Side side) const;

  /// The lowest and highest price the ladder holds.
  Price lowest() const { return lowest_; }
  Price highest() const { return price_at(level_count_ - 1); }

  std::size_t order_count() const { return orders_; }

  /// Every resting order, bids best first then asks best first, in priority order.
  void for_each(const std::function<void(const BookOrder&)>& visit) const;

  /// Bytes held per order slot (node + index), for the memory budget.
  static constexpr std::size_t bytes_per_order_slot();

 private:
  static constexpr std::uint32_t kNil = 0xffffffffu;
  struct Node {
    BookOrder order;
    std::uint32_t prev = kNil;
    std::uint32_t next = kNil;
  };
  struct Level {
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
  };
  struct Slot {
    OrderId id = 0;  ///< 0 = empty
    std::uint32_t node = kNil;
  };
  struct Ladder {
    std::vector<Level> levels;
    std::vector<std::uint64_t> occupied;  ///< one bit per non-empty level
  };

  std::int64_t index_of(Price price) const { return (price.value - lowest_.value) / tick_.value; }
  Price price_at(std::int64_t index) const { return Price{lowest_.value + index * tick_.value}; }
  Ladder& ladder(Side side) { return side == Side::buy ? bids_ : asks_; }
  const Ladder& ladder(Side side) const { return side == Side::buy ? bids_ : asks_; }

  /// Next occupied index at or after `from` going up (asks) or at or before it going down (bids); -1 if none.
  std::int64_t next_up(const Ladder& ladder, std::int64_t from) const;
  std::int64_t next_down(const Ladder& ladder, std::int64_t from) const;
  void set_bit(Ladder& ladder, std::int64_t index) { ladder.occupied[index >> 6] |= 1ull << (index & 63); }
  void clear_bit(Ladder& ladder, std::int64_t index) { ladder.occupied[index >> 6] &= ~(1ull << (index & 63)); }

  std::uint32_t allocate_node();
  void unlink(Ladder& ladder, std::int64_t index, std::uint32_t node);
  void grow();

  std::uint32_t* index_find(OrderId id);
  const std::uint32_t* index_find(OrderId id) const;
  void index_insert(OrderId id, std::uint32_t node);
  void index_erase(OrderId id);
  /// Fibonacci hashing: consecutive ids land far apart, so no long probe runs
  /// form even when old orders stay while new ones come and go.
  std::size_t slot_of(OrderId id) const { return (id * 0x9E3779B97F4A7C15ull) >> index_shift_; }

  Price lowest_;
  Price tick_;
  std::int64_t level_count_;
  Ladder bids_;
  Ladder asks_;
  std::int64_t best_bid_ = -1;  ///< index of the best bid level, -1 if none
  std::int64_t best_ask_ = -1;  ///< index of the best ask level, -1 if none
  std::vector<Node> nodes_;
  std::uint32_t free_ = kNil;
  std::vector<Slot> index_;
  int index_shift_ = 64;  ///< 64 - log2(index_.size())
  std::size_t orders_ = 0;
};

constexpr std::size_t LadderBook::bytes_per_order_slot() { return sizeof(Node) + 2 * sizeof(Slot); }

}  // namespace carbon::matching
