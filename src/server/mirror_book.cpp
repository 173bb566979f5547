#include "server/mirror_book.h"

namespace carbon::server {

bool MirrorBook::rests(const engine::OrderRecord& order) {
  return order.mode == TradingMode::listed && order.type == OrderType::limit && is_open(order.status) &&
         order.remaining().is_positive();
}

void MirrorBook::apply(const engine::OrderRecord& order) {
  if (order.mode != TradingMode::listed) return;
  set(order.id, order.side, order.price, order.remaining(), rests(order));
}

void MirrorBook::set(OrderId id, Side side, Price price, Qty remaining, bool resting) {
  auto found = orders_.find(id);
  if (found != orders_.end()) {
    add_to_level(found->second.side, found->second.price, Qty{-found->second.remaining.value}, -1);
    if (!resting) {
      orders_.erase(found);
      return;
    }
    found->second = Resting{side, price, remaining};
  } else {
    if (!resting) return;
    orders_.emplace(id, Resting{side, price, remaining});
  }
  add_to_level(side, price, remaining, 1);
}

void MirrorBook::add_to_level(Side side, Price price, Qty quantity, int orders) {
  auto change = [&](auto& levels) {
    Level& level = levels[price];
    level.quantity += quantity;
    level.order_count = static_cast<std::uint32_t>(static_cast<int>(level.order_count) + orders);
    if (level.order_count == 0) levels.erase(price);
  };
  if (side == Side::buy) {
    change(bids_);
  } else {
    change(asks_);
  }
}

std::vector<matching::DepthLevel> MirrorBook::depth(Side side, std::size_t levels) const {
  std::vector<matching::DepthLevel> out;
  auto collect = [&](const auto& book) {
    for (const auto& [price, level] : book) {
      if (out.size() == levels) break;
      out.push_back(matching::DepthLevel{price, level.quantity, level.order_count});
    }
  };
  if (side == Side::buy) {
    collect(bids_);
  } else {
    collect(asks_);
  }
  return out;
}

}  // namespace carbon::server
