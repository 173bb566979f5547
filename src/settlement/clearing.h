#pragma once
/// Who holds which cash: cash accounts, buy reservations (pre-trade risk) and
/// payment legs of delivery versus payment.

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace carbon::settlement {

/// The exchange's fee account: a system cash account (no participant) that
/// every trading fee is paid into. Cash account ids below 100 are system ones.
inline constexpr AccountId kFeeCashAccount = 10;
/// Where the proceeds of auctions sold from a system holding account (the
/// reserve, the auction account) are paid: a system cash account.
inline constexpr AccountId kAuctionProceedsCashAccount = 11;

/// The fee of one trade side: value × bps / 10,000 rounded half up to the fen
/// (exact in 128-bit arithmetic). `value` >= 0, 0 <= bps <= 10,000.
Cash trade_fee(Cash value, int bps);

/// What a buy of `quantity` at limit `price` reserves when the buyer's fee is
/// `bps`: quantity × (price + ceil(price × bps / 10,000)). The fee part is
/// rounded up per tonne, so the reservation is linear in the quantity and any
/// fill of q tonnes at a price <= `price` takes at most q × that per-tonne
/// amount (value plus its fee rounded half up); the rest is released at the
/// fill. Nothing if it overflows int64.
std::optional<Cash> buy_reservation(Price price, Qty quantity, int bps);

/// Cash of one account, in fen.
struct CashAccount {
  Cash available;  ///< usable and withdrawable
  Cash reserved;   ///< locked by open buy orders
  Cash unsettled;  ///< sale proceeds: usable to buy at once, withdrawable from the next trading day
  Cash total() const { return available + reserved + unsettled; }
  bool operator==(const CashAccount&) const = default;
};

/// The cash locked by one buy order, and how much of it came from unsettled proceeds.
struct BuyReservation {
  Cash total;
  Cash from_unsettled;  ///< at most total; returned to unsettled, never to available
};

/// Cash accounts. Not thread-safe: owned by the engine thread.
class Clearing {
 public:
  /// `proceeds_withdrawable_at_once`: sale proceeds go straight to available
  /// (T+0 withdrawable) instead of unsettled until the end of day (T+1, the default).
  explicit Clearing(bool proceeds_withdrawable_at_once = false)
      : proceeds_withdrawable_at_once_(proceeds_withdrawable_at_once) {}

  /// Opens a cash account; the id must be new.
  void open_account(AccountId account);
  bool has_account(AccountId account) const { return accounts_.contains(account); }
  /// The account's balances; all zero if it does not exist.
  CashAccount account(AccountId account) const;

  /// Adds `amount` (> 0) to available.
  [[nodiscard]] Status deposit(AccountId account, Cash amount);
  /// Takes `amount` (> 0) from available.
  [[nodiscard]] Status withdraw(AccountId account, Cash amount);

  /// Locks `amount` for a buy order, from available first, then unsettled proceeds.
  [[nodiscard]] Status reserve_for_buy(AccountId account, Cash amount, BuyReservation& reservation);
  /// Returns `amount` of a reservation to the account (unsettled part first).
  void release(AccountId account, BuyReservation& reservation, Cash amount);
  /// Pays `amount` out of the buyer's reservation into the seller's unsettled cash (available, T+0).
  void pay(AccountId buyer, BuyReservation& reservation, AccountId seller, Cash amount);

  /// Delivery versus payment with fees: takes `value` + `buyer_fee` out of the
  /// buyer's reservation, credits `value` - `seller_fee` to the seller's
  /// unsettled proceeds (available, T+0) and both fees to the fee account's available cash.
  void pay_with_fees(AccountId buyer, BuyReservation& reservation, AccountId seller, Cash value, Cash buyer_fee,
                     Cash seller_fee);

  /// End of day: every account's unsettled proceeds become available
  /// (withdrawable). Returns the accounts that changed, in id order.
  std::vector<AccountId> settle_all_unsettled();

  /// Sum of all balances of all accounts.
  Cash total() const;

  /// Puts back an account loaded from the database (recovery).
  void restore_account(AccountId account, const CashAccount& balances) {
    total_held_ += balances.total() - accounts_[account].total();
    accounts_[account] = balances;
  }

 private:
  /// Where a seller's proceeds go: available (T+0) or unsettled (T+1).
  Cash& proceeds_of(AccountId seller) {
    CashAccount& cash = accounts_[seller];
    return proceeds_withdrawable_at_once_ ? cash.available : cash.unsettled;
  }

  std::unordered_map<AccountId, CashAccount> accounts_;
  Cash total_held_{0};  ///< deposits minus withdrawals: the bound of every balance
  bool proceeds_withdrawable_at_once_ = false;
};

/// "123456.78 CNY" for messages.
std::string format_fen(Cash amount);

}  // namespace carbon::settlement
