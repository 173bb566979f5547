#pragma once
/// Trading calendar, sessions and price bands: the time and price rules of
/// listed and block trading (MARKET_RULES.md). Pure functions of their
/// inputs and an injected time; no clock is read here.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace carbon::matching {

/// Asia/Shanghai is UTC+8 all year (China has no daylight saving time).
inline constexpr std::chrono::seconds kShanghaiOffset{8 * 3600};

/// The calendar day in Asia/Shanghai of an instant.
std::chrono::year_month_day shanghai_date(UnixNanos t);
/// Minutes since midnight in Asia/Shanghai of an instant (0..1439).
int shanghai_minute_of_day(UnixNanos t);
/// "YYYY-MM-DD".
std::string format_date(std::chrono::year_month_day date);
/// Parses "YYYY-MM-DD"; nothing if malformed or not a real date.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);

/// A continuous window [open, close) in minutes since midnight, Asia/Shanghai.
struct SessionWindow {
  int open_minute = 0;
  int close_minute = 0;
};

/// When each trading mode accepts orders. Defaults: listed 09:30-11:30 and
/// 13:00-15:00, block 13:00-15:00.
struct SessionSchedule {
  std::vector<SessionWindow> listed{{9 * 60 + 30, 11 * 60 + 30}, {13 * 60, 15 * 60}};
  std::vector<SessionWindow> block{{13 * 60, 15 * 60}};
};

/// Trading days: Monday to Friday, less configured holidays.
class TradingCalendar {
 public:
  explicit TradingCalendar(std::vector<std::chrono::year_month_day> holidays = {});
  bool is_trading_day(std::chrono::year_month_day date) const;
  /// The first trading day after `date`.
  std::chrono::year_month_day next_trading_day(std::chrono::year_month_day date) const;
  const std::vector<std::chrono::year_month_day>& holidays() const { return holidays_; }

 private:
  std::vector<std::chrono::year_month_day> holidays_;  ///< sorted
};

/// OK if `mode` accepts orders at `t`; otherwise FAILED_PRECONDITION naming
/// the rule ("trading hours: listed trading is open 09:30-11:30, 13:00-15:00 ...").
[[nodiscard]] Status check_session(const TradingCalendar& calendar, const SessionSchedule& schedule, TradingMode mode,
                                   UnixNanos t);

/// The inclusive range of prices a band allows.
struct PriceBand {
  Price low;
  Price high;
  bool contains(Price p) const { return low <= p && p <= high; }
};

/// The band ±band_bps (basis points) around `reference`, rounded inward to
/// the tick: low = the smallest tick multiple >= reference × (1 − band),
/// high = the largest tick multiple <= reference × (1 + band). Integer
/// arithmetic only. Nothing if the reference is not positive or the band is empty.
std::optional<PriceBand> price_band(Price reference, int band_bps, Price tick);

}  // namespace carbon::matching
