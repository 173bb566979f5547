#include "server/convert.h"

#include <cstdlib>

namespace carbon::server {

grpc::Status to_grpc(const Status& status) {
  switch (status.code()) {
    case ErrorCode::ok: return grpc::Status::OK;
    case ErrorCode::invalid_argument: return {grpc::StatusCode::INVALID_ARGUMENT, status.message()};
    case ErrorCode::failed_precondition: return {grpc::StatusCode::FAILED_PRECONDITION, status.message()};
    case ErrorCode::not_found: return {grpc::StatusCode::NOT_FOUND, status.message()};
    case ErrorCode::already_exists: return {grpc::StatusCode::ALREADY_EXISTS, status.message()};
    case ErrorCode::permission_denied: return {grpc::StatusCode::PERMISSION_DENIED, status.message()};
    case ErrorCode::unauthenticated: return {grpc::StatusCode::UNAUTHENTICATED, status.message()};
    case ErrorCode::resource_exhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, status.message()};
    case ErrorCode::unavailable: return {grpc::StatusCode::UNAVAILABLE, status.message()};
    case ErrorCode::unimplemented: return {grpc::StatusCode::UNIMPLEMENTED, status.message()};
    case ErrorCode::internal: return {grpc::StatusCode::INTERNAL, status.message()};
  }
  return {grpc::StatusCode::UNKNOWN, status.message()};
}

void to_proto(const engine::OrderRecord& in, v1::Order& out) {
  out.set_order_id(in.id);
  out.set_client_order_id(in.client_order_id);
  out.set_participant_id(in.participant);
  out.set_instrument(in.instrument);
  out.set_side(static_cast<v1::Side>(in.side));
  out.set_type(static_cast<v1::OrderType>(in.type));
  out.set_time_in_force(static_cast<v1::TimeInForce>(in.time_in_force));
  out.set_mode(static_cast<v1::TradingMode>(in.mode));
  out.set_price_fen(in.price.value);
  out.set_quantity(in.quantity.value);
  out.set_filled_quantity(in.filled.value);
  out.set_remaining_quantity(is_terminal(in.status) ? 0 : in.remaining().value);
  out.set_status(static_cast<v1::OrderStatus>(in.status));
  out.set_sequence(in.updated_sequence);
  out.set_entered_at_unix_nanos(in.entered_at);
}

void to_proto(const engine::TradeRecord& in, v1::Trade& out) {
  out.set_trade_id(in.id);
  out.set_instrument(in.instrument);
  out.set_mode(static_cast<v1::TradingMode>(in.mode));
  out.set_price_fen(in.price.value);
  out.set_quantity(in.quantity.value);
  out.set_buy_order_id(in.buy_order);
  out.set_sell_order_id(in.sell_order);
  out.set_buyer_participant_id(in.buyer);
  out.set_seller_participant_id(in.seller);
  out.set_aggressor_side(in.mode == TradingMode::auction ? v1::SIDE_UNSPECIFIED : static_cast<v1::Side>(in.aggressor));
  out.set_sequence(in.sequence);
  out.set_executed_at_unix_nanos(in.executed_at);
  out.set_buyer_fee_fen(in.buyer_fee.value);
  out.set_seller_fee_fen(in.seller_fee.value);
}

void to_proto(const engine::CashRecord& in, v1::CashBalance& out) {
  out.set_cash_account_id(in.account);
  out.set_available_fen(in.balance.available.value);
  out.set_reserved_fen(in.balance.reserved.value);
  out.set_unsettled_fen(in.balance.unsettled.value);
}

void to_proto(const registry::HoldingRecord& in, v1::Holding& out) {
  out.set_holding_account_id(in.account);
  out.set_instrument(in.instrument);
  out.set_available(in.holding.available.value);
  out.set_reserved(in.holding.reserved.value);
  out.set_pending(in.holding.pending.value);
  out.set_frozen(in.holding.frozen.value);
  out.set_pledged(in.holding.pledged.value);
}

void to_proto(const engine::ParticipantRecord& in, v1::Participant& out) {
  out.set_participant_id(in.id);
  out.set_code(in.code);
  out.set_name(in.name);
  out.set_type(static_cast<v1::ParticipantType>(in.type));
  out.set_holding_account_id(in.holding_account);
  out.set_cash_account_id(in.cash_account);
}

void to_proto(const matching::DepthLevel& in, v1::PriceLevel& out) {
  out.set_price_fen(in.price.value);
  out.set_quantity(in.quantity.value);
  out.set_order_count(in.order_count);
}

void instrument_to_proto(const engine::Reply& reply, std::size_t index, v1::Instrument& out) {
  to_proto(reply.instruments.at(index),
           index < reply.instrument_rules.size() ? &reply.instrument_rules[index] : nullptr, out);
}

namespace {

void sessions_to_proto(const std::vector<SessionMinutes>& sessions, v1::ModeRules& out) {
  for (const SessionMinutes& w : sessions) {
    v1::TradingSession& session = *out.add_sessions();
    session.set_start_minute(static_cast<std::uint32_t>(w.start));
    session.set_end_minute(static_cast<std::uint32_t>(w.end));
  }
}

}  // namespace

void to_proto(const engine::InstrumentState& in, const InstrumentConfig* config, v1::Instrument& out) {
  const FeeSchedule& fees = config == nullptr ? FeeSchedule{} : config->fees;
  out.set_code(in.instrument);
  out.set_reference_price_fen(in.reference.value);
  out.set_halted(in.halted);
  out.set_halt_reason(in.halt_reason);
  out.set_sequence(in.updated_sequence);
  if (config == nullptr) return;
  out.set_market(static_cast<v1::Market>(config->market));
  out.set_tick_fen(config->tick.value);
  out.set_lot(config->lot.value);
  out.set_gtc_enabled(config->gtc_enabled);
  out.set_position_limit(config->position_limit.value);
  if (config->vintage_year != 0) {
    out.set_vintage_year(config->vintage_year);
  } else if (config->code.rfind("CEA", 0) == 0 && config->code.size() == 7) {
    out.set_vintage_year(std::atoi(config->code.c_str() + 3));
  }
  v1::ModeRules& listed = *out.add_mode_rules();
  listed.set_mode(v1::TRADING_MODE_LISTED);
  listed.set_enabled(config->listed_enabled);
  listed.set_min_order_quantity(std::max(config->lot.value, config->listed_min_quantity.value));
  listed.set_max_order_quantity(config->listed_max_quantity.value);
  listed.set_price_band_bps(config->listed_band_bps);
  listed.set_buy_fee_bps(fees.listed_buy_bps);
  listed.set_sell_fee_bps(fees.listed_sell_bps);
  sessions_to_proto(config->listed_sessions, listed);
  v1::ModeRules& block = *out.add_mode_rules();
  block.set_mode(v1::TRADING_MODE_BLOCK);
  block.set_enabled(config->block_enabled);
  block.set_min_order_quantity(config->block_min_quantity.value);
  block.set_max_order_quantity(config->block_max_quantity.value);
  block.set_price_band_bps(config->block_band_bps);
  block.set_buy_fee_bps(fees.block_buy_bps);
  block.set_sell_fee_bps(fees.block_sell_bps);
  sessions_to_proto(config->block_sessions, block);
  v1::ModeRules& auction = *out.add_mode_rules();
  auction.set_mode(v1::TRADING_MODE_AUCTION);
  auction.set_enabled(config->auction_enabled);
  auction.set_min_order_quantity(config->lot.value);
  auction.set_buy_fee_bps(fees.auction_buy_bps);
  auction.set_sell_fee_bps(fees.auction_sell_bps);
  if (!config->eligible.empty()) {
    for (ParticipantType type : config->eligible) {
      out.add_eligible_participant_types(static_cast<v1::ParticipantType>(type));
    }
    return;
  }
  out.add_eligible_participant_types(v1::PARTICIPANT_TYPE_KEY_EMITTING_UNIT);
  out.add_eligible_participant_types(v1::PARTICIPANT_TYPE_INSTITUTION);
  if (config->market == Market::voluntary) out.add_eligible_participant_types(v1::PARTICIPANT_TYPE_NATURAL_PERSON);
}

void to_proto(const engine::MarketState& in, v1::MarketStatus& out) {
  out.set_trading_date(in.trading_date);
  out.set_market_halted(in.halted);
  out.set_market_halt_reason(in.halt_reason);
  out.set_settlement_hold(in.settlement_hold);
  out.set_sequence(in.updated_sequence);
}

void to_proto(const engine::ParticipantControls& in, v1::ParticipantControls& out) {
  out.set_participant_id(in.participant);
  out.set_self_trade_prevention(static_cast<v1::SelfTradePrevention>(in.self_trade));
  out.set_trading_suspended(in.suspended);
  out.set_reason(in.suspension_reason);
  out.set_sequence(in.updated_sequence);
}

void to_proto(const engine::DailyBar& in, v1::DailyBar& out) {
  out.set_instrument(in.instrument);
  out.set_mode(static_cast<v1::TradingMode>(in.mode));
  out.set_trading_date(in.trading_date);
  out.set_open_price_fen(in.open.value);
  out.set_high_price_fen(in.high.value);
  out.set_low_price_fen(in.low.value);
  out.set_close_price_fen(in.close.value);
  out.set_volume(in.volume.value);
  out.set_turnover_fen(in.turnover.value);
  out.set_trade_count(static_cast<std::uint32_t>(in.trade_count));
  out.set_day_closed(true);
}

void to_block_offer(const engine::OrderRecord& in, TradeId trade, v1::BlockOffer& out) {
  out.set_offer_id(in.id);
  out.set_instrument(in.instrument);
  out.set_side(static_cast<v1::Side>(in.side));
  out.set_price_fen(in.price.value);
  out.set_quantity(in.quantity.value);
  out.set_offerer_participant_id(in.participant);
  out.set_counterparty_participant_id(in.counterparty);
  switch (in.status) {
    case OrderStatus::open:
    case OrderStatus::partially_filled: out.set_status(v1::BLOCK_OFFER_STATUS_OPEN); break;
    case OrderStatus::filled: out.set_status(v1::BLOCK_OFFER_STATUS_ACCEPTED); break;
    case OrderStatus::expired: out.set_status(v1::BLOCK_OFFER_STATUS_EXPIRED); break;
    default: out.set_status(v1::BLOCK_OFFER_STATUS_CANCELLED); break;
  }
  out.set_client_order_id(in.client_order_id);
  out.set_trade_id(trade);
  out.set_offered_at_unix_nanos(in.entered_at);
  out.set_sequence(in.updated_sequence);
}

}  // namespace carbon::server
