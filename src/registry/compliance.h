#pragma once
/// Compliance arithmetic: status per unit, the penalty, the monthly average
/// price it uses, early warnings. Integers only.

#include <cstdint>
#include <span>

#include "common/status.h"
#include "common/types.h"

namespace carbon::registry {

/// Where one key emitting unit stands for one compliance year. All in tonnes.
struct ComplianceStatus {
  AccountId unit = 0;
  int year = 0;
  Qty obligation;              ///< verified emissions of the year
  Qty surrendered_allowances;  ///< CEA of vintages up to the year
  Qty surrendered_ccer;        ///< at most the CCER offset cap
  Qty shortfall;               ///< obligation − everything surrendered; zero when compliant
  bool closed = false;         ///< the deadline has passed (close_compliance_year)
  bool compliant() const { return shortfall.is_zero(); }
};

/// A unit whose usable holdings plus open buys cover less than the configured share of what it still owes.
struct EarlyWarning {
  AccountId unit = 0;
  Qty still_due;     ///< obligation − surrendered
  Qty covered;       ///< usable available + pending units plus open buys
  Qty uncovered;     ///< still_due − covered (positive)
};

/// The open buy quantity of one unit, as the engine knows it (passed in).
struct OpenBuys {
  AccountId unit = 0;
  Qty quantity;
};

/// The configured penalty multiple must lie in this range (decree 775, art. 24).
inline constexpr int kMinPenaltyMultiple = 5;
inline constexpr int kMaxPenaltyMultiple = 10;

/// Mean of the daily closing prices of the month before the deadline, in fen,
/// rounded half up to the fen. INVALID_ARGUMENT when empty or a price is not positive.
[[nodiscard]] Status average_closing_price(std::span<const Price> daily_closes, Price& out);

/// shortfall × average price × multiple, in fen. INVALID_ARGUMENT when the
/// multiple is outside 5..10 or an input is negative; FAILED_PRECONDITION if it overflows int64.
/// Worked example (MARKET_RULES.md): 865,300 t × 98.00 CNY × 5 = 423,997,000 CNY.
[[nodiscard]] Status compute_penalty(Qty shortfall, Price average_price, int multiple, Cash& out);

/// The CCER a unit may surrender for an obligation: floor(obligation × percent / 100) tonnes.
Qty ccer_offset_cap(Qty obligation, int percent);

}  // namespace carbon::registry
