#pragma once
/// carbond's configuration: one TOML file (deploy/carbond.example.toml lists
/// every key) plus command-line flags that override it. Every market rule is
/// a value here with the default from DESIGN.md.

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/types.h"

namespace carbon {

/// Trading fees in basis points of the trade value, per mode and side ([fees]).
/// Each trade side pays value × bps / 10,000 rounded half up to the fen.
struct FeeSchedule {
  int listed_buy_bps = 0;   ///< buyer of a listed (continuous) trade
  int listed_sell_bps = 0;  ///< seller of a listed trade
  int block_buy_bps = 0;    ///< buyer of a block trade
  int block_sell_bps = 0;   ///< seller of a block trade
  int auction_buy_bps = 0;  ///< winning bidder of a single-side auction
  int auction_sell_bps = 0; ///< seller of a single-side auction
  /// Largest accepted rate: 10% of the trade value.
  static constexpr int kMaxBps = 1'000;
  int buy_bps(TradingMode mode) const {
    return mode == TradingMode::block ? block_buy_bps : mode == TradingMode::auction ? auction_buy_bps : listed_buy_bps;
  }
  int sell_bps(TradingMode mode) const {
    return mode == TradingMode::block ? block_sell_bps
                                      : mode == TradingMode::auction ? auction_sell_bps : listed_sell_bps;
  }
};

/// A session window of one trading mode on trading days: [start, end) in
/// minutes after midnight, Asia/Shanghai (09:30 is 570).
struct SessionMinutes {
  int start = 0;
  int end = 0;
  friend bool operator==(const SessionMinutes&, const SessionMinutes&) = default;
};

/// One tradable instrument and its per-mode rules.
struct InstrumentConfig {
  std::string code;                          ///< "CEA2024", "CEA19-20", "CCER"
  Market market = Market::compliance;        ///< compliance (CEA) or voluntary (CCER)
  Price tick{1};                             ///< price step in fen
  Qty lot{1};                                ///< quantity step in tonnes
  Qty listed_max_quantity{99'999};           ///< listed orders must be at most this (under 100,000 t)
  Qty block_min_quantity{100'000};           ///< block orders must be at least this
  Price reference_price{0};                  ///< first reference price (centre of the bands); 0 = none
  int listed_band_bps = 1'000;               ///< listed band: ±10% of the reference price
  int block_band_bps = 3'000;                ///< block band: ±30% of the reference price
  bool gtc_enabled = false;                  ///< whether GTC orders are accepted
  bool block_enabled = true;                 ///< whether block trades are accepted
  bool auction_enabled = true;               ///< whether single-side auctions may be created
  Qty position_limit{1'000'000};             ///< most a participant may hold (+ its allocation for a key emitting unit)
  // Rules an operator sets with CreateInstrument / UpdateInstrumentRules (config instruments: the defaults).
  int vintage_year = 0;                      ///< allowances: the vintage's last compliance year (0: from the code)
  bool listed_enabled = true;                ///< whether listed orders are accepted
  Qty listed_min_quantity{0};                ///< listed orders must be at least this; 0 = one lot
  Qty block_max_quantity{0};                 ///< block orders must be at most this; 0 = no maximum
  std::vector<SessionMinutes> listed_sessions{{9 * 60 + 30, 11 * 60 + 30}, {13 * 60, 15 * 60}};
  std::vector<SessionMinutes> block_sessions{{13 * 60, 15 * 60}};
  std::vector<ParticipantType> eligible;     ///< who may trade it; empty = the market default
  FeeSchedule fees;                          ///< fees of its trades (config instruments: [fees])
};

/// [surveillance]: the levels of the surveillance alerts raised at the end of day from the day's orders,
/// trades and statements, and at a block trade (MARKET_RULES, "Surveillance"; engine/surveillance.cpp). A level
/// of 0 turns its check off; the two minimums of 0 are no floor.
struct SurveillanceConfig {
  int order_to_trade_min_orders = 500;         ///< listed orders of a participant in an instrument a day, at least
  int order_to_trade_max_ratio = 50;           ///< orders per trade it took part in: alert at or above
  std::int64_t concentration_min_volume = 100'000;  ///< an instrument's listed tonnes a day, at least
  int concentration_top = 3;                   ///< how many participants make the group
  int concentration_share_bps = 8'000;         ///< their share of bought plus sold tonnes: alert at or above
  int marking_close_window_minutes = 30;       ///< the last minutes of the listed sessions
  int marking_close_move_bps = 300;            ///< close against the VWAP before those minutes: alert at or beyond
  int block_deviation_bps = 2'000;             ///< a block trade's price against the reference: alert at or beyond
  std::int64_t large_holder_tonnes = 500'000;  ///< a participant's total holding of an instrument crossing this
};

/// A staff member's credential: the SHA-256 of the bearer token, never the token.
struct StaffPrincipal {
  std::string name;
  Role role = Role::operator_;
  std::string token_sha256_hex;  ///< 64 lowercase hex digits
};

/// engine.expected_orders_per_day at most: its tables take about 24 bytes an expected order up front.
inline constexpr std::size_t kMaxExpectedOrdersPerDay = 100'000'000;

/// Everything carbond reads at start.
struct Config {
  std::string listen_address = "127.0.0.1:50051";      ///< gRPC host:port
  std::filesystem::path data_dir = "/var/lib/carbond";  ///< embedded PostgreSQL and bootstrap tokens
  std::string postgres;                                 ///< libpq conninfo; empty = embedded cluster
  std::string embedded_os_user;                         ///< OS user for the embedded cluster when root ("postgres")
  int embedded_port = 5432;                             ///< port number of the embedded cluster's Unix socket
  /// [storage.embedded_settings]: PostgreSQL settings for the embedded cluster, over carbond's
  /// defaults (store::kJournalSettings); names are PostgreSQL's, values strings.
  std::vector<std::pair<std::string, std::string>> embedded_settings;
  std::string log_level = "info";                       ///< spdlog level name
  std::size_t command_ring_capacity = 65'536;           ///< gRPC → engine ring (power of two)
  std::size_t event_ring_capacity = 65'536;             ///< engine → journal writer ring (power of two)
  /// [engine] expected_orders_per_day: the engine's order tables (by id, by client order id, trades
  /// by order) are allocated for this many orders when it starts, so that they do not grow during a
  /// trading day below it. Growing one rehashes it whole: a pause of every command proportional to
  /// its size (about 60 ms at 126,000 orders and 140 ms at 256,000 here). 0: they start empty.
  /// About 24 bytes an order up front (kMaxExpectedOrdersPerDay at most).
  std::size_t expected_orders_per_day = 1'000'000;
  std::size_t journal_max_batch = 4'096;                ///< commands per commit at most
  std::size_t journal_connections = 2;                  ///< batches committing side by side (in order); 1 = one at a time
  int journal_max_wait_us = 0;                          ///< how long (µs) a batch waits for more commands; 0 = none
  int journal_unavailable_after_ms = 2'000;             ///< database unreachable: a waiting command fails after this
  int earlier_writer_wait_ms = 30'000;                  ///< start: how long an earlier carbond's commits are waited for
  int shutdown_grace_ms = 5'000;                        ///< how long SIGTERM waits for in-flight calls
  std::size_t market_data_max_streams = 1'024;          ///< open depth and trade streams at most, all callers together
  std::size_t session_max_outbound_messages = 4'096;    ///< responses queued for one order session before it ends
  std::size_t session_max_per_participant = 32;         ///< order sessions one participant may have open at once
  std::size_t max_database_reads = 16;                  ///< reads of PostgreSQL by gRPC threads at once (a connection each)
  std::vector<StaffPrincipal> staff;                    ///< operators, registry authority, regulators, auditors
  std::vector<InstrumentConfig> instruments;            ///< tradable instruments
  /// [instrument_defaults.compliance] / [instrument_defaults.voluntary]: the rules CreateInstrument
  /// gives an instrument of that market for what the request leaves out (and the base of [[instruments]]).
  InstrumentConfig compliance_defaults;
  InstrumentConfig voluntary_defaults;
  std::vector<std::string> holidays;                    ///< "YYYY-MM-DD" non-trading weekdays (SetTradingCalendar adds more)
  /// [market] proceeds_withdrawable: "next_day" (false, the default: T+1) or "same_day" (true: T+0). Sale
  /// proceeds are usable to buy at once either way.
  bool proceeds_withdrawable_same_day = false;
  FeeSchedule fees;                                     ///< trading fees per mode and side
  SurveillanceConfig surveillance;                      ///< surveillance alert levels
  /// Empty: the engine's clock is the system clock. Otherwise an RFC 3339
  /// instant ("2026-11-24T10:00:00+08:00") the clock starts at when carbond
  /// starts and runs on from, for demonstrations and tests at session time.
  std::string clock_start;
  /// host:port of the Prometheus metrics endpoint (HTTP GET /metrics); empty = off.
  std::string metrics_listen;
  /// TLS ([server] tls_*): PEM files. Both cert and key set: the port speaks
  /// TLS only; neither: plaintext. A client CA: client certificates signed by
  /// it are verified; require_client_cert: a client without one is refused (mTLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  bool require_client_cert = false;
};

/// The built-in defaults, including the default instrument list.
Config default_config();

/// Reads a TOML file over the defaults. Throws std::runtime_error naming the key on bad input.
Config load_config(const std::filesystem::path& path);

/// Parses a role name ("operator", "registry_authority", ...). Throws on unknown names.
Role parse_role(const std::string& name);
/// The config-file name of a role.
const char* role_name(Role role);

}  // namespace carbon
