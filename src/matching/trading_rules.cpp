#include "matching/trading_rules.h"

#include <algorithm>
#include <cstdio>

namespace carbon::matching {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

std::chrono::sys_seconds shanghai_seconds(UnixNanos t) {
  // Floor division, so instants before 1970 land in the right second too.
  std::int64_t seconds = t / 1'000'000'000;
  if (t % 1'000'000'000 < 0) --seconds;
  return std::chrono::sys_seconds{std::chrono::seconds{seconds}} + kShanghaiOffset;
}

std::string hhmm(int minute) {
  const unsigned m = static_cast<unsigned>(minute) % (24 * 60);
  char text[16];
  std::snprintf(text, sizeof text, "%02u:%02u", m / 60, m % 60);
  return text;
}

std::string describe(const std::vector<SessionWindow>& windows) {
  std::string out;
  for (const SessionWindow& w : windows) {
    if (!out.empty()) out += ", ";
    out += hhmm(w.open_minute) + "-" + hhmm(w.close_minute);
  }
  return out.empty() ? "never" : out;
}

__int128 floor_div(__int128 a, std::int64_t b) {
  __int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

year_month_day shanghai_date(UnixNanos t) { return year_month_day{std::chrono::floor<days>(shanghai_seconds(t))}; }

int shanghai_minute_of_day(UnixNanos t) {
  const auto local = shanghai_seconds(t);
  return static_cast<int>((local - std::chrono::floor<days>(local)).count() / 60);
}

std::string format_date(year_month_day date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::optional<year_month_day> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::pair<std::size_t, std::size_t> fields[3] = {{0, 4}, {5, 2}, {8, 2}};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < fields[i].second; ++k) {
      const char c = text[fields[i].first + k];
      if (c < '0' || c > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  const year_month_day date{std::chrono::year{parts[0]}, std::chrono::month{static_cast<unsigned>(parts[1])},
                            std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!date.ok()) return std::nullopt;
  return date;
}

TradingCalendar::TradingCalendar(std::vector<year_month_day> holidays) : holidays_(std::move(holidays)) {
  std::sort(holidays_.begin(), holidays_.end());
}

bool TradingCalendar::is_trading_day(year_month_day date) const {
  const std::chrono::weekday weekday{sys_days{date}};
  if (weekday == std::chrono::Saturday || weekday == std::chrono::Sunday) return false;
  return !std::binary_search(holidays_.begin(), holidays_.end(), date);
}

year_month_day TradingCalendar::next_trading_day(year_month_day date) const {
  sys_days day{date};
  do {
    day += days{1};
  } while (!is_trading_day(year_month_day{day}));
  return year_month_day{day};
}

Status check_session(const TradingCalendar& calendar, const SessionSchedule& schedule, TradingMode mode, UnixNanos t) {
  const year_month_day date = shanghai_date(t);
  if (!calendar.is_trading_day(date)) {
    return failed_precondition("trading days: " + format_date(date) +
                               " is not a trading day (Monday to Friday, less holidays)");
  }
  const std::vector<SessionWindow>& windows = mode == TradingMode::block ? schedule.block : schedule.listed;
  const int minute = shanghai_minute_of_day(t);
  for (const SessionWindow& w : windows) {
    if (w.open_minute <= minute && minute < w.close_minute) return Status::ok();
  }
  return failed_precondition(std::string("trading hours: ") + (mode == TradingMode::block ? "block" : "listed") +
                             " trading is open " + describe(windows) + " Asia/Shanghai; it is " + hhmm(minute));
}

std::optional<PriceBand> price_band(Price reference, int band_bps, Price tick) {
  if (!reference.is_positive() || !tick.is_positive() || band_bps < 0 || band_bps > 10'000) return std::nullopt;
  const __int128 ref = reference.value;
  // Exact bounds as fractions over 10,000, then rounded inward to the tick.
  const __int128 low_fen = -floor_div(-(ref * (10'000 - band_bps)), 10'000);  // ceil
  __int128 high_fen = floor_div(ref * (10'000 + band_bps), 10'000);
  if (high_fen > INT64_MAX) high_fen = INT64_MAX;  // a band past the largest price ends there
  __int128 low = -floor_div(-low_fen, tick.value) * static_cast<__int128>(tick.value);  // up to the tick
  const __int128 high = floor_div(high_fen, tick.value) * static_cast<__int128>(tick.value);  // down to the tick
  if (low < tick.value) low = tick.value;  // a price is at least one tick
  if (low > high) return std::nullopt;
  return PriceBand{Price{static_cast<std::int64_t>(low)}, Price{static_cast<std::int64_t>(high)}};
}

}  // namespace carbon::matching
