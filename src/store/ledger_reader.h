#pragma once
/// Read-only access to the ledger in PostgreSQL for regulators: listing
/// entries and verifying the hash chain. Each call opens its own read-only
/// connection and reads one snapshot, so any thread may call it (the gRPC
/// threads do); it never touches engine state.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/ledger.h"

namespace carbon::store {

/// Which entries to list: every filter is optional (0 / empty = all).
struct LedgerFilter {
  AccountId account = 0;  ///< as source or destination
  std::string instrument;
  UnixNanos from = 0;  ///< inclusive
  UnixNanos to = 0;    ///< exclusive
  std::vector<registry::TransferKind> kinds;  ///< empty = any kind
  std::uint64_t after_entry_id = 0;           ///< paging cursor
  std::size_t limit = 100;
};

/// The journal's newest LedgerAppended event at or after sequence $1: one row of (sequence, entry_id, hash as hex),
/// none if no command from $1 on appended to the ledger. It scans the commands back from the newest one and stops
/// at the first that appended entries; within a command's events text `["LedgerAppended",` with bare quotes is
/// only ever an event's kind (quotes inside JSON strings are escaped). Start-up and VerifyLedger compare it with
/// the ledger's last entry: an older last entry means entries after it were deleted, though the chain up to it
/// still links.
inline constexpr const char* kNewestLedgerEventSql =
    "SELECT sequence, (payload->>'entry_id')::bigint, payload->>'hash' FROM journal"
    " WHERE sequence = (SELECT sequence FROM journal_commands WHERE sequence >= $1"
    " AND strpos(events, '[\"LedgerAppended\",') > 0 ORDER BY sequence DESC LIMIT 1)"
    " AND kind = 'LedgerAppended' ORDER BY event_index DESC LIMIT 1";

/// Entries matching `filter`, oldest first, at most filter.limit.
/// NOT_FOUND an account that is neither a system nor a participant account; UNAVAILABLE database.
[[nodiscard]] Status list_ledger_entries(const std::string& conninfo, const LedgerFilter& filter,
                                         std::vector<registry::LedgerEntry>& out);

/// The outcome of a ledger verification.
struct LedgerVerificationReport {
  bool valid = true;
  std::uint64_t entries_checked = 0;
  std::uint64_t first_entry_id = 0;
  std::uint64_t last_entry_id = 0;
  registry::Hash last_hash{};
  std::uint64_t first_bad_entry_id = 0;
  std::string failure;  ///< empty when valid
};

/// Verifies entries [from, to] (0 = first / last) with registry::verify_chain, in chunks; names the first
/// bad entry. With `account`, also replays its balances from the whole ledger against its holdings.
/// INVALID_ARGUMENT from after to; NOT_FOUND a bound beyond the last entry or an unknown account.
[[nodiscard]] Status verify_ledger(const std::string& conninfo, std::uint64_t from, std::uint64_t to,
                                   AccountId account, LedgerVerificationReport& out);

}  // namespace carbon::store
