#include <algorithm>

#include <gtest/gtest.h>

#include "matching/ladder_book.h"
#include "matching/order_book.h"

namespace carbon::matching {
namespace {

BookOrder order(OrderId id, Side side, std::int64_t price, std::int64_t qty, ParticipantId owner = 0) {
  return BookOrder{id, owner ? owner : 100 + id, side, Price{price}, Qty{qty}, id};
}

TEST(LadderBookTest, AcceptsOnlyPricesInsideTheBandAndOnTheGrid) {
  LadderBook book(Price{900}, Price{1'100}, Price{5});
  EXPECT_TRUE(book.accepts(Price{900}));
  EXPECT_TRUE(book.accepts(Price{1'100}));
  EXPECT_FALSE(book.accepts(Price{1'101}));
  EXPECT_FALSE(book.accepts(Price{895}));
  EXPECT_FALSE(book.accepts(Price{903}));
}

TEST(LadderBookTest, MatchesBestPriceFirstThenTime) {
  LadderBook book(Price{900}, Price{1'100}, Price{1});
  book.add(order(1, Side::sell, 1'010, 10));
  book.add(order(2, Side::sell, 1'000, 10));
  book.add(order(3, Side::sell, 1'000, 10));
  std::vector<Fill> fills;
  EXPECT_EQ(book.match(Side::buy, Price{1'100}, Qty{25}, fills), Qty{0});
  ASSERT_EQ(fills.size(), 3u);
  EXPECT_EQ(fills[0].resting_id, 2u);
  EXPECT_EQ(fills[1].resting_id, 3u);
  EXPECT_EQ(fills[2].resting_id, 1u);
  EXPECT_EQ(fills[2].price, Price{1'010});
  EXPECT_EQ(book.order_count(), 1u);
  EXPECT_EQ(book.find(1)->remaining, Qty{5});
}

TEST(LadderBookTest, ReduceKeepsTimePriority) {
  LadderBook book(Price{900}, Price{1'100}, Price{1});
  book.add(order(1, Side::buy, 1'000, 10));
  book.add(order(2, Side::buy, 1'000, 10));
  EXPECT_TRUE(book.reduce(1, Qty{3}));
  EXPECT_FALSE(book.reduce(1, Qty{3})) << "not a reduction";
  EXPECT_FALSE(book.reduce(9, Qty{1}));
  std::vector<Fill> fills;
  book.match(Side::sell, Price{1'000}, Qty{4}, fills);
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].resting_id, 1u);
  EXPECT_EQ(fills[0].quantity, Qty{3});
}

TEST(LadderBookTest, GrowsBeyondItsInitialCapacity) {
  // 40,000 orders from room for 4: the first array of 4 nodes, then 40
  // chunks, the index's one segment doubled to its largest and then split,
  // the directory with it, many times.
  constexpr OrderId kOrders = 40'000;
  LadderBook book(Price{1}, Price{100}, Price{1}, 4);
  const std::size_t bytes_empty = book.memory_bytes();
  for (OrderId id = 1; id <= kOrders; ++id) book.add(order(id, Side::buy, 1 + static_cast<std::int64_t>(id % 100), 1));
  EXPECT_EQ(book.order_count(), kOrders);
  EXPECT_GE(book.memory_bytes(), bytes_empty + kOrders * (64 + 8)) << "the pool and index hold every order";
  for (OrderId id = 1; id <= kOrders; id += 2) EXPECT_TRUE(book.cancel(id));
  EXPECT_EQ(book.order_count(), kOrders / 2);
  for (OrderId id = 2; id <= kOrders; id += 2) {
    ASSERT_NE(book.find(id), nullptr) << id;
    EXPECT_EQ(book.find(id)->price, Price{1 + static_cast<std::int64_t>(id % 100)}) << id;
  }
  for (OrderId id = 1; id <= kOrders; id += 2) EXPECT_EQ(book.find(id), nullptr) << id;
  EXPECT_EQ(book.find(kOrders + 1), nullptr);
  // Time priority survives the growth: each level's orders in the order they came.
  std::vector<OrderId> at_level_51;
  book.for_each([&](const BookOrder& o) {
    if (o.price == Price{51}) at_level_51.push_back(o.id);
  });
  EXPECT_EQ(at_level_51.size(), kOrders / 100);
  EXPECT_TRUE(std::is_sorted(at_level_51.begin(), at_level_51.end()));
  // Freed nodes are reused before the pool grows again: no new chunk of 1,024
  // nodes (64 kB); an index segment may still grow or split.
  const std::size_t bytes_full = book.memory_bytes();
  for (OrderId id = 100'001; id <= 100'000 + kOrders / 2; ++id) {
    book.add(order(id, Side::buy, 1 + static_cast<std::int64_t>(id % 100), 1));
  }
  EXPECT_EQ(book.order_count(), kOrders);
  EXPECT_LT(book.memory_bytes(), bytes_full + 1'024 * 64);
  // Matching empties the book through the grown index.
  std::vector<Fill> fills;
  EXPECT_EQ(book.match(Side::sell, Price{1}, Qty{static_cast<std::int64_t>(kOrders)}, fills), Qty{0});
  EXPECT_EQ(fills.size(), kOrders);
  EXPECT_EQ(book.order_count(), 0u);
  for (OrderId id = 2; id <= kOrders; id += 2) ASSERT_EQ(book.find(id), nullptr) << id;
}

// A book sized for its orders allocates nothing while it holds at most that many, also its index.
TEST(LadderBookTest, ABookWithinItsCapacityKeepsItsMemory) {
  LadderBook book(Price{9'000}, Price{11'000}, Price{1}, 20'000);
  const std::size_t bytes = book.memory_bytes();
  for (OrderId round = 0; round < 5; ++round) {
    for (OrderId k = 1; k <= 20'000; ++k) {
      const OrderId id = round * 20'000 + k;
      book.add(order(id, k % 2 == 0 ? Side::buy : Side::sell, k % 2 == 0 ? 9'000 + k % 900 : 10'100 + k % 900, 1));
    }
    for (OrderId k = 1; k <= 20'000; ++k) ASSERT_TRUE(book.cancel(round * 20'000 + k));
  }
  EXPECT_EQ(book.memory_bytes(), bytes);
}

TEST(LadderBookTest, MarketOrdersAreLimitedAtTheBandEdge) {
  LadderBook book(Price{900}, Price{1'103}, Price{5});
  EXPECT_EQ(book.band_edge(Side::buy), Price{1'100}) << "the highest price on the grid";
  EXPECT_EQ(book.band_edge(Side::sell), Price{900});
  book.add(order(1, Side::sell, 1'100, 10));
  book.add(order(2, Side::sell, 950, 10));
  std::vector<Fill> fills;
  EXPECT_EQ(book.match(Side::buy, book.band_edge(Side::buy), Qty{30}, fills), Qty{10});
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[1].price, Price{1'100});
}

TEST(LadderBookTest, AmendRejectsPricesOutsideTheBand) {
  LadderBook book(Price{900}, Price{1'100}, Price{5});
  book.add(order(1, Side::buy, 1'000, 10));
  std::vector<Fill> fills;
  std::vector<OrderId> cancelled;
  EXPECT_EQ(book.amend(1, Price{1'003}, Qty{10}, 9, fills, SelfTradePrevention::cancel_incoming, cancelled).status,
            AmendStatus::invalid);
  EXPECT_FALSE(book.requeue(1, Price{1'105}, Qty{10}, 9));
  EXPECT_EQ(book.find(1)->price, Price{1'000});
}

TEST(LadderBookTest, KeepsLevelsInPriorityOrderWhateverTheInsertionOrder) {
  LadderBook book(Price{900}, Price{1'100}, Price{1});
  for (std::uint64_t priority : {50u, 10u, 30u, 40u, 20u, 60u, 5u}) {
    book.add(BookOrder{priority, 7, Side::sell, Price{1'000}, Qty{1}, priority});
  }
  std::vector<OrderId> seen;
  book.for_each([&](const BookOrder& o) { seen.push_back(o.id); });
  EXPECT_EQ(seen, (std::vector<OrderId>{5, 10, 20, 30, 40, 50, 60}));
}

TEST(LadderBookTest, HoldsAnOrderInAtMost128Bytes) {
  static_assert(LadderBook::bytes_per_order_slot() <= 128);
  // A 10% band around 100 CNY at 1 fen (2,001 levels) sized for 1,280 orders.
  LadderBook book(Price{9'000}, Price{11'000}, Price{1}, 1'280);
  EXPECT_LE(book.memory_bytes(), 1'000u * 128u) << "bytes per resting order with 1,000 resting";
}

}  // namespace
}  // namespace carbon::matching
