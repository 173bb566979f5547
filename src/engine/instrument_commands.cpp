// Instruments defined at run time (AdminService.CreateInstrument, UpdateInstrumentRules)
// and an operator's view of a participant's balances (GetAccountBalances).
#include <algorithm>
#include <set>

#include "engine/exchange.h"
#include "engine/step.h"
#include "registry/allocation.h"

namespace carbon::engine {
namespace {

const char* type_name(ParticipantType type) {
  switch (type) {
    case ParticipantType::key_emitting_unit: return "key emitting units";
    case ParticipantType::institution: return "institutions";
    case ParticipantType::natural_person: return "natural persons";
  }
  return "unknown";
}

const char* mode_text(int mode) {
  return mode == static_cast<int>(TradingMode::block)     ? "BLOCK"
         : mode == static_cast<int>(TradingMode::auction) ? "AUCTION"
                                                           : "LISTED";
}

Status check_code(const std::string& code) {
  if (code.empty() || code.size() > 16 ||
      code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != std::string::npos) {
    return invalid_argument("instrument code: 1 to 16 characters of A-Z, 0-9 and '-' (\"" + code + "\" is not)");
  }
  return Status::ok();
}

/// Checks one mode's sessions: each inside the day with start < end, none overlapping.
Status check_sessions(const ModeRulesInput& rules, std::vector<SessionMinutes>& out) {
  std::vector<SessionMinutes> windows;
  for (const auto& [start, end] : rules.sessions) {
    if (start >= end || end > 24 * 60) {
      return invalid_argument(std::string("mode_rules ") + mode_text(rules.mode) + ": a session needs start < end <= 1440" +
                              " minutes (24:00); " + std::to_string(start) + "-" + std::to_string(end) + " is not");
    }
    windows.push_back(SessionMinutes{static_cast<int>(start), static_cast<int>(end)});
  }
  std::sort(windows.begin(), windows.end(),
            [](const SessionMinutes& a, const SessionMinutes& b) { return a.start < b.start; });
  for (std::size_t k = 1; k < windows.size(); ++k) {
    if (windows[k].start < windows[k - 1].end) {
      return invalid_argument(std::string("mode_rules ") + mode_text(rules.mode) + ": sessions " +
                              std::to_string(windows[k - 1].start) + "-" + std::to_string(windows[k - 1].end) +
                              " and " + std::to_string(windows[k].start) + "-" + std::to_string(windows[k].end) +
                              " overlap");
    }
  }
  if (!windows.empty()) out = std::move(windows);  // none given: the default sessions
  return Status::ok();
}

}  // namespace

Status Exchange::apply_rules(const InstrumentRulesInput& rules, InstrumentConfig& config) const {
  // Start from the market's defaults; keep what identifies the instrument.
  InstrumentConfig out = config.market == Market::voluntary ? voluntary_defaults_ : compliance_defaults_;
  out.code = config.code;
  out.market = config.market;
  out.vintage_year = config.vintage_year;
  out.tick = config.tick;
  out.lot = config.lot;
  out.reference_price = config.reference_price;
  std::set<int> seen;
  for (const ModeRulesInput& m : rules.mode_rules) {
    if (m.mode == 0) return invalid_argument("mode_rules: a mode is unspecified; give LISTED, BLOCK or AUCTION");
    if (m.mode != static_cast<int>(TradingMode::listed) && m.mode != static_cast<int>(TradingMode::block) &&
        m.mode != static_cast<int>(TradingMode::auction)) {
      return invalid_argument("mode_rules: unknown trading mode " + std::to_string(m.mode));
    }
    if (!seen.insert(m.mode).second) {
      return invalid_argument(std::string("mode_rules: ") + mode_text(m.mode) + " is listed twice");
    }
    const std::string what = std::string("mode_rules ") + mode_text(m.mode) + ": ";
    if (m.min_quantity < 0 || m.max_quantity < 0) {
      return invalid_argument(what + "min_order_quantity and max_order_quantity must not be negative");
    }
    if (m.max_quantity > 0 && m.min_quantity > m.max_quantity) {
      return invalid_argument(what + "min_order_quantity " + std::to_string(m.min_quantity) +
                              " is above max_order_quantity " + std::to_string(m.max_quantity));
    }
    if (m.buy_fee_bps < 0 || m.sell_fee_bps < 0) return invalid_argument(what + "fees must not be negative");
    if (m.buy_fee_bps > FeeSchedule::kMaxBps || m.sell_fee_bps > FeeSchedule::kMaxBps) {
      return invalid_argument(what + "fees must be at most " + std::to_string(FeeSchedule::kMaxBps) +
                              " basis points (10% of the trade value)");
    }
    if (m.mode == static_cast<int>(TradingMode::auction)) {
      // An auction has its own window, bid lot and reserve price: only enabled and the fees apply.
      // min_order_quantity may echo the lot, as ListInstruments reports it.
      if (m.band_bps != 0 || !m.sessions.empty() || m.max_quantity != 0 ||
          (m.min_quantity != 0 && m.min_quantity != out.lot.value)) {
        return invalid_argument(what + "only enabled and the fees apply to auctions (each has its own window and "
                                       "bid lot): price_band_bps, sessions and max_order_quantity must be unset, "
                                       "min_order_quantity unset or the lot");
      }
      out.auction_enabled = m.enabled;
      out.fees.auction_buy_bps = static_cast<int>(m.buy_fee_bps);
      out.fees.auction_sell_bps = static_cast<int>(m.sell_fee_bps);
      continue;
    }
    if (m.band_bps < 0) return invalid_argument(what + "price_band_bps must not be negative");
    if (m.band_bps == 0 || m.band_bps >= 10'000) {
      // The listed book's ladder spans the band, so every mode has one.
      return invalid_argument(what + "price_band_bps must be 1 to 9999 (a band is required)");
    }
    const bool listed = m.mode == static_cast<int>(TradingMode::listed);
    if (Status s = check_sessions(m, listed ? out.listed_sessions : out.block_sessions); !s.is_ok()) return s;
    const int band = static_cast<int>(m.band_bps);
    const int buy_fee = static_cast<int>(m.buy_fee_bps);
    const int sell_fee = static_cast<int>(m.sell_fee_bps);
    if (listed) {
      out.listed_enabled = m.enabled;
      out.listed_min_quantity = Qty{m.min_quantity};
      out.listed_max_quantity = Qty{m.max_quantity};
      out.listed_band_bps = band;
      out.fees.listed_buy_bps = buy_fee;
      out.fees.listed_sell_bps = sell_fee;
    } else {
      out.block_enabled = m.enabled;
      out.block_min_quantity = Qty{m.min_quantity};
      out.block_max_quantity = Qty{m.max_quantity};
      out.block_band_bps = band;
      out.fees.block_buy_bps = buy_fee;
      out.fees.block_sell_bps = sell_fee;
    }
  }
  out.gtc_enabled = rules.gtc_enabled;
  std::set<ParticipantType> eligible;
  for (int type : rules.eligible) {
    if (type < 1 || type > 3) {
      return invalid_argument("eligible_participant_types: " +
                              std::string(type == 0 ? "unspecified" : "unknown type " + std::to_string(type)) +
                              "; give KEY_EMITTING_UNIT, INSTITUTION or NATURAL_PERSON");
    }
    eligible.insert(static_cast<ParticipantType>(type));
  }
  out.eligible.assign(eligible.begin(), eligible.end());
  if (rules.position_limit < 0) return invalid_argument("position_limit must not be negative (0 = the default)");
  if (rules.position_limit > 0) out.position_limit = Qty{rules.position_limit};
  config = std::move(out);
  return Status::ok();
}

Status Exchange::create_instrument(Step& step, const Principal& who, const CreateInstrument& c) {
  if (who.role != Role::operator_) return permission_denied("CreateInstrument is for operators");
  if (Status s = check_code(c.code); !s.is_ok()) return s;
  if (c.market != static_cast<int>(Market::compliance) && c.market != static_cast<int>(Market::voluntary)) {
    return invalid_argument("market: give COMPLIANCE or VOLUNTARY" +
                            std::string(c.market == 0 ? "" : " (unknown market " + std::to_string(c.market) + ")"));
  }
  const Market market = static_cast<Market>(c.market);
  if (market == Market::compliance) {
    // Caps, issuance and surrender read the vintage from the code (CEA2024, CEA19-20).
    const std::optional<int> named = registry::allowance_vintage(c.code);
    if (!named) {
      return invalid_argument("vintage: a compliance instrument's code names its vintage (CEA<yyyy> or CEA<yy>-<yy>); \"" +
                              c.code + "\" does not");
    }
    if (c.vintage_year != *named) {
      return invalid_argument("vintage_year " + std::to_string(c.vintage_year) + " differs from the vintage " +
                              std::to_string(*named) + " that the code " + c.code + " names");
    }
  } else if (c.vintage_year != 0) {
    return invalid_argument("vintage_year must be 0 for a voluntary instrument");
  }
  if (c.tick_fen <= 0) return invalid_argument("tick_fen must be positive");
  if (c.lot <= 0) return invalid_argument("lot must be positive");
  if (c.reference_price_fen < 0) return invalid_argument("reference_price_fen must not be negative (0 = none yet)");
  InstrumentConfig config;
  config.code = c.code;
  config.market = market;
  config.vintage_year = c.vintage_year;
  config.tick = Price{c.tick_fen};
  config.lot = Qty{c.lot};
  config.reference_price = Price{c.reference_price_fen};
  if (Status s = apply_rules(c.rules, config); !s.is_ok()) return s;
  if (instruments_.contains(c.code)) return failed_precondition("instrument code " + c.code + " is already in use");
  if (c.reference_price_fen % c.tick_fen != 0) {
    return failed_precondition("tick rule: reference price " + std::to_string(c.reference_price_fen) +
                               " fen is not a multiple of the " + std::to_string(c.tick_fen) + " fen tick of " +
                               c.code);
  }
  if (Status s = check_band_levels(config, config.reference_price, "reference_price_fen"); !s.is_ok()) return s;
  Instrument& instrument = instruments_[c.code];
  instrument.state.instrument = c.code;
  instrument.state.reference = config.reference_price;
  instrument.state.updated_sequence = step.sequence;
  define_instrument(instrument, config);
  step.events.push_back(InstrumentDefined{config, true});
  step.events.push_back(InstrumentStateChanged{instrument.state});
  reply_instrument(step.reply, instrument);
  return Status::ok();
}

Status Exchange::update_instrument_rules(Step& step, const Principal& who, const UpdateInstrumentRules& c) {
  if (who.role != Role::operator_) return permission_denied("UpdateInstrumentRules is for operators");
  if (Status s = check_code(c.instrument); !s.is_ok()) return s;
  InstrumentConfig config;
  auto found = instruments_.find(c.instrument);
  if (found != instruments_.end()) config = found->second.config;
  if (Status s = apply_rules(c.rules, config); !s.is_ok()) return s;
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  Instrument& instrument = found->second;
  if (!config.gtc_enabled && instrument.config.gtc_enabled) {
    std::size_t open_gtc = 0;
    for (const auto& [id, order] : orders_) {
      open_gtc += order.instrument == c.instrument && order.time_in_force == TimeInForce::gtc && is_open(order.status);
    }
    if (open_gtc > 0) {
      return failed_precondition("order validity: GTC cannot be disabled for " + c.instrument + " while " +
                                 std::to_string(open_gtc) + " GTC order(s) are open; cancel them first");
    }
  }
  // An open buy reserved its cash at the buyer's fee of its mode when it was entered; a fill charges the fee in
  // force, capped at what is left of the reservation. So the fee may rise only as far as every open buy's
  // reservation covers (as at a start: one entered before a lowering still holds the higher fee).
  for (const TradingMode mode : {TradingMode::listed, TradingMode::block, TradingMode::auction}) {
    const int before = instrument.config.fees.buy_bps(mode);
    const int after = config.fees.buy_bps(mode);
    if (after <= before) continue;
    std::size_t uncovered = 0;
    OrderId first = 0;
    for (const auto& [id, order] : orders_) {
      if (order.instrument != c.instrument || order.mode != mode || order.side != Side::buy || !is_open(order.status)) {
        continue;
      }
      const std::optional<Cash> needed = settlement::buy_reservation(order.price, order.remaining(), after);
      if (needed && order.reservation.total >= *needed) continue;
      ++uncovered;
      first = first == 0 ? id : std::min(first, id);
    }
    if (uncovered > 0) {
      return failed_precondition("fees: the buyer's fee of " + std::string(mode_text(static_cast<int>(mode))) +
                                 " trades in " + c.instrument + " cannot rise from " + std::to_string(before) +
                                 " to " + std::to_string(after) + " bps while " + std::to_string(uncovered) +
                                 " open buy order(s) reserved less cash than it needs (order " + std::to_string(first) +
                                 " among them); cancel them first");
    }
  }
  if (Status s = check_band_levels(config, instrument.state.reference, "listed band"); !s.is_ok()) return s;
  define_instrument(instrument, config);
  cancel_outside_band(step, instrument);  // a narrower band: resting orders it no longer admits
  instrument.state.updated_sequence = step.sequence;
  step.events.push_back(InstrumentDefined{config, false});
  step.events.push_back(InstrumentStateChanged{instrument.state});
  reply_instrument(step.reply, instrument);
  return Status::ok();
}

void Exchange::define_instrument(Instrument& instrument, InstrumentConfig config) {
  instrument.schedule.listed.clear();
  instrument.schedule.block.clear();
  for (const SessionMinutes& w : config.listed_sessions) instrument.schedule.listed.push_back({w.start, w.end});
  for (const SessionMinutes& w : config.block_sessions) instrument.schedule.block.push_back({w.start, w.end});
  instrument.config = std::move(config);
  rebuild_book(instrument);
}

void Exchange::reply_instrument(Reply& reply, const Instrument& instrument) const {
  reply.instruments.push_back(instrument.state);
  reply.instrument_rules.push_back(instrument.config);
}

Status Exchange::check_eligible_types(const InstrumentConfig& config, const ParticipantRecord& participant) {
  if (std::find(config.eligible.begin(), config.eligible.end(), participant.type) != config.eligible.end()) {
    return Status::ok();
  }
  std::string allowed;
  for (ParticipantType type : config.eligible) allowed += (allowed.empty() ? "" : ", ") + std::string(type_name(type));
  return failed_precondition("eligibility: " + std::string(type_name(participant.type)) + " may not trade " +
                             config.code + " (eligible: " + allowed + ")");
}

void Exchange::fill_balances(Reply& reply, const ParticipantRecord& participant) const {
  reply.cash = CashRecord{participant.cash_account, participant.id, clearing_.account(participant.cash_account)};
  reply.holdings = registry_.holdings_of(participant.holding_account);
}

Status Exchange::account_balances(Reply& reply, const Principal& who, const GetAccountBalances& q) const {
  if (who.role == Role::trader) {
    return permission_denied("GetAccountBalances is for staff; a trader reads its own with GetBalances");
  }
  if (q.participant == 0) return invalid_argument("participant_id is required");
  auto found = participants_.find(q.participant);
  if (found == participants_.end()) return not_found("participant " + std::to_string(q.participant) + " does not exist");
  reply.participants.push_back(found->second);
  fill_balances(reply, found->second);
  return Status::ok();
}

void Exchange::restore_instruments(const RecoveredState& state) {
  for (const InstrumentConfig& config : state.instrument_definitions) {
    auto [it, fresh] = instruments_.try_emplace(config.code);
    if (fresh) {
      it->second.state.instrument = config.code;
      it->second.state.reference = config.reference_price;
    }
    define_instrument(it->second, config);
  }
}

std::vector<std::string> Exchange::instrument_codes() const {
  std::vector<std::string> out;
  for (const auto& [code, instrument] : instruments_) out.push_back(code);
  return out;
}

const InstrumentConfig* Exchange::instrument_config(const std::string& instrument) const {
  auto found = instruments_.find(instrument);
  return found == instruments_.end() ? nullptr : &found->second.config;
}

}  // namespace carbon::engine
