#include "server/convert.h"

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
  out.set_aggressor_side(static_cast<v1::Side>(in.aggressor));
  out.set_sequence(in.sequence);
  out.set_executed_at_unix_nanos(in.executed_at);
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

}  // namespace carbon::server
