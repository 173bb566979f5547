#pragma once
/// The append-only ledger of unit transfers, chained by SHA-256:
/// hash = SHA-256(prev_hash || canonical entry bytes).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace carbon::registry {

using Hash = std::array<std::uint8_t, 32>;

/// Why units moved.
enum class TransferKind : std::uint8_t {
  issuance = 1,    ///< issuance account → holder
  trade = 2,       ///< seller → buyer, delivery versus payment
  allocation = 3,  ///< reserved for the allocation issue
  surrender = 4,
  retirement = 5,
  correction = 6,
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

/// Checks a contiguous run of entries starting after `prev_hash`; returns the
/// entry_id of the first entry whose hash or link is wrong, or nothing.
std::optional<std::uint64_t> first_bad_entry(const std::vector<LedgerEntry>& entries, Hash prev_hash);

}  // namespace carbon::registry
