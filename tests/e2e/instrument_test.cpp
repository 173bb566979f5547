// Instruments created over gRPC, end to end against a real carbond and
// PostgreSQL: CreateInstrument (and its refusals), issuance under the new
// vintage's cap, a listed trade, UpdateInstrumentRules refusing an order it
// used to accept, a restart that restores it all, and GetAccountBalances.

#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class InstrumentTest : public ::testing::Test {
 protected:
  std::unique_ptr<RunningExchange> open() {
    auto exchange = std::make_unique<RunningExchange>(std::vector<std::string>{"--postgres=" + db.conninfo()});
    exchange->start();
    return exchange;
  }

  static v1::CreateParticipantResponse create(RunningExchange& x, const std::string& code, v1::ParticipantType type) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code);
    request.set_type(type);
    v1::CreateParticipantResponse response;
    EXPECT_TRUE(x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    return response;
  }

  static grpc::Status place(RunningExchange& x, const std::string& token, v1::Side side, std::int64_t price,
                            std::int64_t quantity, v1::PlaceOrderResponse* out = nullptr) {
    v1::PlaceOrderRequest request;
    request.set_instrument("CEA2026");
    request.set_side(side);
    request.set_type(v1::ORDER_TYPE_LIMIT);
    request.set_time_in_force(v1::TIME_IN_FORCE_DAY);
    request.set_price_fen(price);
    request.set_quantity(quantity);
    v1::PlaceOrderResponse response;
    return x.trading->PlaceOrder(RunningExchange::as(token).get(), request, out ? out : &response);
  }

  static const v1::Instrument* find(const v1::ListInstrumentsResponse& list, const std::string& code) {
    for (const v1::Instrument& instrument : list.instruments()) {
      if (instrument.code() == code) return &instrument;
    }
    return nullptr;
  }

  static v1::ListInstrumentsResponse instruments(RunningExchange& x) {
    v1::ListInstrumentsResponse response;
    EXPECT_TRUE(x.admin->ListInstruments(RunningExchange::as(kRegulatorToken).get(), {}, &response).ok());
    return response;
  }

  static v1::ModeRules listed(std::int64_t max, std::int64_t band_bps) {
    v1::ModeRules rules;
    rules.set_mode(v1::TRADING_MODE_LISTED);
    rules.set_enabled(true);
    rules.set_max_order_quantity(max);
    rules.set_price_band_bps(band_bps);
    for (auto [start, end] : {std::pair{570u, 690u}, std::pair{780u, 900u}}) {
      v1::TradingSession& session = *rules.add_sessions();
      session.set_start_minute(start);
      session.set_end_minute(end);
    }
    return rules;
  }

  static v1::GetAccountBalancesResponse balances(RunningExchange& x, std::uint64_t participant) {
    v1::GetAccountBalancesRequest request;
    request.set_participant_id(participant);
    v1::GetAccountBalancesResponse response;
    const grpc::Status status =
        x.admin->GetAccountBalances(RunningExchange::as(kRegistryToken).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  TestDatabase db;
};

TEST_F(InstrumentTest, CreateTradeUpdateRestart) {
  std::string seller_token, buyer_token;
  std::uint64_t seller_id = 0, buyer_id = 0;
  {
    auto x = open();
    const auto seller = create(*x, "KEU-1", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    const auto buyer = create(*x, "INST-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    seller_token = seller.trader_token();
    buyer_token = buyer.trader_token();
    seller_id = seller.participant().participant_id();
    buyer_id = buyer.participant().participant_id();

    // Refusals, each with its code and rule; nothing is created.
    v1::CreateInstrumentRequest request;
    request.set_code("CEA2026");
    request.set_market(v1::MARKET_COMPLIANCE);
    request.set_vintage_year(2026);
    request.set_tick_fen(1);
    request.set_lot(1);
    v1::Instrument created;
    grpc::Status status = x->admin->CreateInstrument(RunningExchange::as(buyer_token).get(), request, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    status = x->admin->CreateInstrument(RunningExchange::as(kRegulatorToken).get(), request, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    v1::CreateInstrumentRequest bad = request;
    bad.set_code("cea 2026");
    status = x->admin->CreateInstrument(RunningExchange::as(kOperatorToken).get(), bad, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("instrument code"), std::string::npos) << status.error_message();
    bad = request;
    bad.set_market(v1::MARKET_UNSPECIFIED);
    status = x->admin->CreateInstrument(RunningExchange::as(kOperatorToken).get(), bad, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    bad = request;
    *bad.add_mode_rules() = listed(0, 1'000);
    *bad.add_mode_rules() = listed(0, 1'000);
    status = x->admin->CreateInstrument(RunningExchange::as(kOperatorToken).get(), bad, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("LISTED is listed twice"), std::string::npos) << status.error_message();
    bad = request;
    bad.set_code("CEA2024");
    bad.set_vintage_year(2024);
    status = x->admin->CreateInstrument(RunningExchange::as(kOperatorToken).get(), bad, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(status.error_message().find("already in use"), std::string::npos) << status.error_message();
    EXPECT_EQ(find(instruments(*x), "CEA2026"), nullptr);

    // Created without a reference price: listed, but orders are refused until one is set.
    *request.add_mode_rules() = listed(1'000, 1'000);
    request.set_gtc_enabled(true);
    status = x->admin->CreateInstrument(RunningExchange::as(kOperatorToken).get(), request, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(created.code(), "CEA2026");
    EXPECT_EQ(created.vintage_year(), 2026);
    EXPECT_TRUE(created.gtc_enabled());
    EXPECT_EQ(created.reference_price_fen(), 0);
    ASSERT_EQ(created.mode_rules_size(), 3);  // listed as given, block and auction from the defaults
    EXPECT_EQ(created.mode_rules(0).max_order_quantity(), 1'000);
    EXPECT_EQ(created.mode_rules(1).min_order_quantity(), 100'000);
    EXPECT_EQ(created.mode_rules(2).mode(), v1::TRADING_MODE_AUCTION);
    EXPECT_TRUE(created.mode_rules(2).enabled());
    EXPECT_EQ(created.position_limit(), 1'000'000);
    ASSERT_NE(find(instruments(*x), "CEA2026"), nullptr);

    // Funding, a cap for 2026 and issuance of the new vintage, as for a configured one.
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(buyer.participant().cash_account_id());
    deposit.set_amount_fen(100'000'000);
    deposit.set_idempotency_key("dep-1");
    v1::CashMovementResponse deposited;
    ASSERT_TRUE(x->admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &deposited).ok());
    ASSERT_TRUE(set_generous_cap(*x, 2026).ok());
    v1::IssueAllowancesRequest issue;
    issue.set_instrument("CEA2026");
    issue.set_holding_account_id(seller.participant().holding_account_id());
    issue.set_quantity(5'000);
    issue.set_reason("2026 allocation");
    v1::IssueAllowancesResponse issued;
    status = x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued);
    ASSERT_TRUE(status.ok()) << status.error_message();

    status = place(*x, seller_token, v1::SIDE_SELL, 9'000, 100);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(status.error_message().find("no reference price yet"), std::string::npos) << status.error_message();
    v1::SetReferencePriceRequest reference;
    reference.set_instrument("CEA2026");
    reference.set_price_fen(9'000);
    reference.set_reason("listing");
    v1::Instrument referenced;
    ASSERT_TRUE(x->admin->SetReferencePrice(RunningExchange::as(kOperatorToken).get(), reference, &referenced).ok());
    EXPECT_EQ(referenced.mode_rules(0).max_order_quantity(), 1'000);  // the reply carries the instrument's rules

    // A listed trade of 100 t at 9,000 fen, and a resting buy of 50 t.
    ASSERT_TRUE(place(*x, seller_token, v1::SIDE_SELL, 9'000, 100).ok());
    v1::PlaceOrderResponse bought;
    ASSERT_TRUE(place(*x, buyer_token, v1::SIDE_BUY, 9'000, 100, &bought).ok());
    ASSERT_EQ(bought.fills_size(), 1);
    EXPECT_EQ(bought.fills(0).instrument(), "CEA2026");
    ASSERT_TRUE(place(*x, buyer_token, v1::SIDE_BUY, 8'900, 50).ok());
    EXPECT_TRUE(place(*x, buyer_token, v1::SIDE_BUY, 8'900, 800).ok());  // within the 1,000 t maximum

    // New rules: listed at most 500 t, key emitting units and institutions, no GTC. An order accepted before is
    // refused now.
    v1::UpdateInstrumentRulesRequest update;
    update.set_instrument("CEA2026");
    *update.add_mode_rules() = listed(500, 1'000);
    v1::ModeRules& auction_rules = *update.add_mode_rules();  // only enabled and the fees
    auction_rules.set_mode(v1::TRADING_MODE_AUCTION);
    auction_rules.set_enabled(false);
    auction_rules.set_buy_fee_bps(9);
    auction_rules.set_sell_fee_bps(11);
    update.add_eligible_participant_types(v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    update.add_eligible_participant_types(v1::PARTICIPANT_TYPE_INSTITUTION);
    v1::Instrument updated;
    status = x->admin->UpdateInstrumentRules(RunningExchange::as(buyer_token).get(), update, &updated);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    v1::UpdateInstrumentRulesRequest unknown = update;
    unknown.set_instrument("CEA2099");
    status = x->admin->UpdateInstrumentRules(RunningExchange::as(kOperatorToken).get(), unknown, &updated);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    status = x->admin->UpdateInstrumentRules(RunningExchange::as(kOperatorToken).get(), update, &updated);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(updated.gtc_enabled());
    EXPECT_EQ(updated.mode_rules(0).max_order_quantity(), 500);
    ASSERT_EQ(updated.mode_rules_size(), 3);
    EXPECT_FALSE(updated.mode_rules(2).enabled());
    EXPECT_EQ(updated.mode_rules(2).buy_fee_bps(), 9);
    EXPECT_EQ(updated.eligible_participant_types_size(), 2);
    status = place(*x, buyer_token, v1::SIDE_BUY, 8'900, 800);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(status.error_message().find("exceeds the listed maximum of 500 t"), std::string::npos)
        << status.error_message();

    // GetAccountBalances: the seller's holding of the new instrument; unknown participants are NOT_FOUND.
    const v1::GetAccountBalancesResponse seller_balances = balances(*x, seller_id);
    EXPECT_EQ(seller_balances.participant().code(), "KEU-1");
    ASSERT_EQ(seller_balances.holdings_size(), 1);
    EXPECT_EQ(seller_balances.holdings(0).instrument(), "CEA2026");
    EXPECT_EQ(seller_balances.holdings(0).available(), 4'900);
    EXPECT_EQ(seller_balances.cash().unsettled_fen(), 900'000);
    v1::GetAccountBalancesRequest missing;
    missing.set_participant_id(999);
    v1::GetAccountBalancesResponse none;
    status = x->admin->GetAccountBalances(RunningExchange::as(kOperatorToken).get(), missing, &none);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(status.error_message(), "participant 999 does not exist");
    missing.set_participant_id(0);
    status = x->admin->GetAccountBalances(RunningExchange::as(kOperatorToken).get(), missing, &none);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    status = x->admin->GetAccountBalances(RunningExchange::as(buyer_token).get(), missing, &none);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(x->stop(), 0);
  }

  // After a restart: the instrument, its updated rules, its reference price, the resting orders and the holdings.
  auto x = open();
  const v1::ListInstrumentsResponse listed_after = instruments(*x);
  const v1::Instrument* restored = find(listed_after, "CEA2026");
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->vintage_year(), 2026);
  EXPECT_EQ(restored->reference_price_fen(), 9'000);
  EXPECT_FALSE(restored->gtc_enabled());
  EXPECT_EQ(restored->mode_rules(0).max_order_quantity(), 500);
  ASSERT_EQ(restored->mode_rules_size(), 3);
  EXPECT_EQ(restored->mode_rules(2).mode(), v1::TRADING_MODE_AUCTION);
  EXPECT_FALSE(restored->mode_rules(2).enabled());
  EXPECT_EQ(restored->mode_rules(2).buy_fee_bps(), 9);
  EXPECT_EQ(restored->mode_rules(2).sell_fee_bps(), 11);
  EXPECT_EQ(restored->eligible_participant_types_size(), 2);
  ASSERT_NE(find(listed_after, "CEA2024"), nullptr);  // configured instruments are still there

  grpc::Status status = place(*x, buyer_token, v1::SIDE_BUY, 8'900, 800);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("exceeds the listed maximum of 500 t"), std::string::npos)
      << status.error_message();
  // The resting buy of 50 t at 8,900 is still on the book: a sell crosses it.
  v1::PlaceOrderResponse sold;
  status = place(*x, seller_token, v1::SIDE_SELL, 8'900, 50, &sold);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(sold.fills_size(), 1);
  EXPECT_EQ(sold.fills(0).price_fen(), 8'900);

  const v1::GetAccountBalancesResponse buyer_balances = balances(*x, buyer_id);
  ASSERT_EQ(buyer_balances.holdings_size(), 1);
  EXPECT_EQ(buyer_balances.holdings(0).instrument(), "CEA2026");
  EXPECT_EQ(buyer_balances.holdings(0).pending(), 150);
  // The market data feed knows the restored instrument.
  v1::GetBookRequest book_request;
  book_request.set_instrument("CEA2026");
  v1::BookSnapshot book;
  status = x->market_data->GetBook(RunningExchange::as(buyer_token).get(), book_request, &book);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(book.bids_size(), 1);  // the 800 t buy at 8,900
  EXPECT_EQ(book.bids(0).quantity(), 800);
}

}  // namespace
}  // namespace carbon::testing
