#include "common/clock.h"

#include <chrono>

namespace carbon {

UnixNanos SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ShiftedClock::ShiftedClock(UnixNanos start) : offset_(start - system_.now()) {}

std::optional<UnixNanos> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS then Z or ±HH:MM
  if (text.size() != 20 && text.size() != 25) return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t count, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(0, 4, y) || text[4] != '-' || !digits(5, 2, mo) || text[7] != '-' || !digits(8, 2, d) ||
      (text[10] != 'T' && text[10] != ' ') || !digits(11, 2, h) || text[13] != ':' || !digits(14, 2, mi) ||
      text[16] != ':' || !digits(17, 2, s)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                         std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  int offset_minutes = 0;
  if (text.size() == 20) {
    if (text[19] != 'Z') return std::nullopt;
  } else {
    int oh = 0, om = 0;
    if ((text[19] != '+' && text[19] != '-') || !digits(20, 2, oh) || text[22] != ':' || !digits(23, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (text[19] == '+' ? 1 : -1) * (oh * 60 + om);
  }
  const auto local = std::chrono::sys_days{date} + std::chrono::hours{h} + std::chrono::minutes{mi} +
                     std::chrono::seconds{s} - std::chrono::minutes{offset_minutes};
  return std::chrono::duration_cast<std::chrono::nanoseconds>(local.time_since_epoch()).count();
}

}  // namespace carbon
