#pragma once
/// A price-time priority book on a tick-indexed ladder: the fast book for a
/// bounded price band. Same contract as OrderBook (the simple reference),
/// which the differential tests hold it to.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/types.h"
#include "matching/order_book.h"

namespace carbon::matching {

/// Not thread-safe: owned by the engine thread. Pure: no I/O, no clock.
/// Memory is pooled: after construction, match/add/cancel/reduce/requeue/
/// amend allocate nothing while the book holds at most `capacity` orders and
/// the caller's fill and id vectors have room. Beyond that the pool grows by
/// a chunk of 1,024 orders, and the order-id index by one segment of at most
/// 8,192 slots, at a time: nothing ever moves the whole pool or index, so no
/// single call pays for the book's size. Cancel, reduce, requeue and the
/// order-id lookup are O(1); matching is O(fills + levels emptied).
class LadderBook {
 public:
  /// Prices from `lowest` to `highest` inclusive, every `tick` fen; room for
  /// `capacity` resting orders before the pool grows.
  LadderBook(Price lowest, Price highest, Price tick, std::size_t capacity = 1024);

  /// Whether a resting order may have this price (inside the band, on the grid).
  bool accepts(Price price) const;

  /// As OrderBook::match: fills best price first, earliest first; stops before
  /// a resting order of `incoming_owner` (self-trade prevention, cancel_incoming).
  Qty match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner = 0,
            bool* self_trade_stopped = nullptr);

  /// As OrderBook::match with a self-trade prevention `mode`.
  Qty match(Side side, Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
            SelfTradePrevention mode, std::vector<OrderId>& self_trade_cancelled, bool* self_trade_stopped = nullptr);

  /// The limit of a market order of `side`: an IOC limited at the band edge
  /// (the highest price for a buy, the lowest for a sell).
  Price band_edge(Side side) const { return side == Side::buy ? highest_ : lowest_; }

  /// As OrderBook::executable_quantity (owners ignored).
  Qty executable_quantity(Side side, Price limit, Qty cap) const;

  /// As OrderBook::executable_quantity with self-trade prevention.
  Qty executable_quantity(Side side, Price limit, Qty cap, ParticipantId incoming_owner,
                          SelfTradePrevention mode) const;

  /// Rests an order; its price must be accepted and its id new and nonzero
  /// (std::invalid_argument otherwise). An order whose priority is below the
  /// last at its level is placed by priority.
  void add(const BookOrder& order);

  /// Removes an order; false if it is not in the book.
  bool cancel(OrderId id);

  /// Lowers an order's remaining quantity in place, keeping its time
  /// priority; false if it is not in the book or `remaining` is not in (0, current).
  bool reduce(OrderId id, Qty remaining);

  /// As OrderBook::requeue; also false if `price` is not accepted.
  bool requeue(OrderId id, Price price, Qty remaining, std::uint64_t priority);

  /// As OrderBook::amend; `invalid` also when `price` is not accepted.
  [[nodiscard]] AmendResult amend(OrderId id, Price price, Qty quantity, std::uint64_t priority,
                                  std::vector<Fill>& fills, SelfTradePrevention mode,
                                  std::vector<OrderId>& self_trade_cancelled);

  /// The resting order with this id, or nullptr. Valid until the next mutation.
  const BookOrder* find(OrderId id) const;

  /// The best bid / best ask price, if any.
  std::optional<Price> best_bid() const;
  std::optional<Price> best_ask() const;

  /// The best `levels` price levels of one side, best first.
  std::vector<DepthLevel> depth(Side side, std::size_t levels) const;

  /// The first order in time at the best price of one side, or nullptr if the side is empty.
  const BookOrder* front(Side side) const;

  std::size_t order_count() const { return orders_; }

  /// Every resting order, bids best first then asks best first, in priority order.
  void for_each(const std::function<void(const BookOrder&)>& visit) const;

  /// The lowest and highest price the ladder holds.
  Price lowest() const { return lowest_; }
  Price highest() const { return highest_; }

  /// Bytes held by the book: ladders, occupancy bits, order pool and index.
  std::size_t memory_bytes() const;

  /// Bytes per order slot (a node and the index's 1.5 slots per node), for the memory budget.
  static constexpr std::size_t bytes_per_order_slot();

 private:
  static constexpr std::uint32_t kNil = 0xffffffffu;
  /// The pool: the nodes the book was sized for in one array, then chunks of
  /// 2^kChunkShift nodes: growing it adds a chunk and moves no node.
  static constexpr unsigned kChunkShift = 10;
  static constexpr std::size_t kChunkNodes = std::size_t{1} << kChunkShift;
  /// An index segment grows by doubling up to 2^kMaxSegmentBits slots (64 kB), then splits in two.
  static constexpr std::uint32_t kMaxSegmentBits = 13;
  /// A resting order in a level's circular doubly linked list (or, free, in the free list by `next`).
  /// One cache line each: a node never straddles two.
  struct alignas(64) Node {
    BookOrder order;
    std::uint32_t prev = kNil;
    std::uint32_t next = kNil;
  };
  /// A price level: the head of its circular list (the tail is head's prev).
  struct Level {
    std::uint32_t head = kNil;
  };
  /// An index slot: the top 32 bits of the id's hash and its node; node kNil = empty.
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t node = kNil;
  };
  struct Ladder {
    std::vector<Level> levels;
    std::vector<std::uint64_t> occupied;  ///< one bit per non-empty level
  };

  /// offset / tick for offset >= 0: a shift when the tick is a power of two (1 fen: no division on the hot path).
  std::int64_t ticks_in(std::int64_t offset) const {
    return tick_shift_ >= 0 ? offset >> tick_shift_ : offset / tick_.value;
  }
  std::int64_t index_of(Price price) const { return ticks_in(price.value - lowest_.value); }
  Price price_at(std::int64_t index) const { return Price{lowest_.value + index * tick_.value}; }
  Ladder& ladder(Side side) { return side == Side::buy ? bids_ : asks_; }
  const Ladder& ladder(Side side) const { return side == Side::buy ? bids_ : asks_; }

  /// Next occupied index at or after `from` going up (asks) or at or before it going down (bids); -1 if none.
  std::int64_t next_up(const Ladder& ladder, std::int64_t from) const;
  std::int64_t next_down(const Ladder& ladder, std::int64_t from) const;
  static void set_bit(Ladder& ladder, std::int64_t index) {
    ladder.occupied[static_cast<std::size_t>(index >> 6)] |= 1ull << (index & 63);
  }
  static void clear_bit(Ladder& ladder, std::int64_t index) {
    ladder.occupied[static_cast<std::size_t>(index >> 6)] &= ~(1ull << (index & 63));
  }

  template <Side kResting>
  Qty match_against(Price limit, Qty quantity, std::vector<Fill>& fills, ParticipantId incoming_owner,
                    SelfTradePrevention mode, std::vector<OrderId>* self_trade_cancelled, bool* self_trade_stopped);

  /// A node: in the first array (a book within its size: one load, as a plain array), else in a chunk.
  Node& pool(std::uint32_t node) {
    if (node < first_size_) [[likely]] return first_[node];
    const std::uint32_t beyond = node - first_size_;
    return chunks_[beyond >> kChunkShift][beyond & (kChunkNodes - 1)];
  }
  const Node& pool(std::uint32_t node) const { return const_cast<LadderBook*>(this)->pool(node); }
  std::uint32_t allocate_node();
  void free_node(std::uint32_t node);
  /// Puts nodes [first, pool_size_) at the head of the free list, lowest first.
  void link_free(std::size_t first);
  /// Links `node` (its order set) into its level by priority and marks the level.
  void link(std::uint32_t node);
  /// Unlinks `node` from level `at` of its side; updates the bit and the best index.
  void unlink(Side side, std::int64_t at, std::uint32_t node);
  /// Unlinks, unindexes and frees a resting order.
  void remove(std::uint32_t node);
  void grow();

  /// One table of the order-id index: 2^bits slots, at most 2/3 of them used,
  /// holding the tags whose top `depth` bits are its own (extendible hashing).
  struct Segment {
    std::unique_ptr<Slot[]> slots;
    std::uint32_t bits = 0;
    std::uint32_t count = 0;
    std::uint32_t depth = 0;
  };
  std::uint32_t index_find(OrderId id) const;
  void index_insert(OrderId id, std::uint32_t node);
  void index_erase(OrderId id, std::uint32_t node);
  static void place(Segment& segment, Slot slot);
  /// Makes room in `segment`: doubles it, or at its largest splits it in two (and the directory, if needed).
  void grow_segment(Segment& segment);
  /// The top 32 bits of the id's Fibonacci hash: consecutive ids land far
  /// apart, so no long probe runs form even when old orders stay while new ones come and go.
  static std::uint32_t tag_of(OrderId id) { return static_cast<std::uint32_t>((id * 0x9E3779B97F4A7C15ull) >> 32); }
  /// The directory entry of a tag: its top global_depth_ bits.
  std::size_t entry_of(std::uint32_t tag) const { return (std::uint64_t{tag} << global_depth_) >> 32; }
  Segment& segment_of(std::uint32_t tag) { return *directory_[entry_of(tag)]; }
  const Segment& segment_of(std::uint32_t tag) const { return *directory_[entry_of(tag)]; }
  /// A tag's home slot in its segment: the tag's bits below the segment's depth.
  static std::size_t home_in(const Segment& segment, std::uint32_t tag) {
    return static_cast<std::uint32_t>(tag << segment.depth) >> (32 - segment.bits);  // depth + bits <= 32
  }

  Price lowest_;
  Price highest_;
  Price tick_;
  int tick_shift_ = -1;  ///< log2(tick) if the tick is a power of two, else -1
  std::int64_t level_count_;
  Ladder bids_;
  Ladder asks_;
  std::int64_t best_bid_ = -1;  ///< index of the best bid level, -1 if none
  std::int64_t best_ask_ = -1;  ///< index of the best ask level, -1 if none
  std::unique_ptr<Node[]> first_;                ///< nodes [0, first_size_)
  std::uint32_t first_size_ = 0;
  std::vector<std::unique_ptr<Node[]>> chunks_;  ///< kChunkNodes nodes each, after the first array
  std::size_t pool_size_ = 0;                    ///< nodes in all
  std::uint32_t free_ = kNil;
  std::vector<std::unique_ptr<Segment>> segments_;  ///< every segment, each once
  std::vector<Segment*> directory_;                  ///< 2^global_depth_ entries; a segment of depth d has 2^(g-d)
  std::uint32_t global_depth_ = 0;
  /// While the directory has one entry (a book within 5,461 orders), its
  /// segment's slots and size, read from here as from a plain table.
  Slot* only_slots_ = nullptr;
  std::uint32_t only_bits_ = 0;
  void cache_only_segment() {
    only_slots_ = global_depth_ == 0 ? directory_[0]->slots.get() : nullptr;
    only_bits_ = global_depth_ == 0 ? directory_[0]->bits : 0;
  }
  std::size_t orders_ = 0;
};

constexpr std::size_t LadderBook::bytes_per_order_slot() { return sizeof(Node) + 3 * sizeof(Slot) / 2; }

}  // namespace carbon::matching
