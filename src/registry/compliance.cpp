#include "registry/compliance.h"

#include <limits>

#include "registry/registry.h"
#include "registry/text.h"

namespace carbon::registry {

Status average_closing_price(std::span<const Price> daily_closes, Price& out) {
  if (daily_closes.empty()) return invalid_argument("average price: no closing prices in the month");
  __int128 sum = 0;
  for (Price close : daily_closes) {
    if (!close.is_positive()) return invalid_argument("average price: closing prices must be positive");
    sum += close.value;
  }
  const auto days = static_cast<__int128>(daily_closes.size());
  out = Price{static_cast<std::int64_t>((sum * 2 + days) / (days * 2))};  // half up to the fen
  return Status::ok();
}

Status compute_penalty(Qty shortfall, Price average_price, int multiple, Cash& out) {
  if (multiple < kMinPenaltyMultiple || multiple > kMaxPenaltyMultiple) {
    return invalid_argument("penalty: the multiple " + std::to_string(multiple) + " is outside " +
                            std::to_string(kMinPenaltyMultiple) + " to " + std::to_string(kMaxPenaltyMultiple) +
                            " times the average price (decree 775, art. 24)");
  }
  if (shortfall.is_negative() || average_price.is_negative()) {
    return invalid_argument("penalty: shortfall and price must not be negative");
  }
  const __int128 fen = static_cast<__int128>(shortfall.value) * average_price.value * multiple;
  if (fen > std::numeric_limits<std::int64_t>::max()) {
    return failed_precondition("penalty: the amount exceeds 2^63 - 1 fen");
  }
  out = Cash{static_cast<std::int64_t>(fen)};
  return Status::ok();
}

Qty ccer_offset_cap(Qty obligation, int percent) {
  return Qty{static_cast<std::int64_t>(static_cast<__int128>(obligation.value) * percent / 100)};
}

// ---- Registry: compliance ---------------------------------------------------

ComplianceStatus Registry::status_of(int year, AccountId unit, const ObligationState& state, bool closed) const {
  ComplianceStatus out;
  out.unit = unit;
  out.year = year;
  out.obligation = state.obligation;
  out.surrendered_allowances = state.surrendered_allowances;
  out.surrendered_ccer = state.surrendered_ccer;
  const Qty due = state.obligation - state.surrendered_allowances - state.surrendered_ccer;
  out.shortfall = due.is_positive() ? due : Qty{0};
  out.closed = closed;
  return out;
}

Status Registry::record_verified_emissions(int year, AccountId unit, Qty emissions) {
  if (emissions.is_negative()) return invalid_argument("verified emissions must not be negative");
  if (!has_account(unit)) return not_found(text::account(unit) + " does not exist");
  if (unit < kFirstParticipantAccount) {
    return failed_precondition("compliance: obligations belong to key emitting units, not system accounts");
  }
  YearState& state = years_[year];
  if (state.closed) {
    return failed_precondition("compliance: the deadline of compliance year " + std::to_string(year) +
                               " has passed; verified emissions can no longer change");
  }
  ObligationState& obligation = state.units[unit];
  const Qty surrendered = obligation.surrendered_allowances + obligation.surrendered_ccer;
  if (emissions < surrendered) {
    return failed_precondition("compliance: verified emissions of " + text::tonnes(emissions) + " are below the " +
                               text::tonnes(surrendered) + " already surrendered for " + std::to_string(year));
  }
  // A correction downwards lowers the CCER offset cap too: not below the CCER already surrendered against it.
  if (const Qty cap = ccer_offset_cap(emissions, rules_.ccer_offset_cap_percent); obligation.surrendered_ccer > cap) {
    return failed_precondition("CCER offset cap: verified emissions of " + text::tonnes(emissions) +
                               " would let CCER cover at most " + text::tonnes(cap) + " (" +
                               std::to_string(rules_.ccer_offset_cap_percent) + "%), below the " +
                               text::tonnes(obligation.surrendered_ccer) + " of CCER already surrendered for " +
                               std::to_string(year));
  }
  obligation.obligation = emissions;
  return Status::ok();
}

Status Registry::surrender(int year, AccountId unit, const std::string& instrument, Qty quantity, Sequence sequence,
                           UnixNanos at) {
  if (!quantity.is_positive()) return invalid_argument("quantity must be positive");
  if (!has_account(unit)) return not_found(text::account(unit) + " does not exist");
  const bool ccer = instrument == kCcerInstrument;
  const std::optional<int> vintage = allowance_vintage(instrument);
  if (!ccer && !vintage) {
    return invalid_argument("surrender: " + instrument + " is neither an allowance (CEA<vintage>) nor CCER");
  }
  auto year_state = years_.find(year);
  const ObligationState* found = nullptr;
  if (year_state != years_.end()) {
    auto u = year_state->second.units.find(unit);
    if (u != year_state->second.units.end()) found = &u->second;
  }
  if (found == nullptr) {
    return failed_precondition("compliance: no verified emissions are recorded for " + text::account(unit) +
                               " in compliance year " + std::to_string(year));
  }
  if (year_state->second.closed) {
    return failed_precondition("compliance: the deadline of compliance year " + std::to_string(year) +
                               " has passed");
  }
  if (vintage && *vintage > year) {
    return failed_precondition("vintage rule: " + instrument + " (vintage " + std::to_string(*vintage) +
                               ") cannot be surrendered for compliance year " + std::to_string(year) +
                               "; only vintages up to the compliance year count");
  }
  const ObligationState& state = *found;
  const Qty still_due = state.obligation - state.surrendered_allowances - state.surrendered_ccer;
  if (quantity > still_due) {
    return failed_precondition("surrender: " + text::tonnes(quantity) + " exceeds the " + text::tonnes(still_due) +
                               " still due for compliance year " + std::to_string(year));
  }
  if (ccer) {
    const Qty cap = ccer_offset_cap(state.obligation, rules_.ccer_offset_cap_percent);
    if (state.surrendered_ccer + quantity > cap) {
      return failed_precondition("CCER offset cap: CCER may cover at most " +
                                 std::to_string(rules_.ccer_offset_cap_percent) + "% of the obligation (" +
                                 text::tonnes(cap) + " of " + text::tonnes(state.obligation) + "); " +
                                 text::tonnes(state.surrendered_ccer) + " already surrendered, " +
                                 text::tonnes(quantity) + " more refused");
    }
  }
  if (Status s = check_available(unit, instrument, quantity, "surrender"); !s.is_ok()) return s;

  mutable_holding(unit, instrument).available -= quantity;
  mutable_holding(kSurrenderAccount, instrument).available += quantity;
  move_serials(instrument, unit, kSurrenderAccount, quantity);
  ObligationState& mutable_state = years_[year].units[unit];
  (ccer ? mutable_state.surrendered_ccer : mutable_state.surrendered_allowances) += quantity;
  append_entry(instrument, unit, kSurrenderAccount, quantity, TransferKind::surrender,
               "surrender:" + std::to_string(year), sequence, at);
  return Status::ok();
}

Result<ComplianceStatus> Registry::compliance_status(int year, AccountId unit) const {
  auto year_state = years_.find(year);
  if (year_state != years_.end()) {
    auto found = year_state->second.units.find(unit);
    if (found != year_state->second.units.end()) {
      return {Status::ok(), status_of(year, unit, found->second, year_state->second.closed)};
    }
  }
  return {not_found("compliance: no verified emissions are recorded for " + text::account(unit) +
                    " in compliance year " + std::to_string(year))};
}

std::vector<ComplianceStatus> Registry::compliance_statuses(int year) const {
  std::vector<ComplianceStatus> out;
  auto year_state = years_.find(year);
  if (year_state == years_.end()) return out;
  for (const auto& [unit, state] : year_state->second.units) {
    out.push_back(status_of(year, unit, state, year_state->second.closed));
  }
  return out;
}

Result<std::vector<ComplianceStatus>> Registry::close_compliance_year(int year) {
  YearState& state = years_[year];
  if (state.closed) {
    return {failed_precondition("compliance: compliance year " + std::to_string(year) + " is already closed")};
  }
  state.closed = true;
  std::vector<ComplianceStatus> out = compliance_statuses(year);
  for (const ComplianceStatus& status : out) {
    if (status.shortfall.is_positive()) shortfalls_owed_[Shortfall{status.unit, year}] = status.shortfall;
  }
  return {Status::ok(), std::move(out)};
}

Result<std::vector<EarlyWarning>> Registry::early_warnings(int year, int share_percent,
                                                           std::span<const OpenBuys> open_buys) const {
  if (share_percent < 1 || share_percent > 100) {
    return {invalid_argument("early warning: the share must be 1 to 100 percent")};
  }
  std::vector<EarlyWarning> out;
  auto year_state = years_.find(year);
  if (year_state == years_.end()) return {Status::ok(), std::move(out)};
  for (const auto& [unit, state] : year_state->second.units) {
    const Qty still_due = state.obligation - state.surrendered_allowances - state.surrendered_ccer;
    if (!still_due.is_positive()) continue;
    Qty covered{0};
    auto account = accounts_.find(unit);
    if (account != accounts_.end()) {
      for (const auto& [instrument, holding] : account->second) {
        const Qty usable = holding.available + holding.pending;
        if (instrument == kCcerInstrument) {
          const Qty room = ccer_offset_cap(state.obligation, rules_.ccer_offset_cap_percent) - state.surrendered_ccer;
          covered += min(usable, room);
        } else if (const std::optional<int> vintage = allowance_vintage(instrument); vintage && *vintage <= year) {
          covered += usable;
        }
      }
    }
    for (const OpenBuys& buys : open_buys) {
      if (buys.unit == unit) covered += buys.quantity;
    }
    if (static_cast<__int128>(covered.value) * 100 < static_cast<__int128>(still_due.value) * share_percent) {
      out.push_back(EarlyWarning{unit, still_due, covered, still_due - covered});
    }
  }
  return {Status::ok(), std::move(out)};
}

}  // namespace carbon::registry
