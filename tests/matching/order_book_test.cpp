#include <gtest/gtest.h>

#include "matching/order_book.h"

namespace carbon::matching {
namespace {

BookOrder buy(OrderId id, std::int64_t price, std::int64_t qty, std::uint64_t priority = 0) {
  return BookOrder{id, 100 + id, Side::buy, Price{price}, Qty{qty}, priority ? priority : id};
}
BookOrder sell(OrderId id, std::int64_t price, std::int64_t qty, std::uint64_t priority = 0) {
  return BookOrder{id, 100 + id, Side::sell, Price{price}, Qty{qty}, priority ? priority : id};
}

TEST(OrderBookTest, BuyMatchesBestAskFirstThenEarliestAtThatPrice) {
  OrderBook book;
  book.add(sell(1, 5'100, 10));
  book.add(sell(2, 5'000, 10));
  book.add(sell(3, 5'000, 10));
  std::vector<Fill> fills;
  const Qty left = book.match(Side::buy, Price{5'100}, Qty{25}, fills);
  EXPECT_EQ(left, Qty{0});
  ASSERT_EQ(fills.size(), 3u);
  EXPECT_EQ(fills[0].resting_id, 2u);
  EXPECT_EQ(fills[1].resting_id, 3u);
  EXPECT_EQ(fills[2].resting_id, 1u);
  EXPECT_EQ(fills[2].quantity, Qty{5});
  EXPECT_EQ(fills[2].resting_remaining, Qty{5});
  EXPECT_EQ(book.order_count(), 1u);
}

TEST(OrderBookTest, TradesAtTheRestingOrdersPrice) {
  OrderBook book;
  book.add(buy(1, 5'200, 10));
  std::vector<Fill> fills;
  book.match(Side::sell, Price{5'000}, Qty{4}, fills);
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].price, Price{5'200});
}

TEST(OrderBookTest, DoesNotCrossBeyondTheLimit) {
  OrderBook book;
  book.add(sell(1, 5'001, 10));
  std::vector<Fill> fills;
  EXPECT_EQ(book.match(Side::buy, Price{5'000}, Qty{10}, fills), Qty{10});
  EXPECT_TRUE(fills.empty());
}

TEST(OrderBookTest, CancelRemovesTheOrderAndItsEmptyLevel) {
  OrderBook book;
  book.add(buy(1, 5'000, 10));
  book.add(buy(2, 4'900, 10));
  EXPECT_TRUE(book.cancel(1));
  EXPECT_FALSE(book.cancel(1));
  EXPECT_EQ(book.find(1), nullptr);
  const auto depth = book.depth(Side::buy, 5);
  ASSERT_EQ(depth.size(), 1u);
  EXPECT_EQ(depth[0].price, Price{4'900});
}

TEST(OrderBookTest, DepthAggregatesLevelsBestFirst) {
  OrderBook book;
  book.add(sell(1, 5'000, 10));
  book.add(sell(2, 5'000, 5));
  book.add(sell(3, 5'100, 7));
  book.add(buy(4, 4'900, 3));
  const auto asks = book.depth(Side::sell, 5);
  ASSERT_EQ(asks.size(), 2u);
  EXPECT_EQ(asks[0].price, Price{5'000});
  EXPECT_EQ(asks[0].quantity, Qty{15});
  EXPECT_EQ(asks[0].order_count, 2u);
  EXPECT_EQ(book.depth(Side::sell, 1).size(), 1u);
  EXPECT_EQ(book.depth(Side::buy, 5)[0].quantity, Qty{3});
}

TEST(OrderBookTest, ExecutableQuantityCountsOnlyCrossingLevels) {
  OrderBook book;
  book.add(sell(1, 5'000, 10));
  book.add(sell(2, 5'100, 10));
  EXPECT_EQ(book.executable_quantity(Side::buy, Price{5'000}, Qty{100}), Qty{10});
  EXPECT_EQ(book.executable_quantity(Side::buy, Price{5'100}, Qty{100}), Qty{20});
  EXPECT_EQ(book.executable_quantity(Side::buy, Price{4'999}, Qty{100}), Qty{0});
}

TEST(OrderBookTest, MatchingStopsBeforeTheIncomingOwnersRestingOrder) {
  OrderBook book;
  book.add(sell(1, 5'000, 10));
  book.add(BookOrder{2, 777, Side::sell, Price{5'000}, Qty{10}, 2});
  book.add(sell(3, 5'000, 10));
  std::vector<Fill> fills;
  bool stopped = false;
  const Qty left = book.match(Side::buy, Price{5'000}, Qty{30}, fills, 777, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(left, Qty{20});
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].resting_id, 1u);
  EXPECT_NE(book.find(2), nullptr) << "the resting own order stays";
}

TEST(OrderBookTest, RestoredOrdersKeepTheirTimePriorityWhateverTheInsertionOrder) {
  OrderBook book;
  book.add(sell(1, 5'000, 10, 30));
  book.add(sell(2, 5'000, 10, 10));
  book.add(sell(3, 5'000, 10, 20));
  std::vector<Fill> fills;
  book.match(Side::buy, Price{5'000}, Qty{30}, fills);
  ASSERT_EQ(fills.size(), 3u);
  EXPECT_EQ(fills[0].resting_id, 2u);
  EXPECT_EQ(fills[1].resting_id, 3u);
  EXPECT_EQ(fills[2].resting_id, 1u);
}

}  // namespace
}  // namespace carbon::matching
