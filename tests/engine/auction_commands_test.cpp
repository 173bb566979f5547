// Single-side auctions in the engine: creation reserves the seller's units,
// sealed bids reserve cash, clearing by price then time at a uniform price or
// pay-as-bid with a partial marginal fill, the per-bidder limit, the reserve
// price, the window, cancellation, and conservation of cash and units.
#include <gtest/gtest.h>

#include "engine/exchange.h"
#include "engine/written_statement.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kMorning = 1'763'951'400'000'000'000;  // Monday 2025-11-24 10:30, Asia/Shanghai
constexpr UnixNanos kMinute = 60'000'000'000;
constexpr UnixNanos kOpens = kMorning + 10 * kMinute;
constexpr UnixNanos kCloses = kMorning + 70 * kMinute;

const Principal kOperator{Role::operator_, 0, "ops"};
const Principal kRegistry{Role::registry_authority, 0, "registry"};

class AuctionTest : public ::testing::Test {
 protected:
  explicit AuctionTest(FeeSchedule fees = {}) : exchange(make_config(fees)) {}

  void SetUp() override {
    ASSERT_TRUE(run(kRegistry, SetCap{2024, "power", Qty{1'000'000'000}, 0, "test cap"}).reply.status.is_ok());
  }

  static Config make_config(FeeSchedule fees) {
    Config config = default_config();
    for (auto& instrument : config.instruments) instrument.reference_price = Price{5'000};
    config.fees = fees;
    return config;
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    return exchange.execute(Command{who, std::move(body)}, now);
  }

  static Principal as(const ParticipantRecord& p) { return Principal{Role::trader, p.id, p.code}; }

  ParticipantRecord create(const std::string& code, std::int64_t cash_fen = 100'000'000,
                           ParticipantType type = ParticipantType::institution) {
    registry::Hash token{};
    token[0] = static_cast<std::uint8_t>(code.size());
    token[1] = static_cast<std::uint8_t>(code.back());
    Outcome out = run(kOperator, CreateParticipant{code, code, type, token});
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    const ParticipantRecord p = out.reply.participants.at(0);
    if (cash_fen > 0) {
      EXPECT_TRUE(run(kOperator, MoveCash{p.cash_account, Cash{cash_fen}, "d-" + code, false}).reply.status.is_ok());
      deposited += Cash{cash_fen};
    }
    return p;
  }

  CreateAuction auction_of(AccountId seller, std::int64_t offered = 1'000, std::int64_t reserve = 4'000,
                           AuctionPricing pricing = AuctionPricing::uniform, std::int64_t share_bps = 0) {
    CreateAuction c;
    c.instrument = "CEA2024";
    c.seller_account = seller;
    c.offered = Qty{offered};
    c.reserve_price = Price{reserve};
    c.pricing = static_cast<int>(pricing);
    c.bid_lot = Qty{100};
    c.max_bidder_share_bps = share_bps;
    c.opens_at = kOpens;
    c.closes_at = kCloses;
    c.description = "2024 paid allocation";
    c.idempotency_key = "auction-" + std::to_string(++keys);
    return c;
  }

  /// Issues `offered` into the auction account and schedules an auction of it.
  std::uint64_t create_system_auction(AuctionPricing pricing, std::int64_t share_bps = 0) {
    EXPECT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'000}, "paid"})
                    .reply.status.is_ok());
    const Outcome out = run(kOperator, auction_of(registry::kAuctionAccount, 1'000, 4'000, pricing, share_bps));
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    return out.reply.auctions.at(0).id;
  }

  Outcome bid(const ParticipantRecord& p, std::uint64_t auction, std::int64_t price, std::int64_t quantity,
              std::string client_id = "") {
    return run(as(p), SubmitAuctionBid{auction, Price{price}, Qty{quantity}, std::move(client_id)});
  }

  void expect_refused(const Outcome& out, ErrorCode code, const std::string& words) {
    EXPECT_EQ(out.reply.status.code(), code) << out.reply.status.message();
    EXPECT_NE(out.reply.status.message().find(words), std::string::npos) << out.reply.status.message();
    ASSERT_EQ(out.events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(out.events[0]));
  }

  /// Cash is conserved (deposits = all balances, the proceeds and fee accounts included) and so are units.
  void expect_conserved() {
    EXPECT_EQ(exchange.clearing().total(), deposited);
    EXPECT_TRUE(exchange.registry().net_total("CEA2024").is_zero());
    const Outcome rec = run(kOperator, GetReconciliation{});
    ASSERT_TRUE(rec.reply.status.is_ok());
    EXPECT_TRUE(rec.reply.reconciliation->balanced);
    EXPECT_EQ(rec.reply.reconciliation->cash.proceeds_account,
              exchange.clearing().account(settlement::kAuctionProceedsCashAccount).total());
  }

  Cash cash_available(const ParticipantRecord& p) const { return exchange.clearing().account(p.cash_account).available; }
  Cash cash_reserved(const ParticipantRecord& p) const { return exchange.clearing().account(p.cash_account).reserved; }

  Exchange exchange;
  UnixNanos now = kMorning;
  Cash deposited{0};
  int keys = 0;
};

TEST_F(AuctionTest, CreationReservesTheSellersUnitsAndBidsStaySealed) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  EXPECT_EQ(exchange.registry().holding(registry::kAuctionAccount, "CEA2024").reserved, Qty{1'000});
  EXPECT_EQ(exchange.registry().holding(registry::kAuctionAccount, "CEA2024").available, Qty{0});
  const AuctionRecord* auction = exchange.auction(id);
  ASSERT_NE(auction, nullptr);
  EXPECT_EQ(auction->status_at(now), AuctionStatus::scheduled);
  const OrderRecord* offer = exchange.order(auction->offer_order);
  ASSERT_NE(offer, nullptr);
  EXPECT_EQ(offer->mode, TradingMode::auction);
  EXPECT_EQ(offer->side, Side::sell);

  const ParticipantRecord a = create("A"), b = create("B");
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 5'000, 300).reply.status.is_ok());
  ASSERT_TRUE(bid(b, id, 4'500, 200).reply.status.is_ok());
  // Listing shows no bid totals while sealed; a trader lists only its own bids.
  const Outcome unknown_status = run(as(a), ListAuctions{"", 9});
  EXPECT_EQ(unknown_status.reply.status.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(unknown_status.reply.status.message(), "unknown auction status");
  const Outcome listed = run(as(a), ListAuctions{});
  ASSERT_TRUE(listed.reply.status.is_ok());
  ASSERT_EQ(listed.reply.auctions.size(), 1u);
  EXPECT_EQ(listed.reply.auctions[0].status, AuctionStatus::open);
  EXPECT_EQ(listed.reply.auctions[0].bid_count, 0u);
  EXPECT_TRUE(listed.reply.auctions[0].total_bid.is_zero());
  EXPECT_TRUE(listed.reply.auctions[0].bids.empty());
  const Outcome mine = run(as(a), ListAuctionBids{0});
  ASSERT_TRUE(mine.reply.status.is_ok());
  ASSERT_EQ(mine.reply.orders.size(), 1u);
  EXPECT_EQ(mine.reply.orders[0].participant, a.id);
  EXPECT_EQ(mine.reply.orders[0].price, Price{5'000});
  // A bid reserves price x quantity (no auction fee configured).
  EXPECT_EQ(cash_reserved(a), Cash{5'000 * 300});
  expect_conserved();
}

TEST_F(AuctionTest, UniformPriceIsTheLowestAcceptedBidWithTiesByTimeAndAPartialMarginalFill) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A"), b = create("B"), c = create("C"), d = create("D");
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 5'000, 500).reply.status.is_ok());
  ASSERT_TRUE(bid(c, id, 4'800, 400).reply.status.is_ok());  // C bids 4,800 before B: C wins the tie
  ASSERT_TRUE(bid(b, id, 4'800, 300).reply.status.is_ok());
  ASSERT_TRUE(bid(d, id, 4'500, 200).reply.status.is_ok());
  now = kCloses;
  const Outcome out = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  ASSERT_EQ(out.reply.trades.size(), 3u);
  EXPECT_EQ(out.reply.trades[0].buyer, a.id);
  EXPECT_EQ(out.reply.trades[0].quantity, Qty{500});
  EXPECT_EQ(out.reply.trades[1].buyer, c.id);
  EXPECT_EQ(out.reply.trades[1].quantity, Qty{400});
  EXPECT_EQ(out.reply.trades[2].buyer, b.id);
  EXPECT_EQ(out.reply.trades[2].quantity, Qty{100});  // the marginal bid, in part
  for (const TradeRecord& t : out.reply.trades) {
    EXPECT_EQ(t.price, Price{4'800});
    EXPECT_EQ(t.mode, TradingMode::auction);
    EXPECT_EQ(t.seller, 0u);
  }
  const AuctionRecord& result = out.reply.auctions.at(0);
  EXPECT_EQ(result.status, AuctionStatus::cleared);
  EXPECT_EQ(result.clearing_price, Price{4'800});
  EXPECT_EQ(result.sold, Qty{1'000});
  EXPECT_EQ(result.total_bid, Qty{1'400});
  EXPECT_EQ(result.bid_count, 4u);
  EXPECT_EQ(result.winning_bidders, 3u);

  // Winners pay the uniform price; what they reserved above it comes back; the rest is released.
  EXPECT_EQ(cash_available(a), Cash{100'000'000 - 500 * 4'800});
  EXPECT_TRUE(cash_reserved(a).is_zero());
  EXPECT_EQ(cash_available(b), Cash{100'000'000 - 100 * 4'800});
  EXPECT_TRUE(cash_reserved(b).is_zero());
  EXPECT_EQ(cash_available(d), Cash{100'000'000});
  const OrderRecord* b_bid = exchange.order(out.reply.trades[2].buy_order);
  EXPECT_EQ(b_bid->status, OrderStatus::cancelled);
  EXPECT_EQ(b_bid->filled, Qty{100});
  EXPECT_EQ(exchange.registry().holding(a.holding_account, "CEA2024").pending, Qty{500});
  EXPECT_EQ(exchange.registry().holding(registry::kAuctionAccount, "CEA2024").total(), Qty{0});
  EXPECT_EQ(exchange.clearing().account(settlement::kAuctionProceedsCashAccount).total(), Cash{1'000 * 4'800});
  // Every trade is a hash-chained delivery in the ledger.
  EXPECT_EQ(exchange.registry().ledger().last_appended().kind, registry::TransferKind::trade);
  EXPECT_EQ(exchange.registry().ledger().last_appended().from_account, registry::kAuctionAccount);
  expect_conserved();
}

TEST_F(AuctionTest, PayAsBidChargesEachWinnerItsOwnPrice) {
  const std::uint64_t id = create_system_auction(AuctionPricing::pay_as_bid);
  const ParticipantRecord a = create("A"), b = create("B"), c = create("C");
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 5'000, 600).reply.status.is_ok());
  ASSERT_TRUE(bid(b, id, 4'700, 600).reply.status.is_ok());
  ASSERT_TRUE(bid(c, id, 4'600, 600).reply.status.is_ok());
  now = kCloses;
  const Outcome out = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  ASSERT_EQ(out.reply.trades.size(), 2u);
  EXPECT_EQ(out.reply.trades[0].price, Price{5'000});
  EXPECT_EQ(out.reply.trades[1].price, Price{4'700});
  EXPECT_EQ(out.reply.trades[1].quantity, Qty{400});
  EXPECT_EQ(out.reply.auctions.at(0).clearing_price, Price{4'700});
  EXPECT_EQ(cash_available(a), Cash{100'000'000 - 600 * 5'000});
  EXPECT_EQ(cash_available(b), Cash{100'000'000 - 400 * 4'700});
  EXPECT_EQ(cash_available(c), Cash{100'000'000});
  // Closing again answers the same result and changes nothing.
  const Outcome again = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply.trades.size(), 2u);
  expect_conserved();
}

TEST_F(AuctionTest, UnsoldUnitsReturnToASellingParticipant) {
  const ParticipantRecord seller = create("SELLER", 0), a = create("A");
  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", seller.holding_account, Qty{2'000}, "a"}).reply.status.is_ok());
  const Outcome created = run(kOperator, auction_of(seller.holding_account, 1'000));
  ASSERT_TRUE(created.reply.status.is_ok()) << created.reply.status.message();
  const std::uint64_t id = created.reply.auctions.at(0).id;
  EXPECT_EQ(created.reply.auctions[0].seller_participant, seller.id);
  now = kOpens;
  expect_refused(bid(seller, id, 5'000, 100), ErrorCode::failed_precondition, "cannot bid");
  ASSERT_TRUE(bid(a, id, 4'200, 300).reply.status.is_ok());
  now = kCloses;
  const Outcome out = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(out.reply.status.is_ok());
  EXPECT_EQ(out.reply.auctions.at(0).sold, Qty{300});
  const registry::Holding held = exchange.registry().holding(seller.holding_account, "CEA2024");
  EXPECT_EQ(held.available, Qty{1'700});
  EXPECT_TRUE(held.reserved.is_zero());
  EXPECT_EQ(exchange.clearing().account(seller.cash_account).unsettled, Cash{300 * 4'200});
  EXPECT_EQ(exchange.order(out.reply.auctions[0].offer_order)->status, OrderStatus::cancelled);
  expect_conserved();
}

TEST_F(AuctionTest, PerBidderLimitCountsTheBiddersStandingBids) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform, 2'500);  // 250 t each
  const ParticipantRecord a = create("A");
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 5'000, 200).reply.status.is_ok());
  const Cash before = cash_available(a);
  expect_refused(bid(a, id, 5'000, 100), ErrorCode::failed_precondition, "per-bidder limit");
  EXPECT_EQ(cash_available(a), before);
}

TEST_F(AuctionTest, BidsBelowTheReservePriceOrOffTheLotAreRefused) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  now = kOpens;
  expect_refused(bid(a, id, 3'999, 100), ErrorCode::failed_precondition, "reserve price");
  expect_refused(bid(a, id, 4'000, 150), ErrorCode::failed_precondition, "bid lot rule");
  expect_refused(bid(a, 99, 4'000, 100), ErrorCode::not_found, "auction 99");
  expect_refused(bid(a, id, 0, 100), ErrorCode::invalid_argument, "price_fen");
  EXPECT_TRUE(cash_reserved(a).is_zero());
}

TEST_F(AuctionTest, InsufficientCashIsRefused) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord poor = create("POOR", 100'000);
  now = kOpens;
  expect_refused(bid(poor, id, 4'000, 100), ErrorCode::failed_precondition, "insufficient funds");
  EXPECT_EQ(cash_available(poor), Cash{100'000});
}

TEST_F(AuctionTest, BidsOutsideTheWindowOrOnAFinishedAuctionAreRefused) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  expect_refused(bid(a, id, 4'000, 100), ErrorCode::failed_precondition, "opens at");
  expect_refused(run(kOperator, CloseAuction{id}), ErrorCode::failed_precondition, "auction window");
  now = kCloses;
  expect_refused(bid(a, id, 4'000, 100), ErrorCode::failed_precondition, "closed at");
  ASSERT_TRUE(run(kOperator, CloseAuction{id}).reply.status.is_ok());
  expect_refused(bid(a, id, 4'000, 100), ErrorCode::failed_precondition, "is cleared");
  expect_refused(run(kOperator, CancelAuction{id, "too late"}), ErrorCode::failed_precondition, "already cleared");

  now = kMorning;
  const std::uint64_t second = create_system_auction(AuctionPricing::uniform);
  ASSERT_TRUE(run(kOperator, CancelAuction{second, "withdrawn"}).reply.status.is_ok());
  now = kOpens;
  expect_refused(bid(a, second, 4'000, 100), ErrorCode::failed_precondition, "is cancelled");
  now = kCloses;
  expect_refused(run(kOperator, CloseAuction{second}), ErrorCode::failed_precondition, "was cancelled");
  // A retried cancel (its first answer lost) answers the auction again and changes nothing.
  const Outcome again = run(kOperator, CancelAuction{second, "again"});
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_TRUE(again.events.empty());
  ASSERT_EQ(again.reply.auctions.size(), 1u);
  EXPECT_EQ(again.reply.auctions[0].status, AuctionStatus::cancelled);
}

// Clearing is delivery versus payment: not while the market or the instrument is halted, and not on a day
// whose trading day has not been opened by closing the one before; bids are refused on such a day too.
TEST_F(AuctionTest, ClearingWaitsForAHaltToEndAndForTheDayBeforeToBeClosed) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 5'000, 300).reply.status.is_ok());
  now = kCloses;
  ASSERT_TRUE(run(kOperator, HaltTrading{"CEA2024", "price dispute"}).reply.status.is_ok());
  expect_refused(run(kOperator, CloseAuction{id}), ErrorCode::failed_precondition,
                 "instrument halted: CEA2024: price dispute");
  ASSERT_TRUE(run(kOperator, ResumeTrading{"CEA2024"}).reply.status.is_ok());
  ASSERT_TRUE(run(kOperator, HaltTrading{"", "reconciliation"}).reply.status.is_ok());
  expect_refused(run(kOperator, CloseAuction{id}), ErrorCode::failed_precondition, "market halted: reconciliation");
  ASSERT_TRUE(run(kOperator, ResumeTrading{""}).reply.status.is_ok());
  const Cash reserved = cash_reserved(a);
  now = kCloses + 24 * 60 * kMinute;  // Tuesday, Monday not closed
  expect_refused(run(kOperator, CloseAuction{id}), ErrorCode::failed_precondition,
                 "end of day: the trading day 2025-11-24 has not been closed; an operator runs RunEndOfDay before "
                 "2025-11-25 can clear auction " + std::to_string(id));
  EXPECT_EQ(cash_reserved(a), reserved) << "nothing moved";
  ASSERT_TRUE(run(kOperator, RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  const Outcome cleared = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(cleared.reply.status.is_ok()) << cleared.reply.status.message();
  EXPECT_EQ(cleared.reply.trades.size(), 1u);
}

TEST_F(AuctionTest, ABidOnADayWhoseTradingDayIsNotOpenIsRefused) {
  const std::uint64_t id = [&] {
    EXPECT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'000}, "paid"})
                    .reply.status.is_ok());
    CreateAuction c = auction_of(registry::kAuctionAccount);
    c.closes_at = kCloses + 24 * 60 * kMinute;  // open into Tuesday
    const Outcome out = run(kOperator, c);
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    return out.reply.auctions.at(0).id;
  }();
  const ParticipantRecord a = create("A");
  now = kCloses + 20 * 60 * kMinute;  // Tuesday 07:40, Monday not closed
  expect_refused(bid(a, id, 5'000, 300), ErrorCode::failed_precondition,
                 "end of day: the trading day 2025-11-24 has not been closed");
  ASSERT_TRUE(run(kOperator, RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  EXPECT_TRUE(bid(a, id, 5'000, 300).reply.status.is_ok());
}

// Only a day before today left open stands in the way: after the same day's end of day (the trading day is then
// tomorrow), bidding and clearing go on.
TEST_F(AuctionTest, BidsAndClearingAfterTheSameDaysEndOfDayAreTaken) {
  EXPECT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'000}, "paid"})
                  .reply.status.is_ok());
  CreateAuction evening = auction_of(registry::kAuctionAccount);
  evening.closes_at = kMorning + 8 * 60 * kMinute;  // Monday 18:30
  const Outcome created = run(kOperator, evening);
  ASSERT_TRUE(created.reply.status.is_ok()) << created.reply.status.message();
  const std::uint64_t id = created.reply.auctions.at(0).id;
  const ParticipantRecord a = create("A");
  now = kMorning + 6 * 60 * kMinute;  // Monday 16:30
  ASSERT_TRUE(run(kOperator, RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  const Outcome placed = bid(a, id, 5'000, 300);
  EXPECT_TRUE(placed.reply.status.is_ok()) << placed.reply.status.message();
  now = evening.closes_at;
  const Outcome cleared = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(cleared.reply.status.is_ok()) << cleared.reply.status.message();
  EXPECT_EQ(cleared.reply.trades.size(), 1u);
}

TEST_F(AuctionTest, CancelReleasesTheBiddersCashAndTheSellersUnits) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A"), b = create("B");
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 5'000, 300).reply.status.is_ok());
  ASSERT_TRUE(bid(b, id, 4'100, 300).reply.status.is_ok());
  const Outcome out = run(kOperator, CancelAuction{id, "market disruption"});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  EXPECT_EQ(out.reply.auctions.at(0).status, AuctionStatus::cancelled);
  EXPECT_EQ(cash_available(a), Cash{100'000'000});
  EXPECT_TRUE(cash_reserved(a).is_zero());
  EXPECT_EQ(cash_available(b), Cash{100'000'000});
  EXPECT_EQ(exchange.registry().holding(registry::kAuctionAccount, "CEA2024").available, Qty{1'000});
  EXPECT_TRUE(exchange.registry().holding(registry::kAuctionAccount, "CEA2024").reserved.is_zero());
  const Outcome bids = run(as(a), ListAuctionBids{id});
  ASSERT_EQ(bids.reply.orders.size(), 1u);
  EXPECT_EQ(bids.reply.orders[0].status, OrderStatus::cancelled);
  expect_conserved();
}

TEST_F(AuctionTest, ABidIsCancelledWhileBiddingIsOpenButNotTheOffer) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  now = kOpens;
  const Outcome placed = bid(a, id, 5'000, 300, "bid-1");
  ASSERT_TRUE(placed.reply.status.is_ok());
  const OrderId bid_id = placed.reply.orders.at(0).id;
  // Resubmitting the client order id answers the same bid.
  const Outcome repeat = bid(a, id, 5'000, 300, "bid-1");
  ASSERT_TRUE(repeat.reply.status.is_ok());
  EXPECT_EQ(repeat.reply.orders.at(0).id, bid_id);
  EXPECT_TRUE(repeat.events.empty());
  expect_refused(bid(a, id, 5'100, 300, "bid-1"), ErrorCode::failed_precondition, "client_order_id");
  const Outcome cancelled = run(as(a), CancelOrder{bid_id});
  ASSERT_TRUE(cancelled.reply.status.is_ok()) << cancelled.reply.status.message();
  EXPECT_EQ(cancelled.reply.orders.at(0).status, OrderStatus::cancelled);
  EXPECT_EQ(cash_available(a), Cash{100'000'000});

  ASSERT_TRUE(bid(a, id, 5'000, 300).reply.status.is_ok());
  now = kCloses;
  const OrderId second = exchange.auction(id)->bids.back();
  expect_refused(run(as(a), CancelOrder{second}), ErrorCode::failed_precondition, "closed at");
}

TEST_F(AuctionTest, CreateAuctionRefusals) {
  const ParticipantRecord trader = create("T");
  expect_refused(run(as(trader), auction_of(registry::kAuctionAccount)), ErrorCode::permission_denied, "operators");
  CreateAuction unknown = auction_of(registry::kAuctionAccount);
  unknown.instrument = "CEA1999";
  expect_refused(run(kOperator, unknown), ErrorCode::not_found, "unknown instrument");
  expect_refused(run(kOperator, auction_of(4'242)), ErrorCode::not_found, "holding account 4242");
  CreateAuction past = auction_of(registry::kAuctionAccount);
  past.opens_at = kMorning - 2 * kMinute;
  past.closes_at = kMorning - kMinute;
  expect_refused(run(kOperator, past), ErrorCode::invalid_argument, "closes_at_unix_nanos is in the past");
  CreateAuction backwards = auction_of(registry::kAuctionAccount);
  backwards.opens_at = kCloses;
  expect_refused(run(kOperator, backwards), ErrorCode::invalid_argument, "opens_at_unix_nanos must be before");
  CreateAuction unpriced = auction_of(registry::kAuctionAccount);
  unpriced.pricing = 0;
  expect_refused(run(kOperator, unpriced), ErrorCode::invalid_argument, "pricing is required");
  CreateAuction share = auction_of(registry::kAuctionAccount);
  share.max_bidder_share_bps = 10'001;
  expect_refused(run(kOperator, share), ErrorCode::invalid_argument, "max_bidder_share_bps");
  expect_refused(run(kOperator, auction_of(registry::kAuctionAccount, 1'050)), ErrorCode::failed_precondition,
                 "bid lot rule");
  expect_refused(run(kOperator, auction_of(registry::kAuctionAccount)), ErrorCode::failed_precondition,
                 "insufficient units");
  expect_refused(run(kOperator, auction_of(registry::kIssuanceAccount)), ErrorCode::failed_precondition,
                 "auction seller");

  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", trader.holding_account, Qty{1'000}, "a"}).reply.status.is_ok());
  const Principal regulator{Role::regulator, 0, "reg"};
  ASSERT_TRUE(run(regulator, Freeze{trader.holding_account, "CEA2024", Qty{10}, "inquiry", "case 7", "fr-1"})
                  .reply.status.is_ok());
  expect_refused(run(kOperator, auction_of(trader.holding_account, 500)), ErrorCode::failed_precondition, "freeze");

  // An idempotency key: the same parameters answer the same auction; others are refused.
  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'000}, "p"}).reply.status.is_ok());
  CreateAuction first = auction_of(registry::kAuctionAccount);
  const Outcome made = run(kOperator, first);
  ASSERT_TRUE(made.reply.status.is_ok()) << made.reply.status.message();
  const Outcome again = run(kOperator, first);
  ASSERT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.reply.auctions.at(0).id, made.reply.auctions.at(0).id);
  first.reserve_price = Price{4'100};
  expect_refused(run(kOperator, first), ErrorCode::failed_precondition, "idempotency key");
}

TEST_F(AuctionTest, AuctionTradesDoNotSetTheClosingPrice) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 6'000, 1'000).reply.status.is_ok());
  now = kCloses;
  ASSERT_TRUE(run(kOperator, CloseAuction{id}).reply.status.is_ok());
  now = kMorning + 5 * 60 * kMinute;  // 15:30
  const Outcome eod = run(kOperator, RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  EXPECT_EQ(exchange.instrument_state("CEA2024")->reference, Price{5'000});
  EXPECT_TRUE(exchange.instrument_state("CEA2024")->previous_close.is_zero());
  bool auction_bar = false;
  for (const DailyBar& bar : eod.reply.bars) {
    if (bar.instrument == "CEA2024" && bar.mode == TradingMode::auction) {
      auction_bar = true;
      EXPECT_EQ(bar.volume, Qty{1'000});
    }
    EXPECT_NE(bar.mode == TradingMode::listed && bar.instrument == "CEA2024", true);
  }
  EXPECT_TRUE(auction_bar);
  expect_conserved();
}

// Staff page through every order held in id order, the auction's offer (no seller participant) included;
// a trader through its own. Pages stop at their limit and go on from their cursor, and orders let go at
// the end of day leave the staff's pages too.
TEST_F(AuctionTest, StaffListOrdersPagesEveryOrderHeldInIdOrder) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  const ParticipantRecord b = create("B");
  auto listed = [&](const ParticipantRecord& p, std::int64_t price) {
    const Outcome out = run(as(p), PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day,
                                              TradingMode::listed, Price{price}, Qty{1}, ""});
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    return out.reply.orders.at(0).id;
  };
  auto pages = [&](const Principal& who, std::size_t limit) {
    std::vector<OrderId> seen;
    OrderId cursor = 0;
    for (int page = 0; page < 20; ++page) {
      const Outcome out = run(who, ListOrders{"", false, cursor, limit});
      EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
      EXPECT_LE(out.reply.orders.size(), limit);
      if (out.reply.orders.empty()) break;
      for (const OrderRecord& o : out.reply.orders) seen.push_back(o.id);
      cursor = out.reply.orders.back().id;
    }
    return seen;
  };
  // A second auction, cleared on Monday: its offer and bid are held after the end of day (a repeated
  // CloseAuction answers them) but are not Tuesday's orders.
  const std::uint64_t cleared = create_system_auction(AuctionPricing::uniform);
  ASSERT_NE(exchange.auction(id), nullptr);
  ASSERT_NE(exchange.auction(cleared), nullptr);
  const OrderId offer = exchange.auction(id)->offer_order;
  const OrderId cleared_offer = exchange.auction(cleared)->offer_order;
  const OrderId a1 = listed(a, 4'800);
  const OrderId b1 = listed(b, 4'810);
  now = kOpens;
  const OrderId a_bid = bid(a, id, 6'000, 500).reply.orders.at(0).id;
  const OrderId b2 = listed(b, 4'820);
  const OrderId b_bid = bid(b, id, 6'100, 500).reply.orders.at(0).id;
  const OrderId cleared_bid = bid(b, cleared, 6'000, 1'000).reply.orders.at(0).id;

  const std::vector<OrderId> all{offer, cleared_offer, a1, b1, a_bid, b2, b_bid, cleared_bid};
  EXPECT_EQ(pages(kOperator, 2), all);
  EXPECT_EQ(pages(kOperator, 4), all);
  EXPECT_EQ(pages(as(b), 1), (std::vector<OrderId>{b1, b2, b_bid, cleared_bid}));
  EXPECT_EQ(run(kOperator, ListOrders{"", true, b1, 0}).reply.orders.size(), 4u) << "open only, after a cursor";
  now = kCloses;
  ASSERT_TRUE(run(kOperator, CloseAuction{cleared}).reply.status.is_ok());

  // The end of day lets go of the expired listed orders; the auction, its window over but not yet cleared,
  // keeps its offer and bids open into Tuesday, and they stay in the staff's pages.
  now = kMorning + 5 * 60 * kMinute;  // 15:30
  const Outcome eod = run(kOperator, RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  now = kMorning + 24 * 60 * kMinute;  // Tuesday 10:30
  const OrderId a3 = listed(a, 4'830);
  EXPECT_EQ(exchange.order(a1), nullptr);
  ASSERT_NE(exchange.order(cleared_bid), nullptr);
  EXPECT_EQ(pages(kOperator, 1), (std::vector<OrderId>{offer, a_bid, b_bid, a3}))
      << "Monday's listed orders are gone, the auction cleared on Monday is not Tuesday's, the open one's are";
  EXPECT_EQ(pages(as(b), 2), (std::vector<OrderId>{b_bid}));
  ASSERT_TRUE(run(kOperator, CloseAuction{id}).reply.status.is_ok());
  EXPECT_EQ(pages(kOperator, 3), (std::vector<OrderId>{offer, a_bid, b_bid, a3})) << "cleared today: still listed";
}

TEST_F(AuctionTest, BidsOutliveTheEndOfDayAndClosedOrdersKeepTheirClientIds) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  // A listed order with a client id, left to expire at end of day.
  PlaceOrder listed{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed, Price{4'800},
                    Qty{1}, "a-listed"};
  const Outcome placed = run(as(a), listed);
  ASSERT_TRUE(placed.reply.status.is_ok()) << placed.reply.status.message();
  now = kOpens;
  const Outcome won = bid(a, id, 6'000, 1'000, "a-bid");
  ASSERT_TRUE(won.reply.status.is_ok()) << won.reply.status.message();
  now = kCloses;
  const Outcome cleared = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(cleared.reply.status.is_ok()) << cleared.reply.status.message();
  ASSERT_EQ(cleared.reply.trades.size(), 1u);
  now = kMorning + 5 * 60 * kMinute;  // 15:30
  ASSERT_TRUE(run(kOperator, RunEndOfDay{"2025-11-24"}).reply.status.is_ok());

  // A repeated CloseAuction still answers its trades: the auction's trades are kept, as are its bids and offer.
  const Outcome again = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_TRUE(again.events.empty());
  ASSERT_EQ(again.reply.trades.size(), 1u);
  EXPECT_EQ(again.reply.trades[0].id, cleared.reply.trades[0].id);
  EXPECT_EQ(exchange.order(placed.reply.orders.at(0).id), nullptr) << "the expired listed order is let go";
  // The cleared auction still lists its bid.
  EXPECT_NE(exchange.order(won.reply.orders.at(0).id), nullptr);
  const Outcome bids = run(as(a), ListAuctionBids{id});
  ASSERT_TRUE(bids.reply.status.is_ok()) << bids.reply.status.message();
  ASSERT_EQ(bids.reply.orders.size(), 1u);
  EXPECT_EQ(bids.reply.orders[0].status, OrderStatus::filled);

  // Tuesday's auction: the expired listed order's client id stays used; the bid's is used by Monday's bid.
  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'000}, "paid-2"})
                  .reply.status.is_ok());
  CreateAuction tuesday = auction_of(registry::kAuctionAccount);
  tuesday.opens_at = kOpens + 24 * 60 * kMinute;
  tuesday.closes_at = kCloses + 24 * 60 * kMinute;
  const Outcome made = run(kOperator, tuesday);
  ASSERT_TRUE(made.reply.status.is_ok()) << made.reply.status.message();
  const std::uint64_t second = made.reply.auctions.at(0).id;
  now = tuesday.opens_at;
  expect_refused(bid(a, second, 6'000, 100, "a-listed"), ErrorCode::failed_precondition,
                 "already used, by order " + std::to_string(placed.reply.orders.at(0).id) +
                     ", closed in a trading day that has ended");
  expect_refused(bid(a, second, 6'000, 100, "a-bid"), ErrorCode::failed_precondition, "already used");
  EXPECT_TRUE(bid(a, second, 6'000, 100, "a-bid-2").reply.status.is_ok());
  expect_conserved();
}

class AuctionFeesTest : public AuctionTest {
 protected:
  AuctionFeesTest() : AuctionTest(make_fees()) {}
  static FeeSchedule make_fees() {
    FeeSchedule fees;
    fees.listed_buy_bps = 100;  // listed fees do not apply to auctions
    fees.auction_buy_bps = 7;
    fees.auction_sell_bps = 13;
    return fees;
  }
};

TEST_F(AuctionFeesTest, AuctionFeesComeFromTheAuctionRates) {
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  now = kOpens;
  // 5010 x 7 / 10000 = 3.507 per tonne, reserved as 4: 100 x 5014.
  ASSERT_TRUE(bid(a, id, 5'010, 100).reply.status.is_ok());
  EXPECT_EQ(cash_reserved(a), Cash{100 * 5'014});
  now = kCloses;
  const Outcome out = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(out.reply.status.is_ok());
  const TradeRecord& t = out.reply.trades.at(0);
  EXPECT_EQ(t.buyer_fee, Cash{351});   // 501,000 x 7 / 10,000 = 350.7
  EXPECT_EQ(t.seller_fee, Cash{651});  // 501,000 x 13 / 10,000 = 651.3
  EXPECT_EQ(cash_available(a), Cash{100'000'000 - 501'000 - 351});
  EXPECT_EQ(exchange.clearing().account(settlement::kAuctionProceedsCashAccount).total(), Cash{501'000 - 651});
  EXPECT_EQ(exchange.clearing().account(settlement::kFeeCashAccount).total(), Cash{351 + 651});
  expect_conserved();
}

TEST_F(AuctionFeesTest, AnInstrumentsOwnAuctionRulesReplaceTheConfiguredOnes) {
  // UpdateInstrumentRules with an AUCTION entry: enabled and the fees; [fees] auction_* stays the default.
  ModeRulesInput rules;
  rules.mode = static_cast<int>(TradingMode::auction);
  rules.enabled = false;
  rules.buy_fee_bps = 20;
  UpdateInstrumentRules update{"CEA2024", {}};
  update.rules.mode_rules = {rules};
  ASSERT_TRUE(run(kOperator, update).reply.status.is_ok());
  ASSERT_NE(exchange.instrument_config("CEA2024"), nullptr);
  EXPECT_FALSE(exchange.instrument_config("CEA2024")->auction_enabled);
  EXPECT_EQ(exchange.instrument_config("CEA2024")->fees.auction_buy_bps, 20);
  EXPECT_EQ(exchange.instrument_config("CEA2024")->fees.auction_sell_bps, 0);
  EXPECT_EQ(exchange.instrument_config("CEA2024")->fees.listed_buy_bps, 100);  // modes not given: [fees]
  const Outcome refused = run(kOperator, auction_of(registry::kAuctionAccount));
  EXPECT_EQ(refused.reply.status.code(), ErrorCode::failed_precondition);
  EXPECT_NE(refused.reply.status.message().find("mode not enabled: single-side auctions are not enabled for CEA2024"),
            std::string::npos)
      << refused.reply.status.message();

  update.rules.mode_rules[0].enabled = true;
  ASSERT_TRUE(run(kOperator, update).reply.status.is_ok());
  const std::uint64_t id = create_system_auction(AuctionPricing::uniform);
  const ParticipantRecord a = create("A");
  now = kOpens;
  // 5010 x 20 / 10000 = 10.02 per tonne, reserved as 11: 100 x 5021.
  ASSERT_TRUE(bid(a, id, 5'010, 100).reply.status.is_ok());
  EXPECT_EQ(cash_reserved(a), Cash{100 * 5'021});
  now = kCloses;
  const Outcome out = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  const TradeRecord& t = out.reply.trades.at(0);
  EXPECT_EQ(t.buyer_fee, Cash{1'002});  // 501,000 x 20 / 10,000, not the configured 7 bps
  EXPECT_EQ(t.seller_fee, Cash{0});     // the instrument's 0, not the configured 13 bps
  EXPECT_EQ(cash_available(a), Cash{100'000'000 - 501'000 - 1'002});
  expect_conserved();
}

TEST_F(AuctionFeesTest, TheEndOfDayStatementsShowTheAuctionTradesAndTheirFees) {
  const ParticipantRecord seller = create("SELLER", 0), a = create("A"), b = create("B");
  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", seller.holding_account, Qty{2'000}, "a"}).reply.status.is_ok());
  const Outcome created = run(kOperator, auction_of(seller.holding_account, 1'000));
  ASSERT_TRUE(created.reply.status.is_ok()) << created.reply.status.message();
  const std::uint64_t id = created.reply.auctions.at(0).id;
  now = kOpens;
  ASSERT_TRUE(bid(a, id, 5'000, 600).reply.status.is_ok());
  ASSERT_TRUE(bid(b, id, 4'500, 200).reply.status.is_ok());
  now = kCloses;
  const Outcome out = run(kOperator, CloseAuction{id});
  ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
  ASSERT_EQ(out.reply.trades.size(), 2u);  // 800 t at the uniform 4,500; 200 t unsold go back to the seller
  now = kMorning + 5 * 60 * kMinute;        // 15:30
  const Outcome eod = run(kOperator, RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  EXPECT_TRUE(eod.reply.reconciliation->balanced);

  // A: 600 t x 4,500 = 2,700,000 fen; 7 bps = 1,890. B: 200 t = 900,000 fen; 630.
  const StatementRecord sa = written_statement(eod, a.id);
  ASSERT_EQ(sa.trades.size(), 1u);
  EXPECT_EQ(sa.trades[0].mode, TradingMode::auction);
  EXPECT_EQ(sa.bought_value, Cash{2'700'000});
  EXPECT_EQ(sa.fees, Cash{1'890});
  ASSERT_EQ(sa.lines.size(), 1u);
  EXPECT_EQ(sa.lines[0].bought, Qty{600});
  EXPECT_EQ(sa.lines[0].fees, Cash{1'890});
  EXPECT_EQ(sa.lines[0].closing.available, Qty{600});  // T+1 released by the end of day
  EXPECT_EQ(written_statement(eod, b.id).fees, Cash{630});
  // The seller: 3,600,000 fen sold, 13 bps of each trade (3,510 + 1,170), proceeds withdrawable after the close.
  const StatementRecord ss = written_statement(eod, seller.id);
  ASSERT_EQ(ss.trades.size(), 2u);
  EXPECT_EQ(ss.sold_value, Cash{3'600'000});
  EXPECT_EQ(ss.fees, Cash{4'680});
  EXPECT_EQ(ss.closing_cash, (settlement::CashAccount{Cash{3'595'320}, Cash{0}, Cash{0}}));
  ASSERT_EQ(ss.lines.size(), 1u);
  EXPECT_EQ(ss.lines[0].received, Qty{2'000});  // the issuance
  EXPECT_EQ(ss.lines[0].sold, Qty{800});
  EXPECT_EQ(ss.lines[0].sold_value, Cash{3'600'000});
  EXPECT_EQ(ss.lines[0].closing.total(), Qty{1'200});
  EXPECT_TRUE(ss.lines[0].closing.reserved.is_zero());
  for (const StatementRecord* st : {&sa, &ss}) {
    EXPECT_EQ(st->closing_cash.total(),
              st->opening_cash + st->deposits - st->withdrawals - st->bought_value - st->fees + st->sold_value);
    const StatementLine& l = st->lines[0];
    EXPECT_EQ(l.closing.total(), l.opening + l.bought - l.sold + l.received - l.delivered);
  }
  expect_conserved();
}

}  // namespace
}  // namespace carbon::engine
