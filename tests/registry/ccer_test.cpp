#include <gtest/gtest.h>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kDeveloper = 100;
constexpr AccountId kBuyer = 101;
constexpr AccountId kOther = 102;

class CcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (AccountId a : {kDeveloper, kBuyer, kOther}) registry.open_account(a);
    ASSERT_TRUE(registry.register_methodology({"CCER-14-001-V01", "grid-connected offshore wind"}).is_ok());
    ASSERT_TRUE(registry.accredit_validation_body("CQC").is_ok());
    const Result<ProjectId> wind = registry.register_project("P-WIND", kDeveloper, "CCER-14-001-V01", "CQC");
    const Result<ProjectId> solar = registry.register_project("P-SOLAR", kDeveloper, "CCER-14-001-V01", "CQC");
    ASSERT_TRUE(wind.is_ok());
    ASSERT_TRUE(solar.is_ok());
    wind_project = wind.value;
    solar_project = solar.value;
  }
  Holding held(AccountId a) const { return registry.holding(a, kCcerInstrument); }
  Registry registry;
  ProjectId wind_project = 0;
  ProjectId solar_project = 0;
};

TEST_F(CcerTest, IssuanceCreatesOneBlockOfFreshSerialsForTheOwner) {
  const Result<CcerBlock> first = registry.issue_ccer(wind_project, 2023, Qty{100}, 1, 0, "monitoring report 1");
  const Result<CcerBlock> second = registry.issue_ccer(solar_project, 2024, Qty{50}, 2, 0, "");
  ASSERT_TRUE(first.is_ok());
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(first.value, (CcerBlock{1, 100, wind_project, 2023}));
  EXPECT_EQ(second.value, (CcerBlock{101, 150, solar_project, 2024}));
  EXPECT_EQ(held(kDeveloper).available, Qty{150});
  EXPECT_EQ(registry.holding(kIssuanceAccount, kCcerInstrument).available, Qty{-150});
  EXPECT_EQ(registry.ccer_blocks_of(kDeveloper).size(), 2u);
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kind, TransferKind::ccer_issuance);
  EXPECT_EQ(entries[0].reference, "ccer:P-WIND:2023:1-100:monitoring report 1");
  EXPECT_EQ(entries[1].reference, "ccer:P-SOLAR:2024:101-150");
}

TEST_F(CcerTest, ATradeDeliversTheOldestSerialsFirstAndSplitsABlock) {
  ASSERT_TRUE(registry.issue_ccer(wind_project, 2023, Qty{100}, 1, 0, "").is_ok());
  ASSERT_TRUE(registry.issue_ccer(solar_project, 2024, Qty{50}, 2, 0, "").is_ok());
  ASSERT_TRUE(registry.reserve_for_sell(kDeveloper, kCcerInstrument, Qty{130}).is_ok());
  registry.deliver(kCcerInstrument, kDeveloper, kBuyer, Qty{70}, 3, 0, "trade:1");
  EXPECT_EQ(registry.ccer_blocks_of(kBuyer), (std::vector<CcerBlock>{{1, 70, wind_project, 2023}}));
  EXPECT_EQ(registry.ccer_blocks_of(kDeveloper),
            (std::vector<CcerBlock>{{71, 100, wind_project, 2023}, {101, 150, solar_project, 2024}}));
  registry.deliver(kCcerInstrument, kDeveloper, kBuyer, Qty{60}, 4, 0, "trade:2");
  // 30 from the rest of the wind block, joined to the buyer's run; then 30 from the solar block.
  EXPECT_EQ(registry.ccer_blocks_of(kBuyer),
            (std::vector<CcerBlock>{{1, 100, wind_project, 2023}, {101, 130, solar_project, 2024}}));
  EXPECT_EQ(registry.ccer_blocks_of(kDeveloper), (std::vector<CcerBlock>{{131, 150, solar_project, 2024}}));
  EXPECT_EQ(held(kBuyer).pending, Qty{130});
  EXPECT_TRUE(registry.check_ccer_blocks().is_ok());
  EXPECT_EQ(registry.net_total(kCcerInstrument), Qty{0});
}

TEST_F(CcerTest, TransfersAndSurrenderAlsoMoveBlocksFirstInFirstOut) {
  ASSERT_TRUE(registry.issue_ccer(wind_project, 2023, Qty{10}, 1, 0, "").is_ok());
  ASSERT_TRUE(registry.issue_ccer(solar_project, 2023, Qty{10}, 2, 0, "").is_ok());
  ASSERT_TRUE(registry.transfer(kCcerInstrument, kDeveloper, kBuyer, Qty{15}, 3, 0, "otc").is_ok());
  ASSERT_TRUE(registry.transfer(kCcerInstrument, kBuyer, kOther, Qty{12}, 4, 0, "otc").is_ok());
  EXPECT_EQ(registry.ccer_blocks_of(kOther),
            (std::vector<CcerBlock>{{1, 10, wind_project, 2023}, {11, 12, solar_project, 2023}}));
  EXPECT_EQ(registry.ccer_blocks_of(kBuyer), (std::vector<CcerBlock>{{13, 15, solar_project, 2023}}));
  EXPECT_TRUE(registry.check_ccer_blocks().is_ok());
}

TEST(CcerBlockQueueTest, MoveSplitsTheFrontBlockAndReportsWhatMoved) {
  CcerBlockQueue from{{1, 10, 1, 2023}, {20, 29, 2, 2024}};
  CcerBlockQueue to;
  std::vector<CcerBlock> moved;
  EXPECT_EQ(move_blocks_fifo(from, to, 14, &moved), 14u);
  EXPECT_EQ(moved, (std::vector<CcerBlock>{{1, 10, 1, 2023}, {20, 23, 2, 2024}}));
  EXPECT_EQ(from, (CcerBlockQueue{{24, 29, 2, 2024}}));
  EXPECT_EQ(serial_count(to), 14u);
  EXPECT_EQ(move_blocks_fifo(from, to, 100), 6u);  // runs out
  EXPECT_TRUE(from.empty());
}

TEST_F(CcerTest, RetirementCancelsTheOldestSerialsPubliclyWithBeneficiaryAndPurpose) {
  ASSERT_TRUE(registry.issue_ccer(wind_project, 2023, Qty{100}, 1, 0, "").is_ok());
  const Result<RetirementId> r =
      registry.retire_ccer(kDeveloper, Qty{40}, "Acme Steel", "offsetting 2024 emissions", 2, 7);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(registry.retirements().size(), 1u);
  const Retirement& retirement = registry.retirements()[0];
  EXPECT_EQ(retirement.id, r.value);
  EXPECT_EQ(retirement.beneficiary, "Acme Steel");
  EXPECT_EQ(retirement.purpose, "offsetting 2024 emissions");
  EXPECT_EQ(retirement.blocks, (std::vector<CcerBlock>{{1, 40, wind_project, 2023}}));
  EXPECT_EQ(retirement.retired_at, 7);
  EXPECT_EQ(held(kDeveloper).available, Qty{60});
  EXPECT_EQ(registry.holding(kCancellationAccount, kCcerInstrument).available, Qty{40});
  const auto entries = registry.take_new_entries();
  EXPECT_EQ(entries.back().kind, TransferKind::retirement);
  EXPECT_EQ(entries.back().to_account, kCancellationAccount);
  EXPECT_EQ(entries.back().entry_id, retirement.ledger_entry_id);
  EXPECT_TRUE(registry.check_ccer_blocks().is_ok());
  EXPECT_EQ(registry.net_total(kCcerInstrument), Qty{0});
}

TEST_F(CcerTest, RetirementRejections) {
  ASSERT_TRUE(registry.issue_ccer(wind_project, 2023, Qty{10}, 1, 0, "").is_ok());
  EXPECT_EQ(registry.retire_ccer(kDeveloper, Qty{0}, "b", "p", 2, 0).status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.retire_ccer(kDeveloper, Qty{1}, "", "p", 2, 0).status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.retire_ccer(kDeveloper, Qty{1}, "b", "", 2, 0).status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.retire_ccer(999, Qty{1}, "b", "p", 2, 0).status.code(), ErrorCode::not_found);
  EXPECT_EQ(registry.retire_ccer(kReserveAccount, Qty{1}, "b", "p", 2, 0).status.code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.retire_ccer(kDeveloper, Qty{11}, "b", "p", 2, 0).status.code(), ErrorCode::failed_precondition);
  ASSERT_TRUE(registry.freeze({kDeveloper, kCcerInstrument, Qty{10}, FreezeAuthority::regulator, "MEE", "fraud"}, 2, 0)
                  .is_ok());
  const Result<RetirementId> frozen = registry.retire_ccer(kDeveloper, Qty{1}, "b", "p", 3, 0);
  EXPECT_EQ(frozen.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(frozen.status.message().find("frozen"), std::string::npos);
  EXPECT_TRUE(registry.retirements().empty());
}

TEST_F(CcerTest, ProjectRegistrationRejections) {
  EXPECT_EQ(registry.register_project("", kDeveloper, "CCER-14-001-V01", "CQC").status.code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(registry.register_project("P-WIND", kDeveloper, "CCER-14-001-V01", "CQC").status.code(),
            ErrorCode::already_exists);
  EXPECT_EQ(registry.register_project("P-2", 999, "CCER-14-001-V01", "CQC").status.code(), ErrorCode::not_found);
  EXPECT_EQ(registry.register_project("P-2", kDeveloper, "NO-SUCH", "CQC").status.code(), ErrorCode::not_found);
  const Result<ProjectId> unaccredited = registry.register_project("P-2", kDeveloper, "CCER-14-001-V01", "Nobody");
  EXPECT_EQ(unaccredited.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(unaccredited.status.message().find("not accredited"), std::string::npos);
  EXPECT_EQ(registry.register_methodology({"", ""}).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.register_methodology({"CCER-14-001-V01", "again"}).code(), ErrorCode::already_exists);
  EXPECT_EQ(registry.accredit_validation_body("").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.accredit_validation_body("CQC").code(), ErrorCode::already_exists);
  EXPECT_EQ(registry.projects().size(), 2u);
  ASSERT_NE(registry.project(wind_project), nullptr);
  EXPECT_EQ(registry.project(wind_project)->validation_body, "CQC");
  EXPECT_EQ(registry.project(99), nullptr);
}

TEST_F(CcerTest, OnlyRegisteredProjectsAreIssuedCredits) {
  EXPECT_EQ(registry.issue_ccer(99, 2023, Qty{1}, 1, 0, "").status.code(), ErrorCode::not_found);
  EXPECT_EQ(registry.issue_ccer(wind_project, 2023, Qty{0}, 1, 0, "").status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.issue_ccer(wind_project, 23, Qty{1}, 1, 0, "").status.code(), ErrorCode::invalid_argument);
  ASSERT_TRUE(registry.set_project_status(wind_project, ProjectStatus::suspended).is_ok());
  const Result<CcerBlock> suspended = registry.issue_ccer(wind_project, 2023, Qty{1}, 1, 0, "");
  EXPECT_EQ(suspended.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(suspended.status.message().find("suspended"), std::string::npos);
  ASSERT_TRUE(registry.set_project_status(wind_project, ProjectStatus::registered).is_ok());
  EXPECT_TRUE(registry.issue_ccer(wind_project, 2023, Qty{1}, 1, 0, "").is_ok());
  ASSERT_TRUE(registry.set_project_status(wind_project, ProjectStatus::closed).is_ok());
  EXPECT_EQ(registry.set_project_status(wind_project, ProjectStatus::registered).code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.set_project_status(99, ProjectStatus::closed).code(), ErrorCode::not_found);
  EXPECT_EQ(registry.issue_ccer(wind_project, 2023, Qty{1}, 1, 0, "").status.code(), ErrorCode::failed_precondition);
}

TEST_F(CcerTest, EnforcedPledgeMovesSerialsToThePledgee) {
  ASSERT_TRUE(registry.issue_ccer(wind_project, 2023, Qty{10}, 1, 0, "").is_ok());
  const Result<PledgeId> p = registry.pledge(kDeveloper, kCcerInstrument, Qty{4}, kOther, "loan", 2, 0);
  ASSERT_TRUE(p.is_ok());
  ASSERT_TRUE(registry.enforce_pledge(p.value, 3, 0).is_ok());
  EXPECT_EQ(registry.ccer_blocks_of(kOther), (std::vector<CcerBlock>{{1, 4, wind_project, 2023}}));
  EXPECT_TRUE(registry.check_ccer_blocks().is_ok());
}

TEST_F(CcerTest, RestoredBlocksAreCheckedAgainstTheHoldings) {
  Registry restored;
  restored.open_account(kDeveloper);
  restored.restore_holding({kDeveloper, kCcerInstrument, Holding{Qty{10}, {}, {}, {}, {}}});
  restored.restore_holding({kIssuanceAccount, kCcerInstrument, Holding{Qty{-10}, {}, {}, {}, {}}});
  restored.restore_ccer_blocks(kDeveloper, {{1, 10, 1, 2023}});
  EXPECT_TRUE(restored.check_ccer_blocks().is_ok());
  restored.restore_ccer_blocks(kDeveloper, {{1, 9, 1, 2023}});
  EXPECT_EQ(restored.check_ccer_blocks().code(), ErrorCode::internal);
}

}  // namespace
}  // namespace carbon::registry
