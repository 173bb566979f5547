// Access control end to end, against a real carbond and PostgreSQL: API
// tokens issued, used, revoked, expired, listed and restored after a restart;
// the audit log of staff actions (refusals included) read by a regulator
// after a restart; TLS and mutual TLS from the config with throwaway
// certificates made by the openssl CLI.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <set>
#include <thread>

#include "carbon/v1/regulator.grpc.pb.h"
#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

class AccessTest : public ::testing::Test {
 protected:
  /// carbond on the test database; `clock` overrides the config's clock start (each start resets the clock).
  std::unique_ptr<RunningExchange> open(const std::string& clock = "", const std::string& server_settings = "") {
    std::vector<std::string> args{"--postgres=" + db.conninfo()};
    if (!clock.empty()) args.push_back("--clock-start=" + clock);
    auto exchange = std::make_unique<RunningExchange>(args, server_settings);
    exchange->start();
    regulator = v1::RegulatorService::NewStub(exchange->channel);
    return exchange;
  }

  static v1::CreateParticipantResponse create(RunningExchange& x, const std::string& code) {
    v1::CreateParticipantRequest request;
    request.set_code(code);
    request.set_name(code);
    request.set_type(v1::PARTICIPANT_TYPE_INSTITUTION);
    v1::CreateParticipantResponse response;
    EXPECT_TRUE(x.admin->CreateParticipant(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    return response;
  }

  static grpc::Status issue(RunningExchange& x, const std::string& as, v1::Role role, std::uint64_t participant,
                            const std::string& label, std::int64_t expires, v1::IssueApiTokenResponse& out) {
    v1::IssueApiTokenRequest request;
    request.set_role(role);
    request.set_participant_id(participant);
    request.set_label(label);
    request.set_expires_at_unix_nanos(expires);
    return x.admin->IssueApiToken(RunningExchange::as(as).get(), request, &out);
  }

  /// Opens a StreamTrades that must end without a message; its final status.
  static grpc::Status ended_trade_stream(RunningExchange& x, const std::string& token,
                                         const v1::StreamTradesRequest& request) {
    auto context = RunningExchange::as(token);
    auto stream = x.market_data->StreamTrades(context.get(), request);
    v1::PublicTrade none;
    EXPECT_FALSE(stream->Read(&none));
    return stream->Finish();
  }

  static grpc::Status revoke(RunningExchange& x, const std::string& as, std::uint64_t id) {
    v1::RevokeApiTokenRequest request;
    request.set_token_id(id);
    v1::RevokeApiTokenResponse response;
    return x.admin->RevokeApiToken(RunningExchange::as(as).get(), request, &response);
  }

  static grpc::StatusCode balances(RunningExchange& x, const std::string& token) {
    v1::GetBalancesResponse response;
    return x.trading->GetBalances(RunningExchange::as(token).get(), v1::GetBalancesRequest{}, &response).error_code();
  }

  static std::vector<v1::ApiToken> list(RunningExchange& x, bool include_revoked) {
    v1::ListApiTokensRequest request;
    request.set_include_revoked(include_revoked);
    v1::ListApiTokensResponse response;
    EXPECT_TRUE(x.admin->ListApiTokens(RunningExchange::as(kOperatorToken).get(), request, &response).ok());
    return {response.api_tokens().begin(), response.api_tokens().end()};
  }

  std::vector<v1::AuditRecord> audit(const std::string& method, bool failures_only = false) {
    v1::QueryAuditLogRequest request;
    request.set_method(method);
    request.set_failures_only(failures_only);
    v1::QueryAuditLogResponse response;
    const grpc::Status status = regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.records().begin(), response.records().end()};
  }

  TestDatabase db;
  std::unique_ptr<v1::RegulatorService::Stub> regulator;
};

TEST_F(AccessTest, TokensAreIssuedRevokedListedAndRestored) {
  auto x = open();
  const auto p = create(*x, "TOK-1");
  const std::uint64_t id = p.participant().participant_id();

  // Refusals, each with its exact status.
  v1::IssueApiTokenResponse issued;
  EXPECT_EQ(issue(*x, kOperatorToken, v1::ROLE_UNSPECIFIED, 0, "x", 0, issued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(issue(*x, kOperatorToken, v1::ROLE_TRADER, 0, "x", 0, issued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(issue(*x, kOperatorToken, v1::ROLE_OPERATOR, id, "x", 0, issued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(issue(*x, kOperatorToken, v1::ROLE_OPERATOR, 0, "", 0, issued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(issue(*x, kOperatorToken, v1::ROLE_OPERATOR, 0, "past", 1, issued).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(issue(*x, kOperatorToken, v1::ROLE_TRADER, 999, "x", 0, issued).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(issue(*x, kRegulatorToken, v1::ROLE_OPERATOR, 0, "x", 0, issued).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(issue(*x, p.trader_token(), v1::ROLE_OPERATOR, 0, "x", 0, issued).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Separation of duties: an operator cannot mint a regulator's, the registry's or an auditor's credentials (an
  // auditor reads the audit log, which operators may not); they can.
  const grpc::Status minted = issue(*x, kOperatorToken, v1::ROLE_REGULATOR, 0, "x", 0, issued);
  EXPECT_EQ(minted.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(minted.error_message(), "API tokens of role regulator are issued by a regulator (separation of duties)");
  EXPECT_EQ(issue(*x, kOperatorToken, v1::ROLE_REGISTRY_AUTHORITY, 0, "x", 0, issued).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status auditor = issue(*x, kOperatorToken, v1::ROLE_AUDITOR, 0, "x", 0, issued);
  EXPECT_EQ(auditor.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(auditor.error_message(), "API tokens of role auditor are issued by a regulator (separation of duties)");
  v1::IssueApiTokenResponse supervision;
  ASSERT_TRUE(issue(*x, kRegulatorToken, v1::ROLE_REGULATOR, 0, "supervision desk", 0, supervision).ok());
  EXPECT_EQ(supervision.api_token().role(), v1::ROLE_REGULATOR);
  v1::IssueApiTokenResponse registry_desk;
  ASSERT_TRUE(issue(*x, kRegistryToken, v1::ROLE_REGISTRY_AUTHORITY, 0, "registry desk", 0, registry_desk).ok());

  // A second trader token for the participant works at once; revoked, it no longer does.
  v1::IssueApiTokenResponse trader;
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_TRADER, id, "desk 2", 0, trader).ok());
  EXPECT_EQ(trader.api_token().role(), v1::ROLE_TRADER);
  EXPECT_EQ(trader.api_token().participant_id(), id);
  EXPECT_EQ(trader.api_token().label(), "desk 2");
  EXPECT_GT(trader.api_token().issued_at_unix_nanos(), 0);
  EXPECT_TRUE(trader.token().starts_with("cbt_"));
  EXPECT_EQ(balances(*x, trader.token()), grpc::StatusCode::OK);

  v1::IssueApiTokenResponse ops2;
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_OPERATOR, 0, "second operator", 0, ops2).ok());
  EXPECT_EQ(revoke(*x, ops2.token(), ops2.api_token().token_id()).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(revoke(*x, kOperatorToken, 0).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(revoke(*x, kOperatorToken, 9999).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(revoke(*x, kRegulatorToken, trader.api_token().token_id()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(revoke(*x, ops2.token(), trader.api_token().token_id()).ok());
  EXPECT_EQ(balances(*x, trader.token()), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(revoke(*x, kOperatorToken, trader.api_token().token_id()).ok());  // again: no effect

  // The participant's first token is an API token too, and can be revoked.
  const auto first = create(*x, "TOK-2");
  std::uint64_t first_id = 0;
  for (const v1::ApiToken& token : list(*x, false)) {
    if (token.participant_id() == first.participant().participant_id()) first_id = token.token_id();
  }
  ASSERT_NE(first_id, 0u);
  EXPECT_EQ(balances(*x, first.trader_token()), grpc::StatusCode::OK);
  EXPECT_TRUE(revoke(*x, kOperatorToken, first_id).ok());
  EXPECT_EQ(balances(*x, first.trader_token()), grpc::StatusCode::UNAUTHENTICATED);

  // Expiry, on the engine clock.
  v1::IssueApiTokenResponse probe;
  ASSERT_TRUE(issue(*x, kRegulatorToken, v1::ROLE_AUDITOR, 0, "probe", 0, probe).ok());
  v1::IssueApiTokenResponse brief;
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_TRADER, id, "brief",
                    probe.api_token().issued_at_unix_nanos() + 2'000'000'000, brief)
                  .ok());
  v1::IssueApiTokenResponse brief_staff;  // a staff token that expires: refused as a trader's, and audited
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_OPERATOR, 0, "brief night desk",
                    probe.api_token().issued_at_unix_nanos() + 2'000'000'000, brief_staff)
                  .ok());
  EXPECT_EQ(balances(*x, brief.token()), grpc::StatusCode::OK);
  v1::ListInstrumentsResponse listed_instruments;
  EXPECT_TRUE(
      x->admin->ListInstruments(RunningExchange::as(brief_staff.token()).get(), {}, &listed_instruments).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2'500));
  EXPECT_EQ(balances(*x, brief.token()), grpc::StatusCode::UNAUTHENTICATED);
  const grpc::Status expired_staff =
      x->admin->ListInstruments(RunningExchange::as(brief_staff.token()).get(), {}, &listed_instruments);
  EXPECT_EQ(expired_staff.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(expired_staff.error_message(),
            "bearer token " + std::to_string(brief_staff.api_token().token_id()) + " expired");
  std::vector<v1::AuditRecord> instrument_reads;
  EXPECT_TRUE(eventually([&] {
    instrument_reads = audit("/carbon.v1.AdminService/ListInstruments");
    return instrument_reads.size() == 2;
  }));
  ASSERT_EQ(instrument_reads.size(), 2u);  // newest first: the refused attempt, then the served read
  EXPECT_EQ(instrument_reads[0].principal(), "brief night desk");
  EXPECT_EQ(instrument_reads[0].token_id(), brief_staff.api_token().token_id());
  EXPECT_EQ(instrument_reads[0].status_code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(instrument_reads[0].status_message(), expired_staff.error_message());
  EXPECT_EQ(instrument_reads[1].status_code(), 0);

  // The list: descriptions only, revoked and expired ones on request.
  const auto in_force = list(*x, false);
  const auto all = list(*x, true);
  // The operator's: in force, TOK-1's first token and ops2. All: also the revoked trader token, TOK-2's first,
  // brief and brief_staff (expired). Not the regulator's auditor probe.
  EXPECT_EQ(in_force.size(), 2u);
  EXPECT_EQ(all.size(), 6u);
  for (std::size_t k = 1; k < all.size(); ++k) EXPECT_LT(all[k - 1].token_id(), all[k].token_id());
  for (const v1::ApiToken& token : all) {
    if (token.token_id() == trader.api_token().token_id()) {
      EXPECT_GT(token.revoked_at_unix_nanos(), 0);
    }
  }

  // After a restart (its clock an hour on: a restart resets the test clock): the same tokens, the same decisions.
  x->stop();
  x = open("2026-11-24T11:00:00+08:00");
  EXPECT_EQ(balances(*x, p.trader_token()), grpc::StatusCode::OK);
  EXPECT_EQ(balances(*x, trader.token()), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(balances(*x, first.trader_token()), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(balances(*x, brief.token()), grpc::StatusCode::UNAUTHENTICATED);
  v1::ListInstrumentsResponse instruments;
  EXPECT_TRUE(x->admin->ListInstruments(RunningExchange::as(ops2.token()).get(), {}, &instruments).ok());
  EXPECT_EQ(x->admin->ListInstruments(RunningExchange::as(brief_staff.token()).get(), {}, &instruments).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(list(*x, true).size(), 6u);
  EXPECT_EQ(list(*x, false).size(), 2u);
}

TEST_F(AccessTest, ARevokedTokenEndsItsOpenOrderSessionOnTheNextMessage) {
  auto x = open();
  const auto p = create(*x, "SES-1");
  v1::IssueApiTokenResponse desk;
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_TRADER, p.participant().participant_id(), "desk", 0, desk).ok());
  auto context = RunningExchange::as(desk.token());
  auto session = x->trading->OrderSession(context.get());
  v1::SessionRequest batch;
  batch.set_batch_id(1);
  batch.add_commands()->mutable_cancel()->set_order_id(424242);  // refused as a report: the session works
  ASSERT_TRUE(session->Write(batch));
  v1::SessionResponse response;
  ASSERT_TRUE(session->Read(&response));
  EXPECT_EQ(response.batch_id(), 1u);

  ASSERT_TRUE(revoke(*x, kOperatorToken, desk.api_token().token_id()).ok());
  batch.set_batch_id(2);
  session->Write(batch);
  EXPECT_FALSE(session->Read(&response));
  session->WritesDone();
  const grpc::Status status = session->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  // The participant's first token is untouched.
  EXPECT_EQ(balances(*x, p.trader_token()), grpc::StatusCode::OK);
}

// The revocation reaches open streams at once: a session or a market data stream that only listens ends too.
TEST_F(AccessTest, ARevokedTokenEndsItsOpenStreamsWithoutAnotherMessage) {
  auto x = open();
  const auto p = create(*x, "SES-2");
  v1::IssueApiTokenResponse desk;
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_TRADER, p.participant().participant_id(), "desk", 0, desk).ok());
  auto deadline = [](grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  };
  auto session_context = RunningExchange::as(desk.token());
  deadline(*session_context);
  auto session = x->trading->OrderSession(session_context.get());
  v1::SessionRequest batch;
  batch.set_batch_id(1);
  batch.add_commands()->mutable_cancel()->set_order_id(424242);
  ASSERT_TRUE(session->Write(batch));
  v1::SessionResponse response;
  ASSERT_TRUE(session->Read(&response));
  auto depth_context = RunningExchange::as(desk.token());
  deadline(*depth_context);
  v1::StreamDepthRequest depth_request;
  depth_request.set_instrument("CEA2024");
  auto depth = x->market_data->StreamDepth(depth_context.get(), depth_request);
  v1::BookSnapshot snapshot;
  ASSERT_TRUE(depth->Read(&snapshot));  // the first snapshot: the stream is open
  auto trades_context = RunningExchange::as(desk.token());
  deadline(*trades_context);
  auto trades = x->market_data->StreamTrades(trades_context.get(), v1::StreamTradesRequest{});

  ASSERT_TRUE(revoke(*x, kOperatorToken, desk.api_token().token_id()).ok());
  EXPECT_FALSE(session->Read(&response));
  grpc::Status status = session->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_NE(status.error_message().find("revoked"), std::string::npos) << status.error_message();
  EXPECT_FALSE(depth->Read(&snapshot));
  status = depth->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  v1::PublicTrade trade;
  EXPECT_FALSE(trades->Read(&trade));
  status = trades->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  // The participant's first token and its streams are untouched.
  EXPECT_EQ(balances(*x, p.trader_token()), grpc::StatusCode::OK);
}

// A revocation answered UNAVAILABLE (the journal stalled past journal_unavailable_after_ms) still commits
// when the database is back, and from then on the token is refused, without a restart.
TEST_F(AccessTest, ARevocationAnsweredUnavailableTakesEffectWhenItCommits) {
  auto x = open("", "[storage]\njournal_unavailable_after_ms = 300");
  const auto p = create(*x, "SES-3");
  v1::IssueApiTokenResponse desk;
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_TRADER, p.participant().participant_id(), "desk", 0, desk).ok());
  ASSERT_EQ(balances(*x, desk.token()), grpc::StatusCode::OK);
  {
    TableLock lock(db.conninfo(), "journal_commands");
    const grpc::Status status = revoke(*x, kOperatorToken, desk.api_token().token_id());
    ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  }
  grpc::StatusCode code = grpc::StatusCode::OK;
  for (int i = 0; i < 200 && code == grpc::StatusCode::OK; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    code = balances(*x, desk.token());
  }
  EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED) << "the revoked token still works";
  // The authenticator has the revocation too, not only the engine: a stream's opening never reaches the engine.
  auto context = RunningExchange::as(desk.token());
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::StreamDepthRequest depth_request;
  depth_request.set_instrument("CEA2024");
  auto depth = x->market_data->StreamDepth(context.get(), depth_request);
  v1::BookSnapshot snapshot;
  EXPECT_FALSE(depth->Read(&snapshot));
  EXPECT_EQ(depth->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const auto all = list(*x, true);
  const auto found = std::find_if(all.begin(), all.end(), [&](const v1::ApiToken& t) {
    return t.token_id() == desk.api_token().token_id();
  });
  ASSERT_NE(found, all.end());
  EXPECT_NE(found->revoked_at_unix_nanos(), 0);
  EXPECT_EQ(balances(*x, p.trader_token()), grpc::StatusCode::OK);
}

TEST_F(AccessTest, StaffActionsAndRefusalsAreAuditedDurably) {
  auto x = open();
  const auto p = create(*x, "AUD-1");
  v1::CashMovementRequest deposit;
  deposit.set_cash_account_id(p.participant().cash_account_id());
  deposit.set_amount_fen(5'000);
  deposit.set_idempotency_key("audit-wire-1");
  v1::CashMovementResponse moved;
  ASSERT_TRUE(x->admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &moved).ok());
  // A repeat of the key changes nothing and journals nothing, but it is a staff action all the same.
  v1::CashMovementResponse repeated;
  ASSERT_TRUE(x->admin->Deposit(RunningExchange::as(kOperatorToken).get(), deposit, &repeated).ok());
  EXPECT_EQ(repeated.balance().available_fen(), 5'000);
  // Refused by the table (a regulator may not deposit) and by a rule (too much withdrawn).
  EXPECT_EQ(x->admin->Deposit(RunningExchange::as(kRegulatorToken).get(), deposit, &moved).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CashMovementRequest withdraw = deposit;
  withdraw.set_amount_fen(9'000);
  withdraw.set_idempotency_key("audit-out-1");
  EXPECT_EQ(x->admin->Withdraw(RunningExchange::as(kOperatorToken).get(), withdraw, &moved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // A trader's own calls are not staff actions, and a trader may not read the log.
  v1::QueryAuditLogResponse none;
  EXPECT_EQ(regulator->QueryAuditLog(RunningExchange::as(p.trader_token()).get(), {}, &none).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(regulator->QueryAuditLog(RunningExchange::as("").get(), {}, &none).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  x->stop();
  x = open();

  const auto all_deposits = audit("/carbon.v1.AdminService/Deposit");
  ASSERT_EQ(all_deposits.size(), 3u);
  // Newest first: the regulator's refusal, the operator's repeat (no sequence: nothing was journaled), then
  // the operator's deposit.
  EXPECT_EQ(all_deposits[1].principal(), "ops");
  EXPECT_EQ(all_deposits[1].status_code(), 0);
  EXPECT_EQ(all_deposits[1].sequence(), 0u);
  EXPECT_GT(all_deposits[1].audit_id(), all_deposits[2].audit_id());
  EXPECT_NE(all_deposits[1].request_summary().find("\"idempotency_key\":\"audit-wire-1\""), std::string::npos);
  EXPECT_EQ(all_deposits[1].participant_id(), p.participant().participant_id());
  const std::vector<v1::AuditRecord> deposits{all_deposits[0], all_deposits[2]};
  EXPECT_EQ(deposits[0].principal(), "regulator");
  EXPECT_EQ(deposits[0].role(), v1::ROLE_REGULATOR);
  EXPECT_EQ(deposits[0].status_code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_NE(deposits[0].status_message().find("regulator"), std::string::npos) << deposits[0].status_message();
  EXPECT_EQ(deposits[1].principal(), "ops");
  EXPECT_EQ(deposits[1].role(), v1::ROLE_OPERATOR);
  EXPECT_EQ(deposits[1].status_code(), 0);
  EXPECT_EQ(deposits[1].status_message(), "");
  EXPECT_NE(deposits[1].request_summary().find("\"idempotency_key\":\"audit-wire-1\""), std::string::npos)
      << deposits[1].request_summary();
  EXPECT_NE(deposits[1].peer().find("127.0.0.1"), std::string::npos) << deposits[1].peer();
  EXPECT_GT(deposits[1].received_at_unix_nanos(), 0);
  EXPECT_GT(deposits[1].sequence(), 0u);
  EXPECT_GT(deposits[1].audit_id(), 0u);
  EXPECT_GT(deposits[0].sequence(), deposits[1].sequence());
  EXPECT_GT(deposits[0].audit_id(), deposits[1].audit_id());

  const auto withdrawals = audit("/carbon.v1.AdminService/Withdraw");
  ASSERT_EQ(withdrawals.size(), 1u);
  EXPECT_EQ(withdrawals[0].status_code(), static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_FALSE(withdrawals[0].status_message().empty());

  // A request naming an account is recorded against its holder, for commands and staff reads alike, so
  // that the participant filter finds what was done to a participant's accounts.
  const std::uint64_t holder = p.participant().participant_id();
  EXPECT_EQ(deposits[1].participant_id(), holder);
  EXPECT_EQ(withdrawals[0].participant_id(), holder);
  v1::GetHoldingsRequest holdings_of;
  holdings_of.set_holding_account_id(p.participant().holding_account_id());
  v1::GetHoldingsResponse holdings;
  ASSERT_TRUE(x->registry->GetHoldings(RunningExchange::as(kRegistryToken).get(), holdings_of, &holdings).ok());
  v1::QueryAuditLogRequest of_holder;
  of_holder.set_participant_id(holder);
  v1::QueryAuditLogResponse done_to;
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), of_holder, &done_to).ok());
  std::set<std::string> methods;
  for (const v1::AuditRecord& r : done_to.records()) {
    EXPECT_EQ(r.participant_id(), holder);
    methods.insert(r.method());
  }
  EXPECT_TRUE(methods.contains("/carbon.v1.AdminService/Deposit"));
  EXPECT_TRUE(methods.contains("/carbon.v1.AdminService/Withdraw"));
  EXPECT_TRUE(methods.contains("/carbon.v1.RegistryService/GetHoldings"));

  const auto creations = audit("/carbon.v1.AdminService/CreateParticipant");
  ASSERT_EQ(creations.size(), 1u);
  EXPECT_NE(creations[0].request_summary().find("AUD-1"), std::string::npos);
  EXPECT_EQ(creations[0].request_summary().find("cbt_"), std::string::npos);  // no token anywhere
  v1::QueryAuditLogRequest one_creation;
  one_creation.set_method("/carbon.v1.AdminService/CreateParticipant");
  one_creation.set_page_size(1);
  v1::QueryAuditLogResponse only;
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), one_creation, &only).ok());
  ASSERT_EQ(only.records_size(), 1);
  EXPECT_TRUE(only.next_page_token().empty()) << "the one record fills the page, and no page follows";

  // Filters and paging (the regulator's own reads are in the log too, OK).
  const auto failures = audit("", true);
  EXPECT_EQ(failures.size(), 2u);
  v1::QueryAuditLogRequest page_request;
  page_request.set_page_size(1);
  v1::QueryAuditLogResponse page;
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), page_request, &page).ok());
  ASSERT_EQ(page.records_size(), 1);
  ASSERT_FALSE(page.next_page_token().empty());
  page_request.set_page_token(page.next_page_token());
  v1::QueryAuditLogResponse next;
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), page_request, &next).ok());
  ASSERT_EQ(next.records_size(), 1);
  EXPECT_LT(next.records(0).audit_id(), page.records(0).audit_id());
  page_request.set_failures_only(true);  // another filter: the token is not valid for it
  EXPECT_EQ(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), page_request, &next).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::QueryAuditLogRequest bad_role;
  bad_role.set_role(static_cast<v1::Role>(42));
  EXPECT_EQ(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), bad_role, &next).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::QueryAuditLogRequest by_role;
  by_role.set_role(v1::ROLE_REGULATOR);
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), by_role, &next).ok());
  int regulator_deposits = 0;
  for (const v1::AuditRecord& record : next.records()) {
    EXPECT_EQ(record.role(), v1::ROLE_REGULATOR);
    if (record.method() == "/carbon.v1.AdminService/Deposit") ++regulator_deposits;
  }
  EXPECT_EQ(regulator_deposits, 1);
  // By principal: the config's staff all have token id 0, their names tell them apart.
  v1::QueryAuditLogRequest by_principal;
  by_principal.set_principal("ops");
  v1::QueryAuditLogResponse by_ops;
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), by_principal, &by_ops).ok());
  std::multiset<std::string> ops_methods;
  for (const v1::AuditRecord& record : by_ops.records()) {
    EXPECT_EQ(record.principal(), "ops");
    ops_methods.insert(record.method());
  }
  EXPECT_EQ(ops_methods.count("/carbon.v1.AdminService/Deposit"), 2u);
  EXPECT_EQ(ops_methods.count("/carbon.v1.AdminService/Withdraw"), 1u);
  by_principal.set_principal("op");  // exact, not a prefix
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), by_principal, &by_ops).ok());
  EXPECT_EQ(by_ops.records_size(), 0);
}

// A revoked staff token is refused like any unknown one, but the attempt is audited under the token's name (at
// most once a minute per token, without the request): a command (Deposit), a read answered from the database
// (ListLedgerEntries) and a stream's opening (StreamTrades), before and after a restart.
TEST_F(AccessTest, AnAttemptWithARevokedStaffTokenIsRefusedAndAudited) {
  auto x = open();
  const auto p = create(*x, "REV-1");
  v1::IssueApiTokenResponse night, reader, watcher;
  ASSERT_TRUE(issue(*x, kOperatorToken, v1::ROLE_OPERATOR, 0, "night desk", 0, night).ok());
  ASSERT_TRUE(issue(*x, kRegulatorToken, v1::ROLE_REGULATOR, 0, "temp supervisor", 0, reader).ok());
  ASSERT_TRUE(issue(*x, kRegulatorToken, v1::ROLE_REGULATOR, 0, "tape watcher", 0, watcher).ok());
  for (const auto* revoked : {&night, &reader, &watcher}) {
    const std::string& steward = revoked == &night ? kOperatorToken : kRegulatorToken;
    ASSERT_TRUE(revoke(*x, steward, revoked->api_token().token_id()).ok());
  }
  auto attempt = [&](RunningExchange& exchange) {
    v1::CashMovementRequest deposit;
    deposit.set_cash_account_id(p.participant().cash_account_id());
    deposit.set_amount_fen(1'000);
    deposit.set_idempotency_key("after-revocation");
    v1::CashMovementResponse moved;
    const grpc::Status command = exchange.admin->Deposit(RunningExchange::as(night.token()).get(), deposit, &moved);
    EXPECT_EQ(command.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(command.error_message(),
              "bearer token " + std::to_string(night.api_token().token_id()) + " was revoked");
    v1::ListLedgerEntriesResponse entries;
    const grpc::Status read =
        regulator->ListLedgerEntries(RunningExchange::as(reader.token()).get(), {}, &entries);
    EXPECT_EQ(read.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(ended_trade_stream(exchange, watcher.token(), {}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  };
  attempt(*x);
  attempt(*x);  // again within the minute: refused, not recorded again (a leaked token cannot flood the log)
  x->stop();
  x = open();  // the revocations are restored, and with them the names
  attempt(*x);

  const auto deposits = audit("/carbon.v1.AdminService/Deposit", true);
  ASSERT_EQ(deposits.size(), 2u);
  for (const v1::AuditRecord& r : deposits) {
    EXPECT_EQ(r.principal(), "night desk");
    EXPECT_EQ(r.role(), v1::ROLE_OPERATOR);
    EXPECT_EQ(r.token_id(), night.api_token().token_id());
    EXPECT_EQ(r.status_code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
    EXPECT_EQ(r.sequence(), 0u);
    EXPECT_EQ(r.request_summary(), "") << "the request of a refused token is not kept";
  }
  const auto reads = audit("/carbon.v1.RegulatorService/ListLedgerEntries", true);
  ASSERT_EQ(reads.size(), 2u);
  for (const v1::AuditRecord& r : reads) {
    EXPECT_EQ(r.principal(), "temp supervisor");
    EXPECT_EQ(r.status_code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  }
  const auto streams = audit("/carbon.v1.MarketDataService/StreamTrades", true);
  ASSERT_EQ(streams.size(), 2u);
  for (const v1::AuditRecord& r : streams) {
    EXPECT_EQ(r.principal(), "tape watcher");
    EXPECT_EQ(r.status_code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  }
  // Nothing was done: no deposit under the attempt's key.
  v1::GetAccountBalancesRequest of;
  of.set_participant_id(p.participant().participant_id());
  v1::GetAccountBalancesResponse held;
  ASSERT_TRUE(x->admin->GetAccountBalances(RunningExchange::as(kOperatorToken).get(), of, &held).ok());
  EXPECT_EQ(held.cash().available_fen(), 0);
  // An unknown token is still refused without a record: there is nobody to name.
  v1::ListLedgerEntriesResponse none;
  EXPECT_EQ(regulator->ListLedgerEntries(RunningExchange::as("cbt_nobody").get(), {}, &none).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(audit("/carbon.v1.RegulatorService/ListLedgerEntries", true).size(), 2u);
}

TEST_F(AccessTest, StaffStreamOpeningsAreAuditedServedOrRefused) {
  auto x = open();
  const auto p = create(*x, "STREAM-1");

  // A regulator watching trades: served, and recorded before the stream starts.
  v1::StreamTradesRequest trades;
  trades.set_instrument("CEA2024");
  auto watching = RunningExchange::as(kRegulatorToken);
  auto stream = x->market_data->StreamTrades(watching.get(), trades);
  auto records = audit("/carbon.v1.MarketDataService/StreamTrades");
  for (int k = 0; k < 50 && records.empty(); ++k) {  // the call is in flight until the server takes it
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    records = audit("/carbon.v1.MarketDataService/StreamTrades");
  }
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].principal(), "regulator");
  EXPECT_EQ(records[0].status_code(), 0);
  EXPECT_NE(records[0].request_summary().find("CEA2024"), std::string::npos) << records[0].request_summary();
  watching->TryCancel();
  stream->Finish();

  // Refused by a check (no instrument) and by the feed (unknown instrument): recorded with the refusal.
  for (const char* instrument : {"", "NOPE"}) {
    v1::StreamDepthRequest depth;
    depth.set_instrument(instrument);
    auto context = RunningExchange::as(kRegistryToken);
    auto refused = x->market_data->StreamDepth(context.get(), depth);
    v1::BookSnapshot none;
    EXPECT_FALSE(refused->Read(&none));
    EXPECT_EQ(refused->Finish().error_code(),
              *instrument == '\0' ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::NOT_FOUND);
  }
  const auto depth_records = audit("/carbon.v1.MarketDataService/StreamDepth");
  ASSERT_EQ(depth_records.size(), 2u);
  EXPECT_EQ(depth_records[0].status_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(depth_records[0].status_message().find("NOPE"), std::string::npos);
  EXPECT_EQ(depth_records[1].status_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(depth_records[1].role(), v1::ROLE_REGISTRY_AUTHORITY);

  // An operator opening an order session: refused by the table, and recorded.
  auto operator_context = RunningExchange::as(kOperatorToken);
  auto session = x->trading->OrderSession(operator_context.get());
  v1::SessionResponse response;
  EXPECT_FALSE(session->Read(&response));
  EXPECT_EQ(session->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  const auto session_records = audit("/carbon.v1.TradingService/OrderSession");
  ASSERT_EQ(session_records.size(), 1u);
  EXPECT_EQ(session_records[0].principal(), "ops");
  EXPECT_EQ(session_records[0].status_code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));

  // A trader's streams are not audited.
  auto trader_context = RunningExchange::as(p.trader_token());
  auto trader_stream = x->market_data->StreamTrades(trader_context.get(), trades);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  trader_context->TryCancel();
  trader_stream->Finish();
  EXPECT_EQ(audit("/carbon.v1.MarketDataService/StreamTrades").size(), 1u);

  // A record that cannot be written: the stream sends nothing and ends UNAVAILABLE, served or refused.
  db.query("ALTER TABLE audit_log ADD CONSTRAINT test_no_stream_records"
           " CHECK (method NOT LIKE '%MarketDataService/Stream%') NOT VALID");
  const grpc::Status unaudited_status = ended_trade_stream(*x, kRegulatorToken, trades);
  EXPECT_EQ(unaudited_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(unaudited_status.error_message().find("unaudited"), std::string::npos) << unaudited_status.error_message();
  v1::StreamDepthRequest no_instrument;
  auto refused_context = RunningExchange::as(kRegulatorToken);
  auto refused = x->market_data->StreamDepth(refused_context.get(), no_instrument);
  v1::BookSnapshot no_book;
  EXPECT_FALSE(refused->Read(&no_book));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  db.query("ALTER TABLE audit_log DROP CONSTRAINT test_no_stream_records");
  EXPECT_EQ(audit("/carbon.v1.MarketDataService/StreamTrades").size(), 1u);
}

TEST_F(AccessTest, TheStreamLimitRefusesOneStreamTooManyAndItsRecordSaysSo) {
  auto x = open("", "market_data_max_streams = 1\n");
  const std::string method = "/carbon.v1.MarketDataService/StreamTrades";
  v1::StreamTradesRequest trades;
  trades.set_instrument("CEA2024");
  auto first_context = RunningExchange::as(kRegulatorToken);
  auto first = x->market_data->StreamTrades(first_context.get(), trades);
  auto records = audit(method);
  for (int k = 0; k < 50 && records.empty(); ++k) {  // in flight until the server takes it
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    records = audit(method);
  }
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status_code(), 0);

  // One more, while the first is open: refused, and recorded as refused (the
  // feed decides and takes the slot in one step, before the record is written).
  const grpc::Status refused = ended_trade_stream(*x, kRegulatorToken, trades);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("limit"), std::string::npos) << refused.error_message();
  records = audit(method);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].status_code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_EQ(records[1].status_code(), 0);

  // Once the first ends its slot is free again (the feed forgets a stream when it is done).
  first_context->TryCancel();
  first->Finish();
  bool served = false;
  for (int k = 0; k < 50 && !served; ++k) {
    auto context = RunningExchange::as(kRegulatorToken);
    auto again = x->market_data->StreamTrades(context.get(), trades);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    context->TryCancel();
    served = again->Finish().error_code() == grpc::StatusCode::CANCELLED;
  }
  EXPECT_TRUE(served) << "the slot of a stream that ended was not given back";
}

// A staff command carbond refuses before the engine takes it (the database
// unreachable, the command ring full, a stop under way) is audited too: here
// the journal waits on a lock past journal_unavailable_after_ms, so the next
// command is refused at once, UNAVAILABLE, while the audit log (not locked)
// can still take its record.
TEST_F(AccessTest, AStaffCommandTheEngineNeverTookIsAuditedToo) {
  auto x = open("", "[storage]\njournal_unavailable_after_ms = 300");
  const auto p = create(*x, "UNSENT-1");
  v1::CashMovementRequest deposit;
  deposit.set_cash_account_id(p.participant().cash_account_id());
  deposit.set_amount_fen(5'000);
  auto deposit_as_operator = [&](const std::string& key) {
    v1::CashMovementRequest request = deposit;
    request.set_idempotency_key(key);
    v1::CashMovementResponse moved;
    return x->admin->Deposit(RunningExchange::as(kOperatorToken).get(), request, &moved);
  };
  {
    std::future<grpc::Status> waited, refused;  // declared before the lock: destroyed after it is released
    TableLock lock(db.conninfo(), "journal_commands");
    waited = std::async(std::launch::async, [&] { return deposit_as_operator("unsent-waited"); });
    const grpc::Status first = waited.get();
    ASSERT_EQ(first.error_code(), grpc::StatusCode::UNAVAILABLE) << first.error_message();
    EXPECT_NE(first.error_message().find("outcome is unknown"), std::string::npos) << first.error_message();
    refused = std::async(std::launch::async, [&] { return deposit_as_operator("unsent-refused"); });
    if (refused.wait_for(std::chrono::seconds(2)) != std::future_status::ready) lock.release();
    const grpc::Status second = refused.get();
    EXPECT_EQ(second.error_code(), grpc::StatusCode::UNAVAILABLE) << second.error_message();
    EXPECT_NE(second.error_message().find("nothing was done"), std::string::npos) << second.error_message();
  }
  // The waiting one commits once the journal is free; carbond takes commands again.
  ASSERT_TRUE(eventually([&] { return deposit_as_operator("unsent-after").ok(); }));

  const auto deposits = audit("/carbon.v1.AdminService/Deposit");
  auto with_key = [&](const std::string& key) {
    return std::count_if(deposits.begin(), deposits.end(), [&](const v1::AuditRecord& record) {
      return record.request_summary().find("\"" + key + "\"") != std::string::npos;
    });
  };
  EXPECT_EQ(with_key("unsent-waited"), 1) << "journaled with the command once it committed";
  EXPECT_GE(with_key("unsent-after"), 1) << "(tries refused while the journal recovered are audited too)";
  ASSERT_EQ(with_key("unsent-refused"), 1) << "refused before the engine, still audited";
  for (const v1::AuditRecord& record : deposits) {
    if (record.request_summary().find("unsent-refused") == std::string::npos) continue;
    EXPECT_EQ(record.principal(), "ops");
    EXPECT_EQ(record.status_code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE));
    EXPECT_NE(record.status_message().find("nothing was done"), std::string::npos) << record.status_message();
    EXPECT_EQ(record.sequence(), 0u) << "it never reached the journal";
  }
}

TEST_F(AccessTest, StaffReadsAreAuditedBeforeTheyAreAnswered) {
  auto x = open();
  const auto p = create(*x, "READ-1");
  const std::uint64_t account = p.participant().holding_account_id();
  const std::string ledger = "/carbon.v1.RegulatorService/ListLedgerEntries";

  // Read on the gRPC thread from PostgreSQL: served, refused by a check, refused by the table.
  v1::ListLedgerEntriesRequest entries;
  entries.set_holding_account_id(account);
  v1::ListLedgerEntriesResponse listed;
  ASSERT_TRUE(regulator->ListLedgerEntries(RunningExchange::as(kRegulatorToken).get(), entries, &listed).ok());
  // Answered only after its record is committed: the very next query sees it.
  auto records = audit(ledger);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].principal(), "regulator");
  EXPECT_EQ(records[0].role(), v1::ROLE_REGULATOR);
  EXPECT_EQ(records[0].status_code(), 0);
  EXPECT_EQ(records[0].sequence(), 0u) << "a read changes nothing: no journal sequence";
  EXPECT_GT(records[0].audit_id(), 0u);
  EXPECT_GT(records[0].received_at_unix_nanos(), 0);
  EXPECT_NE(records[0].peer().find("127.0.0.1"), std::string::npos) << records[0].peer();
  EXPECT_NE(records[0].request_summary().find("\"holding_account_id\":\"" + std::to_string(account) + "\""),
            std::string::npos)
      << records[0].request_summary();
  entries.set_kind(static_cast<v1::LedgerEntryKind>(99));
  EXPECT_EQ(regulator->ListLedgerEntries(RunningExchange::as(kRegulatorToken).get(), entries, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  entries.set_kind(v1::LEDGER_ENTRY_KIND_UNSPECIFIED);
  EXPECT_EQ(regulator->ListLedgerEntries(RunningExchange::as(kOperatorToken).get(), entries, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::VerifyLedgerResponse verified;
  ASSERT_TRUE(regulator->VerifyLedger(RunningExchange::as(kRegulatorToken).get(), {}, &verified).ok());
  v1::QueryTradesResponse trades;
  ASSERT_TRUE(regulator->QueryTrades(RunningExchange::as(kRegulatorToken).get(), {}, &trades).ok());

  // Reads answered by the engine: served, refused by the engine, refused by a check on the gRPC thread.
  list(*x, false);  // ListApiTokens by the operator (checks it is OK)
  v1::GetHoldingsRequest holdings;
  holdings.set_holding_account_id(999'999);
  v1::GetHoldingsResponse held;
  EXPECT_EQ(x->registry->GetHoldings(RunningExchange::as(kRegistryToken).get(), holdings, &held).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListEarlyWarningsRequest warnings;
  warnings.set_compliance_year(2024);
  warnings.set_page_token("not a token");
  v1::ListEarlyWarningsResponse warned;
  EXPECT_EQ(regulator->ListEarlyWarnings(RunningExchange::as(kRegulatorToken).get(), warnings, &warned).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // GetAccountBalances (instrument_services.cpp) goes through the same dispatch: served and NOT_FOUND.
  v1::GetAccountBalancesRequest staff_balances;
  staff_balances.set_participant_id(p.participant().participant_id());
  v1::GetAccountBalancesResponse staff_balances_response;
  ASSERT_TRUE(
      x->admin->GetAccountBalances(RunningExchange::as(kRegistryToken).get(), staff_balances, &staff_balances_response)
          .ok());
  staff_balances.set_participant_id(999'999);
  EXPECT_EQ(
      x->admin->GetAccountBalances(RunningExchange::as(kOperatorToken).get(), staff_balances, &staff_balances_response)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  // A trader's own reads are not audited.
  EXPECT_EQ(balances(*x, p.trader_token()), grpc::StatusCode::OK);
  // A registry command refused by the engine: recorded with its request.
  v1::EnforcePledgeRequest enforce;
  enforce.set_pledge_id(4'242);
  enforce.set_reason("default notice 7");
  enforce.set_idempotency_key("enforce-1");
  v1::EnforcePledgeResponse enforced;
  EXPECT_EQ(x->registry->EnforcePledge(RunningExchange::as(kRegistryToken).get(), enforce, &enforced).error_code(),
            grpc::StatusCode::NOT_FOUND);

  x->stop();
  x = open();  // the records are durable

  records = audit(ledger);
  ASSERT_EQ(records.size(), 3u);
  // Newest first: the operator refused by the table, the regulator refused by a check, the regulator served.
  EXPECT_EQ(records[0].principal(), "ops");
  EXPECT_EQ(records[0].status_code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_NE(records[0].status_message().find("operator"), std::string::npos) << records[0].status_message();
  EXPECT_EQ(records[1].status_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(records[1].status_message().find("kind"), std::string::npos) << records[1].status_message();
  EXPECT_EQ(records[2].status_code(), 0);
  EXPECT_GT(records[0].audit_id(), records[1].audit_id());
  EXPECT_GT(records[1].audit_id(), records[2].audit_id());
  EXPECT_EQ(audit("/carbon.v1.RegulatorService/VerifyLedger").size(), 1u);
  EXPECT_EQ(audit("/carbon.v1.RegulatorService/QueryTrades").size(), 1u);
  const auto tokens = audit("/carbon.v1.AdminService/ListApiTokens");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].principal(), "ops");
  EXPECT_EQ(tokens[0].status_code(), 0);
  EXPECT_EQ(tokens[0].sequence(), 0u);
  const auto held_records = audit("/carbon.v1.RegistryService/GetHoldings");
  ASSERT_EQ(held_records.size(), 1u);
  EXPECT_EQ(held_records[0].principal(), "registry");
  EXPECT_EQ(held_records[0].status_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(held_records[0].request_summary().find("\"holding_account_id\":\"999999\""), std::string::npos)
      << held_records[0].request_summary();
  const auto warned_records = audit("/carbon.v1.RegulatorService/ListEarlyWarnings");
  ASSERT_EQ(warned_records.size(), 1u);
  EXPECT_EQ(warned_records[0].status_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(warned_records[0].request_summary().find("\"compliance_year\":2024"), std::string::npos)
      << warned_records[0].request_summary();
  const auto enforce_records = audit("/carbon.v1.RegistryService/EnforcePledge");
  ASSERT_EQ(enforce_records.size(), 1u);
  EXPECT_EQ(enforce_records[0].status_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_GT(enforce_records[0].sequence(), 0u) << "a command: journaled with its refusal";
  EXPECT_NE(enforce_records[0].request_summary().find("\"pledge_id\":\"4242\""), std::string::npos)
      << enforce_records[0].request_summary();
  EXPECT_NE(enforce_records[0].request_summary().find("default notice 7"), std::string::npos)
      << enforce_records[0].request_summary();
  const auto balance_records = audit("/carbon.v1.AdminService/GetAccountBalances");
  ASSERT_EQ(balance_records.size(), 2u);
  EXPECT_EQ(balance_records[0].principal(), "ops");
  EXPECT_EQ(balance_records[0].status_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(balance_records[1].role(), v1::ROLE_REGISTRY_AUTHORITY);
  EXPECT_EQ(balance_records[1].status_code(), 0);
  EXPECT_EQ(balance_records[1].sequence(), 0u);
  EXPECT_NE(balance_records[1].request_summary().find(std::to_string(p.participant().participant_id())),
            std::string::npos)
      << balance_records[1].request_summary();
  EXPECT_TRUE(audit("/carbon.v1.TradingService/GetBalances").empty());
  // The regulator's earlier QueryAuditLog calls are records too.
  EXPECT_GE(audit("/carbon.v1.RegulatorService/QueryAuditLog").size(), 1u);
}

TEST_F(AccessTest, TheAuditLogIsAHashChainThatRegulatorsVerify) {
  auto x = open();
  create(*x, "CHAIN-1");  // a command, journaled with its record
  list(*x, false);        // a read, recorded by the audit writer
  v1::VerifyAuditLogResponse verified;
  ASSERT_TRUE(regulator->VerifyAuditLog(RunningExchange::as(kRegulatorToken).get(), {}, &verified).ok());
  EXPECT_TRUE(verified.valid()) << verified.failure();
  EXPECT_GE(verified.records_checked(), 2u);
  EXPECT_EQ(verified.first_audit_id(), 1u);
  EXPECT_EQ(verified.last_hash().size(), 32u);
  EXPECT_EQ(verified.first_bad_audit_id(), 0u);
  // The verification is itself a staff read, recorded after the records it checked. QueryAuditLog shows each
  // record's hash: the last one checked carries last_hash.
  v1::QueryAuditLogResponse page;
  ASSERT_TRUE(regulator->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), {}, &page).ok());
  ASSERT_GE(page.records_size(), 2);
  EXPECT_EQ(page.records(0).method(), "/carbon.v1.RegulatorService/VerifyAuditLog");
  EXPECT_EQ(page.records(1).audit_id(), verified.last_audit_id());
  EXPECT_EQ(page.records(1).record_hash(), verified.last_hash());
  EXPECT_NE(page.records(0).record_hash(), page.records(1).record_hash());

  // Refusals: a reversed range, a bound beyond the log; recorded like any staff read.
  v1::VerifyAuditLogRequest range;
  range.set_from_audit_id(5);
  range.set_to_audit_id(2);
  grpc::Status refused = regulator->VerifyAuditLog(RunningExchange::as(kRegulatorToken).get(), range, &verified);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("from_audit_id is after to_audit_id"), std::string::npos)
      << refused.error_message();
  range.set_from_audit_id(0);
  range.set_to_audit_id(1'000'000);
  refused = regulator->VerifyAuditLog(RunningExchange::as(kRegulatorToken).get(), range, &verified);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(refused.error_message().find("the audit log ends at record"), std::string::npos) << refused.error_message();
  EXPECT_EQ(audit("/carbon.v1.RegulatorService/VerifyAuditLog", /*failures_only=*/true).size(), 2u);

  // The record of the operator's CreateParticipant rewritten as another participant's, past the append-only
  // trigger by the table's owner: VerifyAuditLog names it, and keeps naming it after a restart.
  const std::string created =
      db.query("SELECT audit_id FROM audit_log WHERE method = '/carbon.v1.AdminService/CreateParticipant'");
  ASSERT_FALSE(created.empty());
  db.query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete;"
           " UPDATE audit_log SET request_summary = replace(request_summary, 'CHAIN-1', 'CHAIN-2')"
           " WHERE audit_id = " + created + ";"
           " ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete");
  x->stop();
  x = open();
  ASSERT_TRUE(regulator->VerifyAuditLog(RunningExchange::as(kRegulatorToken).get(), {}, &verified).ok());
  EXPECT_FALSE(verified.valid());
  EXPECT_EQ(std::to_string(verified.first_bad_audit_id()), created);
  EXPECT_EQ(verified.failure(), "hash mismatch: record " + created + " was altered");
}

// ---- TLS -------------------------------------------------------------------------

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with the openssl CLI.
void make_certificates(const std::filesystem::path& dir) {
  const std::string d = dir.string();
  const std::string script =
      "set -e; cd '" + d + "';"
      " openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=carbond-test-ca -keyout ca.key -out ca.pem 2>/dev/null;"
      " openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null;"
      " printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext;"
      " openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext"
      " -out server.pem 2>/dev/null;"
      " openssl req -newkey rsa:2048 -nodes -subj /CN=terminal-7 -keyout client.key -out client.csr 2>/dev/null;"
      " openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem 2>/dev/null;"
      " chmod 644 *.key";
  ASSERT_EQ(std::system(("bash -c \"" + script + "\"").c_str()), 0);
}

/// carbond with [server] TLS settings added to the end-to-end config.
std::unique_ptr<DaemonProcess> start_tls(const std::filesystem::path& dir, const std::string& conninfo, bool mutual) {
  std::string config = e2e_config();
  std::string tls = "tls_cert_file = \"" + (dir / "server.pem").string() + "\"\ntls_key_file = \"" +
                    (dir / "server.key").string() + "\"\n";
  if (mutual) tls += "tls_client_ca_file = \"" + (dir / "ca.pem").string() + "\"\nrequire_client_cert = true\n";
  config.insert(config.find("[server]\n") + 9, tls);
  std::ofstream(dir / "carbond.toml") << config;
  auto daemon = std::make_unique<DaemonProcess>(
      std::vector<std::string>{"--config=" + (dir / "carbond.toml").string(), "--listen=127.0.0.1:0",
                               "--data-dir=" + (dir / "data").string(), "--postgres=" + conninfo},
      dir);
  daemon->start();
  return daemon;
}

grpc::StatusCode list_instruments(const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                                  const std::string& address) {
  auto channel = grpc::CreateChannel(address, credentials);
  auto admin = v1::AdminService::NewStub(channel);
  v1::ListInstrumentsResponse response;
  auto context = RunningExchange::as(kOperatorToken);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return admin->ListInstruments(context.get(), {}, &response).error_code();
}

TEST_F(AccessTest, TlsAndMutualTlsFromTheConfig) {
  const std::filesystem::path dir = make_world_traversable_temp_dir("carbond-tls");
  make_certificates(dir);
  grpc::SslCredentialsOptions server_only;
  server_only.pem_root_certs = read_file(dir / "ca.pem");
  grpc::SslCredentialsOptions with_client = server_only;
  with_client.pem_private_key = read_file(dir / "client.key");
  with_client.pem_cert_chain = read_file(dir / "client.pem");
  {
    auto daemon = start_tls(dir, db.conninfo(), false);
    EXPECT_EQ(list_instruments(grpc::InsecureChannelCredentials(), daemon->address()), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(list_instruments(grpc::SslCredentials(server_only), daemon->address()), grpc::StatusCode::OK);
    // TLS does not replace the bearer token.
    auto channel = grpc::CreateChannel(daemon->address(), grpc::SslCredentials(server_only));
    v1::ListInstrumentsResponse response;
    EXPECT_EQ(v1::AdminService::NewStub(channel)->ListInstruments(RunningExchange::as("").get(), {}, &response)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    daemon->stop();
  }
  {
    auto daemon = start_tls(dir, db.conninfo(), true);
    EXPECT_EQ(list_instruments(grpc::InsecureChannelCredentials(), daemon->address()), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(list_instruments(grpc::SslCredentials(server_only), daemon->address()), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(list_instruments(grpc::SslCredentials(with_client), daemon->address()), grpc::StatusCode::OK);
    // The client certificate's subject is in the audit record of a staff action.
    auto channel = grpc::CreateChannel(daemon->address(), grpc::SslCredentials(with_client));
    v1::HaltTradingRequest halt;
    halt.set_instrument("CEA2024");
    halt.set_reason("mTLS audit probe");
    v1::HaltTradingResponse halted;
    EXPECT_TRUE(v1::AdminService::NewStub(channel)->HaltTrading(RunningExchange::as(kOperatorToken).get(), halt, &halted).ok());
    v1::QueryAuditLogRequest request;
    request.set_method("/carbon.v1.AdminService/HaltTrading");
    v1::QueryAuditLogResponse log;
    ASSERT_TRUE(v1::RegulatorService::NewStub(channel)
                    ->QueryAuditLog(RunningExchange::as(kRegulatorToken).get(), request, &log)
                    .ok());
    ASSERT_EQ(log.records_size(), 1);
    EXPECT_NE(log.records(0).peer().find("CN=terminal-7"), std::string::npos) << log.records(0).peer();
    daemon->stop();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace carbon::testing
