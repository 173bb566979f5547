#pragma once
/// Value types for money, quantities and identities. Integers only: no
/// floating point touches a price, a quantity or an amount of cash.

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>

namespace carbon {

/// An int64 with a unit tag, so a price cannot be added to a quantity by mistake.
template <typename Tag>
struct Amount {
  std::int64_t value = 0;

  constexpr Amount() = default;
  constexpr explicit Amount(std::int64_t v) : value(v) {}

  constexpr auto operator<=>(const Amount&) const = default;
  constexpr Amount operator+(Amount o) const { return Amount{value + o.value}; }
  constexpr Amount operator-(Amount o) const { return Amount{value - o.value}; }
  constexpr Amount operator-() const { return Amount{-value}; }
  constexpr Amount& operator+=(Amount o) { value += o.value; return *this; }
  constexpr Amount& operator-=(Amount o) { value -= o.value; return *this; }
  constexpr bool is_zero() const { return value == 0; }
  constexpr bool is_positive() const { return value > 0; }
  constexpr bool is_negative() const { return value < 0; }
};

struct PriceTag {};
struct QtyTag {};
struct CashTag {};

/// Price per tonne in fen (0.01 CNY).
using Price = Amount<PriceTag>;
/// Quantity in whole tonnes of CO2e.
using Qty = Amount<QtyTag>;
/// Cash in fen (0.01 CNY).
using Cash = Amount<CashTag>;

template <typename Tag>
constexpr Amount<Tag> min(Amount<Tag> a, Amount<Tag> b) { return a < b ? a : b; }

/// price × quantity in fen, or nothing if it overflows int64.
constexpr std::optional<Cash> notional(Price price, Qty qty) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(price.value, qty.value, &out)) return std::nullopt;
  return Cash{out};
}

using ParticipantId = std::uint64_t;
using AccountId = std::uint64_t;
using OrderId = std::uint64_t;
using TradeId = std::uint64_t;
using Sequence = std::uint64_t;
/// Nanoseconds since the Unix epoch, from the injected clock.
using UnixNanos = std::int64_t;

enum class Side : std::uint8_t { buy = 1, sell = 2 };
enum class OrderType : std::uint8_t { limit = 1, market = 2 };
enum class TimeInForce : std::uint8_t { day = 1, ioc = 2, fok = 3, gtc = 4 };
enum class TradingMode : std::uint8_t { listed = 1, block = 2, auction = 3 };
enum class ParticipantType : std::uint8_t { key_emitting_unit = 1, institution = 2, natural_person = 3 };
enum class Market : std::uint8_t { compliance = 1, voluntary = 2 };
enum class Role : std::uint8_t { trader = 1, operator_ = 2, registry_authority = 3, regulator = 4, auditor = 5 };
enum class OrderStatus : std::uint8_t { open = 1, partially_filled = 2, filled = 3, cancelled = 4, expired = 5, rejected = 6 };

constexpr Side opposite(Side s) { return s == Side::buy ? Side::sell : Side::buy; }
/// Open: resting or partly filled, with quantity still to trade.
constexpr bool is_open(OrderStatus s) { return s == OrderStatus::open || s == OrderStatus::partially_filled; }
constexpr bool is_terminal(OrderStatus s) {
  return s == OrderStatus::filled || s == OrderStatus::cancelled || s == OrderStatus::expired ||
         s == OrderStatus::rejected;
}

}  // namespace carbon
