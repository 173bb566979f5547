#include "registry/registry.h"

#include <algorithm>
#include <cassert>

namespace carbon::registry {

Registry::Registry() {
  for (AccountId system : {kIssuanceAccount, kReserveAccount, kAuctionAccount, kSurrenderAccount,
                           kCancellationAccount}) {
    accounts_[system];
  }
}

void Registry::open_account(AccountId account) {
  assert(!accounts_.contains(account));
  accounts_[account];
}

bool Registry::has_account(AccountId account) const { return accounts_.contains(account); }

Holding Registry::holding(AccountId account, const std::string& instrument) const {
  auto found = accounts_.find(account);
  if (found == accounts_.end()) return {};
  auto holding = found->second.find(instrument);
  return holding == found->second.end() ? Holding{} : holding->second;
}

std::vector<HoldingRecord> Registry::holdings_of(AccountId account) const {
  std::vector<HoldingRecord> out;
  auto found = accounts_.find(account);
  if (found == accounts_.end()) return out;
  for (const auto& [instrument, holding] : found->second) {
    if (holding != Holding{}) out.push_back(HoldingRecord{account, instrument, holding});
  }
  return out;
}

Holding& Registry::mutable_holding(AccountId account, const std::string& instrument) {
  return accounts_[account][instrument];
}

void Registry::append(LedgerEntry entry) { new_entries_.push_back(ledger_.append(std::move(entry))); }

Status Registry::issue(const std::string& instrument, AccountId to, Qty quantity, Sequence sequence, UnixNanos at,
                       const std::string& reference) {
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  if (!has_account(to)) return not_found("holding account " + std::to_string(to) + " does not exist");
  if (to == kIssuanceAccount || to == kSurrenderAccount || to == kCancellationAccount) {
    return failed_precondition("issuance goes to a participant, the reserve or the auction account");
  }
  Holding& issuance = mutable_holding(kIssuanceAccount, instrument);
  std::int64_t issued_after = 0;
  if (__builtin_sub_overflow(issuance.available.value, quantity.value, &issued_after)) {
    return failed_precondition("issuance: the total issued of " + instrument + " would exceed 2^63 - 1 t");
  }
  // Every holding is at most the total issued, so once that fits, so does the recipient's.
  issuance.available = Qty{issued_after};
  mutable_holding(to, instrument).available += quantity;
  append(LedgerEntry{0, sequence, at, instrument, kIssuanceAccount, to, quantity, TransferKind::issuance, reference,
                     {}, {}});
  return Status::ok();
}

Status Registry::reserve_for_sell(AccountId account, const std::string& instrument, Qty quantity) {
  if (!has_account(account)) return not_found("holding account " + std::to_string(account) + " does not exist");
  Holding& holding = mutable_holding(account, instrument);
  if (holding.available < quantity) {
    return failed_precondition("insufficient units: sell of " + std::to_string(quantity.value) + " t " + instrument +
                               " exceeds the " + std::to_string(holding.available.value) +
                               " t available (pre-trade check: sell <= tradable units)");
  }
  holding.available -= quantity;
  holding.reserved += quantity;
  return Status::ok();
}

void Registry::release_sell_reservation(AccountId account, const std::string& instrument, Qty quantity) {
  Holding& holding = mutable_holding(account, instrument);
  assert(holding.reserved >= quantity);
  holding.reserved -= quantity;
  holding.available += quantity;
}

void Registry::deliver(const std::string& instrument, AccountId seller, AccountId buyer, Qty quantity,
                       Sequence sequence, UnixNanos at, const std::string& reference) {
  Holding& from = mutable_holding(seller, instrument);
  assert(from.reserved >= quantity);
  from.reserved -= quantity;
  mutable_holding(buyer, instrument).pending += quantity;
  append(LedgerEntry{0, sequence, at, instrument, seller, buyer, quantity, TransferKind::trade, reference, {}, {}});
}

Qty Registry::net_total(const std::string& instrument) const {
  Qty total{0};
  for (const auto& [account, holdings] : accounts_) {
    auto found = holdings.find(instrument);
    if (found != holdings.end()) total += found->second.total();
  }
  return total;
}

void Registry::restore_holding(const HoldingRecord& record) {
  accounts_[record.account][record.instrument] = record.holding;
}

std::vector<std::pair<AccountId, std::string>> Registry::release_all_pending() {
  std::vector<std::pair<AccountId, std::string>> changed;
  for (auto& [account, holdings] : accounts_) {
    for (auto& [instrument, holding] : holdings) {
      if (holding.pending.is_zero()) continue;
      holding.available += holding.pending;
      holding.pending = Qty{0};
      changed.emplace_back(account, instrument);
    }
  }
  std::sort(changed.begin(), changed.end());
  return changed;
}

}  // namespace carbon::registry
