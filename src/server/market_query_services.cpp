// RegulatorService.QueryTrades and QueryOrders: read from PostgreSQL on the
// gRPC thread over a read-only connection of their own
// (src/store/market_reader.cpp), never engine state; like ListLedgerEntries.
// The page token is the last id returned, bound to the filters
// ("<id>.<filter hash>", server/paging.h); the last page has none.
#include <string>

#include "server/auth.h"
#include "server/convert.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "server/services.h"
#include "store/market_reader.h"

namespace carbon::server {
namespace {

/// Authenticates, authorizes and checks the filters shared by both queries; fills the page and the
/// reader's cursor (one row more than the page, to tell whether another page follows).
Status admit_query(ServiceContext& context, const DirectRead& read, const std::string& filters,
                   std::uint32_t page_size, const std::string& token, store::MarketFilter& filter, Page& page) {
  if (!read.admitted().is_ok()) return read.admitted();
  if (filter.from < 0 || filter.to < 0) return invalid_argument("from_unix_nanos and to_unix_nanos must not be negative");
  if (filter.from != 0 && filter.to != 0 && filter.from > filter.to) {
    return invalid_argument("from_unix_nanos is after to_unix_nanos");
  }
  if (!filter.instrument.empty() && !context.knows_instrument(filter.instrument)) {
    return not_found("unknown instrument \"" + filter.instrument + "\"");
  }
  // The token is "<last id>.<filter hash>" (server/paging.h), the cursor of a keyset page.
  if (Status s = parse_page(page_size, token, filters, page); !s.is_ok()) return s;
  filter.limit = page.size + 1;
  filter.after_id = page.offset;
  return Status::ok();
}

}  // namespace

grpc::ServerUnaryReactor* RegulatorService::QueryTrades(grpc::CallbackServerContext* ctx,
                                                        const v1::QueryTradesRequest* request,
                                                        v1::QueryTradesResponse* response) {
  DirectRead read(context_, ctx, "carbon.v1.RegulatorService/QueryTrades", request);
  store::MarketFilter filter;
  filter.instrument = request->instrument();
  filter.participant = request->participant_id();
  if (request->mode() != v1::TRADING_MODE_UNSPECIFIED) filter.mode = static_cast<int>(request->mode());
  filter.from = request->from_unix_nanos();
  filter.to = request->to_unix_nanos();
  const std::string filters = filter.instrument + "|" + std::to_string(filter.participant) + "|" +
                              std::to_string(request->mode()) + "|" + std::to_string(filter.from) + "|" +
                              std::to_string(filter.to);
  Page page;
  Status s = admit_query(context_, read, filters, request->page_size(), request->page_token(), filter, page);
  if (s.is_ok() && !v1::TradingMode_IsValid(request->mode())) s = invalid_argument("unknown trading mode");
  std::vector<engine::TradeRecord> trades;
  if (s.is_ok()) s = store::query_trades(context_.ledger_conninfo, filter, trades);
  if (s.is_ok()) {
    response->set_next_page_token(fill_keyset_page(
        trades, page, response->mutable_trades(), [](const engine::TradeRecord& r, auto& out) { to_proto(r, out); },
        [](const engine::TradeRecord& r) { return r.id; }));
  }
  return read.finish(std::move(s));
}

grpc::ServerUnaryReactor* RegulatorService::QueryOrders(grpc::CallbackServerContext* ctx,
                                                        const v1::QueryOrdersRequest* request,
                                                        v1::QueryOrdersResponse* response) {
  DirectRead read(context_, ctx, "carbon.v1.RegulatorService/QueryOrders", request);
  store::MarketFilter filter;
  filter.instrument = request->instrument();
  filter.participant = request->participant_id();
  if (request->status() != v1::ORDER_STATUS_UNSPECIFIED) filter.status = static_cast<int>(request->status());
  filter.from = request->from_unix_nanos();
  filter.to = request->to_unix_nanos();
  const std::string filters = filter.instrument + "|" + std::to_string(filter.participant) + "|" +
                              std::to_string(request->status()) + "|" + std::to_string(filter.from) + "|" +
                              std::to_string(filter.to);
  Page page;
  Status s = admit_query(context_, read, filters, request->page_size(), request->page_token(), filter, page);
  if (s.is_ok() && !v1::OrderStatus_IsValid(request->status())) s = invalid_argument("unknown order status");
  std::vector<engine::OrderRecord> orders;
  if (s.is_ok()) s = store::query_orders(context_.ledger_conninfo, filter, orders);
  if (s.is_ok()) {
    response->set_next_page_token(fill_keyset_page(
        orders, page, response->mutable_orders(), [](const engine::OrderRecord& r, auto& out) { to_proto(r, out); },
        [](const engine::OrderRecord& r) { return r.id; }));
  }
  return read.finish(std::move(s));
}

}  // namespace carbon::server
