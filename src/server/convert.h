#pragma once
/// Conversions between engine records and carbon.v1 messages, and the one
/// mapping from carbon::Status to grpc::Status.

#include <grpcpp/grpcpp.h>

#include "carbon/v1/admin.pb.h"
#include "carbon/v1/common.pb.h"
#include "carbon/v1/market_data.pb.h"
#include "carbon/v1/trading.pb.h"
#include "common/config.h"
#include "engine/records.h"

namespace carbon::server {

/// The gRPC status for a carbon status (same code, same message).
grpc::Status to_grpc(const Status& status);

void to_proto(const engine::OrderRecord& in, v1::Order& out);
void to_proto(const engine::TradeRecord& in, v1::Trade& out);
void to_proto(const engine::CashRecord& in, v1::CashBalance& out);
void to_proto(const registry::HoldingRecord& in, v1::Holding& out);
void to_proto(const engine::ParticipantRecord& in, v1::Participant& out);
void to_proto(const matching::DepthLevel& in, v1::PriceLevel& out);
/// An instrument's rules (from `config`, if known) and its state.
/// Defined in clearing_services.cpp.
void to_proto(const engine::ReconciliationRecord& in, v1::ReconciliationReport& out);
/// An instrument's state with its rules (`config` nullptr: the state only).
void to_proto(const engine::InstrumentState& in, const InstrumentConfig* config, v1::Instrument& out);
/// The reply's `index`-th instrument with its rules where the reply carries them.
void instrument_to_proto(const engine::Reply& reply, std::size_t index, v1::Instrument& out);
void to_proto(const engine::MarketState& in, v1::MarketStatus& out);
void to_proto(const engine::ParticipantControls& in, v1::ParticipantControls& out);
void to_proto(const engine::DailyBar& in, v1::DailyBar& out);
/// A block offer from the offerer's underlying order (mode BLOCK); `trade` is its trade once accepted.
void to_block_offer(const engine::OrderRecord& in, TradeId trade, v1::BlockOffer& out);

/// The cash and holdings of a balances reply (TradingService.GetBalances, AdminService.GetAccountBalances).
template <typename Response>
void fill_balances(const engine::Reply& reply, Response& out) {
  if (reply.cash) to_proto(*reply.cash, *out.mutable_cash());
  for (const auto& holding : reply.holdings) to_proto(holding, *out.add_holdings());
}

/// A wire enum value as an engine enum; values outside 0..254 become 255 (invalid).
template <typename Enum>
Enum enum_from_wire(int value) {
  return static_cast<Enum>(value >= 0 && value < 255 ? value : 255);
}

}  // namespace carbon::server
