#include "render.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <string>

#include "format.h"
#include "session.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;
using Align = Table::Align;

std::string price(std::int64_t fen) { return yuan(fen) + " CNY/t"; }
std::string cny(std::int64_t fen) { return yuan(fen) + " CNY"; }
std::string qty(std::int64_t quantity) { return tonnes(quantity) + " t"; }

/// Sum of non-negative balance parts, or nothing on overflow.
template <typename... Parts>
std::string total_of(std::string (*show)(std::int64_t), Parts... parts) {
  std::int64_t sum = 0;
  for (std::int64_t part : {static_cast<std::int64_t>(parts)...}) {
    if (__builtin_add_overflow(sum, part, &sum)) return "overflow";
  }
  return show(sum);
}

}  // namespace

void print_json(std::ostream& out, const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {  // never a stand-in document that scripts would take for the answer
    throw ExitError(kExitServerError, "the answer could not be written as JSON: " + std::string(status.message()));
  }
  out << json << '\n';
}

void print_participant(std::ostream& out, const v1::Participant& p) {
  Details details;
  details.add("participant", std::to_string(p.participant_id()))
      .add("code", p.code())
      .add("name", p.name())
      .add("type", short_name(p.type()))
      .add("holding account", id_or_dash(p.holding_account_id()))
      .add("cash account", id_or_dash(p.cash_account_id()));
  if (p.has_controls()) {  // staff, or the participant's own trader
    details.add("self-trade prevention", short_name(p.controls().self_trade_prevention()))
        .add("trading", p.controls().trading_suspended() ? "suspended: " + p.controls().reason() : "allowed");
  }
  details.print(out);
}

void print_participants(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Participant>& list) {
  if (list.empty()) {
    out << "(no participants)\n";
    return;
  }
  Table table({{"ID", Align::right},
               {"CODE"},
               {"NAME"},
               {"TYPE"},
               {"HOLDING ACCOUNT", Align::right},
               {"CASH ACCOUNT", Align::right}});
  for (const v1::Participant& p : list) {
    table.add_row({std::to_string(p.participant_id()), p.code(), p.name(), short_name(p.type()),
                   id_or_dash(p.holding_account_id()), id_or_dash(p.cash_account_id())});
  }
  table.print(out);
}

void print_order(std::ostream& out, const v1::Order& o) {
  Details()
      .add("order", std::to_string(o.order_id()))
      .add("client order id", o.client_order_id().empty() ? "-" : o.client_order_id())
      .add("participant", std::to_string(o.participant_id()))
      .add("instrument", o.instrument())
      .add("side", short_name(o.side()))
      .add("type", short_name(o.type()))
      .add("time in force", short_name(o.time_in_force()))
      .add("mode", short_name(o.mode()))
      .add("price", price(o.price_fen()))
      .add("quantity", qty(o.quantity()))
      .add("filled", qty(o.filled_quantity()))
      .add("remaining", qty(o.remaining_quantity()))
      .add("status", short_name(o.status()))
      .add("entered", china_time(o.entered_at_unix_nanos()))
      .add("sequence", std::to_string(o.sequence()))
      .print(out);
}

void print_orders(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Order>& orders) {
  if (orders.empty()) {
    out << "(no orders)\n";
    return;
  }
  // The mode column only matters once block offers or auction bids show up.
  const bool show_mode = std::any_of(orders.begin(), orders.end(), [](const v1::Order& o) {
    return o.mode() != v1::TRADING_MODE_LISTED && o.mode() != v1::TRADING_MODE_UNSPECIFIED;
  });
  std::vector<Table::Column> columns = {{"ORDER", Align::right},
                                        {"CLIENT ID"},
                                        {"INSTRUMENT"},
                                        {"SIDE"},
                                        {"TYPE"},
                                        {"TIF"},
                                        {"PRICE (CNY/t)", Align::right},
                                        {"QTY (t)", Align::right},
                                        {"FILLED (t)", Align::right},
                                        {"LEFT (t)", Align::right},
                                        {"STATUS"},
                                        {"ENTERED"}};
  if (show_mode) columns.insert(columns.begin() + 6, {"MODE"});
  Table table(std::move(columns));
  for (const v1::Order& o : orders) {
    std::vector<std::string> row = {std::to_string(o.order_id()),
                                    o.client_order_id().empty() ? "-" : o.client_order_id(),
                                    o.instrument(),
                                    short_name(o.side()),
                                    short_name(o.type()),
                                    short_name(o.time_in_force()),
                                    yuan(o.price_fen()),
                                    tonnes(o.quantity()),
                                    tonnes(o.filled_quantity()),
                                    tonnes(o.remaining_quantity()),
                                    short_name(o.status()),
                                    china_time(o.entered_at_unix_nanos())};
    if (show_mode) row.insert(row.begin() + 6, short_name(o.mode()));
    table.add_row(std::move(row));
  }
  table.print(out);
}

void print_trades(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Trade>& trades) {
  if (trades.empty()) {
    out << "(no trades)\n";
    return;
  }
  Table table({{"TRADE", Align::right},
               {"EXECUTED"},
               {"INSTRUMENT"},
               {"MODE"},
               {"PRICE (CNY/t)", Align::right},
               {"QTY (t)", Align::right},
               {"VALUE (CNY)", Align::right},
               {"BUY ORDER", Align::right},
               {"SELL ORDER", Align::right},
               {"BUYER", Align::right},
               {"SELLER", Align::right},
               {"AGGRESSOR"}});
  for (const v1::Trade& t : trades) {
    table.add_row({std::to_string(t.trade_id()), china_time(t.executed_at_unix_nanos()), t.instrument(),
                   short_name(t.mode()), yuan(t.price_fen()), tonnes(t.quantity()),
                   yuan_product(t.price_fen(), t.quantity()), id_or_dash(t.buy_order_id()),
                   id_or_dash(t.sell_order_id()), id_or_dash(t.buyer_participant_id()),
                   id_or_dash(t.seller_participant_id()),
                   t.aggressor_side() == v1::SIDE_UNSPECIFIED ? "-" : short_name(t.aggressor_side())});
  }
  table.print(out);
}

void print_reports(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::ExecutionReport>& reports) {
  if (reports.empty()) {
    out << "(no reports)\n";
    return;
  }
  Table table({{"SEQUENCE", Align::right},
               {"REPORT"},
               {"ORDER", Align::right},
               {"CLIENT ID"},
               {"INSTRUMENT"},
               {"SIDE"},
               {"PRICE (CNY/t)", Align::right},
               {"QTY (t)", Align::right},
               {"FILLED (t)", Align::right},
               {"STATUS"},
               {"TRADE", Align::right},
               {"FILL"}});
  for (const v1::ExecutionReport& r : reports) {
    const v1::Order& o = r.order();
    table.add_row({std::to_string(r.sequence()), short_name(r.type()), id_or_dash(o.order_id()),
                   o.client_order_id().empty() ? "-" : o.client_order_id(), o.instrument(), short_name(o.side()),
                   yuan(o.price_fen()), tonnes(o.quantity()), tonnes(o.filled_quantity()), short_name(o.status()),
                   id_or_dash(r.trade().trade_id()),
                   r.has_trade() ? tonnes(r.trade().quantity()) + " t @ " + yuan(r.trade().price_fen()) : "-"});
  }
  table.print(out);
}

void print_cash(std::ostream& out, const v1::CashBalance& cash) {
  Details()
      .add("cash account", id_or_dash(cash.cash_account_id()))
      .add("available", cny(cash.available_fen()))
      .add("reserved", cny(cash.reserved_fen()))
      .add("unsettled", cny(cash.unsettled_fen()))
      .add("total", total_of(cny, cash.available_fen(), cash.reserved_fen(), cash.unsettled_fen()))
      .print(out);
}

void print_holding(std::ostream& out, const v1::Holding& h) {
  Details()
      .add("holding account", id_or_dash(h.holding_account_id()))
      .add("instrument", h.instrument())
      .add("available", qty(h.available()))
      .add("reserved", qty(h.reserved()))
      .add("pending", qty(h.pending()))
      .add("frozen", qty(h.frozen()))
      .add("pledged", qty(h.pledged()))
      .add("total", total_of(qty, h.available(), h.reserved(), h.pending(), h.frozen(), h.pledged()))
      .print(out);
}

void print_holdings(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Holding>& holdings) {
  if (holdings.empty()) {
    out << "(no holdings)\n";
    return;
  }
  Table table({{"INSTRUMENT"},
               {"ACCOUNT", Align::right},
               {"AVAILABLE (t)", Align::right},
               {"RESERVED (t)", Align::right},
               {"PENDING (t)", Align::right},
               {"FROZEN (t)", Align::right},
               {"PLEDGED (t)", Align::right},
               {"TOTAL (t)", Align::right}});
  for (const v1::Holding& h : holdings) {
    table.add_row({h.instrument(), id_or_dash(h.holding_account_id()), tonnes(h.available()), tonnes(h.reserved()),
                   tonnes(h.pending()), tonnes(h.frozen()), tonnes(h.pledged()),
                   total_of(tonnes, h.available(), h.reserved(), h.pending(), h.frozen(), h.pledged())});
  }
  table.print(out);
}

void print_book(std::ostream& out, const v1::BookSnapshot& book) {
  out << printable(book.instrument()) << " listed order book (sequence " << book.sequence() << ")\n";
  if (book.bids().empty() && book.asks().empty()) {
    out << "(empty book)\n";
    return;
  }
  Table table({{"BID ORDERS", Align::right},
               {"BID QTY (t)", Align::right},
               {"BID (CNY/t)", Align::right},
               {"ASK (CNY/t)", Align::right},
               {"ASK QTY (t)", Align::right},
               {"ASK ORDERS", Align::right}});
  const int levels = std::max(book.bids_size(), book.asks_size());
  for (int i = 0; i < levels; ++i) {
    std::vector<std::string> row(6);
    if (i < book.bids_size()) {
      const v1::PriceLevel& bid = book.bids(i);
      row[0] = std::to_string(bid.order_count());
      row[1] = tonnes(bid.quantity());
      row[2] = yuan(bid.price_fen());
    }
    if (i < book.asks_size()) {
      const v1::PriceLevel& ask = book.asks(i);
      row[3] = yuan(ask.price_fen());
      row[4] = tonnes(ask.quantity());
      row[5] = std::to_string(ask.order_count());
    }
    table.add_row(std::move(row));
  }
  table.print(out);
}

}  // namespace carbonctl
