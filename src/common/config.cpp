#include "common/config.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <toml.hpp>

namespace carbon {
namespace {

std::vector<InstrumentConfig> default_instruments() {
  std::vector<InstrumentConfig> out;
  for (const char* code : {"CEA19-20", "CEA2021", "CEA2022", "CEA2023", "CEA2024", "CEA2025"}) {
    InstrumentConfig instrument;
    instrument.code = code;
    instrument.market = Market::compliance;
    instrument.reference_price = Price{10'000};
    out.push_back(instrument);
  }
  InstrumentConfig ccer;
  ccer.code = "CCER";
  ccer.market = Market::voluntary;
  ccer.reference_price = Price{5'000};
  out.push_back(ccer);
  return out;
}

Market parse_market(const std::string& name) {
  if (name == "compliance") return Market::compliance;
  if (name == "voluntary") return Market::voluntary;
  throw std::runtime_error("instruments.market must be \"compliance\" or \"voluntary\", not \"" + name + "\"");
}

template <typename T>
void read_if_present(const toml::value& table, const char* key, T& out) {
  if (table.contains(key)) out = toml::find<T>(table, key);
}

bool is_power_of_two(std::size_t n) { return n >= 2 && (n & (n - 1)) == 0; }

/// Refuses a key the parser below does not read: a misspelt key would otherwise be ignored without a word, and
/// the setting silently keep its default. (Keep in step with load_config; the example config, which names every
/// key, must load: config_test.)
void check_known_keys(const toml::value& root, const std::string& prefix) {
  using Keys = std::set<std::string>;
  static const std::map<std::string, Keys> kTables = {
      {"server",
       {"listen", "log_level", "shutdown_grace_ms", "market_data_max_streams", "session_max_outbound_messages",
        "session_max_per_participant", "max_database_reads", "tls_cert_file", "tls_key_file", "tls_client_ca_file",
        "require_client_cert"}},
      {"storage",
       {"data_dir", "postgres", "embedded_os_user", "embedded_port", "embedded_settings", "journal_max_batch",
        "journal_connections", "journal_max_wait_us", "journal_unavailable_after_ms",
        "earlier_writer_wait_ms"}},
      {"engine", {"command_ring_capacity", "event_ring_capacity", "expected_orders_per_day", "clock_start"}},
      {"metrics", {"listen"}},
      {"market", {"holidays", "proceeds_withdrawable"}},
      {"fees",
       {"listed_buy_bps", "listed_sell_bps", "block_buy_bps", "block_sell_bps", "auction_buy_bps", "auction_sell_bps"}},
      {"surveillance",
       {"order_to_trade_min_orders", "order_to_trade_max_ratio", "concentration_min_volume", "concentration_top",
        "concentration_share_bps", "marking_close_window_minutes", "marking_close_move_bps", "block_deviation_bps",
        "large_holder_tonnes"}},
  };
  static const Keys kDefaults = {"listed_min_quantity", "listed_max_quantity", "block_min_quantity",
                                 "block_max_quantity", "position_limit", "listed_band_bps", "block_band_bps",
                                 "listed_enabled", "block_enabled", "auction_enabled"};
  static const Keys kStaff = {"name", "role", "token_sha256"};
  static const Keys kInstrument = {"code", "market", "tick_fen", "lot", "listed_max_quantity", "block_min_quantity",
                                   "reference_price_fen", "listed_band_bps", "block_band_bps", "gtc_enabled",
                                   "block_enabled", "auction_enabled", "position_limit"};
  auto check = [&prefix](const toml::value& table, const Keys& known, const std::string& where) {
    if (!table.is_table()) throw std::runtime_error(prefix + where + " must be a table");
    for (const auto& [key, value] : table.as_table()) {
      if (!known.contains(key)) {
        throw std::runtime_error(prefix + "unknown key \"" + key + "\" in [" + where +
                                 "] (misspelt? deploy/carbond.example.toml lists every key)");
      }
    }
  };
  auto check_entries = [&check, &prefix](const toml::value& array, const Keys& known, const std::string& where) {
    if (!array.is_array()) throw std::runtime_error(prefix + where + " must be an array of tables, [[" + where + "]]");
    for (const toml::value& entry : array.as_array()) check(entry, known, "[" + where + "]");
  };
  for (const auto& [name, value] : root.as_table()) {
    if (auto table = kTables.find(name); table != kTables.end()) {
      check(value, table->second, name);
    } else if (name == "instrument_defaults") {
      check(value, {"compliance", "voluntary"}, name);
      for (const auto& [market, defaults] : value.as_table()) check(defaults, kDefaults, name + "." + market);
    } else if (name == "staff") {
      check_entries(value, kStaff, name);
    } else if (name == "instruments") {
      check_entries(value, kInstrument, name);
    } else {
      throw std::runtime_error(prefix + "unknown table or key \"" + name +
                               "\" (misspelt? deploy/carbond.example.toml lists every key)");
    }
  }
}

}  // namespace

Role parse_role(const std::string& name) {
  if (name == "trader") return Role::trader;
  if (name == "operator") return Role::operator_;
  if (name == "registry_authority") return Role::registry_authority;
  if (name == "regulator") return Role::regulator;
  if (name == "auditor") return Role::auditor;
  throw std::runtime_error("unknown role \"" + name +
                           "\" (trader, operator, registry_authority, regulator, auditor)");
}

const char* role_name(Role role) {
  switch (role) {
    case Role::trader: return "trader";
    case Role::operator_: return "operator";
    case Role::registry_authority: return "registry_authority";
    case Role::regulator: return "regulator";
    case Role::auditor: return "auditor";
  }
  return "unknown";
}

Config default_config() {
  Config config;
  config.instruments = default_instruments();
  config.compliance_defaults.market = Market::compliance;
  config.voluntary_defaults.market = Market::voluntary;
  return config;
}

Config load_config(const std::filesystem::path& path) {
  Config config = default_config();
  toml::value root;
  try {
    root = toml::parse(path.string());
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read config " + path.string() + ": " + e.what());
  }
  try {
    check_known_keys(root, "config " + path.string() + ": ");
    if (root.contains("server")) {
      const auto& server = toml::find(root, "server");
      read_if_present(server, "listen", config.listen_address);
      read_if_present(server, "log_level", config.log_level);
      read_if_present(server, "shutdown_grace_ms", config.shutdown_grace_ms);
      read_if_present(server, "market_data_max_streams", config.market_data_max_streams);
      read_if_present(server, "session_max_outbound_messages", config.session_max_outbound_messages);
      read_if_present(server, "session_max_per_participant", config.session_max_per_participant);
      read_if_present(server, "max_database_reads", config.max_database_reads);
      read_if_present(server, "tls_cert_file", config.tls_cert_file);
      read_if_present(server, "tls_key_file", config.tls_key_file);
      read_if_present(server, "tls_client_ca_file", config.tls_client_ca_file);
      read_if_present(server, "require_client_cert", config.require_client_cert);
    }
    if (root.contains("storage")) {
      const auto& storage = toml::find(root, "storage");
      std::string data_dir = config.data_dir.string();
      read_if_present(storage, "data_dir", data_dir);
      config.data_dir = data_dir;
      read_if_present(storage, "postgres", config.postgres);
      read_if_present(storage, "embedded_os_user", config.embedded_os_user);
      read_if_present(storage, "embedded_port", config.embedded_port);
      if (storage.contains("embedded_settings")) {
        for (const auto& [name, value] : toml::find(storage, "embedded_settings").as_table()) {
          const bool plain_name = !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.") ==
                                                       std::string::npos;
          if (!plain_name || !value.is_string()) {
            throw std::runtime_error("storage.embedded_settings: \"" + name +
                                     "\" must be a PostgreSQL setting name (lower case, digits, _ and .) with a "
                                     "string value");
          }
          // carbond owns where the cluster listens and which files it reads: the
          // superuser it connects as is trusted on the private socket.
          static const std::set<std::string> kReserved = {
              "port", "listen_addresses", "unix_socket_directories", "unix_socket_permissions",
              "unix_socket_group", "data_directory", "config_file", "hba_file", "ident_file",
              "external_pid_file", "include", "include_dir", "include_if_exists"};
          if (kReserved.contains(name)) {
            throw std::runtime_error("storage.embedded_settings: \"" + name +
                                     "\" is set by carbond for its embedded cluster and cannot be overridden");
          }
          const std::string text = toml::get<std::string>(value);
          if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
            throw std::runtime_error("storage.embedded_settings: the value of \"" + name +
                                     "\" must not contain control characters");
          }
          config.embedded_settings.emplace_back(name, text);
        }
      }
      read_if_present(storage, "journal_max_batch", config.journal_max_batch);
      read_if_present(storage, "journal_connections", config.journal_connections);
      read_if_present(storage, "journal_max_wait_us", config.journal_max_wait_us);
      read_if_present(storage, "journal_unavailable_after_ms", config.journal_unavailable_after_ms);
      read_if_present(storage, "earlier_writer_wait_ms", config.earlier_writer_wait_ms);
    }
    if (root.contains("engine")) {
      const auto& engine = toml::find(root, "engine");
      read_if_present(engine, "command_ring_capacity", config.command_ring_capacity);
      read_if_present(engine, "event_ring_capacity", config.event_ring_capacity);
      read_if_present(engine, "expected_orders_per_day", config.expected_orders_per_day);
      read_if_present(engine, "clock_start", config.clock_start);
    }
    if (root.contains("metrics")) {
      read_if_present(toml::find(root, "metrics"), "listen", config.metrics_listen);
    }
    if (root.contains("market")) {
      const auto& market = toml::find(root, "market");
      read_if_present(market, "holidays", config.holidays);
      if (market.contains("proceeds_withdrawable")) {
        const std::string when = toml::find<std::string>(market, "proceeds_withdrawable");
        if (when != "next_day" && when != "same_day") {
          throw std::runtime_error("config " + path.string() + ": market.proceeds_withdrawable must be \"next_day\" "
                                   "or \"same_day\", not \"" + when + "\"");
        }
        config.proceeds_withdrawable_same_day = when == "same_day";
      }
    }
    if (root.contains("fees")) {
      const auto& fees = toml::find(root, "fees");
      read_if_present(fees, "listed_buy_bps", config.fees.listed_buy_bps);
      read_if_present(fees, "listed_sell_bps", config.fees.listed_sell_bps);
      read_if_present(fees, "block_buy_bps", config.fees.block_buy_bps);
      read_if_present(fees, "block_sell_bps", config.fees.block_sell_bps);
      read_if_present(fees, "auction_buy_bps", config.fees.auction_buy_bps);
      read_if_present(fees, "auction_sell_bps", config.fees.auction_sell_bps);
      for (int bps : {config.fees.listed_buy_bps, config.fees.listed_sell_bps, config.fees.block_buy_bps,
                      config.fees.block_sell_bps, config.fees.auction_buy_bps, config.fees.auction_sell_bps}) {
        if (bps < 0 || bps > FeeSchedule::kMaxBps) {
          throw std::runtime_error("fees: every rate must be 0 to " + std::to_string(FeeSchedule::kMaxBps) +
                                   " basis points, not " + std::to_string(bps));
        }
      }
    }
    if (root.contains("surveillance")) {
      const auto& table = toml::find(root, "surveillance");
      SurveillanceConfig& s = config.surveillance;
      read_if_present(table, "order_to_trade_min_orders", s.order_to_trade_min_orders);
      read_if_present(table, "order_to_trade_max_ratio", s.order_to_trade_max_ratio);
      read_if_present(table, "concentration_min_volume", s.concentration_min_volume);
      read_if_present(table, "concentration_top", s.concentration_top);
      read_if_present(table, "concentration_share_bps", s.concentration_share_bps);
      read_if_present(table, "marking_close_window_minutes", s.marking_close_window_minutes);
      read_if_present(table, "marking_close_move_bps", s.marking_close_move_bps);
      read_if_present(table, "block_deviation_bps", s.block_deviation_bps);
      read_if_present(table, "large_holder_tonnes", s.large_holder_tonnes);
      auto at_least_zero = [&](const char* key, std::int64_t value, const char* zero = "off") {
        if (value < 0) {
          throw std::runtime_error("surveillance." + std::string(key) + " must be 0 (" + zero + ") or more, not " +
                                   std::to_string(value));
        }
      };
      at_least_zero("order_to_trade_min_orders", s.order_to_trade_min_orders, "no floor");
      at_least_zero("order_to_trade_max_ratio", s.order_to_trade_max_ratio);
      at_least_zero("concentration_min_volume", s.concentration_min_volume, "no floor");
      at_least_zero("concentration_top", s.concentration_top);
      at_least_zero("marking_close_move_bps", s.marking_close_move_bps);
      at_least_zero("block_deviation_bps", s.block_deviation_bps);
      at_least_zero("large_holder_tonnes", s.large_holder_tonnes);
      if (s.concentration_share_bps < 0 || s.concentration_share_bps > 10'000) {
        throw std::runtime_error("surveillance.concentration_share_bps must be 0 (off) to 10000, not " +
                                 std::to_string(s.concentration_share_bps));
      }
      if (s.marking_close_window_minutes < 0 || s.marking_close_window_minutes > 24 * 60) {
        throw std::runtime_error("surveillance.marking_close_window_minutes must be 0 (off) to 1440, not " +
                                 std::to_string(s.marking_close_window_minutes));
      }
    }
    if (root.contains("instrument_defaults")) {
      const auto& defaults = toml::find(root, "instrument_defaults");
      for (auto [name, out] : {std::pair{"compliance", &config.compliance_defaults},
                               std::pair{"voluntary", &config.voluntary_defaults}}) {
        if (!defaults.contains(name)) continue;
        const auto& table = toml::find(defaults, name);
        InstrumentConfig& d = *out;
        for (auto [key, qty] : {std::pair{"listed_min_quantity", &d.listed_min_quantity},
                                std::pair{"listed_max_quantity", &d.listed_max_quantity},
                                std::pair{"block_min_quantity", &d.block_min_quantity},
                                std::pair{"block_max_quantity", &d.block_max_quantity},
                                std::pair{"position_limit", &d.position_limit}}) {
          if (table.contains(key)) *qty = Qty{toml::find<std::int64_t>(table, key)};
          if (qty->is_negative()) {
            throw std::runtime_error(std::string("instrument_defaults.") + name + "." + key + " must not be negative");
          }
        }
        read_if_present(table, "listed_band_bps", d.listed_band_bps);
        read_if_present(table, "block_band_bps", d.block_band_bps);
        read_if_present(table, "listed_enabled", d.listed_enabled);
        read_if_present(table, "block_enabled", d.block_enabled);
        read_if_present(table, "auction_enabled", d.auction_enabled);
        for (int bps : {d.listed_band_bps, d.block_band_bps}) {
          if (bps <= 0 || bps >= 10'000) {
            throw std::runtime_error(std::string("instrument_defaults.") + name +
                                     ": bands must be 1 to 9999 basis points");
          }
        }
      }
    }
    if (root.contains("staff")) {
      config.staff.clear();
      for (const auto& entry : toml::find<toml::array>(root, "staff")) {
        StaffPrincipal principal;
        principal.name = toml::find<std::string>(entry, "name");
        principal.role = parse_role(toml::find<std::string>(entry, "role"));
        if (principal.role == Role::trader) {
          throw std::runtime_error("staff." + principal.name + ": traders get their tokens from CreateParticipant");
        }
        principal.token_sha256_hex = toml::find<std::string>(entry, "token_sha256");
        if (principal.token_sha256_hex.size() != 64 ||
            principal.token_sha256_hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
          throw std::runtime_error("staff." + principal.name + ".token_sha256 must be 64 lowercase hex digits");
        }
        config.staff.push_back(std::move(principal));
      }
    }
    if (root.contains("instruments")) {
      config.instruments.clear();
      for (const auto& entry : toml::find<toml::array>(root, "instruments")) {
        InstrumentConfig instrument;
        instrument.code = toml::find<std::string>(entry, "code");
        if (entry.contains("market")) instrument.market = parse_market(toml::find<std::string>(entry, "market"));
        if (entry.contains("tick_fen")) instrument.tick = Price{toml::find<std::int64_t>(entry, "tick_fen")};
        if (entry.contains("lot")) instrument.lot = Qty{toml::find<std::int64_t>(entry, "lot")};
        if (entry.contains("listed_max_quantity"))
          instrument.listed_max_quantity = Qty{toml::find<std::int64_t>(entry, "listed_max_quantity")};
        if (entry.contains("block_min_quantity"))
          instrument.block_min_quantity = Qty{toml::find<std::int64_t>(entry, "block_min_quantity")};
        if (entry.contains("reference_price_fen"))
          instrument.reference_price = Price{toml::find<std::int64_t>(entry, "reference_price_fen")};
        read_if_present(entry, "listed_band_bps", instrument.listed_band_bps);
        read_if_present(entry, "block_band_bps", instrument.block_band_bps);
        read_if_present(entry, "gtc_enabled", instrument.gtc_enabled);
        read_if_present(entry, "block_enabled", instrument.block_enabled);
        read_if_present(entry, "auction_enabled", instrument.auction_enabled);
        if (entry.contains("position_limit"))
          instrument.position_limit = Qty{toml::find<std::int64_t>(entry, "position_limit")};
        if (instrument.reference_price.is_negative() || instrument.position_limit.is_negative() ||
            instrument.listed_band_bps <= 0 || instrument.listed_band_bps >= 10'000 || instrument.block_band_bps <= 0 ||
            instrument.block_band_bps >= 10'000) {
          throw std::runtime_error("instruments." + instrument.code +
                                   ": reference_price_fen and position_limit must not be negative, bands must be"
                                   " 1 to 9999 basis points");
        }
        if (!instrument.tick.is_positive() || !instrument.lot.is_positive()) {
          throw std::runtime_error("instruments." + instrument.code + ": tick_fen and lot must be positive");
        }
        config.instruments.push_back(std::move(instrument));
      }
    }
  } catch (const toml::exception& e) {
    throw std::runtime_error("config " + path.string() + ": " + e.what());
  }
  if (!is_power_of_two(config.command_ring_capacity) || !is_power_of_two(config.event_ring_capacity)) {
    throw std::runtime_error("config " + path.string() + ": engine ring capacities must be powers of two");
  }
  if (config.expected_orders_per_day > kMaxExpectedOrdersPerDay) {
    throw std::runtime_error("config " + path.string() + ": engine.expected_orders_per_day must be at most " +
                             std::to_string(kMaxExpectedOrdersPerDay));
  }
  if (config.journal_max_batch == 0) {
    throw std::runtime_error("config " + path.string() + ": storage.journal_max_batch must be positive");
  }
  if (config.market_data_max_streams < 1) {
    throw std::runtime_error("config " + path.string() + ": server.market_data_max_streams must be at least 1");
  }
  if (config.session_max_outbound_messages < 1) {
    throw std::runtime_error("config " + path.string() + ": server.session_max_outbound_messages must be at least 1");
  }
  if (config.session_max_per_participant < 1) {
    throw std::runtime_error("config " + path.string() + ": server.session_max_per_participant must be at least 1");
  }
  if (config.max_database_reads < 1) {
    throw std::runtime_error("config " + path.string() + ": server.max_database_reads must be at least 1");
  }
  if (config.journal_connections < 1 || config.journal_connections > 8) {
    throw std::runtime_error("config " + path.string() + ": storage.journal_connections must be between 1 and 8");
  }
  if (config.journal_max_wait_us < 0 || config.journal_unavailable_after_ms <= 0) {
    throw std::runtime_error("config " + path.string() +
                             ": storage.journal_max_wait_us must be >= 0 and journal_unavailable_after_ms positive");
  }
  if (config.earlier_writer_wait_ms <= 0) {
    throw std::runtime_error("config " + path.string() + ": storage.earlier_writer_wait_ms must be positive");
  }
  return config;
}

}  // namespace carbon
