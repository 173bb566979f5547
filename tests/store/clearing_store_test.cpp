// Clearing in PostgreSQL (migration 0006, store/clearing_rows): trade fees,
// the fee account, end-of-day statements, reconciliations and alerts written
// in the batch come back on recovery (statements: each participant's latest),
// a restored engine answers the same, and read_statement reads any day's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "engine/exchange.h"
#include "engine/written_statement.h"
#include "store/clearing_rows.h"
#include "store/journal.h"
#include "store/market_reader.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/recovery.h"
#include "support/test_database.h"

namespace carbon::store {
namespace {

using engine::Command;
using engine::Principal;

constexpr UnixNanos kMonday1030 = 1'763'951'400'000'000'000;  // 2025-11-24 10:30 Asia/Shanghai
constexpr UnixNanos kHour = 3'600'000'000'000;

class ClearingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conn = connect_or_throw(db.conninfo());
    apply_migrations(conn.get());
  }

  engine::Outcome run(const Principal& who, engine::CommandBody body) {
    now += 1'000;
    engine::Outcome outcome = exchange.execute(Command{who, std::move(body)}, now);
    pending.push_back(std::make_unique<engine::Outcome>(outcome));
    return outcome;
  }

  void commit_pending() {
    std::vector<const engine::Outcome*> batch;
    for (const auto& o : pending) {
      if (!o->events.empty()) batch.push_back(o.get());
    }
    ASSERT_TRUE(journal.commit(batch).is_ok());
    pending.clear();
  }

  std::string query(const std::string& sql) {
    PgResult r = exec_or_throw(conn.get(), sql, "test query");
    return PQntuples(r.get()) == 0 ? "" : PQgetvalue(r.get(), 0, 0);
  }

  testing::TestDatabase db;
  PgConn conn;
  Config config = [] {
    Config c = default_config();
    for (auto& instrument : c.instruments) instrument.reference_price = Price{5'000};
    c.fees = FeeSchedule{5, 3, 2, 1};
    return c;
  }();
  engine::Exchange exchange{config};
  PostgresJournal journal{db.conninfo()};
  std::vector<std::unique_ptr<engine::Outcome>> pending;
  UnixNanos now = kMonday1030;
  Principal op{Role::operator_, 0, "ops"};
};

TEST_F(ClearingStoreTest, FeesStatementsAndReconciliationsComeBack) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1'000'000}, "d", false}).reply.status.is_ok());
  run(Principal{Role::registry_authority, 0, "reg"},
      engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});  // issuance counts against caps
  ASSERT_TRUE(run(Principal{Role::registry_authority, 0, "reg"},
                  engine::IssueAllowances{"CEA2024", s.holding_account, Qty{100}, "a"})
                  .reply.status.is_ok());
  ASSERT_TRUE(run(Principal{Role::trader, s.id, "S"},
                  engine::PlaceOrder{"CEA2024", Side::sell, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                     Price{5'000}, Qty{10}, ""})
                  .reply.status.is_ok());
  ASSERT_TRUE(run(Principal{Role::trader, b.id, "B"},
                  engine::PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day, TradingMode::listed,
                                     Price{5'000}, Qty{10}, ""})
                  .reply.status.is_ok());
  now = kMonday1030 + 5 * kHour;
  const engine::Outcome eod = run(op, engine::RunEndOfDay{"2025-11-24"});
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  commit_pending();

  // 50,000 fen: buyer 25, seller 15.
  EXPECT_EQ(query("SELECT buyer_fee_fen || '/' || seller_fee_fen FROM trades"), "25/15");
  EXPECT_EQ(query("SELECT available_fen FROM cash_accounts WHERE cash_account_id = 10"), "40");
  EXPECT_EQ(query("SELECT balanced FROM reconciliations WHERE trading_date = '2025-11-24'"), "t");
  EXPECT_EQ(query("SELECT count(*) FROM statements WHERE trading_date = '2025-11-24'"), "2");
  EXPECT_EQ(query("SELECT statement->>'fees_fen' FROM statements WHERE participant_id = " + std::to_string(b.id)),
            "25");

  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_NO_THROW(check_state(conn.get(), state));
  EXPECT_TRUE(state.trades.empty()) << "Monday's trade belongs to the day closed";
  EXPECT_EQ(state.last_trade_id, 1u);
  ASSERT_EQ(state.reconciliations.size(), 1u);
  EXPECT_EQ(state.reconciliations[0].cash.fee_account, Cash{40});
  EXPECT_EQ(state.statements.size(), 2u);
  EXPECT_EQ(state.reconciliations[0].statements_written, 2u);
  EXPECT_TRUE(state.day_transfers.empty());  // the issuance was before the day closed

  engine::Exchange restored{config};
  restored.restore(state);
  EXPECT_EQ(restored.clearing().account(settlement::kFeeCashAccount).total(), Cash{40});
  engine::StatementRecord st;
  ASSERT_TRUE(read_statement(db.conninfo(), b.id, "2025-11-24", st).is_ok());
  const engine::StatementRecord original = engine::written_statement(eod, b.id);
  EXPECT_EQ(st.closing_cash, original.closing_cash);
  EXPECT_EQ(st.bought_value, Cash{50'000});
  EXPECT_EQ(st.fees, Cash{25});
  ASSERT_EQ(st.trades.size(), 1u);
  EXPECT_EQ(st.trades[0].buyer_fee, Cash{25});
  ASSERT_EQ(st.lines.size(), 1u);
  EXPECT_EQ(st.lines[0].closing.available, Qty{10});
  const auto recon = restored.execute(Command{op, engine::GetReconciliation{"2025-11-24"}}, now);
  ASSERT_TRUE(recon.reply.status.is_ok());
  EXPECT_TRUE(recon.reply.reconciliation->balanced);
  const auto repeated = restored.execute(Command{op, engine::RunEndOfDay{"2025-11-24"}}, now);
  ASSERT_TRUE(repeated.reply.status.is_ok());
  EXPECT_EQ(repeated.reply.statements_written, 2u) << "the count recorded with the day's reconciliation";

  // A report written before the count was recorded gets it from migration 0016.
  exec_or_throw(conn.get(), "UPDATE reconciliations SET report = report - 'statements_written'", "an older report");
  EXPECT_EQ(load_state(conn.get()).reconciliations[0].statements_written, 0u);
  const auto migration = std::find_if(all_migrations().begin(), all_migrations().end(),
                                      [](const Migration& m) { return m.version == 16; });
  ASSERT_NE(migration, all_migrations().end());
  exec_or_throw(conn.get(), std::string(migration->sql), "migration 0016");
  EXPECT_EQ(load_state(conn.get()).reconciliations[0].statements_written, 2u);

  // The empty date is the last day closed; other days, participants and no end of day are NOT_FOUND.
  engine::StatementRecord last;
  ASSERT_TRUE(read_statement(db.conninfo(), s.id, "", last).is_ok());
  EXPECT_EQ(last.trading_date, "2025-11-24");
  EXPECT_EQ(last.participant, s.id);
  EXPECT_EQ(read_statement(db.conninfo(), s.id, "2025-11-25", last).code(), ErrorCode::not_found);
  EXPECT_EQ(read_statement(db.conninfo(), 999, "2025-11-24", last).code(), ErrorCode::not_found);
  EXPECT_EQ(read_statement(db.conninfo(), ~ParticipantId{0}, "2025-11-24", last).code(), ErrorCode::not_found)
      << "an id beyond BIGINT names nothing";
  exec_or_throw(conn.get(), "DELETE FROM reconciliations", "forget the end of day");
  const Status none = read_statement(db.conninfo(), s.id, "", last);
  EXPECT_EQ(none.code(), ErrorCode::not_found);
  EXPECT_NE(none.message().find("end of day has not been run"), std::string::npos) << none.message();
}

TEST_F(ClearingStoreTest, TheDaysTransfersAreReloadedForItsStatements) {
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  run(Principal{Role::registry_authority, 0, "reg"},
      engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});  // issuance counts against caps
  ASSERT_TRUE(run(Principal{Role::registry_authority, 0, "reg"},
                  engine::IssueAllowances{"CEA2024", s.holding_account, Qty{70}, "a"})
                  .reply.status.is_ok());
  commit_pending();
  const engine::RecoveredState state = load_state(conn.get());
  ASSERT_EQ(state.day_transfers.size(), 1u);
  EXPECT_EQ(std::get<1>(state.day_transfers[0]), s.holding_account);
  EXPECT_EQ(std::get<3>(state.day_transfers[0]), Qty{70});

  engine::Exchange restored{config};
  restored.restore(state);
  const auto eod = restored.execute(Command{op, engine::RunEndOfDay{"2025-11-24"}}, kMonday1030 + 5 * kHour);
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  const engine::StatementRecord got = engine::written_statement(eod, s.id);
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_EQ(got.lines[0].received, Qty{70});
}

TEST_F(ClearingStoreTest, OnlyTheLedgerEntriesSinceTheDayOpenedAreReloaded) {
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  const Principal reg{Role::registry_authority, 0, "reg"};
  run(reg, engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});
  for (int k = 0; k < 5; ++k) {  // the day before: five issuances
    ASSERT_TRUE(run(reg, engine::IssueAllowances{"CEA2024", s.holding_account, Qty{10 + k}, "before" + std::to_string(k)})
                    .reply.status.is_ok());
  }
  now = kMonday1030 + 5 * kHour;  // after the close
  const auto eod = run(op, engine::RunEndOfDay{"2025-11-24"});  // the next day opens here
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  for (int k = 0; k < 3; ++k) {  // this day: three more
    ASSERT_TRUE(run(reg, engine::IssueAllowances{"CEA2024", s.holding_account, Qty{100 + k}, "today" + std::to_string(k)})
                    .reply.status.is_ok());
  }
  commit_pending();
  const engine::RecoveredState state = load_state(conn.get());
  ASSERT_EQ(state.day_transfers.size(), 3u);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(std::get<3>(state.day_transfers[k]), Qty{100 + k});
}

TEST_F(ClearingStoreTest, RecoveryLoadsOnlyTheLastStatementOfEachParticipant) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1'000}, "d1", false}).reply.status.is_ok());
  now = kMonday1030 + 5 * kHour;
  ASSERT_TRUE(run(op, engine::RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  now = kMonday1030 + 24 * kHour;
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{500}, "d2", false}).reply.status.is_ok());
  now = kMonday1030 + 29 * kHour;
  ASSERT_TRUE(run(op, engine::RunEndOfDay{"2025-11-25"}).reply.status.is_ok());
  commit_pending();
  EXPECT_EQ(query("SELECT count(*) FROM statements"), "4");

  const engine::RecoveredState state = load_state(conn.get());
  ASSERT_EQ(state.statements.size(), 2u);
  for (const engine::StatementRecord& st : state.statements) EXPECT_EQ(st.trading_date, "2025-11-25");
  // Monday's statement is read where it is; a restored engine opens Wednesday's at Tuesday's close.
  engine::StatementRecord monday;
  ASSERT_TRUE(read_statement(db.conninfo(), b.id, "2025-11-24", monday).is_ok());
  EXPECT_EQ(monday.deposits, Cash{1'000});
  engine::Exchange restored{config};
  restored.restore(state);
  const auto wednesday = restored.execute(Command{op, engine::RunEndOfDay{"2025-11-26"}}, kMonday1030 + 53 * kHour);
  ASSERT_TRUE(wednesday.reply.status.is_ok()) << wednesday.reply.status.message();
  EXPECT_EQ(engine::written_statement(wednesday, b.id).opening_cash, Cash{1'500});
  EXPECT_EQ(engine::written_statement(wednesday, s.id).opening_cash, Cash{0});
}

TEST_F(ClearingStoreTest, RecoveryLoadsTheOrdersAndTradesTheEngineHolds) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  const Principal registry{Role::registry_authority, 0, "reg"};
  const Principal buyer{Role::trader, b.id, "B"}, seller{Role::trader, s.id, "S"};
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1'000'000}, "d", false}).reply.status.is_ok());
  run(registry, engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});
  ASSERT_TRUE(run(registry, engine::IssueAllowances{"CEA2024", s.holding_account, Qty{100}, "a"}).reply.status.is_ok());
  auto order = [](Side side, std::int64_t price, std::int64_t qty, std::string id) {
    return engine::PlaceOrder{"CEA2024", side, OrderType::limit, TimeInForce::day, TradingMode::listed,
                              Price{price}, Qty{qty}, std::move(id)};
  };
  // Monday: a trade, and a buy that expires at end of day.
  ASSERT_TRUE(run(seller, order(Side::sell, 5'000, 10, "s-1")).reply.status.is_ok());
  const OrderId filled = run(buyer, order(Side::buy, 5'000, 10, "b-1")).reply.orders.at(0).id;
  const OrderId expired = run(buyer, order(Side::buy, 4'800, 1, "b-exp")).reply.orders.at(0).id;
  now = kMonday1030 + 5 * kHour;
  ASSERT_TRUE(run(op, engine::RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  // Tuesday: a buy resting, a sell that trades with it in part, a cancelled sell.
  now = kMonday1030 + 24 * kHour;
  const OrderId resting = run(buyer, order(Side::buy, 4'900, 5, "b-open")).reply.orders.at(0).id;
  ASSERT_EQ(run(seller, order(Side::sell, 4'900, 2, "")).reply.trades.size(), 1u);
  const OrderId cancelled = run(seller, order(Side::sell, 5'400, 1, "s-cancel")).reply.orders.at(0).id;
  ASSERT_TRUE(run(seller, engine::CancelOrder{cancelled}).reply.status.is_ok());
  commit_pending();
  // An update puts a row's new version after the others: the scan returns it last, and recovery sorts by id.
  exec_or_throw(conn.get(), "UPDATE orders SET updated_sequence = updated_sequence WHERE order_id = " +
                std::to_string(resting), "move the resting order's row");
  {
    PgResult last = exec_or_throw(conn.get(), "SELECT order_id FROM orders ORDER BY ctid DESC LIMIT 1", "last row");
    ASSERT_EQ(std::string(PQgetvalue(last.get(), 0, 0)), std::to_string(resting));
  }

  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_NO_THROW(check_state(conn.get(), state));
  std::vector<OrderId> ids;
  for (const engine::OrderRecord& o : state.orders) ids.push_back(o.id);
  EXPECT_EQ(ids, (std::vector<OrderId>{resting, resting + 1, cancelled})) << "open, or changed on Tuesday";
  ASSERT_EQ(state.trades.size(), 1u);
  EXPECT_EQ(state.trades[0].id, 2u);
  EXPECT_EQ(state.trades[0].buyer_fee, Cash{5}) << "2 t @ 49.00 = 9,800 fen; 5 bps = 4.9 -> 5";
  EXPECT_EQ(state.trades[0].seller_fee, Cash{3}) << "3 bps = 2.94 -> 3";
  EXPECT_EQ(state.last_order_id, cancelled);
  EXPECT_EQ(state.last_trade_id, 2u);
  using Closed = std::tuple<ParticipantId, std::uint64_t, OrderId>;
  std::vector<Closed> closed = state.closed_client_ids;
  std::sort(closed.begin(), closed.end());
  std::vector<Closed> expected{{b.id, engine::client_id_digest("b-1"), filled},
                               {b.id, engine::client_id_digest("b-exp"), expired},
                               {s.id, engine::client_id_digest("s-1"), filled - 1}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(closed, expected);

  // The restored engine: Monday's orders are read from PostgreSQL, their client ids stay used, ids go on.
  engine::Exchange restored{config};
  restored.restore(state);
  const auto got = restored.execute(Command{buyer, engine::GetOrder{filled}}, now);
  EXPECT_EQ(got.reply.status.code(), ErrorCode::not_found);
  EXPECT_TRUE(got.reply.order_closed_earlier);
  const auto reused = restored.execute(Command{buyer, order(Side::buy, 4'800, 1, "b-exp")}, now + 1);
  EXPECT_EQ(reused.reply.status.code(), ErrorCode::failed_precondition) << reused.reply.status.message();
  EXPECT_NE(reused.reply.status.message().find("by order " + std::to_string(expired)), std::string::npos)
      << reused.reply.status.message();
  const auto next = restored.execute(Command{buyer, order(Side::buy, 4'800, 1, "b-2")}, now + 2);
  ASSERT_TRUE(next.reply.status.is_ok()) << next.reply.status.message();
  EXPECT_EQ(next.reply.orders.at(0).id, cancelled + 1);
  const auto trade = restored.execute(Command{seller, order(Side::sell, 4'800, 1, "")}, now + 3);
  ASSERT_EQ(trade.reply.trades.size(), 1u);
  EXPECT_EQ(trade.reply.trades[0].id, 3u);

  engine::OrderRecord read;
  ASSERT_TRUE(read_order(db.conninfo(), filled, read).is_ok());
  EXPECT_EQ(read.status, OrderStatus::filled);
  EXPECT_EQ(read.participant, b.id);
  EXPECT_EQ(read.client_order_id, "b-1");
  ASSERT_TRUE(read_order(db.conninfo(), expired, read).is_ok());
  EXPECT_EQ(read.status, OrderStatus::expired);
  EXPECT_EQ(read_order(db.conninfo(), cancelled + 100, read).code(), ErrorCode::not_found);
  EXPECT_EQ(read_order(db.conninfo(), 0, read).code(), ErrorCode::not_found);
  EXPECT_EQ(read_order(db.conninfo(), ~OrderId{0}, read).code(), ErrorCode::not_found) << "beyond BIGINT";

  // A closed order of an earlier day that still reserves cash is refused at start, though not loaded.
  exec_or_throw(conn.get(), "UPDATE orders SET reserved_fen = 7 WHERE order_id = " + std::to_string(expired),
                "tamper");
  try {
    check_state(conn.get(), load_state(conn.get()));
    ADD_FAILURE() << "a closed order that reserves cash was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("order " + std::to_string(expired) + " is closed but still reserves 7 fen"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ClearingStoreTest, AnAuctionsBidsOfferAndTradesOutliveTheEndOfDayAcrossARestart) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  const Principal authority{Role::registry_authority, 0, "reg"};
  const Principal buyer{Role::trader, b.id, "B"};
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{100'000'000}, "d", false}).reply.status.is_ok());
  run(authority, engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap for the test"});
  ASSERT_TRUE(
      run(authority, engine::IssueAllowances{"CEA2024", registry::kAuctionAccount, Qty{1'000}, "paid"}).reply.status.is_ok());
  engine::CreateAuction create;
  create.instrument = "CEA2024";
  create.seller_account = registry::kAuctionAccount;
  create.offered = Qty{1'000};
  create.reserve_price = Price{4'000};
  create.pricing = 1;  // uniform
  create.bid_lot = Qty{100};
  create.opens_at = kMonday1030 + kHour / 6;
  create.closes_at = kMonday1030 + kHour;
  create.description = "2024 paid allocation";
  create.idempotency_key = "auction-1";
  const engine::Outcome made = run(op, create);
  ASSERT_TRUE(made.reply.status.is_ok()) << made.reply.status.message();
  const std::uint64_t auction = made.reply.auctions.at(0).id;
  now = create.opens_at;
  ASSERT_TRUE(run(buyer, engine::SubmitAuctionBid{auction, Price{5'000}, Qty{1'000}, "bid-1"}).reply.status.is_ok());
  // A listed order closed the same day (expired by the end of day), which the end of day lets go.
  const engine::Outcome listed = run(buyer, engine::PlaceOrder{"CEA2024", Side::buy, OrderType::limit, TimeInForce::day,
                                                               TradingMode::listed, Price{4'900}, Qty{1}, "listed-1"});
  ASSERT_TRUE(listed.reply.status.is_ok()) << listed.reply.status.message();
  now = create.closes_at;
  const engine::Outcome cleared = run(op, engine::CloseAuction{auction});
  ASSERT_TRUE(cleared.reply.status.is_ok()) << cleared.reply.status.message();
  ASSERT_EQ(cleared.reply.trades.size(), 1u);
  now = kMonday1030 + 5 * kHour;
  ASSERT_TRUE(run(op, engine::RunEndOfDay{"2025-11-24"}).reply.status.is_ok());
  commit_pending();
  // The journal's events are stored as text (migration 0019): the view parses every command's JSON, the
  // auction's events (written by nlohmann, store/auction_rows.cpp) included.
  EXPECT_EQ(query("SELECT count(DISTINCT payload->>'auction_id') FROM journal WHERE kind = 'AuctionChanged'"), "1");

  const engine::RecoveredState state = load_state(conn.get());
  EXPECT_NO_THROW(check_state(conn.get(), state));
  EXPECT_EQ(state.orders.size(), 2u) << "the auction's offer and bid, not the expired listed order";
  for (const engine::OrderRecord& o : state.orders) EXPECT_EQ(o.mode, TradingMode::auction);
  ASSERT_EQ(state.trades.size(), 1u) << "the auction's trade, of a day that ended";
  EXPECT_EQ(state.trades[0].id, cleared.reply.trades[0].id);
  EXPECT_EQ(state.closed_client_ids.size(), 1u);

  engine::Exchange restored{config};
  restored.restore(state);
  const auto bids = restored.execute(Command{buyer, engine::ListAuctionBids{auction}}, now);
  ASSERT_TRUE(bids.reply.status.is_ok()) << bids.reply.status.message();
  ASSERT_EQ(bids.reply.orders.size(), 1u);
  EXPECT_EQ(bids.reply.orders[0].status, OrderStatus::filled);
  const auto again = restored.execute(Command{op, engine::CloseAuction{auction}}, now + 1);
  ASSERT_TRUE(again.reply.status.is_ok()) << again.reply.status.message();
  ASSERT_EQ(again.reply.trades.size(), 1u) << "a repeated CloseAuction answers its trades";
  EXPECT_EQ(again.reply.trades[0].id, cleared.reply.trades[0].id);
  EXPECT_EQ(again.reply.trades[0].quantity, Qty{1'000});
}

TEST_F(ClearingStoreTest, AFailedReconciliationsAlertIsJournaledAndReadBackThroughTheView) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1'000'000}, "d", false}).reply.status.is_ok());
  commit_pending();
  // The database is tampered with between two runs (700 fen appear in B's account); the engine is restored
  // from it unchecked, so the end of day's reconciliation fails and raises an alert.
  engine::RecoveredState tampered = load_state(conn.get());
  for (engine::CashRecord& c : tampered.cash) {
    if (c.account == b.cash_account) c.balance.available += Cash{700};
  }
  engine::Exchange restored{config};
  restored.restore(tampered);
  now = kMonday1030 + 5 * kHour;
  const engine::Outcome eod = restored.execute(Command{op, engine::RunEndOfDay{"2025-11-24"}}, now);
  ASSERT_TRUE(eod.reply.status.is_ok()) << eod.reply.status.message();
  ASSERT_FALSE(eod.reply.reconciliation->balanced);
  ASSERT_TRUE(journal.commit({&eod}).is_ok());
  // Stored as text (migration 0019): the view parses the alert's JSON (written by nlohmann, clearing_rows.cpp).
  EXPECT_EQ(query("SELECT (payload->>'sequence') || ' ' || (payload->>'type') FROM journal WHERE kind = 'AlertRaised'"),
            std::to_string(eod.reply.sequence) + " " + std::to_string(engine::AlertRecord::kReconciliationFailure));
  EXPECT_EQ(query("SELECT count(*) FROM surveillance_alerts"), "1");
}

TEST_F(ClearingStoreTest, ClosedClientIdsAreStoredAsDigestsForTheNextStart) {
  const auto b = run(op, engine::CreateParticipant{"B", "Buyer", ParticipantType::institution, {1}}).reply.participants.at(0);
  const auto s = run(op, engine::CreateParticipant{"S", "Seller", ParticipantType::institution, {2}}).reply.participants.at(0);
  const Principal buyer{Role::trader, b.id, "B"}, seller{Role::trader, s.id, "S"};
  ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1'000'000}, "d", false}).reply.status.is_ok());
  run(Principal{Role::registry_authority, 0, "reg"}, engine::SetCap{2024, "power", Qty{1'000'000'000}, 0, "cap"});
  ASSERT_TRUE(run(Principal{Role::registry_authority, 0, "reg"},
                  engine::IssueAllowances{"CEA2024", s.holding_account, Qty{100}, "a"})
                  .reply.status.is_ok());
  auto order = [](Side side, std::int64_t price, std::string id) {
    return engine::PlaceOrder{"CEA2024", side, OrderType::limit, TimeInForce::day, TradingMode::listed,
                              Price{price}, Qty{1}, std::move(id)};
  };
  using Closed = std::tuple<ParticipantId, std::uint64_t, OrderId>;
  auto closed_ids = [&] {  // a start, as the daemon's: load, check, store
    ClosedClientIdRun from_orders;
    engine::RecoveredState state = load_state(conn.get(), &from_orders);
    check_state(conn.get(), state);
    const Status stored = store_closed_client_id_digests(conn.get(), state, from_orders);
    EXPECT_TRUE(stored.is_ok()) << stored.message();
    std::vector<Closed> closed = state.closed_client_ids;
    std::sort(closed.begin(), closed.end());
    return closed;
  };
  auto end_day = [&](const std::string& date) {
    now += 5 * kHour;
    ASSERT_TRUE(run(op, engine::RunEndOfDay{date}).reply.status.is_ok());
    now += 19 * kHour;
    commit_pending();
  };
  // Sequences above the stored runs made up below.
  for (int k = 0; k < 20; ++k) {
    ASSERT_TRUE(run(op, engine::MoveCash{b.cash_account, Cash{1}, "d" + std::to_string(k), false}).reply.status.is_ok());
  }
  // Monday: a trade and an order that expires.
  ASSERT_TRUE(run(seller, order(Side::sell, 5'000, "s-1")).reply.status.is_ok());
  const OrderId filled = run(buyer, order(Side::buy, 5'000, "b-1")).reply.orders.at(0).id;
  const OrderId expired = run(buyer, order(Side::buy, 4'800, "b-exp")).reply.orders.at(0).id;
  end_day("2025-11-24");
  const std::string monday_end = query("SELECT max(day_opened_sequence) FROM market_state");

  std::vector<Closed> expected{{b.id, engine::client_id_digest("b-1"), filled},
                               {b.id, engine::client_id_digest("b-exp"), expired},
                               {s.id, engine::client_id_digest("s-1"), filled - 1}};
  std::sort(expected.begin(), expected.end());
  // A start that check_state refuses stores nothing (here a day opened after the journal's last sequence).
  {
    const std::string last = query("SELECT max(sequence) FROM journal_commands");
    exec_or_throw(conn.get(), "UPDATE market_state SET day_opened_sequence = " + last + " + 7", "open a day later");
    ClosedClientIdRun from_orders;
    const engine::RecoveredState refused = load_state(conn.get(), &from_orders);
    EXPECT_ANY_THROW(check_state(conn.get(), refused));
    exec_or_throw(conn.get(), "UPDATE market_state SET day_opened_sequence = " + monday_end, "repair");
    EXPECT_EQ(query("SELECT count(*) FROM closed_client_id_digests"), "0");
  }
  // The first start reads them from `orders` and stores them, one row per participant, as of the day's opening.
  EXPECT_EQ(closed_ids(), expected);
  EXPECT_EQ(query("SELECT count(*) || ' ' || sum(length(pairs)) || ' ' || min(through_sequence) || ' ' ||"
                  " max(through_sequence) FROM closed_client_id_digests"),
            "2 48 " + monday_end + " " + monday_end);
  // The next start reads the stored digests, not `orders`: a changed client id there is not seen.
  exec_or_throw(conn.get(), "UPDATE orders SET client_order_id = 'changed' WHERE order_id = " + std::to_string(filled),
                "change a stored client id");
  EXPECT_EQ(closed_ids(), expected);
  EXPECT_EQ(query("SELECT count(*) FROM closed_client_id_digests"), "2") << "nothing new to store";
  exec_or_throw(conn.get(), "UPDATE orders SET client_order_id = 'b-1' WHERE order_id = " + std::to_string(filled),
                "restore it");

  // Tuesday: a cancelled order and one still open at the start. A start after the end of day adds one run.
  const OrderId cancelled = run(buyer, order(Side::buy, 4'700, "b-cancel")).reply.orders.at(0).id;
  ASSERT_TRUE(run(buyer, engine::CancelOrder{cancelled}).reply.status.is_ok());
  end_day("2025-11-25");
  const std::string tuesday_end = query("SELECT max(day_opened_sequence) FROM market_state");
  const OrderId open = run(buyer, order(Side::buy, 4'600, "b-open")).reply.orders.at(0).id;
  commit_pending();
  expected.emplace_back(b.id, engine::client_id_digest("b-cancel"), cancelled);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(closed_ids(), expected);
  EXPECT_EQ(query("SELECT count(*) || ' ' || length(pairs) FROM closed_client_id_digests WHERE through_sequence = " +
                  tuesday_end + " GROUP BY pairs"),
            "1 16")
      << "the cancelled order only: the open one is held";

  // With 16 runs stored, the next start stores every digest again as one run.
  ASSERT_GT(std::stoull(monday_end), 14u);
  for (unsigned long long k = 1; k <= 14; ++k) {
    char pair[33];
    std::snprintf(pair, sizeof pair, "%016llx%016llx", k, 9ULL);  // digest k, order 9
    exec_or_throw(conn.get(),
                  "INSERT INTO closed_client_id_digests VALUES (" + std::to_string(k) + ", " + std::to_string(s.id) +
                      ", 0, '\\x" + pair + "')",
                  "store a run");
  }
  ASSERT_EQ(query("SELECT count(DISTINCT through_sequence) FROM closed_client_id_digests"), "16");
  const OrderId wednesday = run(seller, order(Side::sell, 5'500, "s-wed")).reply.orders.at(0).id;
  ASSERT_TRUE(run(seller, engine::CancelOrder{wednesday}).reply.status.is_ok());
  end_day("2025-11-26");
  const std::vector<Closed> all = closed_ids();
  EXPECT_EQ(all.size(), expected.size() + 14 + 2) << "the stored runs' digests, and Wednesday's two";
  EXPECT_NE(std::find(all.begin(), all.end(), Closed{s.id, engine::client_id_digest("s-wed"), wednesday}), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), Closed{b.id, engine::client_id_digest("b-open"), open}), all.end())
      << "expired at Wednesday's end";
  EXPECT_NE(std::find(all.begin(), all.end(), Closed{s.id, 14, 9}), all.end()) << "a stored run's pair kept";
  EXPECT_EQ(query("SELECT count(DISTINCT through_sequence) || ' ' || sum(length(pairs)) FROM closed_client_id_digests"),
            "1 " + std::to_string(16 * all.size()));
  EXPECT_EQ(closed_ids(), all) << "read back from the one run";

  // A stored run past the day's opening was not stored by a start this database accepted: the next start
  // reads `orders` in full and stores one run in place of all.
  exec_or_throw(conn.get(),
                "INSERT INTO closed_client_id_digests VALUES (999999999, " + std::to_string(s.id) + ", 0, '\\x" +
                    std::string(31, '0') + "1" + std::string(31, '0') + "2')",
                "store a run past the day");
  std::vector<Closed> from_orders = all;
  std::erase_if(from_orders, [](const Closed& c) { return std::get<2>(c) == 9; });  // the made-up runs' pairs
  EXPECT_EQ(closed_ids(), from_orders);
  EXPECT_EQ(query("SELECT count(DISTINCT through_sequence) || ' ' || sum(length(pairs)) || ' ' || "
                  "max(through_sequence) FROM closed_client_id_digests"),
            "1 " + std::to_string(16 * from_orders.size()) + " " +
                query("SELECT max(day_opened_sequence) FROM market_state"));

  // A restored engine refuses a client id of each kind of stored closed order.
  engine::RecoveredState state = load_state(conn.get());
  EXPECT_NO_THROW(check_state(conn.get(), state));
  engine::Exchange restored{config};
  restored.restore(state);
  for (const auto& [who, id, by] : {std::tuple{buyer, "b-1", filled}, std::tuple{buyer, "b-cancel", cancelled},
                                    std::tuple{buyer, "b-open", open}, std::tuple{seller, "s-wed", wednesday}}) {
    const Side side = who.participant == b.id ? Side::buy : Side::sell;
    const auto reused = restored.execute(Command{who, order(side, side == Side::buy ? 4'900 : 5'400, id)}, now += 1'000);
    EXPECT_EQ(reused.reply.status.code(), ErrorCode::failed_precondition) << id;
    EXPECT_NE(reused.reply.status.message().find("by order " + std::to_string(by)), std::string::npos)
        << reused.reply.status.message();
  }
}

}  // namespace
}  // namespace carbon::store
