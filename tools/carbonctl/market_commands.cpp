// carbonctl commands for the market's operation (halts, reference prices,
// the calendar, participant controls, end of day), amendments, block trades
// and daily bars.

#include <functional>
#include <iostream>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/market_data.grpc.pb.h"
#include "carbon/v1/trading.grpc.pb.h"
#include "commands.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

void print_instruments(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::Instrument>& list) {
  Table table({{"instrument"}, {"market"}, {"reference", Table::Align::right}, {"tick", Table::Align::right},
               {"lot", Table::Align::right}, {"gtc"}, {"state"}});
  for (const auto& i : list) {
    table.add_row({i.code(), short_name(i.market()), yuan(i.reference_price_fen()), std::to_string(i.tick_fen()),
                   tonnes(i.lot()), i.gtc_enabled() ? "yes" : "no",
                   i.halted() ? "halted: " + i.halt_reason() : "trading"});
  }
  table.print(out);
}

void print_market(std::ostream& out, const v1::MarketStatus& market) {
  out << "trading day " << market.trading_date() << ", market "
      << (market.market_halted() ? "halted: " + printable(market.market_halt_reason()) : std::string("open")) << "\n";
  if (!market.settlement_hold().empty()) out << "settlement hold: " << printable(market.settlement_hold()) << "\n";
}

void print_offers(std::ostream& out, const google::protobuf::RepeatedPtrField<v1::BlockOffer>& offers) {
  Table table({{"offer", Table::Align::right}, {"instrument"}, {"side"}, {"price", Table::Align::right},
               {"quantity", Table::Align::right}, {"offerer", Table::Align::right}, {"to", Table::Align::right},
               {"status"}, {"trade", Table::Align::right}});
  for (const auto& o : offers) {
    table.add_row({std::to_string(o.offer_id()), o.instrument(), short_name(o.side()), yuan(o.price_fen()),
                   tonnes(o.quantity()), std::to_string(o.offerer_participant_id()),
                   o.counterparty_participant_id() == 0 ? "all" : std::to_string(o.counterparty_participant_id()),
                   short_name(o.status()), id_or_dash(o.trade_id())});
  }
  table.print(out);
}

}  // namespace

int market_instruments(Session& session) {
  v1::ListInstrumentsResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ListInstruments(c, v1::ListInstrumentsRequest{}, &response); });
  return print_message(session, response, [&] {
    print_market(std::cout, response.market());
    print_instruments(std::cout, response.instruments());
  });
}

int market_halt(Session& session, const std::string& instrument, const std::string& reason, bool resume) {
  v1::HaltTradingResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  if (resume) {
    v1::ResumeTradingRequest request;
    request.set_instrument(instrument);
    request.set_reason(reason);
    session.call([&](grpc::ClientContext* c) { return stub->ResumeTrading(c, request, &response); });
  } else {
    v1::HaltTradingRequest request;
    request.set_instrument(instrument);
    request.set_reason(reason);
    session.call([&](grpc::ClientContext* c) { return stub->HaltTrading(c, request, &response); });
  }
  return print_message(session, response, [&] {
    if (instrument.empty()) {
      print_market(std::cout, response.market());
    } else {
      print_instruments(std::cout, google::protobuf::RepeatedPtrField<v1::Instrument>(&response.instrument(),
                                                                                     &response.instrument() + 1));
    }
  });
}

int market_reference(Session& session, const std::string& instrument, std::int64_t price_fen,
                     const std::string& reason) {
  v1::SetReferencePriceRequest request;
  request.set_instrument(instrument);
  request.set_price_fen(price_fen);
  request.set_reason(reason);
  v1::Instrument response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->SetReferencePrice(c, request, &response); });
  return print_message(session, response, [&] {
    print_instruments(std::cout, google::protobuf::RepeatedPtrField<v1::Instrument>(&response, &response + 1));
  });
}

int market_calendar(Session& session, int year, const std::vector<std::string>& holidays, bool set) {
  v1::TradingCalendar response;
  auto stub = v1::AdminService::NewStub(session.channel());
  if (set) {
    v1::SetTradingCalendarRequest request;
    request.set_year(year);
    for (const auto& day : holidays) request.add_holidays(day);
    session.call([&](grpc::ClientContext* c) { return stub->SetTradingCalendar(c, request, &response); });
  } else {
    v1::GetTradingCalendarRequest request;
    request.set_year(year);
    session.call([&](grpc::ClientContext* c) { return stub->GetTradingCalendar(c, request, &response); });
  }
  return print_message(session, response, [&] {
    std::cout << response.year() << ": " << response.trading_day_count() << " trading days; holidays:";
    for (const auto& day : response.holidays()) std::cout << " " << day;
    std::cout << (response.holidays().empty() ? " none\n" : "\n");
  });
}

int market_end_of_day(Session& session, const std::string& trading_date) {
  v1::RunEndOfDayRequest request;
  request.set_trading_date(trading_date);
  v1::RunEndOfDayResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->RunEndOfDay(c, request, &response); });
  return print_message(session, response, [&] {
    std::cout << "closed " << response.trading_date() << "; next trading day " << response.next_trading_date() << "; "
              << response.expired_order_count() << " orders expired";
    if (response.band_cancelled_order_count() > 0) {
      std::cout << "; " << response.band_cancelled_order_count() << " GTC orders cancelled outside the new band";
    }
    std::cout << "\n";
    Table table({{"instrument"}, {"close", Table::Align::right}, {"from"}, {"listed volume", Table::Align::right}});
    for (const auto& close : response.closing_prices()) {
      table.add_row({close.instrument(), yuan(close.close_price_fen()),
                     close.from_trades() ? "trades" : "previous close", tonnes(close.listed_volume())});
    }
    table.print(std::cout);
  });
}

int market_bars(Session& session, const std::string& instrument, const std::string& from, const std::string& to) {
  v1::GetDailyBarsRequest request;
  request.set_instrument(instrument);
  request.set_from_date(from);
  request.set_to_date(to);
  v1::GetDailyBarsResponse response;
  auto stub = v1::MarketDataService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->GetDailyBars(c, request, &response); });
  return print_message(session, response, [&] {
    Table table({{"date"}, {"mode"}, {"open", Table::Align::right}, {"high", Table::Align::right},
                 {"low", Table::Align::right}, {"close", Table::Align::right}, {"volume", Table::Align::right},
                 {"turnover", Table::Align::right}, {"trades", Table::Align::right}});
    for (const auto& bar : response.bars()) {
      table.add_row({bar.trading_date(), short_name(bar.mode()), yuan(bar.open_price_fen()),
                     yuan(bar.high_price_fen()), yuan(bar.low_price_fen()), yuan(bar.close_price_fen()),
                     tonnes(bar.volume()), yuan(bar.turnover_fen()), std::to_string(bar.trade_count())});
    }
    table.print(std::cout);
  });
}

int participant_controls(Session& session, const ControlsArgs& args) {
  auto stub = v1::AdminService::NewStub(session.channel());
  // SetParticipantControls replaces every field: start from the controls in force, so that what was not asked
  // for (the other setting, a suspension and its reason) stays as it is.
  v1::GetParticipantRequest get;
  get.set_participant_id(args.participant_id);
  v1::Participant current;
  session.call([&](grpc::ClientContext* c) { return stub->GetParticipant(c, get, &current); });
  v1::SetParticipantControlsRequest request;
  request.set_participant_id(args.participant_id);
  request.set_self_trade_prevention(current.controls().self_trade_prevention());
  request.set_trading_suspended(current.controls().trading_suspended());
  request.set_reason(current.controls().reason());
  if (args.self_trade == "cancel-resting") request.set_self_trade_prevention(v1::SELF_TRADE_PREVENTION_CANCEL_RESTING);
  if (args.self_trade == "cancel-incoming") request.set_self_trade_prevention(v1::SELF_TRADE_PREVENTION_CANCEL_INCOMING);
  if (args.self_trade == "cancel-both") request.set_self_trade_prevention(v1::SELF_TRADE_PREVENTION_CANCEL_BOTH);
  if (args.suspend) {
    request.set_trading_suspended(true);
    request.set_reason(args.reason);
  }
  if (args.resume) {
    request.set_trading_suspended(false);
    request.clear_reason();
  }
  v1::ParticipantControls response;
  session.call([&](grpc::ClientContext* c) { return stub->SetParticipantControls(c, request, &response); });
  return print_message(session, response, [&] {
    std::cout << "participant " << response.participant_id() << ": self-trade prevention "
              << short_name(response.self_trade_prevention()) << ", "
              << (response.trading_suspended() ? "suspended: " + printable(response.reason()) : std::string("trading"))
              << "\n";
  });
}

int order_amend(Session& session, std::uint64_t order_id, std::int64_t price_fen, std::int64_t quantity) {
  v1::AmendOrderRequest request;
  request.set_order_id(order_id);
  request.set_new_price_fen(price_fen);
  request.set_new_quantity(quantity);
  v1::AmendOrderResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->AmendOrder(c, request, &response); });
  return print_message(session, response, [&] {
    print_order(std::cout, response.order());
    std::cout << (response.priority_kept() ? "time priority kept\n" : "re-queued: time priority lost\n");
    if (!response.fills().empty()) print_trades(std::cout, response.fills());
  });
}

int order_cancel_all(Session& session, const std::string& instrument, const std::string& side) {
  v1::CancelAllOrdersRequest request;
  request.set_instrument(instrument);
  if (side == "buy") request.set_side(v1::SIDE_BUY);
  if (side == "sell") request.set_side(v1::SIDE_SELL);
  v1::CancelAllOrdersResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->CancelAllOrders(c, request, &response); });
  return print_message(session, response, [&] {
    std::cout << response.cancelled_orders_size() << " orders cancelled\n";
    if (!response.cancelled_orders().empty()) print_orders(std::cout, response.cancelled_orders());
  });
}

int block_offer(Session& session, const BlockOfferArgs& args) {
  v1::OfferBlockTradeRequest request;
  request.set_instrument(args.instrument);
  request.set_side(args.side == "buy" ? v1::SIDE_BUY : v1::SIDE_SELL);
  request.set_price_fen(args.price_fen);
  request.set_quantity(args.quantity);
  request.set_counterparty_participant_id(args.counterparty);
  request.set_client_order_id(args.client_order_id);
  v1::OfferBlockTradeResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->OfferBlockTrade(c, request, &response); });
  return print_message(session, response, [&] {
    print_offers(std::cout, google::protobuf::RepeatedPtrField<v1::BlockOffer>(&response.offer(), &response.offer() + 1));
  });
}

int block_accept(Session& session, std::uint64_t offer_id, std::int64_t price_fen, std::int64_t quantity) {
  v1::AcceptBlockTradeRequest request;
  request.set_offer_id(offer_id);
  request.set_expected_price_fen(price_fen);
  request.set_expected_quantity(quantity);
  v1::AcceptBlockTradeResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->AcceptBlockTrade(c, request, &response); });
  return print_message(session, response, [&] {
    print_offers(std::cout, google::protobuf::RepeatedPtrField<v1::BlockOffer>(&response.offer(), &response.offer() + 1));
    print_trades(std::cout, google::protobuf::RepeatedPtrField<v1::Trade>(&response.trade(), &response.trade() + 1));
  });
}

int block_list(Session& session, const std::string& instrument) {
  v1::ListBlockOffersRequest request;
  request.set_instrument(instrument);
  v1::ListBlockOffersResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* c) { return stub->ListBlockOffers(c, request, &response); });
  return print_message(session, response, [&] { print_offers(std::cout, response.offers()); });
}

}  // namespace carbonctl
