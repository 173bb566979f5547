#include <gtest/gtest.h>

#include <vector>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kPlant = 100;
constexpr AccountId kMill = 101;
constexpr AccountId kDeveloper = 102;

class ComplianceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (AccountId a : {kPlant, kMill, kDeveloper}) registry.open_account(a);
    ASSERT_TRUE(registry.issue("CEA2023", kPlant, Qty{400}, 1, 0, "").is_ok());
    ASSERT_TRUE(registry.issue("CEA2024", kPlant, Qty{600}, 1, 0, "").is_ok());
    ASSERT_TRUE(registry.issue("CEA2025", kPlant, Qty{500}, 1, 0, "").is_ok());
    ASSERT_TRUE(registry.register_methodology({"CCER-14-001-V01", "grid-connected offshore wind"}).is_ok());
    ASSERT_TRUE(registry.accredit_validation_body("CQC").is_ok());
    const Result<ProjectId> project = registry.register_project("P-001", kDeveloper, "CCER-14-001-V01", "CQC");
    ASSERT_TRUE(project.is_ok());
    ASSERT_TRUE(registry.issue_ccer(project.value, 2023, Qty{1'000}, 1, 0, "").is_ok());
    ASSERT_TRUE(registry.transfer(kCcerInstrument, kDeveloper, kPlant, Qty{1'000}, 1, 0, "otc").is_ok());
    ASSERT_TRUE(registry.record_verified_emissions(2024, kPlant, Qty{1'000}).is_ok());
  }
  Registry registry;
};

TEST_F(ComplianceTest, SurrenderMovesUnitsToTheSurrenderAccountAndCountsThem) {
  ASSERT_TRUE(registry.surrender(2024, kPlant, "CEA2023", Qty{400}, 2, 0).is_ok());
  ASSERT_TRUE(registry.surrender(2024, kPlant, "CEA2024", Qty{550}, 3, 0).is_ok());
  ASSERT_TRUE(registry.surrender(2024, kPlant, kCcerInstrument, Qty{50}, 4, 0).is_ok());
  const Result<ComplianceStatus> status = registry.compliance_status(2024, kPlant);
  ASSERT_TRUE(status.is_ok());
  EXPECT_EQ(status.value.surrendered_allowances, Qty{950});
  EXPECT_EQ(status.value.surrendered_ccer, Qty{50});
  EXPECT_EQ(status.value.shortfall, Qty{0});
  EXPECT_TRUE(status.value.compliant());
  EXPECT_EQ(registry.holding(kSurrenderAccount, "CEA2024").available, Qty{550});
  EXPECT_EQ(registry.holding(kSurrenderAccount, kCcerInstrument).available, Qty{50});
  EXPECT_EQ(registry.net_total("CEA2024"), Qty{0});
  EXPECT_TRUE(registry.check_ccer_blocks().is_ok());
  const auto entries = registry.take_new_entries();
  EXPECT_EQ(entries.back().kind, TransferKind::surrender);
  EXPECT_EQ(entries.back().to_account, kSurrenderAccount);
  EXPECT_EQ(entries.back().reference, "surrender:2024");
}

TEST_F(ComplianceTest, ALaterVintageIsRefusedNamingTheRule) {
  const Status s = registry.surrender(2024, kPlant, "CEA2025", Qty{1}, 2, 0);
  EXPECT_EQ(s.code(), ErrorCode::failed_precondition);
  EXPECT_NE(s.message().find("vintage rule"), std::string::npos);
  EXPECT_NE(s.message().find("only vintages up to the compliance year"), std::string::npos);
  EXPECT_EQ(registry.holding(kPlant, "CEA2025").available, Qty{500});
}

TEST_F(ComplianceTest, CcerBeyondFivePercentOfTheObligationIsRefused) {
  ASSERT_TRUE(registry.surrender(2024, kPlant, kCcerInstrument, Qty{30}, 2, 0).is_ok());
  const Status s = registry.surrender(2024, kPlant, kCcerInstrument, Qty{21}, 3, 0);
  EXPECT_EQ(s.code(), ErrorCode::failed_precondition);
  EXPECT_NE(s.message().find("CCER offset cap"), std::string::npos);
  EXPECT_NE(s.message().find("5% of the obligation (50 t of 1000 t)"), std::string::npos) << s.message();
  EXPECT_TRUE(registry.surrender(2024, kPlant, kCcerInstrument, Qty{20}, 3, 0).is_ok());
}

TEST_F(ComplianceTest, TheOffsetCapIsConfigurable) {
  Registry strict(RegistryRules{2});
  strict.open_account(kPlant);
  ASSERT_TRUE(strict.register_methodology({"M", "m"}).is_ok());
  ASSERT_TRUE(strict.accredit_validation_body("CQC").is_ok());
  const Result<ProjectId> project = strict.register_project("P", kPlant, "M", "CQC");
  ASSERT_TRUE(project.is_ok());
  ASSERT_TRUE(strict.issue_ccer(project.value, 2024, Qty{100}, 1, 0, "").is_ok());
  ASSERT_TRUE(strict.record_verified_emissions(2024, kPlant, Qty{1'000}).is_ok());
  const Status s = strict.surrender(2024, kPlant, kCcerInstrument, Qty{21}, 2, 0);
  EXPECT_EQ(s.code(), ErrorCode::failed_precondition);
  EXPECT_NE(s.message().find("at most 2% of the obligation (20 t of 1000 t)"), std::string::npos) << s.message();
  EXPECT_TRUE(strict.surrender(2024, kPlant, kCcerInstrument, Qty{20}, 2, 0).is_ok());
  EXPECT_EQ(ccer_offset_cap(Qty{1'000}, 2), Qty{20});
  EXPECT_EQ(ccer_offset_cap(Qty{1'019}, 5), Qty{50});  // floor: a tonne is never split
}

TEST_F(ComplianceTest, SurrenderRejections) {
  EXPECT_EQ(registry.surrender(2024, kPlant, "CEA2024", Qty{0}, 2, 0).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.surrender(2024, 999, "CEA2024", Qty{1}, 2, 0).code(), ErrorCode::not_found);
  EXPECT_EQ(registry.surrender(2024, kPlant, "GOLD", Qty{1}, 2, 0).code(), ErrorCode::invalid_argument);
  const Status no_obligation = registry.surrender(2023, kPlant, "CEA2023", Qty{1}, 2, 0);
  EXPECT_EQ(no_obligation.code(), ErrorCode::failed_precondition);
  EXPECT_NE(no_obligation.message().find("no verified emissions"), std::string::npos);
  EXPECT_EQ(registry.surrender(2024, kMill, "CEA2024", Qty{1}, 2, 0).code(), ErrorCode::failed_precondition);
  const Status too_much = registry.surrender(2024, kPlant, "CEA2024", Qty{1'001}, 2, 0);
  EXPECT_EQ(too_much.code(), ErrorCode::failed_precondition);
  EXPECT_NE(too_much.message().find("still due"), std::string::npos);
  const Status too_few = registry.surrender(2024, kPlant, "CEA2024", Qty{601}, 2, 0);
  EXPECT_EQ(too_few.code(), ErrorCode::failed_precondition);
  EXPECT_NE(too_few.message().find("insufficient units"), std::string::npos);
  ASSERT_TRUE(registry.close_compliance_year(2024).is_ok());
  const Status closed = registry.surrender(2024, kPlant, "CEA2024", Qty{1}, 2, 0);
  EXPECT_EQ(closed.code(), ErrorCode::failed_precondition);
  EXPECT_NE(closed.message().find("deadline"), std::string::npos);
}

TEST_F(ComplianceTest, VerifiedEmissionsRejections) {
  EXPECT_EQ(registry.record_verified_emissions(2024, kPlant, Qty{-1}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.record_verified_emissions(2024, 999, Qty{1}).code(), ErrorCode::not_found);
  EXPECT_EQ(registry.record_verified_emissions(2024, kReserveAccount, Qty{1}).code(), ErrorCode::failed_precondition);
  ASSERT_TRUE(registry.surrender(2024, kPlant, "CEA2024", Qty{500}, 2, 0).is_ok());
  EXPECT_EQ(registry.record_verified_emissions(2024, kPlant, Qty{499}).code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(registry.record_verified_emissions(2024, kPlant, Qty{900}).is_ok());  // a correction before the deadline
  ASSERT_TRUE(registry.close_compliance_year(2024).is_ok());
  EXPECT_EQ(registry.record_verified_emissions(2024, kPlant, Qty{900}).code(), ErrorCode::failed_precondition);
  EXPECT_EQ(registry.close_compliance_year(2024).status.code(), ErrorCode::failed_precondition);
}

TEST_F(ComplianceTest, ACorrectionCannotLeaveCcerAboveTheOffsetCap) {
  ASSERT_TRUE(registry.surrender(2024, kPlant, kCcerInstrument, Qty{50}, 2, 0).is_ok());  // the 5% of 1,000 t
  // 600 t would cap CCER at 30 t, below the 50 t already counted.
  const Status lowered = registry.record_verified_emissions(2024, kPlant, Qty{600});
  EXPECT_EQ(lowered.code(), ErrorCode::failed_precondition);
  EXPECT_NE(lowered.message().find("CCER offset cap: verified emissions of 600 t would let CCER cover at most 30 t "
                                   "(5%), below the 50 t of CCER already surrendered for 2024"),
            std::string::npos)
      << lowered.message();
  const Result<ComplianceStatus> unchanged = registry.compliance_status(2024, kPlant);
  ASSERT_TRUE(unchanged.is_ok());
  EXPECT_EQ(unchanged.value.obligation, Qty{1'000});
  // 1,000 t is the least that still caps CCER at 50 t; anything from there up is taken.
  EXPECT_EQ(registry.record_verified_emissions(2024, kPlant, Qty{999}).code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(registry.record_verified_emissions(2024, kPlant, Qty{1'000}).is_ok());
  EXPECT_TRUE(registry.record_verified_emissions(2024, kPlant, Qty{1'200}).is_ok());
}

TEST_F(ComplianceTest, StatusIsCompliantOrShortByN) {
  ASSERT_TRUE(registry.record_verified_emissions(2024, kMill, Qty{200}).is_ok());
  ASSERT_TRUE(registry.surrender(2024, kPlant, "CEA2024", Qty{600}, 2, 0).is_ok());
  ASSERT_TRUE(registry.surrender(2024, kPlant, "CEA2023", Qty{400}, 3, 0).is_ok());
  const Result<std::vector<ComplianceStatus>> closed = registry.close_compliance_year(2024);
  ASSERT_TRUE(closed.is_ok());
  ASSERT_EQ(closed.value.size(), 2u);
  EXPECT_EQ(closed.value[0].unit, kPlant);
  EXPECT_TRUE(closed.value[0].compliant());
  EXPECT_EQ(closed.value[1].unit, kMill);
  EXPECT_FALSE(closed.value[1].compliant());
  EXPECT_EQ(closed.value[1].shortfall, Qty{200});
  EXPECT_TRUE(closed.value[1].closed);
  EXPECT_EQ(registry.compliance_status(2024, kDeveloper).status.code(), ErrorCode::not_found);
}

TEST(PenaltyTest, ReproducesTheWorkedExampleOfMarketRules) {
  // 865,300 t short, December average 98.00 CNY/t, 5× → 423,997,000 CNY.
  Cash penalty{0};
  ASSERT_TRUE(compute_penalty(Qty{865'300}, Price{9'800}, 5, penalty).is_ok());
  EXPECT_EQ(penalty, Cash{423'997'000LL * 100});
}

TEST(PenaltyTest, TheAverageOfTheMonthRoundsHalfUpToTheFen) {
  // Daily closes of the month before the deadline; their mean is 98.00 CNY.
  const std::vector<Price> december{Price{9'700}, Price{9'800}, Price{9'900}};
  Price average{0};
  ASSERT_TRUE(average_closing_price(december, average).is_ok());
  EXPECT_EQ(average, Price{9'800});
  const std::vector<Price> half{Price{1}, Price{2}};  // 1.5 fen → 2 fen
  ASSERT_TRUE(average_closing_price(half, average).is_ok());
  EXPECT_EQ(average, Price{2});
  const std::vector<Price> below_half{Price{1}, Price{1}, Price{2}};  // 1.33 fen → 1 fen
  ASSERT_TRUE(average_closing_price(below_half, average).is_ok());
  EXPECT_EQ(average, Price{1});
}

TEST(PenaltyTest, Rejections) {
  Cash penalty{0};
  EXPECT_EQ(compute_penalty(Qty{1}, Price{1}, 4, penalty).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(compute_penalty(Qty{1}, Price{1}, 11, penalty).code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(compute_penalty(Qty{1}, Price{1}, 10, penalty).is_ok());
  EXPECT_EQ(penalty, Cash{10});
  EXPECT_EQ(compute_penalty(Qty{-1}, Price{1}, 5, penalty).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(compute_penalty(Qty{INT64_MAX}, Price{2}, 5, penalty).code(), ErrorCode::failed_precondition);
  Price average{0};
  EXPECT_EQ(average_closing_price({}, average).code(), ErrorCode::invalid_argument);
  const std::vector<Price> zero{Price{0}};
  EXPECT_EQ(average_closing_price(zero, average).code(), ErrorCode::invalid_argument);
}

TEST_F(ComplianceTest, EarlyWarningListsUnitsCoveringLessThanTheShare) {
  // kPlant: 1,000 t due; usable 400 (2023) + 600 (2024) + 50 CCER (capped) = 1,050; 2025 vintage does not count.
  // kMill: 2,000 t due, nothing held, 1,500 t of open buys = 75%.
  ASSERT_TRUE(registry.record_verified_emissions(2024, kMill, Qty{2'000}).is_ok());
  const std::vector<OpenBuys> buys{{kMill, Qty{1'000}}, {kMill, Qty{500}}};
  const auto at_80 = registry.early_warnings(2024, 80, buys);
  ASSERT_TRUE(at_80.is_ok());
  ASSERT_EQ(at_80.value.size(), 1u);
  EXPECT_EQ(at_80.value[0].unit, kMill);
  EXPECT_EQ(at_80.value[0].covered, Qty{1'500});
  EXPECT_EQ(at_80.value[0].uncovered, Qty{500});
  EXPECT_TRUE(registry.early_warnings(2024, 75, buys).value.empty());  // exactly 75% is covered enough

  // Frozen units do not cover anything.
  ASSERT_TRUE(registry.freeze({kPlant, "CEA2024", Qty{600}, FreezeAuthority::court, "court", "dispute"}, 2, 0).is_ok());
  const auto after_freeze = registry.early_warnings(2024, 100, buys);
  ASSERT_EQ(after_freeze.value.size(), 2u);
  EXPECT_EQ(after_freeze.value[0].unit, kPlant);
  EXPECT_EQ(after_freeze.value[0].covered, Qty{450});
  EXPECT_EQ(registry.early_warnings(2024, 0, buys).status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.early_warnings(2024, 101, buys).status.code(), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace carbon::registry
