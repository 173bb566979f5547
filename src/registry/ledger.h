#pragma once
/// The append-only ledger of unit transfers, chained by SHA-256:
/// hash = SHA-256(prev_hash || canonical entry bytes).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/types.h"

namespace carbon::registry {

using Hash = std::array<std::uint8_t, 32>;

/// Why units moved. The values are persisted (SMALLINT): never renumber.
///
/// Entries whose from_account equals their to_account record a change of
/// state inside one account (freeze, unfreeze, pledge, pledge release): they
/// move no units between accounts, so they keep every balance sum as it was,
/// but they put the act and its reason into the hash chain. The reference
/// string carries the data these kinds need beyond the fixed fields (the
/// formats are listed in registry.h), so canonical_bytes stays unchanged.
enum class TransferKind : std::uint8_t {
  issuance = 1,            ///< issuance account → holder
  trade = 2,               ///< seller → buyer, delivery versus payment
  allocation = 3,          ///< free allocation: issuance account → key emitting unit
  surrender = 4,           ///< unit → surrender account, for a compliance year
  retirement = 5,          ///< holder → cancellation account (CCER cancellation, public)
  correction = 6,          ///< a new entry that undoes or fixes an earlier one
  transfer = 7,            ///< holder → holder outside the order book
  freeze = 8,              ///< available → frozen inside one account
  unfreeze = 9,            ///< frozen → available inside one account
  pledge = 10,             ///< available → pledged inside one account
  pledge_release = 11,     ///< pledged → available inside one account
  pledge_enforcement = 12, ///< pledgor (pledged) → pledgee (available)
  ccer_issuance = 13,      ///< issuance account → project owner, one serial-numbered CCER block
  repo_first_leg = 14,     ///< repo seller (available) → repo buyer (reserved until the second leg)
  repo_second_leg = 15,    ///< repo buyer (reserved) → seller (available); on default buyer reserved → available
};

/// One transfer of units between two accounts.
struct LedgerEntry {
  std::uint64_t entry_id = 0;  ///< dense, from 1
  Sequence sequence = 0;       ///< engine sequence of the command that caused it
  UnixNanos recorded_at = 0;
  std::string instrument;
  AccountId from_account = 0;
  AccountId to_account = 0;
  Qty quantity;
  TransferKind kind = TransferKind::issuance;
  std::string reference;  ///< e.g. "trade:17" or the issuer's reason
  Hash prev_hash{};
  Hash hash{};
};

/// The bytes that are hashed for an entry (everything but the two hashes),
/// big-endian integers and length-prefixed strings.
std::vector<std::uint8_t> canonical_bytes(const LedgerEntry& entry);

/// SHA-256(prev_hash || canonical_bytes(entry)).
Hash chain_hash(const Hash& prev_hash, const LedgerEntry& entry);

/// SHA-256 of `size` bytes (OpenSSL, its digest fetched once per thread). Also hashes the audit log's chain.
Hash sha256(const std::uint8_t* data, std::size_t size);

/// Lowercase hex of a hash.
std::string to_hex(const Hash& hash);

/// Appends entries and keeps the chain's tail. Not thread-safe: engine thread.
class Ledger {
 public:
  /// Fills entry_id, prev_hash and hash of `entry` and makes it the tail.
  const LedgerEntry& append(LedgerEntry entry);

  /// Continues an existing chain after recovery.
  void restore_tail(std::uint64_t last_entry_id, const Hash& last_hash);

  std::uint64_t last_entry_id() const { return last_entry_id_; }
  const Hash& last_hash() const { return last_hash_; }
  /// The entry appended most recently in this process, if any.
  const LedgerEntry& last_appended() const { return last_; }

 private:
  std::uint64_t last_entry_id_ = 0;
  Hash last_hash_{};
  LedgerEntry last_;
};

/// Why verification stopped at an entry.
enum class ChainFault : std::uint8_t {
  none = 0,
  wrong_entry_id = 1,  ///< the ids are not dense from the expected first id
  broken_link = 2,     ///< prev_hash is not the previous entry's hash
  wrong_hash = 3,      ///< hash is not SHA-256(prev_hash || canonical bytes): the entry was altered
};

/// The outcome of verifying a run of entries.
struct ChainVerification {
  ChainFault fault = ChainFault::none;
  std::uint64_t first_bad_entry_id = 0;  ///< entry_id of the first bad entry; 0 when the run is sound
  std::uint64_t entries_checked = 0;     ///< entries found sound before the first bad one (all when sound)
  bool ok() const { return fault == ChainFault::none; }
};

/// Verifies a contiguous run of entries that follows `prev_hash` (all zero
/// before entry 1). When `first_entry_id` is non-zero the ids must also be
/// dense from it. Stops at the first bad entry and names it. One SHA-256 per
/// entry, no heap allocation per entry. Pure; any thread.
ChainVerification verify_chain(std::span<const LedgerEntry> entries, const Hash& prev_hash,
                               std::uint64_t first_entry_id = 0);

/// Checks a contiguous run of entries starting after `prev_hash`; returns the
/// entry_id of the first entry whose hash or link is wrong, or nothing.
std::optional<std::uint64_t> first_bad_entry(const std::vector<LedgerEntry>& entries, Hash prev_hash);

/// The entries of `entries` that move units from or to `account` (an account's history), in order.
std::vector<LedgerEntry> history_of(std::span<const LedgerEntry> entries, AccountId account);

/// Name of a transfer kind as used in listings ("trade", "pledge_release").
const char* to_string(TransferKind kind);

}  // namespace carbon::registry
