#include "server/services.h"

#include <functional>
#include <utility>

#include "engine/validation.h"
#include "server/convert.h"

namespace carbon::server {
namespace {

/// Finishes one unary call with the engine's reply, after commit.
template <typename Response>
class UnaryCompletion final : public engine::Completion {
 public:
  using Fill = std::function<void(const engine::Reply&, Response&)>;
  UnaryCompletion(grpc::ServerUnaryReactor* reactor, Response* response, Fill fill)
      : reactor_(reactor), response_(response), fill_(std::move(fill)) {}

  void complete(engine::Reply&& reply) override {
    if (reply.status.is_ok()) {
      fill_(reply, *response_);
      reactor_->Finish(grpc::Status::OK);
    } else {
      reactor_->Finish(to_grpc(reply.status));
    }
    delete this;
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  Response* response_;
  Fill fill_;
};

/// Authenticates and authorizes the call, builds the command with `make`
/// (which may refuse with a status) and hands it to the engine.
template <typename Response, typename Make>
grpc::ServerUnaryReactor* dispatch(ServiceContext& context, grpc::CallbackServerContext* ctx, std::string_view method,
                                   Response* response, Make&& make,
                                   typename UnaryCompletion<Response>::Fill fill) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  engine::Command command;
  if (Status s = context.auth.authenticate(*ctx, command.principal); !s.is_ok()) {
    reactor->Finish(to_grpc(s));
    return reactor;
  }
  if (Status s = authorize(command.principal.role, method); !s.is_ok()) {
    reactor->Finish(to_grpc(s));
    return reactor;
  }
  command.body = make(command.principal);
  // Malformed requests are refused here, on the gRPC thread. A refused
  // command still goes through the engine, which journals the refusal
  // (rejections are events) before it is answered; a refused read is
  // answered at once, since reads are not journaled.
  if (Status s = engine::validate(command.body); !s.is_ok()) {
    if (engine::is_query(command.body)) {
      reactor->Finish(to_grpc(s));
      return reactor;
    }
    command.body = engine::Refused{engine::command_name(command.body), std::move(s)};
  }
  auto* completion = new UnaryCompletion<Response>(reactor, response, std::move(fill));
  if (Status s = context.runtime.submit(std::move(command), completion); !s.is_ok()) {
    delete completion;
    reactor->Finish(to_grpc(s));
  }
  return reactor;
}

}  // namespace

// ---- TradingService --------------------------------------------------------

grpc::ServerUnaryReactor* TradingService::PlaceOrder(grpc::CallbackServerContext* ctx,
                                                     const v1::PlaceOrderRequest* request,
                                                     v1::PlaceOrderResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/PlaceOrder", response,
      [&](const engine::Principal&) {
        engine::PlaceOrder order;
        order.instrument = request->instrument();
        order.side = enum_from_wire<Side>(request->side());
        order.type = request->type() == v1::ORDER_TYPE_UNSPECIFIED ? OrderType::limit
                                                                     : enum_from_wire<OrderType>(request->type());
        order.time_in_force = request->time_in_force() == v1::TIME_IN_FORCE_UNSPECIFIED
                                  ? TimeInForce::day
                                  : enum_from_wire<TimeInForce>(request->time_in_force());
        order.mode = request->mode() == v1::TRADING_MODE_UNSPECIFIED ? TradingMode::listed
                                                                       : enum_from_wire<TradingMode>(request->mode());
        order.price = Price{request->price_fen()};
        order.quantity = Qty{request->quantity()};
        order.client_order_id = request->client_order_id();
        return engine::CommandBody{std::move(order)};
      },
      [](const engine::Reply& reply, v1::PlaceOrderResponse& out) {
        if (!reply.orders.empty()) to_proto(reply.orders.front(), *out.mutable_order());
        for (const auto& trade : reply.trades) to_proto(trade, *out.add_fills());
      });
}

grpc::ServerUnaryReactor* TradingService::CancelOrder(grpc::CallbackServerContext* ctx,
                                                      const v1::CancelOrderRequest* request,
                                                      v1::CancelOrderResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/CancelOrder", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::CancelOrder{request->order_id()}}; },
      [](const engine::Reply& reply, v1::CancelOrderResponse& out) {
        if (!reply.orders.empty()) to_proto(reply.orders.front(), *out.mutable_order());
      });
}

grpc::ServerUnaryReactor* TradingService::GetOrder(grpc::CallbackServerContext* ctx, const v1::GetOrderRequest* request,
                                                   v1::Order* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/GetOrder", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::GetOrder{request->order_id()}}; },
      [](const engine::Reply& reply, v1::Order& out) {
        if (!reply.orders.empty()) to_proto(reply.orders.front(), out);
      });
}

grpc::ServerUnaryReactor* TradingService::ListOrders(grpc::CallbackServerContext* ctx,
                                                     const v1::ListOrdersRequest* request,
                                                     v1::ListOrdersResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/ListOrders", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListOrders{request->instrument(), request->open_only()}};
      },
      [](const engine::Reply& reply, v1::ListOrdersResponse& out) {
        for (const auto& order : reply.orders) to_proto(order, *out.add_orders());
      });
}

grpc::ServerUnaryReactor* TradingService::ListTrades(grpc::CallbackServerContext* ctx,
                                                     const v1::ListTradesRequest* request,
                                                     v1::ListTradesResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/ListTrades", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::ListTrades{request->instrument()}}; },
      [](const engine::Reply& reply, v1::ListTradesResponse& out) {
        for (const auto& trade : reply.trades) to_proto(trade, *out.add_trades());
      });
}

grpc::ServerUnaryReactor* TradingService::GetBalances(grpc::CallbackServerContext* ctx, const v1::GetBalancesRequest*,
                                                      v1::GetBalancesResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/GetBalances", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::GetBalances{}}; },
      [](const engine::Reply& reply, v1::GetBalancesResponse& out) {
        if (reply.cash) to_proto(*reply.cash, *out.mutable_cash());
        for (const auto& holding : reply.holdings) to_proto(holding, *out.add_holdings());
      });
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
      });
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
        auth.add_trader(participant.token_hash, participant.id, participant.code);
        to_proto(participant, *out.mutable_participant());
        out.set_trader_token(token);
      });
}

grpc::ServerUnaryReactor* AdminService::GetParticipant(grpc::CallbackServerContext* ctx,
                                                       const v1::GetParticipantRequest* request,
                                                       v1::Participant* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/GetParticipant", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::GetParticipant{request->participant_id()}}; },
      [](const engine::Reply& reply, v1::Participant& out) {
        if (!reply.participants.empty()) to_proto(reply.participants.front(), out);
      });
}

grpc::ServerUnaryReactor* AdminService::ListParticipants(grpc::CallbackServerContext* ctx,
                                                         const v1::ListParticipantsRequest*,
                                                         v1::ListParticipantsResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/ListParticipants", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::ListParticipants{}}; },
      [](const engine::Reply& reply, v1::ListParticipantsResponse& out) {
        for (const auto& participant : reply.participants) to_proto(participant, *out.add_participants());
      });
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
      });
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

// ---- RegistryService -------------------------------------------------------

grpc::ServerUnaryReactor* RegistryService::IssueAllowances(grpc::CallbackServerContext* ctx,
                                                           const v1::IssueAllowancesRequest* request,
                                                           v1::IssueAllowancesResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.RegistryService/IssueAllowances", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::IssueAllowances{request->instrument(), request->holding_account_id(),
                                                           Qty{request->quantity()}, request->reason()}};
      },
      [](const engine::Reply& reply, v1::IssueAllowancesResponse& out) {
        if (!reply.holdings.empty()) to_proto(reply.holdings.front(), *out.mutable_holding());
        out.set_ledger_entry_id(reply.ledger_entry_id);
        out.set_sequence(reply.sequence);
      });
}

}  // namespace carbon::server
