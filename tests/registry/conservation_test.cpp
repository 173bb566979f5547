// Seeded random sequences of every registry operation. After each step: for
// each instrument the balances sum to zero, no participant state is
// negative, CCER serials cover every CCER holding, and a refused operation
// wrote nothing. At the end: the chain verifies and replaying its entries
// gives every account's holding.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <vector>

#include "registry/registry.h"

namespace carbon::registry {
namespace {

constexpr AccountId kFirst = 100;
constexpr int kParticipants = 6;
const std::vector<std::string> kInstruments{"CEA2023", "CEA2024", kCcerInstrument};

class RandomRegistryRun {
 public:
  explicit RandomRegistryRun(std::uint64_t seed) : random_(seed) {
    for (int i = 0; i < kParticipants; ++i) registry_.open_account(kFirst + static_cast<AccountId>(i));
    EXPECT_TRUE(registry_.register_methodology({"M1", "wind"}).is_ok());
    EXPECT_TRUE(registry_.accredit_validation_body("CQC").is_ok());
    for (int i = 0; i < 3; ++i) {
      const Result<ProjectId> p = registry_.register_project("P" + std::to_string(i), participant(), "M1", "CQC");
      EXPECT_TRUE(p.is_ok());
      projects_.push_back(p.value);
    }
    EXPECT_TRUE(registry_.set_cap(2024, "power", Qty{1'000'000'000}).is_ok());
    for (int i = 0; i < kParticipants; ++i) {
      EXPECT_TRUE(registry_.record_verified_emissions(2024, kFirst + static_cast<AccountId>(i), Qty{1'000'000'000})
                      .is_ok());
    }
  }

  /// Applies one random operation and checks the invariants (a gtest failure if one broke).
  void step(int n) {
    const std::uint64_t entries_before = registry_.ledger().last_entry_id();
    const Sequence seq = static_cast<Sequence>(n) + 1;
    const std::string& instrument = kInstruments[pick(kInstruments.size())];
    const AccountId a = participant();
    AccountId b = participant();
    const Qty q{1 + static_cast<std::int64_t>(pick(200))};
    bool wrote_on_success = true;  // whether a successful call must append an entry
    Status status;
    const std::size_t operation = pick(16);
    switch (operation) {
      case 0:
        status = instrument == kCcerInstrument ? Status::ok() : registry_.issue(instrument, a, q, seq, 0, "");
        wrote_on_success = instrument != kCcerInstrument;
        break;
      case 1: status = registry_.issue_ccer(projects_[pick(projects_.size())], 2023, q, seq, 0, "").status; break;
      case 2:
        status = registry_.reserve_for_sell(a, instrument, q);
        wrote_on_success = false;
        if (status.is_ok()) ++succeeded_[2];
        break;
      case 3: {
        const Qty reserved = registry_.holding(a, instrument).reserved;
        wrote_on_success = false;
        if (reserved.is_positive()) {
          registry_.release_sell_reservation(a, instrument, min(q, reserved));
          ++succeeded_[3];
        }
        break;
      }
      case 4: {
        const Qty reserved = registry_.holding(a, instrument).reserved;
        wrote_on_success = reserved.is_positive();
        if (reserved.is_positive()) registry_.deliver(instrument, a, b, min(q, reserved), seq, 0, "trade");
        break;
      }
      case 5: status = registry_.transfer(instrument, a, b, q, seq, 0, "otc"); break;
      case 6: {
        const auto authority = pick(2) == 0 ? FreezeAuthority::regulator : FreezeAuthority::court;
        const Result<FreezeId> r = registry_.freeze({a, instrument, q, authority, "who", "why"}, seq, 0);
        status = r.status;
        if (r.is_ok()) freezes_.emplace_back(r.value, authority);
        break;
      }
      case 7: {
        if (freezes_.empty()) {
          wrote_on_success = false;
          break;
        }
        const std::size_t i = pick(freezes_.size());
        const auto authority = pick(4) == 0 ? FreezeAuthority::court : freezes_[i].second;
        status = registry_.unfreeze(freezes_[i].first, authority, "who", seq, 0);
        if (status.is_ok()) freezes_.erase(freezes_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
      case 8: {
        const Result<PledgeId> r = registry_.pledge(a, instrument, q, b, "loan", seq, 0);
        status = r.status;
        if (r.is_ok()) pledges_.emplace_back(r.value, q);
        break;
      }
      case 9: {
        if (pledges_.empty()) {
          wrote_on_success = false;
          break;
        }
        const std::size_t i = pick(pledges_.size());
        status = registry_.release_pledge(pledges_[i].first, q, seq, 0);
        if (status.is_ok()) {
          pledges_[i].second -= q;
          if (pledges_[i].second.is_zero()) pledges_.erase(pledges_.begin() + static_cast<std::ptrdiff_t>(i));
        }
        break;
      }
      case 10: {
        if (pledges_.empty()) {
          wrote_on_success = false;
          break;
        }
        const std::size_t i = pick(pledges_.size());
        status = registry_.enforce_pledge(pledges_[i].first, seq, 0);
        if (status.is_ok()) pledges_.erase(pledges_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
      case 11:
        wrote_on_success = false;
        ++succeeded_[11];
        if (pick(2) == 0) {
          (void)registry_.release_pending(a);
        } else {
          (void)registry_.release_all_pending();
        }
        break;
      case 12: status = registry_.surrender(2024, a, instrument, q, seq, 0); break;
      case 13: status = registry_.retire_ccer(a, q, "beneficiary", "voluntary", seq, 0).status; break;
      case 14:
        status = registry_.correct(instrument, a, pick(3) == 0 ? kIssuanceAccount : b, q, 1, "fix", seq, 0);
        break;
      case 15:
        status = registry_.allocate_free(2024, "power", "CEA2024", a, q, seq, 0).status;
        break;
    }
    const std::uint64_t entries_after = registry_.ledger().last_entry_id();
    if (status.is_ok() && (wrote_on_success || entries_after > entries_before)) ++succeeded_[operation];
    if (!status.is_ok()) {
      ASSERT_EQ(entries_after, entries_before) << "step " << n << ": a refused call wrote an entry: " << status.message();
    } else if (wrote_on_success) {
      ASSERT_EQ(entries_after, entries_before + 1) << "step " << n;
    }
    check_invariants(n);
    for (LedgerEntry& entry : registry_.take_new_entries()) entries_.push_back(std::move(entry));
  }

  void check_invariants(int n) const {
    for (const std::string& instrument : kInstruments) {
      ASSERT_EQ(registry_.net_total(instrument), Qty{0}) << "step " << n << " " << instrument;
      for (int i = 0; i < kParticipants; ++i) {
        const Holding h = registry_.holding(kFirst + static_cast<AccountId>(i), instrument);
        ASSERT_FALSE(h.available.is_negative() || h.reserved.is_negative() || h.pending.is_negative() ||
                     h.frozen.is_negative() || h.pledged.is_negative())
            << "step " << n;
      }
    }
    const Status blocks = registry_.check_ccer_blocks();
    ASSERT_TRUE(blocks.is_ok()) << "step " << n << ": " << blocks.message();
  }

  void check_ledger() const {
    const ChainVerification verified = verify_chain(entries_, Hash{}, 1);
    ASSERT_TRUE(verified.ok()) << "entry " << verified.first_bad_entry_id;
    EXPECT_EQ(verified.entries_checked, entries_.size());
    // Replaying the chain's movements gives every account's total holding.
    std::map<std::pair<AccountId, std::string>, std::int64_t> replayed;
    for (const LedgerEntry& e : entries_) {
      if (e.from_account == e.to_account) continue;
      replayed[{e.from_account, e.instrument}] -= e.quantity.value;
      replayed[{e.to_account, e.instrument}] += e.quantity.value;
    }
    for (const auto& [key, total] : replayed) {
      EXPECT_EQ(registry_.holding(key.first, key.second).total().value, total)
          << "account " << key.first << " " << key.second;
    }
  }

  std::size_t entry_count() const { return entries_.size(); }
  /// How often each of the 16 operations succeeded and wrote (or, for 2, 3 and 11, ran).
  const std::array<int, 16>& succeeded() const { return succeeded_; }

 private:
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_); }
  AccountId participant() { return kFirst + static_cast<AccountId>(pick(kParticipants)); }

  std::mt19937_64 random_;
  Registry registry_;
  std::vector<ProjectId> projects_;
  std::vector<std::pair<FreezeId, FreezeAuthority>> freezes_;
  std::vector<std::pair<PledgeId, Qty>> pledges_;  // with the quantity still pledged
  std::vector<LedgerEntry> entries_;
  std::array<int, 16> succeeded_{};
};

class ConservationTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(ConservationTest, EveryBalanceSumIsZeroAfterEachOf100kRandomOperations) {
  RandomRegistryRun run(GetParam());
  for (int n = 0; n < 100'000; ++n) {
    run.step(n);
    if (::testing::Test::HasFatalFailure()) return;
  }
  run.check_ledger();
  EXPECT_GT(run.entry_count(), 30'000u);
  for (std::size_t operation = 0; operation < run.succeeded().size(); ++operation) {
    EXPECT_GT(run.succeeded()[operation], 100) << "operation " << operation << " rarely succeeds: the run tests little";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, ConservationTest, ::testing::Values(1u, 2u, 3u, 20261125u));

}  // namespace
}  // namespace carbon::registry
