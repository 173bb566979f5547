// Operations end to end: the Prometheus endpoint scraped over HTTP after
// real orders, and the health service following the database through an
// outage of a real PostgreSQL cluster.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <regex>
#include <thread>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"
#include "store/embedded_postgres.h"
#include "store/pg.h"
#include "support/exposition.h"

namespace carbon::testing {
namespace {

namespace http = boost::beast::http;

/// The address carbond logged for its metrics endpoint.
std::string metrics_address(const RunningExchange& exchange) {
  std::smatch match;
  const std::string log = exchange.log();
  if (!std::regex_search(log, match, std::regex(R"(metrics on http://([^/]+)/metrics)"))) return "";
  return match[1].str();
}

/// HTTP GET of `target`; returns {status, content type, body}.
std::tuple<int, std::string, std::string> http_get(const std::string& address, const std::string& target,
                                                   http::verb verb = http::verb::get) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::beast::tcp_stream stream(io);
  const auto colon = address.rfind(':');
  stream.connect(resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
  http::request<http::empty_body> request{verb, target, 11};
  request.set(http::field::host, address);
  http::write(stream, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {static_cast<int>(response.result_int()), std::string(response[http::field::content_type]), response.body()};
}

/// The value of the sample `series`, as an integer (every series read here counts something), or -1 if absent.
long long sample(const std::string& exposition, const std::string& series) {
  return static_cast<long long>(exposition_sample(exposition, series));
}

struct Trader {
  std::string token;
  std::uint64_t cash_account = 0;
  std::uint64_t participant_id = 0;
};

Trader open_buyer(RunningExchange& exchange, const std::string& code) {
  v1::CreateParticipantRequest create;
  create.set_code(code);
  create.set_name(code);
  create.set_type(v1::PARTICIPANT_TYPE_INSTITUTION);
  v1::CreateParticipantResponse created;
  EXPECT_TRUE(exchange.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), create, &created).ok());
  v1::CashMovementRequest deposit;
  deposit.set_cash_account_id(created.participant().cash_account_id());
  deposit.set_amount_fen(100'000'000);
  deposit.set_idempotency_key(code + "-funding");
  v1::CashMovementResponse deposited;
  EXPECT_TRUE(exchange.admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &deposited).ok());
  return {created.trader_token(), created.participant().cash_account_id(), created.participant().participant_id()};
}

/// Places 10 t of CEA2024 at `price`.
grpc::Status place(RunningExchange& exchange, const std::string& token, v1::Side side, std::int64_t price,
                   v1::PlaceOrderResponse* response = nullptr) {
  v1::PlaceOrderRequest request;
  request.set_instrument("CEA2024");
  request.set_side(side);
  request.set_price_fen(price);
  request.set_quantity(10);
  v1::PlaceOrderResponse ignored;
  return exchange.trading->PlaceOrder(RunningExchange::as(token).get(), request, response ? response : &ignored);
}

grpc::Status buy(RunningExchange& exchange, const std::string& token, std::int64_t price) {
  return place(exchange, token, v1::SIDE_BUY, price);
}

/// Opens an order session that asks for a replay and expects no message back; its final status.
grpc::Status refused_replay(RunningExchange& exchange, const std::string& token) {
  auto context = RunningExchange::as(token);
  auto session = exchange.trading->OrderSession(context.get());
  v1::SessionRequest hello;
  hello.set_replay_after_sequence(1);
  session->Write(hello);
  v1::SessionResponse response;
  EXPECT_FALSE(session->Read(&response)) << response.ShortDebugString();
  return session->Finish();
}

TEST(OpsTest, TheMetricsEndpointCountsCommandsRejectionsAndRestingOrders) {
  TestDatabase db;
  RunningExchange exchange({"--postgres=" + db.conninfo(), "--metrics-listen=127.0.0.1:0"});
  ASSERT_NO_THROW(exchange.start());
  const std::string address = metrics_address(exchange);
  ASSERT_FALSE(address.empty()) << exchange.log();
  const Trader trader = open_buyer(exchange, "KEU-M1");

  const auto [status, content_type, before] = http_get(address, "/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(content_type, "text/plain; charset=utf-8");  // prometheus-cpp's Exposer: the text format
  EXPECT_NE(before.find("# TYPE carbond_commands_total counter\n"), std::string::npos);
  EXPECT_NE(before.find("# TYPE carbond_commit_latency_seconds histogram\n"), std::string::npos);
  const long long places_before = sample(before, "carbond_commands_total{kind=\"PlaceOrder\"}");
  ASSERT_GE(places_before, 0) << before;
  EXPECT_EQ(sample(before, "carbond_book_resting_orders{instrument=\"CEA2024\"}"), 0);
  EXPECT_EQ(sample(before, "carbond_journal_unavailable"), 0);
  EXPECT_EQ(sample(before, "carbond_order_sessions"), 0);
  EXPECT_EQ(sample(before, "carbond_market_data_retained_trades"), 0);
  const std::string band_rejections =
      "carbond_rejections_total{code=\"FAILED_PRECONDITION\",command=\"PlaceOrder\",reason=\"price band\"}";
  EXPECT_EQ(sample(before, band_rejections), -1);

  constexpr int kOrders = 7;
  for (int i = 0; i < kOrders; ++i) ASSERT_TRUE(buy(exchange, trader.token, 9'900 - i).ok());
  // Outside the ±10% listed band around 10,000 fen: refused by the engine.
  const grpc::Status refused = buy(exchange, trader.token, 12'000);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  const std::string after = std::get<2>(http_get(address, "/metrics"));
  EXPECT_EQ(sample(after, "carbond_commands_total{kind=\"PlaceOrder\"}"), places_before + kOrders + 1);
  EXPECT_EQ(sample(after, band_rejections), 1) << after;
  EXPECT_EQ(sample(after, "carbond_book_resting_orders{instrument=\"CEA2024\"}"), kOrders);
  // Every command with events is committed in some batch; the histograms agree with each other.
  const long long batches = sample(after, "carbond_commit_batch_commands_count");
  EXPECT_GE(batches, 1);
  EXPECT_EQ(sample(after, "carbond_commit_latency_seconds_count"), batches);
  EXPECT_EQ(sample(after, "carbond_commit_batches_total"), batches);
  EXPECT_EQ(sample(after, "carbond_commit_latency_seconds_bucket{le=\"+Inf\"}"), batches);
  EXPECT_GE(sample(after, "carbond_ack_latency_seconds_count"), kOrders + 1);
  EXPECT_EQ(sample(after, "carbond_database_up"), 1);

  // A trade: the feed keeps it for StreamTrades replay.
  v1::CreateParticipantResponse seller;
  ASSERT_TRUE(create_participant(exchange, "KEU-M2", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT, seller).ok());
  ASSERT_TRUE(set_generous_cap(exchange).ok());
  ASSERT_TRUE(issue_allowances(exchange, seller.participant().holding_account_id(), 10).ok());
  v1::PlaceOrderResponse sold;
  ASSERT_TRUE(place(exchange, seller.trader_token(), v1::SIDE_SELL, 9'900, &sold).ok());
  ASSERT_EQ(sold.fills_size(), 1);
  EXPECT_TRUE(eventually([&] {
    return sample(std::get<2>(http_get(address, "/metrics")), "carbond_market_data_retained_trades") == 1;
  }));

  EXPECT_EQ(std::get<0>(http_get(address, "/nothing")), 404);
  EXPECT_EQ(std::get<0>(http_get(address, "/metrics", http::verb::post)), 404) << "the exposer serves GET only";
  if (HasFailure()) std::cerr << exchange.log();
}

// The token is checked on every message of an order session, its first
// included: the first may come long after the session opened (the metrics
// show when carbond has it open, so the revocation surely comes after).
TEST(OpsTest, ATokenRevokedWhileASessionWaitsIsRefusedOnItsFirstMessage) {
  TestDatabase db;
  RunningExchange exchange({"--postgres=" + db.conninfo(), "--metrics-listen=127.0.0.1:0"});
  ASSERT_NO_THROW(exchange.start());
  const std::string address = metrics_address(exchange);
  ASSERT_FALSE(address.empty()) << exchange.log();
  const Trader trader = open_buyer(exchange, "KEU-R1");
  v1::IssueApiTokenRequest issue;
  issue.set_role(v1::ROLE_TRADER);
  issue.set_participant_id(trader.participant_id);
  issue.set_label("desk");
  v1::IssueApiTokenResponse desk;
  ASSERT_TRUE(exchange.admin->IssueApiToken(RunningExchange::as(kOperatorToken).get(), issue, &desk).ok());

  auto context = RunningExchange::as(desk.token());
  auto session = exchange.trading->OrderSession(context.get());
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (sample(std::get<2>(http_get(address, "/metrics")), "carbond_order_sessions") != 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the session never opened";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  v1::RevokeApiTokenRequest revoke;
  revoke.set_token_id(desk.api_token().token_id());
  v1::RevokeApiTokenResponse revoked;
  ASSERT_TRUE(exchange.admin->RevokeApiToken(RunningExchange::as(kOperatorToken).get(), revoke, &revoked).ok());

  v1::SessionRequest batch;
  batch.set_batch_id(1);
  v1::PlaceOrderRequest* order = batch.add_commands()->mutable_place();
  order->set_instrument("CEA2024");
  order->set_side(v1::SIDE_BUY);
  order->set_price_fen(9'900);
  order->set_quantity(10);
  session->Write(batch);
  v1::SessionResponse response;
  EXPECT_FALSE(session->Read(&response)) << response.ShortDebugString();
  session->WritesDone();
  const grpc::Status status = session->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  v1::ListOrdersResponse orders;
  ASSERT_TRUE(exchange.trading->ListOrders(RunningExchange::as(trader.token).get(), {}, &orders).ok());
  EXPECT_EQ(orders.orders_size(), 0) << "nothing of the refused batch was applied";
}

TEST(OpsTest, DatabaseReadsOnGrpcThreadsAreBoundedAndAFullServerRefusesThemAtOnce) {
  TestDatabase db;
  RunningExchange exchange({"--postgres=" + db.conninfo(), "--metrics-listen=127.0.0.1:0"}, "max_database_reads = 1\n");
  ASSERT_NO_THROW(exchange.start());
  const std::string address = metrics_address(exchange);
  const Trader trader = open_buyer(exchange, "KEU-R1");
  auto regulator = v1::RegulatorService::NewStub(exchange.channel);
  auto query_trades = [&] {
    v1::QueryTradesResponse trades;
    return regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), {}, &trades);
  };
  ASSERT_TRUE(query_trades().ok());

  // A trader's statement read held by a lock on the table it reads first takes the one slot.
  std::future<grpc::Status> held;  // declared before the lock: destroyed (waited for) after it is released
  TableLock lock(db.conninfo(), "reconciliations");
  held = std::async(std::launch::async, [&] {
    v1::GetStatementResponse statement;
    return exchange.trading->GetStatement(RunningExchange::as(trader.token).get(), {}, &statement);
  });
  ASSERT_TRUE(eventually([&] {
    return db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                    "wait_event_type = 'Lock' AND query LIKE '%FROM reconciliations%'") == "1";
  })) << "the statement read never waited on the lock";

  // Every other read is refused at once, naming the limit; an answer from constants is not a read.
  const grpc::Status refused = query_trades();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_NE(refused.error_message().find("max_database_reads"), std::string::npos) << refused.error_message();
  const grpc::Status replay = refused_replay(exchange, trader.token);
  EXPECT_EQ(replay.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << replay.error_message();
  EXPECT_NE(replay.error_message().find("max_database_reads"), std::string::npos) << replay.error_message();
  v1::ListSystemAccountsResponse accounts;
  EXPECT_TRUE(exchange.registry->ListSystemAccounts(RunningExchange::as(kRegulatorToken).get(), {}, &accounts).ok());
  std::string scraped = std::get<2>(http_get(address, "/metrics"));
  EXPECT_EQ(sample(scraped, "carbond_database_reads_in_use"), 1);
  EXPECT_EQ(sample(scraped, "carbond_database_reads_refused_total"), 2);

  // The lock goes, the held read answers (no end of day yet), and its slot is free again.
  lock.release();
  const grpc::Status answered = held.get();
  EXPECT_EQ(answered.error_code(), grpc::StatusCode::NOT_FOUND) << answered.error_message();
  EXPECT_TRUE(query_trades().ok());
  scraped = std::get<2>(http_get(address, "/metrics"));
  EXPECT_EQ(sample(scraped, "carbond_database_reads_in_use"), 0);
  EXPECT_EQ(exchange.stop(), 0);
}

TEST(OpsTest, HealthIsNotServingWhileThePostgresClusterIsDownAndServingWhenItIsBack) {
  const std::filesystem::path dir = make_world_traversable_temp_dir("carbond-ops-health");
  store::EmbeddedPostgresOptions options;
  options.data_dir = dir / "cluster";
  options.port = 5497;
  store::EmbeddedPostgres postgres(options);
  postgres.start();
  {
    RunningExchange exchange({"--postgres=" + postgres.conninfo(), "--metrics-listen=127.0.0.1:0"});
    ASSERT_NO_THROW(exchange.start());
    const std::string address = metrics_address(exchange);
    const Trader trader = open_buyer(exchange, "KEU-H1");
    EXPECT_EQ(exchange.health(), 1);
    EXPECT_EQ(exchange.health("carbon.v1.TradingService"), 1);

    postgres.stop();
    EXPECT_TRUE(eventually([&] { return exchange.health() == 2; })) << "health did not turn NOT_SERVING";
    EXPECT_EQ(exchange.health("carbon.v1.TradingService"), 2);
    EXPECT_EQ(sample(std::get<2>(http_get(address, "/metrics")), "carbond_database_up"), 0);
    {
      // An order session's replay reads the database: the session ends UNAVAILABLE, naming why.
      const grpc::Status replay = refused_replay(exchange, trader.token);
      EXPECT_EQ(replay.error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_NE(replay.error_message().find("the replay could not read the database"), std::string::npos)
          << replay.error_message();
    }
    {
      // So does a settlement statement: UNAVAILABLE, where the engine kept it in memory before.
      v1::GetStatementResponse statement;
      const grpc::Status read =
          exchange.trading->GetStatement(RunningExchange::as(trader.token).get(), {}, &statement);
      EXPECT_EQ(read.error_code(), grpc::StatusCode::UNAVAILABLE) << read.error_message();
    }

    postgres.start();
    EXPECT_TRUE(eventually([&] { return exchange.health() == 1; })) << "health did not turn SERVING again";
    EXPECT_EQ(exchange.health("carbon.v1.TradingService"), 1);
    EXPECT_TRUE(buy(exchange, trader.token, 9'900).ok());
    const std::string scraped = std::get<2>(http_get(address, "/metrics"));
    EXPECT_EQ(sample(scraped, "carbond_database_up"), 1);
    EXPECT_EQ(sample(scraped, "carbond_journal_unavailable"), 0);
    EXPECT_EQ(exchange.stop(), 0);
    if (HasFailure()) std::cerr << exchange.log();
  }
  postgres.stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace carbon::testing
