#pragma once
/// Free allocation arithmetic and allowance vintages. Integers only.
///
/// Rounding rule (the one place it is written): a benchmark allocation is
///   output × benchmark × factor_1 × ... × factor_n
/// with output in whole units of product (MWh, t of clinker, ...), the
/// benchmark in millionths of a tonne of CO2e per unit of product, and each
/// adjustment factor in parts per 10,000 (10,000 = 1.0). The product is
/// formed exactly in __int128 and divided once, at the end, by
/// 10^6 × 10,000^n, rounding half up to the whole tonne. MARKET_RULES.md
/// states no rounding rule for allocation (the allocation plans publish
/// benchmarks to 4 to 6 decimals and factors to 3 or 4), so this is ours;
/// one rounding at the end keeps the result independent of factor order.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace carbon::registry {

/// Denominator of a benchmark: millionths of a tonne per unit of output.
inline constexpr std::int64_t kBenchmarkScale = 1'000'000;
/// Denominator of an adjustment factor: parts per 10,000.
inline constexpr std::int64_t kFactorScale = 10'000;
/// At most this many adjustment factors (keeps the exact product inside __int128).
inline constexpr std::size_t kMaxAdjustmentFactors = 4;

/// The inputs of a benchmark allocation for one key emitting unit.
struct AllocationFormula {
  std::int64_t output = 0;                      ///< whole units of product, > 0
  std::int64_t benchmark_micro_tonnes = 0;      ///< t CO2e per unit × 10^6, > 0
  std::vector<std::int64_t> factors_per_10000;  ///< each > 0; 10,000 = 1.0
};

/// output × benchmark × factors rounded half up to the tonne, or
/// INVALID_ARGUMENT (non-positive input, too many factors, result beyond int64).
[[nodiscard]] Status compute_free_allocation(const AllocationFormula& formula, Qty& out);

/// The vintage year of an allowance instrument: "CEA2024" → 2024, "CEA24" → 2024,
/// "CEA19-20" → 2020 (a two-year vintage counts as its later year); nothing if
/// the code is not an allowance.
std::optional<int> allowance_vintage(const std::string& instrument);

}  // namespace carbon::registry
