// The fast LadderBook against the simple reference OrderBook on seeded random
// command streams: limit DAY/GTC places, IOC, FOK and market orders with every
// self-trade prevention mode, cancels, amends (reduce, re-price, increase),
// requeues and restored orders. Every result, every fill, every self-trade
// cancellation and the final books must agree.
//
// Commands per seed: CARBON_DIFFERENTIAL_OPS if set, else 128,000 in optimised
// builds and 16,000 in sanitizer or unoptimised builds.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "matching/ladder_book.h"
#include "matching/order_book.h"

namespace carbon::matching {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
constexpr int kDefaultOperations = 16'000;
#else
constexpr int kDefaultOperations = 128'000;
#endif

int operations_per_seed() {
  if (const char* text = std::getenv("CARBON_DIFFERENTIAL_OPS")) return std::max(1, std::atoi(text));
  return kDefaultOperations;
}

/// What one stream exercised, so a test can require that it did.
struct Coverage {
  std::size_t fills = 0;
  std::size_t self_trade_stops = 0;
  std::size_t self_trade_cancels = 0;
  std::size_t fok_kills = 0;
  std::size_t amends_requeued = 0;
  std::size_t amends_reduced = 0;
  std::size_t amends_filled = 0;
  std::size_t market_orders = 0;
  std::size_t largest_book = 0;
};

void expect_same_fills(const std::vector<Fill>& a, const std::vector<Fill>& b, const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].resting_id, b[i].resting_id) << where << " fill " << i;
    ASSERT_EQ(a[i].resting_owner, b[i].resting_owner) << where << " fill " << i;
    ASSERT_EQ(a[i].price, b[i].price) << where << " fill " << i;
    ASSERT_EQ(a[i].quantity, b[i].quantity) << where << " fill " << i;
    ASSERT_EQ(a[i].resting_remaining, b[i].resting_remaining) << where << " fill " << i;
  }
}

std::vector<BookOrder> contents(const auto& book) {
  std::vector<BookOrder> out;
  book.for_each([&](const BookOrder& o) { out.push_back(o); });
  return out;
}

void expect_same_books(const LadderBook& fast, const OrderBook& reference, const std::string& where) {
  ASSERT_EQ(fast.order_count(), reference.order_count()) << where;
  ASSERT_EQ(fast.best_bid(), reference.best_bid()) << where;
  ASSERT_EQ(fast.best_ask(), reference.best_ask()) << where;
  for (Side side : {Side::buy, Side::sell}) {
    const auto a = fast.depth(side, 1'000), b = reference.depth(side, 1'000);
    ASSERT_EQ(a.size(), b.size()) << where;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].price, b[i].price) << where;
      ASSERT_EQ(a[i].quantity, b[i].quantity) << where;
      ASSERT_EQ(a[i].order_count, b[i].order_count) << where;
    }
  }
  const auto a = contents(fast), b = contents(reference);
  ASSERT_EQ(a.size(), b.size()) << where;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].id, b[i].id) << where << " order " << i;
    ASSERT_EQ(a[i].owner, b[i].owner) << where << " order " << i;
    ASSERT_EQ(a[i].side, b[i].side) << where << " order " << i;
    ASSERT_EQ(a[i].price, b[i].price) << where << " order " << i;
    ASSERT_EQ(a[i].remaining, b[i].remaining) << where << " order " << i;
    ASSERT_EQ(a[i].priority, b[i].priority) << where << " order " << i;
  }
}

/// One seeded stream. Odd seeds use a 1-fen tick, even seeds a 5-fen tick.
void run_stream(std::uint32_t seed, int operations, Coverage& seen) {
  const std::int64_t tick = seed % 2 == 0 ? 5 : 1;
  const std::int64_t low = 1'000, high = 1'000 + 200 * tick, mid = (low + high) / 2;
  LadderBook fast(Price{low}, Price{high}, Price{tick}, 16);
  OrderBook reference;
  std::mt19937_64 random(seed);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(random);
  };
  auto on_grid = [&](std::int64_t price) {
    return Price{std::clamp(low + (price - low) / tick * tick, low, high)};
  };
  auto limit_price = [&](Side side) {
    // Buys mostly below the middle, sells mostly above: a deep book that often crosses.
    const std::int64_t offset = uniform(-8, 30) * tick;
    return on_grid(side == Side::buy ? mid - offset : mid + offset);
  };
  auto any_mode = [&] { return static_cast<SelfTradePrevention>(uniform(0, 2)); };
  OrderId next_id = 1;
  std::vector<OrderId> rested;  // ids rested and perhaps still resting
  // Mostly a resting order (so that the book stays a few hundred orders deep
  // however long the stream), sometimes any id ever given (likely gone).
  auto any_id = [&] {
    while (!rested.empty() && uniform(0, 4) != 0) {
      const auto at = static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(rested.size()) - 1));
      if (reference.find(rested[at]) != nullptr) return rested[at];
      rested[at] = rested.back();
      rested.pop_back();
    }
    return static_cast<OrderId>(uniform(1, static_cast<std::int64_t>(next_id)));
  };

  std::uint64_t next_priority = 1'000'000;
  std::vector<Fill> fast_fills, reference_fills;
  std::vector<OrderId> fast_cancelled, reference_cancelled;
  for (int op = 0; op < operations; ++op) {
    const std::string where = "seed " + std::to_string(seed) + " op " + std::to_string(op);
    seen.largest_book = std::max(seen.largest_book, reference.order_count());
    fast_fills.clear();
    reference_fills.clear();
    fast_cancelled.clear();
    reference_cancelled.clear();
    std::int64_t kind = uniform(0, 99);
    // At 400 resting orders a limit place turns into a cancel: the book stays deep but bounded.
    if (kind < 35 && reference.order_count() >= 400) kind = 60;
    if (kind < 60) {
      // An incoming order: 0-34 limit DAY/GTC, 35-44 IOC, 45-51 FOK, 52-59 market (IOC at the band edge).
      const Side side = uniform(0, 1) == 1 ? Side::buy : Side::sell;
      const bool market = kind >= 52;
      const Price limit = market ? fast.band_edge(side) : limit_price(side);
      const Qty quantity{uniform(1, 1'000)};
      const ParticipantId owner = static_cast<ParticipantId>(uniform(1, 8));
      const ParticipantId stp_owner = uniform(0, 4) == 0 ? 0 : owner;
      const SelfTradePrevention mode = any_mode();
      if (kind >= 45 && kind < 52) {
        const Qty a = fast.executable_quantity(side, limit, quantity, stp_owner, mode);
        const Qty b = reference.executable_quantity(side, limit, quantity, stp_owner, mode);
        ASSERT_EQ(std::min(a, quantity), std::min(b, quantity)) << where;
        ASSERT_EQ(fast.executable_quantity(side, limit, quantity) >= quantity,
                  reference.executable_quantity(side, limit, quantity) >= quantity)
            << where;
        if (a < quantity) {
          ++seen.fok_kills;
          continue;
        }
      }
      bool fast_stopped = false, reference_stopped = false;
      Qty fast_left, reference_left;
      if (mode == SelfTradePrevention::cancel_incoming && uniform(0, 1) == 0) {
        // The original overload: cancel_incoming without a list of cancelled ids.
        fast_left = fast.match(side, limit, quantity, fast_fills, stp_owner, &fast_stopped);
        reference_left = reference.match(side, limit, quantity, reference_fills, stp_owner, &reference_stopped);
      } else {
        fast_left = fast.match(side, limit, quantity, fast_fills, stp_owner, mode, fast_cancelled, &fast_stopped);
        reference_left = reference.match(side, limit, quantity, reference_fills, stp_owner, mode,
                                         reference_cancelled, &reference_stopped);
      }
      ASSERT_EQ(fast_left, reference_left) << where;
      ASSERT_EQ(fast_stopped, reference_stopped) << where;
      ASSERT_EQ(fast_cancelled, reference_cancelled) << where;
      ASSERT_NO_FATAL_FAILURE(expect_same_fills(fast_fills, reference_fills, where));
      if (kind >= 45 && kind < 52) {
        ASSERT_TRUE(fast_left.is_zero()) << where << ": a fill-or-kill that passed its check must fill";
      }
      seen.fills += fast_fills.size();
      seen.self_trade_stops += fast_stopped ? 1 : 0;
      seen.self_trade_cancels += fast_cancelled.size();
      seen.market_orders += market ? 1 : 0;
      if (kind < 35 && fast_left.is_positive() && !fast_stopped) {
        // Now and then an order restored from the journal with an earlier priority.
        const std::uint64_t priority = uniform(0, 49) == 0 ? static_cast<std::uint64_t>(uniform(1, 999'999))
                                                           : next_priority++;
        const BookOrder rest{next_id++, owner, side, limit, fast_left, priority};
        rested.push_back(rest.id);
        fast.add(rest);
        reference.add(rest);
      }
    } else if (kind < 72) {
      const OrderId id = any_id();
      ASSERT_EQ(fast.cancel(id), reference.cancel(id)) << where;
    } else {
      // Amends of a live order (or now and then a missing one).
      const OrderId id = any_id();
      const BookOrder* current = reference.find(id);
      ASSERT_EQ(fast.find(id) != nullptr, current != nullptr) << where;
      if (current != nullptr) {
        const BookOrder* mirrored = fast.find(id);
        ASSERT_EQ(mirrored->remaining, current->remaining) << where;
        ASSERT_EQ(mirrored->price, current->price) << where;
        ASSERT_EQ(mirrored->priority, current->priority) << where;
      }
      const Side side = current != nullptr ? current->side : Side::buy;
      const Price old_price = current != nullptr ? current->price : Price{mid};
      const Qty old_quantity = current != nullptr ? current->remaining : Qty{10};
      const std::int64_t how = uniform(0, 99);
      if (how < 15) {
        const Qty lower{uniform(0, old_quantity.value)};
        ASSERT_EQ(fast.reduce(id, lower), reference.reduce(id, lower)) << where;
      } else if (how < 25) {
        const Price price = limit_price(side);
        const Qty quantity{uniform(0, 1'000)};
        const std::uint64_t priority = next_priority++;
        ASSERT_EQ(fast.requeue(id, price, quantity, priority), reference.requeue(id, price, quantity, priority))
            << where;
      } else {
        // 25-54 re-price (same quantity), 55-74 reduce through amend, 75-89 increase, 90-99 re-price and resize.
        Price price = old_price;
        Qty quantity = old_quantity;
        if (how < 55) {
          price = on_grid(old_price.value + uniform(-10, 10) * tick);
        } else if (how < 75) {
          quantity = Qty{uniform(0, old_quantity.value)};
        } else if (how < 90) {
          quantity = Qty{old_quantity.value + uniform(0, 100)};
        } else {
          price = limit_price(side);
          quantity = Qty{uniform(1, 1'000)};
        }
        const SelfTradePrevention mode = any_mode();
        const std::uint64_t priority = next_priority++;
        const AmendResult a = fast.amend(id, price, quantity, priority, fast_fills, mode, fast_cancelled);
        const AmendResult b =
            reference.amend(id, price, quantity, priority, reference_fills, mode, reference_cancelled);
        ASSERT_EQ(a.status, b.status) << where;
        ASSERT_EQ(a.resting, b.resting) << where;
        ASSERT_EQ(fast_cancelled, reference_cancelled) << where;
        ASSERT_NO_FATAL_FAILURE(expect_same_fills(fast_fills, reference_fills, where));
        seen.fills += fast_fills.size();
        seen.self_trade_cancels += fast_cancelled.size();
        seen.self_trade_stops += a.status == AmendStatus::self_trade_cancelled ? 1 : 0;
        seen.amends_requeued += a.status == AmendStatus::requeued ? 1 : 0;
        seen.amends_reduced += a.status == AmendStatus::reduced ? 1 : 0;
        seen.amends_filled += a.status == AmendStatus::filled ? 1 : 0;
      }
    }
    if (op % 1'024 == 0) {
      ASSERT_NO_FATAL_FAILURE(expect_same_books(fast, reference, where));
    }
  }
  ASSERT_NO_FATAL_FAILURE(expect_same_books(fast, reference, "final, seed " + std::to_string(seed)));
}

class BookDifferentialTest : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(BookDifferentialTest, LadderBookAgreesWithTheReferenceBook) {
  const int operations = operations_per_seed();
  Coverage seen;
  ASSERT_NO_FATAL_FAILURE(run_stream(GetParam(), operations, seen));
  // The stream must exercise what it claims to.
  const auto enough = static_cast<std::size_t>(operations) / 200;
  EXPECT_GT(seen.fills, static_cast<std::size_t>(operations) / 10);
  EXPECT_GT(seen.self_trade_stops, enough);
  EXPECT_GT(seen.self_trade_cancels, enough);
  EXPECT_GT(seen.fok_kills, enough);
  EXPECT_GT(seen.amends_requeued, enough);
  EXPECT_GT(seen.amends_reduced, enough);
  EXPECT_GT(seen.amends_filled, static_cast<std::size_t>(operations) / 2'000);
  EXPECT_GT(seen.market_orders, enough);
  EXPECT_GT(seen.largest_book, 50u);
  RecordProperty("operations", operations);
  RecordProperty("fills", static_cast<int>(seen.fills));
  RecordProperty("largest_book", static_cast<int>(seen.largest_book));
  EXPECT_LT(seen.largest_book, 5'000u) << "the book must not grow without bound";
}

// 32 seeds: 4,096,000 commands per run in optimised builds, 512,000 under sanitizers.
INSTANTIATE_TEST_SUITE_P(Seeds, BookDifferentialTest, ::testing::Range(std::uint32_t{1}, std::uint32_t{33}));

}  // namespace
}  // namespace carbon::matching
