#include "store/recovery.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/auction_rows.h"
#include "store/ccer_recovery.h"
#include "store/clearing_rows.h"
#include "store/instrument_rows.h"
#include "store/ledger_reader.h"
#include "store/pg.h"
#include "store/repo_rows.h"

namespace carbon::store {
namespace {

std::int64_t i64(const PGresult* r, int row, int col) { return std::strtoll(PQgetvalue(r, row, col), nullptr, 10); }
std::uint64_t u64(const PGresult* r, int row, int col) { return std::strtoull(PQgetvalue(r, row, col), nullptr, 10); }
std::string text(const PGresult* r, int row, int col) { return PQgetvalue(r, row, col); }
bool boolean(const PGresult* r, int row, int col) { return PQgetvalue(r, row, col)[0] == 't'; }

registry::Hash hash(const PGresult* r, int row, int col) {
  const std::vector<unsigned char> bytes = from_bytea_text(PQgetvalue(r, row, col));
  registry::Hash out{};
  if (bytes.size() != out.size()) throw std::runtime_error("a stored hash is not 32 bytes");
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}

/// The sequence the trading day in progress opened at (0 before the first end of day): what recovery loads
/// of orders and trades starts after it.
constexpr const char* kDayOpened = "(SELECT COALESCE(max(day_opened_sequence), 0) FROM market_state)";
/// Rows fetched at a time from a cursor (the closed orders' client order ids).
constexpr int kFetchRows = 100'000;

template <typename Enum>
Enum as(const PGresult* r, int row, int col) {
  return static_cast<Enum>(i64(r, row, col));
}

registry::LedgerEntry ledger_entry(const PGresult* r, int row) {
  registry::LedgerEntry e;
  e.entry_id = u64(r, row, 0);
  e.sequence = u64(r, row, 1);
  e.recorded_at = i64(r, row, 2);
  e.instrument = text(r, row, 3);
  e.from_account = u64(r, row, 4);
  e.to_account = u64(r, row, 5);
  e.quantity = Qty{i64(r, row, 6)};
  e.kind = as<registry::TransferKind>(r, row, 7);
  e.reference = text(r, row, 8);
  e.prev_hash = hash(r, row, 9);
  e.hash = hash(r, row, 10);
  return e;
}

/// The registry's projections of migration 0003 (caps, allocations, compliance, freezes).
void load_registry_state(PGconn* conn, engine::RecoveredState& state) {
  PgResult r = exec_or_throw(conn,
                             "SELECT compliance_year, sector, cap_quantity, paid_share_bps, issued, free_allocated,"
                             " reason, updated_sequence FROM caps ORDER BY compliance_year, sector",
                             "read caps");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::CapRecord cap;
    cap.year = static_cast<int>(i64(r.get(), row, 0));
    cap.sector = text(r.get(), row, 1);
    cap.cap = Qty{i64(r.get(), row, 2)};
    cap.paid_share_bps = i64(r.get(), row, 3);
    cap.issued = Qty{i64(r.get(), row, 4)};
    cap.free_allocated = Qty{i64(r.get(), row, 5)};
    cap.reason = text(r.get(), row, 6);
    cap.sequence = u64(r.get(), row, 7);
    state.caps.push_back(std::move(cap));
  }

  r = exec_or_throw(conn,
                    "SELECT allocation_id, compliance_year, sector, participant_id, instrument, gross_quantity,"
                    " deducted_quantity, issued_quantity, benchmark, output, output_unit, benchmark_micro_tonnes,"
                    " factors_per_10000, reason, ledger_entry_id, sequence, allocated_at_unix_nanos"
                    " FROM allocations ORDER BY allocation_id",
                    "read allocations");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::AllocationRecord a;
    a.id = u64(r.get(), row, 0);
    a.year = static_cast<int>(i64(r.get(), row, 1));
    a.sector = text(r.get(), row, 2);
    a.participant = u64(r.get(), row, 3);
    a.instrument = text(r.get(), row, 4);
    a.gross = Qty{i64(r.get(), row, 5)};
    a.deducted = Qty{i64(r.get(), row, 6)};
    a.issued = Qty{i64(r.get(), row, 7)};
    if (boolean(r.get(), row, 8)) {
      registry::AllocationFormula formula;
      formula.output = i64(r.get(), row, 9);
      formula.benchmark_micro_tonnes = i64(r.get(), row, 11);
      const std::string factors = text(r.get(), row, 12);
      for (std::size_t start = 0; start < factors.size();) {
        std::size_t end = factors.find(',', start);
        if (end == std::string::npos) end = factors.size();
        formula.factors_per_10000.push_back(std::strtoll(factors.substr(start, end - start).c_str(), nullptr, 10));
        start = end + 1;
      }
      a.formula = std::move(formula);
    }
    a.output_unit = text(r.get(), row, 10);
    a.reason = text(r.get(), row, 13);
    a.ledger_entry_id = u64(r.get(), row, 14);
    a.sequence = u64(r.get(), row, 15);
    a.at = i64(r.get(), row, 16);
    state.allocations.push_back(std::move(a));
  }

  r = exec_or_throw(conn,
                    "SELECT compliance_year, participant_id, holding_account_id, sector, verifier, report_reference,"
                    " obligation, surrendered_allowances, surrendered_ccer, shortfall, closed, penalty_basis_fen,"
                    " penalty_multiple, penalty_fen, updated_sequence FROM compliance"
                    " ORDER BY compliance_year, participant_id",
                    "read compliance");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::ComplianceRecord c;
    c.status.year = static_cast<int>(i64(r.get(), row, 0));
    c.participant = u64(r.get(), row, 1);
    c.status.unit = u64(r.get(), row, 2);
    c.sector = text(r.get(), row, 3);
    c.verifier = text(r.get(), row, 4);
    c.report_reference = text(r.get(), row, 5);
    c.status.obligation = Qty{i64(r.get(), row, 6)};
    c.status.surrendered_allowances = Qty{i64(r.get(), row, 7)};
    c.status.surrendered_ccer = Qty{i64(r.get(), row, 8)};
    c.status.shortfall = Qty{i64(r.get(), row, 9)};
    c.status.closed = boolean(r.get(), row, 10);
    c.penalty_basis = Price{i64(r.get(), row, 11)};
    c.penalty_multiple = static_cast<int>(i64(r.get(), row, 12));
    c.penalty = Cash{i64(r.get(), row, 13)};
    c.sequence = u64(r.get(), row, 14);
    state.compliance.push_back(std::move(c));
  }

  r = exec_or_throw(conn,
                    "SELECT compliance_year, penalty_basis_fen, penalty_multiple, closed_sequence"
                    " FROM compliance_years_closed ORDER BY compliance_year",
                    "read closed compliance years");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.closed_years.push_back(engine::ComplianceYearClosed{static_cast<int>(i64(r.get(), row, 0)),
                                                              Price{i64(r.get(), row, 1)},
                                                              static_cast<int>(i64(r.get(), row, 2)),
                                                              u64(r.get(), row, 3)});
  }

  r = exec_or_throw(conn,
                    "SELECT holding_account_id, compliance_year, owed FROM shortfalls_owed WHERE owed > 0"
                    " ORDER BY holding_account_id, compliance_year",
                    "read shortfalls owed");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.shortfalls_owed.push_back(engine::ShortfallOwed{u64(r.get(), row, 0), static_cast<int>(i64(r.get(), row, 1)),
                                                          Qty{i64(r.get(), row, 2)}});
  }

  r = exec_or_throw(conn,
                    "SELECT freeze_id, holding_account_id, instrument, quantity, remaining_quantity, authority,"
                    " placed_by_role, ordered_by, reason, legal_reference, placed_at_unix_nanos,"
                    " lifted_at_unix_nanos, updated_sequence FROM freezes ORDER BY freeze_id",
                    "read freezes");
  PgResult keys = exec_or_throw(conn,
                                "SELECT command, target, idempotency_key, fingerprint, sequence, object_id,"
                                " ledger_entry_id FROM registry_idempotency ORDER BY sequence",
                                "read registry idempotency keys");
  for (int row = 0; row < PQntuples(keys.get()); ++row) {
    state.idempotency.push_back(engine::IdempotencyRecord{text(keys.get(), row, 0), u64(keys.get(), row, 1),
                                                          text(keys.get(), row, 2), text(keys.get(), row, 3),
                                                          u64(keys.get(), row, 4), u64(keys.get(), row, 5),
                                                          u64(keys.get(), row, 6)});
  }
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::FreezeView f;
    f.record.id = u64(r.get(), row, 0);
    f.record.account = u64(r.get(), row, 1);
    f.record.instrument = text(r.get(), row, 2);
    f.record.quantity = Qty{i64(r.get(), row, 3)};
    f.remaining = Qty{i64(r.get(), row, 4)};
    f.record.authority = as<registry::FreezeAuthority>(r.get(), row, 5);
    f.placed_by = as<Role>(r.get(), row, 6);
    f.record.ordered_by = text(r.get(), row, 7);
    f.record.reason = text(r.get(), row, 8);
    f.legal_reference = text(r.get(), row, 9);
    f.record.frozen_at = i64(r.get(), row, 10);
    f.lifted_at = i64(r.get(), row, 11);
    f.sequence = u64(r.get(), row, 12);
    state.freezes.push_back(std::move(f));
  }
}

/// Compliance-year parameters and pledges (migration 0005).
void load_pledge_state(PGconn* conn, engine::RecoveredState& state) {
  PgResult r = exec_or_throw(conn,
                             "SELECT compliance_year, deadline_unix_nanos, ccer_limit_bps, penalty_multiple,"
                             " early_warning_threshold_bps, updated_sequence FROM compliance_years"
                             " ORDER BY compliance_year",
                             "read compliance years");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::ComplianceYearConfig y;
    y.year = static_cast<int>(i64(r.get(), row, 0));
    y.deadline = i64(r.get(), row, 1);
    y.ccer_limit_bps = i64(r.get(), row, 2);
    y.penalty_multiple = static_cast<int>(i64(r.get(), row, 3));
    y.early_warning_threshold_bps = i64(r.get(), row, 4);
    y.sequence = u64(r.get(), row, 5);
    state.compliance_years.push_back(y);
  }
  r = exec_or_throw(conn,
                    "SELECT pledge_id, pledgor_account_id, pledgee_account_id, pledgor_participant_id,"
                    " pledgee_participant_id, instrument, quantity, released_quantity, enforced_quantity,"
                    " remaining_quantity, contract_reference, last_enforced, pledged_at_unix_nanos,"
                    " closed_at_unix_nanos, updated_sequence FROM pledges ORDER BY pledge_id",
                    "read pledges");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::PledgeView p;
    p.record.id = u64(r.get(), row, 0);
    p.record.pledgor = u64(r.get(), row, 1);
    p.record.pledgee = u64(r.get(), row, 2);
    p.pledgor_participant = u64(r.get(), row, 3);
    p.pledgee_participant = u64(r.get(), row, 4);
    p.record.instrument = text(r.get(), row, 5);
    p.record.quantity = Qty{i64(r.get(), row, 6)};
    p.released = Qty{i64(r.get(), row, 7)};
    p.enforced = Qty{i64(r.get(), row, 8)};
    p.remaining = Qty{i64(r.get(), row, 9)};
    p.record.reference = text(r.get(), row, 10);
    p.last_enforced = boolean(r.get(), row, 11);
    p.record.pledged_at = i64(r.get(), row, 12);
    p.closed_at = i64(r.get(), row, 13);
    p.sequence = u64(r.get(), row, 14);
    state.pledges.push_back(std::move(p));
  }
}

/// Digests stored in one closed_client_id_digests row at most (16 bytes each: 16 MB).
constexpr std::size_t kDigestsPerRow = 1'000'000;
/// Stored runs (distinct through_sequence) beyond which a start stores all digests again as one run.
constexpr std::size_t kMaxDigestRuns = 16;

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v = (v << 8) | static_cast<unsigned char>(p[k]);
  return v;
}

/// Appends the stored digests to state.closed_client_ids; returns the highest through_sequence (0: none).
/// Through a binary cursor, four rows at a time: a row's pairs are bytes (text would double them into hex),
/// up to 16 MB a row, and their number grows with the history.
std::uint64_t read_closed_client_id_digests(PGconn* conn, engine::RecoveredState& state) {
  exec_or_throw(conn,
                "DECLARE digests BINARY NO SCROLL CURSOR FOR"
                " SELECT participant_id, pairs, through_sequence FROM closed_client_id_digests",
                "open the stored client order id digests");
  std::uint64_t through = 0;
  for (;;) {
    PgResult r = exec_or_throw(conn, "FETCH 4 FROM digests", "read the stored client order id digests");
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      const ParticipantId participant = get_u64(PQgetvalue(r.get(), row, 0));
      const char* pairs = PQgetvalue(r.get(), row, 1);
      const auto bytes = static_cast<std::size_t>(PQgetlength(r.get(), row, 1));
      if (bytes % 16 != 0) throw std::runtime_error("a stored row of client order id digests is not whole pairs");
      for (std::size_t at = 0; at < bytes; at += 16) {
        state.closed_client_ids.emplace_back(participant, get_u64(pairs + at), get_u64(pairs + at + 8));
      }
      through = std::max(through, get_u64(PQgetvalue(r.get(), row, 2)));
    }
    if (PQntuples(r.get()) < 4) break;
  }
  exec_or_throw(conn, "CLOSE digests", "close the stored client order id digests");
  return through;
}

/// store_closed_client_id_digests' transaction; on a failure the caller rolls it back.
Status store_digests(PGconn* conn, const engine::RecoveredState& state, const ClosedClientIdRun& run) {
  // Closed and not held means updated at or before the day's opening: what load_state read from `orders` is
  // stored as of that sequence. A second start on the same database waits for the lock, then fails on the
  // primary key or stores the same rows again.
  auto run_sql = [&](const std::string& sql, const char* what, PgResult* out = nullptr) -> Status {
    PgResult r{PQexec(conn, sql.c_str())};
    const ExecStatusType status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const Status failed = status_from_result(r.get(), conn);
      return Status(failed.code(), std::string(what) + ": " + failed.message());
    }
    if (out != nullptr) *out = std::move(r);
    return Status::ok();
  };
  if (Status s = run_sql("BEGIN", "begin storing client order id digests"); !s.is_ok()) return s;
  if (Status s = run_sql("SELECT pg_advisory_xact_lock(7461002)", "lock the client order id digests"); !s.is_ok()) {
    return s;
  }
  PgResult runs;
  if (Status s = run_sql("SELECT count(DISTINCT through_sequence) FROM closed_client_id_digests",
                         "count the stored runs of client order id digests", &runs);
      !s.is_ok()) {
    return s;
  }
  std::size_t from = run.from;
  if (run.replace || std::stoull(PQgetvalue(runs.get(), 0, 0)) >= kMaxDigestRuns) {
    if (Status s = run_sql("DELETE FROM closed_client_id_digests", "replace the stored client order id digests");
        !s.is_ok()) {
      return s;
    }
    from = 0;
  }
  std::map<ParticipantId, std::vector<std::pair<std::uint64_t, OrderId>>> by_participant;
  for (std::size_t k = from; k < state.closed_client_ids.size(); ++k) {
    const auto& [participant, digest, order] = state.closed_client_ids[k];
    by_participant[participant].emplace_back(digest, order);
  }
  const std::string through_param = std::to_string(run.through);
  for (auto& [participant, pairs] : by_participant) {
    std::sort(pairs.begin(), pairs.end());
    const std::string participant_param = std::to_string(participant);
    for (std::size_t first = 0, part = 0; first < pairs.size(); first += kDigestsPerRow, ++part) {
      const std::size_t last = std::min(pairs.size(), first + kDigestsPerRow);
      std::string bytes;
      bytes.reserve((last - first) * 16);
      for (std::size_t k = first; k < last; ++k) {
        put_u64(bytes, pairs[k].first);
        put_u64(bytes, pairs[k].second);
      }
      const std::string part_param = std::to_string(part);
      const char* values[] = {through_param.c_str(), participant_param.c_str(), part_param.c_str(), bytes.data()};
      const int lengths[] = {0, 0, 0, static_cast<int>(bytes.size())};
      const int formats[] = {0, 0, 0, 1};
      PgResult r{PQexecParams(conn,
                              "INSERT INTO closed_client_id_digests (through_sequence, participant_id, part, pairs)"
                              " VALUES ($1, $2, $3, $4)",
                              4, nullptr, values, lengths, formats, 0)};
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        const Status failed = status_from_result(r.get(), conn);
        return Status(failed.code(), "store client order id digests: " + failed.message());
      }
    }
  }
  return run_sql("COMMIT", "commit the client order id digests");
}

}  // namespace

engine::RecoveredState load_state(PGconn* conn, ClosedClientIdRun* run) {
  engine::RecoveredState state;
  exec_or_throw(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin recovery snapshot");

  PgResult r = exec_or_throw(conn, "SELECT COALESCE(MAX(sequence), 0) FROM journal_commands", "read last sequence");
  state.last_sequence = u64(r.get(), 0, 0);

  r = exec_or_throw(conn,
                    "SELECT participant_id, code, name, participant_type, holding_account_id, cash_account_id,"
                    " token_sha256, created_sequence FROM participants ORDER BY participant_id",
                    "read participants");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::ParticipantRecord p;
    p.id = u64(r.get(), row, 0);
    p.code = text(r.get(), row, 1);
    p.name = text(r.get(), row, 2);
    p.type = as<ParticipantType>(r.get(), row, 3);
    p.holding_account = u64(r.get(), row, 4);
    p.cash_account = u64(r.get(), row, 5);
    p.token_hash = hash(r.get(), row, 6);
    p.created_sequence = u64(r.get(), row, 7);
    state.participants.push_back(std::move(p));
  }

  r = exec_or_throw(conn,
                    "SELECT cash_account_id, participant_id, available_fen, reserved_fen, unsettled_fen"
                    " FROM cash_accounts ORDER BY cash_account_id",
                    "read cash accounts");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.cash.push_back(engine::CashRecord{
        u64(r.get(), row, 0), u64(r.get(), row, 1),
        settlement::CashAccount{Cash{i64(r.get(), row, 2)}, Cash{i64(r.get(), row, 3)}, Cash{i64(r.get(), row, 4)}}});
  }

  r = exec_or_throw(conn,
                    "SELECT cash_account_id, withdrawal, idempotency_key, amount_fen, sequence, available_after_fen,"
                    " reserved_after_fen, unsettled_after_fen FROM cash_movements ORDER BY sequence",
                    "read cash movements");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.cash_movements.push_back(engine::CashMovementRecord{
        u64(r.get(), row, 0), boolean(r.get(), row, 1), Cash{i64(r.get(), row, 3)}, text(r.get(), row, 2),
        u64(r.get(), row, 4),
        settlement::CashAccount{Cash{i64(r.get(), row, 5)}, Cash{i64(r.get(), row, 6)}, Cash{i64(r.get(), row, 7)}}});
  }

  r = exec_or_throw(conn,
                    "SELECT holding_account_id, instrument, available, reserved, pending, frozen, pledged"
                    " FROM holdings ORDER BY holding_account_id, instrument",
                    "read holdings");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    registry::Holding h{Qty{i64(r.get(), row, 2)}, Qty{i64(r.get(), row, 3)}, Qty{i64(r.get(), row, 4)},
                        Qty{i64(r.get(), row, 5)}, Qty{i64(r.get(), row, 6)}};
    state.holdings.push_back(registry::HoldingRecord{u64(r.get(), row, 0), text(r.get(), row, 1), h});
  }

  // The orders the engine holds (RecoveredState::orders: open, changed since the trading day opened, auction
  // bids and offers), and any closed order that still reserves something, for check_state to refuse.
  // Not closed is "not filled, cancelled, expired or rejected", as check_reservations counts open orders.
  const std::string held = "status NOT IN (3, 4, 5, 6) OR mode = " +
                           std::to_string(static_cast<int>(TradingMode::auction)) + " OR updated_sequence > " +
                           kDayOpened + " OR reserved_fen <> 0";
  r = exec_or_throw(conn,
                    "SELECT order_id, client_order_id, participant_id, instrument, side, order_type, time_in_force,"
                    " mode, price_fen, quantity, filled_quantity, status, sequence, entered_at_unix_nanos, priority,"
                    " reserved_fen, reserved_unsettled_fen, updated_sequence, counterparty_participant_id"
                    " FROM orders WHERE " + held,
                    "read orders");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::OrderRecord o;
    o.id = u64(r.get(), row, 0);
    o.client_order_id = text(r.get(), row, 1);
    o.participant = u64(r.get(), row, 2);
    o.instrument = text(r.get(), row, 3);
    o.side = as<Side>(r.get(), row, 4);
    o.type = as<OrderType>(r.get(), row, 5);
    o.time_in_force = as<TimeInForce>(r.get(), row, 6);
    o.mode = as<TradingMode>(r.get(), row, 7);
    o.price = Price{i64(r.get(), row, 8)};
    o.quantity = Qty{i64(r.get(), row, 9)};
    o.filled = Qty{i64(r.get(), row, 10)};
    o.status = as<OrderStatus>(r.get(), row, 11);
    o.sequence = u64(r.get(), row, 12);
    o.entered_at = i64(r.get(), row, 13);
    o.priority = u64(r.get(), row, 14);
    o.reservation = settlement::BuyReservation{Cash{i64(r.get(), row, 15)}, Cash{i64(r.get(), row, 16)}};
    o.updated_sequence = u64(r.get(), row, 17);
    o.counterparty = u64(r.get(), row, 18);
    state.orders.push_back(std::move(o));
  }
  // Sorted here, not by the query's ORDER BY: for that PostgreSQL walks the whole primary key, closed orders
  // included (2.2-3.4 s for 1 million held orders among 5 million, against 0.5-0.8 s for a scan). The rows
  // come in table order, which the journal writer's upserts leave out of id order: sort (id, row) pairs and
  // move each record once.
  const auto by_id = [](const engine::OrderRecord& a, const engine::OrderRecord& b) { return a.id < b.id; };
  if (!std::is_sorted(state.orders.begin(), state.orders.end(), by_id)) {
    std::vector<std::pair<OrderId, std::size_t>> keys;
    keys.reserve(state.orders.size());
    for (std::size_t i = 0; i < state.orders.size(); ++i) keys.emplace_back(state.orders[i].id, i);
    std::sort(keys.begin(), keys.end());
    std::vector<engine::OrderRecord> sorted;
    sorted.reserve(state.orders.size());
    for (const auto& [id, row] : keys) sorted.push_back(std::move(state.orders[row]));
    state.orders = std::move(sorted);
  }

  // The client order ids of the orders not held stay used (Exchange::check_client_id_unused_earlier). Those
  // an earlier start stored come as digests (migration 0020); the rest, of the orders closed since, come from
  // `orders` through a cursor, since their number grows with the history, for the daemon to store
  // (store_closed_client_id_digests) once check_state has accepted the state.
  r = exec_or_throw(conn, std::string("SELECT ") + kDayOpened, "read the day's opening");
  const std::string opened = text(r.get(), 0, 0);
  std::uint64_t digests_through = read_closed_client_id_digests(conn, state);
  ClosedClientIdRun read_run;
  read_run.through = std::stoull(opened);
  if (digests_through > read_run.through) {
    // Stored past the day's opening: not by a start this state accepted. Read `orders` in full instead.
    state.closed_client_ids.clear();
    digests_through = 0;
    read_run.replace = true;
  }
  read_run.from = state.closed_client_ids.size();
  // A second scan, not one with the held rows: one query returning both kinds of row (the closed ones' other
  // columns NULL) through a cursor made starts slower, not faster (BENCHMARKS.md, "Recovery").
  exec_or_throw(conn,
                "DECLARE closed_client_ids NO SCROLL CURSOR FOR SELECT participant_id, order_id, client_order_id"
                " FROM orders WHERE client_order_id <> '' AND updated_sequence > " + std::to_string(digests_through) +
                " AND NOT (" + held + ")",
                "open the client order ids of closed orders");
  const std::string fetch = "FETCH " + std::to_string(kFetchRows) + " FROM closed_client_ids";
  for (;;) {
    r = exec_or_throw(conn, fetch, "read the client order ids of closed orders");
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      state.closed_client_ids.emplace_back(u64(r.get(), row, 0), engine::client_id_digest(PQgetvalue(r.get(), row, 2)),
                                           u64(r.get(), row, 1));
    }
    if (PQntuples(r.get()) < kFetchRows) break;
  }
  exec_or_throw(conn, "CLOSE closed_client_ids", "close the client order ids of closed orders");

  // The trades from the day's opening on (found by bisection over trade_id, which grows with the sequence;
  // the sequence condition still holds if the bisection cannot tell), and every auction's (migration 0017).
  std::uint64_t first_trade = 1;
  if (Status s = first_id_after(conn, "trades", "trade_id", std::stoull(opened), first_trade); !s.is_ok()) {
    throw std::runtime_error("find the day's first trade: " + s.message());
  }
  constexpr const char* kTradeColumns =
      "trade_id, instrument, mode, price_fen, quantity, buy_order_id, sell_order_id, buyer_participant_id,"
      " seller_participant_id, aggressor_side, sequence, executed_at_unix_nanos, buyer_fee_fen, seller_fee_fen";
  r = exec_params_or_throw(conn,
                           std::string("SELECT ") + kTradeColumns +
                               " FROM trades WHERE trade_id >= $1 AND sequence > $2 UNION ALL SELECT " +
                               kTradeColumns + " FROM trades WHERE mode = " +
                               std::to_string(static_cast<int>(TradingMode::auction)) +
                               " AND NOT (trade_id >= $1 AND sequence > $2) ORDER BY trade_id",
                           {std::to_string(first_trade), opened}, "read trades");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::TradeRecord t;
    t.id = u64(r.get(), row, 0);
    t.instrument = text(r.get(), row, 1);
    t.mode = as<TradingMode>(r.get(), row, 2);
    t.price = Price{i64(r.get(), row, 3)};
    t.quantity = Qty{i64(r.get(), row, 4)};
    t.buy_order = u64(r.get(), row, 5);
    t.sell_order = u64(r.get(), row, 6);
    t.buyer = u64(r.get(), row, 7);
    t.seller = u64(r.get(), row, 8);
    t.aggressor = as<Side>(r.get(), row, 9);
    t.sequence = u64(r.get(), row, 10);
    t.executed_at = i64(r.get(), row, 11);
    t.buyer_fee = Cash{i64(r.get(), row, 12)};
    t.seller_fee = Cash{i64(r.get(), row, 13)};
    state.trades.push_back(std::move(t));
  }
  // Orders and trades of earlier days are not loaded; the ids go on from the highest ever given.
  r = exec_or_throw(conn,
                    "SELECT COALESCE((SELECT max(order_id) FROM orders), 0), COALESCE((SELECT max(trade_id) FROM trades), 0)",
                    "read the last order and trade ids");
  state.last_order_id = u64(r.get(), 0, 0);
  state.last_trade_id = u64(r.get(), 0, 1);

  r = exec_or_throw(conn,
                    "SELECT participant_id, self_trade, suspended, suspension_reason, updated_sequence"
                    " FROM participant_controls ORDER BY participant_id",
                    "read participant controls");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.controls.push_back(engine::ParticipantControls{u64(r.get(), row, 0),
                                                         as<engine::SelfTradePrevention>(r.get(), row, 1),
                                                         boolean(r.get(), row, 2), text(r.get(), row, 3),
                                                         u64(r.get(), row, 4)});
  }

  r = exec_or_throw(conn,
                    "SELECT instrument, reference_price_fen, previous_close_fen, halted, halt_reason, updated_sequence"
                    " FROM instrument_state ORDER BY instrument",
                    "read instrument state");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.instrument_states.push_back(engine::InstrumentState{text(r.get(), row, 0), Price{i64(r.get(), row, 1)},
                                                              Price{i64(r.get(), row, 2)}, boolean(r.get(), row, 3),
                                                              text(r.get(), row, 4), u64(r.get(), row, 5)});
  }

  r = exec_or_throw(conn,
                    "SELECT trading_date, day_opened_sequence, halted, halt_reason, updated_sequence FROM market_state",
                    "read market state");
  if (PQntuples(r.get()) == 1) {
    // No settlement hold: it is not stored, and a start refuses books that do not balance (check_state).
    state.market = engine::MarketState{text(r.get(), 0, 0), u64(r.get(), 0, 1), boolean(r.get(), 0, 2),
                                       text(r.get(), 0, 3), "", u64(r.get(), 0, 4)};
  }

  r = exec_or_throw(conn, "SELECT year, array_to_string(holidays, ',') FROM trading_calendar ORDER BY year",
                    "read trading calendar");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::CalendarChanged calendar{static_cast<int>(i64(r.get(), row, 0)), {}};
    const std::string days = text(r.get(), row, 1);
    for (std::size_t start = 0; start < days.size();) {
      const std::size_t comma = days.find(',', start);
      calendar.holidays.push_back(days.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      start = comma == std::string::npos ? days.size() : comma + 1;
    }
    state.calendars.push_back(std::move(calendar));
  }

  r = exec_or_throw(conn,
                    "SELECT instrument, trading_date, mode, open_fen, high_fen, low_fen, close_fen, volume,"
                    " turnover_fen, trade_count, sequence FROM daily_bars ORDER BY sequence, instrument, mode",
                    "read daily bars");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.bars.push_back(engine::DailyBar{text(r.get(), row, 0), text(r.get(), row, 1),
                                          as<TradingMode>(r.get(), row, 2), Price{i64(r.get(), row, 3)},
                                          Price{i64(r.get(), row, 4)}, Price{i64(r.get(), row, 5)},
                                          Price{i64(r.get(), row, 6)}, Qty{i64(r.get(), row, 7)},
                                          Cash{i64(r.get(), row, 8)}, u64(r.get(), row, 9), u64(r.get(), row, 10)});
  }

  // Units issued to each holding account, for the position limits of key emitting units (a partial index,
  // migration 0018).
  r = exec_or_throw(conn,
                    "SELECT to_account_id, instrument, SUM(quantity)::bigint FROM ledger_entries"
                    " WHERE kind IN (1, 3) GROUP BY to_account_id, instrument ORDER BY to_account_id, instrument",
                    "read allocations");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.allocated.emplace_back(u64(r.get(), row, 0), text(r.get(), row, 1), Qty{i64(r.get(), row, 2)});
  }

  load_registry_state(conn, state);
  load_pledge_state(conn, state);
  load_ccer_state(conn, state);
  state.repos = load_repos(conn);

  r = exec_or_throw(conn,
                    "SELECT token_id, role, participant_id, label, token_sha256, issued_at_unix_nanos,"
                    " expires_at_unix_nanos, revoked_at_unix_nanos, updated_sequence FROM api_tokens ORDER BY token_id",
                    "read API tokens");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    engine::ApiTokenRecord t;
    t.id = u64(r.get(), row, 0);
    t.role = static_cast<Role>(i64(r.get(), row, 1));
    t.participant = u64(r.get(), row, 2);
    t.label = text(r.get(), row, 3);
    t.token_hash = hash(r.get(), row, 4);
    t.issued_at = i64(r.get(), row, 5);
    t.expires_at = i64(r.get(), row, 6);
    t.revoked_at = i64(r.get(), row, 7);
    t.updated_sequence = u64(r.get(), row, 8);
    state.api_tokens.push_back(std::move(t));
  }

  r = exec_or_throw(conn, "SELECT entry_id, hash FROM ledger_entries ORDER BY entry_id DESC LIMIT 1",
                    "read ledger tail");
  if (PQntuples(r.get()) == 1) {
    state.last_ledger_entry_id = u64(r.get(), 0, 0);
    state.last_ledger_hash = hash(r.get(), 0, 1);
  }
  load_clearing_state(conn, state);
  load_auction_state(conn, state);
  load_instrument_definitions(conn, state);
  exec_or_throw(conn, "COMMIT", "end recovery snapshot");
  if (run != nullptr) *run = read_run;
  return state;
}

Status store_closed_client_id_digests(PGconn* conn, const engine::RecoveredState& state, const ClosedClientIdRun& run) {
  if (run.from == state.closed_client_ids.size() && !run.replace) return Status::ok();
  Status stored;
  try {
    stored = store_digests(conn, state, run);
  } catch (const std::exception& e) {  // out of memory: the rows are a cache, the start goes on
    stored = Status(ErrorCode::internal, std::string("store client order id digests: ") + e.what());
  }
  if (!stored.is_ok()) {
    PgResult rolled_back{PQexec(conn, "ROLLBACK")};
  }
  return stored;
}

namespace {

const char* fault_name(registry::ChainFault fault) {
  switch (fault) {
    case registry::ChainFault::wrong_entry_id: return "the entry ids are not dense (an entry is missing)";
    case registry::ChainFault::broken_link: return "its prev_hash is not the hash of the entry before it";
    case registry::ChainFault::wrong_hash: return "its stored hash does not match its contents (altered)";
    case registry::ChainFault::none: break;
  }
  return "sound";
}

/// `total += value`, refusing the start if the sum leaves 64 bits (rows no engine could have written); `what()`
/// names the sum, made only then.
template <typename What>
void add_checked(std::int64_t& total, std::int64_t value, What&& what) {
  if (__builtin_add_overflow(total, value, &total)) {
    throw std::runtime_error(std::string(what()) + " overflows 64 bits");
  }
}

/// Every holding's frozen and pledged units are exactly those of the freezes and pledges in force on it.
void check_encumbrances(const engine::RecoveredState& state) {
  using Key = std::pair<std::uint64_t, std::string>;
  std::map<Key, std::int64_t> frozen;
  std::map<Key, std::int64_t> pledged;
  for (const auto& f : state.freezes) {
    if (f.remaining.value < 0 || f.remaining.value > f.record.quantity.value) {
      throw std::runtime_error("freeze " + std::to_string(f.record.id) + " has " + std::to_string(f.remaining.value) +
                               " t remaining of the " + std::to_string(f.record.quantity.value) + " t it froze");
    }
    add_checked(frozen[{f.record.account, f.record.instrument}], f.remaining.value,
                [&f] { return "the units frozen in holding account " + std::to_string(f.record.account); });
  }
  for (const auto& p : state.pledges) {
    if (p.remaining.value < 0 || p.remaining.value > p.record.quantity.value) {
      throw std::runtime_error("pledge " + std::to_string(p.record.id) + " has " + std::to_string(p.remaining.value) +
                               " t remaining of the " + std::to_string(p.record.quantity.value) + " t it pledged");
    }
    add_checked(pledged[{p.record.pledgor, p.record.instrument}], p.remaining.value,
                [&p] { return "the units pledged from holding account " + std::to_string(p.record.pledgor); });
  }
  auto check = [](std::map<Key, std::int64_t>& expected, const Key& key, std::int64_t held, const char* what,
                  const char* by) {
    const auto found = expected.find(key);
    const std::int64_t want = found == expected.end() ? 0 : found->second;
    if (held != want) {
      throw std::runtime_error(std::string(what) + " units disagree for holding account " +
                               std::to_string(key.first) + " " + key.second + ": it holds " + std::to_string(held) +
                               " t " + what + ", the " + by + " in force on it hold " + std::to_string(want) + " t");
    }
    if (found != expected.end()) expected.erase(found);
  };
  for (const auto& h : state.holdings) {
    const Key key{h.account, h.instrument};
    check(frozen, key, h.holding.frozen.value, "frozen", "freezes");
    check(pledged, key, h.holding.pledged.value, "pledged", "pledges");
  }
  for (const auto& [what, left] : {std::pair{"freezes", &frozen}, std::pair{"pledges", &pledged}}) {
    for (const auto& [key, quantity] : *left) {
      if (quantity != 0) {
        throw std::runtime_error(std::string(what) + " in force hold " + std::to_string(quantity) + " t of " +
                                 key.second + " in holding account " + std::to_string(key.first) +
                                 ", which holds none");
      }
    }
  }
}

/// Every open order holds exactly its reservation: cash accounts' reserved
/// cash is the sum of their open buy orders' reservations, holdings' reserved
/// units the sum of the open sell orders' remaining quantity plus the units of
/// open repos held for their second leg in the buyer's account.
void check_reservations(const engine::RecoveredState& state) {
  std::map<std::uint64_t, std::uint64_t> cash_account_of;  // participant -> cash account
  std::map<std::uint64_t, std::uint64_t> holding_account_of;
  for (const auto& p : state.participants) {
    cash_account_of[p.id] = p.cash_account;
    holding_account_of[p.id] = p.holding_account;
  }
  std::map<std::uint64_t, std::int64_t> cash_reserved;
  std::map<std::pair<std::uint64_t, std::string>, std::int64_t> units_reserved;
  // An auction's offer reserves units in the seller's account, which may be a system one (no participant).
  std::map<std::uint64_t, std::uint64_t> auction_seller_of_offer;
  for (const auto& a : state.auctions) auction_seller_of_offer[a.offer_order] = a.seller_account;
  for (const auto& o : state.orders) {
    if (is_terminal(o.status)) {
      if (o.reservation.total.value != 0) {
        throw std::runtime_error("order " + std::to_string(o.id) + " is closed but still reserves " +
                                 std::to_string(o.reservation.total.value) + " fen");
      }
      continue;
    }
    auto what = [&o] { return "the reservations of the open orders in the account of order " + std::to_string(o.id); };
    if (o.side == Side::buy) {
      if (o.reservation.from_unsettled.value < 0 || o.reservation.from_unsettled.value > o.reservation.total.value) {
        throw std::runtime_error("order " + std::to_string(o.id) + " reserves " +
                                 std::to_string(o.reservation.from_unsettled.value) + " fen of sale proceeds, out of " +
                                 std::to_string(o.reservation.total.value) + " fen in all");
      }
      add_checked(cash_reserved[cash_account_of[o.participant]], o.reservation.total.value, what);
    } else if (auto offer = auction_seller_of_offer.find(o.id); offer != auction_seller_of_offer.end()) {
      add_checked(units_reserved[{offer->second, o.instrument}], o.remaining().value, what);
    } else {
      add_checked(units_reserved[{holding_account_of[o.participant], o.instrument}], o.remaining().value, what);
    }
  }
  for (const auto& repo : state.repos) {
    if (repo.status == engine::RepoStatus::open) {
      add_checked(units_reserved[{repo.buyer_account, repo.instrument}], repo.quantity.value, [&repo] {
        return "the units held for open repos in holding account " + std::to_string(repo.buyer_account);
      });
    }
  }
  for (const auto& c : state.cash) {
    const auto found = cash_reserved.find(c.account);
    const std::int64_t expected = found == cash_reserved.end() ? 0 : found->second;
    if (c.balance.reserved.value != expected) {
      throw std::runtime_error("reservations disagree for cash account " + std::to_string(c.account) +
                               ": it holds " + std::to_string(c.balance.reserved.value) +
                               " fen reserved, its open buy orders reserve " + std::to_string(expected) + " fen");
    }
    if (found != cash_reserved.end()) cash_reserved.erase(found);
  }
  for (const auto& [account, fen] : cash_reserved) {
    if (fen != 0) {
      throw std::runtime_error("open buy orders reserve " + std::to_string(fen) + " fen in cash account " +
                               std::to_string(account) + ", which does not exist");
    }
  }
  for (const auto& h : state.holdings) {
    const auto found = units_reserved.find({h.account, h.instrument});
    const std::int64_t expected = found == units_reserved.end() ? 0 : found->second;
    if (h.holding.reserved.value != expected) {
      throw std::runtime_error("reservations disagree for holding account " + std::to_string(h.account) + " " +
                               h.instrument + ": it holds " + std::to_string(h.holding.reserved.value) +
                               " t reserved, its open sell orders reserve " + std::to_string(expected) + " t");
    }
    if (found != units_reserved.end()) units_reserved.erase(found);
  }
  for (const auto& [key, quantity] : units_reserved) {
    if (quantity != 0) {
      throw std::runtime_error("open sell orders reserve " + std::to_string(quantity) + " t of " + key.second +
                               " in holding account " + std::to_string(key.first) + ", which holds none");
    }
  }
}

}  // namespace

void check_state(PGconn* conn, const engine::RecoveredState& state) {
  std::map<std::string, std::int64_t> net;
  for (const auto& h : state.holdings) {
    // Each part, then the sum: Holding::total() itself would overflow unchecked on such rows.
    for (const Qty part : {h.holding.available, h.holding.reserved, h.holding.pending, h.holding.frozen,
                           h.holding.pledged}) {
      add_checked(net[h.instrument], part.value, [&h] { return "the sum of all holdings of " + h.instrument; });
    }
  }
  for (const auto& [instrument, total] : net) {
    if (total != 0) {
      throw std::runtime_error("conservation of units fails for " + instrument + ": all holdings sum to " +
                               std::to_string(total) + " t, not 0");
    }
  }

  check_ccer_state(state);

  PgResult r = exec_or_throw(conn,
                             "SELECT COALESCE(SUM(CASE WHEN withdrawal THEN -amount_fen ELSE amount_fen END), 0)"
                             " FROM cash_movements",
                             "sum cash movements");
  const std::int64_t moved = i64(r.get(), 0, 0);
  std::int64_t held = 0;
  for (const auto& c : state.cash) {
    for (const Cash part : {c.balance.available, c.balance.reserved, c.balance.unsettled}) {
      add_checked(held, part.value, [] { return "the sum of all cash balances"; });
    }
  }
  if (moved != held) {
    throw std::runtime_error("conservation of cash fails: deposits minus withdrawals are " + std::to_string(moved) +
                             " fen, all balances sum to " + std::to_string(held) + " fen");
  }

  check_reservations(state);
  check_encumbrances(state);

  // Nothing is newer than the journal's last sequence (the sequence the engine resumes from). Orders and trades
  // changed after the day opened are all loaded, so the day must not have opened after it either.
  if (state.market && state.market->day_opened_sequence > state.last_sequence) {
    throw std::runtime_error("the trading day opened at sequence " + std::to_string(state.market->day_opened_sequence) +
                             ", after the journal's last sequence " + std::to_string(state.last_sequence));
  }
  for (const auto& o : state.orders) {
    if (o.updated_sequence > state.last_sequence) {
      throw std::runtime_error("order " + std::to_string(o.id) + " was changed at sequence " +
                               std::to_string(o.updated_sequence) + ", after the journal's last sequence " +
                               std::to_string(state.last_sequence));
    }
  }
  if (!state.trades.empty() && state.trades.back().sequence > state.last_sequence) {
    throw std::runtime_error("trade " + std::to_string(state.trades.back().id) + " is at sequence " +
                             std::to_string(state.trades.back().sequence) + ", after the journal's last sequence " +
                             std::to_string(state.last_sequence));
  }

  if (state.last_ledger_entry_id == 0) {
    // An empty ledger: so the journal never appended to it (only set-up commands come before the first
    // issuance, so this scan of a journal without ledger events is short).
    r = exec_params_or_throw(conn, kNewestLedgerEventSql, {"0"}, "read the journal's ledger head");
    if (PQntuples(r.get()) == 1) {
      throw std::runtime_error("the ledger is empty, but the journal recorded ledger entries up to sequence " +
                               text(r.get(), 0, 0) + ": ledger entries are missing");
    }
    return;
  }
  // The tail of the hash chain: the last kLedgerTailChecked entries re-hashed, dense and linked.
  const std::uint64_t first =
      state.last_ledger_entry_id > kLedgerTailChecked ? state.last_ledger_entry_id - kLedgerTailChecked + 1 : 1;
  r = exec_params_or_throw(conn,
                           "SELECT entry_id, sequence, recorded_at_unix_nanos, instrument, from_account_id,"
                           " to_account_id, quantity, kind, reference, prev_hash, hash FROM ledger_entries"
                           " WHERE entry_id >= $1 ORDER BY entry_id",
                           {std::to_string(first)}, "read ledger tail entries");
  std::vector<registry::LedgerEntry> tail;
  tail.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int row = 0; row < PQntuples(r.get()); ++row) tail.push_back(ledger_entry(r.get(), row));
  if (tail.empty() || tail.front().entry_id != first) {
    throw std::runtime_error("the ledger's hash chain is broken: entry " + std::to_string(first) +
                             " is missing (the chain must be dense up to its head, entry " +
                             std::to_string(state.last_ledger_entry_id) + ")");
  }
  const registry::Hash prev = first == 1 ? registry::Hash{} : tail.front().prev_hash;
  const registry::ChainVerification verified = registry::verify_chain(tail, prev, first);
  if (!verified.ok()) {
    throw std::runtime_error("the ledger's hash chain is broken at entry " +
                             std::to_string(verified.first_bad_entry_id) + ": " + fault_name(verified.fault));
  }
  if (tail.back().sequence > state.last_sequence) {
    throw std::runtime_error("ledger entry " + std::to_string(tail.back().entry_id) + " is at sequence " +
                             std::to_string(tail.back().sequence) + ", after the journal's last sequence " +
                             std::to_string(state.last_sequence));
  }
  // The head agrees with the journal's record of it: the newest LedgerAppended event in the whole journal is the
  // head's own (the commands after the head's are scanned back to it).
  r = exec_params_or_throw(conn, kNewestLedgerEventSql, {std::to_string(tail.back().sequence)},
                           "read the journal's ledger head");
  if (PQntuples(r.get()) != 1) {
    throw std::runtime_error("the ledger's head, entry " + std::to_string(tail.back().entry_id) +
                             ", has no LedgerAppended event in the journal at its sequence " +
                             std::to_string(tail.back().sequence));
  }
  const std::uint64_t journal_sequence = std::stoull(text(r.get(), 0, 0));
  const std::uint64_t journal_entry = std::stoull(text(r.get(), 0, 1));
  if (journal_entry != tail.back().entry_id) {
    throw std::runtime_error("the ledger ends at entry " + std::to_string(tail.back().entry_id) + " (sequence " +
                             std::to_string(tail.back().sequence) + "), but the journal recorded entry " +
                             std::to_string(journal_entry) + " at sequence " + std::to_string(journal_sequence) +
                             ": ledger entries are missing");
  }
  if (text(r.get(), 0, 2) != registry::to_hex(tail.back().hash)) {
    throw std::runtime_error("the ledger's head, entry " + std::to_string(tail.back().entry_id) +
                             ", has a hash that differs from the one its journal event recorded");
  }
}

Status take_journal_writer_lock(PGconn* conn, std::chrono::milliseconds wait) {
  // Polled with pg_try_advisory_lock, not waited for in the lock queue: a queued exclusive request would
  // make a running carbond's reconnecting journal connection wait behind it for its shared lock.
  const std::string key = std::to_string(kJournalWriterLock);
  const std::string try_lock = "SELECT pg_try_advisory_lock(" + key + ")";
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    PgResult tried;
    if (!exec_until(conn, try_lock, {}, std::chrono::steady_clock::now() + kReadTimeout, tried)) {
      return Status{ErrorCode::unavailable, "start: the database did not answer while taking the journal writers' lock"};
    }
    if (PQresultStatus(tried.get()) != PGRES_TUPLES_OK) return status_from_result(tried.get(), conn);
    if (std::string_view(PQgetvalue(tried.get(), 0, 0)) == "t") break;
    if (std::chrono::steady_clock::now() >= deadline) {
      // Name the backends that hold it (this database's only), and what they are doing.
      const std::string sql =
          "SELECT l.pid, COALESCE(a.state, '?'), COALESCE(extract(epoch FROM now() - a.xact_start)::bigint, -1)"
          " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
          " WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname ="
          " current_database()) AND l.classid = 0 AND l.objid = " + key + " AND l.objsubid = 1 AND l.granted"
          " AND l.pid <> pg_backend_pid() ORDER BY l.pid";
      PgResult holders;
      std::string named;
      if (exec_until(conn, sql, {}, std::chrono::steady_clock::now() + kReadTimeout, holders) &&
          PQresultStatus(holders.get()) == PGRES_TUPLES_OK) {
        for (int row = 0; row < PQntuples(holders.get()); ++row) {
          const std::string seconds = PQgetvalue(holders.get(), row, 2);
          named += std::string(named.empty() ? "" : ", ") + "pid " + PQgetvalue(holders.get(), row, 0) + " (" +
                   PQgetvalue(holders.get(), row, 1) +
                   (seconds == "-1" ? std::string() : ", in a transaction for " + seconds + " s") + ")";
        }
      }
      return Status{ErrorCode::failed_precondition,
                    "start: journal writer connections of another carbond are still open in the database (" +
                        (named.empty() ? std::string("backends not visible to this role") : named) + ") after " +
                        std::to_string(wait.count()) +
                        " ms ([storage] earlier_writer_wait_ms). Two carbonds may not write one database. If no "
                        "other carbond is running, these are a stopped one's connections still running their last "
                        "transaction: the state is read only once it has ended. Wait for it, or end it with "
                        "SELECT pg_terminate_backend(pid), then start again"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Held from here on in shared mode, as the journal's connections hold it, for as long as `conn` lives.
  PgResult shared;
  const auto within = std::chrono::steady_clock::now() + kReadTimeout;
  if (!exec_until(conn, "SELECT pg_advisory_lock_shared(" + key + "); SELECT pg_advisory_unlock(" + key + ")", {},
                  within, shared)) {
    return Status{ErrorCode::unavailable, "start: the database did not answer while taking the journal writers' lock"};
  }
  if (PQresultStatus(shared.get()) != PGRES_TUPLES_OK) return status_from_result(shared.get(), conn);
  return Status::ok();
}

}  // namespace carbon::store
