#include <gtest/gtest.h>

#include "matching/trading_rules.h"

namespace carbon::matching {
namespace {

using namespace std::chrono;

/// The instant of a Shanghai wall-clock time.
UnixNanos shanghai(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0) {
  const sys_seconds local = sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
  return duration_cast<nanoseconds>((local - kShanghaiOffset).time_since_epoch()).count();
}

TEST(TradingRulesTest, ShanghaiIsUtcPlusEight) {
  const UnixNanos t = shanghai(2026, 11, 24, 0, 30);  // 2026-11-23 16:30 UTC
  EXPECT_EQ(format_date(shanghai_date(t)), "2026-11-24");
  EXPECT_EQ(shanghai_minute_of_day(t), 30);
}

TEST(TradingRulesTest, ParsesOnlyRealDates) {
  EXPECT_EQ(format_date(*parse_date("2025-12-31")), "2025-12-31");
  EXPECT_FALSE(parse_date("2025-02-30").has_value());
  EXPECT_FALSE(parse_date("2025-2-3").has_value());
  EXPECT_FALSE(parse_date("20x5-02-03").has_value());
}

TEST(TradingRulesTest, TradingDaysAreWeekdaysLessHolidays) {
  const TradingCalendar calendar({*parse_date("2026-10-01")});
  EXPECT_TRUE(calendar.is_trading_day(*parse_date("2026-11-24")));   // Tuesday
  EXPECT_FALSE(calendar.is_trading_day(*parse_date("2026-11-28")));  // Saturday
  EXPECT_FALSE(calendar.is_trading_day(*parse_date("2026-10-01")));  // National Day
  EXPECT_EQ(format_date(calendar.next_trading_day(*parse_date("2026-11-27"))), "2026-11-30");
  EXPECT_EQ(format_date(calendar.next_trading_day(*parse_date("2026-09-30"))), "2026-10-02");
}

TEST(TradingRulesTest, ListedSessionsAreMorningAndAfternoon) {
  const TradingCalendar calendar;
  const SessionSchedule schedule;
  auto listed = [&](int hh, int mm, int ss = 0) {
    return check_session(calendar, schedule, TradingMode::listed, shanghai(2026, 11, 24, hh, mm, ss));
  };
  EXPECT_EQ(listed(9, 29, 59).code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(listed(9, 30).is_ok());
  EXPECT_TRUE(listed(11, 29, 59).is_ok());
  EXPECT_EQ(listed(11, 30).code(), ErrorCode::failed_precondition);
  EXPECT_EQ(listed(12, 0).code(), ErrorCode::failed_precondition);
  EXPECT_TRUE(listed(13, 0).is_ok());
  EXPECT_EQ(listed(15, 0).code(), ErrorCode::failed_precondition);
  EXPECT_NE(listed(12, 0).message().find("trading hours"), std::string::npos);
  EXPECT_NE(listed(12, 0).message().find("09:30-11:30, 13:00-15:00"), std::string::npos);
}

TEST(TradingRulesTest, BlockTradingIsAfternoonOnly) {
  const TradingCalendar calendar;
  const SessionSchedule schedule;
  EXPECT_EQ(check_session(calendar, schedule, TradingMode::block, shanghai(2026, 11, 24, 10, 0)).code(),
            ErrorCode::failed_precondition);
  EXPECT_TRUE(check_session(calendar, schedule, TradingMode::block, shanghai(2026, 11, 24, 14, 0)).is_ok());
}

TEST(TradingRulesTest, NoSessionOnAWeekendOrHoliday) {
  const TradingCalendar calendar({*parse_date("2026-10-01")});
  const SessionSchedule schedule;
  const Status weekend = check_session(calendar, schedule, TradingMode::listed, shanghai(2026, 11, 28, 10, 0));
  EXPECT_EQ(weekend.code(), ErrorCode::failed_precondition);
  EXPECT_NE(weekend.message().find("2026-11-28 is not a trading day"), std::string::npos);
  EXPECT_EQ(check_session(calendar, schedule, TradingMode::listed, shanghai(2026, 10, 1, 10, 0)).code(),
            ErrorCode::failed_precondition);
}

TEST(TradingRulesTest, PriceBandIsTenPercentRoundedInwardToTheTick) {
  const auto band = price_band(Price{5'000}, 1'000, Price{1});
  ASSERT_TRUE(band.has_value());
  EXPECT_EQ(band->low, Price{4'500});
  EXPECT_EQ(band->high, Price{5'500});
  const auto odd = price_band(Price{5'003}, 1'000, Price{1});  // 4502.7 .. 5503.3
  EXPECT_EQ(odd->low, Price{4'503});
  EXPECT_EQ(odd->high, Price{5'503});
  const auto ticked = price_band(Price{5'003}, 1'000, Price{5});
  EXPECT_EQ(ticked->low, Price{4'505});
  EXPECT_EQ(ticked->high, Price{5'500});
  const auto block = price_band(Price{5'000}, 3'000, Price{1});
  EXPECT_EQ(block->low, Price{3'500});
  EXPECT_EQ(block->high, Price{6'500});
  EXPECT_TRUE(band->contains(Price{4'500}));
  EXPECT_FALSE(band->contains(Price{5'501}));
}

TEST(TradingRulesTest, AFullWidthBandStartsAtOneTick) {
  const auto band = price_band(Price{5'000}, 10'000, Price{5});
  ASSERT_TRUE(band.has_value());
  EXPECT_EQ(band->low, Price{5});
  EXPECT_EQ(band->high, Price{10'000});
  const auto top = price_band(Price{INT64_MAX / 2 + 7}, 10'000, Price{1});
  ASSERT_TRUE(top.has_value()) << "a band past the largest price ends there";
  EXPECT_EQ(top->high, Price{INT64_MAX});
}

TEST(TradingRulesTest, DatesBeforeTheEpochFloorCorrectly) {
  EXPECT_EQ(format_date(shanghai_date(-1)), "1970-01-01");  // 07:59:59.999999999 in Shanghai
  EXPECT_EQ(shanghai_minute_of_day(-1), 7 * 60 + 59);
  EXPECT_EQ(format_date(shanghai_date(INT64_MIN)).size(), 10u);
}

TEST(TradingRulesTest, PriceBandRefusesNonsense) {
  EXPECT_FALSE(price_band(Price{0}, 1'000, Price{1}).has_value());
  EXPECT_FALSE(price_band(Price{5'000}, -1, Price{1}).has_value());
  EXPECT_FALSE(price_band(Price{3}, 1'000, Price{5}).has_value()) << "no tick multiple inside the band";
  EXPECT_TRUE(price_band(Price{INT64_MAX / 2}, 1'000, Price{1}).has_value()) << "no overflow near the top";
}

}  // namespace
}  // namespace carbon::matching
