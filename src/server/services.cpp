#include "server/services.h"

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "engine/validation.h"
#include "matching/trading_rules.h"
#include "server/convert.h"
#include "server/dispatch.h"
#include "server/order_requests.h"
#include "server/paging.h"
#include "server/read_pool.h"
#include "server/read_slots.h"
#include "store/market_reader.h"

namespace carbon::server {

// ---- TradingService --------------------------------------------------------

grpc::ServerUnaryReactor* TradingService::PlaceOrder(grpc::CallbackServerContext* ctx,
                                                     const v1::PlaceOrderRequest* request,
                                                     v1::PlaceOrderResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/PlaceOrder", response,
      [&](const engine::Principal&) { return engine::CommandBody{place_order_from(*request)}; },
      [](const engine::Reply& reply, v1::PlaceOrderResponse& out) {
        if (!reply.orders.empty()) to_proto(reply.orders.front(), *out.mutable_order());
        for (const auto& trade : reply.trades) to_proto(trade, *out.add_fills());
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::CancelOrder(grpc::CallbackServerContext* ctx,
                                                      const v1::CancelOrderRequest* request,
                                                      v1::CancelOrderResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/CancelOrder", response,
      [&](const engine::Principal&) { return engine::CommandBody{cancel_order_from(*request)}; },
      [](const engine::Reply& reply, v1::CancelOrderResponse& out) {
        if (!reply.orders.empty()) to_proto(reply.orders.front(), *out.mutable_order());
      },
      request);
}

namespace {

/// GetOrder of an order closed in a trading day that has ended: the engine no longer holds it, PostgreSQL has
/// its final state (committed before the engine's reply was answered). Read on the server's read pool, holding
/// one of its read slots: the engine's reply is answered on the journal writer's thread, which must not wait
/// for a read.
void read_closed_order(ServiceContext& context, grpc::ServerUnaryReactor* reactor, v1::Order* out, OrderId id,
                       ParticipantId caller) {
  auto slot = std::make_shared<ReadSlot>(context.read_slots);
  if (!slot->status().is_ok()) {
    reactor->Finish(to_grpc(slot->status()));
    return;
  }
  auto read = [slot = std::move(slot), conninfo = context.ledger_conninfo, reactor, out, id, caller]() mutable {
    engine::OrderRecord order;
    Status s = store::read_order(conninfo, id, order);
    if (s.is_ok() && order.participant != caller) {
      s = permission_denied("order " + std::to_string(id) + " belongs to another participant");
    }
    if (s.is_ok()) to_proto(order, *out);
    slot.reset();  // free before the client can see the answer
    reactor->Finish(to_grpc(s));
  };
  context.read_pool->post(std::move(read));
}

}  // namespace

grpc::ServerUnaryReactor* TradingService::GetOrder(grpc::CallbackServerContext* ctx, const v1::GetOrderRequest* request,
                                                   v1::Order* response) {
  auto caller = std::make_shared<ParticipantId>(0);
  return dispatch_checked(
      context_, ctx, "carbon.v1.TradingService/GetOrder", response, Status::ok(),
      [&, caller](const engine::Principal& who) {
        *caller = who.participant;
        return engine::CommandBody{engine::GetOrder{request->order_id()}};
      },
      [](const engine::Reply& reply, v1::Order& out) {
        if (!reply.orders.empty()) to_proto(reply.orders.front(), out);
        return Status::ok();
      },
      request,
      [this, caller, id = request->order_id()](const engine::Reply& reply, grpc::ServerUnaryReactor* reactor,
                                              v1::Order* out) {
        if (!reply.order_closed_earlier) return false;
        read_closed_order(context_, reactor, out, id, *caller);
        return true;
      });
}

grpc::ServerUnaryReactor* TradingService::ListOrders(grpc::CallbackServerContext* ctx,
                                                     const v1::ListOrdersRequest* request,
                                                     v1::ListOrdersResponse* response) {
  Page page;
  Status precheck = parse_page(request->page_size(), request->page_token(),
                               request->instrument() + "|" + (request->open_only() ? "open" : "all"), page);
  return dispatch_checked(
      context_, ctx, "carbon.v1.TradingService/ListOrders", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{
            engine::ListOrders{request->instrument(), request->open_only(), page.offset, page.size + 1}};
      },
      [page](const engine::Reply& reply, v1::ListOrdersResponse& out) {
        out.set_next_page_token(fill_keyset_page(
            reply.orders, page, out.mutable_orders(),
            [](const engine::OrderRecord& order, v1::Order& o) { to_proto(order, o); },
            [](const engine::OrderRecord& order) { return order.id; }));
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::ListTrades(grpc::CallbackServerContext* ctx,
                                                     const v1::ListTradesRequest* request,
                                                     v1::ListTradesResponse* response) {
  Page page;
  Status precheck = parse_page(request->page_size(), request->page_token(), request->instrument(), page);
  return dispatch_checked(
      context_, ctx, "carbon.v1.TradingService/ListTrades", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListTrades{request->instrument(), page.offset, page.size + 1}};
      },
      [page](const engine::Reply& reply, v1::ListTradesResponse& out) {
        out.set_next_page_token(fill_keyset_page(
            reply.trades, page, out.mutable_trades(),
            [](const engine::TradeRecord& trade, v1::Trade& t) { to_proto(trade, t); },
            [](const engine::TradeRecord& trade) { return trade.id; }));
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::GetBalances(grpc::CallbackServerContext* ctx,
                                                      const v1::GetBalancesRequest* request,
                                                      v1::GetBalancesResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/GetBalances", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::GetBalances{}}; },
      [](const engine::Reply& reply, v1::GetBalancesResponse& out) { fill_balances(reply, out); },
      request);
}

grpc::ServerUnaryReactor* TradingService::AmendOrder(grpc::CallbackServerContext* ctx,
                                                     const v1::AmendOrderRequest* request,
                                                     v1::AmendOrderResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/AmendOrder", response,
      [&](const engine::Principal&) { return engine::CommandBody{amend_order_from(*request)}; },
      [](const engine::Reply& reply, v1::AmendOrderResponse& out) {
        if (!reply.orders.empty()) to_proto(reply.orders.back(), *out.mutable_order());
        for (const auto& trade : reply.trades) to_proto(trade, *out.add_fills());
        out.set_priority_kept(reply.priority_kept);
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::CancelAllOrders(grpc::CallbackServerContext* ctx,
                                                          const v1::CancelAllOrdersRequest* request,
                                                          v1::CancelAllOrdersResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/CancelAllOrders", response,
      [&](const engine::Principal&) {
        engine::CancelAllOrders command{request->instrument(), std::nullopt};
        if (request->side() != v1::SIDE_UNSPECIFIED) command.side = enum_from_wire<Side>(request->side());
        return engine::CommandBody{std::move(command)};
      },
      [](const engine::Reply& reply, v1::CancelAllOrdersResponse& out) {
        for (const auto& order : reply.orders) to_proto(order, *out.add_cancelled_orders());
        out.set_sequence(reply.sequence);
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::OfferBlockTrade(grpc::CallbackServerContext* ctx,
                                                          const v1::OfferBlockTradeRequest* request,
                                                          v1::OfferBlockTradeResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/OfferBlockTrade", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::OfferBlockTrade{
            request->instrument(), enum_from_wire<Side>(request->side()), Price{request->price_fen()},
            Qty{request->quantity()}, request->counterparty_participant_id(), request->client_order_id()}};
      },
      [](const engine::Reply& reply, v1::OfferBlockTradeResponse& out) {
        if (!reply.orders.empty()) to_block_offer(reply.orders.front(), 0, *out.mutable_offer());
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::AcceptBlockTrade(grpc::CallbackServerContext* ctx,
                                                           const v1::AcceptBlockTradeRequest* request,
                                                           v1::AcceptBlockTradeResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/AcceptBlockTrade", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::AcceptBlockTrade{request->offer_id(), Price{request->expected_price_fen()},
                                                            Qty{request->expected_quantity()},
                                                            request->client_order_id()}};
      },
      [](const engine::Reply& reply, v1::AcceptBlockTradeResponse& out) {
        const TradeId trade = reply.trades.empty() ? 0 : reply.trades.front().id;
        if (!reply.orders.empty()) {
          engine::OrderRecord offer = reply.orders.front();
          offer.client_order_id.clear();  // the offerer's own id is not the acceptor's to see
          to_block_offer(offer, trade, *out.mutable_offer());
        }
        if (!reply.trades.empty()) to_proto(reply.trades.front(), *out.mutable_trade());
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::ListBlockOffers(grpc::CallbackServerContext* ctx,
                                                          const v1::ListBlockOffersRequest* request,
                                                          v1::ListBlockOffersResponse* response) {
  Status precheck;
  if (!v1::BlockOfferStatus_IsValid(request->status())) {
    precheck = invalid_argument("unknown block offer status " + std::to_string(request->status()));
  }
  return dispatch_checked(
      context_, ctx, "carbon.v1.TradingService/ListBlockOffers", response, std::move(precheck),
      [&](const engine::Principal&) {
        engine::ListBlockOffers query{request->instrument(), std::nullopt};
        switch (request->status()) {
          case v1::BLOCK_OFFER_STATUS_UNSPECIFIED: break;
          case v1::BLOCK_OFFER_STATUS_OPEN: query.status = OrderStatus::open; break;
          case v1::BLOCK_OFFER_STATUS_ACCEPTED: query.status = OrderStatus::filled; break;
          case v1::BLOCK_OFFER_STATUS_CANCELLED: query.status = OrderStatus::cancelled; break;
          case v1::BLOCK_OFFER_STATUS_EXPIRED: query.status = OrderStatus::expired; break;
          default: break;  // refused by the precheck
        }
        return engine::CommandBody{std::move(query)};
      },
      [](const engine::Reply& reply, v1::ListBlockOffersResponse& out) {
        for (const auto& order : reply.orders) to_block_offer(order, 0, *out.add_offers());
        return Status::ok();
      },
      request);
}

// ---- MarketDataService -----------------------------------------------------

grpc::ServerUnaryReactor* MarketDataService::GetBook(grpc::CallbackServerContext* ctx, const v1::GetBookRequest* request,
                                                     v1::BookSnapshot* response) {
  return dispatch(
      context_, ctx, "carbon.v1.MarketDataService/GetBook", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::GetBook{request->instrument(), request->depth()}};
      },
      [](const engine::Reply& reply, v1::BookSnapshot& out) {
        if (!reply.book) return;
        out.set_instrument(reply.book->instrument);
        for (const auto& level : reply.book->bids) to_proto(level, *out.add_bids());
        for (const auto& level : reply.book->asks) to_proto(level, *out.add_asks());
        out.set_sequence(reply.sequence);
      },
      request);
}

grpc::ServerUnaryReactor* MarketDataService::GetDailyBars(grpc::CallbackServerContext* ctx,
                                                          const v1::GetDailyBarsRequest* request,
                                                          v1::GetDailyBarsResponse* response) {
  Status precheck;
  if (!v1::TradingMode_IsValid(request->mode())) {
    precheck = invalid_argument("unknown trading mode " + std::to_string(request->mode()));
  }
  const TradingMode mode = request->mode() == v1::TRADING_MODE_UNSPECIFIED || !precheck.is_ok()
                               ? TradingMode{}
                               : enum_from_wire<TradingMode>(request->mode());
  return dispatch_checked(
      context_, ctx, "carbon.v1.MarketDataService/GetDailyBars", response, std::move(precheck),
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::GetDailyBars{request->instrument(), request->from_date(), request->to_date()}};
      },
      [mode](const engine::Reply& reply, v1::GetDailyBarsResponse& out) {
        for (const auto& bar : reply.bars) {
          if (mode == TradingMode{} || bar.mode == mode) to_proto(bar, *out.add_bars());
        }
        return Status::ok();
      },
      request);
}

// ---- AdminService ----------------------------------------------------------

grpc::ServerUnaryReactor* AdminService::CreateParticipant(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateParticipantRequest* request,
                                                          v1::CreateParticipantResponse* response) {
  std::string token = generate_token();
  const registry::Hash token_hash = hash_token(token);
  Authenticator& auth = context_.auth;
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/CreateParticipant", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::CreateParticipant{
            request->code(), request->name(), enum_from_wire<ParticipantType>(request->type()), token_hash}};
      },
      [&auth, token = std::move(token)](const engine::Reply& reply, v1::CreateParticipantResponse& out) {
        if (reply.participants.empty()) return;
        const engine::ParticipantRecord& participant = reply.participants.front();
        if (reply.api_tokens.empty()) {
          auth.add_trader(participant.token_hash, participant.id, participant.code);
        } else {
          auth.add_first_token(reply.api_tokens.front(), participant.code);  // as API token, by the code
        }
        to_proto(participant, *out.mutable_participant());
        out.set_trader_token(token);
      },
      request);
}

grpc::ServerUnaryReactor* AdminService::GetParticipant(grpc::CallbackServerContext* ctx,
                                                       const v1::GetParticipantRequest* request,
                                                       v1::Participant* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/GetParticipant", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::GetParticipant{request->participant_id()}}; },
      [](const engine::Reply& reply, v1::Participant& out) {
        if (!reply.participants.empty()) to_proto(reply.participants.front(), out);
        if (reply.controls) to_proto(*reply.controls, *out.mutable_controls());
      },
      request);
}

grpc::ServerUnaryReactor* AdminService::ListParticipants(grpc::CallbackServerContext* ctx,
                                                         const v1::ListParticipantsRequest* request,
                                                         v1::ListParticipantsResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/ListParticipants", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::ListParticipants{}}; },
      [](const engine::Reply& reply, v1::ListParticipantsResponse& out) {
        for (const auto& participant : reply.participants) to_proto(participant, *out.add_participants());
      },
      request);
}

namespace {

grpc::ServerUnaryReactor* move_cash(ServiceContext& context, grpc::CallbackServerContext* ctx, const char* method,
                                    const v1::CashMovementRequest* request, v1::CashMovementResponse* response,
                                    bool withdrawal) {
  return dispatch(
      context, ctx, method, response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::MoveCash{request->cash_account_id(), Cash{request->amount_fen()},
                                                    request->idempotency_key(), withdrawal}};
      },
      [](const engine::Reply& reply, v1::CashMovementResponse& out) {
        if (reply.cash) to_proto(*reply.cash, *out.mutable_balance());
        out.set_sequence(reply.sequence);
      },
      request);
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::Deposit(grpc::CallbackServerContext* ctx, const v1::CashMovementRequest* request,
                                                v1::CashMovementResponse* response) {
  return move_cash(context_, ctx, "carbon.v1.AdminService/Deposit", request, response, false);
}

grpc::ServerUnaryReactor* AdminService::Withdraw(grpc::CallbackServerContext* ctx,
                                                 const v1::CashMovementRequest* request,
                                                 v1::CashMovementResponse* response) {
  return move_cash(context_, ctx, "carbon.v1.AdminService/Withdraw", request, response, true);
}

grpc::ServerUnaryReactor* AdminService::SetParticipantControls(grpc::CallbackServerContext* ctx,
                                                               const v1::SetParticipantControlsRequest* request,
                                                               v1::ParticipantControls* response) {
  Status precheck;
  if (!request->related_group().empty()) {
    precheck = unimplemented("related_group: this build raises no related-account surveillance alerts, so it "
                             "keeps no related-account groups (admin.proto)");
  }
  return dispatch_checked(
      context_, ctx, "carbon.v1.AdminService/SetParticipantControls", response, std::move(precheck),
      [&](const engine::Principal&) {
        // Every field replaces the current value; UNSPECIFIED is the default (cancel the incoming order).
        engine::SetParticipantControls command;
        command.participant = request->participant_id();
        command.self_trade = request->self_trade_prevention() == v1::SELF_TRADE_PREVENTION_UNSPECIFIED
                                 ? engine::SelfTradePrevention::cancel_incoming
                                 : enum_from_wire<engine::SelfTradePrevention>(request->self_trade_prevention());
        command.suspended = request->trading_suspended();
        command.reason = request->reason();
        return engine::CommandBody{std::move(command)};
      },
      [](const engine::Reply& reply, v1::ParticipantControls& out) {
        if (reply.controls) to_proto(*reply.controls, out);
        return Status::ok();
      },
      request);
}

grpc::ServerUnaryReactor* AdminService::ListInstruments(grpc::CallbackServerContext* ctx,
                                                        const v1::ListInstrumentsRequest* request,
                                                        v1::ListInstrumentsResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/ListInstruments", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::ListInstruments{}}; },
      [](const engine::Reply& reply, v1::ListInstrumentsResponse& out) {
        for (std::size_t k = 0; k < reply.instruments.size(); ++k) instrument_to_proto(reply, k, *out.add_instruments());
        if (reply.market) to_proto(*reply.market, *out.mutable_market());
      },
      request);
}

namespace {

void fill_halt_response(const engine::Reply& reply, v1::HaltTradingResponse& out) {
  if (reply.market) to_proto(*reply.market, *out.mutable_market());
  if (!reply.instruments.empty()) {
    instrument_to_proto(reply, 0, *out.mutable_instrument());
  }
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::HaltTrading(grpc::CallbackServerContext* ctx,
                                                    const v1::HaltTradingRequest* request,
                                                    v1::HaltTradingResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/HaltTrading", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::HaltTrading{request->instrument(), request->reason()}};
      },
      [](const engine::Reply& reply, v1::HaltTradingResponse& out) { fill_halt_response(reply, out); },
      request);
}

grpc::ServerUnaryReactor* AdminService::ResumeTrading(grpc::CallbackServerContext* ctx,
                                                      const v1::ResumeTradingRequest* request,
                                                      v1::HaltTradingResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/ResumeTrading", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::ResumeTrading{request->instrument()}}; },
      [](const engine::Reply& reply, v1::HaltTradingResponse& out) { fill_halt_response(reply, out); },
      request);
}

grpc::ServerUnaryReactor* AdminService::SetReferencePrice(grpc::CallbackServerContext* ctx,
                                                          const v1::SetReferencePriceRequest* request,
                                                          v1::Instrument* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/SetReferencePrice", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{
            engine::SetReferencePrice{request->instrument(), Price{request->price_fen()}, request->reason()}};
      },
      [](const engine::Reply& reply, v1::Instrument& out) {
        if (reply.instruments.empty()) return;
        instrument_to_proto(reply, 0, out);
      },
      request);
}

namespace {

void fill_calendar(int year, const engine::Reply& reply, v1::TradingCalendar& out) {
  out.set_year(year);
  std::vector<std::chrono::year_month_day> holidays;
  for (const std::string& day : reply.holidays) {
    out.add_holidays(day);
    if (auto date = matching::parse_date(day)) holidays.push_back(*date);
  }
  const matching::TradingCalendar calendar(std::move(holidays));
  std::uint32_t count = 0;
  using namespace std::chrono;
  for (sys_days day = sys_days{std::chrono::year{year} / January / 1}; day <= sys_days{std::chrono::year{year} / December / 31};
       day += days{1}) {
    if (calendar.is_trading_day(year_month_day{day})) ++count;
  }
  out.set_trading_day_count(count);
  out.set_sequence(reply.sequence);
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::SetTradingCalendar(grpc::CallbackServerContext* ctx,
                                                           const v1::SetTradingCalendarRequest* request,
                                                           v1::TradingCalendar* response) {
  const int year = request->year();
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/SetTradingCalendar", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::SetTradingCalendar{
            year, std::vector<std::string>(request->holidays().begin(), request->holidays().end())}};
      },
      [year](const engine::Reply& reply, v1::TradingCalendar& out) { fill_calendar(year, reply, out); },
      request);
}

grpc::ServerUnaryReactor* AdminService::GetTradingCalendar(grpc::CallbackServerContext* ctx,
                                                           const v1::GetTradingCalendarRequest* request,
                                                           v1::TradingCalendar* response) {
  const int year = request->year();
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/GetTradingCalendar", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::GetTradingCalendar{year}}; },
      [year](const engine::Reply& reply, v1::TradingCalendar& out) { fill_calendar(year, reply, out); },
      request);
}

grpc::ServerUnaryReactor* AdminService::RunEndOfDay(grpc::CallbackServerContext* ctx,
                                                    const v1::RunEndOfDayRequest* request,
                                                    v1::RunEndOfDayResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/RunEndOfDay", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::RunEndOfDay{request->trading_date()}}; },
      [](const engine::Reply& reply, v1::RunEndOfDayResponse& out) {
        out.set_trading_date(reply.closed_date);
        out.set_next_trading_date(reply.next_date);
        out.set_expired_order_count(static_cast<std::uint32_t>(reply.expired_orders));
        out.set_band_cancelled_order_count(static_cast<std::uint32_t>(reply.band_cancelled_orders));
        for (const auto& state : reply.instruments) {
          v1::ClosingPrice& close = *out.add_closing_prices();
          close.set_instrument(state.instrument);
          close.set_close_price_fen(state.previous_close.value);
          for (const auto& bar : reply.bars) {
            if (bar.instrument == state.instrument && bar.mode == TradingMode::listed) {
              close.set_from_trades(true);
              close.set_listed_volume(bar.volume.value);
            }
          }
        }
        out.set_statements_written(reply.statements_written);
        if (reply.reconciliation) to_proto(*reply.reconciliation, *out.mutable_reconciliation());
        out.set_sequence(reply.sequence);
      },
      request);
}

// ---- RegistryService -------------------------------------------------------

grpc::ServerUnaryReactor* RegistryService::IssueAllowances(grpc::CallbackServerContext* ctx,
                                                           const v1::IssueAllowancesRequest* request,
                                                           v1::IssueAllowancesResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.RegistryService/IssueAllowances", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::IssueAllowances{request->instrument(), request->holding_account_id(),
                                                           Qty{request->quantity()}, request->reason(),
                                                           request->idempotency_key()}};
      },
      [](const engine::Reply& reply, v1::IssueAllowancesResponse& out) {
        if (!reply.holdings.empty()) to_proto(reply.holdings.front(), *out.mutable_holding());
        out.set_ledger_entry_id(reply.ledger_entry_id);
        out.set_sequence(reply.sequence);
      },
      request);
}

}  // namespace carbon::server
