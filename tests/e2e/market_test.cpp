// Continuous and block trading over gRPC against a real PostgreSQL: halts,
// reference prices, the calendar, participant controls, amendments, block
// trades and end of day, each surviving a restart. The clock is injected
// (--clock-start), so the test runs the afternoon session, the close and the
// next morning whatever the time of day.

#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class MarketTest : public ::testing::Test {
 protected:
  /// A carbond on this test's database whose clock starts at `clock` (RFC 3339).
  std::unique_ptr<RunningExchange> open_at(const std::string& clock) {
    auto exchange = std::make_unique<RunningExchange>(
        std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=" + clock});
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
                            std::int64_t qty, v1::PlaceOrderResponse* out = nullptr) {
    v1::PlaceOrderRequest request;
    request.set_instrument("CEA2024");
    request.set_side(side);
    request.set_price_fen(price);
    request.set_quantity(qty);
    v1::PlaceOrderResponse response;
    auto status = x.trading->PlaceOrder(RunningExchange::as(token).get(), request, &response);
    if (out) *out = response;
    return status;
  }

  static v1::ListInstrumentsResponse instruments(RunningExchange& x, const std::string& token) {
    v1::ListInstrumentsResponse response;
    EXPECT_TRUE(x.admin->ListInstruments(RunningExchange::as(token).get(), {}, &response).ok());
    return response;
  }

  static const v1::Instrument& find(const v1::ListInstrumentsResponse& list, const std::string& code) {
    for (const auto& instrument : list.instruments()) {
      if (instrument.code() == code) return instrument;
    }
    throw std::runtime_error("no instrument " + code);
  }

  TestDatabase db;
};

TEST_F(MarketTest, AFullTradingDayAndItsCloseSurviveRestarts) {
  std::string seller_token, buyer_token;
  std::uint64_t buyer_id = 0, seller_id = 0;
  std::uint64_t resting_order = 0;
  {
    auto x = open_at("2026-11-24T13:30:00+08:00");
    const auto seller = create(*x, "KEU-1", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    const auto buyer = create(*x, "INST-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    seller_token = seller.trader_token();
    buyer_token = buyer.trader_token();
    seller_id = seller.participant().participant_id();
    buyer_id = buyer.participant().participant_id();
    {
      ASSERT_TRUE(deposit(*x, buyer.participant().cash_account_id(), 5'000'000'000, "dep-1").ok());
      ASSERT_TRUE(set_generous_cap(*x).ok());
      v1::IssueAllowancesRequest issue;
      issue.set_instrument("CEA2024");
      issue.set_holding_account_id(seller.participant().holding_account_id());
      issue.set_quantity(300'000);
      issue.set_reason("allocation");
      v1::IssueAllowancesResponse issued;
      ASSERT_TRUE(x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());
    }

    // Halt and resume one instrument; traders are refused while it is halted.
    v1::HaltTradingRequest halt;
    halt.set_instrument("CEA2024");
    halt.set_reason("disclosure pending");
    v1::HaltTradingResponse halted;
    ASSERT_TRUE(x->admin->HaltTrading(RunningExchange::as(kOperatorToken).get(), halt, &halted).ok());
    EXPECT_TRUE(halted.instrument().halted());
    grpc::Status refused = place(*x, seller_token, v1::SIDE_SELL, 10'000, 10);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(refused.error_message().find("instrument halted"), std::string::npos) << refused.error_message();
    EXPECT_EQ(x->admin->HaltTrading(RunningExchange::as(buyer_token).get(), halt, &halted).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ResumeTradingRequest resume;
    resume.set_instrument("CEA2024");
    ASSERT_TRUE(x->admin->ResumeTrading(RunningExchange::as(kOperatorToken).get(), resume, &halted).ok());
    EXPECT_FALSE(halted.instrument().halted());

    // Listed trades: 10 t at 10,000 and 30 t at 10,100 -> close (VWAP) 10,075.
    ASSERT_TRUE(place(*x, seller_token, v1::SIDE_SELL, 10'000, 10).ok());
    ASSERT_TRUE(place(*x, seller_token, v1::SIDE_SELL, 10'100, 30).ok());
    v1::PlaceOrderResponse bought;
    ASSERT_TRUE(place(*x, buyer_token, v1::SIDE_BUY, 10'100, 40, &bought).ok());
    EXPECT_EQ(bought.fills_size(), 2);

    // Amend: a reduction keeps priority.
    v1::PlaceOrderResponse resting;
    ASSERT_TRUE(place(*x, buyer_token, v1::SIDE_BUY, 9'500, 20, &resting).ok());
    resting_order = resting.order().order_id();
    v1::AmendOrderRequest amend;
    amend.set_order_id(resting_order);
    amend.set_new_quantity(15);
    v1::AmendOrderResponse amended;
    ASSERT_TRUE(x->trading->AmendOrder(RunningExchange::as(buyer_token).get(), amend, &amended).ok());
    EXPECT_TRUE(amended.priority_kept());
    EXPECT_EQ(amended.order().quantity(), 15);
    amend.set_new_quantity(0);
    amend.set_new_price_fen(20'000);
    grpc::Status out_of_band = x->trading->AmendOrder(RunningExchange::as(buyer_token).get(), amend, &amended);
    EXPECT_EQ(out_of_band.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(out_of_band.error_message().find("price band"), std::string::npos);

    // A block trade to a named counterparty, accepted whole.
    v1::OfferBlockTradeRequest offer;
    offer.set_instrument("CEA2024");
    offer.set_side(v1::SIDE_SELL);
    offer.set_price_fen(12'000);
    offer.set_quantity(100'000);
    offer.set_counterparty_participant_id(buyer_id);
    v1::OfferBlockTradeResponse offered;
    ASSERT_TRUE(x->trading->OfferBlockTrade(RunningExchange::as(seller_token).get(), offer, &offered).ok());
    EXPECT_EQ(offered.offer().status(), v1::BLOCK_OFFER_STATUS_OPEN);
    v1::ListBlockOffersResponse visible;
    ASSERT_TRUE(x->trading->ListBlockOffers(RunningExchange::as(buyer_token).get(), {}, &visible).ok());
    ASSERT_EQ(visible.offers_size(), 1);
    v1::ListBlockOffersRequest unknown_status;
    unknown_status.set_status(static_cast<v1::BlockOfferStatus>(99));
    const grpc::Status unknown =
        x->trading->ListBlockOffers(RunningExchange::as(buyer_token).get(), unknown_status, &visible);
    EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << unknown.error_message();
    EXPECT_NE(unknown.error_message().find("block offer status 99"), std::string::npos) << unknown.error_message();
    v1::AcceptBlockTradeRequest accept;
    accept.set_offer_id(offered.offer().offer_id());
    accept.set_expected_price_fen(12'000);
    accept.set_expected_quantity(99'999);
    v1::AcceptBlockTradeResponse accepted;
    EXPECT_EQ(x->trading->AcceptBlockTrade(RunningExchange::as(buyer_token).get(), accept, &accepted).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
    accept.set_expected_quantity(100'000);
    ASSERT_TRUE(x->trading->AcceptBlockTrade(RunningExchange::as(buyer_token).get(), accept, &accepted).ok());
    EXPECT_EQ(accepted.offer().status(), v1::BLOCK_OFFER_STATUS_ACCEPTED);
    EXPECT_EQ(accepted.trade().mode(), v1::TRADING_MODE_BLOCK);
    EXPECT_EQ(accepted.trade().quantity(), 100'000);

    // Controls and the calendar.
    v1::SetParticipantControlsRequest controls;
    controls.set_participant_id(seller_id);
    controls.set_self_trade_prevention(v1::SELF_TRADE_PREVENTION_CANCEL_BOTH);
    v1::ParticipantControls set;
    ASSERT_TRUE(x->admin->SetParticipantControls(RunningExchange::as(kOperatorToken).get(), controls, &set).ok());
    EXPECT_EQ(set.self_trade_prevention(), v1::SELF_TRADE_PREVENTION_CANCEL_BOTH);
    // The controls in force are read back with the participant: by staff and by the participant itself only.
    v1::GetParticipantRequest get;
    get.set_participant_id(seller_id);
    v1::Participant read;
    ASSERT_TRUE(x->admin->GetParticipant(RunningExchange::as(kOperatorToken).get(), get, &read).ok());
    ASSERT_TRUE(read.has_controls());
    EXPECT_EQ(read.controls().self_trade_prevention(), v1::SELF_TRADE_PREVENTION_CANCEL_BOTH);
    EXPECT_EQ(read.controls().sequence(), set.sequence());
    ASSERT_TRUE(x->admin->GetParticipant(RunningExchange::as(seller_token).get(), get, &read).ok());
    EXPECT_TRUE(read.has_controls());
    ASSERT_TRUE(x->admin->GetParticipant(RunningExchange::as(buyer_token).get(), get, &read).ok());
    EXPECT_FALSE(read.has_controls()) << "another participant's controls are not a trader's to see";
    v1::GetParticipantRequest get_buyer;
    get_buyer.set_participant_id(buyer_id);
    ASSERT_TRUE(x->admin->GetParticipant(RunningExchange::as(kOperatorToken).get(), get_buyer, &read).ok());
    ASSERT_TRUE(read.has_controls()) << "never set: the defaults";
    EXPECT_EQ(read.controls().self_trade_prevention(), v1::SELF_TRADE_PREVENTION_CANCEL_INCOMING);
    EXPECT_EQ(read.controls().sequence(), 0u);
    // Related-account groups are reserved: refused, and nothing changes.
    controls.set_related_group("group-7");
    v1::ParticipantControls unchanged;
    const grpc::Status related =
        x->admin->SetParticipantControls(RunningExchange::as(kOperatorToken).get(), controls, &unchanged);
    EXPECT_EQ(related.error_code(), grpc::StatusCode::UNIMPLEMENTED) << related.error_message();
    EXPECT_NE(related.error_message().find("related_group: this build raises no related-account"), std::string::npos);
    ASSERT_TRUE(x->admin->GetParticipant(RunningExchange::as(kOperatorToken).get(), get, &read).ok());
    EXPECT_EQ(read.controls().sequence(), set.sequence());
    v1::SetTradingCalendarRequest calendar;
    calendar.set_year(2026);
    calendar.add_holidays("2026-12-31");
    v1::TradingCalendar holidays;
    ASSERT_TRUE(x->admin->SetTradingCalendar(RunningExchange::as(kOperatorToken).get(), calendar, &holidays).ok());
    EXPECT_EQ(holidays.holidays_size(), 1);
    calendar.add_holidays("2026-11-01");
    EXPECT_EQ(x->admin->SetTradingCalendar(RunningExchange::as(kOperatorToken).get(), calendar, &holidays).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION)
        << "a day before the trading day in progress cannot change";
    x->stop();
  }
  {
    // After the close, the same day: end of day.
    auto x = open_at("2026-11-24T15:30:00+08:00");
    v1::RunEndOfDayRequest eod;
    eod.set_trading_date("2026-11-24");
    v1::RunEndOfDayResponse closed;
    ASSERT_TRUE(x->admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), eod, &closed).ok()) << x->log();
    EXPECT_EQ(closed.next_trading_date(), "2026-11-25");
    EXPECT_EQ(closed.expired_order_count(), 1u);
    bool seen = false;
    for (const auto& close : closed.closing_prices()) {
      if (close.instrument() != "CEA2024") continue;
      seen = true;
      EXPECT_EQ(close.close_price_fen(), 10'075) << "VWAP of the listed trades; the block trade does not count";
      EXPECT_TRUE(close.from_trades());
      EXPECT_EQ(close.listed_volume(), 40);
    }
    EXPECT_TRUE(seen);
    x->stop();
  }
  {
    // The next morning, after a restart: everything above was persisted.
    auto x = open_at("2026-11-25T09:45:00+08:00");
    const auto list = instruments(*x, buyer_token);
    EXPECT_EQ(list.market().trading_date(), "2026-11-25");
    EXPECT_EQ(find(list, "CEA2024").reference_price_fen(), 10'075);
    v1::GetDailyBarsRequest bars_request;
    bars_request.set_instrument("CEA2024");
    v1::GetDailyBarsResponse bars;
    ASSERT_TRUE(x->market_data->GetDailyBars(RunningExchange::as(buyer_token).get(), bars_request, &bars).ok());
    ASSERT_EQ(bars.bars_size(), 2) << "one listed and one block bar";
    // No from_date: 30 calendar days before to_date, inclusive.
    v1::GetDailyBarsRequest window = bars_request;
    window.set_to_date("2026-12-24");
    v1::GetDailyBarsResponse in_window;
    ASSERT_TRUE(x->market_data->GetDailyBars(RunningExchange::as(buyer_token).get(), window, &in_window).ok());
    EXPECT_EQ(in_window.bars_size(), 2) << "2026-11-24 is 30 days before 2026-12-24";
    window.set_to_date("2026-12-25");
    ASSERT_TRUE(x->market_data->GetDailyBars(RunningExchange::as(buyer_token).get(), window, &in_window).ok());
    EXPECT_EQ(in_window.bars_size(), 0) << "2026-11-24 is 31 days before 2026-12-25";
    v1::GetDailyBarsRequest bad_bars = bars_request;
    bad_bars.set_mode(static_cast<v1::TradingMode>(99));
    v1::GetDailyBarsResponse none;
    grpc::Status refused = x->market_data->GetDailyBars(RunningExchange::as(buyer_token).get(), bad_bars, &none);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
    EXPECT_NE(refused.error_message().find("trading mode 99"), std::string::npos) << refused.error_message();
    bad_bars = bars_request;
    bad_bars.set_from_date("2026-11-24");
    bad_bars.set_to_date("2026-11-23");
    refused = x->market_data->GetDailyBars(RunningExchange::as(buyer_token).get(), bad_bars, &none);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
    EXPECT_NE(refused.error_message().find("is after to_date"), std::string::npos) << refused.error_message();
    for (const auto& bar : bars.bars()) {
      if (bar.mode() == v1::TRADING_MODE_LISTED) {
        EXPECT_EQ(bar.open_price_fen(), 10'000);
        EXPECT_EQ(bar.high_price_fen(), 10'100);
        EXPECT_EQ(bar.close_price_fen(), 10'075);
        EXPECT_EQ(bar.volume(), 40);
        EXPECT_EQ(bar.turnover_fen(), 10 * 10'000 + 30 * 10'100);
      } else {
        EXPECT_EQ(bar.volume(), 100'000);
        EXPECT_EQ(bar.close_price_fen(), 12'000);
      }
    }
    v1::GetTradingCalendarRequest calendar_request;
    calendar_request.set_year(2026);
    v1::TradingCalendar calendar;
    ASSERT_TRUE(x->admin->GetTradingCalendar(RunningExchange::as(buyer_token).get(), calendar_request, &calendar).ok());
    ASSERT_EQ(calendar.holidays_size(), 1);
    EXPECT_EQ(calendar.holidays(0), "2026-12-31");
    v1::GetOrderRequest get;
    get.set_order_id(resting_order);
    v1::Order order;
    ASSERT_TRUE(x->trading->GetOrder(RunningExchange::as(buyer_token).get(), get, &order).ok());
    EXPECT_EQ(order.status(), v1::ORDER_STATUS_EXPIRED) << "DAY orders expire at the close";
    // T+1: the units bought yesterday are available; the band moved with the reference.
    v1::GetBalancesResponse balances;
    ASSERT_TRUE(x->trading->GetBalances(RunningExchange::as(buyer_token).get(), {}, &balances).ok());
    ASSERT_EQ(balances.holdings_size(), 1);
    EXPECT_EQ(balances.holdings(0).available(), 100'040);
    EXPECT_EQ(balances.holdings(0).pending(), 0);
    grpc::Status low = place(*x, buyer_token, v1::SIDE_SELL, 9'067, 10);
    EXPECT_EQ(low.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(low.error_message().find("9068-11082"), std::string::npos) << low.error_message();
    EXPECT_TRUE(place(*x, buyer_token, v1::SIDE_SELL, 9'068, 10).ok());
    x->stop();
  }
}

}  // namespace
// A band that moved under a resting order while carbond was stopped (here the reference, changed in the
// database; in practice a config that narrowed the band) does not let that order trade: before serving, carbond
// cancels it through the engine, journaled, and the buyer's cash is free again.
TEST_F(MarketTest, AtStartARestingOrderOutsideTheBandIsCancelledBeforeAnyoneTrades) {
  std::string buyer_token;
  std::uint64_t order_id = 0;
  {
    auto x = open_at("2026-11-24T10:00:00+08:00");
    const auto buyer = create(*x, "INST-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    buyer_token = buyer.trader_token();
    ASSERT_TRUE(deposit(*x, buyer.participant().cash_account_id(), 10'000'000, "dep-1").ok());
    v1::PlaceOrderResponse placed;
    ASSERT_TRUE(place(*x, buyer_token, v1::SIDE_BUY, 10'900, 100, &placed).ok());  // band 9,000-11,000
    order_id = placed.order().order_id();
    ASSERT_EQ(x->stop(), 0);
  }
  // The band 8,100-9,900 (a state row is written once the state changes; none has yet).
  db.query("INSERT INTO instrument_state VALUES ('CEA2024', 9000, 0, false, '', 1)"
           " ON CONFLICT (instrument) DO UPDATE SET reference_price_fen = 9000");
  auto x = open_at("2026-11-24T10:05:00+08:00");
  v1::GetOrderRequest get;
  get.set_order_id(order_id);
  v1::Order order;
  ASSERT_TRUE(x->trading->GetOrder(RunningExchange::as(buyer_token).get(), get, &order).ok());
  EXPECT_EQ(order.status(), v1::ORDER_STATUS_CANCELLED);
  v1::GetBalancesResponse balances;
  ASSERT_TRUE(x->trading->GetBalances(RunningExchange::as(buyer_token).get(), {}, &balances).ok());
  EXPECT_EQ(balances.cash().reserved_fen(), 0);
  EXPECT_EQ(balances.cash().available_fen(), 10'000'000);
  EXPECT_NE(x->log().find("start: resting orders outside the listed band of CEA2024 are cancelled"), std::string::npos)
      << x->log();
  // Audited: regulators see that carbond itself cancelled the order at start, and why.
  EXPECT_EQ(db.query("SELECT principal || '|' || peer || '|' || status_code || '|' || (sequence > 0)::text ||"
                     " '|' || (request_summary::jsonb ->> 'reason') FROM audit_log"
                     " WHERE method = '/carbon.v1.AdminService/SetReferencePrice'"),
            "carbond (start)|carbond (start)|0|true|start: resting orders outside the listed band of CEA2024 are "
            "cancelled");
  // Journaled: after another restart the order stays cancelled and nothing is left to cancel.
  ASSERT_EQ(x->stop(), 0);
  auto again = open_at("2026-11-24T10:10:00+08:00");
  ASSERT_TRUE(again->trading->GetOrder(RunningExchange::as(buyer_token).get(), get, &order).ok());
  EXPECT_EQ(order.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(again->log().find("outside the listed band"), std::string::npos);
}

}  // namespace carbon::testing
