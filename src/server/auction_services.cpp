// Single-side auctions over gRPC: AdminService CreateAuction, CloseAuction and
// CancelAuction (operators), MarketDataService ListAuctions (every role; bid
// totals only after clearing), TradingService SubmitAuctionBid and
// ListAuctionBids (a trader's own bids). The engine side is
// src/engine/auction_commands.cpp.
#include <unordered_map>

#include "server/convert.h"
#include "server/dispatch.h"
#include "server/services.h"

namespace carbon::server {
namespace {

void to_proto(const engine::AuctionRecord& in, v1::Auction& out) {
  out.set_auction_id(in.id);
  out.set_instrument(in.instrument);
  out.set_seller_holding_account_id(in.seller_account);
  out.set_seller_participant_id(in.seller_participant);
  out.set_offered_quantity(in.offered.value);
  out.set_reserve_price_fen(in.reserve_price.value);
  out.set_pricing(static_cast<v1::AuctionPricing>(in.pricing));
  out.set_bid_lot(in.bid_lot.value);
  out.set_max_bidder_share_bps(in.max_bidder_share_bps);
  for (ParticipantType type : in.eligible_types) {
    out.add_eligible_participant_types(static_cast<v1::ParticipantType>(type));
  }
  out.set_opens_at_unix_nanos(in.opens_at);
  out.set_closes_at_unix_nanos(in.closes_at);
  out.set_status(static_cast<v1::AuctionStatus>(in.status));  // the engine's status at the reply's time
  out.set_description(in.description);
  out.set_clearing_price_fen(in.clearing_price.value);
  out.set_sold_quantity(in.sold.value);
  out.set_total_bid_quantity(in.total_bid.value);
  out.set_bid_count(in.bid_count);
  out.set_winning_bidder_count(in.winning_bidders);
  out.set_offer_order_id(in.offer_order);
  out.set_sequence(in.sequence);
}

/// The auction of each bid in `reply` (the engine lists a trader's own bids in its auctions' views).
std::unordered_map<OrderId, std::uint64_t> auction_of_bids(const engine::Reply& reply) {
  std::unordered_map<OrderId, std::uint64_t> out;
  for (const engine::AuctionRecord& auction : reply.auctions) {
    for (OrderId bid : auction.bids) out[bid] = auction.id;
  }
  return out;
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::CreateAuction(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateAuctionRequest* request,
                                                      v1::Auction* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/CreateAuction", response,
      [&](const engine::Principal&) {
        engine::CreateAuction c;
        c.instrument = request->instrument();
        c.seller_account = request->seller_holding_account_id();
        c.offered = Qty{request->offered_quantity()};
        c.reserve_price = Price{request->reserve_price_fen()};
        c.pricing = request->pricing();
        c.bid_lot = Qty{request->bid_lot()};
        c.max_bidder_share_bps = request->max_bidder_share_bps();
        for (int type : request->eligible_participant_types()) {
          c.eligible_types.push_back(enum_from_wire<ParticipantType>(type));
        }
        c.opens_at = request->opens_at_unix_nanos();
        c.closes_at = request->closes_at_unix_nanos();
        c.description = request->description();
        c.idempotency_key = request->idempotency_key();
        return engine::CommandBody{std::move(c)};
      },
      [](const engine::Reply& reply, v1::Auction& out) {
        if (!reply.auctions.empty()) to_proto(reply.auctions.front(), out);
      },
      request);
}

grpc::ServerUnaryReactor* AdminService::CloseAuction(grpc::CallbackServerContext* ctx,
                                                     const v1::CloseAuctionRequest* request,
                                                     v1::CloseAuctionResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/CloseAuction", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::CloseAuction{request->auction_id()}}; },
      [](const engine::Reply& reply, v1::CloseAuctionResponse& out) {
        if (!reply.auctions.empty()) to_proto(reply.auctions.front(), *out.mutable_auction());
        for (const engine::TradeRecord& trade : reply.trades) to_proto(trade, *out.add_trades());
      },
      request);
}

grpc::ServerUnaryReactor* AdminService::CancelAuction(grpc::CallbackServerContext* ctx,
                                                      const v1::CancelAuctionRequest* request,
                                                      v1::Auction* response) {
  return dispatch(
      context_, ctx, "carbon.v1.AdminService/CancelAuction", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::CancelAuction{request->auction_id(), request->reason()}};
      },
      [](const engine::Reply& reply, v1::Auction& out) {
        if (!reply.auctions.empty()) to_proto(reply.auctions.front(), out);
      },
      request);
}

grpc::ServerUnaryReactor* MarketDataService::ListAuctions(grpc::CallbackServerContext* ctx,
                                                          const v1::ListAuctionsRequest* request,
                                                          v1::ListAuctionsResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.MarketDataService/ListAuctions", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::ListAuctions{request->instrument(), request->status()}};
      },
      [](const engine::Reply& reply, v1::ListAuctionsResponse& out) {
        for (const engine::AuctionRecord& auction : reply.auctions) to_proto(auction, *out.add_auctions());
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::SubmitAuctionBid(grpc::CallbackServerContext* ctx,
                                                           const v1::SubmitAuctionBidRequest* request,
                                                           v1::SubmitAuctionBidResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/SubmitAuctionBid", response,
      [&](const engine::Principal&) {
        return engine::CommandBody{engine::SubmitAuctionBid{request->auction_id(), Price{request->price_fen()},
                                                            Qty{request->quantity()}, request->client_order_id()}};
      },
      [](const engine::Reply& reply, v1::SubmitAuctionBidResponse& out) {
        if (reply.orders.empty()) return;
        out.mutable_bid()->set_auction_id(reply.auctions.empty() ? 0 : reply.auctions.front().id);
        to_proto(reply.orders.front(), *out.mutable_bid()->mutable_order());
      },
      request);
}

grpc::ServerUnaryReactor* TradingService::ListAuctionBids(grpc::CallbackServerContext* ctx,
                                                          const v1::ListAuctionBidsRequest* request,
                                                          v1::ListAuctionBidsResponse* response) {
  return dispatch(
      context_, ctx, "carbon.v1.TradingService/ListAuctionBids", response,
      [&](const engine::Principal&) { return engine::CommandBody{engine::ListAuctionBids{request->auction_id()}}; },
      [](const engine::Reply& reply, v1::ListAuctionBidsResponse& out) {
        const auto auction_of = auction_of_bids(reply);
        for (const engine::OrderRecord& bid : reply.orders) {
          v1::AuctionBid& entry = *out.add_bids();
          entry.set_auction_id(auction_of.at(bid.id));
          to_proto(bid, *entry.mutable_order());
        }
      },
      request);
}

}  // namespace carbon::server
