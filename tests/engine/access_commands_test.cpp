// API tokens as the engine runs them: issue, revoke and list, each refusal
// with its code and a journaled rejection and no change, first trader tokens
// recorded by CreateParticipant, and a restored exchange that carries on.
#include <gtest/gtest.h>

#include "engine/exchange.h"

namespace carbon::engine {
namespace {

constexpr UnixNanos kStart = 1'763'951'400'000'000'000;  // a weekday morning, Asia/Shanghai

class AccessCommandsTest : public ::testing::Test {
 protected:
  Outcome run(Exchange& x, const Principal& who, CommandBody body) {
    now += 1'000'000;
    Outcome outcome = x.execute(Command{who, std::move(body)}, now);
    for (const Event& event : outcome.events) {
      if (auto* e = std::get_if<ParticipantCreated>(&event)) state.participants.push_back(e->participant);
      if (auto* e = std::get_if<ApiTokenChanged>(&event)) tokens[e->token.id] = e->token;
    }
    if (outcome.sequence != 0) state.last_sequence = outcome.sequence;
    return outcome;
  }

  static registry::Hash hash(std::uint8_t n) {
    registry::Hash h{};
    h[0] = n;
    return h;
  }

  void expect_refused(const Principal& who, CommandBody body, ErrorCode code, const std::string& rule) {
    const Outcome outcome = run(exchange, who, std::move(body));
    EXPECT_EQ(outcome.reply.status.code(), code) << outcome.reply.status.message();
    EXPECT_NE(outcome.reply.status.message().find(rule), std::string::npos) << outcome.reply.status.message();
    ASSERT_EQ(outcome.events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<CommandRejected>(outcome.events[0]));
  }

  std::vector<ApiTokenRecord> list(Exchange& x, bool all) {
    return run(x, op, ListApiTokens{all}).reply.api_tokens;
  }

  Config config = default_config();
  Exchange exchange{config};
  UnixNanos now = kStart;
  RecoveredState state;
  std::map<std::uint64_t, ApiTokenRecord> tokens;
  Principal op{Role::operator_, 0, "ops"};
};

TEST_F(AccessCommandsTest, IssueRevokeListAndRestore) {
  const Outcome created = run(exchange, op, CreateParticipant{"INST-1", "Bank", ParticipantType::institution, hash(1)});
  ASSERT_TRUE(created.reply.status.is_ok());
  const ParticipantId p = created.reply.participants.at(0).id;
  ASSERT_EQ(created.reply.api_tokens.size(), 1u);  // the first trader token is API token 1
  EXPECT_EQ(created.reply.api_tokens[0].id, 1u);
  EXPECT_EQ(created.reply.api_tokens[0].participant, p);
  EXPECT_EQ(created.reply.api_tokens[0].token_hash, hash(1));

  const Principal regulator{Role::regulator, 0, "reg"};
  const Principal authority{Role::registry_authority, 0, "registry"};
  expect_refused(regulator, IssueApiToken{Role::operator_, 0, "x", 0, hash(2)}, ErrorCode::permission_denied,
                 "API tokens of role operator are issued by an operator (separation of duties)");
  expect_refused(op, IssueApiToken{Role::regulator, 0, "x", 0, hash(2)}, ErrorCode::permission_denied,
                 "API tokens of role regulator are issued by a regulator (separation of duties)");
  expect_refused(op, IssueApiToken{Role::registry_authority, 0, "x", 0, hash(2)}, ErrorCode::permission_denied,
                 "API tokens of role registry_authority are issued by the registry authority");
  expect_refused(authority, IssueApiToken{Role::auditor, 0, "x", 0, hash(2)}, ErrorCode::permission_denied,
                 "API tokens of role auditor are issued by a regulator");
  expect_refused(op, IssueApiToken{Role::auditor, 0, "x", 0, hash(2)}, ErrorCode::permission_denied,
                 "API tokens of role auditor are issued by a regulator (separation of duties)");
  expect_refused(op, IssueApiToken{static_cast<Role>(0), 0, "x", 0, hash(2)}, ErrorCode::invalid_argument, "role");
  expect_refused(op, IssueApiToken{static_cast<Role>(9), 0, "x", 0, hash(2)}, ErrorCode::invalid_argument, "role");
  expect_refused(op, IssueApiToken{Role::trader, 0, "x", 0, hash(2)}, ErrorCode::invalid_argument, "participant_id");
  expect_refused(regulator, IssueApiToken{Role::auditor, p, "x", 0, hash(2)}, ErrorCode::invalid_argument, "must be 0");
  expect_refused(regulator, IssueApiToken{Role::auditor, 0, "", 0, hash(2)}, ErrorCode::invalid_argument, "label");
  expect_refused(regulator, IssueApiToken{Role::auditor, 0, std::string(101, 'a'), 0, hash(2)},
                 ErrorCode::invalid_argument, "label");
  expect_refused(regulator, IssueApiToken{Role::auditor, 0, "line\nbreak", 0, hash(2)}, ErrorCode::invalid_argument,
                 "label");
  expect_refused(regulator, IssueApiToken{Role::auditor, 0, "x", now, hash(2)}, ErrorCode::invalid_argument,
                 "in the past");
  expect_refused(op, IssueApiToken{Role::trader, 999, "x", 0, hash(2)}, ErrorCode::not_found, "participant 999");
  EXPECT_EQ(tokens.size(), 1u);

  const Outcome auditor = run(exchange, regulator, IssueApiToken{Role::auditor, 0, "audit firm", 0, hash(2)});
  ASSERT_TRUE(auditor.reply.status.is_ok());
  EXPECT_EQ(auditor.reply.api_tokens.at(0).id, 2u);
  EXPECT_EQ(auditor.reply.api_tokens.at(0).issued_at, now);
  const Outcome brief = run(exchange, op, IssueApiToken{Role::trader, p, "brief", now + 5'000'000, hash(3)});
  ASSERT_TRUE(brief.reply.status.is_ok());
  const Outcome ops2 = run(exchange, op, IssueApiToken{Role::operator_, 0, "ops 2", 0, hash(4)});
  ASSERT_TRUE(ops2.reply.status.is_ok());

  const Principal second_operator{Role::operator_, 0, "ops 2", 4};
  expect_refused(second_operator, RevokeApiToken{4}, ErrorCode::failed_precondition, "caller's own");
  expect_refused(op, RevokeApiToken{0}, ErrorCode::invalid_argument, "token_id");
  expect_refused(op, RevokeApiToken{77}, ErrorCode::not_found, "77");
  expect_refused(regulator, RevokeApiToken{3}, ErrorCode::permission_denied,
                 "API tokens of role trader are revoked by an operator (separation of duties)");
  expect_refused(authority, RevokeApiToken{2}, ErrorCode::permission_denied,
                 "API tokens of role auditor are revoked by a regulator");
  expect_refused(second_operator, RevokeApiToken{2}, ErrorCode::permission_denied,
                 "API tokens of role auditor are revoked by a regulator (separation of duties)");
  const Outcome revoked = run(exchange, regulator, RevokeApiToken{2});
  ASSERT_TRUE(revoked.reply.status.is_ok());
  EXPECT_EQ(revoked.reply.api_tokens.at(0).revoked_at, now);
  ASSERT_EQ(revoked.events.size(), 1u);
  const Outcome again = run(exchange, regulator, RevokeApiToken{2});
  EXPECT_TRUE(again.reply.status.is_ok());
  EXPECT_TRUE(again.events.empty());  // no effect, nothing journaled
  EXPECT_EQ(again.reply.api_tokens.at(0).revoked_at, revoked.reply.api_tokens.at(0).revoked_at);

  const Principal auditor_caller{Role::auditor, 0, "audit"};
  EXPECT_EQ(run(exchange, auditor_caller, ListApiTokens{true}).reply.status.code(), ErrorCode::permission_denied);
  // Each role keeps its own tokens: the registry authority issues, lists and revokes the registry's, a regulator
  // the regulators' and auditors' (and sees every token); an operator sees only the ones it keeps.
  const Outcome registry_token = run(exchange, authority, IssueApiToken{Role::registry_authority, 0, "reg desk", 0,
                                                                         hash(6)});
  ASSERT_TRUE(registry_token.reply.status.is_ok()) << registry_token.reply.status.message();
  const std::uint64_t registry_id = registry_token.reply.api_tokens.at(0).id;
  const Outcome registry_list = run(exchange, authority, ListApiTokens{true});
  ASSERT_EQ(registry_list.reply.api_tokens.size(), 1u);
  EXPECT_EQ(registry_list.reply.api_tokens[0].id, registry_id);
  EXPECT_EQ(run(exchange, regulator, ListApiTokens{true}).reply.api_tokens.size(), 5u);
  for (const ApiTokenRecord& listed : list(exchange, true)) EXPECT_NE(listed.id, registry_id);
  expect_refused(op, RevokeApiToken{registry_id}, ErrorCode::permission_denied,
                 "API tokens of role registry_authority are revoked by the registry authority");
  ASSERT_TRUE(run(exchange, authority, RevokeApiToken{registry_id}).reply.status.is_ok());
  now += 10'000'000;  // past the brief token's expiry
  auto ids = [](const std::vector<ApiTokenRecord>& list) {
    std::vector<std::uint64_t> out;
    for (const auto& t : list) out.push_back(t.id);
    return out;
  };
  EXPECT_EQ(ids(list(exchange, false)), (std::vector<std::uint64_t>{1, 4}));
  EXPECT_EQ(ids(list(exchange, true)), (std::vector<std::uint64_t>{1, 3, 4}));  // not the auditor's

  // Restored from what the store keeps: the same list, and numbering carries on.
  for (const auto& [id, token] : tokens) state.api_tokens.push_back(token);
  Exchange restored(config);
  restored.restore(state);
  EXPECT_EQ(ids(list(restored, true)), (std::vector<std::uint64_t>{1, 3, 4}));
  EXPECT_EQ(restored.api_tokens().at(1).revoked_at, revoked.reply.api_tokens.at(0).revoked_at);
  const Outcome next = run(restored, regulator, IssueApiToken{Role::regulator, 0, "reg 2", 0, hash(5)});
  ASSERT_TRUE(next.reply.status.is_ok());
  EXPECT_EQ(next.reply.api_tokens.at(0).id, 6u);
}

// A call authenticated with a token that is revoked before the engine runs it (or whose revocation committed
// after its caller was answered UNAVAILABLE) is refused, as is one past its token's expiry: commands and queries.
TEST_F(AccessCommandsTest, ACallWithARevokedOrExpiredTokenIsRefusedByTheEngine) {
  const Outcome issued = run(exchange, op, IssueApiToken{Role::operator_, 0, "second desk", 0, hash(2)});
  ASSERT_TRUE(issued.reply.status.is_ok()) << issued.reply.status.message();
  const Principal desk{Role::operator_, 0, "desk", issued.reply.api_tokens.at(0).id};
  ASSERT_TRUE(run(exchange, desk, ListApiTokens{false}).reply.status.is_ok());
  ASSERT_TRUE(run(exchange, desk, IssueApiToken{Role::operator_, 0, "desk 2", 0, hash(3)}).reply.status.is_ok());
  ASSERT_TRUE(run(exchange, op, RevokeApiToken{desk.token_id}).reply.status.is_ok());
  const std::size_t before = tokens.size();
  const std::string revoked = "API token " + std::to_string(desk.token_id) + " was revoked";
  expect_refused(desk, IssueApiToken{Role::auditor, 0, "again", 0, hash(4)}, ErrorCode::unauthenticated, revoked);
  const Outcome read = run(exchange, desk, ListApiTokens{false});
  EXPECT_EQ(read.reply.status.code(), ErrorCode::unauthenticated) << read.reply.status.message();
  EXPECT_EQ(read.reply.status.message(), revoked);
  EXPECT_TRUE(read.reply.api_tokens.empty());
  EXPECT_EQ(tokens.size(), before);

  const Outcome brief = run(exchange, op, IssueApiToken{Role::operator_, 0, "brief", now + 3'000'000, hash(5)});
  ASSERT_TRUE(brief.reply.status.is_ok()) << brief.reply.status.message();
  const Principal short_lived{Role::operator_, 0, "brief", brief.reply.api_tokens.at(0).id};
  ASSERT_TRUE(run(exchange, short_lived, ListApiTokens{false}).reply.status.is_ok());  // 1 ms later
  now += 1'000'000;                                                                     // the next run is past it
  expect_refused(short_lived, IssueApiToken{Role::auditor, 0, "late", 0, hash(6)}, ErrorCode::unauthenticated,
                 "API token " + std::to_string(short_lived.token_id) + " has expired");
  expect_refused(Principal{Role::operator_, 0, "nobody", 999}, RevokeApiToken{1}, ErrorCode::unauthenticated,
                 "API token 999 does not exist");
  EXPECT_EQ(tokens.size(), before + 1);
}

}  // namespace
}  // namespace carbon::engine
