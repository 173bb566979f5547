// The embedded default: no database configured, carbond runs its own PostgreSQL.

#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

namespace carbon::testing {
namespace {

bool embedded_postgres_running(const std::filesystem::path& data_dir) {
  return std::filesystem::exists(data_dir / "pg" / "postmaster.pid");
}

TEST(EmbeddedTest, CarbondStartsItsOwnPostgresKeepsDataAcrossRestartsAndStopsIt) {
  RunningExchange exchange({"--embedded-port=5499"});
  ASSERT_NO_THROW(exchange.start()) << exchange.log();
  const auto data_dir = exchange.dir() / "data";
  EXPECT_TRUE(embedded_postgres_running(data_dir));
  EXPECT_EQ(exchange.health(), 1);

  v1::CreateParticipantResponse created;
  ASSERT_TRUE(create_participant(exchange, "EMB-1", v1::PARTICIPANT_TYPE_INSTITUTION, created, "Embedded Co.").ok());

  ASSERT_EQ(exchange.stop(), 0) << exchange.log();
  EXPECT_FALSE(embedded_postgres_running(data_dir)) << "carbond must stop the cluster it started";

  ASSERT_NO_THROW(exchange.start()) << exchange.log();
  const std::string log = exchange.log();
  const auto first_init = log.find("initialized a new PostgreSQL cluster");
  ASSERT_NE(first_init, std::string::npos);
  EXPECT_EQ(log.find("initialized a new PostgreSQL cluster", first_init + 1), std::string::npos)
      << "the second start reuses the cluster instead of running initdb again";
  v1::GetBalancesResponse balances;
  ASSERT_TRUE(exchange.trading->GetBalances(RunningExchange::as(created.trader_token()).get(), {}, &balances).ok())
      << "the trader token survives the restart";
  EXPECT_EQ(balances.cash().cash_account_id(), created.participant().cash_account_id());
  ASSERT_EQ(exchange.stop(2), 0) << "SIGINT stops carbond cleanly too";
  EXPECT_FALSE(embedded_postgres_running(data_dir));
}

TEST(EmbeddedTest, AfterSigkillTheNextCarbondReusesTheRunningClusterAndStopsItOnExit) {
  RunningExchange exchange({"--embedded-port=5496"});
  ASSERT_NO_THROW(exchange.start()) << exchange.log();
  const auto data_dir = exchange.dir() / "data";
  ASSERT_EQ(exchange.stop(SIGKILL), 128 + SIGKILL);
  EXPECT_TRUE(embedded_postgres_running(data_dir)) << "PostgreSQL outlives a killed carbond";
  ASSERT_NO_THROW(exchange.start()) << exchange.log();
  EXPECT_NE(exchange.log().find("reusing the server already running"), std::string::npos);
  EXPECT_EQ(exchange.health(), 1);
  ASSERT_EQ(exchange.stop(), 0) << exchange.log();
  EXPECT_FALSE(embedded_postgres_running(data_dir)) << "the cluster is carbond's own: stopped on exit";
}

TEST(EmbeddedTest, WithoutStaffInTheConfigCarbondWritesBootstrapTokens) {
  const auto dir = make_world_traversable_temp_dir("carbond-e2e-boot");
  DaemonProcess daemon({"--listen=127.0.0.1:0", "--data-dir=" + (dir / "data").string(), "--embedded-port=5498"}, dir);
  ASSERT_NO_THROW(daemon.start());
  const auto tokens = dir / "data" / "staff-tokens.toml";
  ASSERT_TRUE(std::filesystem::exists(tokens));
  EXPECT_EQ(std::filesystem::status(tokens).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  EXPECT_EQ(daemon.stop(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carbon::testing
