// Single-side bidding (trading mode 3): one seller offers a quantity with a
// reserve price; sealed bids during a window, each reserving its cash like a
// buy order; the operator clears it after the window by price, then time,
// at a uniform price (the lowest accepted bid) or pay-as-bid, with delivery
// versus payment per winning bid. Auction trades never set the closing price.
#include <algorithm>
#include <cstdio>
#include <set>

#include "common/overloaded.h"
#include "engine/exchange.h"
#include "engine/step.h"
#include "engine/validation.h"
#include "matching/trading_rules.h"

namespace carbon::engine {
namespace {

std::string fen(Price p) { return std::to_string(p.value) + " fen"; }
std::string auction_name(std::uint64_t id) { return "auction " + std::to_string(id); }

/// "2026-11-24 10:00 Asia/Shanghai".
std::string shanghai_time(UnixNanos at) {
  const int minute = matching::shanghai_minute_of_day(at);
  char hhmm[32];
  std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", minute / 60, minute % 60);
  return matching::format_date(matching::shanghai_date(at)) + " " + hhmm + " Asia/Shanghai";
}

const char* type_name(ParticipantType type) {
  switch (type) {
    case ParticipantType::key_emitting_unit: return "key emitting units";
    case ParticipantType::institution: return "institutions";
    case ParticipantType::natural_person: return "natural persons";
  }
  return "?";
}

Status check_text(const std::string& text, const char* field, std::size_t max, bool required) {
  if ((required && text.empty()) || text.size() > max || !is_clean_text(text)) {
    return invalid_argument(std::string(field) + (required ? " is required: 1 to " : " must be at most ") +
                            std::to_string(max) + " bytes of text without control characters");
  }
  return Status::ok();
}

bool same_auction(const AuctionRecord& a, const CreateAuction& c) {
  return a.instrument == c.instrument && a.seller_account == c.seller_account && a.offered == c.offered &&
         a.reserve_price == c.reserve_price && static_cast<int>(a.pricing) == c.pricing && a.bid_lot == c.bid_lot &&
         a.max_bidder_share_bps == c.max_bidder_share_bps && a.eligible_types == c.eligible_types &&
         a.opens_at == c.opens_at && a.closes_at == c.closes_at && a.description == c.description;
}

/// The most one bidder may bid for: offered × share / 10,000, rounded down; nothing when unlimited.
std::optional<Qty> bidder_limit(const AuctionRecord& a) {
  if (a.max_bidder_share_bps == 0) return std::nullopt;
  return Qty{static_cast<std::int64_t>(static_cast<__int128>(a.offered.value) * a.max_bidder_share_bps / 10'000)};
}

/// What a reply shows: the status at `now`, and of the bids only those of `owner` (none for 0).
AuctionRecord view_of(const AuctionRecord& a, UnixNanos now, const std::unordered_map<OrderId, OrderRecord>& orders,
                      ParticipantId owner) {
  AuctionRecord view = a;
  view.status = a.status_at(now);
  view.bids.clear();
  if (owner != 0) {
    for (OrderId id : a.bids) {
      if (orders.at(id).participant == owner) view.bids.push_back(id);
    }
  }
  return view;
}

}  // namespace

Status validate_auction(const CommandBody& body) {
  return std::visit(
      Overloaded{
          [](const CreateAuction& c) -> Status {
            if (Status s = check_text(c.instrument, "instrument", 32, true); !s.is_ok()) return s;
            if (c.seller_account == 0) return invalid_argument("seller_holding_account_id is required");
            if (!c.offered.is_positive()) return invalid_argument("offered_quantity must be positive (whole tonnes)");
            if (!c.reserve_price.is_positive()) return invalid_argument("reserve_price_fen must be positive");
            if (!c.bid_lot.is_positive()) return invalid_argument("bid_lot must be positive (whole tonnes)");
            if (c.pricing != static_cast<int>(AuctionPricing::uniform) &&
                c.pricing != static_cast<int>(AuctionPricing::pay_as_bid)) {
              return invalid_argument("pricing is required: AUCTION_PRICING_UNIFORM or AUCTION_PRICING_PAY_AS_BID");
            }
            if (c.max_bidder_share_bps < 0 || c.max_bidder_share_bps > 10'000) {
              return invalid_argument("max_bidder_share_bps must be 0 (no limit) to 10,000");
            }
            for (ParticipantType type : c.eligible_types) {
              if (type != ParticipantType::key_emitting_unit && type != ParticipantType::institution &&
                  type != ParticipantType::natural_person) {
                return invalid_argument("eligible_participant_types holds an unknown participant type");
              }
            }
            if (c.opens_at >= c.closes_at) {
              return invalid_argument("opens_at_unix_nanos must be before closes_at_unix_nanos");
            }
            if (Status s = check_text(c.description, "description", 500, false); !s.is_ok()) return s;
            return check_text(c.idempotency_key, "idempotency_key", 64, true);
          },
          [](const CloseAuction& c) -> Status {
            return c.auction_id == 0 ? invalid_argument("auction_id is required") : Status::ok();
          },
          [](const CancelAuction& c) -> Status {
            if (c.auction_id == 0) return invalid_argument("auction_id is required");
            return check_text(c.reason, "reason", 500, true);
          },
          [](const ListAuctions& c) -> Status {
            if (Status s = check_text(c.instrument, "instrument", 32, false); !s.is_ok()) return s;
            return c.status < 0 || c.status > 5 ? invalid_argument("unknown auction status") : Status::ok();
          },
          [](const SubmitAuctionBid& c) -> Status {
            if (c.auction_id == 0) return invalid_argument("auction_id is required");
            if (!c.price.is_positive()) return invalid_argument("price_fen must be positive");
            if (!c.quantity.is_positive()) return invalid_argument("quantity must be positive (whole tonnes)");
            if (c.client_order_id.size() > 64 || !is_clean_text(c.client_order_id)) {
              return invalid_argument("client_order_id must be at most 64 characters, no control characters");
            }
            if (!notional(c.price, c.quantity)) return invalid_argument("price_fen x quantity overflows a 64-bit amount of fen");
            return Status::ok();
          },
          [](const auto&) -> Status { return Status::ok(); },
      },
      body);
}

const AuctionRecord* Exchange::auction(std::uint64_t id) const {
  auto found = auctions_.find(id);
  return found == auctions_.end() ? nullptr : &found->second;
}

void Exchange::emit_auction(Step& step, AuctionRecord& auction, bool public_change) {
  auction.row_sequence = step.sequence;
  if (public_change) auction.sequence = step.sequence;
  step.events.push_back(AuctionChanged{auction});
}

// ---- create ----------------------------------------------------------------------

Status Exchange::create_auction(Step& step, const Principal& who, const CreateAuction& c) {
  if (who.role != Role::operator_) return permission_denied("CreateAuction is for operators");
  if (auto key = auction_by_key_.find(c.idempotency_key); key != auction_by_key_.end()) {
    const AuctionRecord& existing = auctions_.at(key->second);
    if (!same_auction(existing, c)) {
      return failed_precondition("idempotency key \"" + c.idempotency_key + "\" was already used for " +
                                 auction_name(existing.id) + " with other parameters");
    }
    step.reply.auctions.push_back(view_of(existing, step.at, orders_, 0));
    step.reply.sequence = existing.created_sequence;
    return Status::ok();
  }
  if (c.closes_at <= step.at) {
    return invalid_argument("closes_at_unix_nanos is in the past: the bidding window must close after now (" +
                            shanghai_time(step.at) + ")");
  }
  auto found = instruments_.find(c.instrument);
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  Instrument& instrument = found->second;
  const InstrumentConfig& config = instrument.config;
  if (!registry_.has_account(c.seller_account)) {
    return not_found("holding account " + std::to_string(c.seller_account) + " does not exist");
  }
  const bool system_seller = c.seller_account < registry::kFirstParticipantAccount;
  if (system_seller && c.seller_account != registry::kReserveAccount && c.seller_account != registry::kAuctionAccount) {
    return failed_precondition("auction seller: units are sold from a participant's holding account, the reserve (" +
                               std::to_string(registry::kReserveAccount) + ") or the auction account (" +
                               std::to_string(registry::kAuctionAccount) + "), not system account " +
                               std::to_string(c.seller_account));
  }
  const ParticipantId seller = system_seller ? 0 : owner_of_holding_account_.at(c.seller_account);
  if (!config.auction_enabled) {
    return failed_precondition("mode not enabled: single-side auctions are not enabled for " + c.instrument);
  }
  if (c.reserve_price.value % config.tick.value != 0) {
    return failed_precondition("tick rule: reserve price " + fen(c.reserve_price) + " is not a multiple of the " +
                               fen(config.tick) + " tick of " + c.instrument);
  }
  if (c.bid_lot.value % config.lot.value != 0) {
    return failed_precondition("lot rule: bid lot " + tonnes(c.bid_lot) + " is not a multiple of the " +
                               tonnes(config.lot) + " lot of " + c.instrument);
  }
  if (c.offered.value % c.bid_lot.value != 0) {
    return failed_precondition("bid lot rule: offered quantity " + tonnes(c.offered) +
                               " is not a multiple of the bid lot " + tonnes(c.bid_lot));
  }
  if (const Qty frozen = registry_.holding(c.seller_account, c.instrument).frozen; frozen.is_positive()) {
    return failed_precondition("freeze: seller account " + std::to_string(c.seller_account) + " has " +
                               tonnes(frozen) + " of " + c.instrument +
                               " frozen; an account under a freeze does not sell by auction");
  }
  if (Status s = registry_.reserve_for_sell(c.seller_account, c.instrument, c.offered); !s.is_ok()) return s;
  touch_holding(step, c.seller_account, c.instrument);

  OrderRecord offer;
  offer.id = ++last_order_id_;
  offer.participant = seller;
  offer.instrument = c.instrument;
  offer.side = Side::sell;
  offer.mode = TradingMode::auction;
  offer.price = c.reserve_price;
  offer.quantity = c.offered;
  offer.status = OrderStatus::open;
  offer.sequence = offer.updated_sequence = offer.priority = step.sequence;
  offer.entered_at = step.at;

  AuctionRecord auction;
  auction.id = auctions_.empty() ? 1 : auctions_.rbegin()->first + 1;
  auction.instrument = c.instrument;
  auction.seller_account = c.seller_account;
  auction.seller_participant = seller;
  auction.offered = c.offered;
  auction.reserve_price = c.reserve_price;
  auction.pricing = static_cast<AuctionPricing>(c.pricing);
  auction.bid_lot = c.bid_lot;
  auction.max_bidder_share_bps = c.max_bidder_share_bps;
  auction.eligible_types = c.eligible_types;
  auction.opens_at = c.opens_at;
  auction.closes_at = c.closes_at;
  auction.description = c.description;
  auction.idempotency_key = c.idempotency_key;
  auction.offer_order = offer.id;
  auction.created_at = step.at;
  auction.created_sequence = step.sequence;

  index_new_order(offer);
  auction_of_order_[offer.id] = auction.id;
  step.events.push_back(OrderChanged{offer});
  step.reply.orders.push_back(offer);
  orders_.emplace(offer.id, std::move(offer));
  auction_by_key_[auction.idempotency_key] = auction.id;
  AuctionRecord& stored = auctions_.emplace(auction.id, std::move(auction)).first->second;
  emit_auction(step, stored, true);
  step.reply.auctions.push_back(view_of(stored, step.at, orders_, 0));
  return Status::ok();
}

// ---- bids ------------------------------------------------------------------------

Status Exchange::submit_auction_bid(Step& step, const Principal& who, const SubmitAuctionBid& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("SubmitAuctionBid is for traders of a participant");
  auto found = auctions_.find(c.auction_id);
  if (found == auctions_.end()) return not_found(auction_name(c.auction_id) + " does not exist");
  AuctionRecord& auction = found->second;
  if (!c.client_order_id.empty()) {
    if (auto used = order_by_client_id_.find(ClientIdView{participant->id, c.client_order_id});
        used != order_by_client_id_.end()) {
      const OrderRecord& existing = orders_.at(used->second);
      auto of = auction_of_order_.find(existing.id);
      if (of == auction_of_order_.end() || of->second != auction.id || existing.price != c.price ||
          existing.quantity != c.quantity) {
        return failed_precondition("client_order_id \"" + c.client_order_id +
                                   "\" was already used for a different order; a resubmission must repeat it exactly");
      }
      step.reply.orders.push_back(existing);
      step.reply.auctions.push_back(view_of(auction, step.at, orders_, participant->id));
      step.reply.sequence = existing.sequence;
      return Status::ok();
    }
    if (Status s = check_client_id_unused_earlier(participant->id, c.client_order_id); !s.is_ok()) return s;
  }
  switch (auction.status_at(step.at)) {
    case AuctionStatus::cleared:
    case AuctionStatus::cancelled:
      return failed_precondition("auction window: " + auction_name(auction.id) + " is " +
                                 (auction.status == AuctionStatus::cleared ? "cleared" : "cancelled") +
                                 "; it takes no more bids");
    case AuctionStatus::scheduled:
      return failed_precondition("auction window: bidding on " + auction_name(auction.id) + " opens at " +
                                 shanghai_time(auction.opens_at));
    case AuctionStatus::bidding_ended:
      return failed_precondition("auction window: bidding on " + auction_name(auction.id) + " closed at " +
                                 shanghai_time(auction.closes_at));
    case AuctionStatus::open: break;
  }
  Instrument& instrument = instruments_.at(auction.instrument);
  if (market_.halted) return failed_precondition("market halted: " + market_.halt_reason);
  if (instrument.state.halted) {
    return failed_precondition("instrument halted: " + auction.instrument + ": " + instrument.state.halt_reason);
  }
  if (auto controls = controls_.find(participant->id); controls != controls_.end() && controls->second.suspended) {
    return failed_precondition("participant suspended: " + participant->code + ": " +
                               controls->second.suspension_reason);
  }
  if (const auto today = matching::shanghai_date(step.at); today > trading_day_) {
    return failed_precondition("end of day: the trading day " + market_.trading_date +
                               " has not been closed; an operator runs RunEndOfDay before " +
                               matching::format_date(today) + " can bid");
  }
  if (participant->holding_account == auction.seller_account) {
    return failed_precondition("auction seller: " + participant->code + " sells in " + auction_name(auction.id) +
                               " and cannot bid in it");
  }
  if (Status s = check_eligible(instrument, *participant); !s.is_ok()) return s;
  if (!auction.eligible_types.empty() &&
      std::find(auction.eligible_types.begin(), auction.eligible_types.end(), participant->type) ==
          auction.eligible_types.end()) {
    return failed_precondition("eligibility: " + auction_name(auction.id) + " does not admit " +
                               type_name(participant->type) + " as bidders");
  }
  if (c.price.value % instrument.config.tick.value != 0) {
    return failed_precondition("tick rule: price_fen " + std::to_string(c.price.value) + " is not a multiple of the " +
                               fen(instrument.config.tick) + " tick of " + auction.instrument);
  }
  if (c.price < auction.reserve_price) {
    return failed_precondition("reserve price: a bid of " + fen(c.price) + " is below the reserve price of " +
                               fen(auction.reserve_price) + " of " + auction_name(auction.id));
  }
  if (c.quantity.value % auction.bid_lot.value != 0) {
    return failed_precondition("bid lot rule: quantity " + tonnes(c.quantity) + " is not a multiple of the bid lot " +
                               tonnes(auction.bid_lot) + " of " + auction_name(auction.id));
  }
  if (const auto limit = bidder_limit(auction)) {
    Qty mine = c.quantity;
    for (OrderId id : auction.bids) {
      const OrderRecord& bid = orders_.at(id);
      if (bid.participant == participant->id && is_open(bid.status)) mine += bid.remaining();
    }
    if (mine > *limit) {
      return failed_precondition("per-bidder limit: " + participant->code + "'s bids in " + auction_name(auction.id) +
                                 " would total " + tonnes(mine) + ", above the limit of " + tonnes(*limit) + " (" +
                                 std::to_string(auction.max_bidder_share_bps) + " bps of the " +
                                 tonnes(auction.offered) + " offered)");
    }
  }
  if (Status s = check_position_limit(instrument, *participant, c.quantity); !s.is_ok()) return s;

  OrderRecord bid;
  bid.client_order_id = c.client_order_id;
  bid.participant = participant->id;
  bid.instrument = auction.instrument;
  bid.side = Side::buy;
  bid.mode = TradingMode::auction;
  bid.price = c.price;
  bid.quantity = c.quantity;
  if (Status s = reserve(step, *participant, bid, c.quantity); !s.is_ok()) return s;
  bid.id = ++last_order_id_;
  bid.status = OrderStatus::open;
  bid.sequence = bid.updated_sequence = bid.priority = step.sequence;
  bid.entered_at = step.at;
  count_open_buy(bid, bid.quantity);
  index_new_order(bid);
  auction_of_order_[bid.id] = auction.id;
  auction.bids.push_back(bid.id);
  step.events.push_back(OrderChanged{bid});
  step.reply.orders.push_back(bid);
  orders_.emplace(bid.id, std::move(bid));
  emit_auction(step, auction, false);
  step.reply.auctions.push_back(view_of(auction, step.at, orders_, participant->id));
  return Status::ok();
}

void Exchange::finish_auction_bid(Step& step, OrderRecord& bid, OrderStatus terminal) {
  count_open_buy(bid, -bid.remaining());
  finish_order(step, bid, terminal);
}

Status Exchange::cancel_auction_order(Step& step, const ParticipantRecord& participant, OrderRecord& order) {
  const AuctionRecord& auction = auctions_.at(auction_of_order_.at(order.id));
  if (order.id == auction.offer_order) {
    return failed_precondition("auction offer: order " + std::to_string(order.id) + " is the offer of " +
                               auction_name(auction.id) + "; an operator cancels it with CancelAuction");
  }
  if (step.at >= auction.closes_at) {
    return failed_precondition("auction window: bidding on " + auction_name(auction.id) + " closed at " +
                               shanghai_time(auction.closes_at) + "; its bids stand until it is cleared");
  }
  (void)participant;
  finish_auction_bid(step, order, OrderStatus::cancelled);
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(order);
  return Status::ok();
}

// ---- clearing ----------------------------------------------------------------------

void Exchange::fill_auction_bid(Step& step, AuctionRecord& auction, OrderRecord& offer, OrderRecord& bid, Price price,
                                Qty quantity) {
  const ParticipantRecord& buyer = participants_.at(bid.participant);
  const AccountId seller_cash = auction.seller_participant != 0
                                    ? participants_.at(auction.seller_participant).cash_account
                                    : settlement::kAuctionProceedsCashAccount;
  TradeRecord trade;
  trade.id = ++last_trade_id_;
  trade.instrument = auction.instrument;
  trade.mode = TradingMode::auction;
  trade.price = price;
  trade.quantity = quantity;
  trade.buy_order = bid.id;
  trade.sell_order = offer.id;
  trade.buyer = buyer.id;
  trade.seller = auction.seller_participant;
  trade.aggressor = Side::buy;  // no aggressor in an auction: the API shows SIDE_UNSPECIFIED for mode auction
  trade.sequence = step.sequence;
  trade.executed_at = step.at;

  // Delivery versus payment, as for a listed fill: the bid reserved quantity ×
  // (its price + per-tonne fee rounded up); what this trade does not take of
  // the filled tonnes' share (a uniform price below the bid, the fee's
  // rounding) goes back to the bidder now.
  const Cash value = *notional(price, quantity);
  const Cash share = reserved_share(bid, quantity);
  // The instrument's own auction fees (per-instrument rules; [fees] auction_* for config instruments).
  const FeeSchedule& fees = instruments_.at(auction.instrument).config.fees;
  trade.buyer_fee = min(settlement::trade_fee(value, fees.buy_bps(TradingMode::auction)), share - value);
  trade.seller_fee = settlement::trade_fee(value, fees.sell_bps(TradingMode::auction));
  clearing_.pay_with_fees(buyer.cash_account, bid.reservation, seller_cash, value, trade.buyer_fee, trade.seller_fee);
  if (const Cash excess = share - value - trade.buyer_fee; excess.is_positive()) {
    clearing_.release(buyer.cash_account, bid.reservation, excess);
  }
  if (trade.buyer_fee.is_positive() || trade.seller_fee.is_positive()) touch_cash(step, settlement::kFeeCashAccount);
  registry_.deliver(trade.instrument, auction.seller_account, buyer.holding_account, quantity, step.sequence, step.at,
                    "auction:" + std::to_string(auction.id) + ":trade:" + std::to_string(trade.id));

  bid.filled += quantity;
  bid.status = bid.remaining().is_zero() ? OrderStatus::filled : OrderStatus::partially_filled;
  bid.updated_sequence = step.sequence;
  count_open_buy(bid, -quantity);
  offer.filled += quantity;
  offer.status = offer.remaining().is_zero() ? OrderStatus::filled : OrderStatus::partially_filled;
  offer.updated_sequence = step.sequence;
  instruments_.at(trade.instrument).day(TradingMode::auction).add(trade.price, trade.quantity);

  touch_cash(step, buyer.cash_account);
  touch_cash(step, seller_cash);
  touch_holding(step, auction.seller_account, trade.instrument);
  touch_holding(step, buyer.holding_account, trade.instrument);
  step.events.push_back(TradeExecuted{trade});
  // Each order as of this fill, after its trade, as a match reports its resting order: an order session
  // reports the bidder's and the seller's FILL from these (server/execution_reports.cpp).
  step.events.push_back(OrderChanged{bid});
  step.events.push_back(OrderChanged{offer});
  step.reply.trades.push_back(trade);
  record_trade(std::move(trade));
}

Status Exchange::close_auction(Step& step, const Principal& who, const CloseAuction& c) {
  if (who.role != Role::operator_) return permission_denied("CloseAuction is for operators");
  auto found = auctions_.find(c.auction_id);
  if (found == auctions_.end()) return not_found(auction_name(c.auction_id) + " does not exist");
  AuctionRecord& auction = found->second;
  if (auction.status == AuctionStatus::cleared) {
    // Cleared before: its result again, nothing changes.
    step.reply.auctions.push_back(view_of(auction, step.at, orders_, 0));
    std::vector<TradeRecord> offer_trades;
    append_trades_of(auction.offer_order, offer_trades);
    for (TradeRecord& trade : offer_trades) {
      if (trade.sell_order == auction.offer_order) step.reply.trades.push_back(std::move(trade));
    }
    step.reply.sequence = auction.sequence;
    return Status::ok();
  }
  if (auction.status == AuctionStatus::cancelled) {
    return failed_precondition(auction_name(auction.id) + " was cancelled (" + auction.cancel_reason +
                               "); there is nothing to clear");
  }
  if (step.at < auction.closes_at) {
    return failed_precondition("auction window: bidding on " + auction_name(auction.id) + " ends at " +
                               shanghai_time(auction.closes_at) + "; it is cleared after its window");
  }
  // Clearing is delivery versus payment: not while trading is halted, nor before a day before today is closed.
  if (market_.halted) return failed_precondition("market halted: " + market_.halt_reason);
  if (const Instrument& instrument = instruments_.at(auction.instrument); instrument.state.halted) {
    return failed_precondition("instrument halted: " + auction.instrument + ": " + instrument.state.halt_reason);
  }
  if (const auto today = matching::shanghai_date(step.at); today > trading_day_) {
    return failed_precondition("end of day: the trading day " + market_.trading_date +
                               " has not been closed; an operator runs RunEndOfDay before " +
                               matching::format_date(today) + " can clear " + auction_name(auction.id));
  }

  // Rank the standing bids by price, highest first, then by entry time.
  std::vector<OrderRecord*> standing;
  for (OrderId id : auction.bids) {
    OrderRecord& bid = orders_.at(id);
    if (is_open(bid.status)) standing.push_back(&bid);
  }
  std::stable_sort(standing.begin(), standing.end(), [](const OrderRecord* a, const OrderRecord* b) {
    return a->price != b->price ? a->price > b->price : a->priority < b->priority;
  });
  Qty left = auction.offered;
  std::vector<std::pair<OrderRecord*, Qty>> winners;
  for (OrderRecord* bid : standing) {
    auction.total_bid += bid->remaining();
    if (left.is_zero()) continue;
    const Qty take = min(bid->remaining(), left);
    winners.emplace_back(bid, take);
    left -= take;
  }
  auction.bid_count = static_cast<std::uint32_t>(standing.size());
  auction.clearing_price = winners.empty() ? Price{0} : winners.back().first->price;
  OrderRecord& offer = orders_.at(auction.offer_order);
  std::set<ParticipantId> winning;
  for (const auto& [bid, take] : winners) {
    const Price price = auction.pricing == AuctionPricing::uniform ? auction.clearing_price : bid->price;
    fill_auction_bid(step, auction, offer, *bid, price, take);
    winning.insert(bid->participant);
  }
  for (OrderRecord* bid : standing) {
    if (is_open(bid->status)) {
      finish_auction_bid(step, *bid, OrderStatus::cancelled);  // not reached, or the marginal bid's rest
    }
    step.events.push_back(OrderChanged{*bid});
  }
  if (const Qty unsold = offer.remaining(); unsold.is_positive()) {
    registry_.release_sell_reservation(auction.seller_account, auction.instrument, unsold);
    touch_holding(step, auction.seller_account, auction.instrument);
  }
  offer.status = offer.remaining().is_zero() ? OrderStatus::filled : OrderStatus::cancelled;
  offer.updated_sequence = step.sequence;
  step.events.push_back(OrderChanged{offer});
  auction.sold = auction.offered - left;
  auction.winning_bidders = static_cast<std::uint32_t>(winning.size());
  auction.status = AuctionStatus::cleared;
  emit_auction(step, auction, true);
  step.reply.auctions.push_back(view_of(auction, step.at, orders_, 0));
  return Status::ok();
}

Status Exchange::cancel_auction(Step& step, const Principal& who, const CancelAuction& c) {
  if (who.role != Role::operator_) return permission_denied("CancelAuction is for operators");
  auto found = auctions_.find(c.auction_id);
  if (found == auctions_.end()) return not_found(auction_name(c.auction_id) + " does not exist");
  AuctionRecord& auction = found->second;
  if (auction.status == AuctionStatus::cancelled) {
    // Cancelled before (a retry whose first answer was lost): the auction again, nothing changes.
    step.reply.auctions.push_back(view_of(auction, step.at, orders_, 0));
    step.reply.sequence = auction.sequence;
    return Status::ok();
  }
  if (auction.status != AuctionStatus::scheduled) {
    return failed_precondition(auction_name(auction.id) +
                               " is already cleared; only an auction not yet cleared can be cancelled");
  }
  for (OrderId id : auction.bids) {
    OrderRecord& bid = orders_.at(id);
    if (!is_open(bid.status)) continue;
    finish_auction_bid(step, bid, OrderStatus::cancelled);
    step.events.push_back(OrderChanged{bid});
  }
  OrderRecord& offer = orders_.at(auction.offer_order);
  registry_.release_sell_reservation(auction.seller_account, auction.instrument, offer.remaining());
  touch_holding(step, auction.seller_account, auction.instrument);
  offer.status = OrderStatus::cancelled;
  offer.updated_sequence = step.sequence;
  step.events.push_back(OrderChanged{offer});
  auction.status = AuctionStatus::cancelled;
  auction.cancel_reason = c.reason;
  emit_auction(step, auction, true);
  step.reply.auctions.push_back(view_of(auction, step.at, orders_, 0));
  return Status::ok();
}

// ---- queries and recovery ------------------------------------------------------------

Status Exchange::auction_query(Reply& reply, const Principal& who, const CommandBody& body, UnixNanos now) const {
  return std::visit(
      Overloaded{
          [&](const ListAuctions& q) -> Status {
            if (!q.instrument.empty() && !instruments_.contains(q.instrument)) {
              return not_found("unknown instrument \"" + q.instrument + "\"");
            }
            for (auto it = auctions_.rbegin(); it != auctions_.rend(); ++it) {
              const AuctionRecord& auction = it->second;
              if (!q.instrument.empty() && auction.instrument != q.instrument) continue;
              if (q.status != 0 && static_cast<int>(auction.status_at(now)) != q.status) continue;
              reply.auctions.push_back(view_of(auction, now, orders_, 0));
            }
            return Status::ok();
          },
          [&](const ListAuctionBids& q) -> Status {
            const ParticipantRecord* own = trader(who);
            if (own == nullptr) return permission_denied("ListAuctionBids is for traders of a participant");
            if (q.auction_id != 0 && !auctions_.contains(q.auction_id)) {
              return not_found(auction_name(q.auction_id) + " does not exist");
            }
            for (auto it = auctions_.rbegin(); it != auctions_.rend(); ++it) {
              if (q.auction_id != 0 && it->first != q.auction_id) continue;
              AuctionRecord view = view_of(it->second, now, orders_, own->id);
              if (view.bids.empty()) continue;
              for (OrderId id : view.bids) reply.orders.push_back(orders_.at(id));
              reply.auctions.push_back(std::move(view));
            }
            return Status::ok();
          },
          [&](const auto&) -> Status { return Status{ErrorCode::internal, "command routed as an auction query"}; },
      },
      body);
}

void Exchange::restore_auctions(const RecoveredState& state) {
  for (const AuctionRecord& auction : state.auctions) {
    auctions_[auction.id] = auction;
    auction_by_key_[auction.idempotency_key] = auction.id;
    auction_of_order_[auction.offer_order] = auction.id;
    for (OrderId bid : auction.bids) auction_of_order_[bid] = auction.id;
  }
}

}  // namespace carbon::engine
