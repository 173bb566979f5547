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
void to_proto(const engine::InstrumentState& in, const InstrumentConfig* config, const FeeSchedule& fees,
              v1::Instrument& out);
void to_proto(const engine::MarketState& in, v1::MarketStatus& out);
void to_proto(const engine::ParticipantControls& in, v1::ParticipantControls& out);
void to_proto(const engine::DailyBar& in, v1::DailyBar& out);
/// A block offer from the offerer's underlying order (mode BLOCK); `trade` is its trade once accepted.
void to_block_offer(const engine::OrderRecord& in, TradeId trade, v1::BlockOffer& out);

/// A wire enum value as an engine enum; values outside 0..254 become 255 (invalid).
template <typename Enum>
Enum enum_from_wire(int value) {
  return static_cast<Enum>(value >= 0 && value < 255 ? value : 255);
}

}  // namespace carbon::server
