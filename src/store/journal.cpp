#include "common/overloaded.h"
#include "store/journal.h"

#include "store/clearing_rows.h"
#include "store/access_rows.h"
#include "store/auction_rows.h"
#include "store/repo_rows.h"
#include "store/instrument_rows.h"
#include "store/registry_rows.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <map>
#include <type_traits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <utility>

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
using engine::CalendarChanged;
using engine::DailyBarRecorded;
using engine::InstrumentStateChanged;
using engine::MarketStateChanged;
using engine::ParticipantControlsChanged;

template <typename T>
std::int64_t i(T v) {
  return static_cast<std::int64_t>(v);
}

/// Appends one flat JSON object to a string: {"key":value,...}.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_.push_back('{'); }
  ~JsonObject() { out_.push_back('}'); }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  JsonObject& add(std::string_view key, std::int64_t v) { return number(key, v); }
  JsonObject& add(std::string_view key, std::uint64_t v) { return number(key, v); }
  JsonObject& add(std::string_view key, bool v) {
    this->key(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonObject& add(std::string_view key, std::string_view s) {
    this->key(key);
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') {
        // Escapes and UTF-8 checks (invalid bytes become U+FFFD) as nlohmann::json does them.
        out_ += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return *this;
      }
    }
    out_.push_back('"');
    out_.append(s);
    out_.push_back('"');
    return *this;
  }
  JsonObject& add(std::string_view key, const char* s) { return add(key, std::string_view(s)); }
  JsonObject& add(std::string_view key, const std::string& s) { return add(key, std::string_view(s)); }
  /// A value already encoded as JSON (an array, say).
  JsonObject& raw(std::string_view key, std::string_view json) {
    this->key(key);
    out_.append(json);
    return *this;
  }

 private:
  template <typename N>
  JsonObject& number(std::string_view key, N v) {
    this->key(key);
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out_.append(digits, end);
    return *this;
  }
  void key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(key);
    out_ += "\":";
  }
  std::string& out_;
  bool first_ = true;
};

/// Appends the event's JSON. The column keeps the text as written (a `text`
/// column since migration 0019, so PostgreSQL does not check it: this must
/// write valid JSON); keys come in a fixed order per kind (shorter first,
/// then bytewise: jsonb's order, from when the column was jsonb).
void append_payload(std::string& out, const Event& event) {
  std::visit(
      Overloaded{
          [&](const ParticipantCreated& e) {
            const auto& p = e.participant;
            JsonObject(out)
                .add("code", p.code)
                .add("name", p.name)
                .add("type", i(p.type))
                .add("participant_id", p.id)
                .add("cash_account_id", p.cash_account)
                .add("holding_account_id", p.holding_account);
          },
          [&](const CashChanged& e) {
            JsonObject(out)
                .add("reserved_fen", e.cash.balance.reserved.value)
                .add("available_fen", e.cash.balance.available.value)
                .add("unsettled_fen", e.cash.balance.unsettled.value)
                .add("participant_id", e.cash.participant)
                .add("cash_account_id", e.cash.account);
          },
          [&](const CashMoved& e) {
            JsonObject(out)
                .add("amount_fen", e.movement.amount.value)
                .add("withdrawal", e.movement.withdrawal)
                .add("cash_account_id", e.movement.account)
                .add("idempotency_key", e.movement.idempotency_key);
          },
          [&](const HoldingChanged& e) {
            const auto& h = e.holding.holding;
            JsonObject(out)
                .add("frozen", h.frozen.value)
                .add("pending", h.pending.value)
                .add("pledged", h.pledged.value)
                .add("reserved", h.reserved.value)
                .add("available", h.available.value)
                .add("instrument", e.holding.instrument)
                .add("holding_account_id", e.holding.account);
          },
          [&](const LedgerAppended& e) {
            const auto& l = e.entry;
            JsonObject(out)
                .add("hash", registry::to_hex(l.hash))
                .add("kind", i(l.kind))
                .add("entry_id", l.entry_id)
                .add("quantity", l.quantity.value)
                .add("reference", l.reference)
                .add("instrument", l.instrument)
                .add("to_account_id", l.to_account)
                .add("from_account_id", l.from_account);
          },
          [&](const OrderChanged& e) {
            const OrderRecord& o = e.order;
            JsonObject(out)
                .add("mode", i(o.mode))
                .add("side", i(o.side))
                .add("type", i(o.type))
                .add("status", i(o.status))
                .add("order_id", o.id)
                .add("priority", o.priority)
                .add("quantity", o.quantity.value)
                .add("price_fen", o.price.value)
                .add("instrument", o.instrument)
                .add("reserved_fen", o.reservation.total.value)
                .add("time_in_force", i(o.time_in_force))
                .add("participant_id", o.participant)
                .add("client_order_id", o.client_order_id)
                .add("filled_quantity", o.filled.value);
          },
          [&](const TradeExecuted& e) {
            const auto& t = e.trade;
            JsonObject(out)
                .add("mode", i(t.mode))
                .add("quantity", t.quantity.value)
                .add("trade_id", t.id)
                .add("price_fen", t.price.value)
                .add("instrument", t.instrument)
                .add("buy_order_id", t.buy_order)
                .add("buyer_fee_fen", t.buyer_fee.value)
                .add("sell_order_id", t.sell_order)
                .add("aggressor_side", i(t.aggressor))
                .add("seller_fee_fen", t.seller_fee.value)
                .add("buyer_participant_id", t.buyer)
                .add("seller_participant_id", t.seller);
          },
          [&](const CommandRejected& e) {
            JsonObject(out)
                .add("code", to_string(e.code))
                .add("command", e.command)
                .add("message", e.message)
                .add("principal", e.principal);
          },
          [&](const ParticipantControlsChanged& e) {
            const auto& c = e.controls;
            JsonObject(out)
                .add("suspended", c.suspended)
                .add("self_trade", i(c.self_trade))
                .add("participant_id", c.participant)
                .add("suspension_reason", c.suspension_reason);
          },
          [&](const InstrumentStateChanged& e) {
            const auto& st = e.state;
            JsonObject(out)
                .add("halted", st.halted)
                .add("instrument", st.instrument)
                .add("halt_reason", st.halt_reason)
                .add("previous_close_fen", st.previous_close.value)
                .add("reference_price_fen", st.reference.value);
          },
          [&](const MarketStateChanged& e) {
            const auto& st = e.state;
            JsonObject(out)
                .add("halted", st.halted)
                .add("halt_reason", st.halt_reason)
                .add("trading_date", st.trading_date)
                .add("settlement_hold", st.settlement_hold)
                .add("day_opened_sequence", st.day_opened_sequence);
          },
          [&](const CalendarChanged& e) {
            JsonObject(out)
                .add("year", std::int64_t{e.year})
                .raw("holidays", nlohmann::json(e.holidays).dump());
          },
          [&](const DailyBarRecorded& e) {
            const auto& b = e.bar;
            JsonObject(out)
                .add("mode", i(b.mode))
                .add("volume", b.volume.value)
                .add("low_fen", b.low.value)
                .add("high_fen", b.high.value)
                .add("open_fen", b.open.value)
                .add("close_fen", b.close.value)
                .add("instrument", b.instrument)
                .add("trade_count", b.trade_count)
                .add("trading_date", b.trading_date)
                .add("turnover_fen", b.turnover.value);
          },
          [&](const auto&) {
            // The registry's events (store/registry_rows.cpp); nlohmann orders their keys bytewise.
            if (const auto access = access_event_json(event)) {  // store/access_rows.cpp, already in JSONB order
              out += *access;
              return;
            }
            if (const auto repo = repo_event_json(event)) {  // store/repo_rows.cpp
              out += *repo;
              return;
            }
            if (const auto instrument = instrument_event_json(event)) {  // store/instrument_rows.cpp, JSONB order
              out += *instrument;
              return;
            }
            auto json = registry_event_json(event);
            if (!json) json = clearing_event_json(event);
            if (!json) json = auction_event_json(event);
            out += json ? json->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "{}";
          },
      },
      event);
}

/// SQL literal of a text value: single quotes doubled (standard_conforming_strings is on
/// by default since PostgreSQL 9.1; the engine refuses control characters in operator text).
std::string literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string literal(bool v) { return v ? "true" : "false"; }
template <typename N>
std::string literal(N v) requires std::is_integral_v<N> {
  return std::to_string(v);
}

/// A statement with array parameters ($1::bigint[], ...) turned into one with
/// the arrays inlined as quoted literals, so that it can ride in the batch's
/// simple query. One left-to-right pass: text inserted for one placeholder is
/// never scanned for another.
std::string inline_parameters(std::string_view sql, const Columns& columns) {
  const auto params = columns.params();
  std::string out;
  for (std::size_t at = 0; at < sql.size();) {
    if (sql[at] == '$' && at + 1 < sql.size() && sql[at + 1] >= '0' && sql[at + 1] <= '9') {
      std::size_t end = at + 1, number = 0;
      while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') number = number * 10 + (sql[end++] - '0');
      out += literal(*params.at(number - 1));
      at = end;
    } else {
      out.push_back(sql[at++]);
    }
  }
  return out;
}

/// The market-state projections: rare events (operator actions, end of
/// day), each kept once per row per batch (last value wins) and written as
/// plain statements inside the batch's transaction.
struct MarketRows {
  std::map<ParticipantId, std::pair<const engine::ParticipantControls*, Sequence>> controls;
  std::map<std::string, std::pair<const engine::InstrumentState*, Sequence>> instruments;
  const engine::MarketState* market = nullptr;
  Sequence market_sequence = 0;
  std::map<int, std::pair<const CalendarChanged*, Sequence>> calendars;
  std::vector<const engine::DailyBar*> bars;

  bool empty() const {
    return controls.empty() && instruments.empty() && market == nullptr && calendars.empty() && bars.empty();
  }

  void add(const Event& event, Sequence seq) {
    if (auto* e = std::get_if<ParticipantControlsChanged>(&event)) controls[e->controls.participant] = {&e->controls, seq};
    if (auto* e = std::get_if<InstrumentStateChanged>(&event)) instruments[e->state.instrument] = {&e->state, seq};
    if (auto* e = std::get_if<MarketStateChanged>(&event)) {
      market = &e->state;
      market_sequence = seq;
    }
    if (auto* e = std::get_if<CalendarChanged>(&event)) calendars[e->year] = {e, seq};
    if (auto* e = std::get_if<DailyBarRecorded>(&event)) bars.push_back(&e->bar);
  }

  /// Appends ";statement" for each row to `sql`; returns how many statements.
  std::size_t append_sql(std::string& sql) const {
    std::size_t count = 0;
    auto statement = [&](const std::string& text) {
      sql += ";";
      sql += text;
      ++count;
    };
    for (const auto& [id, entry] : controls) {
      const auto& c = *entry.first;
      statement("INSERT INTO participant_controls (participant_id, self_trade, suspended, suspension_reason,"
                " updated_sequence) VALUES (" + literal(id) + "," + literal(i(c.self_trade)) + "," +
                literal(c.suspended) + "," + literal(c.suspension_reason) + "," + literal(entry.second) +
                ") ON CONFLICT (participant_id) DO UPDATE SET self_trade = EXCLUDED.self_trade,"
                " suspended = EXCLUDED.suspended, suspension_reason = EXCLUDED.suspension_reason,"
                " updated_sequence = EXCLUDED.updated_sequence");
    }
    for (const auto& [code, entry] : instruments) {
      const auto& st = *entry.first;
      statement("INSERT INTO instrument_state (instrument, reference_price_fen, previous_close_fen, halted,"
                " halt_reason, updated_sequence) VALUES (" + literal(code) + "," + literal(st.reference.value) + "," +
                literal(st.previous_close.value) + "," + literal(st.halted) + "," + literal(st.halt_reason) + "," +
                literal(entry.second) +
                ") ON CONFLICT (instrument) DO UPDATE SET reference_price_fen = EXCLUDED.reference_price_fen,"
                " previous_close_fen = EXCLUDED.previous_close_fen, halted = EXCLUDED.halted,"
                " halt_reason = EXCLUDED.halt_reason, updated_sequence = EXCLUDED.updated_sequence");
    }
    if (market != nullptr) {
      statement("INSERT INTO market_state (trading_date, day_opened_sequence, halted, halt_reason, updated_sequence)"
                " VALUES (" + literal(market->trading_date) + "," + literal(market->day_opened_sequence) + "," +
                literal(market->halted) + "," + literal(market->halt_reason) + "," + literal(market_sequence) +
                ") ON CONFLICT (singleton) DO UPDATE SET trading_date = EXCLUDED.trading_date,"
                " day_opened_sequence = EXCLUDED.day_opened_sequence, halted = EXCLUDED.halted,"
                " halt_reason = EXCLUDED.halt_reason, updated_sequence = EXCLUDED.updated_sequence");
    }
    for (const auto& [year, entry] : calendars) {
      std::string days = "ARRAY[";
      for (std::size_t k = 0; k < entry.first->holidays.size(); ++k) {
        if (k > 0) days += ",";
        days += literal(entry.first->holidays[k]);
      }
      days += "]::text[]";
      statement("INSERT INTO trading_calendar (year, holidays, updated_sequence) VALUES (" + literal(year) + "," +
                days + "," + literal(entry.second) +
                ") ON CONFLICT (year) DO UPDATE SET holidays = EXCLUDED.holidays,"
                " updated_sequence = EXCLUDED.updated_sequence");
    }
    for (const engine::DailyBar* b : bars) {
      statement("INSERT INTO daily_bars (instrument, trading_date, mode, open_fen, high_fen, low_fen, close_fen,"
                " volume, turnover_fen, trade_count, sequence) VALUES (" + literal(b->instrument) + "," +
                literal(b->trading_date) + "," + literal(i(b->mode)) + "," + literal(b->open.value) + "," +
                literal(b->high.value) + "," + literal(b->low.value) + "," + literal(b->close.value) + "," +
                literal(b->volume.value) + "," + literal(b->turnover.value) + "," + literal(b->trade_count) + "," +
                literal(b->sequence) + ")");
    }
    return count;
  }
};

// The statements of a batch. Column lists are spelled out so that the COPY
// data cannot drift from the table's column order.
constexpr const char* kCopyJournal =
    "COPY journal_commands (sequence, recorded_at_unix_nanos, events) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyParticipants =
    "COPY participants (participant_id, code, name, participant_type, holding_account_id, cash_account_id,"
    " token_sha256, created_sequence) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyMovements =
    "COPY cash_movements (cash_account_id, withdrawal, idempotency_key, amount_fen, sequence, available_after_fen,"
    " reserved_after_fen, unsettled_after_fen) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyLedger =
    "COPY ledger_entries (entry_id, sequence, recorded_at_unix_nanos, instrument, from_account_id, to_account_id,"
    " quantity, kind, reference, prev_hash, hash) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyTrades =
    "COPY trades (trade_id, instrument, mode, price_fen, quantity, buy_order_id, sell_order_id, buyer_participant_id,"
    " seller_participant_id, aggressor_side, sequence, executed_at_unix_nanos, buyer_fee_fen, seller_fee_fen)"
    " FROM STDIN (FORMAT binary)";

#define CARBON_CASH_COLUMNS "cash_account_id, participant_id, available_fen, reserved_fen, unsettled_fen, updated_sequence"
#define CARBON_HOLDING_COLUMNS \
  "holding_account_id, instrument, available, reserved, pending, frozen, pledged, updated_sequence"
#define CARBON_ORDER_COLUMNS                                                                                    \
  "order_id, client_order_id, participant_id, instrument, side, order_type, time_in_force, mode, price_fen,"   \
  " quantity, filled_quantity, status, sequence, entered_at_unix_nanos, priority, reserved_fen,"              \
  " reserved_unsettled_fen, updated_sequence, counterparty_participant_id"

constexpr const char* kCopyNewOrders = "COPY orders (" CARBON_ORDER_COLUMNS ") FROM STDIN (FORMAT binary)";

// The projections' upserts, their rows inlined as array literals (Columns):
// no staging table, so no COPY round trip per table and nothing to empty.
// Staging tables cost a server round trip per COPY and, to keep them small,
// a TRUNCATE every few thousand rows, which creates new files (an inode each
// for the table, its TOAST table and index): at 20 k orders/s file creation
// (ext4_create) was 13% of the backends' time (BENCHMARKS.md, "Journal",
// "Projection upserts without staging tables").
constexpr const char* kUpsertCash =
    "INSERT INTO cash_accounts (" CARBON_CASH_COLUMNS ")"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])"
    " ON CONFLICT (cash_account_id) DO UPDATE SET available_fen = EXCLUDED.available_fen,"
    " reserved_fen = EXCLUDED.reserved_fen, unsettled_fen = EXCLUDED.unsettled_fen,"
    " updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kUpsertHoldings =
    "INSERT INTO holdings (" CARBON_HOLDING_COLUMNS ")"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],"
    " $7::bigint[], $8::bigint[])"
    " ON CONFLICT (holding_account_id, instrument) DO UPDATE SET available = EXCLUDED.available,"
    " reserved = EXCLUDED.reserved, pending = EXCLUDED.pending, frozen = EXCLUDED.frozen,"
    " pledged = EXCLUDED.pledged, updated_sequence = EXCLUDED.updated_sequence";
constexpr const char* kUpsertOrders =
    "INSERT INTO orders (" CARBON_ORDER_COLUMNS ")"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::smallint[], $6::smallint[],"
    " $7::smallint[], $8::smallint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::smallint[], $13::bigint[],"
    " $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[])"
    " ON CONFLICT (order_id) DO UPDATE SET filled_quantity = EXCLUDED.filled_quantity, status = EXCLUDED.status,"
    " price_fen = EXCLUDED.price_fen, quantity = EXCLUDED.quantity,"  // amendments change both
    " priority = EXCLUDED.priority, reserved_fen = EXCLUDED.reserved_fen,"
    " reserved_unsettled_fen = EXCLUDED.reserved_unsettled_fen, updated_sequence = EXCLUDED.updated_sequence";

/// Run once per connection: the writers' shared lock (kJournalWriterLock, held until the connection's backend
/// ends: a start waits for it, store/recovery.h), durable commits (kDurableCommitsSql), no time limits, the
/// journal's tail. A role's or database's statement_timeout or lock_timeout would cut a large batch at every
/// attempt (it is retried whole, so for ever), and idle_in_transaction_session_timeout a pipelined batch that
/// waits, its statements sent, for the batch before it to commit; a commit that hangs is watched by the writer
/// (EngineRuntime) instead.
const std::string kSessionSetup = "SELECT pg_advisory_lock_shared(" + std::to_string(kJournalWriterLock) + "); " +
                                  kDurableCommitsSql +
                                  "; SET statement_timeout = 0; SET lock_timeout = 0;"
                                  " SET idle_in_transaction_session_timeout = 0;"
                                  " SELECT COALESCE(MAX(sequence), 0) FROM journal_commands";

/// Bytes handed to libpq per PQputCopyData call.
constexpr std::size_t kCopyChunk = 256 * 1024;

/// A failed statement's status. A sequence already in journal_commands means
/// a transaction this writer sent on an earlier connection (cut while the
/// server still held it, COMMIT included) has committed since: not a fault
/// to stop for, but a batch to recognise as landed once the tail is read
/// again on a fresh connection (the journal's rows come first in a batch, so
/// its key is the one that collides).
Status statement_status(const PGresult* result, PGconn* conn) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
  if (state != nullptr && constraint != nullptr && std::string_view(state) == "23505" &&
      std::string_view(constraint) == "journal_commands_pkey") {
    return Status{ErrorCode::unavailable,
                  "journal: a sequence of this batch is already in the journal (a transaction sent on an earlier "
                  "connection committed meanwhile); reading the journal's tail again"};
  }
  return status_from_result(result, conn);
}

struct HoldingKey {
  AccountId account;
  std::string_view instrument;
  bool operator==(const HoldingKey&) const = default;
};
struct HoldingKeyHash {
  std::size_t operator()(const HoldingKey& k) const {
    return std::hash<std::string_view>{}(k.instrument) ^ (std::hash<AccountId>{}(k.account) * 0x9E3779B97F4A7C15ull);
  }
};

}  // namespace

std::string event_payload_json(const Event& event) {
  std::string out;
  append_payload(out, event);
  return out;
}

void append_events(std::string& out, const std::vector<Event>& events) {
  out.clear();
  out.push_back('[');
  for (std::size_t k = 0; k < events.size(); ++k) {
    if (k > 0) out.push_back(',');
    out += "[\"";
    out += engine::event_name(events[k]);  // identifiers: nothing to escape
    out += "\",";
    append_payload(out, events[k]);
    out.push_back(']');
  }
  out.push_back(']');
}

PostgresJournal::PostgresJournal(std::string conninfo)
    : conninfo_(std::move(conninfo)),
      journal_{kCopyJournal, {}},
      participants_{kCopyParticipants, {}},
      movements_{kCopyMovements, {}},
      ledger_{kCopyLedger, {}},
      trades_{kCopyTrades, {}},
      new_orders_{kCopyNewOrders, {}} {}

Status PostgresJournal::fail(Status status) {
  set_connection(nullptr);  // a fresh connection next time: no half-open transaction survives
  return status;
}

void PostgresJournal::set_connection(PgConn conn) {
  std::lock_guard lock(socket_mutex_);
  // interrupt() shuts down a duplicate of the connection's socket: libpq
  // closes its own descriptor when the connection breaks, and that number
  // may then be reused by anything; the duplicate keeps naming this socket.
  if (socket_ >= 0) ::close(socket_);
  // Close-on-exec as libpq's own: a process carbond starts must not hold the connection open.
  socket_ = conn && PQsocket(conn.get()) >= 0 ? ::fcntl(PQsocket(conn.get()), F_DUPFD_CLOEXEC, 0) : -1;
  if (interrupted_ && socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);  // made after an interrupt: cut it too
  conn_ = std::move(conn);
}

PostgresJournal::~PostgresJournal() {
  if (socket_ >= 0) ::close(socket_);
}

void PostgresJournal::interrupt() {
  std::lock_guard lock(socket_mutex_);
  interrupted_ = true;
  if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
}

void PostgresJournal::clear_interrupt() {
  std::lock_guard lock(socket_mutex_);
  interrupted_ = false;
}

Status PostgresJournal::connect_if_needed() {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return Status::ok();
  // Bounded: the writer must get back to answering waiting callers UNAVAILABLE.
  std::string message;
  set_connection(connect_bounded(conninfo_, message));
  if (!conn_) return Status{ErrorCode::unavailable, "database unreachable: " + message};
  PgResult result(PQexec(conn_.get(), kSessionSetup.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return fail(status_from_result(result.get(), conn_.get()));
  const Sequence seen = last_committed_;
  last_committed_ = std::strtoull(PQgetvalue(result.get(), 0, 0), nullptr, 10);
  return check_tail_not_behind(seen);
}

Status PostgresJournal::check_tail_not_behind(Sequence committed) {
  if (last_committed_ >= committed) return Status::ok();
  // Commands this carbond saw committed (and acknowledged) are not in the journal: the database is not the one
  // they were committed to (a failover to a replica that had not received them, a restore from a backup).
  // Writing on would leave a gap under later sequences and lose them for good: stop instead, so that an operator
  // restores the database that holds them.
  const Status gap{ErrorCode::internal, "journal: the database's journal ends at sequence " +
                                            std::to_string(last_committed_) + ", behind sequence " +
                                            std::to_string(committed) +
                                            " this carbond saw committed (a failover to a replica that lacks "
                                            "them, or a restore?); nothing more is written"};
  set_connection(nullptr);
  last_committed_ = committed;  // so that a retry on a new connection finds the same gap
  return gap;
}

void PostgresJournal::encode(const std::vector<const engine::Outcome*>& batch) {
  for (Copy* copy : {&journal_, &participants_, &movements_, &ledger_, &trades_, &new_orders_}) copy->data.clear();
  MarketRows market;
  RegistryRows registry_rows;
  ClearingRows clearing_rows;
  AccessRows access_rows;
  AuctionRows auction_rows;
  RepoRows repo_rows;
  InstrumentRows instrument_rows;
  std::unordered_map<AccountId, std::pair<const engine::CashRecord*, Sequence>> latest_cash;
  std::unordered_map<HoldingKey, std::pair<const registry::HoldingRecord*, Sequence>, HoldingKeyHash> latest_holdings;
  std::unordered_map<OrderId, std::pair<const OrderRecord*, Sequence>> latest_orders;
  latest_orders.reserve(batch.size() * 2);

  for (const engine::Outcome* outcome : batch) {
    const Sequence seq = outcome->sequence;
    access_rows.add(*outcome);
    repo_rows.add(*outcome);
    BinaryCopy& j = journal_.data;
    j.begin_row(3);
    j.i64(i(seq));
    j.i64(outcome->at);
    append_events(payload_, outcome->events);
    j.text(payload_);  // one JSON array per command (migration 0013), stored as text (0019)
    for (const Event& event : outcome->events) {
      market.add(event, seq);
      registry_rows.add(event, seq);
      clearing_rows.add(event);
      auction_rows.add(event);
      instrument_rows.add(event, seq);
      std::visit(
          Overloaded{
              [&](const ParticipantCreated& e) {
                const auto& p = e.participant;
                BinaryCopy& c = participants_.data;
                c.begin_row(8);
                c.i64(i(p.id));
                c.text(p.code);
                c.text(p.name);
                c.i16(i(p.type));
                c.i64(i(p.holding_account));
                c.i64(i(p.cash_account));
                c.bytes(p.token_hash.data(), p.token_hash.size());
                c.i64(i(p.created_sequence));
              },
              [&](const CashChanged& e) { latest_cash[e.cash.account] = {&e.cash, seq}; },
              [&](const CashMoved& e) {
                const auto& m = e.movement;
                BinaryCopy& c = movements_.data;
                c.begin_row(8);
                c.i64(i(m.account));
                c.boolean(m.withdrawal);
                c.text(m.idempotency_key);
                c.i64(m.amount.value);
                c.i64(i(m.sequence));
                c.i64(m.balance_after.available.value);
                c.i64(m.balance_after.reserved.value);
                c.i64(m.balance_after.unsettled.value);
              },
              [&](const HoldingChanged& e) {
                latest_holdings[HoldingKey{e.holding.account, e.holding.instrument}] = {&e.holding, seq};
              },
              [&](const LedgerAppended& e) {
                const auto& l = e.entry;
                BinaryCopy& c = ledger_.data;
                c.begin_row(11);
                c.i64(i(l.entry_id));
                c.i64(i(l.sequence));
                c.i64(l.recorded_at);
                c.text(l.instrument);
                c.i64(i(l.from_account));
                c.i64(i(l.to_account));
                c.i64(l.quantity.value);
                c.i16(i(l.kind));
                c.text(l.reference);
                c.bytes(l.prev_hash.data(), l.prev_hash.size());
                c.bytes(l.hash.data(), l.hash.size());
              },
              [&](const OrderChanged& e) { latest_orders[e.order.id] = {&e.order, seq}; },
              [&](const TradeExecuted& e) {
                const auto& t = e.trade;
                BinaryCopy& c = trades_.data;
                c.begin_row(14);
                c.i64(i(t.id));
                c.text(t.instrument);
                c.i16(i(t.mode));
                c.i64(t.price.value);
                c.i64(t.quantity.value);
                c.i64(i(t.buy_order));
                c.i64(i(t.sell_order));
                c.i64(i(t.buyer));
                c.i64(i(t.seller));
                c.i16(i(t.aggressor));
                c.i64(i(t.sequence));
                c.i64(t.executed_at);
                c.i64(t.buyer_fee.value);
                c.i64(t.seller_fee.value);
              },
              [&](const auto&) {},  // rejections: journal rows only; market state: `market`
          },
          event);
    }
  }
  updates_sql_.clear();
  update_statements_ = 0;
  auto add_upsert = [&](const char* sql, const Columns& columns) {
    if (columns.empty()) return;
    updates_sql_ += ";";
    updates_sql_ += inline_parameters(sql, columns);
    ++update_statements_;
  };
  Columns cash(6);
  for (const auto& [account, entry] : latest_cash) {
    const auto& [record, seq] = entry;
    cash.columns[0].add(i(record->account));
    cash.columns[1].add(i(record->participant));
    cash.columns[2].add(record->balance.available.value);
    cash.columns[3].add(record->balance.reserved.value);
    cash.columns[4].add(record->balance.unsettled.value);
    cash.columns[5].add(i(seq));
  }
  add_upsert(kUpsertCash, cash);
  Columns holdings(8);
  for (const auto& [key, entry] : latest_holdings) {
    const auto& [record, seq] = entry;
    holdings.columns[0].add(i(record->account));
    holdings.columns[1].add(std::string_view(record->instrument));
    holdings.columns[2].add(record->holding.available.value);
    holdings.columns[3].add(record->holding.reserved.value);
    holdings.columns[4].add(record->holding.pending.value);
    holdings.columns[5].add(record->holding.frozen.value);
    holdings.columns[6].add(record->holding.pledged.value);
    holdings.columns[7].add(i(seq));
  }
  add_upsert(kUpsertHoldings, holdings);
  const Sequence first = batch.front()->sequence;
  Columns orders(19);
  for (const auto& [id, entry] : latest_orders) {
    const OrderRecord& o = *entry.first;
    if (o.sequence >= first) {
      // Entered by a command of this batch: not in the table yet (the batch
      // is newer than the journal's tail), so a plain COPY.
      BinaryCopy& c = new_orders_.data;
      c.begin_row(19);
      c.i64(i(o.id));
      c.text(o.client_order_id);
      c.i64(i(o.participant));
      c.text(o.instrument);
      c.i16(i(o.side));
      c.i16(i(o.type));
      c.i16(i(o.time_in_force));
      c.i16(i(o.mode));
      c.i64(o.price.value);
      c.i64(o.quantity.value);
      c.i64(o.filled.value);
      c.i16(i(o.status));
      c.i64(i(o.sequence));
      c.i64(o.entered_at);
      c.i64(i(o.priority));
      c.i64(o.reservation.total.value);
      c.i64(o.reservation.from_unsettled.value);
      c.i64(i(entry.second));
      c.i64(i(o.counterparty));
      continue;
    }
    // Entered earlier: upserted (the same columns, in the same order).
    std::vector<ArrayLiteral>& c = orders.columns;
    c[0].add(i(o.id));
    c[1].add(std::string_view(o.client_order_id));
    c[2].add(i(o.participant));
    c[3].add(std::string_view(o.instrument));
    c[4].add(static_cast<std::int64_t>(i(o.side)));
    c[5].add(static_cast<std::int64_t>(i(o.type)));
    c[6].add(static_cast<std::int64_t>(i(o.time_in_force)));
    c[7].add(static_cast<std::int64_t>(i(o.mode)));
    c[8].add(o.price.value);
    c[9].add(o.quantity.value);
    c[10].add(o.filled.value);
    c[11].add(static_cast<std::int64_t>(i(o.status)));
    c[12].add(i(o.sequence));
    c[13].add(o.entered_at);
    c[14].add(i(o.priority));
    c[15].add(o.reservation.total.value);
    c[16].add(o.reservation.from_unsettled.value);
    c[17].add(i(entry.second));
    c[18].add(i(o.counterparty));
  }
  add_upsert(kUpsertOrders, orders);
  market_sql_.clear();
  market_statements_ = market.append_sql(market_sql_);
  for (const auto& [sql, columns] : registry_rows.statements()) {
    market_sql_ += ";";
    market_sql_ += inline_parameters(sql, columns);
    ++market_statements_;
  }
  for (auto rows : {clearing_rows.statements(), access_rows.statements(), auction_rows.statements(),
                    repo_rows.statements(), instrument_rows.statements()}) {
    for (const auto& [sql, columns] : rows) {
      market_sql_ += ";";
      market_sql_ += inline_parameters(sql, columns);
      ++market_statements_;
    }
  }
}

Status PostgresJournal::prepare(const std::vector<const engine::Outcome*>& batch, Sequence known_tail, bool& landed) {
  landed = false;
  const bool connected = conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
  if (Status s = connect_if_needed(); !s.is_ok()) return s;
  // A fresh connection's tail must hold what the other connections of this carbond saw committed (known_tail).
  if (!connected) {
    if (Status s = check_tail_not_behind(known_tail); !s.is_ok()) return s;
  }
  const Sequence tail = std::max(last_committed_, known_tail);
  const Sequence first = batch.front()->sequence;
  const Sequence last = batch.back()->sequence;
  if (first <= tail) {
    // Batches are retried whole and sequences only grow: a batch starting at
    // or below the journal's tail is one whose COMMIT landed while its answer was lost.
    if (last <= tail) {
      // Landed means its own rows are there: a batch below the tail but
      // missing would be a gap in the journal, never to be papered over.
      // And its own, not rows of the same sequences that another writer
      // (a second carbond started while this one's connections were down)
      // committed: acknowledging those would report commands that are not in
      // the journal. So the first and last rows' time and events must match.
      std::string first_events;
      std::string last_events;
      append_events(first_events, batch.front()->events);
      append_events(last_events, batch.back()->events);
      const std::string first_at = std::to_string(batch.front()->at);
      const std::string last_at = std::to_string(batch.back()->at);
      const std::string sql =
          "SELECT count(*) FILTER (WHERE (sequence = $1 AND recorded_at_unix_nanos = $2 AND events = $3) OR"
          " (sequence = $4 AND recorded_at_unix_nanos = $5 AND events = $6)), count(*)"
          " FROM journal_commands WHERE sequence IN ($1, $4)";
      const std::string first_text = std::to_string(first);
      const std::string last_text = std::to_string(last);
      const char* values[] = {first_text.c_str(), first_at.c_str(), first_events.c_str(),
                              last_text.c_str(),  last_at.c_str(),  last_events.c_str()};
      PgResult found(PQexecParams(conn_.get(), sql.c_str(), 6, nullptr, values, nullptr, nullptr, 0));
      if (PQresultStatus(found.get()) != PGRES_TUPLES_OK) return fail(status_from_result(found.get(), conn_.get()));
      const std::uint64_t rows = first == last ? 1u : 2u;
      const std::uint64_t same = std::strtoull(PQgetvalue(found.get(), 0, 0), nullptr, 10);
      const std::uint64_t present = std::strtoull(PQgetvalue(found.get(), 0, 1), nullptr, 10);
      if (present != rows) {
        return Status{ErrorCode::internal, "journal batch " + std::to_string(first) + ".." + std::to_string(last) +
                                               " is below the committed tail " + std::to_string(tail) +
                                               " but not in the journal"};
      }
      if (same != rows) {
        return Status{ErrorCode::internal,
                      "journal batch " + std::to_string(first) + ".." + std::to_string(last) +
                          ": the journal holds other commands under these sequences (another carbond wrote to this "
                          "database while this one's connections were down); nothing of this batch is acknowledged"};
      }
      landed = true;
      return Status::ok();
    }
    return Status{ErrorCode::internal, "journal batch " + std::to_string(first) + ".." + std::to_string(last) +
                                           " overlaps the committed tail " + std::to_string(tail)};
  }
  encode(batch);
  return Status::ok();
}

Status PostgresJournal::commit(const std::vector<const engine::Outcome*>& batch) {
  clear_interrupt();
  return commit(batch, 0);
}

Status PostgresJournal::commit(const std::vector<const engine::Outcome*>& batch, Sequence known_tail) {
  if (batch.empty()) return Status::ok();
  bool landed = false;
  if (Status s = prepare(batch, known_tail, landed); !s.is_ok() || landed) return s;
  if (Status s = run_whole(); !s.is_ok()) return fail(std::move(s));
  last_committed_ = batch.back()->sequence;
  return Status::ok();
}

Status PostgresJournal::begin(const std::vector<const engine::Outcome*>& batch, Sequence known_tail) {
  open_last_ = 0;
  if (batch.empty()) return Status::ok();
  bool landed = false;
  if (Status s = prepare(batch, known_tail, landed); !s.is_ok() || landed) return s;
  std::vector<Copy*> copies;
  std::size_t statements = 0;
  const std::string sql = appends_sql(copies, statements);
  if (Status s = send(sql, copies, statements, false); !s.is_ok()) return fail(std::move(s));
  open_last_ = batch.back()->sequence;
  return Status::ok();
}

Status PostgresJournal::update() {
  if (open_last_ == 0) return Status::ok();
  std::size_t statements = 0;
  const std::string sql = updates_sql(statements);
  if (statements == 0) return Status::ok();
  if (Status s = send(sql.substr(1), {}, statements, false); !s.is_ok()) return fail(std::move(s));
  return Status::ok();
}

Status PostgresJournal::end(bool commit) {
  const Sequence last = std::exchange(open_last_, 0);
  if (last == 0) return Status::ok();  // nothing open: an empty batch, or one already committed
  if (!commit) {
    set_connection(nullptr);  // the server rolls the open transaction back
    return Status::ok();
  }
  PgResult result(PQexec(conn_.get(), "COMMIT"));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return fail(status_from_result(result.get(), conn_.get()));
  }
  if (std::string_view(PQcmdStatus(result.get())) != "COMMIT") {
    return fail(Status{ErrorCode::internal, "journal: the batch's transaction rolled back at COMMIT"});
  }
  last_committed_ = last;
  return Status::ok();
}

std::string PostgresJournal::appends_sql(std::vector<Copy*>& copies, std::size_t& statements) {
  std::string sql = "BEGIN";
  // Append-only tables: new keys only, no row another transaction holds.
  for (Copy* copy : {&journal_, &participants_, &movements_, &ledger_, &trades_, &new_orders_}) {
    if (copy->data.empty()) continue;
    copies.push_back(copy);
    sql += ";";
    sql += copy->sql;
  }
  statements = 1 + copies.size();
  return sql;
}

std::string PostgresJournal::updates_sql(std::size_t& statements) const {
  // Rows earlier batches wrote: the projections' upserts and the market-state statements.
  statements = update_statements_ + market_statements_;
  return updates_sql_ + market_sql_;
}

Status PostgresJournal::run_whole() {
  // One simple query for the whole transaction: one round trip, plus one per COPY for its data.
  std::vector<Copy*> copies;
  std::size_t statements = 0, updates = 0;
  std::string sql = appends_sql(copies, statements);
  sql += updates_sql(updates);
  sql += ";COMMIT";
  return send(sql, copies, statements + updates + 1, true);
}

Status PostgresJournal::send(const std::string& sql, const std::vector<Copy*>& copies, std::size_t statements,
                             bool with_commit) {
  PGconn* conn = conn_.get();
  if (PQsendQuery(conn, sql.c_str()) != 1) return status_from_result(nullptr, conn);
  Status error = Status::ok();
  std::size_t next_copy = 0;
  std::size_t completed = 0;
  bool committed = false;
  bool lost = false;
  while (PGresult* raw = PQgetResult(conn)) {
    PgResult result(raw);
    const ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_COPY_IN) {
      if (!error.is_ok() || next_copy >= copies.size()) {
        if (error.is_ok()) error = Status{ErrorCode::internal, "journal: the server asked for an unexpected COPY"};
        if (PQputCopyEnd(conn, "journal batch abandoned") != 1) lost = true;
      } else {
        const std::string& data = copies[next_copy++]->data.finish();
        for (std::size_t at = 0; at < data.size() && !lost; at += kCopyChunk) {
          const std::size_t n = std::min(kCopyChunk, data.size() - at);
          if (PQputCopyData(conn, data.data() + at, static_cast<int>(n)) != 1) lost = true;
        }
        if (!lost && PQputCopyEnd(conn, nullptr) != 1) lost = true;
      }
    } else if (status == PGRES_COMMAND_OK) {
      ++completed;
      committed = std::string_view(PQcmdStatus(raw)) == "COMMIT";
    } else if (error.is_ok()) {
      error = statement_status(raw, conn);
    }
    if (lost || PQstatus(conn) != CONNECTION_OK) {
      lost = true;
      break;
    }
  }
  if (lost) return status_from_result(nullptr, conn);
  if (!error.is_ok()) return error;
  // Without COMMIT the transaction must be left open (begin()): not aborted, not ended by a stray statement.
  const bool finished = with_commit ? committed : PQtransactionStatus(conn) == PQTRANS_INTRANS;
  if (!finished || completed != statements) {
    return Status{ErrorCode::unavailable, std::string("journal: the transaction's ") +
                                              (with_commit ? "COMMIT" : "statements") + " not confirmed (" +
                                              std::to_string(completed) + " of " + std::to_string(statements) +
                                              " statements)"};
  }
  return Status::ok();
}

}  // namespace carbon::store
