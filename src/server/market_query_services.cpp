// RegulatorService.QueryTrades and QueryOrders: read from PostgreSQL on the
// gRPC thread over a read-only connection of their own
// (src/store/market_reader.cpp), never engine state; like ListLedgerEntries.
// The page token is the last id returned, bound to the filters
// ("<id>.<filter hash>").
#include <algorithm>
#include <cstdio>
#include <string>

#include "server/auth.h"
#include "server/convert.h"
#include "server/dispatch.h"
#include "server/paging.h"
#include "server/services.h"
#include "store/market_reader.h"

namespace carbon::server {
namespace {

/// Authenticates, authorizes and checks the filters shared by both queries; fills the paging cursor.
Status admit_query(ServiceContext& context, const DirectRead& read, const std::string& filters,
                   std::uint32_t page_size, const std::string& token, store::MarketFilter& filter) {
  if (!read.admitted().is_ok()) return read.admitted();
  if (filter.from < 0 || filter.to < 0) return invalid_argument("from_unix_nanos and to_unix_nanos must not be negative");
  if (filter.from != 0 && filter.to != 0 && filter.from > filter.to) {
    return invalid_argument("from_unix_nanos is after to_unix_nanos");
  }
  if (!filter.instrument.empty() && !context.knows_instrument(filter.instrument)) {
    return not_found("unknown instrument \"" + filter.instrument + "\"");
  }
  // The token is "<last id>.<filter hash>" (server/paging.h), the cursor of a keyset page.
  Page page;
  if (Status s = parse_page(page_size, token, filters, page); !s.is_ok()) return s;
  filter.limit = page.size;
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
  Status s = admit_query(context_, read, filters, request->page_size(), request->page_token(), filter);
  if (s.is_ok() && !v1::TradingMode_IsValid(request->mode())) s = invalid_argument("unknown trading mode");
  std::vector<engine::TradeRecord> trades;
  if (s.is_ok()) s = store::query_trades(context_.ledger_conninfo, filter, trades);
  if (s.is_ok()) {
    for (const engine::TradeRecord& trade : trades) to_proto(trade, *response->add_trades());
    if (trades.size() == filter.limit) {
      response->set_next_page_token(std::to_string(trades.back().id) + "." + filter_hash(filters));
    }
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
  Status s = admit_query(context_, read, filters, request->page_size(), request->page_token(), filter);
  if (s.is_ok() && !v1::OrderStatus_IsValid(request->status())) s = invalid_argument("unknown order status");
  std::vector<engine::OrderRecord> orders;
  if (s.is_ok()) s = store::query_orders(context_.ledger_conninfo, filter, orders);
  if (s.is_ok()) {
    for (const engine::OrderRecord& order : orders) to_proto(order, *response->add_orders());
    if (orders.size() == filter.limit) {
      response->set_next_page_token(std::to_string(orders.back().id) + "." + filter_hash(filters));
    }
  }
  return read.finish(std::move(s));
}

}  // namespace carbon::server
