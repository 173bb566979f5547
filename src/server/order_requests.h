#pragma once
/// carbon.v1 order requests as engine commands: the one conversion shared by
/// the unary TradingService calls and the order session stream.

#include "carbon/v1/trading.pb.h"
#include "engine/records.h"

namespace carbon::server {

/// A PlaceOrderRequest as a command. Unspecified type is LIMIT; unspecified
/// time in force is DAY for a limit order and IOC for a market order;
/// unspecified mode is LISTED. Out-of-range enums become invalid values that
/// engine::validate() refuses.
engine::PlaceOrder place_order_from(const v1::PlaceOrderRequest& request);
/// A CancelOrderRequest as a command.
engine::CancelOrder cancel_order_from(const v1::CancelOrderRequest& request);
/// An AmendOrderRequest as a command (0 leaves a field unchanged).
engine::AmendOrder amend_order_from(const v1::AmendOrderRequest& request);

}  // namespace carbon::server
