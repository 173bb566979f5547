#include "store/journal.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "store/columns.h"
#include "store/registry_rows.h"

namespace carbon::store {
namespace {

using engine::CashChanged;
using engine::CashMoved;
using engine::CommandRejected;
using engine::Event;
using engine::HoldingChanged;
using engine::LedgerAppended;
using engine::OrderChanged;
using engine::OrderRecord;
using engine::ParticipantCreated;
using engine::TradeExecuted;
using engine::ParticipantControlsChanged;
using engine::InstrumentStateChanged;
using engine::MarketStateChanged;
using engine::CalendarChanged;
using engine::DailyBarRecorded;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

template <typename T>
std::int64_t i(T v) {
  return static_cast<std::int64_t>(v);
}

nlohmann::json order_json(const OrderRecord& o) {
  return {{"order_id", o.id},
          {"client_order_id", o.client_order_id},
          {"participant_id", o.participant},
          {"instrument", o.instrument},
          {"side", i(o.side)},
          {"type", i(o.type)},
          {"time_in_force", i(o.time_in_force)},
          {"mode", i(o.mode)},
          {"price_fen", o.price.value},
          {"quantity", o.quantity.value},
          {"filled_quantity", o.filled.value},
          {"status", i(o.status)},
          {"priority", o.priority},
          {"reserved_fen", o.reservation.total.value},
          {"counterparty_participant_id", o.counterparty}};
}

constexpr const char* kInsertJournal =
    "INSERT INTO journal (sequence, event_index, recorded_at_unix_nanos, kind, payload)"
    " SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::jsonb[])";
constexpr const char* kInsertParticipants =
    "INSERT INTO participants (participant_id, code, name, participant_type, holding_account_id, cash_account_id,"
    " token_sha256, created_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::smallint[], $5::bigint[], $6::bigint[],"
    " $7::bytea[], $8::bigint[])";
constexpr const char* kUpsertCash =
    "INSERT INTO cash_accounts (cash_account_id, participant_id, available_fen, reserved_fen, unsettled_fen,"
    " updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])"
    " ON CONFLICT (cash_account_id) DO UPDATE SET available_fen = EXCLUDED.available_fen,"
    " reserved_fen = EXCLUDED.reserved_fen, unsettled_fen = EXCLUDED.unsettled_fen,"
    " updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertMovements =
    "INSERT INTO cash_movements (cash_account_id, withdrawal, idempotency_key, amount_fen, sequence,"
    " available_after_fen, reserved_after_fen, unsettled_after_fen)"
    " SELECT * FROM unnest($1::bigint[], $2::boolean[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::bigint[], $8::bigint[])";
constexpr const char* kUpsertHoldings =
    "INSERT INTO holdings (holding_account_id, instrument, available, reserved, pending, frozen, pledged,"
    " updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::bigint[], $8::bigint[])"
    " ON CONFLICT (holding_account_id, instrument) DO UPDATE SET available = EXCLUDED.available,"
    " reserved = EXCLUDED.reserved, pending = EXCLUDED.pending, frozen = EXCLUDED.frozen,"
    " pledged = EXCLUDED.pledged, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertLedger =
    "INSERT INTO ledger_entries (entry_id, sequence, recorded_at_unix_nanos, instrument, from_account_id,"
    " to_account_id, quantity, kind, reference, prev_hash, hash)"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[],"
    " $7::bigint[], $8::smallint[], $9::text[], $10::bytea[], $11::bytea[])";
constexpr const char* kUpsertOrders =
    "INSERT INTO orders (order_id, client_order_id, participant_id, instrument, side, order_type, time_in_force,"
    " mode, price_fen, quantity, filled_quantity, status, sequence, entered_at_unix_nanos, priority, reserved_fen,"
    " reserved_unsettled_fen, updated_sequence, counterparty_participant_id)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::smallint[], $6::smallint[],"
    " $7::smallint[], $8::smallint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::smallint[], $13::bigint[],"
    " $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[])"
    " ON CONFLICT (order_id) DO UPDATE SET filled_quantity = EXCLUDED.filled_quantity, status = EXCLUDED.status,"
    " price_fen = EXCLUDED.price_fen, quantity = EXCLUDED.quantity,"
    " priority = EXCLUDED.priority, reserved_fen = EXCLUDED.reserved_fen,"
    " reserved_unsettled_fen = EXCLUDED.reserved_unsettled_fen, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertTrades =
    "INSERT INTO trades (trade_id, instrument, mode, price_fen, quantity, buy_order_id, sell_order_id,"
    " buyer_participant_id, seller_participant_id, aggressor_side, sequence, executed_at_unix_nanos)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::bigint[], $8::bigint[], $9::bigint[], $10::smallint[], $11::bigint[], $12::bigint[])";
constexpr const char* kUpsertControls =
    "INSERT INTO participant_controls (participant_id, self_trade, suspended, suspension_reason, updated_sequence)"
    " SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::boolean[], $4::text[], $5::bigint[])"
    " ON CONFLICT (participant_id) DO UPDATE SET self_trade = EXCLUDED.self_trade, suspended = EXCLUDED.suspended,"
    " suspension_reason = EXCLUDED.suspension_reason, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kUpsertInstrumentState =
    "INSERT INTO instrument_state (instrument, reference_price_fen, previous_close_fen, halted, halt_reason,"
    " updated_sequence)"
    " SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::boolean[], $5::text[], $6::bigint[])"
    " ON CONFLICT (instrument) DO UPDATE SET reference_price_fen = EXCLUDED.reference_price_fen,"
    " previous_close_fen = EXCLUDED.previous_close_fen, halted = EXCLUDED.halted,"
    " halt_reason = EXCLUDED.halt_reason, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kUpsertMarketState =
    "INSERT INTO market_state (trading_date, day_opened_sequence, halted, halt_reason, updated_sequence)"
    " SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::text[], $5::bigint[])"
    " ON CONFLICT (singleton) DO UPDATE SET trading_date = EXCLUDED.trading_date,"
    " day_opened_sequence = EXCLUDED.day_opened_sequence, halted = EXCLUDED.halted,"
    " halt_reason = EXCLUDED.halt_reason, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kUpsertCalendar =
    "INSERT INTO trading_calendar (year, holidays, updated_sequence)"
    " SELECT y, string_to_array(h, ',')::text[], s FROM unnest($1::int[], $2::text[], $3::bigint[]) AS t(y, h, s)"
    " ON CONFLICT (year) DO UPDATE SET holidays = EXCLUDED.holidays, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kInsertBars =
    "INSERT INTO daily_bars (instrument, trading_date, mode, open_fen, high_fen, low_fen, close_fen, volume,"
    " turnover_fen, trade_count, sequence)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])";

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out.push_back(',');
    out += part;
  }
  return out;
}

/// The rows of the market-state projections in one batch: rare events
/// (operator actions, end of day), one statement per table per batch.
struct MarketRows {
  std::map<ParticipantId, std::pair<const engine::ParticipantControls*, Sequence>> controls;
  std::map<std::string, std::pair<const engine::InstrumentState*, Sequence>> instruments;
  const engine::MarketState* market = nullptr;
  Sequence market_sequence = 0;
  std::map<int, std::pair<const CalendarChanged*, Sequence>> calendars;
  Columns bars{11};

  void add(const Event& event, Sequence seq) {
    if (auto* e = std::get_if<ParticipantControlsChanged>(&event)) controls[e->controls.participant] = {&e->controls, seq};
    if (auto* e = std::get_if<InstrumentStateChanged>(&event)) instruments[e->state.instrument] = {&e->state, seq};
    if (auto* e = std::get_if<MarketStateChanged>(&event)) {
      market = &e->state;
      market_sequence = seq;
    }
    if (auto* e = std::get_if<CalendarChanged>(&event)) calendars[e->year] = {e, seq};
    if (auto* e = std::get_if<DailyBarRecorded>(&event)) {
      const engine::DailyBar& b = e->bar;
      auto& c = bars.columns;
      c[0].add(b.instrument);
      c[1].add(b.trading_date);
      c[2].add(i(b.mode));
      c[3].add(b.open.value);
      c[4].add(b.high.value);
      c[5].add(b.low.value);
      c[6].add(b.close.value);
      c[7].add(b.volume.value);
      c[8].add(b.turnover.value);
      c[9].add(b.trade_count);
      c[10].add(b.sequence);
    }
  }

  /// (statement, columns) pairs for the tables with rows in this batch.
  std::vector<std::pair<const char*, Columns>> statements() const {
    std::vector<std::pair<const char*, Columns>> out;
    if (!controls.empty()) {
      Columns c(5);
      for (const auto& [id, entry] : controls) {
        c.columns[0].add(id);
        c.columns[1].add(i(entry.first->self_trade));
        c.columns[2].add(entry.first->suspended);
        c.columns[3].add(entry.first->suspension_reason);
        c.columns[4].add(entry.second);
      }
      out.emplace_back(kUpsertControls, std::move(c));
    }
    if (!instruments.empty()) {
      Columns c(6);
      for (const auto& [code, entry] : instruments) {
        c.columns[0].add(code);
        c.columns[1].add(entry.first->reference.value);
        c.columns[2].add(entry.first->previous_close.value);
        c.columns[3].add(entry.first->halted);
        c.columns[4].add(entry.first->halt_reason);
        c.columns[5].add(entry.second);
      }
      out.emplace_back(kUpsertInstrumentState, std::move(c));
    }
    if (market != nullptr) {
      Columns c(5);
      c.columns[0].add(market->trading_date);
      c.columns[1].add(market->day_opened_sequence);
      c.columns[2].add(market->halted);
      c.columns[3].add(market->halt_reason);
      c.columns[4].add(market_sequence);
      out.emplace_back(kUpsertMarketState, std::move(c));
    }
    if (!calendars.empty()) {
      Columns c(3);
      for (const auto& [year, entry] : calendars) {
        c.columns[0].add(std::int64_t{year});
        c.columns[1].add(join(entry.first->holidays));
        c.columns[2].add(entry.second);
      }
      out.emplace_back(kUpsertCalendar, std::move(c));
    }
    if (!bars.empty()) out.emplace_back(kInsertBars, bars);
    return out;
  }
};

}  // namespace

std::string event_payload_json(const Event& event) {
  nlohmann::json j = std::visit(
      Overloaded{
          [](const ParticipantCreated& e) -> nlohmann::json {
            const auto& p = e.participant;
            return {{"participant_id", p.id}, {"code", p.code}, {"name", p.name}, {"type", i(p.type)},
                    {"holding_account_id", p.holding_account}, {"cash_account_id", p.cash_account}};
          },
          [](const CashChanged& e) -> nlohmann::json {
            return {{"cash_account_id", e.cash.account}, {"participant_id", e.cash.participant},
                    {"available_fen", e.cash.balance.available.value}, {"reserved_fen", e.cash.balance.reserved.value},
                    {"unsettled_fen", e.cash.balance.unsettled.value}};
          },
          [](const CashMoved& e) -> nlohmann::json {
            return {{"cash_account_id", e.movement.account}, {"withdrawal", e.movement.withdrawal},
                    {"amount_fen", e.movement.amount.value}, {"idempotency_key", e.movement.idempotency_key}};
          },
          [](const HoldingChanged& e) -> nlohmann::json {
            const auto& h = e.holding.holding;
            return {{"holding_account_id", e.holding.account}, {"instrument", e.holding.instrument},
                    {"available", h.available.value}, {"reserved", h.reserved.value}, {"pending", h.pending.value},
                    {"frozen", h.frozen.value}, {"pledged", h.pledged.value}};
          },
          [](const LedgerAppended& e) -> nlohmann::json {
            const auto& l = e.entry;
            return {{"entry_id", l.entry_id}, {"instrument", l.instrument}, {"from_account_id", l.from_account},
                    {"to_account_id", l.to_account}, {"quantity", l.quantity.value}, {"kind", i(l.kind)},
                    {"reference", l.reference}, {"hash", registry::to_hex(l.hash)}};
          },
          [](const OrderChanged& e) -> nlohmann::json { return order_json(e.order); },
          [](const TradeExecuted& e) -> nlohmann::json {
            const auto& t = e.trade;
            return {{"trade_id", t.id}, {"instrument", t.instrument}, {"mode", i(t.mode)},
                    {"price_fen", t.price.value}, {"quantity", t.quantity.value}, {"buy_order_id", t.buy_order},
                    {"sell_order_id", t.sell_order}, {"buyer_participant_id", t.buyer},
                    {"seller_participant_id", t.seller}, {"aggressor_side", i(t.aggressor)}};
          },
          [](const CommandRejected& e) -> nlohmann::json {
            return {{"command", e.command}, {"principal", e.principal}, {"code", to_string(e.code)},
                    {"message", e.message}};
          },
          [](const ParticipantControlsChanged& e) -> nlohmann::json {
            const auto& c = e.controls;
            return {{"participant_id", c.participant}, {"self_trade", i(c.self_trade)}, {"suspended", c.suspended},
                    {"suspension_reason", c.suspension_reason}};
          },
          [](const InstrumentStateChanged& e) -> nlohmann::json {
            const auto& s = e.state;
            return {{"instrument", s.instrument}, {"reference_price_fen", s.reference.value},
                    {"previous_close_fen", s.previous_close.value}, {"halted", s.halted},
                    {"halt_reason", s.halt_reason}};
          },
          [](const MarketStateChanged& e) -> nlohmann::json {
            const auto& s = e.state;
            return {{"trading_date", s.trading_date}, {"day_opened_sequence", s.day_opened_sequence},
                    {"halted", s.halted}, {"halt_reason", s.halt_reason}};
          },
          [](const CalendarChanged& e) -> nlohmann::json { return {{"year", e.year}, {"holidays", e.holidays}}; },
          [](const DailyBarRecorded& e) -> nlohmann::json {
            const auto& b = e.bar;
            return {{"instrument", b.instrument}, {"trading_date", b.trading_date}, {"mode", i(b.mode)},
                    {"open_fen", b.open.value},   {"high_fen", b.high.value},        {"low_fen", b.low.value},
                    {"close_fen", b.close.value}, {"volume", b.volume.value},        {"turnover_fen", b.turnover.value},
                    {"trade_count", b.trade_count}};
          },
          [&](const auto&) -> nlohmann::json { return registry_event_json(event).value_or(nlohmann::json::object()); },
      },
      event);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

PostgresJournal::PostgresJournal(std::string conninfo) : conninfo_(std::move(conninfo)) {}

Status PostgresJournal::connect_if_needed() {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return Status::ok();
  conn_.reset(PQconnectdb(conninfo_.c_str()));
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string message = conn_ ? PQerrorMessage(conn_.get()) : "out of memory";
    conn_.reset();
    return Status{ErrorCode::unavailable, "database unreachable: " + message};
  }
  return Status::ok();
}

Status PostgresJournal::already_committed(Sequence sequence, bool& committed) {
  const std::string text = std::to_string(sequence);
  const char* values[] = {text.c_str()};
  PgResult result(PQexecParams(conn_.get(), "SELECT 1 FROM journal WHERE sequence = $1 LIMIT 1", 1, nullptr, values,
                               nullptr, nullptr, 0));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    Status status = status_from_result(result.get(), conn_.get());
    conn_.reset();
    return status;
  }
  committed = PQntuples(result.get()) > 0;
  return Status::ok();
}

Status PostgresJournal::commit(const std::vector<const engine::Outcome*>& batch) {
  if (Status s = connect_if_needed(); !s.is_ok()) return s;
  if (outcome_uncertain_ && !batch.empty()) {
    // The last attempt lost its connection around COMMIT: it may have landed.
    bool committed = false;
    if (Status s = already_committed(batch.front()->sequence, committed); !s.is_ok()) return s;
    outcome_uncertain_ = false;
    if (committed) return Status::ok();
  }

  Columns journal(5), participants(8), cash(6), movements(8), holdings(8), ledger(11), orders(19), trades(12);
  MarketRows market;
  RegistryRows registry_rows;
  std::map<AccountId, std::pair<engine::CashRecord, Sequence>> latest_cash;
  std::map<std::pair<AccountId, std::string>, std::pair<registry::HoldingRecord, Sequence>> latest_holdings;
  std::map<OrderId, std::pair<const OrderRecord*, Sequence>> latest_orders;

  for (const engine::Outcome* outcome : batch) {
    const Sequence seq = outcome->sequence;
    int index = 0;
    for (const Event& event : outcome->events) {
      auto& jc = journal.columns;
      jc[0].add(seq);
      jc[1].add(std::int64_t{index++});
      jc[2].add(std::int64_t{outcome->at});
      jc[3].add(std::string_view(engine::event_name(event)));
      jc[4].add(event_payload_json(event));
      market.add(event, seq);
      registry_rows.add(event, seq);
      std::visit(
          Overloaded{
              [&](const ParticipantCreated& e) {
                const auto& p = e.participant;
                auto& c = participants.columns;
                c[0].add(p.id);
                c[1].add(p.code);
                c[2].add(p.name);
                c[3].add(i(p.type));
                c[4].add(p.holding_account);
                c[5].add(p.cash_account);
                c[6].add_bytes(p.token_hash.data(), p.token_hash.size());
                c[7].add(p.created_sequence);
              },
              [&](const CashChanged& e) { latest_cash[e.cash.account] = {e.cash, seq}; },
              [&](const CashMoved& e) {
                const auto& m = e.movement;
                auto& c = movements.columns;
                c[0].add(m.account);
                c[1].add(m.withdrawal);
                c[2].add(m.idempotency_key);
                c[3].add(m.amount.value);
                c[4].add(m.sequence);
                c[5].add(m.balance_after.available.value);
                c[6].add(m.balance_after.reserved.value);
                c[7].add(m.balance_after.unsettled.value);
              },
              [&](const HoldingChanged& e) {
                latest_holdings[{e.holding.account, e.holding.instrument}] = {e.holding, seq};
              },
              [&](const LedgerAppended& e) {
                const auto& l = e.entry;
                auto& c = ledger.columns;
                c[0].add(l.entry_id);
                c[1].add(l.sequence);
                c[2].add(std::int64_t{l.recorded_at});
                c[3].add(l.instrument);
                c[4].add(l.from_account);
                c[5].add(l.to_account);
                c[6].add(l.quantity.value);
                c[7].add(i(l.kind));
                c[8].add(l.reference);
                c[9].add_bytes(l.prev_hash.data(), l.prev_hash.size());
                c[10].add_bytes(l.hash.data(), l.hash.size());
              },
              [&](const OrderChanged& e) { latest_orders[e.order.id] = {&e.order, seq}; },
              [&](const TradeExecuted& e) {
                const auto& t = e.trade;
                auto& c = trades.columns;
                c[0].add(t.id);
                c[1].add(t.instrument);
                c[2].add(i(t.mode));
                c[3].add(t.price.value);
                c[4].add(t.quantity.value);
                c[5].add(t.buy_order);
                c[6].add(t.sell_order);
                c[7].add(t.buyer);
                c[8].add(t.seller);
                c[9].add(i(t.aggressor));
                c[10].add(t.sequence);
                c[11].add(std::int64_t{t.executed_at});
              },
              [&](const auto&) {},  // rejections are journal rows only; market rows are in `market`
          },
          event);
    }
  }
  for (const auto& [account, entry] : latest_cash) {
    const auto& [record, seq] = entry;
    auto& c = cash.columns;
    c[0].add(record.account);
    c[1].add(record.participant);
    c[2].add(record.balance.available.value);
    c[3].add(record.balance.reserved.value);
    c[4].add(record.balance.unsettled.value);
    c[5].add(seq);
  }
  for (const auto& [key, entry] : latest_holdings) {
    const auto& [record, seq] = entry;
    auto& c = holdings.columns;
    c[0].add(record.account);
    c[1].add(record.instrument);
    c[2].add(record.holding.available.value);
    c[3].add(record.holding.reserved.value);
    c[4].add(record.holding.pending.value);
    c[5].add(record.holding.frozen.value);
    c[6].add(record.holding.pledged.value);
    c[7].add(seq);
  }
  for (const auto& [id, entry] : latest_orders) {
    const OrderRecord& o = *entry.first;
    auto& c = orders.columns;
    c[0].add(o.id);
    c[1].add(o.client_order_id);
    c[2].add(o.participant);
    c[3].add(o.instrument);
    c[4].add(i(o.side));
    c[5].add(i(o.type));
    c[6].add(i(o.time_in_force));
    c[7].add(i(o.mode));
    c[8].add(o.price.value);
    c[9].add(o.quantity.value);
    c[10].add(o.filled.value);
    c[11].add(i(o.status));
    c[12].add(o.sequence);
    c[13].add(std::int64_t{o.entered_at});
    c[14].add(o.priority);
    c[15].add(o.reservation.total.value);
    c[16].add(o.reservation.from_unsettled.value);
    c[17].add(entry.second);
    c[18].add(o.counterparty);
  }

  // Order matters only for readability: every statement is in one transaction.
  const auto market_statements = market.statements();
  std::vector<std::pair<const char*, const Columns*>> statements = {
      {kInsertJournal, &journal},   {kInsertParticipants, &participants}, {kUpsertCash, &cash},
      {kInsertMovements, &movements}, {kUpsertHoldings, &holdings},       {kInsertLedger, &ledger},
      {kUpsertOrders, &orders},     {kInsertTrades, &trades},
  };
  for (const auto& [sql, columns] : market_statements) statements.emplace_back(sql, &columns);
  const auto registry_statements = registry_rows.statements();
  for (const auto& [sql, columns] : registry_statements) statements.emplace_back(sql, &columns);
  PGconn* conn = conn_.get();
  auto fail = [&](const PGresult* result) {
    Status status = status_from_result(result, conn);
    conn_.reset();  // a fresh connection next time: no half-open transaction survives
    outcome_uncertain_ = true;
    return status;
  };
  PgResult begin(PQexec(conn, "BEGIN"));
  if (PQresultStatus(begin.get()) != PGRES_COMMAND_OK) return fail(begin.get());
  for (const auto& [sql, columns] : statements) {
    if (columns->empty()) continue;
    const auto params = columns->params();
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p->c_str());
    PgResult result(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) return fail(result.get());
  }
  PgResult commit(PQexec(conn, "COMMIT"));
  if (PQresultStatus(commit.get()) != PGRES_COMMAND_OK) return fail(commit.get());
  return Status::ok();
}

}  // namespace carbon::store
