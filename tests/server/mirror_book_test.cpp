// The market feed's mirror book and the execution reports derived from
// committed outcomes, without gRPC.

#include <gtest/gtest.h>

#include <map>

#include "engine/exchange.h"
#include "matching/ladder_book.h"
#include "server/execution_reports.h"
#include "server/mirror_book.h"

namespace carbon::server {
namespace {

engine::OrderRecord order(OrderId id, ParticipantId owner, Side side, std::int64_t price, std::int64_t quantity,
                          std::int64_t filled = 0, OrderStatus status = OrderStatus::open) {
  engine::OrderRecord record;
  record.id = id;
  record.participant = owner;
  record.instrument = "CEA2024";
  record.side = side;
  record.price = Price{price};
  record.quantity = Qty{quantity};
  record.filled = Qty{filled};
  record.status = status;
  return record;
}

std::vector<std::tuple<std::int64_t, std::int64_t, std::uint32_t>> levels(const MirrorBook& book, Side side) {
  std::vector<std::tuple<std::int64_t, std::int64_t, std::uint32_t>> out;
  for (const auto& level : book.depth(side, 10)) out.emplace_back(level.price.value, level.quantity.value, level.order_count);
  return out;
}

using Levels = std::vector<std::tuple<std::int64_t, std::int64_t, std::uint32_t>>;

TEST(MirrorBookTest, RestingOrdersAggregateIntoLevelsBestPriceFirst) {
  MirrorBook book;
  book.apply(order(1, 7, Side::buy, 9'900, 10));
  book.apply(order(2, 7, Side::buy, 10'000, 5));
  book.apply(order(3, 8, Side::buy, 9'900, 20));
  book.apply(order(4, 8, Side::sell, 10'200, 30));
  book.apply(order(5, 8, Side::sell, 10'100, 1));
  EXPECT_EQ(levels(book, Side::buy), (Levels{{10'000, 5, 1}, {9'900, 30, 2}}));
  EXPECT_EQ(levels(book, Side::sell), (Levels{{10'100, 1, 1}, {10'200, 30, 1}}));
  EXPECT_EQ(book.depth(Side::buy, 1).size(), 1u);
}

TEST(MirrorBookTest, FillsReduceAndTerminalStatesRemoveOrders) {
  MirrorBook book;
  book.apply(order(1, 7, Side::sell, 10'000, 10));
  book.apply(order(2, 7, Side::sell, 10'000, 10));
  book.apply(order(1, 7, Side::sell, 10'000, 10, 4, OrderStatus::partially_filled));
  EXPECT_EQ(levels(book, Side::sell), (Levels{{10'000, 16, 2}}));
  book.apply(order(1, 7, Side::sell, 10'000, 10, 10, OrderStatus::filled));
  book.apply(order(2, 7, Side::sell, 10'000, 10, 0, OrderStatus::cancelled));
  EXPECT_TRUE(book.depth(Side::sell, 5).empty());
  EXPECT_EQ(book.order_count(), 0u);
}

TEST(MirrorBookTest, AnAmendmentMovesTheOrderToItsNewPriceAndQuantity) {
  MirrorBook book;
  book.apply(order(1, 7, Side::buy, 9'900, 10));
  book.apply(order(1, 7, Side::buy, 9'950, 12));
  EXPECT_EQ(levels(book, Side::buy), (Levels{{9'950, 12, 1}}));
}

TEST(MirrorBookTest, OrdersThatNeverRestAreIgnored) {
  MirrorBook book;
  engine::OrderRecord block = order(1, 7, Side::sell, 10'000, 200'000);
  block.mode = TradingMode::block;
  book.apply(block);
  engine::OrderRecord ioc = order(2, 7, Side::buy, 10'000, 10, 0, OrderStatus::cancelled);
  ioc.time_in_force = TimeInForce::ioc;
  book.apply(ioc);
  EXPECT_EQ(book.order_count(), 0u);
}

TEST(MirrorBookTest, SeededFromALadderBookItMatchesItsDepth) {
  matching::LadderBook ladder(Price{5'000}, Price{15'000}, Price{1}, 1'024);
  ladder.add(matching::BookOrder{1, 7, Side::buy, Price{9'900}, Qty{10}, 1});
  ladder.add(matching::BookOrder{2, 8, Side::buy, Price{9'900}, Qty{5}, 2});
  ladder.add(matching::BookOrder{3, 8, Side::sell, Price{10'100}, Qty{7}, 3});
  MirrorBook book;
  ladder.for_each([&](const matching::BookOrder& o) { book.set(o.id, o.side, o.price, o.remaining, true); });
  for (Side side : {Side::buy, Side::sell}) {
    const auto expected = ladder.depth(side, 10);
    const auto mirrored = book.depth(side, 10);
    ASSERT_EQ(mirrored.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(mirrored[i].price, expected[i].price);
      EXPECT_EQ(mirrored[i].quantity, expected[i].quantity);
      EXPECT_EQ(mirrored[i].order_count, expected[i].order_count);
    }
  }
}

TEST(ExecutionReportsTest, APlaceThatTradesReportsAcceptedThenEachFillInOrder) {
  engine::PlaceOrder place{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                           Price{10'100}, Qty{40}, "c1"};
  engine::Reply reply;
  reply.sequence = 9;
  reply.orders.push_back(order(5, 2, Side::buy, 10'100, 40, 40, OrderStatus::filled));
  engine::TradeRecord first, second;
  first.id = 1;
  first.quantity = Qty{10};
  second.id = 2;
  second.quantity = Qty{30};
  reply.trades = {first, second};
  google::protobuf::RepeatedPtrField<v1::ExecutionReport> out;
  append_command_reports(place, 2, reply, 3, out);
  ASSERT_EQ(out.size(), 3);
  EXPECT_EQ(out[0].type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(out[0].order().filled_quantity(), 0);
  EXPECT_EQ(out[1].type(), v1::EXECUTION_TYPE_FILL);
  EXPECT_EQ(out[1].order().filled_quantity(), 10);
  EXPECT_EQ(out[1].order().status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(out[2].trade().trade_id(), 2u);
  EXPECT_EQ(out[2].order().status(), v1::ORDER_STATUS_FILLED);
  for (const auto& report : out) {
    EXPECT_EQ(report.command_index(), 3u);
    EXPECT_EQ(report.sequence(), 9u);
  }
}

TEST(ExecutionReportsTest, ARefusedCancelIsACancelRejectedWithTheGrpcCode) {
  engine::Reply reply;
  reply.status = Status{ErrorCode::not_found, "order 77 does not exist"};
  reply.sequence = 12;
  google::protobuf::RepeatedPtrField<v1::ExecutionReport> out;
  append_command_reports(engine::CancelOrder{77}, 2, reply, 0, out);
  ASSERT_EQ(out.size(), 1);
  EXPECT_EQ(out[0].type(), v1::EXECUTION_TYPE_CANCEL_REJECTED);
  EXPECT_EQ(out[0].error_code(), 5);
  EXPECT_EQ(out[0].error_message(), "order 77 does not exist");
  EXPECT_EQ(out[0].order().order_id(), 77u);
  EXPECT_EQ(out[0].sequence(), 12u);
}

TEST(ExecutionReportsTest, UnsolicitedReportsGoToRestingOwnersNotToTheIssuersOwnOrder) {
  engine::Outcome outcome;
  outcome.sequence = 20;
  engine::TradeRecord trade;
  trade.id = 3;
  trade.buy_order = 9;
  trade.sell_order = 4;
  trade.quantity = Qty{10};
  const engine::OrderRecord resting = order(4, 1, Side::sell, 10'000, 10, 10, OrderStatus::filled);
  const engine::OrderRecord own_cancelled = order(6, 2, Side::sell, 10'050, 5, 0, OrderStatus::cancelled);
  const engine::OrderRecord incoming = order(9, 2, Side::buy, 10'100, 10, 10, OrderStatus::filled);
  outcome.events = {engine::TradeExecuted{trade}, engine::OrderChanged{resting}, engine::OrderChanged{own_cancelled},
                    engine::OrderChanged{incoming}};
  outcome.reply.orders = {incoming};
  std::vector<std::pair<ParticipantId, v1::ExecutionReport>> seen;
  for_each_unsolicited_report(outcome, 2, [&](ParticipantId owner, v1::ExecutionReport&& report) {
    seen.emplace_back(owner, std::move(report));
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 1u);
  EXPECT_EQ(seen[0].second.type(), v1::EXECUTION_TYPE_FILL);
  EXPECT_EQ(seen[0].second.trade().trade_id(), 3u);
  EXPECT_EQ(seen[0].second.sequence(), 20u);
  EXPECT_EQ(seen[1].first, 2u) << "self-trade prevention cancelled the issuer's resting order: unsolicited";
  EXPECT_EQ(seen[1].second.type(), v1::EXECUTION_TYPE_CANCELLED);
  EXPECT_EQ(seen[1].second.order().order_id(), 6u);
}

TEST(ExecutionReportsTest, APlaceAnsweredUnavailableThatCommitsLaterIsReportedToItsIssuer) {
  engine::Outcome outcome;
  outcome.sequence = 30;
  outcome.reply.sequence = 30;
  engine::TradeRecord trade;
  trade.id = 5;
  trade.buy_order = 9;
  trade.sell_order = 4;
  trade.quantity = Qty{4};
  const engine::OrderRecord resting = order(4, 1, Side::sell, 10'000, 10, 4, OrderStatus::partially_filled);
  const engine::OrderRecord incoming = order(9, 2, Side::buy, 10'000, 10, 4, OrderStatus::partially_filled);
  outcome.events = {engine::TradeExecuted{trade}, engine::OrderChanged{resting}, engine::OrderChanged{incoming}};
  outcome.reply.orders = {incoming};
  outcome.reply.trades = {trade};
  const std::size_t place = engine::CommandBody(std::in_place_type<engine::PlaceOrder>).index();
  auto reports_of = [&](const engine::CommittedOutcome& committed) {
    std::vector<std::pair<ParticipantId, v1::ExecutionReport>> seen;
    for_each_unsolicited_report(committed, [&](ParticipantId owner, v1::ExecutionReport&& report) {
      seen.emplace_back(owner, std::move(report));
    });
    return seen;
  };

  // Answered at its commit: the issuer has its reply; only the resting owner hears, of its fill.
  const auto answered = reports_of(engine::CommittedOutcome{&outcome, 2, false, place});
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].first, 1u);

  // Answered UNAVAILABLE before: the issuer hears ACCEPTED and its FILL, as its batch would have.
  const auto late = reports_of(engine::CommittedOutcome{&outcome, 2, true, place});
  ASSERT_EQ(late.size(), 3u);
  EXPECT_EQ(late[0].first, 2u);
  EXPECT_EQ(late[0].second.type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(late[0].second.order().order_id(), 9u);
  EXPECT_EQ(late[0].second.order().filled_quantity(), 0);
  EXPECT_EQ(late[1].first, 2u);
  EXPECT_EQ(late[1].second.type(), v1::EXECUTION_TYPE_FILL);
  EXPECT_EQ(late[1].second.trade().trade_id(), 5u);
  EXPECT_EQ(late[1].second.sequence(), 30u);
  EXPECT_EQ(late[2].first, 1u) << "the resting owner's fill as before";

  // A refusal changed nothing: nothing for the issuer (a resubmission gets its own answer).
  engine::Outcome refused;
  refused.sequence = 31;
  refused.reply.status = Status{ErrorCode::failed_precondition, "price band: outside"};
  refused.events = {engine::CommandRejected{}};
  EXPECT_TRUE(reports_of(engine::CommittedOutcome{&refused, 2, true, place}).empty());
}

TEST(ExecutionReportsTest, ACancelAllAnsweredUnavailableThatCommitsLaterReportsEachCancel) {
  engine::Outcome outcome;
  outcome.sequence = 40;
  outcome.reply.sequence = 40;
  const engine::OrderRecord first = order(11, 2, Side::buy, 9'900, 10, 0, OrderStatus::cancelled);
  const engine::OrderRecord second = order(12, 2, Side::sell, 10'100, 10, 3, OrderStatus::cancelled);
  outcome.events = {engine::OrderChanged{first}, engine::OrderChanged{second}};
  outcome.reply.orders = {first, second};
  const std::size_t cancel_all = engine::CommandBody(std::in_place_type<engine::CancelAllOrders>).index();
  std::vector<std::pair<ParticipantId, v1::ExecutionReport>> seen;
  auto collect = [&](ParticipantId owner, v1::ExecutionReport&& report) {
    seen.emplace_back(owner, std::move(report));
  };
  for_each_unsolicited_report(engine::CommittedOutcome{&outcome, 2, false, cancel_all}, collect);
  EXPECT_TRUE(seen.empty()) << "answered at its commit: the reply lists the cancels";
  for_each_unsolicited_report(engine::CommittedOutcome{&outcome, 2, true, cancel_all}, collect);
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& [owner, report] : seen) {
    EXPECT_EQ(owner, 2u);
    EXPECT_EQ(report.type(), v1::EXECUTION_TYPE_CANCELLED);
  }
  EXPECT_EQ(seen[0].second.order().order_id(), 11u);
  EXPECT_EQ(seen[1].second.order().order_id(), 12u);
}

TEST(ExecutionReportsTest, AnUnavailableRefusalClaimsNoFinalOrderStatus) {
  engine::PlaceOrder place;
  place.instrument = "CEA2024";
  place.client_order_id = "c-1";
  google::protobuf::RepeatedPtrField<v1::ExecutionReport> out;
  append_refusal(place, 2, Status{ErrorCode::unavailable, "outcome is unknown"}, 0, out);
  append_refusal(place, 2, Status{ErrorCode::failed_precondition, "price band"}, 1, out);
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].type(), v1::EXECUTION_TYPE_REJECTED);
  EXPECT_EQ(out[0].order().status(), v1::ORDER_STATUS_UNSPECIFIED) << "the outcome may not be known yet";
  EXPECT_EQ(out[1].order().status(), v1::ORDER_STATUS_REJECTED);
}

/// A real engine for the reports of whole commands: two instruments' worth of defaults, CEA2024 at 5,000 fen.
class EngineReportsTest : public ::testing::Test {
 protected:
  static constexpr UnixNanos kMorning = 1'763'951'400'000'000'000;  // Monday 2025-11-24 10:30, Asia/Shanghai
  static constexpr UnixNanos kMinute = 60'000'000'000;

  EngineReportsTest() : exchange(config()) {}
  static Config config() {
    Config c = default_config();
    for (auto& instrument : c.instruments) instrument.reference_price = Price{5'000};
    return c;
  }
  void SetUp() override {
    ASSERT_TRUE(run(registry, engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap"}).reply.status.is_ok());
  }
  engine::Outcome run(const engine::Principal& who, engine::CommandBody body) {
    now += 1'000'000;
    return exchange.execute(engine::Command{who, std::move(body)}, now);
  }
  engine::ParticipantRecord create(const std::string& code, std::int64_t units) {
    registry::Hash token{};
    token[0] = static_cast<std::uint8_t>(code.size());
    token[1] = static_cast<std::uint8_t>(code.back());
    const engine::Outcome made =
        run(op, engine::CreateParticipant{code, code, ParticipantType::institution, token});
    EXPECT_TRUE(made.reply.status.is_ok()) << made.reply.status.message();
    const engine::ParticipantRecord p = made.reply.participants.at(0);
    EXPECT_TRUE(run(op, engine::MoveCash{p.cash_account, Cash{100'000'000}, "d-" + code, false}).reply.status.is_ok());
    if (units > 0) {
      EXPECT_TRUE(run(registry, engine::IssueAllowances{"CEA2024", p.holding_account, Qty{units}, "i-" + code})
                      .reply.status.is_ok());
    }
    return p;
  }
  static engine::Principal as(const engine::ParticipantRecord& p) {
    return engine::Principal{Role::trader, p.id, p.code};
  }
  static engine::PlaceOrder limit(Side side, std::int64_t price, std::int64_t qty, std::string client_id) {
    return engine::PlaceOrder{"CEA2024", side, OrderType::limit, TimeInForce::day, TradingMode::listed,
                              Price{price}, Qty{qty}, std::move(client_id)};
  }
  std::vector<std::pair<ParticipantId, v1::ExecutionReport>> unsolicited(const engine::Outcome& outcome,
                                                                         ParticipantId issuer) {
    std::vector<std::pair<ParticipantId, v1::ExecutionReport>> seen;
    for_each_unsolicited_report(outcome, issuer, [&](ParticipantId owner, v1::ExecutionReport&& report) {
      seen.emplace_back(owner, std::move(report));
    });
    return seen;
  }

  engine::Exchange exchange;
  UnixNanos now = kMorning;
  engine::Principal op{Role::operator_, 0, "ops"};
  engine::Principal registry{Role::registry_authority, 0, "registry"};
};

TEST_F(EngineReportsTest, AResubmittedOrderIsOneAcceptedReportOfTheOrderAsItStands) {
  const engine::ParticipantRecord seller = create("S", 100), buyer = create("B", 0);
  ASSERT_TRUE(run(as(seller), limit(Side::sell, 5'000, 10, "s1")).reply.status.is_ok());
  ASSERT_TRUE(run(as(seller), limit(Side::sell, 5'010, 30, "s2")).reply.status.is_ok());
  const engine::PlaceOrder buy = limit(Side::buy, 5'010, 40, "c1");
  const engine::Outcome first = run(as(buyer), buy);
  ASSERT_EQ(first.reply.trades.size(), 2u);
  google::protobuf::RepeatedPtrField<v1::ExecutionReport> reports;
  append_command_reports(buy, buyer.id, first.reply, 0, reports);
  ASSERT_EQ(reports.size(), 3) << "accepted and two fills";

  const engine::Outcome again = run(as(buyer), buy);  // a client resending after a lost answer
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  EXPECT_TRUE(again.events.empty());
  EXPECT_TRUE(again.reply.repeated);
  google::protobuf::RepeatedPtrField<v1::ExecutionReport> repeated;
  append_command_reports(buy, buyer.id, again.reply, 0, repeated);
  ASSERT_EQ(repeated.size(), 1) << "its fills were reported once already";
  EXPECT_EQ(repeated[0].type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(repeated[0].order().status(), v1::ORDER_STATUS_FILLED);
  EXPECT_EQ(repeated[0].order().filled_quantity(), 40);
  EXPECT_EQ(repeated[0].sequence(), first.sequence);
}

TEST_F(EngineReportsTest, AnAuctionsClearingReportsEveryFillToBiddersAndSellerAndTheUnfilledRest) {
  const engine::ParticipantRecord seller = create("SELLER", 2'000), a = create("A", 0), b = create("B", 0);
  engine::CreateAuction auction;
  auction.instrument = "CEA2024";
  auction.seller_account = seller.holding_account;
  auction.offered = Qty{1'000};
  auction.reserve_price = Price{4'000};
  auction.pricing = static_cast<int>(engine::AuctionPricing::uniform);
  auction.bid_lot = Qty{100};
  auction.opens_at = kMorning + 10 * kMinute;
  auction.closes_at = kMorning + 70 * kMinute;
  auction.description = "sale";
  auction.idempotency_key = "auction-1";
  const engine::Outcome created = run(op, auction);
  ASSERT_TRUE(created.reply.status.is_ok()) << created.reply.status.message();
  const std::uint64_t id = created.reply.auctions.at(0).id;
  now = auction.opens_at;
  const engine::Outcome bid_a = run(as(a), engine::SubmitAuctionBid{id, Price{5'500}, Qty{600}, "a"});
  const engine::Outcome bid_b = run(as(b), engine::SubmitAuctionBid{id, Price{5'000}, Qty{600}, "b"});
  ASSERT_TRUE(bid_a.reply.status.is_ok() && bid_b.reply.status.is_ok());
  now = auction.closes_at;
  const engine::Outcome cleared = run(op, engine::CloseAuction{id});
  ASSERT_TRUE(cleared.reply.status.is_ok()) << cleared.reply.status.message();
  ASSERT_EQ(cleared.reply.trades.size(), 2u);

  std::map<ParticipantId, std::vector<std::pair<v1::ExecutionType, std::int64_t>>> heard;  // type, filled
  for (auto& [owner, report] : unsolicited(cleared, 0)) {
    heard[owner].emplace_back(report.type(), report.order().filled_quantity());
    if (report.type() == v1::EXECUTION_TYPE_FILL) {
      EXPECT_NE(report.trade().trade_id(), 0u);
    }
  }
  using Heard = std::vector<std::pair<v1::ExecutionType, std::int64_t>>;
  EXPECT_EQ(heard[a.id], (Heard{{v1::EXECUTION_TYPE_FILL, 600}}));
  EXPECT_EQ(heard[b.id], (Heard{{v1::EXECUTION_TYPE_FILL, 400}, {v1::EXECUTION_TYPE_CANCELLED, 400}}))
      << "the marginal bid fills in part; its rest is cancelled";
  EXPECT_EQ(heard[seller.id], (Heard{{v1::EXECUTION_TYPE_FILL, 600}, {v1::EXECUTION_TYPE_FILL, 1'000}}));
}

}  // namespace
}  // namespace carbon::server
