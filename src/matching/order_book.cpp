#include "matching/order_book.h"

#include <cassert>
#include <iterator>

namespace carbon::matching {
namespace {

bool crosses(Side incoming, Price limit, Price resting) {
  return incoming == Side::buy ? resting <= limit : resting >= limit;
}

template <typename Levels>
std::vector<DepthLevel> levels_of(const Levels& levels, std::size_t count) {
  std::vector<DepthLevel> out;
  for (const auto& [price, queue] : levels) {
    if (out.size() == count) break;
    DepthLevel level{price, Qty{0}, 0};
    for (const BookOrder& order : queue) {
      level.quantity += order.remaining;
      ++level.order_count;
    }
    out.push_back(level);
  }
  return out;
}

}  // namespace

template <typename Levels>
Qty OrderBook::match_side(Levels& levels, Side incoming, Price limit, Qty quantity, std::vector<Fill>& fills,
                          ParticipantId incoming_owner, bool* self_trade_stopped) {
  while (quantity.is_positive() && !levels.empty()) {
    auto level = levels.begin();
    if (!crosses(incoming, limit, level->first)) break;
    Queue& queue = level->second;
    while (quantity.is_positive() && !queue.empty()) {
      BookOrder& resting = queue.front();
      if (incoming_owner != 0 && resting.owner == incoming_owner) {
        if (self_trade_stopped != nullptr) *self_trade_stopped = true;
        return quantity;
      }
      const Qty traded = min(quantity, resting.remaining);
      quantity -= traded;
      resting.remaining -= traded;
      fills.push_back(Fill{resting.id, resting.owner, resting.price, traded, resting.remaining});
      if (resting.remaining.is_zero()) {
        index_.erase(resting.id);
        queue.pop_front();
      }
    }
    if (queue.empty()) levels.erase(level);
  }
  return quantity;
}

Qty OrderBook::match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                     bool* self_trade_stopped) {
  return side == Side::buy ? match_side(asks_, side, limit, quantity, fills, incoming_owner, self_trade_stopped)
                           : match_side(bids_, side, limit, quantity, fills, incoming_owner, self_trade_stopped);
}

Qty OrderBook::executable_quantity(Side side, Price limit, Qty cap) const {
  Qty total{0};
  auto count = [&](const auto& levels) {
    for (const auto& [price, queue] : levels) {
      if (!crosses(side, limit, price)) return;
      for (const BookOrder& order : queue) {
        total += order.remaining;
        if (total >= cap) return;
      }
    }
  };
  if (side == Side::buy) count(asks_); else count(bids_);
  return total;
}

void OrderBook::add(const BookOrder& order) {
  assert(!index_.contains(order.id));
  auto rest = [&](auto& levels) {
    Queue& queue = levels[order.price];
    auto position = queue.end();
    // Restored orders may arrive in any order; keep each level sorted by priority.
    while (position != queue.begin() && std::prev(position)->priority > order.priority) --position;
    return queue.insert(position, order);
  };
  auto position = order.side == Side::buy ? rest(bids_) : rest(asks_);
  index_.emplace(order.id, Location{order.side, order.price, position});
}

bool OrderBook::cancel(OrderId id) {
  auto found = index_.find(id);
  if (found == index_.end()) return false;
  const Location location = found->second;
  index_.erase(found);
  auto remove = [&](auto& levels) {
    auto level = levels.find(location.price);
    level->second.erase(location.position);
    if (level->second.empty()) levels.erase(level);
  };
  if (location.side == Side::buy) remove(bids_); else remove(asks_);
  return true;
}

const BookOrder* OrderBook::find(OrderId id) const {
  auto found = index_.find(id);
  return found == index_.end() ? nullptr : &*found->second.position;
}

std::vector<DepthLevel> OrderBook::depth(Side side, std::size_t levels) const {
  return side == Side::buy ? levels_of(bids_, levels) : levels_of(asks_, levels);
}

void OrderBook::for_each(const std::function<void(const BookOrder&)>& visit) const {
  for (const auto& [price, queue] : bids_) for (const BookOrder& order : queue) visit(order);
  for (const auto& [price, queue] : asks_) for (const BookOrder& order : queue) visit(order);
}

}  // namespace carbon::matching
