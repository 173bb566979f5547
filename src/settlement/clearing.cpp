#include "settlement/clearing.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdlib>

namespace carbon::settlement {

std::string format_fen(Cash amount) {
  const std::int64_t fen = amount.value;
  const std::uint64_t magnitude = fen < 0 ? 0 - static_cast<std::uint64_t>(fen) : static_cast<std::uint64_t>(fen);
  std::string cents = std::to_string(magnitude % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (fen < 0 ? "-" : "") + std::to_string(magnitude / 100) + "." + cents + " CNY";
}

Cash trade_fee(Cash value, int bps) {
  assert(!value.is_negative() && bps >= 0 && bps <= 10'000);
  const __int128 scaled = static_cast<__int128>(value.value) * bps;
  return Cash{static_cast<std::int64_t>((scaled + 5'000) / 10'000)};
}

std::optional<Cash> buy_reservation(Price price, Qty quantity, int bps) {
  assert(bps >= 0 && bps <= 10'000);
  const __int128 per_tonne_fee = (static_cast<__int128>(price.value) * bps + 9'999) / 10'000;
  const __int128 total = (static_cast<__int128>(price.value) + per_tonne_fee) * quantity.value;
  if (total > INT64_MAX || total < 0) return std::nullopt;
  return Cash{static_cast<std::int64_t>(total)};
}

void Clearing::open_account(AccountId account) {
  assert(!accounts_.contains(account));
  accounts_[account];
}

CashAccount Clearing::account(AccountId account) const {
  auto found = accounts_.find(account);
  return found == accounts_.end() ? CashAccount{} : found->second;
}

Status Clearing::deposit(AccountId account, Cash amount) {
  if (!amount.is_positive()) return invalid_argument("amount_fen must be positive");
  auto found = accounts_.find(account);
  if (found == accounts_.end()) return not_found("cash account " + std::to_string(account) + " does not exist");
  // Every balance is part of the total held, so bounding the total bounds them all.
  Cash total_after;
  if (__builtin_add_overflow(total_held_.value, amount.value, &total_after.value)) {
    return failed_precondition("deposit: the cash held by the exchange would exceed 2^63 - 1 fen");
  }
  total_held_ = total_after;
  found->second.available += amount;
  return Status::ok();
}

Status Clearing::withdraw(AccountId account, Cash amount) {
  if (!amount.is_positive()) return invalid_argument("amount_fen must be positive");
  auto found = accounts_.find(account);
  if (found == accounts_.end()) return not_found("cash account " + std::to_string(account) + " does not exist");
  if (found->second.available < amount) {
    return failed_precondition("insufficient withdrawable cash: " + format_fen(amount) + " requested, " +
                               format_fen(found->second.available) + " available" +
                               (proceeds_withdrawable_at_once_
                                    ? std::string()
                                    : std::string(" (sale proceeds are withdrawable from the next trading day)")));
  }
  found->second.available -= amount;
  total_held_ -= amount;
  return Status::ok();
}

Status Clearing::reserve_for_buy(AccountId account, Cash amount, BuyReservation& reservation) {
  auto found = accounts_.find(account);
  if (found == accounts_.end()) return not_found("cash account " + std::to_string(account) + " does not exist");
  CashAccount& cash = found->second;
  if (cash.available + cash.unsettled < amount) {
    return failed_precondition("insufficient funds: buy needs " + format_fen(amount) + " (price x quantity plus the buyer's fee), " +
                               format_fen(cash.available + cash.unsettled) +
                               " usable (pre-trade check: full pre-funding, no credit)");
  }
  const Cash from_available = min(amount, cash.available);
  const Cash from_unsettled = amount - from_available;
  cash.available -= from_available;
  cash.unsettled -= from_unsettled;
  cash.reserved += amount;
  reservation.total += amount;
  reservation.from_unsettled += from_unsettled;
  return Status::ok();
}

void Clearing::release(AccountId account, BuyReservation& reservation, Cash amount) {
  assert(amount <= reservation.total);
  CashAccount& cash = accounts_[account];
  const Cash to_unsettled = min(amount, reservation.from_unsettled);
  reservation.from_unsettled -= to_unsettled;
  reservation.total -= amount;
  cash.reserved -= amount;
  cash.unsettled += to_unsettled;
  cash.available += amount - to_unsettled;
}

void Clearing::pay(AccountId buyer, BuyReservation& reservation, AccountId seller, Cash amount) {
  assert(amount <= reservation.total);
  // Proceeds spent first: unsettled money leaves before withdrawable money.
  reservation.from_unsettled -= min(amount, reservation.from_unsettled);
  reservation.total -= amount;
  accounts_[buyer].reserved -= amount;
  proceeds_of(seller) += amount;
}

void Clearing::pay_with_fees(AccountId buyer, BuyReservation& reservation, AccountId seller, Cash value, Cash buyer_fee,
                             Cash seller_fee) {
  const Cash taken = value + buyer_fee;
  assert(taken <= reservation.total && seller_fee <= value);
  reservation.from_unsettled -= min(taken, reservation.from_unsettled);
  reservation.total -= taken;
  accounts_[buyer].reserved -= taken;
  proceeds_of(seller) += value - seller_fee;
  accounts_[kFeeCashAccount].available += buyer_fee + seller_fee;
}

Cash Clearing::total() const {
  Cash sum{0};
  for (const auto& [id, cash] : accounts_) sum += cash.total();
  return sum;
}

std::vector<AccountId> Clearing::settle_all_unsettled() {
  std::vector<AccountId> changed;
  for (auto& [account, cash] : accounts_) {
    if (cash.unsettled.is_zero()) continue;
    cash.available += cash.unsettled;
    cash.unsettled = Cash{0};
    changed.push_back(account);
  }
  std::sort(changed.begin(), changed.end());
  return changed;
}

}  // namespace carbon::settlement
