#include "matching/ladder_book.h"

#include <bit>
#include <cassert>
#include <stdexcept>

namespace carbon::matching {
namespace {

std::size_t next_power_of_two(std::size_t n) { return std::bit_ceil(n < 2 ? std::size_t{2} : n); }

}  // namespace

LadderBook::LadderBook(Price lowest, Price highest, Price tick, std::size_t capacity)
    : lowest_(lowest), tick_(tick) {
  if (!tick.is_positive() || highest < lowest) throw std::invalid_argument("LadderBook: bad price band");
  level_count_ = (highest.value - lowest.value) / tick.value + 1;
  for (Ladder* l : {&bids_, &asks_}) {
    l->levels.resize(static_cast<std::size_t>(level_count_));
    l->occupied.assign(static_cast<std::size_t>((level_count_ + 63) / 64), 0);
  }
  nodes_.resize(capacity < 1 ? 1 : capacity);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].next = i + 1 < nodes_.size() ? static_cast<std::uint32_t>(i + 1) : kNil;
  }
  free_ = 0;
  index_.assign(next_power_of_two(nodes_.size() * 2), Slot{});
  index_shift_ = 64 - std::countr_zero(index_.size());
}

bool LadderBook::accepts(Price price) const {
  if (price < lowest_) return false;
  const std::int64_t offset = price.value - lowest_.value;
  return offset % tick_.value == 0 && offset / tick_.value < level_count_;
}

std::int64_t LadderBook::next_up(const Ladder& l, std::int64_t from) const {
  if (from < 0) from = 0;
  if (from >= level_count_) return -1;
  std::size_t word = static_cast<std::size_t>(from >> 6);
  std::uint64_t bits = l.occupied[word] & (~0ull << (from & 63));
  for (;;) {
    if (bits != 0) return static_cast<std::int64_t>(word * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
    if (++word == l.occupied.size()) return -1;
    bits = l.occupied[word];
  }
}

std::int64_t LadderBook::next_down(const Ladder& l, std::int64_t from) const {
  if (from >= level_count_) from = level_count_ - 1;
  if (from < 0) return -1;
  std::size_t word = static_cast<std::size_t>(from >> 6);
  const int bit = static_cast<int>(from & 63);
  std::uint64_t bits = l.occupied[word] & (bit == 63 ? ~0ull : ((1ull << (bit + 1)) - 1));
  for (;;) {
    if (bits != 0) return static_cast<std::int64_t>(word * 64 + 63 - static_cast<std::size_t>(std::countl_zero(bits)));
    if (word == 0) return -1;
    bits = l.occupied[--word];
  }
}

std::uint32_t LadderBook::allocate_node() {
  if (free_ == kNil) grow();
  const std::uint32_t node = free_;
  free_ = nodes_[node].next;
  return node;
}

void LadderBook::grow() {
  const std::size_t old_size = nodes_.size();
  nodes_.resize(old_size * 2);
  for (std::size_t i = old_size; i < nodes_.size(); ++i) {
    nodes_[i].next = i + 1 < nodes_.size() ? static_cast<std::uint32_t>(i + 1) : free_;
  }
  free_ = static_cast<std::uint32_t>(old_size);
  std::vector<Slot> old_index = std::move(index_);
  index_.assign(next_power_of_two(nodes_.size() * 2), Slot{});
  index_shift_ = 64 - std::countr_zero(index_.size());
  for (const Slot& slot : old_index) {
    if (slot.id != 0) index_insert(slot.id, slot.node);
  }
}

void LadderBook::add(const BookOrder& order) {
  if (!accepts(order.price) || order.id == 0 || index_find(order.id) != nullptr) {
    throw std::invalid_argument("LadderBook::add: price outside the band or off the tick, or a zero or duplicate id");
  }
  const std::int64_t at = index_of(order.price);
  const std::uint32_t node = allocate_node();
  Ladder& l = ladder(order.side);
  Level& level = l.levels[static_cast<std::size_t>(at)];
  nodes_[node].order = order;
  // Almost always appended at the tail; restored orders may need to move up.
  std::uint32_t after = level.tail;
  while (after != kNil && nodes_[after].order.priority > order.priority) after = nodes_[after].prev;
  nodes_[node].prev = after;
  nodes_[node].next = after == kNil ? level.head : nodes_[after].next;
  if (nodes_[node].next == kNil) level.tail = node; else nodes_[nodes_[node].next].prev = node;
  if (after == kNil) level.head = node; else nodes_[after].next = node;
  set_bit(l, at);
  if (order.side == Side::buy) {
    if (best_bid_ < at) best_bid_ = at;
  } else if (best_ask_ == -1 || at < best_ask_) {
    best_ask_ = at;
  }
  index_insert(order.id, node);
  ++orders_;
}

void LadderBook::unlink(Ladder& l, std::int64_t at, std::uint32_t node) {
  Level& level = l.levels[static_cast<std::size_t>(at)];
  Node& n = nodes_[node];
  if (n.prev == kNil) level.head = n.next; else nodes_[n.prev].next = n.next;
  if (n.next == kNil) level.tail = n.prev; else nodes_[n.next].prev = n.prev;
  n.next = free_;
  free_ = node;
  if (level.head == kNil) {
    clear_bit(l, at);
    if (&l == &bids_ && at == best_bid_) best_bid_ = next_down(bids_, at - 1);
    if (&l == &asks_ && at == best_ask_) best_ask_ = next_up(asks_, at + 1);
  }
}

Qty LadderBook::match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                      bool* self_trade_stopped) {
  const Side resting_side = opposite(side);
  Ladder& l = ladder(resting_side);
  std::int64_t& best = resting_side == Side::buy ? best_bid_ : best_ask_;
  while (quantity.is_positive() && best != -1) {
    const std::int64_t at = best;
    const Price price = price_at(at);
    if (side == Side::buy ? price > limit : price < limit) break;
    std::uint32_t node = l.levels[static_cast<std::size_t>(at)].head;
    while (quantity.is_positive() && node != kNil) {
      BookOrder& resting = nodes_[node].order;
      if (incoming_owner != 0 && resting.owner == incoming_owner) {
        if (self_trade_stopped != nullptr) *self_trade_stopped = true;
        return quantity;
      }
      const Qty traded = min(quantity, resting.remaining);
      quantity -= traded;
      resting.remaining -= traded;
      fills.push_back(Fill{resting.id, resting.owner, price, traded, resting.remaining});
      const std::uint32_t next = nodes_[node].next;
      if (resting.remaining.is_zero()) {
        index_erase(resting.id);
        unlink(l, at, node);
        --orders_;
      }
      node = next;
    }
  }
  return quantity;
}

Qty LadderBook::executable_quantity(Side side, Price limit, Qty cap) const {
  const Side resting_side = opposite(side);
  const Ladder& l = ladder(resting_side);
  Qty total{0};
  std::int64_t at = resting_side == Side::buy ? best_bid_ : best_ask_;
  while (at != -1) {
    const Price price = price_at(at);
    if (side == Side::buy ? price > limit : price < limit) break;
    for (std::uint32_t node = l.levels[static_cast<std::size_t>(at)].head; node != kNil; node = nodes_[node].next) {
      total += nodes_[node].order.remaining;
      if (total >= cap) return total;
    }
    at = resting_side == Side::buy ? next_down(l, at - 1) : next_up(l, at + 1);
  }
  return total;
}

bool LadderBook::cancel(OrderId id) {
  const std::uint32_t* found = index_find(id);
  if (found == nullptr) return false;
  const std::uint32_t node = *found;
  const BookOrder& order = nodes_[node].order;
  index_erase(id);
  unlink(ladder(order.side), index_of(order.price), node);
  --orders_;
  return true;
}

bool LadderBook::reduce(OrderId id, Qty remaining) {
  std::uint32_t* found = index_find(id);
  if (found == nullptr) return false;
  BookOrder& order = nodes_[*found].order;
  if (!remaining.is_positive() || remaining >= order.remaining) return false;
  order.remaining = remaining;
  return true;
}

const BookOrder* LadderBook::find(OrderId id) const {
  const std::uint32_t* found = index_find(id);
  return found == nullptr ? nullptr : &nodes_[*found].order;
}

std::vector<DepthLevel> LadderBook::depth(Side side, std::size_t levels) const {
  std::vector<DepthLevel> out;
  const Ladder& l = ladder(side);
  std::int64_t at = side == Side::buy ? best_bid_ : best_ask_;
  while (at != -1 && out.size() < levels) {
    DepthLevel level{price_at(at), Qty{0}, 0};
    for (std::uint32_t node = l.levels[static_cast<std::size_t>(at)].head; node != kNil; node = nodes_[node].next) {
      level.quantity += nodes_[node].order.remaining;
      ++level.order_count;
    }
    out.push_back(level);
    at = side == Side::buy ? next_down(l, at - 1) : next_up(l, at + 1);
  }
  return out;
}

void LadderBook::for_each(const std::function<void(const BookOrder&)>& visit) const {
  for (Side side : {Side::buy, Side::sell}) {
    const Ladder& l = ladder(side);
    std::int64_t at = side == Side::buy ? best_bid_ : best_ask_;
    while (at != -1) {
      for (std::uint32_t node = l.levels[static_cast<std::size_t>(at)].head; node != kNil; node = nodes_[node].next) {
        visit(nodes_[node].order);
      }
      at = side == Side::buy ? next_down(l, at - 1) : next_up(l, at + 1);
    }
  }
}

// ---- the order-id index: open addressing, linear probing, backward-shift deletion

std::uint32_t* LadderBook::index_find(OrderId id) {
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = slot_of(id);; i = (i + 1) & mask) {
    if (index_[i].id == id) return &index_[i].node;
    if (index_[i].id == 0) return nullptr;
  }
}

const std::uint32_t* LadderBook::index_find(OrderId id) const {
  return const_cast<LadderBook*>(this)->index_find(id);
}

void LadderBook::index_insert(OrderId id, std::uint32_t node) {
  const std::size_t mask = index_.size() - 1;
  std::size_t i = slot_of(id);
  while (index_[i].id != 0) i = (i + 1) & mask;
  index_[i] = Slot{id, node};
}

void LadderBook::index_erase(OrderId id) {
  const std::size_t mask = index_.size() - 1;
  std::size_t hole = slot_of(id);
  while (index_[hole].id != id) hole = (hole + 1) & mask;
  for (std::size_t j = (hole + 1) & mask; index_[j].id != 0; j = (j + 1) & mask) {
    const std::size_t home = slot_of(index_[j].id);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = Slot{};
}

const BookOrder* LadderBook::front(Side side) const {
  const std::int64_t best = side == Side::buy ? best_bid_ : best_ask_;
  if (best < 0) return nullptr;
  const std::uint32_t head = ladder(side).levels[static_cast<std::size_t>(best)].head;
  return head == kNil ? nullptr : &nodes_[head].order;
}

}  // namespace carbon::matching
