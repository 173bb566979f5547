#include <gtest/gtest.h>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kOwner = 100;
constexpr AccountId kOther = 101;
constexpr AccountId kBank = 102;
const std::string kCea = "CEA2024";

class HoldingStatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (AccountId a : {kOwner, kOther, kBank}) registry.open_account(a);
    ASSERT_TRUE(registry.issue(kCea, kOwner, Qty{1'000}, 1, 0, "alloc").is_ok());
    registry.take_new_entries();
  }
  FreezeOrder freeze_order(std::int64_t qty, FreezeAuthority authority = FreezeAuthority::regulator) {
    return FreezeOrder{kOwner, kCea, Qty{qty}, authority, "MEE enforcement", "misreported emissions"};
  }
  Holding held(AccountId a) const { return registry.holding(a, kCea); }
  Registry registry;
};

// ---- freeze ------------------------------------------------------------------

TEST_F(HoldingStatesTest, FreezeMovesAvailableToFrozenAndRecordsWhoAndWhy) {
  const Result<FreezeId> frozen = registry.freeze(freeze_order(300), 2, 5);
  ASSERT_TRUE(frozen.is_ok());
  EXPECT_EQ(held(kOwner), (Holding{Qty{700}, Qty{0}, Qty{0}, Qty{300}, Qty{0}}));
  const auto freezes = registry.freezes_of(kOwner);
  ASSERT_EQ(freezes.size(), 1u);
  EXPECT_EQ(freezes[0].id, frozen.value);
  EXPECT_EQ(freezes[0].ordered_by, "MEE enforcement");
  EXPECT_EQ(freezes[0].reason, "misreported emissions");
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, TransferKind::freeze);
  EXPECT_EQ(entries[0].from_account, kOwner);
  EXPECT_EQ(entries[0].to_account, kOwner);
  EXPECT_NE(entries[0].reference.find("misreported emissions"), std::string::npos);
  EXPECT_EQ(registry.net_total(kCea), Qty{0});
}

TEST_F(HoldingStatesTest, FrozenUnitsCannotBeSold) {
  ASSERT_TRUE(registry.freeze(freeze_order(1'000), 2, 0).is_ok());
  const Status s = registry.reserve_for_sell(kOwner, kCea, Qty{1});
  EXPECT_EQ(s.code(), ErrorCode::failed_precondition);
  EXPECT_NE(s.message().find("insufficient units"), std::string::npos);
  EXPECT_NE(s.message().find("1000 t frozen"), std::string::npos);
}

TEST_F(HoldingStatesTest, FrozenUnitsCannotBeTransferred) {
  ASSERT_TRUE(registry.freeze(freeze_order(1'000), 2, 0).is_ok());
  const Status s = registry.transfer(kCea, kOwner, kOther, Qty{1}, 3, 0, "gift");
  EXPECT_EQ(s.code(), ErrorCode::failed_precondition);
  EXPECT_NE(s.message().find("frozen"), std::string::npos);
  EXPECT_EQ(held(kOther).available, Qty{0});
}

TEST_F(HoldingStatesTest, FrozenUnitsCannotBePledged) {
  ASSERT_TRUE(registry.freeze(freeze_order(1'000), 2, 0).is_ok());
  const Result<PledgeId> p = registry.pledge(kOwner, kCea, Qty{1}, kBank, "loan", 3, 0);
  EXPECT_EQ(p.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(p.status.message().find("frozen"), std::string::npos);
}

TEST_F(HoldingStatesTest, FrozenUnitsCannotBeSurrendered) {
  ASSERT_TRUE(registry.record_verified_emissions(2024, kOwner, Qty{500}).is_ok());
  ASSERT_TRUE(registry.freeze(freeze_order(1'000), 2, 0).is_ok());
  const Status s = registry.surrender(2024, kOwner, kCea, Qty{1}, 3, 0);
  EXPECT_EQ(s.code(), ErrorCode::failed_precondition);
  EXPECT_NE(s.message().find("frozen"), std::string::npos);
  EXPECT_EQ(registry.compliance_status(2024, kOwner).value.surrendered_allowances, Qty{0});
}

TEST_F(HoldingStatesTest, UnfreezeReturnsTheUnitsToAvailable) {
  const Result<FreezeId> frozen = registry.freeze(freeze_order(300), 2, 0);
  ASSERT_TRUE(frozen.is_ok());
  ASSERT_TRUE(registry.unfreeze(frozen.value, FreezeAuthority::regulator, "MEE", 3, 0).is_ok());
  EXPECT_EQ(held(kOwner), (Holding{Qty{1'000}, Qty{0}, Qty{0}, Qty{0}, Qty{0}}));
  EXPECT_TRUE(registry.freezes_of(kOwner).empty());
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].kind, TransferKind::unfreeze);
}

TEST_F(HoldingStatesTest, ARegulatorsFreezeIsNotLiftedByACourt) {
  const Result<FreezeId> frozen = registry.freeze(freeze_order(300, FreezeAuthority::regulator), 2, 0);
  ASSERT_TRUE(frozen.is_ok());
  const Status s = registry.unfreeze(frozen.value, FreezeAuthority::court, "Wuhan court", 3, 0);
  EXPECT_EQ(s.code(), ErrorCode::permission_denied);
  EXPECT_NE(s.message().find("only a regulator"), std::string::npos) << s.message();
  EXPECT_EQ(held(kOwner).frozen, Qty{300});
  EXPECT_TRUE(registry.unfreeze(frozen.value, FreezeAuthority::regulator, "MEE", 4, 0).is_ok());
}

TEST_F(HoldingStatesTest, ARegulatorLiftsACourtsFreezeAndTheEntryNamesTheRegulator) {
  const Result<FreezeId> frozen = registry.freeze(freeze_order(300, FreezeAuthority::court), 2, 0);
  ASSERT_TRUE(frozen.is_ok());
  ASSERT_TRUE(registry.unfreeze_part(frozen.value, Qty{100}, FreezeAuthority::court, "Wuhan court", 3, 0).is_ok());
  ASSERT_TRUE(registry.unfreeze(frozen.value, FreezeAuthority::regulator, "MEE", 4, 0).is_ok());
  EXPECT_EQ(held(kOwner).frozen, Qty{0});
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 3u);
  const std::string id = std::to_string(frozen.value);
  EXPECT_EQ(entries[1].reference, "freeze:" + id + ":court:Wuhan court:lifted_part");
  EXPECT_EQ(entries[2].reference, "freeze:" + id + ":regulator:MEE:lifted");
}

TEST_F(HoldingStatesTest, FreezeRejections) {
  EXPECT_EQ(registry.freeze(freeze_order(0), 2, 0).status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.freeze(freeze_order(1'001), 2, 0).status.code(), ErrorCode::failed_precondition);
  FreezeOrder no_reason = freeze_order(1);
  no_reason.reason.clear();
  EXPECT_EQ(registry.freeze(no_reason, 2, 0).status.code(), ErrorCode::invalid_argument);
  FreezeOrder nobody = freeze_order(1);
  nobody.ordered_by.clear();
  EXPECT_EQ(registry.freeze(nobody, 2, 0).status.code(), ErrorCode::invalid_argument);
  FreezeOrder unknown = freeze_order(1);
  unknown.account = 999;
  EXPECT_EQ(registry.freeze(unknown, 2, 0).status.code(), ErrorCode::not_found);
  EXPECT_EQ(registry.unfreeze(42, FreezeAuthority::regulator, "MEE", 2, 0).code(), ErrorCode::not_found);
  const Result<FreezeId> frozen = registry.freeze(freeze_order(1), 2, 0);
  ASSERT_TRUE(frozen.is_ok());
  EXPECT_EQ(registry.unfreeze(frozen.value, FreezeAuthority::regulator, "", 3, 0).code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(held(kOwner).available, Qty{999});
}

// ---- pledge ------------------------------------------------------------------

TEST_F(HoldingStatesTest, PledgeLocksUnitsForThePledgeeAndReleaseReturnsThem) {
  const Result<PledgeId> p = registry.pledge(kOwner, kCea, Qty{400}, kBank, "loan 7", 2, 0);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(held(kOwner), (Holding{Qty{600}, Qty{0}, Qty{0}, Qty{0}, Qty{400}}));
  ASSERT_EQ(registry.pledges_of(kBank).size(), 1u);
  EXPECT_EQ(registry.pledges_of(kBank)[0].pledgee, kBank);
  EXPECT_EQ(registry.reserve_for_sell(kOwner, kCea, Qty{601}).code(), ErrorCode::failed_precondition);

  ASSERT_TRUE(registry.release_pledge(p.value, Qty{100}, 3, 0).is_ok());
  EXPECT_EQ(held(kOwner).pledged, Qty{300});
  EXPECT_EQ(registry.release_pledge(p.value, Qty{301}, 4, 0).code(), ErrorCode::failed_precondition);
  ASSERT_TRUE(registry.release_pledge(p.value, Qty{300}, 4, 0).is_ok());
  EXPECT_EQ(held(kOwner), (Holding{Qty{1'000}, Qty{0}, Qty{0}, Qty{0}, Qty{0}}));
  EXPECT_TRUE(registry.pledges_of(kOwner).empty());
  EXPECT_EQ(registry.release_pledge(p.value, Qty{1}, 5, 0).code(), ErrorCode::not_found);
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].kind, TransferKind::pledge);
  EXPECT_EQ(entries[1].kind, TransferKind::pledge_release);
  EXPECT_EQ(registry.net_total(kCea), Qty{0});
}

TEST_F(HoldingStatesTest, EnforcingAPledgeTransfersTheUnitsToThePledgee) {
  const Result<PledgeId> p = registry.pledge(kOwner, kCea, Qty{400}, kBank, "loan 7", 2, 0);
  ASSERT_TRUE(p.is_ok());
  ASSERT_TRUE(registry.enforce_pledge(p.value, 3, 0).is_ok());
  EXPECT_EQ(held(kOwner), (Holding{Qty{600}, Qty{0}, Qty{0}, Qty{0}, Qty{0}}));
  EXPECT_EQ(held(kBank).available, Qty{400});
  EXPECT_EQ(registry.enforce_pledge(p.value, 4, 0).code(), ErrorCode::not_found);
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].kind, TransferKind::pledge_enforcement);
  EXPECT_EQ(entries[1].from_account, kOwner);
  EXPECT_EQ(entries[1].to_account, kBank);
  EXPECT_EQ(registry.net_total(kCea), Qty{0});
}

TEST_F(HoldingStatesTest, PledgeRejections) {
  EXPECT_EQ(registry.pledge(kOwner, kCea, Qty{0}, kBank, "", 2, 0).status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.pledge(kOwner, kCea, Qty{1}, kOwner, "", 2, 0).status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.pledge(kOwner, kCea, Qty{1}, 999, "", 2, 0).status.code(), ErrorCode::not_found);
  EXPECT_EQ(registry.pledge(999, kCea, Qty{1}, kBank, "", 2, 0).status.code(), ErrorCode::not_found);
  EXPECT_EQ(registry.pledge(kOwner, kCea, Qty{1}, kSurrenderAccount, "", 2, 0).status.code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.pledge(kOwner, kCea, Qty{1'001}, kBank, "", 2, 0).status.code(), ErrorCode::failed_precondition);
  const Result<PledgeId> p = registry.pledge(kOwner, kCea, Qty{1}, kBank, "", 2, 0);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(registry.release_pledge(p.value, Qty{0}, 3, 0).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.enforce_pledge(p.value + 1, 3, 0).code(), ErrorCode::not_found);
}

// ---- pending (T+1) -------------------------------------------------------------

TEST_F(HoldingStatesTest, ReleasePendingMakesBoughtUnitsSellableForOneAccount) {
  ASSERT_TRUE(registry.reserve_for_sell(kOwner, kCea, Qty{300}).is_ok());
  registry.deliver(kCea, kOwner, kOther, Qty{300}, 2, 0, "trade:1");
  EXPECT_EQ(registry.reserve_for_sell(kOther, kCea, Qty{1}).code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(registry.release_pending(kOwner).empty());
  const auto changed = registry.release_pending(kOther);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].holding, (Holding{Qty{300}, Qty{0}, Qty{0}, Qty{0}, Qty{0}}));
  EXPECT_TRUE(registry.reserve_for_sell(kOther, kCea, Qty{300}).is_ok());
  EXPECT_EQ(registry.net_total(kCea), Qty{0});
}

TEST_F(HoldingStatesTest, ReleaseAllPendingReleasesEveryAccount) {
  ASSERT_TRUE(registry.reserve_for_sell(kOwner, kCea, Qty{300}).is_ok());
  registry.deliver(kCea, kOwner, kOther, Qty{100}, 2, 0, "trade:1");
  registry.deliver(kCea, kOwner, kBank, Qty{200}, 3, 0, "trade:2");
  const auto changed = registry.release_all_pending();
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].account, kOther);
  EXPECT_EQ(changed[1].account, kBank);
  EXPECT_EQ(held(kBank).available, Qty{200});
  EXPECT_EQ(held(kBank).pending, Qty{0});
  EXPECT_TRUE(registry.release_all_pending().empty());
}

// ---- transfer and correction ------------------------------------------------------

TEST_F(HoldingStatesTest, TransferMovesAvailableUnitsWithAnEntry) {
  ASSERT_TRUE(registry.transfer(kCea, kOwner, kOther, Qty{250}, 2, 0, "otc:1").is_ok());
  EXPECT_EQ(held(kOwner).available, Qty{750});
  EXPECT_EQ(held(kOther).available, Qty{250});
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, TransferKind::transfer);
  EXPECT_EQ(entries[0].reference, "otc:1");
}

TEST_F(HoldingStatesTest, TransferRejections) {
  EXPECT_EQ(registry.transfer(kCea, kOwner, kOther, Qty{0}, 2, 0, "").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.transfer(kCea, kOwner, kOwner, Qty{1}, 2, 0, "").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.transfer(kCea, 999, kOther, Qty{1}, 2, 0, "").code(), ErrorCode::not_found);
  EXPECT_EQ(registry.transfer(kCea, kOwner, 999, Qty{1}, 2, 0, "").code(), ErrorCode::not_found);
  EXPECT_EQ(registry.transfer(kCea, kOwner, kSurrenderAccount, Qty{1}, 2, 0, "").code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.transfer(kCea, kIssuanceAccount, kOther, Qty{1}, 2, 0, "").code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.transfer(kCea, kOwner, kOther, Qty{1'001}, 2, 0, "").code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(registry.take_new_entries().empty());
}

TEST_F(HoldingStatesTest, ACorrectionIsANewEntryThatTakesUnitsBack) {
  const std::uint64_t wrong = registry.ledger().last_entry_id();
  ASSERT_TRUE(registry.correct(kCea, kOwner, kIssuanceAccount, Qty{100}, wrong, "issued 100 t too many", 2, 0)
                  .is_ok());
  EXPECT_EQ(held(kOwner).available, Qty{900});
  EXPECT_EQ(registry.holding(kIssuanceAccount, kCea).available, Qty{-900});
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, TransferKind::correction);
  EXPECT_EQ(entries[0].reference, "corrects:1:issued 100 t too many");
  EXPECT_EQ(registry.net_total(kCea), Qty{0});
}

TEST_F(HoldingStatesTest, CorrectionRejections) {
  EXPECT_EQ(registry.correct(kCea, kOwner, kIssuanceAccount, Qty{1}, 99, "x", 2, 0).code(), ErrorCode::not_found);
  EXPECT_EQ(registry.correct(kCea, kOwner, kIssuanceAccount, Qty{1}, 1, "", 2, 0).code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(registry.correct(kCea, kOwner, kIssuanceAccount, Qty{0}, 1, "x", 2, 0).code(),
            ErrorCode::invalid_argument);
  EXPECT_EQ(registry.correct(kCea, kOwner, kOwner, Qty{1}, 1, "x", 2, 0).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(registry.correct(kCea, kOwner, 999, Qty{1}, 1, "x", 2, 0).code(), ErrorCode::not_found);
  EXPECT_EQ(registry.correct(kCea, kOwner, kIssuanceAccount, Qty{1'001}, 1, "x", 2, 0).code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.correct(kCcerInstrument, kOwner, kOther, Qty{1}, 1, "x", 2, 0).code(),
            ErrorCode::failed_precondition);
}

TEST_F(HoldingStatesTest, IssuingCcerWithoutSerialsIsRefused) {
  const Status s = registry.issue(kCcerInstrument, kOwner, Qty{1}, 2, 0, "");
  EXPECT_EQ(s.code(), ErrorCode::failed_precondition);
  EXPECT_NE(s.message().find("serial-numbered blocks"), std::string::npos);
}

// ---- partial unfreeze and partial enforcement -------------------------------------

TEST_F(HoldingStatesTest, APartialUnfreezeLeavesTheRestFrozenWithItsReason) {
  const Result<FreezeId> frozen = registry.freeze(freeze_order(300), 2, 0);
  ASSERT_TRUE(frozen.is_ok());
  ASSERT_TRUE(registry.unfreeze_part(frozen.value, Qty{100}, FreezeAuthority::regulator, "MEE", 3, 0).is_ok());
  EXPECT_EQ(held(kOwner), (Holding{Qty{800}, Qty{0}, Qty{0}, Qty{200}, Qty{0}}));
  ASSERT_EQ(registry.freezes_of(kOwner).size(), 1u);
  EXPECT_EQ(registry.freezes_of(kOwner)[0].quantity, Qty{200});
  EXPECT_EQ(registry.freezes_of(kOwner)[0].reason, "misreported emissions");
  EXPECT_EQ(registry.unfreeze_part(frozen.value, Qty{201}, FreezeAuthority::regulator, "MEE", 4, 0).code(),
            ErrorCode::failed_precondition);
  EXPECT_EQ(registry.unfreeze_part(frozen.value, Qty{-1}, FreezeAuthority::regulator, "MEE", 4, 0).code(),
            ErrorCode::invalid_argument);
  ASSERT_TRUE(registry.unfreeze_part(frozen.value, Qty{0}, FreezeAuthority::regulator, "MEE", 4, 0).is_ok());
  EXPECT_TRUE(registry.freezes_of(kOwner).empty());
  const auto entries = registry.take_new_entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].quantity, Qty{100});
  EXPECT_EQ(entries[2].quantity, Qty{200});
  EXPECT_EQ(registry.net_total(kCea), Qty{0});
}

TEST_F(HoldingStatesTest, APartialEnforcementMovesPartOfThePledgeToThePledgee) {
  const Result<PledgeId> pledged = registry.pledge(kOwner, kCea, Qty{400}, kBank, "loan", 2, 0);
  ASSERT_TRUE(pledged.is_ok());
  ASSERT_TRUE(registry.enforce_pledge_part(pledged.value, Qty{150}, 3, 0).is_ok());
  EXPECT_EQ(held(kOwner).pledged, Qty{250});
  EXPECT_EQ(held(kBank).available, Qty{150});
  EXPECT_EQ(registry.enforce_pledge_part(pledged.value, Qty{251}, 4, 0).code(), ErrorCode::failed_precondition);
  ASSERT_TRUE(registry.enforce_pledge_part(pledged.value, Qty{0}, 4, 0).is_ok());
  EXPECT_TRUE(registry.pledges_of(kOwner).empty());
  EXPECT_EQ(held(kBank).available, Qty{400});
  EXPECT_EQ(registry.net_total(kCea), Qty{0});
}

}  // namespace
}  // namespace carbon::registry
