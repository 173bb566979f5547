// Nothing acknowledged is lost: carbond is killed with SIGKILL while a client
// streams orders at it, restarted, and every order it acknowledged must be
// there, with its cash still reserved. (The foundation's promise; the crash
// test with trades, PostgreSQL restarts and a journal replay is crash_test.cpp.)

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <random>
#include <thread>

#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

TEST(KillTest, EveryAcknowledgedOrderSurvivesSigkillAndRestart) {
  TestDatabase db;
  RunningExchange exchange({"--postgres=" + db.conninfo()});
  ASSERT_NO_THROW(exchange.start());

  v1::CreateParticipantResponse buyer;
  ASSERT_TRUE(
      create_participant(exchange, "INST-KILL", v1::PARTICIPANT_TYPE_INSTITUTION, buyer, "Kill Test Bank").ok());
  v1::CashMovementRequest deposit;
  deposit.set_cash_account_id(buyer.participant().cash_account_id());
  deposit.set_amount_fen(1'000'000'000'000);
  deposit.set_idempotency_key("kill-funding");
  v1::CashMovementResponse funded;
  ASSERT_TRUE(exchange.admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &funded).ok());

  std::mt19937 random(20261124);
  std::map<std::string, std::int64_t> acknowledged;  // client order id -> price
  int next_id = 0;
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::thread client([&] {
      while (!stop.load()) {
        v1::PlaceOrderRequest request;
        const std::string id = "kill-" + std::to_string(next_id++);
        request.set_instrument("CEA2024");
        request.set_side(v1::SIDE_BUY);
        request.set_price_fen(9'500 + next_id % 50);
        request.set_quantity(1 + next_id % 7);
        request.set_client_order_id(id);
        v1::PlaceOrderResponse response;
        auto context = RunningExchange::as(buyer.trader_token());
        context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
        if (!exchange.trading->PlaceOrder(context.get(), request, &response).ok()) return;
        std::lock_guard lock(mutex);
        acknowledged[id] = request.price_fen() * request.quantity();
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 600));
    const int code = exchange.stop(SIGKILL);
    stop = true;
    client.join();
    ASSERT_EQ(code, 128 + SIGKILL);
    ASSERT_NO_THROW(exchange.start()) << "carbond must restart after SIGKILL";

    v1::ListOrdersResponse orders;
    ASSERT_TRUE(list_all_orders(exchange, buyer.trader_token(), orders).ok());
    std::map<std::string, v1::Order> present;
    std::int64_t reserved = 0;
    for (const auto& order : orders.orders()) {
      present[order.client_order_id()] = order;
      if (order.status() == v1::ORDER_STATUS_NEW) reserved += order.price_fen() * order.quantity();
    }
    for (const auto& [id, notional] : acknowledged) {
      ASSERT_TRUE(present.contains(id)) << "acknowledged order " << id << " was lost (round " << round << ")";
    }
    // Nothing half-applied: the cash reserved is exactly that of the orders that exist.
    v1::GetBalancesResponse balances;
    ASSERT_TRUE(
        exchange.trading->GetBalances(RunningExchange::as(buyer.trader_token()).get(), {}, &balances).ok());
    EXPECT_EQ(balances.cash().reserved_fen(), reserved);
    EXPECT_EQ(balances.cash().available_fen() + balances.cash().reserved_fen(), 1'000'000'000'000);
    EXPECT_GT(acknowledged.size(), static_cast<std::size_t>(round)) << "the client got no order in";
  }
  std::cout << acknowledged.size() << " orders acknowledged across 3 SIGKILLs, all recovered\n";
  EXPECT_EQ(exchange.stop(), 0);
}

}  // namespace
}  // namespace carbon::testing
