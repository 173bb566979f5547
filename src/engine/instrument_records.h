#pragma once
/// Commands, queries and the event of instrument definitions and of an
/// operator's view of a participant's balances (instrument_commands.cpp).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/types.h"

namespace carbon::engine {

/// One ModeRules of a request, as sent (enums and minutes unchecked: the engine refuses bad values).
struct ModeRulesInput {
  int mode = 0;  ///< TradingMode's wire value; 0 = unspecified
  bool enabled = false;
  std::int64_t min_quantity = 0;
  std::int64_t max_quantity = 0;
  std::int64_t band_bps = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> sessions;  ///< (start, end) minutes
  std::int64_t buy_fee_bps = 0;
  std::int64_t sell_fee_bps = 0;
};

/// The trading rules CreateInstrument and UpdateInstrumentRules set as a whole.
struct InstrumentRulesInput {
  std::vector<ModeRulesInput> mode_rules;  ///< modes not listed take the market's configured defaults
  bool gtc_enabled = false;
  std::vector<int> eligible;               ///< ParticipantType wire values; empty = the market default
  std::int64_t position_limit = 0;         ///< 0 = the configured default
};

struct CreateInstrument {
  std::string code;
  int market = 0;  ///< Market's wire value; 0 = unspecified
  int vintage_year = 0;
  std::int64_t tick_fen = 0;
  std::int64_t lot = 0;
  InstrumentRulesInput rules;
  std::int64_t reference_price_fen = 0;  ///< 0 = none yet
};

struct UpdateInstrumentRules {
  std::string instrument;
  InstrumentRulesInput rules;
};

/// AdminService.GetAccountBalances: a participant's cash and holdings, for staff.
struct GetAccountBalances {
  ParticipantId participant = 0;
};

/// An instrument's whole definition after CreateInstrument or UpdateInstrumentRules
/// (table instrument_definitions; restored over the configured instruments at start).
struct InstrumentDefined {
  InstrumentConfig config;
  bool created = false;  ///< CreateInstrument (else UpdateInstrumentRules)
};

}  // namespace carbon::engine
