#include <gtest/gtest.h>

#include "settlement/clearing.h"

namespace carbon::settlement {
namespace {

constexpr AccountId kBuyer = 200;
constexpr AccountId kSeller = 201;

class ClearingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clearing.open_account(kBuyer);
    clearing.open_account(kSeller);
  }
  Clearing clearing;
};

TEST_F(ClearingTest, DepositAddsToAvailable) {
  ASSERT_TRUE(clearing.deposit(kBuyer, Cash{10'000}).is_ok());
  EXPECT_EQ(clearing.account(kBuyer).available, Cash{10'000});
}

TEST_F(ClearingTest, DepositRejectsZeroNegativeAndUnknownAccounts) {
  EXPECT_EQ(clearing.deposit(kBuyer, Cash{0}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(clearing.deposit(kBuyer, Cash{-5}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(clearing.deposit(999, Cash{5}).code(), ErrorCode::not_found);
  EXPECT_EQ(clearing.total(), Cash{0});
}

TEST_F(ClearingTest, DepositsCannotTakeTheTotalHeldPastInt64) {
  ASSERT_TRUE(clearing.deposit(kBuyer, Cash{INT64_MAX - 5}).is_ok());
  EXPECT_EQ(clearing.deposit(kSeller, Cash{10}).code(), ErrorCode::failed_precondition);
  EXPECT_EQ(clearing.account(kSeller).available, Cash{0});
  ASSERT_TRUE(clearing.withdraw(kBuyer, Cash{100}).is_ok());
  EXPECT_TRUE(clearing.deposit(kSeller, Cash{10}).is_ok());
}

TEST_F(ClearingTest, WithdrawalCannotTouchReservedOrUnsettledCash) {
  ASSERT_TRUE(clearing.deposit(kBuyer, Cash{1'000}).is_ok());
  BuyReservation reservation;
  ASSERT_TRUE(clearing.reserve_for_buy(kBuyer, Cash{600}, reservation).is_ok());
  EXPECT_EQ(clearing.withdraw(kBuyer, Cash{401}).code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(clearing.withdraw(kBuyer, Cash{400}).is_ok());
}

TEST_F(ClearingTest, ReservationNeedsFullPrefunding) {
  ASSERT_TRUE(clearing.deposit(kBuyer, Cash{1'000}).is_ok());
  BuyReservation reservation;
  const Status status = clearing.reserve_for_buy(kBuyer, Cash{1'001}, reservation);
  EXPECT_EQ(status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(status.message().find("insufficient funds"), std::string::npos);
  EXPECT_EQ(clearing.account(kBuyer), (CashAccount{Cash{1'000}, Cash{0}, Cash{0}}));
  EXPECT_EQ(reservation.total, Cash{0});
}

TEST_F(ClearingTest, PaymentMovesReservedCashToTheSellersUnsettledCash) {
  ASSERT_TRUE(clearing.deposit(kBuyer, Cash{1'000}).is_ok());
  BuyReservation reservation;
  ASSERT_TRUE(clearing.reserve_for_buy(kBuyer, Cash{1'000}, reservation).is_ok());
  clearing.pay(kBuyer, reservation, kSeller, Cash{700});
  clearing.release(kBuyer, reservation, Cash{300});
  EXPECT_EQ(clearing.account(kBuyer), (CashAccount{Cash{300}, Cash{0}, Cash{0}}));
  EXPECT_EQ(clearing.account(kSeller), (CashAccount{Cash{0}, Cash{0}, Cash{700}}));
  EXPECT_EQ(reservation.total, Cash{0});
  EXPECT_EQ(clearing.total(), Cash{1'000});
}

TEST_F(ClearingTest, SaleProceedsCanBuyAtOnceButNeverBecomeWithdrawableThroughARelease) {
  ASSERT_TRUE(clearing.deposit(kBuyer, Cash{100}).is_ok());
  BuyReservation first;
  ASSERT_TRUE(clearing.reserve_for_buy(kBuyer, Cash{100}, first).is_ok());
  clearing.pay(kBuyer, first, kSeller, Cash{100});
  // The seller now has 100 unsettled: it may buy with it.
  BuyReservation second;
  ASSERT_TRUE(clearing.reserve_for_buy(kSeller, Cash{100}, second).is_ok());
  EXPECT_EQ(second.from_unsettled, Cash{100});
  clearing.release(kSeller, second, Cash{100});
  EXPECT_EQ(clearing.account(kSeller), (CashAccount{Cash{0}, Cash{0}, Cash{100}}));
  EXPECT_EQ(clearing.withdraw(kSeller, Cash{1}).code(), ErrorCode::failed_precondition);
}

TEST(ClearingT0Test, WithSameDayWithdrawalProceedsAreAvailableAtOnce) {
  Clearing clearing(/*proceeds_withdrawable_at_once=*/true);
  clearing.open_account(kBuyer);
  clearing.open_account(kSeller);
  clearing.open_account(kFeeCashAccount);
  ASSERT_TRUE(clearing.deposit(kBuyer, Cash{1'000}).is_ok());
  BuyReservation reservation;
  ASSERT_TRUE(clearing.reserve_for_buy(kBuyer, Cash{1'000}, reservation).is_ok());
  clearing.pay_with_fees(kBuyer, reservation, kSeller, Cash{900}, Cash{5}, Cash{3});
  EXPECT_EQ(clearing.account(kSeller), (CashAccount{Cash{897}, Cash{0}, Cash{0}}));
  clearing.pay(kBuyer, reservation, kSeller, Cash{50});
  EXPECT_EQ(clearing.account(kSeller), (CashAccount{Cash{947}, Cash{0}, Cash{0}}));
  EXPECT_TRUE(clearing.withdraw(kSeller, Cash{947}).is_ok());
  EXPECT_EQ(clearing.settle_all_unsettled(), std::vector<AccountId>{}) << "nothing was left unsettled";
  // Without the option the same payment is unsettled and not withdrawable.
  Clearing t1;
  t1.open_account(kBuyer);
  t1.open_account(kSeller);
  ASSERT_TRUE(t1.deposit(kBuyer, Cash{1'000}).is_ok());
  BuyReservation held;
  ASSERT_TRUE(t1.reserve_for_buy(kBuyer, Cash{1'000}, held).is_ok());
  t1.pay(kBuyer, held, kSeller, Cash{900});
  const Status refused = t1.withdraw(kSeller, Cash{900});
  EXPECT_EQ(refused.code(), ErrorCode::failed_precondition);
  EXPECT_NE(refused.message().find("withdrawable from the next trading day"), std::string::npos);
}

TEST(FormatFenTest, PrintsYuanWithTwoDecimals) {
  EXPECT_EQ(format_fen(Cash{123'456}), "1234.56 CNY");
  EXPECT_EQ(format_fen(Cash{5}), "0.05 CNY");
  EXPECT_EQ(format_fen(Cash{-250}), "-2.50 CNY");
}

}  // namespace
}  // namespace carbon::settlement
