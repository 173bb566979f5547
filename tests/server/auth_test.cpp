#include <gtest/gtest.h>

#include <set>
#include <string>

#include "carbon/v1/admin.pb.h"
#include "carbon/v1/market_data.pb.h"
#include "carbon/v1/registry.pb.h"
#include "carbon/v1/regulator.pb.h"
#include "carbon/v1/trading.pb.h"
#include "server/auth.h"

namespace carbon::server {
namespace {

TEST(AuthTest, TokensAreRandomAndLongEnough) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string token = generate_token();
    EXPECT_EQ(token.rfind("cbt_", 0), 0u);
    EXPECT_GE(token.size(), 4u + 43u);
    EXPECT_TRUE(seen.insert(token).second);
  }
}

TEST(AuthTest, HashFromHexRoundTripsAndRejectsMalformedInput) {
  const registry::Hash hash = hash_token("secret");
  EXPECT_EQ(hash_from_hex(registry::to_hex(hash)), hash);
  EXPECT_FALSE(hash_from_hex("abc").has_value());
  EXPECT_FALSE(hash_from_hex(std::string(64, 'g')).has_value());
}

TEST(AuthTest, Sha256OfAKnownString) {
  EXPECT_EQ(registry::to_hex(hash_token("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuthorizationTest, TradersPlaceOrdersButCannotCreateParticipants) {
  EXPECT_TRUE(authorize(Role::trader, "carbon.v1.TradingService/PlaceOrder").is_ok());
  const Status denied = authorize(Role::trader, "carbon.v1.AdminService/CreateParticipant");
  EXPECT_EQ(denied.code(), ErrorCode::permission_denied);
  EXPECT_NE(denied.message().find("trader"), std::string::npos);
}

TEST(AuthorizationTest, OnlyTheRegistryAuthorityIssuesAllowances) {
  EXPECT_TRUE(authorize(Role::registry_authority, "carbon.v1.RegistryService/IssueAllowances").is_ok());
  for (Role role : {Role::trader, Role::operator_, Role::regulator, Role::auditor}) {
    EXPECT_EQ(authorize(role, "carbon.v1.RegistryService/IssueAllowances").code(), ErrorCode::permission_denied);
  }
}

TEST(AuthorizationTest, StaffCannotTrade) {
  for (Role role : {Role::operator_, Role::registry_authority, Role::regulator, Role::auditor}) {
    EXPECT_EQ(authorize(role, "carbon.v1.TradingService/PlaceOrder").code(), ErrorCode::permission_denied);
  }
}

TEST(AuthorizationTest, CcerIsWrittenByTheAuthorityAndRetirementsArePublic) {
  const Role everyone[] = {Role::trader, Role::operator_, Role::registry_authority, Role::regulator, Role::auditor};
  for (const char* write : {"RegisterMethodology", "RegisterCcerProject", "IssueCcerCredits"}) {
    const std::string method = std::string("carbon.v1.RegistryService/") + write;
    for (Role role : everyone) {
      EXPECT_EQ(authorize(role, method).is_ok(), role == Role::registry_authority) << method;
    }
  }
  for (const char* read : {"ListMethodologies", "ListCcerProjects", "ListRetirements"}) {
    for (Role role : everyone) EXPECT_TRUE(authorize(role, std::string("carbon.v1.RegistryService/") + read).is_ok());
  }
  for (Role role : everyone) {
    // A trader retires and lists the serials of its own account (the engine checks whose).
    EXPECT_EQ(authorize(role, "carbon.v1.RegistryService/RetireUnits").is_ok(),
              role == Role::trader || role == Role::registry_authority);
    EXPECT_EQ(authorize(role, "carbon.v1.RegistryService/ListSerialBlocks").is_ok(), role != Role::operator_);
  }
}

// The auditor is read-only: every method the table opens to it reads, by the API's naming (Get, List, Query,
// Stream, Verify). A mutating method given to the auditor by mistake fails here; the matrix test alone would not
// see it, as it takes its expectations from the table.
TEST(AuthorizationTest, TheAuditorIsOpenedOnlyMethodsThatRead) {
  const google::protobuf::FileDescriptor* files[] = {
      v1::PlaceOrderRequest::descriptor()->file(), v1::StreamDepthRequest::descriptor()->file(),
      v1::CreateParticipantRequest::descriptor()->file(), v1::IssueAllowancesRequest::descriptor()->file(),
      v1::QueryAuditLogRequest::descriptor()->file()};
  std::size_t services = 0, opened = 0;
  for (const google::protobuf::FileDescriptor* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      ++services;
      for (int m = 0; m < service->method_count(); ++m) {
        const std::string method = service->full_name() + "/" + service->method(m)->name();
        if (!authorize(Role::auditor, method).is_ok()) continue;
        ++opened;
        const std::string& name = service->method(m)->name();
        const bool reads = name.starts_with("Get") || name.starts_with("List") || name.starts_with("Query") ||
                           name.starts_with("Stream") || name.starts_with("Verify");
        EXPECT_TRUE(reads) << method << " is open to the read-only auditor";
      }
    }
  }
  EXPECT_EQ(services, 5u);
  EXPECT_GT(opened, 20u);
}

// A revocation applied by the commit listener is not undone by the issue's reply that comes after it (both
// committed in one batch): records older than the newest applied for a token change nothing. The same for a
// participant's first token.
TEST(AuthenticatorTest, AnOlderRecordOfATokenDoesNotUndoARevocation) {
  Authenticator auth;
  engine::ApiTokenRecord token;
  token.id = 7;
  token.role = Role::operator_;
  token.label = "desk";
  token.token_hash = hash_token("secret-7");
  token.updated_sequence = 10;
  engine::ApiTokenRecord revoked = token;
  revoked.revoked_at = 1;
  revoked.updated_sequence = 11;
  engine::Principal who;
  auth.apply_token(revoked);
  auth.apply_token(token);
  EXPECT_EQ(auth.authenticate_hash(token.token_hash, who).code(), ErrorCode::unauthenticated);
  EXPECT_TRUE(auth.revoked(7));
  // Refused, but a staff token is named, so that the attempt can be audited.
  EXPECT_EQ(who.role, Role::operator_);
  EXPECT_EQ(who.name, "desk");
  EXPECT_EQ(who.token_id, 7u);

  engine::ApiTokenRecord first = token;
  first.id = 8;
  first.role = Role::trader;
  first.participant = 3;
  first.token_hash = hash_token("secret-8");
  engine::ApiTokenRecord first_revoked = first;
  first_revoked.revoked_at = 1;
  first_revoked.updated_sequence = 11;
  auth.apply_token(first_revoked);
  auth.add_first_token(first, "BANK");
  engine::Principal trader;
  EXPECT_EQ(auth.authenticate_hash(first.token_hash, trader).code(), ErrorCode::unauthenticated);
  EXPECT_TRUE(trader.name.empty()) << "a trader's revoked token names nobody: traders' calls are not audited";

  // In order, a token is accepted, under the participant's code for a first token, until revoked.
  engine::ApiTokenRecord other = first;
  other.id = 9;
  other.token_hash = hash_token("secret-9");
  auth.add_first_token(other, "FIRM");
  ASSERT_TRUE(auth.authenticate_hash(other.token_hash, who).is_ok());
  EXPECT_EQ(who.name, "FIRM");
  EXPECT_EQ(who.token_id, 9u);
  EXPECT_FALSE(auth.revoked(9));
  other.revoked_at = 2;
  other.updated_sequence = 12;
  auth.apply_token(other);
  EXPECT_EQ(auth.authenticate_hash(other.token_hash, who).code(), ErrorCode::unauthenticated);
}

TEST(AuthorizationTest, UnknownMethodsAreDenied) {
  EXPECT_EQ(authorize(Role::operator_, "carbon.v1.Nope/Nothing").code(), ErrorCode::permission_denied);
}

}  // namespace
}  // namespace carbon::server
