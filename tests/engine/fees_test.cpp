// Trading fees in the engine: reservations include the buyer's fee, fills take
// the actual fee and release the rest, fees go to the fee account, and cash
// is conserved with the fee account counted, over random trading.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "engine/exchange.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kMorning = 1'763'951'400'000'000'000;  // Monday 2025-11-24 10:30, Asia/Shanghai

const Principal kOperator{Role::operator_, 0, "ops"};
const Principal kRegistry{Role::registry_authority, 0, "registry"};

class FeesTest : public ::testing::Test {
 protected:
  explicit FeesTest() : exchange(make_config()) {}

  void SetUp() override {
    ASSERT_TRUE(run(kRegistry, SetCap{2024, "power", Qty{1'000'000'000}, 0, "test cap"}).reply.status.is_ok());
  }

  static Config make_config() {
    Config config = default_config();
    for (auto& instrument : config.instruments) instrument.reference_price = Price{5'000};
    config.fees = FeeSchedule{7, 13, 2, 3};
    return config;
  }

  Outcome run(const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome out = exchange.execute(Command{who, std::move(body)}, now);
    for (const Event& e : out.events) {
      if (auto* t = std::get_if<TradeExecuted>(&e)) fees_charged += t->trade.buyer_fee + t->trade.seller_fee;
    }
    return out;
  }

  ParticipantRecord create(const std::string& code) {
    registry::Hash token{};
    token[0] = static_cast<std::uint8_t>(code.size());
    token[1] = static_cast<std::uint8_t>(code.back());
    Outcome out = run(kOperator, CreateParticipant{code, code, ParticipantType::institution, token});
    EXPECT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    return out.reply.participants.at(0);
  }

  Outcome place(const ParticipantRecord& p, Side side, std::int64_t price, std::int64_t qty,
                TimeInForce tif = TimeInForce::day) {
    PlaceOrder order;
    order.instrument = "CEA2024";
    order.side = side;
    order.time_in_force = tif;
    order.price = Price{price};
    order.quantity = Qty{qty};
    return run(Principal{Role::trader, p.id, p.code}, order);
  }

  /// Every invariant the fees must keep.
  void check_invariants(const std::vector<ParticipantRecord>& everyone, const std::vector<OrderId>& orders) {
    for (const ParticipantRecord& p : everyone) {
      const settlement::CashAccount cash = exchange.clearing().account(p.cash_account);
      ASSERT_FALSE(cash.available.is_negative()) << p.code;
      ASSERT_FALSE(cash.reserved.is_negative()) << p.code;
      ASSERT_FALSE(cash.unsettled.is_negative()) << p.code;
      Cash open_reservations{0};
      for (OrderId id : orders) {
        const OrderRecord* order = exchange.order(id);
        if (order == nullptr || order->participant != p.id || order->side != Side::buy) continue;
        if (order->status == OrderStatus::open || order->status == OrderStatus::partially_filled) {
          // Exactly quantity x (price + fee per tonne rounded up) for what is left.
          ASSERT_EQ(order->reservation.total,
                    *settlement::buy_reservation(order->price, order->remaining(), exchange.fees().listed_buy_bps))
              << "order " << id;
          open_reservations += order->reservation.total;
        } else {
          ASSERT_TRUE(order->reservation.total.is_zero()) << "finished order " << id << " still holds cash";
        }
      }
      ASSERT_EQ(cash.reserved, open_reservations) << p.code;
    }
    const settlement::CashAccount fee = exchange.clearing().account(settlement::kFeeCashAccount);
    ASSERT_EQ(fee.total(), fees_charged);
    ASSERT_EQ(exchange.clearing().total(), deposited) << "cash is not conserved with fees";
  }

  Exchange exchange;
  UnixNanos now = kMorning;
  Cash fees_charged{0};
  Cash deposited{0};
};

TEST_F(FeesTest, BuyerPaysPriceAndFeeSellerReceivesPriceLessFee) {
  const ParticipantRecord buyer = create("B"), seller = create("S");
  ASSERT_TRUE(run(kOperator, MoveCash{buyer.cash_account, Cash{1'000'000}, "d", false}).reply.status.is_ok());
  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", seller.holding_account, Qty{100}, "a"}).reply.status.is_ok());
  // 5010 x 7 / 10000 = 3.507 per tonne, reserved as 4: 30 x 5014.
  ASSERT_TRUE(place(buyer, Side::buy, 5'010, 30).reply.status.is_ok());
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{150'420});
  const Outcome out = place(seller, Side::sell, 4'990, 20);
  ASSERT_TRUE(out.reply.status.is_ok());
  ASSERT_EQ(out.reply.trades.size(), 1u);
  const TradeRecord& t = out.reply.trades[0];
  EXPECT_EQ(t.price, Price{5'010});
  // 100,200 fen: buyer 100200 x 7 / 10000 = 70.14 -> 70, seller x 13 = 130.26 -> 130.
  EXPECT_EQ(t.buyer_fee, Cash{70});
  EXPECT_EQ(t.seller_fee, Cash{130});
  const auto b = exchange.clearing().account(buyer.cash_account);
  EXPECT_EQ(b.reserved, Cash{10 * 5'014});
  EXPECT_EQ(b.available, Cash{1'000'000 - 100'200 - 70 - 10 * 5'014});
  EXPECT_EQ(exchange.clearing().account(seller.cash_account).unsettled, Cash{100'200 - 130});
  EXPECT_EQ(exchange.clearing().account(settlement::kFeeCashAccount).available, Cash{200});
}

TEST_F(FeesTest, AmendKeepsTheReservationAtPricePlusFee) {
  const ParticipantRecord buyer = create("B");
  ASSERT_TRUE(run(kOperator, MoveCash{buyer.cash_account, Cash{1'000'000}, "d", false}).reply.status.is_ok());
  const Outcome placed = place(buyer, Side::buy, 5'000, 10);
  ASSERT_TRUE(placed.reply.status.is_ok());
  const OrderId id = placed.reply.orders.at(0).id;
  // 5000 x 7 / 10000 = 3.5 -> 4 a tonne.
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{10 * 5'004});
  ASSERT_TRUE(run(Principal{Role::trader, buyer.id, "B"}, AmendOrder{id, Price{0}, Qty{4}}).reply.status.is_ok());
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{4 * 5'004});
  // 5100 x 7 / 10000 = 3.57 -> 4 a tonne.
  ASSERT_TRUE(run(Principal{Role::trader, buyer.id, "B"}, AmendOrder{id, Price{5'100}, Qty{6}}).reply.status.is_ok());
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{6 * 5'104});
  ASSERT_TRUE(run(Principal{Role::trader, buyer.id, "B"}, CancelOrder{id}).reply.status.is_ok());
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).reserved, Cash{0});
  EXPECT_EQ(exchange.clearing().account(buyer.cash_account).available, Cash{1'000'000});
}

TEST_F(FeesTest, ExactlyFundedBuyFillsInPiecesWithoutGoingShort) {
  // The buyer has exactly the reservation; many small fills at better prices
  // each round their fee separately and never take more than was reserved.
  const ParticipantRecord buyer = create("B"), seller = create("S");
  const Cash need = *settlement::buy_reservation(Price{5'499}, Qty{999}, 7);
  ASSERT_TRUE(run(kOperator, MoveCash{buyer.cash_account, need, "d", false}).reply.status.is_ok());
  deposited = need;
  ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", seller.holding_account, Qty{1'000}, "a"}).reply.status.is_ok());
  std::vector<OrderId> orders;
  for (int i = 0; i < 37; ++i) {
    const Outcome out = place(seller, Side::sell, 4'500 + 27 * i, 27);
    ASSERT_TRUE(out.reply.status.is_ok()) << out.reply.status.message();
    orders.push_back(out.reply.orders.at(0).id);
  }
  const Outcome buy = place(buyer, Side::buy, 5'499, 999);
  ASSERT_TRUE(buy.reply.status.is_ok()) << buy.reply.status.message();
  orders.push_back(buy.reply.orders.at(0).id);
  EXPECT_EQ(buy.reply.trades.size(), 37u);
  EXPECT_EQ(buy.reply.orders.at(0).status, OrderStatus::filled);
  check_invariants({buyer, seller}, orders);
}

TEST_F(FeesTest, RandomTradingConservesCashAndNeverOverdrawsAReservation) {
  std::mt19937_64 random(20261125);
  std::vector<ParticipantRecord> everyone;
  for (int i = 0; i < 6; ++i) {
    const ParticipantRecord p = create("P" + std::to_string(i));
    const Cash amount{static_cast<std::int64_t>(20'000'000 + random() % 1'000'000)};
    ASSERT_TRUE(run(kOperator, MoveCash{p.cash_account, amount, "d", false}).reply.status.is_ok());
    deposited += amount;
    ASSERT_TRUE(run(kRegistry, IssueAllowances{"CEA2024", p.holding_account, Qty{5'000}, "a"}).reply.status.is_ok());
    everyone.push_back(p);
  }
  std::vector<OrderId> orders;
  for (int step = 0; step < 3'000; ++step) {
    const ParticipantRecord& p = everyone[random() % everyone.size()];
    const Principal who{Role::trader, p.id, p.code};
    const int action = static_cast<int>(random() % 10);
    if (action < 6 || orders.empty()) {
      const Side side = random() % 2 ? Side::buy : Side::sell;
      const std::int64_t price = 4'500 + static_cast<std::int64_t>(random() % 1'001);
      const std::int64_t qty = 1 + static_cast<std::int64_t>(random() % 300);
      const TimeInForce tif = random() % 5 == 0 ? TimeInForce::ioc : TimeInForce::day;
      const Outcome out = place(p, side, price, qty, tif);
      if (out.reply.status.is_ok()) orders.push_back(out.reply.orders.at(0).id);
    } else if (action < 8) {
      (void)run(who, CancelOrder{orders[random() % orders.size()]});
    } else {
      const OrderId id = orders[random() % orders.size()];
      const std::int64_t price = 4'500 + static_cast<std::int64_t>(random() % 1'001);
      const std::int64_t qty = 1 + static_cast<std::int64_t>(random() % 300);
      (void)run(who, AmendOrder{id, Price{random() % 2 ? price : 0}, Qty{qty}});
    }
    check_invariants(everyone, orders);
    if (HasFatalFailure()) return;
  }
  EXPECT_TRUE(fees_charged.is_positive());
}

}  // namespace
}  // namespace carbon::engine
