// The streams end to end against a real carbond and PostgreSQL: order
// sessions (batches answered in command order after commit, rejections as
// reports, unsolicited fills to the resting order's owner), book depth and
// public trades.

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

using Session = grpc::ClientReaderWriter<v1::SessionRequest, v1::SessionResponse>;

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exchange = open();
    seller = create(*exchange, "KEU-1", v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
    buyer = create(*exchange, "INST-1", v1::PARTICIPANT_TYPE_INSTITUTION);
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(buyer.participant().cash_account_id());
    deposit.set_amount_fen(5'000'000'000);
    deposit.set_idempotency_key("dep-1");
    v1::CashMovementResponse deposited;
    ASSERT_TRUE(exchange->admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &deposited).ok());
    ASSERT_TRUE(set_generous_cap(*exchange).ok());
    v1::IssueAllowancesRequest issue;
    issue.set_instrument("CEA2024");
    issue.set_holding_account_id(seller.participant().holding_account_id());
    issue.set_quantity(300'000);
    issue.set_reason("allocation");
    v1::IssueAllowancesResponse issued;
    ASSERT_TRUE(exchange->registry->IssueAllowances(RunningExchange::as(kRegistryToken).get(), issue, &issued).ok());
  }
  void TearDown() override {
    if (HasFailure() && exchange) std::cerr << "---- carbond log ----\n" << exchange->log();
  }

  std::unique_ptr<RunningExchange> open() {
    auto x = std::make_unique<RunningExchange>(std::vector<std::string>{"--postgres=" + db.conninfo()});
    x->start();
    return x;
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

  static v1::SessionCommand place(v1::Side side, std::int64_t price, std::int64_t qty, const std::string& client_id = "") {
    v1::SessionCommand command;
    v1::PlaceOrderRequest& order = *command.mutable_place();
    order.set_instrument("CEA2024");
    order.set_side(side);
    order.set_price_fen(price);
    order.set_quantity(qty);
    order.set_client_order_id(client_id);
    return command;
  }

  /// Opens an order session on `context` (the seller's) whose first batch
  /// (id 1, a sell of `quantity` at 101.00) has been answered.
  std::unique_ptr<Session> session_with_one_sell(grpc::ClientContext* context, std::int64_t quantity) {
    std::unique_ptr<Session> session = exchange->trading->OrderSession(context);
    v1::SessionRequest batch;
    batch.set_batch_id(1);
    *batch.add_commands() = place(v1::SIDE_SELL, 10'100, quantity);
    EXPECT_TRUE(session->Write(batch));
    v1::SessionResponse response;
    EXPECT_TRUE(session->Read(&response));
    EXPECT_EQ(response.batch_id(), 1u);
    return session;
  }

  grpc::Status place_unary(const std::string& token, v1::Side side, std::int64_t price, std::int64_t qty,
                           v1::PlaceOrderResponse* response = nullptr, const std::string& client_id = "") {
    v1::PlaceOrderRequest request = place(side, price, qty, client_id).place();
    v1::PlaceOrderResponse ignored;
    return exchange->trading->PlaceOrder(RunningExchange::as(token).get(), request, response ? response : &ignored);
  }

  v1::BookSnapshot get_book(std::uint32_t depth) {
    v1::GetBookRequest request;
    request.set_instrument("CEA2024");
    request.set_depth(depth);
    v1::BookSnapshot response;
    EXPECT_TRUE(exchange->market_data->GetBook(RunningExchange::as(kRegulatorToken).get(), request, &response).ok());
    return response;
  }

  /// Bids and asks only (GetBook carries no sequence for a query).
  static std::string levels_of(const v1::BookSnapshot& snapshot) {
    v1::BookSnapshot copy = snapshot;
    copy.clear_sequence();
    return copy.ShortDebugString();
  }

  TestDatabase db;
  std::unique_ptr<RunningExchange> exchange;
  v1::CreateParticipantResponse seller, buyer;
};

TEST_F(StreamTest, OrderSessionAnswersEachBatchInCommandOrderWithRejectionsAsReports) {
  auto context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> session = exchange->trading->OrderSession(context.get());

  v1::SessionRequest batch;
  batch.set_batch_id(1);
  for (int i = 0; i < 50; ++i) *batch.add_commands() = place(v1::SIDE_SELL, 10'000 + i, 10, "s-" + std::to_string(i));
  *batch.add_commands() = place(v1::SIDE_SELL, 20'000, 10);  // outside the ±10% band
  batch.add_commands()->mutable_cancel()->set_order_id(999'999);
  batch.add_commands();  // empty
  *batch.add_commands() = place(v1::SIDE_SELL, 10'000, 0);  // malformed: refused and journaled
  ASSERT_TRUE(session->Write(batch));

  v1::SessionResponse response;
  ASSERT_TRUE(session->Read(&response));
  EXPECT_EQ(response.batch_id(), 1u);
  ASSERT_EQ(response.reports_size(), 54);
  std::uint64_t last_sequence = 0;
  for (int i = 0; i < 50; ++i) {
    const v1::ExecutionReport& report = response.reports(i);
    EXPECT_EQ(report.type(), v1::EXECUTION_TYPE_ACCEPTED);
    EXPECT_EQ(report.command_index(), static_cast<std::uint32_t>(i));
    EXPECT_EQ(report.order().client_order_id(), "s-" + std::to_string(i));
    EXPECT_EQ(report.order().price_fen(), 10'000 + i);
    EXPECT_EQ(report.order().status(), v1::ORDER_STATUS_NEW);
    EXPECT_GT(report.sequence(), last_sequence) << "commands are applied in order";
    last_sequence = report.sequence();
  }
  EXPECT_EQ(response.reports(50).type(), v1::EXECUTION_TYPE_REJECTED);
  EXPECT_EQ(response.reports(50).command_index(), 50u);
  EXPECT_EQ(response.reports(50).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(response.reports(50).order().status(), v1::ORDER_STATUS_REJECTED);
  EXPECT_GT(response.reports(50).sequence(), 0u) << "a rejection by the engine is journaled";
  EXPECT_EQ(response.reports(51).type(), v1::EXECUTION_TYPE_CANCEL_REJECTED);
  EXPECT_EQ(response.reports(51).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(response.reports(51).order().order_id(), 999'999u);
  EXPECT_EQ(response.reports(52).type(), v1::EXECUTION_TYPE_REJECTED);
  EXPECT_EQ(response.reports(52).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.reports(52).sequence(), 0u) << "an empty command never reaches the engine";
  EXPECT_EQ(response.reports(53).type(), v1::EXECUTION_TYPE_REJECTED);
  EXPECT_EQ(response.reports(53).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Many batches written without waiting: one response per batch, in order.
  // (Fewer than the session keeps in flight: 256 messages, 16,000 commands.)
  constexpr int kBatches = 40;
  constexpr int kOrders = 50;
  for (int b = 0; b < kBatches; ++b) {
    v1::SessionRequest next;
    next.set_batch_id(100 + b);
    for (int i = 0; i < kOrders; ++i) *next.add_commands() = place(v1::SIDE_SELL, 10'500 + i, 1);
    ASSERT_TRUE(session->Write(next));
  }
  for (int b = 0; b < kBatches; ++b) {
    ASSERT_TRUE(session->Read(&response));
    ASSERT_EQ(response.batch_id(), static_cast<std::uint64_t>(100 + b));
    ASSERT_EQ(response.reports_size(), kOrders);
    for (int i = 0; i < kOrders; ++i) {
      EXPECT_EQ(response.reports(i).type(), v1::EXECUTION_TYPE_ACCEPTED);
      EXPECT_EQ(response.reports(i).command_index(), static_cast<std::uint32_t>(i));
    }
  }
  // A batch over the limit (1,000 commands) is refused command by command; nothing is applied.
  v1::SessionRequest oversized;
  oversized.set_batch_id(500);
  for (int i = 0; i < 1'001; ++i) *oversized.add_commands() = place(v1::SIDE_SELL, 10'600, 1);
  ASSERT_TRUE(session->Write(oversized));
  ASSERT_TRUE(session->Read(&response));
  EXPECT_EQ(response.batch_id(), 500u);
  ASSERT_EQ(response.reports_size(), 1'001);
  for (const auto& report : response.reports()) {
    EXPECT_EQ(report.type(), v1::EXECUTION_TYPE_REJECTED);
    EXPECT_EQ(report.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(report.sequence(), 0u);
  }

  ASSERT_TRUE(session->WritesDone());
  EXPECT_FALSE(session->Read(&response)) << "the server ends the session after the client half-closes";
  const grpc::Status status = session->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(StreamTest, ASessionCannotCancelOrAmendAnotherParticipantsOrder) {
  v1::PlaceOrderResponse placed;
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 10, &placed).ok());
  const std::uint64_t theirs = placed.order().order_id();

  // The buyer's session names the seller's order: each command is refused, and nothing changes.
  auto buyer_context = RunningExchange::as(buyer.trader_token());
  std::unique_ptr<Session> buyer_session = exchange->trading->OrderSession(buyer_context.get());
  v1::SessionRequest meddle;
  meddle.set_batch_id(7);
  meddle.add_commands()->mutable_cancel()->set_order_id(theirs);
  v1::AmendOrderRequest& amend = *meddle.add_commands()->mutable_amend();
  amend.set_order_id(theirs);
  amend.set_new_quantity(5);
  ASSERT_TRUE(buyer_session->Write(meddle));
  v1::SessionResponse response;
  ASSERT_TRUE(buyer_session->Read(&response));
  ASSERT_EQ(response.reports_size(), 2);
  EXPECT_EQ(response.reports(0).type(), v1::EXECUTION_TYPE_CANCEL_REJECTED);
  EXPECT_EQ(response.reports(0).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(response.reports(0).error_message().find("another participant"), std::string::npos)
      << response.reports(0).error_message();
  EXPECT_EQ(response.reports(1).type(), v1::EXECUTION_TYPE_AMEND_REJECTED);
  EXPECT_EQ(response.reports(1).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(response.reports(1).error_message().find("another participant"), std::string::npos)
      << response.reports(1).error_message();

  v1::GetOrderRequest get;
  get.set_order_id(theirs);
  v1::Order order;
  ASSERT_TRUE(exchange->trading->GetOrder(RunningExchange::as(seller.trader_token()).get(), get, &order).ok());
  EXPECT_EQ(order.status(), v1::ORDER_STATUS_NEW);
  EXPECT_EQ(order.quantity(), 10);
  ASSERT_TRUE(buyer_session->WritesDone());
  EXPECT_FALSE(buyer_session->Read(&response));
  EXPECT_TRUE(buyer_session->Finish().ok());
}

TEST_F(StreamTest, FillsAreReportedToTheAggressorAndUnsolicitedToTheRestingOwnersSession) {
  auto seller_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> seller_session = exchange->trading->OrderSession(seller_context.get());
  auto buyer_context = RunningExchange::as(buyer.trader_token());
  std::unique_ptr<Session> buyer_session = exchange->trading->OrderSession(buyer_context.get());

  v1::SessionRequest sells;
  sells.set_batch_id(1);
  for (int i = 0; i < 5; ++i) *sells.add_commands() = place(v1::SIDE_SELL, 10'000 + i, 10);
  ASSERT_TRUE(seller_session->Write(sells));
  v1::SessionResponse response;
  ASSERT_TRUE(seller_session->Read(&response));
  ASSERT_EQ(response.reports_size(), 5);
  std::set<std::uint64_t> resting;
  for (const auto& report : response.reports()) resting.insert(report.order().order_id());

  v1::SessionRequest buy;
  buy.set_batch_id(7);
  *buy.add_commands() = place(v1::SIDE_BUY, 10'003, 100);
  ASSERT_TRUE(buyer_session->Write(buy));
  ASSERT_TRUE(buyer_session->Read(&response));
  EXPECT_EQ(response.batch_id(), 7u);
  ASSERT_EQ(response.reports_size(), 5) << response.ShortDebugString();
  EXPECT_EQ(response.reports(0).type(), v1::EXECUTION_TYPE_ACCEPTED);
  std::int64_t filled = 0;
  for (int i = 1; i < 5; ++i) {
    const v1::ExecutionReport& fill = response.reports(i);
    EXPECT_EQ(fill.type(), v1::EXECUTION_TYPE_FILL);
    EXPECT_EQ(fill.command_index(), 0u);
    EXPECT_EQ(fill.trade().price_fen(), 10'000 + i - 1) << "best price first, at the resting order's price";
    filled += fill.trade().quantity();
    EXPECT_EQ(fill.order().filled_quantity(), filled);
    EXPECT_EQ(fill.order().status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  }

  // The seller did nothing, yet its session hears of the four fills.
  std::vector<v1::ExecutionReport> unsolicited;
  while (unsolicited.size() < 4) {
    ASSERT_TRUE(seller_session->Read(&response));
    EXPECT_EQ(response.batch_id(), 0u);
    for (const auto& report : response.reports()) unsolicited.push_back(report);
  }
  ASSERT_EQ(unsolicited.size(), 4u);
  for (std::size_t i = 0; i < unsolicited.size(); ++i) {
    EXPECT_EQ(unsolicited[i].type(), v1::EXECUTION_TYPE_FILL);
    EXPECT_TRUE(resting.contains(unsolicited[i].order().order_id()));
    EXPECT_EQ(unsolicited[i].order().status(), v1::ORDER_STATUS_FILLED);
    EXPECT_EQ(unsolicited[i].order().participant_id(), seller.participant().participant_id());
    EXPECT_EQ(unsolicited[i].trade().price_fen(), 10'000 + static_cast<std::int64_t>(i));
  }

  // A fill by a unary PlaceOrder reaches the resting owner's session too.
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'003, 5).ok());
  ASSERT_TRUE(buyer_session->Read(&response));
  EXPECT_EQ(response.batch_id(), 0u);
  ASSERT_EQ(response.reports_size(), 1);
  EXPECT_EQ(response.reports(0).type(), v1::EXECUTION_TYPE_FILL);
  EXPECT_EQ(response.reports(0).trade().quantity(), 5);
  EXPECT_EQ(response.reports(0).order().filled_quantity(), 45);

  for (Session* s : {seller_session.get(), buyer_session.get()}) {
    ASSERT_TRUE(s->WritesDone());
    while (s->Read(&response)) {
    }
    EXPECT_TRUE(s->Finish().ok());
  }
}

// A session command answered UNAVAILABLE while the journal waits on a lock
// past journal_unavailable_after_ms (outcome unknown) still commits when the
// lock goes; the participant's session then hears what became of it.
TEST_F(StreamTest, ACommandAnsweredUnavailableInAnOutageIsReportedWhenItCommits) {
  exchange->stop();
  exchange = std::make_unique<RunningExchange>(std::vector<std::string>{"--postgres=" + db.conninfo()},
                                               "[storage]\njournal_unavailable_after_ms = 300");
  exchange->start();
  auto context = RunningExchange::as(seller.trader_token());
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  std::unique_ptr<Session> session = exchange->trading->OrderSession(context.get());
  v1::SessionResponse response;
  {
    TableLock lock(db.conninfo(), "journal_commands");
    v1::SessionRequest batch;
    batch.set_batch_id(1);
    *batch.add_commands() = place(v1::SIDE_SELL, 10'100, 10, "late-1");
    ASSERT_TRUE(session->Write(batch));
    ASSERT_TRUE(session->Read(&response));
    EXPECT_EQ(response.batch_id(), 1u);
    ASSERT_EQ(response.reports_size(), 1);
    EXPECT_EQ(response.reports(0).type(), v1::EXECUTION_TYPE_REJECTED);
    EXPECT_EQ(response.reports(0).error_code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
    EXPECT_EQ(response.reports(0).order().status(), v1::ORDER_STATUS_UNSPECIFIED) << "not known to be rejected";
    EXPECT_NE(response.reports(0).error_message().find("outcome is unknown"), std::string::npos)
        << response.reports(0).error_message();
  }
  ASSERT_TRUE(session->Read(&response)) << "no report of the order once it committed";
  EXPECT_EQ(response.batch_id(), 0u);
  ASSERT_EQ(response.reports_size(), 1) << response.ShortDebugString();
  EXPECT_EQ(response.reports(0).type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(response.reports(0).order().client_order_id(), "late-1");
  EXPECT_EQ(response.reports(0).order().status(), v1::ORDER_STATUS_NEW);
  EXPECT_GT(response.reports(0).sequence(), 0u);
  // The order rests: a resubmission with the same client order id answers it, nothing new. The late report can
  // arrive a moment before the writer takes commands again (it does once what queued in the outage is
  // committed): a resubmission refused UNAVAILABLE then is retried, as a client would.
  std::uint64_t batch_id = 2;
  for (int attempt = 0; attempt < 100; ++attempt, ++batch_id) {
    v1::SessionRequest again;
    again.set_batch_id(batch_id);
    *again.add_commands() = place(v1::SIDE_SELL, 10'100, 10, "late-1");
    ASSERT_TRUE(session->Write(again));
    ASSERT_TRUE(session->Read(&response));
    ASSERT_EQ(response.reports_size(), 1);
    if (response.reports(0).error_code() != static_cast<int>(grpc::StatusCode::UNAVAILABLE)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(response.batch_id(), batch_id);
  EXPECT_EQ(response.reports(0).type(), v1::EXECUTION_TYPE_ACCEPTED) << response.ShortDebugString();
  EXPECT_EQ(response.reports(0).order().client_order_id(), "late-1");
  ASSERT_TRUE(session->WritesDone());
  while (session->Read(&response)) {
  }
  EXPECT_TRUE(session->Finish().ok());
}

// An order session whose API token has expired ends at its next report: the fill after the expiry is not sent on
// it, and the session ends UNAUTHENTICATED.
TEST_F(StreamTest, ASessionWhoseTokenHasExpiredEndsAtItsNextReport) {
  v1::PlaceOrderResponse probe;  // the engine's clock, from an order's entry time
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 9'000, 1, &probe).ok());
  v1::IssueApiTokenRequest request;
  request.set_role(v1::ROLE_TRADER);
  request.set_participant_id(seller.participant().participant_id());
  request.set_label("brief desk");
  request.set_expires_at_unix_nanos(probe.order().entered_at_unix_nanos() + 3'000'000'000);
  v1::IssueApiTokenResponse desk;
  ASSERT_TRUE(exchange->admin->IssueApiToken(RunningExchange::as(kOperatorToken).get(), request, &desk).ok());
  auto context = RunningExchange::as(desk.token());
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  std::unique_ptr<Session> session = session_with_one_sell(context.get(), 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(3'500));
  v1::PlaceOrderResponse bought;
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'100, 10, &bought).ok());
  EXPECT_EQ(bought.fills_size(), 1) << "the buy met the session's sell";
  v1::SessionResponse response;
  EXPECT_FALSE(session->Read(&response)) << response.ShortDebugString();
  const grpc::Status status = session->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_NE(status.error_message().find("expired"), std::string::npos) << status.error_message();
}

// Each open session buffers its own responses and gets all its participant's
// unsolicited reports: one participant may have at most
// session_max_per_participant open; another participant is not affected.
TEST_F(StreamTest, AParticipantsOpenSessionsAreBounded) {
  exchange->stop();
  exchange = std::make_unique<RunningExchange>(std::vector<std::string>{"--postgres=" + db.conninfo()},
                                               "session_max_per_participant = 2\n");
  exchange->start();
  auto first_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> first = session_with_one_sell(first_context.get(), 1);
  auto second_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> second = session_with_one_sell(second_context.get(), 1);

  auto third_context = RunningExchange::as(seller.trader_token());
  third_context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));  // if it were let in
  std::unique_ptr<Session> third = exchange->trading->OrderSession(third_context.get());
  v1::SessionResponse response;
  EXPECT_FALSE(third->Read(&response)) << response.ShortDebugString();
  const grpc::Status refused = third->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_NE(refused.error_message().find("has 2 open, the most allowed ([server] session_max_per_participant)"),
            std::string::npos)
      << refused.error_message();

  // Another participant opens its own.
  auto buyer_context = RunningExchange::as(buyer.trader_token());
  std::unique_ptr<Session> buyer_session = exchange->trading->OrderSession(buyer_context.get());
  v1::SessionRequest bid;
  bid.set_batch_id(1);
  *bid.add_commands() = place(v1::SIDE_BUY, 9'900, 1);
  ASSERT_TRUE(buyer_session->Write(bid));
  ASSERT_TRUE(buyer_session->Read(&response));
  EXPECT_EQ(response.batch_id(), 1u);

  // Once one closes, the seller may open another.
  ASSERT_TRUE(first->WritesDone());
  while (first->Read(&response)) {
  }
  EXPECT_TRUE(first->Finish().ok());
  std::unique_ptr<grpc::ClientContext> again_context;
  std::unique_ptr<Session> again;
  ASSERT_TRUE(eventually([&] {  // the server forgets the closed one as its stream ends, just after the client does
    again.reset();  // the stream before its context
    again_context = RunningExchange::as(seller.trader_token());
    again = exchange->trading->OrderSession(again_context.get());
    v1::SessionRequest sell;
    sell.set_batch_id(1);
    *sell.add_commands() = place(v1::SIDE_SELL, 10'100, 1);
    if (!again->Write(sell) || !again->Read(&response)) {
      again->Finish();
      return false;
    }
    return response.batch_id() == 1u;
  }));
  for (Session* s : {second.get(), again.get(), buyer_session.get()}) {
    ASSERT_TRUE(s->WritesDone());
    while (s->Read(&response)) {
    }
    EXPECT_TRUE(s->Finish().ok());
  }
}

TEST_F(StreamTest, OrderSessionIsForTradersOnly) {
  auto context = RunningExchange::as(kOperatorToken);
  std::unique_ptr<Session> session = exchange->trading->OrderSession(context.get());
  v1::SessionResponse response;
  EXPECT_FALSE(session->Read(&response));
  EXPECT_EQ(session->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto anonymous = RunningExchange::as("");
  session = exchange->trading->OrderSession(anonymous.get());
  EXPECT_FALSE(session->Read(&response));
  EXPECT_EQ(session->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

/// Reads the message that ends a session's replay: replay set, no reports.
void expect_replay_end(Session& session) {
  v1::SessionResponse end;
  ASSERT_TRUE(session.Read(&end));
  EXPECT_TRUE(end.replay());
  EXPECT_EQ(end.batch_id(), 0u);
  EXPECT_EQ(end.reports_size(), 0) << end.ShortDebugString();
}

TEST_F(StreamTest, AReconnectingSessionReplaysItsReportsSinceASequenceThenGoesOnLive) {
  // Changes to the seller's orders by unary calls and by the buyer: entry, a fill, a cancel, another entry.
  v1::PlaceOrderResponse first;
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'000, 10, &first, "first").ok());
  const std::uint64_t entered = first.order().sequence();
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'000, 4).ok());
  v1::CancelOrderRequest cancel;
  cancel.set_order_id(first.order().order_id());
  v1::CancelOrderResponse cancelled;
  ASSERT_TRUE(exchange->trading->CancelOrder(RunningExchange::as(seller.trader_token()).get(), cancel, &cancelled).ok());
  v1::PlaceOrderResponse second;
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 5, &second, "second").ok());

  // After a restart, as a terminal reconnecting would.
  exchange.reset();
  exchange = open();
  auto context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> session = exchange->trading->OrderSession(context.get());
  v1::SessionRequest hello;
  hello.set_replay_after_sequence(entered - 1);
  ASSERT_TRUE(session->Write(hello));
  v1::SessionResponse replayed;
  ASSERT_TRUE(session->Read(&replayed));
  EXPECT_TRUE(replayed.replay());
  EXPECT_EQ(replayed.batch_id(), 0u);
  ASSERT_EQ(replayed.reports_size(), 4) << replayed.ShortDebugString();
  const v1::ExecutionReport& accepted = replayed.reports(0);
  EXPECT_EQ(accepted.type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(accepted.sequence(), entered);
  EXPECT_EQ(accepted.order().client_order_id(), "first");
  EXPECT_EQ(accepted.order().filled_quantity(), 0);
  EXPECT_EQ(accepted.order().status(), v1::ORDER_STATUS_NEW);
  const v1::ExecutionReport& fill = replayed.reports(1);
  EXPECT_EQ(fill.type(), v1::EXECUTION_TYPE_FILL);
  EXPECT_EQ(fill.trade().quantity(), 4);
  EXPECT_EQ(fill.trade().seller_participant_id(), seller.participant().participant_id());
  EXPECT_EQ(fill.sequence(), fill.trade().sequence());
  EXPECT_EQ(fill.order().filled_quantity(), 4);
  EXPECT_EQ(fill.order().status(), v1::ORDER_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(replayed.reports(2).type(), v1::EXECUTION_TYPE_CANCELLED);
  EXPECT_GT(replayed.reports(2).sequence(), fill.sequence());
  EXPECT_EQ(replayed.reports(2).order().status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(replayed.reports(2).order().filled_quantity(), 4);
  EXPECT_EQ(replayed.reports(3).type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(replayed.reports(3).order().client_order_id(), "second");
  EXPECT_EQ(replayed.reports(3).sequence(), second.order().sequence());
  expect_replay_end(*session);

  // Then the session is live: its own batch is answered, another's fill of its order comes unsolicited.
  v1::SessionRequest batch;
  batch.set_batch_id(7);
  *batch.add_commands() = place(v1::SIDE_SELL, 10'200, 3, "third");
  ASSERT_TRUE(session->Write(batch));
  v1::SessionResponse answer;
  ASSERT_TRUE(session->Read(&answer));
  EXPECT_FALSE(answer.replay());
  EXPECT_EQ(answer.batch_id(), 7u);
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'100, 5).ok());
  v1::SessionResponse live;
  ASSERT_TRUE(session->Read(&live));
  EXPECT_FALSE(live.replay());
  ASSERT_EQ(live.reports_size(), 1);
  EXPECT_EQ(live.reports(0).type(), v1::EXECUTION_TYPE_FILL);
  EXPECT_EQ(live.reports(0).order().client_order_id(), "second");
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());

  // A later starting point replays less, before the answer to the first message's commands.
  auto later_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> later = exchange->trading->OrderSession(later_context.get());
  hello.set_replay_after_sequence(fill.sequence());
  hello.set_batch_id(9);
  *hello.add_commands() = place(v1::SIDE_SELL, 10'300, 1, "fourth");
  ASSERT_TRUE(later->Write(hello));
  ASSERT_TRUE(later->Read(&replayed));
  ASSERT_EQ(replayed.reports_size(), 4) << "the cancel, the second order, the third order, the fill of the second";
  EXPECT_EQ(replayed.reports(0).type(), v1::EXECUTION_TYPE_CANCELLED);
  EXPECT_EQ(replayed.reports(0).order().filled_quantity(), 4) << "filled before the replay's start";
  EXPECT_EQ(replayed.reports(1).order().client_order_id(), "second");
  EXPECT_EQ(replayed.reports(2).type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(replayed.reports(2).order().client_order_id(), "third");
  EXPECT_EQ(replayed.reports(3).type(), v1::EXECUTION_TYPE_FILL);
  EXPECT_EQ(replayed.reports(3).order().status(), v1::ORDER_STATUS_FILLED);
  expect_replay_end(*later);
  ASSERT_TRUE(later->Read(&answer));
  EXPECT_EQ(answer.batch_id(), 9u);
  ASSERT_EQ(answer.reports_size(), 1);
  EXPECT_EQ(answer.reports(0).order().client_order_id(), "fourth");
  later->WritesDone();
  EXPECT_TRUE(later->Finish().ok());

  auto last_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> last = exchange->trading->OrderSession(last_context.get());
  batch.set_replay_after_sequence(replayed.reports(3).sequence());
  batch.set_batch_id(8);
  batch.clear_commands();
  *batch.add_commands() = place(v1::SIDE_SELL, 10'300, 1, "fifth");
  ASSERT_TRUE(last->Write(batch));
  ASSERT_TRUE(last->Read(&replayed));  // the order entered by the session before
  ASSERT_EQ(replayed.reports_size(), 1) << replayed.ShortDebugString();
  EXPECT_EQ(replayed.reports(0).order().client_order_id(), "fourth");
  expect_replay_end(*last);
  ASSERT_TRUE(last->Read(&answer));
  EXPECT_EQ(answer.batch_id(), 8u) << answer.ShortDebugString();
  last->WritesDone();
  EXPECT_TRUE(last->Finish().ok());

  // Nothing to replay: the end alone.
  auto none_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> none = exchange->trading->OrderSession(none_context.get());
  v1::SessionRequest nothing;
  nothing.set_replay_after_sequence(answer.reports(0).sequence());
  ASSERT_TRUE(none->Write(nothing));
  expect_replay_end(*none);
  none->WritesDone();
  EXPECT_FALSE(none->Read(&answer));
  EXPECT_TRUE(none->Finish().ok());
}

TEST_F(StreamTest, ASessionReplayCoversTheTradingDayInProgressAndTheOneBefore) {
  auto at = [&](const std::string& clock) {
    exchange.reset();
    exchange = std::make_unique<RunningExchange>(
        std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=" + clock});
    exchange->start();
  };
  auto end_day = [&](const std::string& date) {
    v1::RunEndOfDayRequest request;
    request.set_trading_date(date);
    v1::RunEndOfDayResponse closed;
    const grpc::Status status = exchange->admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), request, &closed);
    ASSERT_TRUE(status.ok()) << status.error_message();
  };
  // A day order on each of three days; end of day expires the first two.
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 1).ok());
  at("2026-11-24T15:30:00+08:00");
  end_day("2026-11-24");
  at("2026-11-25T10:00:00+08:00");
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 2).ok());
  at("2026-11-25T15:30:00+08:00");
  end_day("2026-11-25");
  at("2026-11-26T10:00:00+08:00");
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 3).ok());

  auto context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> session = exchange->trading->OrderSession(context.get());
  v1::SessionRequest hello;
  hello.set_replay_after_sequence(1);
  ASSERT_TRUE(session->Write(hello));
  v1::SessionResponse replayed;
  ASSERT_TRUE(session->Read(&replayed));
  ASSERT_EQ(replayed.reports_size(), 3) << replayed.ShortDebugString();
  EXPECT_EQ(replayed.reports(0).type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(replayed.reports(0).order().quantity(), 2) << "the first day's order is not replayed";
  EXPECT_EQ(replayed.reports(1).type(), v1::EXECUTION_TYPE_EXPIRED);
  EXPECT_EQ(replayed.reports(1).order().quantity(), 2);
  EXPECT_EQ(replayed.reports(2).type(), v1::EXECUTION_TYPE_ACCEPTED);
  EXPECT_EQ(replayed.reports(2).order().quantity(), 3);
  expect_replay_end(*session);
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());
}

TEST_F(StreamTest, AReplayLargerThanTheSessionsOutboundBufferIsRefusedWhole) {
  // Two queued responses at most: a replay of 1,001 reports needs three (two and its end).
  exchange.reset();
  exchange = std::make_unique<RunningExchange>(std::vector<std::string>{"--postgres=" + db.conninfo()},
                                               "session_max_outbound_messages = 2\n");
  exchange->start();
  auto context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> session = exchange->trading->OrderSession(context.get());
  v1::SessionResponse response;
  for (int count : {1'000, 1}) {
    v1::SessionRequest batch;
    batch.set_batch_id(static_cast<std::uint64_t>(count));
    for (int i = 0; i < count; ++i) *batch.add_commands() = place(v1::SIDE_SELL, 10'500, 1);
    ASSERT_TRUE(session->Write(batch));
    ASSERT_TRUE(session->Read(&response));
    ASSERT_EQ(response.reports_size(), count);
  }
  const std::uint64_t first = response.reports(0).sequence() - 1'000;
  session->WritesDone();
  ASSERT_TRUE(session->Finish().ok());

  auto replay = [&](std::uint64_t after, v1::SessionResponse& out) {
    auto replay_context = RunningExchange::as(seller.trader_token());
    std::unique_ptr<Session> replaying = exchange->trading->OrderSession(replay_context.get());
    v1::SessionRequest hello;
    hello.set_replay_after_sequence(after);
    replaying->Write(hello);
    replaying->WritesDone();
    std::size_t reports = 0;
    while (replaying->Read(&out)) reports += static_cast<std::size_t>(out.reports_size());
    const grpc::Status status = replaying->Finish();
    EXPECT_TRUE(status.ok() || reports == 0) << "a refused replay sends nothing";
    return std::make_pair(status, reports);
  };
  const auto [refused, none] = replay(first - 1, response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("the replay holds 1001 reports"), std::string::npos) << refused.error_message();
  const auto [served, reports] = replay(first, response);
  EXPECT_TRUE(served.ok()) << served.error_message();
  EXPECT_EQ(reports, 1'000u) << "one message of 1,000 and the end fit";
}

TEST_F(StreamTest, AReplayIsOnlyReadOnTheFirstMessageAndAMessageMustAskForSomething) {
  auto context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> session = session_with_one_sell(context.get(), 1);
  v1::SessionRequest batch;
  batch.set_batch_id(2);
  *batch.add_commands() = place(v1::SIDE_SELL, 10'100, 1);
  batch.set_replay_after_sequence(1);
  v1::SessionResponse response;
  session->Write(batch);
  while (session->Read(&response)) {
  }
  grpc::Status status = session->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("only read on a session's first message"), std::string::npos);

  auto empty_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> empty = exchange->trading->OrderSession(empty_context.get());
  empty->Write(v1::SessionRequest{});
  while (empty->Read(&response)) {
  }
  status = empty->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("must carry commands"), std::string::npos);
}

TEST_F(StreamTest, DepthStreamStartsWithASnapshotThenFollowsTheBookLikeGetBook) {
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 10).ok());
  v1::StreamDepthRequest request;
  request.set_instrument("CEA2024");
  request.set_depth(3);
  auto context = RunningExchange::as(kRegulatorToken);
  auto stream = exchange->market_data->StreamDepth(context.get(), request);
  v1::BookSnapshot snapshot;
  ASSERT_TRUE(stream->Read(&snapshot));
  EXPECT_EQ(snapshot.instrument(), "CEA2024");
  EXPECT_GT(snapshot.sequence(), 0u);

  // Changes: new levels, a fill, a cancel-by-IOC, an order deeper than the top 3.
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'200, 20).ok());
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'050, 5).ok());
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 9'900, 30).ok());
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'100, 8).ok());
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'300, 1).ok());
  const std::string expected = levels_of(get_book(3));
  std::uint64_t sequence = snapshot.sequence();
  int updates = 0;
  while (levels_of(snapshot) != expected) {
    ASSERT_TRUE(stream->Read(&snapshot)) << "stream ended before reaching " << expected;
    EXPECT_GE(snapshot.sequence(), sequence);
    sequence = snapshot.sequence();
    ASSERT_LT(++updates, 50);
  }
  EXPECT_EQ(snapshot.bids_size(), 1);
  EXPECT_EQ(snapshot.asks_size(), 3);
  EXPECT_EQ(snapshot.asks(0).price_fen(), 10'100);
  EXPECT_EQ(snapshot.asks(0).quantity(), 7);

  // A new subscriber's first snapshot is the book as it stands.
  auto late_context = RunningExchange::as(buyer.trader_token());
  auto late = exchange->market_data->StreamDepth(late_context.get(), request);
  v1::BookSnapshot first;
  ASSERT_TRUE(late->Read(&first));
  EXPECT_EQ(levels_of(first), expected);

  context->TryCancel();
  late_context->TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(late->Finish().error_code(), grpc::StatusCode::CANCELLED);

  v1::StreamDepthRequest unknown;
  unknown.set_instrument("CEA1999");
  auto unknown_context = RunningExchange::as(kRegulatorToken);
  auto refused = exchange->market_data->StreamDepth(unknown_context.get(), unknown);
  EXPECT_FALSE(refused->Read(&first));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(StreamTest, DepthSnapshotAfterARestartComesFromTheRestoredBook) {
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 10).ok());
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'100, 15).ok());
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 9'800, 40).ok());
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'100, 12).ok());
  const std::string before = levels_of(get_book(5));
  exchange.reset();
  exchange = open();
  EXPECT_EQ(levels_of(get_book(5)), before);
  v1::StreamDepthRequest request;
  request.set_instrument("CEA2024");
  auto context = RunningExchange::as(kRegulatorToken);
  auto stream = exchange->market_data->StreamDepth(context.get(), request);
  v1::BookSnapshot first;
  ASSERT_TRUE(stream->Read(&first));
  EXPECT_EQ(levels_of(first), before);
  context->TryCancel();
  stream->Finish();
}

TEST_F(StreamTest, TradeStreamSeesEveryTradeOfItsInstrument) {
  v1::StreamTradesRequest all;
  auto all_context = RunningExchange::as(kRegulatorToken);
  auto all_trades = exchange->market_data->StreamTrades(all_context.get(), all);
  v1::StreamTradesRequest cea;
  cea.set_instrument("CEA2024");
  auto cea_context = RunningExchange::as(buyer.trader_token());
  auto cea_trades = exchange->market_data->StreamTrades(cea_context.get(), cea);
  // Let both subscriptions land before trading (a stream starts with nothing to send).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'000, 10).ok());
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'010, 10).ok());
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'010, 15).ok());
  for (auto* stream : {all_trades.get(), cea_trades.get()}) {
    v1::PublicTrade trade;
    ASSERT_TRUE(stream->Read(&trade));
    EXPECT_EQ(trade.instrument(), "CEA2024");
    EXPECT_EQ(trade.price_fen(), 10'000);
    EXPECT_EQ(trade.quantity(), 10);
    EXPECT_EQ(trade.aggressor_side(), v1::SIDE_BUY);
    EXPECT_EQ(trade.mode(), v1::TRADING_MODE_LISTED);
    const std::uint64_t first_sequence = trade.sequence();
    ASSERT_TRUE(stream->Read(&trade));
    EXPECT_EQ(trade.price_fen(), 10'010);
    EXPECT_EQ(trade.quantity(), 5);
    EXPECT_EQ(trade.sequence(), first_sequence) << "both fills come from one command";
  }
  all_context->TryCancel();
  cea_context->TryCancel();
  all_trades->Finish();
  cea_trades->Finish();
}

/// Reads `count` trades from a trade stream (false if it ends first).
bool read_trades(grpc::ClientReader<v1::PublicTrade>& stream, std::size_t count, std::vector<v1::PublicTrade>& out) {
  v1::PublicTrade trade;
  while (out.size() < count) {
    if (!stream.Read(&trade)) return false;
    out.push_back(trade);
  }
  return true;
}

TEST_F(StreamTest, TradeStreamReplaysTheDaysTradesAfterASequenceThenGoesLiveAcrossARestart) {
  std::vector<std::uint64_t> sequences;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'000 + i, 10).ok());
    v1::PlaceOrderResponse response;
    ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'000 + i, 10, &response).ok());
    ASSERT_EQ(response.fills_size(), 1);
    sequences.push_back(response.fills(0).sequence());
  }
  // From the restored trades after a restart, then live.
  exchange.reset();
  exchange = open();
  v1::StreamTradesRequest request;
  request.set_instrument("CEA2024");
  request.set_after_sequence(sequences[0]);
  auto context = RunningExchange::as(buyer.trader_token());
  auto stream = exchange->market_data->StreamTrades(context.get(), request);
  std::vector<v1::PublicTrade> got;
  ASSERT_TRUE(read_trades(*stream, 2, got));
  EXPECT_EQ(got[0].sequence(), sequences[1]);
  EXPECT_EQ(got[0].price_fen(), 10'001);
  EXPECT_EQ(got[0].trade_id(), 2u);
  EXPECT_EQ(got[1].sequence(), sequences[2]);
  EXPECT_EQ(got[1].trade_id(), 3u);

  // An after_sequence past every trade replays nothing: the next message is the next trade.
  v1::StreamTradesRequest all;
  all.set_after_sequence(sequences[2]);
  auto all_context = RunningExchange::as(kRegulatorToken);
  auto all_trades = exchange->market_data->StreamTrades(all_context.get(), all);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let it land before the next trade
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'005, 7).ok());
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'005, 7).ok());
  for (auto* live : {stream.get(), all_trades.get()}) {
    v1::PublicTrade trade;
    ASSERT_TRUE(live->Read(&trade));
    EXPECT_EQ(trade.trade_id(), 4u) << "live after the replay, without a gap or a repeat";
    EXPECT_EQ(trade.quantity(), 7);
  }
  context->TryCancel();
  all_context->TryCancel();
  stream->Finish();
  all_trades->Finish();

  // Another instrument's replay holds none of these trades.
  v1::StreamTradesRequest other;
  other.set_instrument("CEA2023");
  other.set_after_sequence(1);
  auto other_context = RunningExchange::as(kRegulatorToken);
  other_context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto none = exchange->market_data->StreamTrades(other_context.get(), other);
  v1::PublicTrade trade;
  EXPECT_FALSE(none->Read(&trade));
  EXPECT_EQ(none->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(StreamTest, AReplayOfManyChunksWhileTradingGoesOnHasNoGapAndNoRepeat) {
  // More trades than three replay chunks (256 each), each its own command.
  constexpr int kBefore = 600;
  constexpr int kDuring = 150;
  auto trade_once = [&](std::int64_t price) {
    return place_unary(seller.trader_token(), v1::SIDE_SELL, price, 1).ok() &&
           place_unary(buyer.trader_token(), v1::SIDE_BUY, price, 1).ok();
  };
  for (int i = 0; i < kBefore; ++i) ASSERT_TRUE(trade_once(10'000 + i % 50));
  auto during = std::async(std::launch::async, [&] {
    for (int i = 0; i < kDuring; ++i) {
      if (!trade_once(10'000)) return false;
    }
    return true;
  });
  // Every instrument, and one instrument (the filtered path; all these trades are of CEA2024).
  v1::StreamTradesRequest request;
  request.set_after_sequence(1);
  auto context = RunningExchange::as(kRegulatorToken);
  auto stream = exchange->market_data->StreamTrades(context.get(), request);
  request.set_instrument("CEA2024");
  auto filtered_context = RunningExchange::as(buyer.trader_token());
  auto filtered = exchange->market_data->StreamTrades(filtered_context.get(), request);
  for (auto* replay : {stream.get(), filtered.get()}) {
    std::vector<v1::PublicTrade> got;
    ASSERT_TRUE(read_trades(*replay, kBefore + kDuring, got));
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].trade_id(), i + 1) << "trade ids are dense: a gap or a repeat at " << i;
      if (i > 0) {
        ASSERT_GT(got[i].sequence(), got[i - 1].sequence());
      }
    }
  }
  ASSERT_TRUE(during.get());
  context->TryCancel();
  filtered_context->TryCancel();
  stream->Finish();
  filtered->Finish();
}

TEST_F(StreamTest, AReplayStopsAtTheStartOfTheTradingDayInProgress) {
  ASSERT_TRUE(place_unary(seller.trader_token(), v1::SIDE_SELL, 10'000, 10).ok());
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'000, 10).ok());
  auto replay_all = [&](RunningExchange& x) {
    v1::StreamTradesRequest request;
    request.set_after_sequence(1);
    auto context = RunningExchange::as(kRegulatorToken);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    auto stream = x.market_data->StreamTrades(context.get(), request);
    std::vector<v1::PublicTrade> got;
    read_trades(*stream, 1'000, got);
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    return got.size();
  };
  EXPECT_EQ(replay_all(*exchange), 1u);
  exchange.reset();
  auto closing = std::make_unique<RunningExchange>(
      std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=2026-11-24T15:30:00+08:00"});
  closing->start();
  v1::RunEndOfDayRequest end_of_day;
  end_of_day.set_trading_date("2026-11-24");
  v1::RunEndOfDayResponse closed;
  const grpc::Status status =
      closing->admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), end_of_day, &closed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(replay_all(*closing), 0u) << "the day that opened while the feed ran has no trades";
  closing.reset();
  exchange = std::make_unique<RunningExchange>(
      std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=2026-11-24T15:40:00+08:00"});
  exchange->start();
  EXPECT_EQ(replay_all(*exchange), 0u) << "nor after a restart";
}

TEST_F(StreamTest, AReplayStillInTheDayThatEndedIsEndedResourceExhausted) {
  // Ten seconds before the close: 5,000 trades in one command, a replay whose reader does not read, the
  // end of day. The replay's client keeps its stream window small (no BDP probing), so the server's writes
  // stall on flow control with most of the replay unsent when the day ends.
  exchange.reset();
  exchange = std::make_unique<RunningExchange>(
      std::vector<std::string>{"--postgres=" + db.conninfo(), "--clock-start=2026-11-24T14:59:50+08:00"});
  exchange->start();
  const auto opened = std::chrono::steady_clock::now();
  constexpr int kTrades = 5'000;
  {
    auto context = RunningExchange::as(seller.trader_token());
    std::unique_ptr<Session> session = exchange->trading->OrderSession(context.get());
    for (int b = 0; b < 5; ++b) {
      v1::SessionRequest batch;
      batch.set_batch_id(b + 1);
      for (int k = 0; k < kTrades / 5; ++k) *batch.add_commands() = place(v1::SIDE_SELL, 10'000, 1);
      ASSERT_TRUE(session->Write(batch));
    }
    session->WritesDone();
    v1::SessionResponse response;
    while (session->Read(&response)) {
    }
    ASSERT_TRUE(session->Finish().ok());
  }
  v1::PlaceOrderResponse bought;
  ASSERT_TRUE(place_unary(buyer.trader_token(), v1::SIDE_BUY, 10'000, kTrades, &bought).ok());
  ASSERT_EQ(bought.fills_size(), kTrades) << "all before the close";

  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  auto channel = grpc::CreateCustomChannel(exchange->address(), grpc::InsecureChannelCredentials(), small_window);
  auto market_data = v1::MarketDataService::NewStub(channel);
  v1::StreamTradesRequest request;
  request.set_after_sequence(1);
  auto context = RunningExchange::as(kRegulatorToken);
  auto stream = market_data->StreamTrades(context.get(), request);

  std::this_thread::sleep_until(opened + std::chrono::seconds(11));  // the clock is past 15:00
  v1::RunEndOfDayRequest end_of_day;
  end_of_day.set_trading_date("2026-11-24");
  v1::RunEndOfDayResponse closed;
  const grpc::Status status = exchange->admin->RunEndOfDay(RunningExchange::as(kOperatorToken).get(), end_of_day, &closed);
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::vector<v1::PublicTrade> got;
  EXPECT_FALSE(read_trades(*stream, kTrades, got)) << "the whole replay was sent before the end of day";
  EXPECT_LT(got.size(), static_cast<std::size_t>(kTrades));
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].trade_id(), i + 1) << "what came is dense";
  const grpc::Status ended = stream->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << ended.error_message();
  EXPECT_NE(ended.error_message().find("the trading day ended before the stream's replay read its trades"),
            std::string::npos)
      << ended.error_message();
}

TEST_F(StreamTest, ShutdownEndsOpenSessionsAndDepthStreamsWithUnavailable) {
  auto session_context = RunningExchange::as(seller.trader_token());
  std::unique_ptr<Session> session = session_with_one_sell(session_context.get(), 10);
  v1::SessionResponse response;
  v1::StreamDepthRequest request;
  request.set_instrument("CEA2024");
  auto depth_context = RunningExchange::as(kRegulatorToken);
  auto depth = exchange->market_data->StreamDepth(depth_context.get(), request);
  v1::BookSnapshot snapshot;
  ASSERT_TRUE(depth->Read(&snapshot));

  // The clients keep reading (as a terminal would), so their side of the calls is served.
  auto session_end = std::async(std::launch::async, [&] {
    while (session->Read(&response)) {
    }
    const grpc::StatusCode code = session->Finish().error_code();
    session.reset();  // releases the call, which closes the client's half of the stream
    return code;
  });
  auto depth_end = std::async(std::launch::async, [&] {
    while (depth->Read(&snapshot)) {
    }
    return depth->Finish().error_code();
  });
  // Not asserted: how long the stop takes. Most runs end in ~0.2 s, but some
  // still wait out the 5 s grace (server Shutdown); not yet understood.
  EXPECT_EQ(exchange->stop(), 0);
  EXPECT_EQ(session_end.get(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(depth_end.get(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace carbon::testing
