#include "common/overloaded.h"
#include "engine/validation.h"

#include <algorithm>
#include <string>
#include <variant>

#include "matching/trading_rules.h"

namespace carbon::engine {
namespace {

bool is_valid(Side side) { return side == Side::buy || side == Side::sell; }
bool is_valid(ParticipantType type) {
  return type == ParticipantType::key_emitting_unit || type == ParticipantType::institution ||
         type == ParticipantType::natural_person;
}

/// A required instrument code: empty is "required", anything else malformed says what a code is.
Status validate_instrument(const std::string& instrument) {
  if (instrument.empty()) return invalid_argument("instrument is required");
  if (instrument.size() > 32 || !is_clean_text(instrument)) {
    return invalid_argument("instrument: a code is at most 32 bytes, without control characters");
  }
  return Status::ok();
}

Status validate_order(const PlaceOrder& c) {
  if (Status s = validate_instrument(c.instrument); !s.is_ok()) return s;
  if (c.client_order_id.size() > 64 || !is_clean_text(c.client_order_id)) {
    return invalid_argument("client_order_id must be at most 64 characters, no control characters");
  }
  if (!is_valid(c.side)) return invalid_argument("side must be BUY or SELL");
  if (c.type != OrderType::limit && c.type != OrderType::market) return invalid_argument("unknown order type");
  if (c.time_in_force < TimeInForce::day || c.time_in_force > TimeInForce::gtc) {
    return invalid_argument("unknown time in force");
  }
  if (c.mode < TradingMode::listed || c.mode > TradingMode::auction) return invalid_argument("unknown trading mode");
  if (c.mode != TradingMode::listed) {
    return invalid_argument("PlaceOrder takes listed orders; block trades go through OfferBlockTrade and auction "
                            "bids through SubmitAuctionBid");
  }
  if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive (whole tonnes)");
  if (c.type == OrderType::limit && !c.price.is_positive()) return invalid_argument("price_fen must be positive");
  if (c.type == OrderType::market) {
    if (!c.price.is_zero()) return invalid_argument("a market order has no price: price_fen must be 0");
    if (c.time_in_force != TimeInForce::ioc && c.time_in_force != TimeInForce::fok) {
      return invalid_argument("a market order is immediate: time in force IOC or FOK, not DAY or GTC");
    }
  }
  if (c.side == Side::buy && !notional(c.price, c.quantity)) {
    return invalid_argument("price_fen x quantity overflows a 64-bit amount of fen");
  }
  return Status::ok();
}

Status validate_text(const std::string& text, const char* field, std::size_t max, bool required) {
  if ((required && text.empty()) || text.size() > max || !is_clean_text(text)) {
    return invalid_argument(std::string(field) + (required ? " is required: 1 to " : " must be at most ") +
                            std::to_string(max) + " bytes of text without control characters");
  }
  return Status::ok();
}

Status validate_year(int year) {
  if (year < 2000 || year > 2200) return invalid_argument("compliance_year must be 2000 to 2200");
  return Status::ok();
}

Status validate_sector(const std::string& sector) {
  if (sector.empty() || sector.size() > 32 || sector.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
    return invalid_argument("sector is required: 1 to 32 characters of lowercase a-z and '_'");
  }
  return Status::ok();
}

Status validate_key(const std::string& key) {
  if (key.empty() || key.size() > 64 || !is_clean_text(key)) {
    return invalid_argument("idempotency_key is required: 1 to 64 characters, no control characters");
  }
  return Status::ok();
}

Status validate_date(const std::string& text, const char* field) {
  if (!matching::parse_date(text)) return invalid_argument(std::string(field) + " must be a date YYYY-MM-DD");
  return Status::ok();
}

}  // namespace

bool is_clean_text(std::string_view text) {
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char lead = at(i);
    if (lead < 0x20 || lead == 0x7f) return false;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (i + length > text.size() || at(i + 1) < low || at(i + 1) > high) return false;
    for (std::size_t k = 2; k < length; ++k) {
      if ((at(i + k) & 0xc0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

Status validate(const CommandBody& body) {
  return std::visit(
      Overloaded{
          [](const CreateParticipant& c) -> Status {
            if (c.code.empty() || c.code.size() > 32 ||
                c.code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos) {
              return invalid_argument("code must be 1 to 32 characters of A-Z, 0-9, '-' or '_'");
            }
            if (c.name.empty() || c.name.size() > 200 || !is_clean_text(c.name)) {
              return invalid_argument("name must be 1 to 200 bytes of UTF-8 text without control characters");
            }
            if (!is_valid(c.type)) {
              return invalid_argument("type must be KEY_EMITTING_UNIT, INSTITUTION or NATURAL_PERSON");
            }
            return Status::ok();
          },
          [](const MoveCash& c) -> Status {
            if (c.cash_account == 0) return invalid_argument("cash_account_id is required");
            if (!c.amount.is_positive()) return invalid_argument("amount_fen must be positive");
            if (c.idempotency_key.empty() || c.idempotency_key.size() > 64 || !is_clean_text(c.idempotency_key)) {
              return invalid_argument("idempotency_key is required: 1 to 64 characters, no control characters");
            }
            return Status::ok();
          },
          [](const IssueAllowances& c) -> Status {
            if (Status s = validate_instrument(c.instrument); !s.is_ok()) return s;
            if (c.holding_account == 0) return invalid_argument("holding_account_id is required");
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive");
            if (c.reason.empty() || c.reason.size() > 500 || !is_clean_text(c.reason)) {
              return invalid_argument("reason is required: 1 to 500 bytes of text without control characters");
            }
            return c.idempotency_key.empty() ? Status::ok() : validate_key(c.idempotency_key);  // optional
          },
          [](const PlaceOrder& c) { return validate_order(c); },
          [](const CancelOrder& c) -> Status {
            return c.order_id == 0 ? invalid_argument("order_id is required") : Status::ok();
          },
          [](const GetOrder& c) -> Status {
            return c.order_id == 0 ? invalid_argument("order_id is required") : Status::ok();
          },
          [](const GetParticipant& c) -> Status {
            return c.participant == 0 ? invalid_argument("participant_id is required") : Status::ok();
          },
          [](const ListOrders& c) -> Status {
            return is_clean_text(c.instrument) ? Status::ok() : invalid_argument("instrument is malformed");
          },
          [](const ListTrades& c) -> Status {
            return is_clean_text(c.instrument) ? Status::ok() : invalid_argument("instrument is malformed");
          },
          [](const GetBook& c) -> Status { return validate_instrument(c.instrument); },
          [](const Refused& c) -> Status { return c.status; },
          [](const AmendOrder& c) -> Status {
            if (c.order_id == 0) return invalid_argument("order_id is required");
            if (c.new_price.is_negative() || c.new_quantity.is_negative()) {
              return invalid_argument("new_price_fen and new_quantity must not be negative");
            }
            if (c.new_price.is_zero() && c.new_quantity.is_zero()) {
              return invalid_argument("nothing to change: give new_price_fen or new_quantity");
            }
            return Status::ok();
          },
          [](const CancelAllOrders& c) -> Status {
            if (c.side && !is_valid(*c.side)) return invalid_argument("side must be BUY, SELL or unspecified");
            return validate_text(c.instrument, "instrument", 32, false);
          },
          [](const OfferBlockTrade& c) -> Status {
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!is_valid(c.side)) return invalid_argument("side must be BUY or SELL");
            if (!c.price.is_positive()) return invalid_argument("price_fen must be positive");
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive (whole tonnes)");
            if (!notional(c.price, c.quantity)) return invalid_argument("price_fen x quantity overflows a 64-bit amount of fen");
            return validate_text(c.client_order_id, "client_order_id", 64, false);
          },
          [](const AcceptBlockTrade& c) -> Status {
            if (c.offer_id == 0) return invalid_argument("offer_id is required");
            if (!c.expected_price.is_positive() || !c.expected_quantity.is_positive()) {
              return invalid_argument("expected_price_fen and expected_quantity are required and positive");
            }
            return validate_text(c.client_order_id, "client_order_id", 64, false);
          },
          [](const SetParticipantControls& c) -> Status {
            if (c.participant == 0) return invalid_argument("participant_id is required");
            if (c.self_trade && (*c.self_trade < SelfTradePrevention::cancel_resting ||
                                 *c.self_trade > SelfTradePrevention::cancel_both)) {
              return invalid_argument("unknown self-trade prevention mode");
            }
            if (c.suspended && *c.suspended && c.reason.empty()) {
              return invalid_argument("a suspension needs a reason");
            }
            return validate_text(c.reason, "reason", 500, false);
          },
          [](const HaltTrading& c) -> Status {
            if (Status s = validate_text(c.instrument, "instrument", 32, false); !s.is_ok()) return s;
            return validate_text(c.reason, "reason", 500, true);
          },
          [](const ResumeTrading& c) -> Status { return validate_text(c.instrument, "instrument", 32, false); },
          [](const SetReferencePrice& c) -> Status {
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.price.is_positive()) return invalid_argument("price_fen must be positive");
            return validate_text(c.reason, "reason", 500, true);
          },
          [](const SetTradingCalendar& c) -> Status {
            if (c.year < 2000 || c.year > 2200) return invalid_argument("year must be 2000 to 2200");
            std::vector<std::string> seen;
            for (const std::string& text : c.holidays) {
              const auto date = matching::parse_date(text);
              if (!date) return invalid_argument("holiday \"" + text + "\" is not a date YYYY-MM-DD");
              if (static_cast<int>(date->year()) != c.year) {
                return invalid_argument("holiday " + text + " is not in " + std::to_string(c.year));
              }
              if (std::find(seen.begin(), seen.end(), text) != seen.end()) {
                return invalid_argument("holiday " + text + " is listed twice");
              }
              seen.push_back(text);
            }
            return Status::ok();
          },
          [](const GetTradingCalendar& c) -> Status {
            return c.year < 2000 || c.year > 2200 ? invalid_argument("year must be 2000 to 2200") : Status::ok();
          },
          [](const RunEndOfDay& c) -> Status {
            if (c.trading_date.empty()) {
              // Not "the day in progress": a retry of such a call after its answer was lost would close the next.
              return invalid_argument("trading_date is required: the trading day to close, YYYY-MM-DD (the guard "
                                      "against closing the wrong day, and what makes a retry safe)");
            }
            return validate_date(c.trading_date, "trading_date");
          },
          [](const GetDailyBars& c) -> Status {
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.from_date.empty()) {
              if (Status s = validate_date(c.from_date, "from_date"); !s.is_ok()) return s;
            }
            if (!c.to_date.empty()) {
              if (Status s = validate_date(c.to_date, "to_date"); !s.is_ok()) return s;
            }
            // Both YYYY-MM-DD: their text orders them as dates.
            if (!c.from_date.empty() && !c.to_date.empty() && c.to_date < c.from_date) {
              return invalid_argument("from_date " + c.from_date + " is after to_date " + c.to_date);
            }
            return Status::ok();
          },
          [](const SetCap& c) -> Status {
            if (Status s = validate_year(c.year); !s.is_ok()) return s;
            if (Status s = validate_sector(c.sector); !s.is_ok()) return s;
            if (!c.cap.is_positive()) return invalid_argument("cap_quantity must be positive");
            if (c.paid_share_bps < 0 || c.paid_share_bps > 10'000) {
              return invalid_argument("paid_share_bps must be 0 to 10,000");
            }
            return validate_text(c.reason, "reason", 500, true);
          },
          [](const ListCaps& c) -> Status { return c.year == 0 ? Status::ok() : validate_year(c.year); },
          [](const AllocateFree& c) -> Status {
            if (Status s = validate_year(c.year); !s.is_ok()) return s;
            if (Status s = validate_sector(c.sector); !s.is_ok()) return s;
            if (c.participant == 0) return invalid_argument("participant_id is required");
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (c.formula.has_value() == c.direct.is_positive()) {
              if (!c.formula && !c.direct.is_zero()) return invalid_argument("direct quantity must be positive");
              return invalid_argument("exactly one allocation method is required: direct or benchmark");
            }
            if (c.formula) {
              if (c.formula->output <= 0) return invalid_argument("benchmark output must be positive");
              if (c.formula->benchmark_micro_tonnes <= 0) {
                return invalid_argument("benchmark_micro_tonnes must be positive");
              }
              if (c.formula->factors_per_10000.size() > registry::kMaxAdjustmentFactors) {
                return invalid_argument("at most " + std::to_string(registry::kMaxAdjustmentFactors) +
                                        " adjustment factors are supported");
              }
              for (std::int64_t factor : c.formula->factors_per_10000) {
                if (factor <= 0) return invalid_argument("an adjustment factor must be positive");
              }
            }
            if (Status s = validate_text(c.output_unit, "output_unit", 32, false); !s.is_ok()) return s;
            if (Status s = validate_text(c.reason, "reason", 500, true); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const ListAllocations& c) -> Status {
            if (c.year != 0) {
              if (Status s = validate_year(c.year); !s.is_ok()) return s;
            }
            return c.sector.empty() ? Status::ok() : validate_sector(c.sector);
          },
          [](const RecordVerifiedEmissions& c) -> Status {
            if (c.participant == 0) return invalid_argument("participant_id is required");
            if (Status s = validate_year(c.year); !s.is_ok()) return s;
            if (Status s = validate_sector(c.sector); !s.is_ok()) return s;
            if (c.emissions.is_negative()) return invalid_argument("verified_emissions must not be negative");
            if (Status s = validate_text(c.verifier, "verifier", 200, true); !s.is_ok()) return s;
            if (Status s = validate_text(c.report_reference, "report_reference", 200, true); !s.is_ok()) return s;
            if (Status s = validate_text(c.reason, "reason", 500, false); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const Surrender& c) -> Status {
            if (Status s = validate_year(c.year); !s.is_ok()) return s;
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive");
            return validate_key(c.idempotency_key);
          },
          [](const GetComplianceStatus& c) -> Status { return validate_year(c.year); },
          [](const ListComplianceStatuses& c) -> Status { return validate_year(c.year); },
          [](const CloseComplianceYear& c) -> Status {
            if (Status s = validate_year(c.year); !s.is_ok()) return s;
            if (c.penalty_basis_override.is_negative()) {
              return invalid_argument("penalty_basis_price_fen must not be negative");
            }
            return Status::ok();
          },
          [](const Freeze& c) -> Status {
            if (c.account == 0) return invalid_argument("holding_account_id is required");
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive");
            if (Status s = validate_text(c.reason, "reason", 500, true); !s.is_ok()) return s;
            if (Status s = validate_text(c.legal_reference, "legal_reference", 200, false); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const Unfreeze& c) -> Status {
            if (c.freeze == 0) return invalid_argument("freeze_id is required");
            if (c.quantity.is_negative()) return invalid_argument("quantity must not be negative");
            if (Status s = validate_text(c.reason, "reason", 500, true); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const ListFreezes& c) -> Status {
            if (c.status < 0 || c.status > 2) return invalid_argument("unknown freeze status");
            return validate_text(c.instrument, "instrument", 32, false);
          },
          [](const TransferUnits& c) -> Status {
            if (c.from == 0 || c.to == 0) return invalid_argument("both holding account ids are required");
            if (c.from == c.to) return invalid_argument("from and to are the same holding account");
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive");
            if (Status s = validate_text(c.reason, "reason", 500, true); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const ListEarlyWarnings& c) -> Status {
            if (Status s = validate_year(c.year); !s.is_ok()) return s;
            if (c.threshold_bps < 0 || c.threshold_bps > 10'000) return invalid_argument("threshold_bps must be 0 to 10,000");
            return Status::ok();
          },
          [](const GetHoldings& c) -> Status {
            return c.account == 0 ? invalid_argument("holding_account_id is required") : Status::ok();
          },
          // Compliance-year configuration and pledges.
          [](const ConfigureComplianceYear& c) -> Status {
            if (Status s = validate_year(c.year); !s.is_ok()) return s;
            if (c.deadline <= 0) return invalid_argument("deadline_unix_nanos is required");
            if (c.ccer_limit_bps < 0 || c.ccer_limit_bps > 10'000) {
              return invalid_argument("ccer_limit_bps must be 0 to 10,000");
            }
            if (c.penalty_multiple != 0 && (c.penalty_multiple < registry::kMinPenaltyMultiple ||
                                            c.penalty_multiple > registry::kMaxPenaltyMultiple)) {
              return invalid_argument("penalty rule (decree 775, art. 24): the penalty multiplier must be 5 to 10, not " +
                                      std::to_string(c.penalty_multiple));
            }
            if (c.early_warning_threshold_bps < 0 || c.early_warning_threshold_bps > 10'000) {
              return invalid_argument("early_warning_threshold_bps must be 0 to 10,000");
            }
            return Status::ok();
          },
          [](const PledgeUnits& c) -> Status {
            if (c.account == 0) return invalid_argument("holding_account_id is required");
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive");
            if (c.pledgee == 0) return invalid_argument("pledgee_participant_id is required");
            if (Status s = validate_text(c.contract_reference, "contract_reference", 200, true); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const ReleasePledge& c) -> Status {
            if (c.pledge == 0) return invalid_argument("pledge_id is required");
            if (c.quantity.is_negative()) return invalid_argument("quantity must not be negative");
            if (Status s = validate_text(c.reason, "reason", 500, true); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const EnforcePledge& c) -> Status {
            if (c.pledge == 0) return invalid_argument("pledge_id is required");
            if (c.quantity.is_negative()) return invalid_argument("quantity must not be negative");
            if (Status s = validate_text(c.reason, "reason", 500, true); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const ListPledges& c) -> Status {
            return c.status < 0 || c.status > 3 ? invalid_argument("unknown pledge status") : Status::ok();
          },
          // Repos (repo_commands.cpp).
          [](const RegisterRepo& c) -> Status {
            if (c.seller == 0) return invalid_argument("seller_participant_id is required");
            if (c.buyer == 0) return invalid_argument("buyer_participant_id is required");
            if (c.seller == c.buyer) return invalid_argument("repo: the seller and the buyer must differ");
            if (Status s = validate_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive");
            if (!c.first_leg_price.is_positive()) return invalid_argument("first_leg_price_fen must be positive");
            if (!c.second_leg_price.is_positive()) return invalid_argument("second_leg_price_fen must be positive");
            if (!notional(c.first_leg_price, c.quantity) || !notional(c.second_leg_price, c.quantity)) {
              return invalid_argument("a leg's price_fen x quantity overflows a 64-bit amount of fen");
            }
            if (Status s = validate_date(c.second_leg_date, "second_leg_date"); !s.is_ok()) return s;
            if (Status s = validate_text(c.contract_reference, "contract_reference", 200, true); !s.is_ok()) return s;
            return validate_key(c.idempotency_key);
          },
          [](const ListRepos& c) -> Status {
            return c.status < 0 || c.status > 3 ? invalid_argument("unknown repo status") : Status::ok();
          },
          [&body](const auto&) -> Status {
            if (Status s = validate_ccer(body); !s.is_ok()) return s;
            return validate_auction(body);
          },
      },
      body);
}

}  // namespace carbon::engine
