// Single-side auctions over gRPC against a real PostgreSQL: an auction of the
// auction account's allowances, sealed bids that reserve cash, a restart in
// the middle of bidding (bids and reservations come back), another bid, the
// clearing at a uniform price after the window, and the result read again
// after a second restart; the refusals with their exact codes.

#include <gtest/gtest.h>

#include <fstream>

#include "carbon/v1/admin.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

constexpr std::int64_t kOpens = 1'795'482'000'000'000'000;   // 2026-11-24 09:00 Asia/Shanghai
constexpr std::int64_t kCloses = 1'795'489'200'000'000'000;  // 2026-11-24 11:00 Asia/Shanghai

class AuctionE2eTest : public ::testing::Test {
 protected:
  /// A carbond on this test's database whose clock starts at `clock`, with auction fees (buy 5 bps, sell 3 bps).
  std::unique_ptr<RunningExchange> open_at(const std::string& clock) {
    auto x = std::make_unique<RunningExchange>(
        std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=" + clock});
    std::ofstream(x->dir() / "carbond.toml") << e2e_config() << "\n[fees]\nauction_buy_bps = 5\nauction_sell_bps = 3\n";
    x->start();
    return x;
  }

  static v1::CreateParticipantResponse create(RunningExchange& x, const std::string& code) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code);
    request.set_type(v1::PARTICIPANT_TYPE_INSTITUTION);
    v1::CreateParticipantResponse response;
    EXPECT_TRUE(x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(response.participant().cash_account_id());
    deposit.set_amount_fen(100'000'000);
    deposit.set_idempotency_key("d-" + code);
    v1::CashMovementResponse moved;
    EXPECT_TRUE(x.admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &moved).ok());
    return response;
  }

  static grpc::Status bid(RunningExchange& x, const std::string& token, std::uint64_t auction, std::int64_t price,
                          std::int64_t quantity, v1::SubmitAuctionBidResponse* out = nullptr) {
    v1::SubmitAuctionBidRequest request;
    request.set_auction_id(auction);
    request.set_price_fen(price);
    request.set_quantity(quantity);
    v1::SubmitAuctionBidResponse response;
    return x.trading->SubmitAuctionBid(RunningExchange::as(token).get(), request, out ? out : &response);
  }

  static v1::CashBalance cash(RunningExchange& x, const std::string& token) {
    v1::GetBalancesResponse response;
    EXPECT_TRUE(x.trading->GetBalances(RunningExchange::as(token).get(), {}, &response).ok());
    return response.cash();
  }

  static v1::Auction listed(RunningExchange& x, const std::string& token) {
    v1::ListAuctionsRequest request;
    request.set_instrument("CEA2024");
    v1::ListAuctionsResponse response;
    const grpc::Status status = x.market_data->ListAuctions(RunningExchange::as(token).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.auctions_size(), 1);
    return response.auctions_size() > 0 ? response.auctions(0) : v1::Auction{};
  }

  static v1::ListAuctionBidsResponse bids(RunningExchange& x, const std::string& token) {
    v1::ListAuctionBidsResponse response;
    EXPECT_TRUE(x.trading->ListAuctionBids(RunningExchange::as(token).get(), {}, &response).ok());
    return response;
  }

  TestDatabase db;
};

TEST_F(AuctionE2eTest, BidsAndReservationsSurviveARestartAndTheAuctionClearsAtAUniformPrice) {
  auto x = open_at("2026-11-24T10:00:00+08:00");
  ASSERT_TRUE(set_generous_cap(*x).ok());
  v1::IssueAllowancesRequest issue;
  issue.set_instrument("CEA2024");
  issue.set_holding_account_id(3);  // the auction account
  issue.set_quantity(1'000);
  issue.set_reason("2024 paid allocation");
  v1::IssueAllowancesResponse issued;
  ASSERT_TRUE(x->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());
  const auto a = create(*x, "AUC-A"), b = create(*x, "AUC-B"), c = create(*x, "AUC-C");

  v1::CreateAuctionRequest request;
  request.set_instrument("CEA2024");
  request.set_seller_holding_account_id(3);
  request.set_offered_quantity(1'000);
  request.set_reserve_price_fen(9'000);
  request.set_pricing(v1::AUCTION_PRICING_UNIFORM);
  request.set_bid_lot(100);
  request.set_max_bidder_share_bps(6'000);
  request.set_opens_at_unix_nanos(kOpens);
  request.set_closes_at_unix_nanos(kCloses);
  request.set_description("2024 paid allocation, lot 1");
  request.set_idempotency_key("auction-2024-1");
  v1::Auction created;
  // Only operators schedule auctions.
  EXPECT_EQ(x->admin->CreateAuction(RunningExchange::as(a.trader_token()).get(), request, &created).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateAuctionRequest bad = request;
  bad.set_pricing(v1::AUCTION_PRICING_UNSPECIFIED);
  EXPECT_EQ(x->admin->CreateAuction(RunningExchange::as(kOperatorToken).get(), bad, &created).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  bad = request;
  bad.set_offered_quantity(1'050);
  EXPECT_EQ(x->admin->CreateAuction(RunningExchange::as(kOperatorToken).get(), bad, &created).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  const grpc::Status made = x->admin->CreateAuction(RunningExchange::as(kOperatorToken).get(), request, &created);
  ASSERT_TRUE(made.ok()) << made.error_message();
  const std::uint64_t id = created.auction_id();
  EXPECT_EQ(created.status(), v1::AUCTION_STATUS_OPEN);
  EXPECT_GT(created.offer_order_id(), 0u);

  ASSERT_TRUE(bid(*x, a.trader_token(), id, 9'500, 500).ok());
  ASSERT_TRUE(bid(*x, b.trader_token(), id, 9'200, 400).ok());
  EXPECT_EQ(bid(*x, c.trader_token(), id, 8'999, 100).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(bid(*x, c.trader_token(), 0, 9'500, 100).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bid(*x, c.trader_token(), id + 7, 9'500, 100).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(bid(*x, a.trader_token(), id, 9'500, 200).error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "600 t is the per-bidder limit";
  EXPECT_EQ(bid(*x, kOperatorToken, id, 9'500, 100).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::CloseAuctionRequest close;
  close.set_auction_id(id);
  v1::CloseAuctionResponse closed;
  EXPECT_EQ(x->admin->CloseAuction(RunningExchange::as(kOperatorToken).get(), close, &closed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Sealed: no totals in the listing; each trader sees its own bid only.
  EXPECT_EQ(listed(*x, c.trader_token()).bid_count(), 0u);
  EXPECT_EQ(listed(*x, c.trader_token()).total_bid_quantity(), 0);
  const auto a_bids = bids(*x, a.trader_token());
  ASSERT_EQ(a_bids.bids_size(), 1);
  EXPECT_EQ(a_bids.bids(0).auction_id(), id);
  EXPECT_EQ(a_bids.bids(0).order().mode(), v1::TRADING_MODE_AUCTION);
  EXPECT_EQ(bids(*x, c.trader_token()).bids_size(), 0);
  // The buyer fee per tonne, 9,500 x 5 / 10,000 = 4.75, is reserved rounded up: 5.
  const v1::CashBalance a_before = cash(*x, a.trader_token());
  EXPECT_EQ(a_before.reserved_fen(), 500 * 9'505);

  // A restart in the middle of bidding: the auction, its bids and their reservations come back.
  x->stop();
  x = open_at("2026-11-24T10:30:00+08:00");
  EXPECT_EQ(listed(*x, c.trader_token()).status(), v1::AUCTION_STATUS_OPEN);
  EXPECT_EQ(bids(*x, a.trader_token()).bids_size(), 1);
  EXPECT_EQ(cash(*x, a.trader_token()).reserved_fen(), a_before.reserved_fen());
  EXPECT_EQ(bid(*x, a.trader_token(), id, 9'500, 200).error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "the per-bidder limit still counts the bid from before the restart";
  ASSERT_TRUE(bid(*x, c.trader_token(), id, 9'200, 300).ok());  // ties with B's 9,200: B came first

  // After the window: cleared at 9,200 for everyone; B fills 400 t, C the last 100 t.
  x->stop();
  x = open_at("2026-11-24T11:30:00+08:00");
  EXPECT_EQ(listed(*x, kOperatorToken).status(), v1::AUCTION_STATUS_BIDDING_ENDED);
  EXPECT_EQ(bid(*x, c.trader_token(), id, 9'500, 100).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const grpc::Status cleared = x->admin->CloseAuction(RunningExchange::as(kOperatorToken).get(), close, &closed);
  ASSERT_TRUE(cleared.ok()) << cleared.error_message();
  EXPECT_EQ(closed.auction().status(), v1::AUCTION_STATUS_CLEARED);
  EXPECT_EQ(closed.auction().clearing_price_fen(), 9'200);
  EXPECT_EQ(closed.auction().sold_quantity(), 1'000);
  EXPECT_EQ(closed.auction().total_bid_quantity(), 1'200);
  EXPECT_EQ(closed.auction().bid_count(), 3u);
  EXPECT_EQ(closed.auction().winning_bidder_count(), 3u);
  ASSERT_EQ(closed.trades_size(), 3);
  EXPECT_EQ(closed.trades(0).buyer_participant_id(), a.participant().participant_id());
  EXPECT_EQ(closed.trades(1).buyer_participant_id(), b.participant().participant_id());
  EXPECT_EQ(closed.trades(2).buyer_participant_id(), c.participant().participant_id());
  EXPECT_EQ(closed.trades(2).quantity(), 100);
  for (const v1::Trade& t : closed.trades()) {
    EXPECT_EQ(t.price_fen(), 9'200);
    EXPECT_EQ(t.mode(), v1::TRADING_MODE_AUCTION);
    EXPECT_EQ(t.aggressor_side(), v1::SIDE_UNSPECIFIED);
    EXPECT_EQ(t.sell_order_id(), created.offer_order_id());
  }
  // A paid 500 x 9,200 + fee 2,300 (4,600,000 x 5 / 10,000); nothing stays reserved.
  const v1::CashBalance a_after = cash(*x, a.trader_token());
  EXPECT_EQ(a_after.reserved_fen(), 0);
  EXPECT_EQ(a_after.available_fen(), 100'000'000 - 4'600'000 - 2'300);
  EXPECT_EQ(cash(*x, c.trader_token()).available_fen(), 100'000'000 - 920'000 - 460);

  v1::GetReconciliationRequest live;
  v1::ReconciliationReport report;
  ASSERT_TRUE(x->admin->GetReconciliation(RunningExchange::as(kOperatorToken).get(), live, &report).ok());
  EXPECT_TRUE(report.balanced());
  EXPECT_EQ(report.cash().proceeds_account_fen(), 9'200'000 - 2'760);  // less the seller's 3 bps

  // Cleared is final and persisted.
  x->stop();
  x = open_at("2026-11-24T11:40:00+08:00");
  const v1::Auction after = listed(*x, b.trader_token());
  EXPECT_EQ(after.status(), v1::AUCTION_STATUS_CLEARED);
  EXPECT_EQ(after.clearing_price_fen(), 9'200);
  v1::CancelAuctionRequest cancel;
  cancel.set_auction_id(id);
  cancel.set_reason("too late");
  v1::Auction cancelled;
  EXPECT_EQ(x->admin->CancelAuction(RunningExchange::as(kOperatorToken).get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(x->admin->CloseAuction(RunningExchange::as(kOperatorToken).get(), close, &closed).ok());
  EXPECT_EQ(closed.trades_size(), 3);
}

}  // namespace
}  // namespace carbon::testing
