#include "server/execution_reports.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <variant>

#include "server/convert.h"

namespace carbon::server {
namespace {

v1::ExecutionReport& add(google::protobuf::RepeatedPtrField<v1::ExecutionReport>& out, v1::ExecutionType type,
                         std::uint32_t index, Sequence sequence) {
  v1::ExecutionReport& report = *out.Add();
  report.set_type(type);
  report.set_command_index(index);
  report.set_sequence(sequence);
  return report;
}

/// The order as it stood after `filled` tonnes of it had traded.
engine::OrderRecord after_fill(engine::OrderRecord order, Qty filled) {
  order.filled = filled;
  order.status = order.filled == order.quantity ? OrderStatus::filled : OrderStatus::partially_filled;
  return order;
}

/// The order's state before `trades` (its fills in this step) happened.
engine::OrderRecord before_fills(engine::OrderRecord order, const std::vector<engine::TradeRecord>& trades) {
  for (const auto& trade : trades) order.filled -= trade.quantity;
  order.status = order.filled.is_zero() ? OrderStatus::open : OrderStatus::partially_filled;
  return order;
}

/// FILL reports for `trades` starting from `order` (state before them), then
/// CANCELLED if `final_state` ended cancelled.
void append_fills(const engine::OrderRecord& before, const engine::OrderRecord& final_state,
                  const std::vector<engine::TradeRecord>& trades, std::uint32_t index, Sequence sequence,
                  google::protobuf::RepeatedPtrField<v1::ExecutionReport>& out) {
  Qty filled = before.filled;
  for (const auto& trade : trades) {
    filled += trade.quantity;
    v1::ExecutionReport& report = add(out, v1::EXECUTION_TYPE_FILL, index, sequence);
    to_proto(after_fill(final_state, filled), *report.mutable_order());
    to_proto(trade, *report.mutable_trade());
  }
  if (final_state.status == OrderStatus::cancelled) {
    to_proto(final_state, *add(out, v1::EXECUTION_TYPE_CANCELLED, index, sequence).mutable_order());
  }
}

/// The order a refused command names, as far as the command tells.
engine::OrderRecord as_requested(const engine::CommandBody& command, ParticipantId issuer) {
  engine::OrderRecord order;
  order.participant = issuer;
  if (const auto* place = std::get_if<engine::PlaceOrder>(&command)) {
    order.client_order_id = place->client_order_id;
    order.instrument = place->instrument;
    order.side = place->side;
    order.type = place->type;
    order.time_in_force = place->time_in_force;
    order.mode = place->mode;
    order.price = place->price;
    order.quantity = place->quantity;
    order.status = OrderStatus::rejected;
  } else if (const auto* cancel = std::get_if<engine::CancelOrder>(&command)) {
    order.id = cancel->order_id;
  } else if (const auto* amend = std::get_if<engine::AmendOrder>(&command)) {
    order.id = amend->order_id;
    order.price = amend->new_price;
    order.quantity = amend->new_quantity;
  }
  return order;
}

v1::ExecutionType refusal_type(const engine::CommandBody& command) {
  if (std::holds_alternative<engine::CancelOrder>(command)) return v1::EXECUTION_TYPE_CANCEL_REJECTED;
  if (std::holds_alternative<engine::AmendOrder>(command)) return v1::EXECUTION_TYPE_AMEND_REJECTED;
  return v1::EXECUTION_TYPE_REJECTED;
}

void append_refusal_at(const engine::CommandBody& command, ParticipantId issuer, const Status& status,
                       std::uint32_t index, Sequence sequence,
                       google::protobuf::RepeatedPtrField<v1::ExecutionReport>& out) {
  v1::ExecutionReport& report = add(out, refusal_type(command), index, sequence);
  engine::OrderRecord order = as_requested(command, issuer);
  to_proto(order, *report.mutable_order());
  // UNAVAILABLE may be an outcome not known yet (common.proto): no final order status.
  if (order.status != OrderStatus::rejected || status.code() == ErrorCode::unavailable) {
    report.mutable_order()->set_status(v1::ORDER_STATUS_UNSPECIFIED);
  }
  const grpc::Status wire = to_grpc(status);
  report.set_error_code(static_cast<std::int32_t>(wire.error_code()));
  report.set_error_message(wire.error_message());
}

}  // namespace

void append_refusal(const engine::CommandBody& command, ParticipantId issuer, const Status& status,
                    std::uint32_t index, google::protobuf::RepeatedPtrField<v1::ExecutionReport>& out) {
  append_refusal_at(command, issuer, status, index, 0, out);
}

void append_command_reports(const engine::CommandBody& command, ParticipantId issuer, const engine::Reply& reply,
                            std::uint32_t index, google::protobuf::RepeatedPtrField<v1::ExecutionReport>& out) {
  if (!reply.status.is_ok()) {
    append_refusal_at(command, issuer, reply.status, index, reply.sequence, out);
    return;
  }
  if (reply.orders.empty()) return;
  if (std::holds_alternative<engine::PlaceOrder>(command)) {
    const engine::OrderRecord& order = reply.orders.front();
    if (reply.repeated) {
      // A repeated client order id: the order as it stands, nothing new applied (its fills were reported
      // when they happened; reporting them again would count them twice).
      to_proto(order, *add(out, v1::EXECUTION_TYPE_ACCEPTED, index, order.sequence).mutable_order());
      return;
    }
    const engine::OrderRecord accepted = before_fills(order, reply.trades);
    to_proto(accepted, *add(out, v1::EXECUTION_TYPE_ACCEPTED, index, reply.sequence).mutable_order());
    append_fills(accepted, order, reply.trades, index, reply.sequence, out);
  } else if (std::holds_alternative<engine::CancelOrder>(command)) {
    to_proto(reply.orders.front(), *add(out, v1::EXECUTION_TYPE_CANCELLED, index, reply.sequence).mutable_order());
  } else if (std::holds_alternative<engine::AmendOrder>(command)) {
    const engine::OrderRecord& order = reply.orders.back();
    const engine::OrderRecord amended = before_fills(order, reply.trades);
    to_proto(amended, *add(out, v1::EXECUTION_TYPE_AMENDED, index, reply.sequence).mutable_order());
    append_fills(amended, order, reply.trades, index, reply.sequence, out);
  }
}

namespace {

/// Calls, for each change of the replay of `history` up to `up_to` (any
/// order): accepted(order as entered), fill(order as of the fill, trade),
/// ended(order). Linear in the orders and trades.
template <typename Accepted, typename Fill, typename Ended>
void for_each_replayed_change(const store::OrderHistory& history, Sequence up_to, Accepted accepted, Fill fill,
                              Ended ended) {
  std::unordered_map<OrderId, std::vector<const engine::TradeRecord*>> trades_of;
  for (const engine::TradeRecord& trade : history.trades) {
    trades_of[trade.buy_order].push_back(&trade);
    if (trade.sell_order != trade.buy_order) trades_of[trade.sell_order].push_back(&trade);
  }
  auto in_range = [&](Sequence sequence) { return sequence > history.from && sequence <= up_to; };
  for (const engine::OrderRecord& order : history.orders) {
    if (in_range(order.sequence)) {
      engine::OrderRecord entered = order;
      entered.filled = Qty{0};
      entered.status = OrderStatus::open;
      entered.updated_sequence = order.sequence;
      accepted(entered);
    }
    // Its trades after `from`, newest first: the filled quantity before each is the one after it, less it.
    if (auto found = trades_of.find(order.id); found != trades_of.end()) {
      Qty filled = order.filled;
      for (auto trade = found->second.rbegin(); trade != found->second.rend(); ++trade) {
        if (in_range((*trade)->sequence)) {
          engine::OrderRecord after = after_fill(order, filled);
          after.updated_sequence = (*trade)->sequence;
          fill(after, **trade);
        }
        filled -= (*trade)->quantity;
      }
    }
    if ((order.status == OrderStatus::cancelled || order.status == OrderStatus::expired) &&
        in_range(order.updated_sequence)) {
      ended(order);
    }
  }
}

}  // namespace

std::size_t replay_report_count(const store::OrderHistory& history, Sequence up_to) {
  std::size_t count = 0;
  auto one = [&](const auto&...) { ++count; };
  for_each_replayed_change(history, up_to, one, one, one);
  return count;
}

std::vector<v1::ExecutionReport> replay_reports(const store::OrderHistory& history, Sequence up_to) {
  struct Entry {
    Sequence sequence;
    int rank;  // ACCEPTED, FILL, end
    TradeId trade;
    v1::ExecutionReport report;
  };
  std::vector<Entry> entries;
  auto add_entry = [&](Sequence sequence, int rank, TradeId trade, v1::ExecutionType type,
                       const engine::OrderRecord& order) -> v1::ExecutionReport& {
    Entry& entry = entries.emplace_back(Entry{sequence, rank, trade, {}});
    entry.report.set_type(type);
    entry.report.set_sequence(sequence);
    to_proto(order, *entry.report.mutable_order());
    return entry.report;
  };
  for_each_replayed_change(
      history, up_to,
      [&](const engine::OrderRecord& entered) {
        add_entry(entered.sequence, 0, 0, v1::EXECUTION_TYPE_ACCEPTED, entered);
      },
      [&](const engine::OrderRecord& after, const engine::TradeRecord& trade) {
        to_proto(trade, *add_entry(trade.sequence, 1, trade.id, v1::EXECUTION_TYPE_FILL, after).mutable_trade());
      },
      [&](const engine::OrderRecord& order) {
        add_entry(order.updated_sequence, 2, 0,
                  order.status == OrderStatus::cancelled ? v1::EXECUTION_TYPE_CANCELLED : v1::EXECUTION_TYPE_EXPIRED,
                  order);
      });
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::make_tuple(a.sequence, a.rank, a.trade, a.report.order().order_id()) <
           std::make_tuple(b.sequence, b.rank, b.trade, b.report.order().order_id());
  });
  std::vector<v1::ExecutionReport> out;
  out.reserve(entries.size());
  for (Entry& entry : entries) out.push_back(std::move(entry.report));
  return out;
}

bool changes_orders(const engine::Outcome& outcome) {
  return std::any_of(outcome.events.begin(), outcome.events.end(),
                     [](const engine::Event& event) { return std::holds_alternative<engine::OrderChanged>(event); });
}

void for_each_unsolicited_report(const engine::Outcome& outcome, ParticipantId issuer,
                                 const std::function<void(ParticipantId, v1::ExecutionReport&&)>& emit) {
  auto is_subject = [&](const engine::OrderRecord& order) {
    if (issuer == 0 || order.participant != issuer) return false;
    return std::any_of(outcome.reply.orders.begin(), outcome.reply.orders.end(),
                       [&](const engine::OrderRecord& replied) { return replied.id == order.id; });
  };
  // A trade is followed by the changes of the orders it filled (a match: the resting order's; an auction's
  // clearing: the bid's and the offer's), each reported as a FILL once; any other event ends the trade's run.
  const engine::TradeRecord* trade = nullptr;
  bool buy_filled = false, sell_filled = false;
  for (const engine::Event& event : outcome.events) {
    if (const auto* executed = std::get_if<engine::TradeExecuted>(&event)) {
      trade = &executed->trade;
      buy_filled = sell_filled = false;
      continue;
    }
    const auto* changed = std::get_if<engine::OrderChanged>(&event);
    if (changed == nullptr) {
      trade = nullptr;
      continue;
    }
    const engine::OrderRecord& order = changed->order;
    bool fill = false;
    if (trade != nullptr && trade->buy_order == order.id && !buy_filled) {
      fill = buy_filled = true;
    } else if (trade != nullptr && trade->sell_order == order.id && !sell_filled) {
      fill = sell_filled = true;
    } else {
      trade = nullptr;
    }
    if (is_subject(order)) continue;
    v1::ExecutionReport report;
    report.set_sequence(outcome.sequence);
    if (fill) {
      report.set_type(v1::EXECUTION_TYPE_FILL);
      to_proto(*trade, *report.mutable_trade());
    } else if (order.status == OrderStatus::cancelled) {
      report.set_type(v1::EXECUTION_TYPE_CANCELLED);
    } else if (order.status == OrderStatus::expired) {
      report.set_type(v1::EXECUTION_TYPE_EXPIRED);
    } else {
      continue;  // nothing a session reports unasked (e.g. a block offer's own bookkeeping)
    }
    to_proto(order, *report.mutable_order());
    emit(order.participant, std::move(report));
  }
}

void for_each_unsolicited_report(const engine::CommittedOutcome& committed,
                                 const std::function<void(ParticipantId, v1::ExecutionReport&&)>& emit) {
  const engine::Outcome& outcome = *committed.outcome;
  bool reported = false;  // the issuer's own orders were reported here
  if (committed.answered_unavailable && committed.issuer != 0 && outcome.reply.status.is_ok()) {
    // The command's kind is all append_command_reports() reads of a command that was not refused.
    std::optional<engine::CommandBody> command;
    if (committed.kind == engine::CommandBody(std::in_place_type<engine::PlaceOrder>).index()) {
      command.emplace(std::in_place_type<engine::PlaceOrder>);
    } else if (committed.kind == engine::CommandBody(std::in_place_type<engine::CancelOrder>).index()) {
      command.emplace(std::in_place_type<engine::CancelOrder>);
    } else if (committed.kind == engine::CommandBody(std::in_place_type<engine::AmendOrder>).index()) {
      command.emplace(std::in_place_type<engine::AmendOrder>);
    }
    if (command) {
      google::protobuf::RepeatedPtrField<v1::ExecutionReport> late;
      append_command_reports(*command, committed.issuer, outcome.reply, 0, late);
      for (v1::ExecutionReport& report : late) emit(committed.issuer, std::move(report));
      reported = true;
    }
  }
  // Any other command whose caller was answered UNAVAILABLE (CancelAllOrders, say): its changes to the
  // issuer's orders are reported as anyone else's (fills, cancels), none left to the reply it never got.
  const bool reply_reached_issuer = !committed.answered_unavailable || reported;
  for_each_unsolicited_report(outcome, reply_reached_issuer ? committed.issuer : 0, emit);
}

}  // namespace carbon::server
