#pragma once
/// Paging of list RPCs over the engine's full answer (common.proto, Paging).
/// Pure functions; any thread.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace carbon::server {

/// A page of a list: items [offset, offset + size). The token is "<offset>.<filter hash>"
/// so that a token is refused with other filters (common.proto, Paging).
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

inline Status parse_page(std::uint32_t page_size, const std::string& token, std::string filters, Page& page) {
  page.size = page_size == 0 ? 100 : std::min<std::uint32_t>(page_size, 1000);
  page.filters = std::move(filters);
  if (token.empty()) return Status::ok();
  const auto dot = token.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 18 || token.substr(dot + 1) != filter_hash(page.filters) ||
      token.find_first_not_of("0123456789") != dot) {
    return invalid_argument("page_token was not returned by this RPC with these filters");
  }
  page.offset = std::stoull(token.substr(0, dot));
  return Status::ok();
}

/// Copies the page of `items` into `out` with `convert`; returns the next page token.
template <typename Item, typename Out, typename Convert>
std::string fill_page(const std::vector<Item>& items, const Page& page, Out* out, Convert convert) {
  for (std::size_t k = page.offset; k < items.size() && k < page.offset + page.size; ++k) convert(items[k], *out->Add());
  if (page.offset + page.size >= items.size()) return {};
  return std::to_string(page.offset + page.size) + "." + filter_hash(page.filters);
}

}  // namespace carbon::server
