#include "server/order_requests.h"

#include "server/convert.h"

namespace carbon::server {

engine::PlaceOrder place_order_from(const v1::PlaceOrderRequest& request) {
  engine::PlaceOrder order;
  order.instrument = request.instrument();
  order.side = enum_from_wire<Side>(request.side());
  order.type =
      request.type() == v1::ORDER_TYPE_UNSPECIFIED ? OrderType::limit : enum_from_wire<OrderType>(request.type());
  order.time_in_force = request.time_in_force() != v1::TIME_IN_FORCE_UNSPECIFIED
                            ? enum_from_wire<TimeInForce>(request.time_in_force())
                        : order.type == OrderType::market ? TimeInForce::ioc
                                                          : TimeInForce::day;
  order.mode = request.mode() == v1::TRADING_MODE_UNSPECIFIED ? TradingMode::listed
                                                               : enum_from_wire<TradingMode>(request.mode());
  order.price = Price{request.price_fen()};
  order.quantity = Qty{request.quantity()};
  order.client_order_id = request.client_order_id();
  return order;
}

engine::CancelOrder cancel_order_from(const v1::CancelOrderRequest& request) {
  return engine::CancelOrder{request.order_id()};
}

engine::AmendOrder amend_order_from(const v1::AmendOrderRequest& request) {
  return engine::AmendOrder{request.order_id(), Price{request.new_price_fen()}, Qty{request.new_quantity()}};
}

}  // namespace carbon::server
