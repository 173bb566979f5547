#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "server/paging.h"

namespace carbon::server {
namespace {

Page parsed(const std::string& token, const std::string& filters, Status* status = nullptr) {
  Page page;
  Status s = parse_page(0, token, filters, page);
  if (status != nullptr) *status = s;
  return page;
}

TEST(PagingTest, ATokenCarriesItsCursorBoundToTheFilters) {
  const std::string token = page_token(42, "CEA2024|7");
  EXPECT_EQ(parsed(token, "CEA2024|7").offset, 42u);
  Status other;
  parsed(token, "CEA2024|8", &other);
  EXPECT_EQ(other.code(), ErrorCode::invalid_argument) << "a token of other filters";
  EXPECT_NE(other.message().find("page_token"), std::string::npos);
}

TEST(PagingTest, EveryBigintCursorRoundTripsAndAnythingElseIsRefused) {
  for (std::uint64_t cursor : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{999'999'999'999'999'999},
                               std::uint64_t{1'000'000'000'000'000'000}, std::uint64_t{INT64_MAX}}) {
    Status s;
    EXPECT_EQ(parsed(page_token(cursor, "f"), "f", &s).offset, cursor);
    EXPECT_TRUE(s.is_ok()) << cursor;
  }
  const std::string hash = filter_hash("f");
  for (const std::string& bad : {std::string("9223372036854775808.") + hash,   // INT64_MAX + 1: no id of ours
                                 std::string("18446744073709551616.") + hash,  // UINT64_MAX + 1
                                 "." + hash, "-1." + hash, "+1." + hash, " 1." + hash, "1x." + hash, "1" + hash,
                                 "1." + hash + "0", std::string("1.")}) {
    Status s;
    parsed(bad, "f", &s);
    EXPECT_EQ(s.code(), ErrorCode::invalid_argument) << bad;
  }
  Status empty;
  EXPECT_EQ(parsed("", "f", &empty).offset, 0u) << "no token: the first page";
  EXPECT_TRUE(empty.is_ok());
}

TEST(PagingTest, PageSizeDefaultsToAHundredAndIsCappedAtAThousand) {
  Page page;
  ASSERT_TRUE(parse_page(0, "", "", page).is_ok());
  EXPECT_EQ(page.size, 100u);
  ASSERT_TRUE(parse_page(5'000, "", "", page).is_ok());
  EXPECT_EQ(page.size, 1'000u);
}

// Keyset pages are read one item longer than the page: a next token only when that item is there.
TEST(PagingTest, AKeysetPageHasATokenOnlyWhenMoreItemsFollow) {
  Page page;
  ASSERT_TRUE(parse_page(2, "", "f", page).is_ok());
  auto id = [](int v) { return static_cast<std::uint64_t>(v); };
  auto copy = [](int v, int& out) { out = v; };
  struct Out {
    std::vector<int> items;
    int* Add() { return &items.emplace_back(); }
  };
  Out full_last;
  EXPECT_EQ(fill_keyset_page(std::vector<int>{5, 9}, page, &full_last, copy, id), "");
  EXPECT_EQ(full_last.items, (std::vector<int>{5, 9}));
  Out more;
  EXPECT_EQ(fill_keyset_page(std::vector<int>{5, 9, 12}, page, &more, copy, id), page_token(9, "f"));
  EXPECT_EQ(more.items, (std::vector<int>{5, 9}));
}

}  // namespace
}  // namespace carbon::server
