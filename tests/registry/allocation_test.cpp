#include <gtest/gtest.h>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kPlant = 100;
constexpr AccountId kMill = 101;

class AllocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry.open_account(kPlant);
    registry.open_account(kMill);
    ASSERT_TRUE(registry.set_cap(2024, "power", Qty{10'000}).is_ok());
  }
  Registry registry;
};

TEST(AllocationFormulaTest, OutputTimesBenchmarkTimesFactorsRoundsHalfUpOnceAtTheEnd) {
  // 1,000,000 MWh × 0.8218 t/MWh × 0.985 × 1.0120 = 819,186.676 t → 819,187 t.
  Qty out{0};
  ASSERT_TRUE(compute_free_allocation({1'000'000, 821'800, {9'850, 10'120}}, out).is_ok());
  EXPECT_EQ(out, Qty{819'187});
  // Exactly half a tonne rounds up: 1 unit × 0.5 t.
  ASSERT_TRUE(compute_free_allocation({1, 500'000, {}}, out).is_ok());
  EXPECT_EQ(out, Qty{1});
  // Just below half rounds down: 1 unit × 0.499999 t.
  ASSERT_TRUE(compute_free_allocation({1, 499'999, {}}, out).is_ok());
  EXPECT_EQ(out, Qty{0});
  // The order of the factors does not matter.
  Qty swapped{0};
  ASSERT_TRUE(compute_free_allocation({1'000'000, 821'800, {10'120, 9'850}}, swapped).is_ok());
  EXPECT_EQ(swapped, Qty{819'187});
}

TEST(AllocationFormulaTest, RejectsNonPositiveInputsTooManyFactorsAndOverflow) {
  Qty out{0};
  EXPECT_EQ(compute_free_allocation({0, 1, {}}, out).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(compute_free_allocation({1, 0, {}}, out).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(compute_free_allocation({1, 1, {0}}, out).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(compute_free_allocation({1, 1, {1, 1, 1, 1, 1}}, out).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(compute_free_allocation({INT64_MAX, INT64_MAX, {}}, out).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(compute_free_allocation({INT64_MAX, INT64_MAX, {INT64_MAX, INT64_MAX}}, out).code(),
            ErrorCode::invalid_argument);
}

TEST(AllowanceVintageTest, ReadsEveryProductCodeForm) {
  EXPECT_EQ(allowance_vintage("CEA2024"), 2024);
  EXPECT_EQ(allowance_vintage("CEA24"), 2024);
  EXPECT_EQ(allowance_vintage("CEA19-20"), 2020);
  EXPECT_EQ(allowance_vintage("CCER"), std::nullopt);
  EXPECT_EQ(allowance_vintage("CEA"), std::nullopt);
  EXPECT_EQ(allowance_vintage("CEA20x4"), std::nullopt);
}

TEST_F(AllocationTest, DirectAllocationIssuesUnderTheCap) {
  const Result<AllocationOutcome> r = registry.allocate_free(2024, "power", "CEA2024", kPlant, Qty{6'000}, 1, 0);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value.issued, Qty{6'000});
  EXPECT_EQ(registry.holding(kPlant, "CEA2024").available, Qty{6'000});
  EXPECT_EQ(registry.cap_usage(2024, "power").issued, Qty{6'000});
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, TransferKind::allocation);
  EXPECT_EQ(entries[0].reference, "allocation:2024:power");
  EXPECT_EQ(registry.net_total("CEA2024"), Qty{0});
}

TEST_F(AllocationTest, BenchmarkAllocationUsesTheFormula) {
  const Result<AllocationOutcome> r =
      registry.allocate_free(2024, "power", "CEA2024", kPlant, AllocationFormula{10'000, 821'800, {9'850}}, 1, 0);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value.gross, Qty{8'095});  // 10,000 × 0.8218 × 0.985 = 8,094.73 → 8,095
  EXPECT_EQ(registry.holding(kPlant, "CEA2024").available, Qty{8'095});
}

TEST_F(AllocationTest, IssuingBeyondTheCapIsRefusedNamingTheCap) {
  ASSERT_TRUE(registry.allocate_free(2024, "power", "CEA2024", kPlant, Qty{6'000}, 1, 0).is_ok());
  const Result<AllocationOutcome> r = registry.allocate_free(2024, "power", "CEA2024", kMill, Qty{4'001}, 2, 0);
  EXPECT_EQ(r.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(r.status.message().find("cap of 10000 t for 2024 power"), std::string::npos) << r.status.message();
  EXPECT_EQ(registry.holding(kMill, "CEA2024").available, Qty{0});
  const Status paid = registry.issue_under_cap(2024, "power", "CEA2024", kAuctionAccount, Qty{4'001}, 3, 0, "auction");
  EXPECT_EQ(paid.code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(registry.issue_under_cap(2024, "power", "CEA2024", kAuctionAccount, Qty{4'000}, 3, 0, "auction").is_ok());
  EXPECT_EQ(registry.cap_usage(2024, "power").issued, Qty{10'000});
}

TEST_F(AllocationTest, AllocationRejections) {
  EXPECT_EQ(registry.allocate_free(2024, "power", "CEA2024", kPlant, Qty{0}, 1, 0).status.code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(registry.allocate_free(2024, "power", "CEA2024", 999, Qty{1}, 1, 0).status.code(), ErrorCode::not_found);
  EXPECT_EQ(registry.allocate_free(2024, "power", "CEA2024", kReserveAccount, Qty{1}, 1, 0).status.code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.allocate_free(2024, "power", "CEA2023", kPlant, Qty{1}, 1, 0).status.code(),
            ErrorCode::failed_precondition);
  const Result<AllocationOutcome> no_cap = registry.allocate_free(2024, "steel", "CEA2024", kPlant, Qty{1}, 1, 0);
  EXPECT_EQ(no_cap.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(no_cap.status.message().find("no cap is set"), std::string::npos);
  EXPECT_EQ(registry.allocate_free(2024, "power", "CEA2024", kPlant, AllocationFormula{0, 1, {}}, 1, 0).status.code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(registry.issue_under_cap(2024, "power", "CEA2024", kPlant, Qty{0}, 1, 0, "").code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(registry.issue_under_cap(2024, "power", "CEA2024", 999, Qty{1}, 1, 0, "").code(), ErrorCode::not_found);
  EXPECT_TRUE(registry.take_new_entries().empty());
}

TEST_F(AllocationTest, CapRejections) {
  EXPECT_EQ(registry.set_cap(2024, "power", Qty{-1}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.set_cap(2024, "", Qty{1}).code(), ErrorCode::invalid_argument);
  ASSERT_TRUE(registry.allocate_free(2024, "power", "CEA2024", kPlant, Qty{6'000}, 1, 0).is_ok());
  EXPECT_EQ(registry.set_cap(2024, "power", Qty{5'999}).code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(registry.set_cap(2024, "power", Qty{6'000}).is_ok());
}

TEST_F(AllocationTest, NextYearsAllocationIsReducedByLastYearsShortfall) {
  ASSERT_TRUE(registry.set_cap(2025, "power", Qty{10'000}).is_ok());
  ASSERT_TRUE(registry.allocate_free(2024, "power", "CEA2024", kPlant, Qty{700}, 1, 0).is_ok());
  ASSERT_TRUE(registry.record_verified_emissions(2024, kPlant, Qty{1'000}).is_ok());
  ASSERT_TRUE(registry.surrender(2024, kPlant, "CEA2024", Qty{700}, 2, 0).is_ok());
  ASSERT_TRUE(registry.close_compliance_year(2024).is_ok());
  EXPECT_EQ(registry.deduction_owed(kPlant), Qty{300});

  // An allocation of the same year is not reduced; the next year's is.
  ASSERT_TRUE(registry.set_cap(2024, "power", Qty{10'000}).is_ok());
  const Result<AllocationOutcome> next = registry.allocate_free(2025, "power", "CEA2025", kPlant, Qty{200}, 3, 0);
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next.value.deducted, Qty{200});
  EXPECT_EQ(next.value.issued, Qty{0});
  EXPECT_EQ(registry.deduction_owed(kPlant), Qty{100});
  const Result<AllocationOutcome> more = registry.allocate_free(2025, "power", "CEA2025", kPlant, Qty{1'000}, 4, 0);
  ASSERT_TRUE(more.is_ok());
  EXPECT_EQ(more.value.deducted, Qty{100});
  EXPECT_EQ(more.value.issued, Qty{900});
  EXPECT_EQ(registry.holding(kPlant, "CEA2025").available, Qty{900});
  EXPECT_EQ(registry.deduction_owed(kPlant), Qty{0});
  EXPECT_EQ(registry.cap_usage(2025, "power").issued, Qty{900});
  const auto entries = registry.take_new_entries();
  EXPECT_EQ(entries.back().reference, "allocation:2025:power:deducted=100");
}

}  // namespace
}  // namespace carbon::registry
