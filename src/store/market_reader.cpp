#include "store/market_reader.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "store/pg.h"

namespace carbon::store {
namespace {

std::int64_t i64(const PGresult* r, int row, int col) { return std::strtoll(PQgetvalue(r, row, col), nullptr, 10); }
std::uint64_t u64(const PGresult* r, int row, int col) { return std::strtoull(PQgetvalue(r, row, col), nullptr, 10); }

constexpr const char* kTradeColumns =
    "trade_id, instrument, mode, price_fen, quantity, buy_order_id, sell_order_id, buyer_participant_id,"
    " seller_participant_id, aggressor_side, sequence, executed_at_unix_nanos, buyer_fee_fen, seller_fee_fen";
constexpr const char* kOrderColumns =
    "order_id, client_order_id, participant_id, instrument, side, order_type, time_in_force, mode, price_fen,"
    " quantity, filled_quantity, status, sequence, entered_at_unix_nanos, priority, updated_sequence,"
    " counterparty_participant_id";

/// A row of kTradeColumns.
engine::TradeRecord trade_at(const PGresult* r, int row) {
  engine::TradeRecord t;
  t.id = u64(r, row, 0);
  t.instrument = PQgetvalue(r, row, 1);
  t.mode = static_cast<TradingMode>(i64(r, row, 2));
  t.price = Price{i64(r, row, 3)};
  t.quantity = Qty{i64(r, row, 4)};
  t.buy_order = u64(r, row, 5);
  t.sell_order = u64(r, row, 6);
  t.buyer = u64(r, row, 7);
  t.seller = u64(r, row, 8);
  t.aggressor = static_cast<Side>(i64(r, row, 9));
  t.sequence = u64(r, row, 10);
  t.executed_at = i64(r, row, 11);
  t.buyer_fee = Cash{i64(r, row, 12)};
  t.seller_fee = Cash{i64(r, row, 13)};
  return t;
}

/// A row of kOrderColumns.
engine::OrderRecord order_at(const PGresult* r, int row) {
  engine::OrderRecord o;
  o.id = u64(r, row, 0);
  o.client_order_id = PQgetvalue(r, row, 1);
  o.participant = u64(r, row, 2);
  o.instrument = PQgetvalue(r, row, 3);
  o.side = static_cast<Side>(i64(r, row, 4));
  o.type = static_cast<OrderType>(i64(r, row, 5));
  o.time_in_force = static_cast<TimeInForce>(i64(r, row, 6));
  o.mode = static_cast<TradingMode>(i64(r, row, 7));
  o.price = Price{i64(r, row, 8)};
  o.quantity = Qty{i64(r, row, 9)};
  o.filled = Qty{i64(r, row, 10)};
  o.status = static_cast<OrderStatus>(i64(r, row, 11));
  o.sequence = u64(r, row, 12);
  o.entered_at = i64(r, row, 13);
  o.priority = u64(r, row, 14);
  o.updated_sequence = u64(r, row, 15);
  o.counterparty = u64(r, row, 16);
  return o;
}

/// Opens the snapshot and checks the participant filter names a participant.
Status open_checked(const std::string& conninfo, const MarketFilter& filter, PgConn& conn) {
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  if (filter.participant == 0) return Status::ok();
  PgResult r;
  if (Status s = read_query(conn.get(), "SELECT 1 FROM participants WHERE participant_id = $1",
                            {std::to_string(filter.participant)}, r);
      !s.is_ok()) {
    return s;
  }
  return PQntuples(r.get()) == 1 ? Status::ok()
                                 : not_found("participant " + std::to_string(filter.participant) + " does not exist");
}

/// Builds "<select> WHERE <id> > $1 AND ... ORDER BY <id> LIMIT n" from the filter.
class Where {
 public:
  Where(std::string select, const char* id_column, std::uint64_t after)
      : sql_(std::move(select) + " WHERE " + id_column + " > $1"), id_column_(id_column) {
    params_.push_back(std::to_string(after));
  }
  void add(const std::string& condition, std::string value) {
    params_.push_back(std::move(value));
    std::string text = condition;
    const std::string placeholder = "$" + std::to_string(params_.size());
    for (std::size_t at; (at = text.find('?')) != std::string::npos;) text.replace(at, 1, placeholder);
    sql_ += " AND " + text;
  }
  std::string sql(std::size_t limit) const {
    return sql_ + " ORDER BY " + id_column_ + " LIMIT " + std::to_string(limit);
  }
  const std::vector<std::string>& params() const { return params_; }

 private:
  std::string sql_;
  std::string id_column_;
  std::vector<std::string> params_;
};

}  // namespace

Status query_trades(const std::string& conninfo, const MarketFilter& filter, std::vector<engine::TradeRecord>& out) {
  PgConn conn;
  if (Status s = open_checked(conninfo, filter, conn); !s.is_ok()) return s;
  Where where(std::string("SELECT ") + kTradeColumns + " FROM trades", "trade_id", filter.after_id);
  if (!filter.instrument.empty()) where.add("instrument = ?", filter.instrument);
  if (filter.participant != 0) {
    where.add("(buyer_participant_id = ? OR seller_participant_id = ?)", std::to_string(filter.participant));
  }
  if (filter.mode) where.add("mode = ?", std::to_string(*filter.mode));
  if (filter.from != 0) where.add("executed_at_unix_nanos >= ?", std::to_string(filter.from));
  if (filter.to != 0) where.add("executed_at_unix_nanos < ?", std::to_string(filter.to));
  PgResult r;
  if (Status s = read_query(conn.get(), where.sql(filter.limit), where.params(), r); !s.is_ok()) return s;
  for (int row = 0; row < PQntuples(r.get()); ++row) out.push_back(trade_at(r.get(), row));
  return Status::ok();
}

Status query_orders(const std::string& conninfo, const MarketFilter& filter, std::vector<engine::OrderRecord>& out) {
  PgConn conn;
  if (Status s = open_checked(conninfo, filter, conn); !s.is_ok()) return s;
  Where where(std::string("SELECT ") + kOrderColumns + " FROM orders", "order_id", filter.after_id);
  if (!filter.instrument.empty()) where.add("instrument = ?", filter.instrument);
  if (filter.participant != 0) where.add("participant_id = ?", std::to_string(filter.participant));
  if (filter.status) where.add("status = ?", std::to_string(*filter.status));
  if (filter.from != 0) where.add("entered_at_unix_nanos >= ?", std::to_string(filter.from));
  if (filter.to != 0) where.add("entered_at_unix_nanos < ?", std::to_string(filter.to));
  PgResult r;
  if (Status s = read_query(conn.get(), where.sql(filter.limit), where.params(), r); !s.is_ok()) return s;
  for (int row = 0; row < PQntuples(r.get()); ++row) out.push_back(order_at(r.get(), row));
  return Status::ok();
}

Status read_order(const std::string& conninfo, OrderId id, engine::OrderRecord& out) {
  if (id == 0 || id > static_cast<OrderId>(std::numeric_limits<std::int64_t>::max())) {
    return not_found("order " + std::to_string(id) + " does not exist");
  }
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  PgResult r;
  if (Status s = read_query(conn.get(), std::string("SELECT ") + kOrderColumns + " FROM orders WHERE order_id = $1",
                            {std::to_string(id)}, r);
      !s.is_ok()) {
    return s;
  }
  if (PQntuples(r.get()) != 1) return not_found("order " + std::to_string(id) + " does not exist");
  out = order_at(r.get(), 0);
  return Status::ok();
}

Status read_order_history(const std::string& conninfo, ParticipantId participant, Sequence after, Sequence up_to,
                          OrderHistory& out) {
  PgConn conn;
  if (Status s = open_read_snapshot(conninfo, conn); !s.is_ok()) return s;
  PgResult r;
  // The previous trading day opened with the end of day before the last one (as of up_to).
  if (Status s = read_query(conn.get(),
                            "SELECT sequence FROM reconciliations WHERE sequence <= $1"
                            " ORDER BY sequence DESC LIMIT 1 OFFSET 1",
                            {std::to_string(up_to)}, r);
      !s.is_ok()) {
    return s;
  }
  out.from = std::max<Sequence>(after, PQntuples(r.get()) == 1 ? u64(r.get(), 0, 0) : 0);
  const std::string from = std::to_string(out.from);
  const std::string who = std::to_string(participant);
  if (Status s = read_query(conn.get(),
                            std::string("SELECT ") + kOrderColumns +
                                " FROM orders WHERE participant_id = $1 AND updated_sequence > $2 ORDER BY order_id",
                            {who, from}, r);
      !s.is_ok()) {
    return s;
  }
  for (int row = 0; row < PQntuples(r.get()); ++row) out.orders.push_back(order_at(r.get(), row));
  std::uint64_t first_trade = 1;
  if (Status s = first_id_after(conn.get(), "trades", "trade_id", out.from, first_trade); !s.is_ok()) return s;
  if (Status s = read_query(conn.get(),
                            std::string("SELECT ") + kTradeColumns +
                                " FROM trades WHERE trade_id >= $1 AND sequence > $2"
                                " AND (buyer_participant_id = $3 OR seller_participant_id = $3) ORDER BY trade_id",
                            {std::to_string(first_trade), from, who}, r);
      !s.is_ok()) {
    return s;
  }
  for (int row = 0; row < PQntuples(r.get()); ++row) out.trades.push_back(trade_at(r.get(), row));
  return Status::ok();
}

}  // namespace carbon::store
