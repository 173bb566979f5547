#pragma once
/// The crash tests' market, load and checks (tests/e2e/crash_test.cpp):
/// buyers and sellers streaming crossing orders at a carbond, some of them
/// amended (a reduction keeps time priority, a new price loses it and may
/// trade at once), a record of what carbond acknowledged, and the checks
/// that run after a restart:
/// everything acknowledged present exactly once, nothing half-applied,
/// conservation, the hash chain, and the books against a replay of the
/// journal through a fresh reference book (matching::OrderBook).

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"
#include "matching/order_book.h"
#include "store/pg.h"

namespace carbon::testing::crash {

inline constexpr std::int64_t kDepositFen = 1'000'000'000'000;
inline constexpr std::int64_t kIssuedTonnes = 50'000'000;
inline constexpr std::int64_t kMidPriceFen = 10'000;

struct Trader {
  std::string code;
  std::string token;
  std::uint64_t participant = 0;
  std::uint64_t cash_account = 0;
  std::uint64_t holding_account = 0;
  bool buyer = false;
};

/// What carbond acknowledged to the clients.
struct Acknowledged {
  std::mutex mutex;
  std::map<std::string, std::uint64_t> orders;  ///< client order id -> order id
  std::set<std::uint64_t> trades;               ///< trade ids in PlaceOrder answers
  std::size_t unavailable = 0;                  ///< UNAVAILABLE answers seen (database outage)
  std::size_t unanswered = 0;                   ///< calls that ended without an answer (carbond killed)
  /// Order id -> (price, quantity) of its acknowledged amendment (each order is amended at most once).
  std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> amended;
  std::size_t amends_kept = 0;      ///< acknowledged reductions (priority kept)
  std::size_t amends_requeued = 0;  ///< acknowledged re-pricings (priority lost)
  std::size_t amends_refused = 0;   ///< refused: the order filled before its amendment arrived
  std::size_t burst_orders = 0;     ///< acknowledged on order sessions, kBurst to a message (Load::burst)
};

/// The first column of the first row of `sql` ("" if no row).
inline std::string scalar(const std::string& conninfo, const std::string& sql) {
  store::PgConn conn = store::connect_or_throw(conninfo);
  store::PgResult r = store::exec_or_throw(conn.get(), sql, "crash test query");
  return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
}

/// Two buyers with cash and two sellers with CEA2024.
inline std::vector<Trader> open_market(RunningExchange& x) {
  std::vector<Trader> traders;
  EXPECT_TRUE(set_generous_cap(x).ok());
  for (int i = 0; i < 4; ++i) {
    Trader t;
    t.buyer = i % 2 == 0;
    t.code = (t.buyer ? "BUY-" : "SELL-") + std::to_string(i);
    v1::CreateParticipantRequest create;
    create.set_code(t.code);
    create.set_name(t.code);
    // Sellers are key emitting units: their issuance is allocation, which their position limit includes
    // (an institution may not be issued more than the limit).
    create.set_type(t.buyer ? v1::PARTICIPANT_TYPE_INSTITUTION : v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    v1::CreateParticipantResponse created;
    const grpc::Status s = x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), create, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    t.token = created.trader_token();
    t.participant = created.participant().participant_id();
    t.cash_account = created.participant().cash_account_id();
    t.holding_account = created.participant().holding_account_id();
    if (t.buyer) {
      v1::CashMovementRequest deposit;
      deposit.set_cash_account_id(t.cash_account);
      deposit.set_amount_fen(kDepositFen);
      deposit.set_idempotency_key("crash-funding-" + t.code);
      v1::CashMovementResponse funded;
      EXPECT_TRUE(x.admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &funded).ok());
    } else {
      v1::IssueAllowancesRequest issue;
      issue.set_instrument("CEA2024");
      issue.set_holding_account_id(t.holding_account);
      issue.set_quantity(kIssuedTonnes);
      issue.set_reason("crash test allocation");
      v1::IssueAllowancesResponse issued;
      EXPECT_TRUE(x.registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());
    }
    traders.push_back(std::move(t));
  }
  return traders;
}

/// One client per trader placing crossing DAY limit orders (prices around
/// the mid, so about half trade) until `stop`. A call that fails with
/// UNAVAILABLE or without an answer is resubmitted with the same client order
/// id (idempotent) until it is answered or `stop`; any other failure fails the
/// test. About one resting order in three is then amended once: half of
/// them reduced by a tonne (priority kept), half moved to another price
/// (priority lost; it may cross). An amendment is not resubmitted (it has no
/// idempotency key): cut, its outcome is unknown and the checks rely on the
/// journal; FAILED_PRECONDITION (the order filled meanwhile) is expected.
///
/// Besides, the first buyer and the first seller each send a few order
/// session messages of kBurst orders, one after the other: hundreds of
/// commands at once, so that the journal writer commits batches side by
/// side (a batch starts beside another only with 256 commands or more) while
/// carbond is killed or PostgreSQL goes away. A message cut by that has an
/// unknown outcome, as a unary call has.
class Load {
 public:
  static constexpr int kBurst = 300;
  static constexpr int kBurstMessages = 2;

  Load(RunningExchange& x, const std::vector<Trader>& traders, Acknowledged& acked, int round)
      : acked_(acked) {
    for (std::size_t i = 0; i < traders.size(); ++i) {
      clients_.emplace_back([this, &x, trader = traders[i], round, i] { run(x, trader, round, i); });
    }
    for (std::size_t i = 0; i < 2 && i < traders.size(); ++i) {
      clients_.emplace_back([this, &x, trader = traders[i], round] { burst(x, trader, round); });
    }
  }
  ~Load() { finish(); }
  void finish() {
    stop_ = true;
    for (auto& c : clients_) {
      if (c.joinable()) c.join();
    }
  }
  std::size_t answered() const { return answered_.load(); }

 private:
  void run(RunningExchange& x, const Trader& trader, int round, std::size_t index) {
    std::mt19937 random(static_cast<unsigned>(round * 100 + index));
    auto stub = v1::TradingService::NewStub(x.channel);
    for (int n = 0; !stop_.load(); ++n) {
      v1::PlaceOrderRequest request;
      request.set_instrument("CEA2024");
      request.set_side(trader.buyer ? v1::SIDE_BUY : v1::SIDE_SELL);
      request.set_price_fen(kMidPriceFen - 5 + static_cast<std::int64_t>(random() % 11));
      request.set_quantity(1 + static_cast<std::int64_t>(random() % 5));
      request.set_client_order_id(trader.code + "-r" + std::to_string(round) + "-" + std::to_string(n));
      while (!stop_.load()) {
        v1::PlaceOrderResponse response;
        auto context = RunningExchange::as(trader.token);
        context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
        const grpc::Status status = stub->PlaceOrder(context.get(), request, &response);
        if (status.ok()) {
          {
            std::lock_guard lock(acked_.mutex);
            acked_.orders[request.client_order_id()] = response.order().order_id();
            for (const auto& fill : response.fills()) acked_.trades.insert(fill.trade_id());
            ++answered_;
          }
          const v1::Order& order = response.order();
          if (order.remaining_quantity() > 0 && random() % 3 == 0) amend(*stub, trader, order, random);
          break;
        }
        {
          std::lock_guard lock(acked_.mutex);
          if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
              status.error_message().find("database is unreachable") != std::string::npos) {
            ++acked_.unavailable;
          } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                     status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
            ++acked_.unanswered;
          } else {
            ADD_FAILURE() << request.client_order_id() << ": " << status.error_code() << " "
                          << status.error_message();
            return;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

  void burst(RunningExchange& x, const Trader& trader, int round) {
    std::mt19937 random(static_cast<unsigned>(round * 100 + 50 + trader.participant));
    auto stub = v1::TradingService::NewStub(x.channel);
    auto context = RunningExchange::as(trader.token);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    auto session = stub->OrderSession(context.get());
    // At a random moment of the round (the same for both: their messages arrive together and make two large
    // batches, the second started beside the first), so that a kill sometimes cuts a message in flight.
    std::mt19937 timing(static_cast<unsigned>(round));
    const auto start = std::chrono::steady_clock::now() + std::chrono::milliseconds(timing() % 800);
    while (!stop_.load() && std::chrono::steady_clock::now() < start) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (std::uint64_t batch = 1; batch <= kBurstMessages && !stop_.load(); ++batch) {
      v1::SessionRequest request;
      request.set_batch_id(batch);
      for (int k = 0; k < kBurst; ++k) {
        v1::PlaceOrderRequest* place = request.add_commands()->mutable_place();
        place->set_instrument("CEA2024");
        place->set_side(trader.buyer ? v1::SIDE_BUY : v1::SIDE_SELL);
        place->set_price_fen(kMidPriceFen - 5 + static_cast<std::int64_t>(random() % 11));
        place->set_quantity(1 + static_cast<std::int64_t>(random() % 5));
        place->set_client_order_id(trader.code + "-r" + std::to_string(round) + "-b" + std::to_string(batch) + "-" +
                                   std::to_string(k));
      }
      if (!session->Write(request)) break;
      v1::SessionResponse response;
      bool answered = false;
      while (session->Read(&response)) {
        if (response.batch_id() == batch) {
          answered = true;
          break;  // (batch id 0: unsolicited reports of resting orders filled meanwhile)
        }
      }
      if (!answered) {
        std::lock_guard lock(acked_.mutex);
        ++acked_.unanswered;  // carbond went away: the message's outcome is unknown
        break;
      }
      std::lock_guard lock(acked_.mutex);
      for (const v1::ExecutionReport& report : response.reports()) {
        if (report.type() == v1::EXECUTION_TYPE_ACCEPTED) {
          acked_.orders[report.order().client_order_id()] = report.order().order_id();
          ++acked_.burst_orders;
        } else if (report.type() == v1::EXECUTION_TYPE_FILL) {
          acked_.trades.insert(report.trade().trade_id());
        } else if (report.type() == v1::EXECUTION_TYPE_REJECTED &&
                   report.error_code() == static_cast<int>(grpc::StatusCode::UNAVAILABLE)) {
          ++acked_.unavailable;  // refused while the database is away (nothing done), or outcome unknown
        } else if (report.type() == v1::EXECUTION_TYPE_REJECTED) {
          ADD_FAILURE() << report.order().client_order_id() << ": " << report.error_code() << " "
                        << report.error_message();
        }
      }
    }
    context->TryCancel();
    session->Finish();
  }

  void amend(v1::TradingService::Stub& stub, const Trader& trader, const v1::Order& order, std::mt19937& random) {
    v1::AmendOrderRequest request;
    request.set_order_id(order.order_id());
    const bool reduce = random() % 2 == 0 && order.remaining_quantity() >= 2;
    if (reduce) {
      request.set_new_quantity(order.quantity() - 1);
    } else {
      std::int64_t price = order.price_fen();
      while (price == order.price_fen()) price = kMidPriceFen - 5 + static_cast<std::int64_t>(random() % 11);
      request.set_new_price_fen(price);
    }
    v1::AmendOrderResponse response;
    auto context = RunningExchange::as(trader.token);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    const grpc::Status status = stub.AmendOrder(context.get(), request, &response);
    std::lock_guard lock(acked_.mutex);
    if (status.ok()) {
      EXPECT_EQ(response.priority_kept(), reduce) << "order " << order.order_id();
      acked_.amended[order.order_id()] = {response.order().price_fen(), response.order().quantity()};
      for (const auto& fill : response.fills()) acked_.trades.insert(fill.trade_id());
      ++(reduce ? acked_.amends_kept : acked_.amends_requeued);
    } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      ++acked_.amends_refused;  // filled (or cut to the filled quantity) before the amendment got in
    } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
               status.error_message().find("database is unreachable") != std::string::npos) {
      ++acked_.unavailable;
    } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
               status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      ++acked_.unanswered;
    } else {
      ADD_FAILURE() << "amend of order " << order.order_id() << ": " << status.error_code() << " "
                    << status.error_message();
    }
  }

  Acknowledged& acked_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> answered_{0};
  std::vector<std::thread> clients_;
};

/// A resting order as served by carbond or as left by the replay.
struct Resting {
  std::uint64_t id = 0;
  Side side = Side::buy;
  std::int64_t price = 0;
  std::int64_t remaining = 0;
  bool operator==(const Resting&) const = default;
};

inline std::ostream& operator<<(std::ostream& out, const Resting& r) {
  return out << "{order " << r.id << (r.side == Side::buy ? " buy " : " sell ") << r.remaining << " @ " << r.price
             << "}";
}

/// Replays the journal's order events in sequence order through a fresh
/// reference book: each order's first OrderChanged is its command (matched,
/// then rested if anything is left and it is not terminal), a later
/// cancelled or expired status removes it, and a later one with another
/// price or quantity is an amendment: the same price and a lower quantity
/// reduce it in place (priority kept), anything else takes it out and
/// matches it again as an incoming order at its new price, then rests the
/// rest with its new priority. The replay's fills must be the journal's
/// TradeExecuted events of the same command, in order. Returns the resting
/// orders, bids best first then asks best first, time priority within a
/// price.
inline std::vector<Resting> replay_journal(const std::string& conninfo) {
  store::PgConn conn = store::connect_or_throw(conninfo);
  store::PgResult r = store::exec_or_throw(conn.get(),
                                           "SELECT sequence, kind, payload::text FROM journal"
                                           " WHERE kind IN ('OrderChanged', 'TradeExecuted')"
                                           " ORDER BY sequence, event_index",
                                           "read the journal");
  matching::OrderBook book;
  std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> seen;  ///< order id -> (price, quantity) as journaled
  struct ExpectedFill {
    std::uint64_t buy, sell;
    std::int64_t price, quantity;
    bool operator==(const ExpectedFill&) const = default;
  };
  std::vector<ExpectedFill> replayed, journaled;
  std::uint64_t current = 0;
  auto close_command = [&] {
    EXPECT_EQ(replayed.size(), journaled.size()) << "fills of the command at sequence " << current;
    for (std::size_t i = 0; i < std::min(replayed.size(), journaled.size()); ++i) {
      EXPECT_TRUE(replayed[i] == journaled[i]) << "fill " << i << " of the command at sequence " << current
                                               << " differs from the replay";
    }
    replayed.clear();
    journaled.clear();
  };
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    const std::uint64_t sequence = std::strtoull(PQgetvalue(r.get(), row, 0), nullptr, 10);
    if (sequence != current) {
      close_command();
      current = sequence;
    }
    const std::string kind = PQgetvalue(r.get(), row, 1);
    const nlohmann::json e = nlohmann::json::parse(PQgetvalue(r.get(), row, 2));
    if (kind == "TradeExecuted") {
      journaled.push_back({e["buy_order_id"].get<std::uint64_t>(), e["sell_order_id"].get<std::uint64_t>(),
                           e["price_fen"].get<std::int64_t>(), e["quantity"].get<std::int64_t>()});
      continue;
    }
    const std::uint64_t id = e["order_id"].get<std::uint64_t>();
    const auto status = static_cast<OrderStatus>(e["status"].get<int>());
    const std::int64_t price_fen = e["price_fen"].get<std::int64_t>();
    const std::int64_t quantity = e["quantity"].get<std::int64_t>();
    const std::int64_t filled = e["filled_quantity"].get<std::int64_t>();
    if (auto known = seen.find(id); known != seen.end()) {
      const auto [old_price, old_quantity] = known->second;
      known->second = {price_fen, quantity};
      if (status == OrderStatus::cancelled || status == OrderStatus::expired) {
        book.cancel(id);
        continue;
      }
      if (price_fen == old_price && quantity == old_quantity) continue;  // a fill by another command
      const matching::BookOrder* resting = book.find(id);
      EXPECT_NE(resting, nullptr) << "order " << id << " amended at sequence " << sequence << " is not resting";
      if (resting == nullptr) continue;
      const std::int64_t filled_before = old_quantity - resting->remaining.value;
      if (price_fen == old_price && quantity < old_quantity) {
        EXPECT_EQ(e["priority"].get<std::uint64_t>(), resting->priority)
            << "order " << id << ": a reduction keeps time priority";
        EXPECT_TRUE(book.reduce(id, Qty{quantity - filled_before})) << "order " << id << " at sequence " << sequence;
        continue;
      }
      const auto side = resting->side;
      const std::uint64_t owner = resting->owner;
      book.cancel(id);
      EXPECT_EQ(e["priority"].get<std::uint64_t>(), sequence) << "order " << id << ": a re-pricing loses priority";
      std::vector<matching::Fill> fills;
      const Qty left = book.match(side, Price{price_fen}, Qty{quantity - filled_before}, fills);
      for (const auto& f : fills) {
        replayed.push_back({side == Side::buy ? id : f.resting_id, side == Side::buy ? f.resting_id : id,
                            f.price.value, f.quantity.value});
      }
      EXPECT_EQ(left.value, quantity - filled) << "amended order " << id << " at sequence " << sequence
                                               << ": the replay fills it differently";
      if (!left.is_zero() && !is_terminal(status)) {
        book.add(matching::BookOrder{id, owner, side, Price{price_fen}, left, e["priority"].get<std::uint64_t>()});
      }
      continue;
    }
    seen[id] = {price_fen, quantity};
    if (status == OrderStatus::rejected || static_cast<TradingMode>(e["mode"].get<int>()) != TradingMode::listed) {
      continue;
    }
    const auto side = static_cast<Side>(e["side"].get<int>());
    const Price price{e["price_fen"].get<std::int64_t>()};
    std::vector<matching::Fill> fills;
    const Qty left = book.match(side, price, Qty{e["quantity"].get<std::int64_t>()}, fills);
    for (const auto& f : fills) {
      replayed.push_back({side == Side::buy ? id : f.resting_id, side == Side::buy ? f.resting_id : id,
                          f.price.value, f.quantity.value});
    }
    EXPECT_EQ(left.value, e["quantity"].get<std::int64_t>() - e["filled_quantity"].get<std::int64_t>())
        << "order " << id << " at sequence " << sequence << ": the replay fills it differently";
    if (!left.is_zero() && !is_terminal(status)) {
      book.add(matching::BookOrder{id, e["participant_id"].get<std::uint64_t>(), side, price, left,
                                   e["priority"].get<std::uint64_t>()});
    }
  }
  close_command();
  std::vector<Resting> out;
  book.for_each([&](const matching::BookOrder& o) { out.push_back({o.id, o.side, o.price.value, o.remaining.value}); });
  return out;
}

/// The resting orders carbond serves (every trader's open orders), in book
/// order: bids best first, asks best first, time priority within a price
/// (the orders' priority as stored: an amended order's may be later than its id).
inline std::vector<Resting> served_book(RunningExchange& x, const std::vector<Trader>& traders,
                                        const std::string& conninfo) {
  std::map<std::uint64_t, std::uint64_t> priority;
  {
    store::PgConn conn = store::connect_or_throw(conninfo);
    store::PgResult r = store::exec_or_throw(conn.get(), "SELECT order_id, priority FROM orders WHERE status IN (1, 2)",
                                             "read the open orders' priorities");
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      priority[std::strtoull(PQgetvalue(r.get(), row, 0), nullptr, 10)] =
          std::strtoull(PQgetvalue(r.get(), row, 1), nullptr, 10);
    }
  }
  std::vector<std::pair<std::uint64_t, Resting>> orders;  // time priority, order
  for (const Trader& t : traders) {
    v1::ListOrdersRequest request;
    request.set_open_only(true);
    v1::ListOrdersResponse response;
    EXPECT_TRUE(list_all_orders(x, t.token, response, request).ok());
    for (const auto& o : response.orders()) {
      EXPECT_TRUE(priority.contains(o.order_id())) << "open order " << o.order_id() << " is not open in the database";
      orders.push_back({priority[o.order_id()], Resting{o.order_id(), o.side() == v1::SIDE_BUY ? Side::buy : Side::sell,
                                                        o.price_fen(), o.remaining_quantity()}});
    }
  }
  std::sort(orders.begin(), orders.end(), [](const auto& a, const auto& b) {
    if (a.second.side != b.second.side) return a.second.side == Side::buy;
    if (a.second.price != b.second.price) {
      return a.second.side == Side::buy ? a.second.price > b.second.price : a.second.price < b.second.price;
    }
    return a.first < b.first;
  });
  std::vector<Resting> out;
  for (const auto& [sequence, order] : orders) out.push_back(order);
  return out;
}

/// Everything the crash test promises, checked against carbond (restarted)
/// and its database.
inline void check_after_restart(RunningExchange& x, const std::string& conninfo, const std::vector<Trader>& traders,
                                Acknowledged& acked) {
  std::lock_guard lock(acked.mutex);
  // 1. Every acknowledged order is present exactly once, with the id it was acknowledged with.
  std::map<std::string, std::vector<std::uint64_t>> orders_by_client_id;
  std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> terms;  // order id -> (price, quantity)
  std::map<std::uint64_t, int> trade_sightings;
  for (const Trader& t : traders) {
    v1::ListOrdersResponse orders;
    ASSERT_TRUE(list_all_orders(x, t.token, orders).ok());
    for (const auto& o : orders.orders()) {
      orders_by_client_id[o.client_order_id()].push_back(o.order_id());
      terms[o.order_id()] = {o.price_fen(), o.quantity()};
    }
    v1::ListTradesResponse trades;
    ASSERT_TRUE(list_all_trades(x, t.token, trades).ok());
    for (const auto& trade : trades.trades()) ++trade_sightings[trade.trade_id()];
  }
  for (const auto& [client_id, ids] : orders_by_client_id) {
    EXPECT_EQ(ids.size(), 1u) << "client order id " << client_id << " is present " << ids.size() << " times";
  }
  for (const auto& [client_id, order_id] : acked.orders) {
    const auto found = orders_by_client_id.find(client_id);
    ASSERT_NE(found, orders_by_client_id.end()) << "acknowledged order " << client_id << " was lost";
    EXPECT_EQ(found->second.front(), order_id) << client_id;
  }
  // Every acknowledged amendment is in force: the order's price and total quantity are the amended ones.
  for (const auto& [order_id, amended] : acked.amended) {
    EXPECT_EQ(terms[order_id], amended) << "acknowledged amendment of order " << order_id << " was lost";
  }
  // 2. Every acknowledged trade is present exactly once: once for its buyer, once for its seller.
  for (const auto& [trade_id, sightings] : trade_sightings) {
    EXPECT_EQ(sightings, 2) << "trade " << trade_id << " is seen " << sightings << " times (buyer + seller = 2)";
  }
  for (std::uint64_t trade_id : acked.trades) {
    EXPECT_TRUE(trade_sightings.contains(trade_id)) << "acknowledged trade " << trade_id << " was lost";
  }
  EXPECT_EQ(scalar(conninfo, "SELECT count(*) FROM trades"), std::to_string(trade_sightings.size()));

  // 3. Nothing half-applied: every trade has its ledger leg, every open buy order its full reservation, every
  //    participant's cash and units are exactly its deposits/issuance moved by its trades.
  // (Joins on aggregates rather than a subquery per row: linear in the trades, for long runs.)
  EXPECT_EQ(scalar(conninfo,
                   "SELECT count(*) FROM trades t LEFT JOIN (SELECT reference, quantity, count(*) AS n"
                   " FROM ledger_entries WHERE kind = 2 GROUP BY reference, quantity) l"
                   " ON l.reference = 'trade:' || t.trade_id AND l.quantity = t.quantity WHERE l.n IS DISTINCT FROM 1"),
            "0")
      << "a trade without exactly one delivery ledger entry";
  EXPECT_EQ(scalar(conninfo, "SELECT count(*) FROM ledger_entries WHERE kind = 2"),
            scalar(conninfo, "SELECT count(*) FROM trades"))
      << "a delivery ledger entry without its trade";
  EXPECT_EQ(scalar(conninfo,
                   "SELECT count(*) FROM orders WHERE status IN (1, 2) AND side = 1"
                   " AND reserved_fen <> price_fen * (quantity - filled_quantity)"),
            "0")
      << "an open buy order without its reservation";
  EXPECT_EQ(scalar(conninfo,
                   "SELECT count(*) FROM orders o LEFT JOIN (SELECT order_id, SUM(quantity) AS filled FROM"
                   " (SELECT buy_order_id AS order_id, quantity FROM trades UNION ALL"
                   " SELECT sell_order_id, quantity FROM trades) f GROUP BY order_id) t ON t.order_id = o.order_id"
                   " WHERE o.filled_quantity <> COALESCE(t.filled, 0)"),
            "0")
      << "an order whose filled quantity is not the sum of its trades";
  for (const Trader& t : traders) {
    const std::string side = t.buyer ? "buyer_participant_id" : "seller_participant_id";
    const std::int64_t notional = std::stoll(scalar(
        conninfo, "SELECT COALESCE(SUM(price_fen * quantity), 0) FROM trades WHERE " + side + " = " +
                      std::to_string(t.participant)));
    const std::int64_t tonnes = std::stoll(scalar(
        conninfo, "SELECT COALESCE(SUM(quantity), 0) FROM trades WHERE " + side + " = " + std::to_string(t.participant)));
    v1::GetBalancesResponse balances;
    ASSERT_TRUE(x.trading->GetBalances(RunningExchange::as(t.token).get(), {}, &balances).ok());
    const auto& cash = balances.cash();
    const std::int64_t cash_total = cash.available_fen() + cash.reserved_fen() + cash.unsettled_fen();
    EXPECT_EQ(cash_total, t.buyer ? kDepositFen - notional : notional) << t.code << ": cash moved by its trades";
    std::int64_t units = 0;
    for (const auto& h : balances.holdings()) {
      if (h.instrument() == "CEA2024") units += h.available() + h.reserved() + h.pending() + h.frozen();
    }
    EXPECT_EQ(units, t.buyer ? tonnes : kIssuedTonnes - tonnes) << t.code << ": units moved by its trades";
  }

  // 4. Conservation: cash is deposits minus withdrawals, every instrument's holdings net to zero.
  EXPECT_EQ(scalar(conninfo, "SELECT SUM(available_fen + reserved_fen + unsettled_fen) FROM cash_accounts"),
            std::to_string(kDepositFen * 2));
  EXPECT_EQ(scalar(conninfo,
                   "SELECT count(*) FROM (SELECT instrument FROM holdings GROUP BY instrument"
                   " HAVING SUM(available + reserved + pending + frozen + pledged) <> 0) AS unbalanced"),
            "0");

  // 5. The hash chain verifies over gRPC, from the first entry to the last.
  auto regulator = v1::RegulatorService::NewStub(x.channel);
  v1::VerifyLedgerResponse verified;
  ASSERT_TRUE(regulator->VerifyLedger(RunningExchange::as(kRegulatorToken).get(), {}, &verified).ok());
  EXPECT_TRUE(verified.valid()) << verified.failure();
  EXPECT_EQ(verified.first_ledger_entry_id(), 1u);
  EXPECT_EQ(std::to_string(verified.last_ledger_entry_id()), scalar(conninfo, "SELECT max(entry_id) FROM ledger_entries"));
  EXPECT_EQ(verified.entries_checked(), verified.last_ledger_entry_id());
  // So does the audit log's (the staff's set-up commands, written in their commands' transactions, and this
  // verification's own read record, written by the audit writer across the kills).
  const std::string audit_records = scalar(conninfo, "SELECT count(*) FROM audit_log");
  v1::VerifyAuditLogResponse audit_verified;
  ASSERT_TRUE(regulator->VerifyAuditLog(RunningExchange::as(kRegulatorToken).get(), {}, &audit_verified).ok());
  EXPECT_TRUE(audit_verified.valid()) << audit_verified.failure();
  EXPECT_EQ(std::to_string(audit_verified.records_checked()), audit_records);

  // 6. The books equal a replay of the journal, order by order, and the served depth agrees.
  const std::vector<Resting> replayed = replay_journal(conninfo);
  const std::vector<Resting> served = served_book(x, traders, conninfo);
  EXPECT_FALSE(replayed.empty()) << "no resting order to compare: the load left an empty book";
  EXPECT_EQ(served, replayed);
  v1::GetBookRequest request;
  request.set_instrument("CEA2024");
  request.set_depth(50);
  v1::BookSnapshot book;
  ASSERT_TRUE(x.market_data->GetBook(RunningExchange::as(kRegulatorToken).get(), request, &book).ok());
  std::map<std::pair<Side, std::int64_t>, std::pair<std::int64_t, std::uint32_t>> levels;
  for (const Resting& r : replayed) {
    auto& level = levels[{r.side, r.price}];
    level.first += r.remaining;
    ++level.second;
  }
  std::size_t served_levels = 0;
  for (const auto* side : {&book.bids(), &book.asks()}) {
    for (const auto& level : *side) {
      const Side s = side == &book.bids() ? Side::buy : Side::sell;
      ++served_levels;
      const auto expected = levels[{s, level.price_fen()}];
      EXPECT_EQ(expected, std::make_pair(level.quantity(), level.order_count()))
          << "level " << level.price_fen();
    }
  }
  EXPECT_EQ(served_levels, levels.size());
}

/// The engine's own queues against the replay's: the served book and depth
/// above follow the stored priorities, which a book rebuilt in another order
/// would still show. So a new participant sweeps the top `orders` resting
/// orders of each side with IOC orders at the last one's price, and the
/// fills must take them in the replay's order: price, then time priority.
/// It trades: call it last.
inline void check_queues_by_sweeping(RunningExchange& x, const std::string& conninfo, std::size_t orders = 300) {
  const std::vector<Resting> replayed = replay_journal(conninfo);
  v1::CreateParticipantResponse sweeper;
  ASSERT_TRUE(create_participant(x, "SWEEP", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT, sweeper).ok());
  ASSERT_TRUE(deposit(x, sweeper.participant().cash_account_id(), kDepositFen, "crash-sweep").ok());
  v1::IssueAllowancesRequest issue;
  issue.set_instrument("CEA2024");
  issue.set_holding_account_id(sweeper.participant().holding_account_id());
  issue.set_quantity(kIssuedTonnes);
  issue.set_reason("crash test sweep");
  v1::IssueAllowancesResponse issued;
  ASSERT_TRUE(x.registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());

  std::size_t behind_at_same_price = 0;  // orders whose place depends on time priority alone
  for (const Side side : {Side::buy, Side::sell}) {
    std::vector<std::uint64_t> expected;
    std::int64_t quantity = 0;
    std::int64_t last_price = 0;
    for (const Resting& r : replayed) {
      if (r.side != side || expected.size() == orders) continue;
      if (!expected.empty() && r.price == last_price) ++behind_at_same_price;
      expected.push_back(r.id);
      quantity += r.remaining;
      last_price = r.price;
    }
    if (expected.empty()) continue;
    v1::PlaceOrderRequest sweep;
    sweep.set_instrument("CEA2024");
    sweep.set_side(side == Side::buy ? v1::SIDE_SELL : v1::SIDE_BUY);  // against the side swept
    sweep.set_type(v1::ORDER_TYPE_LIMIT);
    sweep.set_time_in_force(v1::TIME_IN_FORCE_IOC);
    sweep.set_price_fen(last_price);
    sweep.set_quantity(quantity);
    sweep.set_client_order_id(side == Side::buy ? "sweep-bids" : "sweep-asks");
    v1::PlaceOrderResponse swept;
    const grpc::Status status = x.trading->PlaceOrder(RunningExchange::as(sweeper.trader_token()).get(), sweep, &swept);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<std::uint64_t> taken;
    for (const auto& fill : swept.fills()) {
      taken.push_back(side == Side::buy ? fill.buy_order_id() : fill.sell_order_id());
    }
    EXPECT_EQ(taken, expected) << "the " << (side == Side::buy ? "bids" : "asks")
                               << " were not taken in the replay's price-time order";
  }
  EXPECT_GT(behind_at_same_price, 0u) << "no two swept orders shared a price: time priority was not checked";
}

}  // namespace carbon::testing::crash
