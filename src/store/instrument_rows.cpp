#include "store/instrument_rows.h"

#include <algorithm>
#include <stdexcept>
#include <variant>

#include "store/pg.h"

namespace carbon::store {
namespace {

constexpr const char* kUpsertDefinitions =
    "INSERT INTO instrument_definitions (instrument, definition, created_sequence, updated_sequence)"
    " SELECT code, definition::jsonb, seq, seq FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(code, definition, seq)"
    " ON CONFLICT (instrument) DO UPDATE SET definition = EXCLUDED.definition,"
    " updated_sequence = EXCLUDED.updated_sequence";

nlohmann::json sessions_json(const std::vector<SessionMinutes>& sessions) {
  nlohmann::json out = nlohmann::json::array();
  for (const SessionMinutes& w : sessions) out.push_back({w.start, w.end});
  return out;
}

std::vector<SessionMinutes> sessions_from(const nlohmann::json& json) {
  std::vector<SessionMinutes> out;
  for (const auto& w : json) out.push_back(SessionMinutes{w.at(0).get<int>(), w.at(1).get<int>()});
  return out;
}

}  // namespace

nlohmann::json instrument_json(const InstrumentConfig& c) {
  nlohmann::json eligible = nlohmann::json::array();
  for (ParticipantType type : c.eligible) eligible.push_back(static_cast<int>(type));
  return {
      {"code", c.code},
      {"market", static_cast<int>(c.market)},
      {"vintage_year", c.vintage_year},
      {"tick_fen", c.tick.value},
      {"lot", c.lot.value},
      {"reference_price_fen", c.reference_price.value},
      {"listed_enabled", c.listed_enabled},
      {"listed_min_quantity", c.listed_min_quantity.value},
      {"listed_max_quantity", c.listed_max_quantity.value},
      {"listed_band_bps", c.listed_band_bps},
      {"listed_sessions", sessions_json(c.listed_sessions)},
      {"block_enabled", c.block_enabled},
      {"block_min_quantity", c.block_min_quantity.value},
      {"block_max_quantity", c.block_max_quantity.value},
      {"block_band_bps", c.block_band_bps},
      {"block_sessions", sessions_json(c.block_sessions)},
      {"gtc_enabled", c.gtc_enabled},
      {"eligible", eligible},
      {"position_limit", c.position_limit.value},
      {"listed_buy_fee_bps", c.fees.listed_buy_bps},
      {"listed_sell_fee_bps", c.fees.listed_sell_bps},
      {"block_buy_fee_bps", c.fees.block_buy_bps},
      {"block_sell_fee_bps", c.fees.block_sell_bps},
      {"auction_enabled", c.auction_enabled},
      {"auction_buy_fee_bps", c.fees.auction_buy_bps},
      {"auction_sell_fee_bps", c.fees.auction_sell_bps},
  };
}

InstrumentConfig instrument_from_json(const nlohmann::json& j) {
  InstrumentConfig c;
  try {
    c.code = j.at("code").get<std::string>();
    c.market = static_cast<Market>(j.at("market").get<int>());
    c.vintage_year = j.at("vintage_year").get<int>();
    c.tick = Price{j.at("tick_fen").get<std::int64_t>()};
    c.lot = Qty{j.at("lot").get<std::int64_t>()};
    c.reference_price = Price{j.at("reference_price_fen").get<std::int64_t>()};
    c.listed_enabled = j.at("listed_enabled").get<bool>();
    c.listed_min_quantity = Qty{j.at("listed_min_quantity").get<std::int64_t>()};
    c.listed_max_quantity = Qty{j.at("listed_max_quantity").get<std::int64_t>()};
    c.listed_band_bps = j.at("listed_band_bps").get<int>();
    c.listed_sessions = sessions_from(j.at("listed_sessions"));
    c.block_enabled = j.at("block_enabled").get<bool>();
    c.block_min_quantity = Qty{j.at("block_min_quantity").get<std::int64_t>()};
    c.block_max_quantity = Qty{j.at("block_max_quantity").get<std::int64_t>()};
    c.block_band_bps = j.at("block_band_bps").get<int>();
    c.block_sessions = sessions_from(j.at("block_sessions"));
    c.gtc_enabled = j.at("gtc_enabled").get<bool>();
    for (const auto& type : j.at("eligible")) c.eligible.push_back(static_cast<ParticipantType>(type.get<int>()));
    c.position_limit = Qty{j.at("position_limit").get<std::int64_t>()};
    c.fees.listed_buy_bps = j.at("listed_buy_fee_bps").get<int>();
    c.fees.listed_sell_bps = j.at("listed_sell_fee_bps").get<int>();
    c.fees.block_buy_bps = j.at("block_buy_fee_bps").get<int>();
    c.fees.block_sell_bps = j.at("block_sell_fee_bps").get<int>();
    c.auction_enabled = j.at("auction_enabled").get<bool>();
    c.fees.auction_buy_bps = j.at("auction_buy_fee_bps").get<int>();
    c.fees.auction_sell_bps = j.at("auction_sell_fee_bps").get<int>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("instrument_definitions: a stored definition is malformed: " + std::string(e.what()));
  }
  return c;
}

void InstrumentRows::add(const engine::Event& event, Sequence sequence) {
  if (const auto* e = std::get_if<engine::InstrumentDefined>(&event)) latest_[e->config.code] = {&e->config, sequence};
}

std::vector<std::pair<const char*, Columns>> InstrumentRows::statements() const {
  std::vector<std::pair<const char*, Columns>> out;
  if (latest_.empty()) return out;
  Columns c(3);
  for (const auto& [code, definition] : latest_) {
    c.columns[0].add(code);
    c.columns[1].add(instrument_json(*definition.first).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    c.columns[2].add(definition.second);
  }
  out.emplace_back(kUpsertDefinitions, std::move(c));
  return out;
}

std::optional<std::string> instrument_event_json(const engine::Event& event) {
  const auto* e = std::get_if<engine::InstrumentDefined>(&event);
  if (e == nullptr) return std::nullopt;
  nlohmann::json j = instrument_json(e->config);
  j["created"] = e->created;
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  nlohmann::ordered_json out;
  for (const std::string& key : keys) out[key] = j.at(key);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void load_instrument_definitions(PGconn* conn, engine::RecoveredState& state) {
  PgResult r = exec_or_throw(conn, "SELECT definition FROM instrument_definitions ORDER BY instrument",
                             "read instrument definitions");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    state.instrument_definitions.push_back(instrument_from_json(nlohmann::json::parse(PQgetvalue(r.get(), row, 0))));
  }
}

}  // namespace carbon::store
