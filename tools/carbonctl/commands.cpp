#include "commands.h"

#include <google/protobuf/wrappers.pb.h>
#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>

#include "carbon/v1/admin.grpc.pb.h"
#include "carbon/v1/market_data.grpc.pb.h"
#include "carbon/v1/registry.grpc.pb.h"
#include "carbon/v1/trading.grpc.pb.h"
#include "format.h"
#include "render.h"

namespace carbonctl {
namespace {

namespace v1 = carbon::v1;

[[noreturn]] void usage_error(const std::string& message) { throw ExitError(kExitUsage, message); }

v1::ParticipantType participant_type(const std::string& name) {
  if (name == "key-emitting-unit") return v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT;
  if (name == "institution") return v1::PARTICIPANT_TYPE_INSTITUTION;
  if (name == "natural-person") return v1::PARTICIPANT_TYPE_NATURAL_PERSON;
  usage_error("unknown participant type \"" + name + "\"");
}

v1::Side side(const std::string& name) {
  if (name == "buy") return v1::SIDE_BUY;
  if (name == "sell") return v1::SIDE_SELL;
  usage_error("unknown side \"" + name + "\"");
}

v1::OrderType order_type(const std::string& name) {
  if (name == "limit") return v1::ORDER_TYPE_LIMIT;
  if (name == "market") return v1::ORDER_TYPE_MARKET;
  usage_error("unknown order type \"" + name + "\"");
}

v1::TimeInForce time_in_force(const std::string& name) {
  if (name.empty()) return v1::TIME_IN_FORCE_UNSPECIFIED;
  if (name == "day") return v1::TIME_IN_FORCE_DAY;
  if (name == "ioc") return v1::TIME_IN_FORCE_IOC;
  if (name == "fok") return v1::TIME_IN_FORCE_FOK;
  if (name == "gtc") return v1::TIME_IN_FORCE_GTC;
  usage_error("unknown time in force \"" + name + "\"");
}

int move_cash(Session& session, const CashArgs& args, bool withdraw) {
  v1::CashMovementRequest request;
  request.set_cash_account_id(args.cash_account);
  request.set_amount_fen(args.amount_fen);
  request.set_idempotency_key(args.idempotency_key);
  v1::CashMovementResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) {
    return withdraw ? stub->Withdraw(context, request, &response) : stub->Deposit(context, request, &response);
  });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << (withdraw ? "withdrew " : "deposited ") << yuan(args.amount_fen) << " CNY "
            << (withdraw ? "from" : "to") << " cash account " << args.cash_account << " (sequence "
            << response.sequence() << ")\n";
  print_cash(std::cout, response.balance());
  return kExitOk;
}

}  // namespace

// ---- participants ----------------------------------------------------------

int participant_create(Session& session, const ParticipantCreateArgs& args) {
  v1::CreateParticipantRequest request;
  request.set_code(args.code);
  request.set_name(args.name);
  request.set_type(participant_type(args.type));
  v1::CreateParticipantResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->CreateParticipant(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    std::cout << "created participant " << response.participant().participant_id() << " ("
              << printable(response.participant().code()) << ")\n";
    print_participant(std::cout, response.participant());
    std::cout << "\ntrader token: " << printable(response.trader_token()) << "\n";
  }
  std::cerr << "warning: the trader token is shown only this once; carbond keeps only its hash. Store it now, "
               "e.g. in a file readable only by you, and pass it with --token-file.\n";
  return kExitOk;
}

int participant_get(Session& session, std::uint64_t participant_id) {
  v1::GetParticipantRequest request;
  request.set_participant_id(participant_id);
  v1::Participant response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->GetParticipant(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    print_participant(std::cout, response);
  }
  return kExitOk;
}

int participant_list(Session& session) {
  v1::ListParticipantsRequest request;
  v1::ListParticipantsResponse response;
  auto stub = v1::AdminService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->ListParticipants(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    print_participants(std::cout, response.participants());
  }
  return kExitOk;
}

// ---- cash ------------------------------------------------------------------

int cash_deposit(Session& session, const CashArgs& args) { return move_cash(session, args, false); }
int cash_withdraw(Session& session, const CashArgs& args) { return move_cash(session, args, true); }

// ---- registry --------------------------------------------------------------

int registry_issue(Session& session, const IssueArgs& args) {
  v1::IssueAllowancesRequest request;
  request.set_instrument(args.instrument);
  request.set_holding_account_id(args.holding_account);
  request.set_quantity(args.quantity);
  request.set_reason(args.reason);
  request.set_idempotency_key(args.idempotency_key);
  v1::IssueAllowancesResponse response;
  auto stub = v1::RegistryService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->IssueAllowances(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << "issued " << tonnes(args.quantity) << " t " << printable(args.instrument) << " to holding account "
            << args.holding_account << " (ledger entry " << response.ledger_entry_id() << ", sequence "
            << response.sequence() << ")\n";
  print_holding(std::cout, response.holding());
  return kExitOk;
}

// ---- orders ----------------------------------------------------------------

int order_place(Session& session, const PlaceOrderArgs& args) {
  v1::PlaceOrderRequest request;
  request.set_instrument(args.instrument);
  request.set_side(side(args.side));
  request.set_type(order_type(args.type));
  request.set_time_in_force(time_in_force(args.time_in_force));
  if (request.type() == v1::ORDER_TYPE_LIMIT && !args.has_price) {
    usage_error("--price-fen is required for a limit order");
  }
  if (request.type() == v1::ORDER_TYPE_MARKET && args.has_price) {
    usage_error("a market order takes no --price-fen (it is limited by the price band)");
  }
  request.set_price_fen(args.price_fen);
  request.set_quantity(args.quantity);
  request.set_client_order_id(args.client_order_id);
  v1::PlaceOrderResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->PlaceOrder(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << "order " << response.order().order_id() << " placed: " << short_name(response.order().status()) << "\n";
  print_order(std::cout, response.order());
  if (!response.fills().empty()) {
    std::cout << "\nfills:\n";
    print_trades(std::cout, response.fills());
  }
  return kExitOk;
}

int order_cancel(Session& session, std::uint64_t order_id) {
  v1::CancelOrderRequest request;
  request.set_order_id(order_id);
  v1::CancelOrderResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->CancelOrder(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  std::cout << "order " << response.order().order_id() << " " << short_name(response.order().status()) << "\n";
  print_order(std::cout, response.order());
  return kExitOk;
}

int order_get(Session& session, std::uint64_t order_id) {
  v1::GetOrderRequest request;
  request.set_order_id(order_id);
  v1::Order response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->GetOrder(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    print_order(std::cout, response);
  }
  return kExitOk;
}

int order_list(Session& session, const ListOrdersArgs& args) {
  v1::ListOrdersRequest request;
  request.set_instrument(args.instrument);
  request.set_open_only(args.open_only);
  v1::ListOrdersResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  fetch_pages(session, request, args.paging, response,
              [&](grpc::ClientContext* context, const v1::ListOrdersRequest& r, v1::ListOrdersResponse* page) {
                return stub->ListOrders(context, r, page);
              });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    print_orders(std::cout, response.orders());
    print_next_page(std::cout, response.next_page_token());
  }
  return kExitOk;
}

int reports(Session& session, std::uint64_t after_sequence) {
  auto stub = v1::TradingService::NewStub(session.channel());
  grpc::ClientContext context;
  session.prepare(context, /*authenticated=*/true);
  auto stream = stub->OrderSession(&context);
  v1::SessionRequest request;
  request.set_replay_after_sequence(after_sequence);
  stream->Write(request);
  stream->WritesDone();  // the replay alone: the server ends the session once it is sent
  v1::SessionResponse all;  // the replayed reports together (its replay flag set)
  all.set_replay(true);
  v1::SessionResponse response;
  while (stream->Read(&response)) {
    if (!response.replay()) continue;  // a live report that came before the replay
    for (v1::ExecutionReport& report : *response.mutable_reports()) *all.add_reports() = std::move(report);
  }
  session.check(stream->Finish());
  if (session.json()) {
    print_json(std::cout, all);
  } else {
    print_reports(std::cout, all.reports());
  }
  return kExitOk;
}

// ---- trades, balances, book ------------------------------------------------

int trades(Session& session, const std::string& instrument, const Paging& paging) {
  v1::ListTradesRequest request;
  request.set_instrument(instrument);
  v1::ListTradesResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  fetch_pages(session, request, paging, response,
              [&](grpc::ClientContext* context, const v1::ListTradesRequest& r, v1::ListTradesResponse* page) {
                return stub->ListTrades(context, r, page);
              });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    print_trades(std::cout, response.trades());
    print_next_page(std::cout, response.next_page_token());
  }
  return kExitOk;
}

int balances(Session& session) {
  v1::GetBalancesRequest request;
  v1::GetBalancesResponse response;
  auto stub = v1::TradingService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->GetBalances(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
    return kExitOk;
  }
  print_cash(std::cout, response.cash());
  std::cout << "\n";
  print_holdings(std::cout, response.holdings());
  return kExitOk;
}

int book(Session& session, const std::string& instrument, std::uint32_t depth) {
  v1::GetBookRequest request;
  request.set_instrument(instrument);
  request.set_depth(depth);
  v1::BookSnapshot response;
  auto stub = v1::MarketDataService::NewStub(session.channel());
  session.call([&](grpc::ClientContext* context) { return stub->GetBook(context, request, &response); });
  if (session.json()) {
    print_json(std::cout, response);
  } else {
    print_book(std::cout, response);
  }
  return kExitOk;
}

// ---- watch: the market data streams -------------------------------------

namespace {

/// Reads `stream` until it ends or `count` messages (0: no bound) were shown; exit 0 if the count was
/// reached, else the stream's status (a stream never ends OK on its own).
template <typename Message, typename Show>
int follow(Session& session, grpc::ClientContext& context, grpc::ClientReader<Message>& stream, std::uint64_t count,
           Show&& show) {
  Message message;
  std::uint64_t shown = 0;
  while (stream.Read(&message)) {
    if (session.json()) {
      print_json(std::cout, message);
    } else {
      show(message);
    }
    std::cout.flush();
    if (count != 0 && ++shown == count) {
      context.TryCancel();
      while (stream.Read(&message)) {
      }
      (void)stream.Finish();
      return kExitOk;
    }
  }
  session.check(stream.Finish());
  return kExitOk;
}

void no_deadline(Session& session, grpc::ClientContext& context) {
  session.prepare(context, /*authenticated=*/true);
  context.set_deadline(std::chrono::system_clock::time_point::max());
}

}  // namespace

int watch_depth(Session& session, const std::string& instrument, std::uint32_t depth, std::uint64_t count) {
  v1::StreamDepthRequest request;
  request.set_instrument(instrument);
  request.set_depth(depth);
  auto stub = v1::MarketDataService::NewStub(session.channel());
  grpc::ClientContext context;
  no_deadline(session, context);
  auto stream = stub->StreamDepth(&context, request);
  return follow(session, context, *stream, count, [](const v1::BookSnapshot& book) {
    print_book(std::cout, book);
    std::cout << "\n";
  });
}

int watch_trades(Session& session, const std::string& instrument, std::uint64_t after_sequence, std::uint64_t count) {
  v1::StreamTradesRequest request;
  request.set_instrument(instrument);
  request.set_after_sequence(after_sequence);
  auto stub = v1::MarketDataService::NewStub(session.channel());
  grpc::ClientContext context;
  no_deadline(session, context);
  auto stream = stub->StreamTrades(&context, request);
  return follow(session, context, *stream, count, [](const v1::PublicTrade& trade) {
    std::cout << china_time(trade.executed_at_unix_nanos()) << "  trade " << trade.trade_id() << "  "
              << printable(trade.instrument()) << " " << short_name(trade.mode()) << "  " << tonnes(trade.quantity())
              << " t @ " << yuan(trade.price_fen()) << "  (aggressor " << short_name(trade.aggressor_side())
              << ", sequence " << trade.sequence() << ")\n";
  });
}

// ---- health ----------------------------------------------------------------

int health(Session& session, const std::string& service) {
  // grpc.health.v1.HealthCheckRequest {string service = 1;} and
  // HealthCheckResponse {ServingStatus status = 1;} have exactly the wire
  // format of google.protobuf.StringValue and Int32Value, so the well-known
  // wrappers stand in for the health proto, which this system does not ship.
  google::protobuf::StringValue request;
  request.set_value(service);
  google::protobuf::Int32Value response;
  grpc::TemplatedGenericStub<google::protobuf::StringValue, google::protobuf::Int32Value> stub(session.channel());
  grpc::ClientContext context;
  session.prepare(context, /*authenticated=*/false);
  std::promise<grpc::Status> done;
  std::future<grpc::Status> finished = done.get_future();
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  const grpc::Status status = finished.get();

  const std::string& server = session.options().server;
  const bool unreachable = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  std::string state;
  if (status.ok()) {
    static constexpr const char* names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
    const int value = response.value();
    state = value >= 0 && value < 4 ? names[value] : "STATUS_" + std::to_string(value);
  } else if (unreachable) {
    state = "UNREACHABLE";
  } else if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    state = "SERVICE_UNKNOWN";  // how the health server answers a service it does not know: exit 1, as documented
  } else {
    session.check(status);  // another error (TLS, a proxy's refusal): its exit code, as for any command
  }
  if (session.json()) {
    nlohmann::json out = {{"server", server}, {"service", service}, {"status", state}};
    if (!status.ok()) out["error"] = status_code_name(status.error_code()) + ": " + status.error_message();
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << server << (service.empty() ? "" : " (" + service + ")") << ": " << state << "\n";
  }
  if (unreachable) session.check(status);  // exit 3 with the reason on stderr
  return state == "SERVING" ? kExitOk : kExitServerError;
}

}  // namespace carbonctl
