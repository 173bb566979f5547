#include <gtest/gtest.h>

#include <type_traits>

#include "common/types.h"

namespace carbon {
namespace {

TEST(TypesTest, NotionalIsPriceTimesQuantityInFen) {
  EXPECT_EQ(notional(Price{5'000}, Qty{100}), Cash{500'000});
}

TEST(TypesTest, NotionalReportsOverflowInsteadOfWrapping) {
  EXPECT_FALSE(notional(Price{INT64_MAX / 2}, Qty{3}).has_value());
}

TEST(TypesTest, PriceAndQuantityAreDistinctTypes) {
  static_assert(!std::is_same_v<Price, Qty>);
  static_assert(!std::is_convertible_v<Price, Qty>);
  static_assert(!std::is_convertible_v<std::int64_t, Cash>);
  SUCCEED();
}

}  // namespace
}  // namespace carbon
