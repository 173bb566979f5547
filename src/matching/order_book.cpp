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
                          ParticipantId incoming_owner, SelfTradePrevention mode,
                          std::vector<OrderId>* self_trade_cancelled, bool* self_trade_stopped) {
  while (quantity.is_positive() && !levels.empty()) {
    auto level = levels.begin();
    if (!crosses(incoming, limit, level->first)) break;
    Queue& queue = level->second;
    while (quantity.is_positive() && !queue.empty()) {
      BookOrder& resting = queue.front();
      if (incoming_owner != 0 && resting.owner == incoming_owner) {
        bool level_gone = false;
        if (mode != SelfTradePrevention::cancel_incoming) {
          self_trade_cancelled->push_back(resting.id);
          index_.erase(resting.id);
          queue.pop_front();
          if (queue.empty()) {
            levels.erase(level);
            level_gone = true;
          }
        }
        if (mode != SelfTradePrevention::cancel_resting) {
          if (self_trade_stopped != nullptr) *self_trade_stopped = true;
          return quantity;
        }
        if (level_gone) break;
        continue;
      }
      const Qty traded = min(quantity, resting.remaining);
      quantity -= traded;
      resting.remaining -= traded;
      fills.push_back(Fill{resting.id, resting.owner, resting.price, traded, resting.remaining});
      if (resting.remaining.is_zero()) {
        index_.erase(resting.id);
        queue.pop_front();
        if (queue.empty()) {
          levels.erase(level);
          break;
        }
      }
    }
  }
  return quantity;
}

Qty OrderBook::match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                     bool* self_trade_stopped) {
  constexpr auto mode = SelfTradePrevention::cancel_incoming;
  return side == Side::buy
             ? match_side(asks_, side, limit, quantity, fills, incoming_owner, mode, nullptr, self_trade_stopped)
             : match_side(bids_, side, limit, quantity, fills, incoming_owner, mode, nullptr, self_trade_stopped);
}

Qty OrderBook::match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                     SelfTradePrevention mode, std::vector<OrderId>& self_trade_cancelled,
                     bool* self_trade_stopped) {
  return side == Side::buy ? match_side(asks_, side, limit, quantity, fills, incoming_owner, mode,
                                        &self_trade_cancelled, self_trade_stopped)
                           : match_side(bids_, side, limit, quantity, fills, incoming_owner, mode,
                                        &self_trade_cancelled, self_trade_stopped);
}

Qty OrderBook::executable_quantity(Side side, Price limit, Qty cap) const {
  return executable_quantity(side, limit, cap, 0, SelfTradePrevention::cancel_incoming);
}

Qty OrderBook::executable_quantity(Side side, Price limit, Qty cap, ParticipantId incoming_owner,
                                   SelfTradePrevention mode) const {
  Qty total{0};
  auto count = [&](const auto& levels) {
    for (const auto& [price, queue] : levels) {
      if (!crosses(side, limit, price)) return;
      for (const BookOrder& order : queue) {
        if (incoming_owner != 0 && order.owner == incoming_owner) {
          if (mode == SelfTradePrevention::cancel_resting) continue;
          return;
        }
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

bool OrderBook::reduce(OrderId id, Qty remaining) {
  auto found = index_.find(id);
  if (found == index_.end()) return false;
  BookOrder& order = *found->second.position;
  if (!remaining.is_positive() || remaining >= order.remaining) return false;
  order.remaining = remaining;
  return true;
}

bool OrderBook::requeue(OrderId id, Price price, Qty remaining, std::uint64_t priority) {
  const BookOrder* current = find(id);
  if (current == nullptr || !remaining.is_positive()) return false;
  BookOrder moved = *current;
  const std::optional<Price> opposite_best = moved.side == Side::buy ? best_ask() : best_bid();
  if (opposite_best && crosses(moved.side, price, *opposite_best)) return false;
  cancel(id);
  moved.price = price;
  moved.remaining = remaining;
  moved.priority = priority;
  add(moved);
  return true;
}

AmendResult OrderBook::amend(OrderId id, Price price, Qty quantity, std::uint64_t priority, std::vector<Fill>& fills,
                             SelfTradePrevention mode, std::vector<OrderId>& self_trade_cancelled) {
  const BookOrder* current = find(id);
  if (current == nullptr) return AmendResult{AmendStatus::not_found, Qty{0}};
  if (!quantity.is_positive()) return AmendResult{AmendStatus::invalid, Qty{0}};
  if (price == current->price && quantity == current->remaining) {
    return AmendResult{AmendStatus::unchanged, quantity};
  }
  if (price == current->price && quantity < current->remaining) {
    reduce(id, quantity);
    return AmendResult{AmendStatus::reduced, quantity};
  }
  BookOrder moved = *current;
  cancel(id);
  bool stopped = false;
  const Qty left = match(moved.side, price, quantity, fills, moved.owner, mode, self_trade_cancelled, &stopped);
  if (stopped) return AmendResult{AmendStatus::self_trade_cancelled, Qty{0}};
  if (left.is_zero()) return AmendResult{AmendStatus::filled, Qty{0}};
  moved.price = price;
  moved.remaining = left;
  moved.priority = priority;
  add(moved);
  return AmendResult{AmendStatus::requeued, left};
}

const BookOrder* OrderBook::find(OrderId id) const {
  auto found = index_.find(id);
  return found == index_.end() ? nullptr : &*found->second.position;
}

std::optional<Price> OrderBook::best_bid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.begin()->first;
}

std::optional<Price> OrderBook::best_ask() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.begin()->first;
}

std::vector<DepthLevel> OrderBook::depth(Side side, std::size_t levels) const {
  return side == Side::buy ? levels_of(bids_, levels) : levels_of(asks_, levels);
}

void OrderBook::for_each(const std::function<void(const BookOrder&)>& visit) const {
  for (const auto& [price, queue] : bids_) for (const BookOrder& order : queue) visit(order);
  for (const auto& [price, queue] : asks_) for (const BookOrder& order : queue) visit(order);
}

}  // namespace carbon::matching
