#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <random>

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
  LadderBook book(Price{1}, Price{100}, Price{1}, 4);
  for (OrderId id = 1; id <= 1'000; ++id) book.add(order(id, Side::buy, 1 + static_cast<std::int64_t>(id % 100), 1));
  EXPECT_EQ(book.order_count(), 1'000u);
  for (OrderId id = 1; id <= 1'000; id += 2) EXPECT_TRUE(book.cancel(id));
  EXPECT_EQ(book.order_count(), 500u);
  for (OrderId id = 2; id <= 1'000; id += 2) ASSERT_NE(book.find(id), nullptr) << id;
}

/// Runs one seeded random stream of places (DAY, IOC, FOK, with and without
/// self-trade prevention), cancels and reductions through the ladder and the
/// reference book, and requires the same fills, results and books throughout.
void run_differential(std::uint32_t seed, int operations) {
  constexpr std::int64_t kLow = 1'000, kHigh = 1'200;
  LadderBook fast(Price{kLow}, Price{kHigh}, Price{1}, 64);
  OrderBook reference;
  std::mt19937_64 random(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(random);
  };
  OrderId next_id = 1;
  std::vector<Fill> fast_fills, reference_fills;
  std::size_t total_fills = 0, self_trade_stops = 0, largest_book = 0;
  for (int op = 0; op < operations; ++op) {
    largest_book = std::max(largest_book, reference.order_count());
    const std::int64_t kind = uniform(0, 99);
    if (kind < 60) {
      const Side side = uniform(0, 1) ? Side::buy : Side::sell;
      const Price price{uniform(kLow + 40, kHigh - 40) + (side == Side::buy ? 5 : -5)};
      const Qty quantity{uniform(1, 1'000)};
      const ParticipantId owner = static_cast<ParticipantId>(uniform(1, 12));
      const bool prevent_self_trade = uniform(0, 1) == 1;
      const std::int64_t tif = uniform(0, 9);  // 0-6 day, 7-8 ioc, 9 fok
      if (tif == 9) {
        const Qty a = fast.executable_quantity(side, price, quantity);
        const Qty b = reference.executable_quantity(side, price, quantity);
        ASSERT_EQ(a >= quantity, b >= quantity) << "seed " << seed << " op " << op;
        if (a < quantity) continue;
      }
      fast_fills.clear();
      reference_fills.clear();
      bool fast_stp = false, reference_stp = false;
      const ParticipantId incoming = prevent_self_trade ? owner : 0;
      const Qty left_fast = fast.match(side, price, quantity, fast_fills, incoming, &fast_stp);
      const Qty left_reference = reference.match(side, price, quantity, reference_fills, incoming, &reference_stp);
      ASSERT_EQ(left_fast, left_reference) << "seed " << seed << " op " << op;
      ASSERT_EQ(fast_stp, reference_stp) << "seed " << seed << " op " << op;
      ASSERT_EQ(fast_fills.size(), reference_fills.size()) << "seed " << seed << " op " << op;
      total_fills += fast_fills.size();
      self_trade_stops += fast_stp ? 1 : 0;
      for (std::size_t i = 0; i < fast_fills.size(); ++i) {
        ASSERT_EQ(fast_fills[i].resting_id, reference_fills[i].resting_id) << "seed " << seed << " op " << op;
        ASSERT_EQ(fast_fills[i].price, reference_fills[i].price);
        ASSERT_EQ(fast_fills[i].quantity, reference_fills[i].quantity);
        ASSERT_EQ(fast_fills[i].resting_remaining, reference_fills[i].resting_remaining);
      }
      if (tif < 7 && left_fast.is_positive() && !fast_stp) {
        const BookOrder rest{next_id++, owner, side, price, left_fast, static_cast<std::uint64_t>(op + 1)};
        fast.add(rest);
        reference.add(rest);
      }
    } else if (kind < 85) {
      const OrderId id = static_cast<OrderId>(uniform(1, static_cast<std::int64_t>(next_id)));
      ASSERT_EQ(fast.cancel(id), reference.cancel(id)) << "seed " << seed << " op " << op;
    } else {
      const OrderId id = static_cast<OrderId>(uniform(1, static_cast<std::int64_t>(next_id)));
      const BookOrder* current = reference.find(id);
      ASSERT_EQ(fast.find(id) != nullptr, current != nullptr);
      if (current == nullptr || current->remaining.value < 2) continue;
      const Qty lower{uniform(1, current->remaining.value - 1)};
      ASSERT_TRUE(fast.reduce(id, lower));
      // The reference has no reduce: remove and re-add at the same priority.
      BookOrder reduced = *current;
      reduced.remaining = lower;
      reference.cancel(id);
      reference.add(reduced);
    }
    if (op % 97 == 0) {
      for (Side side : {Side::buy, Side::sell}) {
        const auto a = fast.depth(side, 20), b = reference.depth(side, 20);
        ASSERT_EQ(a.size(), b.size()) << "seed " << seed << " op " << op;
        for (std::size_t i = 0; i < a.size(); ++i) {
          ASSERT_EQ(a[i].price, b[i].price);
          ASSERT_EQ(a[i].quantity, b[i].quantity);
          ASSERT_EQ(a[i].order_count, b[i].order_count);
        }
      }
      ASSERT_EQ(fast.order_count(), reference.order_count());
    }
  }
  std::vector<OrderId> a, b;
  fast.for_each([&](const BookOrder& o) { a.push_back(o.id); });
  reference.for_each([&](const BookOrder& o) { b.push_back(o.id); });
  ASSERT_EQ(a, b) << "final books differ, seed " << seed;
  // The stream must exercise what it claims to: trades, self-trade stops, a deep book.
  EXPECT_GT(total_fills, static_cast<std::size_t>(operations) / 10) << "seed " << seed;
  EXPECT_GT(self_trade_stops, 100u) << "seed " << seed;
  EXPECT_GT(largest_book, 50u) << "seed " << seed;
  if (seed == 1) {
    std::cout << "seed 1: " << total_fills << " fills, " << self_trade_stops << " self-trade stops, largest book "
              << largest_book << " orders\n";
  }
}

TEST(LadderBookDifferentialTest, AgreesWithTheReferenceBookOnAMillionRandomCommands) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    ASSERT_NO_FATAL_FAILURE(run_differential(seed, 50'000));
  }
}

}  // namespace
}  // namespace carbon::matching
