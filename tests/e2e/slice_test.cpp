// The foundation slice end to end: a real carbond, a real PostgreSQL, gRPC.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class SliceTest : public ::testing::Test {
 protected:
  SliceTest() : exchange({"--postgres=" + db.conninfo()}) {}

  void SetUp() override { ASSERT_NO_THROW(exchange.start()); }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- carbond log ----\n" << exchange.log();
  }

  v1::CreateParticipantResponse create(const std::string& code, v1::ParticipantType type) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code + " Co., Ltd.");
    request.set_type(type);
    v1::CreateParticipantResponse response;
    const grpc::Status status = exchange.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request,
                                                                   &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status deposit(std::uint64_t account, std::int64_t fen, const std::string& key,
                       v1::CashMovementResponse* out = nullptr) {
    v1::CashMovementRequest request;
    request.set_cash_account_id(account);
    request.set_amount_fen(fen);
    request.set_idempotency_key(key);
    v1::CashMovementResponse response;
    auto status = exchange.admin->Deposit(RunningExchange::as(kOperatorToken).get(), request, &response);
    if (out) *out = response;
    return status;
  }

  grpc::Status issue(std::uint64_t account, std::int64_t qty, const std::string& instrument = "CEA2024") {
    if (!capped_) {
      if (grpc::Status s = set_generous_cap(exchange); !s.ok()) return s;
      capped_ = true;
    }
    v1::IssueAllowancesRequest request;
    request.set_instrument(instrument);
    request.set_holding_account_id(account);
    request.set_quantity(qty);
    request.set_reason("2024 free allocation");
    v1::IssueAllowancesResponse response;
    return exchange.registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), request, &response);
  }

  grpc::Status place(const std::string& token, v1::Side side, std::int64_t price, std::int64_t qty,
                     v1::PlaceOrderResponse* out = nullptr, const std::string& instrument = "CEA2024",
                     const std::string& client_id = "") {
    v1::PlaceOrderRequest request;
    request.set_instrument(instrument);
    request.set_side(side);
    request.set_price_fen(price);
    request.set_quantity(qty);
    request.set_client_order_id(client_id);
    v1::PlaceOrderResponse response;
    auto status = exchange.trading->PlaceOrder(RunningExchange::as(token).get(), request, &response);
    if (out) *out = response;
    return status;
  }

  v1::GetBalancesResponse balances(const std::string& token) {
    v1::GetBalancesResponse response;
    const grpc::Status status =
        exchange.trading->GetBalances(RunningExchange::as(token).get(), v1::GetBalancesRequest{}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::BookSnapshot book(const std::string& instrument = "CEA2024") {
    v1::GetBookRequest request;
    request.set_instrument(instrument);
    request.set_depth(10);
    v1::BookSnapshot response;
    const grpc::Status status = exchange.market_data->GetBook(RunningExchange::as(kRegulatorToken).get(), request,
                                                               &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::vector<v1::Order> open_orders(const std::string& token) {
    v1::ListOrdersRequest request;
    request.set_open_only(true);
    v1::ListOrdersResponse response;
    const grpc::Status status = list_all_orders(exchange, token, response, request);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.orders().begin(), response.orders().end()};
  }

  /// Everything the slice's users can see, serialized for comparison.
  std::string visible_state(const std::string& seller_token, const std::string& buyer_token) {
    std::string out;
    for (const auto* token : {&seller_token, &buyer_token}) {
      out += balances(*token).SerializeAsString();
      for (const auto& order : open_orders(*token)) out += order.SerializeAsString();
    }
    v1::BookSnapshot snapshot = book();
    snapshot.clear_sequence();
    return out + snapshot.SerializeAsString();
  }

  TestDatabase db;
  RunningExchange exchange;
  bool capped_ = false;
};

TEST_F(SliceTest, OneTradeEndToEndSettlesPersistsAndSurvivesARestart) {
  ASSERT_EQ(exchange.health(), 1) << "health service should report SERVING";

  // The operator opens a key emitting unit and an institution, and funds the buyer.
  const auto seller = create("KEU-GD-0001", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  const auto buyer = create("INST-SH-0001", v1::PARTICIPANT_TYPE_INSTITUTION);
  ASSERT_FALSE(seller.trader_token().empty());
  ASSERT_NE(seller.participant().holding_account_id(), 0u);
  ASSERT_NE(buyer.participant().cash_account_id(), buyer.participant().holding_account_id());
  v1::CashMovementResponse funded;
  ASSERT_TRUE(deposit(buyer.participant().cash_account_id(), 100'000'000, "wire-0001", &funded).ok());
  EXPECT_EQ(funded.balance().available_fen(), 100'000'000);

  // The registry authority issues 2024 allowances to the seller.
  ASSERT_TRUE(issue(seller.participant().holding_account_id(), 50'000).ok());

  // Limit orders: a resting sell, a crossing buy.
  v1::PlaceOrderResponse sell, buy;
  ASSERT_TRUE(place(seller.trader_token(), v1::SIDE_SELL, 9'850, 1'000, &sell).ok());
  EXPECT_EQ(sell.order().status(), v1::ORDER_STATUS_NEW);
  ASSERT_TRUE(place(buyer.trader_token(), v1::SIDE_BUY, 9'900, 1'500, &buy, "CEA2024", "buy-1").ok());
  ASSERT_EQ(buy.fills_size(), 1);
  const v1::Trade& fill = buy.fills(0);
  EXPECT_EQ(fill.price_fen(), 9'850) << "a trade is at the resting order's price";
  EXPECT_EQ(fill.quantity(), 1'000);
  EXPECT_EQ(fill.seller_participant_id(), seller.participant().participant_id());
  EXPECT_EQ(buy.order().status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(buy.order().remaining_quantity(), 500);

  // Both sides read the fill.
  for (const std::string* token : {&seller.trader_token(), &buyer.trader_token()}) {
    v1::ListTradesResponse trades;
    ASSERT_TRUE(exchange.trading->ListTrades(RunningExchange::as(*token).get(), {}, &trades).ok());
    ASSERT_EQ(trades.trades_size(), 1);
    EXPECT_EQ(trades.trades(0).trade_id(), fill.trade_id());
  }

  // Delivery versus payment: units and cash moved together.
  const auto seller_balances = balances(seller.trader_token());
  EXPECT_EQ(seller_balances.cash().unsettled_fen(), 9'850 * 1'000);
  ASSERT_EQ(seller_balances.holdings_size(), 1);
  EXPECT_EQ(seller_balances.holdings(0).available(), 49'000);
  const auto buyer_balances = balances(buyer.trader_token());
  EXPECT_EQ(buyer_balances.cash().reserved_fen(), 9'900 * 500);
  EXPECT_EQ(buyer_balances.cash().available_fen(), 100'000'000 - 9'850 * 1'000 - 9'900 * 500);
  ASSERT_EQ(buyer_balances.holdings_size(), 1);
  EXPECT_EQ(buyer_balances.holdings(0).pending(), 1'000);

  // The journal and the projections are in PostgreSQL.
  EXPECT_EQ(db.query("SELECT count(*) FROM trades"), "1");
  EXPECT_EQ(db.query("SELECT quantity FROM trades"), "1000");
  EXPECT_EQ(db.query("SELECT count(*) FROM journal WHERE kind = 'TradeExecuted'"), "1");
  EXPECT_EQ(db.query("SELECT unsettled_fen FROM cash_accounts WHERE cash_account_id = " +
                     std::to_string(seller.participant().cash_account_id())),
            std::to_string(9'850 * 1'000));
  EXPECT_EQ(db.query("SELECT pending FROM holdings WHERE holding_account_id = " +
                     std::to_string(buyer.participant().holding_account_id()) + " AND instrument = 'CEA2024'"),
            "1000");
  EXPECT_EQ(db.query("SELECT count(*) FROM ledger_entries"), "2");

  // Stop and start: the same balances, holdings, open orders and book.
  const std::string before = visible_state(seller.trader_token(), buyer.trader_token());
  ASSERT_EQ(exchange.stop(), 0) << "SIGTERM must drain and exit 0";
  ASSERT_NO_THROW(exchange.start());
  EXPECT_EQ(visible_state(seller.trader_token(), buyer.trader_token()), before);

  // Trading carries on from the recovered book, and the buyer's resubmission is recognised.
  v1::PlaceOrderResponse again;
  ASSERT_TRUE(place(buyer.trader_token(), v1::SIDE_BUY, 9'900, 1'500, &again, "CEA2024", "buy-1").ok());
  EXPECT_EQ(again.order().order_id(), buy.order().order_id());
  v1::PlaceOrderResponse second_sell;
  ASSERT_TRUE(place(seller.trader_token(), v1::SIDE_SELL, 9'800, 500, &second_sell).ok());
  ASSERT_EQ(second_sell.fills_size(), 1);
  EXPECT_EQ(second_sell.fills(0).price_fen(), 9'900);
  EXPECT_EQ(second_sell.fills(0).buy_order_id(), buy.order().order_id());
  EXPECT_TRUE(book().bids().empty());
}

TEST_F(SliceTest, EveryBadInputGetsItsStatusAndChangesNothing) {
  const auto seller = create("KEU-0002", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  const auto buyer = create("INST-0002", v1::PARTICIPANT_TYPE_INSTITUTION);
  ASSERT_TRUE(deposit(buyer.participant().cash_account_id(), 1'000'000, "d-1").ok());
  ASSERT_TRUE(issue(seller.participant().holding_account_id(), 1'000).ok());
  ASSERT_TRUE(place(seller.trader_token(), v1::SIDE_SELL, 10'600, 10).ok());
  ASSERT_TRUE(place(buyer.trader_token(), v1::SIDE_BUY, 9'500, 10).ok());
  const std::string& s = seller.trader_token();
  const std::string& b = buyer.trader_token();

  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    std::string rule;  // part of the message
  };
  const std::vector<Case> cases = {
      {"deposit to an unknown account", [&] { return deposit(999'999, 100, "k-1"); }, grpc::StatusCode::NOT_FOUND,
       "cash account 999999"},
      {"issue to an unknown account", [&] { return issue(888'888, 100); }, grpc::StatusCode::NOT_FOUND,
       "holding account 888888"},
      {"zero quantity", [&] { return place(b, v1::SIDE_BUY, 9'500, 0); }, grpc::StatusCode::INVALID_ARGUMENT,
       "quantity must be positive"},
      {"negative quantity", [&] { return place(s, v1::SIDE_SELL, 9'500, -10); }, grpc::StatusCode::INVALID_ARGUMENT,
       "quantity must be positive"},
      {"price off the tick", [&] { return place(b, v1::SIDE_BUY, 5'001, 10, nullptr, "CEA2023"); },
       grpc::StatusCode::FAILED_PRECONDITION, "tick rule"},
      {"buy without enough cash", [&] { return place(b, v1::SIDE_BUY, 9'500, 10'000); },
       grpc::StatusCode::FAILED_PRECONDITION, "insufficient funds"},
      {"outside the price band", [&] { return place(b, v1::SIDE_BUY, 11'001, 1); },
       grpc::StatusCode::FAILED_PRECONDITION, "price band"},
      {"market order with a price",
       [&] {
         v1::PlaceOrderRequest request;
         request.set_instrument("CEA2024");
         request.set_side(v1::SIDE_BUY);
         request.set_type(v1::ORDER_TYPE_MARKET);
         request.set_price_fen(9'500);
         request.set_quantity(1);
         v1::PlaceOrderResponse response;
         return exchange.trading->PlaceOrder(RunningExchange::as(b).get(), request, &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "market order has no price"},
      {"sell without units", [&] { return place(b, v1::SIDE_SELL, 9'500, 10); },
       grpc::StatusCode::FAILED_PRECONDITION, "insufficient units"},
      {"missing token",
       [&] {
         v1::PlaceOrderRequest request;
         request.set_instrument("CEA2024");
         request.set_side(v1::SIDE_BUY);
         request.set_price_fen(9'500);
         request.set_quantity(1);
         v1::PlaceOrderResponse response;
         return exchange.trading->PlaceOrder(RunningExchange::as("").get(), request, &response);
       },
       grpc::StatusCode::UNAUTHENTICATED, "authorization"},
      {"wrong token", [&] { return place("not-a-real-token", v1::SIDE_BUY, 9'500, 1); },
       grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token"},
      {"trader opening a participant",
       [&] {
         v1::CreateParticipantRequest request;
         request.set_code("X");
         request.set_name("X");
         request.set_type(v1::PARTICIPANT_TYPE_INSTITUTION);
         v1::CreateParticipantResponse response;
         return exchange.admin->CreateParticipant(RunningExchange::as(b).get(), request, &response);
       },
       grpc::StatusCode::PERMISSION_DENIED, "trader"},
      {"operator placing an order", [&] { return place(kOperatorToken, v1::SIDE_BUY, 9'500, 1); },
       grpc::StatusCode::PERMISSION_DENIED, "operator"},
      {"cancel another participant's order",
       [&] {
         const auto orders = open_orders(s);
         v1::CancelOrderRequest request;
         request.set_order_id(orders.at(0).order_id());
         v1::CancelOrderResponse response;
         return exchange.trading->CancelOrder(RunningExchange::as(b).get(), request, &response);
       },
       grpc::StatusCode::PERMISSION_DENIED, "another participant"},
      {"unknown instrument", [&] { return place(b, v1::SIDE_BUY, 9'500, 1, nullptr, "CEA1900"); },
       grpc::StatusCode::NOT_FOUND, "unknown instrument"},
  };

  const std::string before = visible_state(s, b);
  for (const Case& c : cases) {
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << c.name << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(c.rule), std::string::npos)
        << c.name << ": message \"" << status.error_message() << "\" does not name \"" << c.rule << "\"";
    EXPECT_EQ(visible_state(s, b), before) << c.name << " changed balances or books";
  }
  EXPECT_GE(std::stoi(db.query("SELECT count(*) FROM journal WHERE kind = 'CommandRejected'")), 8)
      << "rejections that reach the engine are journaled";
}

TEST_F(SliceTest, ListOrdersAndListTradesComeInPagesWhoseTokensAreBoundToTheirFilters) {
  const auto seller = create("KEU-0003", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  const auto buyer = create("INST-0003", v1::PARTICIPANT_TYPE_INSTITUTION);
  ASSERT_TRUE(deposit(buyer.participant().cash_account_id(), 10'000'000, "d-1").ok());
  ASSERT_TRUE(issue(seller.participant().holding_account_id(), 1'000).ok());
  const std::string& s = seller.trader_token();
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(place(s, v1::SIDE_SELL, 10'000 + 10 * k, 1).ok());
  v1::PlaceOrderResponse buy;
  ASSERT_TRUE(place(buyer.trader_token(), v1::SIDE_BUY, 10'020, 3, &buy).ok());
  ASSERT_EQ(buy.fills_size(), 3);

  // Five orders in pages of two: 2, 2, 1, by id, the last page without a token.
  v1::ListOrdersRequest orders_request;
  orders_request.set_page_size(2);
  std::vector<std::uint64_t> ids;
  std::vector<int> sizes;
  do {
    v1::ListOrdersResponse page;
    ASSERT_TRUE(exchange.trading->ListOrders(RunningExchange::as(s).get(), orders_request, &page).ok());
    sizes.push_back(page.orders_size());
    for (const v1::Order& o : page.orders()) ids.push_back(o.order_id());
    orders_request.set_page_token(page.next_page_token());
  } while (!orders_request.page_token().empty() && sizes.size() < 10);
  EXPECT_EQ(sizes, (std::vector<int>{2, 2, 1}));
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), 5u);

  // Three trades in pages of two.
  v1::ListTradesRequest trades_request;
  trades_request.set_page_size(2);
  v1::ListTradesResponse first, second;
  ASSERT_TRUE(exchange.trading->ListTrades(RunningExchange::as(s).get(), trades_request, &first).ok());
  ASSERT_EQ(first.trades_size(), 2);
  ASSERT_FALSE(first.next_page_token().empty());
  trades_request.set_page_token(first.next_page_token());
  ASSERT_TRUE(exchange.trading->ListTrades(RunningExchange::as(s).get(), trades_request, &second).ok());
  ASSERT_EQ(second.trades_size(), 1);
  EXPECT_GT(second.trades(0).trade_id(), first.trades(1).trade_id());
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_EQ(second.trades(0).trade_id(), buy.fills(2).trade_id());

  // A token is refused with other filters, and a made-up one too: INVALID_ARGUMENT, naming page_token.
  v1::ListOrdersRequest first_page;
  first_page.set_page_size(2);
  v1::ListOrdersResponse listed;
  ASSERT_TRUE(exchange.trading->ListOrders(RunningExchange::as(s).get(), first_page, &listed).ok());
  ASSERT_FALSE(listed.next_page_token().empty());
  std::vector<std::pair<std::string, std::function<grpc::Status()>>> refused;
  refused.emplace_back("orders token with open_only", [&] {
    v1::ListOrdersRequest r = first_page;
    r.set_page_token(listed.next_page_token());
    r.set_open_only(true);
    v1::ListOrdersResponse out;
    return exchange.trading->ListOrders(RunningExchange::as(s).get(), r, &out);
  });
  refused.emplace_back("orders token with an instrument", [&] {
    v1::ListOrdersRequest r = first_page;
    r.set_page_token(listed.next_page_token());
    r.set_instrument("CEA2024");
    v1::ListOrdersResponse out;
    return exchange.trading->ListOrders(RunningExchange::as(s).get(), r, &out);
  });
  refused.emplace_back("a trades token for ListTrades of an instrument", [&] {
    v1::ListTradesRequest r;
    r.set_page_token(first.next_page_token());
    r.set_instrument("CEA2024");
    v1::ListTradesResponse out;
    return exchange.trading->ListTrades(RunningExchange::as(s).get(), r, &out);
  });
  refused.emplace_back("a made-up orders token", [&] {
    v1::ListOrdersRequest r;
    r.set_page_token("12.not-a-hash");
    v1::ListOrdersResponse out;
    return exchange.trading->ListOrders(RunningExchange::as(s).get(), r, &out);
  });
  refused.emplace_back("a made-up trades token", [&] {
    v1::ListTradesRequest r;
    r.set_page_token("bogus");
    v1::ListTradesResponse out;
    return exchange.trading->ListTrades(RunningExchange::as(s).get(), r, &out);
  });
  for (const auto& [name, call] : refused) {
    const grpc::Status status = call();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_NE(status.error_message().find("page_token"), std::string::npos) << name << ": " << status.error_message();
  }

  // The whole list through every page equals the unfiltered count; a trader still sees only its own.
  v1::ListOrdersResponse all;
  ASSERT_TRUE(list_all_orders(exchange, buyer.trader_token(), all).ok());
  ASSERT_EQ(all.orders_size(), 1);
  EXPECT_EQ(all.orders(0).order_id(), buy.order().order_id());
}

// A trader sees only its own orders and trades: the matrix test checks status codes, this checks what the lists
// carry. A third participant sees none of the two traders' rows, each trader only its own orders, and both the
// trade they made together.
TEST_F(SliceTest, ListsCarryOnlyTheCallersOwnOrdersAndTrades) {
  const auto seller = create("KEU-GD-0002", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  const auto buyer = create("INST-SH-0002", v1::PARTICIPANT_TYPE_INSTITUTION);
  const auto other = create("INST-BJ-0003", v1::PARTICIPANT_TYPE_INSTITUTION);
  ASSERT_TRUE(deposit(buyer.participant().cash_account_id(), 100'000'000, "wire-a").ok());
  ASSERT_TRUE(deposit(other.participant().cash_account_id(), 100'000'000, "wire-b").ok());
  ASSERT_TRUE(issue(seller.participant().holding_account_id(), 5'000).ok());
  v1::PlaceOrderResponse sell, buy, own;
  ASSERT_TRUE(place(seller.trader_token(), v1::SIDE_SELL, 9'850, 100, &sell).ok());
  ASSERT_TRUE(place(seller.trader_token(), v1::SIDE_SELL, 10'500, 100).ok());  // rests
  ASSERT_TRUE(place(buyer.trader_token(), v1::SIDE_BUY, 9'850, 100, &buy).ok());
  ASSERT_EQ(buy.fills_size(), 1);
  ASSERT_TRUE(place(other.trader_token(), v1::SIDE_BUY, 9'000, 10, &own).ok());  // rests

  auto orders_of = [&](const std::string& token) {
    v1::ListOrdersResponse all;
    EXPECT_TRUE(list_all_orders(exchange, token, all).ok());
    return std::vector<v1::Order>(all.orders().begin(), all.orders().end());
  };
  auto trades_of = [&](const std::string& token) {
    v1::ListTradesResponse all;
    EXPECT_TRUE(list_all_trades(exchange, token, all).ok());
    return std::vector<v1::Trade>(all.trades().begin(), all.trades().end());
  };
  const std::pair<const v1::CreateParticipantResponse*, std::size_t> expected[] = {
      {&seller, 2}, {&buyer, 1}, {&other, 1}};
  for (const auto& [who, count] : expected) {
    const std::vector<v1::Order> orders = orders_of(who->trader_token());
    EXPECT_EQ(orders.size(), count) << who->participant().code();
    for (const v1::Order& order : orders) {
      EXPECT_EQ(order.participant_id(), who->participant().participant_id()) << who->participant().code();
    }
  }
  EXPECT_TRUE(trades_of(other.trader_token()).empty());
  for (const auto* who : {&seller, &buyer}) {
    const std::vector<v1::Trade> trades = trades_of(who->trader_token());
    ASSERT_EQ(trades.size(), 1u);
    EXPECT_EQ(trades[0].trade_id(), buy.fills(0).trade_id());
  }
  // Another participant's order by id: refused, not shown.
  v1::GetOrderRequest get;
  get.set_order_id(sell.order().order_id());
  v1::Order order;
  EXPECT_EQ(exchange.trading->GetOrder(RunningExchange::as(other.trader_token()).get(), get, &order).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SliceTest, TheBearerSchemeIsCaseInsensitiveAndHealthCoversEachService) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "bearer " + kOperatorToken);
  v1::ListParticipantsResponse response;
  EXPECT_TRUE(exchange.admin->ListParticipants(&context, {}, &response).ok());
  EXPECT_EQ(exchange.health("carbon.v1.TradingService"), 1);
  EXPECT_EQ(exchange.health("carbon.v1.RegulatorService"), 1);
  EXPECT_EQ(exchange.health("carbon.v1.NoSuchService"), -1) << "unknown services are NOT_FOUND";
}

TEST_F(SliceTest, ServerReflectionListsEveryCarbonService) {
  const std::string services = exchange.reflection_list_services();
  for (const char* name : {"carbon.v1.TradingService", "carbon.v1.MarketDataService", "carbon.v1.AdminService",
                           "carbon.v1.RegistryService", "carbon.v1.RegulatorService", "grpc.health.v1.Health"}) {
    EXPECT_NE(services.find(name), std::string::npos) << name << " missing from reflection";
  }
}

}  // namespace
}  // namespace carbon::testing
