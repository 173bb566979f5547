#include <gtest/gtest.h>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kPlant = 100;
constexpr AccountId kBank = 101;
const std::vector<AccountId> kAccounts{kIssuanceAccount, kReserveAccount, kAuctionAccount, kSurrenderAccount,
                                       kCancellationAccount, kPlant, kBank};

// Copies everything a store would persist from one registry into a fresh one.
void restore_into(const Registry& from, Registry& to) {
  for (AccountId a : {kPlant, kBank}) to.open_account(a);
  for (AccountId a : kAccounts) {
    for (const HoldingRecord& h : from.holdings_of(a)) to.restore_holding(h);
    to.restore_ccer_blocks(a, from.ccer_blocks_of(a));
  }
  to.restore_ledger_tail(from.ledger().last_entry_id(), from.ledger().last_hash());
  for (const FreezeRecord& f : from.all_freezes()) to.restore_freeze(f);
  for (const PledgeRecord& p : from.all_pledges()) to.restore_pledge(p);
  to.restore_cap(2024, "power", from.cap_usage(2024, "power"));
  to.restore_cap(2025, "power", from.cap_usage(2025, "power"));
  for (const ComplianceStatus& s : from.compliance_statuses(2024)) to.restore_compliance(s);
  to.restore_shortfall_owed(kPlant, 2024, from.deduction_owed(kPlant));
  for (const auto& [code, m] : from.methodologies()) ASSERT_TRUE(to.register_methodology(m).is_ok());
  for (const CcerProject& p : from.projects()) to.restore_project(p);
  for (const Retirement& r : from.retirements()) to.restore_retirement(r);
}

TEST(RestoreTest, ARestoredRegistryCarriesOnWhereTheOriginalStopped) {
  Registry original;
  for (AccountId a : {kPlant, kBank}) original.open_account(a);
  ASSERT_TRUE(original.set_cap(2024, "power", Qty{1'000}).is_ok());
  ASSERT_TRUE(original.set_cap(2025, "power", Qty{1'000}).is_ok());
  ASSERT_TRUE(original.allocate_free(2024, "power", "CEA2024", kPlant, Qty{800}, 1, 0).is_ok());
  ASSERT_TRUE(original.record_verified_emissions(2024, kPlant, Qty{900}).is_ok());
  ASSERT_TRUE(original.surrender(2024, kPlant, "CEA2024", Qty{500}, 2, 0).is_ok());
  ASSERT_TRUE(original.close_compliance_year(2024).is_ok());  // 400 t short
  const Result<FreezeId> freeze =
      original.freeze({kPlant, "CEA2024", Qty{100}, FreezeAuthority::court, "court", "dispute"}, 3, 0);
  ASSERT_TRUE(freeze.is_ok());
  const Result<PledgeId> pledge = original.pledge(kPlant, "CEA2024", Qty{50}, kBank, "loan", 4, 0);
  ASSERT_TRUE(pledge.is_ok());
  ASSERT_TRUE(original.register_methodology({"M", "wind"}).is_ok());
  ASSERT_TRUE(original.accredit_validation_body("CQC").is_ok());
  const Result<ProjectId> project = original.register_project("P", kPlant, "M", "CQC");
  ASSERT_TRUE(project.is_ok());
  ASSERT_TRUE(original.issue_ccer(project.value, 2024, Qty{30}, 5, 0, "").is_ok());
  ASSERT_TRUE(original.retire_ccer(kPlant, Qty{10}, "Acme", "voluntary", 6, 0).is_ok());

  Registry restored;
  restore_into(original, restored);
  ASSERT_TRUE(restored.check_ccer_blocks().is_ok());

  // The same next steps give the same results and the same chain.
  for (Registry* r : {&original, &restored}) {
    (void)r->take_new_entries();
    ASSERT_TRUE(r->unfreeze_part(freeze.value, Qty{40}, FreezeAuthority::regulator, "MEE", 7, 0).is_ok());
    ASSERT_TRUE(r->unfreeze(freeze.value, FreezeAuthority::court, "court", 7, 0).is_ok());
    ASSERT_TRUE(r->release_pledge(pledge.value, Qty{50}, 8, 0).is_ok());
    const Result<CcerBlock> block = r->issue_ccer(project.value, 2024, Qty{5}, 9, 0, "");
    ASSERT_TRUE(block.is_ok());
    EXPECT_EQ(block.value.first_serial, 31u);
    const Result<AllocationOutcome> next = r->allocate_free(2025, "power", "CEA2025", kPlant, Qty{1'000}, 10, 0);
    ASSERT_TRUE(next.is_ok());
    EXPECT_EQ(next.value.deducted, Qty{400});
    EXPECT_EQ(r->surrender(2024, kPlant, "CEA2024", Qty{1}, 11, 0).code(), ErrorCode::failed_precondition);
    EXPECT_EQ(r->retirements().size(), 1u);
    EXPECT_EQ(r->register_project("P", kPlant, "M", "CQC").status.code(), ErrorCode::already_exists);
  }
  EXPECT_EQ(restored.ledger().last_hash(), original.ledger().last_hash());
  EXPECT_EQ(restored.holdings_of(kPlant).size(), original.holdings_of(kPlant).size());
  for (std::size_t i = 0; i < original.holdings_of(kPlant).size(); ++i) {
    EXPECT_EQ(restored.holdings_of(kPlant)[i].holding, original.holdings_of(kPlant)[i].holding);
  }
}

}  // namespace
}  // namespace carbon::registry
