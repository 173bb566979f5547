#include "store/clearing_rows.h"

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "store/pg.h"

namespace carbon::store {
namespace {

constexpr const char* kUpsertReconciliations =
    "INSERT INTO reconciliations (trading_date, balanced, sequence, report)"
    " SELECT d, b, s, r::jsonb FROM unnest($1::text[], $2::boolean[], $3::bigint[], $4::text[]) AS t(d, b, s, r)"
    " ON CONFLICT (trading_date) DO UPDATE SET balanced = EXCLUDED.balanced, sequence = EXCLUDED.sequence,"
    " report = EXCLUDED.report";
constexpr const char* kInsertAlerts =
    "INSERT INTO surveillance_alerts (alert_id, alert_type, severity, instrument, detected_at_unix_nanos, sequence,"
    " alert)"
    " SELECT i, t, v, n, d, s, a::jsonb FROM unnest($1::bigint[], $2::smallint[], $3::smallint[], $4::text[],"
    " $5::bigint[], $6::bigint[], $7::text[]) AS x(i, t, v, n, d, s, a)";
constexpr const char* kUpsertStatements =
    "INSERT INTO statements (trading_date, participant_id, sequence, statement)"
    " SELECT d, p, s, j::jsonb FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS t(d, p, s, j)"
    " ON CONFLICT (trading_date, participant_id) DO UPDATE SET sequence = EXCLUDED.sequence,"
    " statement = EXCLUDED.statement";

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

nlohmann::json holding_json(const registry::Holding& h) {
  return {{"available", h.available.value}, {"reserved", h.reserved.value}, {"pending", h.pending.value},
          {"frozen", h.frozen.value},       {"pledged", h.pledged.value}};
}
registry::Holding holding_from(const nlohmann::json& j) {
  return registry::Holding{Qty{j.at("available").get<std::int64_t>()}, Qty{j.at("reserved").get<std::int64_t>()},
                           Qty{j.at("pending").get<std::int64_t>()}, Qty{j.at("frozen").get<std::int64_t>()},
                           Qty{j.at("pledged").get<std::int64_t>()}};
}

nlohmann::json trade_json(const engine::TradeRecord& t) {
  return {{"trade_id", t.id},
          {"instrument", t.instrument},
          {"mode", static_cast<int>(t.mode)},
          {"price_fen", t.price.value},
          {"quantity", t.quantity.value},
          {"buy_order_id", t.buy_order},
          {"sell_order_id", t.sell_order},
          {"buyer_participant_id", t.buyer},
          {"seller_participant_id", t.seller},
          {"aggressor_side", static_cast<int>(t.aggressor)},
          {"sequence", t.sequence},
          {"executed_at_unix_nanos", t.executed_at},
          {"buyer_fee_fen", t.buyer_fee.value},
          {"seller_fee_fen", t.seller_fee.value}};
}
engine::TradeRecord trade_from(const nlohmann::json& j) {
  engine::TradeRecord t;
  t.id = j.at("trade_id").get<std::uint64_t>();
  t.instrument = j.at("instrument").get<std::string>();
  t.mode = static_cast<TradingMode>(j.at("mode").get<int>());
  t.price = Price{j.at("price_fen").get<std::int64_t>()};
  t.quantity = Qty{j.at("quantity").get<std::int64_t>()};
  t.buy_order = j.at("buy_order_id").get<std::uint64_t>();
  t.sell_order = j.at("sell_order_id").get<std::uint64_t>();
  t.buyer = j.at("buyer_participant_id").get<std::uint64_t>();
  t.seller = j.at("seller_participant_id").get<std::uint64_t>();
  t.aggressor = static_cast<Side>(j.at("aggressor_side").get<int>());
  t.sequence = j.at("sequence").get<std::uint64_t>();
  t.executed_at = j.at("executed_at_unix_nanos").get<std::int64_t>();
  t.buyer_fee = Cash{j.at("buyer_fee_fen").get<std::int64_t>()};
  t.seller_fee = Cash{j.at("seller_fee_fen").get<std::int64_t>()};
  return t;
}

std::int64_t i64_at(PGresult* r, int row, int column) { return std::strtoll(PQgetvalue(r, row, column), nullptr, 10); }

}  // namespace

nlohmann::json to_json(const engine::ReconciliationRecord& r) {
  nlohmann::json units = nlohmann::json::array();
  for (const engine::UnitReconciliation& u : r.units) {
    units.push_back({{"instrument", u.instrument},
                     {"issued", u.issued.value},
                     {"participant_holdings", u.participant_holdings.value},
                     {"reserve_account", u.reserve_account.value},
                     {"auction_account", u.auction_account.value},
                     {"surrendered", u.surrendered.value},
                     {"retired", u.retired.value},
                     {"difference", u.difference.value},
                     {"balanced", u.balanced}});
  }
  const engine::CashReconciliation& c = r.cash;
  return {{"trading_date", r.trading_date},
          {"as_of_sequence", r.as_of_sequence},
          {"computed_at_unix_nanos", r.computed_at},
          {"balanced", r.balanced},
          {"statements_written", r.statements_written},
          {"cash",
           {{"total_deposits_fen", c.deposits.value},
            {"total_withdrawals_fen", c.withdrawals.value},
            {"participant_balances_fen", c.participant_balances.value},
            {"fee_account_fen", c.fee_account.value},
            {"proceeds_account_fen", c.proceeds_account.value},
            {"difference_fen", c.difference.value},
            {"balanced", c.balanced}}},
          {"units", units}};
}

engine::ReconciliationRecord reconciliation_from_json(const nlohmann::json& j) {
  engine::ReconciliationRecord r;
  r.trading_date = j.at("trading_date").get<std::string>();
  r.as_of_sequence = j.at("as_of_sequence").get<std::uint64_t>();
  r.computed_at = j.at("computed_at_unix_nanos").get<std::int64_t>();
  r.balanced = j.at("balanced").get<bool>();
  r.statements_written = j.value("statements_written", std::uint32_t{0});  // filled in by migration 0016 if older
  const auto& c = j.at("cash");
  r.cash.deposits = Cash{c.at("total_deposits_fen").get<std::int64_t>()};
  r.cash.withdrawals = Cash{c.at("total_withdrawals_fen").get<std::int64_t>()};
  r.cash.participant_balances = Cash{c.at("participant_balances_fen").get<std::int64_t>()};
  r.cash.fee_account = Cash{c.at("fee_account_fen").get<std::int64_t>()};
  r.cash.proceeds_account = Cash{c.at("proceeds_account_fen").get<std::int64_t>()};
  r.cash.difference = Cash{c.at("difference_fen").get<std::int64_t>()};
  r.cash.balanced = c.at("balanced").get<bool>();
  for (const auto& u : j.at("units")) {
    engine::UnitReconciliation units;
    units.instrument = u.at("instrument").get<std::string>();
    units.issued = Qty{u.at("issued").get<std::int64_t>()};
    units.participant_holdings = Qty{u.at("participant_holdings").get<std::int64_t>()};
    units.reserve_account = Qty{u.at("reserve_account").get<std::int64_t>()};
    units.auction_account = Qty{u.at("auction_account").get<std::int64_t>()};
    units.surrendered = Qty{u.at("surrendered").get<std::int64_t>()};
    units.retired = Qty{u.at("retired").get<std::int64_t>()};
    units.difference = Qty{u.at("difference").get<std::int64_t>()};
    units.balanced = u.at("balanced").get<bool>();
    r.units.push_back(std::move(units));
  }
  return r;
}

nlohmann::json to_json(const engine::AlertRecord& a) {
  return {{"alert_id", a.id},
          {"type", a.type},
          {"severity", a.severity},
          {"instrument", a.instrument},
          {"participant_ids", a.participants},
          {"description", a.description},
          {"metric_value", a.metric_value},
          {"threshold_value", a.threshold_value},
          {"metric_unit", a.metric_unit},
          {"window_start_unix_nanos", a.window_start},
          {"window_end_unix_nanos", a.window_end},
          {"detected_at_unix_nanos", a.detected_at},
          {"sequence", a.sequence}};
}

engine::AlertRecord alert_from_json(const nlohmann::json& j) {
  engine::AlertRecord a;
  a.id = j.at("alert_id").get<std::uint64_t>();
  a.type = j.at("type").get<int>();
  a.severity = j.at("severity").get<int>();
  a.instrument = j.at("instrument").get<std::string>();
  a.participants = j.at("participant_ids").get<std::vector<ParticipantId>>();
  a.description = j.at("description").get<std::string>();
  a.metric_value = j.at("metric_value").get<std::int64_t>();
  a.threshold_value = j.at("threshold_value").get<std::int64_t>();
  a.metric_unit = j.at("metric_unit").get<std::string>();
  a.window_start = j.at("window_start_unix_nanos").get<std::int64_t>();
  a.window_end = j.at("window_end_unix_nanos").get<std::int64_t>();
  a.detected_at = j.at("detected_at_unix_nanos").get<std::int64_t>();
  a.sequence = j.at("sequence").get<std::uint64_t>();
  return a;
}

nlohmann::json to_json(const engine::StatementRecord& s) {
  nlohmann::json lines = nlohmann::json::array();
  for (const engine::StatementLine& l : s.lines) {
    lines.push_back({{"instrument", l.instrument},
                     {"opening_quantity", l.opening.value},
                     {"bought_quantity", l.bought.value},
                     {"sold_quantity", l.sold.value},
                     {"received_quantity", l.received.value},
                     {"delivered_quantity", l.delivered.value},
                     {"closing_holding", holding_json(l.closing)},
                     {"bought_value_fen", l.bought_value.value},
                     {"sold_value_fen", l.sold_value.value},
                     {"fees_fen", l.fees.value},
                     {"closing_price_fen", l.closing_price.value}});
  }
  nlohmann::json trades = nlohmann::json::array();
  for (const engine::TradeRecord& t : s.trades) trades.push_back(trade_json(t));
  return {{"participant_id", s.participant},
          {"trading_date", s.trading_date},
          {"cash_account_id", s.cash_account},
          {"holding_account_id", s.holding_account},
          {"opening_cash_fen", s.opening_cash.value},
          {"deposits_fen", s.deposits.value},
          {"withdrawals_fen", s.withdrawals.value},
          {"bought_value_fen", s.bought_value.value},
          {"sold_value_fen", s.sold_value.value},
          {"fees_fen", s.fees.value},
          {"closing_cash",
           {{"available_fen", s.closing_cash.available.value},
            {"reserved_fen", s.closing_cash.reserved.value},
            {"unsettled_fen", s.closing_cash.unsettled.value}}},
          {"lines", lines},
          {"trades", trades},
          {"generated_at_unix_nanos", s.generated_at},
          {"sequence", s.sequence}};
}

engine::StatementRecord statement_from_json(const nlohmann::json& j) {
  engine::StatementRecord s;
  s.participant = j.at("participant_id").get<std::uint64_t>();
  s.trading_date = j.at("trading_date").get<std::string>();
  s.cash_account = j.at("cash_account_id").get<std::uint64_t>();
  s.holding_account = j.at("holding_account_id").get<std::uint64_t>();
  s.opening_cash = Cash{j.at("opening_cash_fen").get<std::int64_t>()};
  s.deposits = Cash{j.at("deposits_fen").get<std::int64_t>()};
  s.withdrawals = Cash{j.at("withdrawals_fen").get<std::int64_t>()};
  s.bought_value = Cash{j.at("bought_value_fen").get<std::int64_t>()};
  s.sold_value = Cash{j.at("sold_value_fen").get<std::int64_t>()};
  s.fees = Cash{j.at("fees_fen").get<std::int64_t>()};
  const auto& c = j.at("closing_cash");
  s.closing_cash = settlement::CashAccount{Cash{c.at("available_fen").get<std::int64_t>()},
                                           Cash{c.at("reserved_fen").get<std::int64_t>()},
                                           Cash{c.at("unsettled_fen").get<std::int64_t>()}};
  for (const auto& l : j.at("lines")) {
    engine::StatementLine line;
    line.instrument = l.at("instrument").get<std::string>();
    line.opening = Qty{l.at("opening_quantity").get<std::int64_t>()};
    line.bought = Qty{l.at("bought_quantity").get<std::int64_t>()};
    line.sold = Qty{l.at("sold_quantity").get<std::int64_t>()};
    line.received = Qty{l.at("received_quantity").get<std::int64_t>()};
    line.delivered = Qty{l.at("delivered_quantity").get<std::int64_t>()};
    line.closing = holding_from(l.at("closing_holding"));
    line.bought_value = Cash{l.at("bought_value_fen").get<std::int64_t>()};
    line.sold_value = Cash{l.at("sold_value_fen").get<std::int64_t>()};
    line.fees = Cash{l.at("fees_fen").get<std::int64_t>()};
    line.closing_price = Price{l.at("closing_price_fen").get<std::int64_t>()};
    s.lines.push_back(std::move(line));
  }
  for (const auto& t : j.at("trades")) s.trades.push_back(trade_from(t));
  s.generated_at = j.at("generated_at_unix_nanos").get<std::int64_t>();
  s.sequence = j.at("sequence").get<std::uint64_t>();
  return s;
}

void ClearingRows::add(const engine::Event& event) {
  if (auto* e = std::get_if<engine::ReconciliationRecorded>(&event)) reconciliations_.push_back(&e->report);
  if (auto* e = std::get_if<engine::AlertRaised>(&event)) alerts_.push_back(&e->alert);
  if (auto* e = std::get_if<engine::StatementWritten>(&event)) statements_.push_back(&e->statement);
}

std::vector<std::pair<const char*, Columns>> ClearingRows::statements() const {
  std::vector<std::pair<const char*, Columns>> out;
  if (!reconciliations_.empty()) {
    Columns c(4);
    for (const engine::ReconciliationRecord* r : reconciliations_) {
      c.columns[0].add(r->trading_date);
      c.columns[1].add(r->balanced);
      c.columns[2].add(r->as_of_sequence);
      c.columns[3].add(dump(to_json(*r)));
    }
    out.emplace_back(kUpsertReconciliations, std::move(c));
  }
  if (!alerts_.empty()) {
    Columns c(7);
    for (const engine::AlertRecord* a : alerts_) {
      c.columns[0].add(a->id);
      c.columns[1].add(std::int64_t{a->type});
      c.columns[2].add(std::int64_t{a->severity});
      c.columns[3].add(a->instrument);
      c.columns[4].add(std::int64_t{a->detected_at});
      c.columns[5].add(a->sequence);
      c.columns[6].add(dump(to_json(*a)));
    }
    out.emplace_back(kInsertAlerts, std::move(c));
  }
  if (!statements_.empty()) {
    Columns c(4);
    for (const engine::StatementRecord* s : statements_) {
      c.columns[0].add(s->trading_date);
      c.columns[1].add(s->participant);
      c.columns[2].add(s->sequence);
      c.columns[3].add(dump(to_json(*s)));
    }
    out.emplace_back(kUpsertStatements, std::move(c));
  }
  return out;
}

std::optional<nlohmann::json> clearing_event_json(const engine::Event& event) {
  if (auto* e = std::get_if<engine::ReconciliationRecorded>(&event)) return to_json(e->report);
  if (auto* e = std::get_if<engine::AlertRaised>(&event)) return to_json(e->alert);
  if (auto* e = std::get_if<engine::StatementWritten>(&event)) return to_json(e->statement);
  return std::nullopt;
}

void load_clearing_state(PGconn* conn, engine::RecoveredState& state) {
  PgResult r = exec_or_throw(conn, "SELECT report FROM reconciliations ORDER BY trading_date", "read reconciliations");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.reconciliations.push_back(reconciliation_from_json(nlohmann::json::parse(PQgetvalue(r.get(), row, 0))));
  }
  r = exec_or_throw(conn, "SELECT alert FROM surveillance_alerts ORDER BY alert_id", "read surveillance alerts");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.alerts.push_back(alert_from_json(nlohmann::json::parse(PQgetvalue(r.get(), row, 0))));
  }
  // Only each participant's latest statement, the opening of its next one: every participant gets one at each
  // end of day, so those of the last day closed. Earlier ones are read where they are (read_statement).
  r = exec_or_throw(conn,
                    "SELECT jsonb_set(statement, '{trades}', '[]'::jsonb) FROM statements"
                    " WHERE trading_date = (SELECT max(trading_date) FROM statements) ORDER BY participant_id",
                    "read the last statements");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.statements.push_back(statement_from_json(nlohmann::json::parse(PQgetvalue(r.get(), row, 0))));
  }
  // Non-trade movements of units since the trading day in progress opened, for its statements.
  const Sequence opened = state.market ? state.market->day_opened_sequence : 0;
  std::uint64_t first_entry = 1;
  if (Status s = first_id_after(conn, "ledger_entries", "entry_id", opened, first_entry); !s.is_ok()) {
    throw std::runtime_error("find the day's first ledger entry: " + s.message());
  }
  r = exec_params_or_throw(conn,
                           "SELECT from_account_id, to_account_id, instrument, quantity FROM ledger_entries"
                           " WHERE entry_id >= $2 AND sequence > $1 AND kind NOT IN (2, 14, 15)"
                           " AND from_account_id <> to_account_id ORDER BY entry_id",
                           {std::to_string(opened), std::to_string(first_entry)},
                           "read the day's ledger entries");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.day_transfers.emplace_back(static_cast<AccountId>(i64_at(r.get(), row, 0)),
                                     static_cast<AccountId>(i64_at(r.get(), row, 1)), PQgetvalue(r.get(), row, 2),
                                     Qty{i64_at(r.get(), row, 3)});
  }
}

Status read_statement(const std::string& conninfo, ParticipantId participant, const std::string& trading_date,
                      engine::StatementRecord& out) {
  auto none = [&](const std::string& date) {
    return not_found("no statement of participant " + std::to_string(participant) + " for " + date +
                     " (not a trading day, end of day not yet run, or unknown participant)");
  };
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  PgResult r;
  std::string date = trading_date;
  if (date.empty()) {
    if (Status s = read_query(conn.get(), "SELECT max(trading_date) FROM reconciliations", {}, r); !s.is_ok()) return s;
    if (PQgetisnull(r.get(), 0, 0)) return not_found("end of day has not been run yet");
    date = PQgetvalue(r.get(), 0, 0);
  }
  if (participant > static_cast<ParticipantId>(std::numeric_limits<std::int64_t>::max())) return none(date);
  if (Status s = read_query(conn.get(), "SELECT statement FROM statements WHERE trading_date = $1 AND participant_id = $2",
                            {date, std::to_string(participant)}, r);
      !s.is_ok()) {
    return s;
  }
  if (PQntuples(r.get()) != 1) return none(date);
  try {
    out = statement_from_json(nlohmann::json::parse(PQgetvalue(r.get(), 0, 0)));
  } catch (const std::exception& e) {
    return Status{ErrorCode::internal, std::string("stored statement unreadable: ") + e.what()};
  }
  return Status::ok();
}

}  // namespace carbon::store
