#pragma once
/// Who holds which units: holding accounts, their states, and every transfer
/// as a double-entry ledger entry.

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "registry/ledger.h"

namespace carbon::registry {

/// The registry's own accounts. The issuance account goes negative by exactly the supply.
inline constexpr AccountId kIssuanceAccount = 1;
inline constexpr AccountId kReserveAccount = 2;
inline constexpr AccountId kAuctionAccount = 3;
inline constexpr AccountId kSurrenderAccount = 4;
inline constexpr AccountId kCancellationAccount = 5;
/// Account ids below this are system accounts.
inline constexpr AccountId kFirstParticipantAccount = 100;

/// Units of one instrument in one account, by state. All in tonnes.
struct Holding {
  Qty available;  ///< free to sell, surrender or transfer
  Qty reserved;   ///< locked by open sell orders
  Qty pending;    ///< bought today, sellable from the next trading day (T+1)
  Qty frozen;     ///< locked by a regulator or court
  Qty pledged;    ///< locked in favour of a pledgee
  Qty total() const { return available + reserved + pending + frozen + pledged; }
  bool operator==(const Holding&) const = default;
};

/// A holding with its key, as persisted.
struct HoldingRecord {
  AccountId account = 0;
  std::string instrument;
  Holding holding;
};

/// Holdings and the ledger. Not thread-safe: owned by the engine thread.
class Registry {
 public:
  Registry();

  /// Opens a participant holding account; the id must be new.
  void open_account(AccountId account);
  bool has_account(AccountId account) const;

  /// The holding of `instrument` in `account` (all zero if none).
  Holding holding(AccountId account, const std::string& instrument) const;
  /// Every non-empty holding of an account, by instrument.
  std::vector<HoldingRecord> holdings_of(AccountId account) const;

  /// Moves `quantity` from the issuance account to `to` (available) and logs it.
  /// `to` is a participant account, the reserve or the auction account.
  [[nodiscard]] Status issue(const std::string& instrument, AccountId to, Qty quantity, Sequence sequence,
                             UnixNanos at, const std::string& reference);

  /// Locks units for a sell order: available → reserved.
  [[nodiscard]] Status reserve_for_sell(AccountId account, const std::string& instrument, Qty quantity);
  /// Unlocks units of a sell order that will not trade: reserved → available.
  void release_sell_reservation(AccountId account, const std::string& instrument, Qty quantity);

  /// Delivers traded units: seller reserved → buyer pending (T+1), with a ledger entry.
  void deliver(const std::string& instrument, AccountId seller, AccountId buyer, Qty quantity, Sequence sequence,
               UnixNanos at, const std::string& reference);

  /// End of day (T+1): every pending unit becomes available. Returns the
  /// holdings that changed, as (account, instrument).
  std::vector<std::pair<AccountId, std::string>> release_all_pending();

  /// Sum of all balances of one instrument across every account (zero when conserved).
  Qty net_total(const std::string& instrument) const;

  /// The ledger entries appended since the last take; the caller journals them.
  std::vector<LedgerEntry> take_new_entries() { return std::exchange(new_entries_, {}); }

  /// Puts back state loaded from the database (recovery).
  void restore_holding(const HoldingRecord& record);
  void restore_ledger_tail(std::uint64_t last_entry_id, const Hash& last_hash) {
    ledger_.restore_tail(last_entry_id, last_hash);
  }

  const Ledger& ledger() const { return ledger_; }

 private:
  Holding& mutable_holding(AccountId account, const std::string& instrument);
  void append(LedgerEntry entry);

  std::unordered_map<AccountId, std::map<std::string, Holding>> accounts_;
  Ledger ledger_;
  std::vector<LedgerEntry> new_entries_;
};

}  // namespace carbon::registry
