#include <gtest/gtest.h>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kSeller = 100;
constexpr AccountId kBuyer = 101;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry.open_account(kSeller);
    registry.open_account(kBuyer);
  }
  Registry registry;
};

TEST_F(RegistryTest, IssuanceMovesUnitsFromTheIssuanceAccountAndLogsIt) {
  ASSERT_TRUE(registry.issue("CEA2024", kSeller, Qty{1'000}, 1, 0, "allocation").is_ok());
  EXPECT_EQ(registry.holding(kSeller, "CEA2024").available, Qty{1'000});
  EXPECT_EQ(registry.holding(kIssuanceAccount, "CEA2024").available, Qty{-1'000});
  EXPECT_EQ(registry.net_total("CEA2024"), Qty{0});
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].from_account, kIssuanceAccount);
  EXPECT_EQ(entries[0].to_account, kSeller);
  EXPECT_TRUE(registry.take_new_entries().empty());
}

TEST_F(RegistryTest, IssuanceToAnUnknownAccountIsNotFound) {
  EXPECT_EQ(registry.issue("CEA2024", 999, Qty{1}, 1, 0, "").code(), ErrorCode::not_found);
  EXPECT_EQ(registry.net_total("CEA2024"), Qty{0});
}

TEST_F(RegistryTest, IssuanceIntoTheIssuanceAccountItselfIsRefused) {
  EXPECT_EQ(registry.issue("CEA2024", kIssuanceAccount, Qty{1}, 1, 0, "").code(), ErrorCode::failed_precondition);
}

TEST_F(RegistryTest, IssuanceBeyondInt64IsRefusedAndChangesNothing) {
  ASSERT_TRUE(registry.issue("CEA2024", kSeller, Qty{INT64_MAX - 10}, 1, 0, "").is_ok());
  EXPECT_EQ(registry.issue("CEA2024", kBuyer, Qty{100}, 2, 0, "").code(), ErrorCode::failed_precondition);
  EXPECT_EQ(registry.holding(kBuyer, "CEA2024").available, Qty{0});
  EXPECT_EQ(registry.net_total("CEA2024"), Qty{0});
}

TEST_F(RegistryTest, IssuanceOfZeroIsInvalid) {
  EXPECT_EQ(registry.issue("CEA2024", kSeller, Qty{0}, 1, 0, "").code(), ErrorCode::invalid_argument);
}

TEST_F(RegistryTest, SellReservationCannotExceedAvailableUnits) {
  ASSERT_TRUE(registry.issue("CEA2024", kSeller, Qty{100}, 1, 0, "").is_ok());
  const Status status = registry.reserve_for_sell(kSeller, "CEA2024", Qty{101});
  EXPECT_EQ(status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(status.message().find("insufficient units"), std::string::npos);
  EXPECT_EQ(registry.holding(kSeller, "CEA2024").available, Qty{100});
}

TEST_F(RegistryTest, DeliveryMovesReservedUnitsToTheBuyersPendingHolding) {
  ASSERT_TRUE(registry.issue("CEA2024", kSeller, Qty{100}, 1, 0, "").is_ok());
  ASSERT_TRUE(registry.reserve_for_sell(kSeller, "CEA2024", Qty{60}).is_ok());
  registry.deliver("CEA2024", kSeller, kBuyer, Qty{40}, 2, 0, "trade:1");
  registry.release_sell_reservation(kSeller, "CEA2024", Qty{20});
  EXPECT_EQ(registry.holding(kSeller, "CEA2024"), (Holding{Qty{60}, Qty{0}, Qty{0}, Qty{0}, Qty{0}}));
  EXPECT_EQ(registry.holding(kBuyer, "CEA2024").pending, Qty{40});
  EXPECT_EQ(registry.net_total("CEA2024"), Qty{0});
  EXPECT_EQ(registry.take_new_entries().size(), 2u);
}

TEST_F(RegistryTest, HoldingsOfListsOnlyNonEmptyHoldings) {
  ASSERT_TRUE(registry.issue("CEA2024", kSeller, Qty{5}, 1, 0, "").is_ok());
  const auto holdings = registry.holdings_of(kSeller);
  ASSERT_EQ(holdings.size(), 1u);
  EXPECT_EQ(holdings[0].instrument, "CEA2024");
  EXPECT_TRUE(registry.holdings_of(kBuyer).empty());
}

}  // namespace
}  // namespace carbon::registry
