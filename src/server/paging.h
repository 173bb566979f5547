#pragma once
/// Paging of list RPCs (common.proto, Paging): offset pages over the engine's full answer (fill_page), or
/// keyset pages whose cursor is the last id of the page before (fill_keyset_page; the engine or the database
/// reads only the page). Pure functions; any thread.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace carbon::server {

/// A page of a list: items [offset, offset + size), or for keyset pages the items past the cursor
/// `offset` (the last id of the page before: above it for lists by ascending id, below it for the
/// audit log's newest first). The token is "<offset>.<filter hash>" so that a token is refused with
/// other filters (common.proto, Paging).
struct Page {
  std::size_t offset = 0;
  std::size_t size = 100;
  std::string filters;
};

inline std::string filter_hash(const std::string& filters) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : filters) h = (h ^ c) * 1099511628211ULL;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

/// The next page's token: its cursor (keyset pages: the last id returned; offset pages: the next offset),
/// bound to the filters.
inline std::string page_token(std::uint64_t cursor, const std::string& filters) {
  return std::to_string(cursor) + "." + filter_hash(filters);
}

static_assert(sizeof(std::size_t) == sizeof(std::uint64_t), "page cursors are 64-bit ids and offsets");

inline Status parse_page(std::uint32_t page_size, const std::string& token, std::string filters, Page& page) {
  page.size = page_size == 0 ? 100 : std::min<std::uint32_t>(page_size, 1000);
  page.filters = std::move(filters);
  if (token.empty()) return Status::ok();
  const auto dot = token.find('.');
  std::uint64_t cursor = 0;
  const char* digits_end = token.data() + (dot == std::string::npos ? 0 : dot);
  const auto [end, error] = std::from_chars(token.data(), digits_end, cursor, 10);
  // Cursors are ids (BIGINT in the database) or offsets: above INT64_MAX no token of ours.
  if (dot == std::string::npos || dot == 0 || error != std::errc{} || end != digits_end ||
      cursor > static_cast<std::uint64_t>(INT64_MAX) ||
      token.compare(dot + 1, std::string::npos, filter_hash(page.filters)) != 0) {
    return invalid_argument("page_token was not returned by this RPC with these filters");
  }
  page.offset = static_cast<std::size_t>(cursor);
  return Status::ok();
}

/// Copies the page of `items` into `out` with `convert`; returns the next page token.
template <typename Item, typename Out, typename Convert>
std::string fill_page(const std::vector<Item>& items, const Page& page, Out* out, Convert convert) {
  for (std::size_t k = page.offset; k < items.size() && k < page.offset + page.size; ++k) convert(items[k], *out->Add());
  if (page.offset + page.size >= items.size()) return {};
  return page_token(page.offset + page.size, page.filters);
}

/// A keyset page: `items` are those past the cursor (`page.offset`, the last id of the page before), in the
/// list's order, as the engine or the database returned them when asked for page.size + 1. Copies the first
/// page.size into `out`; returns the next page token ("<last id>.<filter hash>") only when there were more,
/// so the last page has none.
template <typename Item, typename Out, typename Convert, typename Id>
std::string fill_keyset_page(const std::vector<Item>& items, const Page& page, Out* out, Convert convert, Id id) {
  const std::size_t n = std::min(items.size(), page.size);
  for (std::size_t k = 0; k < n; ++k) convert(items[k], *out->Add());
  if (items.size() <= page.size) return {};
  return page_token(id(items[n - 1]), page.filters);
}

}  // namespace carbon::server
