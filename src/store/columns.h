#pragma once
/// Array parameters for batched statements: one PostgreSQL array literal per
/// column, unnested server-side (INSERT ... SELECT * FROM unnest($1::t[], ...)).
/// Not thread-safe: built and used by the journal writer thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/pg.h"

namespace carbon::store {

/// Builds the text form of a PostgreSQL array, element by element.
class ArrayLiteral {
 public:
  void add(std::int64_t v) { next() += std::to_string(v); }
  void add(std::uint64_t v) { next() += std::to_string(v); }
  void add(bool v) { next() += v ? "t" : "f"; }
  void add(std::string_view s) {
    std::string& out = next();
    out.push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  void add_bytes(const unsigned char* bytes, std::size_t size) { add(to_bytea_literal(bytes, size)); }
  std::string finish() const { return text_ + "}"; }
  bool empty() const { return count_ == 0; }

 private:
  std::string& next() {
    if (count_++ > 0) text_.push_back(',');
    return text_;
  }
  std::string text_ = "{";
  std::size_t count_ = 0;
};

/// Columns of one table's batch: one array literal per column.
struct Columns {
  explicit Columns(std::size_t n) : columns(n) {}
  std::vector<ArrayLiteral> columns;
  std::vector<std::optional<std::string>> params() const {
    std::vector<std::optional<std::string>> out;
    for (const auto& c : columns) out.emplace_back(c.finish());
    return out;
  }
  bool empty() const { return columns.empty() || columns.front().empty(); }
};

}  // namespace carbon::store
