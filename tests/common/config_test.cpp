#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/config.h"

namespace carbon {
namespace {

std::filesystem::path write_config(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("carbon_config_test_" + name + ".toml");
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, DefaultsFollowTheMarketRules) {
  const Config config = default_config();
  ASSERT_FALSE(config.instruments.empty());
  bool has_cea2024 = false, has_ccer = false;
  for (const auto& i : config.instruments) {
    if (i.code == "CEA2024") {
      has_cea2024 = true;
      EXPECT_EQ(i.market, Market::compliance);
      EXPECT_EQ(i.tick, Price{1});
      EXPECT_EQ(i.lot, Qty{1});
      EXPECT_EQ(i.listed_max_quantity, Qty{99'999});
      EXPECT_EQ(i.block_min_quantity, Qty{100'000});
      EXPECT_EQ(i.listed_band_bps, 1'000);
      EXPECT_EQ(i.block_band_bps, 3'000);
      EXPECT_EQ(i.position_limit, Qty{1'000'000});
      EXPECT_FALSE(i.gtc_enabled);
      EXPECT_TRUE(i.reference_price.is_positive());
    }
    if (i.code == "CCER") {
      has_ccer = true;
      EXPECT_EQ(i.market, Market::voluntary);
    }
  }
  EXPECT_TRUE(has_cea2024);
  EXPECT_TRUE(has_ccer);
}

TEST(ConfigTest, FileOverridesDefaults) {
  const auto path = write_config("override", R"(
[server]
listen = "0.0.0.0:6000"
[storage]
postgres = "host=/tmp dbname=x"
[[staff]]
name = "ops"
role = "operator"
token_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
[[instruments]]
code = "CEA2024"
tick_fen = 5
)");
  const Config config = load_config(path);
  EXPECT_EQ(config.listen_address, "0.0.0.0:6000");
  EXPECT_EQ(config.postgres, "host=/tmp dbname=x");
  ASSERT_EQ(config.staff.size(), 1u);
  EXPECT_EQ(config.staff[0].role, Role::operator_);
  ASSERT_EQ(config.instruments.size(), 1u);
  EXPECT_EQ(config.instruments[0].tick, Price{5});
}

TEST(ConfigTest, ReadsMarketRulesTheClockAndHolidays) {
  const auto path = write_config("market", R"(
[engine]
clock_start = "2026-11-24T10:00:00+08:00"
[market]
holidays = ["2026-10-01", "2026-10-02"]
[[instruments]]
code = "CEA2024"
reference_price_fen = 8000
listed_band_bps = 500
block_band_bps = 2000
gtc_enabled = true
block_enabled = false
position_limit = 5000
)");
  const Config config = load_config(path);
  EXPECT_EQ(config.clock_start, "2026-11-24T10:00:00+08:00");
  EXPECT_EQ(config.holidays, (std::vector<std::string>{"2026-10-01", "2026-10-02"}));
  ASSERT_EQ(config.instruments.size(), 1u);
  const InstrumentConfig& i = config.instruments[0];
  EXPECT_EQ(i.reference_price, Price{8'000});
  EXPECT_EQ(i.listed_band_bps, 500);
  EXPECT_EQ(i.block_band_bps, 2'000);
  EXPECT_TRUE(i.gtc_enabled);
  EXPECT_FALSE(i.block_enabled);
  EXPECT_EQ(i.position_limit, Qty{5'000});
  // A config built from a file without reference prices lists instruments that cannot trade yet.
  EXPECT_EQ(load_config(write_config("bare", "[[instruments]]\ncode = \"X\"\n")).instruments[0].reference_price, Price{0});
}

// A misspelt key is refused with its name, not ignored (the setting would silently keep its default).
TEST(ConfigTest, AnUnknownKeyIsRefusedByName) {
  auto refusal = [](const std::string& name, const std::string& text) {
    try {
      load_config(write_config(name, text));
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal("k1", "[metrics]\nlisten_address = \"127.0.0.1:9464\"\n")
                .find("unknown key \"listen_address\" in [metrics] (misspelt? deploy/carbond.example.toml lists"),
            std::string::npos);
  EXPECT_NE(refusal("k2", "[sever]\nlisten = \"0.0.0.0:1\"\n").find("unknown table or key \"sever\""),
            std::string::npos);
  EXPECT_NE(refusal("k3", "[instrument_defaults.complaince]\nlot = 1\n")
                .find("unknown key \"complaince\" in [instrument_defaults]"),
            std::string::npos);
  EXPECT_NE(refusal("k4", "[[instruments]]\ncode = \"X\"\ntick = 1\n")
                .find("unknown key \"tick\" in [[instruments]]"),
            std::string::npos);
  EXPECT_NE(refusal("k5", "[[staff]]\nname = \"a\"\nrole = \"operator\"\ntoken = \"x\"\n")
                .find("unknown key \"token\" in [[staff]]"),
            std::string::npos);
  EXPECT_NE(refusal("k6", "server = 1\n").find("server must be a table"), std::string::npos);
}

TEST(ConfigTest, ProceedsAreWithdrawableTheNextDayOrTheSameDay) {
  EXPECT_FALSE(default_config().proceeds_withdrawable_same_day) << "T+1 by default";
  EXPECT_TRUE(load_config(write_config("t0", "[market]\nproceeds_withdrawable = \"same_day\"\n"))
                  .proceeds_withdrawable_same_day);
  EXPECT_FALSE(load_config(write_config("t1", "[market]\nproceeds_withdrawable = \"next_day\"\n"))
                   .proceeds_withdrawable_same_day);
  try {
    load_config(write_config("t2", "[market]\nproceeds_withdrawable = \"T+2\"\n"));
    ADD_FAILURE() << "T+2 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("market.proceeds_withdrawable must be \"next_day\" or \"same_day\""),
              std::string::npos)
        << e.what();
  }
}

TEST(ConfigTest, RejectsABandOutsideOneToNineThousandNineHundredNinetyNineBasisPoints) {
  const auto path = write_config("band", "[[instruments]]\ncode = \"X\"\nlisted_band_bps = 10000\n");
  EXPECT_THROW(load_config(path), std::runtime_error);
}

TEST(ConfigTest, ReadsInstrumentDefaultsPerMarket) {
  const auto path = write_config("defaults", R"(
[instrument_defaults.compliance]
listed_max_quantity = 50000
block_band_bps = 2000
position_limit = 300000
[instrument_defaults.voluntary]
block_enabled = false
auction_enabled = false
listed_min_quantity = 10
)");
  const Config config = load_config(path);
  EXPECT_EQ(config.compliance_defaults.market, Market::compliance);
  EXPECT_EQ(config.compliance_defaults.listed_max_quantity, Qty{50'000});
  EXPECT_EQ(config.compliance_defaults.block_band_bps, 2'000);
  EXPECT_EQ(config.compliance_defaults.position_limit, Qty{300'000});
  EXPECT_EQ(config.voluntary_defaults.market, Market::voluntary);
  EXPECT_FALSE(config.voluntary_defaults.block_enabled);
  EXPECT_FALSE(config.voluntary_defaults.auction_enabled);
  EXPECT_TRUE(config.compliance_defaults.auction_enabled);
  EXPECT_EQ(config.voluntary_defaults.listed_min_quantity, Qty{10});
  EXPECT_EQ(config.voluntary_defaults.position_limit, Qty{1'000'000});
  EXPECT_THROW(load_config(write_config("bad-defaults", "[instrument_defaults.compliance]\nlisted_band_bps = 0\n")),
               std::runtime_error);
  EXPECT_THROW(load_config(write_config("neg-defaults", "[instrument_defaults.voluntary]\nposition_limit = -1\n")),
               std::runtime_error);
}

TEST(ClockTest, ParsesRfc3339WithAnOffsetOrZ) {
  EXPECT_EQ(parse_rfc3339("2026-11-24T10:00:00+08:00"), parse_rfc3339("2026-11-24T02:00:00Z"));
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:01Z"), 1'000'000'000);
  EXPECT_FALSE(parse_rfc3339("2026-02-30T10:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-11-24 10:00").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-11-24T25:00:00Z").has_value());
}

TEST(ClockTest, AShiftedClockStartsWhereItIsToldAndRunsOn) {
  const UnixNanos start = *parse_rfc3339("2026-11-24T10:00:00+08:00");
  const ShiftedClock clock(start);
  const UnixNanos first = clock.now();
  EXPECT_GE(first, start);
  EXPECT_LT(first - start, 5'000'000'000) << "within seconds of the start";
  EXPECT_GE(clock.now(), first);
}

TEST(ConfigTest, RejectsAMalformedTokenHash) {
  const auto path = write_config("badhash", "[[staff]]\nname = \"a\"\nrole = \"operator\"\ntoken_sha256 = \"xyz\"\n");
  EXPECT_THROW(load_config(path), std::runtime_error);
}

TEST(ConfigTest, RejectsAnUnknownRole) {
  const auto path = write_config("badrole",
                                 "[[staff]]\nname = \"a\"\nrole = \"king\"\ntoken_sha256 = "
                                 "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n");
  EXPECT_THROW(load_config(path), std::runtime_error);
}

TEST(ConfigTest, RejectsARingCapacityThatIsNotAPowerOfTwo) {
  const auto path = write_config("ring", "[engine]\ncommand_ring_capacity = 1000\n");
  EXPECT_THROW(load_config(path), std::runtime_error);
}

TEST(ConfigTest, ExpectedOrdersPerDayIsReadAndBounded) {
  EXPECT_EQ(default_config().expected_orders_per_day, 1'000'000u);
  EXPECT_EQ(load_config(write_config("orders0", "[engine]\nexpected_orders_per_day = 0\n")).expected_orders_per_day, 0u);
  EXPECT_EQ(load_config(write_config("orders5m", "[engine]\nexpected_orders_per_day = 5000000\n")).expected_orders_per_day,
            5'000'000u);
  try {
    load_config(write_config("ordersbig", "[engine]\nexpected_orders_per_day = 100000001\n"));
    ADD_FAILURE() << "expected_orders_per_day = 100000001 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("engine.expected_orders_per_day must be at most 100000000"), std::string::npos)
        << e.what();
  }
}

TEST(ConfigTest, JournalConnectionsAreOneToEight) {
  EXPECT_EQ(load_config(write_config("conn3", "[storage]\njournal_connections = 3\n")).journal_connections, 3u);
  EXPECT_EQ(default_config().journal_connections, 2u);
  for (const char* bad : {"0", "9"}) {
    try {
      load_config(write_config(std::string("conn") + bad, std::string("[storage]\njournal_connections = ") + bad + "\n"));
      ADD_FAILURE() << "journal_connections = " << bad << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("storage.journal_connections must be between 1 and 8"), std::string::npos)
          << e.what();
    }
  }
}

TEST(ConfigTest, ServerLimitsAreAtLeastOne) {
  struct Limit {
    const char* key;
    std::size_t Config::*member;
    std::size_t default_value;
  };
  const Limit limits[] = {
      {"session_max_outbound_messages", &Config::session_max_outbound_messages, 4'096},
      {"session_max_per_participant", &Config::session_max_per_participant, 32},
      {"market_data_max_streams", &Config::market_data_max_streams, 1'024},
      {"max_database_reads", &Config::max_database_reads, 16},
  };
  for (const Limit& limit : limits) {
    const std::string key = limit.key;
    EXPECT_EQ(load_config(write_config(key + "3", "[server]\n" + key + " = 3\n")).*limit.member, 3u) << key;
    EXPECT_EQ(default_config().*limit.member, limit.default_value) << key;
    try {
      load_config(write_config(key + "0", "[server]\n" + key + " = 0\n"));
      ADD_FAILURE() << key << " = 0 was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("server." + key + " must be at least 1"), std::string::npos) << e.what();
    }
  }
}

TEST(ConfigTest, RejectsAMissingFile) {
  EXPECT_THROW(load_config("/nonexistent/carbond.toml"), std::runtime_error);
}

}  // namespace
}  // namespace carbon

namespace carbon {
namespace {

TEST(ConfigTest, TheExampleConfigParsesToTheDefaults) {
  const Config example = load_config(std::filesystem::path(CARBON_SOURCE_DIR) / "deploy" / "carbond.example.toml");
  const Config defaults = default_config();
  EXPECT_EQ(example.listen_address, defaults.listen_address);
  EXPECT_EQ(example.data_dir, defaults.data_dir);
  EXPECT_EQ(example.postgres, defaults.postgres);
  EXPECT_EQ(example.embedded_port, defaults.embedded_port);
  EXPECT_EQ(example.journal_max_batch, defaults.journal_max_batch);
  EXPECT_EQ(example.journal_connections, defaults.journal_connections);
  EXPECT_EQ(example.journal_max_wait_us, defaults.journal_max_wait_us);
  EXPECT_EQ(example.journal_unavailable_after_ms, defaults.journal_unavailable_after_ms);
  EXPECT_EQ(example.command_ring_capacity, defaults.command_ring_capacity);
  EXPECT_EQ(example.instruments.size(), defaults.instruments.size());
  EXPECT_TRUE(example.staff.empty());
  EXPECT_EQ(example.metrics_listen, defaults.metrics_listen);
  EXPECT_EQ(example.log_level, defaults.log_level);
  EXPECT_EQ(example.shutdown_grace_ms, defaults.shutdown_grace_ms);
  EXPECT_EQ(example.market_data_max_streams, defaults.market_data_max_streams);
  EXPECT_EQ(example.session_max_outbound_messages, defaults.session_max_outbound_messages);
  EXPECT_EQ(example.session_max_per_participant, defaults.session_max_per_participant);
  EXPECT_EQ(example.max_database_reads, defaults.max_database_reads);
  EXPECT_EQ(example.event_ring_capacity, defaults.event_ring_capacity);
  EXPECT_EQ(example.expected_orders_per_day, defaults.expected_orders_per_day);
  EXPECT_EQ(example.embedded_os_user, defaults.embedded_os_user);
  EXPECT_EQ(example.clock_start, defaults.clock_start);
  EXPECT_EQ(example.holidays, defaults.holidays);
  EXPECT_EQ(example.proceeds_withdrawable_same_day, defaults.proceeds_withdrawable_same_day);
  const SurveillanceConfig& s = example.surveillance;
  const SurveillanceConfig& d = defaults.surveillance;
  EXPECT_EQ(s.order_to_trade_min_orders, d.order_to_trade_min_orders);
  EXPECT_EQ(s.order_to_trade_max_ratio, d.order_to_trade_max_ratio);
  EXPECT_EQ(s.concentration_min_volume, d.concentration_min_volume);
  EXPECT_EQ(s.concentration_top, d.concentration_top);
  EXPECT_EQ(s.concentration_share_bps, d.concentration_share_bps);
  EXPECT_EQ(s.marking_close_window_minutes, d.marking_close_window_minutes);
  EXPECT_EQ(s.marking_close_move_bps, d.marking_close_move_bps);
  EXPECT_EQ(s.block_deviation_bps, d.block_deviation_bps);
  EXPECT_EQ(s.large_holder_tonnes, d.large_holder_tonnes);
}

/// Every key config.cpp reads appears in the example (set, or commented out
/// as `# key = `), so the example cannot drift from the parser.
TEST(ConfigTest, TheExampleConfigExplainsEveryKeyTheParserReads) {
  auto slurp = [](const std::filesystem::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string parser = slurp(std::filesystem::path(CARBON_SOURCE_DIR) / "src" / "common" / "config.cpp");
  const std::string example = slurp(std::filesystem::path(CARBON_SOURCE_DIR) / "deploy" / "carbond.example.toml");
  ASSERT_FALSE(parser.empty());
  ASSERT_FALSE(example.empty());
  const std::regex key_read(R"re((?:read_if_present\(\w+, |contains\(|find<[^>]*>\(\w+, |find\(root, )"([a-z_]+)")re");
  std::set<std::string> keys;
  for (auto it = std::sregex_iterator(parser.begin(), parser.end(), key_read); it != std::sregex_iterator(); ++it) {
    keys.insert((*it)[1].str());
  }
  EXPECT_GE(keys.size(), 30u) << "the pattern no longer finds the parser's keys";
  for (const std::string& key : keys) {
    const std::regex explained("(^|\\n)(# )?(\\[+)?([a-z_]+\\.)?" + key + "(\\]+| = )");
    EXPECT_TRUE(std::regex_search(example, explained)) << "deploy/carbond.example.toml does not explain \"" << key << "\"";
  }
}

TEST(ConfigTest, FeesPerModeAndSideDefaultToNone) {
  const Config defaults = default_config();
  EXPECT_EQ(defaults.fees.listed_buy_bps, 0);
  EXPECT_EQ(defaults.fees.block_sell_bps, 0);
  const Config config = load_config(write_config(
      "fees", "[fees]\nlisted_buy_bps = 5\nlisted_sell_bps = 3\nblock_buy_bps = 2\nblock_sell_bps = 1\n"));
  EXPECT_EQ(config.fees.buy_bps(TradingMode::listed), 5);
  EXPECT_EQ(config.fees.sell_bps(TradingMode::listed), 3);
  EXPECT_EQ(config.fees.buy_bps(TradingMode::block), 2);
  EXPECT_EQ(config.fees.sell_bps(TradingMode::block), 1);
}

TEST(ConfigTest, RejectsAFeeOutsideZeroToOneThousandBasisPoints) {
  EXPECT_THROW(load_config(write_config("fee-high", "[fees]\nlisted_buy_bps = 1001\n")), std::runtime_error);
  EXPECT_THROW(load_config(write_config("fee-negative", "[fees]\nblock_sell_bps = -1\n")), std::runtime_error);
}

TEST(ConfigTest, ReadsSurveillanceLevelsAndRefusesThemOutOfRange) {
  const Config config = load_config(write_config("surveillance", R"(
[surveillance]
order_to_trade_min_orders = 100
order_to_trade_max_ratio = 0
concentration_min_volume = 5000
concentration_top = 5
concentration_share_bps = 10000
marking_close_window_minutes = 15
marking_close_move_bps = 150
block_deviation_bps = 2500
large_holder_tonnes = 0
)"));
  const SurveillanceConfig& s = config.surveillance;
  EXPECT_EQ(s.order_to_trade_min_orders, 100);
  EXPECT_EQ(s.order_to_trade_max_ratio, 0);
  EXPECT_EQ(s.concentration_min_volume, 5'000);
  EXPECT_EQ(s.concentration_top, 5);
  EXPECT_EQ(s.concentration_share_bps, 10'000);
  EXPECT_EQ(s.marking_close_window_minutes, 15);
  EXPECT_EQ(s.marking_close_move_bps, 150);
  EXPECT_EQ(s.block_deviation_bps, 2'500);
  EXPECT_EQ(s.large_holder_tonnes, 0);
  for (const auto& [name, line, words] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"surv-negative", "block_deviation_bps = -1", "surveillance.block_deviation_bps must be 0 (off) or more"},
           {"surv-share", "concentration_share_bps = 10001", "concentration_share_bps must be 0 (off) to 10000"},
           {"surv-window", "marking_close_window_minutes = 1441", "marking_close_window_minutes must be 0 (off)"},
           {"surv-top", "concentration_top = -3", "surveillance.concentration_top must be 0 (off) or more"},
           {"surv-floor", "concentration_min_volume = -1", "concentration_min_volume must be 0 (no floor) or more"},
           {"surv-unknown", "wash_trade_bps = 5", "unknown key \"wash_trade_bps\" in [surveillance]"}}) {
    try {
      (void)load_config(write_config(name, "[surveillance]\n" + line + "\n"));
      ADD_FAILURE() << line << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }
}

TEST(ConfigTest, ReadsEmbeddedPostgresSettingsAndRejectsUnsafeNames) {
  const Config config = load_config(write_config("pg-settings", R"(
[storage.embedded_settings]
max_wal_size = "16GB"
)"));
  ASSERT_EQ(config.embedded_settings.size(), 1U);
  EXPECT_EQ(config.embedded_settings[0].first, "max_wal_size");
  EXPECT_EQ(config.embedded_settings[0].second, "16GB");
  // A name that could break out of the line it is written on, and a value that is not a string.
  EXPECT_THROW(load_config(write_config("pg-bad-name", "[storage.embedded_settings]\n\"a = 1\\nb\" = \"x\"\n")),
               std::runtime_error);
  EXPECT_THROW(load_config(write_config("pg-bad-value", "[storage.embedded_settings]\nwork_mem = 64\n")),
               std::runtime_error);
  // What carbond sets itself (where the cluster listens, which files it reads), and control characters.
  for (const char* reserved : {"port", "listen_addresses", "unix_socket_permissions", "hba_file", "include"}) {
    EXPECT_THROW(load_config(write_config("pg-reserved", std::string("[storage.embedded_settings]\n") + reserved +
                                                             " = \"x\"\n")),
                 std::runtime_error)
        << reserved;
  }
  EXPECT_THROW(load_config(write_config("pg-newline", "[storage.embedded_settings]\nwork_mem = \"64MB\\nport = 1\"\n")),
               std::runtime_error);
}

}  // namespace
}  // namespace carbon
