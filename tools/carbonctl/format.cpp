#include "format.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <type_traits>

namespace carbonctl {
namespace {

/// Digits of `magnitude` with a ',' every three digits.
std::string grouped(std::uint64_t magnitude) {
  std::string digits = std::to_string(magnitude);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

/// |value| without overflow for INT64_MIN.
std::uint64_t magnitude_of(std::int64_t value) {
  return value < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
}

std::string yuan_of_magnitude(bool negative, std::uint64_t fen) {
  const std::uint64_t whole = fen / 100;
  const std::uint64_t cents = fen % 100;
  std::string out = negative ? "-" : "";
  out += grouped(whole);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + cents / 10));
  out.push_back(static_cast<char>('0' + cents % 10));
  return out;
}

/// Decodes one UTF-8 code point at `i`, advancing `i`; U+FFFD on bad input.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = static_cast<unsigned char>(s[i]);
  int extra = 0;
  char32_t cp = 0;
  if (byte < 0x80) {
    ++i;
    return byte;
  } else if ((byte & 0xE0) == 0xC0) {
    extra = 1;
    cp = byte & 0x1F;
  } else if ((byte & 0xF0) == 0xE0) {
    extra = 2;
    cp = byte & 0x0F;
  } else if ((byte & 0xF8) == 0xF0) {
    extra = 3;
    cp = byte & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  ++i;
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
    ++i;
  }
  return cp;
}

bool is_wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
         (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
         (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

void pad(std::ostream& out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.put(' ');
}

}  // namespace

std::string yuan(std::int64_t fen) { return yuan_of_magnitude(fen < 0, magnitude_of(fen)); }

std::string yuan_product(std::int64_t fen, std::int64_t quantity) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(fen, quantity, &product)) return "overflow";
  return yuan(product);
}

std::string tonnes(std::int64_t quantity) {
  return (quantity < 0 ? "-" : "") + grouped(magnitude_of(quantity));
}

std::string id_or_dash(std::uint64_t id) { return id == 0 ? "-" : std::to_string(id); }

std::string enum_name(const google::protobuf::EnumDescriptor* descriptor, int value) {
  const google::protobuf::EnumValueDescriptor* found = descriptor->FindValueByNumber(value);
  if (found == nullptr) return "?(" + std::to_string(value) + ")";
  std::string name = found->name();
  // Every carbon.v1 enum starts with <PREFIX>_UNSPECIFIED = 0; strip <PREFIX>_.
  const std::string& zero = descriptor->value(0)->name();
  constexpr std::string_view unspecified = "UNSPECIFIED";
  if (zero.size() > unspecified.size() && zero.ends_with(unspecified)) {
    const std::string prefix = zero.substr(0, zero.size() - unspecified.size());
    if (name.starts_with(prefix)) name.erase(0, prefix.size());
  }
  std::transform(name.begin(), name.end(), name.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return name;
}

std::string china_time(std::int64_t unix_nanos) {
  if (unix_nanos == 0) return "-";
  using namespace std::chrono;
  const sys_time<nanoseconds> instant{nanoseconds{unix_nanos}};
  const sys_seconds local = floor<seconds>(instant) + hours{8};
  const sys_days day = floor<days>(local);
  const year_month_day date{day};
  const hh_mm_ss<seconds> clock{local - day};
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02ld:%02ld:%02ld", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long>(clock.hours().count()), static_cast<long>(clock.minutes().count()),
                static_cast<long>(clock.seconds().count()));
  return buffer;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < utf8.size();) width += is_wide(next_code_point(utf8, i)) ? 2 : 1;
  return width;
}

std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) c = '?';
  }
  return out;
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (std::string& cell : cells) cell = printable(cell);
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) widths[c] = display_width(columns_[c].header);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  auto print_line = [&](auto cell_of) {
    // Trailing empty left-aligned cells would only add blanks; find the last cell to print.
    std::size_t last = columns_.size();
    while (last > 0 && cell_of(last - 1).empty()) --last;
    for (std::size_t c = 0; c < last; ++c) {
      const std::string& cell = cell_of(c);
      const std::size_t fill = widths[c] - display_width(cell);
      if (c != 0) out << "  ";
      if (columns_[c].align == Align::right) pad(out, fill);
      out << cell;
      if (columns_[c].align == Align::left && c + 1 != last) pad(out, fill);
    }
    out << '\n';
  };
  print_line([&](std::size_t c) -> const std::string& { return columns_[c].header; });
  for (const auto& row : rows_) print_line([&](std::size_t c) -> const std::string& { return row[c]; });
}

Details& Details::add(std::string key, std::string value) {
  lines_.emplace_back(std::move(key), printable(value));
  return *this;
}

void Details::print(std::ostream& out) const {
  std::size_t width = 0;
  for (const auto& [key, value] : lines_) width = std::max(width, display_width(key));
  for (const auto& [key, value] : lines_) {
    out << key << ':';
    pad(out, width - display_width(key) + 1);
    out << value << '\n';
  }
}

}  // namespace carbonctl

namespace carbonctl {

bool parse_china_time(const std::string& text, std::int64_t& unix_nanos) {
  using namespace std::chrono;
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const auto digits = [&](std::size_t at, std::size_t count, auto& out) {
    if (at + count > text.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(out * 10 + (text[i] - '0'));
    }
    return true;
  };
  if (!digits(0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(5, 2, mo) || text[7] != '-' ||
      !digits(8, 2, d)) {
    return false;
  }
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || !digits(11, 2, h) || text.size() < 16 || text[13] != ':' ||
        !digits(14, 2, mi)) {
      return false;
    }
    if (text.size() > 16 && (text.size() != 19 || text[16] != ':' || !digits(17, 2, s))) return false;
    if (h > 23 || mi > 59 || s > 59) return false;
  }
  const year_month_day date{year{y}, month{mo}, day{d}};
  if (!date.ok()) return false;
  const sys_seconds local = sys_days{date} + hours{h} + minutes{mi} + seconds{s};
  unix_nanos = duration_cast<nanoseconds>((local - hours{8}).time_since_epoch()).count();
  return true;
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += digits[byte >> 4];
    out += digits[byte & 0x0F];
  }
  return out;
}

}  // namespace carbonctl
