#include "registry/registry.h"

#include <algorithm>
#include <cassert>

#include "registry/text.h"

namespace carbon::registry {
namespace {

bool is_ccer(const std::string& instrument) { return instrument == kCcerInstrument; }

// Accounts whose available units may be moved by a transfer: not the issuance, surrender or cancellation account.
bool is_holder_account(AccountId account) {
  return account != kIssuanceAccount && account != kSurrenderAccount && account != kCancellationAccount;
}

const char* authority_name(FreezeAuthority authority) {
  return authority == FreezeAuthority::court ? "court" : "regulator";
}

}  // namespace

Registry::Registry() : Registry(RegistryRules{}) {}

Registry::Registry(RegistryRules rules) : rules_(rules) {
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

void Registry::append_entry(const std::string& instrument, AccountId from, AccountId to, Qty quantity,
                            TransferKind kind, std::string reference, Sequence sequence, UnixNanos at) {
  append(LedgerEntry{0, sequence, at, instrument, from, to, quantity, kind, std::move(reference), {}, {}});
}

Status Registry::check_available(AccountId account, const std::string& instrument, Qty quantity,
                                 const char* action) const {
  const Holding current = holding(account, instrument);
  if (current.available >= quantity) return Status::ok();
  std::string message = std::string("insufficient units: ") + action + " of " + text::tonnes(quantity) + " " +
                        instrument + " exceeds the " + text::tonnes(current.available) + " available";
  // What else the account holds, and why it cannot move now: the refusal names the rule that holds it.
  std::string held;
  auto add = [&held](Qty qty, const char* why) {
    if (!qty.is_positive()) return;
    held += (held.empty() ? "" : ", ") + text::tonnes(qty) + " " + why;
  };
  add(current.reserved, "held by open sell orders");
  add(current.pending, "bought today, available from the next trading day (T+1)");
  add(current.frozen, "frozen");
  add(current.pledged, "pledged");
  if (!held.empty()) message += " (" + held + ": these cannot move)";
  return failed_precondition(std::move(message));
}

void Registry::move_serials(const std::string& instrument, AccountId from, AccountId to, Qty quantity,
                            std::vector<CcerBlock>* moved) {
  if (!is_ccer(instrument)) return;
  auto source = ccer_blocks_.find(from);
  if (source == ccer_blocks_.end()) return;  // units without serials (a holding restored without its blocks)
  move_blocks_fifo(source->second, ccer_blocks_[to], static_cast<std::uint64_t>(quantity.value), moved);
}

Status Registry::issue(const std::string& instrument, AccountId to, Qty quantity, Sequence sequence, UnixNanos at,
                       const std::string& reference) {
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  if (!has_account(to)) return not_found(text::account(to) + " does not exist");
  if (to == kIssuanceAccount || to == kSurrenderAccount || to == kCancellationAccount) {
    return failed_precondition("issuance goes to a participant, the reserve or the auction account");
  }
  if (is_ccer(instrument)) {
    return failed_precondition("CCER issuance: CCER is issued as serial-numbered blocks of a registered project");
  }
  Holding& issuance = mutable_holding(kIssuanceAccount, instrument);
  std::int64_t issued_after = 0;
  if (__builtin_sub_overflow(issuance.available.value, quantity.value, &issued_after)) {
    return failed_precondition("issuance: the total issued of " + instrument + " would exceed 2^63 - 1 t");
  }
  // Every holding is at most the total issued, so once that fits, so does the recipient's.
  issuance.available = Qty{issued_after};
  mutable_holding(to, instrument).available += quantity;
  append_entry(instrument, kIssuanceAccount, to, quantity, TransferKind::issuance, reference, sequence, at);
  return Status::ok();
}

Status Registry::reserve_for_sell(AccountId account, const std::string& instrument, Qty quantity) {
  if (!has_account(account)) return not_found(text::account(account) + " does not exist");
  if (Status s = check_available(account, instrument, quantity, "sell"); !s.is_ok()) {
    return failed_precondition(s.message() + " (pre-trade check: sell <= tradable units)");
  }
  Holding& holding = mutable_holding(account, instrument);
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
  move_serials(instrument, seller, buyer, quantity);
  append_entry(instrument, seller, buyer, quantity, TransferKind::trade, reference, sequence, at);
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

// ---- states and movements outside the order book ----------------------------

Status Registry::transfer(const std::string& instrument, AccountId from, AccountId to, Qty quantity,
                          Sequence sequence, UnixNanos at, const std::string& reference) {
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  if (from == to) return invalid_argument("transfer: from and to are the same account");
  if (!has_account(from)) return not_found(text::account(from) + " does not exist");
  if (!has_account(to)) return not_found(text::account(to) + " does not exist");
  if (!is_holder_account(from) || !is_holder_account(to)) {
    return failed_precondition(
        "transfer: units move between participants, the reserve and the auction account; issuance, surrender "
        "and retirement have their own operations");
  }
  if (Status s = check_available(from, instrument, quantity, "transfer"); !s.is_ok()) return s;
  mutable_holding(from, instrument).available -= quantity;
  mutable_holding(to, instrument).available += quantity;
  move_serials(instrument, from, to, quantity);
  append_entry(instrument, from, to, quantity, TransferKind::transfer, reference, sequence, at);
  return Status::ok();
}

Status Registry::correct(const std::string& instrument, AccountId from, AccountId to, Qty quantity,
                         std::uint64_t corrected_entry_id, const std::string& reason, Sequence sequence,
                         UnixNanos at) {
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  if (from == to) return invalid_argument("correction: from and to are the same account");
  if (reason.empty()) return invalid_argument("correction: a reason is required");
  if (corrected_entry_id == 0 || corrected_entry_id > ledger_.last_entry_id()) {
    return not_found("correction: ledger entry " + std::to_string(corrected_entry_id) + " does not exist");
  }
  if (!has_account(from)) return not_found(text::account(from) + " does not exist");
  if (!has_account(to)) return not_found(text::account(to) + " does not exist");
  if (is_ccer(instrument)) {
    return failed_precondition("correction: CCER serials are corrected by transfer or retirement, not by correction");
  }
  if (from != kIssuanceAccount) {
    if (Status s = check_available(from, instrument, quantity, "correction"); !s.is_ok()) return s;
  }
  mutable_holding(from, instrument).available -= quantity;
  mutable_holding(to, instrument).available += quantity;
  append_entry(instrument, from, to, quantity, TransferKind::correction,
               "corrects:" + std::to_string(corrected_entry_id) + ":" + reason, sequence, at);
  return Status::ok();
}

std::vector<HoldingRecord> Registry::release_pending(AccountId account) {
  std::vector<HoldingRecord> changed;
  auto found = accounts_.find(account);
  if (found == accounts_.end()) return changed;
  for (auto& [instrument, holding] : found->second) {
    if (holding.pending.is_zero()) continue;
    holding.available += holding.pending;
    holding.pending = Qty{0};
    changed.push_back(HoldingRecord{account, instrument, holding});
  }
  return changed;
}

std::vector<HoldingRecord> Registry::release_all_pending() {
  std::vector<AccountId> ids;
  ids.reserve(accounts_.size());
  for (const auto& [account, holdings] : accounts_) ids.push_back(account);
  std::sort(ids.begin(), ids.end());  // a deterministic order for the events
  std::vector<HoldingRecord> changed;
  for (AccountId account : ids) {
    std::vector<HoldingRecord> one = release_pending(account);
    changed.insert(changed.end(), one.begin(), one.end());
  }
  return changed;
}

Result<FreezeId> Registry::freeze(const FreezeOrder& order, Sequence sequence, UnixNanos at) {
  if (!order.quantity.is_positive()) return {invalid_argument("quantity must be positive")};
  if (order.reason.empty()) return {invalid_argument("freeze: a reason is required")};
  if (order.ordered_by.empty()) return {invalid_argument("freeze: who ordered it is required")};
  if (!has_account(order.account)) return {not_found(text::account(order.account) + " does not exist")};
  if (Status s = check_available(order.account, order.instrument, order.quantity, "freeze"); !s.is_ok()) {
    return {std::move(s)};
  }
  Holding& holding = mutable_holding(order.account, order.instrument);
  holding.available -= order.quantity;
  holding.frozen += order.quantity;
  const FreezeId id = next_freeze_id_++;
  freezes_.emplace(id, FreezeRecord{id, order.account, order.instrument, order.quantity, order.authority,
                                    order.ordered_by, order.reason, at});
  append_entry(order.instrument, order.account, order.account, order.quantity, TransferKind::freeze,
               "freeze:" + std::to_string(id) + ":" + authority_name(order.authority) + ":" + order.ordered_by + ":" +
                   order.reason,
               sequence, at);
  return {Status::ok(), id};
}

Status Registry::unfreeze(FreezeId freeze, FreezeAuthority authority, const std::string& ordered_by,
                          Sequence sequence, UnixNanos at) {
  return unfreeze_part(freeze, Qty{0}, authority, ordered_by, sequence, at);
}

Status Registry::unfreeze_part(FreezeId freeze, Qty quantity, FreezeAuthority authority,
                               const std::string& ordered_by, Sequence sequence, UnixNanos at) {
  auto found = freezes_.find(freeze);
  if (found == freezes_.end()) return not_found("freeze " + std::to_string(freeze) + " is not in force");
  if (ordered_by.empty()) return invalid_argument("unfreeze: who ordered it is required");
  if (quantity.value < 0) return invalid_argument("unfreeze: quantity must not be negative");
  FreezeRecord& record = found->second;
  if (record.authority == FreezeAuthority::regulator && authority != FreezeAuthority::regulator) {
    return permission_denied(std::string("unfreeze: freeze ") + std::to_string(freeze) +
                             " was ordered by a regulator and only a regulator lifts it");
  }
  if (quantity > record.quantity) {
    return failed_precondition("unfreeze: " + text::tonnes(quantity) + " is above the " +
                               text::tonnes(record.quantity) + " still frozen under freeze " + std::to_string(freeze));
  }
  const Qty lifted = quantity.is_zero() ? record.quantity : quantity;
  Holding& holding = mutable_holding(record.account, record.instrument);
  assert(holding.frozen >= lifted);
  holding.frozen -= lifted;
  holding.available += lifted;
  const AccountId account = record.account;
  const std::string instrument = record.instrument;
  record.quantity -= lifted;
  const bool whole = record.quantity.is_zero();
  if (whole) freezes_.erase(found);
  append_entry(instrument, account, account, lifted, TransferKind::unfreeze,
               "freeze:" + std::to_string(freeze) + ":" + authority_name(authority) + ":" + ordered_by +
                   (whole ? ":lifted" : ":lifted_part"),
               sequence, at);
  return Status::ok();
}

std::vector<FreezeRecord> Registry::freezes_of(AccountId account) const {
  std::vector<FreezeRecord> out;
  for (const auto& [id, record] : freezes_) {
    if (record.account == account) out.push_back(record);
  }
  return out;
}

Result<PledgeId> Registry::pledge(AccountId pledgor, const std::string& instrument, Qty quantity, AccountId pledgee,
                                  const std::string& reference, Sequence sequence, UnixNanos at) {
  if (!quantity.is_positive()) return {invalid_argument("quantity must be positive")};
  if (pledgor == pledgee) return {invalid_argument("pledge: the pledgee must differ from the pledgor")};
  if (!has_account(pledgor)) return {not_found(text::account(pledgor) + " does not exist")};
  if (!has_account(pledgee)) return {not_found("pledgee " + text::account(pledgee) + " does not exist")};
  if (!is_holder_account(pledgor) || !is_holder_account(pledgee)) {
    return {failed_precondition("pledge: pledgor and pledgee are participant accounts")};
  }
  if (Status s = check_available(pledgor, instrument, quantity, "pledge"); !s.is_ok()) return {std::move(s)};
  Holding& holding = mutable_holding(pledgor, instrument);
  holding.available -= quantity;
  holding.pledged += quantity;
  const PledgeId id = next_pledge_id_++;
  pledges_.emplace(id, PledgeRecord{id, pledgor, pledgee, instrument, quantity, reference, at});
  std::string entry_reference = "pledge:" + std::to_string(id) + ":pledgee=" + std::to_string(pledgee);
  if (!reference.empty()) entry_reference += ":" + reference;
  append_entry(instrument, pledgor, pledgor, quantity, TransferKind::pledge, std::move(entry_reference), sequence, at);
  return {Status::ok(), id};
}

Status Registry::release_pledge(PledgeId pledge, Qty quantity, Sequence sequence, UnixNanos at) {
  auto found = pledges_.find(pledge);
  if (found == pledges_.end()) return not_found("pledge " + std::to_string(pledge) + " is not in force");
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  PledgeRecord& record = found->second;
  if (quantity > record.quantity) {
    return failed_precondition("pledge release: " + text::tonnes(quantity) + " exceeds the " +
                               text::tonnes(record.quantity) + " still pledged under pledge " +
                               std::to_string(pledge));
  }
  Holding& holding = mutable_holding(record.pledgor, record.instrument);
  assert(holding.pledged >= quantity);
  holding.pledged -= quantity;
  holding.available += quantity;
  const AccountId pledgor = record.pledgor;
  const std::string instrument = record.instrument;
  std::string reference = "pledge:" + std::to_string(pledge) + ":pledgee=" + std::to_string(record.pledgee);
  record.quantity -= quantity;
  if (record.quantity.is_zero()) pledges_.erase(found);
  append_entry(instrument, pledgor, pledgor, quantity, TransferKind::pledge_release, std::move(reference), sequence,
               at);
  return Status::ok();
}

Status Registry::enforce_pledge(PledgeId pledge, Sequence sequence, UnixNanos at) {
  return enforce_pledge_part(pledge, Qty{0}, sequence, at);
}

Status Registry::enforce_pledge_part(PledgeId pledge, Qty quantity, Sequence sequence, UnixNanos at) {
  auto found = pledges_.find(pledge);
  if (found == pledges_.end()) return not_found("pledge " + std::to_string(pledge) + " is not in force");
  if (quantity.value < 0) return invalid_argument("pledge enforcement: quantity must not be negative");
  PledgeRecord& record = found->second;
  if (quantity > record.quantity) {
    return failed_precondition("pledge enforcement: " + text::tonnes(quantity) + " exceeds the " +
                               text::tonnes(record.quantity) + " still pledged under pledge " +
                               std::to_string(pledge));
  }
  const Qty moved = quantity.is_zero() ? record.quantity : quantity;
  const AccountId pledgor = record.pledgor;
  const AccountId pledgee = record.pledgee;
  const std::string instrument = record.instrument;
  record.quantity -= moved;
  if (record.quantity.is_zero()) pledges_.erase(found);
  Holding& from = mutable_holding(pledgor, instrument);
  assert(from.pledged >= moved);
  from.pledged -= moved;
  mutable_holding(pledgee, instrument).available += moved;
  move_serials(instrument, pledgor, pledgee, moved);
  append_entry(instrument, pledgor, pledgee, moved, TransferKind::pledge_enforcement,
               "pledge:" + std::to_string(pledge) + ":enforced", sequence, at);
  return Status::ok();
}

std::vector<PledgeRecord> Registry::pledges_of(AccountId account) const {
  std::vector<PledgeRecord> out;
  for (const auto& [id, record] : pledges_) {
    if (record.pledgor == account || record.pledgee == account) out.push_back(record);
  }
  return out;
}

// ---- repos ------------------------------------------------------------------------

Status Registry::repo_first_leg(const std::string& instrument, AccountId seller, AccountId buyer, Qty quantity,
                                std::uint64_t repo, Sequence sequence, UnixNanos at) {
  if (!quantity.is_positive()) return invalid_argument("repo: quantity must be positive");
  if (seller == buyer) return invalid_argument("repo: the seller and the buyer are the same account");
  if (!has_account(seller)) return not_found(text::account(seller) + " does not exist");
  if (!has_account(buyer)) return not_found(text::account(buyer) + " does not exist");
  if (seller < kFirstParticipantAccount || buyer < kFirstParticipantAccount) {
    return failed_precondition("repo: the seller and the buyer are participant accounts");
  }
  if (Status s = check_available(seller, instrument, quantity, "repo first leg"); !s.is_ok()) return s;
  mutable_holding(seller, instrument).available -= quantity;
  mutable_holding(buyer, instrument).reserved += quantity;
  move_serials(instrument, seller, buyer, quantity);
  append_entry(instrument, seller, buyer, quantity, TransferKind::repo_first_leg,
               "repo:" + std::to_string(repo) + ":first", sequence, at);
  return Status::ok();
}

void Registry::repo_second_leg(const std::string& instrument, AccountId buyer, AccountId seller, Qty quantity,
                               std::uint64_t repo, Sequence sequence, UnixNanos at) {
  Holding& from = mutable_holding(buyer, instrument);
  assert(from.reserved >= quantity);
  from.reserved -= quantity;
  mutable_holding(seller, instrument).available += quantity;
  move_serials(instrument, buyer, seller, quantity);
  append_entry(instrument, buyer, seller, quantity, TransferKind::repo_second_leg,
               "repo:" + std::to_string(repo) + ":second", sequence, at);
}

void Registry::repo_default(const std::string& instrument, AccountId buyer, Qty quantity, std::uint64_t repo,
                            Sequence sequence, UnixNanos at) {
  Holding& holding = mutable_holding(buyer, instrument);
  assert(holding.reserved >= quantity);
  holding.reserved -= quantity;
  holding.available += quantity;
  append_entry(instrument, buyer, buyer, quantity, TransferKind::repo_second_leg,
               "repo:" + std::to_string(repo) + ":defaulted", sequence, at);
}

}  // namespace carbon::registry
