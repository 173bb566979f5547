#pragma once
/// Single-side auctions (trading mode 3): the engine's records, commands and
/// events (included by records.h; the commands are in auction_commands.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace carbon::engine {

/// How winning bids pay: the numbers are carbon.v1.AuctionPricing's.
enum class AuctionPricing : std::uint8_t { uniform = 1, pay_as_bid = 2 };

/// An auction's lifecycle: the numbers are carbon.v1.AuctionStatus's. Only
/// scheduled, cleared and cancelled are stored; open and bidding_ended follow
/// from the window and the clock (AuctionRecord::status_at).
enum class AuctionStatus : std::uint8_t { scheduled = 1, open = 2, bidding_ended = 3, cleared = 4, cancelled = 5 };

/// One single-side auction. The seller's units are reserved by its offer
/// order (mode auction, side sell); each bid is an order (mode auction, side
/// buy) that reserves its cash like a buy order.
struct AuctionRecord {
  std::uint64_t id = 0;  ///< dense from 1
  std::string instrument;
  AccountId seller_account = 0;         ///< a participant's holding account, the reserve or the auction account
  ParticipantId seller_participant = 0; ///< 0 for a system account
  Qty offered;                          ///< tonnes, a multiple of bid_lot
  Price reserve_price;                  ///< fen per tonne; lower bids are refused
  AuctionPricing pricing = AuctionPricing::uniform;
  Qty bid_lot;
  std::int64_t max_bidder_share_bps = 0;  ///< 0 = no limit
  std::vector<ParticipantType> eligible_types;  ///< empty = the instrument's
  UnixNanos opens_at = 0;
  UnixNanos closes_at = 0;  ///< exclusive
  AuctionStatus status = AuctionStatus::scheduled;  ///< scheduled, cleared or cancelled
  std::string description;
  std::string cancel_reason;
  std::string idempotency_key;
  OrderId offer_order = 0;
  std::vector<OrderId> bids;  ///< every bid ever entered, in entry order (sealed until cleared)
  // Results, set by the clearing (0 before).
  Price clearing_price;       ///< uniform: the price paid; pay-as-bid: the lowest accepted bid
  Qty sold;
  Qty total_bid;              ///< tonnes of the bids still standing at the close
  std::uint32_t bid_count = 0;
  std::uint32_t winning_bidders = 0;
  UnixNanos created_at = 0;
  Sequence created_sequence = 0;
  Sequence sequence = 0;       ///< last public change: created, cleared or cancelled
  Sequence row_sequence = 0;   ///< last change of any kind (a bid too): the row's version

  /// The status as the API shows it at `now`.
  AuctionStatus status_at(UnixNanos now) const {
    if (status != AuctionStatus::scheduled) return status;
    if (now < opens_at) return AuctionStatus::scheduled;
    return now < closes_at ? AuctionStatus::open : AuctionStatus::bidding_ended;
  }
};

/// Schedules an auction and reserves the seller's units (operators).
struct CreateAuction {
  std::string instrument;
  AccountId seller_account = 0;
  Qty offered;
  Price reserve_price;
  int pricing = 0;  ///< AuctionPricing; 0 (unspecified) is refused
  Qty bid_lot;
  std::int64_t max_bidder_share_bps = 0;
  std::vector<ParticipantType> eligible_types;
  UnixNanos opens_at = 0;
  UnixNanos closes_at = 0;
  std::string description;
  std::string idempotency_key;
};
/// Clears an auction whose window has ended (operators).
struct CloseAuction {
  std::uint64_t auction_id = 0;
};
/// Cancels an auction not yet cleared (operators).
struct CancelAuction {
  std::uint64_t auction_id = 0;
  std::string reason;
};
/// Lists auctions (every role).
struct ListAuctions {
  std::string instrument;  ///< empty = all
  int status = 0;          ///< AuctionStatus; 0 = any
};
/// A sealed bid (traders).
struct SubmitAuctionBid {
  std::uint64_t auction_id = 0;
  Price price;
  Qty quantity;
  std::string client_order_id;
};
/// The caller's own bids (traders).
struct ListAuctionBids {
  std::uint64_t auction_id = 0;  ///< 0 = all auctions
};

/// An auction after a change (created, a bid entered or cancelled, cleared, cancelled).
struct AuctionChanged {
  AuctionRecord auction;
};

}  // namespace carbon::engine
