#pragma once
/// A price-level (L2) copy of one instrument's listed book, kept from
/// committed OrderChanged events for market data. It never matches; it only
/// mirrors what the engine's book holds after each committed command.

#include <cstddef>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include "common/types.h"
#include "engine/records.h"
#include "matching/order_book.h"

namespace carbon::server {

/// Not thread-safe: the market feed guards it with its own mutex.
class MirrorBook {
 public:
  /// Adds, changes or removes one order: it rests with `remaining` tonnes at
  /// `price` when `resting`, and is gone otherwise.
  void set(OrderId id, Side side, Price price, Qty remaining, bool resting);

  /// Applies an order's state after a committed change. Only listed limit
  /// orders rest in the book; any other order is ignored.
  void apply(const engine::OrderRecord& order);

  /// The best `levels` levels of one side, best price first.
  std::vector<matching::DepthLevel> depth(Side side, std::size_t levels) const;

  /// Number of resting orders mirrored.
  std::size_t order_count() const { return orders_.size(); }

  /// True if an order in this state rests in the listed book.
  static bool rests(const engine::OrderRecord& order);

 private:
  struct Resting {
    Side side;
    Price price;
    Qty remaining;
  };
  struct Level {
    Qty quantity;
    std::uint32_t order_count = 0;
  };
  void add_to_level(Side side, Price price, Qty quantity, int orders);

  std::unordered_map<OrderId, Resting> orders_;
  std::map<Price, Level, std::greater<>> bids_;
  std::map<Price, Level, std::less<>> asks_;
};

}  // namespace carbon::server
