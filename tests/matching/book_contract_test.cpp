// The contract both books keep (OrderBook, the reference, and LadderBook, the
// fast one): self-trade prevention modes, amends, requeues and best prices.

#include <gtest/gtest.h>

#include <vector>

#include "matching/ladder_book.h"
#include "matching/order_book.h"

namespace carbon::matching {
namespace {

template <typename Book>
Book make_book();
template <>
OrderBook make_book<OrderBook>() { return OrderBook{}; }
template <>
LadderBook make_book<LadderBook>() { return LadderBook(Price{4'000}, Price{6'000}, Price{1}, 8); }

BookOrder sell(OrderId id, std::int64_t price, std::int64_t qty, ParticipantId owner) {
  return BookOrder{id, owner, Side::sell, Price{price}, Qty{qty}, id};
}
BookOrder buy(OrderId id, std::int64_t price, std::int64_t qty, ParticipantId owner) {
  return BookOrder{id, owner, Side::buy, Price{price}, Qty{qty}, id};
}

template <typename Book>
class BookContractTest : public ::testing::Test {
 protected:
  /// Asks at 5,000: #1 (owner 1), #2 (owner 777), #3 (owner 3), #4 (owner 777); #5 at 5,001 (owner 5).
  void SetUp() override {
    book.add(sell(1, 5'000, 10, 1));
    book.add(sell(2, 5'000, 10, 777));
    book.add(sell(3, 5'000, 10, 3));
    book.add(sell(4, 5'000, 10, 777));
    book.add(sell(5, 5'001, 10, 5));
  }
  std::vector<OrderId> ids() const {
    std::vector<OrderId> out;
    book.for_each([&](const BookOrder& o) { out.push_back(o.id); });
    return out;
  }

  Book book = make_book<Book>();
  std::vector<Fill> fills;
  std::vector<OrderId> cancelled;
  bool stopped = false;
};

using Books = ::testing::Types<OrderBook, LadderBook>;
TYPED_TEST_SUITE(BookContractTest, Books);

TYPED_TEST(BookContractTest, CancelIncomingStopsBeforeTheOwnRestingOrderAndKeepsIt) {
  const Qty left = this->book.match(Side::buy, Price{5'001}, Qty{50}, this->fills, 777,
                                    SelfTradePrevention::cancel_incoming, this->cancelled, &this->stopped);
  EXPECT_EQ(left, Qty{40});
  EXPECT_TRUE(this->stopped);
  ASSERT_EQ(this->fills.size(), 1u);
  EXPECT_EQ(this->fills[0].resting_id, 1u);
  EXPECT_TRUE(this->cancelled.empty());
  EXPECT_EQ(this->ids(), (std::vector<OrderId>{2, 3, 4, 5}));
}

TYPED_TEST(BookContractTest, CancelRestingRemovesEveryOwnOrderMetAndGoesOnMatching) {
  const Qty left = this->book.match(Side::buy, Price{5'001}, Qty{25}, this->fills, 777,
                                    SelfTradePrevention::cancel_resting, this->cancelled, &this->stopped);
  EXPECT_EQ(left, Qty{0});
  EXPECT_FALSE(this->stopped);
  ASSERT_EQ(this->fills.size(), 3u);
  EXPECT_EQ(this->fills[0].resting_id, 1u);
  EXPECT_EQ(this->fills[1].resting_id, 3u);
  EXPECT_EQ(this->fills[2].resting_id, 5u);
  EXPECT_EQ(this->fills[2].quantity, Qty{5});
  EXPECT_EQ(this->cancelled, (std::vector<OrderId>{2, 4}));
  EXPECT_EQ(this->ids(), (std::vector<OrderId>{5}));
}

TYPED_TEST(BookContractTest, CancelRestingLeavesOwnOrdersBeyondTheFilledQuantity) {
  this->book.match(Side::buy, Price{5'001}, Qty{10}, this->fills, 777, SelfTradePrevention::cancel_resting,
                   this->cancelled, &this->stopped);
  EXPECT_TRUE(this->cancelled.empty());
  EXPECT_EQ(this->ids(), (std::vector<OrderId>{2, 3, 4, 5}));
}

TYPED_TEST(BookContractTest, CancelBothRemovesTheFirstOwnOrderAndStops) {
  const Qty left = this->book.match(Side::buy, Price{5'001}, Qty{50}, this->fills, 777,
                                    SelfTradePrevention::cancel_both, this->cancelled, &this->stopped);
  EXPECT_EQ(left, Qty{40});
  EXPECT_TRUE(this->stopped);
  EXPECT_EQ(this->cancelled, (std::vector<OrderId>{2}));
  EXPECT_EQ(this->ids(), (std::vector<OrderId>{3, 4, 5}));
}

TYPED_TEST(BookContractTest, ExecutableQuantityFollowsTheSelfTradeMode) {
  const Price limit{5'001};
  EXPECT_EQ(this->book.executable_quantity(Side::buy, limit, Qty{100}), Qty{50});
  EXPECT_EQ(this->book.executable_quantity(Side::buy, limit, Qty{100}, 777, SelfTradePrevention::cancel_incoming),
            Qty{10});
  EXPECT_EQ(this->book.executable_quantity(Side::buy, limit, Qty{100}, 777, SelfTradePrevention::cancel_both),
            Qty{10});
  EXPECT_EQ(this->book.executable_quantity(Side::buy, limit, Qty{100}, 777, SelfTradePrevention::cancel_resting),
            Qty{30});
}

TYPED_TEST(BookContractTest, AmendToALowerQuantityKeepsPriority) {
  const AmendResult r = this->book.amend(1, Price{5'000}, Qty{4}, 99, this->fills,
                                         SelfTradePrevention::cancel_incoming, this->cancelled);
  EXPECT_EQ(r.status, AmendStatus::reduced);
  EXPECT_EQ(r.resting, Qty{4});
  EXPECT_EQ(this->book.find(1)->priority, 1u);
  EXPECT_EQ(this->ids().front(), 1u);
}

TYPED_TEST(BookContractTest, AmendToAHigherQuantityLosesPriority) {
  const AmendResult r = this->book.amend(1, Price{5'000}, Qty{11}, 99, this->fills,
                                         SelfTradePrevention::cancel_incoming, this->cancelled);
  EXPECT_EQ(r.status, AmendStatus::requeued);
  EXPECT_EQ(this->book.find(1)->priority, 99u);
  EXPECT_EQ(this->ids(), (std::vector<OrderId>{2, 3, 4, 1, 5}));
}

TYPED_TEST(BookContractTest, AmendWithNothingNewChangesNothing) {
  EXPECT_EQ(this->book.amend(1, Price{5'000}, Qty{10}, 99, this->fills, SelfTradePrevention::cancel_incoming,
                             this->cancelled).status,
            AmendStatus::unchanged);
  EXPECT_EQ(this->book.find(1)->priority, 1u);
  EXPECT_EQ(this->book.amend(42, Price{5'000}, Qty{10}, 99, this->fills, SelfTradePrevention::cancel_incoming,
                             this->cancelled).status,
            AmendStatus::not_found);
  EXPECT_EQ(this->book.amend(1, Price{5'000}, Qty{0}, 99, this->fills, SelfTradePrevention::cancel_incoming,
                             this->cancelled).status,
            AmendStatus::invalid);
}

TYPED_TEST(BookContractTest, AmendAcrossTheSpreadTradesThenRestsTheRemainder) {
  this->book.add(buy(10, 4'990, 45, 10));
  const AmendResult r = this->book.amend(10, Price{5'000}, Qty{45}, 99, this->fills,
                                         SelfTradePrevention::cancel_incoming, this->cancelled);
  EXPECT_EQ(r.status, AmendStatus::requeued);
  EXPECT_EQ(r.resting, Qty{5});
  EXPECT_EQ(this->fills.size(), 4u);
  EXPECT_EQ(this->book.best_bid(), Price{5'000});
  EXPECT_EQ(this->book.find(10)->priority, 99u);
  EXPECT_EQ(this->book.best_ask(), Price{5'001});
}

TYPED_TEST(BookContractTest, AmendAcrossTheSpreadFillsOrStopsAtItsOwnersOrder) {
  this->book.add(buy(10, 4'990, 15, 777));
  AmendResult r = this->book.amend(10, Price{5'000}, Qty{15}, 99, this->fills,
                                   SelfTradePrevention::cancel_incoming, this->cancelled);
  EXPECT_EQ(r.status, AmendStatus::self_trade_cancelled);
  EXPECT_EQ(this->fills.size(), 1u) << "filled 10 against #1, then met #2 of the same owner";
  EXPECT_EQ(this->book.find(10), nullptr);

  this->fills.clear();
  this->book.add(buy(11, 4'990, 15, 11));
  r = this->book.amend(11, Price{5'000}, Qty{15}, 100, this->fills, SelfTradePrevention::cancel_incoming,
                       this->cancelled);
  EXPECT_EQ(r.status, AmendStatus::filled);
  EXPECT_EQ(this->book.find(11), nullptr);
  EXPECT_EQ(this->book.find(3)->remaining, Qty{5});
}

TYPED_TEST(BookContractTest, RequeueMovesWithoutMatchingAndRefusesToCross) {
  this->book.add(buy(10, 4'990, 5, 10));
  EXPECT_FALSE(this->book.requeue(10, Price{5'000}, Qty{5}, 99)) << "would cross the best ask";
  EXPECT_TRUE(this->book.requeue(10, Price{4'999}, Qty{7}, 99));
  EXPECT_EQ(this->book.find(10)->price, Price{4'999});
  EXPECT_EQ(this->book.find(10)->remaining, Qty{7});
  EXPECT_EQ(this->book.best_bid(), Price{4'999});
  EXPECT_EQ(this->book.best_ask(), Price{5'000});
  EXPECT_FALSE(this->book.requeue(42, Price{4'999}, Qty{7}, 99));
}

TYPED_TEST(BookContractTest, BestPricesAreEmptyOnAnEmptySide) {
  EXPECT_EQ(this->book.best_bid(), std::nullopt);
  for (OrderId id = 1; id <= 5; ++id) EXPECT_TRUE(this->book.cancel(id));
  EXPECT_EQ(this->book.best_ask(), std::nullopt);
}

}  // namespace
}  // namespace carbon::matching
