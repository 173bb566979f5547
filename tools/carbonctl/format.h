#pragma once
/// Text formatting for carbonctl's human-readable output: money, tonnes,
/// enum names, times, and aligned tables. No floating point anywhere.

#include <google/protobuf/generated_enum_reflection.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carbonctl {

/// Fen as yuan with two decimals and thousands separators: 123456789 ->
/// "1,234,567.89", -5 -> "-0.05". Integer arithmetic only.
std::string yuan(std::int64_t fen);

/// Fen × tonnes as yuan, or "overflow" if the product does not fit in 64 bits.
std::string yuan_product(std::int64_t fen, std::int64_t quantity);

/// Whole tonnes with thousands separators: 100000 -> "100,000".
std::string tonnes(std::int64_t quantity);

/// An id, or "-" for 0 (ids are never 0 when set).
std::string id_or_dash(std::uint64_t id);

/// Short lowercase name of a proto enum value: SIDE_BUY -> "buy",
/// ORDER_STATUS_PARTIALLY_FILLED -> "partially_filled". Unknown numbers as "?(7)".
std::string enum_name(const google::protobuf::EnumDescriptor* descriptor, int value);

template <typename Enum>
std::string short_name(Enum value) {
  return enum_name(google::protobuf::GetEnumDescriptor<Enum>(), static_cast<int>(value));
}

/// Nanoseconds since the Unix epoch as "YYYY-MM-DD HH:MM:SS" in China
/// Standard Time (UTC+8, no daylight saving); "-" for 0.
std::string china_time(std::int64_t unix_nanos);

/// Columns a UTF-8 string takes in a terminal (CJK ideographs count 2).
std::size_t display_width(std::string_view utf8);

/// The string with control characters (newlines, escapes) replaced by '?',
/// so server-supplied text cannot move the cursor or fake output lines.
std::string printable(std::string_view text);

/// An aligned text table. Cells are sanitized with printable().
class Table {
 public:
  enum class Align { left, right };
  struct Column {
    std::string header;
    Align align = Align::left;
  };

  explicit Table(std::vector<Column> columns);
  void add_row(std::vector<std::string> cells);
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  /// Prints the header and rows, columns separated by two spaces, no
  /// trailing blanks.
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// "key: value" lines with the values aligned.
class Details {
 public:
  Details& add(std::string key, std::string value);
  void print(std::ostream& out) const;

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

}  // namespace carbonctl

namespace carbonctl {

/// A time typed on the command line, in China Standard Time (UTC+8), as
/// nanoseconds since the Unix epoch: "YYYY-MM-DD" (midnight),
/// "YYYY-MM-DDTHH:MM" or "YYYY-MM-DDTHH:MM:SS" (a space may replace the T).
/// False if malformed or not a real date/time.
bool parse_china_time(const std::string& text, std::int64_t& unix_nanos);

/// Bytes as lowercase hexadecimal.
std::string hex(std::string_view bytes);

}  // namespace carbonctl
