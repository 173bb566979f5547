#include "engine/exchange.h"

#include "engine/validation.h"

#include <algorithm>
#include <cassert>
#include <tuple>

namespace carbon::engine {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

std::string tonnes(Qty q) { return std::to_string(q.value) + " t"; }


bool same_order(const OrderRecord& existing, const PlaceOrder& command) {
  return existing.instrument == command.instrument && existing.side == command.side &&
         existing.type == command.type && existing.time_in_force == command.time_in_force &&
         existing.mode == command.mode && existing.price == command.price && existing.quantity == command.quantity;
}

bool is_open(OrderStatus status) { return status == OrderStatus::open || status == OrderStatus::partially_filled; }

}  // namespace

bool is_query(const CommandBody& body) {
  return std::holds_alternative<GetParticipant>(body) || std::holds_alternative<ListParticipants>(body) ||
         std::holds_alternative<GetOrder>(body) || std::holds_alternative<ListOrders>(body) ||
         std::holds_alternative<ListTrades>(body) || std::holds_alternative<GetBalances>(body) ||
         std::holds_alternative<GetBook>(body);
}

const char* command_name(const CommandBody& body) {
  static constexpr const char* names[] = {"CreateParticipant", "MoveCash",      "IssueAllowances", "PlaceOrder",
                                          "CancelOrder",       "GetParticipant", "ListParticipants", "GetOrder",
                                          "ListOrders",        "ListTrades",    "GetBalances",     "GetBook",
                                          "Refused"};
  static_assert(std::size(names) == std::variant_size_v<CommandBody>);
  if (const auto* refused = std::get_if<Refused>(&body)) return refused->command.c_str();
  return names[body.index()];
}

const char* event_name(const Event& event) {
  static constexpr const char* names[] = {"ParticipantCreated", "CashChanged", "CashMoved",     "HoldingChanged",
                                          "LedgerAppended",     "OrderChanged", "TradeExecuted", "CommandRejected"};
  static_assert(std::size(names) == std::variant_size_v<Event>);
  return names[event.index()];
}

struct Exchange::Step {
  Sequence sequence;
  UnixNanos at;
  std::vector<Event>& events;
  Reply& reply;
  std::vector<AccountId> touched_cash;
  std::vector<std::pair<AccountId, std::string>> touched_holdings;
};

Exchange::Exchange(const Config& config) {
  for (const InstrumentConfig& instrument : config.instruments) {
    instruments_[instrument.code] = instrument;
    books_[instrument.code];
  }
}

Outcome Exchange::execute(const Command& command, UnixNanos now) {
  Outcome out;
  out.at = now;
  if (is_query(command.body)) {
    out.reply.status = validate(command.body);
    if (out.reply.status.is_ok()) out.reply.status = query(out.reply, command.principal, command.body);
    return out;
  }
  Step step{last_sequence_ + 1, now, out.events, out.reply, {}, {}};
  const Principal& who = command.principal;
  Status status = validate(command.body);
  if (status.is_ok()) status = std::visit(
      Overloaded{
          [&](const CreateParticipant& c) { return create_participant(step, who, c); },
          [&](const MoveCash& c) { return move_cash(step, c); },
          [&](const IssueAllowances& c) { return issue_allowances(step, c); },
          [&](const PlaceOrder& c) { return place_order(step, who, c); },
          [&](const CancelOrder& c) { return cancel_order(step, who, c); },
          [&](const auto&) { return Status{ErrorCode::internal, "query routed as a command"}; },
      },
      command.body);
  if (status.is_ok()) {
    flush_touched(step);
  } else {
    assert(out.events.empty() && step.touched_cash.empty() && step.touched_holdings.empty());
    out.reply = Reply{};
    out.events.push_back(CommandRejected{command_name(command.body), who.name, status.code(), status.message()});
  }
  out.reply.status = std::move(status);
  if (!out.events.empty()) {
    last_sequence_ = step.sequence;
    out.sequence = step.sequence;
    out.reply.sequence = step.sequence;
  }
  return out;
}

const ParticipantRecord* Exchange::trader(const Principal& who) const {
  if (who.role != Role::trader) return nullptr;
  auto found = participants_.find(who.participant);
  return found == participants_.end() ? nullptr : &found->second;
}

void Exchange::touch_cash(Step& step, AccountId account) {
  if (std::find(step.touched_cash.begin(), step.touched_cash.end(), account) == step.touched_cash.end()) {
    step.touched_cash.push_back(account);
  }
}

void Exchange::touch_holding(Step& step, AccountId account, const std::string& instrument) {
  auto key = std::make_pair(account, instrument);
  if (std::find(step.touched_holdings.begin(), step.touched_holdings.end(), key) == step.touched_holdings.end()) {
    step.touched_holdings.push_back(std::move(key));
  }
}

void Exchange::flush_touched(Step& step) {
  for (registry::LedgerEntry& entry : registry_.take_new_entries()) step.events.push_back(LedgerAppended{std::move(entry)});
  for (AccountId account : step.touched_cash) {
    step.events.push_back(CashChanged{CashRecord{account, owner_of_cash_account_[account], clearing_.account(account)}});
  }
  for (const auto& [account, instrument] : step.touched_holdings) {
    step.events.push_back(HoldingChanged{registry::HoldingRecord{account, instrument, registry_.holding(account, instrument)}});
  }
}

// ---- participants and cash -------------------------------------------------

Status Exchange::create_participant(Step& step, const Principal& who, const CreateParticipant& c) {
  if (who.role != Role::operator_) return permission_denied("CreateParticipant is for operators");
  if (participant_by_code_.contains(c.code)) {
    return failed_precondition("participant code \"" + c.code + "\" is already registered");
  }
  ParticipantRecord participant;
  participant.id = ++last_participant_id_;
  participant.code = c.code;
  participant.name = c.name;
  participant.type = c.type;
  participant.holding_account = ++last_account_id_;
  participant.cash_account = ++last_account_id_;
  participant.token_hash = c.token_hash;
  participant.created_sequence = step.sequence;
  registry_.open_account(participant.holding_account);
  clearing_.open_account(participant.cash_account);
  owner_of_cash_account_[participant.cash_account] = participant.id;
  participant_by_code_[participant.code] = participant.id;
  participants_[participant.id] = participant;
  step.events.push_back(ParticipantCreated{participant});
  touch_cash(step, participant.cash_account);
  step.reply.participants.push_back(std::move(participant));
  return Status::ok();
}

Status Exchange::move_cash(Step& step, const MoveCash& c) {
  if (!clearing_.has_account(c.cash_account)) {
    return not_found("cash account " + std::to_string(c.cash_account) + " does not exist");
  }
  auto key = std::make_tuple(c.cash_account, c.withdrawal, c.idempotency_key);
  if (auto found = cash_movements_.find(key); found != cash_movements_.end()) {
    if (found->second.amount != c.amount) {
      return failed_precondition("idempotency key \"" + c.idempotency_key +
                                 "\" was already used for a movement of a different amount");
    }
    step.reply.cash = CashRecord{c.cash_account, owner_of_cash_account_[c.cash_account], found->second.balance_after};
    step.reply.sequence = found->second.sequence;
    return Status::ok();
  }
  Status status = c.withdrawal ? clearing_.withdraw(c.cash_account, c.amount) : clearing_.deposit(c.cash_account, c.amount);
  if (!status.is_ok()) return status;
  CashMovementRecord movement{c.cash_account, c.withdrawal, c.amount, c.idempotency_key, step.sequence,
                              clearing_.account(c.cash_account)};
  cash_movements_.emplace(std::move(key), movement);
  step.events.push_back(CashMoved{movement});
  touch_cash(step, c.cash_account);
  step.reply.cash = CashRecord{c.cash_account, owner_of_cash_account_[c.cash_account], movement.balance_after};
  return Status::ok();
}

Status Exchange::issue_allowances(Step& step, const IssueAllowances& c) {
  auto instrument = instruments_.find(c.instrument);
  if (instrument == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  if (instrument->second.market != Market::compliance) {
    return failed_precondition("allowance issuance: " + c.instrument +
                               " is not an allowance (CEA) instrument; CCER is issued with IssueCcerCredits");
  }
  if (!registry_.has_account(c.holding_account)) {
    return not_found("holding account " + std::to_string(c.holding_account) + " does not exist");
  }
  if (c.quantity.value % instrument->second.lot.value != 0) {
    return failed_precondition("lot rule: " + tonnes(c.quantity) + " is not a multiple of the " +
                               tonnes(instrument->second.lot) + " lot of " + c.instrument);
  }
  if (Status s = registry_.issue(c.instrument, c.holding_account, c.quantity, step.sequence, step.at, c.reason);
      !s.is_ok()) {
    return s;
  }
  touch_holding(step, registry::kIssuanceAccount, c.instrument);
  touch_holding(step, c.holding_account, c.instrument);
  step.reply.ledger_entry_id = registry_.ledger().last_entry_id();
  step.reply.holdings.push_back({c.holding_account, c.instrument, registry_.holding(c.holding_account, c.instrument)});
  return Status::ok();
}

// ---- orders ----------------------------------------------------------------

Status Exchange::check_order(const ParticipantRecord& participant, const PlaceOrder& c) const {
  // Field ranges and forms were checked by validate(); these rules need the market's configuration.
  auto found = instruments_.find(c.instrument);
  if (found == instruments_.end()) return not_found("unknown instrument \"" + c.instrument + "\"");
  const InstrumentConfig& instrument = found->second;
  if (c.type == OrderType::market) return unimplemented("market orders are not available yet; send a limit order");
  if (c.time_in_force == TimeInForce::gtc) {
    return failed_precondition("order validity: GTC orders are not enabled for " + c.instrument);
  }
  if (c.price.value % instrument.tick.value != 0) {
    return failed_precondition("tick rule: price_fen " + std::to_string(c.price.value) + " is not a multiple of the " +
                               std::to_string(instrument.tick.value) + " fen tick of " + c.instrument);
  }
  if (c.quantity.value % instrument.lot.value != 0) {
    return failed_precondition("lot rule: quantity " + tonnes(c.quantity) + " is not a multiple of the " +
                               tonnes(instrument.lot) + " lot of " + c.instrument);
  }
  if (c.quantity > instrument.listed_max_quantity) {
    return failed_precondition("listed order size: " + tonnes(c.quantity) + " exceeds the listed maximum of " +
                               tonnes(instrument.listed_max_quantity) + "; larger quantities trade as block trades");
  }
  if (participant.type == ParticipantType::natural_person && instrument.market == Market::compliance) {
    return failed_precondition("eligibility: natural persons may trade CCER only, not " + c.instrument);
  }
  return Status::ok();
}

Status Exchange::place_order(Step& step, const Principal& who, const PlaceOrder& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("PlaceOrder is for traders of a participant");

  if (!c.client_order_id.empty()) {
    auto found = order_by_client_id_.find({participant->id, c.client_order_id});
    if (found != order_by_client_id_.end()) {
      const OrderRecord& existing = orders_.at(found->second);
      if (!same_order(existing, c)) {
        return failed_precondition("client_order_id \"" + c.client_order_id +
                                   "\" was already used for a different order; a resubmission must repeat it exactly");
      }
      step.reply.orders.push_back(existing);
      for (const TradeRecord& trade : trades_) {
        if (trade.buy_order == existing.id || trade.sell_order == existing.id) step.reply.trades.push_back(trade);
      }
      step.reply.sequence = existing.sequence;
      return Status::ok();
    }
  }
  if (Status s = check_order(*participant, c); !s.is_ok()) return s;

  OrderRecord order;
  order.client_order_id = c.client_order_id;
  order.participant = participant->id;
  order.instrument = c.instrument;
  order.side = c.side;
  order.type = c.type;
  order.time_in_force = c.time_in_force;
  order.mode = c.mode;
  order.price = c.price;
  order.quantity = c.quantity;
  if (c.side == Side::buy) {
    if (Status s = clearing_.reserve_for_buy(participant->cash_account, *notional(c.price, c.quantity), order.reservation);
        !s.is_ok()) {
      return s;
    }
    touch_cash(step, participant->cash_account);
  } else {
    if (Status s = registry_.reserve_for_sell(participant->holding_account, c.instrument, c.quantity); !s.is_ok()) {
      return s;
    }
    touch_holding(step, participant->holding_account, c.instrument);
  }
  order.id = ++last_order_id_;
  order.sequence = step.sequence;
  order.entered_at = step.at;
  order.priority = step.sequence;
  order.updated_sequence = step.sequence;

  matching::OrderBook& book = books_.at(c.instrument);
  if (c.time_in_force == TimeInForce::fok && book.executable_quantity(c.side, c.price, c.quantity) < c.quantity) {
    finish_order(step, order, OrderStatus::cancelled);
  } else {
    std::vector<matching::Fill> fills;
    bool self_trade = false;
    book.match(c.side, c.price, c.quantity, fills, order.participant, &self_trade);
    for (const matching::Fill& fill : fills) execute_fill(step, order, fill);
    if (order.remaining().is_zero()) {
      order.status = OrderStatus::filled;
    } else if (c.time_in_force == TimeInForce::day && !self_trade) {
      order.status = order.filled.is_zero() ? OrderStatus::open : OrderStatus::partially_filled;
      book.add(matching::BookOrder{order.id, order.participant, order.side, order.price, order.remaining(),
                                   order.priority});
    } else {
      finish_order(step, order, OrderStatus::cancelled);
    }
  }
  orders_by_participant_[order.participant].push_back(order.id);
  if (!order.client_order_id.empty()) order_by_client_id_[{order.participant, order.client_order_id}] = order.id;
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(order);
  orders_.emplace(order.id, std::move(order));
  return Status::ok();
}

void Exchange::execute_fill(Step& step, OrderRecord& incoming, const matching::Fill& fill) {
  OrderRecord& resting = orders_.at(fill.resting_id);
  OrderRecord& buy = incoming.side == Side::buy ? incoming : resting;
  OrderRecord& sell = incoming.side == Side::buy ? resting : incoming;
  const ParticipantRecord& buyer = participants_.at(buy.participant);
  const ParticipantRecord& seller = participants_.at(sell.participant);

  TradeRecord trade;
  trade.id = ++last_trade_id_;
  trade.instrument = incoming.instrument;
  trade.mode = incoming.mode;
  trade.price = fill.price;
  trade.quantity = fill.quantity;
  trade.buy_order = buy.id;
  trade.sell_order = sell.id;
  trade.buyer = buyer.id;
  trade.seller = seller.id;
  trade.aggressor = incoming.side;
  trade.sequence = step.sequence;
  trade.executed_at = step.at;

  // Delivery versus payment: both legs in this one step.
  clearing_.pay(buyer.cash_account, buy.reservation, seller.cash_account, *notional(fill.price, fill.quantity));
  if (buy.price > fill.price) {
    clearing_.release(buyer.cash_account, buy.reservation, *notional(buy.price - fill.price, fill.quantity));
  }
  registry_.deliver(trade.instrument, seller.holding_account, buyer.holding_account, fill.quantity, step.sequence,
                    step.at, "trade:" + std::to_string(trade.id));

  incoming.filled += fill.quantity;
  resting.filled += fill.quantity;
  resting.status = resting.remaining().is_zero() ? OrderStatus::filled : OrderStatus::partially_filled;
  resting.updated_sequence = step.sequence;
  assert(resting.remaining() == fill.resting_remaining);

  touch_cash(step, buyer.cash_account);
  touch_cash(step, seller.cash_account);
  touch_holding(step, seller.holding_account, trade.instrument);
  touch_holding(step, buyer.holding_account, trade.instrument);
  step.events.push_back(TradeExecuted{trade});
  step.events.push_back(OrderChanged{resting});
  step.reply.trades.push_back(trade);
  trades_.push_back(std::move(trade));
}

void Exchange::finish_order(Step& step, OrderRecord& order, OrderStatus terminal) {
  const ParticipantRecord& owner = participants_.at(order.participant);
  if (order.side == Side::buy) {
    if (order.reservation.total.is_positive()) {
      clearing_.release(owner.cash_account, order.reservation, order.reservation.total);
      touch_cash(step, owner.cash_account);
    }
  } else if (order.remaining().is_positive()) {
    registry_.release_sell_reservation(owner.holding_account, order.instrument, order.remaining());
    touch_holding(step, owner.holding_account, order.instrument);
  }
  order.status = terminal;
  order.updated_sequence = step.sequence;
}

Status Exchange::cancel_order(Step& step, const Principal& who, const CancelOrder& c) {
  const ParticipantRecord* participant = trader(who);
  if (participant == nullptr) return permission_denied("CancelOrder is for traders of a participant");
  auto found = orders_.find(c.order_id);
  if (found == orders_.end()) return not_found("order " + std::to_string(c.order_id) + " does not exist");
  OrderRecord& order = found->second;
  if (order.participant != participant->id) {
    return permission_denied("order " + std::to_string(c.order_id) + " belongs to another participant");
  }
  if (!is_open(order.status)) {
    return failed_precondition("order " + std::to_string(c.order_id) + " is no longer open");
  }
  const bool removed = books_.at(order.instrument).cancel(order.id);
  assert(removed);
  (void)removed;
  finish_order(step, order, OrderStatus::cancelled);
  step.events.push_back(OrderChanged{order});
  step.reply.orders.push_back(order);
  return Status::ok();
}

// ---- queries ---------------------------------------------------------------

Status Exchange::query(Reply& reply, const Principal& who, const CommandBody& body) const {
  const ParticipantRecord* own = trader(who);
  const bool is_staff = who.role != Role::trader;
  if (!is_staff && own == nullptr) return permission_denied("the caller's participant does not exist");
  auto visible = [&](ParticipantId owner) { return is_staff || owner == own->id; };
  // A trader sees other participants' names and codes (to name a counterparty), not their accounts.
  auto public_view = [&](ParticipantRecord participant) {
    if (!visible(participant.id)) participant.holding_account = participant.cash_account = 0;
    participant.token_hash = {};
    return participant;
  };
  return std::visit(
      Overloaded{
          [&](const GetParticipant& q) -> Status {
            auto found = participants_.find(q.participant);
            if (found == participants_.end()) {
              return not_found("participant " + std::to_string(q.participant) + " does not exist");
            }
            reply.participants.push_back(public_view(found->second));
            return Status::ok();
          },
          [&](const ListParticipants&) -> Status {
            for (const auto& [id, participant] : participants_) reply.participants.push_back(public_view(participant));
            return Status::ok();
          },
          [&](const GetOrder& q) -> Status {
            auto found = orders_.find(q.order_id);
            if (found == orders_.end()) return not_found("order " + std::to_string(q.order_id) + " does not exist");
            if (!visible(found->second.participant)) {
              return permission_denied("order " + std::to_string(q.order_id) + " belongs to another participant");
            }
            reply.orders.push_back(found->second);
            return Status::ok();
          },
          [&](const ListOrders& q) -> Status {
            if (!q.instrument.empty() && !instruments_.contains(q.instrument)) {
              return not_found("unknown instrument \"" + q.instrument + "\"");
            }
            auto add = [&](const OrderRecord& order) {
              if ((q.instrument.empty() || order.instrument == q.instrument) && (!q.open_only || is_open(order.status))) {
                reply.orders.push_back(order);
              }
            };
            if (is_staff) {
              for (const auto& [id, order] : orders_) add(order);
            } else if (auto mine = orders_by_participant_.find(own->id); mine != orders_by_participant_.end()) {
              for (OrderId id : mine->second) add(orders_.at(id));
            }
            std::sort(reply.orders.begin(), reply.orders.end(),
                      [](const OrderRecord& a, const OrderRecord& b) { return a.id < b.id; });
            return Status::ok();
          },
          [&](const ListTrades& q) -> Status {
            if (!q.instrument.empty() && !instruments_.contains(q.instrument)) {
              return not_found("unknown instrument \"" + q.instrument + "\"");
            }
            for (const TradeRecord& trade : trades_) {
              if (!q.instrument.empty() && trade.instrument != q.instrument) continue;
              if (is_staff || trade.buyer == own->id || trade.seller == own->id) reply.trades.push_back(trade);
            }
            return Status::ok();
          },
          [&](const GetBalances&) -> Status {
            if (own == nullptr) return permission_denied("GetBalances is for traders of a participant");
            reply.cash = CashRecord{own->cash_account, own->id, clearing_.account(own->cash_account)};
            reply.holdings = registry_.holdings_of(own->holding_account);
            return Status::ok();
          },
          [&](const GetBook& q) -> Status {
            auto found = books_.find(q.instrument);
            if (found == books_.end()) return not_found("unknown instrument \"" + q.instrument + "\"");
            const std::size_t depth = q.depth == 0 ? 5 : std::min<std::size_t>(q.depth, 50);
            reply.book = BookView{q.instrument, found->second.depth(Side::buy, depth), found->second.depth(Side::sell, depth)};
            reply.sequence = last_sequence_;
            return Status::ok();
          },
          [&](const auto&) -> Status { return Status{ErrorCode::internal, "command routed as a query"}; },
      },
      body);
}

// ---- inspection and recovery -----------------------------------------------

std::vector<ParticipantRecord> Exchange::participants() const {
  std::vector<ParticipantRecord> out;
  out.reserve(participants_.size());
  for (const auto& [id, participant] : participants_) out.push_back(participant);
  return out;
}

const matching::OrderBook* Exchange::book(const std::string& instrument) const {
  auto found = books_.find(instrument);
  return found == books_.end() ? nullptr : &found->second;
}

const OrderRecord* Exchange::order(OrderId id) const {
  auto found = orders_.find(id);
  return found == orders_.end() ? nullptr : &found->second;
}

void Exchange::restore(const RecoveredState& state) {
  last_sequence_ = state.last_sequence;
  for (const ParticipantRecord& participant : state.participants) {
    participants_[participant.id] = participant;
    participant_by_code_[participant.code] = participant.id;
    owner_of_cash_account_[participant.cash_account] = participant.id;
    registry_.open_account(participant.holding_account);
    clearing_.open_account(participant.cash_account);
    last_participant_id_ = std::max(last_participant_id_, participant.id);
    last_account_id_ = std::max({last_account_id_, participant.holding_account, participant.cash_account});
  }
  for (const CashRecord& cash : state.cash) clearing_.restore_account(cash.account, cash.balance);
  for (const registry::HoldingRecord& holding : state.holdings) registry_.restore_holding(holding);
  registry_.restore_ledger_tail(state.last_ledger_entry_id, state.last_ledger_hash);
  for (const CashMovementRecord& movement : state.cash_movements) {
    cash_movements_[{movement.account, movement.withdrawal, movement.idempotency_key}] = movement;
  }
  std::vector<const OrderRecord*> open;
  for (const OrderRecord& order : state.orders) {
    orders_[order.id] = order;
    orders_by_participant_[order.participant].push_back(order.id);
    if (!order.client_order_id.empty()) order_by_client_id_[{order.participant, order.client_order_id}] = order.id;
    last_order_id_ = std::max(last_order_id_, order.id);
    if (is_open(order.status)) open.push_back(&order);
  }
  for (auto& [participant, ids] : orders_by_participant_) std::sort(ids.begin(), ids.end());
  std::sort(open.begin(), open.end(), [](const OrderRecord* a, const OrderRecord* b) { return a->priority < b->priority; });
  for (const OrderRecord* order : open) {
    books_.at(order->instrument)
        .add(matching::BookOrder{order->id, order->participant, order->side, order->price, order->remaining(),
                                 order->priority});
  }
  trades_ = state.trades;
  for (const TradeRecord& trade : trades_) last_trade_id_ = std::max(last_trade_id_, trade.id);
}

}  // namespace carbon::engine
