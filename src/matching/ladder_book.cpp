#include "matching/ladder_book.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace carbon::matching {
LadderBook::LadderBook(Price lowest, Price highest, Price tick, std::size_t capacity)
    : lowest_(lowest), highest_(highest), tick_(tick) {
  if (!tick.is_positive() || highest < lowest) throw std::invalid_argument("LadderBook: bad price band");
  if (capacity > (std::size_t{1} << 30)) throw std::length_error("LadderBook: capacity above 2^30 orders");
  if (std::has_single_bit(static_cast<std::uint64_t>(tick.value))) {
    tick_shift_ = std::countr_zero(static_cast<std::uint64_t>(tick.value));
  }
  level_count_ = (highest.value - lowest.value) / tick.value + 1;
  highest_ = price_at(level_count_ - 1);
  for (Ladder* l : {&bids_, &asks_}) {
    l->levels.resize(static_cast<std::size_t>(level_count_));
    l->occupied.assign(static_cast<std::size_t>((level_count_ + 63) / 64), 0);
  }
  const std::size_t nodes = capacity < 1 ? 1 : capacity;
  first_ = std::make_unique<Node[]>(nodes);
  first_size_ = static_cast<std::uint32_t>(nodes);
  pool_size_ = nodes;
  free_ = kNil;
  link_free(0);
  // 1.5 index slots per node: one segment, or as many of the largest as that takes.
  const std::size_t slots = std::bit_ceil(std::max<std::size_t>(4, nodes + nodes / 2));
  const auto slot_bits = static_cast<std::uint32_t>(std::countr_zero(slots));
  const std::uint32_t bits = std::min(slot_bits, kMaxSegmentBits);
  global_depth_ = slot_bits - bits;
  directory_.resize(std::size_t{1} << global_depth_);
  for (Segment*& entry : directory_) {
    auto segment = std::make_unique<Segment>();
    segment->bits = bits;
    segment->depth = global_depth_;
    segment->slots = std::make_unique<Slot[]>(std::size_t{1} << bits);
    entry = segment.get();
    segments_.push_back(std::move(segment));
  }
  cache_only_segment();
}

bool LadderBook::accepts(Price price) const {
  if (price < lowest_) return false;
  const std::int64_t offset = price.value - lowest_.value;
  const bool on_grid = tick_shift_ >= 0 ? (offset & (tick_.value - 1)) == 0 : offset % tick_.value == 0;
  return on_grid && ticks_in(offset) < level_count_;
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
  free_ = pool(node).next;
  return node;
}

void LadderBook::free_node(std::uint32_t node) {
  pool(node).next = free_;
  free_ = node;
}

void LadderBook::grow() {
  if (pool_size_ >= (std::size_t{1} << 30)) throw std::length_error("LadderBook: more than 2^30 resting orders");
  const std::size_t first_new = pool_size_;
  chunks_.push_back(std::make_unique<Node[]>(kChunkNodes));
  pool_size_ += kChunkNodes;
  link_free(first_new);
}

void LadderBook::link_free(std::size_t first) {
  for (std::size_t i = pool_size_; i-- > first;) {
    pool(static_cast<std::uint32_t>(i)).next = free_;
    free_ = static_cast<std::uint32_t>(i);
  }
}

void LadderBook::link(std::uint32_t node) {
  Node& n = pool(node);
  const std::int64_t at = index_of(n.order.price);
  Ladder& l = ladder(n.order.side);
  Level& level = l.levels[static_cast<std::size_t>(at)];
  if (level.head == kNil) {
    level.head = node;
    n.prev = node;
    n.next = node;
    set_bit(l, at);
    if (n.order.side == Side::buy) {
      if (best_bid_ < at) best_bid_ = at;
    } else if (best_ask_ == -1 || at < best_ask_) {
      best_ask_ = at;
    }
    return;
  }
  // Almost always appended at the tail; restored orders may need to move up.
  const std::uint32_t tail = pool(level.head).prev;
  std::uint32_t after = tail;
  while (pool(after).order.priority > n.order.priority && after != level.head) after = pool(after).prev;
  const bool new_head = pool(after).order.priority > n.order.priority;
  if (new_head) after = tail;
  const std::uint32_t before = pool(after).next;
  n.prev = after;
  n.next = before;
  pool(after).next = node;
  pool(before).prev = node;
  if (new_head) level.head = node;
}

void LadderBook::unlink(Side side, std::int64_t at, std::uint32_t node) {
  Ladder& l = ladder(side);
  Level& level = l.levels[static_cast<std::size_t>(at)];
  const Node& n = pool(node);
  if (n.next == node) {
    level.head = kNil;
    clear_bit(l, at);
    if (side == Side::buy) {
      if (at == best_bid_) best_bid_ = next_down(bids_, at - 1);
    } else if (at == best_ask_) {
      best_ask_ = next_up(asks_, at + 1);
    }
    return;
  }
  pool(n.prev).next = n.next;
  pool(n.next).prev = n.prev;
  if (level.head == node) level.head = n.next;
}

void LadderBook::remove(std::uint32_t node) {
  const BookOrder& order = pool(node).order;
  index_erase(order.id, node);
  unlink(order.side, index_of(order.price), node);
  free_node(node);
  --orders_;
}

void LadderBook::add(const BookOrder& order) {
  if (!accepts(order.price) || order.id == 0 || index_find(order.id) != kNil) {
    throw std::invalid_argument("LadderBook::add: price outside the band or off the tick, or a zero or duplicate id");
  }
  const std::uint32_t node = allocate_node();
  pool(node).order = order;
  link(node);
  index_insert(order.id, node);
  ++orders_;
}

template <Side kResting>
Qty LadderBook::match_against(Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                              SelfTradePrevention mode, std::vector<OrderId>* self_trade_cancelled,
                              bool* self_trade_stopped) {
  constexpr bool kAsks = kResting == Side::sell;
  Ladder& l = kAsks ? asks_ : bids_;
  const std::int64_t& best = kAsks ? best_ask_ : best_bid_;
  // The last crossing level: asks at or below the limit, bids at or above it.
  std::int64_t bound;
  if constexpr (kAsks) {
    if (limit < lowest_) return quantity;
    bound = ticks_in(limit.value - lowest_.value);
  } else {
    if (limit > highest_) return quantity;
    bound = limit <= lowest_ ? 0 : ticks_in(limit.value - lowest_.value + tick_.value - 1);
  }
  while (quantity.is_positive() && best != -1 && (kAsks ? best <= bound : best >= bound)) {
    const std::int64_t at = best;
    Level& level = l.levels[static_cast<std::size_t>(at)];
    const Price price = price_at(at);
    do {
      const std::uint32_t node = level.head;
      BookOrder& resting = pool(node).order;
      if (incoming_owner != 0 && resting.owner == incoming_owner) {
        if (mode != SelfTradePrevention::cancel_incoming) {
          self_trade_cancelled->push_back(resting.id);
          index_erase(resting.id, node);
          unlink(kResting, at, node);
          free_node(node);
          --orders_;
        }
        if (mode != SelfTradePrevention::cancel_resting) {
          if (self_trade_stopped != nullptr) *self_trade_stopped = true;
          return quantity;
        }
        continue;
      }
      const Qty traded = min(quantity, resting.remaining);
      quantity -= traded;
      resting.remaining -= traded;
      fills.push_back(Fill{resting.id, resting.owner, price, traded, resting.remaining});
      if (resting.remaining.is_zero()) {
        index_erase(resting.id, node);
        unlink(kResting, at, node);
        free_node(node);
        --orders_;
      }
    } while (quantity.is_positive() && level.head != kNil);
  }
  return quantity;
}

Qty LadderBook::match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                      bool* self_trade_stopped) {
  constexpr auto mode = SelfTradePrevention::cancel_incoming;
  return side == Side::buy
             ? match_against<Side::sell>(limit, quantity, fills, incoming_owner, mode, nullptr, self_trade_stopped)
             : match_against<Side::buy>(limit, quantity, fills, incoming_owner, mode, nullptr, self_trade_stopped);
}

Qty LadderBook::match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                      SelfTradePrevention mode, std::vector<OrderId>& self_trade_cancelled,
                      bool* self_trade_stopped) {
  return side == Side::buy ? match_against<Side::sell>(limit, quantity, fills, incoming_owner, mode,
                                                       &self_trade_cancelled, self_trade_stopped)
                           : match_against<Side::buy>(limit, quantity, fills, incoming_owner, mode,
                                                      &self_trade_cancelled, self_trade_stopped);
}

Qty LadderBook::executable_quantity(Side side, Price limit, Qty cap) const {
  return executable_quantity(side, limit, cap, 0, SelfTradePrevention::cancel_incoming);
}

Qty LadderBook::executable_quantity(Side side, Price limit, Qty cap, ParticipantId incoming_owner,
                                    SelfTradePrevention mode) const {
  const Side resting_side = opposite(side);
  const Ladder& l = ladder(resting_side);
  Qty total{0};
  std::int64_t at = resting_side == Side::buy ? best_bid_ : best_ask_;
  while (at != -1) {
    const Price price = price_at(at);
    if (side == Side::buy ? price > limit : price < limit) break;
    const std::uint32_t head = l.levels[static_cast<std::size_t>(at)].head;
    std::uint32_t node = head;
    do {
      const BookOrder& order = pool(node).order;
      if (incoming_owner != 0 && order.owner == incoming_owner) {
        if (mode != SelfTradePrevention::cancel_resting) return total;
      } else {
        total += order.remaining;
        if (total >= cap) return total;
      }
      node = pool(node).next;
    } while (node != head);
    at = resting_side == Side::buy ? next_down(l, at - 1) : next_up(l, at + 1);
  }
  return total;
}

bool LadderBook::cancel(OrderId id) {
  const std::uint32_t node = index_find(id);
  if (node == kNil) return false;
  remove(node);
  return true;
}

bool LadderBook::reduce(OrderId id, Qty remaining) {
  const std::uint32_t node = index_find(id);
  if (node == kNil) return false;
  BookOrder& order = pool(node).order;
  if (!remaining.is_positive() || remaining >= order.remaining) return false;
  order.remaining = remaining;
  return true;
}

bool LadderBook::requeue(OrderId id, Price price, Qty remaining, std::uint64_t priority) {
  const std::uint32_t node = index_find(id);
  if (node == kNil || !remaining.is_positive() || !accepts(price)) return false;
  BookOrder& order = pool(node).order;
  const std::int64_t at = index_of(price);
  if (order.side == Side::buy ? (best_ask_ != -1 && at >= best_ask_) : (best_bid_ != -1 && at <= best_bid_)) {
    return false;
  }
  unlink(order.side, index_of(order.price), node);
  order.price = price;
  order.remaining = remaining;
  order.priority = priority;
  link(node);
  return true;
}

AmendResult LadderBook::amend(OrderId id, Price price, Qty quantity, std::uint64_t priority,
                              std::vector<Fill>& fills, SelfTradePrevention mode,
                              std::vector<OrderId>& self_trade_cancelled) {
  const std::uint32_t node = index_find(id);
  if (node == kNil) return AmendResult{AmendStatus::not_found, Qty{0}};
  if (!quantity.is_positive() || !accepts(price)) return AmendResult{AmendStatus::invalid, Qty{0}};
  BookOrder& order = pool(node).order;
  if (price == order.price) {
    if (quantity == order.remaining) return AmendResult{AmendStatus::unchanged, quantity};
    if (quantity < order.remaining) {
      order.remaining = quantity;
      return AmendResult{AmendStatus::reduced, quantity};
    }
  }
  // Loses priority: out of its level (still pooled and indexed), across the spread, back in.
  unlink(order.side, index_of(order.price), node);
  bool stopped = false;
  const Qty left = order.side == Side::buy
                       ? match_against<Side::sell>(price, quantity, fills, order.owner, mode, &self_trade_cancelled,
                                                   &stopped)
                       : match_against<Side::buy>(price, quantity, fills, order.owner, mode, &self_trade_cancelled,
                                                  &stopped);
  if (stopped || left.is_zero()) {
    index_erase(id, node);
    free_node(node);
    --orders_;
    return AmendResult{stopped ? AmendStatus::self_trade_cancelled : AmendStatus::filled, Qty{0}};
  }
  order.price = price;
  order.remaining = left;
  order.priority = priority;
  link(node);
  return AmendResult{AmendStatus::requeued, left};
}

const BookOrder* LadderBook::find(OrderId id) const {
  const std::uint32_t node = index_find(id);
  return node == kNil ? nullptr : &pool(node).order;
}

std::optional<Price> LadderBook::best_bid() const {
  if (best_bid_ == -1) return std::nullopt;
  return price_at(best_bid_);
}

std::optional<Price> LadderBook::best_ask() const {
  if (best_ask_ == -1) return std::nullopt;
  return price_at(best_ask_);
}

std::vector<DepthLevel> LadderBook::depth(Side side, std::size_t levels) const {
  std::vector<DepthLevel> out;
  const Ladder& l = ladder(side);
  std::int64_t at = side == Side::buy ? best_bid_ : best_ask_;
  while (at != -1 && out.size() < levels) {
    DepthLevel level{price_at(at), Qty{0}, 0};
    const std::uint32_t head = l.levels[static_cast<std::size_t>(at)].head;
    std::uint32_t node = head;
    do {
      level.quantity += pool(node).order.remaining;
      ++level.order_count;
      node = pool(node).next;
    } while (node != head);
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
      const std::uint32_t head = l.levels[static_cast<std::size_t>(at)].head;
      std::uint32_t node = head;
      do {
        visit(pool(node).order);
        node = pool(node).next;
      } while (node != head);
      at = side == Side::buy ? next_down(l, at - 1) : next_up(l, at + 1);
    }
  }
}

std::size_t LadderBook::memory_bytes() const {
  std::size_t bytes = sizeof(*this);
  for (const Ladder* l : {&bids_, &asks_}) {
    bytes += l->levels.capacity() * sizeof(Level) + l->occupied.capacity() * sizeof(std::uint64_t);
  }
  bytes += chunks_.capacity() * sizeof(chunks_[0]) + pool_size_ * sizeof(Node);  // the first array and the chunks
  bytes += directory_.capacity() * sizeof(Segment*) + segments_.capacity() * sizeof(segments_[0]);
  for (const auto& segment : segments_) bytes += sizeof(Segment) + (std::size_t{1} << segment->bits) * sizeof(Slot);
  return bytes;
}

// ---- the order-id index: extendible hashing over open-addressing tables
// with linear probing and backward-shift deletion. A slot keeps the top 32
// bits of the id's hash, its tag, and the node, whose id settles a tag
// match. The directory, chosen by the tag's top bits, points at segments;
// a segment holds the tags whose top `depth` bits are its own, and its home
// slot for a tag is the tag's next bits, so nothing is read from a node to
// move a slot. A segment doubles at a load of 2/3 up to 2^kMaxSegmentBits
// slots, then splits in two by the next bit of the tag (the directory
// doubles when the segment's depth is the directory's): no add ever moves
// more than one segment, whatever the book's size.

std::uint32_t LadderBook::index_find(OrderId id) const {
  const std::uint32_t tag = tag_of(id);
  if (only_slots_ != nullptr) {  // one segment, of depth 0: its home is the tag's top bits
    const std::size_t mask = (std::size_t{1} << only_bits_) - 1;
    for (std::size_t i = tag >> (32 - only_bits_);; i = (i + 1) & mask) {
      const Slot slot = only_slots_[i];
      if (slot.node == kNil) return kNil;
      if (slot.tag == tag && pool(slot.node).order.id == id) return slot.node;
    }
  }
  const Segment& segment = segment_of(tag);
  const std::size_t mask = (std::size_t{1} << segment.bits) - 1;
  for (std::size_t i = home_in(segment, tag);; i = (i + 1) & mask) {
    const Slot slot = segment.slots[i];
    if (slot.node == kNil) return kNil;
    if (slot.tag == tag && pool(slot.node).order.id == id) return slot.node;
  }
}

void LadderBook::index_insert(OrderId id, std::uint32_t node) {
  const std::uint32_t tag = tag_of(id);
  Segment* segment = &segment_of(tag);
  // A split may leave every tag on one side: make room until there is some.
  while (3 * (std::size_t{segment->count} + 1) > (std::size_t{2} << segment->bits)) {
    grow_segment(*segment);
    segment = &segment_of(tag);
    cache_only_segment();
  }
  place(*segment, Slot{tag, node});
  ++segment->count;
}

void LadderBook::place(Segment& segment, Slot slot) {
  const std::size_t mask = (std::size_t{1} << segment.bits) - 1;
  std::size_t i = home_in(segment, slot.tag);
  while (segment.slots[i].node != kNil) i = (i + 1) & mask;
  segment.slots[i] = slot;
}

void LadderBook::grow_segment(Segment& segment) {
  const std::size_t old_size = std::size_t{1} << segment.bits;
  std::unique_ptr<Slot[]> old = std::move(segment.slots);
  if (segment.bits < kMaxSegmentBits) {
    ++segment.bits;
    segment.slots = std::make_unique<Slot[]>(old_size * 2);
    for (std::size_t i = 0; i < old_size; ++i) {
      if (old[i].node != kNil) place(segment, old[i]);
    }
    return;
  }
  // Split by the tag's bit below the segment's depth.
  if (segment.depth + kMaxSegmentBits >= 32) throw std::length_error("LadderBook: the order-id index is full");
  if (segment.depth == global_depth_) {
    std::vector<Segment*> doubled(directory_.size() * 2);
    for (std::size_t j = 0; j < doubled.size(); ++j) doubled[j] = directory_[j >> 1];
    directory_ = std::move(doubled);
    ++global_depth_;
  }
  auto sibling = std::make_unique<Segment>();
  const std::uint32_t depth = segment.depth + 1;
  sibling->bits = segment.bits;
  sibling->depth = depth;
  sibling->slots = std::make_unique<Slot[]>(old_size);
  segment.depth = depth;
  segment.count = 0;
  segment.slots = std::make_unique<Slot[]>(old_size);
  for (std::size_t i = 0; i < old_size; ++i) {
    if (old[i].node == kNil) continue;
    Segment& to = ((old[i].tag >> (32 - depth)) & 1) != 0 ? *sibling : segment;
    place(to, old[i]);
    ++to.count;
  }
  // The directory's entries of the segment whose new bit is 1 go to the sibling.
  for (std::size_t j = 0; j < directory_.size(); ++j) {
    if (directory_[j] == &segment && ((j >> (global_depth_ - depth)) & 1) != 0) directory_[j] = sibling.get();
  }
  segments_.push_back(std::move(sibling));
}

void LadderBook::index_erase(OrderId id, std::uint32_t node) {
  const std::uint32_t tag = tag_of(id);
  Segment& segment = segment_of(tag);
  const std::size_t mask = (std::size_t{1} << segment.bits) - 1;
  std::size_t hole = home_in(segment, tag);
  while (segment.slots[hole].node != node) hole = (hole + 1) & mask;
  for (std::size_t j = (hole + 1) & mask; segment.slots[j].node != kNil; j = (j + 1) & mask) {
    const std::size_t home = home_in(segment, segment.slots[j].tag);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      segment.slots[hole] = segment.slots[j];
      hole = j;
    }
  }
  segment.slots[hole] = Slot{};
  --segment.count;
}

const BookOrder* LadderBook::front(Side side) const {
  const std::int64_t best = side == Side::buy ? best_bid_ : best_ask_;
  if (best < 0) return nullptr;
  const std::uint32_t head = ladder(side).levels[static_cast<std::size_t>(best)].head;
  return head == kNil ? nullptr : &pool(head).order;
}

}  // namespace carbon::matching
