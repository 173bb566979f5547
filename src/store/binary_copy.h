#pragma once
/// Encodes rows in PostgreSQL's binary COPY format (COPY ... FROM STDIN
/// (FORMAT binary)): a header, per row a field count and length-prefixed
/// fields in network byte order, a trailer.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace carbon::store {

/// One table's COPY data, built row by row. Not thread-safe.
class BinaryCopy {
 public:
  BinaryCopy() { clear(); }

  /// Drops every row; keeps the allocated memory.
  void clear() {
    static constexpr char kHeader[] = "PGCOPY\n\377\r\n";  // 11 bytes with the terminating NUL
    data_.assign(kHeader, sizeof kHeader);
    put_u32(0);  // flags
    put_u32(0);  // header extension length
    rows_ = 0;
  }

  /// Starts a row of `fields` columns; exactly that many field calls follow.
  void begin_row(std::uint16_t fields) {
    put_u16(fields);
    ++rows_;
  }
  /// A smallint column.
  void i16(std::int64_t v) {
    put_u32(2);
    put_u16(static_cast<std::uint16_t>(v));
  }
  /// An integer column.
  void i32(std::int64_t v) {
    put_u32(4);
    put_u32(static_cast<std::uint32_t>(v));
  }
  /// A bigint column.
  void i64(std::int64_t v) {
    put_u32(8);
    put_u64(static_cast<std::uint64_t>(v));
  }
  /// A boolean column.
  void boolean(bool v) {
    put_u32(1);
    data_.push_back(v ? '\1' : '\0');
  }
  /// A text column; `s` must be valid UTF-8 without NUL.
  void text(std::string_view s) { bytes(s.data(), s.size()); }
  /// A bytea column.
  void bytes(const void* p, std::size_t n) {
    put_u32(static_cast<std::uint32_t>(n));
    data_.append(static_cast<const char*>(p), n);
  }

  /// The COPY data with its trailer; call once after the last row, then only clear().
  const std::string& finish() {
    put_u16(0xFFFF);
    return data_;
  }
  std::size_t rows() const { return rows_; }
  bool empty() const { return rows_ == 0; }

 private:
  void put_u16(std::uint16_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
    append_raw(&v, sizeof v);
  }
  void put_u32(std::uint32_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    append_raw(&v, sizeof v);
  }
  void put_u64(std::uint64_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    append_raw(&v, sizeof v);
  }
  void append_raw(const void* p, std::size_t n) { data_.append(static_cast<const char*>(p), n); }

  std::string data_;
  std::size_t rows_ = 0;
};

}  // namespace carbon::store
