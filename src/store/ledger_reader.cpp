#include "store/ledger_reader.h"

#include <cstdlib>
#include <map>

#include "registry/registry.h"
#include "store/pg.h"

namespace carbon::store {
namespace {

constexpr std::size_t kVerifyChunk = 50'000;
constexpr const char* kEntryColumns =
    "SELECT entry_id, sequence, recorded_at_unix_nanos, instrument, from_account_id, to_account_id, quantity, kind,"
    " reference, prev_hash, hash FROM ledger_entries";

std::int64_t i64(const PGresult* r, int row, int col) { return std::strtoll(PQgetvalue(r, row, col), nullptr, 10); }
std::uint64_t u64(const PGresult* r, int row, int col) { return std::strtoull(PQgetvalue(r, row, col), nullptr, 10); }

registry::LedgerEntry entry_of(const PGresult* r, int row) {
  registry::LedgerEntry e;
  e.entry_id = u64(r, row, 0);
  e.sequence = u64(r, row, 1);
  e.recorded_at = i64(r, row, 2);
  e.instrument = PQgetvalue(r, row, 3);
  e.from_account = u64(r, row, 4);
  e.to_account = u64(r, row, 5);
  e.quantity = Qty{i64(r, row, 6)};
  e.kind = static_cast<registry::TransferKind>(i64(r, row, 7));
  e.reference = PQgetvalue(r, row, 8);
  e.prev_hash = hash_column(r, row, 9).value_or(registry::Hash{});
  e.hash = hash_column(r, row, 10).value_or(registry::Hash{});
  return e;
}

Status check_account(PGconn* conn, AccountId account) {
  if (account == 0 || account < registry::kFirstParticipantAccount) {
    return account >= registry::kIssuanceAccount && account <= registry::kCancellationAccount
               ? Status::ok()
               : not_found("holding account " + std::to_string(account) + " does not exist");
  }
  PgResult r;
  if (Status s = read_query(conn, "SELECT 1 FROM participants WHERE holding_account_id = $1", {std::to_string(account)}, r);
      !s.is_ok()) {
    return s;
  }
  return PQntuples(r.get()) == 1 ? Status::ok()
                                 : not_found("holding account " + std::to_string(account) + " does not exist");
}

const char* fault_text(registry::ChainFault fault) {
  switch (fault) {
    case registry::ChainFault::wrong_entry_id: return "entry ids are not dense";
    case registry::ChainFault::broken_link: return "prev_hash does not link to the previous entry";
    case registry::ChainFault::wrong_hash: return "hash mismatch: the entry was altered";
    case registry::ChainFault::none: break;
  }
  return "";
}

}  // namespace

Status list_ledger_entries(const std::string& conninfo, const LedgerFilter& filter,
                           std::vector<registry::LedgerEntry>& out) {
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  if (filter.account != 0) {
    if (Status s = check_account(conn.get(), filter.account); !s.is_ok()) return s;
  }
  std::string sql = std::string(kEntryColumns) + " WHERE entry_id > $1";
  std::vector<std::string> params{std::to_string(filter.after_entry_id)};
  auto add = [&](const std::string& condition, std::string value) {
    params.push_back(std::move(value));
    std::string placeholder = "$" + std::to_string(params.size());
    std::string text = condition;
    for (std::size_t at; (at = text.find('?')) != std::string::npos;) text.replace(at, 1, placeholder);
    sql += " AND " + text;
  };
  if (filter.account != 0) add("(from_account_id = ? OR to_account_id = ?)", std::to_string(filter.account));
  if (!filter.instrument.empty()) add("instrument = ?", filter.instrument);
  if (filter.from != 0) add("recorded_at_unix_nanos >= ?", std::to_string(filter.from));
  if (filter.to != 0) add("recorded_at_unix_nanos < ?", std::to_string(filter.to));
  if (!filter.kinds.empty()) {
    std::string kinds = "{";
    for (registry::TransferKind kind : filter.kinds) {
      if (kinds.size() > 1) kinds += ",";
      kinds += std::to_string(static_cast<int>(kind));
    }
    add("kind = ANY(?::smallint[])", kinds + "}");
  }
  sql += " ORDER BY entry_id LIMIT " + std::to_string(filter.limit);
  PgResult r;
  if (Status s = read_query(conn.get(), sql, params, r); !s.is_ok()) return s;
  for (int row = 0; row < PQntuples(r.get()); ++row) out.push_back(entry_of(r.get(), row));
  return Status::ok();
}

Status verify_ledger(const std::string& conninfo, std::uint64_t from, std::uint64_t to, AccountId account,
                     LedgerVerificationReport& out) {
  if (from != 0 && to != 0 && from > to) {
    return invalid_argument("from_ledger_entry_id is after to_ledger_entry_id");
  }
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  if (account != 0) {
    if (Status s = check_account(conn.get(), account); !s.is_ok()) return s;
  }
  PgResult r;
  if (Status s = read_query(conn.get(), "SELECT COALESCE(MAX(entry_id), 0) FROM ledger_entries", {}, r); !s.is_ok()) {
    return s;
  }
  const std::uint64_t last = u64(r.get(), 0, 0);
  if (from > last || to > last) {
    return not_found("the ledger ends at entry " + std::to_string(last));
  }
  const std::uint64_t first = from == 0 ? 1 : from;
  const std::uint64_t end = to == 0 ? last : to;
  out = LedgerVerificationReport{};
  out.first_entry_id = last == 0 ? 0 : first;
  out.last_entry_id = last == 0 ? 0 : end;

  registry::Hash prev{};
  if (first > 1) {
    if (Status s = read_query(conn.get(), "SELECT hash FROM ledger_entries WHERE entry_id = $1",
                              {std::to_string(first - 1)}, r);
        !s.is_ok()) {
      return s;
    }
    if (PQntuples(r.get()) == 1) prev = hash_column(r.get(), 0, 0).value_or(registry::Hash{});
  }
  for (std::uint64_t chunk = first; last != 0 && chunk <= end; chunk += kVerifyChunk) {
    const std::uint64_t chunk_end = std::min<std::uint64_t>(end, chunk + kVerifyChunk - 1);
    if (Status s = read_query(conn.get(),
                              std::string(kEntryColumns) + " WHERE entry_id BETWEEN $1 AND $2 ORDER BY entry_id",
                              {std::to_string(chunk), std::to_string(chunk_end)}, r);
        !s.is_ok()) {
      return s;
    }
    std::vector<registry::LedgerEntry> entries;
    entries.reserve(PQntuples(r.get()));
    for (int row = 0; row < PQntuples(r.get()); ++row) entries.push_back(entry_of(r.get(), row));
    const registry::ChainVerification result = registry::verify_chain(entries, prev, chunk);
    out.entries_checked += result.entries_checked;
    if (!result.ok()) {
      out.valid = false;
      out.first_bad_entry_id = result.first_bad_entry_id;
      out.failure = std::string(fault_text(result.fault)) + " at entry " + std::to_string(result.first_bad_entry_id);
      return Status::ok();
    }
    if (entries.size() != chunk_end - chunk + 1) {
      out.valid = false;
      out.first_bad_entry_id = chunk + entries.size();
      out.failure = "gap: entry " + std::to_string(out.first_bad_entry_id) + " is missing";
      return Status::ok();
    }
    prev = entries.back().hash;
    out.last_hash = prev;
  }
  if (end == last) {
    // The last entry is the one the journal recorded last: entries cut off the end leave a chain that links.
    std::string head_sequence = "0";
    if (last != 0) {
      if (Status s = read_query(conn.get(), "SELECT sequence FROM ledger_entries WHERE entry_id = $1",
                                {std::to_string(last)}, r);
          !s.is_ok()) {
        return s;
      }
      if (PQntuples(r.get()) == 1) head_sequence = PQgetvalue(r.get(), 0, 0);
    }
    if (Status s = read_query(conn.get(), kNewestLedgerEventSql, {head_sequence}, r); !s.is_ok()) return s;
    if (PQntuples(r.get()) == 1 && u64(r.get(), 0, 1) != last) {
      out.valid = false;
      out.first_bad_entry_id = last + 1;
      out.failure = "missing: the journal recorded entry " + std::string(PQgetvalue(r.get(), 0, 1)) +
                    " at sequence " + PQgetvalue(r.get(), 0, 0) + ", the ledger ends at entry " +
                    std::to_string(last);
      return Status::ok();
    }
    if (PQntuples(r.get()) == 1 && PQgetvalue(r.get(), 0, 2) != registry::to_hex(out.last_hash)) {
      out.valid = false;
      out.first_bad_entry_id = last;
      out.failure = "hash of entry " + std::to_string(last) + " differs from the one the journal recorded";
      return Status::ok();
    }
  }

  if (account != 0) {
    // Balances replayed from every entry that moves units into or out of the account.
    if (Status s = read_query(conn.get(),
                              "SELECT instrument, SUM(CASE WHEN to_account_id = $1 THEN quantity ELSE -quantity END)::bigint"
                              " FROM ledger_entries WHERE (from_account_id = $1 OR to_account_id = $1)"
                              " AND from_account_id <> to_account_id GROUP BY instrument",
                              {std::to_string(account)}, r);
        !s.is_ok()) {
      return s;
    }
    std::map<std::string, std::int64_t> replayed;
    for (int row = 0; row < PQntuples(r.get()); ++row) replayed[PQgetvalue(r.get(), row, 0)] = i64(r.get(), row, 1);
    if (Status s = read_query(conn.get(),
                              "SELECT instrument, (available + reserved + pending + frozen + pledged)::bigint FROM holdings"
                              " WHERE holding_account_id = $1",
                              {std::to_string(account)}, r);
        !s.is_ok()) {
      return s;
    }
    std::map<std::string, std::int64_t> held;
    for (int row = 0; row < PQntuples(r.get()); ++row) held[PQgetvalue(r.get(), row, 0)] = i64(r.get(), row, 1);
    for (const auto* side : {&replayed, &held}) {
      for (const auto& [instrument, quantity] : *side) {
        const std::int64_t ledger = replayed.contains(instrument) ? replayed[instrument] : 0;
        const std::int64_t holding = held.contains(instrument) ? held[instrument] : 0;
        if (ledger != holding) {
          out.valid = false;
          out.failure = instrument + " in account " + std::to_string(account) + ": ledger " + std::to_string(ledger) +
                        ", holding " + std::to_string(holding);
          return Status::ok();
        }
      }
    }
  }
  return Status::ok();
}

}  // namespace carbon::store
