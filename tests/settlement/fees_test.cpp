// Fee arithmetic: half up to the fen, exact for any int64 value; the buy
// reservation's per-tonne fee rounded up; DvP with fees.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "settlement/clearing.h"

namespace carbon::settlement {
namespace {

TEST(TradeFeeTest, RoundsHalfUpToTheFen) {
  EXPECT_EQ(trade_fee(Cash{5'000}, 5), Cash{3});   // 2.5 -> 3
  EXPECT_EQ(trade_fee(Cash{4'999}, 5), Cash{2});   // 2.4995 -> 2
  EXPECT_EQ(trade_fee(Cash{5'001}, 5), Cash{3});   // 2.5005 -> 3
  EXPECT_EQ(trade_fee(Cash{5'000}, 3), Cash{2});   // 1.5 -> 2
  EXPECT_EQ(trade_fee(Cash{15'000}, 3), Cash{5});  // 4.5 -> 5
  EXPECT_EQ(trade_fee(Cash{1'000}, 5), Cash{1});   // 0.5 -> 1
  EXPECT_EQ(trade_fee(Cash{999}, 5), Cash{0});     // 0.4995 -> 0
  EXPECT_EQ(trade_fee(Cash{0}, 1'000), Cash{0});
  EXPECT_EQ(trade_fee(Cash{123'456}, 0), Cash{0});
  EXPECT_EQ(trade_fee(Cash{10'000}, 1), Cash{1});  // exact
}

TEST(TradeFeeTest, NoOverflowForTheLargestValue) {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  // (2^63 - 1) x 1000 / 10000 = 922337203685477580.7 -> ...581.
  EXPECT_EQ(trade_fee(Cash{max}, 1'000), Cash{922'337'203'685'477'581});
  EXPECT_EQ(trade_fee(Cash{max}, 10'000), Cash{max});
}

TEST(BuyReservationTest, FeePerTonneRoundedUp) {
  EXPECT_EQ(buy_reservation(Price{5'000}, Qty{10}, 5), Cash{50'030});  // 2.5 -> 3 a tonne
  EXPECT_EQ(buy_reservation(Price{5'000}, Qty{10}, 0), Cash{50'000});
  EXPECT_EQ(buy_reservation(Price{10'000}, Qty{7}, 5), Cash{70'035});  // exact 5 a tonne
  EXPECT_EQ(buy_reservation(Price{1}, Qty{3}, 1), Cash{6});            // 0.0001 -> 1 a tonne
  EXPECT_FALSE(buy_reservation(Price{std::numeric_limits<std::int64_t>::max()}, Qty{1}, 1).has_value());
  EXPECT_FALSE(buy_reservation(Price{1'000'000'000}, Qty{9'300'000'000}, 10).has_value());
}

TEST(BuyReservationTest, CoversEveryFillAtOrBelowTheLimit) {
  // For every fill price up to the limit and every quantity, the value plus
  // its half-up fee never exceeds the tonnes' share of the reservation.
  for (int bps : {1, 3, 5, 7, 13, 250, 1'000}) {
    for (std::int64_t limit = 1; limit <= 400; limit += 7) {
      for (std::int64_t price = 1; price <= limit; price += 3) {
        for (std::int64_t qty : {1, 2, 3, 10, 99, 1'001}) {
          const Cash value{price * qty};
          ASSERT_LE(value + trade_fee(value, bps), *buy_reservation(Price{limit}, Qty{qty}, bps))
              << bps << " bps, limit " << limit << ", " << qty << " @ " << price;
        }
      }
    }
  }
}

TEST(PayWithFeesTest, MovesValueAndFeesAndConserves) {
  Clearing clearing;
  clearing.open_account(kFeeCashAccount);
  clearing.open_account(100);
  clearing.open_account(101);
  ASSERT_TRUE(clearing.deposit(100, Cash{100'000}).is_ok());
  BuyReservation reservation;
  ASSERT_TRUE(clearing.reserve_for_buy(100, Cash{50'030}, reservation).is_ok());
  clearing.pay_with_fees(100, reservation, 101, Cash{5'000}, Cash{3}, Cash{2});
  EXPECT_EQ(reservation.total, Cash{45'027});
  EXPECT_EQ(clearing.account(100), (CashAccount{Cash{49'970}, Cash{45'027}, Cash{0}}));
  EXPECT_EQ(clearing.account(101), (CashAccount{Cash{0}, Cash{0}, Cash{4'998}}));
  EXPECT_EQ(clearing.account(kFeeCashAccount), (CashAccount{Cash{5}, Cash{0}, Cash{0}}));
  EXPECT_EQ(clearing.total(), Cash{100'000});
}

}  // namespace
}  // namespace carbon::settlement
